/* Private to swap (kernel/mm/swap*.c, vmscan.c): the areas and their slot maps. */
#pragma once
#include "frame.h"
#include "spinlock.h"
#include "swap.h"
#include "vm_priv.h"

/* A slot map word: PTE count in the low 15 bits, SWAP_HAS_CACHE on top; SWAP_MAP_BAD marks
 * the header and bad pages (never handed out). */
#define SWAP_COUNT_MASK 0x7fffu
#define SWAP_COUNT_MAX 0x7ffeu
#define SWAP_MAP_BAD 0x7fffu
#define SWAP_HAS_CACHE 0x8000u

struct blk_device;

struct swap_area {
	bool active;   /* swap_lock: slots may be used */
	bool draining; /* swap_lock: swapoff runs, no new slots */
	int prio;
	char path[48];
	struct blk_device *dev;
	uint64_t nslots;		     /* map entries: last_page + 1 */
	uint64_t nr_usable, nr_free, cursor; /* swap_lock */
	uint16_t *map;			     /* swap_lock */
	struct page **cache;		     /* swap_lock: the cached page of each slot */
	struct page *map_frames, *cache_frames;
	unsigned map_order, cache_order;
};

extern spinlock_t swap_lock;
extern struct swap_area swap_areas[SWAP_MAX_AREAS];
extern uint64_t swap_nr_cached;

/* The active area e names a slot of, or NULL. swap_lock held. */
struct swap_area *swap_area_of(swp_entry_t e);
/* Bring every page area `type` holds back into memory (swapoff): 0, -ENOMEM, -EIO.
 * swap_fault.c. Process context, no lock held. */
int swap_unuse_area(unsigned type);
