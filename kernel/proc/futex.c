/* Futexes, as Linux's (kernel/futex/): FUTEX_WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP,
 * WAIT_BITSET and WAKE_BITSET, private or shared, with Linux's checks and results; the robust
 * lists (set_robust_list, get_robust_list, and their walk at exit); and clear_child_tid's wake.
 *
 * A waiter is keyed by (address space, address) for a private futex, or by what the page is
 * (vm_futex_key: the MAP_SHARED object, or the file) for a shared one, so that two processes
 * mapping one page meet. Waiters sit in hash chains under one lock, futex_lock. It is taken with
 * interrupts enabled and only from process context; the futex word is read (or changed by
 * WAKE_OP) under it, and a fault on that word is resolved right there (MCRK's page faults never
 * sleep; a CPU spinning on the lock still answers TLB-flush calls). sched_lock nests inside it.
 *
 * A word on a poisoned page: the read faults in the kernel, the user copy's fixup turns it into
 * -EFAULT, and nothing is signalled, as on Linux (a kernel-mode fault on a hwpoison entry takes
 * the exception fixup and sends no SIGBUS); the program gets SIGBUS BUS_MCEERR_AR when it
 * touches the word itself. A shared futex's key needs the page, so FUTEX_WAKE gives -EFAULT
 * there too, as Linux's get_user_pages does. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "futex.h"
#include "kerrno.h"
#include "printk.h"
#include "proc_priv.h"
#include "sig.h"
#include "syscall.h"
#include "vm.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define FUTEX_OP_OPARG_SHIFT 8u
#define ROBUST_LIST_LIMIT 2048
#define FUTEX_CHAINS 64

struct futex_waiter {
	struct list_node link;	 /* on its key's chain while queued */
	struct vm_futex_key key;
	uint32_t bitset;
	struct task *task;
	bool woken;		 /* taken off the chain by a waker */
};

static spinlock_t futex_lock = SPINLOCK_INIT;
static struct list_node chains[FUTEX_CHAINS];
static bool chains_ready;

static struct list_node *chain(const struct vm_futex_key *k)
{
	uint64_t h = ((uint64_t)(uintptr_t)k->object ^ k->offset) * 0x9e3779b97f4a7c15ull;
	return &chains[h >> 58];
}

static bool key_eq(const struct vm_futex_key *a, const struct vm_futex_key *b)
{
	return a->object == b->object && a->offset == b->offset;
}

/* futex_lock, with the chains set up on first use. */
static void futex_lock_take(void)
{
	spin_lock(&futex_lock);
	if (!chains_ready) {
		for (unsigned i = 0; i < FUTEX_CHAINS; i++)
			list_init(&chains[i]);
		chains_ready = true;
	}
}

/* Linux's get_futex_key: -EINVAL unaligned, -EFAULT outside user space (or, shared, nothing
 * mapped there). */
static long get_key(uint32_t *uaddr, bool shared, struct vm_futex_key *k)
{
	uint64_t a = (uint64_t)uaddr;
	struct mm *mm = current_task()->mm;
	if (a & 3)
		return -EINVAL;
	if (a >= USER_VA_END - sizeof(uint32_t) || !mm)
		return -EFAULT;
	if (shared)
		return vm_futex_key(mm, a, k);
	*k = (struct vm_futex_key){mm, a};
	return 0;
}

/* The keys of the two words REQUEUE, CMP_REQUEUE and WAKE_OP work on. */
static long get_keys(uint32_t *uaddr1, uint32_t *uaddr2, bool shared, struct vm_futex_key *k1,
		     struct vm_futex_key *k2)
{
	long err = get_key(uaddr1, shared, k1);
	return err ? err : get_key(uaddr2, shared, k2);
}

/* Wake up to nr waiters of k whose bitset meets bitset (nr <= 0 wakes one, as Linux).
 * futex_lock held: the waiters cannot leave before it is dropped. */
static int wake_locked(const struct vm_futex_key *k, int nr, uint32_t bitset)
{
	int n = 0;
	struct list_node *c = chain(k), *node, *tmp;
	list_for_each_safe(node, tmp, c)
	{
		struct futex_waiter *w = list_entry(node, struct futex_waiter, link);
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		list_del(&w->link);
		w->woken = true;
		task_wake(w->task);
		if (++n >= nr)
			break;
	}
	return n;
}

