/* Every syscall that takes a pointer, given a bad one (unmapped, kernel, non-canonical),
 * returns -EFAULT and the kernel keeps running. Raw syscalls: libc must not catch them. */
#include "utest.h"
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static const long bad[] = {0x10, 0x7ffffffff000 - 0x1000 * 4096L, (long)0xffff800000000000UL,
			   (long)0xffffffff80000000UL, (long)0x8000000000000000UL};

static long sc(long n, long a, long b, long c, long d)
{
	return syscall(n, a, b, c, d);
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long p = bad[i];
		errno = 0;
		CHECK(sc(SYS_write, 1, p, 10, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_open, p, 0, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_openat, -100, p, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_clock_gettime, 0, p, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_nanosleep, p, 0, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_uname, p, 0, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_wait4, -1, p, 0, 0) == -1 && (errno == EFAULT || errno == ECHILD));
		CHECK(sc(SYS_rt_sigaction, 10, p, 0, 8) == -1 && errno == EFAULT);
		CHECK(sc(SYS_rt_sigprocmask, 0, p, 0, 8) == -1 && errno == EFAULT);
		CHECK(sc(SYS_execve, p, 0, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_writev, 1, p, 1, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_sigaltstack, p, 0, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_prctl, 15, p, 0, 0) == -1 && errno == EFAULT);
		CHECK(sc(SYS_getdents64, 0, p, 100, 0) == -1);
		int fd = (int)sc(SYS_open, (long)"/proc/meminfo", 0, 0, 0);
		CHECK(fd >= 0);
		CHECK(sc(SYS_read, fd, p, 100, 0) == -1 && errno == EFAULT);
		sc(SYS_close, fd, 0, 0, 0);
	}
	errno = 0;
	CHECK(sc(999, 0, 0, 0, 0) == -1 && errno == ENOSYS);
	DONE("efault");
}
