/* Waiting for files: wait lists (a pipe keeps one; every change wakes whoever waits on it),
 * poll tables (what one sleeper put itself on), and poll, ppoll, select and pselect6 with
 * their timeouts and signal masks. A sleeper registers on the lists first, then looks at the
 * files, then sleeps unless a waker came by meanwhile (the table's woken word, which
 * sched_sleep_until reads under the scheduler's lock): no wake-up is lost between looking and
 * sleeping. A signal ends the wait with -ERESTARTNOHAND (EINTR after a handler, restarted
 * after a stop); ppoll and pselect6 run with the mask they were given and put the caller's
 * back on the way out (sig_set_temp_mask). */
#include "arch/context.h"
#include "arch/cpu.h"
#include "kmalloc.h"
#include "kstring.h"
#include "sig.h"
#include "syscall.h"
#include "task.h"
#include "vfs_priv.h"

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
#define OOM_SLICE_NS (10 * NS_PER_MS) /* a table short of entries re-checks this often */
#define POLL_DEFAULT (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define POLLIN_SET (POLLRDNORM | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET POLLPRI

void wait_list_init(struct wait_list *wl)
{
	spin_init(&wl->lock);
	list_init(&wl->entries);
}

void wait_list_wake(struct wait_list *wl)
{
	struct list_node *n;
	spin_lock(&wl->lock);
	list_for_each(n, &wl->entries)
	{
		struct wait_entry *e = list_entry(n, struct wait_entry, link);
		__atomic_store_n(e->woken, 1, __ATOMIC_RELEASE);
		task_wake(e->task);
	}
	spin_unlock(&wl->lock);
}

void poll_table_init(struct poll_table *pt)
{
	memset(pt, 0, sizeof(*pt));
}

void poll_wait(struct poll_table *pt, struct wait_list *wl)
{
	if (!pt)
		return;
	if (pt->n == pt->cap) {
		/* Grow in place is impossible: entries are linked into lists. Chain a new array
		 * only while nothing is linked (the first pass fills the table before sleeping). */
		unsigned cap = pt->cap ? pt->cap * 2 : 16;
		struct wait_entry *e = kmalloc(cap * sizeof(*e));
		if (!e) {
			pt->oom = true;
			return;
		}
		for (unsigned i = 0; i < pt->n; i++) { /* relink every entry at its new place */
			struct wait_entry *old = &pt->entry[i];
			spin_lock(&old->list->lock);
			e[i] = *old;
			list_del(&old->link);
			list_add_tail(&e[i].link, &old->list->entries);
			spin_unlock(&old->list->lock);
		}
		kfree(pt->entry);
		pt->entry = e;
		pt->cap = cap;
	}
	struct wait_entry *e = &pt->entry[pt->n++];
	e->task = current_task();
	e->woken = &pt->woken;
	e->list = wl;
	spin_lock(&wl->lock);
	list_add_tail(&e->link, &wl->entries);
	spin_unlock(&wl->lock);
}

void poll_table_free(struct poll_table *pt)
{
	for (unsigned i = 0; i < pt->n; i++) {
		struct wait_entry *e = &pt->entry[i];
		spin_lock(&e->list->lock);
		list_del(&e->link);
		spin_unlock(&e->list->lock);
	}
	kfree(pt->entry);
	pt->entry = NULL;
	pt->n = pt->cap = 0;
}

int poll_table_sleep(struct poll_table *pt, uint64_t deadline_ns)
{
	uint64_t until = deadline_ns;
	if (pt->oom) {
		uint64_t slice = arch_time_ns() + OOM_SLICE_NS;
		until = until && until < slice ? until : slice;
	}
	int r = sched_sleep_until(until, &pt->woken);
	__atomic_store_n(&pt->woken, 0, __ATOMIC_RELAXED);
	if (r == -ETIMEDOUT && until != deadline_ns)
		return 0; /* only the short slice ended */
	return r;
}

/* ---- poll ---- */

struct kpollfd {
	int32_t fd;
	int16_t events, revents;
};

static unsigned poll_file(int fd, struct poll_table *pt)
{
	struct file *f = fget(fd);
	if (!f)
		return POLLNVAL;
	unsigned mask = f->fop->poll ? f->fop->poll(f, pt) : POLL_DEFAULT;
	fput(f);
	return mask;
}

/* One pass over fds; the number with events. */
static unsigned poll_pass(struct kpollfd *fds, unsigned n, struct poll_table *pt)
{
	unsigned count = 0;
	for (unsigned i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		unsigned mask = poll_file(fds[i].fd, pt);
		mask &= (unsigned)(uint16_t)fds[i].events | POLLERR | POLLHUP | POLLNVAL;
		fds[i].revents = (int16_t)mask;
		count += mask != 0;
	}
	return count;
}

