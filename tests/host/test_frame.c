/* Host tests of the frame allocator (kernel/mm/frame.c): buddy split and merge exactness, a
 * randomized multi-CPU alloc/free run with an ownership map, poison safety, isolation, bad
 * frees. No backing memory is needed: the allocator keeps its links in struct page. */
#include "unit.h"
#include "fake_arch.h"
#include "frame.h"
#include "kerrno.h"
#include <stdlib.h>
#include <string.h>

#define NCPU_TEST 4

static struct page *tmap;
static pfn_t tnpfn;

/* A fresh allocator over npfn frames with [start, end) free, on CPU 0. */
static void setup(pfn_t npfn, pfn_t start, pfn_t end)
{
	free(tmap);
	tmap = calloc(npfn, sizeof(*tmap));
	tnpfn = npfn;
	fake_cpu_id = 0;
	fake_cpu_count = NCPU_TEST;
	frame_init(tmap, npfn);
	frame_add_free_range(start, end);
}

static void drain_all(void)
{
	for (unsigned c = 0; c < MAX_CPUS; c++)
		frame_drain_cpu(c);
}

static struct frame_stats stats(void)
{
	struct frame_stats st;
	memset(&st, 0xa5, sizeof st);
	frame_get_stats(&st);
	return st;
}

/* The maximal aligned blocks of [start, end), counted per order (independent of frame.c). */
static void expected_blocks(pfn_t start, pfn_t end, uint64_t *by_order)
{
	memset(by_order, 0, sizeof(uint64_t) * (FRAME_MAX_ORDER + 1));
	while (start < end) {
		unsigned o = FRAME_MAX_ORDER;
		while ((start & ((1ull << o) - 1)) || start + (1ull << o) > end)
			o--;
		by_order[o]++;
		start += 1ull << o;
	}
}

static void check_orders(const struct frame_stats *st, const uint64_t *want)
{
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		CHECK_EQ(st->free_by_order[o], want[o]);
}

static void poison(pfn_t pfn)
{
	__atomic_fetch_or(&tmap[pfn].flags, (uint32_t)PG_HWPOISON, __ATOMIC_SEQ_CST);
}

static void unpoison(pfn_t pfn)
{
	__atomic_fetch_and(&tmap[pfn].flags, ~(uint32_t)PG_HWPOISON, __ATOMIC_SEQ_CST);
}

TEST(frame_init_all_reserved)
{
	setup(1000, 0, 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.total, 1000);
	CHECK_EQ(st.usable, 0);
	CHECK_EQ(st.free, 0);
	CHECK_EQ(st.reserved, 1000);
	CHECK_EQ(st.poisoned, 0);
	CHECK_EQ(st.isolated, 0);
	CHECK(tmap[17].flags == PG_RESERVED);
	CHECK(frame_alloc(0, PG_KERNEL) == NULL);
	CHECK(frame_alloc(3, PG_KERNEL) == NULL);
}

TEST(frame_add_range_maximal_blocks)
{
	uint64_t want[FRAME_MAX_ORDER + 1];
	setup(4096, 1, 2050);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 2049);
	CHECK_EQ(st.usable, 2049);
	CHECK_EQ(st.reserved, 4096 - 2049);
	expected_blocks(1, 2050, want);
	CHECK_EQ(want[0], 1); /* sanity of the reference: 1, 2-3, 4-7, ..., 1024-2047, 2048-49 */
	CHECK_EQ(want[1], 2);
	CHECK_EQ(want[10], 1);
	check_orders(&st, want);
	CHECK(tmap[0].flags == PG_RESERVED);
	CHECK(tmap[2050].flags == PG_RESERVED);
	CHECK(tmap[1024].flags == PG_BUDDY && tmap[1024].order == 10);
	CHECK(tmap[1025].flags == 0);

	/* a second range next to the first merges with it */
	frame_add_free_range(2050, 4096);
	st = stats();
	expected_blocks(1, 4096, want);
	check_orders(&st, want);
	CHECK_EQ(st.free, 4095);
}

