/* ext2 inodes: reading one from its inode table into a VFS inode with its block map (direct,
 * indirect and double indirect blocks, every pointer checked), writing it back when it
 * changed, the block map's growth and shrinking, and the inode operations (make, resize,
 * evict). Linux 6.1's counterparts are fs/ext2/inode.c (ext2_iget, ext2_write_inode,
 * ext2_get_block, ext2_truncate_blocks) and fs/ext2/namei.c. */
#include "cred.h"
#include "ext2_priv.h"
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"

static uint64_t pages_of(uint64_t size)
{
	return (size + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Where inode ino lies: its inode table block and the byte offset in it. */
static void inode_place(const struct ext2_sb_info *s, uint32_t ino, uint32_t *blk, uint32_t *off)
{
	const struct ext2_geom *g = &s->g;
	uint32_t grp = (ino - 1) / g->inodes_per_group, idx = (ino - 1) % g->inodes_per_group;
	uint64_t byte = (uint64_t)idx * g->inode_size;
	*blk = s->gd[grp].bg_inode_table + (uint32_t)(byte / g->block_size);
	*off = (uint32_t)(byte % g->block_size);
}

/* Read indirect block blk into map[first..first+ADDR_PER_BLOCK) (at most n entries), each
 * pointer checked. */
static int read_ind(struct ext2_sb_info *s, uint32_t blk, uint32_t *map, uint64_t first,
		    uint64_t n, uint32_t *buf, char *why, size_t whylen)
{
	if (ext2_bio(s, BLK_READ, blk, buf))
		return -EIO;
	for (uint64_t i = 0; i < EXT2_ADDR_PER_BLOCK; i++) {
		if (!ext2_block_ok(&s->g, buf[i])) {
			ksnprintf(why, whylen, "indirect block %u: pointer %u outside", blk, buf[i]);
			return -EUCLEAN;
		}
		if (first + i < n)
			map[first + i] = buf[i];
	}
	return 0;
}

/* Read the double indirect tree under ii->dind into the map. */
static int read_dind(struct ext2_sb_info *s, struct ext2_inode_info *ii, uint32_t *buf,
		     char *why, size_t whylen)
{
	uint64_t base = EXT2_NDIR_BLOCKS + EXT2_ADDR_PER_BLOCK;
	ii->dind_leaf = kzalloc(PAGE_SIZE);
	if (!ii->dind_leaf)
		return -ENOMEM;
	int err = read_ind(s, ii->dind, ii->dind_leaf, 0, EXT2_ADDR_PER_BLOCK, buf, why, whylen);
	for (uint64_t j = 0; !err && j < EXT2_ADDR_PER_BLOCK; j++)
		if (ii->dind_leaf[j] && base + j * EXT2_ADDR_PER_BLOCK < ii->nblocks)
			err = read_ind(s, ii->dind_leaf[j], ii->blocks,
				       base + j * EXT2_ADDR_PER_BLOCK, ii->nblocks, buf, why, whylen);
	return err;
}

/* The block map of an inode with nblocks pages of data (from its i_block). */
static int read_map(struct ext2_sb_info *s, struct ext2_inode_info *ii, char *why, size_t whylen)
{
	uint32_t ib[EXT2_N_BLOCKS];
	memcpy(ib, (const uint8_t *)ii->raw + offsetof(struct ext2_inode, i_block), sizeof(ib));
	ii->blocks = kzalloc(MAX(ii->nblocks, 1) * sizeof(uint32_t));
	uint32_t *buf = ii->blocks ? kmalloc(PAGE_SIZE) : NULL;
	int err = buf ? 0 : -ENOMEM;
	for (uint64_t i = 0; i < EXT2_NDIR_BLOCKS && i < ii->nblocks; i++)
		ii->blocks[i] = ib[i];
	ii->ind = ib[EXT2_IND_BLOCK];
	ii->dind = ib[EXT2_DIND_BLOCK];
	if (!err && ii->ind)
		err = read_ind(s, ii->ind, ii->blocks, EXT2_NDIR_BLOCKS, ii->nblocks, buf, why,
			       whylen);
	if (!err && ii->dind)
		err = read_dind(s, ii, buf, why, whylen);
	kfree(buf);
	return err;
}

static uint32_t dev_of(const struct ext2_inode *raw)
{
	uint32_t old = raw->i_block[0];
	if (old)
		return MKDEV((old >> 8) & 0xff, old & 0xff);
	return raw->i_block[1]; /* new_encode_dev: the same layout as MCRK's dev_t */
}

/* Fill VFS inode i from raw (type, ids, times, size). */
static void inode_from_raw(struct inode *i, const struct ext2_inode *raw, bool large_file)
{
	i->mode = raw->i_mode;
	i->uid = raw->i_uid | (uint32_t)raw->i_uid_high << 16;
	i->gid = raw->i_gid | (uint32_t)raw->i_gid_high << 16;
	i->nlink = raw->i_links_count;
	i->atime = (struct ktimespec){raw->i_atime, 0};
	i->mtime = (struct ktimespec){raw->i_mtime, 0};
	i->ctime = i->btime = (struct ktimespec){raw->i_ctime, 0};
	i->pc.size = raw->i_size;
	if (S_ISREG(i->mode) && large_file)
		i->pc.size |= (uint64_t)raw->i_size_high << 32;
	if (S_ISCHR(i->mode) || S_ISBLK(i->mode))
		i->rdev = dev_of(raw);
	i->iop = &ext2_iops;
	i->pc.ops = &ext2_pc_ops;
	if (S_ISDIR(i->mode))
		i->fop = &dir_fops;
	else if (S_ISREG(i->mode))
		i->fop = &ext2_file_fops;
}

/* A symlink's target: in i_block (fast) or its one block. */
static int read_symlink(struct ext2_sb_info *s, struct inode *i, struct ext2_inode_info *ii)
{
	size_t len = (size_t)i->pc.size;
	i->symlink = kmalloc(len + 1);
	if (!i->symlink)
		return -ENOMEM;
	if (ii->nblocks == 0 || !ii->blocks[0]) {
		memcpy(i->symlink, ii->raw->i_block, MIN(len, (size_t)EXT2_FAST_SYMLINK_MAX - 1));
	} else {
		uint8_t *buf = kmalloc(PAGE_SIZE);
		int err = buf ? ext2_bio(s, BLK_READ, ii->blocks[0], buf) : -ENOMEM;
		if (!err)
			memcpy(i->symlink, buf, len);
		kfree(buf);
		if (err)
			return err;
	}
	i->symlink[len] = 0;
	return 0;
}

static void info_free(struct ext2_inode_info *ii)
{
	if (!ii)
		return;
	kfree(ii->raw);
	kfree(ii->blocks);
	kfree(ii->dind_leaf);
	kfree(ii);
}

/* A new info for inode number ino with a copy of raw. */
static struct ext2_inode_info *info_new(struct ext2_sb_info *s, uint32_t ino,
					const struct ext2_inode *raw)
{
	struct ext2_inode_info *ii = kzalloc(sizeof(*ii));
	if (ii && !(ii->raw = kmalloc(s->g.inode_size))) {
		kfree(ii);
		return NULL;
	}
	if (ii) {
		ii->ino = ino;
		memcpy(ii->raw, raw, s->g.inode_size);
	}
	return ii;
}

int ext2_inode_read(struct super_block *sb, uint32_t ino, struct inode **out, char *why,
		    size_t whylen)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	uint32_t blk, off;
	if (ino == 0 || ino > s->g.inodes_count || (ino < s->g.first_ino && ino != EXT2_ROOT_INO)) {
		ksnprintf(why, whylen, "entry names inode %u, which is reserved or out of range",
			  ino);
		return -EUCLEAN;
	}
	inode_place(s, ino, &blk, &off);
	struct ext2_buf *b = ext2_buf_get(s, blk);
	if (!b)
		return -EIO;
	const struct ext2_inode *raw = (const void *)(b->data + off);
	int err = ext2_check_inode(&s->g, ino, raw, why, whylen);
	struct ext2_inode_info *ii = err ? NULL : info_new(s, ino, raw);
	struct inode *i = ii ? inode_new(sb, raw->i_mode) : NULL;
	if (!err && !i)
		err = -ENOMEM;
	if (!err) {
		i->ino = ino;
		i->fs_priv = ii;
		inode_from_raw(i, raw, s->g.large_file);
		bool fast = S_ISLNK(i->mode) && raw->i_blocks == 0;
		uint64_t n = S_ISCHR(i->mode) || S_ISBLK(i->mode) || fast ? 0 : pages_of(i->pc.size);
		ii->nblocks = MIN(n, EXT2_MAX_MAPPED);
		err = read_map(s, ii, why, whylen);
		if (!err && S_ISLNK(i->mode))
			err = read_symlink(s, i, ii);
		if (!err && S_ISDIR(i->mode))
			ii->dir_hash = 0; /* set by the directory's load */
	}
	if (err && i)
		inode_put(i); /* evict frees ii */
	else if (err)
		info_free(ii);
	*out = err ? NULL : i;
	return err;
}

/* ---- the block map ---- */

/* Make room for page index in the map. pc->lock is taken to swap the array. */
static int map_grow(struct inode *inode, uint64_t index)
{
	struct ext2_inode_info *ii = ext2_ii(inode);
	if (index < ii->nblocks)
		return 0;
	if (index >= EXT2_MAX_MAPPED)
		return -EFBIG;
	/* A file's map grows by doubling; a directory's is exactly its blocks. */
	uint64_t n = S_ISDIR(inode->mode) ? index + 1
					  : MIN(MAX(index + 1, ii->nblocks * 2), EXT2_MAX_MAPPED);
	uint32_t *nb = kzalloc(n * sizeof(uint32_t));
	if (!nb)
		return -ENOMEM;
	spin_lock(&inode->pc.lock);
	uint32_t *old = ii->blocks;
	if (old)
		memcpy(nb, old, ii->nblocks * sizeof(uint32_t));
	ii->blocks = nb;
	ii->nblocks = n;
	spin_unlock(&inode->pc.lock);
	kfree(old);
	return 0;
}

int ext2_map_block(struct inode *inode, uint64_t index, uint32_t *blk)
{
	struct ext2_inode_info *ii = ext2_ii(inode);
	int err = map_grow(inode, index);
	if (err)
		return err;
	if (ii->blocks[index]) {
		*blk = ii->blocks[index];
		return 0;
	}
	uint32_t goal = index ? ii->blocks[index - 1] + 1 : 0;
	err = ext2_block_alloc(ext2_sbi(inode->sb), goal, blk);
	if (err)
		return err;
	spin_lock(&inode->pc.lock);
	ii->blocks[index] = *blk;
	ii->map_dirty = true;
	spin_unlock(&inode->pc.lock);
	return 0;
}

void ext2_unmap_from(struct inode *inode, uint64_t first)
{
	struct ext2_inode_info *ii = ext2_ii(inode);
	struct ext2_sb_info *s = ext2_sbi(inode->sb);
	for (uint64_t i = first; i < ii->nblocks; i++) {
		spin_lock(&inode->pc.lock);
		uint32_t blk = ii->blocks[i];
		ii->blocks[i] = 0;
		spin_unlock(&inode->pc.lock);
		if (blk) {
			ext2_block_free(s, blk);
			ii->map_dirty = true;
		}
	}
}

/* Give *blk a block when need, take it away when not. -ENOSPC or 0. */
static int keep_block(struct ext2_sb_info *s, bool need, uint32_t *blk)
{
	if (need && !*blk)
		return ext2_block_alloc(s, 0, blk);
	if (!need && *blk) {
		ext2_block_free(s, *blk);
		*blk = 0;
	}
	return 0;
}

/* Whether the map has a block in [first, first + n). */
static bool any_in(const struct ext2_inode_info *ii, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n && i < ii->nblocks; i++)
		if (ii->blocks[i])
			return true;
	return false;
}

