/* Memory-failure recovery as a Linux program sees it (tinjpage-style; the same source runs on
 * Linux as root): madvise(MADV_HWPOISON) on anonymous pages in several states, each with late
 * kill (SIGBUS BUS_MCEERR_AR when touched), early kill (BUS_MCEERR_AO at once) and a forked
 * child with the default SIGBUS action; prctl(PR_MCE_KILL) and its inheritance; pages shared
 * by fork and COW-shared by 64 children; a page mremap moved in one of two processes that
 * share it; the vm.memory_failure_early_kill switch; going on after a lost page with
 * MADV_DONTNEED. */
#define _GNU_SOURCE
#include "sigbus_catch.h"
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static void reset(void) { got_code = 0, got_addr = NULL, got_lsb = 0, got_count = 0; }

static char *dirty_page(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0x5a, 2 * PG);
	return p;
}

static void set_policy(int policy)
{
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, policy, 0, 0) == 0);
}

static void test_prctl(void)
{
	CHECK(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_DEFAULT);
	set_policy(PR_MCE_KILL_LATE);
	CHECK(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_LATE);
	set_policy(PR_MCE_KILL_EARLY);
	CHECK(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_EARLY);
	pid_t pid = fork();
	if (pid == 0)
		_exit(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_EARLY ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* inherited across fork */
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0) == 0);
	CHECK(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_DEFAULT);
	errno = 0;
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, 7, 0, 0) == -1 && errno == EINVAL);
	CHECK(prctl(PR_MCE_KILL, 9, 0, 0, 0) == -1 && errno == EINVAL);
}

/* Late kill in the same task: nothing at injection, AR with the page address on touch. */
/* HardwareCorrupted from /proc/meminfo, in kB (-1 if absent). */
static long hardware_corrupted_kb(void)
{
	char buf[2048];
	read_meminfo(buf, sizeof(buf));
	return meminfo_value(buf, "HardwareCorrupted:");
}

static void test_late_same_task(void)
{
	set_policy(PR_MCE_KILL_LATE);
	char *p = dirty_page();
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
		CHECK(got_count == 0); /* late: not yet */
		CHECK(p[PG] == 0x5a);  /* the neighbour page is intact */
		(void)*(volatile char *)(p + 100);
		CHECK(!"touching a poisoned page must raise SIGBUS");
	}
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AR && got_addr == p && got_lsb == 12);
	/* Touching it again: the marker stays, SIGBUS again. */
	reset();
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)p;
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AR);
	CHECK(p[PG + 5] == 0x5a);
	/* How a program goes on without the lost page: MADV_DONTNEED drops the marker, the next
	 * touch gets a fresh zeroed page, and the bad frame stays out of use. */
	long hc = hardware_corrupted_kb();
	reset();
	CHECK(madvise(p, PG, MADV_DONTNEED) == 0);
	if (sigsetjmp(jb, 1) == 0) {
		CHECK(*(volatile char *)(p + 100) == 0);
		p[0] = 7;
		CHECK(p[0] == 7);
	}
	CHECK(got_count == 0);
	CHECK(p[PG + 5] == 0x5a);
	CHECK(hardware_corrupted_kb() == hc);
}

/* Early kill: BUS_MCEERR_AO as soon as the page is poisoned. */
static void test_early_same_task(void)
{
	set_policy(PR_MCE_KILL_EARLY);
	char *p = dirty_page();
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		madvise(p, PG, MADV_HWPOISON);
		CHECK(!"early kill must signal during madvise");
	}
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AO && got_addr == p && got_lsb == 12);
}

/* A forked child with the default SIGBUS action dies of it when it touches the page. */
static void test_child_default_action(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
		char *p = dirty_page();
		madvise(p, PG, MADV_HWPOISON);
		(void)*(volatile char *)p;
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
}

