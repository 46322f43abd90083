/* memory_failure: a frame has gone bad. Declare it poisoned (PG_HWPOISON, set atomically first
 * so a racing allocation or fault never hands it out), keep it out of the allocator for good,
 * and tell every task that maps it. What happens depends on what the frame holds, through a
 * table from frame state to handler (mf_states below). For a user frame the tasks to signal
 * are collected through the rmap first, then every mapping is replaced by a poison marker,
 * then the signals go out: early kill (BUS_MCEERR_AO now) for tasks that asked for it, late
 * kill (BUS_MCEERR_AR when they touch the marker) for the rest, and BUS_MCEERR_AR at once
 * for the task that consumed the poison (action required).
 * Each event is traced in a few lines with nanoseconds since detection, one for all its
 * mappings however many (mf_trace.c; mf.trace=0 on the command line keeps only the outcome).
 * Also here: the hooks of a task's life (mf_task_*, mf_poison_touched), the poison
 * emulator's traps and madvise. Soft offline and unpoison are in mf_soft.c, the deferred queue
 * in mf_queue.c, the control files in hwpoison_ctl.c. Context: process (the deferred work item, a task's return to user mode,
 * madvise, debugfs writes). Never #MC, except mf_task_notify which only records. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "boot_info.h"
#include "frame.h"
#include "hugetlb.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "memory_failure.h"
#include "mf_priv.h"
#include "pagecache.h"
#include "panic.h"
#include "printk.h"
#include "rmap.h"
#include "sig.h"
#include "task.h"
#include "vm.h"
#include "vm_priv.h"

#define MF_LSB PAGE_SHIFT /* the error granularity MCRK recovers: one 4 KiB frame */
_Static_assert(MF_COMM_LEN <= TASK_NAME_LEN, "a task name fits");

int sysctl_memory_failure_recovery = 1;
int sysctl_memory_failure_early_kill = 0;
static bool fake_panic;		  /* testing: report the recovery=0 panic, carry on */
static struct mf_stats mf_stats;

#define MF_COUNT(f) __atomic_fetch_add(&mf_stats.f, 1, __ATOMIC_RELAXED)

void mf_get_stats(struct mf_stats *out) { *out = mf_stats; }
void mf_set_fake_panic(bool on) { __atomic_store_n(&fake_panic, on, __ATOMIC_RELAXED); }

void mf_count_queued(void) { MF_COUNT(queued); }

void mf_count_overflow(pfn_t pfn)
{
	__atomic_store_n(&mf_stats.queue_lost_pfn, pfn, __ATOMIC_RELAXED);
	MF_COUNT(queue_overflows);
}

/* ---- trace (mf_trace.c) ---- */

#define trace(ev, ...) mf_trace_line(ev, false, __VA_ARGS__)
#define trace_outcome(ev, ...) mf_trace_line(ev, true, __VA_ARGS__)

static const char *const result_names[] = {"ignored", "failed", "delayed", "recovered"};

/* A frame recovered (or delayed) from a hardware error leaves the kernel's direct map, as
 * Linux's machine-check code calls set_mce_nospec when memory_failure returned 0: nothing may
 * reach its poisoned lines again, speculatively or not. Software poison stays mapped (Linux
 * too), as unpoison may bring such a frame back. */
static void leave_direct_map(const struct mf_event *ev)
{
	int err = arch_direct_map_remove(ev->pfn);

	if (err)
		pr_warn("memory_failure: pfn %#lx: could not unmap it from the direct map (%d)\n",
			ev->pfn, err);
}

int mf_finish(struct mf_event *ev, enum mf_result r, const char *why)
{
	if ((r == MF_RECOVERED || r == MF_DELAYED) && !(ev->flags & MF_SOFTWARE))
		leave_direct_map(ev);
	trace_outcome(ev, "%s page: %s (%s)", ev->state, result_names[r], why);
	switch (r) {
	case MF_RECOVERED: MF_COUNT(recovered); return 0;
	case MF_DELAYED: MF_COUNT(delayed); return 0;
	case MF_IGNORED: MF_COUNT(ignored); return -EBUSY;
	case MF_FAILED: MF_COUNT(failed); return -EFAULT;
	}
	return -EFAULT;
}

