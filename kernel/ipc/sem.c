/* SysV semaphores, as Linux's ipc/sem.c: semget makes (or finds by key) a set of semaphores,
 * semop/semtimedop apply a list of operations to one set all at once or not at all (waiting
 * until they can, unless IPC_NOWAIT: EAGAIN; a signal ends the wait with EINTR, a timeout
 * with EAGAIN, the set's removal with EIDRM), semctl reads and sets values (GETVAL, SETVAL,
 * GETALL, SETALL, GETPID), the owner and mode (IPC_STAT, IPC_SET), and removes the set
 * (IPC_RMID). SEM_UNDO records each change per process and reverses it when the process
 * exits (sem_exit).
 * A waiter re-tries its whole list whenever the set changes (every change wakes every
 * waiter), which is Linux's semantics without its per-semaphore queues. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "ctl.h"
#include "ipc.h"
#include "ipc_priv.h"
#include "kmalloc.h"
#include "kstring.h"
#include "list.h"
#include "syscall.h"
#include "task.h"

#define SEM_UNDO 0x1000
#define SEMMSL 32000 /* semaphores in a set */
#define SEMOPM 500   /* operations in one semop */
#define SEMVMX 32767 /* the largest value */
#define GETPID 11
#define GETVAL 12
#define GETALL 13
#define SETVAL 16
#define SETALL 17

struct sem_set {
	struct ipc_obj perm;
	int64_t otime, ctime;
	struct list_node waiters; /* struct sem_waiter */
	int nsems;
	struct sem {
		uint16_t val;
		int pid; /* the last process that changed it */
	} sems[];
};

struct sem_waiter {
	struct list_node link;
	struct task *task;
	uint32_t woken;
};

/* A process's adjustments for one set, reversed at its exit (Linux's sem_undo). */
struct sem_undo {
	struct list_node link;
	int tgid, semid, nsems;
	short adj[];
};

/* Linux's struct semid64_ds on x86-64, and struct sembuf. */
struct semid64_ds {
	struct ipc64_perm perm;
	int64_t otime;
	uint64_t unused1;
	int64_t ctime;
	uint64_t unused2, nsems, unused3, unused4;
};
struct sembuf {
	uint16_t num;
	int16_t op, flg;
};

static struct ipc_table sem_ids = {.lock = SPINLOCK_INIT};
static struct list_node undos = LIST_HEAD_INIT(undos); /* sem_ids.lock */

static int tgid_now(void)
{
	struct task *t = current_task();
	return t->group ? t->group->tgid : t->pid;
}

/* The set changed: every waiter tries again. sem_ids.lock held. */
static void wake_all(struct sem_set *s)
{
	while (!list_empty(&s->waiters)) {
		struct sem_waiter *w = list_first_entry(&s->waiters, struct sem_waiter, link);
		list_del(&w->link);
		list_init(&w->link);
		__atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
		task_wake(w->task);
	}
}

static struct sem_undo *find_undo(int tgid, int semid)
{
	struct list_node *n;
	list_for_each(n, &undos)
	{
		struct sem_undo *u = list_entry(n, struct sem_undo, link);
		if (u->tgid == tgid && u->semid == semid)
			return u;
	}
	return NULL;
}

/* SETVAL/SETALL: the adjustments of semaphore num (-1: all) of semid are void. */
static void clear_undo(int semid, int num)
{
	struct list_node *n;
	list_for_each(n, &undos)
	{
		struct sem_undo *u = list_entry(n, struct sem_undo, link);
		if (u->semid != semid)
			continue;
		for (int i = 0; i < u->nsems; i++)
			if (num < 0 || i == num)
				u->adj[i] = 0;
	}
}

static void drop_undos(int semid)
{
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &undos)
	{
		struct sem_undo *u = list_entry(n, struct sem_undo, link);
		if (u->semid == semid) {
			list_del(n);
			kfree(u);
		}
	}
}

