/* Swap areas: swapon/swapoff, the slot map of each area and /proc/swaps (include/swap.h).
 *
 * An area is a whole block device that mkswap formatted (swap_header.c checks the header).
 * Its slot map holds one 16-bit word per page: the number of PTEs that hold the slot's swap
 * entry, SWAP_HAS_CACHE while the swap cache holds a page for it, or SWAP_MAP_BAD for the
 * header and the bad pages, as Linux's swap_map. Beside it, the swap cache's index: the page
 * of each slot that is in memory. Both arrays are whole frames from the allocator, so an
 * area holds at most SWAP_MAX_SLOTS pages (a larger one is used up to that size, and says so).
 * Slots are handed out from the area of highest priority that has room, by a cursor that
 * moves on through the map (Linux's cluster allocator in its simplest form).
 *
 * How a swap path names its device is swap_device_lookup's business alone: "/dev/NAME" is
 * the block layer's device NAME (kernel/block/blk.c). */
#include "arch/context.h"
#include "blk.h"
#include "cred.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "mutex.h"
#include "printk.h"
#include "swap_priv.h"
#include "syscall.h"
#include "vfs.h"

spinlock_t swap_lock = SPINLOCK_INIT;
struct swap_area swap_areas[SWAP_MAX_AREAS];
uint64_t swap_nr_cached;	  /* swap_lock */
static struct mutex swapon_mutex; /* swapon and swapoff, one at a time */
static int next_prio = -1;	  /* areas without SWAP_FLAG_PREFER get -1, -2, ... as on Linux */
static unsigned nr_active;	  /* atomic read: areas on */

/* The area of e when e names a slot of an active area, else NULL. swap_lock held. */
struct swap_area *swap_area_of(swp_entry_t e)
{
	struct swap_area *a;

	if (swp_type(e) >= SWAP_MAX_AREAS)
		return NULL;
	a = &swap_areas[swp_type(e)];
	return a->active && swp_offset(e) > 0 && swp_offset(e) < a->nslots ? a : NULL;
}

bool swap_active(void)
{
	return __atomic_load_n(&nr_active, __ATOMIC_ACQUIRE) != 0;
}

/* Totals of the active areas; see swap.h. */
void swap_get_stats(struct swap_stats *st)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < SWAP_MAX_AREAS; i++)
		if (swap_areas[i].active) {
			st->total += swap_areas[i].nr_usable;
			st->free += swap_areas[i].nr_free;
		}
	st->cached = swap_nr_cached;
	spin_unlock_irqrestore(&swap_lock, f);
}

/* ---- slots ---- */

static swp_entry_t alloc_in(struct swap_area *a, unsigned type)
{
	for (uint64_t n = 0; n < a->nslots; n++) {
		uint64_t off = a->cursor++;
		if (a->cursor >= a->nslots)
			a->cursor = 1;
		if (a->map[off] == 0) {
			a->map[off] = SWAP_HAS_CACHE;
			a->nr_free--;
			return swp_entry(type, off);
		}
	}
	return 0;
}

/* A free slot with SWAP_HAS_CACHE, from the best area with room; see swap.h. */
swp_entry_t swap_slot_alloc(void)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *best = NULL;
	swp_entry_t e = 0;

	for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
		struct swap_area *a = &swap_areas[i];
		if (a->active && !a->draining && a->nr_free && (!best || a->prio > best->prio))
			best = a;
	}
	if (best)
		e = alloc_in(best, (unsigned)(best - swap_areas));
	spin_unlock_irqrestore(&swap_lock, f);
	return e;
}

/* The slot of e is unused now: free it. swap_lock held. */
static void slot_release(struct swap_area *a, uint64_t off)
{
	if (a->map[off] == 0) {
		a->nr_free++;
		if (a->cache[off])
			pr_err("swap: slot %lu freed with a cached page\n", (unsigned long)off);
	}
}

