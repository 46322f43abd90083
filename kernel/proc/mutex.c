/* Sleeping locks (include/mutex.h). The fast path is one compare-and-swap. A task that finds
 * the lock taken marks it contended (state 2) and sleeps on its wait queue under sched_lock;
 * the unlocker that sees state 2 wakes the queue after it let go. Both look at the state
 * while holding sched_lock on the slow path, so a wake-up cannot fall between a waiter's
 * check and its sleep. */
#include "mutex.h"
#include "spinlock.h"

void mutex_init(struct mutex *m)
{
	m->state = 0;
	m->owner = NULL;
	wait_queue_init(&m->waiters);
}

bool mutex_trylock(struct mutex *m)
{
	uint32_t free = 0;

	if (!__atomic_compare_exchange_n(&m->state, &free, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	m->owner = current_task();
	return true;
}

void mutex_lock(struct mutex *m)
{
	if (mutex_trylock(m))
		return;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0)
		sleep_on_locked(&m->waiters);
	m->owner = current_task();
	spin_unlock_irqrestore(&sched_lock, f);
}

void mutex_unlock(struct mutex *m)
{
	m->owner = NULL;
	if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) == 2)
		wake_up(&m->waiters);
}

bool mutex_held(const struct mutex *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED) && m->owner == current_task();
}