TEST(frame_buddy_split_merge_exact)
{
	setup(1024, 0, 1024);
	struct page *a = frame_alloc(2, PG_KERNEL);
	REQUIRE(a);
	CHECK_EQ(page_to_pfn(a), 0);
	CHECK_EQ(a->order, 2);
	CHECK_EQ(a->refcount, 1);
	CHECK(a->flags == PG_KERNEL);
	CHECK(a[1].flags == (PG_KERNEL | PG_TAIL) && a[3].flags == (PG_KERNEL | PG_TAIL));
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1020);
	CHECK_EQ(st.free_by_order[0], 0);
	CHECK_EQ(st.free_by_order[1], 0);
	for (unsigned o = 2; o < FRAME_MAX_ORDER; o++)
		CHECK_EQ(st.free_by_order[o], 1);
	CHECK_EQ(st.free_by_order[FRAME_MAX_ORDER], 0);

	struct page *b = frame_alloc(9, PG_USER);
	REQUIRE(b);
	CHECK_EQ(page_to_pfn(b), 512);
	CHECK(frame_alloc(9, PG_USER) == NULL);
	CHECK(frame_alloc(FRAME_MAX_ORDER, PG_USER) == NULL);
	frame_free(a, 2);
	frame_free(b, 9);
	st = stats();
	CHECK_EQ(st.free, 1024);
	for (unsigned o = 0; o < FRAME_MAX_ORDER; o++)
		CHECK_EQ(st.free_by_order[o], 0);
	CHECK_EQ(st.free_by_order[FRAME_MAX_ORDER], 1);

	/* an order-0 frame, once the cache is drained, leaves one free block of each order 0..9 */
	struct page *c = frame_alloc(0, PG_KERNEL);
	REQUIRE(c);
	CHECK(c->flags == PG_KERNEL);
	drain_all();
	st = stats();
	CHECK_EQ(st.free, 1023);
	for (unsigned o = 0; o < FRAME_MAX_ORDER; o++)
		CHECK_EQ(st.free_by_order[o], 1);
	frame_free(c, 0);
	CHECK(c->flags == PG_PCP);
	CHECK_EQ(stats().free, 1024);
	drain_all();
	st = stats();
	CHECK_EQ(st.free_by_order[FRAME_MAX_ORDER], 1);
	CHECK_EQ(st.free_by_order[0], 0);
}

TEST(frame_bad_requests)
{
	setup(1024, 0, 1024);
	CHECK(frame_alloc(FRAME_MAX_ORDER + 1, PG_KERNEL) == NULL);
	CHECK(frame_alloc(100, PG_KERNEL) == NULL);
	CHECK(frame_alloc(0, 0) == NULL);
	CHECK(frame_alloc(0, PG_BUDDY) == NULL);
	CHECK(frame_alloc(2, PG_RESERVED) == NULL);
	CHECK_EQ(stats().free, 1024);
	CHECK(pfn_to_page(1023) == &tmap[1023]);
	CHECK(pfn_to_page(1024) == NULL);
	CHECK(pfn_to_page(~0ull) == NULL);
	CHECK_EQ(frame_max_pfn(), 1024);
}

TEST(frame_virt_mapping)
{
	fake_phys_alloc(64 * PAGE_SIZE);
	setup(64, 0, 64);
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	uint8_t *va = page_to_virt(pg);
	CHECK(va == fake_phys_base + page_to_pfn(pg) * PAGE_SIZE);
	CHECK(virt_to_page(va) == pg);
	CHECK(virt_to_page(va + PAGE_SIZE - 1) == pg);
	CHECK(virt_to_page(fake_phys_base + 64 * PAGE_SIZE) == NULL);
	frame_free(pg, 0);
}

/* ---- randomized run ---- */

