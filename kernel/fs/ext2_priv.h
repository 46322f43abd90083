/* Private to ext2 (kernel/fs/ext2_*.c; docs/block.md, "ext2"). MCRK's VFS keeps every file
 * system's whole tree in memory (vfs_priv.h), so ext2 reads its directories and inodes at
 * mount into dentries and inodes, and writes them back whole at sync: a directory is laid
 * out again from its dentries, an inode from the VFS inode, and each block is written only
 * when its bytes changed. File data goes through the page cache: a page whose block is on
 * the disk comes in by pagecache_fill; a dirty page goes out at sync, fsync, umount and by
 * the flusher, and gets its block then. One block is one page (4 KiB file systems only).
 *
 * Locks: ns_lock (the VFS's) serialises a sync with every change to the tree, and so with
 * mount and umount; a file's inode->lock is taken inside it while its pages are written.
 * alloc_lock (a spinlock, a leaf) guards the bitmaps, the free counts and freed[], which
 * inode eviction changes without sleeping. pc->lock guards a file's block map against the
 * page cache's backing callback. */
#pragma once
#include "blk.h"
#include "ext2_fmt.h"
#include "vfs_priv.h"

#define EXT2_ADDR_PER_BLOCK (PAGE_SIZE / 4)
/* Data blocks a file can have without a triple indirect block. */
#define EXT2_MAX_MAPPED                                                                  \
	((uint64_t)EXT2_NDIR_BLOCKS + EXT2_ADDR_PER_BLOCK +                               \
	 (uint64_t)EXT2_ADDR_PER_BLOCK * EXT2_ADDR_PER_BLOCK)
#define EXT2_DEPTH_MAX 64 /* directories deeper than this refuse the mount */

/* A metadata block held in memory (superblock, descriptors, bitmaps, inode tables). */
struct ext2_buf {
	uint32_t blk;
	bool dirty;
	uint8_t *data; /* a kernel frame */
	struct ext2_buf *next;
};

struct ext2_sb_info {
	struct blk_device *dev;
	uint32_t rdev;
	struct ext2_geom g;
	bool sparse;
	struct ext2_buf *bufs;	     /* every block held */
	struct ext2_buf *super_buf;  /* block 0: the superblock at byte 1024 */
	struct ext2_group_desc *gd;  /* g.groups descriptors (in their own buffers) */
	struct ext2_buf **bbitmap, **ibitmap; /* per group */
	spinlock_t alloc_lock;
	uint32_t free_blocks, free_inodes;
	uint32_t *freed; /* inodes freed since the last sync: cleared on disk then */
	unsigned nfreed, capfreed;
	uint32_t last_goal; /* where the last block went (the next search starts there) */
	uint64_t writes; /* blocks written by syncs (bench) */
	uint32_t time_floor; /* the superblock's write time at mount: no time goes below it */
	bool claimed;	     /* this instance holds the disk (one ext2 mount per disk) */
};

struct ext2_inode_info {
	uint32_t ino;
	struct ext2_inode *raw; /* the inode as last read or written (inode_size bytes) */
	uint32_t *blocks;	/* data block of each page index (0: a hole), nblocks of them */
	uint64_t nblocks;
	uint32_t ind, dind;	/* the indirect blocks in use (0: none) */
	uint32_t *dind_leaf;	/* EXT2_ADDR_PER_BLOCK leaves under dind, or NULL */
	uint64_t dir_hash;	/* a directory: hash of its blocks as on disk */
	bool map_dirty;		/* the block map changed since it was written */
};

static inline struct ext2_sb_info *ext2_sbi(const struct super_block *sb) { return sb->fs_priv; }
static inline struct ext2_inode_info *ext2_ii(const struct inode *i) { return i->fs_priv; }

/* Seconds since the epoch for the superblock's times and a deleted inode's dtime: the wall
 * clock (the RTC), never before the file system's last write (e2fsck reads a small dtime as
 * an orphan list link). */
uint32_t ext2_now(const struct ext2_sb_info *s);

/* ---- blocks and buffers (ext2_alloc.c) ---- */
/* Read or write block blk of the file system into or from frame data. 0 or -EIO. Sleeps. */
int ext2_bio(struct ext2_sb_info *s, enum blk_op op, uint32_t blk, void *data);
/* The metadata block blk, read once and kept until umount. NULL on error. Sleeps. */
struct ext2_buf *ext2_buf_get(struct ext2_sb_info *s, uint32_t blk);
/* The block blk if it is held, else NULL. No I/O: any context. */
struct ext2_buf *ext2_buf_find(struct ext2_sb_info *s, uint32_t blk);
/* Write every dirty buffer. 0 or the first error. Sleeps. */
int ext2_buf_flush(struct ext2_sb_info *s);
void ext2_buf_free_all(struct ext2_sb_info *s);
/* Allocate a free block near goal (0, or -ENOSPC). Free one. Take alloc_lock. */
int ext2_block_alloc(struct ext2_sb_info *s, uint32_t goal, uint32_t *out);
void ext2_block_free(struct ext2_sb_info *s, uint32_t blk);
/* Allocate an inode number (for a directory when dir), near group of parent. 0 or -ENOSPC. */
int ext2_inode_alloc(struct ext2_sb_info *s, uint32_t parent, bool dir, uint32_t *out);
/* Free inode number ino and remember to clear its record at the next sync. */
void ext2_inode_free(struct ext2_sb_info *s, uint32_t ino, bool dir);
/* Write the descriptors' and superblock's counts into their buffers (state: the superblock's
 * s_state to store). */
void ext2_counts_store(struct ext2_sb_info *s, uint16_t state);

/* ---- inodes (ext2_inode.c) ---- */
/* The VFS inode of ext2 inode ino, read from the disk with its block map; *why on error.
 * 0, -EUCLEAN (malformed), -EINVAL (unsupported), -EIO, -ENOMEM. Sleeps. */
int ext2_inode_read(struct super_block *sb, uint32_t ino, struct inode **out, char *why,
		    size_t whylen);
/* Write inode (its block map first) into its inode table buffer if it changed. Sleeps. */
int ext2_inode_write(struct super_block *sb, struct inode *inode);
/* Clear the records of inodes freed since the last sync. Sleeps. */
int ext2_inodes_clear_freed(struct super_block *sb);
/* The block of page index of inode, allocating one when it has none. 0 or -ENOSPC/-ENOMEM.
 * Sleeps only to grow the map. */
int ext2_map_block(struct inode *inode, uint64_t index, uint32_t *blk);
/* Free the blocks of pages at and past first. */
void ext2_unmap_from(struct inode *inode, uint64_t first);
extern const struct inode_ops ext2_iops;
extern const struct file_ops ext2_file_fops;
extern const struct pagecache_ops ext2_pc_ops;

/* ---- directories (ext2_dir.c) ---- */
/* Read directory dir (its dentry d) and everything below it into the dcache. Sleeps. */
int ext2_dir_load(struct super_block *sb, struct dentry *d, unsigned depth, char *why,
		  size_t whylen);
/* Lay directory d out again from its dentries and write the blocks that changed. Sleeps. */
int ext2_dir_write(struct super_block *sb, struct dentry *d);
/* A 64-bit FNV-1a hash of n bytes, continuing from h. */
uint64_t ext2_hash(uint64_t h, const void *p, size_t n);

/* ---- file data (ext2_file.c) ---- */
/* Write the dirty pages of regular file inode to their blocks. Errors go to the file's
 * errseq. inode->lock taken. Sleeps. */
void ext2_file_writeback(struct inode *inode);
