/* User address spaces on x86-64 page tables (the interface is in include/arch/mmu.h).
 *
 * Each address space has its own PML4. Entries 256..511 (the kernel half) are copied from
 * the kernel's PML4 when the space is created; they point at shared lower tables that never
 * change at this level, so every space sees the same kernel. Entries 0..255 lead to tables
 * allocated here as needed: PML4 -> PDPT -> PD -> PT -> 4 KiB page, or PML4 -> PDPT -> PD
 * entry with PS set -> 2 MiB page (a huge entry; a PROT_NONE one keeps PS with the present bit
 * clear, so at the PD level PS alone says "huge"). Each huge entry has a spare, zeroed leaf
 * table on the space's reserve list, so that a split never allocates.
 * A marker is kept in a non-present leaf entry as (marker << 12) | PTE_MARKER, and a
 * PROT_NONE mapping (the frame stays mapped, no access at all) as (pfn << 12) | PTE_PROTNONE;
 * hardware ignores every bit of an entry whose present bit is clear, so both fault. A trapped
 * mapping (the poison emulator: a frame with PG_TRAP) is the present entry with PTE_P swapped
 * for PTE_TRAP: it faults, and poison_trap.c puts PTE_P back for the one instruction it lets
 * through.
 * Callers serialise changes to one space (the mm lock); the tables are not locked here. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "cpumask.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "x86.h"

#define LEVELS 4
#define ENTRIES 512
#define USER_PML4_ENTRIES 256
#define MARKER_MAX (1ull << 50)
#define FLUSH_ALL_THRESHOLD 32 /* past this many pages, reload CR3 instead of INVLPG */

struct arch_pt {
	uint64_t *pml4;
	paddr_t pml4_phys;
	struct cpumask active_cpus; /* CPUs that have this space loaded */
	struct list_node reserve;   /* one spare leaf table (struct page.link) per huge entry */
};

static struct arch_pt *active_pt[MAX_CPUS];

static unsigned level_shift(int level) { return 12 + 9 * (unsigned)level; } /* 3 = PML4 */
static unsigned index_at(vaddr_t va, int level) { return (va >> level_shift(level)) & 511; }
static uint64_t *table_virt(uint64_t entry) { return arch_phys_to_virt(entry & PTE_ADDR); }
#define HUGE_ADDR (PTE_ADDR & ~(PT_HUGE_SIZE - 1))
#define PD_LEVEL 1
static bool is_huge(uint64_t e, int level) { return level == PD_LEVEL && (e & PTE_PS); }

static uint64_t *alloc_table(struct arch_pt *owner, paddr_t *phys)
{
	struct page *pg = frame_alloc(0, PG_PGTABLE);
	if (!pg)
		return NULL;
	pg->priv = owner;
	uint64_t *t = page_to_virt(pg);
	memset(t, 0, PAGE_SIZE);
	*phys = page_to_pfn(pg) << PAGE_SHIFT;
	return t;
}

static bool user_page_ok(vaddr_t va)
{
	return IS_ALIGNED(va, PAGE_SIZE) && va >= USER_VA_START && va < USER_VA_END;
}

struct arch_pt *arch_pt_create(void)
{
	struct arch_pt *pt = kzalloc(sizeof(*pt));
	if (!pt)
		return NULL;
	pt->pml4 = alloc_table(pt, &pt->pml4_phys);
	if (!pt->pml4) {
		kfree(pt);
		return NULL;
	}
	list_init(&pt->reserve);
	const uint64_t *kernel = arch_phys_to_virt(mmu_kernel_pml4());
	for (unsigned i = USER_PML4_ENTRIES; i < ENTRIES; i++)
		pt->pml4[i] = kernel[i];
	return pt;
}

/* The entry of va at level want (0: the leaf), allocating the tables on the way when create;
 * NULL if a table is absent or could not be had, or when a huge entry lies on the way
 * (*huge then says so). */