struct alloc_rec {
	pfn_t pfn;
	unsigned order;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { return unit_xorshift(&rng_state); }

static unsigned random_order(void)
{
	uint64_t r = rng() % 100;
	if (r < 55)
		return 0;
	if (r < 80)
		return 1 + (unsigned)(rng() % 3);
	return (unsigned)(rng() % (FRAME_MAX_ORDER + 1));
}

/* Check a fresh block and mark it owned; false on any overlap or bad shape. */
static bool take_block(uint8_t *owned, struct page *pg, unsigned order, pfn_t start, pfn_t end)
{
	pfn_t pfn = page_to_pfn(pg);
	bool ok = pfn >= start && pfn + (1ull << order) <= end && !(pfn & ((1ull << order) - 1));
	ok = ok && pg->flags == PG_KERNEL && pg->order == order && pg->refcount == 1;
	for (pfn_t i = 0; ok && i < (1ull << order); i++) {
		ok = !owned[pfn + i] && (i == 0 || pg[i].flags == (PG_KERNEL | PG_TAIL));
		owned[pfn + i] = 1;
	}
	return ok;
}

TEST(frame_random_multi_cpu)
{
	const pfn_t npfn = 8192, start = 5, end = 8190;
	const unsigned ops = 150000;
	uint8_t *owned = calloc(npfn, 1);
	struct alloc_rec *recs = calloc(ops, sizeof(*recs));
	size_t nrec = 0, bad = 0, nulls = 0;
	uint64_t in_use = 0, want[FRAME_MAX_ORDER + 1];

	setup(npfn, start, end);
	for (unsigned op = 0; op < ops; op++) {
		fake_cpu_id = (unsigned)(rng() % NCPU_TEST);
		if (nrec && rng() % 100 < 47) {
			size_t i = rng() % nrec;
			struct alloc_rec r = recs[i];
			recs[i] = recs[--nrec];
			for (pfn_t k = 0; k < (1ull << r.order); k++)
				owned[r.pfn + k] = 0;
			frame_free(&tmap[r.pfn], r.order);
			in_use -= 1ull << r.order;
			continue;
		}
		unsigned order = random_order();
		struct page *pg = frame_alloc(order, PG_KERNEL);
		if (!pg) {
			nulls++;
			continue;
		}
		bad += !take_block(owned, pg, order, start, end);
		recs[nrec++] = (struct alloc_rec){page_to_pfn(pg), order};
		in_use += 1ull << order;
		if (op % 512 == 0)
			CHECK_EQ(stats().free + in_use, end - start);
	}
	CHECK_EQ(bad, 0);
	CHECK(nulls > 0); /* the run did reach memory pressure */
	while (nrec) {
		nrec--;
		fake_cpu_id = (unsigned)(rng() % NCPU_TEST);
		frame_free(&tmap[recs[nrec].pfn], recs[nrec].order);
	}
	drain_all();
	struct frame_stats st = stats();
	CHECK_EQ(st.free, end - start);
	CHECK_EQ(st.isolated, 0);
	expected_blocks(start, end, want);
	check_orders(&st, want);
	free(owned);
	free(recs);
}

/* A random frame in [start, end); two times in three one that sits in some CPU's cache. */
static pfn_t pick_victim(pfn_t start, pfn_t end)
{
	pfn_t pfn = start + rng() % (end - start);
	if (rng() % 3 == 0)
		return pfn;
	for (pfn_t i = 0; i < end - start; i++) {
		pfn_t p = start + (pfn - start + i) % (end - start);
		if (tmap[p].flags == PG_PCP)
			return p;
	}
	return pfn;
}

/* The same run with poison landing on random frames (free in a buddy block, free in some CPU's
 * cache, or allocated) and memory_failure-style isolation: a fresh block never holds poison. */
TEST(frame_random_with_poison)
{
	const pfn_t npfn = 4096, start = 3, end = 4093;
	const unsigned ops = 100000;
	uint8_t *owned = calloc(npfn, 1), *poisoned = calloc(npfn, 1);
	struct alloc_rec *recs = calloc(ops, sizeof(*recs));
	size_t nrec = 0, bad = 0, bad_isolate = 0, npoison = 0;
	uint64_t want[FRAME_MAX_ORDER + 1];

	setup(npfn, start, end);
	for (unsigned op = 0; op < ops; op++) {
		fake_cpu_id = (unsigned)(rng() % NCPU_TEST);
		if (op % 499 == 0) {
			pfn_t pfn = pick_victim(start, end);
			npoison += !poisoned[pfn];
			poisoned[pfn] = 1;
			poison(pfn);
			if (rng() % 2)
				bad_isolate += frame_isolate_free(pfn) != (owned[pfn] ? -EBUSY : 0);
		} else if (nrec && rng() % 100 < 47) {
			size_t i = rng() % nrec;
			struct alloc_rec r = recs[i];
			recs[i] = recs[--nrec];
			for (pfn_t k = 0; k < (1ull << r.order); k++)
				owned[r.pfn + k] = 0;
			frame_free(&tmap[r.pfn], r.order);
		} else {
			unsigned order = random_order();
			struct page *pg = frame_alloc(order, PG_KERNEL);
			if (!pg)
				continue;
			for (pfn_t k = 0; k < (1ull << order); k++)
				bad += poisoned[page_to_pfn(pg) + k];
			bad += !take_block(owned, pg, order, start, end);
			recs[nrec++] = (struct alloc_rec){page_to_pfn(pg), order};
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(bad_isolate, 0);
	CHECK(npoison > 100);
	while (nrec--)
		frame_free(&tmap[recs[nrec].pfn], recs[nrec].order);
	drain_all();
	/* poison that nobody reported may still sit in a free block; memory_failure's call: */
	for (pfn_t pfn = start; pfn < end; pfn++)
		if (poisoned[pfn])
			CHECK_EQ(frame_isolate_free(pfn), 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.poisoned, npoison);
	CHECK_EQ(st.isolated, npoison);
	CHECK_EQ(st.free, end - start - npoison);
	for (pfn_t pfn = start; pfn < end; pfn++) {
		if (!poisoned[pfn])
			continue;
		CHECK(tmap[pfn].flags == (PG_ISOLATED | PG_HWPOISON));
		unpoison(pfn);
		CHECK_EQ(frame_unisolate(pfn), 0);
	}
	st = stats();
	CHECK_EQ(st.free, end - start);
	CHECK_EQ(st.isolated, 0);
	expected_blocks(start, end, want);
	check_orders(&st, want);
	free(owned);
	free(poisoned);
	free(recs);
}

/* ---- poison ---- */

/* Allocate everything on each of the test CPUs (orders 3, then 0); returns frames obtained and
 * counts any block that contains pfn `bad` in *hits. The blocks stay allocated. */
static uint64_t storm(pfn_t bad, unsigned *hits)
{
	uint64_t got = 0;
	for (unsigned c = 0; c < NCPU_TEST; c++) {
		fake_cpu_id = c;
		for (unsigned order = 3;; order = 0) {
			struct page *pg;
			while ((pg = frame_alloc(order, PG_USER))) {
				pfn_t pfn = page_to_pfn(pg);
				*hits += bad >= pfn && bad < pfn + (1ull << order);
				got += 1ull << order;
			}
			if (order == 0)
				break;
		}
	}
	fake_cpu_id = 0;
	return got;
}

TEST(frame_poison_free_in_big_block)
{
	unsigned hits = 0;
	setup(2048, 0, 2048);
	poison(300);
	struct frame_stats st = stats();
	CHECK_EQ(st.poisoned, 1);
	CHECK_EQ(storm(300, &hits), 2047);
	CHECK_EQ(hits, 0);
	st = stats();
	CHECK_EQ(st.free, 0);
	CHECK_EQ(st.isolated, 1);
	CHECK(tmap[300].flags == (PG_ISOLATED | PG_HWPOISON));
	CHECK_EQ(frame_isolate_free(300), 0); /* memory_failure arriving late: already out */
}

TEST(frame_poison_in_pcp)
{
	unsigned hits = 0;
	setup(1024, 0, 1024);
	fake_cpu_id = 1;
	struct page *first = frame_alloc(0, PG_KERNEL);
	REQUIRE(first);
	pfn_t victim = page_to_pfn(first) + 1; /* the next frame of the refill batch */
	REQUIRE(tmap[victim].flags == PG_PCP);
	poison(victim);
	CHECK_EQ(storm(victim, &hits), 1022);
	CHECK_EQ(hits, 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 0);
	CHECK_EQ(st.isolated, 1);
	CHECK_EQ(st.poisoned, 1);
}

TEST(frame_poison_allocated_then_freed)
{
	unsigned hits = 0;
	setup(1024, 0, 1024);
	struct page *blk = frame_alloc(3, PG_KERNEL);
	struct page *one = frame_alloc(0, PG_KERNEL);
	REQUIRE(blk && one);
	pfn_t bad_blk = page_to_pfn(blk) + 2, bad_one = page_to_pfn(one);
	poison(bad_blk);
	poison(bad_one);
	frame_free(blk, 3);
	frame_free(one, 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.isolated, 2);
	CHECK_EQ(st.free, 1022);
	CHECK(tmap[bad_one].flags == (PG_ISOLATED | PG_HWPOISON));
	CHECK(tmap[bad_blk].flags == (PG_ISOLATED | PG_HWPOISON));
	CHECK_EQ(storm(bad_blk, &hits), 1022);
	CHECK_EQ(hits, 0);
	hits = 0;
	setup(1024, 0, 1024);
	one = frame_alloc(0, PG_KERNEL);
	bad_one = page_to_pfn(one);
	poison(bad_one);
	frame_free(one, 0);
	CHECK_EQ(storm(bad_one, &hits), 1023);
	CHECK_EQ(hits, 0);
}

TEST(frame_poison_at_boot_range)
{
	uint64_t want[FRAME_MAX_ORDER + 1];
	free(tmap);
	tmap = calloc(1024, sizeof(*tmap));
	frame_init(tmap, 1024);
	poison(0);
	frame_add_free_range(0, 1024);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1023);
	CHECK_EQ(st.isolated, 1);
	expected_blocks(1, 1024, want);
	check_orders(&st, want);
}

/* ---- isolation ---- */

TEST(frame_isolate_in_buddy_block)
{
	setup(1024, 0, 1024);
	poison(300);
	CHECK_EQ(frame_isolate_free(300), 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1023);
	CHECK_EQ(st.isolated, 1);
	for (unsigned o = 0; o < FRAME_MAX_ORDER; o++)
		CHECK_EQ(st.free_by_order[o], 1); /* split around 300: one piece of each order */
	CHECK(tmap[300].flags == (PG_ISOLATED | PG_HWPOISON));
	CHECK(tmap[301].flags == PG_BUDDY && tmap[301].order == 0);
	CHECK(tmap[512].flags == PG_BUDDY && tmap[512].order == 9);
	CHECK_EQ(frame_isolate_free(300), 0); /* twice is fine, counted once */
	CHECK_EQ(stats().isolated, 1);
	CHECK_EQ(frame_unisolate(300), -EBUSY); /* still poisoned */
	unpoison(300);
	CHECK_EQ(frame_unisolate(300), 0);
	CHECK_EQ(frame_unisolate(300), -EINVAL);
	st = stats();
	CHECK_EQ(st.free, 1024);
	CHECK_EQ(st.isolated, 0);
	CHECK_EQ(st.free_by_order[FRAME_MAX_ORDER], 1);
	CHECK_EQ(st.free_by_order[0], 0);
}

TEST(frame_isolate_in_remote_pcp)
{
	unsigned hits = 0;
	setup(1024, 0, 1024);
	fake_cpu_id = 2;
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	pfn_t victim = page_to_pfn(pg) + 3;
	REQUIRE(tmap[victim].flags == PG_PCP);
	fake_cpu_id = 0;
	CHECK_EQ(frame_isolate_free(victim), 0);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1022);
	CHECK_EQ(st.isolated, 1);
	CHECK_EQ(frame_isolate_free(victim), 0);
	CHECK_EQ(stats().isolated, 1);
	CHECK_EQ(storm(victim, &hits), 1022);
	CHECK_EQ(hits, 0);
	CHECK(tmap[victim].flags == PG_ISOLATED); /* CPU 2 dropped it from its cache */
	CHECK_EQ(stats().free, 0);
}

TEST(frame_unisolate_still_in_pcp)
{
	setup(1024, 0, 1024);
	fake_cpu_id = 1;
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	pfn_t victim = page_to_pfn(pg) + 1;
	fake_cpu_id = 3;
	CHECK_EQ(frame_isolate_free(victim), 0);
	CHECK_EQ(stats().free, 1022);
	CHECK_EQ(frame_unisolate(victim), 0);
	CHECK(tmap[victim].flags == PG_PCP);
	CHECK_EQ(stats().free, 1023);
	CHECK_EQ(stats().isolated, 0);
	fake_cpu_id = 1;
	frame_free(pg, 0);
	drain_all();
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1024);
	CHECK_EQ(st.free_by_order[FRAME_MAX_ORDER], 1);
}

