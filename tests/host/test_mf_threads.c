/* Host tests of memory_failure's choice of thread (docs/memory_failure.md, "Threads"), on fake
 * processes of several threads: Linux's task_early_kill and find_early_kill_thread. The
 * consumer of action-required poison gets BUS_MCEERR_AR and nobody else in its process is
 * told; otherwise each process's first thread (main thread first) that set
 * PR_MCE_KILL_EARLY, or has no policy of its own while vm.memory_failure_early_kill is 1,
 * gets BUS_MCEERR_AO, as a thread-directed signal; PR_MCE_KILL is per thread; a late kill
 * goes to whichever thread touches the page. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_task.h"
#include "mf_testlib.h"
#include "../../include/sig.h"
#include "../../include/task.h"
#include "../../kernel/mm/mf_priv.h"

#define NT 4

/* A process of NT threads in mm with these kill policies (thread 0 is the main thread). */
static void process(struct task **t, struct mm *mm, int pid, const int *policy)
{
	t[0] = fake_task_new(pid, mm, policy[0], true);
	for (int i = 1; i < NT; i++)
		t[i] = t[0] ? fake_thread_new(t[0], pid + i, policy[i], true) : NULL;
}

static void free_process(struct task **t)
{
	for (int i = NT - 1; i >= 0; i--)
		if (t[i])
			fake_task_free(t[i]);
	fake_current = &fake_task_obj;
}

/* Only thread `who` of t got SIGBUS code at addr (who < 0: none did). */
static bool only(struct task **t, int who, int code, vaddr_t addr)
{
	bool ok = true;
	for (int i = 0; i < NT; i++)
		ok &= i == who ? got_sigbus(t[i], code, addr) : no_signal(t[i]);
	return ok;
}

static const int D = MF_KILL_DEFAULT, E = MF_KILL_EARLY, L = MF_KILL_LATE;

/* Each row: the threads' policies, the sysctl, and which thread gets the early kill. */
static const struct {
	int policy[NT];
	int sysctl;
	int told;
} early_rows[] = {
    {{D, E, D, L}, 0, 1},  /* the thread that asked */
    {{D, D, E, D}, 0, 2},
    {{D, D, D, D}, 1, 0},  /* the sysctl: the first thread, the main one */
    {{L, D, D, D}, 1, 1},  /* ... that has no policy of its own */
    {{L, L, E, D}, 1, 2},  /* an explicit early one counts as early too */
    {{D, E, D, D}, 1, 0},  /* the main thread comes first */
    {{L, L, L, L}, 1, -1}, /* every thread late: nobody now */
    {{D, D, D, D}, 0, -1}, /* default policy, sysctl 0: late */
};

TEST(mf_threads_early_kill_thread)
{
	for (unsigned r = 0; r < ARRAY_SIZE(early_rows); r++) {
		mf_test_start();
		sysctl_memory_failure_early_kill = early_rows[r].sysctl;
		struct mm *mm = dirty_mm(1);
		struct task *t[NT];
		REQUIRE(mm);
		process(t, mm, 10, early_rows[r].policy);
		REQUIRE(t[NT - 1]);
		pfn_t pfn = pfn_at(mm, PG(0));
		CHECK_EQ(memory_failure(pfn, 0), 0);
		CHECK(only(t, early_rows[r].told, BUS_MCEERR_AO, PG(0)));
		CHECK_EQ(MF_DELTA(signalled_ao), early_rows[r].told >= 0 ? 1 : 0);
		/* Late or early, a thread that touches the page gets BUS_MCEERR_AR, it alone. */
		fake_current = t[3];
		mf_poison_touched(t[3], PG(0) + 8);
		CHECK(only(t, 3, BUS_MCEERR_AR, PG(0)));
		free_process(t);
		mm_put(mm);
	}
}

/* Action required: the consuming thread, and nobody else of its process (not even an early
 * one); another process with the page tells its own early thread. */
TEST(mf_threads_action_required_consumer_only)
{
	mf_test_start();
	struct mm *mm[2] = {dirty_mm(1)};
	REQUIRE(mm[0]);
	mm[1] = mm_fork(mm[0]);
	REQUIRE(mm[1]);
	struct task *a[NT], *b[NT];
	process(a, mm[0], 10, (int[NT]){D, E, D, D});
	process(b, mm[1], 20, (int[NT]){D, D, E, D});
	REQUIRE(a[NT - 1] && b[NT - 1]);
	pfn_t pfn = pfn_at(mm[0], PG(0));
	fake_current = a[2];
	CHECK_EQ(memory_failure(pfn, MF_ACTION_REQUIRED), 0);
	CHECK(only(a, 2, BUS_MCEERR_AR, PG(0)));
	CHECK(only(b, 2, BUS_MCEERR_AO, PG(0)));
	free_process(a);
	free_process(b);
	mm_put(mm[0]);
	mm_put(mm[1]);
}

/* An early kill is a thread-directed signal: blocked by its thread, it waits there; the
 * process's other threads, which do not block it, never see it. */
TEST(mf_threads_early_kill_waits_for_its_thread)
{
	mf_test_start();
	struct mm *mm = dirty_mm(1);
	struct task *t[NT];
	REQUIRE(mm);
	process(t, mm, 10, (int[NT]){D, E, D, D});
	REQUIRE(t[NT - 1]);
	uint64_t bus = BIT(SIGBUS - 1);
	fake_current = t[1];
	CHECK_EQ(sys_rt_sigprocmask(0 /* SIG_BLOCK */, &bus, NULL, 8), 0);
	CHECK_EQ(memory_failure(pfn_at(mm, PG(0)), 0), 0);
	CHECK(only(t, -1, 0, 0)); /* nobody takes it: E blocks it */
	fake_current = t[1];
	CHECK_EQ(sys_rt_sigprocmask(1 /* SIG_UNBLOCK */, &bus, NULL, 8), 0);
	CHECK(only(t, 1, BUS_MCEERR_AO, PG(0)));
	free_process(t);
	mm_put(mm);
}

/* The main thread has exited (pthread_exit): MCRK picks among the live threads. (Linux looks
 * at the main thread's address space first and tells nobody in that process.) */
TEST(mf_threads_main_thread_exited)
{
	mf_test_start();
	sysctl_memory_failure_early_kill = 1;
	struct mm *mm = dirty_mm(1);
	struct task *t[NT];
	REQUIRE(mm);
	process(t, mm, 10, (int[NT]){D, D, D, D});
	REQUIRE(t[NT - 1]);
	t[0]->exiting = true;
	CHECK_EQ(memory_failure(pfn_at(mm, PG(0)), 0), 0);
	CHECK(only(t, 1, BUS_MCEERR_AO, PG(0)));
	t[0]->exiting = false;
	free_process(t);
	mm_put(mm);
}
