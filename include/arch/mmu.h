/* The arch interface for memory: the direct map of physical memory. */
#pragma once
#include "../types.h"

/* Kernel virtual address of a physical address through the direct map. */
void *arch_phys_to_virt(paddr_t pa);
/* Physical address of a direct-map (or kernel image) virtual address. */
paddr_t arch_virt_to_phys(const void *va);

/* ---- User address spaces ----
 * Portable code (kernel/mm/vm.c) owns the policy: which virtual page maps which frame, with
 * which protection. The arch owns the page-table format. Each user address space has one
 * struct arch_pt; the kernel half of the address space is shared by all of them.
 * Page-table frames come from frame_alloc(0, PG_PGTABLE), with struct page.priv pointing at
 * the owning struct arch_pt, so memory_failure can tell whose tables a frame holds. */

#define USER_VA_START 0x0000000000001000ull /* page 0 is never mapped */
#define USER_VA_END 0x0000800000000000ull   /* first non-canonical address */

/* Protection bits, with Linux's PROT_* values. A present user mapping is always readable. */
#define PT_READ 0x1
#define PT_WRITE 0x2
#define PT_EXEC 0x4

struct arch_pt;

/* What a page-table entry holds: a present mapping, a software marker in a non-present
 * entry (used for poisoned pages: the marker is never 0), or nothing. */
struct pte_info {
	bool present;
	pfn_t pfn;        /* when present */
	unsigned prot;    /* PT_* when present */
	bool accessed, dirty;
	uint64_t marker;  /* when not present: the marker, 0 if the entry is empty */
	bool huge;        /* present through a huge entry (below); pfn is the 4 KiB page's */
};

/* New user address space (empty user half). NULL when out of memory. Process context. */
struct arch_pt *arch_pt_create(void);
/* Free the page-table frames of an address space; its entries must all be cleared first
 * (remaining ones are dropped without touching the frames they map). Not while active. */
void arch_pt_destroy(struct arch_pt *pt);
/* Map the 4 KiB page at va to frame pfn with prot, replacing any entry. 0, -ENOMEM when a
 * table could not be allocated, -EINVAL for a va outside user space or not page-aligned. */
int arch_pt_map(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot);
/* Change the protection of a present entry. 0, -ENOENT if not present, -EINVAL. */
int arch_pt_protect(struct arch_pt *pt, vaddr_t va, unsigned prot);
/* Put a non-present entry holding marker (1 .. 2^50-1) at va. 0, -ENOMEM, -EINVAL. */
int arch_pt_set_marker(struct arch_pt *pt, vaddr_t va, uint64_t marker);
/* Remove the entry at va (present or marker). 0, or -ENOENT if there was none. */
int arch_pt_clear(struct arch_pt *pt, vaddr_t va);
/* Clear the accessed bit of the present entry at va (reclaim's second chance): 1 when it was
 * set, 0 when not, -ENOENT when nothing is present there (a huge entry: its bit). The CPU may
 * keep a cached translation and not set the bit again until the TLB forgets it, as on Linux.
 * Atomic against the CPU's own updates; callers serialise as for arch_pt_protect. */
int arch_pt_clear_young(struct arch_pt *pt, vaddr_t va);
/* Read the entry at va. 0 and *out when present or a marker, -ENOENT when empty. */
int arch_pt_get(struct arch_pt *pt, vaddr_t va, struct pte_info *out);
/* Call fn for every present or marker entry in [start, end), in address order; stop early
 * and return fn's value when it is non-zero. fn may clear the visited entry and map or mark
 * addresses outside [start, end) (mremap moves entries this way). */
int arch_pt_walk(struct arch_pt *pt, vaddr_t start, vaddr_t end,
		 int (*fn)(vaddr_t va, const struct pte_info *pi, void *arg), void *arg);

/* ---- Range operations: one leaf table per call ----
 * fork copies, and munmap/exit clear, every entry of a range. Done a page at a time through
 * arch_pt_map/arch_pt_clear that is one walk from the root per page; these do one walk per
 * leaf table instead. Each call starts at *va, skips the parts of [*va, end) that have no
 * table, handles the entries of the first leaf table it finds there (stopping at end, at the
 * table's end, or once it has reported max frames), and sets *va to where the next call goes
 * on: a caller loops `while (va < end)`. The frames of the present entries handled are
 * written to pfns[0 .. return value) so that the caller can change their counts in a batch.
 * Callers hold whatever serialises changes to the space(s), as for the other calls. */

/* Copy the entries of src in [*va, end) to dst, which has none there (fork): a marker as it
 * is; a present entry (PROT_NONE included) with the rights in drop (0 or PT_WRITE) removed,
 * removing them from src's entry in the same pass, so copy-on-write needs no second walk.
 * Sets *changed when some src entry lost a right (the caller flushes src). Returns the
 * number of frames written to pfns, or -ENOMEM when a table for dst could not be allocated
 * (then this call copied nothing). max >= 1. */
