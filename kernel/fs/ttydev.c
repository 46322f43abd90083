/* The console as a terminal device: /dev/console (5,1), /dev/ttyS0 (4,64) and /dev/tty (5,0,
 * the caller's controlling terminal) are one tty whose line discipline is kernel/tty/n_tty.c.
 * Bytes come from the serial port's receive interrupt into an arch ring; a work item feeds them
 * through the line discipline in process context (echo goes out as console text, so it never
 * lands inside a kernel line) and wakes readers. Job control follows Linux's
 * drivers/tty/tty_jobctrl.c: the terminal belongs to at most one session (TIOCSCTTY, or the
 * first open of /dev/ttyS0 by a session leader without one), whose foreground process group
 * (TIOCSPGRP) gets the ISIG signals; a background process that reads gets SIGTTIN, one that
 * changes the settings (or writes, with TOSTOP) gets SIGTTOU. The session loses the terminal
 * when its leader exits (noticed at the next use: no SIGHUP is sent then, docs/tty.md).
 * Locks: tty->lock (a mutex) guards the line discipline and the session; signals are sent
 * after it is dropped. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "kstring.h"
#include "mutex.h"
#include "sig.h"
#include "task.h"
#include "tty.h"
#include "vfs_priv.h"
#include "work.h"

#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TCSBRK 0x5409
#define TCXONC 0x540a
#define TCFLSH 0x540b
#define TIOCSCTTY 0x540e
#define TIOCGPGRP 0x540f
#define TIOCSPGRP 0x5410
#define TIOCOUTQ 0x5411
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define TIOCINQ 0x541b /* FIONREAD */
#define TIOCNOTTY 0x5422
#define TIOCGETD 0x5424
#define TCSBRKP 0x5425
#define TIOCGSID 0x5429
#define TCIFLUSH 0
#define TCIOFLUSH 2
#define SIGWINCH 28
#define TTY_MAJOR 4
#define TTYAUX_MAJOR 5
#define BOUNCE 256
#define NS_PER_DECISECOND 100000000ull
#define NOT_A_GET 1 /* tty_get: the request is not one it answers */

struct tty {
	struct mutex lock;
	struct tty_ldisc ld;
	struct winsize ws;
	bool has_session; /* session and pgrp are meaningful */
	int session, pgrp;
	uint64_t sigs; /* ISIG signals raised under the lock, sent after it (bit sig-1) */
	struct wait_list wait; /* readers and pollers */
	struct work rx_work;
};

static struct tty console_tty;

static void ld_echo(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_write(s, n);
}

static void ld_signal(void *ctx, int sig)
{
	struct tty *tty = ctx;
	tty->sigs |= BIT(sig - 1);
}

static const struct tty_ldisc_ops ld_ops = {.echo = ld_echo, .signal = ld_signal};

/* Send what the line discipline raised to the foreground group. tty->lock held; dropped. */
static void unlock_and_signal(struct tty *tty)
{
	uint64_t sigs = tty->sigs;
	int pgrp = tty->has_session ? tty->pgrp : 0;
	tty->sigs = 0;
	mutex_unlock(&tty->lock);
	for (int sig = 1; sigs; sig++, sigs >>= 1)
		if ((sigs & 1) && pgrp > 0)
			sig_send_pgrp(pgrp, sig);
}

/* The receive work: every byte the arch ring holds goes through the line discipline. */
static void tty_rx_work(void *arg)
{
	struct tty *tty = arg;
	uint8_t buf[BOUNCE];
	size_t n;
	mutex_lock(&tty->lock);
	while ((n = arch_console_rx_read(buf, sizeof(buf))))
		tty_ldisc_receive(&tty->ld, buf, n);
	unlock_and_signal(tty);
	wait_list_wake(&tty->wait);
}

/* Interrupt context: bytes arrived. */
static void tty_rx_notify(void)
{
	work_queue(&console_tty.rx_work);
}

/* Whether the process whose pid is sid still leads a live session. */
static bool session_alive(int sid)
{
	struct task *t = task_find(sid);
	bool ok = t && t->group && t->group->state == GROUP_LIVE && t->group->session_leader &&
		  t->group->sid == sid;
	if (t)
		task_put(t);
	return ok;
}

