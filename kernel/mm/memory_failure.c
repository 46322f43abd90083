/* memory_failure: a frame has gone bad. Declare it poisoned (PG_HWPOISON, set atomically first
 * so a racing allocation or fault never hands it out), keep it out of the allocator for good,
 * and tell every task that maps it. What happens depends on what the frame holds, through a
 * table from frame state to handler (mf_states below). For a user frame the tasks to signal
 * are collected through the rmap first, then every mapping is replaced by a poison marker,
 * then the signals go out: early kill (BUS_MCEERR_AO now) for tasks that asked for it, late
 * kill (BUS_MCEERR_AR when they touch the marker) for the rest, and BUS_MCEERR_AR at once
 * for the task that consumed the poison (action required).
 * Each event is traced one line per step with nanoseconds since detection (mf.trace=0 on the
 * command line keeps only each event's outcome line).
 * Context: process (a kernel worker draining the MCE log, a task's return to user mode,
 * madvise, debugfs writes). Never #MC, except mce_task_notify which only records. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "boot_info.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "mce_hooks.h"
#include "memory_failure.h"
#include "panic.h"
#include "printk.h"
#include "rmap.h"
#include "sig.h"
#include "task.h"
#include "vm.h"
#include "vfs.h"
#include "vm_priv.h"

#define MF_LSB PAGE_SHIFT /* the error granularity MCRK recovers: one 4 KiB frame */

int sysctl_memory_failure_recovery = 1;   /* 0: any memory failure panics */
int sysctl_memory_failure_early_kill = 0; /* 1: kill every mapper at once (AO) */
static struct mf_stats mf_stats;

#define MF_COUNT(f) __atomic_fetch_add(&mf_stats.f, 1, __ATOMIC_RELAXED)

void mf_get_stats(struct mf_stats *out) { *out = mf_stats; }

/* ---- trace ---- */

#define MF_MAX_STEPS 12

struct mf_event {
	pfn_t pfn;
	int flags;
	uint64_t t0;
	const char *state;
	unsigned nsteps;
	uint32_t step_ns[MF_MAX_STEPS]; /* time of each step, kept even when not printed */
};

/* mf.trace=0 on the command line: print only each event's outcome, not every step (a serial
 * console line costs ~100 us under QEMU, far more than the recovery itself). */
static bool trace_steps = true;

/* One trace line; a step line (outcome false) is skipped under mf.trace=0. */
__printf(3, 4) static void trace_line(struct mf_event *ev, bool outcome, const char *fmt, ...)
{
	char buf[160], steps[8 * MF_MAX_STEPS] = "";
	uint64_t ns = arch_timestamp_to_ns(arch_timestamp() - ev->t0);
	va_list ap;
	if (ev->nsteps < MF_MAX_STEPS)
		ev->step_ns[ev->nsteps++] = (uint32_t)MIN(ns, UINT32_MAX);
	if (!outcome && !trace_steps)
		return;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Silent steps still show on the outcome line, as their times since detection. */
	for (unsigned i = 0, n = 0; outcome && !trace_steps && i + 1 < ev->nsteps; i++)
		n += (unsigned)ksnprintf(steps + n, sizeof(steps) - n, "%s%u", i ? "," : " steps(ns):",
					 ev->step_ns[i]);
	printk(KERN_WARNING "memory_failure: pfn %#lx: %s (+%lu ns)%s\n", ev->pfn, buf, ns, steps);
}

#define trace(ev, ...) trace_line(ev, false, __VA_ARGS__)
#define trace_outcome(ev, ...) trace_line(ev, true, __VA_ARGS__)

static const char *const result_names[] = {"ignored", "failed", "delayed", "recovered"};

static int finish(struct mf_event *ev, enum mf_result r, const char *why)
{
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

struct mapper {
	struct mm *mm; /* referenced with mm_tryget */
	vaddr_t va;
};

struct collect {
	struct mapper *v;
	unsigned n, cap;
	bool oom;
};

static int collect_one(struct mm *mm, vaddr_t va, void *arg)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 16;
		struct mapper *v = kmalloc(cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return 1;
		}
		if (c->n)
			memcpy(v, c->v, c->n * sizeof(*v));
		kfree(c->v);
		c->v = v;
		c->cap = cap;
	}
	if (mm_tryget(mm))
		c->v[c->n++] = (struct mapper){mm, va};
	return 0;
}

static bool task_early(const struct task *t)
{
	if (t->mce_kill != MCE_KILL_DEFAULT)
		return t->mce_kill == MCE_KILL_EARLY;
	return sysctl_memory_failure_early_kill;
}