/* Write an indirect block holding map entries [first, first + ADDR_PER_BLOCK). */
static int write_ind(struct ext2_sb_info *s, const struct ext2_inode_info *ii, uint32_t blk,
		     const uint32_t *src, uint64_t first, uint32_t *buf)
{
	memset(buf, 0, PAGE_SIZE);
	for (uint64_t i = 0; i < EXT2_ADDR_PER_BLOCK; i++)
		buf[i] = src ? src[i] : first + i < ii->nblocks ? ii->blocks[first + i] : 0;
	s->writes++;
	return ext2_bio(s, BLK_WRITE, blk, buf);
}

/* Allocate, free and write the indirect blocks the map needs now; count them in *meta. */
static int write_map(struct ext2_sb_info *s, struct ext2_inode_info *ii, uint32_t *meta)
{
	uint64_t base2 = EXT2_NDIR_BLOCKS + EXT2_ADDR_PER_BLOCK;
	bool need_dind = any_in(ii, base2, EXT2_MAX_MAPPED - base2);
	int err = keep_block(s, any_in(ii, EXT2_NDIR_BLOCKS, EXT2_ADDR_PER_BLOCK), &ii->ind);
	if (!err && need_dind && !ii->dind_leaf && !(ii->dind_leaf = kzalloc(PAGE_SIZE)))
		err = -ENOMEM;
	if (!err)
		err = keep_block(s, need_dind, &ii->dind);
	for (uint64_t j = 0; !err && ii->dind_leaf && j < EXT2_ADDR_PER_BLOCK; j++)
		err = keep_block(s, any_in(ii, base2 + j * EXT2_ADDR_PER_BLOCK, EXT2_ADDR_PER_BLOCK),
				 &ii->dind_leaf[j]);
	uint32_t *buf = err ? NULL : kmalloc(PAGE_SIZE);
	if (!err && !buf)
		err = -ENOMEM;
	*meta = (ii->ind != 0) + (ii->dind != 0);
	if (!err && ii->ind && ii->map_dirty)
		err = write_ind(s, ii, ii->ind, NULL, EXT2_NDIR_BLOCKS, buf);
	if (!err && ii->dind && ii->map_dirty)
		err = write_ind(s, ii, ii->dind, ii->dind_leaf, 0, buf);
	for (uint64_t j = 0; !err && ii->dind && j < EXT2_ADDR_PER_BLOCK; j++) {
		if (!ii->dind_leaf[j])
			continue;
		(*meta)++;
		if (ii->map_dirty)
			err = write_ind(s, ii, ii->dind_leaf[j], NULL,
					base2 + j * EXT2_ADDR_PER_BLOCK, buf);
	}
	kfree(buf);
	ii->map_dirty = err != 0;
	return err;
}