static uint64_t *entry_at(struct arch_pt *pt, vaddr_t va, int want, bool create, bool *huge)
{
	uint64_t *t = pt->pml4;
	*huge = false;
	for (int level = LEVELS - 1; level > want; level--) {
		uint64_t *e = &t[index_at(va, level)];
		if (is_huge(*e, level)) {
			*huge = true;
			return NULL;
		}
		if (!(*e & PTE_P)) {
			paddr_t phys;
			if (!create || !alloc_table(pt, &phys))
				return NULL;
			*e = phys | PTE_P | PTE_W | PTE_U; /* leaves decide the real permissions */
		}
		t = table_virt(*e);
	}
	return &t[index_at(va, want)];
}

/* The leaf entry for va (see entry_at); -EBUSY through *err inside a huge entry. */
static uint64_t *leaf_err(struct arch_pt *pt, vaddr_t va, bool create, int *err)
{
	bool huge;
	uint64_t *e = entry_at(pt, va, 0, create, &huge);
	*err = huge ? -EBUSY : create ? -ENOMEM : -ENOENT;
	return e;
}

/* The leaf entry of user page va, or NULL with *err: -EINVAL outside user space, else as
 * leaf_err. */
static uint64_t *user_leaf(struct arch_pt *pt, vaddr_t va, bool create, int *err)
{
	if (!user_page_ok(va)) {
		*err = -EINVAL;
		return NULL;
	}
	return leaf_err(pt, va, create, err);
}

static uint64_t *leaf(struct arch_pt *pt, vaddr_t va, bool create)
{
	int err;
	return leaf_err(pt, va, create, &err);
}

/* The huge entry covering va, or NULL. */
static uint64_t *huge_at(struct arch_pt *pt, vaddr_t va)
{
	bool huge;
	uint64_t *e = entry_at(pt, va, PD_LEVEL, false, &huge);
	return e && is_huge(*e, PD_LEVEL) ? e : NULL;
}

static uint64_t prot_bits(unsigned prot)
{
	if (!(prot & (PT_READ | PT_WRITE | PT_EXEC)))
		return PTE_PROTNONE;
	uint64_t e = PTE_P | PTE_U;
	if (prot & PT_WRITE)
		e |= PTE_W;
	if (!(prot & PT_EXEC) && cpu_features.nx)
		e |= PTE_NX;
	return e;
}

/* A present entry made to trap, or back (PROT_NONE entries never reach the frame anyway). */
static uint64_t trapped(uint64_t e, bool on)
{
	if (on && (e & PTE_P))
		return (e & ~PTE_P) | PTE_TRAP;
	if (!on && (e & PTE_TRAP))
		return (e & ~PTE_TRAP) | PTE_P;
	return e;
}

static bool frame_trapped(pfn_t pfn)
{
	const struct page *pg = pfn_to_page(pfn);
	return pg && (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_TRAP);
}

int arch_pt_map(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot)
{
	int err;
	uint64_t *e = user_leaf(pt, va, true, &err);
	if (!e)
		return err;
	WRITE_ONCE(*e, trapped((pfn << PAGE_SHIFT) | prot_bits(prot), frame_trapped(pfn)));
	return 0;
}

int arch_pt_trap(struct arch_pt *pt, vaddr_t va, bool on)
{
	int err;
	uint64_t *e = user_leaf(pt, va, false, &err);
	if (!e)
		return err;
	if (!(*e & (PTE_P | PTE_TRAP | PTE_PROTNONE)))
		return -ENOENT;
	WRITE_ONCE(*e, trapped(*e, on));
	return 0;
}

