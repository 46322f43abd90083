/* Deferred work (include/work.h): a fixed table of items, each with a pending flag that any
 * context may set and that the idle loops (later a kernel worker) consume. The flag is claimed
 * with an atomic exchange, so when two CPUs run the table at once each item runs on one. */
#include "kerrno.h"
#include "work.h"

static struct work *items[WORK_MAX];
static uint32_t n_items;
static uint32_t any_pending; /* hint: some item was queued since the last run */

int work_register(struct work *w)
{
	uint32_t n = __atomic_load_n(&n_items, __ATOMIC_ACQUIRE);

	if (n >= WORK_MAX)
		return -ENOSPC;
	items[n] = w;
	__atomic_store_n(&n_items, n + 1, __ATOMIC_RELEASE);
	return 0;
}

void work_queue(struct work *w)
{
	__atomic_store_n(&w->pending, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&any_pending, 1, __ATOMIC_RELEASE);
}

unsigned work_run_pending(void)
{
	uint32_t n = __atomic_load_n(&n_items, __ATOMIC_ACQUIRE);
	unsigned ran = 0;

	if (!__atomic_exchange_n(&any_pending, 0, __ATOMIC_ACQ_REL))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct work *w = items[i];

		if (!__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL))
			continue;
		w->fn(w->arg);
		ran++;
	}
	return ran;
}
