/* Deferred work: run a function later, in process context, on whichever CPU is idle first.
 *
 * Code that may not block or print (the #MC handler, CMCI, the poll timer) marks a work item
 * pending with work_queue(); the idle loops of the boot CPU and the application processors call
 * work_run_pending(), which runs every pending item once. Items are static and registered at
 * boot; queueing is a single atomic store, so it is safe in any context, #MC and NMI included.
 * Once the scheduler exists, a kernel worker task calls work_run_pending() instead. */
#pragma once
#include "types.h"

struct work {
	void (*fn)(void *arg);
	void *arg;
	uint32_t pending; /* 1 while queued (set by work_queue, cleared before fn runs) */
	const char *name;
};

#define WORK_MAX 16 /* registered items; a static table, so no allocation */

/* Register w (fn, arg and name already set) with the runner. Returns 0, or -ENOSPC when the
 * table is full. Process context, at boot. */
int work_register(struct work *w);
/* Mark w pending; it runs once soon, even if queued several times before. Any context. */
void work_queue(struct work *w);
/* Run every pending item (each with pending cleared first, so it may requeue itself).
 * Returns how many ran. Process context; concurrent callers skip items another CPU runs. */
unsigned work_run_pending(void);
