/* ext2's blocks: transfers of whole blocks through the block layer, the metadata blocks it
 * holds in memory from mount to umount (superblock, group descriptors, bitmaps, the inode
 * table blocks it has read), and allocation from the block and inode bitmaps with the free
 * counts kept in step, as Linux's fs/ext2/balloc.c and ialloc.c keep them. */
#include "ext2_priv.h"
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"

int ext2_bio(struct ext2_sb_info *s, enum blk_op op, uint32_t blk, void *data)
{
	pfn_t pfn = page_to_pfn(virt_to_page(data));
	return blk_rw(s->dev, op, (uint64_t)blk * BLK_SECTORS_PER_FRAME, BLK_SECTORS_PER_FRAME,
		      &pfn, 1);
}

struct ext2_buf *ext2_buf_find(struct ext2_sb_info *s, uint32_t blk)
{
	for (struct ext2_buf *b = s->bufs; b; b = b->next)
		if (b->blk == blk)
			return b;
	return NULL;
}

struct ext2_buf *ext2_buf_get(struct ext2_sb_info *s, uint32_t blk)
{
	struct ext2_buf *b = ext2_buf_find(s, blk);
	if (b)
		return b;
	b = kzalloc(sizeof(*b));
	struct page *pg = b ? frame_alloc(0, PG_KERNEL) : NULL;
	if (!pg || ext2_bio(s, BLK_READ, blk, page_to_virt(pg))) {
		if (pg)
			frame_free(pg, 0);
		kfree(b);
		return NULL;
	}
	b->blk = blk;
	b->data = page_to_virt(pg);
	b->next = s->bufs;
	s->bufs = b;
	return b;
}

int ext2_buf_flush(struct ext2_sb_info *s)
{
	int first = 0;
	for (struct ext2_buf *b = s->bufs; b; b = b->next) {
		if (!b->dirty)
			continue;
		int err = ext2_bio(s, BLK_WRITE, b->blk, b->data);
		b->dirty = err != 0;
		s->writes++;
		first = first ? first : err;
	}
	return first;
}

void ext2_buf_free_all(struct ext2_sb_info *s)
{
	while (s->bufs) {
		struct ext2_buf *b = s->bufs;
		s->bufs = b->next;
		frame_free(virt_to_page(b->data), 0);
		kfree(b);
	}
}

