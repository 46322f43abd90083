/* Host tests of ext2's on-disk checks (kernel/fs/ext2_check.c): a well-formed superblock,
 * group descriptor, inode and directory block (laid out here as mke2fs lays out a one-group
 * 4 KiB file system) are accepted with the right geometry, and each malformed field is
 * refused with EINVAL (not ext2, or unsupported) or EUCLEAN (inconsistent) and a reason. */
#include "../../kernel/fs/ext2_fmt.h"
#include "kerrno.h"
#include "unit.h"
#include <string.h>

static char why[160];

/* An 8192-block, 1024-inode, one-group file system with 256-byte inodes. */
static struct ext2_super good_super(void)
{
	struct ext2_super s;
	memset(&s, 0, sizeof(s));
	s.s_inodes_count = 1024;
	s.s_blocks_count = 8192;
	s.s_free_blocks_count = 6000;
	s.s_free_inodes_count = 1000;
	s.s_log_block_size = 2;
	s.s_blocks_per_group = 32768;
	s.s_inodes_per_group = 1024;
	s.s_magic = EXT2_SUPER_MAGIC;
	s.s_rev_level = 1;
	s.s_first_ino = 11;
	s.s_inode_size = 256;
	s.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE;
	s.s_feature_ro_compat = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
	return s;
}

static int check(const struct ext2_super *s, struct ext2_geom *g)
{
	return ext2_check_super(s, 8192, 4096, g, why, sizeof(why));
}

TEST(ext2_good_superblock_gives_its_geometry)
{
	struct ext2_super s = good_super();
	struct ext2_geom g;
	CHECK_EQ(check(&s, &g), 0);
	CHECK_EQ(g.groups, 1u);
	CHECK_EQ(g.gdt_blocks, 1u);
	CHECK_EQ(g.inode_size, 256u);
	CHECK(g.filetype && g.large_file);
}

TEST(ext2_bad_superblocks_are_refused_with_a_reason)
{
	static const struct {
		size_t off, width;
		uint32_t value;
		int err;
	} cases[] = {
	    {offsetof(struct ext2_super, s_magic), 2, 0x1234, -EINVAL},
	    {offsetof(struct ext2_super, s_rev_level), 4, 2, -EINVAL},
	    {offsetof(struct ext2_super, s_log_block_size), 4, 0, -EINVAL},
	    {offsetof(struct ext2_super, s_log_block_size), 4, 40, -EINVAL},
	    {offsetof(struct ext2_super, s_feature_incompat), 4, 0x40, -EINVAL},
	    {offsetof(struct ext2_super, s_feature_ro_compat), 4, 0x8, -EINVAL},
	    {offsetof(struct ext2_super, s_blocks_count), 4, 9000, -EINVAL},
	    {offsetof(struct ext2_super, s_blocks_per_group), 4, 0, -EUCLEAN},
	    {offsetof(struct ext2_super, s_blocks_per_group), 4, 40000, -EUCLEAN},
	    {offsetof(struct ext2_super, s_inodes_per_group), 4, 7, -EUCLEAN},
	    {offsetof(struct ext2_super, s_inodes_count), 4, 2048, -EUCLEAN},
	    {offsetof(struct ext2_super, s_inode_size), 2, 100, -EUCLEAN},
	    {offsetof(struct ext2_super, s_inode_size), 2, 8192, -EUCLEAN},
	    {offsetof(struct ext2_super, s_first_ino), 4, 3, -EUCLEAN},
	    {offsetof(struct ext2_super, s_first_data_block), 4, 1, -EUCLEAN},
	    {offsetof(struct ext2_super, s_free_blocks_count), 4, 9000, -EUCLEAN},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ext2_super s = good_super();
		struct ext2_geom g;
		memcpy((char *)&s + cases[i].off, &cases[i].value, cases[i].width);
		why[0] = 0;
		CHECK_EQ(check(&s, &g), cases[i].err);
		CHECK(why[0] != 0);
	}
}

TEST(ext2_group_descriptor_checks)
{
	struct ext2_super s = good_super();
	struct ext2_geom g;
	CHECK_EQ(check(&s, &g), 0);
	struct ext2_group_desc gd = {.bg_block_bitmap = 3, .bg_inode_bitmap = 4,
				     .bg_inode_table = 5, .bg_free_blocks_count = 100};
	CHECK_EQ(ext2_check_group(&g, 0, &gd, why, sizeof(why)), 0);
	gd.bg_inode_table = 8190; /* 64 table blocks would run past the end */
	CHECK_EQ(ext2_check_group(&g, 0, &gd, why, sizeof(why)), -EUCLEAN);
	gd.bg_inode_table = 5;
	gd.bg_block_bitmap = 1; /* inside the descriptor table */
	CHECK_EQ(ext2_check_group(&g, 0, &gd, why, sizeof(why)), -EUCLEAN);
	gd.bg_block_bitmap = 3;
	gd.bg_free_blocks_count = 9000;
	CHECK_EQ(ext2_check_group(&g, 0, &gd, why, sizeof(why)), -EUCLEAN);
}

