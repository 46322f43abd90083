/* /proc/PID: a directory per process with stat, status, cmdline, comm, maps and pagemap in
 * Linux 6.1's formats (fs/proc/array.c, fs/proc/base.c), and task/TID/ with stat, status and
 * comm per thread; /proc/self is a symlink to the caller's PID directory. procfs keeps a fixed
 * tree (nodefs.c), so the PID directories are brought up to date with the process list when
 * /proc is listed or a numeric name in it is looked up; /proc/self is made anew for each
 * lookup. A file whose process has gone reads -ESRCH. docs/tasks.md lists the fields MCRK leaves out
 * or shows as 0. */
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "sig.h"
#include "task.h"
#include "vfs_priv.h"
#include "vm.h"

#define LIST_MAX 1024	     /* processes (or threads of one) a refresh looks at */
#define TEXT_MAX 2048	     /* stat and status */
#define CMDLINE_MAX 4096     /* Linux too reads at most a page of the arguments per read */
#define USER_HZ 100 /* clock ticks as /proc shows them (sysconf(_SC_CLK_TCK)) */
#define TASK_VIEW (1ull << 32) /* node priv: the task/TID view (this thread's own figures) */
#define TTY_NR_TTYS0 ((4 << 8) | 64) /* new_encode_dev(4, 64): the console, ttyS0 */
#define PRIO_NORMAL 20	     /* a nice-0 task's priority as stat shows it (120 - 100) */
#define OLD_SIGMASK 0x7ffffffful /* stat's obsolete signal fields: the first 31 signals */

/* What one process or thread shows, copied under sched_lock. */
struct snap {
	int pid, tgid, ppid, pgid, sid, threads, exit_signal;
	char state;
	char comm[TASK_NAME_LEN];
	unsigned cpu;
	uint64_t utime, stime, cutime, cstime, min_flt, cmin_flt, nvcsw, nivcsw, start_ns;
	struct mm *mm; /* referenced, or NULL */
	struct sig_masks sig;
	struct cred_ids user, group; /* real, effective, saved, fs (status's Uid and Gid lines) */
	struct cred_caps caps;	     /* status's Cap lines */
};

static char state_of(const struct task *t)
{
	if (t->state == TASK_ZOMBIE || (t->group && t->group->state == GROUP_ZOMBIE))
		return 'Z';
	if (t->state == TASK_DEAD)
		return 'X';
	if (t->group && (t->group->jobctl & JOBCTL_STOPPED))
		return 'T';
	return t->state == TASK_RUNNABLE ? 'R' : 'S';
}

/* Fill s for priv's task (a whole process unless TASK_VIEW). -ESRCH when it is gone. */
static int take_snap(void *priv, struct snap *s)
{
	struct task *t = task_find((int)(uintptr_t)priv);
	memset(s, 0, sizeof(*s));
	if (!t || !t->group) {
		if (t)
			task_put(t);
		return -ESRCH;
	}
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct thread_group *g = t->group;
	bool whole = !((uintptr_t)priv & TASK_VIEW);
	s->pid = whole ? g->tgid : t->pid;
	s->tgid = g->tgid;
	s->ppid = g->parent ? g->parent->tgid : 0;
	s->pgid = g->pgid;
	s->sid = g->sid;
	s->exit_signal = g->exit_signal;
	s->state = state_of(t);
	strlcpy(s->comm, t->name, sizeof(s->comm));
	s->cpu = t->cpu;
	s->user = t->cred.user;
	s->group = t->cred.group;
	cred_caps(&t->cred, &s->caps);
	s->start_ns = (whole && g->leader ? g->leader : t)->start_ns;
	for (struct task *th = task_next_thread(g, NULL); th; th = task_next_thread(g, th)) {
		s->threads++;
		if (!whole && th != t)
			continue;
		s->utime += th->utime;
		s->stime += th->stime;
		s->min_flt += th->min_flt;
		s->nvcsw += th->nvcsw;
		s->nivcsw += th->nivcsw;
	}
	if (whole) {
		s->utime += g->dead_utime;
		s->stime += g->dead_stime;
		s->min_flt += g->dead_min_flt;
		s->cutime = g->cutime;
		s->cstime = g->cstime;
		s->cmin_flt = g->cmin_flt;
	}
	s->mm = t->mm && mm_tryget(t->mm) ? t->mm : NULL;
	spin_unlock_irqrestore(&sched_lock, f);
	sig_task_masks(t, &s->sig);
	task_put(t);
	return 0;
}

