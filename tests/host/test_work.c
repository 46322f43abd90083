/* Tests of deferred work (kernel/lib/work.c), the table the kernel workers run: queueing kicks
 * the scheduler and raises the pending hint, an item queued several times runs once, an item
 * that requeues itself runs on the next pass, and under three threads (one queueing, two
 * running the table as two workers would) an item never runs on two at once and every
 * queueing is followed by a run that saw it. */
#include "kerrno.h"
#include "unit.h"
#include "work.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

static unsigned kicks;
static void count_kick(void) { __atomic_fetch_add(&kicks, 1, __ATOMIC_RELAXED); }

static unsigned plain_runs;
static void plain_fn(void *arg)
{
	(void)arg;
	plain_runs++;
}
static struct work plain = {.fn = plain_fn, .name = "test-plain"};

static unsigned again_runs;
static struct work again;
static void again_fn(void *arg)
{
	(void)arg;
	if (again_runs++ == 0)
		work_queue(&again); /* once more, on the next pass */
}
static struct work again = {.fn = again_fn, .name = "test-again"};

/* Register w once (the table is static and shared by every test of this binary). */
static void register_once(struct work *w, bool *done)
{
	if (!*done)
		*done = work_register(w) == 0;
}

TEST(work_queue_kicks_and_runs_once)
{
	static bool reg;

	register_once(&plain, &reg);
	REQUIRE(reg);
	work_run_pending(); /* whatever other tests left queued */
	work_set_kick(count_kick);
	kicks = 0, plain_runs = 0;
	CHECK(!work_pending());
	CHECK_EQ(work_run_pending(), 0);
	work_queue(&plain);
	work_queue(&plain);
	CHECK_EQ(kicks, 2); /* every queueing kicks: the kick is what bounds the wait */
	CHECK(work_pending());
	CHECK_EQ(work_run_pending(), 1); /* queued twice, runs once */
	CHECK_EQ(plain_runs, 1);
	CHECK(!work_pending());
	CHECK_EQ(work_run_pending(), 0);
	work_set_kick(NULL);
	work_queue(&plain); /* no kick installed: still queued */
	CHECK_EQ(kicks, 2);
	CHECK_EQ(work_run_pending(), 1);
}

TEST(work_requeue_from_fn_runs_again)
{
	static bool reg;

	register_once(&again, &reg);
	REQUIRE(reg);
	work_run_pending();
	again_runs = 0;
	work_queue(&again);
	/* The item requeued itself while it ran: the same pass runs it again, as it is still
	 * claimed by this runner. The hint it raised costs one empty pass. */
	CHECK_EQ(work_run_pending(), 2);
	CHECK_EQ(again_runs, 2);
	CHECK_EQ(work_run_pending(), 0);
	CHECK(!work_pending());
}

/* ---- three threads ---- */

#define STRESS_QUEUES 50000
static uint64_t generation, last_seen;
static int inside, overlap, stop_runners;

static void stress_fn(void *arg)
{
	(void)arg;
	if (__atomic_add_fetch(&inside, 1, __ATOMIC_ACQ_REL) != 1)
		__atomic_store_n(&overlap, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&last_seen, __atomic_load_n(&generation, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	sched_yield(); /* a window for a second runner to get in, whatever the core count */
	__atomic_sub_fetch(&inside, 1, __ATOMIC_ACQ_REL);
}
static struct work stress = {.fn = stress_fn, .name = "test-stress"};

static void *runner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_runners, __ATOMIC_ACQUIRE))
		if (!work_run_pending())
			sched_yield();
	return NULL;
}

TEST(work_two_runners_never_overlap_or_lose_a_queueing)
{
	static bool reg;
	pthread_t t[2];

	register_once(&stress, &reg);
	REQUIRE(reg);
	work_run_pending();
	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&t[i], NULL, runner, NULL) == 0);
	for (uint64_t g = 1; g <= STRESS_QUEUES; g++) {
		__atomic_store_n(&generation, g, __ATOMIC_RELEASE);
		work_queue(&stress);
		for (volatile int i = 0; i < 1000; i++) /* queue while the runners run it */
			;
	}
	/* The last queueing must be followed by a run that saw it, whatever the runners were
	 * doing when it happened (a run that had already read an older generation does not
	 * count: the item is then still pending, or runs again). */
	time_t give_up = time(NULL) + 20;
	while (__atomic_load_n(&last_seen, __ATOMIC_ACQUIRE) != STRESS_QUEUES &&
	       time(NULL) < give_up)
		sched_yield();
	__atomic_store_n(&stop_runners, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(last_seen, STRESS_QUEUES);
	CHECK_EQ(overlap, 0);
	CHECK_EQ(__atomic_load_n(&stress.running, __ATOMIC_ACQUIRE), 0);
}