/* ---- user frames: collect, unmap, signal ---- */

#define MF_INLINE_MAPPERS 8 /* held on the stack; more go to a kmalloc'd array */

struct collect {
	struct mf_mapper *v;
	unsigned n, cap;
	unsigned dying; /* mappings the last walk met in address spaces already exiting */
	bool oom;
	struct mf_mapper inline_v[MF_INLINE_MAPPERS];
};

static void collect_init(struct collect *c)
{
	c->v = c->inline_v;
	c->n = 0;
	c->cap = MF_INLINE_MAPPERS;
	c->dying = 0;
	c->oom = false;
}

static void collect_done(struct collect *c)
{
	for (unsigned i = 0; i < c->n; i++)
		mm_put(c->v[i].mm);
	if (c->v != c->inline_v)
		kfree(c->v);
}

/* Room for at least want mappings in c; false when out of memory. */
static bool collect_room(struct collect *c, unsigned want)
{
	if (want <= c->cap)
		return true;
	struct mf_mapper *v = kmalloc(want * sizeof(*v));
	if (!v)
		return false;
	memcpy(v, c->v, c->n * sizeof(*v));
	if (c->v != c->inline_v)
		kfree(c->v);
	c->v = v;
	c->cap = want;
	return true;
}

static int collect_one(struct mm *mm, vaddr_t va, void *arg)
{
	struct collect *c = arg;
	if (c->n == c->cap && !collect_room(c, 2 * c->cap)) {
		c->oom = true;
		return 1;
	}
	if (mm_tryget(mm))
		c->v[c->n++] = (struct mf_mapper){.mm = mm, .va = va};
	else
		c->dying++; /* its exit tears the mapping down; its tasks are past telling */
	return 0;
}

/* ---- who hears of it: Linux 6.1's task_early_kill and find_early_kill_thread ----
 * For each process with a thread in an address space that maps the frame, one thread is told
 * (docs/memory_failure.md): the consumer of action-required poison, in its own process; else
 * the first thread (main thread first, then in creation order) that set PR_MCE_KILL_EARLY or,
 * having no policy of its own, finds vm.memory_failure_early_kill set; else nobody now (late
 * kill: whichever thread touches the page gets BUS_MCEERR_AR then). */

#define MF_PROCESSES_MAX 32 /* processes sharing one address space that memory_failure tells */

struct kill_pick {
	struct task *consumer; /* the current thread for MF_ACTION_REQUIRED, else NULL */
};

/* find_early_kill_thread. Exited threads are skipped (Linux looks at the main thread's mm
 * first and so tells nobody once the main thread has exited; MCRK picks among the live). */
static struct task *early_kill_thread(struct thread_group *g)
{
	for (struct task *t = task_next_thread(g, NULL); t; t = task_next_thread(g, t)) {
		if (t->exiting || !t->mm)
			continue;
		if (t->mf_kill != MF_KILL_DEFAULT) {
			if (t->mf_kill == MF_KILL_EARLY)
				return t;
		} else if (sysctl_memory_failure_early_kill) {
			return t;
		}
	}
	return NULL;
}

/* task_early_kill: the consumer in its own process, else the early-kill thread. */
static struct task *pick_for_kill(struct thread_group *g, void *arg)
{
	const struct kill_pick *k = arg;
	if (k->consumer && k->consumer->group == g)
		return k->consumer;
	return early_kill_thread(g);
}

/* Any live thread of g; see mf_priv.h. */
struct task *mf_pick_any(struct thread_group *g, void *arg)
{
	(void)arg;
	for (struct task *t = task_next_thread(g, NULL); t; t = task_next_thread(g, t))
		if (!t->exiting && t->mm)
			return t;
	return NULL;
}

/* Note in m who runs in m->mm: the first of the n tasks in v that will be told; with none,
 * any live thread (the mapping then waits for a late kill) or nobody (its tasks exit). */
