/* Host tests of the page cache (kernel/mm/pagecache.c) and its index (pagetree.c): the radix
 * tree against a model under random stores, erases and scans; pages brought in from backing
 * bytes or made as zeros; dirty and clean; a poisoned dirty page kept until a whole-page punch
 * releases it; truncate and hole punch; a size limit refusing pages; mapped pages unmapped
 * from every address space when they leave; no frame or tree node left behind. */
#include "unit.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/memory_failure.h"
#include "../../include/pagecache.h"
#include "../../include/rmap.h"
#include <stdlib.h>
#include <string.h>

#define MODEL_N 512

/* Model: up to MODEL_N (index, entry) pairs, unsorted. */
struct model {
	uint64_t idx[MODEL_N];
	void *e[MODEL_N];
	int n;
};

static int model_find(const struct model *m, uint64_t idx)
{
	for (int i = 0; i < m->n; i++)
		if (m->idx[i] == idx)
			return i;
	return -1;
}

/* The lowest model index >= idx, or -1. */
static int model_next(const struct model *m, uint64_t idx)
{
	int best = -1;
	for (int i = 0; i < m->n; i++)
		if (m->idx[i] >= idx && (best < 0 || m->idx[i] < m->idx[best]))
			best = i;
	return best;
}

static uint64_t random_index(uint64_t *rng)
{
	switch (unit_xorshift(rng) % 4) {
	case 0:
		return unit_xorshift(rng) % 128; /* one leaf */
	case 1:
		return unit_xorshift(rng) % (1u << 20); /* a few levels */
	case 2:
		return UINT64_MAX - unit_xorshift(rng) % 100; /* the very top */
	default:
		return unit_xorshift(rng);
	}
}

TEST(pagecache_tree_matches_model)
{
	vt_setup();
	for (uint64_t seed = 1; seed <= 3; seed++) {
		uint64_t rng = seed * 0x9e3779b97f4a7c15ull;
		struct page_tree t = {0};
		struct model m = {.n = 0};
		for (int op = 0; op < 6000; op++) {
			uint64_t idx = m.n && unit_xorshift(&rng) % 2
					   ? m.idx[unit_xorshift(&rng) % m.n]
					   : random_index(&rng);
			int at = model_find(&m, idx);
			unsigned what = unit_xorshift(&rng) % 3;
			if (what == 0 && (at >= 0 || m.n < MODEL_N)) {
				void *e = (void *)(uintptr_t)((unit_xorshift(&rng) | 1) << 3);
				REQUIRE(page_tree_store(&t, idx, e) == 0);
				if (at < 0)
					at = m.n++;
				m.idx[at] = idx, m.e[at] = e;
			} else if (what == 1) {
				CHECK(page_tree_erase(&t, idx) == (at >= 0 ? m.e[at] : NULL));
				if (at >= 0) {
					m.n--;
					m.idx[at] = m.idx[m.n], m.e[at] = m.e[m.n];
				}
			} else {
				uint64_t i = idx;
				int want = model_next(&m, idx);
				void *e = page_tree_next(&t, &i);
				CHECK(e == (want >= 0 ? m.e[want] : NULL));
				if (want >= 0)
					CHECK(i == m.idx[want]);
			}
			CHECK(page_tree_lookup(&t, idx) ==
			      (model_find(&m, idx) >= 0 ? m.e[model_find(&m, idx)] : NULL));
		}
		for (int i = 0; i < m.n; i++)
			CHECK(page_tree_erase(&t, m.idx[i]) == m.e[i]);
		CHECK(t.root == NULL && t.height == 0);
		CHECK_EQ(page_tree_nr_nodes(), 0);
	}
}

/* A cache over backing bytes, with a page limit. */
static uint8_t backing_bytes[2 * PAGE_SIZE + 300];
static long limit = 1000, charged;

static long test_backing(struct pagecache *pc, uint64_t index, const void **src)
{
	(void)pc;
	uint64_t off = index * PAGE_SIZE;
	if (off >= sizeof(backing_bytes))
		return 0;
	*src = backing_bytes + off;
	return (long)MIN(PAGE_SIZE, sizeof(backing_bytes) - off);
}

static int test_charge(struct pagecache *pc, long n)
{
	(void)pc;
	if (n > 0 && charged + n > limit)
		return -ENOSPC;
	charged += n;
	return 0;
}

static const struct pagecache_ops test_ops = {test_backing, test_charge, NULL};

static void cache_setup(struct pagecache *pc, uint64_t size)
{
	for (size_t i = 0; i < sizeof(backing_bytes); i++)
		backing_bytes[i] = (uint8_t)(i * 13 + 1);
	charged = 0;
	limit = 1000;
	pagecache_init(pc, &test_ops, NULL);
	pc->size = size;
}

