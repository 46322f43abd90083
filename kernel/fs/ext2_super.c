/* ext2 instances: mount("/dev/vda", dir, "ext2", ...) reads and checks the superblock, the
 * group descriptors and the bitmaps, then the whole tree (ext2_dir.c), and marks the file
 * system in use on the disk (s_state without EXT2_VALID_FS, as Linux's ext2_setup_super, so
 * e2fsck can tell an unclean stop); sync writes back every dirty page, every changed
 * directory and inode, the bitmaps, descriptors and superblock, then flushes the disk; the
 * last umount syncs and marks the file system clean. A malformed image refuses the mount
 * with -EINVAL or -EUCLEAN and one line saying why (ext2_check.c). The flusher writes dirty
 * data back EXT2_FLUSH_SECONDS after it was written. */
#include "clock.h"
#include "ext2_priv.h"
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "sig.h"
#include "task.h"

#define EXT2_FREED_MAX 4096
/* The flusher wakes this often and writes back whatever is dirty (Linux: every 5 s,
 * dirty_writeback_centisecs, writing pages dirty for 30 s, dirty_expire_centisecs). */
#define EXT2_FLUSH_NS (5 * 1000000000ull)

static int sb_load_groups(struct ext2_sb_info *s, char *why, size_t whylen)
{
	const struct ext2_geom *g = &s->g;
	uint32_t per_block = g->block_size / sizeof(struct ext2_group_desc);
	s->gd = kmalloc(g->groups * sizeof(*s->gd));
	s->bbitmap = kzalloc(g->groups * sizeof(*s->bbitmap));
	s->ibitmap = kzalloc(g->groups * sizeof(*s->ibitmap));
	s->freed = kmalloc(EXT2_FREED_MAX * sizeof(uint32_t));
	s->capfreed = EXT2_FREED_MAX;
	if (!s->gd || !s->bbitmap || !s->ibitmap || !s->freed)
		return -ENOMEM;
	for (uint32_t grp = 0; grp < g->groups; grp++) {
		struct ext2_buf *b = ext2_buf_get(s, g->first_data_block + 1 + grp / per_block);
		if (!b)
			return -EIO;
		s->gd[grp] = ((struct ext2_group_desc *)b->data)[grp % per_block];
		int err = ext2_check_group(g, grp, &s->gd[grp], why, whylen);
		if (err)
			return err;
		s->bbitmap[grp] = ext2_buf_get(s, s->gd[grp].bg_block_bitmap);
		s->ibitmap[grp] = ext2_buf_get(s, s->gd[grp].bg_inode_bitmap);
		if (!s->bbitmap[grp] || !s->ibitmap[grp])
			return -EIO;
		s->free_blocks += s->gd[grp].bg_free_blocks_count;
		s->free_inodes += s->gd[grp].bg_free_inodes_count;
	}
	return 0;
}

/* Disks with a mounted ext2 on them: a second instance over the same blocks would undo the
 * first one's writes, so a second mount of a disk is refused (Linux shares the instance). */
static struct blk_device *in_use[BLK_MAX_DEVICES];
static spinlock_t in_use_lock = SPINLOCK_INIT;

/* Claim (on) or release d. False when on and d is claimed already, or the table is full. */
static bool claim_disk(struct blk_device *d, bool on)
{
	bool ok = !on;
	spin_lock(&in_use_lock);
	for (unsigned i = 0; i < BLK_MAX_DEVICES; i++) {
		if (on && in_use[i] == d) {
			ok = false;
			break;
		}
		if (!on && in_use[i] == d)
			in_use[i] = NULL;
	}
	for (unsigned i = 0; on && i < BLK_MAX_DEVICES && !ok; i++) {
		if (in_use[i] == d)
			break;
		if (!in_use[i]) {
			in_use[i] = d;
			ok = true;
		}
	}
	spin_unlock(&in_use_lock);
	return ok;
}

static void sbi_free(struct ext2_sb_info *s)
{
	if (!s)
		return;
	if (s->claimed)
		claim_disk(s->dev, false);
	ext2_buf_free_all(s);
	kfree(s->gd);
	kfree(s->bbitmap);
	kfree(s->ibitmap);
	kfree(s->freed);
	kfree(s);
}