/* Sizes of an address space in pages: all of it, resident anonymous and file pages, stack. */
struct mm_sizes {
	uint64_t total, anon, file, stack;
};

struct vma_range {
	vaddr_t start, end;
	bool file, stack;
};

struct vma_list {
	struct vma_range r[256];
	unsigned n;
};

static int collect_vma(const struct vma *v, void *arg)
{
	struct vma_list *l = arg;
	if (l->n < ARRAY_SIZE(l->r))
		l->r[l->n++] = (struct vma_range){v->start, v->end, v->flags & VM_FILE,
						  v->flags & VM_STACK};
	return 0;
}

static void mm_sizes(struct mm *mm, struct mm_sizes *z)
{
	memset(z, 0, sizeof(*z));
	struct vma_list *l = mm ? kzalloc(sizeof(*l)) : NULL;
	if (!l)
		return;
	vm_for_each_vma(mm, collect_vma, l);
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t pages = (l->r[i].end - l->r[i].start) >> PAGE_SHIFT;
		z->total += pages;
		z->stack += l->r[i].stack ? pages : 0;
		for (vaddr_t va = l->r[i].start; va < l->r[i].end; va += PAGE_SIZE) {
			struct vm_page_info pi;
			if (vm_page_info(mm, va, &pi) || pi.state != VM_PAGE_PRESENT)
				continue;
			*(l->r[i].file ? &z->file : &z->anon) += 1;
		}
	}
	kfree(l);
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / (1000000000ull / USER_HZ);
}

/* Writes the text of one of stat or status for priv's task from its snapshot s and memory
 * sizes z into b (TEXT_MAX bytes); returns its length. */
typedef size_t (*snap_format)(void *priv, const struct snap *s, const struct mm_sizes *z, char *b);

/* A stat or status file: the snapshot and memory sizes of priv's task, formatted by fmt into
 * a new buffer (*out, *len). 0, -ESRCH when the task has gone, or -ENOMEM. */
static int gen_snap_text(void *priv, char **out, size_t *len, snap_format fmt)
{
	struct snap s;
	struct mm_sizes z;
	int err = take_snap(priv, &s);
	char *b = err ? NULL : kmalloc(TEXT_MAX);
	if (b) {
		mm_sizes(s.mm, &z);
		*len = fmt(priv, &s, &z, b);
		*out = b;
	}
	if (!err && s.mm)
		mm_put(s.mm);
	return err ? err : b ? 0 : -ENOMEM;
}

static int look_into(void *priv, uint64_t *serial);

/* /proc/PID/stat: do_task_stat's 52 fields in its order; the argument addresses only to a
 * reader that may look into the process, as Linux shows them. */
static size_t format_stat(void *priv, const struct snap *s, const struct mm_sizes *z, char *b)
{
	int tpgid = -1;
	bool tty = tty_session_info(s->sid, &tpgid);
	uint64_t serial;
	bool permitted = s->mm && look_into(priv, &serial) == 0; /* the addresses: as maps */
	vaddr_t arg_start = permitted ? s->mm->arg_start : 0,
		arg_end = permitted ? s->mm->arg_end : 0;
	return (size_t)ksnprintf(
	    b, TEXT_MAX,
	    "%d (%s) %c %d %d %d %d %d %u %lu %lu %lu %lu %lu %lu %ld %ld %ld %ld %d 0 %lu %lu %ld "
	    "%lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %d %u %u %u %lu %lu %ld %lu %lu "
	    "%lu "
	    "%lu %lu %lu %lu %d\n",
	    s->pid, s->comm, s->state, s->ppid, s->pgid, s->sid, tty ? TTY_NR_TTYS0 : 0,
	    tty ? tpgid : -1, 0u, s->min_flt, s->cmin_flt, 0ul, 0ul, s->utime, s->stime,
	    (long)s->cutime, (long)s->cstime, (long)PRIO_NORMAL, 0l, s->threads,
	    ns_to_ticks(s->start_ns), z->total << PAGE_SHIFT, (long)(z->anon + z->file), ~0ul, 0ul,
	    0ul, 0ul, 0ul, 0ul, s->sig.pending & OLD_SIGMASK, s->sig.blocked & OLD_SIGMASK,
	    s->sig.ignored & OLD_SIGMASK, s->sig.caught & OLD_SIGMASK, 0ul, 0ul, 0ul,
	    s->exit_signal, s->cpu, 0u, 0u, 0ul, 0ul, 0l, 0ul, 0ul, 0ul, arg_start, arg_end,
	    arg_end, arg_end, 0);
}