static const uint8_t *bytes(struct page *pg)
{
	return page_to_virt(pg);
}

TEST(pagecache_backed_clean_zero_and_dirty)
{
	vt_start();
	struct pagecache pc;
	struct page *pg;
	cache_setup(&pc, sizeof(backing_bytes));
	/* a backed page comes in clean, with the backing bytes */
	REQUIRE(pagecache_get(&pc, 1, 0, &pg) == 0 && pg);
	CHECK(memcmp(bytes(pg), backing_bytes + PAGE_SIZE, PAGE_SIZE) == 0);
	CHECK_EQ(pg->flags & (PG_USER | PG_FILE | PG_UPTODATE | PG_DIRTY),
		 PG_USER | PG_FILE | PG_UPTODATE);
	CHECK(pg->mapping == &pc && pg->index == 1);
	CHECK_EQ(pg->refcount, 2); /* the cache's and ours */
	pagecache_put(pg);
	/* the last backed page: the rest of it reads as zeros */
	REQUIRE(pagecache_get(&pc, 2, 0, &pg) == 0 && pg);
	CHECK(memcmp(bytes(pg), backing_bytes + 2 * PAGE_SIZE, 300) == 0);
	CHECK(bytes(pg)[300] == 0 && bytes(pg)[PAGE_SIZE - 1] == 0);
	pagecache_put(pg);
	/* nothing backs page 5: no page unless asked to create one */
	REQUIRE(pagecache_get(&pc, 5, 0, &pg) == 0);
	CHECK(pg == NULL);
	REQUIRE(pagecache_get(&pc, 5, PC_CREATE, &pg) == 0 && pg);
	CHECK(bytes(pg)[0] == 0 && !(pg->flags & PG_DIRTY));
	pagecache_mark_dirty(pg);
	CHECK(pg->flags & PG_DIRTY);
	pagecache_put(pg);
	CHECK_EQ(pc.nrpages, 3);
	CHECK_EQ(charged, 3);
	/* a fault past the end of the file */
	CHECK_EQ(pagecache_get(&pc, 3, PC_CREATE | PC_FAULT, &pg), -EIO);
	/* the clean page can be dropped, the dirty one cannot */
	REQUIRE(pagecache_get(&pc, 1, 0, &pg) == 0);
	CHECK_EQ(pagecache_drop_clean(pg), 0);
	CHECK(pg->mapping == NULL);
	CHECK_EQ(pagecache_drop_clean(pg), -ENOENT);
	pagecache_put(pg);
	REQUIRE(pagecache_get(&pc, 5, 0, &pg) == 0);
	CHECK_EQ(pagecache_drop_clean(pg), -EBUSY);
	pagecache_put(pg);
	pagecache_destroy(&pc);
	CHECK_EQ(charged, 0);
	CHECK_EQ(page_tree_nr_nodes(), 0);
	vt_check_clean();
}

TEST(pagecache_limit_gives_enospc)
{
	vt_start();
	struct pagecache pc;
	struct page *pg;
	cache_setup(&pc, 100 * PAGE_SIZE);
	limit = 4;
	for (uint64_t i = 10; i < 14; i++) {
		REQUIRE(pagecache_get(&pc, i, PC_CREATE, &pg) == 0);
		pagecache_put(pg);
	}
	CHECK_EQ(pagecache_get(&pc, 20, PC_CREATE, &pg), -ENOSPC);
	CHECK(pg == NULL);
	CHECK_EQ(pagecache_get(&pc, 0, 0, &pg), -ENOSPC);     /* backed, but no room for it */
	CHECK_EQ(pagecache_truncate(&pc, 12 * PAGE_SIZE), 0); /* frees 12 and 13 */
	CHECK_EQ(charged, 2);
	CHECK_EQ(pagecache_get(&pc, 0, 0, &pg), 0);
	pagecache_put(pg);
	pagecache_destroy(&pc);
	vt_check_clean();
}