int arch_pt_copy_range(struct arch_pt *dst, struct arch_pt *src, vaddr_t *va, vaddr_t end,
		       unsigned drop, pfn_t *pfns, unsigned max, bool *changed);
/* Clear every entry of pt in [*va, end) (present entries and markers); returns the number of
 * present entries cleared, their frames in pfns. No TLB flush: the caller flushes the range
 * before it lets those frames go. max >= 1. */
unsigned arch_pt_clear_range(struct arch_pt *pt, vaddr_t *va, vaddr_t end, pfn_t *pfns,
			     unsigned max);
/* Make every CPU that may have pt loaded forget its TLB entries for [va, va + n pages).
 * Process context with interrupts enabled (it may wait for other CPUs). */
void arch_pt_flush(struct arch_pt *pt, vaddr_t va, size_t npages);
/* Load pt on this CPU (NULL: kernel-only tables). */
void arch_pt_activate(struct arch_pt *pt);

/* ---- Huge entries: 2 MiB with one entry ----
 * A huge entry maps PT_HUGE_PAGES contiguous frames, the first one 2 MiB-aligned, at a 2 MiB-
 * aligned va, with one protection (on x86-64 a page-directory entry with PS set). arch_pt_get
 * at any va inside it reports the 4 KiB page there with huge set; arch_pt_walk reports it once,
 * at its first address, with pfn its first frame; arch_pt_protect changes the whole entry. The
 * range operations copy a huge entry whole and clear it when the range covers it whole (one
 * left partly outside is skipped: split it first), and report it as one pfns[] slot holding
 * its first frame | PT_PFN_HUGE. arch_pt_map, set_marker, clear and trap return -EBUSY inside
 * one: portable code splits it first. Each huge entry keeps a page-table frame in reserve
 * (Linux's deposited table), so that splitting it never needs memory. */
#define PT_HUGE_SHIFT 21
#define PT_HUGE_SIZE (1ull << PT_HUGE_SHIFT)
#define PT_HUGE_PAGES (PT_HUGE_SIZE >> PAGE_SHIFT)
#define PT_PFN_HUGE (1ull << 63)

/* Whether this machine's page tables have huge entries. Any context. */
bool arch_pt_huge_supported(void);
/* Map [va, va + PT_HUGE_SIZE) to frames pfn.. with one huge entry. 0, -EINVAL (va or pfn not
 * aligned, not user space), -EEXIST (some entry already lies in the range; an empty leaf table
 * there is reused as the reserve), -ENOMEM, -EOPNOTSUPP (no huge entries here). */
int arch_pt_map_huge(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot);
/* Replace the huge entry covering va by a leaf table of PT_HUGE_PAGES entries mapping the same
 * frames with the same protection and accessed/dirty bits. Never needs memory. 0, or -ENOENT
 * when no huge entry covers va. The caller flushes the 2 MiB. */
int arch_pt_split_huge(struct arch_pt *pt, vaddr_t va);

/* Take frame pfn out of the kernel's direct map for good, so that no speculative access or
 * prefetch reaches its poisoned lines again (Linux's set_mce_nospec), splitting a 2 MiB or
 * 1 GiB page as needed; a later access faults. 0, -ENOMEM (no table for the split: the frame
 * stays mapped), -EINVAL (pfn not in the direct map). Process context, interrupts enabled (it
 * flushes every CPU). */
int arch_direct_map_remove(pfn_t pfn);

/* ---- Traps for the poison emulator (include/einj.h) ----
 * A trapped frame stays mapped, but every access to it faults, so that the arch can ask the
 * emulator about each one and replay the accesses that miss the poisoned lines. Frames with
 * PG_TRAP (frame.h) get trapped entries from arch_pt_map; arch_pt_get reports them as the
 * present mappings they are. */

/* Make the kernel's own mapping of frame pfn (the direct map) trap (on) or work again (off),
 * splitting a large page when needed. 0, -ENOMEM, -EINVAL (pfn not in the direct map).
 * Process context, interrupts enabled (it flushes every CPU). */
int arch_trap_frame(pfn_t pfn, bool on);
/* Frames allocated for good as tables of the direct map by those splits (kernel memory that
 * never comes back; the campaign's leak check sets them apart). Any context. */
uint64_t arch_direct_map_tables(void);
/* Make the present entry at va trap (on) or work normally again (off). 0, -ENOENT (nothing
 * present there), -EINVAL. Callers serialise as for arch_pt_map, and flush. */
int arch_pt_trap(struct arch_pt *pt, vaddr_t va, bool on);
