/* The allocator audit and the frame accounting: two debugfs files whose reads check the whole
 * allocator against its page array while every other CPU waits (arch_run_alone), so that
 * what they see is one consistent moment. Nothing here runs on an allocation path; the
 * injection campaign reads them between injections (docs/campaign.md).
 *
 *   /sys/kernel/debug/mcrk/frame_audit       walks every free list and every CPU's cache:
 *       each frame on them is free and on exactly one of them, no poisoned frame is on them
 *       (but an isolated one a cache has not dropped yet), every frame that belongs to nobody
 *       is on them, every isolated frame is poisoned, and the allocator's counters agree.
 *   /sys/kernel/debug/mcrk/frame_accounting  every described frame is in exactly one of
 *       free (MemFree), poisoned (HardwareCorrupted) and in use (reserved, or allocated and
 *       not poisoned), so free + poisoned + in_use = frames; with what is allocated per kind.
 *       MemFree and HardwareCorrupted are what /proc/meminfo shows at that same moment (the
 *       allocator's counters and the poison bits); in_use is counted from the page array.
 *
 * A frame that memory_failure is poisoning at that very moment (poison bit set, not yet
 * isolated) shows as a poisoned frame on a free list; read the files when no memory failure
 * is in progress. */
#include "arch/mmu.h"
#include "arch/smp.h"
#include "ctl.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pagecache.h"
#include "printk.h"

#define AUDIT_MAX_ERRORS 8
#define AUDIT_ERROR_LEN 112

/* Frames allocated to each use, poisoned or not (tails of multi-frame blocks included). */
struct frame_uses {
	uint64_t reserved, user, file, pgtable, slab, kstack, kernel, poisoned_in_use;
	uint64_t slab_objects;
};

struct audit {
	uint8_t *seen; /* one bit per pfn: met on a free list or a per-CPU cache */
	pfn_t npfn;
	struct frame_books books;
	uint64_t listed, blocks[FRAME_MAX_ORDER + 1], cached, cached_isolated;
	uint64_t isolated, poisoned, poisoned_free, in_use;
	struct frame_uses uses;
	struct frame_stats stats; /* what /proc/meminfo would show at the same moment */
	uint64_t errors;
	char error[AUDIT_MAX_ERRORS][AUDIT_ERROR_LEN];
};

__printf(3, 4) static void audit_error(struct audit *a, pfn_t pfn, const char *fmt, ...)
{
	if (a->errors < AUDIT_MAX_ERRORS) {
		char *e = a->error[a->errors];
		int n = ksnprintf(e, AUDIT_ERROR_LEN, "pfn %#lx: ", pfn);
		va_list ap;
		va_start(ap, fmt);
		kvsnprintf(e + n, AUDIT_ERROR_LEN - (size_t)n, fmt, ap);
		va_end(ap);
	}
	a->errors++;
}

static uint32_t flags_of(const struct page *pg)
{
	return __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
}

/* Mark pfn as met on a free list; false (and an error) if it was met before. */
static bool mark_seen(struct audit *a, pfn_t pfn)
{
	uint8_t bit = (uint8_t)(1u << (pfn & 7));
	if (a->seen[pfn >> 3] & bit) {
		audit_error(a, pfn, "on two free lists (or twice on one)");
		return false;
	}
	a->seen[pfn >> 3] |= bit;
	return true;
}

static void audit_block(struct page *head, unsigned order, void *arg)
{
	struct audit *a = arg;
	pfn_t pfn = page_to_pfn(head), n = 1ull << order;
	a->blocks[order]++;
	if (head->order != order || (flags_of(head) & PG_OWNER_MASK) != PG_BUDDY ||
	    !IS_ALIGNED(pfn, n) || pfn + n > a->npfn) {
		audit_error(a, pfn, "on the order-%u list with flags %#x order %u", order,
			    flags_of(head), head->order);
		return;
	}
	a->listed += n;
	for (pfn_t i = 0; i < n; i++) {
		uint32_t f = flags_of(head + i);
		if (!mark_seen(a, pfn + i))
			continue;
		if (i && (f & PG_OWNER_MASK))
			audit_error(a, pfn + i, "inside a free block but owned (flags %#x)", f);
		if (f & PG_HWPOISON) {
			a->poisoned_free++;
			audit_error(a, pfn + i, "poisoned, yet in a free block of order %u", order);
		}
	}
}

