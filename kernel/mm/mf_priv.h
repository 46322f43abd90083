/* Private interface between the memory_failure files of kernel/mm: the core
 * (memory_failure.c), soft offline and unpoison (mf_soft.c), its deferred queue (mf_queue.c)
 * and its control files (hwpoison_ctl.c). */
#pragma once
#include "memory_failure.h"
#include "ctl.h"
#include "types.h"

struct mm;
struct page;
struct task;
struct thread_group;

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

/* ---- the mappings of a frame (memory_failure.c), for soft offline (mf_soft.c) ---- */
typedef void (*mf_mapping_fn)(struct mm *mm, vaddr_t va, void *arg);
/* Call fn(mm, va, arg) for every (address space, address) whose PTE maps pg, found through the
 * rmap and called with no rmap lock held (fn may take mm->lock and change the mapping; mm is
 * referenced meanwhile). One walk: 0, or -ENOMEM when some mappings could not be collected.
 * until_unmapped: walks again while pg has a mapping (one a fork added meanwhile), a few times
 * at most: 0, or -EBUSY when some remain. The caller holds a reference on pg. Process context. */
int mf_each_mapping(struct page *pg, bool until_unmapped, mf_mapping_fn fn, void *arg);
/* The name of what pg holds, as memory_failure's trace says it ("kernel heap", ...). Any
 * context but #MC. */
const char *mf_state_name(const struct page *pg);

/* ---- one event of memory_failure (memory_failure.c), its trace and record (mf_trace.c) ---- */
#define MF_MAX_STEPS 12
#define MF_COMM_LEN 16 /* the start of a task's name, for the trace and the record */

/* What became of one mapping of the frame. */
enum mf_fate {
	MF_FATE_GONE,	 /* it went away before we got to it */
	MF_FATE_EXITING, /* unmapped; its task is exiting, nobody to tell */
	MF_FATE_LATE,	 /* unmapped; SIGBUS BUS_MCEERR_AR when it touches the page */
	MF_FATE_AO,	 /* unmapped; SIGBUS BUS_MCEERR_AO now (early kill) */
	MF_FATE_AR,	 /* unmapped; SIGBUS BUS_MCEERR_AR now (it consumed the poison) */
	MF_FATE_KILLED,	 /* could not be unmapped: SIGKILL */
	MF_FATE_CLEARED, /* a clean file page's PTE cleared: re-read on next touch */
	MF_FATE_TOLD,	 /* unmapped; told already by its own touch, or it dropped the page */
	MF_FATE_NR
};

/* One (address space, address) that mapped the frame, and what became of it. */
struct mf_mapper {
	struct mm *mm; /* referenced with mm_tryget while the event runs */
	vaddr_t va;
	int pid;       /* the task told, 0 when none */
	uint8_t fate;  /* enum mf_fate */
	char comm[MF_COMM_LEN];
};

struct mf_event {
	pfn_t pfn;
	int flags;
	uint64_t t0;
	const char *how[3]; /* what was detected, e.g. "action optional", ", software-injected" */
	const char *state;
	const struct mf_mapper *mappers; /* every mapping found, once they are known */
	unsigned nmappers;
	unsigned nsteps;
	uint32_t step_ns[MF_MAX_STEPS]; /* time of each step since detection */
};

/* mf.trace=0 on the command line clears it: only each event's outcome line is printed. */
extern bool mf_trace_steps;
/* Note the time of a step (the first MF_MAX_STEPS are kept); returns ns since detection. */
uint64_t mf_step(struct mf_event *ev);
/* A step (outcome false: printed only with mf_trace_steps) or the outcome line, which also
 * goes into the record of the last event. Process context. */
__printf(3, 4) void mf_trace_line(struct mf_event *ev, bool outcome, const char *fmt, ...);
/* The one step line of a user frame: what was detected, its state, what was done to the
 * mappings (done, e.g. "PTEs cleared"), and every mapping found (ev->mappers): counts by fate
 * and the first few (the record has them all), bounded. */
void mf_trace_mappers(struct mf_event *ev, const char *done);
/* /sys/kernel/debug/hwpoison/last_event: the last event's outcome and every mapping. */
int mf_show_last_event(const struct ctl_file *f, struct ctl_buf *b);

/* memory_failure.c: the row of its state table (mf_states) that memory_failure would pick for
 * pg now, whether or not pg is poisoned; how many rows there are; a row's name (NULL past
 * the end). For the frame-state files of mf_debug.c. Any context but #MC. */
unsigned mf_state_index(const struct page *pg);
unsigned mf_state_count(void);
const char *mf_state_name_at(unsigned i);
/* End the event with result r and why (the outcome line; a recovered hardware error leaves
 * the direct map). 0 for recovered or delayed, -EBUSY ignored, -EFAULT failed. */
int mf_finish(struct mf_event *ev, enum mf_result r, const char *why);
/* The handler of a user frame: every mapping replaced by a poison marker, the mappers told. */
int mf_user(struct mf_event *ev, struct page *pg);
/* Tell the processes running in m->mm of the lost page at m->va (its marker for ev->pfn): the
 * consumer of action-required poison BUS_MCEERR_AR, early-kill threads BUS_MCEERR_AO, with
 * si_addr addr and si_addr_lsb lsb; notes in m what it was told. */
void mf_signal_mapper(struct mf_event *ev, struct mf_mapper *m, struct task *consumer,
		      vaddr_t addr, unsigned lsb);
/* mf_hugetlb.c: the handler of a frame of a hugetlb page (the table's "hugetlb" row). */
int mf_hugetlb(struct mf_event *ev, struct page *pg);

/* A task_mm_pick pick: any live thread of g (who SIGKILL reaches when a mapping cannot be
 * replaced; whose process maps a frame, for frame_info), arg unused. sched_lock held. */
struct task *mf_pick_any(struct thread_group *g, void *arg);
/* memory_failure.c, for the swap cache's handler (mf_swap.c): the outcome line and counts of
 * an event (0 for recovered or delayed, else -errno), and telling the threads the kill
 * policy picks in m->mm about the page at m->va now (BUS_MCEERR_AR to the consumer of
 * action-required poison, AO to early-kill threads), m->fate saying what was done. */
#include "memory_failure.h"
int mf_finish(struct mf_event *ev, enum mf_result r, const char *why);
void mf_tell_mapper(struct mf_event *ev, struct mf_mapper *m);
/* mf_swap.c: memory_failure of a swap cache page (clean: dropped; dirty: kept, poisoned, its
 * holders told on their next touch), Linux 6.1's me_swapcache_clean/_dirty. -EAGAIN when the
 * page left the swap cache meanwhile (memory_failure looks again). */
int mf_swapcache(struct mf_event *ev, struct page *pg);
/* mf_debug.c: register /sys/kernel/debug/mcrk/frame_state, frame_state_names and frame_info.
 * Boot; once. */
void mf_debug_init(void);