TEST(pagecache_truncate_zeroes_the_tail_and_punch_leaves_holes)
{
	vt_start();
	struct pagecache pc;
	struct page *pg;
	cache_setup(&pc, sizeof(backing_bytes));
	REQUIRE(pagecache_get(&pc, 0, 0, &pg) == 0 && pg);
	pagecache_put(pg);
	/* the end falls inside page 0: its tail becomes zeros, page 1 is gone */
	REQUIRE(pagecache_get(&pc, 1, 0, &pg) == 0 && pg);
	CHECK_EQ(pagecache_truncate(&pc, 100), 0);
	CHECK(pg->mapping == NULL); /* we still hold it, but it left the cache */
	pagecache_put(pg);
	REQUIRE(pagecache_get(&pc, 0, 0, &pg) == 0 && pg);
	CHECK(memcmp(bytes(pg), backing_bytes, 100) == 0 && bytes(pg)[100] == 0);
	pagecache_put(pg);
	CHECK_EQ(pc.nrpages, 1);
	pagecache_destroy(&pc);

	/* punch [100, 2 pages + 10): page 0 keeps 100 bytes and becomes dirty, page 1 becomes a
	 * hole that reads as zeros although backing is there, page 2 loses 10 bytes */
	cache_setup(&pc, sizeof(backing_bytes));
	CHECK_EQ(pagecache_punch(&pc, 100, 2 * PAGE_SIZE + 10), 0);
	REQUIRE(pagecache_get(&pc, 0, 0, &pg) == 0 && pg);
	CHECK(memcmp(bytes(pg), backing_bytes, 100) == 0 && bytes(pg)[100] == 0);
	CHECK(pg->flags & PG_DIRTY);
	pagecache_put(pg);
	REQUIRE(pagecache_get(&pc, 1, 0, &pg) == 0);
	CHECK(pg == NULL);
	CHECK(page_tree_lookup(&pc.tree, 1) == PAGE_TREE_HOLE);
	REQUIRE(pagecache_get(&pc, 1, PC_CREATE, &pg) == 0 && pg);
	CHECK(bytes(pg)[0] == 0 && (pg->flags & PG_DIRTY)); /* no backing says what it holds */
	pagecache_put(pg);
	REQUIRE(pagecache_get(&pc, 2, 0, &pg) == 0 && pg);
	CHECK(bytes(pg)[9] == 0 && bytes(pg)[10] == backing_bytes[2 * PAGE_SIZE + 10]);
	pagecache_put(pg);
	/* a whole cached page punched away leaves a hole marker and frees its frame */
	uint64_t before = vt_free_frames();
	CHECK_EQ(pagecache_punch(&pc, PAGE_SIZE, 2 * PAGE_SIZE), 0);
	CHECK_EQ(vt_free_frames(), before + 1);
	CHECK(page_tree_lookup(&pc.tree, 1) == PAGE_TREE_HOLE);
	pagecache_destroy(&pc);
	CHECK_EQ(page_tree_nr_nodes(), 0);
	vt_check_clean();
}

/* A dirty page a memory error took (PG_HWPOISON, as memory_failure leaves it) stays in the
 * cache: every get says -EHWPOISON, a partial punch or a truncate inside it leave it, and a
 * punch of the whole page releases it; its frame never returns to the allocator. */
TEST(pagecache_poisoned_dirty_page_stays_until_released)
{
	vt_start();
	struct pagecache pc;
	struct page *pg, *bad;
	cache_setup(&pc, 4 * PAGE_SIZE);
	REQUIRE(pagecache_get(&pc, 3, PC_CREATE, &bad) == 0 && bad);
	pagecache_mark_dirty(bad);
	pagecache_put(bad);
	__atomic_fetch_or(&bad->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
	CHECK_EQ(pagecache_get(&pc, 3, 0, &pg), -EHWPOISON);
	CHECK(pg == NULL);
	CHECK_EQ(pagecache_get(&pc, 3, PC_CREATE | PC_FAULT, &pg), -EHWPOISON);
	CHECK_EQ(pagecache_punch(&pc, 3 * PAGE_SIZE + 8, 3 * PAGE_SIZE + 16), 0);
	CHECK_EQ(pagecache_truncate(&pc, 3 * PAGE_SIZE + 100), 0); /* its tail is not zeroed */
	CHECK_EQ(pagecache_get(&pc, 3, 0, &pg), -EHWPOISON);
	CHECK(bad->mapping == &pc);
	CHECK_EQ(pagecache_punch(&pc, 3 * PAGE_SIZE, 4 * PAGE_SIZE), 0);
	CHECK(bad->mapping == NULL && page_poisoned(bad));
	CHECK(bad->flags & PG_ISOLATED); /* retired when its last reference went, not freed */
	REQUIRE(pagecache_get(&pc, 3, PC_CREATE, &pg) == 0 && pg && pg != bad);
	CHECK(bytes(pg)[0] == 0);
	pagecache_put(pg);
	pagecache_destroy(&pc);
	CHECK_EQ(page_tree_nr_nodes(), 0);
	CHECK_EQ(unpoison_frame(page_to_pfn(bad)), 0); /* software poison: back for the count */
	vt_check_clean();
}