static void note_mapper(struct mf_mapper *m, struct task *const *v, unsigned n)
{
	struct task *any = NULL;
	const struct task *who = n ? v[0] : NULL;
	if (!who && task_mm_pick(m->mm, mf_pick_any, NULL, &any, 1))
		who = any;
	if (!who) {
		m->fate = MF_FATE_EXITING;
		return;
	}
	m->pid = who->pid;
	strlcpy(m->comm, who->name, sizeof(m->comm));
	if (any) {
		m->fate = MF_FATE_LATE;
		task_put(any);
	}
}

/* The threads chosen in the processes running in one address space, told of one page. */
struct hwpoison_tell {
	struct task *const *v;
	unsigned n;
	struct task *consumer; /* gets BUS_MCEERR_AR; the others BUS_MCEERR_AO */
	vaddr_t va;	       /* si_addr */
	unsigned lsb;	       /* si_addr_lsb */
};

/* vm_poison_tell's tell: the signals themselves (with the address space's lock held). */
static void send_hwpoison(void *arg)
{
	const struct hwpoison_tell *h = arg;
	for (unsigned i = 0; i < h->n; i++) {
		bool ar = h->v[i] == h->consumer;
		sig_send_hwpoison(h->v[i], ar ? BUS_MCEERR_AR : BUS_MCEERR_AO, h->va, h->lsb);
		if (ar)
			MF_COUNT(signalled_ar);
		else
			MF_COUNT(signalled_ao);
	}
}

/* Signal the chosen thread of each process running in m->mm about the lost page at m->va,
 * and note in m what it was told. Once per page: a task that met the page between the
 * unmapping and now was told by that touch (BUS_MCEERR_AR), or has dropped the page since;
 * the consumer of action-required poison is answered in any case. */
void mf_signal_mapper(struct mf_event *ev, struct mf_mapper *m, struct task *consumer,
		      vaddr_t addr, unsigned lsb)
{
	struct kill_pick k = {(ev->flags & MF_ACTION_REQUIRED) ? consumer : NULL};
	struct task *v[MF_PROCESSES_MAX];
	unsigned n = task_mm_pick(m->mm, pick_for_kill, &k, v, MF_PROCESSES_MAX);
	bool ar = false;
	note_mapper(m, v, n);
	for (unsigned i = 0; i < n; i++)
		ar |= v[i] == k.consumer;
	if (n) {
		struct hwpoison_tell h = {v, n, k.consumer, addr, lsb};
		bool untold = vm_poison_tell(m->mm, m->va, ev->pfn, ar, send_hwpoison, &h);
		m->fate = ar ? MF_FATE_AR : untold ? MF_FATE_AO : MF_FATE_TOLD;
	}
	for (unsigned i = 0; i < n; i++)
		task_put(v[i]);
}

/* Tell now, without a marker, the threads the kill policy picks in m->mm (swap cache: the PTE
 * keeps its swap entry, and a later touch meets the poisoned cached page); see mf_priv.h. */
void mf_tell_mapper(struct mf_event *ev, struct mf_mapper *m)
{
	struct kill_pick k = {(ev->flags & MF_ACTION_REQUIRED) ? current_task() : NULL};
	struct task *v[MF_PROCESSES_MAX];
	unsigned n = task_mm_pick(m->mm, pick_for_kill, &k, v, MF_PROCESSES_MAX);
	struct hwpoison_tell h = {v, n, k.consumer, m->va, PAGE_SHIFT};
	note_mapper(m, v, n);
	send_hwpoison(&h);
	for (unsigned i = 0; i < n; i++) {
		m->fate = v[i] == k.consumer || m->fate == MF_FATE_AR ? MF_FATE_AR : MF_FATE_AO;
		task_put(v[i]);
	}
}

