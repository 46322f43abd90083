/* From grades to one action: what a CPU does about the records of one machine-check event.
 *
 * Each record asks for something on its own (mce_judge): nothing for NO, a log line for KEEP,
 * SOME and UC, memory_failure of its frame from a worker for AO and UCNA when the address is
 * usable, action-required handling for AR, a panic for PANIC. mce_decide picks the strongest
 * of those and then applies the rules that only make sense for the event as a whole, in the
 * #MC handler only:
 *   - no record graded above KEEP and RIPV clear: the #MC has no known cause and nothing can be
 *     resumed: panic "Machine check from unknown source";
 *   - user mode with RIPV clear: the interrupted task cannot be resumed: it must be killed
 *     (for AR it is signalled anyway; must_kill tells memory_failure not to let it continue).
 * Kernel mode with RIPV clear never gets here: the grading table already panics for it.
 * Records from the poller or CMCI never panic and never act on the current task.
 * Nothing here has side effects; the caller performs the action. */
#include "mce.h"

static const char *const action_names[MCE_ACT_COUNT] = {
    [MCE_ACT_NONE] = "none",
    [MCE_ACT_LOG] = "log",
    [MCE_ACT_QUEUE_MF] = "queue-memory-failure",
    [MCE_ACT_KILL_TASK] = "kill-task",
    [MCE_ACT_AR_KERNEL] = "ar-kernel-fixup",
    [MCE_ACT_AR_USER] = "ar-user",
    [MCE_ACT_PANIC] = "panic",
};

const char *mce_action_name(enum mce_action a)
{
	if ((unsigned)a >= MCE_ACT_COUNT)
		return "?";
	return action_names[a];
}

static bool is_corrected(const struct mce_record *r)
{
	return (r->status & MCI_STATUS_VAL) && !(r->status & MCI_STATUS_UC);
}

/* The action a graded record asks for by itself, policy knobs included. */
static enum mce_action record_action(const struct mce_record *r, const struct mce_ctx *ctx,
				     const struct mce_verdict *v)
{
	switch (v->grade) {
	case MCE_NO:
		return MCE_ACT_NONE;
	case MCE_PANIC:
		return MCE_ACT_PANIC;
	case MCE_AR:
		return mce_where(r, ctx) == MCE_IN_USER ? MCE_ACT_AR_USER : MCE_ACT_AR_KERNEL;
	case MCE_AO:
	case MCE_UCNA:
		return v->addr_ok ? MCE_ACT_QUEUE_MF : MCE_ACT_LOG;
	case MCE_KEEP:
		if (is_corrected(r) && ctx->panic_on_ce)
			return MCE_ACT_PANIC;
		if (is_corrected(r) && ctx->ignore_ce)
			return MCE_ACT_NONE;
		return MCE_ACT_LOG;
	default:
		return MCE_ACT_LOG;
	}
}

void mce_judge(const struct mce_record *r, const struct mce_ctx *ctx, struct mce_verdict *v)
{
	v->grade = mce_grade(r, ctx, &v->msg);
	v->addr_ok = mce_addr_decode(r, &v->paddr) == 0;
	if (!v->addr_ok)
		v->paddr = (struct mce_paddr){0, 0, 0};
	v->action = record_action(r, ctx, v);
	if (v->action == MCE_ACT_PANIC && v->grade == MCE_KEEP)
		v->msg = MCE_MSG_PANIC_ON_CE;
}

/* Take record i as the deciding one if it asks for more than the current decision. */
static void consider(struct mce_decision *d, const struct mce_verdict *v, int i)
{
	if (v->grade > d->worst)
		d->worst = v->grade;
	if (v->action == MCE_ACT_QUEUE_MF)
		d->n_queue++;
	if (v->action >= MCE_ACT_LOG)
		d->n_log++;
	if (d->idx >= 0 && v->action <= d->action)
		return;
	if (d->idx < 0 && v->action == MCE_ACT_NONE)
		return;
	d->action = v->action;
	d->idx = i;
	d->msg = v->msg;
	d->addr_ok = v->addr_ok;
	d->paddr = v->paddr;
}

/* The #MC-only rules about the event as a whole (see the top of the file). */
static void apply_mc_rules(struct mce_decision *d, const struct mce_ctx *ctx)
{
	bool ripv = ctx->mcg_status & MCG_STATUS_RIPV;

	if (d->action == MCE_ACT_PANIC || ripv)
		return;
	if (d->worst <= MCE_KEEP) {
		d->action = MCE_ACT_PANIC;
		d->msg = MCE_MSG_UNKNOWN_SOURCE;
		d->idx = -1;
		d->addr_ok = false;
		return;
	}
	if (!ctx->user_mode)
		return;
	if (d->action == MCE_ACT_AR_USER) {
		d->must_kill = true;
	} else if (d->action < MCE_ACT_KILL_TASK) {
		d->action = MCE_ACT_KILL_TASK;
		d->msg = MCE_MSG_NO_RESTART;
	}
}

void mce_decide(const struct mce_record *recs, size_t n, const struct mce_ctx *ctx,
		struct mce_decision *d, struct mce_verdict *verdicts)
{
	struct mce_verdict v;

	*d = (struct mce_decision){.action = MCE_ACT_NONE, .worst = MCE_NO, .idx = -1};
	for (size_t i = 0; i < n; i++) {
		mce_judge(&recs[i], ctx, &v);
		if (verdicts)
			verdicts[i] = v;
		consider(d, &v, (int)i);
	}
	if (ctx->in_mc)
		apply_mc_rules(d, ctx);
}

void mce_decision_merge(struct mce_decision *acc, const struct mce_decision *other)
{
	unsigned n_queue = acc->n_queue + other->n_queue;
	unsigned n_log = acc->n_log + other->n_log;
	enum mce_grade worst = MAX(acc->worst, other->worst);

	if (other->action > acc->action ||
	    (other->action == acc->action && other->worst > acc->worst))
		*acc = *other;
	acc->n_queue = n_queue;
	acc->n_log = n_log;
	acc->worst = worst;
}