/* Whether tty is the current process's controlling terminal. tty->lock held. */
static bool is_ctty(struct tty *tty)
{
	const struct thread_group *g = current_task()->group;
	if (!tty->has_session || !g || g->sid != tty->session || g->no_ctty)
		return false;
	if (!session_alive(tty->session)) {
		tty->has_session = false;
		return false;
	}
	return true;
}

/* Make tty the controlling terminal of the current process's session (a leader's). */
static void set_ctty(struct tty *tty)
{
	struct thread_group *g = current_task()->group;
	tty->has_session = true;
	tty->session = g->sid;
	tty->pgrp = g->pgid;
	g->no_ctty = false;
}

/* Linux's tty_check_change/job_control for the current process: 0 to go on, or the error
 * sig_tty_background gives a background process. tty->lock held; dropped and retaken. */
static int check_background(struct tty *tty, int sig)
{
	if (!is_ctty(tty) || !tty->pgrp || current_task()->group->pgid == tty->pgrp)
		return 0;
	mutex_unlock(&tty->lock);
	int r = sig_tty_background(sig);
	mutex_lock(&tty->lock);
	return r;
}

static int tty_open(struct inode *inode, struct file *f)
{
	struct tty *tty = &console_tty;
	const struct thread_group *g = current_task()->group;
	int err = 0;
	f->fmode |= FMODE_STREAM;
	f->priv = tty;
	mutex_lock(&tty->lock);
	if (inode->rdev == MKDEV(TTYAUX_MAJOR, 0)) {
		if (!is_ctty(tty))
			err = -ENXIO; /* no controlling terminal */
	} else if (inode->rdev != MKDEV(TTYAUX_MAJOR, 1) && !(f->flags & O_NOCTTY) && g &&
		   g->session_leader && !is_ctty(tty) && !tty->has_session) {
		set_ctty(tty); /* /dev/console never becomes one by open, as on Linux */
	}
	mutex_unlock(&tty->lock);
	return err;
}

/* Wait for input: 0, -ETIMEDOUT at deadline_ns, -ERESTARTSYS for a signal. Lock dropped
 * meanwhile. */
static int tty_wait(struct tty *tty, uint64_t deadline_ns)
{
	struct poll_table pt;
	poll_table_init(&pt);
	poll_wait(&pt, &tty->wait);
	mutex_unlock(&tty->lock);
	int r = poll_table_sleep(&pt, deadline_ns);
	mutex_lock(&tty->lock);
	poll_table_free(&pt);
	return r == -EINTR ? -ERESTARTSYS : r;
}

/* Move what the line discipline gives into it: bytes copied, -EFAULT, or 0 with *eof. */
static long read_some(struct tty *tty, struct vfs_iter *it, bool *eof)
{
	uint8_t buf[BOUNCE];
	size_t k = tty_ldisc_read(&tty->ld, buf, MIN(it->count, sizeof(buf)), eof);
	if (k && iter_copy_to(it, buf, k) < k)
		return -EFAULT;
	return (long)k;
}

static long tty_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct tty *tty = f->priv;
	const uint8_t *cc = tty->ld.t.c_cc;
	long done = 0, err = 0;
	(void)pos;
	mutex_lock(&tty->lock);
	bool canon = tty->ld.t.c_lflag & ICANON;
	size_t min = canon ? 1 : MIN((size_t)cc[VMIN], it->count);
	uint64_t tenths = canon ? 0 : cc[VTIME], deadline = 0;
	if (tenths && !min)
		deadline = arch_time_ns() + tenths * NS_PER_DECISECOND;
	while (it->count && !(err = check_background(tty, SIGTTIN))) {
		bool eof = false;
		long k = read_some(tty, it, &eof);
		if (k < 0 || eof) {
			err = k;
			break;
		}
		done += k;
		if (k && tenths && min) /* MIN and TIME: TIME is the gap allowed between bytes */
			deadline = arch_time_ns() + tenths * NS_PER_DECISECOND;
		if ((canon && done) || (!canon && (size_t)done >= min && (done || !tenths)))
			break;
		if (f->flags & O_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		if ((err = tty_wait(tty, deadline))) {
			err = err == -ETIMEDOUT ? 0 : err;
			break;
		}
	}
	mutex_unlock(&tty->lock);
	return done ? done : err;
}

