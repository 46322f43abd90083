/* Checks of ext2's on-disk structures (ext2_fmt.h): pure functions of the bytes, so that a
 * malformed or hostile image is refused with a reason before any field of it steers the
 * kernel. The rules are what Linux 6.1's ext2_fill_super, ext2_check_descriptors,
 * ext2_iget and ext2_check_page refuse, plus what MCRK needs (a 4 KiB block, no triple
 * indirect block). */
#include "ext2_fmt.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

#define S_IFMT_ 0170000

/* Say why in the caller's why/whylen and give err. */
#define refuse(err, why, whylen, ...) (ksnprintf(why, whylen, __VA_ARGS__), (err))

static int check_features(const struct ext2_super *sb, char *why, size_t whylen)
{
	if (sb->s_rev_level == 0)
		return 0;
	if (sb->s_feature_incompat & ~EXT2_INCOMPAT_KNOWN)
		return refuse(-EINVAL, why, whylen,
			      "unsupported incompatible features 0x%x (ext3/ext4?)",
			      sb->s_feature_incompat & ~EXT2_INCOMPAT_KNOWN);
	if (sb->s_feature_ro_compat & ~EXT2_RO_COMPAT_KNOWN)
		return refuse(-EINVAL, why, whylen, "unsupported read-only features 0x%x",
			      sb->s_feature_ro_compat & ~EXT2_RO_COMPAT_KNOWN);
	return 0;
}

static int check_sizes(const struct ext2_super *sb, uint32_t block_size, struct ext2_geom *g,
		       char *why, size_t whylen)
{
	if (sb->s_log_block_size > 6 || (1024u << sb->s_log_block_size) != block_size)
		return refuse(-EINVAL, why, whylen,
			      "block size %u not supported (MCRK reads %u-byte blocks)",
			      sb->s_log_block_size > 6 ? 0 : 1024u << sb->s_log_block_size,
			      block_size);
	g->block_size = block_size;
	g->inode_size = sb->s_rev_level ? sb->s_inode_size : EXT2_GOOD_OLD_INODE_SIZE;
	g->first_ino = sb->s_rev_level ? sb->s_first_ino : EXT2_GOOD_OLD_FIRST_INO;
	if (g->inode_size < EXT2_GOOD_OLD_INODE_SIZE || g->inode_size > block_size ||
	    (g->inode_size & (g->inode_size - 1)))
		return refuse(-EUCLEAN, why, whylen, "bad inode size %u", g->inode_size);
	if (g->first_ino < EXT2_GOOD_OLD_FIRST_INO || g->first_ino > sb->s_inodes_count)
		return refuse(-EUCLEAN, why, whylen, "bad first inode %u of %u", g->first_ino,
			      sb->s_inodes_count);
	return 0;
}

static int check_groups(const struct ext2_super *sb, uint64_t dev_blocks, struct ext2_geom *g,
			char *why, size_t whylen)
{
	uint32_t bpb = g->block_size * 8; /* bits in a bitmap block */
	g->blocks_count = sb->s_blocks_count;
	g->inodes_count = sb->s_inodes_count;
	g->first_data_block = sb->s_first_data_block;
	g->blocks_per_group = sb->s_blocks_per_group;
	g->inodes_per_group = sb->s_inodes_per_group;
	if (g->blocks_per_group == 0 || g->blocks_per_group > bpb)
		return refuse(-EUCLEAN, why, whylen, "bad blocks per group %u",
			      g->blocks_per_group);
	if (g->inodes_per_group == 0 || g->inodes_per_group > bpb ||
	    g->inodes_per_group % (g->block_size / g->inode_size))
		return refuse(-EUCLEAN, why, whylen, "bad inodes per group %u",
			      g->inodes_per_group);
	if (g->first_data_block != (g->block_size == 1024) || g->blocks_count <= g->first_data_block)
		return refuse(-EUCLEAN, why, whylen, "bad first data block %u of %u blocks",
			      g->first_data_block, g->blocks_count);
	if (g->blocks_count > dev_blocks)
		return refuse(-EINVAL, why, whylen,
			      "file system of %u blocks is larger than the device (%lu blocks)",
			      g->blocks_count, dev_blocks);
	uint64_t groups = (g->blocks_count - g->first_data_block + g->blocks_per_group - 1) /
			  g->blocks_per_group;
	if ((uint64_t)g->inodes_count != groups * g->inodes_per_group)
		return refuse(-EUCLEAN, why, whylen, "inode count %u is not %lu groups' worth",
			      g->inodes_count, groups);
	g->groups = (uint32_t)groups;
	g->gdt_blocks = (uint32_t)((groups * sizeof(struct ext2_group_desc) + g->block_size - 1) /
				   g->block_size);
	if (sb->s_free_blocks_count > g->blocks_count || sb->s_free_inodes_count > g->inodes_count)
		return refuse(-EUCLEAN, why, whylen, "free counts %u/%u exceed the totals",
			      sb->s_free_blocks_count, sb->s_free_inodes_count);
	return 0;
}