static long futex_wake(uint32_t *uaddr, bool shared, int nr, uint32_t bitset)
{
	struct vm_futex_key k;
	if (!bitset)
		return -EINVAL;
	long err = get_key(uaddr, shared, &k);
	if (err)
		return err;
	futex_lock_take();
	int n = wake_locked(&k, nr, bitset);
	spin_unlock(&futex_lock);
	return n;
}

long futex_wake_word(uint32_t *uaddr, int n) { return futex_wake(uaddr, true, n, FUTEX_BITSET_MATCH_ANY); }

/* Queue w if *uaddr still holds val and sleep until woken, a signal, or the deadline.
 * 1 when woken, 0 when something else ended the sleep, or -EAGAIN / -EFAULT. */
static long wait_once(uint32_t *uaddr, uint32_t val, struct futex_waiter *w, uint64_t deadline)
{
	struct task *t = current_task();
	uint32_t cur;
	futex_lock_take();
	if (arch_user_load_u32(uaddr, &cur)) {
		spin_unlock(&futex_lock);
		return -EFAULT;
	}
	if (cur != val) {
		spin_unlock(&futex_lock);
		return -EAGAIN;
	}
	w->woken = false;
	list_add_tail(&w->link, chain(&w->key));
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	spin_unlock(&futex_lock);
	/* A waker sets woken before task_wake takes sched_lock: checked under it, not lost. */
	if (!w->woken && !(READ_ONCE(t->flags) & TIF_SIGPENDING) && !sig_pending(t) &&
	    !(deadline && arch_time_ns() >= deadline))
		sleep_until_locked(deadline);
	spin_unlock_irqrestore(&sched_lock, f);
	futex_lock_take();
	bool woken = w->woken;
	if (!woken)
		list_del(&w->link);
	spin_unlock(&futex_lock);
	return woken;
}

static long futex_wait_restart(struct restart_block *rb);

/* FUTEX_WAIT / FUTEX_WAIT_BITSET; deadline is absolute (arch_time_ns), 0 for none. */
static long futex_wait(uint32_t *uaddr, unsigned flags, uint32_t val, uint64_t deadline,
		       uint32_t bitset)
{
	struct task *t = current_task();
	struct futex_waiter w = {.bitset = bitset, .task = t};
	if (!bitset)
		return -EINVAL;
	long err = get_key(uaddr, !(flags & FUTEX_PRIVATE_FLAG), &w.key);
	if (err)
		return err;
	for (;;) {
		err = wait_once(uaddr, val, &w, deadline);
		if (err)
			return err < 0 ? err : 0;
		if (deadline && arch_time_ns() >= deadline)
			return -ETIMEDOUT;
		if (sig_pending(t) || (READ_ONCE(t->flags) & TIF_SIGPENDING))
			break;
		/* A spurious wake-up: look at the word again, as Linux does. */
	}
	if (!deadline)
		return -ERESTARTSYS;
	t->restart = (struct restart_block){.fn = futex_wait_restart, .deadline_ns = deadline,
					    .uaddr = uaddr, .val = val, .bitset = bitset,
					    .flags = flags};
	return -ERESTART_RESTARTBLOCK;
}

static long futex_wait_restart(struct restart_block *rb)
{
	return futex_wait(rb->uaddr, rb->flags, rb->val, rb->deadline_ns, rb->bitset);
}

/* FUTEX_REQUEUE / FUTEX_CMP_REQUEUE (cmpval not NULL): wake nr_wake waiters of uaddr1, move up
 * to nr_requeue more to uaddr2. Returns how many were woken or moved. */
static long futex_requeue(uint32_t *uaddr1, bool shared, uint32_t *uaddr2, int nr_wake,
			  int nr_requeue, const uint32_t *cmpval)
{
	struct vm_futex_key k1, k2;
	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	long err = get_keys(uaddr1, uaddr2, shared, &k1, &k2);
	if (err)
		return err;
	futex_lock_take();
	uint32_t cur;
	if (cmpval && (err = arch_user_load_u32(uaddr1, &cur)) == 0 && cur != *cmpval)
		err = -EAGAIN;
	int count = 0;
	struct list_node *c1 = chain(&k1), *c2 = chain(&k2), *node, *tmp;
	list_for_each_safe(node, tmp, c1)
	{
		struct futex_waiter *w = list_entry(node, struct futex_waiter, link);
		if (err || count - nr_wake >= nr_requeue)
			break;
		if (!key_eq(&w->key, &k1))
			continue;
		if (++count <= nr_wake) {
			list_del(&w->link);
			w->woken = true;
			task_wake(w->task);
			continue;
		}
		w->key = k2;
		if (c1 != c2) {
			list_del(&w->link);
			list_add_tail(&w->link, c2);
		}
	}
	spin_unlock(&futex_lock);
	return err ? err : count;
}