static long tty_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct tty *tty = f->priv;
	char buf[BOUNCE];
	long done = 0;
	(void)pos;
	if (tty->ld.t.c_lflag & TOSTOP) {
		mutex_lock(&tty->lock);
		int err = check_background(tty, SIGTTOU);
		mutex_unlock(&tty->lock);
		if (err)
			return err;
	}
	while (it->count) {
		size_t n = MIN(it->count, sizeof(buf)), k = iter_copy_from(it, buf, n);
		console_write(buf, k);
		done += (long)k;
		if (k < n)
			return done ? done : -EFAULT;
	}
	return done;
}

static unsigned tty_poll(struct file *f, struct poll_table *pt)
{
	struct tty *tty = f->priv;
	poll_wait(pt, &tty->wait);
	mutex_lock(&tty->lock);
	const uint8_t *cc = tty->ld.t.c_cc;
	bool in = tty_ldisc_ready(&tty->ld, cc[VTIME] ? 1 : cc[VMIN]);
	mutex_unlock(&tty->lock);
	return POLLOUT | POLLWRNORM | (in ? POLLIN | POLLRDNORM : 0);
}

/* TCSETS, TCSETSW, TCSETSF: a background process gets SIGTTOU first. Output is written
 * synchronously, so there is never output to drain for TCSETSW. */
static long set_termios(struct tty *tty, unsigned cmd, uint64_t arg)
{
	struct termios t;
	if (arch_copy_from_user(&t, (const void *)arg, sizeof(t)))
		return -EFAULT;
	mutex_lock(&tty->lock);
	int err = check_background(tty, SIGTTOU);
	if (!err) {
		if (cmd == TCSETSF)
			tty_ldisc_flush(&tty->ld);
		tty_ldisc_set_termios(&tty->ld, &t);
	}
	mutex_unlock(&tty->lock);
	if (!err)
		wait_list_wake(&tty->wait); /* a reader may be able to go on under the new rules */
	return err;
}

/* A member of the group asked for: in the terminal's session (sid at arg), or -EPERM. */
static long pgrp_check(struct task *leader, void *arg)
{
	return leader->group && leader->group->sid == *(int *)arg ? 0 : -EPERM;
}

/* TIOCSPGRP as Linux's tiocspgrp: the caller's controlling terminal, a group of its session. */
static long set_pgrp(struct tty *tty, uint64_t arg)
{
	int pgrp;
	if (arch_copy_from_user(&pgrp, (const void *)arg, sizeof(pgrp)))
		return -EFAULT;
	mutex_lock(&tty->lock);
	long err = check_background(tty, SIGTTOU);
	if (!err && !is_ctty(tty))
		err = -ENOTTY;
	else if (!err && pgrp < 0)
		err = -EINVAL;
	if (!err) {
		int sid = tty->session;
		err = pgrp ? task_for_each_in_pgrp(pgrp, pgrp_check, &sid) : -ESRCH;
		if (!err)
			tty->pgrp = pgrp;
	}
	mutex_unlock(&tty->lock);
	return err;
}

/* TIOCSCTTY as Linux's tiocsctty: a session leader without a terminal takes one that no session
 * has (steal, arg 1, is for CAP_SYS_ADMIN: every MCRK process has it). */
static long set_ctty_ioctl(struct tty *tty, uint64_t arg)
{
	const struct thread_group *g = current_task()->group;
	long err = 0;
	mutex_lock(&tty->lock);
	if (is_ctty(tty) && g->session_leader)
		err = 0;
	else if (!g || !g->session_leader || is_ctty(tty))
		err = -EPERM;
	else if (tty->has_session && session_alive(tty->session) && arg != 1)
		err = -EPERM;
	else
		set_ctty(tty);
	mutex_unlock(&tty->lock);
	return err;
}

/* TIOCNOTTY: a leader gives the terminal up for its session (its foreground group gets SIGHUP
 * and SIGCONT, as Linux's disassociate_ctty); another process only for itself. */
static long drop_ctty(struct tty *tty)
{
	struct thread_group *g = current_task()->group;
	mutex_lock(&tty->lock);
	if (!is_ctty(tty)) {
		mutex_unlock(&tty->lock);
		return -ENOTTY;
	}
	int fg = g->session_leader ? tty->pgrp : 0;
	if (g->session_leader)
		tty->has_session = false;
	else
		g->no_ctty = true;
	mutex_unlock(&tty->lock);
	if (fg > 0) {
		sig_send_pgrp(fg, SIGHUP);
		sig_send_pgrp(fg, SIGCONT);
	}
	return 0;
}

