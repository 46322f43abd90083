/* hugetlbfs and MAP_HUGETLB as a Linux program sees them (the same source runs on Linux as
 * root with an empty pool and a hugetlbfs mount point free at /mnt/hugetlb-test):
 *   the pool's control files (/proc/sys/vm/nr_hugepages and the sysfs directory) and its
 *   /proc/meminfo lines; growing and shrinking it, surplus when it shrinks below what is in
 *   use; anonymous MAP_HUGETLB private and shared, reservations taken at mmap and consumed by
 *   faults, -ENOMEM when the pool cannot cover a mapping, SIGBUS for a MAP_NORESERVE fault
 *   with the pool empty; fork (shared pages seen by both, private ones copied on write, 2 MiB
 *   at a time); munmap; Linux's errnos for unaligned or unsupported arguments; mount -t
 *   hugetlbfs (pagesize=2M, 1G refused), files mmapped shared and private, a writable mmap
 *   extending the file, read(), write() refused, ftruncate (unaligned refused, shrinking frees
 *   the pages, a fault past the end is SIGBUS), unlink freeing the pages.
 * Prints "FAIL file:line: cond" per failed check and "hugetlb: passed" or "hugetlb: FAILED"
 * (tests/qemu/hugetlb_tests.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigbus_catch.h"
#include "utest.h"

#define HP (2ul << 20)
#define PG 4096ul
#define POOL 6
#define MNT "/mnt/hugetlb-test"
#define SYSFS "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define HUGE_FLAGS(shift) (MAP_HUGETLB | ((shift) << MAP_HUGE_SHIFT))

static long meminfo(const char *field)
{
	static char buf[4096];
	read_meminfo(buf, sizeof(buf));
	char *p = strstr(buf, field);
	return p ? strtol(p + strlen(field) + 1, NULL, 10) : -1;
}

static long read_num(const char *path)
{
	char buf[32] = {0};
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* write text to path: 0 or -errno */
static int write_str(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int r = fd < 0 ? -errno : (write(fd, text, strlen(text)) < 0 ? -errno : 0);
	if (fd >= 0)
		close(fd);
	return r;
}

/* MCRK's consistency checks agree with what the program sees (Linux has no such files). */
static int consistent(void)
{
	static char buf[8192];
	const char *files[] = {"/sys/kernel/debug/mcrk/vm_check", "/sys/kernel/debug/mcrk/frame_audit"};
	if (!on_mcrk())
		return 1;
	for (int i = 0; i < 2; i++) {
		int fd = open(files[i], O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (!strstr(buf, "result ok")) {
			printf("%s:\n%s", files[i], buf);
			return 0;
		}
	}
	return 1;
}

static void set_pool(long n)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%ld\n", n);
	CHECK(write_str("/proc/sys/vm/nr_hugepages", buf) == 0);
}

static void *hmap(size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
}

static void fill(char *p, size_t len, int seed)
{
	for (size_t i = 0; i < len; i += 512)
		p[i] = (char)(seed + i / PG);
}

static int same(const char *p, size_t len, int seed)
{
	for (size_t i = 0; i < len; i += 512)
		if (p[i] != (char)(seed + i / PG))
			return 0;
	return 1;
}

/* Whether touching p gives SIGBUS (si_code in *code). */
static int touch_bus(volatile char *p, int *code)
{
	got_count = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	*code = got_code;
	return got_count;
}

static void pool_files(void)
{
	set_pool(POOL);
	CHECK(read_num("/proc/sys/vm/nr_hugepages") == POOL);
	CHECK(read_num(SYSFS "nr_hugepages") == POOL);
	CHECK(read_num(SYSFS "free_hugepages") == POOL);
	CHECK(read_num(SYSFS "resv_hugepages") == 0);
	CHECK(read_num(SYSFS "surplus_hugepages") == 0);
	CHECK(meminfo("HugePages_Total:") == POOL);
	CHECK(meminfo("HugePages_Free:") == POOL);
	CHECK(meminfo("HugePages_Rsvd:") == 0);
	CHECK(meminfo("HugePages_Surp:") == 0);
	CHECK(meminfo("Hugepagesize:") == 2048);
	CHECK(meminfo("Hugetlb:") == POOL * 2048);
	CHECK(write_str("/proc/sys/vm/nr_hugepages", "many") == -EINVAL);
	CHECK(write_str(SYSFS "free_hugepages", "1") < 0);
	CHECK(read_num("/proc/sys/vm/nr_hugepages") == POOL);
}

