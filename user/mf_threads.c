/* Who hears of a memory error in a process of several threads, as Linux 6.1 decides it
 * (docs/memory_failure.md, "Threads"): the thread that consumed the poison gets
 * BUS_MCEERR_AR and nobody else in its process; otherwise the first thread (main thread
 * first) that set PR_MCE_KILL_EARLY, or has no policy of its own while
 * vm.memory_failure_early_kill is 1, gets BUS_MCEERR_AO, for itself alone; PR_MCE_KILL is per
 * thread (and inherited by the threads it creates); a thread that later touches the page
 * gets BUS_MCEERR_AR. Every thread records what it got (shared memory, so child processes
 * report too).
 * usage: mf_threads [spin]          madvise(MADV_HWPOISON) cases; with "spin" the threads
 *                                   wait spinning without syscalls instead of sleeping
 *        mf_threads srar-spin|srar-sleep  a victim for an SRAR injected from QEMU's monitor
 *                                   while its reader thread reads the page (it prints the
 *                                   magic value the reader keeps in r15, which tells its
 *                                   CPU, and the command)
 *        mf_threads srao-spin|srao-sleep  the same for an SRAO: early kill only
 * (one argument, as /init passes "run=mf_threads:srar-spin")
 * Exits 0 when everyone got exactly what Linux's rules give. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NT 4	     /* threads per process, the main one included */
#define PG 4096
#define MADV_HWPOISON 100
#define EARLY_KILL "/proc/sys/vm/memory_failure_early_kill"
enum { D = -1, L = PR_MCE_KILL_LATE, E = PR_MCE_KILL_EARLY }; /* D: no policy of its own */
enum { WAIT, TOUCH, QUIT };

/* What thread i of process p got, in memory every process of the test shares. */
struct rec {
	_Atomic int code, hits, state, ready;
	_Atomic uint64_t addr;
};
static struct rec (*recs)[NT]; /* [process][thread] */
static volatile char *page;
static int spin;
static __thread int my_p, my_i;
static __thread sigjmp_buf my_jb;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	struct rec *r = &recs[my_p][my_i];
	atomic_store(&r->code, si->si_code);
	atomic_store(&r->addr, (uint64_t)si->si_addr);
	atomic_fetch_add(&r->hits, 1);
	if (si->si_code == BUS_MCEERR_AR)
		siglongjmp(my_jb, 1); /* the touch that faulted does not happen again */
}

static void msleep(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* A thread starts with its creator's policy: each one sets (or clears) its own. (prctl is
 * variadic and reads unsigned longs: pass them so.) */
static void set_policy(int policy)
{
	int r = policy == D ? prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0ul, 0ul, 0ul)
			    : prctl(PR_MCE_KILL, PR_MCE_KILL_SET, (unsigned long)policy, 0ul, 0ul);
	if (r) {
		printf("mf_threads: prctl(PR_MCE_KILL, %d) failed: errno %d\n", policy, errno);
		fflush(stdout);
	}
}

/* Wait for an order: spinning (no syscalls) or sleeping. */
static int wait_order(struct rec *r)
{
	for (;;) {
		int s = atomic_load(&r->state);
		if (s != WAIT)
			return s;
		if (!spin)
			msleep(1);
	}
}

struct worker_arg {
	int p, i, policy;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	my_p = w->p, my_i = w->i;
	set_policy(w->policy);
	struct rec *r = &recs[my_p][my_i];
	atomic_store(&r->ready, 1);
	for (;;) {
		int order = wait_order(r);
		if (order == QUIT)
			return NULL;
		atomic_store(&r->state, WAIT);
		if (!sigsetjmp(my_jb, 1))
			(void)page[my_i * 8];
	}
}

/* Threads 1.. of process p with these policies (0 is the caller); returns once each has set
 * its own. */
static pthread_t start_threads(int p, const int *policy, struct worker_arg *args)
{
	pthread_t t = 0;
	memset((void *)recs[p], 0, sizeof(recs[p]));
	my_p = p, my_i = 0;
	set_policy(policy[0]);
	for (int i = 1; i < NT; i++) {
		args[i] = (struct worker_arg){p, i, policy[i]};
		pthread_create(&t, NULL, worker, &args[i]);
	}
	for (int i = 1; i < NT; i++)
		while (!atomic_load(&recs[p][i].ready))
			msleep(1);
	return t;
}

