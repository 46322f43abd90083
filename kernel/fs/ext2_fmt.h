/* The ext2 on-disk format (the second extended file system, revision 0 and 1, as Linux 6.1's
 * fs/ext2/ext2.h and e2fsprogs lay it out; all fields little-endian) and the pure checks that
 * stand between a disk image and the rest of the kernel: every field MCRK uses is checked here
 * before it is trusted, so a malformed image is refused with a reason instead of being
 * followed. No I/O and no kernel state: the host tests and tests/fuzz/fuzz_ext2.c run these
 * on arbitrary bytes. */
#pragma once
#include "types.h"

#define EXT2_SUPER_OFFSET 1024
#define EXT2_SUPER_MAGIC 0xEF53
#define EXT2_ROOT_INO 2
#define EXT2_GOOD_OLD_FIRST_INO 11
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_NDIR_BLOCKS 12
#define EXT2_IND_BLOCK 12
#define EXT2_DIND_BLOCK 13
#define EXT2_TIND_BLOCK 14
#define EXT2_N_BLOCKS 15
#define EXT2_VALID_FS 0x1
#define EXT2_ERROR_FS 0x2
#define EXT2_INDEX_FL 0x1000
#define EXT2_NAME_LEN 255
#define EXT2_FAST_SYMLINK_MAX 60 /* bytes of target that fit in i_block */

#define EXT2_FEATURE_INCOMPAT_FILETYPE 0x0002
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE 0x0002
#define EXT2_INCOMPAT_KNOWN EXT2_FEATURE_INCOMPAT_FILETYPE
#define EXT2_RO_COMPAT_KNOWN (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE)

/* Directory entry file types (FILETYPE feature). */
enum { EXT2_FT_UNKNOWN, EXT2_FT_REG, EXT2_FT_DIR, EXT2_FT_CHRDEV, EXT2_FT_BLKDEV, EXT2_FT_FIFO,
       EXT2_FT_SOCK, EXT2_FT_SYMLINK, EXT2_FT_MAX };

struct ext2_super {
	uint32_t s_inodes_count, s_blocks_count, s_r_blocks_count, s_free_blocks_count;
	uint32_t s_free_inodes_count, s_first_data_block, s_log_block_size, s_log_frag_size;
	uint32_t s_blocks_per_group, s_frags_per_group, s_inodes_per_group;
	uint32_t s_mtime, s_wtime;
	uint16_t s_mnt_count;
	int16_t s_max_mnt_count;
	uint16_t s_magic, s_state, s_errors, s_minor_rev_level;
	uint32_t s_lastcheck, s_checkinterval, s_creator_os, s_rev_level;
	uint16_t s_def_resuid, s_def_resgid;
	/* revision 1 */
	uint32_t s_first_ino;
	uint16_t s_inode_size, s_block_group_nr;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat;
	uint8_t s_uuid[16];
	char s_volume_name[16];
	char s_last_mounted[64];
	uint8_t s_rest[1024 - 200];
} __attribute__((packed));

struct ext2_group_desc {
	uint32_t bg_block_bitmap, bg_inode_bitmap, bg_inode_table;
	uint16_t bg_free_blocks_count, bg_free_inodes_count, bg_used_dirs_count, bg_pad;
	uint32_t bg_reserved[3];
} __attribute__((packed));

struct ext2_inode {
	uint16_t i_mode, i_uid;
	uint32_t i_size, i_atime, i_ctime, i_mtime, i_dtime;
	uint16_t i_gid, i_links_count;
	uint32_t i_blocks, i_flags, i_osd1;
	uint32_t i_block[EXT2_N_BLOCKS];
	uint32_t i_generation, i_file_acl, i_size_high, i_faddr;
	uint8_t i_frag, i_fsize;
	uint16_t i_pad1, i_uid_high, i_gid_high;
	uint32_t i_reserved2;
	uint16_t i_extra_isize; /* inodes larger than 128 bytes */
} __attribute__((packed));

struct ext2_dirent {
	uint32_t inode;
	uint16_t rec_len;
	uint8_t name_len, file_type;
	char name[];
} __attribute__((packed));

/* The geometry a checked superblock gives. */
struct ext2_geom {
	uint32_t block_size;
	uint32_t blocks_count, inodes_count, first_data_block;
	uint32_t blocks_per_group, inodes_per_group, groups;
	uint32_t inode_size, first_ino;
	uint32_t gdt_blocks; /* blocks of the group descriptor table */
	bool filetype;	     /* directory entries carry a file type */
	bool large_file;
};

/* Check the superblock sb (1024 bytes) of a device of dev_blocks blocks of block_size bytes
 * (the only size MCRK reads, its page size): magic, revision, sizes, group geometry, the
 * features (unknown incompatible or read-only-compatible ones refuse the mount), the counts.
 * 0 with *g filled, or -EINVAL (not ext2, or a feature MCRK lacks) / -EUCLEAN (ext2 but
 * inconsistent) with a reason in why. */
int ext2_check_super(const struct ext2_super *sb, uint64_t dev_blocks, uint32_t block_size,
		     struct ext2_geom *g, char *why, size_t whylen);
/* Check group descriptor gd of group grp: its bitmaps and inode table inside the file
 * system, past the descriptor table, the table not past the end, free counts within the
 * group. 0 or -EUCLEAN with why. */
int ext2_check_group(const struct ext2_geom *g, uint32_t grp, const struct ext2_group_desc *gd,
		     char *why, size_t whylen);
/* Check inode ino: a known type, link count, size against the type (a directory whole
 * blocks, a fast symlink under 60 bytes), every block pointer within the file system (0 is a
 * hole). 0 or -EUCLEAN with why. */
int ext2_check_inode(const struct ext2_geom *g, uint32_t ino, const struct ext2_inode *in,
		     char *why, size_t whylen);
/* A block pointer is usable: 0 (hole) or a data block of the file system. */
bool ext2_block_ok(const struct ext2_geom *g, uint32_t blk);
/* Walk directory block buf (block_size bytes): fn(arg, entry) for each entry in use, in
 * order. Every entry is checked first (rec_len at least 8 + name_len rounded to 4, a
 * multiple of 4, inside the block; name_len > 0 for a used entry; inode at most
 * inodes_count; a known file type). 0, fn's non-zero value, or -EUCLEAN with why. */
int ext2_dir_walk(const struct ext2_geom *g, const uint8_t *buf,
		  int (*fn)(void *arg, const struct ext2_dirent *e), void *arg, char *why,
		  size_t whylen);
/* The smallest rec_len of an entry with a name of len bytes. */
static inline uint32_t ext2_rec_len(uint32_t len) { return (8 + len + 3) & ~3u; }
/* The file type of a directory entry for mode (S_IF* bits). */
uint8_t ext2_file_type(uint32_t mode);
/* The group descriptor table's first block and how many groups keep a superblock backup
 * at group grp (sparse_super: groups 0, 1 and powers of 3, 5, 7). */
bool ext2_group_has_super(const struct ext2_geom *g, uint32_t grp, bool sparse);
