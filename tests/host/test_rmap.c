/* Host tests of the reverse map (kernel/mm/rmap.c) through the address-space code: walks of a
 * fork-shared page, what an anon_vma narrows a walk to, fork chains that stay short, fork and
 * exit a leaf table at a time, a fork tree torn down in random order, and execve-style
 * replacement, each checked with vt_check (vm_testlib.c). The randomized run against brute
 * force is in test_rmap_random.c. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/rmap.h"
#include "../../kernel/mm/rmap_priv.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdio.h>
#include <string.h>

#define BASE 0x20000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define WORDS (PAGE_SIZE / 8)

struct pair {
	struct mm *mm;
	vaddr_t va;
};

struct collect {
	struct pair p[16];
	int n, stop_at;
};

static int collect_fn(struct mm *mm, vaddr_t va, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		c->p[c->n] = (struct pair){mm, va};
	c->n++;
	return c->n == c->stop_at ? 42 : 0;
}

static bool has(const struct collect *c, struct mm *mm, vaddr_t va)
{
	for (int i = 0; i < c->n && i < 16; i++)
		if (c->p[i].mm == mm && c->p[i].va == va)
			return true;
	return false;
}

static struct mm *mm_with(unsigned pages)
{
	struct mm *mm = mm_create();
	if (mm && vm_mmap(mm, PG(0), pages * PAGE_SIZE, RW,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0) != (long)PG(0))
		return NULL;
	return mm;
}

static struct page *page_at(struct mm *mm, vaddr_t va)
{
	struct vm_page_info info;
	vm_page_info(mm, va, &info);
	return info.state == VM_PAGE_PRESENT ? pfn_to_page(info.pfn) : NULL;
}

/* A page shared by a parent and two children is found in all three, at its address; the walk
 * stops at the function's first non-zero value. */
TEST(rmap_walk_finds_every_mapper)
{
	vt_start();
	struct mm *p = mm_with(4);
	REQUIRE(p);
	struct mm *a = mm_fork(p), *b = mm_fork(p);
	REQUIRE(a && b);
	struct page *pg = page_at(p, PG(2));
	REQUIRE(pg);
	struct collect c = {.n = 0, .stop_at = 0};
	CHECK_EQ(rmap_walk(pg, collect_fn, &c), 0);
	CHECK_EQ(c.n, 3);
	CHECK(has(&c, p, PG(2)) && has(&c, a, PG(2)) && has(&c, b, PG(2)));
	CHECK_EQ(rmap_count(pg), 3);
	c = (struct collect){.n = 0, .stop_at = 2};
	CHECK_EQ(rmap_walk(pg, collect_fn, &c), 42);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(vm_fault(a, PG(2), FAULT_WRITE, true), 0); /* a copies: 2 left */
	c = (struct collect){.n = 0, .stop_at = 0};
	rmap_walk(pg, collect_fn, &c);
	CHECK(c.n == 2 && !has(&c, a, PG(2)));
	mm_put(a);
	mm_put(b);
	mm_put(p);
	vt_check_clean();
}

static int chain_len(const struct vma *v)
{
	int n = 0;
	for (const struct list_node *q = v->anon_chain.next; q != &v->anon_chain; q = q->next)
		n++;
	return n;
}

static int av_list_len(const struct anon_vma *av)
{
	int n = 0;
	for (const struct list_node *q = av->avcs.next; q != &av->avcs; q = q->next)
		n++;
	return n;
}

/* What a walk may visit: a page the parent had before two forks, the three VMAs; a page one
 * child made after the fork (its COW copy), that child's VMA only. Nothing per page at fork. */
TEST(rmap_anon_vma_narrows_walks)
{
	vt_start();
	struct mm *p = mm_with(4);
	REQUIRE(p);
	struct mm *a = mm_fork(p), *b = mm_fork(p);
	REQUIRE(a && b);
	struct vma *va = vma_tree_find(a->vma_root, PG(0));
	struct vma *vp = vma_tree_find(p->vma_root, PG(0));
	REQUIRE(va && vp);
	CHECK(va->anon_vma != vp->anon_vma && va->anon_vma->parent == vp->anon_vma);
	CHECK_EQ(chain_len(va), 2); /* its own and the parent's */
	CHECK_EQ(av_list_len(vp->anon_vma), 3);
	CHECK_EQ(vm_fault(a, PG(1), FAULT_WRITE, true), 0);
	struct page *copy = page_at(a, PG(1)), *orig = page_at(p, PG(1));
	REQUIRE(copy && orig);
	CHECK(rmap_page_anon(copy->priv) == va->anon_vma && av_list_len(va->anon_vma) == 1);
	CHECK(rmap_page_anon(orig->priv) == vp->anon_vma);
	CHECK_EQ(copy->index, orig->index);
	CHECK(vt_check((struct mm *[]){p, a, b}, 3));
	mm_put(p); /* the parent goes first: its anon_vma stays while children map its pages */
	CHECK(vt_check((struct mm *[]){a, b}, 2));
	mm_put(a);
	mm_put(b);
	vt_check_clean();
}

/* A process that forks and exits, its child the same, and so on: anon_vmas nobody owns are
 * taken over, so the chain of a VMA stays short however many generations pass. */
