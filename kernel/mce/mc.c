/* The machine-check exception: from the arch #MC entry to a decision, on every CPU involved.
 *
 * A broadcast machine check (the usual kind on Intel) reaches every CPU, and only together do
 * they know how bad it is, so they meet: each CPU counts itself in (rv.arrived); the first to
 * arrive is the monarch. Once all online CPUs are in (or mce.monarch_timeout_ms has passed),
 * they read their banks one after the other in arrival order (banks shared between hardware
 * threads are then read and cleared by one of them only), each grading its own records with
 * mce_decide. The monarch folds the decisions into one with mce_decision_merge and publishes
 * it; every CPU then acts on it: panic (the monarch prints every CPU's records and panics, the
 * others wait for its stop NMI), or log its records, clear its banks and do its own part (the
 * exception fixup for SRAR in a kernel user copy, the user-recovery hook for SRAR in user mode).
 * The last CPU out resets the meeting. A CPU that never arrives makes the rendezvous time out:
 * with mce.timeout_panic (default) that alone panics with MCE_MSG_TIMEOUT; a panic decided by
 * the grading keeps its own message. A local machine check (MCG_STATUS.LMCES with LMCE
 * enabled), a single CPU, or mce.monarch_timeout_ms=0 skip the meeting.
 *
 * Everything here runs in #MC context: no locks, no printk (until the panic path, which sets
 * printk's panic mode first), no allocation; records go to the lock-free #MC ring. A second #MC
 * while MCG_STATUS.MCIP is still set shuts the processor down (SDM 15.10.1): MCIP is cleared
 * only at the very end. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "mce_priv.h"
#include "memory_failure.h"
#include "panic.h"
#include "percpu.h"
#include "printk.h"

#define NS_PER_MS 1000000ull

/* One CPU's view of the current event. */
struct mc_cpu {
	struct mce_record recs[MCE_MAX_BANKS];
	struct mce_verdict v[MCE_MAX_BANKS];
	unsigned n;
	struct mce_ctx ctx;
	struct mce_decision d;
	uint64_t ip;
	bool injected;
	bool present; /* scanned in this event (the monarch merges these) */
};
static DEFINE_PER_CPU(struct mc_cpu, mc_cpus);

/* The meeting of one broadcast event. */
static struct {
	uint32_t arrived, scanned, released, left, timed_out;
	struct mce_decision global;
} rv;

static uint64_t timeout_ns(void)
{
	return mce_cfg.monarch_timeout_ms * NS_PER_MS;
}

