/* Host tests of the VFS with tmpfs (kernel/fs), on a root each test builds (tmpfs, /dev with
 * its devices) and the fake task's own descriptor table and fs context: the path-walk rules
 * (".", "..", ".." at the root and across a mount, symlinks in the middle and at the end, a
 * loop and the 40-link limit, names past NAME_MAX, a file as a directory, trailing slashes),
 * the names vfs_path_name gives, tmpfs's size and inode limits (ENOSPC) and their statfs
 * numbers, every frame back once a written file is deleted and closed, a FIFO and a pipe
 * without waiting, and umount2's busy rule. Syscalls are called through their registrations,
 * with host memory as user memory. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/syscall.h"
#include "../../include/task.h"
#include "../../kernel/fs/vfs_priv.h"
#include <string.h>

#define NR_READ 0
#define NR_WRITE 1
#define NR_OPEN 2
#define NR_CLOSE 3
#define NR_PIPE2 293
#define NR_MKDIR 83
#define NR_UNLINK 87
#define NR_SYMLINK 88
#define NR_STATFS 137
#define NR_MOUNT 165
#define NR_UMOUNT2 166
#define NR_CHDIR 80

extern const struct syscall_def __start_mcrk_syscalls[], __stop_mcrk_syscalls[];

static long sc(uint64_t nr, const uint64_t *args)
{
	for (const struct syscall_def *d = __start_mcrk_syscalls; d < __stop_mcrk_syscalls; d++)
		if (d->nr == nr) {
			struct syscall_args a = {
			    {args[0], args[1], args[2], args[3], args[4], args[5]}, NULL};
			return d->fn(&a);
		}
	return -ENOSYS;
}
#define SC(nr, ...) sc(nr, (const uint64_t[6]){__VA_ARGS__})
#define U(p) ((uint64_t)(uintptr_t)(p))

static uint64_t baseline, empty_world; /* free frames with the root ready; before it */

/* A fresh world with a tmpfs root holding /dev, and the fake task's files on its console. */
static void world(void)
{
	static bool registered;
	struct super_block *sb;
	vt_setup();
	fake_current = &fake_task_obj;
	fake_console_clear();
	if (!registered)
		register_filesystem(&tmpfs_type);
	registered = true;
	pipe_init(); /* pipefs is kept for good, as at boot */
	empty_world = vt_free_frames();
	REQUIRE(vfs_get_sb(&tmpfs_type, "mode=755", &sb) == 0);
	REQUIRE(vfs_attach(sb, NULL, 0, "rootfs") == 0);
	chrdev_init();
	REQUIRE(vfs_init_task_console(fake_current) == 0);
	baseline = vt_free_frames();
}

/* Drop the task's files and the root: everything the test made must be gone with them. */
static void end_world(void)
{
	vfs_fdt_put(fake_current->fdt);
	vfs_fs_put(fake_current->fs);
	fake_current->fdt = NULL;
	fake_current->fs = NULL;
	struct mount *m = vfs_root.mnt;
	path_put(&vfs_root);
	mntput(m);
}

static struct dentry *mk(const char *dir, const char *name, unsigned mode, const char *target)
{
	struct path p;
	struct dentry *d = NULL;
	if (vfs_lookup(AT_FDCWD, dir, LOOKUP_FOLLOW, &p))
		return NULL;
	tmpfs_mknod_at(p.dentry, name, mode, 0, target, &d);
	path_put(&p);
	if (d)
		dput(d);
	return d;
}

static int walk(const char *path, unsigned flags, char *name, size_t size)
{
	struct path p;
	int err = vfs_lookup(AT_FDCWD, path, flags, &p);
	if (!err) {
		if (name)
			vfs_path_name(&p, name, size);
		path_put(&p);
	}
	return err;
}

