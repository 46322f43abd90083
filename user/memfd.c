/* memfd_create and file seals, as Linux 6.1 (mm/memfd.c, mm/shmem.c): a memfd is an unlinked
 * tmpfs file named "memfd:NAME"; with MFD_ALLOW_SEALING it takes F_ADD_SEALS (F_SEAL_SHRINK,
 * F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_SEAL), which refuse what they seal with
 * EPERM; F_SEAL_WRITE is EBUSY while a writable shared mapping exists; every other tmpfs file
 * is born sealed with F_SEAL_SEAL. Also MAP_SHARED|MAP_ANONYMOUS named "/dev/zero (deleted)"
 * in /proc/self/maps, as Linux's shmem object. Runs unchanged on Linux. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 4096

static int maps_has(const char *what)
{
	static char buf[65536];
	int n = utest_read_file("/proc/self/maps", buf, sizeof(buf));
	return n > 0 && strstr(buf, what) != NULL;
}

static void test_basics(void)
{
	char name[300], buf[8];
	CHECK(memfd_create("x", 0x100) == -1 && errno == EINVAL);
	memset(name, 'n', 249);
	name[249] = 0;
	int fd = memfd_create(name, 0);
	CHECK(fd >= 0);
	close(fd);
	name[249] = 'n';
	name[250] = 0;
	CHECK(memfd_create(name, 0) == -1 && errno == EINVAL); /* past 249 bytes */
	CHECK(memfd_create((const char *)8, 0) == -1 && errno == EFAULT);
	fd = memfd_create("basic", MFD_CLOEXEC);
	struct stat st;
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
	CHECK((st.st_mode & 0777) == 0777 && st.st_nlink == 0);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(write(fd, "hello", 5) == 5 && pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5));
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[0] == 'h');
	CHECK(maps_has("/memfd:basic (deleted)"));
	munmap(p, PG);
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL); /* no MFD_ALLOW_SEALING */
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EPERM);
	close(fd);
	int fds[2];
	CHECK(pipe(fds) == 0 && fcntl(fds[0], F_GET_SEALS) == -1 && errno == EINVAL);
	close(fds[0]);
	close(fds[1]);
	fd = open("/tmp/memfd.plain", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL); /* every tmpfs file */
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EPERM);
	close(fd);
	unlink("/tmp/memfd.plain");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED && maps_has("/dev/zero (deleted)"));
	munmap(p, PG);
}

static void test_shrink_grow(void)
{
	int fd = memfd_create("sg", MFD_ALLOW_SEALING);
	CHECK(fd >= 0 && fcntl(fd, F_GET_SEALS) == 0 && ftruncate(fd, 2 * PG) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, 0x20) == -1 && errno == EINVAL);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	CHECK(ftruncate(fd, PG) == -1 && errno == EPERM);
	CHECK(ftruncate(fd, 3 * PG) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == 0);
	CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW));
	CHECK(ftruncate(fd, 4 * PG) == -1 && errno == EPERM);
	CHECK(pwrite(fd, "x", 1, 3 * PG) == -1 && errno == EPERM); /* past the end */
	CHECK(pwrite(fd, "x", 1, PG) == 1);			     /* inside: fine */
	CHECK(fallocate(fd, 0, 0, 4 * PG) == -1 && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EPERM);
	close(fd);
}

static void test_write(void)
{
	int fd = memfd_create("w", MFD_ALLOW_SEALING);
	CHECK(fd >= 0 && ftruncate(fd, PG) == 0);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 'm';
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY);
	char *r = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(r != MAP_FAILED);
	munmap(p, PG);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0); /* a private mapping does not count */
	CHECK(write(fd, "x", 1) == -1 && errno == EPERM);
	CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	CHECK(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM);
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG) == -1 &&
	      errno == EPERM);
	r[1] = 'c'; /* a private copy: allowed */
	char b[2];
	CHECK(pread(fd, b, 2, 0) == 2 && b[0] == 'm' && b[1] == 0);
	munmap(r, PG);
	close(fd);
}

static void test_future_write(void)
{
	int fd = memfd_create("fw", MFD_ALLOW_SEALING);
	CHECK(fd >= 0 && ftruncate(fd, PG) == 0);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0); /* existing mappings go on */
	p[0] = 'o';
	CHECK(write(fd, "x", 1) == -1 && errno == EPERM);
	CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	char *q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(q != MAP_FAILED && q[0] == 'o');
	CHECK(mprotect(q, PG, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
	munmap(q, PG);
	munmap(p, PG);
	close(fd);
}

int main(void)
{
	char before[4096], after[4096];
	read_meminfo(before, sizeof(before));
	test_basics();
	test_shrink_grow();
	test_write();
	test_future_write();
	read_meminfo(after, sizeof(after));
	CHECK(meminfo_value(after, "MemFree:") + 64 >= meminfo_value(before, "MemFree:"));
	DONE("memfd");
}