/* ---- writing inodes ---- */

/* The on-disk form of inode into raw (which holds the fields MCRK leaves alone). */
static void inode_to_raw(struct ext2_sb_info *s, struct inode *i, struct ext2_inode *raw,
			 uint32_t meta)
{
	struct ext2_inode_info *ii = ext2_ii(i);
	uint64_t size = S_ISDIR(i->mode) ? ii->nblocks * PAGE_SIZE : inode_size(i);
	uint64_t data = 0;
	for (uint64_t k = 0; k < ii->nblocks; k++)
		data += ii->blocks[k] != 0;
	raw->i_mode = (uint16_t)i->mode;
	raw->i_uid = (uint16_t)i->uid;
	raw->i_uid_high = (uint16_t)(i->uid >> 16);
	raw->i_gid = (uint16_t)i->gid;
	raw->i_gid_high = (uint16_t)(i->gid >> 16);
	raw->i_links_count = (uint16_t)i->nlink;
	raw->i_size = (uint32_t)size;
	raw->i_size_high = S_ISREG(i->mode) ? (uint32_t)(size >> 32) : raw->i_size_high;
	raw->i_atime = (uint32_t)i->atime.sec;
	raw->i_mtime = (uint32_t)i->mtime.sec;
	raw->i_ctime = (uint32_t)i->ctime.sec;
	raw->i_dtime = 0;
	raw->i_blocks = (uint32_t)((data + meta) * (PAGE_SIZE / 512));
	if (S_ISDIR(i->mode))
		raw->i_flags &= ~EXT2_INDEX_FL; /* laid out linearly: any hash index is gone */
	bool fast = S_ISLNK(i->mode) && ii->nblocks == 0;
	if (fast) {
		memset(raw->i_block, 0, sizeof(raw->i_block));
		memcpy(raw->i_block, i->symlink, (size_t)size);
	} else if (S_ISCHR(i->mode) || S_ISBLK(i->mode) || S_ISFIFO(i->mode) ||
		   (i->mode & S_IFMT) == S_IFSOCK) {
		unsigned ma = DEV_MAJOR(i->rdev), mi = DEV_MINOR(i->rdev);
		memset(raw->i_block, 0, sizeof(raw->i_block));
		if (ma < 256 && mi < 256)
			raw->i_block[0] = ma << 8 | mi;
		else
			raw->i_block[1] = i->rdev;
	} else {
		for (unsigned k = 0; k < EXT2_NDIR_BLOCKS; k++)
			raw->i_block[k] = k < ii->nblocks ? ii->blocks[k] : 0;
		raw->i_block[EXT2_IND_BLOCK] = ii->ind;
		raw->i_block[EXT2_DIND_BLOCK] = ii->dind;
		raw->i_block[EXT2_TIND_BLOCK] = 0;
	}
	(void)s;
}

