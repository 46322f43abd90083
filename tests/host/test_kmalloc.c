/* Host tests of the kernel heap (kernel/mm/kmalloc.c) over fake physical memory: every size
 * class, alignment, reuse after kfree, large blocks, exhaustion, bad or double kfree, and the
 * reserve of empty slabs. */
#include "unit.h"
#include "fake_arch.h"
#include "frame.h"
#include "kmalloc.h"
#include <stdlib.h>
#include <string.h>

static struct page *kmap;

/* npfn frames of backed memory, all free, heap ready, on CPU 0. */
static void heap_setup(pfn_t npfn)
{
	fake_phys_alloc(npfn * PAGE_SIZE);
	free(kmap);
	kmap = calloc(npfn, sizeof(*kmap));
	fake_cpu_id = 0;
	frame_init(kmap, npfn);
	frame_add_free_range(0, npfn);
	kmalloc_init();
}

static uint64_t free_frames(void)
{
	struct frame_stats st;
	kmalloc_drain();
	for (unsigned c = 0; c < MAX_CPUS; c++)
		frame_drain_cpu(c);
	frame_get_stats(&st);
	return st.free;
}

static size_t class_of(size_t size)
{
	size_t c = 16;
	while (c < size)
		c *= 2;
	return c;
}

TEST(kmalloc_all_classes)
{
	static const size_t sizes[] = {1,   8,	 15,   16,   17,   31,	 32,   33,
				       64,  65,	 100,  128,  129,  255,	 256,  500,
				       512, 513, 1000, 1024, 1025, 2000, 2047, 2048};
	enum { PER = 40 };
	void *p[ARRAY_SIZE(sizes)][PER];

	heap_setup(512);
	uint64_t base = free_frames();
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (int i = 0; i < PER; i++) {
			p[s][i] = kmalloc(sizes[s]);
			REQUIRE(p[s][i]);
			uintptr_t a = (uintptr_t)p[s][i] - (uintptr_t)fake_phys_base;
			CHECK_EQ(a % class_of(sizes[s]), 0);
			struct page *pg = virt_to_page(p[s][i]);
			REQUIRE(pg);
			CHECK(pg->flags == PG_SLAB);
			memset(p[s][i], (int)(s * PER + i), sizes[s]);
		}
	}
	/* every byte still holds its owner's pattern: no two objects overlap */
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		for (int i = 0; i < PER; i++)
			for (size_t b = 0; b < sizes[s]; b++)
				if (((uint8_t *)p[s][i])[b] != (uint8_t)(s * PER + i)) {
					CHECK(!"object overwritten");
					return;
				}
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		for (int i = 0; i < PER; i++)
			kfree(p[s][i]);
	CHECK_EQ(free_frames(), base); /* every empty slab went back */
}

TEST(kmalloc_zero_and_large)
{
	heap_setup(2048);
	uint64_t base = free_frames();
	CHECK(kmalloc(0) == NULL);
	kfree(NULL);
	void *a = kmalloc(2049), *b = kmalloc(PAGE_SIZE), *c = kmalloc(5000);
	void *d = kmalloc(PAGE_SIZE << FRAME_MAX_ORDER);
	REQUIRE(a && b && c && d);
	CHECK(kmalloc((PAGE_SIZE << FRAME_MAX_ORDER) + 1) == NULL);
	CHECK_EQ(((uintptr_t)a - (uintptr_t)fake_phys_base) % PAGE_SIZE, 0);
	CHECK_EQ(((uintptr_t)d - (uintptr_t)fake_phys_base) % (PAGE_SIZE << FRAME_MAX_ORDER), 0);
	CHECK_EQ(virt_to_page(a)->order, 0);
	CHECK_EQ(virt_to_page(c)->order, 1);
	CHECK_EQ(virt_to_page(d)->order, FRAME_MAX_ORDER);
	CHECK(virt_to_page(c)->flags == PG_KERNEL);
	memset(c, 0x5a, 5000);
	memset(d, 0x11, PAGE_SIZE << FRAME_MAX_ORDER);
	CHECK_EQ(free_frames(), base - 1 - 1 - 2 - 1024);
	kfree(a);
	kfree(b);
	kfree(c);
	kfree(d);
	CHECK_EQ(free_frames(), base);
}

TEST(kmalloc_reuse_and_zero)
{
	heap_setup(64);
	char *a = kmalloc(64), *b = kmalloc(64);
	REQUIRE(a && b);
	CHECK(a != b);
	memset(a, 0xff, 64);
	kfree(a);
	char *c = kzalloc(64);
	CHECK(c == a); /* the slot just freed is handed out next */
	for (int i = 0; i < 64; i++)
		if (c[i]) {
			CHECK(!"kzalloc left a byte set");
			break;
		}
	kfree(b);
	kfree(c);
}