static void audit_cached(struct page *pg, unsigned cpu, void *arg)
{
	struct audit *a = arg;
	pfn_t pfn = page_to_pfn(pg);
	uint32_t f = flags_of(pg);
	a->cached++;
	if (!mark_seen(a, pfn))
		return;
	if ((f & PG_OWNER_MASK & ~PG_ISOLATED) != PG_PCP || pg->pcp_cpu != (uint8_t)cpu)
		audit_error(a, pfn, "on CPU %u's cache with flags %#x, cache %u", cpu, f,
			    pg->pcp_cpu);
	if (f & PG_ISOLATED) {
		a->cached_isolated++;
	} else if (f & PG_HWPOISON) {
		a->poisoned_free++;
		audit_error(a, pfn, "poisoned, yet free in CPU %u's cache", cpu);
	}
}

/* What a frame with flags f counts as, by use. */
static void count_use(struct frame_uses *u, const struct page *pg, uint32_t f)
{
	u->reserved += !!(f & PG_RESERVED);
	u->user += (f & (PG_USER | PG_FILE)) == PG_USER;
	u->file += (f & (PG_USER | PG_FILE)) == (PG_USER | PG_FILE);
	u->pgtable += !!(f & PG_PGTABLE);
	u->kstack += !!(f & PG_KSTACK);
	u->kernel += !!(f & PG_KERNEL);
	if (f & PG_SLAB) {
		u->slab++;
		u->slab_objects += pg->slab_inuse;
	}
	u->poisoned_in_use += (f & PG_KIND_MASK) && (f & PG_HWPOISON);
}

/* Every frame of the page array against what the lists said. */
static void audit_scan(struct audit *a)
{
	for (pfn_t pfn = 0; pfn < a->npfn; pfn++) {
		const struct page *pg = pfn_to_page(pfn);
		uint32_t f = flags_of(pg), owner = f & PG_OWNER_MASK;
		bool seen = a->seen[pfn >> 3] & (1u << (pfn & 7));
		bool free = !owner || (owner & (PG_BUDDY | PG_PCP));
		bool poisoned = f & PG_HWPOISON;
		a->poisoned += poisoned;
		if (f & PG_ISOLATED) {
			a->isolated++;
			if (!poisoned)
				audit_error(a, pfn, "isolated but not poisoned (flags %#x)", f);
		}
		if (free && !seen)
			audit_error(a, pfn, "free (flags %#x) but on no free list: lost", f);
		else if (!free && seen)
			audit_error(a, pfn, "in use (flags %#x) but on a free list", f);
		a->in_use += !poisoned && (owner & (PG_RESERVED | PG_KIND_MASK));
		count_use(&a->uses, pg, f);
	}
}

static void audit_books(struct audit *a)
{
	const struct frame_books *b = &a->books;
	if (a->listed != b->nr_free)
		audit_error(a, 0, "the free lists hold %lu frames, the zone counts %lu", a->listed,
			    b->nr_free);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		if (a->blocks[o] != b->nr_blocks[o])
			audit_error(a, 0, "%lu blocks on the order-%u list, counted %lu",
				    a->blocks[o], o, b->nr_blocks[o]);
	if (a->cached != b->pcp_count || a->cached_isolated != b->pcp_lazy)
		audit_error(a, 0, "%lu frames (%lu isolated) in the caches, counted %lu (%lu)",
			    a->cached, a->cached_isolated, b->pcp_count, b->pcp_lazy);
	if (a->isolated != b->isolated)
		audit_error(a, 0, "%lu isolated frames, counted %lu", a->isolated, b->isolated);
}

static void audit_alone(void *arg)
{
	struct audit *a = arg;
	const struct frame_walk w = {audit_block, audit_cached, a};
	frame_walk_free(&w, &a->books);
	audit_scan(a);
	audit_books(a);
	frame_get_stats(&a->stats);
}

/* Run the whole audit into a kmalloc'd result (kfree it), or NULL with *err set. */
static struct audit *audit_run(int *err)
{
	struct audit *a = kzalloc(sizeof(*a));
	if (a) {
		a->npfn = frame_max_pfn();
		a->seen = kzalloc(a->npfn / 8 + 1);
	}
	if (!a || !a->seen) {
		if (a)
			kfree(a);
		*err = -ENOMEM;
		return NULL;
	}
	*err = arch_run_alone(audit_alone, a);
	kfree(a->seen);
	a->seen = NULL;
	if (*err) {
		kfree(a);
		return NULL;
	}
	return a;
}

