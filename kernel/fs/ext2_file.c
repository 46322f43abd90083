/* ext2 file data through the page cache. A page whose block is on the disk is brought in by
 * pagecache_fill (the backing callback answers -EAGAIN for it, a hole reads as zeros); a
 * written page is dirty until write-back, which gives it a block if it has none (blocks are
 * allocated at write-back, not at write: ENOSPC then reaches fsync, not write) and writes
 * runs of pages with consecutive blocks in one request of up to 64 KiB. A failed write, or
 * a dirty page a memory error took (pagecache_drop_lost), is recorded in the file's errseq,
 * which fsync, fdatasync and msync(MS_SYNC) report once per open file description, as
 * Linux's file_check_and_advance_wb_err. */
#include "ext2_priv.h"
#include "frame.h"
#include "kstring.h"
#include "printk.h"

static long ext2_backing(struct pagecache *pc, uint64_t index, const void **src)
{
	struct inode *inode = pc->host;
	struct ext2_inode_info *ii = ext2_ii(inode);
	(void)src;
	return ii && index < ii->nblocks && ii->blocks[index] ? -EAGAIN : 0;
}

static int ext2_readpage(struct pagecache *pc, uint64_t index, struct page *pg)
{
	struct inode *inode = pc->host;
	struct ext2_inode_info *ii = ext2_ii(inode);
	spin_lock(&pc->lock);
	uint32_t blk = ii && index < ii->nblocks ? ii->blocks[index] : 0;
	spin_unlock(&pc->lock);
	if (!blk) {
		memset(page_to_virt(pg), 0, PAGE_SIZE);
		return 0;
	}
	int err = ext2_bio(ext2_sbi(inode->sb), BLK_READ, blk, page_to_virt(pg));
	if (err)
		printk(KERN_ERR "ext2: %s: read of block %u (inode %lu, page %lu) failed (%d)\n",
		       ext2_sbi(inode->sb)->dev->name, blk, inode->ino, index, err);
	return err ? -EIO : 0;
}

const struct pagecache_ops ext2_pc_ops = {
    .backing = ext2_backing,
    .read = ext2_readpage,
};

/* A run of pages going to consecutive blocks, written in one request. */
struct wb_run {
	struct page *pg[BLK_MAX_FRAMES];
	pfn_t pfn[BLK_MAX_FRAMES];
	uint32_t first;
	unsigned n;
};

static void run_write(struct inode *inode, struct wb_run *r)
{
	struct ext2_sb_info *s = ext2_sbi(inode->sb);
	if (!r->n)
		return;
	int err = blk_rw(s->dev, BLK_WRITE, (uint64_t)r->first * BLK_SECTORS_PER_FRAME,
			 r->n * BLK_SECTORS_PER_FRAME, r->pfn, r->n);
	if (err) {
		printk(KERN_ERR "ext2: %s: write of blocks %u-%u (inode %lu) failed (%d)\n",
		       s->dev->name, r->first, r->first + r->n - 1, inode->ino, err);
		pagecache_set_error(&inode->pc, -EIO);
	}
	s->writes += r->n;
	for (unsigned k = 0; k < r->n; k++)
		pagecache_put(r->pg[k]);
	r->n = 0;
}

/* Write one dirty page pg at index: give it a block, add it to the run. */
static void writeback_page(struct inode *inode, struct page *pg, uint64_t index,
			   struct wb_run *r)
{
	uint32_t blk;
	if (index >= (inode->pc.size + PAGE_SIZE - 1) / PAGE_SIZE ||
	    !pagecache_start_writeback(&inode->pc, pg)) {
		pagecache_put(pg); /* past the end (truncated meanwhile), or clean again */
		return;
	}
	int err = ext2_map_block(inode, index, &blk);
	if (err) {
		pagecache_mark_dirty(pg); /* still the only copy */
		pagecache_set_error(&inode->pc, err == -ENOSPC ? -ENOSPC : -EIO);
		pagecache_put(pg);
		return;
	}
	if (r->n && (r->n == BLK_MAX_FRAMES || blk != r->first + r->n))
		run_write(inode, r);
	if (!r->n)
		r->first = blk;
	r->pg[r->n] = pg;
	r->pfn[r->n++] = page_to_pfn(pg);
}

void ext2_file_writeback(struct inode *inode)
{
	struct wb_run r = {.n = 0};
	uint64_t index = 0;
	struct page *pg;
	mutex_lock(&inode->lock);
	while ((pg = pagecache_next_dirty(&inode->pc, &index)) != NULL) {
		writeback_page(inode, pg, index, &r);
		if (index++ == UINT64_MAX)
			break;
	}
	run_write(inode, &r);
	mutex_unlock(&inode->lock);
}

static int ext2_open(struct inode *inode, struct file *f)
{
	f->wb_seq = pagecache_error_sample(&inode->pc);
	return (f->flags & O_DIRECT) ? -EINVAL : 0; /* no direct I/O in MCRK */
}

/* fsync and fdatasync: write the whole file system back (MCRK syncs it all), then report
 * a write-back error of this file that this open file was not told of yet. */
static int ext2_fsync(struct file *f)
{
	struct super_block *sb = f->inode->sb;
	mutex_lock(&ns_lock);
	int err = sb->type->sync_fs(sb, false);
	mutex_unlock(&ns_lock);
	int wb = pagecache_error_check(&f->inode->pc, &f->wb_seq);
	return wb ? wb : err;
}

const struct file_ops ext2_file_fops = {
    .open = ext2_open,
    .read = tmpfs_file_read,
    .write = tmpfs_file_write,
    .llseek = generic_llseek,
    .fsync = ext2_fsync,
    .mappable = true,
};