static long put_int(uint64_t arg, int v)
{
	return arch_copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
}

/* The ioctls that report: TCGETS, TIOCGWINSZ, TIOCGPGRP, TIOCGSID, TIOCINQ, TIOCOUTQ, TIOCGETD.
 * NOT_A_GET for others. */
static long tty_get(struct tty *tty, unsigned cmd, uint64_t arg)
{
	mutex_lock(&tty->lock);
	struct termios t = tty->ld.t;
	struct winsize ws = tty->ws;
	bool ctty = is_ctty(tty);
	int pgrp = tty->pgrp, sid = tty->session;
	int inq = (int)tty_ldisc_readable(&tty->ld);
	mutex_unlock(&tty->lock);
	switch (cmd) {
	case TCGETS:
		return arch_copy_to_user((void *)arg, &t, sizeof(t)) ? -EFAULT : 0;
	case TIOCGWINSZ:
		return arch_copy_to_user((void *)arg, &ws, sizeof(ws)) ? -EFAULT : 0;
	case TIOCGPGRP:
		return ctty ? put_int(arg, pgrp) : -ENOTTY;
	case TIOCGSID:
		return ctty ? put_int(arg, sid) : -ENOTTY;
	case TIOCINQ:
		return put_int(arg, inq);
	case TIOCOUTQ:
	case TIOCGETD: /* N_TTY is 0; output is never queued */
		return put_int(arg, 0);
	}
	return NOT_A_GET;
}

static long set_winsize(struct tty *tty, uint64_t arg)
{
	struct winsize ws;
	if (arch_copy_from_user(&ws, (const void *)arg, sizeof(ws)))
		return -EFAULT;
	mutex_lock(&tty->lock);
	bool changed = memcmp(&ws, &tty->ws, sizeof(ws)) != 0;
	tty->ws = ws;
	int fg = tty->has_session ? tty->pgrp : 0;
	mutex_unlock(&tty->lock);
	if (changed && fg > 0)
		sig_send_pgrp(fg, SIGWINCH);
	return 0;
}

static long tty_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct tty *tty = f->priv;
	long r = tty_get(tty, cmd, arg);
	if (r != NOT_A_GET)
		return r;
	switch (cmd) {
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return set_termios(tty, cmd, arg);
	case TIOCSWINSZ:
		return set_winsize(tty, arg);
	case TIOCSPGRP:
		return set_pgrp(tty, arg);
	case TIOCSCTTY:
		return set_ctty_ioctl(tty, arg);
	case TIOCNOTTY:
		return drop_ctty(tty);
	case TCFLSH:
		if (arg > TCIOFLUSH)
			return -EINVAL;
		mutex_lock(&tty->lock);
		if (arg == TCIFLUSH || arg == TCIOFLUSH)
			tty_ldisc_flush(&tty->ld);
		mutex_unlock(&tty->lock);
		return 0;
	case TCSBRK:
	case TCSBRKP:
	case TCXONC: /* output is synchronous: nothing to drain, stop or start */
		return 0;
	}
	return -ENOTTY;
}

const struct file_ops tty_fops = {.open = tty_open,
				  .read = tty_read,
				  .write = tty_write,
				  .ioctl = tty_ioctl,
				  .poll = tty_poll};

bool tty_session_info(int sid, int *pgrp)
{
	struct tty *tty = &console_tty;
	mutex_lock(&tty->lock);
	bool yes = tty->has_session && tty->session == sid && session_alive(sid);
	*pgrp = yes ? tty->pgrp : -1;
	mutex_unlock(&tty->lock);
	return yes;
}

void tty_init(void)
{
	struct tty *tty = &console_tty;
	mutex_init(&tty->lock);
	wait_list_init(&tty->wait);
	tty_ldisc_init(&tty->ld, &ld_ops, tty);
	tty->rx_work = (struct work){.fn = tty_rx_work, .arg = tty, .name = "tty-rx"};
	if (work_register(&tty->rx_work))
		return;
	arch_console_rx_start(tty_rx_notify);
}
