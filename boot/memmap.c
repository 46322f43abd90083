/* memmap_sanitize: turn the firmware's memory map, which may be unsorted, overlapping, or hold
 * empty and wrapping ranges, into a sorted list of disjoint, non-empty ranges.
 *
 * Method: every range base and every range end cuts the address space into elementary pieces;
 * a sweep visits the pieces in address order and gives each the most restrictive type of the
 * ranges that cover it (a piece nobody covers is a hole and stays out), then joins touching
 * pieces of one type. At most 2n cuts, each checked against n ranges: O(n^2) for n <= 128.
 * Ranges are handled as [base, last] so a range that ends at 2^64 needs no special case.
 * Boot only; uses a static scratch list, so not reentrant. */
#include "boot_priv.h"

#define SCRATCH_RANGES (2 * BOOT_MAX_RANGES)
#define ADDR_LAST UINT64_MAX

static struct mem_range scratch[SCRATCH_RANGES] __initdata;

/* Higher rank wins an overlap. RESERVED and NVS both keep memory from use; NVS ranks higher
 * so the firmware's save area is remembered as such. */
static int type_rank(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return 0;
	case MEM_ACPI_RECLAIM:
		return 1;
	case MEM_RESERVED:
		return 2;
	case MEM_ACPI_NVS:
		return 3;
	default:
		return 4; /* MEM_BAD */
	}
}

static inline uint64_t range_last(const struct mem_range *m)
{
	return m->base + (m->len - 1);
}

/* Drop empty ranges, clip ranges past 2^64, make unknown types reserved. Returns the count. */
static unsigned __init normalize(struct mem_range *r, unsigned n, unsigned *fixes)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct mem_range m = r[i];

		if (m.len == 0) {
			printk(KERN_WARNING "memmap: empty range at %#llx dropped\n",
			       (unsigned long long)m.base);
			(*fixes)++;
			continue;
		}
		if (m.len - 1 > ADDR_LAST - m.base) {
			printk(KERN_WARNING "memmap: range %#llx+%#llx runs past 2^64, clipped\n",
			       (unsigned long long)m.base, (unsigned long long)m.len);
			m.len = ADDR_LAST - m.base + 1; /* base > 0 here, so no overflow */
			(*fixes)++;
		}
		if (m.type < MEM_USABLE || m.type > MEM_BAD) {
			printk(KERN_WARNING
			       "memmap: range %#llx has unknown type %u, kept as reserved\n",
			       (unsigned long long)m.base, m.type);
			m.type = MEM_RESERVED;
			(*fixes)++;
		}
		r[k++] = m;
	}
	return k;
}

/* The type of the piece starting at addr (0 if no range covers it); *cover gets how many
 * ranges cover it. */
static uint32_t piece_type(const struct mem_range *r, unsigned n, uint64_t addr, unsigned *cover)
{
	uint32_t type = 0;

	*cover = 0;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].base > addr || range_last(&r[i]) < addr)
			continue;
		if (!(*cover)++ || type_rank(r[i].type) > type_rank(type))
			type = r[i].type;
	}
	return type;
}

/* The lowest cut above addr; false if there is none. */
static bool next_cut(const struct mem_range *r, unsigned n, uint64_t addr, uint64_t *cut)
{
	bool found = false;

	for (unsigned i = 0; i < n; i++) {
		uint64_t last = range_last(&r[i]);
		uint64_t c[2] = {r[i].base, last + 1};
		unsigned nc = last == ADDR_LAST ? 1 : 2;

		for (unsigned j = 0; j < nc; j++) {
			if (c[j] > addr && (!found || c[j] < *cut)) {
				*cut = c[j];
				found = true;
			}
		}
	}
	return found;
}

/* Append piece [base, last] of type to out[*k], joining it to a touching piece of the same
 * type when the joined length still fits in 64 bits. False when out is full. */
static bool add_piece(struct mem_range *out, unsigned *k, uint64_t base, uint64_t last,
		      uint32_t type)
{
	if (*k) {
		struct mem_range *p = &out[*k - 1];

		if (p->type == type && range_last(p) + 1 == base &&
		    !(p->base == 0 && last == ADDR_LAST)) {
			p->len = last - p->base + 1;
			return true;
		}
	}
	if (*k == SCRATCH_RANGES)
		return false;
	out[(*k)++] = (struct mem_range){base, last - base + 1, type};
	return true;
}

/* Sweep the pieces of r[0..n) into scratch; returns the number of scratch ranges. */
static unsigned __init sweep(const struct mem_range *r, unsigned n, unsigned *fixes)
{
	uint64_t addr = ADDR_LAST, cut = 0;
	unsigned k = 0, cover, lost = 0;
	bool more = true;

	for (unsigned i = 0; i < n; i++)
		addr = MIN(addr, r[i].base);
	while (more) {
		uint32_t type = piece_type(r, n, addr, &cover);
		uint64_t last;

		more = next_cut(r, n, addr, &cut);
		last = more ? cut - 1 : ADDR_LAST;
		if (cover > 1) {
			printk(KERN_WARNING
			       "memmap: %u ranges overlap at [%#llx-%#llx], kept as %s\n",
			       cover, (unsigned long long)addr, (unsigned long long)last,
			       boot_mem_type_name(type));
			(*fixes)++;
		}
		if (cover && !add_piece(scratch, &k, addr, last, type))
			lost++;
		addr = cut;
	}
	if (lost) {
		printk(KERN_WARNING "memmap: too many pieces, %u dropped\n", lost);
		*fixes += lost;
	}
	return k;
}

/* See include/boot_info.h. Gaps between ranges stay gaps (not usable). When the result has
 * more than max ranges the highest are dropped, which only loses memory, never invents it.
 * Boot only, not reentrant. */
unsigned __init memmap_sanitize(struct mem_range *r, unsigned n, unsigned max, unsigned *fixes)
{
	unsigned local = 0, k;

	if (!fixes)
		fixes = &local;
	n = normalize(r, n, fixes);
	if (n == 0)
		return 0;
	k = sweep(r, n, fixes);
	if (k > max) {
		printk(KERN_WARNING "memmap: %u ranges do not fit in %u, highest dropped\n", k,
		       max);
		*fixes += k - max;
		k = max;
	}
	memcpy(r, scratch, k * sizeof *r);
	return k;
}