static bool bit_test(const uint8_t *map, uint32_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void bit_set(uint8_t *map, uint32_t i, bool on)
{
	if (on)
		map[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		map[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* The first clear bit of map in [from, n) then [0, from), or n. */
static uint32_t find_clear(const uint8_t *map, uint32_t n, uint32_t from)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (from + k) % n;
		if ((i % 8 == 0) && map[i / 8] == 0xff && i + 8 <= n) {
			k += 7;
			continue;
		}
		if (!bit_test(map, i))
			return i;
	}
	return n;
}

static uint32_t group_blocks(const struct ext2_geom *g, uint32_t grp)
{
	uint32_t first = g->first_data_block + grp * g->blocks_per_group;
	return MIN(g->blocks_per_group, g->blocks_count - first);
}

int ext2_block_alloc(struct ext2_sb_info *s, uint32_t goal, uint32_t *out)
{
	const struct ext2_geom *g = &s->g;
	int err = -ENOSPC;
	spin_lock(&s->alloc_lock);
	if (goal <= g->first_data_block || goal >= g->blocks_count)
		goal = s->last_goal > g->first_data_block ? s->last_goal : g->first_data_block + 1;
	uint32_t start = (goal - g->first_data_block) / g->blocks_per_group;
	for (uint32_t k = 0; k < g->groups && err; k++) {
		uint32_t grp = (start + k) % g->groups;
		if (!s->gd[grp].bg_free_blocks_count)
			continue;
		uint32_t n = group_blocks(g, grp), from = k ? 0 : (goal - g->first_data_block) %
								       g->blocks_per_group;
		uint8_t *map = s->bbitmap[grp]->data;
		uint32_t i = find_clear(map, n, from);
		if (i == n)
			continue;
		bit_set(map, i, true);
		s->bbitmap[grp]->dirty = true;
		s->gd[grp].bg_free_blocks_count--;
		s->free_blocks--;
		*out = g->first_data_block + grp * g->blocks_per_group + i;
		s->last_goal = *out + 1;
		err = 0;
	}
	spin_unlock(&s->alloc_lock);
	return err;
}

void ext2_block_free(struct ext2_sb_info *s, uint32_t blk)
{
	const struct ext2_geom *g = &s->g;
	if (!blk || blk <= g->first_data_block || blk >= g->blocks_count)
		return;
	uint32_t grp = (blk - g->first_data_block) / g->blocks_per_group;
	uint32_t i = (blk - g->first_data_block) % g->blocks_per_group;
	spin_lock(&s->alloc_lock);
	uint8_t *map = s->bbitmap[grp]->data;
	if (bit_test(map, i)) {
		bit_set(map, i, false);
		s->bbitmap[grp]->dirty = true;
		s->gd[grp].bg_free_blocks_count++;
		s->free_blocks++;
	} else {
		printk(KERN_ERR "ext2: %s: freeing block %u that is already free\n", s->dev->name,
		       blk);
	}
	spin_unlock(&s->alloc_lock);
}

int ext2_inode_alloc(struct ext2_sb_info *s, uint32_t parent, bool dir, uint32_t *out)
{
	const struct ext2_geom *g = &s->g;
	int err = -ENOSPC;
	spin_lock(&s->alloc_lock);
	uint32_t start = parent ? (parent - 1) / g->inodes_per_group : 0;
	for (uint32_t k = 0; k < g->groups && err; k++) {
		uint32_t grp = (start + k) % g->groups;
		if (!s->gd[grp].bg_free_inodes_count)
			continue;
		uint8_t *map = s->ibitmap[grp]->data;
		uint32_t first = grp ? 0 : g->first_ino - 1; /* the reserved inodes stay */
		uint32_t i = find_clear(map, g->inodes_per_group, first);
		if (i == g->inodes_per_group || (grp == 0 && i < first))
			continue;
		bit_set(map, i, true);
		s->ibitmap[grp]->dirty = true;
		s->gd[grp].bg_free_inodes_count--;
		s->gd[grp].bg_used_dirs_count += dir;
		s->free_inodes--;
		*out = grp * g->inodes_per_group + i + 1;
		err = 0;
	}
	spin_unlock(&s->alloc_lock);
	return err;
}

void ext2_inode_free(struct ext2_sb_info *s, uint32_t ino, bool dir)
{
	const struct ext2_geom *g = &s->g;
	uint32_t grp = (ino - 1) / g->inodes_per_group, i = (ino - 1) % g->inodes_per_group;
	spin_lock(&s->alloc_lock);
	uint8_t *map = s->ibitmap[grp]->data;
	if (bit_test(map, i)) {
		bit_set(map, i, false);
		s->ibitmap[grp]->dirty = true;
		s->gd[grp].bg_free_inodes_count++;
		s->gd[grp].bg_used_dirs_count -= dir && s->gd[grp].bg_used_dirs_count;
		s->free_inodes++;
	}
	if (s->nfreed < s->capfreed)
		s->freed[s->nfreed++] = ino;
	spin_unlock(&s->alloc_lock);
	if (s->nfreed == s->capfreed)
		printk(KERN_WARNING "ext2: %s: more than %u inodes freed between two syncs: e2fsck "
				    "will find inode %u's record still in use\n",
		       s->dev->name, s->capfreed, ino);
}

void ext2_counts_store(struct ext2_sb_info *s, uint16_t state)
{
	const struct ext2_geom *g = &s->g;
	uint32_t per_block = g->block_size / sizeof(struct ext2_group_desc);
	spin_lock(&s->alloc_lock);
	for (uint32_t grp = 0; grp < g->groups; grp++) {
		struct ext2_buf *b = ext2_buf_find(s, g->first_data_block + 1 + grp / per_block);
		struct ext2_group_desc *d = (struct ext2_group_desc *)b->data + grp % per_block;
		if (memcmp(d, &s->gd[grp], sizeof(*d))) {
			*d = s->gd[grp];
			b->dirty = true;
		}
	}
	struct ext2_super *sb = (struct ext2_super *)(s->super_buf->data + EXT2_SUPER_OFFSET);
	sb->s_free_blocks_count = s->free_blocks;
	sb->s_free_inodes_count = s->free_inodes;
	sb->s_state = state;
	s->super_buf->dirty = true;
	spin_unlock(&s->alloc_lock);
}
