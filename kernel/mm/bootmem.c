/* Boot-time memory ranges (see include/bootmem.h): a small sorted array of free [start, end)
 * ranges. Reserving splits a range; allocating takes from the lowest range that fits. */
#include "bootmem.h"
#include "frame.h"
#include "printk.h"

#define BOOTMEM_MAX 256

struct range {
	paddr_t start, end;
};

static struct range free_ranges[BOOTMEM_MAX];
static unsigned n_free;
static bool handed_over;

static void remove_at(unsigned i)
{
	for (unsigned j = i; j + 1 < n_free; j++)
		free_ranges[j] = free_ranges[j + 1];
	n_free--;
}

static void insert_at(unsigned i, paddr_t start, paddr_t end)
{
	if (n_free == BOOTMEM_MAX) {
		printk(KERN_WARNING "bootmem: too many ranges, dropping %#lx-%#lx\n", start, end);
		return;
	}
	for (unsigned j = n_free; j > i; j--)
		free_ranges[j] = free_ranges[j - 1];
	free_ranges[i] = (struct range){start, end};
	n_free++;
}

void bootmem_init(const struct mem_range *map, unsigned n)
{
	n_free = 0;
	handed_over = false;
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE)
			continue;
		paddr_t s = ALIGN_UP(map[i].base, PAGE_SIZE);
		paddr_t e = map[i].base + map[i].len < map[i].base ? ~0ull : map[i].base + map[i].len;
		e = ALIGN_DOWN(e, PAGE_SIZE);
		if (s < e)
			insert_at(n_free, s, e); /* the map is sorted and disjoint */
	}
}

void bootmem_reserve(paddr_t base, uint64_t len)
{
	paddr_t rs = ALIGN_DOWN(base, PAGE_SIZE);
	paddr_t re = base + len < base ? ~0ull : ALIGN_UP(base + len, PAGE_SIZE);
	if (len == 0)
		return;
	for (unsigned i = 0; i < n_free;) {
		struct range r = free_ranges[i];
		if (re <= r.start || rs >= r.end) {
			i++;
			continue;
		}
		remove_at(i);
		if (r.start < rs)
			insert_at(i++, r.start, rs);
		if (re < r.end)
			insert_at(i++, re, r.end);
	}
}

paddr_t bootmem_alloc(uint64_t size, uint64_t align, paddr_t above)
{
	if (handed_over || size == 0 || (align & (align - 1)))
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);
	for (unsigned i = 0; i < n_free; i++) {
		paddr_t s = ALIGN_UP(MAX(free_ranges[i].start, above), align);
		if (s < free_ranges[i].end && free_ranges[i].end - s >= size) {
			bootmem_reserve(s, size);
			return s;
		}
	}
	return 0;
}

paddr_t bootmem_top(void) { return n_free ? free_ranges[n_free - 1].end : 0; }

uint64_t bootmem_free_bytes(void)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < n_free; i++)
		sum += free_ranges[i].end - free_ranges[i].start;
	return sum;
}

void bootmem_hand_over(pfn_t max_pfn)
{
	for (unsigned i = 0; i < n_free; i++) {
		pfn_t s = free_ranges[i].start >> PAGE_SHIFT;
		pfn_t e = MIN(free_ranges[i].end >> PAGE_SHIFT, max_pfn);
		if (s < e)
			frame_add_free_range(s, e);
	}
	handed_over = true;
}
