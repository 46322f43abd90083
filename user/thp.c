/* Transparent huge pages as a Linux program sees them, and what a memory error in one costs
 * (the same source runs on Linux as root, with enabled=madvise):
 *   thp          the control files (Linux's format, bad words refused); a fault in a
 *                MADV_HUGEPAGE region maps 2 MiB (AnonHugePages +2048 kB, 512 contiguous
 *                frames in pagemap, 2 MiB-aligned), none with MADV_NOHUGEPAGE or "never";
 *                fork shares it copy-on-write and a write copies 4 KiB; partial munmap,
 *                mprotect, MADV_DONTNEED and mremap split it with every other byte kept;
 *                MADV_HWPOISON and corrupt-pfn on one 4 KiB page of a huge page: AnonHugePages
 *                -2048 kB, HardwareCorrupted +4 kB, SIGBUS BUS_MCEERR_AR at that page with
 *                si_addr_lsb 12 on touch, the other 511 pages byte for byte intact at the same
 *                frames; and a frame of a free 2 MiB block poisoned: only 4 KiB leaves.
 *   thp madv-late[-spin]
 *                the same loss through MADV_HWPOISON from a second thread while the main
 *                thread reads the page
 *   thp pfn-late[-spin]
 *                the same loss through corrupt-pfn, written while a forked victim reads its
 *                page (sleeping between reads, or spinning without a syscall); the victim
 *                tells its address through a shared page
 *   thp late[-spin] | thp srar
 *                a victim for QEMU's monitor: fills a huge page, prints the monitor command
 *                that poisons page VICTIM_PAGE of it (SRAO memory scrub, or SRAR data load),
 *                then reads that page (sleeping between reads, or spinning without a
 *                syscall) until SIGBUS; checks the signal and the other 511 pages as above.
 * Prints "FAIL file:line: cond" per failed check and "thp: passed" or "thp: FAILED", exits
 * with the number of failures (tests/qemu/thp_tests.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "huge_check.h"
#include "sigbus_catch.h"
#include "utest.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#define BUS_AR 4
#define VICTIM_PAGE 100
#define WAIT_S 60
#define THP "/sys/kernel/mm/transparent_hugepage/"
#define SRAO_STATUS "0xbd000000000000c0 0x5" /* memory scrub, MCG_STATUS RIPV|MCIP */
#define SRAR_STATUS "0xbd80000000100134 0x6" /* data load, MCG_STATUS EIPV|MCIP */

static char *volatile victim_va; /* the page the victim reads, once it reads it */

/* A 2 MiB-aligned private anonymous region of 2 MiB (from a larger mapping), advised huge. */
static char *huge_region(int advice)
{
	char *m = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *r = (char *)(((uintptr_t)m + HPAGE - 1) & ~(HPAGE - 1));
	if (r > m)
		munmap(m, r - m);
	munmap(r + HPAGE, m + 2 * HPAGE - (r + HPAGE));
	if (advice >= 0)
		CHECK(madvise(r, HPAGE, advice) == 0);
	return r;
}

/* ---- the checks ---- */

static void t_control_files(void)
{
	char buf[128];
	CHECK(read_file(THP "enabled", buf, sizeof(buf)) == 0);
	CHECK(!strcmp(buf, "always [madvise] never\n"));
	CHECK(read_file(THP "defrag", buf, sizeof(buf)) == 0);
	CHECK(!strcmp(buf, "always defer defer+madvise [madvise] never\n"));
	CHECK(write_file(THP "enabled", "never\n") == 6);
	CHECK(read_file(THP "enabled", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "always madvise [never]\n"));
	CHECK(write_file(THP "enabled", "sometimes") == -EINVAL);
	CHECK(write_file(THP "enabled", "") == -EINVAL);
	CHECK(write_file(THP "defrag", "defer+madvise") == 13);
	CHECK(read_file(THP "defrag", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "always defer [defer+madvise] madvise never\n"));
	CHECK(write_file(THP "defrag", "madvise") == 7);
	CHECK(write_file(THP "enabled", "madvise") == 7);
	CHECK(madvise((void *)4097, PG, MADV_HUGEPAGE) == -1 && errno == EINVAL);
}

