/* Tests of memmap_sanitize (boot/memmap.c): every pair of types overlapping in both
 * orders, containment, duplicates, adjacency merges, gaps, zero length, wrap at 2^64, unknown
 * types, truncation to max, and a randomized comparison with a brute-force per-address model. */
#include "boot_info.h"
#include "unit.h"
#include <string.h>

#define TOP UINT64_MAX

static const uint32_t all_types[] = {MEM_USABLE, MEM_RESERVED, MEM_ACPI_RECLAIM, MEM_ACPI_NVS,
				     MEM_BAD};

/* The contract's order: BAD > NVS > RESERVED > RECLAIM > USABLE. */
static int rank(uint32_t t)
{
	static const int r[] = {[MEM_USABLE] = 0,
				[MEM_ACPI_RECLAIM] = 1,
				[MEM_RESERVED] = 2,
				[MEM_ACPI_NVS] = 3,
				[MEM_BAD] = 4};
	return r[t];
}

static struct mem_range R(uint64_t b, uint64_t l, uint32_t t) {
	return (struct mem_range){b, l, t};
}

static bool
same(const struct mem_range *got, unsigned n, const struct mem_range *want, unsigned wn)
{
	if (n != wn)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (got[i].base != want[i].base || got[i].len != want[i].len ||
		    got[i].type != want[i].type)
			return false;
	return true;
}

static void dump(const char *what, const struct mem_range *r, unsigned n)
{
	printf("    %s:", what);
	for (unsigned i = 0; i < n; i++)
		printf(" {%#llx+%#llx t%u}", (unsigned long long)r[i].base,
		       (unsigned long long)r[i].len, r[i].type);
	printf("\n");
}

/* Run the sanitizer on in[0..n) with room max; compare with want and the fix count. */
static void expect(const struct mem_range *in, unsigned n, unsigned max,
		   const struct mem_range *want, unsigned wn, unsigned want_fixes, int line)
{
	struct mem_range r[2 * BOOT_MAX_RANGES];
	unsigned fixes = 0;

	memcpy(r, in, n * sizeof *r);
	unsigned k = memmap_sanitize(r, n, max, &fixes);
	if (!same(r, k, want, wn) || fixes != want_fixes) {
		unit_fail(__FILE__, line, "memmap_sanitize result");
		dump("in  ", in, n);
		dump("got ", r, k);
		dump("want", want, wn);
		printf("    fixes %u, want %u\n", fixes, want_fixes);
	}
}
#define EXPECT(in, max, want, fixes)                                                               \
	expect(in, ARRAY_SIZE(in), max, want, ARRAY_SIZE(want), fixes, __LINE__)

TEST(memmap_every_type_pair_overlapping)
{
	for (unsigned i = 0; i < ARRAY_SIZE(all_types); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(all_types); j++) {
			uint32_t a = all_types[i], b = all_types[j];
			uint32_t w = rank(a) >= rank(b) ? a : b;
			struct mem_range in[2] = {R(0x1000, 0x3000, a), R(0x3000, 0x3000, b)};
			struct mem_range swapped[2] = {in[1], in[0]};
			struct mem_range want[3];
			unsigned wn = 0;

			/* [0x1000,0x3000) a, [0x3000,0x4000) winner, [0x4000,0x6000) b, merged. */
			if (a == b) {
				want[wn++] = R(0x1000, 0x5000, a);
			} else if (w == a) {
				want[wn++] = R(0x1000, 0x3000, a);
				want[wn++] = R(0x4000, 0x2000, b);
			} else {
				want[wn++] = R(0x1000, 0x2000, a);
				want[wn++] = R(0x3000, 0x3000, b);
			}
			expect(in, 2, BOOT_MAX_RANGES, want, wn, 1, __LINE__);
			expect(swapped, 2, BOOT_MAX_RANGES, want, wn, 1, __LINE__);
		}
	}
}