/* The disk behind the block device node at path. -ENOTBLK, -ENXIO, or a lookup's error. */
static int open_disk(const char *path, struct ext2_sb_info *s)
{
	struct path p;
	if (!path)
		return -EINVAL;
	int err = vfs_lookup(AT_FDCWD, path, LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	if (!S_ISBLK(i->mode))
		err = -ENOTBLK;
	else if (!(s->dev = blkdev_of(i->rdev)))
		err = -ENXIO;
	s->rdev = i->rdev;
	path_put(&p);
	return err;
}

/* Superblock, descriptors, bitmaps: the checks of ext2_check.c on each. */
static int sb_read(struct ext2_sb_info *s, char *why, size_t whylen)
{
	s->super_buf = ext2_buf_get(s, 0);
	if (!s->super_buf)
		return -EIO;
	const struct ext2_super *raw = (const void *)(s->super_buf->data + EXT2_SUPER_OFFSET);
	int err = ext2_check_super(raw, s->dev->sectors / BLK_SECTORS_PER_FRAME, PAGE_SIZE, &s->g,
				   why, whylen);
	s->time_floor = raw->s_wtime;
	s->sparse = raw->s_rev_level &&
		    (raw->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER);
	if (!err && (raw->s_state & EXT2_ERROR_FS))
		printk(KERN_WARNING "ext2: %s: the file system has errors: run e2fsck\n",
		       s->dev->name);
	return err ? err : sb_load_groups(s, why, whylen);
}

/* The root and the whole tree under it. */
static int tree_read(struct super_block *sb, char *why, size_t whylen)
{
	struct inode *root;
	int err = ext2_inode_read(sb, EXT2_ROOT_INO, &root, why, whylen);
	if (!err && !S_ISDIR(root->mode)) {
		ksnprintf(why, whylen, "the root inode is not a directory");
		inode_put(root);
		err = -EUCLEAN;
	}
	if (!err && !(sb->root = d_make_root(sb, root)))
		err = -ENOMEM;
	return err ? err : ext2_dir_load(sb, sb->root, 0, why, whylen);
}

uint32_t ext2_now(const struct ext2_sb_info *s)
{
	uint64_t wall = clock_wall_ns();
	uint32_t now = (uint32_t)(wall ? wall / 1000000000ull : (uint64_t)vfs_now().sec);
	return MAX(now, s->time_floor);
}

/* Mark the file system in use (or clean) in its superblock, as Linux does at mount/umount. */
static void mark_state(struct ext2_sb_info *s, bool mounting)
{
	struct ext2_super *raw = (void *)(s->super_buf->data + EXT2_SUPER_OFFSET);
	uint32_t now = ext2_now(s);
	if (mounting) {
		raw->s_mnt_count++;
		raw->s_mtime = now;
	}
	raw->s_wtime = now;
	ext2_counts_store(s, mounting ? raw->s_state & ~EXT2_VALID_FS
				      : raw->s_state | EXT2_VALID_FS);
}

/* The flusher: a kernel task that syncs every mounted file system with a sync_fs each
 * EXT2_FLUSH_NS, so data nobody fsyncs reaches the disk within that time. */
static void flusher_main(void *arg)
{
	(void)arg;
	for (;;) {
		sleep_ns(EXT2_FLUSH_NS);
		vfs_sync_all();
	}
}

/* Start the flusher with the first mount. ns_lock held. */
static void flusher_start(void)
{
	static bool started;
	if (started)
		return;
	struct task *t = task_create_kernel("ext2-flush", flusher_main, NULL);
	if (!t || sig_task_init(t)) {
		printk(KERN_ERR "ext2: no memory for the flusher: dirty data waits for sync\n");
		return;
	}
	started = true;
	sched_start_task(t);
}

static void ext2_kill_sb(struct super_block *sb)
{
	if (sb->root)
		d_kill_tree(sb->root);
	sbi_free(ext2_sbi(sb));
	kfree(sb);
}

static int ext2_get_sb_dev(struct fs_type *t, const char *dev, const char *data,
			   struct super_block **out)
{
	char why[160] = "";
	(void)data;
	struct super_block *sb = kzalloc(sizeof(*sb));
	struct ext2_sb_info *s = kzalloc(sizeof(*s));
	if (!sb || !s) {
		kfree(sb);
		kfree(s);
		return -ENOMEM;
	}
	spin_init(&s->alloc_lock);
	sb->type = t;
	sb->refs = 1;
	sb->magic = EXT2_SUPER_MAGIC;
	sb->fs_priv = s;
	int err = open_disk(dev, s);
	if (!err && !(s->claimed = claim_disk(s->dev, true))) {
		ksnprintf(why, sizeof(why), "the disk is mounted already");
		err = -EBUSY;
	}
	if (!err)
		err = sb_read(s, why, sizeof(why));
	sb->dev = s->rdev;
	if (!err)
		err = tree_read(sb, why, sizeof(why));
	if (!err) {
		mark_state(s, true);
		err = ext2_buf_flush(s);
	}
	if (err) {
		printk(KERN_ERR "ext2: cannot mount %s: %s (error %d)\n", dev ? dev : "(none)",
		       why[0] ? why : "the device failed or memory ran out", err);
		ext2_kill_sb(sb);
		return err;
	}
	printk(KERN_INFO "ext2: %s mounted: %u blocks of %u bytes, %u inodes, %u groups\n", dev,
	       s->g.blocks_count, s->g.block_size, s->g.inodes_count, s->g.groups);
	flusher_start();
	*out = sb;
	return 0;
}

/* Data pages of every regular file, then every directory and inode, depth first. */
static int sync_tree(struct super_block *sb, struct dentry *d)
{
	struct inode *i = d->inode;
	int err = 0;
	if (S_ISREG(i->mode))
		ext2_file_writeback(i);
	if (S_ISDIR(i->mode))
		err = ext2_dir_write(sb, d);
	if (!err && S_ISLNK(i->mode) && ext2_ii(i)->nblocks) {
		uint32_t blk;
		err = ext2_map_block(i, 0, &blk);
		uint8_t *buf = err ? NULL : kzalloc(PAGE_SIZE);
		if (buf) {
			memcpy(buf, i->symlink, (size_t)i->pc.size);
			err = ext2_bio(ext2_sbi(sb), BLK_WRITE, blk, buf);
			kfree(buf);
		}
	}
	if (!err)
		err = ext2_inode_write(sb, i);
	uint64_t pos = 0;
	struct dentry *c;
	while (S_ISDIR(i->mode) && (c = d_child_at(d, &pos)) != NULL) {
		int e = c->inode && c->inode->sb == sb ? sync_tree(sb, c) : 0;
		err = err ? err : e;
		dput(c);
		pos++;
	}
	return err;
}

/* Open but nameless files (unlinked while open) are not in the tree: their pages need no
 * writing (they go with the file), their inode is freed at eviction. */
static int ext2_sync_fs(struct super_block *sb, bool unmount)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	int err = sync_tree(sb, sb->root);
	int e = ext2_inodes_clear_freed(sb);
	err = err ? err : e;
	mark_state(s, false);
	if (!unmount) { /* still mounted: the disk keeps saying so */
		struct ext2_super *raw = (void *)(s->super_buf->data + EXT2_SUPER_OFFSET);
		raw->s_state &= (uint16_t)~EXT2_VALID_FS;
	}
	e = ext2_buf_flush(s);
	err = err ? err : e;
	e = blk_rw(s->dev, BLK_FLUSH, 0, 0, NULL, 0);
	if (err || e)
		printk(KERN_ERR "ext2: %s: write-back failed (%d)\n", s->dev->name, err ? err : e);
	return err ? err : e;
}

static void ext2_statfs(struct super_block *sb, struct kstatfs *st)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	const struct ext2_super *raw = (const void *)(s->super_buf->data + EXT2_SUPER_OFFSET);
	spin_lock(&s->alloc_lock);
	st->bsize = st->frsize = s->g.block_size;
	st->blocks = s->g.blocks_count;
	st->bfree = s->free_blocks;
	st->bavail = s->free_blocks > raw->s_r_blocks_count ? s->free_blocks - raw->s_r_blocks_count
							    : 0;
	st->files = s->g.inodes_count;
	st->ffree = s->free_inodes;
	st->namelen = EXT2_NAME_LEN;
	spin_unlock(&s->alloc_lock);
}

struct fs_type ext2_type = {
    .name = "ext2",
    .get_sb_dev = ext2_get_sb_dev,
    .sync_fs = ext2_sync_fs,
    .kill_sb = ext2_kill_sb,
    .statfs = ext2_statfs,
};