/* Poll until something is ready, the deadline (0: none; UINT64_MAX: do not wait) or a signal. */
static long do_poll(struct kpollfd *fds, unsigned n, uint64_t deadline)
{
	struct poll_table pt;
	poll_table_init(&pt);
	long r;
	for (bool first = true;; first = false) {
		r = poll_pass(fds, n, first && deadline != UINT64_MAX ? &pt : NULL);
		if (r || deadline == UINT64_MAX)
			break;
		int s = poll_table_sleep(&pt, deadline);
		if (s == -ETIMEDOUT) {
			r = poll_pass(fds, n, NULL);
			break;
		}
		if (s == -EINTR) {
			r = -ERESTARTNOHAND;
			break;
		}
	}
	poll_table_free(&pt);
	return r;
}

/* The deadline of a relative timeout in ns (negative: none; 0: do not wait). */
static uint64_t deadline_in(int64_t ns)
{
	if (ns < 0)
		return 0;
	if (ns == 0)
		return UINT64_MAX;
	uint64_t d = arch_time_ns() + (uint64_t)ns;
	return d ? d : 1;
}

static long poll_common(void *ufds, uint64_t n, uint64_t deadline)
{
	if (n > fd_limit())
		return -EINVAL;
	struct kpollfd *fds = n ? kmalloc(n * sizeof(*fds)) : NULL;
	if (n && !fds)
		return -ENOMEM;
	long r = arch_copy_from_user(fds, ufds, n * sizeof(*fds)) ? -EFAULT : 0;
	if (!r)
		r = do_poll(fds, (unsigned)n, deadline);
	for (uint64_t i = 0; r >= 0 && i < n; i++)
		if (arch_copy_to_user((char *)ufds + i * sizeof(*fds) + 6, &fds[i].revents, 2))
			r = -EFAULT;
	kfree(fds);
	return r;
}

static long sys_poll(const struct syscall_args *a)
{
	int ms = (int)a->arg[2];
	return poll_common((void *)a->arg[0], a->arg[1],
			   deadline_in(ms < 0 ? -1 : (int64_t)ms * (int64_t)NS_PER_MS));
}
SYSCALL_DEFINE(7, sys_poll);

struct kts {
	int64_t sec, nsec;
};

/* A user timespec as a deadline (NULL: none). -EFAULT, -EINVAL. */
static int ts_deadline(const void *uts, uint64_t *deadline)
{
	struct kts ts;
	*deadline = 0;
	if (!uts)
		return 0;
	if (arch_copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_S)
		return -EINVAL;
	uint64_t ns = ts.sec > (int64_t)(INT64_MAX / NS_PER_S)
			  ? INT64_MAX
			  : (uint64_t)ts.sec * NS_PER_S + (uint64_t)ts.nsec;
	*deadline = deadline_in((int64_t)ns);
	return 0;
}

/* Write the time left until deadline back into a user timespec (ppoll, pselect6). */
static void ts_remaining(void *uts, uint64_t deadline)
{
	uint64_t now = arch_time_ns(),
		 left = deadline > now && deadline != UINT64_MAX ? deadline - now : 0;
	struct kts ts = {(int64_t)(left / NS_PER_S), (int64_t)(left % NS_PER_S)};
	if (uts && deadline)
		arch_copy_to_user(uts, &ts, sizeof(ts));
}