TEST(memmap_containment)
{
	for (unsigned i = 0; i < ARRAY_SIZE(all_types); i++) {
		for (unsigned j = 0; j < ARRAY_SIZE(all_types); j++) {
			uint32_t outer = all_types[i], inner = all_types[j];
			struct mem_range in[2] = {R(0, 0x10000, outer), R(0x4000, 0x1000, inner)};
			struct mem_range want[3];
			unsigned wn = 0;

			if (rank(inner) <= rank(outer)) {
				want[wn++] = R(0, 0x10000, outer);
			} else {
				want[wn++] = R(0, 0x4000, outer);
				want[wn++] = R(0x4000, 0x1000, inner);
				want[wn++] = R(0x5000, 0xb000, outer);
			}
			expect(in, 2, BOOT_MAX_RANGES, want, wn, 1, __LINE__);
		}
	}
	/* Containment sharing an edge, and exact duplicates. */
	struct mem_range edge[] = {R(0x1000, 0x4000, MEM_USABLE), R(0x1000, 0x1000, MEM_BAD)};
	struct mem_range edge_want[] = {R(0x1000, 0x1000, MEM_BAD), R(0x2000, 0x3000, MEM_USABLE)};
	EXPECT(edge, BOOT_MAX_RANGES, edge_want, 1);
	struct mem_range dup[] = {R(0x1000, 0x1000, MEM_USABLE), R(0x1000, 0x1000, MEM_USABLE),
				  R(0x1000, 0x1000, MEM_USABLE)};
	struct mem_range dup_want[] = {R(0x1000, 0x1000, MEM_USABLE)};
	EXPECT(dup, BOOT_MAX_RANGES, dup_want, 1);
}

TEST(memmap_sort_merge_gaps)
{
	struct mem_range in[] = {
	    R(0x5000, 0x1000, MEM_USABLE),   R(0x1000, 0x1000, MEM_USABLE),
	    R(0x2000, 0x1000, MEM_USABLE),   /* touches the one before: merged */
	    R(0x3000, 0x1000, MEM_RESERVED), /* touches, other type: kept */
	    R(0x6000, 0x1000, MEM_USABLE),   /* touches 0x5000: merged */
	    R(0x8000, 0x1000, MEM_USABLE),   /* gap at 0x7000: kept apart */
	};
	struct mem_range want[] = {
	    R(0x1000, 0x2000, MEM_USABLE),
	    R(0x3000, 0x1000, MEM_RESERVED),
	    R(0x5000, 0x2000, MEM_USABLE),
	    R(0x8000, 0x1000, MEM_USABLE),
	};
	EXPECT(in, BOOT_MAX_RANGES, want, 0);

	unsigned fixes = 7;
	CHECK_EQ(memmap_sanitize(in, 0, BOOT_MAX_RANGES, &fixes), 0);
	CHECK_EQ(fixes, 7); /* added to, not reset */
	CHECK_EQ(memmap_sanitize(in, 1, BOOT_MAX_RANGES, NULL), 1);
}

TEST(memmap_zero_length_wrap_and_unknown_types)
{
	struct mem_range in[] = {
	    R(0x1000, 0, MEM_USABLE),
	    R(0xfffffffffffff000, 0x2000, MEM_USABLE), /* wraps: clipped */
	    R(0x2000, 0x1000, 0),		       /* unknown: reserved */
	    R(0x3000, 0x1000, 99),		       /* unknown: reserved */
	};
	struct mem_range want[] = {
	    R(0x2000, 0x2000, MEM_RESERVED),
	    R(0xfffffffffffff000, 0x1000, MEM_USABLE),
	};
	EXPECT(in, BOOT_MAX_RANGES, want, 4);

	/* A range ending exactly at 2^64 is fine; one covering it all but byte 0 too. */
	struct mem_range top[] = {R(0xffffffffffff0000, 0x10000, MEM_RESERVED), R(TOP, 1, MEM_BAD)};
	struct mem_range top_want[] = {R(0xffffffffffff0000, 0xffff, MEM_RESERVED),
				       R(TOP, 1, MEM_BAD)};
	EXPECT(top, BOOT_MAX_RANGES, top_want, 1);
	struct mem_range all[] = {R(1, TOP, MEM_USABLE)};
	EXPECT(all, BOOT_MAX_RANGES, all, 0);
	struct mem_range wrap_all[] = {R(2, TOP, MEM_USABLE)};
	struct mem_range wrap_all_want[] = {R(2, TOP - 1, MEM_USABLE)};
	EXPECT(wrap_all, BOOT_MAX_RANGES, wrap_all_want, 1);

	/* Two halves of the address space: joining them would need a length of 2^64. */
	struct mem_range halves[] = {R(0, 1ull << 63, MEM_USABLE),
				     R(1ull << 63, 1ull << 63, MEM_USABLE)};
	EXPECT(halves, BOOT_MAX_RANGES, halves, 0);
}