/* One more PTE holds e; see swap.h. */
int swap_dup(swp_entry_t e)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);
	int err = -ENOMEM;

	if (a && (a->map[swp_offset(e)] & SWAP_COUNT_MASK) < SWAP_COUNT_MAX) {
		a->map[swp_offset(e)]++;
		err = 0;
	} else if (!a) {
		pr_err("swap: dup of bad entry %#lx\n", (unsigned long)e);
	}
	spin_unlock_irqrestore(&swap_lock, f);
	return err;
}

/* A PTE holding e is gone; see swap.h. A cached page that nobody maps and no PTE waits for
 * leaves the cache (it would only take memory). */
void swap_put(swp_entry_t e)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);
	struct page *pg = NULL;

	if (!a || !(a->map[swp_offset(e)] & SWAP_COUNT_MASK) ||
	    a->map[swp_offset(e)] == SWAP_MAP_BAD) {
		pr_err("swap: put of unused entry %#lx\n", (unsigned long)e);
	} else if (--a->map[swp_offset(e)] == SWAP_HAS_CACHE) {
		pg = a->cache[swp_offset(e)];
		if (pg && (pg->mapcount || !upage_tryget(pg)))
			pg = NULL;
	} else {
		slot_release(a, swp_offset(e));
	}
	spin_unlock_irqrestore(&swap_lock, f);
	if (pg) {
		swap_cache_remove(pg, 1, false);
		upage_put(pg);
	}
}

/* PTEs holding e; see swap.h. */
unsigned swap_count(swp_entry_t e)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);
	unsigned n = a ? a->map[swp_offset(e)] & SWAP_COUNT_MASK : 0;

	spin_unlock_irqrestore(&swap_lock, f);
	return n;
}

/* Page I/O on slot e; see swap.h. The device is fixed while a page of the area is cached or
 * a PTE holds its entry, which is the case for every caller. */
int swap_io(swp_entry_t e, pfn_t pfn, bool write)
{
	struct blk_device *dev = swap_areas[swp_type(e) % SWAP_MAX_AREAS].dev;

	if (!dev)
		return -EIO;
	return blk_rw(dev, write ? BLK_WRITE : BLK_READ, swp_offset(e) * BLK_SECTORS_PER_FRAME,
		      BLK_SECTORS_PER_FRAME, &pfn, 1);
}

/* ---- swapon / swapoff ---- */

/* The block device a swap path names: "/dev/NAME" is the block layer's NAME. The one place
 * that knows, so that device nodes can name it some other way later. -EINVAL for any other
 * path (MCRK swaps to whole devices only), -ENOENT when there is no such device. */
static int swap_device_lookup(const char *path, struct blk_device **out)
{
	if (strncmp(path, "/dev/", 5) != 0 || !path[5])
		return -EINVAL;
	*out = blk_get(path + 5);
	return *out ? 0 : -ENOENT;
}

/* Frames for n bytes, zeroed: the smallest block that holds them. */
static void *alloc_table(size_t bytes, struct page **frames, unsigned *order)
{
	unsigned o = 0;

	while ((PAGE_SIZE << o) < bytes)
		o++;
	*frames = o <= FRAME_MAX_ORDER ? frame_alloc(o, PG_KERNEL) : NULL;
	if (!*frames)
		return NULL;
	*order = o;
	memset(page_to_virt(*frames), 0, PAGE_SIZE << o);
	return page_to_virt(*frames);
}

/* Read and check d's header into *h; the reason goes to the log. */
static int read_header(const char *path, struct blk_device *d, struct swap_header_info *h)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	const char *why;
	pfn_t pfn;
	int err;

	if (!pg)
		return -ENOMEM;
	pfn = page_to_pfn(pg);
	err = blk_rw(d, BLK_READ, 0, BLK_SECTORS_PER_FRAME, &pfn, 1);
	if (!err) {
		err = swap_header_parse(page_to_virt(pg), d->sectors / BLK_SECTORS_PER_FRAME, h,
					&why);
		if (err)
			pr_err("swap: %s: %s\n", path, why);
	}
	frame_free(pg, 0);
	return err;
}

