/* A memory error in a hugetlb page, as a program sees it (docs/memory_failure.md, "hugetlbfs"):
 *   hugetlb_mf   MADV_HWPOISON and corrupt-pfn on one 4 KiB page of a private, a shared (with
 *                a forked child) and a hugetlbfs file's huge page: SIGBUS BUS_MCEERR_AR at that
 *                page with si_addr_lsb 12 on touch, the other 511 pages byte for byte intact
 *                at the same frames, HugePages_Total -1, HugePages_Lost +1, HardwareCorrupted
 *                +4 kB; the file keeps the loss for a new mapping and read() of that page is
 *                EIO; a frame of a free huge page in the pool: HugePages_Total and _Free -1 and
 *                511 frames back in MemFree; and vm.memory_failure_hugetlb_whole=1, Linux
 *                6.1's behaviour: the whole 2 MiB lost, SIGBUS at the address touched with
 *                si_addr_lsb 21, BUS_MCEERR_AO at the start of the huge page for early kill, a
 *                shared file's page dropped (a new mapping reads zeroes).
 *   hugetlb_mf pfn-late[-spin][-whole] | madv-late[-spin][-whole]
 *                the loss through corrupt-pfn written while a forked victim reads its page
 *                (sleeping between reads, or spinning without a syscall), or MADV_HWPOISON from
 *                a second thread while the main thread reads it; -whole with the switch set
 *   hugetlb_mf late[-spin] | srar
 *                a victim for QEMU's monitor: prints the monitor command that poisons page
 *                VICTIM_PAGE of its huge page (SRAO memory scrub, or SRAR data load), then
 *                reads that page until SIGBUS; checks the signal, the 511 pages and meminfo.
 * Prints "FAIL file:line: cond" per failed check and "hugetlb_mf: passed" or "hugetlb_mf:
 * FAILED" (tests/qemu/hugetlb_tests.py). On Linux the default checks expect MCRK's 4 KiB loss
 * (on_mcrk() gates them); the -whole ones hold on both. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "huge_check.h"
#include "utest.h"

#define BUS_AR 4
#define BUS_AO 5
#define VICTIM_PAGE 100
#define WAIT_S 60
#define POOL "8"
#define WHOLE "/proc/sys/vm/memory_failure_hugetlb_whole"
#define MNT "/mnt/hugetlb-mf"
#define SRAO_STATUS "0xbd000000000000c0 0x5" /* memory scrub, MCG_STATUS RIPV|MCIP */
#define SRAR_STATUS "0xbd80000000100134 0x6" /* data load, MCG_STATUS EIPV|MCIP */

static char *volatile victim_va;
static int whole; /* the Linux switch is set for this run */

struct counts {
	long total, free, lost, hc, memfree;
};

static struct counts counts(void)
{
	return (struct counts){meminfo_kb("HugePages_Total:"), meminfo_kb("HugePages_Free:"),
			       meminfo_kb("HugePages_Lost:"), meminfo_kb("HardwareCorrupted:"),
			       meminfo_kb("MemFree:")};
}

static char *huge_map(int flags, int fd)
{
	char *r = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE, flags | (fd < 0 ? MAP_ANONYMOUS : 0) |
			   (fd < 0 ? MAP_HUGETLB : 0), fd, 0);
	return r == MAP_FAILED ? NULL : r;
}

static int by_madvise(char *page) { return madvise(page, PG, MADV_HWPOISON); }

static int by_corrupt_pfn(char *page)
{
	char text[32];
	snprintf(text, sizeof(text), "%#llx\n", (unsigned long long)pfn_of(page));
	return write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", text) > 0 ? 0 : -1;
}

/* After the loss of VICTIM_PAGE of r (frames from pfn): the signal at that 4 KiB page only,
 * and every other page where it was with its bytes. */
static void check_demoted(char *r, uint64_t pfn)
{
	char *victim = r + VICTIM_PAGE * PG;
	CHECK(touch(victim + 123) == BUS_AR);
	CHECK(got_addr == victim && got_lsb == 12);
	CHECK(bad_pages(r, VICTIM_PAGE) == 0);
	unsigned moved = 0;
	for (unsigned i = 0; i < NPG; i++)
		moved += i != VICTIM_PAGE && pfn_of(r + i * PG) != pfn + i;
	CHECK(moved == 0);
}

