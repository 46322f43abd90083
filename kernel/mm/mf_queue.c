/* memory_failure_queue: hand a broken frame to memory_failure from a context that cannot run
 * it (#MC, NMI, an interrupt handler), as Linux's memory_failure_queue does with a per-CPU
 * kfifo and a work item.
 *
 * Each CPU has a lock-free multi-producer ring (include/ring.h) of (pfn, flags) entries, so a
 * #MC that interrupts a push on the same CPU pushes too and nobody waits. Queueing marks the
 * deferred work item "memory-failure" pending (work.h); the item empties every CPU's ring in
 * process context and runs memory_failure for each entry. Nothing about the frame changes
 * until then. A full ring drops the entry: the drop is counted (mf_stats.queue_overflows, with
 * the pfn), and the next run of the work item says so in the log. */
#include "arch/cpu.h"
#include "kerrno.h"
#include "memory_failure.h"
#include "mf_priv.h"
#include "printk.h"
#include "ring.h"
#include "spinlock.h"
#include "work.h"

struct mf_qent {
	pfn_t pfn;
	int flags;
};

#define QSLOT RING_MP_SLOT_SIZE(sizeof(struct mf_qent))

static uint64_t qbuf[MAX_CPUS][MF_QUEUE_LEN * QSLOT / sizeof(uint64_t)];
static struct ring_mp queues[MAX_CPUS];
static bool queues_ready;
static spinlock_t run_lock = SPINLOCK_INIT; /* one consumer of the rings at a time */
static uint64_t overflows_reported;

static void work_fn(void *arg);
static struct work mf_work = {.fn = work_fn, .name = "memory-failure"};

void mf_queue_init(void)
{
	if (__atomic_load_n(&queues_ready, __ATOMIC_ACQUIRE))
		return;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		ring_mp_init(&queues[c], qbuf[c], sizeof(struct mf_qent), MF_QUEUE_LEN);
	if (work_register(&mf_work))
		printk(KERN_ERR "memory_failure: no room for the work item: queued memory "
				"failures run only when memory_failure_queue_run is called\n");
	__atomic_store_n(&queues_ready, true, __ATOMIC_RELEASE);
}

int memory_failure_queue(pfn_t pfn, int flags)
{
	struct mf_qent e = {pfn, flags & ~MF_ACTION_REQUIRED};
	unsigned cpu = arch_cpu_id();

	if (!__atomic_load_n(&queues_ready, __ATOMIC_ACQUIRE) || cpu >= MAX_CPUS ||
	    !ring_mp_push(&queues[cpu], &e)) {
		mf_count_overflow(pfn);
		work_queue(&mf_work); /* so that the loss is reported */
		return -ENOSPC;
	}
	mf_count_queued();
	work_queue(&mf_work);
	return 0;
}

static void report_overflows(void)
{
	struct mf_stats s;

	mf_get_stats(&s);
	if (s.queue_overflows == overflows_reported)
		return;
	printk(KERN_ERR "memory_failure: queue full: %lu memory failure(s) lost so far, the last "
			"at pfn %#lx\n", s.queue_overflows, s.queue_lost_pfn);
	overflows_reported = s.queue_overflows;
}

unsigned memory_failure_queue_run(void)
{
	struct mf_qent e;
	unsigned ran = 0;
	bool left = false;

	if (!__atomic_load_n(&queues_ready, __ATOMIC_ACQUIRE) || !spin_trylock(&run_lock))
		return 0;
	report_overflows();
	for (unsigned c = 0; c < MAX_CPUS; c++)
		while (ring_mp_pop(&queues[c], &e)) {
			memory_failure(e.pfn, e.flags);
			ran++;
		}
	spin_unlock(&run_lock);
	/* An entry pushed after its ring was looked at, whose work_queue found this run in
	 * progress, would wait for the next error: look once more after letting go. */
	for (unsigned c = 0; c < MAX_CPUS && !left; c++)
		left = !ring_mp_empty(&queues[c]);
	if (left)
		work_queue(&mf_work);
	return ran;
}

static void work_fn(void *arg)
{
	(void)arg;
	memory_failure_queue_run();
}
