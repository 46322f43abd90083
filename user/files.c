/* Regular files on tmpfs as Linux 6.1 gives them: open's flags (O_CREAT, O_EXCL, O_TRUNC,
 * O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH, O_TMPFILE), read, write, pread64,
 * pwrite64, readv, writev, preadv, pwritev, lseek (with SEEK_DATA/SEEK_HOLE), truncate,
 * ftruncate, fallocate (and a punched hole), fsync, fdatasync, sync, syncfs, the stat family
 * (stat, fstat, lstat, newfstatat, statx), access/faccessat/faccessat2, chmod/fchmod/fchmodat,
 * umask, each with its error codes; and a file written, deleted and closed gives every frame
 * back (MemFree). Works in a scratch directory under /tmp, on MCRK and on Linux as root. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994
#define STATX_BASIC_STATS 0x7ffu

/* struct statx (musl 1.2.3 has no statx wrapper): the fields checked here, then the rest. */
struct kstatx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad;
	uint64_t ino, size, blocks, attributes_mask;
	uint8_t rest[256 - 64];
};

static long kstatx(int dirfd, const char *p, int flags, unsigned mask, struct kstatx *sx)
{
	return syscall(SYS_statx, dirfd, p, flags, mask, sx);
}
#define MIB (1024 * 1024)

static char dir[64];
static char buf[8192];

static char *path(const char *name)
{
	static char p[2][128];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

#define ERR(call, e) (errno = 0, (call) == -1 && errno == (e))

static void test_open_flags(void)
{
	int fd = open(path("a"), O_RDWR | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK(ERR(open(path("a"), O_RDWR | O_CREAT | O_EXCL, 0640), EEXIST));
	CHECK(write(fd, "hello world", 11) == 11);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0640 &&
	      st.st_size == 11 && st.st_nlink == 1);
	close(fd);
	/* O_TRUNC empties, O_APPEND writes at the end whatever the offset */
	fd = open(path("a"), O_RDWR | O_APPEND);
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "!", 1) == 1);
	CHECK(pread(fd, buf, 32, 0) == 12 && memcmp(buf, "hello world!", 12) == 0);
	CHECK((fcntl(fd, F_GETFL) & (O_APPEND | O_ACCMODE)) == (O_APPEND | O_RDWR));
	close(fd);
	fd = open(path("a"), O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
	CHECK(ERR(read(fd, buf, 1), EBADF)); /* write-only */
	close(fd);
	fd = open(path("a"), O_RDONLY);
	CHECK(ERR(write(fd, "x", 1), EBADF));
	CHECK(ERR(ftruncate(fd, 0), EINVAL)); /* not open for writing */
	close(fd);
	/* O_DIRECTORY, O_NOFOLLOW, O_CREAT on a directory, a trailing slash */
	CHECK(ERR(open(path("a"), O_RDONLY | O_DIRECTORY), ENOTDIR));
	CHECK(symlink("a", path("link")) == 0);
	CHECK(ERR(open(path("link"), O_RDONLY | O_NOFOLLOW), ELOOP));
	fd = open(path("link"), O_RDONLY | O_NOFOLLOW | O_PATH);
	CHECK(fd >= 0 && ERR(read(fd, buf, 1), EBADF));
	CHECK(fstat(fd, &st) == 0 && S_ISLNK(st.st_mode));
	close(fd);
	CHECK(ERR(open(dir, O_RDWR | O_CREAT, 0600), EISDIR));
	CHECK(ERR(open(path("a/"), O_RDONLY), ENOTDIR));
	CHECK(ERR(open(path("new/"), O_RDWR | O_CREAT, 0600), EISDIR));
	CHECK(ERR(open(path("nosuch"), O_RDONLY), ENOENT));
	CHECK(ERR(open("", O_RDONLY), ENOENT));
	/* O_CREAT through a dangling symlink makes its target; O_EXCL does not follow it */
	CHECK(symlink("target", path("dangling")) == 0);
	CHECK(ERR(open(path("dangling"), O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST));
	fd = open(path("dangling"), O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0 && access(path("target"), F_OK) == 0);
	close(fd);
	/* O_CLOEXEC */
	fd = open(path("a"), O_RDONLY | O_CLOEXEC);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);
	/* umask applies to new files */
	mode_t old = umask(077);
	fd = open(path("masked"), O_RDWR | O_CREAT, 0666);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600);
	close(fd);
	CHECK(umask(old) == 077);
}