static void kill_mapper(struct mf_event *ev, struct mf_mapper *m, int err)
{
	struct task *v[MF_PROCESSES_MAX];
	unsigned n = task_mm_pick(m->mm, mf_pick_any, NULL, v, MF_PROCESSES_MAX);
	m->fate = MF_FATE_KILLED;
	if (n) {
		m->pid = v[0]->pid;
		strlcpy(m->comm, v[0]->name, sizeof(m->comm));
	}
	for (unsigned i = 0; i < n; i++) {
		trace_outcome(ev, "task %d: cannot unmap %#lx (%d): SIGKILL", v[i]->pid, m->va, err);
		sig_force(v[i], &(struct ksiginfo){.si_signo = SIGKILL});
		MF_COUNT(killed);
		task_put(v[i]);
	}
}

/* The one rmap loop: collect every (address space, address) that maps pg through the rmap,
 * then act on the new ones with no rmap lock held (acting may unmap, which changes the rmap).
 * A fork racing with the walk can add a mapping: walk again until none is left, at most
 * MF_WALK_ROUNDS times; c gathers the mappings of every round. A mapping in an address space
 * already exiting (mm_tryget fails) is left to that exit, which tears it down soon (Linux's
 * try_to_unmap clears such a PTE itself; its task is not told either way). Returns how many
 * were acted on, or -EBUSY when some others remain. The caller holds a reference on pg. */
#define MF_WALK_ROUNDS 8

typedef void (*batch_fn)(struct collect *c, unsigned from, void *arg);

/* One round: collect pg's mappers into c, after those of earlier rounds, and act on the new. */
static void collect_round(struct page *pg, struct collect *c, batch_fn act, void *arg)
{
	unsigned from = c->n;
	c->oom = false;
	c->dying = 0;
	collect_room(c, c->n + (unsigned)rmap_count(pg) + 4); /* grown once, not per walk */
	rmap_walk(pg, collect_one, c); /* on OOM the caller's loop comes back for the rest */
	act(c, from, arg);
}

static int collect_then_act(struct page *pg, struct collect *c, batch_fn act, void *arg)
{
	unsigned rounds = 0;
	while (rmap_count(pg) > (int)c->dying && rounds++ < MF_WALK_ROUNDS)
		collect_round(pg, c, act, arg);
	return rmap_count(pg) > (int)c->dying ? -EBUSY : (int)c->n;
}

struct unmap_args {
	struct mf_event *ev;
	struct task *consumer; /* the current task for MF_ACTION_REQUIRED, else NULL */
	bool drop_clean;       /* clean file page: clear the PTEs instead of marking them */
};

/* The mappings c->v[from..]: replace each by a poison marker (or clear it), then signal. */
static void unmap_batch(struct collect *c, unsigned from, void *arg)
{
	const struct unmap_args *a = arg;
	struct mf_event *ev = a->ev;
	mf_step(ev); /* the walk's time: the outcome line's steps give a profile */
	if (c->oom)
		trace(ev, "out of memory collecting mappers");
	for (unsigned i = from; i < c->n; i++) {
		struct mf_mapper *m = &c->v[i];
		int err = a->drop_clean ? vm_unmap_page(m->mm, m->va, ev->pfn)
					: vm_set_poison(m->mm, m->va, ev->pfn);
		m->fate = err == -ENOENT ? MF_FATE_GONE : a->drop_clean ? MF_FATE_CLEARED : 0;
		if (err && err != -ENOENT)
			kill_mapper(ev, m, err);
	}
	mf_step(ev); /* the unmapping's */
	for (unsigned i = from; i < c->n && !a->drop_clean; i++)
		if (c->v[i].fate == 0)
			mf_signal_mapper(ev, &c->v[i], a->consumer, c->v[i].va, MF_LSB);
}

/* Unmap pfn from every address space, marking each PTE (poison) or clearing it (clean file
 * page), then signal; c keeps every mapping and what became of it, for the trace. */
static int unmap_and_signal(struct mf_event *ev, struct page *pg, bool drop_clean,
			    struct collect *c)
{
	struct unmap_args a = {ev, (ev->flags & MF_ACTION_REQUIRED) ? current_task() : NULL,
			       drop_clean};
	int n = collect_then_act(pg, c, unmap_batch, &a);
	ev->mappers = c->v;
	ev->nmappers = c->n;
	mf_trace_mappers(ev, drop_clean ? "PTEs cleared"
					: "unmapped, poison markers left in the PTEs");
	return n;
}

