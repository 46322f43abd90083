/* The file syscalls: arguments from user space to the VFS (include/vfs.h), with Linux x86-64
 * numbers. Paths are copied in here; file data moves in the VFS, which bounces it through
 * kernel buffers. */
#include "arch/context.h"
#include "kerrno.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs.h"

#define AT_FDCWD (-100)
#define IOV_MAX 1024
#define SEEK_SET 0
#define SEEK_CUR 1

static long sys_read(const struct syscall_args *a)
{
	return vfs_read((int)a->arg[0], (void *)a->arg[1], a->arg[2]);
}
SYSCALL_DEFINE(0, sys_read);

static long sys_write(const struct syscall_args *a)
{
	return vfs_write((int)a->arg[0], (const void *)a->arg[1], a->arg[2]);
}
SYSCALL_DEFINE(1, sys_write);

/* pread64: read at an offset without moving the file position. */
static long sys_pread64(const struct syscall_args *a)
{
	int fd = (int)a->arg[0];
	long old = vfs_lseek(fd, 0, SEEK_CUR);
	if (old < 0)
		return old;
	long err = vfs_lseek(fd, (int64_t)a->arg[3], SEEK_SET);
	if (err < 0)
		return err;
	long n = vfs_read(fd, (void *)a->arg[1], a->arg[2]);
	vfs_lseek(fd, old, SEEK_SET);
	return n;
}
SYSCALL_DEFINE(17, sys_pread64);

static long sys_close(const struct syscall_args *a) { return vfs_close((int)a->arg[0]); }
SYSCALL_DEFINE(3, sys_close);

static long sys_lseek(const struct syscall_args *a)
{
	return vfs_lseek((int)a->arg[0], (int64_t)a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(8, sys_lseek);

static long sys_getdents64(const struct syscall_args *a)
{
	return vfs_getdents64((int)a->arg[0], (void *)a->arg[1], a->arg[2]);
}
SYSCALL_DEFINE(217, sys_getdents64);

static long sys_dup(const struct syscall_args *a)
{
	return vfs_fcntl((int)a->arg[0], 0 /* F_DUPFD */, 0);
}
SYSCALL_DEFINE(32, sys_dup);

static long sys_dup2(const struct syscall_args *a)
{
	return vfs_dup2((int)a->arg[0], (int)a->arg[1]);
}
SYSCALL_DEFINE(33, sys_dup2);

static long sys_fcntl(const struct syscall_args *a)
{
	return vfs_fcntl((int)a->arg[0], (int)a->arg[1], a->arg[2]);
}
SYSCALL_DEFINE(72, sys_fcntl);

static long open_at(int dirfd, const char *upath, int flags)
{
	char path[256];
	long n = arch_strncpy_from_user(path, upath, sizeof(path));
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT; /* "" names nothing, as on Linux */
	if (path[0] != '/' && dirfd != AT_FDCWD)
		return -EBADF; /* only absolute paths or the (root) working directory */
	if (path[0] != '/') {
		memmove(path + 1, path, MIN((size_t)n + 1, sizeof(path) - 1));
		path[0] = '/';
		path[sizeof(path) - 1] = 0;
	}
	return vfs_open(path, flags);
}

static long sys_open(const struct syscall_args *a)
{
	return open_at(AT_FDCWD, (const char *)a->arg[0], (int)a->arg[1]);
}
SYSCALL_DEFINE(2, sys_open);

static long sys_openat(const struct syscall_args *a)
{
	return open_at((int)a->arg[0], (const char *)a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(257, sys_openat);

/* readv/writev: one vfs_read/vfs_write per iovec entry, stopping at a short transfer; an
 * error after some bytes moved returns the bytes (as Linux does). musl's stdio uses both. */
static long rw_vec(const struct syscall_args *a, bool write)
{
	struct {
		uint64_t base, len;
	} iov;
	int fd = (int)a->arg[0];
	uint64_t cnt = a->arg[2];
	long total = 0;
	if ((int64_t)cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < cnt; i++) {
		if (arch_copy_from_user(&iov, (const char *)a->arg[1] + i * sizeof(iov), sizeof(iov)))
			return total ? total : -EFAULT;
		long n = !iov.len ? 0
			 : write  ? vfs_write(fd, (const void *)iov.base, iov.len)
				  : vfs_read(fd, (void *)iov.base, iov.len);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < iov.len)
			break;
	}
	return total;
}

static long sys_readv(const struct syscall_args *a) { return rw_vec(a, false); }
SYSCALL_DEFINE(19, sys_readv);
static long sys_writev(const struct syscall_args *a) { return rw_vec(a, true); }
SYSCALL_DEFINE(20, sys_writev);

static long sys_ioctl(const struct syscall_args *a)
{
	(void)a;
	return -ENOTTY; /* the console is not a terminal MCRK emulates (TIOCGWINSZ included) */
}
SYSCALL_DEFINE(16, sys_ioctl);