int ext2_inode_write(struct super_block *sb, struct inode *i)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	struct ext2_inode_info *ii = ext2_ii(i);
	uint32_t blk, off, meta = 0;
	int err = 0;
	if (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode))
		err = write_map(s, ii, &meta);
	if (err)
		return err;
	inode_place(s, ii->ino, &blk, &off);
	struct ext2_buf *b = ext2_buf_get(s, blk);
	if (!b)
		return -EIO;
	inode_to_raw(s, i, ii->raw, meta);
	if (memcmp(b->data + off, ii->raw, s->g.inode_size)) {
		memcpy(b->data + off, ii->raw, s->g.inode_size);
		b->dirty = true;
	}
	return 0;
}

int ext2_inodes_clear_freed(struct super_block *sb)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	uint32_t now = ext2_now(s);
	for (;;) {
		spin_lock(&s->alloc_lock);
		uint32_t ino = s->nfreed ? s->freed[--s->nfreed] : 0;
		spin_unlock(&s->alloc_lock);
		if (!ino)
			return 0;
		uint32_t blk, off;
		inode_place(s, ino, &blk, &off);
		struct ext2_buf *b = ext2_buf_get(s, blk);
		if (!b)
			return -EIO;
		struct ext2_inode *raw = (void *)(b->data + off);
		raw->i_links_count = 0;
		raw->i_dtime = now;
		raw->i_blocks = 0;
		raw->i_size = raw->i_size_high = 0;
		memset(raw->i_block, 0, sizeof(raw->i_block));
		b->dirty = true;
	}
}