/* Signal the owner of m->mm about the lost page at m->va. */
static void signal_mapper(struct mf_event *ev, const struct mapper *m, struct task *consumer)
{
	struct task *t = task_get_mm_owner(m->mm);
	if (!t)
		return; /* exiting: nobody to tell */
	if (t == consumer && (ev->flags & MF_ACTION_REQUIRED)) {
		trace(ev, "task %d (%s): SIGBUS BUS_MCEERR_AR at %#lx", t->pid, t->name, m->va);
		sig_send_mceerr(t, BUS_MCEERR_AR, m->va, MF_LSB);
		MF_COUNT(signalled_ar);
	} else if (task_early(t)) {
		trace(ev, "task %d (%s): SIGBUS BUS_MCEERR_AO at %#lx (early kill)", t->pid, t->name,
		      m->va);
		sig_send_mceerr(t, BUS_MCEERR_AO, m->va, MF_LSB);
		MF_COUNT(signalled_ao);
	} else {
		trace(ev, "task %d (%s): late kill: SIGBUS when it touches %#lx", t->pid, t->name,
		      m->va);
	}
	task_put(t);
}

static void kill_mapper(struct mf_event *ev, const struct mapper *m, int err)
{
	struct task *t = task_get_mm_owner(m->mm);
	if (!t)
		return;
	trace_outcome(ev, "task %d: cannot unmap %#lx (%d): SIGKILL", t->pid, m->va, err);
	sig_force(t, &(struct ksiginfo){.si_signo = SIGKILL});
	MF_COUNT(killed);
	task_put(t);
}

/* Unmap pfn from every address space, marking each PTE (poison) or clearing it (clean file
 * page), then signal. A fork racing with the walk can add a mapping: walk until none is left. */
static int unmap_and_signal(struct mf_event *ev, struct page *pg, bool drop_clean)
{
	struct task *consumer = (ev->flags & MF_ACTION_REQUIRED) ? current_task() : NULL;
	unsigned total = 0, rounds = 0;
	while (rmap_count(pg) > 0 && rounds++ < 8) {
		struct collect c = {0};
		rmap_walk(pg, collect_one, &c);
		if (c.oom) /* the mappers collected so far are handled; the loop tries again */
			trace(ev, "out of memory collecting mappers");
		if (rounds == 1)
			trace(ev, "%u mapping(s) found through the rmap", c.n);
		for (unsigned i = 0; i < c.n; i++) {
			int err = drop_clean ? vm_unmap_page(c.v[i].mm, c.v[i].va, ev->pfn)
					     : vm_set_poison(c.v[i].mm, c.v[i].va, ev->pfn);
			if (err && err != -ENOENT)
				kill_mapper(ev, &c.v[i], err);
		}
		trace(ev, "unmapped from %u address space(s)%s", c.n,
		      drop_clean ? "" : ", poison markers left in the PTEs");
		for (unsigned i = 0; i < c.n && !drop_clean; i++)
			signal_mapper(ev, &c.v[i], consumer);
		for (unsigned i = 0; i < c.n; i++)
			mm_put(c.v[i].mm);
		total += c.n;
		kfree(c.v);
	}
	return rmap_count(pg) > 0 ? -EBUSY : (int)total;
}

/* ---- handlers by frame state ---- */

static int mf_free(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	int err = frame_isolate_free(ev->pfn);
	if (err == 0)
		return finish(ev, MF_RECOVERED, "taken out of the free lists for good");
	return err; /* -EBUSY: allocated meanwhile; the caller looks again */
}

static int mf_user(struct mf_event *ev, struct page *pg)
{
	bool clean_file = pg->flags & PG_FILE;
	int n = unmap_and_signal(ev, pg, clean_file);
	if (n < 0)
		return finish(ev, MF_FAILED, "mappings keep coming back");
	if (clean_file)
		return finish(ev, MF_RECOVERED, "clean file page dropped, re-read on next touch");
	if (READ_ONCE(pg->refcount) > 0)
		return finish(ev, MF_DELAYED, "held by a shared mapping; freed into quarantine later");
	return finish(ev, MF_RECOVERED, "unmapped; the frame never returns to the allocator");
}

static int mf_pgtable(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return finish(ev, MF_FAILED, "user page-table frame: kept poisoned, reused never; the "
				     "space that owns it is at risk until it exits");
}

static int mf_kernel(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return finish(ev, MF_FAILED, "kernel memory: kept poisoned and never reused; consuming it "
				     "in the kernel panics");
}