int ext2_check_super(const struct ext2_super *sb, uint64_t dev_blocks, uint32_t block_size,
		     struct ext2_geom *g, char *why, size_t whylen)
{
	memset(g, 0, sizeof(*g));
	if (sb->s_magic != EXT2_SUPER_MAGIC)
		return refuse(-EINVAL, why, whylen, "no ext2 magic (0x%x)", sb->s_magic);
	if (sb->s_rev_level > 1)
		return refuse(-EINVAL, why, whylen, "revision %u not supported",
			      sb->s_rev_level);
	int err = check_features(sb, why, whylen);
	if (!err)
		err = check_sizes(sb, block_size, g, why, whylen);
	if (!err)
		err = check_groups(sb, dev_blocks, g, why, whylen);
	g->filetype = sb->s_rev_level && (sb->s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE);
	g->large_file =
	    sb->s_rev_level && (sb->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE);
	return err;
}

/* The first block of group grp and its number of blocks. */
static void group_range(const struct ext2_geom *g, uint32_t grp, uint32_t *first, uint32_t *n)
{
	*first = g->first_data_block + grp * g->blocks_per_group;
	*n = MIN(g->blocks_per_group, g->blocks_count - *first);
}

int ext2_check_group(const struct ext2_geom *g, uint32_t grp, const struct ext2_group_desc *gd,
		     char *why, size_t whylen)
{
	uint32_t first, n, table_blocks = g->inodes_per_group * g->inode_size / g->block_size;
	group_range(g, grp, &first, &n);
	uint64_t end = (uint64_t)first + n, meta = g->first_data_block + 1 + g->gdt_blocks;
	if (gd->bg_block_bitmap < first || gd->bg_block_bitmap >= end || gd->bg_block_bitmap < meta)
		return refuse(-EUCLEAN, why, whylen, "group %u: block bitmap at %u outside it",
			      grp, gd->bg_block_bitmap);
	if (gd->bg_inode_bitmap < first || gd->bg_inode_bitmap >= end || gd->bg_inode_bitmap < meta)
		return refuse(-EUCLEAN, why, whylen, "group %u: inode bitmap at %u outside it",
			      grp, gd->bg_inode_bitmap);
	if (gd->bg_inode_table < first || gd->bg_inode_table < meta ||
	    (uint64_t)gd->bg_inode_table + table_blocks > end)
		return refuse(-EUCLEAN, why, whylen, "group %u: inode table at %u outside it",
			      grp, gd->bg_inode_table);
	if (gd->bg_free_blocks_count > n || gd->bg_free_inodes_count > g->inodes_per_group)
		return refuse(-EUCLEAN, why, whylen, "group %u: free counts exceed the group",
			      grp);
	return 0;
}

bool ext2_block_ok(const struct ext2_geom *g, uint32_t blk)
{
	return blk == 0 || (blk > g->first_data_block && blk < g->blocks_count);
}

static bool type_known(uint32_t mode)
{
	switch (mode & S_IFMT_) {
	case 0100000: case 0040000: case 0120000: case 0020000: case 0060000: case 0010000:
	case 0140000:
		return true;
	}
	return false;
}