int arch_pt_protect(struct arch_pt *pt, vaddr_t va, unsigned prot)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *h = huge_at(pt, va);
	if (h) {
		WRITE_ONCE(*h, (*h & (HUGE_ADDR | PTE_A | PTE_D)) | prot_bits(prot) | PTE_PS);
		return 0;
	}
	uint64_t *e = leaf(pt, va, false);
	if (!e || !(*e & (PTE_P | PTE_TRAP | PTE_PROTNONE)))
		return -ENOENT;
	WRITE_ONCE(*e, trapped((*e & (PTE_ADDR | PTE_A | PTE_D)) | prot_bits(prot),
			       frame_trapped((*e & PTE_ADDR) >> PAGE_SHIFT)));
	return 0;
}

int arch_pt_clear_young(struct arch_pt *pt, vaddr_t va)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *e = huge_at(pt, va);
	if (!e)
		e = leaf(pt, va, false);
	if (!e || !(*e & (PTE_P | PTE_TRAP | PTE_PROTNONE)))
		return -ENOENT;
	return (__atomic_fetch_and(e, ~PTE_A, __ATOMIC_ACQ_REL) & PTE_A) != 0;
}

int arch_pt_set_marker(struct arch_pt *pt, vaddr_t va, uint64_t marker)
{
	if (marker == 0 || marker >= MARKER_MAX)
		return -EINVAL;
	int err;
	uint64_t *e = user_leaf(pt, va, true, &err);
	if (!e)
		return err;
	WRITE_ONCE(*e, (marker << PAGE_SHIFT) | PTE_MARKER);
	return 0;
}

int arch_pt_clear(struct arch_pt *pt, vaddr_t va)
{
	int err;
	uint64_t *e = user_leaf(pt, va, false, &err);
	if (!e)
		return err;
	if (!*e)
		return -ENOENT;
	WRITE_ONCE(*e, 0);
	return 0;
}

static void decode(uint64_t e, struct pte_info *out)
{
	memset(out, 0, sizeof(*out));
	if (e & PTE_PROTNONE) {
		out->present = true; /* mapped, with no access */
		out->pfn = (e & PTE_ADDR) >> PAGE_SHIFT;
	} else if (e & (PTE_P | PTE_TRAP)) {
		out->present = true;
		out->pfn = (e & PTE_ADDR) >> PAGE_SHIFT;
		out->prot = PT_READ | ((e & PTE_W) ? PT_WRITE : 0) |
			    ((e & PTE_NX) && cpu_features.nx ? 0 : PT_EXEC);
		out->accessed = e & PTE_A;
		out->dirty = e & PTE_D;
	} else {
		out->marker = (e & PTE_ADDR) >> PAGE_SHIFT;
	}
}

/* A huge entry read as the 4 KiB page of it at offset page (0 for walks). */
static void decode_huge(uint64_t e, unsigned page, struct pte_info *out)
{
	decode((e & ~(PTE_PS | HUGE_ADDR)) | ((e & HUGE_ADDR) + ((uint64_t)page << PAGE_SHIFT)),
	       out);
	out->huge = true;
}

int arch_pt_get(struct arch_pt *pt, vaddr_t va, struct pte_info *out)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *h = huge_at(pt, va);
	if (h) {
		decode_huge(*h, index_at(va, 0), out);
		return 0;
	}
	uint64_t *e = leaf(pt, va, false);
	if (!e || !*e)
		return -ENOENT;
	decode(*e, out);
	return 0;
}

struct walk_ctx {
	vaddr_t start, end;
	int (*fn)(vaddr_t va, const struct pte_info *pi, void *arg);
	void *arg;
};

static int walk_level(struct walk_ctx *w, uint64_t *t, int level, vaddr_t base)
{
	uint64_t span = 1ull << level_shift(level);
	unsigned last = level == LEVELS - 1 ? USER_PML4_ENTRIES : ENTRIES;
	for (unsigned i = 0; i < last; i++) {
		vaddr_t va = base + i * span;
		if (va + span <= w->start || va >= w->end || !t[i])
			continue;
		if (level == 0 || is_huge(t[i], level)) {
			struct pte_info pi;
			if (level)
				decode_huge(t[i], 0, &pi);
			else
				decode(t[i], &pi);
			int r = w->fn(va, &pi, w->arg);
			if (r)
				return r;
		} else if (t[i] & PTE_P) {
			int r = walk_level(w, table_virt(t[i]), level - 1, va);
			if (r)
				return r;
		}
	}
	return 0;
}