/* ---- handlers by frame state ---- */

static int mf_free(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	int err = frame_isolate_free(ev->pfn);
	if (err == 0)
		return mf_finish(ev, MF_RECOVERED, "taken out of the free lists for good");
	return err; /* -EBUSY: allocated meanwhile; the caller looks again */
}

int mf_user(struct mf_event *ev, struct page *pg)
{
	uint32_t fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	bool clean_file = (fl & (PG_FILE | PG_DIRTY)) == PG_FILE;
	struct collect c;
	int r;
	if (!upage_tryget(pg)) /* its last reference went meanwhile: freed into quarantine */
		return mf_finish(ev, MF_RECOVERED, "unmapped; the frame never returns to the allocator");
	/* A clean page leaves its page cache first, so that a fault racing with the unmapping
	 * reads the bytes again into a new frame instead of mapping this one. */
	if (clean_file && pagecache_drop_clean(pg) == -EBUSY)
		clean_file = false; /* written meanwhile: now it is the only copy */
	collect_init(&c);
	int n = unmap_and_signal(ev, pg, clean_file, &c);
	/* A dirty page of a file on a disk leaves its cache with EIO recorded for fsync, as
	 * Linux's me_pagecache_dirty; the next access reads what the disk holds. */
	bool lost = !clean_file && (fl & PG_FILE) && n >= 0 && pagecache_drop_lost(pg) == 0;
	bool held = READ_ONCE(pg->refcount) > 1; /* by someone but us: a user copy in flight */
	bool cached = (fl & PG_FILE) && READ_ONCE(pg->mapping); /* a dirty page stays, as shmem */
	upage_put(pg);
	if (n < 0)
		r = mf_finish(ev, MF_FAILED, "mappings keep coming back");
	else if (clean_file)
		r = mf_finish(ev, MF_RECOVERED, "clean file page dropped, re-read on next touch");
	else if (lost)
		r = mf_finish(ev, MF_RECOVERED, "dirty file page dropped from its page cache: its data "
					     "is lost, fsync reports EIO once per open file, reads "
					     "give what the disk holds");
	else if (cached)
		r = mf_finish(ev, MF_RECOVERED, "dirty file page kept in its page cache, poisoned: its "
					     "reads and writes give EIO until it is truncated away");
	else if (held)
		r = mf_finish(ev, MF_DELAYED, "still referenced; freed into quarantine later");
	else
		r = mf_finish(ev, MF_RECOVERED, "unmapped; the frame never returns to the allocator");
	collect_done(&c);
	return r;
}

static int mf_pgtable(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return mf_finish(ev, MF_FAILED, "user page-table frame: kept poisoned, reused never; the "
				     "space that owns it is at risk until it exits");
}

static int mf_kernel(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return mf_finish(ev, MF_FAILED, "kernel memory: kept poisoned and never reused; consuming it "
				     "in the kernel panics");
}

static int mf_reserved(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return mf_finish(ev, MF_IGNORED, "reserved frame (firmware, kernel image or boot data): "
				      "not managed by the allocator");
}

/* The state table: the first row whose flags match handles the frame. */
static const struct mf_state {
	uint32_t mask, value;
	const char *name;
	int (*handler)(struct mf_event *ev, struct page *pg);
} mf_states[] = {
	{PG_RESERVED, PG_RESERVED, "reserved", mf_reserved},
	{PG_BUDDY | PG_PCP, PG_BUDDY, "free", mf_free},
	{PG_BUDDY | PG_PCP, PG_PCP, "free (per-CPU cache)", mf_free},
	{PG_HUGETLB, PG_HUGETLB, "hugetlb", mf_hugetlb},
	{PG_USER | PG_FILE | PG_DIRTY, PG_USER | PG_FILE, "clean file", mf_user},
	{PG_USER | PG_FILE, PG_USER | PG_FILE, "dirty file", mf_user},
	{PG_USER | PG_SWAPCACHE | PG_DIRTY, PG_USER | PG_SWAPCACHE | PG_DIRTY, "dirty swapcache",
	 mf_swapcache},
	{PG_USER | PG_SWAPCACHE, PG_USER | PG_SWAPCACHE, "clean swapcache", mf_swapcache},
	{PG_USER, PG_USER, "anonymous user", mf_user},
	{PG_PGTABLE, PG_PGTABLE, "page-table", mf_pgtable},
	{PG_SLAB, PG_SLAB, "kernel heap", mf_kernel},
	{PG_KSTACK, PG_KSTACK, "kernel stack", mf_kernel},
	{PG_KERNEL, PG_KERNEL, "kernel", mf_kernel},
	{0, 0, "free (inside a buddy block)", mf_free}, /* catch-all: a non-head free frame */
};