TEST(kmalloc_exhaustion)
{
	enum { NPFN = 64 };
	static void *objs[NPFN * 2 + 8];
	heap_setup(NPFN);
	size_t n = 0;
	while (n < ARRAY_SIZE(objs) && (objs[n] = kmalloc(2048)))
		n++;
	CHECK_EQ(n, NPFN * 2); /* two per frame, every frame used */
	CHECK(kmalloc(16) == NULL);
	CHECK(kmalloc(3000) == NULL);
	kfree(objs[--n]); /* half a slab back: still no frame for another class */
	CHECK(kmalloc(16) == NULL);
	kfree(objs[--n]); /* its empty slab waits in the reserve, given back when needed */
	void *small = kmalloc(16);
	CHECK(small != NULL);
	kfree(small);
	while (n)
		kfree(objs[--n]);
	void *big = kmalloc(PAGE_SIZE * 32);
	CHECK(big != NULL);
	kfree(big);
}

TEST(kmalloc_bad_kfree)
{
	heap_setup(256);
	uint64_t base = free_frames();
	char *a = kmalloc(32), *b = kmalloc(32);
	REQUIRE(a && b);
	kfree(a);
	fake_console_clear();
	kfree(a); /* double free */
	CHECK(strstr(fake_console, "kfree") != NULL);
	char *c = kmalloc(32), *d = kmalloc(32);
	CHECK(c == a);
	CHECK(d != a && d != b && d != c); /* the chain was not corrupted by the double free */

	fake_console_clear();
	kfree(b + 8); /* inside an object */
	CHECK(strstr(fake_console, "kfree") != NULL);
	int on_stack;
	fake_console_clear();
	kfree(&on_stack); /* not in the direct map */
	CHECK(strstr(fake_console, "kfree") != NULL);
	struct page *raw = frame_alloc(0, PG_KERNEL);
	REQUIRE(raw);
	fake_console_clear();
	kfree(page_to_virt(raw)); /* a frame, not a kmalloc block */
	CHECK(strstr(fake_console, "kfree") != NULL);
	CHECK(raw->flags == PG_KERNEL);
	frame_free(raw, 0);
	char *big = kmalloc(3 * PAGE_SIZE);
	REQUIRE(big);
	fake_console_clear();
	kfree(big + PAGE_SIZE); /* a tail of a large block */
	CHECK(strstr(fake_console, "kfree") != NULL);
	kfree(big);
	fake_console_clear();
	kfree(big); /* large double free */
	CHECK(strstr(fake_console, "kfree") != NULL);
	fake_console_clear();
	kfree(fake_phys_base + 100 * PAGE_SIZE); /* a free frame */
	CHECK(strstr(fake_console, "kfree") != NULL);

	kfree(b);
	kfree(c);
	kfree(d);
	CHECK_EQ(free_frames(), base);
}

/* Frames the allocator has handed out, without giving kmalloc's reserve back. */
static uint64_t frames_in_use(void)
{
	struct frame_stats st;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		frame_drain_cpu(c);
	frame_get_stats(&st);
	return st.usable - st.free;
}

/* Allocating and freeing the same few thousand objects over and over takes frames from the
 * allocator in the first round only: the empty slabs stay in the class's reserve (up to 8),
 * a poisoned one leaves it, and kmalloc_drain gives the reserve back. */
TEST(kmalloc_reserve_keeps_empty_slabs)
{
	enum { N = 2000 }; /* 16-byte objects: 8 slabs' worth */
	static void *p[N];

	heap_setup(512);
	uint64_t base = free_frames(), used0 = frames_in_use(), used = 0;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++)
			REQUIRE((p[i] = kmalloc(16)) != NULL);
		for (int i = 0; i < N; i++)
			kfree(p[i]);
		if (round == 0)
			used = frames_in_use();
		CHECK_EQ(frames_in_use(), used); /* the same slabs, back from the reserve */
	}
	CHECK_EQ(used - used0, 8);
	p[0] = kmalloc(16); /* a reserve slab goes back to work ... */
	struct page *pg = virt_to_page(p[0]);
	kfree(p[0]);
	pg->flags |= PG_HWPOISON; /* ... and is hit by a memory error once empty again */
	for (int i = 0; i < N; i++)
		REQUIRE((p[i] = kmalloc(16)) != NULL);
	for (int i = 0; i < N; i++)
		CHECK(virt_to_page(p[i]) != pg);
	for (int i = 0; i < N; i++)
		kfree(p[i]);
	struct frame_stats st;
	frame_get_stats(&st);
	CHECK_EQ(st.isolated, 1); /* the poisoned slab left the reserve for good */
	CHECK_EQ(free_frames(), base - 1);
}
