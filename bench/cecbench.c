/* cecbench: what the corrected-error collector costs, seen from user space with the TSC
 * (figures, not pass/fail; MCRK's files, see docs/mca.md "The corrected-error collector"):
 *   - one corrected error counted through /sys/kernel/debug/ras/cec/pfn (a write: syscall,
 *     parse, the collector's lock and count), next to a write to action_threshold (the same
 *     path without the count): the difference is the collector's share;
 *   - one corrected memory error through the software injector (/sys/kernel/debug/mce-inject:
 *     bank registers written on the CPU, the poller, the log ring, the drain, the collector),
 *     kept off the console by the collector, next to the same error without an address, which
 *     the collector ignores and the log prints;
 *   - the soft offline an error at the threshold triggers, for a page mapped by 1 and by 64
 *     tasks (the caller and 63 forked children sleeping on the COW-shared page): the write that
 *     reaches the threshold, and the kernel's own time for the soft offline, read from its
 *     "RAS: Soft-offlining pfn" line in /proc/kmsg.
 * Each figure is the median of its runs. bench/run_guest.sh --smp 2 cecbench boots it. */
#define _GNU_SOURCE
#include "bench.h"
#include <errno.h>
#include <fcntl.h>

#define RUNS 31
#define CEC "/sys/kernel/debug/ras/cec/"
#define INJ "/sys/kernel/debug/mce-inject/"
#define NOT_RAM_PFN 0x7f000000ull
#define STORM "/sys/devices/system/machinecheck/machinecheck0/storm_threshold"

/* Write s to the file open at fd; the TSC cycles it took (or 0 on error). */
static uint64_t timed_write(int fd, const char *s)
{
	uint64_t t0 = rdtsc();
	ssize_t r = write(fd, s, strlen(s));
	uint64_t t = rdtsc() - t0;
	if (r < 0)
		printf("cecbench: write %s: %s\n", s, strerror(errno));
	return r < 0 ? 0 : t;
}

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int r = fd < 0 || write(fd, s, strlen(s)) < 0 ? -1 : 0;
	if (fd >= 0)
		close(fd);
	if (r)
		printf("cecbench: cannot write %s to %s\n", s, path);
	return r;
}

/* Median cycles of RUNS writes of text(i) to path, the file kept open. */
static uint64_t bench_writes(const char *path, void (*text)(int i, char *buf, size_t n))
{
	uint64_t v[RUNS];
	char buf[64];
	int fd = open(path, O_WRONLY);
	for (int i = 0; i < RUNS; i++) {
		text(i, buf, sizeof buf);
		v[i] = timed_write(fd, buf);
	}
	close(fd);
	return median(v, RUNS);
}

static void text_pfn(int i, char *buf, size_t n)
{
	snprintf(buf, n, "%#llx\n", NOT_RAM_PFN + (unsigned long long)(i % 7));
}

static void text_threshold(int i, char *buf, size_t n)
{
	(void)i;
	snprintf(buf, n, "1023\n");
}

static void text_bank(int i, char *buf, size_t n)
{
	(void)i;
	snprintf(buf, n, "1\n");
}

/* One corrected memory error per write of "bank", status as given, at a frame that is not
 * RAM (counted, never acted on). Storm control is held off meanwhile: in a storm most errors
 * never reach the log, and the two kinds would not be compared on the same path. */
static uint64_t bench_inject(const char *status)
{
	char addr[32];
	uint64_t t = 0;
	snprintf(addr, sizeof addr, "%#llx\n", NOT_RAM_PFN * PG);
	if (!put(STORM, "1000000\n") && !put(INJ "status", status) && !put(INJ "addr", addr) &&
	    !put(INJ "misc", "0x86\n") && !put(INJ "mcgstatus", "0\n") && !put(INJ "cpu", "0\n") &&
	    !put(INJ "flags", "sw\n"))
		t = bench_writes(INJ "bank", text_bank);
	put(STORM, "15\n");
	return t;
}

/* The kernel's "took N ns" from the last "RAS: Soft-offlining pfn: PFN" line, or 0. */
static uint64_t kernel_ns(uint64_t pfn)
{
	static char buf[256 * 1024];
	char key[64], *hit = NULL;
	int fd = open("/proc/kmsg", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	snprintf(key, sizeof key, "RAS: Soft-offlining pfn: %#llx ", (unsigned long long)pfn);
	for (char *p = strstr(buf, key); p; p = strstr(p + 1, key))
		hit = p;
	char *took = hit ? strstr(hit, "took ") : NULL;
	return took ? strtoull(took + 5, NULL, 10) : 0;
}

static uint64_t pfn_of(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	pread(fd, &e, 8, (off_t)((uintptr_t)va / PG * 8));
	close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

/* With action_threshold 1, one write of a page's pfn soft-offlines it in that write: its
 * cycles (median), and the kernel's own ns for the soft offline in *kns (median). */
static uint64_t bench_offline(int mappers, uint64_t *kns)
{
	static pid_t pids[64];
	uint64_t v[RUNS], k[RUNS];
	int runs = mappers > 1 ? RUNS / 3 : RUNS;
	put(CEC "action_threshold", "1\n");
	int fd = open(CEC "pfn", O_WRONLY);
	for (int r = 0; r < runs; r++) {
		char *p = dirty_page(), buf[32];
		for (int i = 1; i < mappers; i++)
			pids[i - 1] = sleeper(); /* maps p, COW-shared */
		uint64_t pfn = pfn_of(p);
		snprintf(buf, sizeof buf, "%#llx\n", (unsigned long long)pfn);
		v[r] = timed_write(fd, buf);
		k[r] = kernel_ns(pfn);
		if (pfn_of(p) == pfn || p[100] != 0x5a)
			printf("cecbench: the page did not move intact (pfn %#llx)\n",
			       (unsigned long long)pfn);
		reap(pids, mappers - 1);
		munmap(p, PG);
	}
	close(fd);
	put(CEC "action_threshold", "1023\n");
	*kns = median(k, runs);
	return median(v, runs);
}

int main(void)
{
	calibrate();
	printf("cecbench: TSC %.0f MHz; medians of %d runs\n", tsc_per_us, RUNS);
	uint64_t pfn = bench_writes(CEC "pfn", text_pfn);
	uint64_t thr = bench_writes(CEC "action_threshold", text_threshold);
	printf("cecbench: write to ras/cec/pfn (one corrected error counted): %.1f us; "
	       "write to action_threshold (same path, no count): %.1f us\n", us(pfn), us(thr));
	uint64_t kept = bench_inject("0x9c0000000000009f\n");
	uint64_t logged = bench_inject("0x980000000000009f\n"); /* no ADDRV */
	printf("cecbench: corrected memory error through the software injector, kept by the "
	       "collector: %.1f us; without an address (ignored by it, logged): %.1f us\n",
	       us(kept), us(logged));
	for (int m = 1; m <= 64; m *= 64) {
		uint64_t kns, w = bench_offline(m, &kns);
		printf("cecbench: soft offline at the threshold, page mapped by %d task(s): write "
		       "%.1f us, the kernel's soft offline %.1f us\n", m, us(w), (double)kns / 1000);
	}
	return 0;
}