static const struct mf_state *classify(const struct page *pg)
{
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < ARRAY_SIZE(mf_states); i++)
		if ((f & mf_states[i].mask) == mf_states[i].value)
			return &mf_states[i];
	return &mf_states[ARRAY_SIZE(mf_states) - 1];
}

unsigned mf_state_index(const struct page *pg)
{
	return (unsigned)(classify(pg) - mf_states);
}

unsigned mf_state_count(void)
{
	return ARRAY_SIZE(mf_states);
}

const char *mf_state_name_at(unsigned i)
{
	return i < ARRAY_SIZE(mf_states) ? mf_states[i].name : NULL;
}

/* The consumer of already-poisoned memory (another CPU got there first): find where its
 * address space has the marker for pfn and send it BUS_MCEERR_AR there. */
struct find_marker {
	pfn_t pfn;
	vaddr_t va;
};

static int match_marker(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct find_marker *f = arg;
	if ((pi->present && pi->pfn == f->pfn) ||
	    (!pi->present && vm_marker_is_poison(pi->marker) && vm_marker_pfn(pi->marker) == f->pfn)) {
		f->va = va;
		return 1;
	}
	return 0;
}

static void signal_consumer_again(struct mf_event *ev)
{
	struct task *t = current_task();
	struct find_marker f = {ev->pfn, 0};
	if (t->mm)
		arch_pt_walk(t->mm->pt, USER_VA_START, USER_VA_END, match_marker, &f);
	if (!f.va) {
		/* Its page is gone (a clean file page the first event dropped, to be read again):
		 * the load was aborted and runs again on what is mapped now. Nothing was consumed,
		 * nothing is lost: no signal (Linux 6.1 kills the task, "Memory error not
		 * recovered"). */
		trace_outcome(ev, "already poisoned: task %d (%s) consumed it but maps it no more: "
			      "nothing to tell", t->pid, t->name);
		return;
	}
	trace_outcome(ev, "already poisoned: task %d (%s) consumed it: SIGBUS BUS_MCEERR_AR at %#lx",
	      t->pid, t->name, f.va);
	sig_send_hwpoison(t, BUS_MCEERR_AR, f.va, MF_LSB);
	MF_COUNT(signalled_ar);
}