/* The fault in a region advised (or not) under an enabled setting: whether it went huge. */
static int goes_huge(const char *enabled, int advice)
{
	CHECK(write_file(THP "enabled", enabled) > 0);
	long before = meminfo_kb("AnonHugePages:");
	char *r = huge_region(advice);
	r[PG] = 1;
	int huge = meminfo_kb("AnonHugePages:") - before == 2048 && contiguous(r);
	munmap(r, HPAGE);
	CHECK(meminfo_kb("AnonHugePages:") == before);
	CHECK(write_file(THP "enabled", "madvise") > 0);
	return huge;
}

static void t_policy(void)
{
	CHECK(goes_huge("madvise", MADV_HUGEPAGE));
	CHECK(!goes_huge("madvise", -1));
	CHECK(goes_huge("always", -1));
	CHECK(!goes_huge("always", MADV_NOHUGEPAGE));
	CHECK(!goes_huge("never", MADV_HUGEPAGE));
}

static void t_zero_and_fill(void)
{
	char *r = huge_region(MADV_HUGEPAGE);
	long zeros = 0;
	for (unsigned long i = 0; i < HPAGE; i++)
		zeros += r[i] == 0;
	CHECK(zeros == (long)HPAGE);
	fill(r);
	CHECK(bad_pages(r, -1) == 0);
	CHECK(contiguous(r));
	munmap(r, HPAGE);
}

static void t_fork(void)
{
	long before = meminfo_kb("AnonHugePages:");
	char *r = huge_region(MADV_HUGEPAGE);
	fill(r);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = bad_pages(r, -1) != 0 || !contiguous(r);
		r[5 * PG] = 7; /* copies 4 KiB; the rest stays shared */
		bad |= r[5 * PG] != 7 || bad_pages(r, 5) != 0;
		bad |= pfn_of(r + 6 * PG) != pfn_of(r) + 6 || pfn_of(r + 5 * PG) == pfn_of(r) + 5;
		_exit(bad);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(bad_pages(r, -1) == 0 && contiguous(r));
	CHECK(meminfo_kb("AnonHugePages:") - before == 2048);
	r[9 * PG] = 9; /* the child is gone: written in place, still huge */
	CHECK(contiguous(r) && meminfo_kb("AnonHugePages:") - before == 2048);
	munmap(r, HPAGE);
}

/* A huge page cut by op at page `at`: it goes to 4 KiB pages, the others keep their bytes. */
static void t_split(const char *what, int op, unsigned at)
{
	long before = meminfo_kb("AnonHugePages:");
	char *r = huge_region(MADV_HUGEPAGE), *m;
	fill(r);
	CHECK(meminfo_kb("AnonHugePages:") - before == 2048);
	uint64_t pfn = pfn_of(r);
	switch (op) {
	case 0:
		CHECK(munmap(r + at * PG, PG) == 0);
		CHECK(pagemap(r + at * PG) == 0);
		break;
	case 1:
		CHECK(mprotect(r + at * PG, PG, PROT_READ) == 0);
		r[(at + 1) * PG] = (char)pattern(at + 1, 0);
		break;
	case 2:
		CHECK(madvise(r + at * PG, PG, MADV_DONTNEED) == 0);
		CHECK(r[at * PG] == 0 && r[at * PG + PG - 1] == 0);
		break;
	case 3: /* move it whole, then the old place is empty */
		m = mremap(r, HPAGE, 2 * HPAGE, MREMAP_MAYMOVE);
		CHECK(m != MAP_FAILED);
		if (m != MAP_FAILED) {
			CHECK(bad_pages(m, -1) == 0 && pfn_of(m + 300 * PG) == pfn + 300);
			munmap(m, 2 * HPAGE);
		}
		CHECK(meminfo_kb("AnonHugePages:") == before);
		return;
	}
	CHECK(meminfo_kb("AnonHugePages:") == before);
	CHECK(bad_pages(r, at) == 0);
	CHECK(pfn_of(r + (at + 2) * PG) == pfn + at + 2); /* the same memory, split */
	printf("thp: %s of one 4 KiB page split the huge page, 511 pages kept\n", what);
	munmap(r, HPAGE);
}