/* Fill area a (free) from header h; the tables come from the allocator. */
static int area_setup(struct swap_area *a, const char *path, struct blk_device *d,
		      const struct swap_header_info *h)
{
	uint64_t nslots = h->last_page + 1;

	if (nslots > SWAP_MAX_SLOTS) {
		pr_warn("swap: %s: using %u of its %lu pages\n", path, SWAP_MAX_SLOTS,
			(unsigned long)nslots);
		nslots = SWAP_MAX_SLOTS;
	}
	a->map = alloc_table(nslots * sizeof(*a->map), &a->map_frames, &a->map_order);
	a->cache = a->map
		       ? alloc_table(nslots * sizeof(*a->cache), &a->cache_frames, &a->cache_order)
		       : NULL;
	if (!a->cache) {
		if (a->map)
			frame_free(a->map_frames, a->map_order);
		return -ENOMEM;
	}
	a->map[0] = SWAP_MAP_BAD;
	a->nr_usable = nslots - 1;
	for (uint32_t i = 0; i < h->nr_badpages; i++)
		if (h->badpages[i] < nslots && a->map[h->badpages[i]] != SWAP_MAP_BAD) {
			a->map[h->badpages[i]] = SWAP_MAP_BAD;
			a->nr_usable--;
		}
	a->nr_free = a->nr_usable;
	a->nslots = nslots;
	a->cursor = 1;
	a->dev = d;
	strlcpy(a->path, path, sizeof(a->path));
	return 0;
}

static struct swap_area *area_by_dev(const struct blk_device *d)
{
	for (unsigned i = 0; i < SWAP_MAX_AREAS; i++)
		if (swap_areas[i].active && swap_areas[i].dev == d)
			return &swap_areas[i];
	return NULL;
}

/* Enable an area; the rest of swap_on with swapon_mutex held. */
static long swap_on_locked(const char *path, struct blk_device *d, int prio)
{
	struct swap_header_info *h = kmalloc(sizeof(*h));
	struct swap_area *a = NULL;
	long err;

	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < SWAP_MAX_AREAS && !a; i++)
		if (!swap_areas[i].active && !swap_areas[i].dev)
			a = &swap_areas[i];
	err = area_by_dev(d) ? -EBUSY : !a ? -EPERM : d->read_only ? -EROFS : 0;
	if (!err)
		err = read_header(path, d, h);
	if (!err)
		err = area_setup(a, path, d, h);
	kfree(h);
	if (err)
		return err;
	a->prio = prio;
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	a->active = true;
	spin_unlock_irqrestore(&swap_lock, f);
	__atomic_fetch_add(&nr_active, 1, __ATOMIC_RELEASE);
	pr_info("swap: adding %lu KiB on %s, priority %d\n",
		(unsigned long)(a->nr_usable * (PAGE_SIZE / 1024)), path, prio);
	return 0;
}

/* swapon; see swap.h. */
long swap_on(const char *path, unsigned flags)
{
	struct blk_device *d;
	long err;
	int prio;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (flags & ~SWAP_FLAGS_VALID)
		return -EINVAL;
	err = swap_device_lookup(path, &d);
	if (err)
		return err;
	mutex_lock(&swapon_mutex);
	prio = (flags & SWAP_FLAG_PREFER) ? (int)(flags & SWAP_FLAG_PRIO_MASK) : next_prio;
	err = swap_on_locked(path, d, prio);
	if (!err && !(flags & SWAP_FLAG_PREFER))
		next_prio--;
	mutex_unlock(&swapon_mutex);
	return err;
}

