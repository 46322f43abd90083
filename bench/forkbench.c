/* forkbench: what fork, exit, copy-on-write and unmapping cost, and how memory_failure scales
 * with the mappers of a fork-shared page, seen from user space with the TSC (figures, not
 * pass/fail; the same source runs on Linux, as root for the MADV_HWPOISON rows):
 *   - fork + _exit + waitpid of a parent with 0, 16 and 64 MiB of touched private memory,
 *     split into fork (until the first side returns from it) and exit + wait (from the
 *     child's _exit to waitpid's return);
 *   - a first-touch page fault (a fresh zeroed page), and a COW break (a write to a page a
 *     sleeping child still shares: copy), in us per page over 16 MiB;
 *   - munmap of 64 MiB private, and of 64 MiB still COW-shared with a sleeping child;
 *   - madvise(MADV_HWPOISON) of a page mapped by N = 1, 16, 64 tasks (the caller and N - 1
 *     forked children sleeping on it), late kill, and the cost per extra mapping.
 * Every figure is a median of its runs; the parent's memory is touched again before each fork
 * so that every fork copies writable, dirty PTEs. Run with `forkbench` (all) or
 * `forkbench:quick` (fewer runs). bench/run_guest.sh boots it. */
#define _GNU_SOURCE
#include "bench.h"
#include <sys/prctl.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#define MIB (1024ul * 1024)
#define MAX_RUNS 31

static int runs = 15; /* per figure; forkbench:quick uses 5 */

/* Times the sides of one fork write, in a MAP_SHARED page both see. */
struct stamps {
	volatile uint64_t fork_ret; /* the first side back from fork */
	volatile uint64_t exit_call; /* the child, just before _exit */
};
static struct stamps *st;

static char *map_anon(size_t len, int flags)
{
	char *p = mmap(NULL, len ? len : PG, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("forkbench: mmap");
		exit(1);
	}
	return p;
}

static void touch(char *p, size_t len, char v)
{
	for (size_t i = 0; i < len; i += PG)
		p[i] = v;
}

static void stamp_fork_ret(void)
{
	uint64_t t = rdtsc();
	if (!st->fork_ret)
		st->fork_ret = t;
}

/* fork + _exit + waitpid with mib MiB touched: total, fork, exit + wait (medians, cycles). */
static void bench_fork_exit(unsigned mib)
{
	uint64_t tot[MAX_RUNS], frk[MAX_RUNS], ex[MAX_RUNS];
	size_t len = (size_t)mib * MIB;
	char *p = mib ? map_anon(len, MAP_PRIVATE) : NULL;
	for (int r = 0; r < runs; r++) {
		if (p)
			touch(p, len, (char)r); /* writable, dirty PTEs again */
		st->fork_ret = st->exit_call = 0;
		uint64_t t0 = rdtsc();
		pid_t pid = fork();
		if (pid == 0) {
			stamp_fork_ret();
			st->exit_call = rdtsc();
			_exit(0);
		}
		stamp_fork_ret();
		waitpid(pid, NULL, 0);
		uint64_t t1 = rdtsc();
		tot[r] = t1 - t0;
		frk[r] = st->fork_ret - t0;
		ex[r] = t1 - st->exit_call;
	}
	printf("forkbench: fork+exit+wait, %2u MiB touched: %9.1f us  (fork %9.1f, exit+wait "
	       "%9.1f)\n",
	       mib, us(median(tot, runs)), us(median(frk, runs)), us(median(ex, runs)));
	fflush(stdout);
	if (p)
		munmap(p, len);
}

/* bench.h's sleeper, or the end of the benchmark when fork fails. */
static pid_t sleeper_or_exit(void)
{
	pid_t pid = sleeper();
	if (pid < 0) {
		perror("forkbench: fork");
		exit(1);
	}
	return pid;
}

static void release(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* us per page: first touch of fresh anonymous pages, and COW breaks against a sleeping child. */
static void bench_faults(void)
{
	const size_t len = 16 * MIB, pages = len / PG;
	uint64_t fresh[MAX_RUNS], cow[MAX_RUNS];
	for (int r = 0; r < runs; r++) {
		char *p = map_anon(len, MAP_PRIVATE);
		uint64_t t0 = rdtsc();
		touch(p, len, 1);
		fresh[r] = rdtsc() - t0;
		pid_t pid = sleeper_or_exit();
		t0 = rdtsc();
		touch(p, len, 2);
		cow[r] = rdtsc() - t0;
		release(pid);
		munmap(p, len);
	}
	printf("forkbench: page fault, first touch:  %8.3f us per page\n",
	       us(median(fresh, runs)) / (double)pages);
	printf("forkbench: COW break (copy):         %8.3f us per page\n",
	       us(median(cow, runs)) / (double)pages);
	fflush(stdout);
}

/* munmap of 64 MiB touched private memory, alone and COW-shared with a sleeping child. */
static void bench_munmap(void)
{
	const size_t len = 64 * MIB;
	uint64_t priv[MAX_RUNS], shared[MAX_RUNS];
	for (int r = 0; r < runs; r++) {
		char *p = map_anon(len, MAP_PRIVATE);
		touch(p, len, 1);
		uint64_t t0 = rdtsc();
		munmap(p, len);
		priv[r] = rdtsc() - t0;
		p = map_anon(len, MAP_PRIVATE);
		touch(p, len, 1);
		pid_t pid = sleeper_or_exit();
		t0 = rdtsc();
		munmap(p, len);
		shared[r] = rdtsc() - t0;
		release(pid);
	}
	printf("forkbench: munmap 64 MiB private:    %9.1f us\n", us(median(priv, runs)));
	printf("forkbench: munmap 64 MiB COW-shared: %9.1f us\n", us(median(shared, runs)));
	fflush(stdout);
}

/* madvise(MADV_HWPOISON) of a page mapped by n tasks (the caller and n - 1 sleepers). */
static uint64_t bench_hwpoison(int n)
{
	static pid_t pids[64];
	uint64_t v[MAX_RUNS];
	for (int r = 0; r < runs; r++) {
		char *p = map_anon(PG, MAP_PRIVATE);
		touch(p, PG, 1);
		for (int i = 0; i < n - 1; i++)
			pids[i] = sleeper_or_exit();
		uint64_t t0 = rdtsc();
		if (madvise(p, PG, MADV_HWPOISON))
			perror("forkbench: madvise(MADV_HWPOISON)");
		v[r] = rdtsc() - t0;
		for (int i = 0; i < n - 1; i++)
			release(pids[i]);
		munmap(p, PG);
	}
	return median(v, runs);
}

static void bench_hwpoison_table(void)
{
	static const int ns[] = {1, 16, 64};
	double t[3];
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0); /* inherited by the sleepers */
	for (int i = 0; i < 3; i++) {
		t[i] = us(bench_hwpoison(ns[i]));
		printf("forkbench: MADV_HWPOISON, %2d mapping(s): %9.1f us\n", ns[i], t[i]);
		fflush(stdout);
	}
	printf("forkbench: MADV_HWPOISON, per extra mapping: %6.2f us (16 -> 64)\n",
	       (t[2] - t[1]) / 48.0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "quick"))
		runs = 5;
	st = (struct stamps *)map_anon(PG, MAP_SHARED);
	calibrate();
	printf("forkbench: TSC %.1f MHz, %d runs per figure (medians)\n", tsc_per_us, runs);
	bench_fork_exit(0);
	bench_fork_exit(16);
	bench_fork_exit(64);
	bench_faults();
	bench_munmap();
	bench_hwpoison_table();
	printf("forkbench: done\n");
	return 0;
}
