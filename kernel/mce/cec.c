/* The corrected-error collector's array (include/mce_cec.h): per-frame counts of corrected
 * errors, bounded and ageing, with the rules of Linux's drivers/ras/cec.c.
 *
 * The array is one page of 64-bit entries kept sorted by pfn, so a lookup is a binary search
 * and an insertion or removal moves at most a page. Each entry packs the pfn above a 2-bit
 * generation and a 10-bit count. Counting an error sets its entry's generation to the maximum
 * (3); spring cleaning lowers every generation by one. Read as one 12-bit number, generation
 * over count orders the entries by how recently and how much they erred, so when the array is
 * full the entry with the smallest such number makes room. Nothing else is ever forgotten:
 * a frame leaves the array when it reaches the action threshold or is evicted.
 *
 * One deliberate difference from Linux: Linux evicts when the array is full even if the error
 * is for a pfn already in it (and may evict that very entry); here eviction happens only when
 * a new pfn needs the slot. Pure: no locks, no allocation; the caller serializes. */
#include "kstring.h"
#include "mce_cec.h"

#define GEN_MASK ((uint64_t)MCE_CEC_GEN_MAX << MCE_CEC_COUNT_BITS)

void mce_cec_array_init(struct mce_cec *c, unsigned threshold)
{
	memset(c, 0, sizeof(*c));
	c->threshold = MIN(threshold, MCE_CEC_COUNT_MAX);
}

/* The index where pfn is, or where it would go to keep the array sorted. */
static unsigned lower_bound(const struct mce_cec *c, pfn_t pfn)
{
	unsigned lo = 0, hi = c->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (mce_cec_pfn(c->e[mid]) < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int mce_cec_find(const struct mce_cec *c, pfn_t pfn)
{
	unsigned i = lower_bound(c, pfn);

	return i < c->n && mce_cec_pfn(c->e[i]) == pfn ? (int)i : -1;
}

static void remove_at(struct mce_cec *c, unsigned i)
{
	memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof(c->e[0]));
	c->n--;
}

/* Drop the entry that erred least lately: the smallest generation-and-count, the lowest pfn
 * among equals. */
static void evict_one(struct mce_cec *c)
{
	unsigned victim = 0;

	for (unsigned i = 1; i < c->n; i++)
		if (mce_cec_age_key(c->e[i]) < mce_cec_age_key(c->e[victim]))
			victim = i;
	remove_at(c, victim);
	c->evicted++;
}

/* The index of pfn's entry, inserted with count 0 if it was not there. */
static unsigned entry_for(struct mce_cec *c, pfn_t pfn)
{
	unsigned i = lower_bound(c, pfn);

	if (i < c->n && mce_cec_pfn(c->e[i]) == pfn)
		return i;
	if (c->n == MCE_CEC_ELEMS) {
		evict_one(c);
		i = lower_bound(c, pfn);
	}
	memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof(c->e[0]));
	c->e[i] = (uint64_t)pfn << PAGE_SHIFT;
	c->n++;
	return i;
}

bool mce_cec_count_error(struct mce_cec *c, pfn_t pfn, unsigned *count)
{
	unsigned i;

	c->ces++;
	i = entry_for(c, pfn);
	/* Every count in the array is below the threshold, so at most MCE_CEC_COUNT_MAX - 1:
	 * one more never carries into the generation. */
	c->e[i] = (c->e[i] | GEN_MASK) + 1;
	*count = mce_cec_count(c->e[i]);
	if (*count >= c->threshold) {
		remove_at(c, i);
		c->reached++;
		return true;
	}
	if (++c->since_clean >= MCE_CEC_CLEAN_ELEMS)
		mce_cec_decay(c);
	return false;
}

void mce_cec_decay(struct mce_cec *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		unsigned gen = mce_cec_gen(c->e[i]);

		if (gen)
			c->e[i] = (c->e[i] & ~GEN_MASK) | ((uint64_t)(gen - 1) << MCE_CEC_COUNT_BITS);
	}
	c->since_clean = 0;
	c->decays++;
}