static void test_tmpfile(void)
{
	struct stat st;
	int fd = open(dir, O_RDWR | O_TMPFILE, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "tmp", 3) == 3);
	CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0 && S_ISREG(st.st_mode));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	/* give it a name with linkat(AT_EMPTY_PATH) */
	CHECK(linkat(fd, "", AT_FDCWD, path("named"), AT_EMPTY_PATH) == 0);
	CHECK(fstat(fd, &st) == 0 && st.st_nlink == 1);
	close(fd);
	CHECK(stat(path("named"), &st) == 0 && st.st_size == 3);
	/* O_TMPFILE|O_EXCL cannot be linked; O_TMPFILE needs write access, and no O_CREAT */
	fd = open(dir, O_RDWR | O_TMPFILE | O_EXCL, 0600);
	CHECK(fd >= 0 && ERR(linkat(fd, "", AT_FDCWD, path("named2"), AT_EMPTY_PATH), ENOENT));
	close(fd);
	CHECK(ERR(open(dir, O_RDONLY | O_TMPFILE, 0600), EINVAL));
	CHECK(ERR(open(dir, O_RDWR | O_TMPFILE | O_CREAT, 0600), EINVAL));
	CHECK(ERR(open(path("named"), O_RDWR | O_TMPFILE, 0600), ENOTDIR));
}

static void test_rw_vectors(void)
{
	int fd = open(path("v"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	char a[4] = "abcd", b[3] = "efg", x[4], y[3];
	struct iovec w[2] = {{a, 4}, {b, 3}}, r[2] = {{x, 4}, {y, 3}};
	CHECK(writev(fd, w, 2) == 7);
	CHECK(lseek(fd, 0, SEEK_CUR) == 7);
	CHECK(preadv(fd, r, 2, 0) == 7 && !memcmp(x, "abcd", 4) && !memcmp(y, "efg", 3));
	CHECK(pwritev(fd, w, 1, 100) == 4);
	CHECK(lseek(fd, 0, SEEK_CUR) == 7); /* p-calls leave the offset */
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, r, 2) == 7);
	CHECK(pread(fd, buf, 200, 0) == 104);
	for (int i = 7; i < 100; i++) /* the gap reads as zeros */
		CHECK(buf[i] == 0);
	CHECK(pwrite(fd, "Z", 1, 200) == 1 && lseek(fd, 0, SEEK_END) == 201);
	CHECK(ERR(pread(fd, buf, 1, -1), EINVAL));
	CHECK(ERR(pwrite(fd, buf, 1, -5), EINVAL));
	CHECK(ERR(lseek(fd, -1, SEEK_SET), EINVAL));
	CHECK(ERR(lseek(fd, 0, 5), EINVAL));
	CHECK(lseek(fd, 0, SEEK_DATA) == 0);
	CHECK(lseek(fd, 150, SEEK_HOLE) == 201);
	CHECK(ERR(lseek(fd, 201, SEEK_DATA), ENXIO));
	struct iovec bad = {(void *)-4096L, 10};
	CHECK(ERR(writev(fd, &bad, 1), EFAULT));
	struct iovec neg = {buf, (size_t)-1};
	CHECK(ERR(readv(fd, &neg, 1), EINVAL));
	CHECK(ERR(readv(fd, r, 1025), EINVAL));
	CHECK(readv(fd, r, 0) == 0);
	CHECK(ERR(read(fd, (void *)-4096L, 10), EFAULT));
	CHECK(ERR(read(-1, buf, 1), EBADF));
	CHECK(ERR(pread(-1, buf, 1, 0), EBADF));
	close(fd);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(ERR(read(d, buf, 1), EISDIR));
	CHECK(ERR(write(d, buf, 1), EBADF));
	CHECK(ERR(lseek(d, 0, SEEK_END), EINVAL));
	close(d);
}

