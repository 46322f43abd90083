/* The pool of 2 MiB pages behind hugetlbfs and MAP_HUGETLB (include/hugetlb.h says what the
 * counters mean). A run is an order-9 block from the buddy allocator. In the pool it stays one
 * allocated block (PG_USER, PG_HUGETLB on every frame) on the free list; handed to a mapping
 * it becomes 512 single frames (frame_split_block), each counted and anchored on its own, and
 * a table indexed by pfn / 512 counts how many of them are still alive. When the last one is
 * freed the run is joined again and goes back on the free list, or to the buddy allocator if
 * the pool is over its size (surplus).
 *
 * A memory error takes a run out of the pool for good (hugetlb_mf_take): a free run goes back
 * to the buddy allocator at once, its poisoned frame kept out; a run in use is "lost": from then
 * on each of its frames goes back to the buddy allocator on its own as it is freed, so the 511
 * good frames serve as ordinary memory once the mappings that still use them are gone. Either
 * way HugePages_Total (and nr_hugepages, or the surplus first) drops by one and HugePages_Lost
 * rises by one. The pool is not refilled behind the administrator's back, as Linux's is not;
 * the one exception: a free run lost while every free run is reserved is replaced from the
 * buddy allocator when an order-9 block is free, so that a reserved fault still never fails.
 *
 * Locks: pool.lock, a leaf but for the zone lock (frame_join_block takes none; frees happen
 * after it is dropped). Process context; never #MC/NMI. */
#include "boot_info.h"
#include "ctl.h"
#include "hugetlb.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "vm_priv.h"

enum run_state { RUN_NONE, RUN_FREE, RUN_USED, RUN_LOST };

struct run {
	uint16_t live; /* RUN_USED: frames not freed yet */
	uint8_t state;
};

/* index of a frame that was freed while its run is in use (it waits for its siblings) */
#define DEAD_INDEX (~0ull)

static struct {
	spinlock_t lock;
	struct list_node free_list; /* heads of free runs (struct page.link) */
	uint64_t total, free, resv, surplus, lost;
} pool = {SPINLOCK_INIT, LIST_HEAD_INIT(pool.free_list), 0, 0, 0, 0, 0};

static struct run *runs; /* by pfn >> HUGETLB_RUN_ORDER */
static uint64_t nr_runs;
int sysctl_memory_failure_hugetlb_whole;

static struct run *run_of(pfn_t pfn)
{
	uint64_t i = pfn >> HUGETLB_RUN_ORDER;
	return runs && i < nr_runs ? &runs[i] : NULL;
}

static struct page *run_head(pfn_t pfn)
{
	return pfn_to_page(ALIGN_DOWN(pfn, HUGETLB_RUN_PAGES));
}

static void mark_run(struct page *head)
{
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		__atomic_fetch_or(&head[i].flags, PG_HUGETLB, __ATOMIC_ACQ_REL);
}

/* Runs the pool keeps for good: nr_hugepages. pool.lock held. */
static uint64_t persistent(void) { return pool.total - pool.surplus; }

/* Take one more run from the buddy allocator into the free list; false when none is free. */
static bool pool_grow_one(void)
{
	struct page *head = frame_alloc(HUGETLB_RUN_ORDER, PG_USER);
	struct run *r = head ? run_of(page_to_pfn(head)) : NULL;

	if (!r) {
		if (head)
			frame_free(head, HUGETLB_RUN_ORDER);
		return false;
	}
	mark_run(head);
	spin_lock(&pool.lock);
	r->state = RUN_FREE;
	list_add(&head->link, &pool.free_list);
	pool.total++;
	pool.free++;
	spin_unlock(&pool.lock);
	return true;
}

/* Take a free run off the list (the caller frees it). pool.lock held; NULL when none. */
static struct page *take_free_locked(void)
{
	struct page *head;

	if (list_empty(&pool.free_list))
		return NULL;
	head = list_first_entry(&pool.free_list, struct page, link);
	list_del(&head->link);
	pool.free--;
	return head;
}

/* Linux's set_max_huge_pages: make nr_hugepages count, as far as memory and the runs in use
 * or reserved allow; runs in use above the count become surplus. */
