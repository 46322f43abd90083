/* The corrected-error collector (CEC): counts corrected memory errors per physical frame and
 * soft-offlines a frame that keeps producing them, while its data can still be read, before
 * they turn into an uncorrected error. It has the semantics of Linux's RAS Correctable Errors
 * Collector (drivers/ras/cec.c); docs/mca.md, "The corrected-error collector", says what it
 * does, its knobs and where it differs.
 *
 * Two halves:
 *   - the array (kernel/mce/cec.c): a pure data structure with no locks, host-tested. At most
 *     MCE_CEC_ELEMS entries, sorted by pfn, each one 64-bit word: the pfn above a 2-bit
 *     generation above a 10-bit count. Counting sets the generation to its maximum; "spring
 *     cleaning" (every MCE_CEC_CLEAN_ELEMS counted errors, and every decay interval) lowers every
 *     generation by one; a full array makes room for a new pfn by evicting the entry with the
 *     smallest (generation, count), i.e. the one that erred least lately. An entry whose count
 *     reaches the action threshold leaves the array and its frame is acted on.
 *   - the runtime (kernel/mce/cec_run.c): one array under a lock, fed from the machine-check
 *     log's drain (corrected memory errors with a usable address found by the poller or CMCI,
 *     never from #MC) and from debugfs, the soft offline at the threshold, the decay timer,
 *     the files under /sys/kernel/debug/ras/cec/ and the boot parameter ras=cec_disable. */
#pragma once
#include "mce.h"
#include "types.h"

#define MCE_CEC_ELEMS (PAGE_SIZE / sizeof(uint64_t)) /* 512: one page of entries, as Linux */
#define MCE_CEC_GEN_BITS 2
#define MCE_CEC_GEN_MAX ((1u << MCE_CEC_GEN_BITS) - 1)
#define MCE_CEC_COUNT_BITS (PAGE_SHIFT - MCE_CEC_GEN_BITS)	    /* 10 */
#define MCE_CEC_COUNT_MAX ((1u << MCE_CEC_COUNT_BITS) - 1)	    /* 1023 */
#define MCE_CEC_CLEAN_ELEMS (MCE_CEC_ELEMS >> MCE_CEC_GEN_BITS) /* 128 */

/* One entry: [63..12 pfn | 11..10 generation | 9..0 count]. */
static inline pfn_t mce_cec_pfn(uint64_t e)
{
	return e >> PAGE_SHIFT;
}
static inline unsigned mce_cec_gen(uint64_t e)
{
	return (unsigned)(e >> MCE_CEC_COUNT_BITS) & MCE_CEC_GEN_MAX;
}
static inline unsigned mce_cec_count(uint64_t e)
{
	return (unsigned)e & MCE_CEC_COUNT_MAX;
}
/* Generation and count together: the eviction order (smallest first). */
static inline unsigned mce_cec_age_key(uint64_t e)
{
	return (unsigned)e & (PAGE_SIZE - 1);
}

struct mce_cec {
	uint64_t e[MCE_CEC_ELEMS]; /* e[0..n), sorted by pfn, one entry per pfn */
	unsigned n;
	unsigned since_clean; /* errors counted since the last spring cleaning */
	unsigned threshold;   /* action_threshold: 0..MCE_CEC_COUNT_MAX */
	uint64_t ces;	      /* errors counted since boot (Linux's "CEs") */
	uint64_t decays;      /* spring cleanings done */
	uint64_t evicted;     /* entries dropped to make room */
	uint64_t reached;     /* entries that reached the threshold */
};

/* Empty the array and set its threshold (clamped to MCE_CEC_COUNT_MAX). Pure. */
void mce_cec_array_init(struct mce_cec *c, unsigned threshold);
/* Count one corrected error in frame pfn: refresh or insert its entry (evicting the entry with
 * the smallest generation-and-count when the array is full), and spring-clean after every
 * MCE_CEC_CLEAN_ELEMS errors. *count gets the frame's count now. Returns true when it reached
 * the threshold: the entry is gone and the caller acts on the frame. Pure; the caller
 * serializes. */
bool mce_cec_count_error(struct mce_cec *c, pfn_t pfn, unsigned *count);
/* Spring cleaning: every entry's generation goes down by one (not below 0). Pure. */
void mce_cec_decay(struct mce_cec *c);
/* Index of pfn's entry, or -1. Pure. */
int mce_cec_find(const struct mce_cec *c, pfn_t pfn);

/* ---- the runtime (kernel/mce/cec_run.c) ---- */

#define MCE_CEC_DECAY_DEFAULT_S (24 * 60 * 60) /* Linux's default decay interval */
#define MCE_CEC_DECAY_MIN_S (60 * 60)	       /* Linux's range for decay_interval */
#define MCE_CEC_DECAY_MAX_S (30 * 24 * 60 * 60)

/* Boot: unless the command line says ras=cec_disable (Linux's parameter), switch the collector
 * on with Linux's defaults (action_threshold 1023, decay_interval 24 h) and register its files
 * under /sys/kernel/debug/ras/cec/. Calling it again starts over with an empty array (host
 * tests). Process context. */
void mce_cec_init(const char *cmdline);
/* Whether the collector takes this record: a corrected memory error (Intel compound code of a
 * memory controller or cache error) with a usable physical address (mce_addr_decode), found by
 * the poller or CMCI, while the collector is on. Any context but #MC (reads flags only). */
bool mce_cec_wants(const struct mce_record *r, const struct mce_verdict *v);
/* Count one corrected error at pfn (the log drain, for a record mce_cec_wants). Returns true
 * when the collector keeps it: below the threshold the record need not be printed, as on
 * Linux. false when the count reached the threshold (the frame is queued for soft offline by
 * mce_cec_run_actions; the record should be printed) or the collector is off.
 * Process context; takes the collector's lock. */
bool mce_cec_take(pfn_t pfn);
/* Soft-offline every frame whose count reached the threshold since the last call, outside
 * every machine-check lock, and log one line each: pfn, count, what was done, how long it
 * took. Returns how many. Process context, interrupts enabled (mce_drain calls it after
 * letting go of the log). */
unsigned mce_cec_run_actions(void);
/* Timer tick: queue the decay work when the decay interval has passed. IRQ context. */
void mce_cec_tick(void);

/* Counters of the runtime, as /sys/kernel/debug/ras/cec/array shows them. */
struct mce_cec_stats {
	uint64_t ces, decays, evicted, reached; /* the array's (struct mce_cec) */
	uint64_t offlined;	/* soft offline done: moved, taken out, or poisoned before */
	uint64_t unmovable;	/* kernel memory or page tables: left in use (-EIO) */
	uint64_t failed;	/* any other error (not RAM, no memory to move it) */
	uint64_t actions_lost;	/* the action queue was full */
	unsigned n, threshold;
	bool on;
};
/* Snapshot the counters. Process context; takes the collector's lock. */
void mce_cec_get_stats(struct mce_cec_stats *out);
