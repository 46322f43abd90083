/* mfbench: how long memory-failure recovery takes, seen from user space with the TSC (figures,
 * not pass/fail; the same source runs on Linux as root):
 *   - madvise(MADV_HWPOISON) of a dirty page with one mapping (late kill: memory_failure only),
 *     back to back and after 300 ms of user-mode work (cold, as an SRAR finds the kernel), and
 *     memory_failure's own time for the same events, from the outcome lines it logs;
 *   - the same with early kill: from the call to the BUS_MCEERR_AO handler's first instruction;
 *   - touch of a poisoned page to the BUS_MCEERR_AR handler's first instruction;
 *   - memory_failure of a dirty tmpfs page and of a dirty shmem page (MAP_SHARED|
 *     MAP_ANONYMOUS) mapped shared by 1 and 64 tasks, beside an anonymous page mapped by as
 *     many (the cost per mapping should be the same);
 *   - memory_failure of a frame mapped by N = 1, 8, 64, 256 tasks (the caller and N-1 forked
 *     children sleeping on a COW-shared page) while M = 0, 128, 512 unrelated tasks sleep,
 *     as a table, with least-squares slopes per mapping and per unrelated task.
 * The TSC rate is calibrated against CLOCK_MONOTONIC. Each figure is the median of its runs.
 * Budgets (docs/memory_failure.md): <= 5 us per memory_failure with one mapping, <= 3 us touch to
 * SIGBUS, linear in N and flat in M. */
#define _GNU_SOURCE
#include "bench.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/prctl.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#define RUNS 31	     /* samples per single-page figure */
#define TABLE_RUNS 3 /* samples per (N, M) cell: each needs up to 767 forks */

static const int NS[] = {1, 8, 64, 256};
static const int MS[] = {0, 128, 512};
#define NN (int)(sizeof(NS) / sizeof(NS[0]))
#define NM (int)(sizeof(MS) / sizeof(MS[0]))

static sigjmp_buf jb;
static volatile uint64_t handler_tsc;
static volatile int handler_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	handler_tsc = rdtsc(); /* first thing: the time of entry */
	(void)sig, (void)uc;
	handler_code = si->si_code;
	siglongjmp(jb, 1);
}

static void set_policy(int policy)
{
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, policy, 0, 0);
}

/* madvise(MADV_HWPOISON) of a page with one mapping, late kill: memory_failure's own time.
 * With pause_ms, the CPU first spends that long in user mode, as when an SRAR interrupts a
 * program that has run for a while: any kernel path then runs slower under QEMU TCG (the
 * emulator's caches of the kernel's translated code and mappings have gone cold), the
 * recovery code no more than any other. */
#define COLD_RUNS 7 /* runs with a pause: each costs pause_ms */
static uint64_t bench_one_mapping(unsigned pause_ms)
{
	uint64_t v[RUNS];
	int runs = pause_ms ? COLD_RUNS : RUNS;
	set_policy(PR_MCE_KILL_LATE);
	for (int i = 0; i < runs; i++) {
		char *p = dirty_page();
		uint64_t end = rdtsc() + (uint64_t)(tsc_per_us * 1000.0 * pause_ms);
		while (rdtsc() < end)
			;
		uint64_t t0 = rdtsc();
		int r = madvise(p, PG, MADV_HWPOISON);
		v[i] = rdtsc() - t0;
		if (r)
			perror("madvise(MADV_HWPOISON)");
		munmap(p, PG);
	}
	return median(v, runs);
}

/* Early kill: from the madvise call to the BUS_MCEERR_AO handler. */
static uint64_t bench_early_ao(void)
{
	uint64_t v[RUNS];
	int n = 0;
	set_policy(PR_MCE_KILL_EARLY);
	for (int i = 0; i < RUNS; i++) {
		char *p = dirty_page();
		volatile uint64_t t0 = 0;
		handler_code = 0;
		if (sigsetjmp(jb, 1) == 0) {
			t0 = rdtsc();
			madvise(p, PG, MADV_HWPOISON);
		}
		if (handler_code == 5 /* BUS_MCEERR_AO */)
			v[n++] = handler_tsc - t0;
		munmap(p, PG);
	}
	set_policy(PR_MCE_KILL_LATE);
	return n ? median(v, n) : 0;
}

/* Touch of a poisoned page (late kill) to the BUS_MCEERR_AR handler. */
static uint64_t bench_touch(void)
{
	uint64_t v[RUNS];
	int n = 0;
	set_policy(PR_MCE_KILL_LATE);
	for (int i = 0; i < RUNS; i++) {
		char *p = dirty_page();
		madvise(p, PG, MADV_HWPOISON);
		volatile uint64_t t0 = 0;
		handler_code = 0;
		if (sigsetjmp(jb, 1) == 0) {
			t0 = rdtsc();
			(void)*(volatile char *)p;
		}
		if (handler_code == 4 /* BUS_MCEERR_AR */)
			v[n++] = handler_tsc - t0;
		munmap(p, PG);
	}
	return n ? median(v, n) : 0;
}

/* memory_failure of a page mapped by n tasks while m unrelated tasks sleep (median). */
static uint64_t bench_cell(int n, int m)
{
	static pid_t pids[1024];
	uint64_t v[TABLE_RUNS];
	set_policy(PR_MCE_KILL_LATE); /* inherited: no signal is sent, only unmapping is timed */
	for (int r = 0; r < TABLE_RUNS; r++) {
		int k = 0;
		for (int i = 0; i < m; i++)
			pids[k++] = sleeper(); /* unrelated: forked before the page exists */
		char *p = dirty_page();
		for (int i = 1; i < n; i++)
			pids[k++] = sleeper(); /* maps p, COW-shared */
		uint64_t t0 = rdtsc();
		madvise(p, PG, MADV_HWPOISON);
		v[r] = rdtsc() - t0;
		reap(pids, k);
		munmap(p, PG);
	}
	return median(v, TABLE_RUNS);
}

