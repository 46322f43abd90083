/* /proc/kpageflags: one 64-bit word per frame, indexed by pfn, with Linux's KPF_* bit numbers
 * (include/uapi/linux/kernel-page-flags.h), so that tools such as page-types read MCRK's
 * frames as they read Linux's.
 *
 * Each MCRK frame state is reported as what Linux 6.1's stable_page_flags shows for the page
 * that plays the same part: an anonymous user page is ANON, UPTODATE and SWAPBACKED (plus LRU
 * while it is in use, MMAP while some page table maps it); a clean file page is UPTODATE (LRU,
 * MMAP likewise); slab, page-table and free frames are SLAB, PGTABLE and BUDDY; reserved ones
 * RESERVED. A poisoned frame adds HWPOISON and keeps saying what it was: a user page that
 * memory_failure took out of use reads as Linux's does after the same recovery (still ANON,
 * UPTODATE, SWAPBACKED; no longer LRU or MMAP), not as a bare HWPOISON. MCRK keeps no dirty,
 * referenced or active state, so DIRTY, REFERENCED and ACTIVE are never set. */
#include "frame.h"
#include "kerrno.h"
#include "vfs.h"

#define KPF_UPTODATE 3
#define KPF_LRU 5
#define KPF_SLAB 7
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_SWAPCACHE 13
#define KPF_SWAPBACKED 14
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

/* The flags of a user page of kind (PG_USER, maybe PG_FILE), in use or not. */
static uint64_t user_flags(uint32_t kind, bool in_use, bool mapped)
{
	uint64_t k = BIT(KPF_UPTODATE);
	if (!(kind & PG_FILE))
		k |= BIT(KPF_ANON) | BIT(KPF_SWAPBACKED);
	if (in_use)
		k |= BIT(KPF_LRU);
	if (mapped)
		k |= BIT(KPF_MMAP);
	return k;
}

uint64_t frame_kpageflags(pfn_t pfn)
{
	const struct page *pg = pfn_to_page(pfn);
	if (!pg)
		return BIT(KPF_NOPAGE);
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	uint64_t k = (f & PG_HWPOISON) ? BIT(KPF_HWPOISON) : 0;
	if (f & PG_USER)
		k |= user_flags(f, !(f & PG_HWPOISON), READ_ONCE(pg->mapcount) > 0);
	else if ((f & PG_ISOLATED) && (f & PG_HWPOISON) && (READ_ONCE(pg->poison_was) & PG_USER))
		k |= user_flags(READ_ONCE(pg->poison_was), false, false);
	k |= (f & PG_SWAPCACHE) ? BIT(KPF_SWAPCACHE) : 0;
	k |= (f & PG_SLAB) ? BIT(KPF_SLAB) : 0;
	k |= (f & PG_PGTABLE) ? BIT(KPF_PGTABLE) : 0;
	k |= (f & PG_RESERVED) ? BIT(KPF_RESERVED) : 0;
	k |= (f & PG_TAIL) ? BIT(KPF_COMPOUND_TAIL) : 0;
	k |= (f & PG_KIND_MASK) && !(f & PG_TAIL) && pg->order ? BIT(KPF_COMPOUND_HEAD) : 0;
	/* Free: a buddy head, a frame in a per-CPU cache, or one inside a free block (no owner). */
	if (!(f & PG_ISOLATED) &&
	    ((f & (PG_BUDDY | PG_PCP)) || !(f & (PG_RESERVED | PG_KIND_MASK | PG_TAIL))))
		k |= BIT(KPF_BUDDY);
	return k;
}

static long read_kpageflags(void *priv, void *buf, size_t n, uint64_t off)
{
	(void)priv;
	if ((off % 8) || (n % 8))
		return -EINVAL;
	uint64_t *w = buf;
	size_t i = 0;
	for (; i < n / 8 && off / 8 + i < frame_max_pfn(); i++)
		w[i] = frame_kpageflags(off / 8 + i);
	return (long)(i * 8);
}

static const struct vfs_node_ops kpageflags_ops = {.read = read_kpageflags,
						   .root_only = true}; /* 0400 */

void frame_kpageflags_init(void)
{
	vfs_register_node("/proc/kpageflags", &kpageflags_ops, NULL);
}