/* Poisoned, then unmapped before anyone touches it: no signal at all; mlocked: as dirty. */
static void test_unmapped_and_locked(void)
{
	set_policy(PR_MCE_KILL_LATE);
	char *p = dirty_page();
	reset();
	CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
	CHECK(munmap(p, 2 * PG) == 0);
	CHECK(got_count == 0);
	char *l = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	CHECK(l != MAP_FAILED);
	l[0] = 1;
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		madvise(l, PG, MADV_HWPOISON);
		(void)*(volatile char *)l;
	}
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AR && got_addr == l);
}

/* A MAP_SHARED page: the child poisons it; the parent (early) gets AO, or (late) AR on touch. */
static void test_shared_by_fork(int early)
{
	set_policy(early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE);
	volatile char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s[0] = 1;
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGBUS, SIG_IGN); /* the child only injects */
			prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
			madvise((void *)s, PG, MADV_HWPOISON);
			_exit(0);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		for (volatile int spin = 0; spin < 1000000 && !got_count; spin++)
			;
		if (early)
			CHECK(!"the parent must have been told early");
		(void)s[0];
		CHECK(!"touching must raise SIGBUS");
	}
	CHECK(got_count == 1 && got_addr == (void *)s);
	CHECK(got_code == (early ? BUS_MCEERR_AO : BUS_MCEERR_AR));
}

/* One private page COW-shared by 64 children: the parent poisons its copy (the same frame);
 * every child learns of it: early children at once (AO), late ones when they touch (AR). */
static void test_cow_shared_64(void)
{
	enum { N = 64 };
	char *p = dirty_page();
	pid_t kids[N];
	volatile int *go = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile int *ready = go + 1; /* children count themselves in once their policy is set */
	*go = 0;
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int early = i % 2;
			prctl(PR_MCE_KILL, PR_MCE_KILL_SET, early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
			catch_sigbus();
			reset();
			if (sigsetjmp(jb, 1) == 0) {
				__atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
				while (!*go)
					sched_yield();
				if (!early)
					(void)*(volatile char *)p;
				for (volatile long spin = 0; spin < 100000000 && !got_count; spin++)
					;
				_exit(10);
			}
			int want = early ? BUS_MCEERR_AO : BUS_MCEERR_AR;
			_exit(got_code == want && got_addr == p && got_lsb == 12 ? 0 : 11);
		}
	}
	while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < N)
		sched_yield();
	set_policy(PR_MCE_KILL_LATE);
	reset();
	CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
	*go = 1;
	int ok = 0;
	for (int i = 0; i < N; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			printf("cow64: child %d (%s) status %#x\n", i, i % 2 ? "early" : "late", st);
	}
	CHECK(ok == N);
	CHECK(p[PG] == 0x5a); /* the parent's other page is intact */
}

/* A page moved by mremap: the parent moves its copy of a COW-shared page to a new address and
 * poisons it there; the early-kill child, where the page never moved, is told the old address
 * (the reverse map finds each mapping at the address of its own space), and the parent the new
 * one when it touches it. */
static void test_moved_by_mremap(void)
{
	char *p = dirty_page(), *to = dirty_page();
	volatile int *ready = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*ready = 0;
	pid_t kid = fork();
	if (kid == 0) {
		prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
		catch_sigbus();
		reset();
		if (sigsetjmp(jb, 1) == 0) {
			*ready = 1;
			for (volatile long spin = 0; spin < 200000000 && !got_count; spin++)
				;
			_exit(10);
		}
		_exit(got_code == BUS_MCEERR_AO && got_addr == p ? 0 : 11);
	}
	while (!*ready)
		sched_yield();
	set_policy(PR_MCE_KILL_LATE);
	char *q = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	CHECK(q == to && q[0] == 0x5a && q[PG] == 0x5a);
	reset();
	CHECK(madvise(q, PG, MADV_HWPOISON) == 0);
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile char *)q;
		CHECK(!"touching must raise SIGBUS");
	}
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AR && got_addr == q);
	int st;
	waitpid(kid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(q[PG] == 0x5a);
}

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int r = fputs(s, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : r;
}

