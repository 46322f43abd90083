/* Private interface between the memory_failure files of kernel/mm: the core
 * (memory_failure.c), its deferred queue (mf_queue.c) and its control files (hwpoison_ctl.c). */
#pragma once
#include "types.h"

struct page;

/* The vm.memory_failure_* sysctls (memory_failure.c reads them). */
extern int sysctl_memory_failure_recovery;   /* 0: any memory failure panics */
extern int sysctl_memory_failure_early_kill; /* 1: kill every mapper at once (AO) */

/* memory_failure.c: count an entry taken by the queue / one dropped (full), with its pfn.
 * Any context (atomic counters). */
void mf_count_queued(void);
void mf_count_overflow(pfn_t pfn);
/* mf_queue.c: set up the per-CPU queues and register the work item. Boot; repeat is a no-op. */
void mf_queue_init(void);
/* hwpoison_ctl.c: register the sysctls and /sys/kernel/debug/hwpoison/. Boot; once. */
void mf_ctl_init(void);

/* memory_failure.c: the row of its state table (mf_states) that memory_failure would pick for
 * pg now, whether or not pg is poisoned; how many rows there are; a row's name (NULL past
 * the end). For the frame-state files of mf_debug.c. Any context but #MC. */
unsigned mf_state_index(const struct page *pg);
unsigned mf_state_count(void);
const char *mf_state_name(unsigned i);
/* mf_debug.c: register /sys/kernel/debug/mcrk/frame_state, frame_state_names and frame_info.
 * Boot; once. */
void mf_debug_init(void);
