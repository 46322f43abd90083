/* Sleeping locks for process context: a task that finds the lock taken sleeps until the
 * holder lets go, instead of spinning. The VFS holds them across user copies (which may
 * fault and take mm->lock), so they order before every spinlock: never take one while
 * holding a spinlock, never in IRQ, #MC or NMI context. Not recursive. */
#pragma once
#include "task.h"
#include "types.h"

struct mutex {
	uint32_t state; /* 0 free, 1 held, 2 held and someone may be waiting (atomic) */
	struct task *owner;
	struct wait_queue waiters;
};

/* Set up a free mutex. */
void mutex_init(struct mutex *m);
/* Take m, sleeping while another task holds it. Process context, no spinlock held. A signal
 * does not interrupt the wait. */
void mutex_lock(struct mutex *m);
/* Take m if it is free: true when taken. Any context that may hold it. */
bool mutex_trylock(struct mutex *m);
/* Release m (taken by the current task) and wake a waiter. Process context. */
void mutex_unlock(struct mutex *m);
/* Whether the current task holds m (assertions). */
bool mutex_held(const struct mutex *m);