TEST(ext2_inode_checks)
{
	struct ext2_super s = good_super();
	struct ext2_geom g;
	CHECK_EQ(check(&s, &g), 0);
	struct ext2_inode in;
	memset(&in, 0, sizeof(in));
	in.i_mode = 0100644;
	in.i_links_count = 1;
	in.i_size = 5000;
	in.i_block[0] = 100;
	in.i_block[1] = 101;
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), 0);
	in.i_block[1] = 8192; /* past the end */
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), -EUCLEAN);
	in.i_block[1] = 101;
	in.i_block[EXT2_TIND_BLOCK] = 200;
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), -EINVAL);
	in.i_block[EXT2_TIND_BLOCK] = 0;
	in.i_mode = 0170644;
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), -EUCLEAN);
	in.i_mode = 040755; /* a directory must be whole blocks */
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), -EUCLEAN);
	in.i_size = 4096;
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), 0);
	in.i_links_count = 0;
	CHECK_EQ(ext2_check_inode(&g, 12, &in, why, sizeof(why)), -EUCLEAN);
	memset(&in, 0, sizeof(in)); /* a fast symlink keeps its text in i_block */
	in.i_mode = 0120777;
	in.i_links_count = 1;
	in.i_size = 9;
	memcpy(in.i_block, "hello.txt", 9);
	CHECK_EQ(ext2_check_inode(&g, 13, &in, why, sizeof(why)), 0);
	in.i_size = 70;
	CHECK_EQ(ext2_check_inode(&g, 13, &in, why, sizeof(why)), -EUCLEAN);
}

static int count_entry(void *arg, const struct ext2_dirent *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/* Put an entry at off with rec_len rec. */
static void entry(uint8_t *b, unsigned off, uint32_t ino, uint16_t rec, const char *name)
{
	struct ext2_dirent *e = (void *)(b + off);
	e->inode = ino;
	e->rec_len = rec;
	e->name_len = (uint8_t)strlen(name);
	e->file_type = EXT2_FT_REG;
	memcpy(e->name, name, strlen(name));
}

TEST(ext2_directory_blocks_are_walked_or_refused)
{
	struct ext2_super s = good_super();
	struct ext2_geom g;
	static uint8_t b[4096];
	int n = 0;
	CHECK_EQ(check(&s, &g), 0);
	memset(b, 0, sizeof(b));
	entry(b, 0, 2, 12, ".");
	entry(b, 12, 2, 12, "..");
	entry(b, 24, 0, 20, "gone"); /* a deleted entry: skipped */
	entry(b, 44, 12, 4096 - 44, "file");
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 3);
	entry(b, 44, 12, 4096 - 40, "file"); /* past the block */
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), -EUCLEAN);
	entry(b, 44, 12, 10, "file"); /* shorter than its name, and not a multiple of 4 */
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), -EUCLEAN);
	entry(b, 44, 5000, 4096 - 44, "file"); /* no such inode */
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), -EUCLEAN);
	entry(b, 44, 12, 4096 - 44, "");
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), -EUCLEAN);
	memset(b, 0, sizeof(b)); /* rec_len 0 must not loop */
	CHECK_EQ(ext2_dir_walk(&g, b, count_entry, &n, why, sizeof(why)), -EUCLEAN);
}

TEST(ext2_sparse_super_groups)
{
	struct ext2_geom g = {0};
	static const uint32_t with[] = {0, 1, 3, 5, 7, 9, 25, 27, 49, 125, 243, 343};
	static const uint32_t without[] = {2, 4, 6, 8, 10, 15, 21, 26, 50, 100};
	for (unsigned i = 0; i < sizeof(with) / sizeof(with[0]); i++)
		CHECK(ext2_group_has_super(&g, with[i], true));
	for (unsigned i = 0; i < sizeof(without) / sizeof(without[0]); i++)
		CHECK(!ext2_group_has_super(&g, without[i], true));
	CHECK(ext2_group_has_super(&g, 6, false));
}
