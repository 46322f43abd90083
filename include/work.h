/* Deferred work: run a function soon, in process context, on a kernel worker.
 *
 * Code that may not block or print (the #MC handler, CMCI, the poll timer, NMI) marks a work
 * item pending with work_queue(). The scheduler's kernel workers (kernel/proc/sched.c, one per
 * CPU) call work_run_pending(), which runs every pending item once. Workers are picked ahead of
 * every user task, and work_queue() has the CPU it runs on schedule at its next chance (its
 * return from the interrupt or syscall, or the next timer tick at the latest), so queued work
 * never waits for an idle CPU (docs/tasks.md, "Kernel workers"). Items are static and
 * registered at boot; queueing is two atomic stores and a flag on the running task, so it is
 * safe in any context, #MC and NMI included. */
#pragma once
#include "types.h"

struct work {
	void (*fn)(void *arg);
	void *arg;
	uint32_t pending; /* 1 while queued (set by work_queue, cleared before fn runs) */
	uint32_t running; /* 1 while a worker runs fn (one at a time) */
	const char *name;
};

#define WORK_MAX 16 /* registered items; a static table, so no allocation */

/* Register w (fn, arg and name already set) with the runner. Returns 0, or -ENOSPC when the
 * table is full. Process context, at boot. */
int work_register(struct work *w);
/* Mark w pending and kick this CPU's scheduler; w runs once soon, even if queued several times
 * before. An item never runs on two workers at once: queued while it runs, it runs again
 * after. Any context, #MC and NMI included (no lock). */
void work_queue(struct work *w);
/* Run every pending item (each with pending cleared first, so it may requeue itself).
 * Returns how many runs there were. Process context; concurrent callers skip an item another
 * caller is running, which then runs it again if it was queued meanwhile. */
unsigned work_run_pending(void);
/* Whether an item was queued since the last work_run_pending began (a hint: the scheduler
 * reads it to decide whether to wake a worker). Any context. */
bool work_pending(void);
/* Install kick, which work_queue calls after marking an item: it must make this CPU
 * schedule soon without taking a lock (it may run in #MC/NMI). NULL: no kick (host tests).
 * Boot, before work is queued from other CPUs. */
void work_set_kick(void (*kick)(void));
