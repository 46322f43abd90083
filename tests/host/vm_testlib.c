/* Host test helpers for kernel/mm address spaces and the reverse map: world set-up and the
 * brute-force rmap checker described in vm_testlib.h. */
#include "vm_testlib.h"
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "../../include/kmalloc.h"
#include "../../include/pagecache.h"
#include "../../include/rmap.h"
#include "../../kernel/mm/rmap_priv.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char vt_err[512];
static struct page *vt_map;

void vt_setup(void)
{
	fake_phys_alloc((size_t)VT_NPFN * PAGE_SIZE);
	free(vt_map);
	vt_map = calloc(VT_NPFN, sizeof(*vt_map));
	fake_cpu_id = 0;
	frame_init(vt_map, VT_NPFN);
	frame_add_free_range(1, VT_NPFN);
	kmalloc_init();
	fake_mmu_reset();
	shmem_init(); /* shared anonymous memory is a file of its instance */
}

uint64_t vt_free_frames(void)
{
	struct frame_stats st;

	kmalloc_drain();
	for (unsigned c = 0; c < MAX_CPUS; c++)
		frame_drain_cpu(c);
	frame_get_stats(&st);
	return st.free;
}

/* One present PTE found by the brute-force scan. */
struct seen {
	pfn_t pfn;
	struct mm *mm;
	vaddr_t va;
	unsigned prot;
	bool shared; /* in a VM_SHARED VMA */
};

struct scan {
	struct mm **mms;
	size_t n;
	struct seen *s;
	size_t ns, cap;
	bool bad_pt;
};

static struct mm *owner_of(struct scan *sc, struct arch_pt *pt)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->mms[i]->pt == pt)
			return sc->mms[i];
	return NULL;
}

static int scan_one(struct arch_pt *pt, vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct scan *sc = arg;
	struct mm *mm = owner_of(sc, pt);

	if (!mm) {
		sc->bad_pt = true;
		return 1;
	}
	if (!pi->present)
		return 0;
	if (sc->ns == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 256;
		sc->s = realloc(sc->s, sc->cap * sizeof(*sc->s));
	}
	struct vma *v = vma_tree_find(mm->vma_root, va);
	sc->s[sc->ns++] = (struct seen){pi->pfn, mm, va, pi->prot, v && (v->flags & VM_SHARED)};
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	if (x->mm != y->mm)
		return (uintptr_t)x->mm < (uintptr_t)y->mm ? -1 : 1;
	return x->va < y->va ? -1 : x->va > y->va;
}

struct walk_ctx {
	struct seen *got;
	size_t n, cap;
};

static int walk_collect(struct mm *mm, vaddr_t va, void *arg)
{
	struct walk_ctx *w = arg;

	if (w->n < w->cap)
		w->got[w->n] = (struct seen){0, mm, va, 0, false};
	w->n++;
	return 0;
}

long vt_nr_mapped(void)
{
	long n = 0;

	for (pfn_t pfn = 0; pfn < VT_NPFN; pfn++)
		n += pfn_to_page(pfn)->mapcount;
	return n;
}

/* ---- the structure behind the walks: anon_vmas, chains, objects ---- */

#define MAXAV 4096

struct avset {
	struct anon_vma *av[MAXAV];
	long avcs[MAXAV], pages[MAXAV], children[MAXAV], active[MAXAV];
	size_t n;
	long nr_avcs;
};

static long av_slot(struct avset *s, struct anon_vma *av)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->av[i] == av)
			return (long)i;
	if (s->n == MAXAV)
		return -1;
	s->av[s->n] = av;
	return (long)s->n++;
}

static bool on_list(const struct list_node *head, const struct list_node *node)
{
	for (const struct list_node *p = head->next; p != head; p = p->next)
		if (p == node)
			return true;
	return false;
}

/* Every VMA: its mm, its chain (each entry on its anon_vma's list, one family, its own
 * anon_vma on it), its object list. Fills the set of anon_vmas its chains reach. */
