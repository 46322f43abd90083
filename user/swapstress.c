/* Swap under pressure (docs/swap.md): boots with little RAM (-m 64M) and a swap disk at
 * /dev/vdb made by mkswap. Checks swapon's errors, /proc/swaps and /proc/meminfo, then runs
 * about twice the RAM of checksummed pages in several processes (written, read back, written
 * again, across fork), checks that pages went to swap (pagemap bit 62) while an mlocked
 * buffer stayed in memory, and that swapoff brings everything back intact. */
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#define SWAPDEV "/dev/vdb"
#define WORKERS 4
#define WORKER_MB 28 /* 4 x 28 MiB of data plus the parent's, on 64 MiB of RAM */
#define PARENT_MB 16
#define LOCKED_PAGES 64
#define PAGE 4096

/* The value of 64-bit word w of page p of buffer `seed`, generation gen. */
static uint64_t word(uint64_t seed, uint64_t p, uint64_t w, uint64_t gen)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (p << 20) ^ (w << 2) ^ gen;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void fill(uint64_t *buf, size_t pages, uint64_t seed, uint64_t gen)
{
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			buf[p * (PAGE / 8) + w] = word(seed, p, w, gen);
}

/* Pages whose words are not what fill wrote. */
static size_t bad_pages(const uint64_t *buf, size_t pages, uint64_t seed, uint64_t gen)
{
	size_t bad = 0;
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			if (buf[p * (PAGE / 8) + w] != word(seed, p, w, gen)) {
				bad++;
				break;
			}
	return bad;
}

static uint64_t *map(size_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* A /proc/meminfo field in kB (name with its colon), or -1. */
static long meminfo(const char *name)
{
	char buf[2048];
	read_meminfo(buf, sizeof(buf));
	return meminfo_value(buf, name);
}

/* pagemap entries of [buf, buf + pages): how many are on swap, how many present. */
static void pagemap_count(const void *buf, size_t pages, size_t *swapped, size_t *present)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	*swapped = *present = 0;
	for (size_t p = 0; fd >= 0 && p < pages; p++) {
		uint64_t e = 0;
		off_t off = (off_t)(((uintptr_t)buf / PAGE + p) * 8);
		if (pread(fd, &e, 8, off) != 8)
			break;
		*present += (e >> 63) & 1;
		if ((e >> 62) & 1) {
			*swapped += 1;
			if ((e & 31) != 0 || (e & ((1ull << 55) - 1)) >> 5 == 0)
				printf("odd swap entry %#llx\n", (unsigned long long)e);
		}
	}
	if (fd >= 0)
		close(fd);
}

static void check_errors(void)
{
	CHECK(swapon("/dev/nosuchdisk", 0) == -1 && errno == ENOENT);
	CHECK(swapon("/etc/passwd", 0) == -1 && errno == EINVAL);
	CHECK(swapon(SWAPDEV, 0x80000) == -1 && errno == EINVAL);
	CHECK(swapon("/dev/vda", 0) == -1 && errno == EINVAL); /* no mkswap header there */
	CHECK(swapon((const char *)8, 0) == -1 && errno == EFAULT);
	CHECK(swapoff(SWAPDEV) == -1 && errno == EINVAL); /* not on yet */
}

/* A worker: its own buffer through three generations, and a fork in the middle whose child
 * checks the inherited pages and changes its copy. Exit status: 0 when all checks held. */
static int worker(int n)
{
	size_t pages = (size_t)WORKER_MB * 256;
	uint64_t *buf = map(pages);
	if (!buf)
		return 10;
	fill(buf, pages, (uint64_t)n, 1);
	if (bad_pages(buf, pages, (uint64_t)n, 1))
		return 11;
	pid_t pid = fork();
	if (pid == 0) {
		if (bad_pages(buf, pages / 2, (uint64_t)n, 1))
			_exit(21);
		fill(buf, pages / 4, (uint64_t)n, 7);
		_exit(bad_pages(buf, pages / 4, (uint64_t)n, 7) ? 22 : 0);
	}
	fill(buf + pages / 2 * (PAGE / 8), pages / 2, (uint64_t)n + 100, 2);
	int st = -1;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 12;
	if (bad_pages(buf, pages / 2, (uint64_t)n, 1))
		return 13; /* the child's writes must not reach the parent */
	if (bad_pages(buf + pages / 2 * (PAGE / 8), pages / 2, (uint64_t)n + 100, 2))
		return 14;
	return 0;
}

int main(void)
{
	size_t ppages = (size_t)PARENT_MB * 256, swapped, present;
	check_errors();
	CHECK(swapon(SWAPDEV, 0) == 0);
	CHECK(swapon(SWAPDEV, 0) == -1 && errno == EBUSY);
	long total = meminfo("SwapTotal:");
	CHECK(total > 64 * 1024 && meminfo("SwapFree:") == total && meminfo("SwapCached:") == 0);
	int fd = open("/proc/swaps", O_RDONLY);
	char sw[512] = {0};
	CHECK(fd >= 0 && read(fd, sw, sizeof(sw) - 1) > 0 && strstr(sw, SWAPDEV " ") &&
	      strstr(sw, "partition"));
	close(fd);

	uint64_t *locked = map(LOCKED_PAGES), *mine = map(ppages);
	CHECK(locked && mine && mlock(locked, LOCKED_PAGES * PAGE) == 0);
	fill(locked, LOCKED_PAGES, 999, 1);
	fill(mine, ppages, 1000, 1);

	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker(i + 1));
	}
	for (int i = 0; i < WORKERS; i++) {
		int st = -1;
		CHECK(pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			printf("worker %d: status %#x\n", i + 1, st);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	pagemap_count(mine, ppages, &swapped, &present);
	printf("parent: %zu of %zu pages on swap, %zu present\n", swapped, ppages, present);
	CHECK(swapped > 0 && swapped + present == ppages);
	pagemap_count(locked, LOCKED_PAGES, &swapped, &present);
	CHECK(swapped == 0 && present == LOCKED_PAGES); /* mlocked pages never leave */
	CHECK(meminfo("SwapFree:") < total);

	CHECK(swapoff(SWAPDEV) == 0);
	CHECK(meminfo("SwapTotal:") == 0 && meminfo("SwapCached:") == 0);
	pagemap_count(mine, ppages, &swapped, &present);
	CHECK(swapped == 0 && present == ppages);
	CHECK(bad_pages(mine, ppages, 1000, 1) == 0);
	CHECK(bad_pages(locked, LOCKED_PAGES, 999, 1) == 0);
	fd = open("/proc/swaps", O_RDONLY);
	memset(sw, 0, sizeof(sw));
	CHECK(fd >= 0 && read(fd, sw, sizeof(sw) - 1) > 0 && !strstr(sw, SWAPDEV));
	close(fd);
	DONE("swapstress");
}