TEST(vfs_path_walk_rules)
{
	world();
	char name[256], link[16], target[16];
	REQUIRE(mk("/", "a", S_IFDIR | 0755, NULL) && mk("/a", "b", S_IFDIR | 0755, NULL));
	REQUIRE(mk("/a/b", "f", S_IFREG | 0644, NULL));
	mk("/a", "l", S_IFLNK | 0777, "b");
	mk("/", "abs", S_IFLNK | 0777, "/a/b");
	mk("/", "loop1", S_IFLNK | 0777, "loop2");
	mk("/", "loop2", S_IFLNK | 0777, "loop1");
	for (int i = 1; i <= 41; i++) {
		snprintf(link, sizeof(link), "c%d", i);
		snprintf(target, sizeof(target), i == 1 ? "a/b/f" : "c%d", i - 1);
		mk("/", link, S_IFLNK | 0777, target);
	}
	CHECK_EQ(walk("/a/./b/../b/f", 0, name, sizeof(name)), 0);
	CHECK(!strcmp(name, "/a/b/f"));
	CHECK_EQ(walk("//a///l/f", LOOKUP_FOLLOW, name, sizeof(name)), 0);
	CHECK(!strcmp(name, "/a/b/f"));
	CHECK_EQ(walk("/abs/f", 0, NULL, 0), 0);
	CHECK_EQ(walk("/../../a", 0, name, sizeof(name)), 0); /* ".." of the root is the root */
	CHECK(!strcmp(name, "/a"));
	CHECK_EQ(walk("/a/l", 0, name, sizeof(name)), 0); /* the link itself */
	CHECK(!strcmp(name, "/a/l"));
	CHECK_EQ(walk("/a/l/", 0, name, sizeof(name)), 0); /* a slash follows it */
	CHECK(!strcmp(name, "/a/b"));
	CHECK_EQ(walk("/a/b/f/", 0, NULL, 0), -ENOTDIR);
	CHECK_EQ(walk("/a/b/f/x", 0, NULL, 0), -ENOTDIR);
	CHECK_EQ(walk("/a/b/f", LOOKUP_DIRECTORY, NULL, 0), -ENOTDIR);
	CHECK_EQ(walk("/nosuch/x", 0, NULL, 0), -ENOENT);
	CHECK_EQ(walk("/loop1", LOOKUP_FOLLOW, NULL, 0), -ELOOP);
	CHECK_EQ(walk("/loop1", 0, NULL, 0), 0);
	CHECK_EQ(walk("/loop1/x", 0, NULL, 0), -ELOOP);
	CHECK_EQ(walk("/c40", LOOKUP_FOLLOW, name, sizeof(name)), 0);
	CHECK(!strcmp(name, "/a/b/f"));
	CHECK_EQ(walk("/c41", LOOKUP_FOLLOW, NULL, 0), -ELOOP);
	char longname[300];
	memset(longname, 'n', 257);
	longname[0] = '/';
	longname[257] = 0;
	CHECK_EQ(walk(longname, 0, NULL, 0), -ENAMETOOLONG);
	longname[256] = 0;
	CHECK_EQ(walk(longname, 0, NULL, 0), -ENOENT); /* 255 bytes: a name that may exist */
	CHECK_EQ(vfs_path_name(&vfs_root, name, 1), -ENAMETOOLONG);
	CHECK_EQ(vfs_path_name(&vfs_root, name, 2), 1);
	CHECK(!strcmp(name, "/"));
	end_world();
	CHECK_EQ(vt_free_frames(), empty_world);
}