static void pool_set(uint64_t count)
{
	spin_lock(&pool.lock);
	while (pool.surplus && persistent() < count)
		pool.surplus--;
	while (persistent() < count) {
		spin_unlock(&pool.lock);
		bool grew = pool_grow_one();
		spin_lock(&pool.lock);
		if (!grew)
			break;
	}
	uint64_t min = MAX(count, pool.resv + pool.total - pool.free);
	while (persistent() > min && pool.free > pool.resv) {
		struct page *head = take_free_locked();
		run_of(page_to_pfn(head))->state = RUN_NONE;
		pool.total--;
		spin_unlock(&pool.lock);
		frame_free(head, HUGETLB_RUN_ORDER);
		spin_lock(&pool.lock);
	}
	while (persistent() > count)
		pool.surplus++;
	spin_unlock(&pool.lock);
}

/* Reserve n runs for a mapping; see vm_priv.h. */
int hugetlb_reserve(uint64_t n)
{
	int err = 0;

	spin_lock(&pool.lock);
	if (pool.free - pool.resv < n)
		err = -ENOMEM;
	else
		pool.resv += n;
	spin_unlock(&pool.lock);
	return err;
}

/* Give back n reservations never used; see vm_priv.h. */
void hugetlb_unreserve(uint64_t n)
{
	spin_lock(&pool.lock);
	pool.resv -= MIN(n, pool.resv);
	spin_unlock(&pool.lock);
}

/* A run for a mapping, as 512 single frames with refcount 1; see vm_priv.h. */
struct page *hugetlb_run_alloc(bool reserved)
{
	struct page *head = NULL;

	spin_lock(&pool.lock);
	if (reserved || pool.free > pool.resv)
		head = take_free_locked();
	if (head) {
		struct run *r = run_of(page_to_pfn(head));
		if (reserved)
			pool.resv--;
		r->state = RUN_USED;
		r->live = HUGETLB_RUN_PAGES;
	}
	spin_unlock(&pool.lock);
	if (!head)
		return NULL;
	frame_split_block(head, HUGETLB_RUN_ORDER);
	mark_run(head);
	head->pmd_maps = 0;
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		head[i].index = 0;
	return head;
}

/* Whether the run holding pg is still a whole pool run (not lost to a memory error). */
bool hugetlb_run_intact(const struct page *pg)
{
	struct run *r = run_of(page_to_pfn(pg));
	return r && __atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == RUN_USED;
}

/* The last reference to a frame of a run went (its rmap anchor dropped); see vm_priv.h. */
void hugetlb_frame_free(struct page *pg)
{
	pfn_t pfn = page_to_pfn(pg);
	struct run *r = run_of(pfn);
	struct page *head = run_head(pfn);

	spin_lock(&pool.lock);
	if (!r || r->state != RUN_USED) {
		spin_unlock(&pool.lock);
		frame_free(pg, 0); /* a lost run's frame goes alone; a poisoned one stays out */
		return;
	}
	pg->index = DEAD_INDEX;
	if (--r->live) {
		spin_unlock(&pool.lock);
		return;
	}
	frame_join_block(head, HUGETLB_RUN_ORDER);
	head->refcount = 1;
	if (pool.surplus) {
		pool.surplus--;
		pool.total--;
		r->state = RUN_NONE;
		spin_unlock(&pool.lock);
		frame_free(head, HUGETLB_RUN_ORDER);
		return;
	}
	mark_run(head);
	r->state = RUN_FREE;
	list_add(&head->link, &pool.free_list);
	pool.free++;
	spin_unlock(&pool.lock);
}

/* The run in use that holds pfn leaves the pool: lost. pool.lock held. Frames already freed
 * (waiting for their siblings) go back to the buddy allocator now: their bits in *dead. */
static void lose_used_locked(struct run *r, struct page *head, uint64_t *dead)
{
	r->state = RUN_LOST;
	if (pool.surplus)
		pool.surplus--;
	pool.total--;
	pool.lost++;
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		if (head[i].index == DEAD_INDEX && !head[i].refcount)
			dead[i / 64] |= 1ull << (i % 64);
}