static bool check_vma_links(struct mm *mm, struct vma *v, struct avset *s)
{
	bool own = false;

	if (v->mm != mm || (!v->anon_vma != list_empty(&v->anon_chain)) ||
	    ((v->flags & VM_FILE) && v->file.pc && v->obj != &v->file.pc->obj) || (v->obj && !on_list(&v->obj->vmas, &v->obj_link))) {
		snprintf(vt_err, sizeof vt_err, "vma %#lx-%#lx: links (mm %d, chain %d, obj %d)",
			 (long)v->start, (long)v->end, v->mm == mm, list_empty(&v->anon_chain),
			 v->obj != NULL);
		return false;
	}
	for (struct list_node *p = v->anon_chain.next; p != &v->anon_chain; p = p->next) {
		struct anon_vma_chain *c = list_entry(p, struct anon_vma_chain, same_vma);
		long i = av_slot(s, c->av);
		if (i < 0 || c->vma != v || c->av->root != v->anon_vma->root ||
		    !on_list(&c->av->avcs, &c->same_av)) {
			snprintf(vt_err, sizeof vt_err, "vma %#lx: chain entry %p broken", (long)v->start,
				 (void *)c);
			return false;
		}
		own |= c->av == v->anon_vma;
	}
	if (v->anon_vma && !own) {
		snprintf(vt_err, sizeof vt_err, "vma %#lx: not linked to its own anon_vma",
			 (long)v->start);
		return false;
	}
	if (v->anon_vma)
		s->active[av_slot(s, v->anon_vma)]++;
	return true;
}

/* Each anon_vma reachable from a VMA, a page or a child: its reference count is its chain
 * entries + anchored pages + children, its counts are right, and nothing else is alive. */
static bool check_anon_vmas(struct mm **mms, size_t n)
{
	static struct avset s;
	memset(&s, 0, sizeof s);
	for (size_t i = 0; i < n; i++)
		for (struct vma *v = vma_tree_next(mms[i]->vma_root, 0); v;
		     v = vma_tree_next(mms[i]->vma_root, v->end))
			if (!check_vma_links(mms[i], v, &s))
				return false;
	for (pfn_t pfn = 0; pfn < VT_NPFN; pfn++) {
		struct anon_vma *av = rmap_page_anon(pfn_to_page(pfn)->priv);
		if (av && (pfn_to_page(pfn)->flags & PG_USER))
			s.pages[av_slot(&s, av)]++;
	}
	for (size_t i = 0; i < s.n; i++) /* grows while parents are found */
		if (s.av[i]->parent)
			s.children[av_slot(&s, s.av[i]->parent)]++;
	for (size_t i = 0; i < s.n; i++) {
		struct anon_vma *av = s.av[i];
		for (struct list_node *p = av->avcs.next; p != &av->avcs; p = p->next)
			s.avcs[i]++;
		s.nr_avcs += s.avcs[i];
		if (av->refcount != s.avcs[i] + s.pages[i] + s.children[i] ||
		    av->nr_children != s.children[i] || av->nr_active != s.active[i] ||
		    (av->parent && av->root != av->parent->root) || (!av->parent && av->root != av)) {
			snprintf(vt_err, sizeof vt_err,
				 "anon_vma %p: refcount %d (entries %ld pages %ld children %ld), "
				 "children %u, active %u (want %ld)", (void *)av, av->refcount,
				 s.avcs[i], s.pages[i], s.children[i], av->nr_children, av->nr_active,
				 s.active[i]);
			return false;
		}
	}
	if ((long)s.n != rmap_nr_anon_vmas() || s.nr_avcs != rmap_nr_avcs()) {
		snprintf(vt_err, sizeof vt_err, "%zu anon_vmas and %ld entries reachable, %ld and %ld "
			 "alive", s.n, s.nr_avcs, rmap_nr_anon_vmas(), rmap_nr_avcs());
		return false;
	}
	return true;
}