/* Process p: thread `who` got SIGBUS code at the page (once), the others nothing. */
static int only(int p, int who, int code)
{
	int ok = 1;
	for (int i = 0; i < NT; i++) {
		struct rec *r = &recs[p][i];
		int hits = atomic_load(&r->hits);
		ok &= i == who ? hits == 1 && r->code == code && r->addr == (uint64_t)page : hits == 0;
	}
	if (!ok)
		for (int i = 0; i < NT; i++)
			printf("mf_threads:   process %d thread %d: %d hit(s), code %d\n", p, i,
			       atomic_load(&recs[p][i].hits), atomic_load(&recs[p][i].code));
	fflush(stdout);
	for (int i = 0; i < NT; i++) { /* a clean slate for the next check */
		atomic_store(&recs[p][i].hits, 0);
		atomic_store(&recs[p][i].code, 0);
		atomic_store(&recs[p][i].addr, 0);
	}
	return ok;
}

static void write_sysctl(int v)
{
	int fd = open(EARLY_KILL, O_WRONLY);
	if (fd >= 0) {
		write(fd, v ? "1\n" : "0\n", 2);
		close(fd);
	}
}

static void catch_bus(void)
{
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
}

static volatile char *new_page(void)
{
	volatile char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset((void *)p, 0x5a, PG);
	return p;
}

/* One madvise case, in a child: the threads' policies, the sysctl, who gets the AO. Then
 * thread 3 touches the page: AR for it alone. Returns whether all held. */