static void anon_private(void)
{
	char *p = hmap(2 * HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	CHECK(((uintptr_t)p & (HP - 1)) == 0);
	CHECK(meminfo("HugePages_Rsvd:") == 2 && meminfo("HugePages_Free:") == POOL);
	fill(p, HP, 1);
	CHECK(meminfo("HugePages_Rsvd:") == 1 && meminfo("HugePages_Free:") == POOL - 1);
	CHECK(same(p, HP, 1));
	/* fork: the child's write copies the whole 2 MiB from a free run */
	pid_t pid = fork();
	if (pid == 0) {
		p[0] = 'c';
		int ok = p[0] == 'c';
		p[0] = (char)1;
		ok = ok && same(p, HP, 1);
		long free_now = meminfo("HugePages_Free:");
		if (!ok || free_now != POOL - 2)
			printf("child: data %s, HugePages_Free %ld\n", ok ? "ok" : "bad", free_now);
		_exit(ok && free_now == POOL - 2 ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(same(p, HP, 1));
	CHECK(meminfo("HugePages_Free:") == POOL - 1);
	CHECK(consistent());
	CHECK(munmap(p, 2 * HP) == 0);
	CHECK(meminfo("HugePages_Rsvd:") == 0 && meminfo("HugePages_Free:") == POOL);
}

static void anon_shared(void)
{
	char *p = hmap(HP, MAP_SHARED | MAP_ANONYMOUS | HUGE_FLAGS(21));
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	CHECK(meminfo("HugePages_Rsvd:") == 1);
	pid_t pid = fork();
	if (pid == 0) {
		fill(p, HP, 7);
		_exit(0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(same(p, HP, 7));
	CHECK(consistent());
	CHECK(meminfo("HugePages_Rsvd:") == 0 && meminfo("HugePages_Free:") == POOL - 1);
	CHECK(munmap(p, HP) == 0);
	CHECK(meminfo("HugePages_Free:") == POOL);
}

static void reservations(void)
{
	int code = 0;
	void *big = hmap((POOL + 1) * HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
	CHECK(big == MAP_FAILED && errno == ENOMEM);
	char *a = hmap(POOL * HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
	CHECK(a != MAP_FAILED && meminfo("HugePages_Rsvd:") == POOL);
	void *more = hmap(HP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB);
	CHECK(more == MAP_FAILED && errno == ENOMEM);
	char *nr = hmap(HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE);
	CHECK(nr != MAP_FAILED);
	if (nr != MAP_FAILED) {
		CHECK(touch_bus(nr, &code) == 1 && code == BUS_ADRERR); /* every run reserved */
		CHECK(munmap(nr, HP) == 0);
	}
	if (a != MAP_FAILED) {
		fill(a, POOL * HP, 3); /* every fault has its reservation */
		CHECK(same(a, POOL * HP, 3) && meminfo("HugePages_Free:") == 0);
		CHECK(meminfo("HugePages_Rsvd:") == 0);
		/* shrinking below what is in use: the pages in use become surplus */
		set_pool(2);
		CHECK(meminfo("HugePages_Total:") == POOL && meminfo("HugePages_Surp:") == POOL - 2);
		CHECK(read_num("/proc/sys/vm/nr_hugepages") == 2);
		CHECK(munmap(a, POOL * HP) == 0);
		CHECK(meminfo("HugePages_Total:") == 2 && meminfo("HugePages_Surp:") == 0);
		CHECK(meminfo("HugePages_Free:") == 2);
		set_pool(POOL);
	}
}

static void bad_input(void)
{
	char *p = hmap(HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
	CHECK(p != MAP_FAILED);
	CHECK(hmap(HP, MAP_PRIVATE | MAP_ANONYMOUS | HUGE_FLAGS(30)) == MAP_FAILED &&
	      errno == EINVAL); /* 1 GiB pages: none here */
	CHECK(hmap(HP, MAP_PRIVATE | MAP_ANONYMOUS | HUGE_FLAGS(16)) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(mmap(p + PG, HP, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED,
		   -1, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, HP, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, 0, 0) == MAP_FAILED &&
	      errno == EINVAL); /* a file not of hugetlbfs */
	char *q = hmap(PG, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB); /* rounded up to 2 MiB */
	CHECK(q != MAP_FAILED && meminfo("HugePages_Rsvd:") == 2);
	if (p == MAP_FAILED || q == MAP_FAILED)
		return;
	CHECK(munmap(p, PG) == -1 && errno == EINVAL);
	CHECK(munmap(p + PG, HP - PG) == -1 && errno == EINVAL);
	CHECK(mprotect(p, PG, PROT_READ) == -1 && errno == EINVAL);
	CHECK(mremap(p, HP, 2 * HP, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
	CHECK(madvise(p + PG, PG, MADV_DONTNEED) == -1 && errno == EINVAL);
	fill(p, HP, 9);
	CHECK(madvise(p, PG, MADV_DONTNEED) == 0 && same(p, HP, 9)); /* rounds down to nothing */
	CHECK(madvise(p, HP, MADV_DONTNEED) == 0 && p[0] == 0);
	CHECK(mprotect(p, HP, PROT_READ) == 0);
	CHECK(munmap(p, HP) == 0 && munmap(q, HP) == 0);
	CHECK(meminfo("HugePages_Rsvd:") == 0 && meminfo("HugePages_Free:") == POOL);
}

static void files(void)
{
	int code = 0;
	mkdir("/mnt", 0755);
	mkdir(MNT, 0755);
	CHECK(mount("none", MNT, "hugetlbfs", 0, "pagesize=1G") == -1 && errno == EINVAL);
	CHECK(mount("none", MNT, "hugetlbfs", 0, "pagesize=2M,size=x") == -1 && errno == EINVAL);
	CHECK(mount("none", MNT, "hugetlbfs", 0, "pagesize=2M") == 0);
	int fd = open(MNT "/f", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	char *p = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (fd < 0 || p == MAP_FAILED)
		return;
	struct stat sb;
	CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)(2 * HP)); /* the mmap extended it */
	CHECK(meminfo("HugePages_Rsvd:") == 2);
	fill(p, 2 * HP, 5);
	CHECK(munmap(p, 2 * HP) == 0 && meminfo("HugePages_Free:") == POOL - 2);
	char buf[PG];
	CHECK(pread(fd, buf, PG, HP + PG) == (ssize_t)PG && buf[0] == (char)(5 + 513));
	CHECK(write(fd, buf, 1) == -1 && errno == EINVAL);
	CHECK(mmap(NULL, HP, PROT_READ, MAP_SHARED, fd, PG) == MAP_FAILED && errno == EINVAL);
	char *priv = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(priv != MAP_FAILED && same(priv, 2 * HP, 5));
	if (priv != MAP_FAILED) {
		priv[0] = 'p';
		CHECK(munmap(priv, 2 * HP) == 0);
	}
	p = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && same(p, 2 * HP, 5)); /* the private write stayed private */
	CHECK(consistent());
	CHECK(ftruncate(fd, HP + PG) == -1 && errno == EINVAL);
	CHECK(ftruncate(fd, HP) == 0 && meminfo("HugePages_Free:") == POOL - 1);
	if (p != MAP_FAILED) {
		CHECK(same(p, HP, 5));
		CHECK(touch_bus(p + HP, &code) == 1 && code == BUS_ADRERR);
		CHECK(munmap(p, 2 * HP) == 0);
	}
	close(fd);
	CHECK(unlink(MNT "/f") == 0 && meminfo("HugePages_Free:") == POOL);
	CHECK(umount(MNT) == 0);
}

int main(void)
{
	catch_sigbus();
	pool_files();
	anon_private();
	anon_shared();
	reservations();
	bad_input();
	files();
	set_pool(0);
	CHECK(meminfo("HugePages_Total:") == 0);
	CHECK(consistent());
	DONE("hugetlb");
}