/* One 4 KiB page of a huge page poisoned by how(r, page): only that page is lost. */
static void t_poison(const char *what, int (*how)(char *page))
{
	catch_sigbus();
	char *r = huge_region(MADV_HUGEPAGE);
	fill(r);
	uint64_t pfn = pfn_of(r);
	long huge = meminfo_kb("AnonHugePages:"), hc = meminfo_kb("HardwareCorrupted:");
	char *victim = r + VICTIM_PAGE * PG;
	CHECK(how(victim) == 0);
	CHECK(meminfo_kb("AnonHugePages:") == huge - 2048);
	CHECK(meminfo_kb("HardwareCorrupted:") == hc + 4);
	CHECK(touch(victim + 123) == BUS_AR);
	CHECK(got_addr == victim && got_lsb == 12);
	CHECK(bad_pages(r, VICTIM_PAGE) == 0);
	unsigned moved = 0;
	for (unsigned i = 0; i < NPG; i++)
		moved += i != VICTIM_PAGE && pfn_of(r + i * PG) != pfn + i;
	CHECK(moved == 0);
	printf("thp: %s: SIGBUS code %d at %p lsb %d; 511 pages intact\n", what, got_code,
	       got_addr, got_lsb);
	munmap(r, HPAGE);
}

static int by_madvise(char *page) { return madvise(page, PG, MADV_HWPOISON); }

static int by_corrupt_pfn(char *page)
{
	char text[32];
	snprintf(text, sizeof(text), "%#llx\n", (unsigned long long)pfn_of(page));
	return write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", text) > 0 ? 0 : -1;
}

/* A frame of a free 2 MiB block poisoned: 4 KiB leaves the allocator, a new huge page still
 * comes and does not contain it. */