/* Drop a's cached pages (no PTE holds a slot any more) and free its tables. */
static void area_teardown(struct swap_area *a)
{
	for (uint64_t off = 1; off < a->nslots; off++) {
		struct page *pg;
		while ((pg = swap_cache_lookup(swp_entry((unsigned)(a - swap_areas), off)))) {
			bool gone = !(pg->flags & PG_SWAPIO) && swap_cache_remove(pg, 1, true);
			upage_put(pg);
			if (!gone)
				sleep_ns(100000); /* a write of it is ending */
		}
	}
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	a->active = false;
	a->draining = false;
	spin_unlock_irqrestore(&swap_lock, f);
	__atomic_fetch_sub(&nr_active, 1, __ATOMIC_RELEASE);
	frame_free(a->map_frames, a->map_order);
	frame_free(a->cache_frames, a->cache_order);
	pr_info("swap: %s off\n", a->path);
	memset(a, 0, sizeof(*a));
}

/* swapoff; see swap.h. */
long swap_off(const char *path)
{
	struct swap_area *a;
	struct blk_device *d;
	long err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = swap_device_lookup(path, &d);
	if (err)
		return err == -ENOENT ? -EINVAL : err;
	mutex_lock(&swapon_mutex);
	a = area_by_dev(d);
	err = a ? 0 : -EINVAL;
	if (a) {
		irqflags_t f = spin_lock_irqsave(&swap_lock);
		a->draining = true; /* no new slots from it */
		spin_unlock_irqrestore(&swap_lock, f);
		err = swap_unuse_area((unsigned)(a - swap_areas));
		if (err) {
			f = spin_lock_irqsave(&swap_lock);
			a->draining = false;
			spin_unlock_irqrestore(&swap_lock, f);
			pr_warn("swap: %s stays on: error %ld bringing its pages back\n", path,
				err);
		} else {
			area_teardown(a);
		}
	}
	mutex_unlock(&swapon_mutex);
	return err;
}

/* ---- /proc/swaps ---- */

static int gen_swaps(void *priv, char **out, size_t *len)
{
	enum { MAX = 256 * (SWAP_MAX_AREAS + 1) };
	char *b = kmalloc(MAX);
	size_t n;

	(void)priv;
	if (!b)
		return -ENOMEM;
	n = (size_t)ksnprintf(b, MAX, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	for (unsigned i = 0; i < SWAP_MAX_AREAS; i++) {
		const struct swap_area *a = &swap_areas[i];
		unsigned long kb = PAGE_SIZE / 1024, size = a->nr_usable * kb;
		unsigned long used = (a->nr_usable - a->nr_free) * kb;
		int pad = 40 - (int)strlen(a->path);
		if (!a->active)
			continue;
		n += (size_t)ksnprintf(b + n, MAX - n, "%s%*s%s\t%lu\t%s%lu\t%s%d\n", a->path,
				       pad > 0 ? pad : 1, " ", "partition", size,
				       size < 10000000 ? "\t" : "", used,
				       used < 10000000 ? "\t" : "", a->prio);
	}
	spin_unlock_irqrestore(&swap_lock, f);
	*out = b;
	*len = n;
	return 0;
}

static const struct vfs_node_ops swaps_ops = {.gen = gen_swaps};

/* Register /proc/swaps and start reclaim. Boot, process context. */
void swap_init(void)
{
	mutex_init(&swapon_mutex);
	vfs_register_node("/proc/swaps", &swaps_ops, NULL);
	swap_reclaim_init();
}

/* ---- syscalls: swapon(2) 167 and swapoff(2) 168, Linux x86-64 ---- */

static long user_path(const struct syscall_args *a, char *buf, size_t n)
{
	long len = arch_strncpy_from_user(buf, (const char *)a->arg[0], n);
	return len < 0 ? len : len == 0 ? -ENOENT : 0;
}

static long sys_swapon(const struct syscall_args *a)
{
	char path[sizeof(swap_areas[0].path)];
	long err = user_path(a, path, sizeof(path));
	return err ? err : swap_on(path, (unsigned)a->arg[1]);
}
SYSCALL_DEFINE(167, sys_swapon);

static long sys_swapoff(const struct syscall_args *a)
{
	char path[sizeof(swap_areas[0].path)];
	long err = user_path(a, path, sizeof(path));
	return err ? err : swap_off(path);
}
SYSCALL_DEFINE(168, sys_swapoff);
