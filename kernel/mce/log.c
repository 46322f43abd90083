/* The machine-check log: per-CPU lock-free rings written where errors are found (#MC, CMCI,
 * the poll timer) and drained in process context by deferred work on a kernel worker.
 *
 * Each CPU has two single-producer rings: one only its #MC handler writes, one only its
 * interrupt-context code (poll, CMCI, with interrupts off) writes, so a #MC arriving in the
 * middle of a poll never shares a producer. The single consumer is whoever holds drain_lock
 * (a trylock: a CPU that finds the drain busy leaves it to the other, which looks at the rings
 * again before it stops). A full ring drops the new entry and counts it; the drain reports the
 * drops. The drain prints each record the way Linux prints hardware errors plus one decoded
 * line, then runs the hooks the record asks for: memory_failure_queue
 * (include/memory_failure.h) for AO/UCNA frames and for kernel SRAR, so the record is on the
 * console before its consequences; the user-recovery hook for a record injected with a faked
 * user-mode SRAR context. A corrected memory error goes to the corrected-error collector
 * first, which keeps it off the console until its frame's count reaches the threshold, as
 * Linux's does (mce.print_all prints it anyway); the collector's soft offlines run after each
 * pass has let go of the rings. */
#include "arch/cpu.h"
#include "mce_cec.h"
#include "mce_priv.h"
#include "memory_failure.h"
#include "percpu.h"
#include "printk.h"
#include "spinlock.h"
#include "work.h"

#define FMT_BUF 640

/* One CPU's rings and their entries. */
struct log_cpu {
	struct mce_logent buf[MCE_RING_COUNT][MCE_RING_SIZE];
	struct ring rings[MCE_RING_COUNT];
	bool ready;
};
static DEFINE_PER_CPU(struct log_cpu, log_cpus);
static uint64_t dropped_seen;
static spinlock_t drain_lock = SPINLOCK_INIT;
static const char *fake_panic_msg; /* printed after the records of the event */

static void drain_work_fn(void *arg);
static struct work drain_work = {.fn = drain_work_fn, .name = "mce-drain"};
static bool drain_registered;

void mce_log_init_cpu(unsigned cpu)
{
	struct log_cpu *l = per_cpu_ptr(log_cpus, cpu);

	if (l->ready)
		return;
	for (int i = 0; i < MCE_RING_COUNT; i++)
		ring_init(&l->rings[i], l->buf[i], sizeof(struct mce_logent), MCE_RING_SIZE);
	if (!drain_registered && work_register(&drain_work) == 0)
		drain_registered = true;
	__atomic_store_n(&l->ready, true, __ATOMIC_RELEASE);
}

void mce_log_push(enum mce_ring_id id, const struct mce_logent *e)
{
	struct log_cpu *l = per_cpu_ptr(log_cpus, arch_cpu_id());

	if (!__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE) || !ring_push(&l->rings[id], e))
		MCE_COUNT(dropped);
	work_queue(&drain_work);
}

void mce_log_record(enum mce_ring_id id, const struct mce_record *r, const struct mce_verdict *v,
		    uint8_t flags)
{
	struct mce_logent e = {.rec = *r, .v = *v, .kind = MCE_LOG_RECORD, .flags = flags};

	MCE_COUNT(records);
	__atomic_fetch_add(&mce_stats_live.by_grade[v->grade], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&mce_stats_live.by_action[v->action], 1, __ATOMIC_RELAXED);
	if (r->source < ARRAY_SIZE(mce_stats_live.by_source))
		__atomic_fetch_add(&mce_stats_live.by_source[r->source], 1, __ATOMIC_RELAXED);
	mce_log_push(id, &e);
}

void mce_log_quiet(enum mce_ring_id id, const struct mce_record *r, const struct mce_verdict *v)
{
	struct mce_logent e = {.rec = *r, .v = *v, .kind = MCE_LOG_RECORD,
			       .flags = MCE_LOGF_CEC | MCE_LOGF_QUIET};

	mce_log_push(id, &e);
}

void mce_log_event(enum mce_ring_id id, enum mce_log_kind kind, unsigned bank, const char *text,
		   uint64_t arg)
{
	struct mce_logent e = {.kind = (uint8_t)kind, .text = text, .arg = arg};

	e.rec.cpu = arch_cpu_id();
	e.rec.bank = (uint8_t)bank;
	mce_log_push(id, &e);
}

void mce_log_fake_panic(const char *msg)
{
	MCE_COUNT(fake_panics);
	__atomic_store_n(&fake_panic_msg, msg ? msg : "?", __ATOMIC_RELEASE);
	work_queue(&drain_work);
}

void mce_print_record(const struct mce_record *r, const struct mce_verdict *v, bool panic)
{
	char buf[FMT_BUF];

	if (r->source == MCE_SRC_BOOT)
		printk(KERN_WARNING "mce: CPU %u Bank %u: error left over from before boot:\n",
		       r->cpu, r->bank);
	mce_format_record(buf, sizeof buf, r);
	if (panic)
		printk(KERN_EMERG "%s", buf);
	else
		printk(KERN_WARNING "%s", buf);
	mce_format_summary(buf, sizeof buf, r, v);
	if (panic)
		printk(KERN_EMERG "%s", buf);
	else
		printk(KERN_WARNING "%s", buf);
}

/* Hand a frame to memory_failure's deferred queue; counted as mf_queued once it is taken. */
static void queue_frame(pfn_t pfn, int flags)
{
	if (memory_failure_queue(pfn, flags) == 0)
		MCE_COUNT(mf_queued);
}

/* A record injected with a faked user-mode context: there is no consuming task to signal, so
 * the frame is recovered as for an AO error (real consumers are handled in mc.c). */