static void t_free_block(void)
{
	char *r = huge_region(MADV_HUGEPAGE), text[32];
	r[0] = 1;
	uint64_t pfn = pfn_of(r) + 77;
	munmap(r, HPAGE);
	long hc = meminfo_kb("HardwareCorrupted:"), free_kb = meminfo_kb("MemFree:");
	snprintf(text, sizeof(text), "%#llx\n", (unsigned long long)pfn);
	CHECK(write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", text) > 0);
	long lost = free_kb - meminfo_kb("MemFree:");
	CHECK(meminfo_kb("HardwareCorrupted:") == hc + 4);
	CHECK(lost >= 4 && lost < 64); /* the frame, and nothing like 2 MiB */
	r = huge_region(MADV_HUGEPAGE);
	r[0] = 1;
	uint64_t first = pfn_of(r);
	CHECK(contiguous(r) && (pfn < first || pfn >= first + NPG));
	printf("thp: free block: pfn %#llx isolated, MemFree -%ld kB\n", (unsigned long long)pfn,
	       lost);
	munmap(r, HPAGE);
}

/* ---- the QEMU monitor victim ---- */

/* The victim: late kill, a huge page read (spinning or sleeping) until the SIGBUS. Tells
 * where to inject on stdout (the QEMU monitor command), or its physical address in *tell. */
static int victim(const char *mode, volatile uint64_t *tell)
{
	int spin = strstr(mode, "-spin") || !strcmp(mode, "srar");
	int srar = !strcmp(mode, "srar");
	catch_sigbus();
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
	char *r = huge_region(MADV_HUGEPAGE);
	fill(r);
	CHECK(contiguous(r));
	long huge = meminfo_kb("AnonHugePages:"), hc = meminfo_kb("HardwareCorrupted:");
	volatile char *victim = r + VICTIM_PAGE * PG;
	uint64_t pa = pfn_of((char *)victim) * PG;
	victim_va = (char *)victim;
	struct timespec tick = {0, 5 * 1000 * 1000};
	if (tell) {
		*tell = pa;
	} else {
		printf("thp: poison it from the QEMU monitor with: mce -b 0 1 %s %#llx 0x86\n",
		       srar ? SRAR_STATUS : SRAO_STATUS, (unsigned long long)pa);
	}
	fflush(stdout);
	uint64_t end = utest_tsc_deadline(WAIT_S);
	if (sigsetjmp(jb, 1) == 0) {
		for (unsigned long n = 0; utest_rdtsc() < end; n++) {
			if (victim[n % PG] != (char)(pattern(VICTIM_PAGE, (n % PG) / 8) >> (8 * (n % 8)))) {
				printf("thp: the page changed under us\n");
				DONE("thp");
			}
			if (!spin)
				nanosleep(&tick, NULL);
		}
		printf("thp: no SIGBUS in %d s\n", WAIT_S);
		CHECK(got_count == 1);
		DONE("thp");
	}
	printf("thp: SIGBUS si_code=%d si_addr=%p lsb=%d\n", got_code, got_addr, got_lsb);
	CHECK(got_code == BUS_AR && got_addr == (void *)victim && got_lsb == 12);
	CHECK(bad_pages(r, VICTIM_PAGE) == 0);
	CHECK(meminfo_kb("AnonHugePages:") == huge - 2048);
	CHECK(meminfo_kb("HardwareCorrupted:") == hc + 4);
	DONE("thp");
}

/* corrupt-pfn at a forked victim's page while it reads it, spinning or sleeping. */
static int inject_pfn(const char *mode)
{
	volatile uint64_t *tell = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t pa = 0;
	char text[32];
	struct timespec settle = {0, 50 * 1000 * 1000};
	pid_t pid = fork();
	if (pid == 0)
		victim(mode, tell);
	for (int i = 0; i < 200 && !(pa = *tell); i++)
		nanosleep(&settle, NULL);
	CHECK(pa != 0);
	nanosleep(&settle, NULL); /* the victim is in its loop by now */
	snprintf(text, sizeof(text), "%#llx\n", (unsigned long long)(pa / PG));
	CHECK(write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", text) > 0);
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE("thp");
}

/* The second thread of madv-late: MADV_HWPOISON of the page the main thread reads. */
static void *poisoner(void *arg)
{
	struct timespec settle = {0, 50 * 1000 * 1000};
	(void)arg;
	for (int i = 0; i < 200 && !victim_va; i++)
		nanosleep(&settle, NULL);
	nanosleep(&settle, NULL); /* the victim is in its loop by now */
	CHECK(victim_va && madvise(victim_va, PG, MADV_HWPOISON) == 0);
	return NULL;
}

static int inject_madvise(const char *mode)
{
	static uint64_t no_monitor;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, poisoner, NULL) == 0);
	return victim(mode, &no_monitor);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strncmp(argv[1], "madv-", 5))
		return inject_madvise(argv[1] + 5);
	if (argc > 1 && !strncmp(argv[1], "pfn-", 4))
		return inject_pfn(argv[1] + 4);
	if (argc > 1)
		return victim(argv[1], NULL);
	t_control_files();
	t_policy();
	t_zero_and_fill();
	t_fork();
	t_split("munmap", 0, 10);
	t_split("mprotect", 1, 3);
	t_split("MADV_DONTNEED", 2, 7);
	t_split("mremap", 3, 0);
	t_poison("MADV_HWPOISON", by_madvise);
	t_poison("corrupt-pfn", by_corrupt_pfn);
	t_free_block();
	DONE("thp");
}