static void test_truncate_fallocate(void)
{
	struct stat st;
	int fd = open(path("t"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(buf, 'x', sizeof(buf));
	CHECK(write(fd, buf, 8192) == 8192);
	CHECK(ftruncate(fd, 100) == 0 && fstat(fd, &st) == 0 && st.st_size == 100);
	CHECK(ftruncate(fd, 5000) == 0 && pread(fd, buf, 8192, 0) == 5000);
	CHECK(buf[99] == 'x' && buf[100] == 0 && buf[4999] == 0); /* regrown: zeros */
	CHECK(truncate(path("t"), 10) == 0 && stat(path("t"), &st) == 0 && st.st_size == 10);
	CHECK(ERR(truncate(path("t"), -1), EINVAL));
	CHECK(ERR(truncate(dir, 0), EISDIR));
	CHECK(ERR(truncate(path("nosuch"), 0), ENOENT));
	CHECK(ERR(ftruncate(fd, -1), EINVAL));
	CHECK(ERR(ftruncate(-1, 0), EBADF));
	/* fallocate: mode 0 reserves and grows, a punched hole reads zeros, size kept */
	CHECK(fallocate(fd, 0, 0, 3 * 4096) == 0 && fstat(fd, &st) == 0 && st.st_size == 3 * 4096);
	memset(buf, 'y', 4096);
	CHECK(pwrite(fd, buf, 4096, 4096) == 4096);
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096 + 10, 100) == 0);
	CHECK(pread(fd, buf, 4096, 4096) == 4096 && buf[9] == 'y' && buf[10] == 0 &&
	      buf[109] == 0 && buf[110] == 'y');
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * 4096);
	CHECK(pread(fd, buf, 4096, 4096) == 4096 && buf[0] == 0 && buf[4095] == 0);
	CHECK(ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP));
	CHECK(ERR(fallocate(fd, 0, -1, 10), EINVAL));
	CHECK(ERR(fallocate(fd, 0, 0, 0), EINVAL));
	CHECK(ERR(fallocate(fd, 0x80, 0, 10), EOPNOTSUPP));
	close(fd);
	fd = open(path("t"), O_RDONLY);
	CHECK(ERR(fallocate(fd, 0, 0, 10), EBADF));
	close(fd);
	fd = open(dir, O_RDONLY);
	CHECK(ERR(fsync(-1), EBADF));
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0 && syncfs(fd) == 0);
	sync();
	close(fd);
}