static int gen_stat(void *priv, char **out, size_t *len)
{
	return gen_snap_text(priv, out, len, format_stat);
}

static const char *state_name(char c)
{
	switch (c) {
	case 'R':
		return "R (running)";
	case 'T':
		return "T (stopped)";
	case 'Z':
		return "Z (zombie)";
	case 'X':
		return "X (dead)";
	}
	return "S (sleeping)";
}

/* /proc/PID/status: proc_pid_status's lines, those MCRK has (docs/tasks.md). */
static size_t format_status(void *priv, const struct snap *s, const struct mm_sizes *z, char *b)
{
	(void)priv;
	const struct cred_ids *u = &s->user, *g = &s->group;
	uint64_t kb = PAGE_SIZE / 1024;
	return (size_t)ksnprintf(
	    b, TEXT_MAX,
	    "Name:\t%s\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
	    "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\n"
	    "NSsid:\t%d\nVmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\n"
	    "RssFile:\t%8lu kB\nVmStk:\t%8lu kB\nThreads:\t%d\nSigPnd:\t%016lx\nShdPnd:\t%016lx\n"
	    "SigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\nCapInh:\t%016lx\nCapPrm:\t%016lx\n"
	    "CapEff:\t%016lx\nCapBnd:\t%016lx\nCapAmb:\t%016lx\nvoluntary_ctxt_switches:\t%lu\n"
	    "nonvoluntary_ctxt_switches:\t%lu\n",
	    s->comm, state_name(s->state), s->tgid, s->pid, s->ppid, u->real, u->eff, u->saved,
	    u->fs, g->real, g->eff, g->saved, g->fs, s->tgid, s->pid, s->pgid, s->sid,
	    z->total * kb, (z->anon + z->file) * kb, z->anon * kb, z->file * kb, z->stack * kb,
	    s->threads, s->sig.pending, s->sig.shared, s->sig.blocked, s->sig.ignored,
	    s->sig.caught, s->caps.inheritable, s->caps.permitted, s->caps.effective,
	    s->caps.bounding, s->caps.ambient, s->nvcsw, s->nivcsw);
}

static int gen_status(void *priv, char **out, size_t *len)
{
	return gen_snap_text(priv, out, len, format_status);
}

static int gen_comm(void *priv, char **out, size_t *len)
{
	struct snap s;
	int err = take_snap(priv, &s);
	if (err)
		return err;
	if (s.mm)
		mm_put(s.mm);
	char *b = kmalloc(TASK_NAME_LEN + 1);
	if (!b)
		return -ENOMEM;
	*len = (size_t)ksnprintf(b, TASK_NAME_LEN + 1, "%s\n", s.comm);
	*out = b;
	return 0;
}

/* Copy [va, va + n) of mm into buf through the direct map (pages not present read as NULs).
 * Returns the bytes that were present. */
static size_t mm_read(struct mm *mm, vaddr_t va, char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		struct vm_page_info pi;
		size_t in_page = MIN(n - done, PAGE_SIZE - ((va + done) & (PAGE_SIZE - 1)));
		if (vm_page_info(mm, va + done, &pi) || pi.state != VM_PAGE_PRESENT)
			break;
		const char *p = page_to_virt(pfn_to_page(pi.pfn));
		memcpy(buf + done, p + ((va + done) & (PAGE_SIZE - 1)), in_page);
		done += in_page;
	}
	return done;
}

/* /proc/PID/cmdline: the argument strings, each with its NUL, as execve laid them out. */
static int gen_cmdline(void *priv, char **out, size_t *len)
{
	struct snap s;
	int err = take_snap(priv, &s);
	if (err)
		return err;
	char *b = kmalloc(CMDLINE_MAX);
	*len = 0;
	if (b && s.mm && s.mm->arg_end > s.mm->arg_start)
		*len = mm_read(s.mm, s.mm->arg_start, b,
			       MIN((size_t)(s.mm->arg_end - s.mm->arg_start), CMDLINE_MAX));
	if (s.mm)
		mm_put(s.mm);
	*out = b;
	return b ? 0 : -ENOMEM;
}

/* ---- maps and pagemap: looking into another process ---- */