int memory_failure(pfn_t pfn, int flags)
{
	struct mf_event ev = {.pfn = pfn, .flags = flags, .t0 = arch_timestamp(), .state = "?"};
	struct page *pg = pfn_to_page(pfn);
	ev.how[0] = flags & MF_ACTION_REQUIRED ? "action required" : "action optional";
	ev.how[1] = flags & MF_SOFTWARE ? ", software-injected" : "";
	ev.how[2] = flags & MF_MUST_KILL ? ", must kill" : "";
	MF_COUNT(events);
	mf_step(&ev);
	if (!pg) {
		trace_outcome(&ev, "detected (%s%s%s): not a RAM frame MCRK describes: ignored",
			      ev.how[0], ev.how[1], ev.how[2]);
		MF_COUNT(ignored);
		return -ENXIO;
	}
	if (!sysctl_memory_failure_recovery) {
		if (!__atomic_load_n(&fake_panic, __ATOMIC_RELAXED))
			panic("Memory failure on frame %#lx: vm.memory_failure_recovery is 0", pfn);
		printk(KERN_EMERG "memory_failure: fake panic: Memory failure on frame %#lx: "
				  "vm.memory_failure_recovery is 0\n", pfn);
	}
	uint32_t old = __atomic_fetch_or(&pg->flags, PG_HWPOISON | ((flags & MF_SOFTWARE) ? PG_SWPOISON : 0),
					 __ATOMIC_ACQ_REL);
	if (old & PG_HWPOISON) {
		MF_COUNT(already);
		if (flags & MF_ACTION_REQUIRED)
			signal_consumer_again(&ev);
		else
			trace_outcome(&ev, "already poisoned: nothing more to do");
		return -EHWPOISON;
	}
	if (old & PG_USER) /* kpageflags reports what it was; only slab frames use the field */
		pg->poison_was = (uint16_t)(old & PG_KIND_MASK);
	for (int tries = 0; tries < 4; tries++) {
		const struct mf_state *st = classify(pg);
		ev.state = st->name;
		if (st->handler == mf_user || st->handler == mf_hugetlb)
			mf_step(&ev); /* its one step line says it all, with the mappings */
		else
			trace(&ev, "%s (%s%s%s), frame state: %s",
			      tries ? "state changed under us" : "detected", ev.how[0], ev.how[1],
			      ev.how[2], st->name);
		int r = st->handler(&ev, pg);
		if (r != -EAGAIN && (r != -EBUSY || st->handler != mf_free))
			return r; /* -EAGAIN: it left the swap cache meanwhile */
	}
	return mf_finish(&ev, MF_FAILED, "frame state kept changing");
}

/* ---- the hooks of a task's life ---- */

void mf_task_notify(pfn_t pfn, unsigned lsb, int flags, uint64_t detected_tsc)
{
	struct task *t = current_task();
	t->mf_pfn = pfn;
	t->mf_lsb = (uint8_t)lsb;
	t->mf_flags = (uint32_t)(flags | MF_ACTION_REQUIRED);
	t->mf_tsc = detected_tsc ? detected_tsc : arch_timestamp();
	t->mf_act_tsc = arch_timestamp();
	task_set_flag(t, TIF_MF_NOTIFY);
}

void mf_task_work(struct task *t)
{
	int flags = (int)t->mf_flags;
	uint64_t now = arch_timestamp();
	printk(KERN_INFO "memory_failure: task %d (%s): action-required recovery starts %lu ns after "
			 "the bank was read (%lu ns after the rendezvous decided)\n", t->pid, t->name,
	       arch_timestamp_to_ns(now - t->mf_tsc), arch_timestamp_to_ns(now - t->mf_act_tsc));
	if (t->mf_pfn != MF_NO_PFN)
		memory_failure(t->mf_pfn, flags);
	if (flags & MF_MUST_KILL) {
		/* The interrupted instruction cannot be restarted (RIPV clear): the task must not
		 * run on. It still gets the SIGBUS it is owed, as the reason it dies. */
		printk(KERN_WARNING "memory_failure: task %d (%s) cannot resume after the machine "
				    "check (no restart IP): killed by SIGBUS\n", t->pid, t->name);
		sig_kill_with(t, &(struct ksiginfo){.si_signo = SIGBUS, .si_code = BUS_MCEERR_AR});
	}
}

void mf_poison_touched(struct task *t, uint64_t addr)
{
	struct vm_page_info pi = {.huge = false};
	if (t->mm)
		vm_page_info(t->mm, addr, &pi);
	/* A hugetlb page lost whole is told as Linux tells it: the address touched, lsb 21. */
	struct hwpoison_tell h = {&t, 1, t, pi.huge ? addr : addr & PAGE_MASK,
				  pi.huge ? HUGETLB_SHIFT : MF_LSB};
	if (mf_trace_steps)
		printk(KERN_WARNING "memory_failure: task %d (%s) touched poisoned page %#lx: "
				    "SIGBUS BUS_MCEERR_AR\n", t->pid, t->name, addr & PAGE_MASK);
	/* Told now: a memory_failure still at work on this frame sends no AO after this. */
	if (t->mm)
		vm_poison_tell(t->mm, addr, VM_ANY_PFN, true, send_hwpoison, &h);
	else
		send_hwpoison(&h);
}