/* memory_failure of a dirty page of a tmpfs file (/tmp), or with shmem of MAP_SHARED|
 * MAP_ANONYMOUS memory (a shmem file's page), mapped shared by n tasks (the caller and n-1
 * forked children sleeping), late kill (median). The page stays in the file poisoned until
 * the file goes. */
static uint64_t bench_file_cell(int n, int shmem)
{
	static pid_t pids[1024];
	uint64_t v[TABLE_RUNS];
	set_policy(PR_MCE_KILL_LATE);
	for (int r = 0; r < TABLE_RUNS; r++) {
		char name[] = "/tmp/mfbench-XXXXXX";
		int fd = shmem ? -1 : mkstemp(name), k = 0;
		char *p = shmem ? mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				       -1, 0)
			  : fd >= 0 && ftruncate(fd, PG) == 0
			      ? mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
			      : MAP_FAILED;
		if (p == MAP_FAILED) {
			perror("mfbench: a tmpfs file");
			exit(1);
		}
		memset(p, 0x5a, PG); /* dirty: the only copy */
		for (int i = 1; i < n; i++)
			pids[k++] = sleeper(); /* maps p, shared */
		uint64_t t0 = rdtsc();
		madvise(p, PG, MADV_HWPOISON);
		v[r] = rdtsc() - t0;
		reap(pids, k);
		munmap(p, PG);
		if (!shmem) {
			close(fd);
			unlink(name);
		}
	}
	return median(v, TABLE_RUNS);
}

/* A dirty tmpfs page and a dirty shmem page beside a COW-shared anonymous page, mapped by 1
 * and by 64 tasks. */
static void file_vs_anon(void)
{
	double f1 = us(bench_file_cell(1, 0)), f64 = us(bench_file_cell(64, 0));
	double s1 = us(bench_file_cell(1, 1)), s64 = us(bench_file_cell(64, 1));
	double a1 = us(bench_cell(1, 0)), a64 = us(bench_cell(64, 0));
	printf("mfbench: dirty tmpfs page, mapped by 1 / 64 tasks:       %8.1f / %8.1f us, "
	       "%.2f us per mapping\n", f1, f64, (f64 - f1) / 63);
	printf("mfbench: dirty shmem page, mapped by 1 / 64 tasks:       %8.1f / %8.1f us, "
	       "%.2f us per mapping\n", s1, s64, (s64 - s1) / 63);
	printf("mfbench: anonymous page, mapped by 1 / 64 tasks:         %8.1f / %8.1f us, "
	       "%.2f us per mapping\n", a1, a64, (a64 - a1) / 63);
	fflush(stdout);
}

/* Least-squares slope of y over x. */
static double slope(const double *x, const double *y, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++) {
		sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
	}
	double d = n * sxx - sx * sx;
	return d ? (n * sxy - sx * sy) / d : 0;
}

static void table(void)
{
	double t[NN][NM];
	printf("mfbench: memory_failure of a frame mapped by N tasks, M unrelated tasks "
	       "sleeping (us, median of %d)\n",
	       TABLE_RUNS);
	printf("mfbench: %8s", "N \\ M");
	for (int j = 0; j < NM; j++)
		printf(" %10d", MS[j]);
	printf("\n");
	for (int i = 0; i < NN; i++) {
		char row[128];
		int len = snprintf(row, sizeof(row), "mfbench: %8d", NS[i]);
		for (int j = 0; j < NM; j++) {
			t[i][j] = us(bench_cell(NS[i], MS[j]));
			len += snprintf(row + len, sizeof(row) - (size_t)len, " %10.1f", t[i][j]);
		}
		printf("%s\n", row); /* whole lines: the kernel's log shares the console */
		fflush(stdout);
	}
	for (int j = 0; j < NM; j++) {
		double x[NN], y[NN];
		for (int i = 0; i < NN; i++)
			x[i] = NS[i], y[i] = t[i][j];
		printf("mfbench: slope at M=%-4d %8.2f us per mapping\n", MS[j], slope(x, y, NN));
	}
	for (int i = 0; i < NN; i++) {
		double x[NM], y[NM];
		for (int j = 0; j < NM; j++)
			x[j] = MS[j], y[j] = t[i][j];
		printf("mfbench: slope at N=%-4d %8.3f us per unrelated task\n", NS[i],
		       slope(x, y, NM));
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	calibrate();
	printf("mfbench: TSC %.1f MHz (calibrated against CLOCK_MONOTONIC)\n", tsc_per_us);
	printf("mfbench: memory_failure, 1 mapping (madvise, late kill): %8.2f us  [budget 5]\n",
	       us(bench_one_mapping(0)));
	printf("mfbench: the same, memory_failure's own time (its log):  %8.2f us  [budget 5]\n",
	       kernel_own_us(RUNS));
	printf("mfbench: the same after 300 ms in user mode (cold):      %8.2f us\n",
	       us(bench_one_mapping(300)));
	printf("mfbench: early kill, madvise to AO handler:              %8.2f us\n",
	       us(bench_early_ao()));
	printf("mfbench: touch of poisoned page to AR handler:           %8.2f us  [budget 3]\n",
	       us(bench_touch()));
	fflush(stdout);
	file_vs_anon();
	if (argc < 2 || strcmp(argv[1], "quick"))
		table();
	printf("mfbench: done\n");
	return 0;
}
