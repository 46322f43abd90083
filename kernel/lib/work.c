/* Deferred work (include/work.h): a fixed table of items, each with a pending flag that any
 * context may set and that the kernel workers consume. A worker claims an item's running flag
 * before it runs it, so when two workers run the table at once each item runs on one, and
 * runs again if it was queued while it ran. Queueing sets the item's flag, then the
 * any_pending hint, then kicks the scheduler (in that order: a worker that sees the hint
 * finds the item). */
#include "kerrno.h"
#include "work.h"

static struct work *items[WORK_MAX];
static uint32_t n_items;
static uint32_t any_pending; /* hint: some item was queued since the last run began */
static void (*kick_fn)(void);

int work_register(struct work *w)
{
	uint32_t n = __atomic_load_n(&n_items, __ATOMIC_ACQUIRE);

	if (n >= WORK_MAX)
		return -ENOSPC;
	items[n] = w;
	__atomic_store_n(&n_items, n + 1, __ATOMIC_RELEASE);
	return 0;
}

void work_set_kick(void (*kick)(void)) { __atomic_store_n(&kick_fn, kick, __ATOMIC_RELEASE); }

void work_queue(struct work *w)
{
	void (*kick)(void) = __atomic_load_n(&kick_fn, __ATOMIC_ACQUIRE);

	__atomic_store_n(&w->pending, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&any_pending, 1, __ATOMIC_SEQ_CST);
	if (kick)
		kick();
}

bool work_pending(void) { return __atomic_load_n(&any_pending, __ATOMIC_SEQ_CST); }

/* Run w for as long as it is pending, unless another worker runs it. */
static unsigned run_item(struct work *w)
{
	unsigned ran = 0;

	if (!__atomic_load_n(&w->pending, __ATOMIC_ACQUIRE) ||
	    __atomic_exchange_n(&w->running, 1, __ATOMIC_ACQ_REL))
		return 0; /* not queued, or the worker running it will see the new pending */
	while (__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL)) {
		w->fn(w->arg);
		ran++;
	}
	__atomic_store_n(&w->running, 0, __ATOMIC_SEQ_CST);
	/* Queued after the last check by someone who saw us running: the hint brings a worker
	 * (ours loops while work_pending) back to it. */
	if (__atomic_load_n(&w->pending, __ATOMIC_SEQ_CST))
		__atomic_store_n(&any_pending, 1, __ATOMIC_SEQ_CST);
	return ran;
}

unsigned work_run_pending(void)
{
	uint32_t n = __atomic_load_n(&n_items, __ATOMIC_ACQUIRE);
	unsigned ran = 0;

	if (!__atomic_exchange_n(&any_pending, 0, __ATOMIC_ACQ_REL))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		ran += run_item(items[i]);
	return ran;
}