/* ---- inode operations ---- */

static int ext2_mknod(struct inode *dir, struct dentry *d, unsigned mode, uint32_t rdev,
		      const char *target)
{
	struct ext2_sb_info *s = ext2_sbi(dir->sb);
	size_t tlen = target ? strlen(target) : 0;
	if (tlen >= PAGE_SIZE)
		return -ENAMETOOLONG;
	uint8_t zero[256] = {0};
	struct ext2_inode *raw = (void *)zero;
	if (s->g.inode_size > EXT2_GOOD_OLD_INODE_SIZE)
		raw->i_extra_isize = 32; /* what mke2fs gives its inodes */
	uint32_t ino;
	int err = ext2_inode_alloc(s, ext2_ii(dir)->ino, S_ISDIR(mode), &ino);
	if (err)
		return err;
	struct ext2_inode_info *ii = info_new(s, ino, raw);
	struct inode *i = ii ? inode_new(dir->sb, mode) : NULL;
	char *t = i && target ? kmalloc(tlen + 1) : NULL;
	if (!i || (target && !t)) {
		kfree(t);
		if (i) {
			i->fs_priv = ii;
			i->nlink = 0; /* evict gives the number back */
			inode_put(i);
		} else {
			info_free(ii);
			ext2_inode_free(s, ino, S_ISDIR(mode));
		}
		return -ENOMEM;
	}
	i->ino = ino;
	i->fs_priv = ii;
	i->rdev = rdev;
	i->iop = &ext2_iops;
	i->pc.ops = &ext2_pc_ops;
	i->fop = S_ISDIR(mode) ? &dir_fops : S_ISREG(mode) ? &ext2_file_fops : NULL;
	if (S_ISDIR(mode))
		i->nlink = 2;
	if (t) {
		memcpy(t, target, tlen + 1);
		i->symlink = t;
		i->pc.size = tlen;
		if (tlen >= EXT2_FAST_SYMLINK_MAX && (err = map_grow(i, 0))) {
			i->nlink = 0;
			inode_put(i);
			return err;
		}
	}
	inode_init_owner(i, dir);
	d->inode = i;
	return 0;
}

static int ext2_setsize(struct inode *inode, uint64_t size)
{
	if (size > EXT2_MAX_MAPPED * PAGE_SIZE)
		return -EFBIG;
	struct page *pg = NULL;
	int err = 0;
	if (size % PAGE_SIZE && size < inode->pc.size) /* the tail of the new last page */
		err = pagecache_get_io(&inode->pc, size / PAGE_SIZE, 0, &pg);
	if (err)
		return err;
	err = pagecache_truncate(&inode->pc, size);
	if (pg) { /* zeroed past the end by the truncate: the disk must hear of it */
		pagecache_mark_dirty(pg);
		pagecache_put(pg);
	}
	ext2_unmap_from(inode, pages_of(size));
	return err;
}

/* The last reference went: a file with no name gives its blocks and number back. */
static void ext2_evict(struct inode *inode)
{
	struct ext2_inode_info *ii = ext2_ii(inode);
	struct ext2_sb_info *s = ext2_sbi(inode->sb);
	if (!ii)
		return;
	if (inode->nlink == 0 && s) {
		for (uint64_t k = 0; k < ii->nblocks; k++)
			ext2_block_free(s, ii->blocks[k]);
		for (uint64_t j = 0; ii->dind_leaf && j < EXT2_ADDR_PER_BLOCK; j++)
			ext2_block_free(s, ii->dind_leaf[j]);
		ext2_block_free(s, ii->ind);
		ext2_block_free(s, ii->dind);
		ext2_inode_free(s, ii->ino, S_ISDIR(inode->mode));
	}
	inode->fs_priv = NULL;
	info_free(ii);
}

const struct inode_ops ext2_iops = {
    .mknod = ext2_mknod,
    .setsize = ext2_setsize,
    .evict = ext2_evict,
};