/* vm.memory_failure_early_kill=1 makes a DEFAULT-policy task an early one. */
static void test_sysctl_early_kill(void)
{
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0) == 0);
	CHECK(write_file("/proc/sys/vm/memory_failure_early_kill", "1\n") == 0);
	char *p = dirty_page();
	reset();
	if (sigsetjmp(jb, 1) == 0)
		madvise(p, PG, MADV_HWPOISON);
	CHECK(got_count == 1 && got_code == BUS_MCEERR_AO);
	CHECK(write_file("/proc/sys/vm/memory_failure_early_kill", "0\n") == 0);
	CHECK(write_file("/proc/sys/vm/memory_failure_early_kill", "2\n") == -1);
}

/* ---- the same page states, each run three ways (tinjpage's matrix) ---- */

enum way { LATE_SAME_TASK, CHILD_DEFAULT_ACTION, EARLY };

/* Each state makes a page and poisons it; `mapped` says whether it is still mapped after. */
static char *state_dirty(int *mapped)
{
	char *p = dirty_page();
	madvise(p, PG, MADV_HWPOISON);
	*mapped = 1;
	return p;
}

static char *state_dirty_unmapped(int *mapped)
{
	char *p = dirty_page();
	madvise(p, PG, MADV_HWPOISON);
	munmap(p, 2 * PG);
	*mapped = 0;
	return p;
}

static char *state_mlocked(int *mapped)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	p[0] = 7;
	madvise(p, PG, MADV_HWPOISON);
	*mapped = 1;
	return p;
}

static char *state_clean_untouched(int *mapped)
{
	/* Never written: madvise faults in a zero page first, which is then poisoned. */
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(p, PG, MADV_HWPOISON);
	*mapped = 1;
	return p;
}

static const struct {
	const char *name;
	char *(*make)(int *mapped);
} states[] = {
	{"dirty", state_dirty},
	{"dirty-then-unmapped", state_dirty_unmapped},
	{"mlocked", state_mlocked},
	{"untouched", state_clean_untouched},
};

/* Returns 0 when the state behaved as it should under way. */
static int run_way(int s, enum way way)
{
	int mapped;
	if (way == CHILD_DEFAULT_ACTION) {
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGBUS, SIG_DFL);
			prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
			char *p = states[s].make(&mapped);
			if (mapped)
				(void)*(volatile char *)p; /* dies of SIGBUS here */
			_exit(mapped ? 1 : 0);
		}
		int st;
		waitpid(pid, &st, 0);
		int want_sigbus = s != 1;
		return want_sigbus ? !(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS)
				   : !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	set_policy(way == EARLY ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE);
	reset();
	char *volatile p = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		p = states[s].make(&mapped);
		if (way == LATE_SAME_TASK && mapped) {
			if (got_count)
				return 2; /* late kill must not signal at injection */
			(void)*(volatile char *)p;
			return 3; /* the touch must fault */
		}
		if (way == EARLY)
			return 6; /* early kill must have signalled during madvise */
		return got_count ? 4 : 0; /* late kill of a page unmapped before any touch: none */
	}
	/* Early kill signals at injection, while the page is still mapped (the unmapped state
	 * unmaps only afterwards); late kill signals at the touch. */
	int want = way == EARLY ? BUS_MCEERR_AO : BUS_MCEERR_AR;
	return !(got_count == 1 && got_code == want && got_lsb == 12 && (!p || got_addr == p));
}

static void test_matrix(void)
{
	static const char *const ways[] = {"late kill, same task", "forked child, default action",
					   "early kill"};
	for (unsigned s = 0; s < sizeof(states) / sizeof(states[0]); s++)
		for (int w = 0; w < 3; w++) {
			int r = run_way((int)s, (enum way)w);
			if (r)
				printf("FAIL matrix: %s page, %s: case %d\n", states[s].name, ways[w], r);
			CHECK(r == 0);
		}
}

int main(void)
{
	catch_sigbus();
	test_prctl();
	test_matrix();
	test_late_same_task();
	test_early_same_task();
	test_child_default_action();
	test_unmapped_and_locked();
	test_shared_by_fork(1);
	test_shared_by_fork(0);
	test_cow_shared_64();
	test_moved_by_mremap();
	test_sysctl_early_kill();
	DONE("hwpoison");
}