int ext2_check_inode(const struct ext2_geom *g, uint32_t ino, const struct ext2_inode *in,
		     char *why, size_t whylen)
{
	uint32_t type = in->i_mode & S_IFMT_;
	uint64_t size = in->i_size | ((uint64_t)(type == 0100000 ? in->i_size_high : 0) << 32);
	bool fast_link = type == 0120000 && in->i_blocks == 0 && in->i_file_acl == 0;
	if (!type_known(in->i_mode))
		return refuse(-EUCLEAN, why, whylen, "inode %u: unknown type 0%o", ino, in->i_mode);
	if (in->i_links_count == 0)
		return refuse(-EUCLEAN, why, whylen, "inode %u: in use with no links", ino);
	if (type == 0040000 && (size == 0 || size % g->block_size))
		return refuse(-EUCLEAN, why, whylen, "inode %u: directory size %lu", ino, size);
	if (type == 0120000 && (size == 0 || size >= g->block_size ||
				(fast_link && size >= EXT2_FAST_SYMLINK_MAX)))
		return refuse(-EUCLEAN, why, whylen, "inode %u: symlink length %lu", ino, size);
	if (in->i_block[EXT2_TIND_BLOCK] && !fast_link)
		return refuse(-EINVAL, why, whylen,
			      "inode %u: triple indirect block %u (files past 4 GiB are not "
			      "supported)",
			      ino, in->i_block[EXT2_TIND_BLOCK]);
	for (unsigned i = 0; i < EXT2_N_BLOCKS && !fast_link; i++)
		if (!ext2_block_ok(g, in->i_block[i]))
			return refuse(-EUCLEAN, why, whylen, "inode %u: block pointer %u outside",
				      ino, in->i_block[i]);
	return 0;
}

uint8_t ext2_file_type(uint32_t mode)
{
	switch (mode & S_IFMT_) {
	case 0100000: return EXT2_FT_REG;
	case 0040000: return EXT2_FT_DIR;
	case 0020000: return EXT2_FT_CHRDEV;
	case 0060000: return EXT2_FT_BLKDEV;
	case 0010000: return EXT2_FT_FIFO;
	case 0140000: return EXT2_FT_SOCK;
	case 0120000: return EXT2_FT_SYMLINK;
	}
	return EXT2_FT_UNKNOWN;
}

int ext2_dir_walk(const struct ext2_geom *g, const uint8_t *buf,
		  int (*fn)(void *arg, const struct ext2_dirent *e), void *arg, char *why,
		  size_t whylen)
{
	uint32_t off = 0;
	while (off < g->block_size) {
		const struct ext2_dirent *e = (const void *)(buf + off);
		if (g->block_size - off < 8)
			return refuse(-EUCLEAN, why, whylen, "entry at %u: truncated", off);
		if (e->rec_len % 4 || e->rec_len < ext2_rec_len(e->name_len) ||
		    e->rec_len > g->block_size - off)
			return refuse(-EUCLEAN, why, whylen, "entry at %u: bad rec_len %u", off,
				      e->rec_len);
		if (e->inode > g->inodes_count)
			return refuse(-EUCLEAN, why, whylen, "entry at %u: inode %u out of range",
				      off, e->inode);
		if (e->inode && (e->name_len == 0 || (g->filetype && e->file_type >= EXT2_FT_MAX)))
			return refuse(-EUCLEAN, why, whylen, "entry at %u: bad name or type %u",
				      off, e->file_type);
		if (e->inode) {
			int r = fn(arg, e);
			if (r)
				return r;
		}
		off += e->rec_len;
	}
	return 0;
}

bool ext2_group_has_super(const struct ext2_geom *g, uint32_t grp, bool sparse)
{
	(void)g;
	if (!sparse || grp <= 1)
		return true;
	for (uint32_t base = 3; base <= 7; base += 2) {
		uint64_t p = base;
		while (p < grp)
			p *= base;
		if (p == grp)
			return true;
	}
	return false;
}
