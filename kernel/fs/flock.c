/* flock(2), as Linux's fs/locks.c keeps BSD locks: a lock belongs to an open file description
 * (every descriptor dup or fork made of it shares it), is shared (LOCK_SH) or exclusive
 * (LOCK_EX) on the whole file, and goes with LOCK_UN or the description's last close. A
 * conflicting request waits (LOCK_NB: EWOULDBLOCK) until a holder lets go; a signal ends the
 * wait (restarted with SA_RESTART). Converting a lock drops the old one first, as Linux does.
 * Lock: flock_lock, a leaf spinlock over every inode's holder list and the waiters; never held
 * across a sleep, so fput (which may run under mm->lock) can release a lock. */
#include "kmalloc.h"
#include "syscall.h"
#include "task.h"
#include "vfs_priv.h"

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

struct flock_holder {
	struct list_node link; /* on inode->flocks */
	struct file *file;
	bool excl;
};

struct flock_waiter {
	struct list_node link;
	struct task *task;
	uint32_t woken;
};

static spinlock_t flock_lock = SPINLOCK_INIT;
static struct list_node waiters = LIST_HEAD_INIT(waiters);

/* The holder of f on its inode, or NULL. flock_lock held. */
static struct flock_holder *find(struct file *f)
{
	struct list_node *n;
	if (!f->inode->flocks.next)
		list_init(&f->inode->flocks); /* a new inode's list, zeroed */
	list_for_each(n, &f->inode->flocks)
	{
		struct flock_holder *h = list_entry(n, struct flock_holder, link);
		if (h->file == f)
			return h;
	}
	return NULL;
}

/* Whether another description holds a lock that excl (or shared) conflicts with. */
static bool conflicts(struct file *f, bool excl)
{
	struct list_node *n;
	list_for_each(n, &f->inode->flocks)
	{
		struct flock_holder *h = list_entry(n, struct flock_holder, link);
		if (h->file != f && (excl || h->excl))
			return true;
	}
	return false;
}

/* A lock went: every waiter looks again. flock_lock held. */
static void wake_waiters(void)
{
	while (!list_empty(&waiters)) {
		struct flock_waiter *w = list_first_entry(&waiters, struct flock_waiter, link);
		list_del(&w->link);
		__atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
		task_wake(w->task);
	}
}

/* Drop f's lock, if any. flock_lock held. */
static void unlock_locked(struct file *f)
{
	struct flock_holder *h = find(f);
	if (h) {
		list_del(&h->link);
		kfree(h);
		wake_waiters();
	}
}

void flock_release(struct file *f)
{
	if (!READ_ONCE(f->inode->flocks.next))
		return; /* never locked */
	spin_lock(&flock_lock);
	unlock_locked(f);
	spin_unlock(&flock_lock);
}

/* Take a lock for f (excl or shared), waiting unless nb. */
static long lock_file(struct file *f, bool excl, bool nb)
{
	struct flock_holder *fresh = kzalloc(sizeof(*fresh));
	struct flock_waiter w = {.task = current_task()};
	if (!fresh)
		return -ENOMEM;
	for (;;) {
		spin_lock(&flock_lock);
		struct flock_holder *h = find(f);
		if (h && h->excl == excl) {
			spin_unlock(&flock_lock);
			kfree(fresh);
			return 0; /* held already */
		}
		if (h)
			unlock_locked(f); /* a conversion drops the old lock first */
		bool busy = conflicts(f, excl);
		if (!busy) {
			*fresh = (struct flock_holder){.file = f, .excl = excl};
			list_add_tail(&fresh->link, &f->inode->flocks);
		} else if (!nb) {
			w.woken = 0;
			list_add_tail(&w.link, &waiters);
		}
		spin_unlock(&flock_lock);
		if (!busy)
			return 0;
		if (nb) {
			kfree(fresh);
			return -EAGAIN; /* EWOULDBLOCK */
		}
		int r = sched_sleep_until(0, &w.woken);
		spin_lock(&flock_lock);
		if (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
			list_del(&w.link);
		spin_unlock(&flock_lock);
		if (r == -EINTR) {
			kfree(fresh);
			return -ERESTARTSYS;
		}
	}
}

static long sys_flock(const struct syscall_args *a)
{
	unsigned op = (unsigned)a->arg[1], cmd = op & ~(unsigned)LOCK_NB;
	struct file *f = fget((int)a->arg[0]);
	long r;
	if (!f)
		return -EBADF;
	if (cmd == LOCK_UN)
		r = (flock_release(f), 0);
	else if (cmd == LOCK_SH || cmd == LOCK_EX)
		r = lock_file(f, cmd == LOCK_EX, op & LOCK_NB);
	else
		r = -EINVAL;
	fput(f);
	return r;
}
SYSCALL_DEFINE(73, sys_flock);