int arch_pt_walk(struct arch_pt *pt, vaddr_t start, vaddr_t end,
		 int (*fn)(vaddr_t va, const struct pte_info *pi, void *arg), void *arg)
{
	struct walk_ctx w = {start, end, fn, arg};
	return walk_level(&w, pt->pml4, LEVELS - 1, 0);
}

/* The leaf table that maps the first address in [*va, end) that has one, with *va moved up
 * to that address past the spans of missing tables; NULL (and *va = end) when none is left.
 * When a huge entry maps that address instead, it returns the entry and sets *huge. */
static uint64_t *next_leaf(struct arch_pt *pt, vaddr_t *va, vaddr_t end, bool *huge)
{
	vaddr_t a = *va;
	*huge = false;
	while (a < end) {
		uint64_t *t = pt->pml4;
		int level = LEVELS - 1;
		for (; level > 0; level--) {
			uint64_t e = t[index_at(a, level)];
			if (is_huge(e, level)) {
				*va = a;
				*huge = true;
				return &t[index_at(a, level)];
			}
			if (!(e & PTE_P))
				break;
			t = table_virt(e);
		}
		if (level == 0) {
			*va = a;
			return t;
		}
		vaddr_t span = 1ull << level_shift(level);
		a = ALIGN_DOWN(a, span) + span; /* no table below this entry: skip all it covers */
	}
	*va = end;
	return NULL;
}

/* Present, trapped (the poison emulator) or PROT_NONE: the entry holds a frame. */
static bool maps_frame(uint64_t e) { return e & (PTE_P | PTE_TRAP | PTE_PROTNONE); }

static pfn_t huge_slot(uint64_t e) { return ((e & HUGE_ADDR) >> PAGE_SHIFT) | PT_PFN_HUGE; }

/* Put a spare leaf table (its struct page) on pt's reserve, or take one off. */
static void reserve_push(struct arch_pt *pt, struct page *spare)
{
	list_add(&spare->link, &pt->reserve);
}

static struct page *reserve_pop(struct arch_pt *pt)
{
	if (list_empty(&pt->reserve))
		return NULL;
	struct page *spare = list_first_entry(&pt->reserve, struct page, link);
	list_del(&spare->link);
	return spare;
}

/* fork of the huge entry *s at *va: dst gets the same entry (without dropbits) and a spare. */
static int copy_huge(struct arch_pt *dst, uint64_t *s, vaddr_t *va, uint64_t dropbits,
		     pfn_t *pfns, bool *changed)
{
	vaddr_t base = ALIGN_DOWN(*va, PT_HUGE_SIZE);
	paddr_t phys;
	bool huge;
	uint64_t *d = entry_at(dst, base, PD_LEVEL, true, &huge);

	if (!d || huge || *d)
		return -ENOMEM;
	if (!alloc_table(dst, &phys))
		return -ENOMEM;
	reserve_push(dst, pfn_to_page(phys >> PAGE_SHIFT));
	uint64_t e = *s;
	if ((e & (PTE_P | PTE_TRAP)) && (e & dropbits)) {
		e &= ~dropbits;
		WRITE_ONCE(*s, e);
		*changed = true;
	}
	WRITE_ONCE(*d, e);
	pfns[0] = huge_slot(e);
	*va = base + PT_HUGE_SIZE;
	return 1;
}

/* Clear the huge entry *h found at *va (a call that began at from) when [from, end) covers it
 * whole; its spare table goes. One that sticks out is skipped, as mmu.h says. */