/* Free frames by the allocator's own counters (what MemFree shows). */
static uint64_t audit_free(const struct audit *a)
{
	return a->books.nr_free + a->books.pcp_count - a->books.pcp_lazy;
}

/* One "name value" line per row. */
struct count_row {
	const char *name;
	int64_t value;
};

static void print_rows(struct ctl_buf *b, const struct count_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctl_printf(b, "%s %ld\n", rows[i].name, rows[i].value);
}

static int show_audit(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	int err;
	struct audit *a = audit_run(&err);
	if (!a)
		return err;
	const struct count_row rows[] = {
	    {"frames", (int64_t)a->npfn},
	    {"free", (int64_t)audit_free(a)},
	    {"free_listed", (int64_t)a->listed},
	    {"cached", (int64_t)a->cached},
	    {"cached_isolated", (int64_t)a->cached_isolated},
	    {"isolated", (int64_t)a->isolated},
	    {"poisoned", (int64_t)a->poisoned},
	    {"poisoned_free", (int64_t)a->poisoned_free},
	    {"errors", (int64_t)a->errors},
	};
	print_rows(b, rows, ARRAY_SIZE(rows));
	for (uint64_t i = 0; i < MIN(a->errors, (uint64_t)AUDIT_MAX_ERRORS); i++)
		ctl_printf(b, "error: %s\n", a->error[i]);
	ctl_printf(b, "result %s\n", a->errors ? "FAILED" : "ok");
	kfree(a);
	return 0;
}

static int show_accounting(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	int err;
	struct audit *a = audit_run(&err);
	if (!a)
		return err;
	const struct frame_uses *u = &a->uses;
	int64_t free = (int64_t)a->stats.free, kb = PAGE_SIZE / 1024;
	const struct count_row rows[] = {
	    {"MemFree", free * kb},
	    {"HardwareCorrupted", (int64_t)a->stats.poisoned * kb},
	    {"frames", (int64_t)a->npfn},
	    {"free", free},
	    {"poisoned", (int64_t)a->poisoned},
	    {"in_use", (int64_t)a->in_use},
	    {"unaccounted", (int64_t)a->npfn - free - (int64_t)a->poisoned - (int64_t)a->in_use},
	    {"reserved", (int64_t)u->reserved},
	    {"user", (int64_t)u->user},
	    {"file", (int64_t)u->file},
	    {"pgtable", (int64_t)u->pgtable},
	    {"slab", (int64_t)u->slab},
	    {"kstack", (int64_t)u->kstack},
	    {"kernel", (int64_t)u->kernel},
	    {"directmap", (int64_t)arch_direct_map_tables()},
	    {"poisoned_in_use", (int64_t)u->poisoned_in_use},
	    {"slab_objects", (int64_t)u->slab_objects},
	    {"pagetree_nodes", page_tree_nr_nodes()},
	};
	print_rows(b, rows, ARRAY_SIZE(rows));
	kfree(a);
	return 0;
}

#define MCRK_DEBUG_DIR "/sys/kernel/debug/mcrk/"

static const struct ctl_file audit_files[] = {
    {MCRK_DEBUG_DIR "frame_audit", show_audit, NULL, NULL, 0, 0},
    {MCRK_DEBUG_DIR "frame_accounting", show_accounting, NULL, NULL, 0, 0},
};

/* Register the two files. Boot, process context, once. */
void frame_audit_init(void)
{
	ctl_register(audit_files, ARRAY_SIZE(audit_files), "frame_audit");
}

/* The audit for in-kernel and host tests: 0 when it ran (errors in *errors), or -errno. */
int frame_audit(uint64_t *errors)
{
	int err;
	struct audit *a = audit_run(&err);
	if (!a)
		return err;
	*errors = a->errors;
	for (uint64_t i = 0; i < MIN(a->errors, (uint64_t)AUDIT_MAX_ERRORS); i++)
		pr_err("frame_audit: %s\n", a->error[i]);
	kfree(a);
	return 0;
}