TEST(rmap_fork_chain_stays_short)
{
	vt_start();
	struct mm *gen = mm_with(2);
	REQUIRE(gen);
	int longest = 0;
	for (int g = 0; g < 40; g++) {
		struct mm *child = mm_fork(gen);
		REQUIRE(child);
		CHECK_EQ(vm_fault(child, PG(g & 1), FAULT_WRITE, true), 0);
		mm_put(gen);
		gen = child;
		longest = MAX(longest, chain_len(vma_tree_find(gen->vma_root, PG(0))));
		CHECK(vt_check(&gen, 1));
	}
	CHECK(longest <= 3);
	CHECK(rmap_nr_anon_vmas() <= 4);
	mm_put(gen);
	vt_check_clean();
}

/* fork and exit a leaf table at a time: no single-page page-table call, one range call per
 * table of the 2048 pages (4 tables), however many pages they hold. */
TEST(rmap_fork_and_exit_a_table_at_a_time)
{
	vt_start();
	struct mm *p = mm_with(2048);
	REQUIRE(p);
	uint64_t pages0 = fake_mmu_page_calls, ranges0 = fake_mmu_range_calls;
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	CHECK_EQ(fake_mmu_page_calls - pages0, 0);
	CHECK(fake_mmu_range_calls - ranges0 <= 5);
	CHECK_EQ(rmap_count(page_at(p, PG(100))), 2);
	CHECK(vt_check((struct mm *[]){p, c}, 2));
	pages0 = fake_mmu_page_calls;
	ranges0 = fake_mmu_range_calls;
	mm_put(c);
	CHECK_EQ(fake_mmu_page_calls - pages0, 0);
	CHECK(fake_mmu_range_calls - ranges0 <= 5);
	CHECK_EQ(rmap_count(page_at(p, PG(100))), 1);
	mm_put(p);
	vt_check_clean();
}

static int count_fn(struct mm *mm, vaddr_t va, void *arg)
{
	(void)mm;
	(void)va;
	(*(int *)arg)++;
	return 0;
}

/* A parent, 3 children, 2 grandchildren each; writes break COW here and there; then every mm
 * exits in a scrambled order, with the full check after every step. */
TEST(rmap_fork_tree)
{
	enum { NMM = 10 };
	struct mm *mms[NMM];
	int n = 0;
	vt_start();
	mms[n++] = mm_create();
	REQUIRE(mms[0]);
	CHECK_EQ(vm_mmap(mms[0], PG(0), 4 * PAGE_SIZE, RW,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0),
		 PG(0));
	for (int i = 0; i < 4; i++)
		((uint64_t *)vt_page(mms[0], PG(i)))[0] = 1000 + i;
	struct page *shared = virt_to_page(vt_page(mms[0], PG(3)));
	REQUIRE(shared);
	for (int c = 0; c < 3; c++) {
		struct mm *child = mm_fork(mms[0]);
		REQUIRE(child);
		mms[n++] = child;
		CHECK(vt_check(mms, n));
		for (int g = 0; g < 2; g++) {
			mms[n++] = mm_fork(child);
			REQUIRE(mms[n - 1]);
			CHECK(vt_check(mms, n));
		}
		CHECK_EQ(vm_fault(child, PG(c), FAULT_WRITE, true), 0);
		CHECK(vt_check(mms, n));
	}
	CHECK_EQ(rmap_count(shared), NMM); /* nobody wrote page 3 */
	int visits = 0;
	rmap_walk(shared, count_fn, &visits);
	CHECK_EQ(visits, NMM);
	for (int i = 0; i < NMM; i++)
		CHECK_EQ(((uint64_t *)vt_page(mms[i], PG(2)))[0], 1002);
	static const int order[NMM] = {4, 0, 9, 1, 7, 2, 8, 3, 6, 5};
	bool gone[NMM] = {false};
	for (int k = 0; k < NMM; k++) {
		struct mm *live[NMM];
		int nl = 0;
		mm_put(mms[order[k]]);
		gone[order[k]] = true;
		for (int i = 0; i < NMM; i++)
			if (!gone[i])
				live[nl++] = mms[i];
		CHECK(vt_check(live, nl));
		for (int i = 0; i < nl; i++)
			CHECK_EQ(((uint64_t *)vt_page(live[i], PG(3)))[0], 1003);
	}
	vt_check_clean();
}

/* execve is mm_put of the old image and a new mm: the old mappings leave the rmap at once. */
TEST(rmap_exec_replaces_image)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 2 * PAGE_SIZE, RW,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0),
		 PG(0));
	uint64_t f0 = vt_free_frames();
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	CHECK_EQ(vt_nr_mapped(), 4);
	CHECK_EQ(vt_free_frames(), f0 - 1); /* the child's page table; data frames are shared */
	mm_put(c);			    /* the child execs */
	c = mm_create();
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	CHECK_EQ(vt_nr_mapped(), 2);
	CHECK(vt_check(both, 2));
	CHECK_EQ(vm_fault(p, PG(0), FAULT_WRITE, true), 0); /* sole holder again: no copy */
	CHECK_EQ(vt_free_frames(), f0 - 1); /* no copy was made; the old image's frames are gone */
	mm_put(c);
	mm_put(p);
	vt_check_clean();
}
