/* libFuzzer target for ext2's on-disk checks (kernel/fs/ext2_check.c): the input is a
 * superblock (1024 bytes), a group descriptor (32), an inode (256) and a directory block
 * (4096), each zero-padded when the input is short. Whatever the superblock check accepts
 * must describe a sane geometry; the group, inode and directory checks then run on it (or on
 * a fixed good geometry when the superblock is refused). It aborts when an accepted structure
 * breaks what the checks promise; ASan and UBSan catch the rest. Seeds: scripts/fuzz.sh
 * (the first blocks of build/ext2.img). */
#include "../../kernel/fs/ext2_fmt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define check(cond) check_at(cond, __LINE__)
static void check_at(int cond, int line)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ext2: broken invariant at line %d\n", line);
		abort();
	}
}

static const struct ext2_geom *geom;

static int on_entry(void *arg, const struct ext2_dirent *e)
{
	const uint8_t *block = arg;
	size_t off = (size_t)((const uint8_t *)e - block);
	check(off + e->rec_len <= geom->block_size);
	check(8u + e->name_len <= e->rec_len && e->name_len > 0);
	check(e->inode > 0 && e->inode <= geom->inodes_count);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[1024 + 32 + 256 + 4096];
	char why[160];
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	struct ext2_super sb;
	struct ext2_group_desc gd;
	struct ext2_inode in;
	memcpy(&sb, buf, sizeof(sb));
	memcpy(&gd, buf + 1024, sizeof(gd));
	memcpy(&in, buf + 1024 + 32, sizeof(in));
	const uint8_t *dir = buf + 1024 + 32 + 256;
	struct ext2_geom g, fixed = {.block_size = 4096, .blocks_count = 8192,
				     .inodes_count = 1024, .blocks_per_group = 32768,
				     .inodes_per_group = 1024, .groups = 1, .inode_size = 256,
				     .first_ino = 11, .gdt_blocks = 1, .filetype = true};
	if (ext2_check_super(&sb, 1u << 20, 4096, &g, why, sizeof(why)) == 0) {
		check(g.block_size == 4096 && g.groups > 0 && g.blocks_count <= 1u << 20);
		check((uint64_t)g.groups * g.inodes_per_group == g.inodes_count);
		check(g.inode_size >= 128 && g.inode_size <= g.block_size);
		geom = &g;
	} else {
		check(why[0] != 0);
		geom = &fixed;
	}
	if (ext2_check_group(geom, 0, &gd, why, sizeof(why)) == 0) {
		check(gd.bg_inode_table > geom->first_data_block);
		check(gd.bg_block_bitmap < geom->blocks_count && gd.bg_inode_bitmap < geom->blocks_count);
	}
	if (ext2_check_inode(geom, 12, &in, why, sizeof(why)) == 0 && (in.i_mode & 0170000) != 0120000)
		for (unsigned i = 0; i < EXT2_N_BLOCKS; i++)
			check(ext2_block_ok(geom, in.i_block[i]));
	ext2_dir_walk(geom, dir, on_entry, (void *)dir, why, sizeof(why));
	return 0;
}