TEST(memmap_truncates_to_max)
{
	struct mem_range in[] = {R(0x1000, 0x5000, MEM_USABLE), R(0x2000, 0x1000, MEM_BAD),
				 R(0x4000, 0x1000, MEM_BAD)};
	/* Result would be 5 pieces: U B U B U; room for 3 keeps the lowest. */
	struct mem_range want[] = {R(0x1000, 0x1000, MEM_USABLE), R(0x2000, 0x1000, MEM_BAD),
				   R(0x3000, 0x1000, MEM_USABLE)};
	EXPECT(in, 3, want, 2 + 2);
}

/* ---- randomized: compare with a per-page model ---- */

#define MODEL_PAGES 64
#define PG 0x1000ull
#define RAND_ROUNDS 20000

static uint64_t rs = 0x1234567887654321ull;
static uint64_t rnd(void) { return unit_xorshift(&rs); }

/* Random ranges on whole pages of [0, 64 pages), or at the very top of the address space
 * (top page numbers mirror the low ones there). Compared page by page. */
static void random_round(bool at_top)
{
	struct mem_range r[BOOT_MAX_RANGES];
	int model[MODEL_PAGES]; /* -1: hole, else type */
	uint64_t origin = at_top ? 0 - MODEL_PAGES * PG : 0;
	unsigned n = (unsigned)(rnd() % 12), fixes = 0;

	for (int p = 0; p < MODEL_PAGES; p++)
		model[p] = -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned first = (unsigned)(rnd() % MODEL_PAGES);
		unsigned pages = (unsigned)(rnd() % 10);
		uint32_t t = all_types[rnd() % ARRAY_SIZE(all_types)];

		if (first + pages > MODEL_PAGES)
			pages = MODEL_PAGES - first;
		r[i] = R(origin + first * PG, pages * PG, t);
		for (unsigned p = first; p < first + pages; p++)
			if (model[p] < 0 || rank(t) > rank((uint32_t)model[p]))
				model[p] = (int)t;
	}
	struct mem_range in[BOOT_MAX_RANGES];
	memcpy(in, r, sizeof r);
	unsigned k = memmap_sanitize(r, n, BOOT_MAX_RANGES, &fixes);

	int got[MODEL_PAGES];
	bool ok = true;
	for (int p = 0; p < MODEL_PAGES; p++)
		got[p] = -1;
	for (unsigned i = 0; i < k; i++) {
		/* Sorted, disjoint, non-empty, page-exact, and merged when touching. */
		ok &= r[i].len > 0 && r[i].len % PG == 0 && (r[i].base - origin) % PG == 0;
		if (i) {
			uint64_t prev_end = r[i - 1].base + r[i - 1].len;
			ok &= prev_end <= r[i].base;
			ok &= !(prev_end == r[i].base && r[i - 1].type == r[i].type);
		}
		if (r[i].base - origin >= MODEL_PAGES * PG ||
		    r[i].len > MODEL_PAGES * PG - (r[i].base - origin)) {
			ok = false; /* outside every input range */
			continue;
		}
		for (uint64_t a = r[i].base; a - r[i].base < r[i].len; a += PG)
			got[(a - origin) / PG] = (int)r[i].type;
	}
	ok &= !memcmp(got, model, sizeof got);
	if (!ok) {
		unit_fail(__FILE__, __LINE__, "random memmap differs from the model");
		dump("in ", in, n);
		dump("got", r, k);
	}
}

TEST(memmap_random_vs_model)
{
	for (int i = 0; i < RAND_ROUNDS; i++)
		random_round(i & 1);
}
