/* Host tests of memory_failure_queue (kernel/mm/mf_queue.c): queueing from a fake #MC (a signal
 * handler that interrupts the test, as the #MC handler interrupts whatever runs) changes
 * nothing until the "memory-failure" work item runs; then every queued frame is recovered,
 * without MF_ACTION_REQUIRED (nobody is the consumer by then). A full per-CPU queue refuses the
 * entry with -ENOSPC, counts it with its pfn, and the next run of the work item reports it
 * once; another CPU's queue still has room. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/memory_failure.h"
#include "../../include/task.h"
#include "../../include/work.h"
#include <signal.h>
#include <string.h>

#define UVA 0x30000000ull
#define RW (PT_READ | PT_WRITE)

static struct mf_stats stats(void)
{
	struct mf_stats s;
	mf_get_stats(&s);
	return s;
}

/* A free frame: allocated and given back (it sits in CPU 0's cache). */
static pfn_t free_frame(void)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	if (!pg)
		return 0;
	frame_free(pg, 0);
	return page_to_pfn(pg);
}

static void fresh(void)
{
	vt_setup();
	memory_failure_init();
	work_run_pending(); /* whatever an earlier test left queued */
	fake_cpu_id = 0;
	fake_cpu_count = 2;
	fake_console_clear();
}

static pfn_t mc_pfn[2];
static int mc_ret[2];

/* The fake #MC: only what #MC context may do, queueing. */
static void fake_mc(int sig)
{
	(void)sig;
	for (int i = 0; i < 2; i++)
		mc_ret[i] = memory_failure_queue(mc_pfn[i], MF_ACTION_REQUIRED);
}

TEST(mf_queue_defers_until_the_work_item_runs)
{
	fresh();
	struct mm *mm = mm_create();
	REQUIRE(mm && vm_mmap(mm, UVA, PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			      NULL, 0) == (long)UVA);
	REQUIRE(vm_fault(mm, UVA, FAULT_WRITE, true) == 0);
	struct task *t = fake_task_new(41, mm, MF_KILL_EARLY, true);
	REQUIRE(t);
	struct vm_page_info pi;
	vm_page_info(mm, UVA, &pi);
	REQUIRE(pi.state == VM_PAGE_PRESENT);
	mc_pfn[0] = pi.pfn;
	mc_pfn[1] = free_frame();
	struct mf_stats before = stats();

	struct sigaction sa = {0}, old;
	sa.sa_handler = fake_mc;
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	raise(SIGUSR1);
	sigaction(SIGUSR1, &old, NULL);

	CHECK_EQ(mc_ret[0], 0);
	CHECK_EQ(mc_ret[1], 0);
	CHECK_EQ(stats().queued, before.queued + 2);
	/* Nothing has happened to either frame, the mapping or the task yet. */
	CHECK_EQ(stats().events, before.events);
	CHECK(!page_poisoned(pfn_to_page(mc_pfn[0])) && !page_poisoned(pfn_to_page(mc_pfn[1])));
	vm_page_info(mm, UVA, &pi);
	CHECK(pi.state == VM_PAGE_PRESENT && pi.pfn == mc_pfn[0]);
	CHECK(strstr(fake_console, "memory_failure") == NULL);

	CHECK(work_run_pending() >= 1); /* the deferred work, as the kernel's worker runs it */
	CHECK_EQ(stats().events, before.events + 2);
	CHECK(page_poisoned(pfn_to_page(mc_pfn[0])) && page_poisoned(pfn_to_page(mc_pfn[1])));
	vm_page_info(mm, UVA, &pi);
	CHECK(pi.state == VM_PAGE_POISON);
	/* Early kill, and no longer action required: BUS_MCEERR_AO, not AR. */
	CHECK_EQ(stats().signalled_ao, before.signalled_ao + 1);
	CHECK_EQ(stats().signalled_ar, before.signalled_ar);
	CHECK_EQ(memory_failure_queue_run(), 0); /* nothing left */
	fake_task_free(t);
	mm_put(mm);
	fake_cpu_count = 1;
}

TEST(mf_queue_overflow_is_counted_and_reported)
{
	static pfn_t p[MF_QUEUE_LEN + 1];
	fresh();
	for (unsigned i = 0; i <= MF_QUEUE_LEN; i++) {
		struct page *pg = frame_alloc(0, PG_KERNEL); /* distinct frames: held, then freed */
		REQUIRE(pg);
		p[i] = page_to_pfn(pg);
	}
	for (unsigned i = 0; i <= MF_QUEUE_LEN; i++)
		frame_free(pfn_to_page(p[i]), 0);
	struct mf_stats before = stats();
	fake_cpu_id = 1;
	for (unsigned i = 0; i < MF_QUEUE_LEN; i++)
		CHECK_EQ(memory_failure_queue(p[i], 0), 0);
	CHECK_EQ(memory_failure_queue(p[MF_QUEUE_LEN], 0), -ENOSPC);
	CHECK_EQ(stats().queue_overflows, before.queue_overflows + 1);
	CHECK_EQ(stats().queue_lost_pfn, p[MF_QUEUE_LEN]);
	CHECK_EQ(stats().queued, before.queued + MF_QUEUE_LEN);
	fake_cpu_id = 0; /* CPU 0's queue is its own, with room */
	CHECK_EQ(memory_failure_queue(p[MF_QUEUE_LEN], 0), 0);
	CHECK_EQ(stats().events, before.events);

	CHECK_EQ(memory_failure_queue_run(), MF_QUEUE_LEN + 1);
	char want[128];
	snprintf(want, sizeof want, "memory_failure: queue full: %lu memory failure(s) lost so "
		 "far, the last at pfn %#lx", (unsigned long)(before.queue_overflows + 1),
		 (unsigned long)p[MF_QUEUE_LEN]);
	CHECK(strstr(fake_console, want) != NULL);
	for (unsigned i = 0; i <= MF_QUEUE_LEN; i++)
		CHECK(page_poisoned(pfn_to_page(p[i])));
	CHECK_EQ(stats().events, before.events + MF_QUEUE_LEN + 1);
	fake_console_clear();
	CHECK_EQ(memory_failure_queue_run(), 0);
	CHECK(strstr(fake_console, "queue full") == NULL); /* reported once */
	fake_cpu_count = 1;
}