/* A memory error in pfn; see vm_priv.h. */
int hugetlb_mf_take(pfn_t pfn)
{
	struct run *r = run_of(pfn);
	struct page *head = run_head(pfn);
	uint64_t dead[HUGETLB_RUN_PAGES / 64] = {0};
	int ret = -ENOENT;
	bool short_of_free = false;

	spin_lock(&pool.lock);
	if (r && r->state == RUN_FREE) {
		list_del(&head->link);
		pool.free--;
		pool.total--;
		pool.lost++;
		r->state = RUN_NONE;
		short_of_free = pool.free < pool.resv;
		ret = 0;
	} else if (r && r->state == RUN_USED) {
		lose_used_locked(r, head, dead);
		ret = 1;
	} else if (r && r->state == RUN_LOST) {
		ret = 2;
	}
	spin_unlock(&pool.lock);
	if (ret == 0) {
		frame_free(head, HUGETLB_RUN_ORDER); /* the good frames to the buddy allocator */
		if (short_of_free && !pool_grow_one())
			pr_warn("hugetlb: a reserved huge page was lost and none can replace it\n");
	}
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		if (dead[i / 64] & (1ull << (i % 64)))
			frame_free(&head[i], 0);
	return ret;
}

/* ---- counters and control files ---- */

void hugetlb_get_stats(struct hugetlb_stats *out)
{
	spin_lock(&pool.lock);
	*out = (struct hugetlb_stats){pool.total, pool.free, pool.resv, pool.surplus, pool.lost};
	spin_unlock(&pool.lock);
}

bool hugetlb_size_supported(unsigned shift)
{
	return shift == HUGETLB_SHIFT && arch_pt_huge_supported();
}

enum { SHOW_NR, SHOW_FREE, SHOW_RESV, SHOW_SURPLUS };

static int show_count(const struct ctl_file *f, struct ctl_buf *b)
{
	struct hugetlb_stats s;
	uint64_t v[] = {0, 0, 0, 0};

	hugetlb_get_stats(&s);
	v[SHOW_NR] = s.total - s.surplus;
	v[SHOW_FREE] = s.free;
	v[SHOW_RESV] = s.resv;
	v[SHOW_SURPLUS] = s.surplus;
	ctl_printf(b, "%lu\n", v[f->unit]);
	return 0;
}

static long store_nr(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_u64(buf, n, 10, &v);

	(void)f;
	if (err)
		return err;
	pool_set(MIN(v, nr_runs));
	return (long)n;
}

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static const struct ctl_file hugetlb_files[] = {
    {"/proc/sys/vm/nr_hugepages", show_count, store_nr, NULL, SHOW_NR, 0},
    {HP_DIR "nr_hugepages", show_count, store_nr, NULL, SHOW_NR, 0},
    {HP_DIR "free_hugepages", show_count, NULL, NULL, SHOW_FREE, 0},
    {HP_DIR "resv_hugepages", show_count, NULL, NULL, SHOW_RESV, 0},
    {HP_DIR "surplus_hugepages", show_count, NULL, NULL, SHOW_SURPLUS, 0},
    {"/proc/sys/vm/memory_failure_hugetlb_whole", ctl_show_int, ctl_store_int,
     &sysctl_memory_failure_hugetlb_whole, 0, 1},
};

/* hugepagesz= names the size hugepages= fills; 2M is the one there is. */
static bool boot_size_ok(void)
{
	char w[16];

	if (!cmdline_get(boot_info.cmdline, "hugepagesz", w, sizeof(w)))
		return true;
	if (!strcmp(w, "2M") || !strcmp(w, "2m") || !strcmp(w, "2097152"))
		return true;
	pr_warn("HugeTLB: unsupported hugepagesz=%s\n", w);
	return false;
}

void hugetlb_init(void)
{
	char w[24];
	uint64_t n;

	nr_runs = (frame_max_pfn() >> HUGETLB_RUN_ORDER) + 1;
	runs = kzalloc(nr_runs * sizeof(*runs));
	if (!runs) {
		nr_runs = 0;
		pr_err("hugetlb: no memory for the run table: no huge pages\n");
	}
	if (runs && boot_size_ok() && cmdline_get(boot_info.cmdline, "hugepages", w, sizeof(w)) &&
	    !kstrtou64(w, 10, &n)) {
		pool_set(MIN(n, nr_runs));
		if (persistent() < n)
			pr_warn("HugeTLB: allocating %lu of page size 2.00 MiB failed.  Only allocated "
				"%lu hugepages.\n", n, persistent());
	}
	ctl_register(hugetlb_files, ARRAY_SIZE(hugetlb_files), "hugetlb");
}
