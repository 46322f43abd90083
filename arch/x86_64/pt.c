/* User address spaces on x86-64 page tables (the interface is in include/arch/mmu.h).
 *
 * Each address space has its own PML4. Entries 256..511 (the kernel half) are copied from
 * the kernel's PML4 when the space is created; they point at shared lower tables that never
 * change at this level, so every space sees the same kernel. Entries 0..255 lead to tables
 * allocated here as needed, 4 KiB user pages only: PML4 -> PDPT -> PD -> PT -> page.
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
};

static struct arch_pt *active_pt[MAX_CPUS];

static unsigned level_shift(int level) { return 12 + 9 * (unsigned)level; } /* 3 = PML4 */
static unsigned index_at(vaddr_t va, int level) { return (va >> level_shift(level)) & 511; }
static uint64_t *table_virt(uint64_t entry) { return arch_phys_to_virt(entry & PTE_ADDR); }

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
	const uint64_t *kernel = arch_phys_to_virt(mmu_kernel_pml4());
	for (unsigned i = USER_PML4_ENTRIES; i < ENTRIES; i++)
		pt->pml4[i] = kernel[i];
	return pt;
}

/* The leaf entry for va, allocating the tables on the way when create; NULL if absent/OOM. */
static uint64_t *leaf(struct arch_pt *pt, vaddr_t va, bool create)
{
	uint64_t *t = pt->pml4;
	for (int level = LEVELS - 1; level > 0; level--) {
		uint64_t *e = &t[index_at(va, level)];
		if (!(*e & PTE_P)) {
			paddr_t phys;
			if (!create || !alloc_table(pt, &phys))
				return NULL;
			*e = phys | PTE_P | PTE_W | PTE_U; /* leaves decide the real permissions */
		}
		t = table_virt(*e);
	}
	return &t[index_at(va, 0)];
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
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *e = leaf(pt, va, true);
	if (!e)
		return -ENOMEM;
	WRITE_ONCE(*e, trapped((pfn << PAGE_SHIFT) | prot_bits(prot), frame_trapped(pfn)));
	return 0;
}

int arch_pt_trap(struct arch_pt *pt, vaddr_t va, bool on)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *e = leaf(pt, va, false);
	if (!e || !(*e & (PTE_P | PTE_TRAP | PTE_PROTNONE)))
		return -ENOENT;
	WRITE_ONCE(*e, trapped(*e, on));
	return 0;
}

int arch_pt_protect(struct arch_pt *pt, vaddr_t va, unsigned prot)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *e = leaf(pt, va, false);
	if (!e || !(*e & (PTE_P | PTE_TRAP | PTE_PROTNONE)))
		return -ENOENT;
	WRITE_ONCE(*e, trapped((*e & (PTE_ADDR | PTE_A | PTE_D)) | prot_bits(prot),
			       frame_trapped((*e & PTE_ADDR) >> PAGE_SHIFT)));
	return 0;
}

int arch_pt_set_marker(struct arch_pt *pt, vaddr_t va, uint64_t marker)
{
	if (!user_page_ok(va) || marker == 0 || marker >= MARKER_MAX)
		return -EINVAL;
	uint64_t *e = leaf(pt, va, true);
	if (!e)
		return -ENOMEM;
	WRITE_ONCE(*e, (marker << PAGE_SHIFT) | PTE_MARKER);
	return 0;
}

int arch_pt_clear(struct arch_pt *pt, vaddr_t va)
{
	if (!user_page_ok(va))
		return -EINVAL;
	uint64_t *e = leaf(pt, va, false);
	if (!e || !*e)
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

int arch_pt_get(struct arch_pt *pt, vaddr_t va, struct pte_info *out)
{
	if (!user_page_ok(va))
		return -EINVAL;
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
		if (level == 0) {
			struct pte_info pi;
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
 * to that address past the spans of missing tables; NULL (and *va = end) when none is left. */
static uint64_t *next_leaf(struct arch_pt *pt, vaddr_t *va, vaddr_t end)
{
	vaddr_t a = *va;
	while (a < end) {
		uint64_t *t = pt->pml4;
		int level = LEVELS - 1;
		for (; level > 0; level--) {
			uint64_t e = t[index_at(a, level)];
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

int arch_pt_copy_range(struct arch_pt *dst, struct arch_pt *src, vaddr_t *va, vaddr_t end,
		       unsigned drop, pfn_t *pfns, unsigned max, bool *changed)
{
	uint64_t *s = next_leaf(src, va, end), *d;
	uint64_t dropbits = (drop & PT_WRITE) ? PTE_W : 0;
	unsigned n = 0;
	if (!s)
		return 0;
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
	uint64_t *t = next_leaf(pt, va, end);
	unsigned n = 0;
	if (!t)
		return 0;
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
		if (t[i] & PTE_P)
			free_level(table_virt(t[i]), level - 1);
	frame_free(virt_to_page(t), 0);
}

void arch_pt_destroy(struct arch_pt *pt)
{
	if (!pt)
		return;
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		if (active_pt[c] == pt)
			printk(KERN_ERR "pt: destroying an address space still active on CPU %u\n", c);
	free_level(pt->pml4, LEVELS - 1);
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