/* ---- every mapping of a frame, for soft offline (mf_soft.c) and the poison emulator ---- */

struct each_args {
	mf_mapping_fn fn;
	void *arg;
};

static void each_batch(struct collect *c, unsigned from, void *arg)
{
	const struct each_args *a = arg;
	for (unsigned i = from; i < c->n; i++)
		a->fn(c->v[i].mm, c->v[i].va, a->arg);
}

int mf_each_mapping(struct page *pg, bool until_unmapped, mf_mapping_fn fn, void *arg)
{
	struct each_args a = {fn, arg};
	struct collect c;
	int ret;

	collect_init(&c);
	if (until_unmapped) {
		ret = collect_then_act(pg, &c, each_batch, &a);
		ret = ret < 0 ? ret : 0;
	} else {
		collect_round(pg, &c, each_batch, &a);
		ret = c.oom ? -ENOMEM : 0;
	}
	collect_done(&c);
	return ret;
}

const char *mf_state_name(const struct page *pg) { return classify(pg)->name; }

/* ---- traps for the poison emulator ---- */

struct trap_args {
	pfn_t pfn;
	bool on;
};

static void trap_one(struct mm *mm, vaddr_t va, void *arg)
{
	const struct trap_args *a = arg;
	vm_trap_page(mm, va, a->pfn, a->on);
}

/* PG_TRAP first, so that a mapping made while the existing ones are walked traps from the
 * start (arch_pt_map looks at it); then the kernel's own mapping, then every user one (a
 * user frame's, held while its rmap is walked; other frames have no user mapping). */
int mf_trap_frame(pfn_t pfn, bool on)
{
	struct page *pg = pfn_to_page(pfn);
	int err;

	if (!pg)
		return -ENXIO;
	if (on)
		__atomic_fetch_or(&pg->flags, PG_TRAP, __ATOMIC_ACQ_REL);
	else
		__atomic_fetch_and(&pg->flags, ~PG_TRAP, __ATOMIC_ACQ_REL);
	err = arch_trap_frame(pfn, on);
	if (err) {
		if (on)
			__atomic_fetch_and(&pg->flags, ~PG_TRAP, __ATOMIC_ACQ_REL);
		return err;
	}
	if (!(__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_USER) || !upage_tryget(pg))
		return 0;
	mf_each_mapping(pg, false, trap_one, &(struct trap_args){pfn, on});
	upage_put(pg);
	return 0;
}

/* ---- madvise(MADV_HWPOISON / MADV_SOFT_OFFLINE) ---- */

long mf_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
	if (advice != MADV_HWPOISON && advice != MADV_SOFT_OFFLINE)
		return -EINVAL;
	if (!mm || !IS_ALIGNED(addr, PAGE_SIZE) || addr >= USER_VA_END || len > USER_VA_END - addr)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM; /* after the range checks, as Linux's madvise_inject_error */
	for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE) {
		int err = vm_fault(mm, va, FAULT_READ, true); /* make sure a frame is there */
		struct vm_page_info pi;
		vm_page_info(mm, va, &pi);
		if (pi.state == VM_PAGE_POISON)
			continue;
		if (err || pi.state != VM_PAGE_PRESENT)
			return err ? err : -EFAULT;
		err = advice == MADV_HWPOISON ? memory_failure(pi.pfn, MF_SOFTWARE)
					       : soft_offline_frame(pi.pfn, NULL);
		if (err && err != -EHWPOISON)
			return err;
	}
	return 0;
}

/* ---- setup ---- */

void memory_failure_init(void)
{
	char v[8];
	if (cmdline_get(boot_info.cmdline, "mf.trace", v, sizeof(v)))
		mf_trace_steps = strcmp(v, "0") != 0;
	mf_queue_init();
	mf_ctl_init();
	mf_debug_init();
}