/* WAKE_OP's operation on *uaddr (Linux's futex_atomic_op_inuser): the comparison's result
 * (0 or 1), or -ENOSYS for an unknown operation or comparison, -EFAULT. */
static long atomic_op(uint32_t encoded, uint32_t *uaddr)
{
	unsigned op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int32_t oparg = (int32_t)(encoded << 8) >> 20, cmparg = (int32_t)(encoded << 20) >> 20;
	if (encoded & (FUTEX_OP_OPARG_SHIFT << 28)) {
		if (oparg < 0 || oparg > 31)
			oparg &= 31; /* Linux warns and does the same */
		oparg = (int32_t)(1u << oparg);
	}
	if (op > 4)
		return -ENOSYS;
	uint32_t old, cur, new;
	if (arch_user_load_u32(uaddr, &old))
		return -EFAULT;
	for (;;) {
		uint32_t a = (uint32_t)oparg;
		new = op == 0 ? a : op == 1 ? old + a : op == 2 ? old | a : op == 3 ? old & ~a : old ^ a;
		if (arch_user_cmpxchg_u32(uaddr, old, new, &cur))
			return -EFAULT;
		if (cur == old)
			break;
		old = cur;
	}
	int32_t o = (int32_t)old;
	switch (cmp) {
	case 0: return o == cmparg;
	case 1: return o != cmparg;
	case 2: return o < cmparg;
	case 3: return o >= cmparg;
	case 4: return o <= cmparg;
	case 5: return o > cmparg;
	default: return -ENOSYS;
	}
}

static long futex_wake_op(uint32_t *uaddr1, bool shared, uint32_t *uaddr2, int nr_wake,
			  int nr_wake2, uint32_t op)
{
	struct vm_futex_key k1, k2;
	long err = get_keys(uaddr1, uaddr2, shared, &k1, &k2);
	if (err)
		return err;
	futex_lock_take();
	long op_ret = atomic_op(op, uaddr2);
	long n = 0;
	if (op_ret >= 0) {
		n = wake_locked(&k1, nr_wake, FUTEX_BITSET_MATCH_ANY);
		if (op_ret > 0)
			n += wake_locked(&k2, nr_wake2, FUTEX_BITSET_MATCH_ANY);
	}
	spin_unlock(&futex_lock);
	return op_ret < 0 ? op_ret : n;
}

/* The timeout of a waiting command, as an absolute arch_time_ns deadline (Linux's
 * futex_init_timeout: FUTEX_WAIT's is relative, the others' absolute, CLOCK_MONOTONIC unless
 * FUTEX_CLOCK_REALTIME). 0, -EFAULT, -EINVAL. */
static long get_deadline(int cmd, int op, const void *utime, uint64_t *deadline)
{
	struct ktimespec ts;
	if (arch_copy_from_user(&ts, utime, sizeof(ts)))
		return -EFAULT;
	if (!ts_valid(&ts))
		return -EINVAL;
	uint64_t ns = ts_to_ns(&ts);
	if (cmd == FUTEX_WAIT)
		*deadline = deadline_after(ns);
	else if (op & FUTEX_CLOCK_REALTIME)
		*deadline = ns > clock_realtime_offset() ? ns - clock_realtime_offset() : 1;
	else
		*deadline = ns ? ns : 1;
	return 0;
}