/* ---- semget ---- */

static struct ipc_obj *set_prepare(void *arg, int *err)
{
	int nsems = *(int *)arg;
	struct sem_set *s = nsems ? kzalloc(sizeof(*s) + (size_t)nsems * sizeof(s->sems[0])) : NULL;
	*err = nsems ? -ENOMEM : -EINVAL;
	if (!s)
		return NULL;
	s->nsems = nsems;
	s->ctime = ipc_now();
	list_init(&s->waiters);
	return &s->perm;
}

static int set_more(struct ipc_obj *o, void *arg)
{
	return *(int *)arg > container_of(o, struct sem_set, perm)->nsems ? -EINVAL : 0;
}

static void set_discard(struct ipc_obj *o)
{
	kfree(container_of(o, struct sem_set, perm));
}

static const struct ipc_get_ops set_get_ops = {set_prepare, set_more, set_discard};

static long sys_semget(const struct syscall_args *a)
{
	int nsems = (int)a->arg[1];
	if (nsems < 0 || nsems > SEMMSL)
		return -EINVAL;
	return ipc_get(&sem_ids, (int)a->arg[0], (int)a->arg[2], &set_get_ops, &nsems);
}
SYSCALL_DEFINE(64, sys_semget);

/* ---- semop ---- */

/* Try the whole list on s: 0 (applied, undo recorded in u), 1 (must wait), -EAGAIN (would
 * wait, IPC_NOWAIT), -ERANGE (a value or an adjustment out of range). Nothing changes unless
 * 0. sem_ids.lock held. */
static int try_ops(struct sem_set *s, const struct sembuf *ops, unsigned n, struct sem_undo *u)
{
	int vals[SEMOPM];
	for (unsigned i = 0; i < n; i++) {
		int v = s->sems[ops[i].num].val;
		for (unsigned j = 0; j < i; j++)
			if (ops[j].num == ops[i].num)
				v = vals[j]; /* the latest value of a semaphore named twice */
		int nv = v + ops[i].op;
		if ((ops[i].op == 0 && v != 0) || nv < 0)
			return (ops[i].flg & IPC_NOWAIT) ? -EAGAIN : 1;
		if (nv > SEMVMX)
			return -ERANGE;
		if ((ops[i].flg & SEM_UNDO) && u &&
		    (u->adj[ops[i].num] - ops[i].op < -SEMVMX - 1 ||
		     u->adj[ops[i].num] - ops[i].op > SEMVMX))
			return -ERANGE;
		vals[i] = nv;
	}
	for (unsigned i = 0; i < n; i++) {
		s->sems[ops[i].num].val = (uint16_t)vals[i];
		s->sems[ops[i].num].pid = tgid_now();
		if ((ops[i].flg & SEM_UNDO) && u)
			u->adj[ops[i].num] = (short)(u->adj[ops[i].num] - ops[i].op);
	}
	s->otime = ipc_now();
	return 0;
}

/* The set for semop's checks (Linux's order): -EINVAL, -EFBIG (a semaphore past the set),
 * -EACCES. sem_ids.lock held. */
static struct sem_set *op_set(int id, unsigned max, bool alter, int *err)
{
	struct ipc_obj *o = ipc_find_id(&sem_ids, id);
	struct sem_set *s = o ? container_of(o, struct sem_set, perm) : NULL;
	*err = !s			   ? -EINVAL
	       : max >= (unsigned)s->nsems ? -EFBIG
					   : ipc_perms(o, alter ? 0222 : 0444);
	return *err ? NULL : s;
}

/* This process's undo record for s, made from spare (kmalloc'd outside the lock, consumed
 * when used). sem_ids.lock held. */