TEST(vfs_mounts_cross_and_umount_busy)
{
	world();
	char name[64];
	REQUIRE(SC(NR_MKDIR, U("/m"), 0755) == 0);
	REQUIRE(SC(NR_MKDIR, U("/m/under"), 0755) == 0);
	CHECK_EQ(SC(NR_MOUNT, U("none"), U("/m"), U("tmpfs"), 0, U("size=8k,nr_inodes=3")), 0);
	CHECK_EQ(walk("/m/under", 0, NULL, 0), -ENOENT); /* covered */
	REQUIRE(SC(NR_MKDIR, U("/m/d"), 0755) == 0);
	CHECK_EQ(walk("/m/d/..", 0, name, sizeof(name)), 0);
	CHECK(!strcmp(name, "/m"));
	CHECK_EQ(walk("/m/..", 0, name, sizeof(name)), 0); /* crosses back out of the mount */
	CHECK(!strcmp(name, "/"));
	/* limits: 2 pages, 3 inodes (the root, d, one more) */
	long fd = SC(NR_OPEN, U("/m/f"), O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(SC(NR_OPEN, U("/m/g"), O_RDWR | O_CREAT, 0600), -ENOSPC);
	static char page[3 * 4096];
	memset(page, 7, sizeof(page));
	CHECK_EQ(SC(NR_WRITE, fd, U(page), sizeof(page)), 2 * 4096); /* what fits */
	CHECK_EQ(SC(NR_WRITE, fd, U(page), 1), -ENOSPC);
	struct kstatfs_user {
		int64_t type, bsize;
		uint64_t blocks, bfree, bavail, files, ffree;
	} st;
	static char stbuf[120];
	CHECK_EQ(SC(NR_STATFS, U("/m"), U(stbuf)), 0);
	memcpy(&st, stbuf, sizeof(st));
	CHECK(st.type == 0x01021994 && st.blocks == 2 && st.bfree == 0 && st.files == 3 &&
	      st.ffree == 0);
	CHECK_EQ(SC(NR_UMOUNT2, U("/m"), 0), -EBUSY); /* the open file */
	CHECK_EQ(SC(NR_CLOSE, fd), 0);
	CHECK_EQ(SC(NR_CHDIR, U("/m/d")), 0);
	CHECK_EQ(SC(NR_UMOUNT2, U("/m"), 0), -EBUSY); /* the working directory */
	CHECK_EQ(SC(NR_CHDIR, U("/")), 0);
	CHECK_EQ(SC(NR_UMOUNT2, U("/m/d"), 0), -EINVAL); /* not a mount */
	CHECK_EQ(SC(NR_UMOUNT2, U("/m"), 0), 0);
	CHECK_EQ(walk("/m/under", 0, NULL, 0), 0); /* uncovered */
	end_world();
	CHECK_EQ(vt_free_frames(), empty_world);
}

TEST(vfs_deleted_file_frees_its_frames)
{
	world();
	static char buf[8 * 4096];
	memset(buf, 0x5a, sizeof(buf));
	long fd = SC(NR_OPEN, U("/big"), O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(SC(NR_WRITE, fd, U(buf), sizeof(buf)), sizeof(buf));
	CHECK(vt_free_frames() <= baseline - 8);
	CHECK_EQ(SC(NR_UNLINK, U("/big")), 0);
	CHECK(vt_free_frames() <= baseline - 8); /* open: still there */
	CHECK_EQ(SC(NR_CLOSE, fd), 0);
	CHECK_EQ(vt_free_frames(), baseline);
	end_world();
	CHECK_EQ(vt_free_frames(), empty_world);
}

TEST(vfs_pipe_and_fifo_without_waiting)
{
	world();
	int fds[2];
	char b[8];
	CHECK_EQ(SC(NR_PIPE2, U(fds), O_NONBLOCK), 0);
	CHECK_EQ(SC(NR_READ, fds[0], U(b), sizeof(b)), -EAGAIN);
	CHECK_EQ(SC(NR_WRITE, fds[1], U("pipe"), 4), 4);
	CHECK_EQ(SC(NR_READ, fds[0], U(b), sizeof(b)), 4);
	CHECK(!memcmp(b, "pipe", 4));
	CHECK_EQ(SC(NR_CLOSE, fds[1]), 0);
	CHECK_EQ(SC(NR_READ, fds[0], U(b), sizeof(b)), 0); /* no writer: end of file */
	CHECK_EQ(SC(NR_CLOSE, fds[0]), 0);
	REQUIRE(mk("/", "fifo", S_IFIFO | 0600, NULL));
	CHECK_EQ(SC(NR_OPEN, U("/fifo"), O_WRONLY | O_NONBLOCK), -ENXIO); /* no reader */
	long r = SC(NR_OPEN, U("/fifo"), O_RDONLY | O_NONBLOCK);
	long w = SC(NR_OPEN, U("/fifo"), O_WRONLY | O_NONBLOCK);
	CHECK(r >= 0 && w >= 0);
	CHECK_EQ(SC(NR_WRITE, w, U("ff"), 2), 2);
	CHECK_EQ(SC(NR_READ, r, U(b), sizeof(b)), 2);
	SC(NR_CLOSE, r);
	SC(NR_CLOSE, w);
	CHECK_EQ(SC(NR_SYMLINK, U(""), U("/empty")), -ENOENT);
	end_world();
	CHECK_EQ(vt_free_frames(), empty_world);
}