/* Whether the caller may look into priv's task (Linux's ptrace_may_access with
 * PTRACE_MODE_READ_FSCREDS): its own process always, another by cred_may_access. The serial
 * of the task's address space now goes to *serial (0: none). 0, -ESRCH or -EACCES. */
static int look_into(void *priv, uint64_t *serial)
{
	struct task *t = task_find((int)(uintptr_t)priv);
	const struct task *me = current_task();
	if (!t)
		return -ESRCH;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	bool own = t->group && t->group == me->group;
	bool ok = own || cred_may_access(&me->cred, &t->cred, true, !t->mm || t->mm->dumpable);
	*serial = t->mm ? t->mm->serial : 0;
	spin_unlock_irqrestore(&sched_lock, f);
	task_put(t);
	return ok ? 0 : -EACCES;
}

/* An open maps or pagemap file: decided at open, as Linux's proc_mem_open and pagemap_open
 * do, so a descriptor passed on or kept across a change of ids reads as it was opened. */
struct mem_open {
	void *priv;	/* the node's: the task's id */
	uint64_t serial; /* the address space it was opened on; another one reads as empty */
	bool show_pfn;	/* the opener had CAP_SYS_ADMIN */
};

static int mem_open(void *priv, void **state)
{
	struct mem_open *o = kzalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	int err = look_into(priv, &o->serial);
	if (err) {
		kfree(o);
		return err;
	}
	o->priv = priv;
	o->show_pfn = capable(CAP_SYS_ADMIN);
	*state = o;
	return 0;
}

static void mem_release(void *state)
{
	kfree(state);
}

/* The referenced mm of the open file's task, or NULL with *err: -ESRCH when the task has
 * gone, 0 when it has no memory or another address space than at open (an exec since). */
static struct mm *open_mm(const struct mem_open *o, int *err)
{
	struct snap s;
	*err = take_snap(o->priv, &s);
	if (!*err && s.mm && s.mm->serial != o->serial) {
		mm_put(s.mm);
		s.mm = NULL;
	}
	return *err ? NULL : s.mm;
}

static int gen_maps(void *state, char **out, size_t *len)
{
	int err;
	struct mm *mm = open_mm(state, &err);
	if (err)
		return err;
	err = procfs_maps_text(mm, out, len);
	if (mm)
		mm_put(mm);
	return err;
}

static long read_pagemap(void *state, void *buf, size_t n, uint64_t off)
{
	const struct mem_open *o = state;
	int err;
	struct mm *mm = open_mm(o, &err);
	if (!mm)
		return err;
	long r = procfs_pagemap_read(mm, buf, n, off, o->show_pfn);
	mm_put(mm);
	return r;
}

static const struct vfs_node_ops stat_ops = {.gen = gen_stat};
static const struct vfs_node_ops status_ops = {.gen = gen_status};
static const struct vfs_node_ops comm_ops = {.gen = gen_comm};
static const struct vfs_node_ops cmdline_ops = {.gen = gen_cmdline};
static const struct vfs_node_ops maps_ops = {
    .gen = gen_maps, .open = mem_open, .release = mem_release};
static const struct vfs_node_ops pagemap_ops = {
    .read = read_pagemap, .open = mem_open, .release = mem_release};

/* ---- the directories ---- */

static struct dentry *pid_lookup(struct dentry *dir, const char *name, size_t len);
static void pid_refresh(struct dentry *dir);
static struct dentry *root_lookup(struct dentry *dir, const char *name, size_t len);
static void root_refresh(struct dentry *dir);

static const struct inode_ops root_iops = {
    .create_lookup_err = -ENOENT, .lookup = root_lookup, .refresh = root_refresh};
static const struct inode_ops task_dir_iops = {
    .create_lookup_err = -ENOENT, .lookup = pid_lookup, .refresh = pid_refresh};
static const struct inode_ops pid_dir_iops = {.create_lookup_err = -ENOENT};

