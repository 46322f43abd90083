/* Names and directories as Linux 6.1 gives them: mkdir(at), rmdir, unlink(at), rename,
 * renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE), link(at), symlink(at), readlink(at), mknod
 * (a FIFO), getdents64 while entries come and go, chdir/fchdir/getcwd (and getcwd of a
 * removed directory), dirfd-relative calls, and the path-walk rules: "." and "..", ".." at
 * the root, symlinks in the middle and at the end, a symlink loop (ELOOP), a 40-link chain,
 * names of 256 bytes and paths of 4096 (ENAMETOOLONG), a file used as a directory (ENOTDIR),
 * trailing slashes. In a scratch directory under /tmp, on MCRK and on Linux as root. */
#define _GNU_SOURCE
#include "utest.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ERR(call, e) (errno = 0, (call) == -1 && errno == (e))
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2

static char dir[64];

static char *P(const char *name)
{
	static char p[4][PATH_MAX + 64];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int touch(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static long renameat2_(int od, const char *o, int nd, const char *n, unsigned flags)
{
	return syscall(SYS_renameat2, od, o, nd, n, flags);
}

static void test_mkdir_rmdir_unlink(void)
{
	struct stat st;
	CHECK(mkdir(P("d"), 0755) == 0);
	CHECK(stat(P("d"), &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 2);
	CHECK(mkdir(P("d/sub"), 0700) == 0);
	CHECK(stat(P("d"), &st) == 0 && st.st_nlink == 3);
	CHECK(ERR(mkdir(P("d"), 0755), EEXIST));
	CHECK(ERR(mkdir(P("d/."), 0755), EEXIST));
	CHECK(ERR(mkdir(P("d/.."), 0755), EEXIST));
	CHECK(ERR(mkdir(P("nosuch/x"), 0755), ENOENT));
	CHECK(mkdir(P("trailing/"), 0755) == 0); /* a directory may be named with a slash */
	CHECK(touch(P("f")) == 0);
	CHECK(ERR(mkdir(P("f/x"), 0755), ENOTDIR));
	CHECK(ERR(rmdir(P("d")), ENOTEMPTY));
	CHECK(ERR(rmdir(P("d/sub/.")), EINVAL));
	CHECK(ERR(rmdir(P("d/sub/..")), ENOTEMPTY));
	CHECK(ERR(rmdir(P("f")), ENOTDIR));
	CHECK(ERR(rmdir(P("nosuch")), ENOENT));
	CHECK(ERR(unlink(P("d")), EISDIR));
	CHECK(ERR(unlink(P("f/")), ENOTDIR));
	CHECK(ERR(unlink(P("d/")), EISDIR));
	CHECK(ERR(unlink(P("nosuch")), ENOENT));
	CHECK(ERR(unlink(P(".")), EISDIR));
	CHECK(rmdir(P("d/sub")) == 0);
	CHECK(stat(P("d"), &st) == 0 && st.st_nlink == 2);
	CHECK(ERR(unlinkat(AT_FDCWD, P("d"), 0x100), EINVAL));
	CHECK(unlinkat(AT_FDCWD, P("d"), AT_REMOVEDIR) == 0);
	CHECK(rmdir(P("trailing/")) == 0);
	/* mknod: a FIFO, a regular file; not a directory */
	CHECK(mknod(P("fifo"), S_IFIFO | 0600, 0) == 0);
	CHECK(stat(P("fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(ERR(mknod(P("dd"), S_IFDIR | 0700, 0), EPERM));
	CHECK(ERR(mknod(P("bad"), 0170000, 0), EINVAL));
	CHECK(unlink(P("fifo")) == 0);
}

static void test_links(void)
{
	struct stat st;
	char t[64];
	CHECK(link(P("f"), P("f2")) == 0);
	CHECK(stat(P("f"), &st) == 0 && st.st_nlink == 2);
	CHECK(ERR(link(P("f"), P("f2")), EEXIST));
	CHECK(ERR(link(dir, P("dirlink")), EPERM));
	CHECK(ERR(link(P("nosuch"), P("x")), ENOENT));
	CHECK(ERR(link(P("f"), "/proc/x"), ENOENT)); /* procfs: the lookup itself fails */
	CHECK(ERR(link(P("f"), "/dev/shm/x"), EXDEV));
	CHECK(unlink(P("f2")) == 0 && stat(P("f"), &st) == 0 && st.st_nlink == 1);
	CHECK(symlink("f", P("s")) == 0);
	CHECK(readlink(P("s"), t, sizeof(t)) == 1 && t[0] == 'f');
	CHECK(ERR(syscall(SYS_readlink, P("s"), t, 0), EINVAL)); /* raw: musl works around 0 */
	CHECK(ERR(readlink(P("f"), t, sizeof(t)), EINVAL));
	CHECK(ERR(readlink(P("nosuch"), t, sizeof(t)), ENOENT));
	CHECK(ERR(symlink("", P("empty")), ENOENT));
	CHECK(ERR(symlink("x", P("s")), EEXIST));
	CHECK(ERR(symlink("x", P("newlink/")), ENOENT));
	/* link follows a symlink only with AT_SYMLINK_FOLLOW */
	CHECK(linkat(AT_FDCWD, P("s"), AT_FDCWD, P("hs"), 0) == 0);
	CHECK(lstat(P("hs"), &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(linkat(AT_FDCWD, P("s"), AT_FDCWD, P("hf"), AT_SYMLINK_FOLLOW) == 0);
	CHECK(lstat(P("hf"), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 2);
	CHECK(ERR(linkat(AT_FDCWD, P("s"), AT_FDCWD, P("x"), 0x1), EINVAL));
	CHECK(unlink(P("hs")) == 0 && unlink(P("hf")) == 0);
	/* readlinkat of an O_PATH fd to the link itself */
	int fd = open(P("s"), O_PATH | O_NOFOLLOW);
	CHECK(fd >= 0 && readlinkat(fd, "", t, sizeof(t)) == 1);
	close(fd);
	fd = open(P("f"), O_RDONLY);
	CHECK(ERR(readlinkat(fd, "", t, sizeof(t)), ENOENT));
	close(fd);
}

static void test_rename(void)
{
	struct stat a, b;
	CHECK(touch(P("r1")) == 0 && touch(P("r2")) == 0 && mkdir(P("rd"), 0755) == 0);
	CHECK(stat(P("r1"), &a) == 0);
	CHECK(rename(P("r1"), P("r3")) == 0 && stat(P("r3"), &b) == 0 && a.st_ino == b.st_ino);
	CHECK(ERR(stat(P("r1"), &b), ENOENT));
	CHECK(rename(P("r3"), P("r2")) == 0); /* replaces r2 */
	CHECK(stat(P("r2"), &b) == 0 && a.st_ino == b.st_ino);
	CHECK(touch(P("r1")) == 0);
	CHECK(ERR(renameat2_(AT_FDCWD, P("r1"), AT_FDCWD, P("r2"), RENAME_NOREPLACE), EEXIST));
	CHECK(renameat2_(AT_FDCWD, P("r1"), AT_FDCWD, P("r2"), RENAME_EXCHANGE) == 0);
	CHECK(stat(P("r1"), &b) == 0 && a.st_ino == b.st_ino);
	CHECK(ERR(renameat2_(AT_FDCWD, P("r1"), AT_FDCWD, P("none"), RENAME_EXCHANGE), ENOENT));
	CHECK(ERR(renameat2_(AT_FDCWD, P("r1"), AT_FDCWD, P("r2"), 3), EINVAL));
	CHECK(ERR(renameat2_(AT_FDCWD, P("r1"), AT_FDCWD, P("r2"), 8), EINVAL));
	CHECK(ERR(rename(P("r1"), P("rd")), EISDIR));
	CHECK(ERR(rename(P("rd"), P("r1")), ENOTDIR));
	CHECK(ERR(rename(P("rd"), P("rd/in")), EINVAL));
	CHECK(ERR(rename(P("r1/"), P("r9")), ENOTDIR));
	CHECK(ERR(rename(P("nosuch"), P("r9")), ENOENT));
	CHECK(ERR(rename(P("."), P("r9")), EBUSY));
	CHECK(ERR(rename(P("r1"), "/proc/x"), EXDEV));
	CHECK(mkdir(P("rd/in"), 0755) == 0 && mkdir(P("rd2"), 0755) == 0);
	CHECK(rename(P("rd2"), P("rd/in")) == 0); /* onto an empty directory */
	CHECK(touch(P("rd/in/x")) == 0 && mkdir(P("rd3"), 0755) == 0);
	CHECK(ERR(rename(P("rd3"), P("rd/in")), ENOTEMPTY));
	CHECK(ERR(rename(P("rd3"), P("rd")), ENOTEMPTY));
	CHECK(link(P("r1"), P("r1b")) == 0 &&
	      rename(P("r1"), P("r1b")) == 0); /* same file: no-op */
	CHECK(stat(P("r1"), &b) == 0 && stat(P("r1b"), &b) == 0);
	CHECK(unlink(P("rd/in/x")) == 0 && rmdir(P("rd/in")) == 0 && rmdir(P("rd")) == 0);
	CHECK(rmdir(P("rd3")) == 0);
	CHECK(unlink(P("r1")) == 0 && unlink(P("r1b")) == 0 && unlink(P("r2")) == 0);
}

/* A directory listing while it changes: each entry once, "." and ".." first. */
static void test_getdents(void)
{
	char b[4096], name[32];
	CHECK(mkdir(P("ls"), 0755) == 0);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "ls/e%03d", i);
		CHECK(touch(P(name)) == 0);
	}
	DIR *d = opendir(P("ls"));
	int seen[100] = {0}, dots = 0, n = 0;
	for (struct dirent *e; d && (e = readdir(d)); n++) {
		int k;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
			dots++;
			CHECK(e->d_type == DT_DIR);
		} else if (sscanf(e->d_name, "e%d", &k) == 1 && k >= 0 && k < 100) {
			seen[k]++;
			CHECK(e->d_type == DT_REG);
		}
		if (n == 50) { /* remove some not yet listed, add new ones */
			for (int j = 0; j < 100; j += 2) {
				snprintf(name, sizeof(name), "ls/e%03d", j);
				unlink(P(name));
			}
		}
	}
	closedir(d);
	CHECK(dots == 2);
	for (int i = 0; i < 100; i++)
		CHECK(seen[i] <= 1);
	int fd = open(P("ls"), O_RDONLY | O_DIRECTORY);
	CHECK(ERR(syscall(SYS_getdents64, fd, b, 10), EINVAL));
	CHECK(ERR(syscall(SYS_getdents64, -1, b, sizeof(b)), EBADF));
	close(fd);
	fd = open(P("f"), O_RDONLY);
	CHECK(ERR(syscall(SYS_getdents64, fd, b, sizeof(b)), ENOTDIR));
	close(fd);
	for (int i = 1; i < 100; i += 2) {
		snprintf(name, sizeof(name), "ls/e%03d", i);
		CHECK(unlink(P(name)) == 0);
	}
	CHECK(rmdir(P("ls")) == 0);
}

static void test_cwd(void)
{
	char cwd[PATH_MAX], here[PATH_MAX];
	CHECK(getcwd(here, sizeof(here)) != NULL);
	CHECK(mkdir(P("c"), 0755) == 0 && chdir(P("c")) == 0);
	CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, P("c")));
	CHECK(ERR(syscall(SYS_getcwd, cwd, 3), ERANGE));
	CHECK(ERR(syscall(SYS_getcwd, (char *)-4096L, sizeof(cwd)), EFAULT));
	CHECK(touch("rel") == 0 && access(P("c/rel"), F_OK) == 0);
	CHECK(chdir("..") == 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, dir));
	int fd = open(P("c"), O_RDONLY | O_DIRECTORY);
	CHECK(fchdir(fd) == 0 && access("rel", F_OK) == 0);
	/* *at calls relative to a directory fd; an absolute path ignores it */
	CHECK(mkdirat(fd, "sub", 0755) == 0 && faccessat(fd, "sub", F_OK, 0) == 0);
	CHECK(faccessat(-1, P("c/sub"), F_OK, 0) == 0);
	CHECK(ERR(faccessat(-1, "sub", F_OK, 0), EBADF));
	int ffd = open(P("f"), O_RDONLY);
	CHECK(ERR(faccessat(ffd, "sub", F_OK, 0), ENOTDIR));
	close(ffd);
	CHECK(unlinkat(fd, "sub", AT_REMOVEDIR) == 0 && unlinkat(fd, "rel", 0) == 0);
	CHECK(ERR(fchdir(-1), EBADF));
	CHECK(ERR(chdir(P("f")), ENOTDIR));
	CHECK(ERR(chdir(P("nosuch")), ENOENT));
	/* the working directory removed from under us */
	CHECK(rmdir(P("c")) == 0);
	CHECK(ERR(syscall(SYS_getcwd, cwd, sizeof(cwd)), ENOENT));
	CHECK(ERR(open("new", O_RDWR | O_CREAT, 0600), ENOENT));
	close(fd);
	CHECK(chdir(here) == 0);
	CHECK(chdir("/") == 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"));
	CHECK(chdir("..") == 0 && getcwd(cwd, sizeof(cwd)) &&
	      !strcmp(cwd, "/")); /* / is its own parent */
	CHECK(chdir(here) == 0);
}

static void test_walk_rules(void)
{
	struct stat st;
	char p[PATH_MAX + 16];
	CHECK(mkdir(P("w"), 0755) == 0 && mkdir(P("w/a"), 0755) == 0 && touch(P("w/a/f")) == 0);
	CHECK(stat(P("w/./a/../a/f"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK(stat(P("w//a///f"), &st) == 0);
	CHECK(stat("/../../..", &st) == 0 && S_ISDIR(st.st_mode)); /* .. of / is / */
	CHECK(ERR(stat(P("w/a/f/"), &st), ENOTDIR));
	CHECK(ERR(stat(P("w/a/f/."), &st), ENOTDIR));
	CHECK(ERR(stat(P("w/a/f/x"), &st), ENOTDIR));
	CHECK(ERR(stat(P("w/nosuch/x"), &st), ENOENT));
	/* symlinks: relative, absolute, to a directory with a trailing slash, a loop */
	CHECK(symlink("a", P("w/la")) == 0 && stat(P("w/la/f"), &st) == 0);
	CHECK(symlink(P("w/a"), P("w/abs")) == 0 && stat(P("w/abs/f"), &st) == 0);
	CHECK(lstat(P("w/la/"), &st) == 0 && S_ISDIR(st.st_mode)); /* the slash follows it */
	CHECK(symlink("loop2", P("w/loop1")) == 0 && symlink("loop1", P("w/loop2")) == 0);
	CHECK(ERR(stat(P("w/loop1"), &st), ELOOP));
	CHECK(lstat(P("w/loop1"), &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(ERR(open(P("w/loop1/x"), O_RDONLY), ELOOP));
	CHECK(symlink("nowhere", P("w/dangle")) == 0 && ERR(stat(P("w/dangle"), &st), ENOENT));
	/* a chain of 40 links resolves, 41 is ELOOP */
	char name[32], target[32];
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "w/c%d", i);
		snprintf(target, sizeof(target), i == 1 ? "a/f" : "c%d", i - 1);
		CHECK(symlink(target, P(name)) == 0);
	}
	CHECK(stat(P("w/c40"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK(ERR(stat(P("w/c41"), &st), ELOOP));
	/* names of 256 bytes, paths of PATH_MAX bytes */
	memset(p, 'n', 256);
	p[256] = 0;
	CHECK(ERR(stat(P(p), &st), ENAMETOOLONG));
	CHECK(ERR(mkdir(P(p), 0755), ENAMETOOLONG));
	p[255] = 0;
	CHECK(ERR(stat(P(p), &st), ENOENT)); /* 255 is a legal length */
	CHECK(touch(P(p)) == 0 && unlink(P(p)) == 0);
	memset(p, '/', PATH_MAX);
	p[PATH_MAX] = 0;
	CHECK(ERR(stat(p, &st), ENAMETOOLONG));
	p[PATH_MAX - 1] = 0; /* 4095 slashes and the NUL: "/" */
	CHECK(stat(p, &st) == 0);
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "w/c%d", i);
		CHECK(unlink(P(name)) == 0);
	}
	const char *links[] = {"w/la", "w/abs", "w/loop1", "w/loop2", "w/dangle", "w/a/f"};
	for (unsigned i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		CHECK(unlink(P(links[i])) == 0);
	CHECK(rmdir(P("w/a")) == 0 && rmdir(P("w")) == 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/dirs.%d", getpid());
	CHECK(mkdir(dir, 0755) == 0);
	struct stat st;
	CHECK(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777); /* sticky, as Linux's */
	test_mkdir_rmdir_unlink();
	test_links();
	test_rename();
	test_getdents();
	test_cwd();
	test_walk_rules();
	CHECK(unlink(P("s")) == 0 && unlink(P("f")) == 0);
	CHECK(rmdir(dir) == 0);
	DONE("dirs");
}
