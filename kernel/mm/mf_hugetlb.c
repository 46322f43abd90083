/* memory_failure on a frame of a hugetlb page (the "hugetlb" row of memory_failure.c's state
 * table). The page leaves the pool for good either way (kernel/mm/hugetlb.c). Then:
 *   - a free page in the pool: nothing maps it; its other 511 frames go back to the buddy
 *     allocator at once (Linux 6.1 dissolves it the same way);
 *   - a page in use, by default: it is demoted. Each mapping's huge entry is split into 512
 *     PTEs of the same memory (no copy, no allocation), and from there on the frame is handled
 *     as any user frame: its one PTE becomes a poison marker and the mappers are told about
 *     that 4 KiB page (si_addr of the page, si_addr_lsb 12); the other 511 pages stay mapped
 *     with their data. Linux 6.1 cannot do this (docs/memory_failure.md, "hugetlbfs");
 *   - a page in use with vm.memory_failure_hugetlb_whole=1: Linux 6.1's behaviour
 *     (try_memory_failure_hugetlb): the whole 2 MiB is lost. Every PTE of every mapping of it
 *     becomes a poison marker, early-kill processes get BUS_MCEERR_AO at the start of the huge
 *     page with si_addr_lsb 21, a touch anywhere in it later gives BUS_MCEERR_AR at the address
 *     touched with si_addr_lsb 21, and a shared object (hugetlbfs file, shared mapping) drops
 *     the page, as Linux's truncate_error_page does: a new fault there gets a new page. The
 *     good frames go back to the buddy allocator once nothing maps them. Process context. */
#include "hugetlb.h"
#include "kerrno.h"
#include "mf_priv.h"
#include "task.h"
#include "vm_priv.h"

struct whole {
	struct mf_event *ev;
	struct task *consumer; /* the current task for MF_ACTION_REQUIRED, else NULL */
	unsigned mapped, told;
};

/* One mapping of the lost frame: markers over its 2 MiB, then its processes told. */
static void lose_mapping(struct mm *mm, vaddr_t va, void *arg)
{
	struct whole *w = arg;
	struct mf_mapper m = {.mm = mm, .va = va};

	if (vm_poison_huge(mm, va, w->ev->pfn))
		return; /* it went away meanwhile */
	w->mapped++;
	mf_signal_mapper(w->ev, &m, w->consumer, ALIGN_DOWN(va, HUGETLB_SIZE), HUGETLB_SHIFT);
	w->told += m.fate == MF_FATE_AO || m.fate == MF_FATE_AR;
}

static int lose_whole(struct mf_event *ev, struct page *pg)
{
	struct whole w = {ev, (ev->flags & MF_ACTION_REQUIRED) ? current_task() : NULL, 0, 0};
	int err;

	if (!upage_tryget(pg))
		return mf_finish(ev, MF_RECOVERED, "hugetlb page freed meanwhile");
	err = mf_each_mapping(pg, true, lose_mapping, &w);
	hugetlb_obj_drop_run(pg);
	upage_put(pg);
	mf_trace_line(ev, false, "hugetlb page lost whole (vm.memory_failure_hugetlb_whole=1): "
		      "%u mapping(s) of its 2 MiB replaced by poison markers, %u process(es) told "
		      "now (si_addr_lsb 21)", w.mapped, w.told);
	if (err)
		return mf_finish(ev, MF_FAILED, "mappings of the hugetlb page keep coming back");
	return mf_finish(ev, MF_RECOVERED, "hugetlb page lost whole, as Linux 6.1 loses it; out "
					   "of the pool, its good frames go back to the buddy "
					   "allocator once unmapped");
}

int mf_hugetlb(struct mf_event *ev, struct page *pg)
{
	int r = hugetlb_mf_take(ev->pfn);

	if (r == 0)
		return mf_finish(ev, MF_RECOVERED, "free huge page: out of the hugetlb pool for good "
						   "(HugePages_Total and HugePages_Free -1, "
						   "HugePages_Lost +1), its other 511 frames back "
						   "to the buddy allocator");
	if (r < 0) /* its run went back to the buddy allocator meanwhile */
		return frame_isolate_free(ev->pfn) == 0
			   ? mf_finish(ev, MF_RECOVERED, "taken out of the free lists for good")
			   : mf_finish(ev, MF_IGNORED, "frame state kept changing");
	if (r == 1 && __atomic_load_n(&sysctl_memory_failure_hugetlb_whole, __ATOMIC_RELAXED))
		return lose_whole(ev, pg);
	mf_trace_line(ev, false, "hugetlb page %s: out of the pool for good (HugePages_Total -1, "
		      "HugePages_Lost +1); its mappings become 4 KiB ones of the same memory, "
		      "only this 4 KiB is lost", r == 1 ? "in use" : "demoted before");
	return mf_user(ev, pg);
}