static unsigned clear_huge(struct arch_pt *pt, uint64_t *h, vaddr_t from, vaddr_t *va,
			   vaddr_t end, pfn_t *pfns)
{
	vaddr_t base = ALIGN_DOWN(*va, PT_HUGE_SIZE);
	uint64_t e = *h;
	struct page *spare;

	*va = base + PT_HUGE_SIZE;
	if (base < from || *va > end) {
		printk(KERN_ERR "pt: huge entry at %#llx only partly in a range cleared\n",
		       (unsigned long long)base);
		return 0;
	}
	WRITE_ONCE(*h, 0);
	if ((spare = reserve_pop(pt)))
		frame_free(spare, 0);
	pfns[0] = huge_slot(e);
	return 1;
}

int arch_pt_copy_range(struct arch_pt *dst, struct arch_pt *src, vaddr_t *va, vaddr_t end,
		       unsigned drop, pfn_t *pfns, unsigned max, bool *changed)
{
	bool huge;
	uint64_t *s = next_leaf(src, va, end, &huge), *d;
	uint64_t dropbits = (drop & PT_WRITE) ? PTE_W : 0;
	unsigned n = 0;
	if (!s)
		return 0;
	if (huge)
		return copy_huge(dst, s, va, dropbits, pfns, changed);
	if (!user_page_ok(*va) || !(d = leaf(dst, *va, true)))
		return user_page_ok(*va) ? -ENOMEM : -EINVAL;
	d -= index_at(*va, 0); /* both now point at entry 0 of their tables */
	vaddr_t a = *va;
	for (unsigned i = index_at(a, 0); i < ENTRIES && a < end && n < max; i++, a += PAGE_SIZE) {
		uint64_t e = s[i];
		if (!e)
			continue;
		if ((e & (PTE_P | PTE_TRAP)) && (e & dropbits)) {
			e &= ~dropbits;
			WRITE_ONCE(s[i], e);
			*changed = true;
		}
		if (maps_frame(e))
			pfns[n++] = (e & PTE_ADDR) >> PAGE_SHIFT;
		WRITE_ONCE(d[i], e);
	}
	*va = a;
	return (int)n;
}

unsigned arch_pt_clear_range(struct arch_pt *pt, vaddr_t *va, vaddr_t end, pfn_t *pfns,
			     unsigned max)
{
	vaddr_t from = *va;
	bool huge;
	uint64_t *t = next_leaf(pt, va, end, &huge);
	unsigned n = 0;
	if (!t)
		return 0;
	if (huge)
		return clear_huge(pt, t, from, va, end, pfns);
	vaddr_t a = *va;
	for (unsigned i = index_at(a, 0); i < ENTRIES && a < end && n < max; i++, a += PAGE_SIZE) {
		uint64_t e = t[i];
		if (!e)
			continue;
		WRITE_ONCE(t[i], 0);
		if (maps_frame(e))
			pfns[n++] = (e & PTE_ADDR) >> PAGE_SHIFT;
	}
	*va = a;
	return n;
}

static void free_level(uint64_t *t, int level)
{
	unsigned last = level == LEVELS - 1 ? USER_PML4_ENTRIES : ENTRIES;
	for (unsigned i = 0; level > 0 && i < last; i++)
		if ((t[i] & PTE_P) && !is_huge(t[i], level))
			free_level(table_virt(t[i]), level - 1);
	frame_free(virt_to_page(t), 0);
}

bool arch_pt_huge_supported(void) { return true; } /* PS in the PD is part of long mode */