static void test_stat_family(void)
{
	struct stat st, lst;
	struct kstatx sx;
	struct statfs sf;
	CHECK(stat(path("link"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK(lstat(path("link"), &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_size == 1);
	CHECK(st.st_ino != lst.st_ino && st.st_dev == lst.st_dev);
	CHECK(fstatat(AT_FDCWD, path("link"), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISLNK(lst.st_mode));
	CHECK(ERR(fstatat(AT_FDCWD, path("link"), &lst, 0x8000), EINVAL));
	CHECK(ERR(stat(path("nosuch"), &st), ENOENT));
	CHECK(ERR(stat(path("a/x"), &st), ENOTDIR));
	CHECK(ERR(syscall(SYS_stat, (char *)-4096L, &st), EFAULT)); /* raw: libc copies after */
	CHECK(ERR(syscall(SYS_stat, path("a"), (struct stat *)-4096L), EFAULT));
	CHECK(ERR(fstat(-1, &st), EBADF));
	CHECK(kstatx(AT_FDCWD, path("a"), 0, STATX_BASIC_STATS, &sx) == 0 && sx.size == 0);
	CHECK((sx.mask & STATX_BASIC_STATS) == STATX_BASIC_STATS && S_ISREG(sx.mode));
	CHECK(ERR(kstatx(AT_FDCWD, path("a"), 0, 0x80000000u, &sx), EINVAL));
	CHECK(ERR(kstatx(AT_FDCWD, path("a"), AT_STATX_SYNC_TYPE, 0, &sx), EINVAL));
	int fd = open(path("a"), O_RDONLY);
	CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISREG(st.st_mode));
	CHECK(ERR(fstatat(fd, "x", &st, 0), ENOTDIR));
	CHECK(fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC && sf.f_bsize == 4096 &&
	      sf.f_namelen == 255);
	close(fd);
	CHECK(statfs("/tmp", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
	CHECK(statfs("/proc", &sf) == 0 && sf.f_type == 0x9fa0);
	CHECK(ERR(statfs(path("nosuch"), &sf), ENOENT));
}

static void test_access_chmod(void)
{
	struct stat st;
	CHECK(chmod(path("a"), 0644) == 0);
	CHECK(access(path("a"), R_OK | W_OK) == 0);
	CHECK(ERR(access(path("a"), X_OK), EACCES)); /* even root needs an execute bit */
	CHECK(access(dir, X_OK) == 0);
	CHECK(ERR(access(path("a"), 8), EINVAL));
	CHECK(ERR(access(path("nosuch"), F_OK), ENOENT));
	CHECK(syscall(SYS_faccessat, AT_FDCWD, path("a"), F_OK) == 0);
	CHECK(ERR(syscall(439, AT_FDCWD, path("a"), F_OK, 0x10000), EINVAL)); /* faccessat2 */
	CHECK(syscall(439, AT_FDCWD, path("link"), F_OK, AT_SYMLINK_NOFOLLOW) == 0);
	int fd = open(path("a"), O_RDONLY);
	CHECK(fchmod(fd, 0751) == 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0751);
	CHECK(access(path("a"), X_OK) == 0);
	close(fd);
	CHECK(fchmodat(AT_FDCWD, path("a"), 04755, 0) == 0 && stat(path("a"), &st) == 0 &&
	      (st.st_mode & 07777) == 04755);
	CHECK(ERR(chmod(path("nosuch"), 0600), ENOENT));
	CHECK(ERR(fchmod(-1, 0600), EBADF));
}

/* Frames come back when a written file is deleted and closed. */
static void test_memory_returns(void)
{
	char info[2048];
	read_meminfo(info, sizeof(info));
	long before = meminfo_value(info, "MemFree:");
	int fd = open(path("big"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; i < 4 * MIB / (int)sizeof(buf); i++)
		CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf));
	read_meminfo(info, sizeof(info));
	long during = meminfo_value(info, "MemFree:");
	if (on_mcrk()) /* a busy Linux host's MemFree moves by more than that */
		CHECK(during < before - 3 * 1024); /* 4 MiB of pages in use */
	CHECK(unlink(path("big")) == 0);
	read_meminfo(info, sizeof(info));
	if (on_mcrk()) /* still open: still there */
		CHECK(meminfo_value(info, "MemFree:") <= during + 64);
	CHECK(pread(fd, buf, 8, 4 * MIB - 8) == 8 && buf[0] == 0x5a);
	close(fd);
	read_meminfo(info, sizeof(info));
	long after = meminfo_value(info, "MemFree:");
	printf("files: MemFree %ld kB, %ld kB with 4 MiB written, %ld kB after unlink+close\n",
	       before, during, after);
	if (on_mcrk())
		CHECK(after >= before - 16); /* a slab frame or two may stay */
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/files.%d", getpid());
	CHECK(mkdir(dir, 0755) == 0);
	test_open_flags();
	test_tmpfile();
	test_rw_vectors();
	test_truncate_fallocate();
	test_stat_family();
	test_access_chmod();
	test_memory_returns();
	const char *names[] = {"a", "link", "dangling", "target", "masked", "named", "v", "t"};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(unlink(path(names[i])) == 0);
	CHECK(rmdir(dir) == 0);
	DONE("files");
}