static struct sem_undo *get_undo(struct sem_set *s, struct sem_undo **spare)
{
	struct sem_undo *u = find_undo(tgid_now(), s->perm.id);
	if (u || !*spare || (*spare)->nsems < s->nsems)
		return u;
	u = *spare;
	*spare = NULL;
	memset(u->adj, 0, (size_t)u->nsems * sizeof(u->adj[0]));
	u->tgid = tgid_now();
	u->semid = s->perm.id;
	list_add(&u->link, &undos);
	return u;
}

/* Apply ops to set id, waiting until deadline (0: none) while they cannot be. */
static long do_semop(int id, const struct sembuf *ops, unsigned n, unsigned max, bool alter,
		     bool undo, uint64_t deadline)
{
	struct sem_undo *spare = NULL;
	struct sem_waiter w = {.task = current_task()};
	int err;
	if (undo) { /* an undo record is made outside the lock, as big as the set */
		spin_lock(&sem_ids.lock);
		struct sem_set *s = op_set(id, max, alter, &err);
		int nsems = s ? s->nsems : 0;
		spin_unlock(&sem_ids.lock);
		if (!s)
			return err;
		spare = kzalloc(sizeof(*spare) + (size_t)nsems * sizeof(spare->adj[0]));
		if (!spare)
			return -ENOMEM;
		spare->nsems = nsems;
	}
	for (bool waited = false;; waited = true) {
		spin_lock(&sem_ids.lock);
		struct sem_set *s = op_set(id, max, alter, &err);
		if (!s && waited && err == -EINVAL)
			err = -EIDRM; /* removed while we waited */
		struct sem_undo *u = s && undo ? get_undo(s, &spare) : NULL;
		int r = !s ? err : undo && !u ? -ENOMEM : try_ops(s, ops, n, u);
		if (r == 0 && alter)
			wake_all(s);
		if (r == 1) {
			w.woken = 0;
			list_add_tail(&w.link, &s->waiters);
		}
		spin_unlock(&sem_ids.lock);
		if (r != 1) {
			kfree(spare);
			return r;
		}
		int slept = sched_sleep_until(deadline, &w.woken);
		spin_lock(&sem_ids.lock);
		if (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
			list_del(&w.link); /* still queued: nobody woke us */
		spin_unlock(&sem_ids.lock);
		if (slept == -EINTR || slept == -ETIMEDOUT) {
			kfree(spare);
			return slept == -EINTR ? -ERESTARTNOHAND : -EAGAIN;
		}
	}
}

/* semtimedop's checks, in Linux's order: the count, the copy, the timeout, then the set. */
static long semtimedop(int id, const void *usops, uint64_t nsops, const void *utimeout)
{
	static const uint64_t ns_per_s = 1000000000ull;
	struct sembuf ops[SEMOPM];
	struct {
		int64_t sec, nsec;
	} ts;
	uint64_t deadline = 0;
	if ((int64_t)nsops < 1 || id < 0)
		return -EINVAL;
	if (nsops > SEMOPM)
		return -E2BIG;
	if (arch_copy_from_user(ops, usops, nsops * sizeof(ops[0])))
		return -EFAULT;
	if (utimeout) {
		if (arch_copy_from_user(&ts, utimeout, sizeof(ts)))
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)ns_per_s)
			return -EINVAL;
		deadline = arch_time_ns() + (uint64_t)ts.sec * ns_per_s + (uint64_t)ts.nsec;
		deadline += !deadline; /* 0 means none */
	}
	unsigned max = 0;
	bool alter = false, undo = false;
	for (unsigned i = 0; i < nsops; i++) {
		max = MAX(max, ops[i].num);
		alter |= ops[i].op != 0;
		undo |= ops[i].flg & SEM_UNDO;
	}
	return do_semop(id, ops, (unsigned)nsops, max, alter, undo, deadline);
}

static long sys_semop(const struct syscall_args *a)
{
	return semtimedop((int)a->arg[0], (const void *)a->arg[1], a->arg[2], NULL);
}
SYSCALL_DEFINE(65, sys_semop);