static bool has_timeout(int cmd)
{
	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

/* futex(uaddr, op, val, timeout or val2, uaddr2, val3). The priority-inheritance commands
 * (LOCK_PI, UNLOCK_PI, TRYLOCK_PI, the requeue-PI pair, LOCK_PI2) are not implemented:
 * -ENOSYS, which musl and glibc take as "no PI futexes". */
static long sys_futex(const struct syscall_args *a)
{
	uint32_t *uaddr = (uint32_t *)a->arg[0], *uaddr2 = (uint32_t *)a->arg[4];
	int op = (int)a->arg[1], cmd = op & FUTEX_CMD_MASK;
	uint32_t val = (uint32_t)a->arg[2], val2 = (uint32_t)a->arg[3], val3 = (uint32_t)a->arg[5];
	uint64_t deadline = 0;
	bool shared = !(op & FUTEX_PRIVATE_FLAG);
	if (a->arg[3] && has_timeout(cmd)) {
		long err = get_deadline(cmd, op, (const void *)a->arg[3], &deadline);
		if (err)
			return err;
	}
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET &&
	    cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(uaddr, (unsigned)op, val, deadline, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAIT_BITSET:
		return futex_wait(uaddr, (unsigned)op, val, deadline, val3);
	case FUTEX_WAKE:
		return futex_wake(uaddr, shared, (int)val, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAKE_BITSET:
		return futex_wake(uaddr, shared, (int)val, val3);
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, shared, uaddr2, (int)val, (int)val2, NULL);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, shared, uaddr2, (int)val, (int)val2, &val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, shared, uaddr2, (int)val, (int)val2, val3);
	default:
		return -ENOSYS;
	}
}
SYSCALL_DEFINE(202, sys_futex);

/* ---- robust lists ---- */

struct robust_list_head {
	uint64_t list; /* the first entry (bit 0: a PI futex), or &list itself when empty */
	int64_t futex_offset;
	uint64_t list_op_pending;
};

static long sys_set_robust_list(const struct syscall_args *a)
{
	if (a->arg[1] != sizeof(struct robust_list_head))
		return -EINVAL;
	current_task()->robust_list = a->arg[0];
	return 0;
}
SYSCALL_DEFINE(273, sys_set_robust_list);

static long sys_get_robust_list(const struct syscall_args *a)
{
	int pid = (int)a->arg[0];
	struct task *t = pid ? task_find(pid) : current_task();
	if (!t)
		return -ESRCH;
	uint64_t head = t->robust_list, len = sizeof(struct robust_list_head);
	if (pid)
		task_put(t);
	if (arch_copy_to_user((void *)a->arg[2], &len, sizeof(len)))
		return -EFAULT;
	return arch_copy_to_user((void *)a->arg[1], &head, sizeof(head)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(274, sys_get_robust_list);

/* Linux's handle_futex_death for one futex of the dying thread t. */
static void futex_death(struct task *t, uint32_t *uaddr, bool pi, bool pending_op)
{
	uint32_t uval, cur;
	if ((uint64_t)uaddr & 3)
		return;
	for (int tries = 0; tries < 64; tries++) {
		if (arch_user_load_u32(uaddr, &uval))
			return;
		uint32_t owner = uval & FUTEX_TID_MASK;
		if (pending_op && !pi && !owner) {
			futex_wake(uaddr, true, 1, FUTEX_BITSET_MATCH_ANY);
			return;
		}
		if (owner != (uint32_t)t->pid)
			return;
		uint32_t mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		if (arch_user_cmpxchg_u32(uaddr, uval, mval, &cur))
			return;
		if (cur != uval)
			continue; /* it changed under us: look again */
		if (!pi && (uval & FUTEX_WAITERS))
			futex_wake(uaddr, true, 1, FUTEX_BITSET_MATCH_ANY);
		return;
	}
}

static bool fetch_entry(uint64_t uptr, uint64_t *entry, bool *pi)
{
	uint64_t v;
	if (arch_copy_from_user(&v, (const void *)uptr, sizeof(v)))
		return false;
	*entry = v & ~1ull;
	*pi = v & 1;
	return true;
}

void futex_exit_robust_list(struct task *t)
{
	uint64_t head_addr = t->robust_list, entry, pending, next;
	struct robust_list_head head;
	bool pi, pending_pi, next_pi;
	t->robust_list = 0;
	if (!head_addr || !t->mm || arch_copy_from_user(&head, (const void *)head_addr, sizeof(head)))
		return;
	if (!fetch_entry(head_addr, &entry, &pi) ||
	    !fetch_entry(head_addr + offsetof(struct robust_list_head, list_op_pending), &pending,
			 &pending_pi))
		return;
	for (unsigned limit = ROBUST_LIST_LIMIT; entry != head_addr && limit; limit--) {
		bool ok = fetch_entry(entry, &next, &next_pi);
		if (entry != pending)
			futex_death(t, (uint32_t *)(entry + (uint64_t)head.futex_offset), pi, false);
		if (!ok)
			return;
		entry = next;
		pi = next_pi;
	}
	if (pending)
		futex_death(t, (uint32_t *)(pending + (uint64_t)head.futex_offset), pending_pi, true);
}