static int mf_reserved(struct mf_event *ev, struct page *pg)
{
	(void)pg;
	return finish(ev, MF_IGNORED, "reserved frame (firmware, kernel image or boot data): "
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
	{PG_USER | PG_FILE, PG_USER | PG_FILE, "clean file", mf_user},
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
	    (!pi->present && vm_marker_is_poison(pi->marker) &&
	     (pi->marker >> VM_MARKER_TYPE_BITS) == f->pfn)) {
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
	trace_outcome(ev, "already poisoned: task %d (%s) consumed it: SIGBUS BUS_MCEERR_AR at %#lx",
	      t->pid, t->name, f.va);
	sig_send_mceerr(t, BUS_MCEERR_AR, f.va, MF_LSB);
	MF_COUNT(signalled_ar);
}

int memory_failure(pfn_t pfn, int flags)
{
	struct mf_event ev = {.pfn = pfn, .flags = flags, .t0 = arch_timestamp(), .state = "?"};
	struct page *pg = pfn_to_page(pfn);
	MF_COUNT(events);
	trace(&ev, "detected (%s%s%s)", flags & MF_ACTION_REQUIRED ? "action required" : "action optional",
	      flags & MF_SOFTWARE ? ", software-injected" : "", flags & MF_MUST_KILL ? ", must kill" : "");
	if (!pg) {
		trace_outcome(&ev, "not a RAM frame MCRK describes: ignored");
		MF_COUNT(ignored);
		return -ENXIO;
	}
	if (!sysctl_memory_failure_recovery) {
		if (!mce_cfg.fake_panic)
			panic("Memory failure on frame %#lx: vm.memory_failure_recovery is 0", pfn);
		printk(KERN_EMERG "mce: fake panic: Memory failure on frame %#lx: "
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
	for (int tries = 0; tries < 4; tries++) {
		const struct mf_state *st = classify(pg);
		ev.state = st->name;
		trace(&ev, "frame state: %s", st->name);
		int r = st->handler(&ev, pg);
		if (r != -EBUSY || st->handler != mf_free)
			return r;
		trace(&ev, "state changed under us, looking again");
	}
	return finish(&ev, MF_FAILED, "frame state kept changing");
}

/* ---- the hooks the MCE and task code call ---- */

void mce_task_notify(pfn_t pfn, unsigned lsb, int flags, uint64_t detected_tsc)
{
	struct task *t = current_task();
	t->mce_pfn = pfn;
	t->mce_lsb = (uint8_t)lsb;
	t->mce_flags = (uint32_t)(flags | MF_ACTION_REQUIRED);
	t->mce_tsc = detected_tsc ? detected_tsc : arch_timestamp();
	t->mce_act_tsc = arch_timestamp();
	task_set_flag(t, TIF_MCE_NOTIFY);
}

void mce_task_work(struct task *t, struct user_regs *regs)
{
	(void)regs;
	int flags = (int)t->mce_flags;
	uint64_t now = arch_timestamp();
	printk(KERN_INFO "memory_failure: task %d (%s): action-required recovery starts %lu ns after "
			 "the bank was read (%lu ns after the rendezvous decided)\n", t->pid, t->name,
	       arch_timestamp_to_ns(now - t->mce_tsc), arch_timestamp_to_ns(now - t->mce_act_tsc));
	if (t->mce_pfn != MF_NO_PFN)
		memory_failure(t->mce_pfn, flags);
	if (flags & MF_MUST_KILL) {
		/* The interrupted instruction cannot be restarted (RIPV clear): the task must not
		 * run on. It still gets the SIGBUS it is owed, as the reason it dies. */
		printk(KERN_WARNING "memory_failure: task %d (%s) cannot resume after the machine "
				    "check (no restart IP): killed by SIGBUS\n", t->pid, t->name);
		sig_kill_with(t, &(struct ksiginfo){.si_signo = SIGBUS, .si_code = BUS_MCEERR_AR});
	}
}

void mce_poison_touched(struct task *t, uint64_t addr)
{
	if (trace_steps)
		printk(KERN_WARNING "memory_failure: task %d (%s) touched poisoned page %#lx: "
				    "SIGBUS BUS_MCEERR_AR\n", t->pid, t->name, addr & PAGE_MASK);
	sig_send_mceerr(t, BUS_MCEERR_AR, addr & PAGE_MASK, MF_LSB);
	MF_COUNT(signalled_ar);
}

/* ---- soft offline and unpoison ---- */

static int replace_everywhere(pfn_t old, struct page *new)
{
	struct page *pg = pfn_to_page(old);
	unsigned rounds = 0;
	while (rmap_count(pg) > 0 && rounds++ < 8) {
		struct collect c = {0};
		rmap_walk(pg, collect_one, &c);
		for (unsigned i = 0; i < c.n; i++) {
			int err = vm_replace_page(c.v[i].mm, c.v[i].va, old, new);
			if (err && err != -ENOENT)
				printk(KERN_WARNING "soft_offline: pfn %#lx: cannot move the page at %#lx "
						    "(%d)\n", old, c.v[i].va, err);
			mm_put(c.v[i].mm);
		}
		kfree(c.v);
	}
	return rmap_count(pg) ? -EBUSY : 0;
}

int soft_offline_frame(pfn_t pfn)
{
	struct page *pg = pfn_to_page(pfn);
	if (!pg)
		return -ENXIO;
	if (page_poisoned(pg))
		return 0;
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	if (f & (PG_BUDDY | PG_PCP) || !(f & (PG_RESERVED | PG_KIND_MASK | PG_TAIL))) {
		__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
		int err = frame_isolate_free(pfn);
		if (err) /* allocated before the poison bit landed: it is in use, not retired */
			__atomic_fetch_and(&pg->flags, ~(PG_HWPOISON | PG_SWPOISON), __ATOMIC_ACQ_REL);
		printk(KERN_INFO "soft_offline: pfn %#lx: free frame %s\n", pfn,
		       err ? "could not be isolated" : "taken out of the allocator");
		return err;
	}
	if (!(f & PG_USER) || (f & PG_TAIL))
		return -EBUSY; /* only user pages can move */
	struct page *new = frame_alloc(0, PG_USER | (f & PG_FILE));
	if (!new)
		return -ENOMEM;
	memcpy(page_to_virt(new), page_to_virt(pg), PAGE_SIZE);
	/* Hold the old frame while it is moved: were its last mapping to free it, it would go
	 * back to the allocator unpoisoned and could be handed out before we retire it. */
	upage_get(pg);
	int err = replace_everywhere(pfn, new);
	upage_put(new); /* the mappings hold it now */
	if (!err) /* out of use: poison it so it never comes back (software poison) */
		__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
	upage_put(pg); /* the last reference: a poisoned frame is isolated as it is freed */
	if (err)
		return err;
	printk(KERN_INFO "soft_offline: pfn %#lx: contents moved to pfn %#lx, old frame retired\n",
	       pfn, page_to_pfn(new));
	return 0;
}

int unpoison_frame(pfn_t pfn)
{
	struct page *pg = pfn_to_page(pfn);
	if (!pg)
		return -ENXIO; /* as Linux's unpoison-pfn says for a pfn that is not RAM */
	if (!page_poisoned(pg))
		return -EINVAL;
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	if (!(f & PG_SWPOISON))
		return -EINVAL; /* real hardware poison stays */
	if (!(f & PG_ISOLATED))
		return -EBUSY; /* still used (mapped by a shared object, kernel memory, ...) */
	__atomic_fetch_and(&pg->flags, ~(PG_HWPOISON | PG_SWPOISON), __ATOMIC_ACQ_REL);
	int err = frame_unisolate(pfn);
	if (err)
		__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
	else
		printk(KERN_INFO "memory_failure: pfn %#lx unpoisoned, back in the allocator\n", pfn);
	return err;
}

/* ---- madvise(MADV_HWPOISON / MADV_SOFT_OFFLINE) ---- */

#define MADV_HWPOISON 100
#define MADV_SOFT_OFFLINE 101

long madvise_special(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
	if (advice != MADV_HWPOISON && advice != MADV_SOFT_OFFLINE)
		return -EINVAL; /* MADV_FREE, MADV_REMOVE, ...: not implemented */
	if (!mm || !IS_ALIGNED(addr, PAGE_SIZE) || addr >= USER_VA_END || len > USER_VA_END - addr)
		return -EINVAL;
	for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE) {
		int err = vm_fault(mm, va, FAULT_READ, true); /* make sure a frame is there */
		struct vm_page_info pi;
		vm_page_info(mm, va, &pi);
		if (pi.state == VM_PAGE_POISON)
			continue;
		if (err || pi.state != VM_PAGE_PRESENT)
			return err ? err : -EFAULT;
		err = advice == MADV_HWPOISON ? memory_failure(pi.pfn, MF_SOFTWARE)
					       : soft_offline_frame(pi.pfn);
		if (err && err != -EHWPOISON)
			return err;
	}
	return 0;
}

/* ---- control files at Linux's paths ---- */

static int gen_int(void *priv, char **out, size_t *len)
{
	char *b = kmalloc(16);
	if (!b)
		return -ENOMEM;
	*len = (size_t)ksnprintf(b, 16, "%d\n", *(int *)priv);
	*out = b;
	return 0;
}

static long write_bool(void *priv, const char *buf, size_t n)
{
	uint64_t v;
	if (kstrtou64(buf, 10, &v) || v > 1)
		return -EINVAL;
	*(int *)priv = (int)v;
	return (long)n;
}

static long write_corrupt(void *priv, const char *buf, size_t n)
{
	(void)priv;
	uint64_t pfn;
	int err = kstrtou64(buf, 0, &pfn); /* -EINVAL, or -ERANGE on overflow, as Linux */
	if (err)
		return err;
	err = memory_failure(pfn, MF_SOFTWARE);
	return err && err != -EHWPOISON ? err : (long)n;
}

static long write_unpoison(void *priv, const char *buf, size_t n)
{
	(void)priv;
	uint64_t pfn;
	int err = kstrtou64(buf, 0, &pfn);
	if (err)
		return err;
	err = unpoison_frame(pfn);
	return err ? err : (long)n;
}

static int gen_stats(void *priv, char **out, size_t *len)
{
	(void)priv;
	struct mf_stats s = mf_stats;
	char *b = kmalloc(512);
	if (!b)
		return -ENOMEM;
	*len = (size_t)ksnprintf(b, 512,
				 "events %lu\nrecovered %lu\ndelayed %lu\nignored %lu\nfailed %lu\n"
				 "already_poisoned %lu\nsignalled_ao %lu\nsignalled_ar %lu\nkilled %lu\n",
				 s.events, s.recovered, s.delayed, s.ignored, s.failed, s.already,
				 s.signalled_ao, s.signalled_ar, s.killed);
	*out = b;
	return 0;
}

/* /proc/kpageflags: one 64-bit word of KPF_* bits per frame, Linux's bit numbers. */
#define KPF_SLAB 7
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_HWPOISON 19
#define KPF_NOPAGE 20
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

static uint64_t kpageflags_of(pfn_t pfn)
{
	const struct page *pg = pfn_to_page(pfn);
	if (!pg)
		return BIT(KPF_NOPAGE);
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	uint64_t k = 0;
	k |= (f & PG_SLAB) ? BIT(KPF_SLAB) : 0;
	k |= (f & (PG_BUDDY | PG_PCP)) ? BIT(KPF_BUDDY) : 0;
	k |= (f & PG_USER) && pg->mapcount > 0 ? BIT(KPF_MMAP) : 0;
	k |= (f & PG_USER) && !(f & PG_FILE) ? BIT(KPF_ANON) : 0;
	k |= (f & PG_HWPOISON) ? BIT(KPF_HWPOISON) : 0;
	k |= (f & PG_PGTABLE) ? BIT(KPF_PGTABLE) : 0;
	k |= (f & PG_RESERVED) ? BIT(KPF_RESERVED) : 0;
	return k;
}

static long read_kpageflags(void *priv, void *buf, size_t n, uint64_t off)
{
	(void)priv;
	if ((off % 8) || (n % 8))
		return -EINVAL;
	uint64_t *w = buf;
	size_t i = 0;
	for (; i < n / 8 && off / 8 + i < frame_max_pfn(); i++)
		w[i] = kpageflags_of(off / 8 + i);
	return (long)(i * 8);
}

static const struct vfs_node_ops sysctl_ops = {.gen = gen_int, .write = write_bool};
static const struct vfs_node_ops corrupt_ops = {.write = write_corrupt, .privileged_write = true};
static const struct vfs_node_ops unpoison_ops = {.write = write_unpoison, .privileged_write = true};
static const struct vfs_node_ops stats_ops = {.gen = gen_stats};
static const struct vfs_node_ops kpageflags_ops = {.read = read_kpageflags};

void memory_failure_init(void)
{
	char v[8];
	if (cmdline_get(boot_info.cmdline, "mf.trace", v, sizeof(v)))
		trace_steps = strcmp(v, "0") != 0;
	vfs_register_node("/proc/sys/vm/memory_failure_recovery", &sysctl_ops,
			  &sysctl_memory_failure_recovery);
	vfs_register_node("/proc/sys/vm/memory_failure_early_kill", &sysctl_ops,
			  &sysctl_memory_failure_early_kill);
	vfs_register_node("/sys/kernel/debug/hwpoison/corrupt-pfn", &corrupt_ops, NULL);
	vfs_register_node("/sys/kernel/debug/hwpoison/unpoison-pfn", &unpoison_ops, NULL);
	vfs_register_node("/sys/kernel/debug/hwpoison/stats", &stats_ops, NULL);
	vfs_register_node("/proc/kpageflags", &kpageflags_ops, NULL);
}
