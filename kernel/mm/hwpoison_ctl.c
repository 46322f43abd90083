/* The control files of memory_failure, at Linux's paths:
 *   /proc/sys/vm/memory_failure_recovery     1: recover (default); 0: any failure panics
 *   /proc/sys/vm/memory_failure_early_kill   1: signal every mapper at once (BUS_MCEERR_AO)
 *   /sys/kernel/debug/hwpoison/corrupt-pfn   write a pfn: memory_failure(pfn, MF_SOFTWARE)
 *   /sys/kernel/debug/hwpoison/unpoison-pfn  write a pfn: undo software poison
 *   /sys/kernel/debug/hwpoison/stats         (MCRK) "name value" lines of struct mf_stats
 *   /sys/kernel/debug/hwpoison/last_event    (MCRK) the last event's outcome and every mapping
 *   /sys/devices/system/memory/soft_offline_page   write a physical address: soft offline
 *   /sys/devices/system/memory/hard_offline_page   write a physical address: memory_failure
 * Writes follow the control-file rules of include/ctl.h (a number in C style, base 0, as
 * Linux's attributes take it). The two memory/ files take an address, not a pfn, and answer a
 * write that is not a number with EINVAL even when it overflows, as Linux's do (they map
 * every kstrtoull error to EINVAL). Process context. */
#include "ctl.h"
#include "kerrno.h"
#include "memory_failure.h"
#include "mf_priv.h"

/* corrupt-pfn (unit 1) and unpoison-pfn (unit 0): a pfn, then the action. Poisoning a frame
 * that is poisoned already is accepted and changes nothing, as on Linux. */
static long store_pfn(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t pfn;
	int err = ctl_parse_u64(buf, n, 0, &pfn);
	if (!err)
		err = f->unit ? memory_failure(pfn, MF_SOFTWARE) : unpoison_frame(pfn);
	if (err == -EHWPOISON && f->unit)
		err = 0;
	return err ? err : (long)n;
}

/* soft_offline_page (unit 0) and hard_offline_page (unit 1): a physical address, then the
 * frame that holds it is offlined. Linux answers EBUSY where memory_failure could not recover
 * a frame it keeps (kernel memory); MCRK's memory_failure says -EFAULT for that, which a write
 * must not return. */
static long store_offline_page(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t addr;
	long err;

	if (ctl_parse_u64(buf, n, 0, &addr))
		return -EINVAL;
	err = f->unit ? memory_failure(addr >> PAGE_SHIFT, MF_SOFTWARE)
		      : soft_offline_frame(addr >> PAGE_SHIFT, NULL);
	if (err == -EFAULT)
		err = -EBUSY;
	return err ? err : (long)n;
}

static int show_stats(const struct ctl_file *f, struct ctl_buf *b)
{
	struct mf_stats s;
	(void)f;
	mf_get_stats(&s);
	ctl_printf(b, "events %lu\nrecovered %lu\ndelayed %lu\nignored %lu\nfailed %lu\n"
		      "already_poisoned %lu\nsignalled_ao %lu\nsignalled_ar %lu\nkilled %lu\n",
		   s.events, s.recovered, s.delayed, s.ignored, s.failed, s.already, s.signalled_ao,
		   s.signalled_ar, s.killed);
	ctl_printf(b, "queued %lu\nqueue_overflows %lu\n", s.queued, s.queue_overflows);
	return 0;
}

#define HWPOISON_DIR "/sys/kernel/debug/hwpoison/"
#define MEMORY_DIR "/sys/devices/system/memory/"

static const struct ctl_file mf_files[] = {
    {"/proc/sys/vm/memory_failure_recovery", ctl_show_int, ctl_store_int,
     &sysctl_memory_failure_recovery, 1, 1},
    {"/proc/sys/vm/memory_failure_early_kill", ctl_show_int, ctl_store_int,
     &sysctl_memory_failure_early_kill, 1, 1},
    {HWPOISON_DIR "corrupt-pfn", NULL, store_pfn, NULL, 1, 0},
    {HWPOISON_DIR "unpoison-pfn", NULL, store_pfn, NULL, 0, 0},
    {HWPOISON_DIR "stats", show_stats, NULL, NULL, 0, 0},
    {HWPOISON_DIR "last_event", mf_show_last_event, NULL, NULL, 0, 0},
    {MEMORY_DIR "soft_offline_page", NULL, store_offline_page, NULL, 0, 0},
    {MEMORY_DIR "hard_offline_page", NULL, store_offline_page, NULL, 1, 0},
};

void mf_ctl_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	ctl_register(mf_files, ARRAY_SIZE(mf_files), "memory_failure");
}