/* A private or shared anonymous huge page loses one 4 KiB page through how. */
static void t_anon(const char *what, int flags, int (*how)(char *page))
{
	char *r = huge_map(flags, -1);
	int pipefd[2];
	CHECK(r && pipe(pipefd) == 0);
	if (!r)
		return;
	fill(r);
	uint64_t pfn = pfn_of(r);
	CHECK(pfn && pfn % NPG == 0 && contiguous(r));
	pid_t pid = (flags & MAP_SHARED) ? fork() : -1;
	if (pid == 0) { /* the other mapper: told nothing until it touches, then 4 KiB only */
		char c;
		read(pipefd[0], &c, 1);
		check_demoted(r, pfn);
		_exit(utest_failures);
	}
	struct counts c0 = counts();
	CHECK(how(r + VICTIM_PAGE * PG) == 0);
	struct counts c1 = counts();
	CHECK(c1.total == c0.total - 1 && c1.lost == c0.lost + 1 && c1.hc == c0.hc + 4);
	CHECK(c1.free == c0.free);
	check_demoted(r, pfn);
	if (pid > 0) {
		int st = -1;
		write(pipefd[1], "x", 1);
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	printf("hugetlb_mf: %s: SIGBUS code %d at %p lsb %d; 511 pages intact; "
	       "HugePages_Total %ld -> %ld, HugePages_Lost %ld -> %ld\n",
	       what, got_code, got_addr, got_lsb, c0.total, c1.total, c0.lost, c1.lost);
	close(pipefd[0]);
	close(pipefd[1]);
	munmap(r, HPAGE);
}

/* A hugetlbfs file's page loses 4 KiB: a new mapping of the file sees the same. */
static void t_file(void)
{
	char buf[PG];
	int fd = open(MNT "/f", O_CREAT | O_RDWR, 0600);
	char *r = fd >= 0 ? huge_map(MAP_SHARED, fd) : NULL;
	CHECK(r != NULL);
	if (!r)
		return;
	fill(r);
	uint64_t pfn = pfn_of(r);
	struct counts c0 = counts();
	CHECK(by_madvise(r + VICTIM_PAGE * PG) == 0);
	CHECK(counts().total == c0.total - 1 && counts().lost == c0.lost + 1);
	munmap(r, HPAGE);
	r = huge_map(MAP_SHARED, fd);
	CHECK(r != NULL);
	if (r) {
		check_demoted(r, pfn);
		munmap(r, HPAGE);
	}
	CHECK(pread(fd, buf, PG, VICTIM_PAGE * PG) == -1 && errno == EIO);
	CHECK(pread(fd, buf, PG, 3 * PG) == (ssize_t)PG);
	CHECK(((uint64_t *)buf)[5] == pattern(3, 5));
	close(fd);
	CHECK(unlink(MNT "/f") == 0);
	printf("hugetlb_mf: hugetlbfs file: 4 KiB lost, the file keeps the other 511 pages\n");
}

/* A frame of a free huge page in the pool: the page leaves the pool, 511 frames the buddy
 * allocator gets. */
static void t_free(void)
{
	char *r = huge_map(MAP_PRIVATE, -1);
	CHECK(r != NULL);
	if (!r)
		return;
	r[0] = 1;
	uint64_t pfn = pfn_of(r) + 77;
	munmap(r, HPAGE);
	struct counts c0 = counts();
	char text[32];
	snprintf(text, sizeof(text), "%#llx\n", (unsigned long long)pfn);
	CHECK(write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", text) > 0);
	struct counts c1 = counts();
	CHECK(c1.total == c0.total - 1 && c1.free == c0.free - 1 && c1.lost == c0.lost + 1);
	CHECK(c1.hc == c0.hc + 4);
	CHECK(c1.memfree - c0.memfree >= 1900); /* 2044 kB back, give or take other use */
	printf("hugetlb_mf: free huge page: pfn %#llx isolated, MemFree +%ld kB\n",
	       (unsigned long long)pfn, c1.memfree - c0.memfree);
}

/* vm.memory_failure_hugetlb_whole=1: Linux's whole-page loss. */
static void t_whole(void)
{
	CHECK(write_file("/proc/sys/vm/nr_hugepages", POOL "\n") > 0); /* refill what was lost */
	CHECK(write_file(WHOLE, "1\n") == 2);
	char *r = huge_map(MAP_PRIVATE, -1);
	CHECK(r != NULL);
	if (r) {
		fill(r);
		struct counts c0 = counts();
		CHECK(by_madvise(r + VICTIM_PAGE * PG) == 0);
		struct counts c1 = counts();
		CHECK(c1.total == c0.total - 1 && c1.lost == c0.lost + 1 && c1.hc == c0.hc + 4);
		CHECK(touch(r + 5 * PG + 123) == BUS_AR && got_lsb == 21);
		CHECK(got_addr == r + 5 * PG + 123); /* Linux: the address touched */
		CHECK(touch(r + VICTIM_PAGE * PG) == BUS_AR && got_lsb == 21);
		munmap(r, HPAGE);
	}
	/* early kill: BUS_MCEERR_AO at the start of the huge page */
	r = huge_map(MAP_PRIVATE, -1);
	CHECK(r != NULL);
	if (r) {
		fill(r);
		prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
		got_count = 0;
		if (sigsetjmp(jb, 1) == 0)
			by_madvise(r + VICTIM_PAGE * PG);
		prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
		CHECK(got_count == 1 && got_code == BUS_AO && got_addr == r && got_lsb == 21);
		munmap(r, HPAGE);
	}
	/* a shared file's page is dropped: a new mapping reads zeroes */
	int fd = open(MNT "/w", O_CREAT | O_RDWR, 0600);
	r = fd >= 0 ? huge_map(MAP_SHARED, fd) : NULL;
	CHECK(r != NULL);
	if (r) {
		fill(r);
		CHECK(by_madvise(r + VICTIM_PAGE * PG) == 0);
		CHECK(touch(r) == BUS_AR && got_lsb == 21);
		munmap(r, HPAGE);
		r = huge_map(MAP_SHARED, fd);
		CHECK(r && touch(r + VICTIM_PAGE * PG) == 0);
		CHECK(r && r[VICTIM_PAGE * PG] == 0 && r[0] == 0);
		if (r)
			munmap(r, HPAGE);
	}
	close(fd);
	unlink(MNT "/w");
	CHECK(write_file(WHOLE, "0\n") == 2);
	printf("hugetlb_mf: whole (Linux 6.1): 2 MiB lost, si_addr_lsb 21\n");
}

/* ---- victims ---- */

static void victim_check(char *r, volatile char *victim, struct counts c0)
{
	printf("hugetlb_mf: SIGBUS si_code=%d si_addr=%p lsb=%d\n", got_code, got_addr, got_lsb);
	struct counts c1 = counts();
	CHECK(got_code == BUS_AR);
	CHECK(c1.total == c0.total - 1 && c1.lost == c0.lost + 1 && c1.hc == c0.hc + 4);
	if (whole) {
		CHECK(got_lsb == 21 && (char *)got_addr >= (char *)victim &&
		      (char *)got_addr < (char *)victim + PG);
		CHECK(touch(r + 7 * PG) == BUS_AR && got_lsb == 21);
	} else {
		CHECK(got_addr == (void *)victim && got_lsb == 12);
		CHECK(bad_pages(r, VICTIM_PAGE) == 0);
	}
}

/* Late kill: a hugetlb page read (spinning or sleeping) until the SIGBUS. Tells where to
 * inject on stdout (the QEMU monitor command), or its physical address in *tell. */
static int victim(const char *mode, volatile uint64_t *tell)
{
	int spin = strstr(mode, "-spin") || !strcmp(mode, "srar");
	int srar = !strcmp(mode, "srar");
	struct timespec tick = {0, 5 * 1000 * 1000};
	catch_sigbus();
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
	char *r = huge_map(MAP_PRIVATE, -1);
	CHECK(r != NULL);
	if (!r)
		DONE("hugetlb_mf");
	fill(r);
	CHECK(contiguous(r));
	struct counts c0 = counts();
	volatile char *victim = r + VICTIM_PAGE * PG;
	uint64_t pa = pfn_of((char *)victim) * PG;
	victim_va = (char *)victim;
	if (tell)
		*tell = pa;
	else
		printf("hugetlb_mf: poison it from the QEMU monitor with: mce -b 0 1 %s %#llx 0x86\n",
		       srar ? SRAR_STATUS : SRAO_STATUS, (unsigned long long)pa);
	fflush(stdout);
	uint64_t end = utest_tsc_deadline(WAIT_S);
	if (sigsetjmp(jb, 1) == 0) {
		for (unsigned long n = 0; utest_rdtsc() < end; n++) {
			if (victim[n % PG] != (char)(pattern(VICTIM_PAGE, (n % PG) / 8) >> (8 * (n % 8)))) {
				printf("hugetlb_mf: the page changed under us\n");
				DONE("hugetlb_mf");
			}
			if (!spin)
				nanosleep(&tick, NULL);
		}
		printf("hugetlb_mf: no SIGBUS in %d s\n", WAIT_S);
		CHECK(got_count == 1);
		DONE("hugetlb_mf");
	}
	victim_check(r, victim, c0);
	DONE("hugetlb_mf");
}

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
	DONE("hugetlb_mf");
}

static void *poisoner(void *arg)
{
	struct timespec settle = {0, 50 * 1000 * 1000};
	(void)arg;
	for (int i = 0; i < 200 && !victim_va; i++)
		nanosleep(&settle, NULL);
	nanosleep(&settle, NULL);
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
	CHECK(write_file("/proc/sys/vm/nr_hugepages", POOL "\n") > 0);
	whole = argc > 1 && strstr(argv[1], "-whole");
	CHECK(write_file(WHOLE, whole ? "1\n" : "0\n") == 2);
	if (argc > 1 && !strncmp(argv[1], "madv-", 5))
		return inject_madvise(argv[1] + 5);
	if (argc > 1 && !strncmp(argv[1], "pfn-", 4))
		return inject_pfn(argv[1] + 4);
	if (argc > 1)
		return victim(argv[1], NULL);
	catch_sigbus();
	mkdir("/mnt", 0755);
	mkdir(MNT, 0755);
	CHECK(mount("none", MNT, "hugetlbfs", 0, "pagesize=2M") == 0);
	if (on_mcrk()) { /* Linux 6.1 loses the whole 2 MiB here */
		t_anon("private, MADV_HWPOISON", MAP_PRIVATE, by_madvise);
		t_anon("private, corrupt-pfn", MAP_PRIVATE, by_corrupt_pfn);
		t_anon("shared with a child, MADV_HWPOISON", MAP_SHARED, by_madvise);
		t_file();
	}
	t_free();
	t_whole();
	CHECK(umount(MNT) == 0);
	DONE("hugetlb_mf");
}