static long sys_semtimedop(const struct syscall_args *a)
{
	return semtimedop((int)a->arg[0], (const void *)a->arg[1], a->arg[2],
			  (const void *)a->arg[3]);
}
SYSCALL_DEFINE(220, sys_semtimedop);

/* ---- semctl ---- */

/* GETALL and SETALL copy the values through a kernel array of the set's size. */
static long semctl_all(int id, int cmd, void *uarray)
{
	uint16_t *vals = kmalloc(SEMMSL * sizeof(uint16_t));
	long err = vals ? 0 : -ENOMEM;
	int n = 0;
	if (!err && cmd == SETALL) {
		spin_lock(&sem_ids.lock);
		struct ipc_obj *o = ipc_find_id(&sem_ids, id);
		n = o ? container_of(o, struct sem_set, perm)->nsems : 0;
		spin_unlock(&sem_ids.lock);
		err = !o ? -EINVAL : arch_copy_from_user(vals, uarray, (size_t)n * 2) ? -EFAULT : 0;
		for (int i = 0; !err && i < n; i++)
			err = vals[i] > SEMVMX ? -ERANGE : 0;
	}
	spin_lock(&sem_ids.lock);
	struct ipc_obj *o = err ? NULL : ipc_find_id(&sem_ids, id);
	struct sem_set *s = o ? container_of(o, struct sem_set, perm) : NULL;
	if (!err)
		err = !s ? -EINVAL : ipc_perms(o, cmd == SETALL ? 0222 : 0444);
	if (!err && cmd == SETALL && s->nsems != n)
		err = -EIDRM; /* replaced meanwhile */
	for (int i = 0; !err && i < s->nsems; i++) {
		if (cmd == SETALL) {
			s->sems[i].val = vals[i];
			s->sems[i].pid = tgid_now();
		} else {
			vals[i] = s->sems[i].val;
		}
	}
	if (!err && cmd == SETALL) {
		clear_undo(id, -1);
		s->ctime = ipc_now();
		wake_all(s);
	}
	n = s ? s->nsems : 0;
	spin_unlock(&sem_ids.lock);
	if (!err && cmd == GETALL && arch_copy_to_user(uarray, vals, (size_t)n * 2))
		err = -EFAULT;
	kfree(vals);
	return err;
}

/* GETVAL, GETPID, SETVAL of semaphore num. sem_ids.lock held. */
static long semctl_one(struct sem_set *s, int num, int cmd, uint64_t arg)
{
	int val = (int)arg;
	if (cmd == SETVAL && (val < 0 || val > SEMVMX))
		return -ERANGE;
	int err = ipc_perms(&s->perm, cmd == SETVAL ? 0222 : 0444);
	if (!err && (num < 0 || num >= s->nsems))
		err = -EINVAL;
	if (err || cmd != SETVAL)
		return err ? err : cmd == GETVAL ? s->sems[num].val : s->sems[num].pid;
	s->sems[num].val = (uint16_t)val;
	s->sems[num].pid = tgid_now();
	s->ctime = ipc_now();
	clear_undo(s->perm.id, num);
	wake_all(s);
	return 0;
}

/* IPC_RMID: waiters fail with EIDRM, undo records go. sem_ids.lock held; releases it. */
static long sem_rmid(struct sem_set *s)
{
	ipc_remove(&sem_ids, &s->perm);
	drop_undos(s->perm.id);
	wake_all(s);
	spin_unlock(&sem_ids.lock);
	kfree(s);
	return 0;
}

