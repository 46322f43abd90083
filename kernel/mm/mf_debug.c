/* What memory_failure would meet at each frame, for people and for the injection campaign
 * (docs/campaign.md), which picks its targets by state through these debugfs files:
 *
 *   /sys/kernel/debug/mcrk/frame_state        one byte per pfn (read at offset pfn): the row
 *       of memory_failure's state table (mf_states) the frame would be handled by now, or
 *       FRAME_STATE_ISOLATED for a frame out of use for good; bit 7 set when it is poisoned.
 *   /sys/kernel/debug/mcrk/frame_state_names  "INDEX NAME" per row, the same names the
 *       outcome lines of memory_failure print ("anonymous user", "kernel heap", ...).
 *   /sys/kernel/debug/mcrk/frame_info         one struct frame_info_rec per pfn (at offset
 *       pfn * 24): flags, state, mapcount, refcount and which tasks map it.
 *
 * A new state in mf_states is a new row here without any change to this file. Reads are
 * snapshots of a moving system: a frame may change state right after. */
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "mf_priv.h"
#include "printk.h"
#include "rmap.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define FRAME_STATE_POISONED 0x80
#define FRAME_STATE_ISOLATED 0x7f /* not a row of mf_states: out of the allocator for good */
#define INFO_MAX_MMS 64		  /* mappers looked at per frame; the rest are not named */
#define INFO_MAX_PROCS 8	  /* processes looked at per address space */

/* One record of frame_info (little-endian, 24 bytes; the layout is part of the interface). */
struct frame_info_rec {
	uint32_t flags;	   /* PG_* bits (include/frame.h) */
	uint8_t state;	   /* as frame_state */
	uint8_t order;	   /* buddy order of a free head or an allocated head */
	uint16_t nr_tasks; /* tasks whose address space maps it */
	int32_t mapcount;
	int32_t refcount;
	uint32_t min_pid; /* lowest and highest pid among them; 0 when none */
	uint32_t max_pid;
};
_Static_assert(sizeof(struct frame_info_rec) == 24, "frame_info record layout");

static uint8_t state_byte(const struct page *pg)
{
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	uint8_t s = (f & PG_ISOLATED) ? FRAME_STATE_ISOLATED : (uint8_t)mf_state_index(pg);
	return s | ((f & PG_HWPOISON) ? FRAME_STATE_POISONED : 0);
}

static long read_states(void *priv, void *buf, size_t n, uint64_t off)
{
	(void)priv;
	uint8_t *out = buf;
	size_t i = 0;
	for (; i < n && off + i < frame_max_pfn(); i++)
		out[i] = state_byte(pfn_to_page(off + i));
	return (long)i;
}

static int gen_state_names(void *priv, char **out, size_t *len)
{
	(void)priv;
	enum { NAMES_MAX = 2048 };
	char *b = kmalloc(NAMES_MAX);
	size_t n = 0;
	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < mf_state_count() && n < NAMES_MAX; i++)
		n += (size_t)ksnprintf(b + n, NAMES_MAX - n, "%u %s\n", i, mf_state_name_at(i));
	if (n < NAMES_MAX)
		n += (size_t)ksnprintf(b + n, NAMES_MAX - n, "%u isolated\n", FRAME_STATE_ISOLATED);
	*out = b;
	*len = MIN(n, (size_t)NAMES_MAX - 1);
	return 0;
}

struct mm_set {
	struct mm *mm[INFO_MAX_MMS]; /* each referenced with mm_tryget */
	unsigned n;
};

static int add_mm(struct mm *mm, vaddr_t va, void *arg)
{
	(void)va;
	struct mm_set *s = arg;
	for (unsigned i = 0; i < s->n; i++)
		if (s->mm[i] == mm)
			return 0;
	if (s->n < INFO_MAX_MMS && mm_tryget(mm))
		s->mm[s->n++] = mm;
	return 0;
}

/* The processes mapping pg: count, lowest and highest pid (tgid). The rmap lock is not held while the
 * owners are looked up (collect, then act, as memory_failure does). */
static void fill_tasks(struct page *pg, struct frame_info_rec *r)
{
	struct mm_set s = {.n = 0};
	rmap_walk(pg, add_mm, &s);
	for (unsigned i = 0; i < s.n; i++) {
		struct task *v[INFO_MAX_PROCS];
		unsigned n = task_mm_pick(s.mm[i], mf_pick_any, NULL, v, INFO_MAX_PROCS);
		for (unsigned k = 0; k < n; k++) {
			uint32_t pid = (uint32_t)v[k]->group->tgid;
			r->min_pid = r->nr_tasks && r->min_pid < pid ? r->min_pid : pid;
			r->max_pid = MAX(r->max_pid, pid);
			r->nr_tasks++;
			task_put(v[k]);
		}
		mm_put(s.mm[i]);
	}
}

static void fill_info(pfn_t pfn, struct frame_info_rec *r)
{
	struct page *pg = pfn_to_page(pfn);
	memset(r, 0, sizeof(*r));
	r->flags = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	r->state = state_byte(pg);
	r->order = pg->order;
	r->refcount = READ_ONCE(pg->refcount);
	if ((r->flags & PG_USER) && !(r->flags & PG_TAIL)) { /* only user frames use the rmap */
		r->mapcount = rmap_count(pg);
		fill_tasks(pg, r);
	}
}

/* Record of pfn at offset pfn * 24. Any range may be read; a read of one whole record is one
 * consistent snapshot of that frame. */
static long read_info(void *priv, void *buf, size_t n, uint64_t off)
{
	(void)priv;
	const uint64_t rec = sizeof(struct frame_info_rec), end = frame_max_pfn() * rec;
	size_t done = 0;
	while (done < n && off + done < end) {
		uint64_t at = off + done, skip = at % rec;
		size_t k = (size_t)MIN(rec - skip, (uint64_t)(n - done));
		struct frame_info_rec r;
		fill_info(at / rec, &r);
		memcpy((char *)buf + done, (char *)&r + skip, k);
		done += k;
	}
	return (long)done;
}

static const struct vfs_node_ops state_ops = {.read = read_states};
static const struct vfs_node_ops names_ops = {.gen = gen_state_names};
static const struct vfs_node_ops info_ops = {.read = read_info};

void mf_debug_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	vfs_register_node("/sys/kernel/debug/mcrk/frame_state", &state_ops, NULL);
	vfs_register_node("/sys/kernel/debug/mcrk/frame_state_names", &names_ops, NULL);
	vfs_register_node("/sys/kernel/debug/mcrk/frame_info", &info_ops, NULL);
}