static int madvise_case(const int *policy, int sysctl, int told)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct worker_arg args[NT];
		write_sysctl(sysctl);
		catch_bus();
		page = new_page();
		start_threads(0, policy, args);
		if (madvise((void *)page, PG, MADV_HWPOISON))
			_exit(3);
		msleep(100);
		int ok = only(0, told, BUS_MCEERR_AO);
		atomic_store(&recs[0][3].state, TOUCH);
		msleep(100);
		ok &= only(0, 3, BUS_MCEERR_AR);
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	write_sysctl(0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_rules(void)
{
	CHECK(madvise_case((int[NT]){D, E, D, L}, 0, 1)); /* the thread that asked */
	CHECK(madvise_case((int[NT]){D, D, D, D}, 1, 0)); /* the sysctl: the main thread */
	CHECK(madvise_case((int[NT]){L, D, D, D}, 1, 1)); /* the first without a policy */
	CHECK(madvise_case((int[NT]){D, E, D, D}, 1, 0)); /* the main thread comes first */
	CHECK(madvise_case((int[NT]){D, D, D, D}, 0, -1)); /* late: nobody now */
}

/* PR_MCE_KILL is per thread, and a new thread inherits its creator's. */
static int get_policy(void) { return prctl(PR_MCE_KILL_GET, 0ul, 0ul, 0ul, 0ul); }
static void *report_policy(void *arg) { return (void *)(long)get_policy(); }
static void *early_then_create(void *arg)
{
	(void)arg;
	set_policy(E);
	pthread_t t;
	void *inherited;
	pthread_create(&t, NULL, report_policy, NULL);
	pthread_join(t, &inherited);
	return inherited;
}

static void test_per_thread_policy(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		void *inherited;
		pthread_create(&t, NULL, early_then_create, NULL);
		pthread_join(t, &inherited);
		_exit((long)inherited == PR_MCE_KILL_EARLY && get_policy() == PR_MCE_KILL_DEFAULT ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Process 1: a forked child whose thread 2 set PR_MCE_KILL_EARLY (the others have no policy),
 * until its thread 1 is told to quit. */
static pid_t fork_early_child(struct worker_arg *args)
{
	pid_t kid = fork();
	if (kid == 0) {
		start_threads(1, (int[NT]){D, D, E, D}, args);
		while (atomic_load(&recs[1][1].state) != QUIT)
			msleep(5);
		_exit(0);
	}
	return kid;
}

/* Another process maps the page (fork): its own early thread is told. */
static void test_other_process(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct worker_arg args[NT];
		catch_bus();
		page = new_page();
		start_threads(0, (int[NT]){L, L, L, L}, args);
		memset((void *)recs[1], 0, sizeof(recs[1]));
		pid_t kid = fork_early_child(args);
		while (!atomic_load(&recs[1][NT - 1].ready))
			msleep(1);
		madvise((void *)page, PG, MADV_HWPOISON);
		msleep(100);
		int ok = only(0, -1, 0) & only(1, 2, BUS_MCEERR_AO);
		atomic_store(&recs[1][1].state, QUIT);
		waitpid(kid, NULL, 0);
		_exit(ok ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- victims for machine checks injected from QEMU's monitor ---- */

/* The reader reads the page in a loop with READER_MAGIC in r15: the monitor finds its CPU by
 * that (a forked child's threads have the same FS bases as ours). */
#define READER_MAGIC 0x4d43524b52454144ull /* "MCRKREAD" */

static void *reader(void *arg)
{
	my_p = 0, my_i = 1;
	set_policy(D);
	atomic_store((_Atomic uintptr_t *)arg, (uintptr_t)pthread_self());
	if (!sigsetjmp(my_jb, 1))
		__asm__ volatile("mov %1, %%r15\n"
				 "1: movzbl (%0), %%eax\n"
				 "   jmp 1b" /* until the machine check */
				 ::"r"(page), "r"(READER_MAGIC)
				 : "rax", "r15", "memory");
	return NULL;
}

/* srar: thread 1 reads the page, thread 2 is early, a child process has an early thread 2;
 * the monitor injects an SRAR on the reader's CPU. srao: nobody reads it. */
static int victim(int srar)
{
	struct worker_arg args[NT];
	catch_bus();
	page = new_page();
	memset((void *)recs, 0, 2 * sizeof(recs[0]));
	pid_t kid = fork_early_child(args);
	_Atomic uintptr_t fs = 0;
	pthread_t t;
	my_p = 0, my_i = 0;
	args[2] = (struct worker_arg){0, 2, E};
	pthread_create(&t, NULL, worker, &args[2]);
	if (srar)
		pthread_create(&t, NULL, reader, &fs);
	while ((srar && !atomic_load(&fs)) || !atomic_load(&recs[0][2].ready) ||
	       !atomic_load(&recs[1][3].ready))
		msleep(1);
	uint64_t e = utest_pagemap((const void *)page);
	uint64_t pa = (e >> 63) ? (e & ((1ull << 55) - 1)) * PG : 0;
	printf("mf_threads: reader r15=%#llx; poison it with: mce -b 0 1 %s %#llx 0x86\n",
	       srar ? READER_MAGIC : 0,
	       srar ? "0xbd80000000100134 0x7" : "0xbd000000000000c0 0x5", (unsigned long long)pa);
	fflush(stdout);
	int want = srar ? 1 : 2, p1_told = 2;
	for (int i = 0; i < 3000 && atomic_load(&recs[0][want].hits) == 0; i++)
		msleep(10);
	msleep(300);
	int ok = srar ? only(0, 1, BUS_MCEERR_AR) : only(0, 2, BUS_MCEERR_AO);
	ok &= only(1, p1_told, BUS_MCEERR_AO);
	atomic_store(&recs[1][1].state, QUIT);
	waitpid(kid, NULL, 0);
	printf("mf_threads: %s\n", ok ? "every thread got what Linux's rules give" : "WRONG");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	recs = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	spin = argc > 1 && strstr(argv[1], "spin");
	if (argc > 1 && (!strncmp(argv[1], "srar", 4) || !strncmp(argv[1], "srao", 4)))
		return victim(!strncmp(argv[1], "srar", 4));
	if (getuid() != 0) {
		printf("mf_threads: needs root (MADV_HWPOISON, the early-kill sysctl)\n");
		DONE("mf_threads");
	}
	test_rules();
	test_per_thread_policy();
	test_other_process();
	DONE("mf_threads");
}