static long semctl_ipc(struct sem_set *s, int cmd, void *ubuf, const struct ipc64_perm *in)
{
	long err = cmd == IPC_STAT ? ipc_perms(&s->perm, 0444) : ipc_owner(&s->perm) ? 0 : -EPERM;
	struct semid64_ds ds = {.otime = s->otime, .ctime = s->ctime, .nsems = (uint64_t)s->nsems};
	if (!err && cmd == IPC_RMID)
		return sem_rmid(s);
	if (!err && cmd == IPC_SET) {
		ipc_set_perm(&s->perm, in);
		s->ctime = ipc_now();
	}
	ipc_fill_perm(&s->perm, &ds.perm);
	spin_unlock(&sem_ids.lock);
	if (!err && cmd == IPC_STAT && arch_copy_to_user(ubuf, &ds, sizeof(ds)))
		err = -EFAULT;
	return err;
}

static long sys_semctl(const struct syscall_args *a)
{
	int id = (int)a->arg[0], num = (int)a->arg[1], cmd = (int)a->arg[2];
	struct ipc64_perm in = {0};
	if (id < 0)
		return -EINVAL;
	if (cmd == GETALL || cmd == SETALL)
		return semctl_all(id, cmd, (void *)a->arg[3]);
	if (cmd != GETVAL && cmd != SETVAL && cmd != GETPID && cmd != IPC_STAT && cmd != IPC_SET &&
	    cmd != IPC_RMID)
		return -EINVAL; /* IPC_INFO, SEM_INFO, SEM_STAT, GETNCNT, GETZCNT: not in MCRK */
	if (cmd == IPC_SET && arch_copy_from_user(&in, (void *)a->arg[3], sizeof(in)))
		return -EFAULT;
	spin_lock(&sem_ids.lock);
	struct ipc_obj *o = ipc_find_id(&sem_ids, id);
	struct sem_set *s = o ? container_of(o, struct sem_set, perm) : NULL;
	if (s && (cmd == IPC_STAT || cmd == IPC_SET || cmd == IPC_RMID))
		return semctl_ipc(s, cmd, (void *)a->arg[3], &in);
	long r = s ? semctl_one(s, num, cmd, a->arg[3]) : -EINVAL;
	spin_unlock(&sem_ids.lock);
	return r;
}
SYSCALL_DEFINE(66, sys_semctl);

/* ---- process exit ---- */

void sem_exit(int tgid)
{
	struct list_node *n, *tmp;
	spin_lock(&sem_ids.lock);
	list_for_each_safe(n, tmp, &undos)
	{
		struct sem_undo *u = list_entry(n, struct sem_undo, link);
		if (u->tgid != tgid)
			continue;
		struct ipc_obj *o = ipc_find_id(&sem_ids, u->semid);
		struct sem_set *s = o ? container_of(o, struct sem_set, perm) : NULL;
		for (int i = 0; s && i < MIN(u->nsems, s->nsems); i++) {
			int v = s->sems[i].val + u->adj[i];
			s->sems[i].val = (uint16_t)(v < 0 ? 0 : v > SEMVMX ? SEMVMX : v);
			s->sems[i].pid = tgid;
		}
		if (s)
			wake_all(s);
		list_del(n);
		kfree(u);
	}
	spin_unlock(&sem_ids.lock);
}

/* ---- /proc/sysvipc/sem: every set, in Linux's columns ---- */

static int show_sem(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b,
		   "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      "
		   "ctime\n");
	spin_lock(&sem_ids.lock);
	for (unsigned i = 0; i < IPC_MNI; i++) {
		struct ipc_obj *o = sem_ids.slot[i];
		struct sem_set *s = o ? container_of(o, struct sem_set, perm) : NULL;
		if (s)
			ctl_printf(b, "%10d %10d  %4o %10d %5u %5u %5u %5u %10ld %10ld\n", o->key,
				   o->id, o->mode, s->nsems, o->uid, o->gid, o->cuid, o->cgid,
				   s->otime, s->ctime);
	}
	spin_unlock(&sem_ids.lock);
	return 0;
}

static const struct ctl_file sem_files[] = {{"/proc/sysvipc/sem", show_sem, NULL, NULL, 0, 0}};

void sem_init(void)
{
	ctl_register(sem_files, ARRAY_SIZE(sem_files), "sysvipc");
}