/* Whether (name, len) is a decimal number without a leading zero: *out gets it. */
static bool numeric(const char *name, size_t len, int *out)
{
	long v = 0;
	if (!len || len > 9 || name[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*out = (int)v;
	return true;
}

/* The files of one PID (or task/TID) directory d for id; a process also gets task/. */
static void fill_pid_dir(struct dentry *d, int id, bool thread)
{
	void *priv = (void *)(uintptr_t)((uint64_t)id | (thread ? TASK_VIEW : 0));
	nodefs_add(d, "stat", &stat_ops, priv, NULL);
	nodefs_add(d, "status", &status_ops, priv, NULL);
	nodefs_add(d, "comm", &comm_ops, priv, NULL);
	nodefs_add(d, "cmdline", &cmdline_ops, priv, NULL);
	nodefs_add(d, "maps", &maps_ops, priv, NULL);
	nodefs_add(d, "mounts", &vfs_mounts_ops, priv, NULL);
	nodefs_add(d, "pagemap", &pagemap_ops, priv, NULL);
	if (!thread)
		dput(nodefs_mkdir(d, "task", &task_dir_iops, (void *)(uintptr_t)id));
}

static bool listed(const int *ids, unsigned n, int id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Make dir's numeric children the ids given: drop the others, add the missing ones. */
static void sync_dir(struct dentry *dir, const int *ids, unsigned n, bool threads)
{
	bool mine = !mutex_held(&ns_lock);
	if (mine)
		mutex_lock(&ns_lock);
	uint64_t pos = 2;
	struct dentry *c;
	int id;
	while ((c = d_child_at(dir, &pos)) != NULL) {
		pos++;
		if (numeric(c->name, c->len, &id) && !listed(ids, n, id)) {
			d_kill_tree(dget(c));
			d_delete(c);
		}
		dput(c);
	}
	for (unsigned i = 0; i < n; i++) {
		char name[16];
		ksnprintf(name, sizeof(name), "%d", ids[i]);
		if ((c = d_lookup(dir, name, strlen(name))) != NULL) {
			dput(c);
			continue;
		}
		c = nodefs_mkdir(dir, name, &pid_dir_iops, NULL);
		if (c)
			fill_pid_dir(c, ids[i], threads);
		dput(c);
	}
	if (mine)
		mutex_unlock(&ns_lock);
}

/* Bring a task/ directory (node_priv: its tgid) or /proc up to date. */
static void refresh_ids(struct dentry *dir, bool threads)
{
	int *ids = kmalloc(LIST_MAX * sizeof(int));
	if (!ids)
		return;
	int tgid = (int)(uintptr_t)dir->inode->node_priv;
	unsigned n = threads ? task_list_tids(tgid, ids, LIST_MAX) : task_list_tgids(ids, LIST_MAX);
	sync_dir(dir, ids, MIN(n, LIST_MAX), threads);
	kfree(ids);
}

static void pid_refresh(struct dentry *dir)
{
	refresh_ids(dir, true);
}

static struct dentry *pid_lookup(struct dentry *dir, const char *name, size_t len)
{
	int id;
	if (numeric(name, len, &id))
		refresh_ids(dir, true);
	return NULL;
}

static void root_refresh(struct dentry *dir)
{
	refresh_ids(dir, false);
}

/* /proc/self for this walk alone: a symlink to the caller's tgid, outside the tree. */
static struct dentry *self_link(struct dentry *dir)
{
	const struct task *t = current_task();
	char *target = kmalloc(16);
	struct dentry *d = target ? d_alloc(dir, "self", 4) : NULL;
	struct inode *i = d ? inode_new(dir->sb, S_IFLNK | 0777) : NULL;
	if (!i) {
		kfree(target);
		dput(d);
		return NULL;
	}
	ksnprintf(target, 16, "%d", t->group ? t->group->tgid : 0);
	i->symlink = target;
	d->inode = i;
	return d;
}

static struct dentry *root_lookup(struct dentry *dir, const char *name, size_t len)
{
	int id;
	if (len == 4 && !memcmp(name, "self", 4))
		return self_link(dir);
	if (numeric(name, len, &id))
		refresh_ids(dir, false);
	return NULL;
}

static struct dentry *proc_root; /* referenced for good once proc_pid_init ran */

void vfs_proc_flush(int tgid)
{
	char name[16];
	if (!proc_root)
		return;
	ksnprintf(name, sizeof(name), "%d", tgid);
	mutex_lock(&ns_lock);
	struct dentry *d = d_lookup(proc_root, name, strlen(name));
	if (d) {
		d_kill_tree(dget(d));
		d_delete(d);
		dput(d);
	}
	mutex_unlock(&ns_lock);
}

void proc_pid_init(void)
{
	struct dentry *root = nodefs_proc_root();
	if (!root)
		return;
	mutex_lock(&ns_lock);
	root->inode->iop = &root_iops;
	nodefs_add(root, "self", NULL, NULL, "self"); /* listed; each lookup makes its own */
	mutex_unlock(&ns_lock);
	proc_root = root;
}