int arch_pt_map_huge(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot)
{
	struct page *spare;
	bool huge;

	if (!user_page_ok(va) || !IS_ALIGNED(va, PT_HUGE_SIZE) ||
	    !IS_ALIGNED(pfn, PT_HUGE_PAGES) || va > USER_VA_END - PT_HUGE_SIZE)
		return -EINVAL;
	uint64_t *e = entry_at(pt, va, PD_LEVEL, true, &huge);
	if (!e)
		return -ENOMEM;
	if (is_huge(*e, PD_LEVEL))
		return -EEXIST;
	if (*e & PTE_P) { /* a leaf table: it becomes the spare if it is empty */
		const uint64_t *t = table_virt(*e);
		for (unsigned i = 0; i < ENTRIES; i++)
			if (t[i])
				return -EEXIST;
		spare = virt_to_page(t);
	} else {
		paddr_t phys;
		if (!alloc_table(pt, &phys))
			return -ENOMEM;
		spare = pfn_to_page(phys >> PAGE_SHIFT);
	}
	reserve_push(pt, spare);
	/* A CPU may still cache the old (empty) table's PD entry: the page fault such a stale
	 * walk raises drops it, and the fault then finds this entry. */
	WRITE_ONCE(*e, (pfn << PAGE_SHIFT) | prot_bits(prot) | PTE_PS);
	return 0;
}

int arch_pt_split_huge(struct arch_pt *pt, vaddr_t va)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *h = huge_at(pt, va);
	struct page *spare = h ? reserve_pop(pt) : NULL;
	if (!spare)
		return -ENOENT;
	uint64_t e = *h, flags = e & ~(HUGE_ADDR | PTE_PS);
	pfn_t pfn = (e & HUGE_ADDR) >> PAGE_SHIFT;
	uint64_t *t = page_to_virt(spare);
	for (unsigned i = 0; i < ENTRIES; i++)
		t[i] = ((pfn + i) << PAGE_SHIFT) | flags;
	WRITE_ONCE(*h, (page_to_pfn(spare) << PAGE_SHIFT) | PTE_P | PTE_W | PTE_U);
	return 0;
}

void arch_pt_destroy(struct arch_pt *pt)
{
	if (!pt)
		return;
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		if (active_pt[c] == pt)
			printk(KERN_ERR "pt: destroying an address space still active on CPU %u\n", c);
	free_level(pt->pml4, LEVELS - 1);
	struct page *spare;
	while ((spare = reserve_pop(pt)))
		frame_free(spare, 0);
	kfree(pt);
}

struct flush_req {
	struct arch_pt *pt;
	vaddr_t va;
	size_t n;
	unsigned sender; /* flushes for other CPUs count as TLB shootdowns (/proc/interrupts) */
};

static void flush_local(void *arg)
{
	struct flush_req *r = arg;
	if (active_pt[arch_cpu_id()] != r->pt)
		return; /* switched away since: loading another CR3 dropped the entries */
	if (arch_cpu_id() != r->sender)
		this_cpu()->tlb_count++;
	if (r->n > FLUSH_ALL_THRESHOLD) {
		write_cr3(read_cr3());
		return;
	}
	for (size_t i = 0; i < r->n; i++)
		invlpg(r->va + i * PAGE_SIZE);
}

void arch_pt_flush(struct arch_pt *pt, vaddr_t va, size_t npages)
{
	unsigned self = arch_cpu_id();
	struct flush_req r = {pt, va, npages, self};
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* entry updates before reading the CPU mask */
	for_each_cpu_in(c, &pt->active_cpus) {
		if (c == self) {
			irqflags_t f = arch_irq_save();
			flush_local(&r);
			arch_irq_restore(f);
		} else {
			arch_call_on_cpu(c, flush_local, &r, true);
		}
	}
}

void arch_pt_activate(struct arch_pt *pt)
{
	irqflags_t f = arch_irq_save();
	unsigned cpu = arch_cpu_id();
	struct arch_pt *old = active_pt[cpu];
	if (old != pt) {
		if (pt)
			cpumask_set(&pt->active_cpus, cpu);
		write_cr3(pt ? pt->pml4_phys : mmu_kernel_pml4());
		active_pt[cpu] = pt;
		if (old)
			cpumask_clear(&old->active_cpus, cpu);
	}
	arch_irq_restore(f);
}