/* Compare frame pfn's rmap with the brute-force entries s[0..k). */
static bool check_frame(pfn_t pfn, const struct seen *s, size_t k, int holds)
{
	struct page *pg = pfn_to_page(pfn);
	struct seen got[512];
	struct walk_ctx w = {got, 0, 512};

	if ((k || holds) && !(pg->flags & PG_USER)) {
		snprintf(vt_err, sizeof vt_err, "pfn %#lx mapped but flags %#x", (long)pfn,
			 pg->flags);
		return false;
	}
	if (!(pg->flags & PG_USER))
		return true;
	rmap_walk(pg, walk_collect, &w);
	if (w.n != k || w.n > w.cap || pg->mapcount != (int)k || rmap_count(pg) != (int)k ||
	    pg->refcount != (int)k + holds) {
		snprintf(vt_err, sizeof vt_err,
			 "pfn %#lx: rmap %zu entries, ptes %zu, mapcount %d, refcount %d, holds %d",
			 (long)pfn, w.n, k, pg->mapcount, pg->refcount, holds);
		return false;
	}
	for (size_t i = 0; i < k; i++)
		got[i].pfn = pfn;
	if (k)
		qsort(got, k, sizeof(*got), cmp_seen);
	for (size_t i = 0; i < k; i++) {
		if (got[i].mm != s[i].mm || got[i].va != s[i].va) {
			snprintf(vt_err, sizeof vt_err, "pfn %#lx: rmap (%p,%#lx) vs pte (%p,%#lx)",
				 (long)pfn, (void *)got[i].mm, (long)got[i].va, (void *)s[i].mm,
				 (long)s[i].va);
			return false;
		}
		/* writable: a shared file page only once dirty, a private page only alone */
		bool bad_write = s[i].shared ? (pg->flags & (PG_FILE | PG_DIRTY)) == PG_FILE
					     : pg->refcount != 1 || (pg->flags & PG_FILE);
		if ((s[i].prot & PT_WRITE) && bad_write) {
			snprintf(vt_err, sizeof vt_err,
				 "pfn %#lx writable in private %#lx, refs %d", (long)pfn,
				 (long)s[i].va, pg->refcount);
			return false;
		}
	}
	return true;
}

bool vt_check(struct mm **mms, size_t n)
{
	struct scan sc = {mms, n, NULL, 0, 0, false};
	int *holds = calloc(VT_NPFN, sizeof(int));
	bool ok = true;
	size_t i = 0;

	vt_err[0] = 0;
	fake_mmu_scan(scan_one, &sc);
	if (sc.bad_pt || fake_mmu_nr_pts() != n) {
		snprintf(vt_err, sizeof vt_err, "page tables: %zu live for %zu mms%s",
			 fake_mmu_nr_pts(), n, sc.bad_pt ? ", one has no owner" : "");
		ok = false;
	}
	if (ok && vt_nr_mapped() != (long)sc.ns) {
		snprintf(vt_err, sizeof vt_err, "mapcounts add up to %ld, page tables %zu",
			 vt_nr_mapped(), sc.ns);
		ok = false;
	}
	if (ok)
		ok = check_anon_vmas(mms, n);
	if (sc.ns)
		qsort(sc.s, sc.ns, sizeof(*sc.s), cmp_seen);
	for (pfn_t pfn = 0; pfn < VT_NPFN; pfn++) /* the page cache holds its pages */
		holds[pfn] += (pfn_to_page(pfn)->flags & PG_FILE) && pfn_to_page(pfn)->mapping;
	for (pfn_t pfn = 0; ok && pfn < VT_NPFN; pfn++) {
		size_t j = i;
		while (j < sc.ns && sc.s[j].pfn == pfn)
			j++;
		ok = check_frame(pfn, sc.s + i, j - i, holds[pfn]);
		i = j;
	}
	if (ok && i != sc.ns) {
		snprintf(vt_err, sizeof vt_err, "a PTE maps pfn %#lx beyond memory",
			 (long)sc.s[i].pfn);
		ok = false;
	}
	free(sc.s);
	free(holds);
	return ok;
}