/* Spin until *word >= want (acquire) or the deadline passes; false on timeout. */
static bool wait_ge(const uint32_t *word, uint32_t want, uint64_t deadline)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < want) {
		if (arch_time_ns() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

/* A record the #MC handler takes (logs and clears); the rest (corrected errors, errors not
 * signalled) stay in the bank for the poller. */
static bool taken(const struct mce_verdict *v)
{
	return v->grade > MCE_KEEP || v->action == MCE_ACT_PANIC;
}

/* Read this CPU's banks and decide about them on its own. */
static void mc_scan(struct mc_cpu *me, uint64_t mcg, uint64_t cs)
{
	unsigned nb = mce_nbanks();

	me->n = 0;
	mce_ctx_init(&me->ctx, true, mcg);
	me->ctx.user_mode = mce_cs_is_user(cs);
	me->ctx.kernel_fixup = !me->ctx.user_mode && arch_mca_fixup(me->ip) != 0;
	for (unsigned b = 0; b < nb; b++) {
		struct mce_record *r = &me->recs[me->n];

		mce_read_bank(b, mcg, MCE_SRC_MC, r);
		if (!(r->status & MCI_STATUS_VAL))
			continue;
		r->ip = me->ip;
		r->cs = (uint16_t)cs;
		me->n++;
	}
	mce_decide(me->recs, me->n, &me->ctx, &me->d, me->v);
	me->present = true;
}

/* The real panic: print every CPU's records and the reason, then stop. Monarch only. */
static __noreturn void mc_panic(const struct mce_decision *g, bool timed_out)
{
	printk_set_panic();
	for (unsigned c = 0; c < arch_cpu_count() && c < MAX_CPUS; c++) {
		const struct mc_cpu *m = per_cpu_ptr(mc_cpus, c);

		if (!m->present)
			continue;
		for (unsigned i = 0; i < m->n; i++)
			if (taken(&m->v[i]))
				mce_print_record(&m->recs[i], &m->v[i], true);
	}
	if (timed_out)
		printk(KERN_EMERG "mce: %s\n", MCE_MSG_TIMEOUT);
	printk(KERN_EMERG MCE_HW_ERR "Machine check: %s\n", g->msg ? g->msg : "?");
	panic("%s", g->msg ? g->msg : "machine check");
}

/* Log and clear this CPU's taken records; flag the one the user-mode hook must see. */
static void mc_log_own(struct mc_cpu *me, bool clear)
{
	const struct mce_decision *d = &me->d;
	/* A real user-mode consumer is recovered on its own way back to user mode (mc_act); the
	 * log hook only handles records injected with a faked user context. */
	bool user = (d->action == MCE_ACT_AR_USER || d->action == MCE_ACT_KILL_TASK) && me->injected;

	for (unsigned i = 0; i < me->n; i++) {
		uint8_t flags = 0;

		if (!taken(&me->v[i]))
			continue;
		if (user && (int)i == d->idx)
			flags = (uint8_t)(MCE_LOGF_USER_HOOK |
					  (d->must_kill || d->action == MCE_ACT_KILL_TASK
						   ? MCE_LOGF_MUST_KILL
						   : 0));
		mce_log_record(MCE_RING_MC, &me->recs[i], &me->v[i], flags);
		if (clear)
			mce_clear_bank(me->recs[i].bank);
	}
}

/* The interrupted user task consumed poison: have its return to user mode run memory_failure
 * (MF_ACTION_REQUIRED) and signal it. Lock-free: only the task's own fields are written. */
static void mc_notify_task(const struct mc_cpu *me)
{
	const struct mce_decision *d = &me->d;
	const struct mce_verdict *v = d->idx >= 0 ? &me->v[d->idx] : NULL;
	int flags = (d->must_kill || d->action == MCE_ACT_KILL_TASK) ? MF_MUST_KILL : 0;
	if (v && v->addr_ok)
		mf_task_notify(v->paddr.pfn, v->paddr.lsb, flags, me->recs[d->idx].tsc);
	else
		mf_task_notify(MF_NO_PFN, 0, MF_MUST_KILL, 0);
}

/* Act on the event's decision g on this CPU. Returns the address to resume at, or 0. */
static uint64_t mc_act(struct mc_cpu *me, const struct mce_decision *g, bool monarch,
		       bool timed_out, uint32_t arrived)
{
	uint64_t resume = 0;

	if (g->action == MCE_ACT_PANIC && !mce_cfg.fake_panic) {
		MCE_COUNT(panics);
		if (monarch)
			mc_panic(g, timed_out);
		for (;;) /* the monarch's panic stops this CPU with an NMI */
			arch_cpu_relax();
	}
	if (monarch && timed_out)
		mce_log_event(MCE_RING_MC, MCE_LOG_TIMEOUT, 0, NULL, arrived);
	mc_log_own(me, true);
	if (g->action == MCE_ACT_PANIC)
		return 0; /* fake panic: reported by the last CPU out (rendezvous_leave) */
	if (me->d.action == MCE_ACT_AR_USER || me->d.action == MCE_ACT_KILL_TASK) {
		MCE_COUNT(ar_user);
		if (!me->injected)
			mc_notify_task(me);
	}
	if (me->d.action == MCE_ACT_AR_KERNEL) {
		MCE_COUNT(ar_kernel_fixups);
		if (!me->injected)
			resume = arch_mca_fixup(me->ip);
	}
	return resume;
}

/* The monarch: wait for every arrived CPU's scan, merge, publish. */
static void monarch_merge(bool timed_out)
{
	uint32_t arrived = __atomic_load_n(&rv.arrived, __ATOMIC_ACQUIRE);
	struct mce_decision g = {.action = MCE_ACT_NONE, .worst = MCE_NO, .idx = -1};
	bool first = true;

	wait_ge(&rv.scanned, arrived, arch_time_ns() + timeout_ns());
	for (unsigned c = 0; c < arch_cpu_count() && c < MAX_CPUS; c++) {
		const struct mc_cpu *m = per_cpu_ptr(mc_cpus, c);

		if (!__atomic_load_n(&m->present, __ATOMIC_ACQUIRE))
			continue;
		if (first)
			g = m->d;
		else
			mce_decision_merge(&g, &m->d);
		first = false;
	}
	if (timed_out) {
		MCE_COUNT(timeouts);
		if (g.action != MCE_ACT_PANIC && mce_cfg.timeout_panic) {
			g.action = MCE_ACT_PANIC;
			g.msg = MCE_MSG_TIMEOUT;
			g.idx = -1;
		}
	}
	rv.global = g;
	__atomic_store_n(&rv.released, 1, __ATOMIC_RELEASE);
}

/* The last CPU out resets the meeting for the next event. */
static void rendezvous_leave(void)
{
	uint32_t arrived = __atomic_load_n(&rv.arrived, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&rv.left, 1, __ATOMIC_ACQ_REL) < arrived)
		return;
	if (__atomic_load_n(&rv.released, __ATOMIC_ACQUIRE) && rv.global.action == MCE_ACT_PANIC)
		mce_log_fake_panic(rv.global.msg);
	for (unsigned c = 0; c < arch_cpu_count() && c < MAX_CPUS; c++)
		__atomic_store_n(&per_cpu_ptr(mc_cpus, c)->present, false, __ATOMIC_RELAXED);
	rv.scanned = rv.released = rv.left = rv.timed_out = 0;
	__atomic_store_n(&rv.arrived, 0, __ATOMIC_RELEASE);
}

static uint64_t mc_rendezvous(struct mc_cpu *me, uint64_t mcg, uint64_t cs)
{
	uint32_t order = __atomic_add_fetch(&rv.arrived, 1, __ATOMIC_ACQ_REL);
	uint32_t ncpu = arch_cpu_count();
	bool monarch = order == 1, timed_out;
	struct mce_decision g;
	uint64_t resume;

	if (!wait_ge(&rv.arrived, ncpu, arch_time_ns() + timeout_ns()))
		__atomic_store_n(&rv.timed_out, 1, __ATOMIC_RELEASE);
	wait_ge(&rv.scanned, order - 1, arch_time_ns() + timeout_ns());
	mc_scan(me, mcg, cs);
	__atomic_add_fetch(&rv.scanned, 1, __ATOMIC_ACQ_REL);
	timed_out = __atomic_load_n(&rv.timed_out, __ATOMIC_ACQUIRE);
	if (monarch)
		monarch_merge(timed_out);
	if (wait_ge(&rv.released, 1, arch_time_ns() + 2 * timeout_ns()))
		g = rv.global;
	else
		g = me->d; /* the monarch vanished: decide alone */
	resume = mc_act(me, &g, monarch, timed_out, __atomic_load_n(&rv.arrived, __ATOMIC_ACQUIRE));
	rendezvous_leave();
	return resume;
}

uint64_t mce_handle_mc(const struct mce_entry *e)
{
	unsigned cpu = arch_cpu_id();
	struct mc_cpu *me = per_cpu_ptr(mc_cpus, cpu);
	uint64_t mcg = arch_mcg_read(MCG_REG_STATUS), cs = e->cs, resume;
	bool local;

	MCE_COUNT(mc_events);
	mce_count_event(MCE_EV_MC);
	if ((int)cpu == mce_cfg.no_rendezvous_cpu) {
		MCE_COUNT(mc_skipped);
		mce_log_event(MCE_RING_MC, MCE_LOG_SKIPPED, 0, NULL, 0);
		arch_mcg_write(MCG_REG_STATUS, 0);
		return 0;
	}
	me->ip = e->ip;
	me->injected = mce_inject_take_context(&me->ip, &cs);
	local = ((mcg & MCG_STATUS_LMCES) && mce_lmce_active()) || arch_cpu_count() == 1 ||
		mce_cfg.monarch_timeout_ms == 0;
	if (local) {
		mc_scan(me, mcg, cs);
		resume = mc_act(me, &me->d, true, false, 1);
		if (me->d.action == MCE_ACT_PANIC)
			mce_log_fake_panic(me->d.msg);
		me->present = false;
	} else {
		resume = mc_rendezvous(me, mcg, cs);
	}
	arch_mcg_write(MCG_REG_STATUS, 0);
	return resume;
}
