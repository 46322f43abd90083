/* memory_failure: declare a frame poisoned, keep it out of the allocator for good, and tell
 * every task that maps it (kernel/mm/memory_failure.c; the policy is in docs/memory_failure.md).
 *
 * This header is the whole interface between memory_failure and the code that finds memory
 * errors (kernel/mce, the injectors) or meets their consequences (the task entry paths,
 * madvise): the MF_* flags, memory_failure() itself, the queue that defers it out of #MC, NMI
 * and interrupt context, and the mf_* hooks of a task's life. The dependency runs one way:
 * kernel/mce includes this header; kernel/mm includes no machine-check header. */
#pragma once
#include "types.h"

struct task;
struct mm;

/* Flags of a memory failure (memory_failure, memory_failure_queue, mf_task_notify). */
#define MF_ACTION_REQUIRED BIT(0) /* the current task consumed the poison: BUS_MCEERR_AR */
#define MF_MUST_KILL BIT(1)	  /* the consumer cannot resume (no restart IP): it dies */
#define MF_SRC_UCNA BIT(2)	  /* found by a UCNA report (nobody consumed it yet) */
#define MF_SOFTWARE BIT(8)	  /* injected by software (madvise, debugfs): may be unpoisoned */
#define MF_NO_PFN (~(pfn_t)0)	  /* mf_task_notify: the error gave no usable address */

/* Outcomes, as the log names them. */
enum mf_result { MF_IGNORED, MF_FAILED, MF_DELAYED, MF_RECOVERED };

/* Handle a memory error in frame pfn. Returns 0 when recovered or delayed, -EHWPOISON when the
 * frame was poisoned before (an AR consumer is still signalled), -ENXIO for a pfn that is not
 * RAM, -EBUSY / -EFAULT when the frame could not be recovered (it stays poisoned).
 * Process context (a kernel worker or the consuming task's return to user). */
int memory_failure(pfn_t pfn, int flags);

/* Queue pfn for memory_failure(pfn, flags) in process context, later: a deferred work item
 * ("memory-failure") runs the queue. MF_ACTION_REQUIRED is dropped, since by the time the item
 * runs the current task is not the consumer. Lock-free and wait-free but for a retry when
 * another context on the same queue claims the slot first: safe in any context, #MC and NMI
 * included. Each CPU has its own queue of MF_QUEUE_LEN entries; when it is full the entry is
 * dropped and counted (mf_stats.queue_overflows, the last lost pfn), and the work item reports
 * it in the log. Returns 0, or -ENOSPC when dropped. */
#define MF_QUEUE_LEN 32
int memory_failure_queue(pfn_t pfn, int flags);
/* Run every queued memory failure now (what the work item does). Returns how many ran.
 * Process context; one caller at a time runs them, a concurrent caller returns 0. */
unsigned memory_failure_queue_run(void);

/* Undo software-injected poison of a frame that is no longer used. 0, -EINVAL (not poisoned
 * by software), -ENXIO (not RAM), -EBUSY (still in use). Process context. */
int unpoison_frame(pfn_t pfn);
/* What soft offline did with a frame, for a caller that reports it (the corrected-error
 * collector's log line). */
struct mf_soft_report {
	const char *what; /* e.g. "anonymous user page moved", "free frame taken out", "kernel
			     heap: cannot be moved" */
	pfn_t new_pfn;	  /* a moved page: the frame that now holds it; else MF_NO_PFN */
};
/* Soft offline, Linux's soft_offline_page: a frame that is still good but has had too many
 * corrected errors leaves use without anything being lost. A user page is copied to a fresh
 * frame while no mapping may write it (writers wait), every mapper is switched to the copy,
 * and the old frame is retired (software poison); a free frame is taken out of the allocator;
 * a frame poisoned already needs nothing. No signal, no data loss. Returns 0 for those,
 * -ENXIO for a pfn that is not RAM, -EIO for kernel memory and page tables (they cannot
 * move; nothing changes), -EBUSY / -ENOMEM when the move failed (the page stays where it
 * was). Fills *rep when rep is not NULL. Process context, interrupts enabled. */
int soft_offline_frame(pfn_t pfn, struct mf_soft_report *rep);

/* The poison emulator (kernel/mce/einj_emu.c): make every mapping of frame pfn trap (on) or
 * stop trapping (off): each user PTE, the kernel's direct map, and any mapping made later
 * (PG_TRAP). 0, -ENXIO (not RAM), -ENOMEM or -EINVAL from the arch. Process context. */
int mf_trap_frame(pfn_t pfn, bool on);

/* ---- hooks of a task's life (kernel/proc, kernel/mce) ---- */

/* #MC context, lock-free: the current task consumed poison in user mode; record the frame in
 * it so that its return to user mode runs memory_failure with MF_ACTION_REQUIRED
 * (TIF_MF_NOTIFY, mf_task_work). detected_tsc is when the error was read from the bank (0:
 * now), for the recovery-latency line. */
void mf_task_notify(pfn_t pfn, unsigned lsb, int flags, uint64_t detected_tsc);
/* The return-to-user work mf_task_notify asked for: recover the frame, signal t, kill it when
 * it cannot resume. Process context, on t's own CPU, t current. */
void mf_task_work(struct task *t);
/* t touched a page whose PTE holds a poison marker (late kill): SIGBUS BUS_MCEERR_AR at the
 * page address. Process context (the page-fault path). */
void mf_poison_touched(struct task *t, uint64_t addr);
/* madvise(MADV_HWPOISON) and madvise(MADV_SOFT_OFFLINE) over [addr, addr + len) of mm.
 * Returns 0, -EINVAL (another advice, unaligned or out of range), -EFAULT (nothing mapped),
 * or memory_failure's / soft offline's error. Process context. */
long mf_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);

/* ---- setup, knobs and counters ---- */

/* Boot: the mf.trace=0 command-line knob (only each event's outcome is logged, not every
 * step), the deferred queue's work item, and the control files (kernel/mm/hwpoison_ctl.c).
 * Process context, once. */
void memory_failure_init(void);
/* Testing: when on, the panic that vm.memory_failure_recovery=0 asks for is only reported
 * ("memory_failure: fake panic: ...") and recovery goes on. The machine-check code passes its
 * mce.fake_panic knob on with this. Any context. */
void mf_set_fake_panic(bool on);

/* Counters (for tests and /sys/kernel/debug/hwpoison/stats). */
struct mf_stats {
	uint64_t events, recovered, delayed, ignored, failed, already, signalled_ao,
		signalled_ar, killed;
	uint64_t queued, queue_overflows; /* memory_failure_queue: taken, dropped (queue full) */
	pfn_t queue_lost_pfn;		  /* the last pfn dropped (valid once an overflow counted) */
};
void mf_get_stats(struct mf_stats *out);