void *vt_page(struct mm *mm, vaddr_t va)
{
	struct vm_page_info info;

	vm_page_info(mm, va, &info);
	if (info.state != VM_PAGE_PRESENT)
		return NULL;
	return page_to_virt(pfn_to_page(info.pfn));
}

pfn_t vt_pfn_at(struct mm *mm, vaddr_t va)
{
	struct vm_page_info info;
	vm_page_info(mm, va, &info);
	return info.state == VM_PAGE_PRESENT ? info.pfn : 0;
}

uint64_t vt_word(struct mm *mm, vaddr_t va)
{
	uint64_t *p = vt_page(mm, va);
	return p ? p[0] : ~0ull;
}

int vt_user_write(struct mm *mm, vaddr_t va, uint64_t v)
{
	int r = vm_fault(mm, va, FAULT_WRITE, true);
	if (r == 0)
		((uint64_t *)vt_page(mm, va))[0] = v;
	return r;
}

static int count_vma(const struct vma *v, void *arg)
{
	(void)v;
	(*(int *)arg)++;
	return 0;
}

int vt_nr_vmas(struct mm *mm)
{
	int n = 0;

	vm_for_each_vma(mm, count_vma, &n);
	return n;
}

static uint64_t vt_baseline;

void vt_start(void)
{
	vt_setup();
	vt_baseline = vt_free_frames();
}

void vt_check_clean(void)
{
	CHECK_EQ(vm_nr_mms(), 0);
	CHECK_EQ(vt_nr_mapped(), 0);
	CHECK_EQ(rmap_nr_anon_vmas(), 0);
	CHECK_EQ(rmap_nr_avcs(), 0);
	CHECK_EQ(fake_mmu_nr_pts(), 0);
	CHECK_EQ(fake_mmu_dropped, 0);
	CHECK_EQ(vt_free_frames(), vt_baseline);
}

uint64_t vt_baseline_frames(void) { return vt_baseline; }

/* ---- files for mappings ---- */

static void vtf_get(void *file) { ((struct vt_file *)file)->refs++; }
static void vtf_put(void *file) { ((struct vt_file *)file)->refs--; }
static int vtf_sync(void *file, uint64_t start, uint64_t end)
{
	(void)start, (void)end;
	((struct vt_file *)file)->syncs++;
	return 0;
}
static long vtf_name(void *file, char *buf, size_t size)
{
	(void)file;
	return snprintf(buf, size, "/vt-file");
}
static const struct vm_file_ops vtf_ops = {vtf_get, vtf_put, vtf_sync, vtf_name, NULL};

static long vtf_backing(struct pagecache *pc, uint64_t index, const void **src)
{
	struct vt_file *f = pc->host;
	uint64_t off = index * PAGE_SIZE;
	if (off >= f->size)
		return 0;
	*src = (const uint8_t *)f->bytes + off;
	return (long)(f->size - off < PAGE_SIZE ? f->size - off : PAGE_SIZE);
}
static const struct pagecache_ops vtf_pc_ops = {vtf_backing, NULL, NULL};

void vt_file_init(struct vt_file *f, const void *bytes, size_t size, unsigned mode)
{
	memset(f, 0, sizeof(*f));
	f->bytes = bytes;
	f->size = size;
	pagecache_init(&f->pc, &vtf_pc_ops, f);
	f->pc.size = size;
	f->vf = (struct vm_file){&f->pc, f, &vtf_ops, mode, NULL};
}

void vt_file_release(struct vt_file *f)
{
	CHECK_EQ(f->refs, 0); /* no VMA maps it any more */
	pagecache_destroy(&f->pc);
}