void mce_user_recovery_hook(pfn_t pfn, unsigned lsb, const struct mce_verdict *v, bool must_kill)
{
	printk(KERN_WARNING "mce: SRAR in (injected) user context at pfn %#llx (lsb %u, %s%s)\n",
	       (unsigned long long)pfn, lsb, v->addr_ok ? "address usable" : "no usable address",
	       must_kill ? ", must kill" : "");
	if (v->addr_ok)
		queue_frame(pfn, 0);
}

/* Run the hooks a record asks for (process context). */
static void record_hooks(const struct mce_logent *e)
{
	const struct mce_verdict *v = &e->v;

	if (e->flags & MCE_LOGF_USER_HOOK) {
		mce_user_recovery_hook(v->paddr.pfn, v->paddr.lsb, v,
				       e->flags & MCE_LOGF_MUST_KILL);
		return;
	}
	if (!v->addr_ok)
		return;
	/* A frame consumed by the kernel at a fixup: the copy already failed with -EFAULT, so no
	 * task is signalled for it; it is recovered as an action-optional frame. */
	if (v->action == MCE_ACT_QUEUE_MF)
		queue_frame(v->paddr.pfn, v->grade == MCE_UCNA ? MF_SRC_UCNA : 0);
	else if (v->action == MCE_ACT_AR_KERNEL)
		queue_frame(v->paddr.pfn, 0);
}

/* A corrected memory error is counted by the collector first. Whether the console shows it:
 * never when storm control suppressed it; else when the collector did not keep it (its frame
 * reached the threshold, or the collector is off) or mce.print_all asks for everything. */
static bool collector_keeps(const struct mce_logent *e)
{
	bool kept;

	if (!(e->flags & MCE_LOGF_CEC))
		return false;
	kept = mce_cec_take(e->v.paddr.pfn) && !mce_cfg.print_all;
	if (kept && !(e->flags & MCE_LOGF_QUIET))
		MCE_COUNT(cec_kept);
	return kept || (e->flags & MCE_LOGF_QUIET);
}

static void print_entry(const struct mce_logent *e)
{
	switch (e->kind) {
	case MCE_LOG_RECORD:
		if (collector_keeps(e))
			break;
		mce_print_record(&e->rec, &e->v, false);
		record_hooks(e);
		break;
	case MCE_LOG_TIMEOUT:
		printk(KERN_EMERG "mce: %s (%llu of %u CPUs arrived)\n", MCE_MSG_TIMEOUT,
		       (unsigned long long)e->arg, arch_cpu_count());
		break;
	case MCE_LOG_STORM_ON:
		printk(KERN_WARNING "mce: CPU %u Bank %u: corrected error storm: polling only, "
				    "logging rate-limited\n",
		       e->rec.cpu, e->rec.bank);
		break;
	case MCE_LOG_STORM_OFF:
		printk(KERN_INFO "mce: CPU %u Bank %u: storm over (%llu errors not logged): "
				 "back to normal\n",
		       e->rec.cpu, e->rec.bank, (unsigned long long)e->arg);
		break;
	case MCE_LOG_SKIPPED:
		printk(KERN_WARNING "mce: CPU %u ignored a machine check (mce.no_rendezvous_cpu)\n",
		       e->rec.cpu);
		break;
	}
}

static unsigned drain_locked(void)
{
	struct mce_logent e;
	unsigned n = 0, ncpu = arch_cpu_count();

	for (unsigned cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
		struct log_cpu *l = per_cpu_ptr(log_cpus, cpu);

		if (!__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE))
			continue;
		for (int i = 0; i < MCE_RING_COUNT; i++)
			while (ring_pop(&l->rings[i], &e)) {
				print_entry(&e);
				n++;
			}
	}
	return n;
}

/* Whether any ring holds an entry (a snapshot). */
static bool rings_busy(void)
{
	for (unsigned cpu = 0; cpu < arch_cpu_count() && cpu < MAX_CPUS; cpu++) {
		struct log_cpu *l = per_cpu_ptr(log_cpus, cpu);

		for (int i = 0; i < MCE_RING_COUNT; i++)
			if (__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE) &&
			    ring_count(&l->rings[i]))
				return true;
	}
	return false;
}

/* One pass under drain_lock; returns entries printed, or -1 when another CPU drains. */
static int drain_once(void)
{
	unsigned n;
	uint64_t dropped;
	const char *msg;

	if (!spin_trylock(&drain_lock))
		return -1;
	n = drain_locked();
	msg = __atomic_exchange_n(&fake_panic_msg, NULL, __ATOMIC_ACQ_REL);
	if (msg) {
		n += drain_locked(); /* records another CPU pushed meanwhile come first */
		printk(KERN_EMERG "mce: fake panic: %s\n", msg);
	}
	dropped = __atomic_load_n(&mce_stats_live.dropped, __ATOMIC_RELAXED);
	if (dropped != dropped_seen) {
		printk(KERN_WARNING "mce: log rings full: %llu entries dropped so far\n",
		       (unsigned long long)dropped);
		dropped_seen = dropped;
	}
	spin_unlock(&drain_lock);
	mce_cec_run_actions();
	return (int)n;
}

/* A drain that finds another CPU draining leaves its entries to that one, which looks at the
 * rings again after letting go of the lock: an entry pushed meanwhile is never left behind
 * until the next error. */
unsigned mce_drain(void)
{
	unsigned total = 0;
	int n;

	while ((n = drain_once()) >= 0) {
		total += (unsigned)n;
		if (!rings_busy() && !__atomic_load_n(&fake_panic_msg, __ATOMIC_ACQUIRE))
			break;
	}
	return total;
}

static void drain_work_fn(void *arg)
{
	(void)arg;
	mce_drain();
}