/* The signal mask argument of ppoll/pselect6 (NULL: none): applied for the call's rest. */
static int temp_mask(const void *umask, uint64_t size)
{
	uint64_t mask;
	if (!umask)
		return 0;
	if (size != sizeof(mask))
		return -EINVAL;
	if (arch_copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	sig_set_temp_mask(mask);
	return 1;
}

static long sys_ppoll(const struct syscall_args *a)
{
	uint64_t deadline;
	int err = ts_deadline((const void *)a->arg[2], &deadline);
	int masked = err ? err : temp_mask((const void *)a->arg[3], a->arg[4]);
	if (masked < 0)
		return masked;
	long r = poll_common((void *)a->arg[0], a->arg[1], deadline);
	ts_remaining((void *)a->arg[2], deadline);
	if (masked && r != -ERESTARTNOHAND)
		sig_restore_temp_mask();
	return r;
}
SYSCALL_DEFINE(271, sys_ppoll);

/* ---- select ---- */

#define FDSET_WORDS(n) (((n) + 63) / 64)

struct fdsets {
	uint64_t *in, *out, *ex, *res_in, *res_out, *res_ex;
};

/* One pass over fds [0, n): results into the res_ sets; the count, or -EBADF. */
static long select_pass(struct fdsets *s, unsigned n, struct poll_table *pt)
{
	long count = 0;
	for (unsigned fd = 0; fd < n; fd++) {
		uint64_t bit = BIT(fd % 64);
		unsigned w = fd / 64;
		bool in = s->in && (s->in[w] & bit), out = s->out && (s->out[w] & bit),
		     ex = s->ex && (s->ex[w] & bit);
		if (!in && !out && !ex)
			continue;
		unsigned mask = poll_file((int)fd, pt);
		if (mask & POLLNVAL)
			return -EBADF;
		if (in && (mask & POLLIN_SET))
			s->res_in[w] |= bit, count++;
		if (out && (mask & POLLOUT_SET))
			s->res_out[w] |= bit, count++;
		if (ex && (mask & POLLEX_SET))
			s->res_ex[w] |= bit, count++;
	}
	return count;
}

static long do_select(struct fdsets *s, unsigned n, uint64_t deadline)
{
	struct poll_table pt;
	size_t bytes = FDSET_WORDS(n) * 8;
	long r;
	poll_table_init(&pt);
	for (bool first = true;; first = false) {
		memset(s->res_in, 0, bytes);
		memset(s->res_out, 0, bytes);
		memset(s->res_ex, 0, bytes);
		r = select_pass(s, n, first && deadline != UINT64_MAX ? &pt : NULL);
		if (r || deadline == UINT64_MAX)
			break;
		int w = poll_table_sleep(&pt, deadline);
		if (w == -EINTR || w == -ETIMEDOUT) {
			r = w == -EINTR ? -ERESTARTNOHAND : 0;
			break;
		}
	}
	poll_table_free(&pt);
	return r;
}

/* select/pselect6 on the three user sets. */
static long select_common(int64_t n, void *uin, void *uout, void *uex, uint64_t deadline)
{
	if (n < 0)
		return -EINVAL;
	unsigned max = fd_limit();
	unsigned nfd = (unsigned)MIN((uint64_t)n, max);
	size_t bytes = FDSET_WORDS(nfd) * 8;
	uint64_t *mem = kzalloc(6 * bytes + 8);
	if (!mem)
		return -ENOMEM;
	size_t words = bytes / 8;
	struct fdsets s = {
	    uin ? mem : NULL, uout ? mem + words : NULL, uex ? mem + 2 * words : NULL,
	    mem + 3 * words,  mem + 4 * words,		 mem + 5 * words};
	long r = 0;
	if ((uin && arch_copy_from_user(s.in, uin, bytes)) ||
	    (uout && arch_copy_from_user(s.out, uout, bytes)) ||
	    (uex && arch_copy_from_user(s.ex, uex, bytes)))
		r = -EFAULT;
	if (!r)
		r = do_select(&s, nfd, deadline);
	if (r >= 0 && ((uin && arch_copy_to_user(uin, s.res_in, bytes)) ||
		       (uout && arch_copy_to_user(uout, s.res_out, bytes)) ||
		       (uex && arch_copy_to_user(uex, s.res_ex, bytes))))
		r = -EFAULT;
	kfree(mem);
	return r;
}

struct ktv {
	int64_t sec, usec;
};

static long sys_select(const struct syscall_args *a)
{
	struct ktv tv;
	void *utv = (void *)a->arg[4];
	uint64_t deadline = 0;
	if (utv) {
		if (arch_copy_from_user(&tv, utv, sizeof(tv)))
			return -EFAULT;
		tv.sec += tv.usec / 1000000; /* carried, as Linux's kern_select does */
		tv.usec %= 1000000;
		if (tv.sec < 0 || tv.usec < 0)
			return -EINVAL;
		uint64_t ns = tv.sec > (int64_t)(INT64_MAX / NS_PER_S)
				  ? INT64_MAX
				  : (uint64_t)tv.sec * NS_PER_S + (uint64_t)tv.usec * 1000;
		deadline = deadline_in((int64_t)ns);
	}
	long r = select_common((int64_t)(int)a->arg[0], (void *)a->arg[1], (void *)a->arg[2],
			       (void *)a->arg[3], deadline);
	if (utv) { /* Linux writes the time left back */
		uint64_t now = arch_time_ns();
		uint64_t left = deadline > now && deadline != UINT64_MAX ? deadline - now : 0;
		struct ktv rem = {(int64_t)(left / NS_PER_S), (int64_t)(left % NS_PER_S / 1000)};
		arch_copy_to_user(utv, &rem, sizeof(rem));
	}
	return r;
}
SYSCALL_DEFINE(23, sys_select);

static long sys_pselect6(const struct syscall_args *a)
{
	uint64_t deadline, sig[2] = {0, 0};
	int err = ts_deadline((const void *)a->arg[4], &deadline);
	if (err)
		return err;
	if (a->arg[5] && arch_copy_from_user(sig, (const void *)a->arg[5], sizeof(sig)))
		return -EFAULT;
	int masked = temp_mask((const void *)sig[0], sig[1]);
	if (masked < 0)
		return masked;
	long r = select_common((int64_t)(int)a->arg[0], (void *)a->arg[1], (void *)a->arg[2],
			       (void *)a->arg[3], deadline);
	ts_remaining((void *)a->arg[4], deadline);
	if (masked && r != -ERESTARTNOHAND)
		sig_restore_temp_mask();
	return r;
}
SYSCALL_DEFINE(270, sys_pselect6);
