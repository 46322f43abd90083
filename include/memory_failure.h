/* memory_failure: declare a frame poisoned, keep it out of the allocator for good, and tell
 * every task that maps it (kernel/mm/memory_failure.c; the policy is in docs/memory_failure.md). */
#pragma once
#include "mce_core.h"
#include "types.h"

struct task;
struct mm;

/* Flags (MF_ACTION_REQUIRED, MF_MUST_KILL, MF_SRC_UCNA come from mce_core.h). */
#define MF_SOFTWARE BIT(8) /* injected by software (madvise, debugfs): may be unpoisoned */
#define MF_NO_PFN (~(pfn_t)0) /* mce_task_notify: the error gave no usable address */

/* Outcomes, as the log names them. */
enum mf_result { MF_IGNORED, MF_FAILED, MF_DELAYED, MF_RECOVERED };

/* Handle a memory error in frame pfn. Returns 0 when recovered or delayed, -EHWPOISON when the
 * frame was poisoned before (an AR consumer is still signalled), -ENXIO for a pfn that is not
 * RAM, -EBUSY / -EFAULT when the frame could not be recovered (it stays poisoned).
 * Process context (a kernel worker or the consuming task's return to user). */
int memory_failure(pfn_t pfn, int flags);
/* Undo software-injected poison of a frame that is no longer used. 0, -EINVAL (not poisoned
 * by software), -ENXIO (not RAM), -EBUSY (still in use). Process context. */
int unpoison_frame(pfn_t pfn);
/* Soft offline: move the contents of the frame to a fresh one under every mapper, then
 * poison the old frame. No signal, no data loss. 0 or -errno. Process context. */
int soft_offline_frame(pfn_t pfn);
/* #MC context, lock-free: the current task consumed poison in user mode; record the frame so
 * its return to user mode runs memory_failure with MF_ACTION_REQUIRED. detected_tsc is when
 * the error was read from the bank (0: now), for the recovery-latency line. */
void mce_task_notify(pfn_t pfn, unsigned lsb, int flags, uint64_t detected_tsc);
/* Boot: /proc/sys/vm knobs, /proc/kpageflags, /sys/kernel/debug/hwpoison/, and the mf.trace=0
 * command-line knob (only each event's outcome is logged, not every step). */
void memory_failure_init(void);

/* Counters (for tests and /sys/kernel/debug/hwpoison/stats). */
struct mf_stats {
	uint64_t events, recovered, delayed, ignored, failed, already, signalled_ao,
		signalled_ar, killed;
};
void mf_get_stats(struct mf_stats *out);