TEST(frame_isolate_busy_and_invalid)
{
	setup(1024, 0, 1000);
	struct page *pg = frame_alloc(2, PG_KERNEL);
	REQUIRE(pg);
	pfn_t pfn = page_to_pfn(pg);
	CHECK_EQ(frame_isolate_free(pfn), -EBUSY);
	CHECK_EQ(frame_isolate_free(pfn + 1), -EBUSY); /* tail */
	CHECK_EQ(frame_isolate_free(1010), -EBUSY);    /* reserved */
	CHECK_EQ(frame_isolate_free(1024), -EINVAL);
	CHECK_EQ(frame_unisolate(1024), -EINVAL);
	CHECK_EQ(frame_unisolate(pfn), -EINVAL);
	CHECK_EQ(stats().isolated, 0);
	frame_free(pg, 2);
	CHECK_EQ(stats().free, 1000);
}

/* ---- bad frees ---- */

TEST(frame_double_free_detected)
{
	setup(1024, 0, 1000);
	struct page *a = frame_alloc(0, PG_KERNEL);
	struct page *b = frame_alloc(3, PG_KERNEL);
	REQUIRE(a && b);
	frame_free(a, 0);
	frame_free(b, 3);
	struct frame_stats before = stats();
	fake_console_clear();
	frame_free(a, 0);
	CHECK(strstr(fake_console, "frame_free") != NULL);
	fake_console_clear();
	frame_free(b, 3);
	CHECK(strstr(fake_console, "frame_free") != NULL);
	fake_console_clear();
	frame_free(&tmap[1010], 0); /* reserved */
	CHECK(strstr(fake_console, "frame_free") != NULL);
	fake_console_clear();
	frame_free(&tmap[1], 0); /* free in CPU 0's cache */
	CHECK(strstr(fake_console, "frame_free") != NULL);
	fake_console_clear();
	frame_free(&tmap[500], 0); /* inside a free buddy block */
	CHECK(strstr(fake_console, "frame_free") != NULL);
	struct page *c = frame_alloc(2, PG_KERNEL);
	REQUIRE(c);
	fake_console_clear();
	frame_free(c, 1); /* wrong order */
	CHECK(strstr(fake_console, "frame_free") != NULL);
	frame_free(c, 2);
	struct page outside;
	fake_console_clear();
	frame_free(&outside, 0);
	CHECK(strstr(fake_console, "frame_free") != NULL);
	struct frame_stats after = stats();
	CHECK_EQ(after.free, before.free);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		CHECK_EQ(after.free_by_order[o], before.free_by_order[o]);
	drain_all();
	uint64_t want[FRAME_MAX_ORDER + 1];
	expected_blocks(0, 1000, want);
	struct frame_stats st = stats();
	CHECK_EQ(st.free, 1000);
	check_orders(&st, want);
}
