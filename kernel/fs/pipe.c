/* Pipes and FIFOs, as Linux's fs/pipe.c: a ring of page-sized slots (16 by default: 64 KiB),
 * a read end and a write end. A write first tops up the last slot with the part of it that is
 * not a whole number of pages, when that part fits there, then fills fresh slots a page at a
 * time; a slot is free again only once it is read to its end. So a write of at most PIPE_BUF
 * (4096) bytes goes in whole or waits, a longer one goes in page by page as slots free up; with
 * no reader left a write gets SIGPIPE and -EPIPE. A read takes what there is (0 once no writer
 * is left), waiting while the pipe is empty. O_NONBLOCK turns every wait into -EAGAIN; a
 * signal ends a wait with the bytes moved so far, else -ERESTARTSYS.
 * pipe(2) and pipe2(2) make an unnamed pipe (an inode of an internal pipefs, so fstat says
 * S_IFIFO); a FIFO made by mknod gets its pipe at its first open, and opening one end waits
 * for the other (O_RDONLY and O_WRONLY), or fails with -ENXIO (O_WRONLY|O_NONBLOCK and no
 * reader), as Linux's fifo_open. F_GETPIPE_SZ and F_SETPIPE_SZ (up to 1 MiB) are here too.
 * Locks: pipe->m (a mutex) guards the ring and the counts; the wait list's spinlock is a leaf. */
#include "arch/context.h"
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "sig.h"
#include "syscall.h"
#include "task.h"
#include "vfs_priv.h"

#define PIPE_DEF_SLOTS 16
#define PIPE_MAX_SIZE (1024 * 1024) /* /proc/sys/fs/pipe-max-size's default */
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define PIPEFS_MAGIC 0x50495045

struct pipe_slot {
	struct page *page;
	uint32_t offset, len; /* the unread bytes of the page */
};

struct pipe {
	struct mutex m;
	struct wait_list wait; /* readers, writers and pollers */
	struct pipe_slot *slots;
	unsigned nslots;	       /* a power of two */
	unsigned head, tail;	       /* slots written and read so far (head - tail in use) */
	unsigned readers, writers;     /* open ends */
	unsigned r_counter, w_counter; /* ends ever opened (a FIFO open waits for a change) */
};

static struct mutex fifo_lock = {.waiters = {LIST_HEAD_INIT(fifo_lock.waiters.waiters)}};

static bool pipe_empty(const struct pipe *p)
{
	return p->head == p->tail;
}
static bool pipe_full(const struct pipe *p)
{
	return p->head - p->tail >= p->nslots;
}
static struct pipe_slot *slot(struct pipe *p, unsigned n)
{
	return &p->slots[n & (p->nslots - 1)];
}

static struct pipe *pipe_new(void)
{
	struct pipe *p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->slots = kzalloc(PIPE_DEF_SLOTS * sizeof(*p->slots));
	if (!p->slots) {
		kfree(p);
		return NULL;
	}
	p->nslots = PIPE_DEF_SLOTS;
	mutex_init(&p->m);
	wait_list_init(&p->wait);
	return p;
}

static void pipe_free(struct pipe *p)
{
	for (unsigned n = p->tail; n != p->head; n++)
		frame_free(slot(p, n)->page, 0);
	kfree(p->slots);
	kfree(p);
}

/* Sleep until the pipe changes or a signal comes. pipe->m held; dropped meanwhile. */
static int pipe_wait(struct pipe *p)
{
	struct poll_table pt;
	poll_table_init(&pt);
	poll_wait(&pt, &p->wait);
	mutex_unlock(&p->m);
	int r = poll_table_sleep(&pt, 0);
	mutex_lock(&p->m);
	poll_table_free(&pt);
	return r == -EINTR ? -ERESTARTSYS : 0;
}

/* Read from the oldest slot; a slot read to its end is freed. Bytes read, or -EFAULT. */
static long read_slot(struct pipe *p, struct vfs_iter *it)
{
	struct pipe_slot *s = slot(p, p->tail);
	size_t n = MIN(s->len, it->count);
	size_t k = iter_copy_to(it, (uint8_t *)page_to_virt(s->page) + s->offset, n);
	s->offset += (uint32_t)k;
	s->len -= (uint32_t)k;
	if (!s->len) {
		frame_free(s->page, 0);
		s->page = NULL;
		p->tail++;
	}
	return k < n ? -EFAULT : (long)k;
}

static long pipe_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct pipe *p = f->priv;
	long done = 0, err = 0;
	(void)pos;
	mutex_lock(&p->m);
	while (it->count) {
		if (!pipe_empty(p)) {
			long k = read_slot(p, it);
			wait_list_wake(&p->wait);
			if (k < 0) {
				err = k;
				break;
			}
			done += k;
			continue;
		}
		if (done || !p->writers)
			break;
		if (f->flags & O_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		err = pipe_wait(p);
		if (err)
			break;
	}
	mutex_unlock(&p->m);
	return done ? done : err;
}

static void send_sigpipe(void)
{
	struct task *t = current_task();
	struct ksiginfo i = {.si_signo = SIGPIPE, .si_code = SI_USER};
	i.u.kill.pid = t->pid;
	sig_send(t, &i);
}

/* The part of a write that is not whole pages goes into the last slot when it fits there
 * (small writes share a page). Bytes taken (0 or all of chars), or -EFAULT. */
static long merge_tail(struct pipe *p, struct vfs_iter *it, size_t chars)
{
	if (!chars || pipe_empty(p))
		return 0;
	struct pipe_slot *s = slot(p, p->head - 1);
	if (s->offset + s->len + chars > PAGE_SIZE)
		return 0;
	size_t k = iter_copy_from(it, (uint8_t *)page_to_virt(s->page) + s->offset + s->len, chars);
	s->len += (uint32_t)k;
	return k < chars ? -EFAULT : (long)k;
}

/* Fill a fresh slot with up to a page. Bytes taken, -ENOMEM, or -EFAULT (a fault in the
 * middle: that page's bytes are dropped, as Linux drops them). */
static long fill_slot(struct pipe *p, struct vfs_iter *it)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	if (!pg)
		return -ENOMEM;
	size_t n = MIN(PAGE_SIZE, it->count), k = iter_copy_from(it, page_to_virt(pg), n);
	if (k < n) {
		frame_free(pg, 0);
		return -EFAULT;
	}
	*slot(p, p->head++) = (struct pipe_slot){pg, 0, (uint32_t)k};
	return (long)k;
}

static long pipe_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct pipe *p = f->priv;
	long done = 0, err = 0;
	(void)pos;
	mutex_lock(&p->m);
	if (p->readers) {
		done = merge_tail(p, it, it->count % PAGE_SIZE);
		err = done < 0 ? done : 0;
		done = done < 0 ? 0 : done;
		if (done)
			wait_list_wake(&p->wait);
	}
	while (!err && it->count) {
		if (!p->readers) {
			send_sigpipe();
			err = -EPIPE;
		} else if (!pipe_full(p)) {
			long k = fill_slot(p, it);
			wait_list_wake(&p->wait);
			if (k > 0)
				done += k;
			err = k < 0 ? (int)k : 0;
		} else if (f->flags & O_NONBLOCK) {
			err = -EAGAIN;
		} else {
			err = pipe_wait(p);
		}
	}
	mutex_unlock(&p->m);
	return done ? done : err;
}

/* The bytes waiting in the pipe. pipe->m held. */
static unsigned pipe_bytes(struct pipe *p)
{
	unsigned n = 0;
	for (unsigned i = p->tail; i != p->head; i++)
		n += slot(p, i)->len;
	return n;
}

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->priv;
	unsigned mask = 0;
	poll_wait(pt, &p->wait);
	mutex_lock(&p->m);
	if (f->fmode & FMODE_READ) {
		mask |= pipe_empty(p) ? 0 : POLLIN | POLLRDNORM;
		mask |= p->writers ? 0 : POLLHUP;
	}
	if (f->fmode & FMODE_WRITE) {
		mask |= pipe_full(p) ? 0 : POLLOUT | POLLWRNORM;
		mask |= p->readers ? 0 : POLLERR;
	}
	mutex_unlock(&p->m);
	return mask;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	mutex_lock(&fifo_lock);
	mutex_lock(&p->m);
	p->readers -= (f->fmode & FMODE_READ) ? 1 : 0;
	p->writers -= (f->fmode & FMODE_WRITE) ? 1 : 0;
	bool last = !p->readers && !p->writers;
	wait_list_wake(&p->wait);
	mutex_unlock(&p->m);
	if (last && f->inode->pipe == p)
		f->inode->pipe = NULL; /* a FIFO starts empty at its next open */
	mutex_unlock(&fifo_lock);
	if (last)
		pipe_free(p);
}

static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct pipe *p = f->priv;
	if (cmd != 0x541b) /* FIONREAD */
		return -ENOTTY;
	mutex_lock(&p->m);
	int n = (int)pipe_bytes(p);
	mutex_unlock(&p->m);
	return arch_copy_to_user((void *)arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static const struct file_ops pipe_fops = {.read = pipe_read,
					  .write = pipe_write,
					  .poll = pipe_poll,
					  .release = pipe_release,
					  .ioctl = pipe_ioctl};

/* Move the slots in use into a ring of n (F_SETPIPE_SZ). pipe->m held. */
static long pipe_resize(struct pipe *p, unsigned n)
{
	if (p->head - p->tail > n)
		return -EBUSY;
	struct pipe_slot *slots = kzalloc(n * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	unsigned used = p->head - p->tail;
	for (unsigned i = 0; i < used; i++)
		slots[i] = *slot(p, p->tail + i);
	kfree(p->slots);
	p->slots = slots;
	p->nslots = n;
	p->tail = 0;
	p->head = used;
	return (long)n * (long)PAGE_SIZE;
}

long pipe_fcntl(struct file *f, int cmd, uint64_t arg)
{
	if (f->fop != &pipe_fops)
		return -EBADF;
	struct pipe *p = f->priv;
	long r;
	if (cmd == F_GETPIPE_SZ)
		return (long)p->nslots * (long)PAGE_SIZE;
	if ((unsigned)arg > PIPE_MAX_SIZE)
		return -EPERM; /* pipe-max-size is a hard limit in MCRK, root or not */
	unsigned n = 1;
	while ((uint64_t)n * PAGE_SIZE < (unsigned)arg)
		n *= 2;
	mutex_lock(&p->m);
	r = n == p->nslots ? (long)n * (long)PAGE_SIZE : pipe_resize(p, n);
	mutex_unlock(&p->m);
	return r;
}

/* ---- FIFOs ---- */

/* Wait (FIFO open) until *counter moves from seen. fifo_lock held; dropped meanwhile. */
static int fifo_wait(struct pipe *p, const unsigned *counter, unsigned seen)
{
	while (READ_ONCE(*counter) == seen) {
		struct poll_table pt;
		poll_table_init(&pt);
		poll_wait(&pt, &p->wait);
		mutex_unlock(&fifo_lock);
		int r = poll_table_sleep(&pt, 0);
		poll_table_free(&pt);
		mutex_lock(&fifo_lock);
		if (r == -EINTR)
			return -ERESTARTSYS;
	}
	return 0;
}

static int fifo_open(struct inode *inode, struct file *f)
{
	int err = 0;
	mutex_lock(&fifo_lock);
	struct pipe *p = inode->pipe;
	if (!p && !(p = inode->pipe = pipe_new())) {
		mutex_unlock(&fifo_lock);
		return -ENOMEM;
	}
	f->priv = p;
	f->fop = &pipe_fops;
	f->fmode |= FMODE_STREAM;
	bool rd = f->fmode & FMODE_READ, wr = f->fmode & FMODE_WRITE;
	p->readers += rd;
	p->writers += wr;
	p->r_counter += rd;
	p->w_counter += wr;
	wait_list_wake(&p->wait);
	if (rd && !wr && !p->writers && !(f->flags & O_NONBLOCK))
		err = fifo_wait(p, &p->w_counter, p->w_counter);
	if (wr && !rd && !p->readers)
		err = (f->flags & O_NONBLOCK) ? -ENXIO : fifo_wait(p, &p->r_counter, p->r_counter);
	if (err) {
		p->readers -= rd;
		p->writers -= wr;
		if (!p->readers && !p->writers) {
			inode->pipe = NULL;
			pipe_free(p);
		}
	}
	mutex_unlock(&fifo_lock);
	return err;
}

const struct file_ops fifo_fops = {.open = fifo_open};

/* ---- pipe(2) ---- */

static struct mount *pipe_mnt;

static struct file *pipe_end(struct path *p, struct pipe *pp, unsigned flags)
{
	int err;
	struct file *f = file_open_path(p, flags, &err);
	if (f) {
		f->priv = pp;
		f->fmode |= FMODE_STREAM;
	}
	return f;
}

/* A new pipe's two open files (read end, write end) with status flags. */
static int make_pipe(unsigned flags, struct file **rf, struct file **wf)
{
	struct inode *inode = pipe_mnt ? inode_new(pipe_mnt->sb, S_IFIFO | 0600) : NULL;
	struct dentry *d = inode ? d_alloc(pipe_mnt->root, "pipe", 4) : NULL;
	struct pipe *p = d ? pipe_new() : NULL;
	if (!p) {
		if (d)
			dput(d);
		else if (inode)
			inode_put(inode);
		return -ENOMEM;
	}
	inode->fop = &pipe_fops;
	d->inode = inode;
	struct path path = {pipe_mnt, d};
	p->readers = p->writers = 1;
	*rf = pipe_end(&path, p, O_RDONLY | (flags & O_NONBLOCK));
	*wf = *rf ? pipe_end(&path, p, O_WRONLY | (flags & O_NONBLOCK)) : NULL;
	dput(d);
	if (!*wf) {
		if (*rf) {
			(*rf)->fop = NULL; /* the pipe goes here, not through a release */
			fput(*rf);
		}
		pipe_free(p);
		return -ENOMEM;
	}
	return 0;
}

static long do_pipe2(int *ufds, uint64_t flags)
{
	struct file *rf, *wf;
	if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL; /* O_DIRECT (packet mode) and notification pipes: not in MCRK */
	bool cloexec = flags & O_CLOEXEC;
	int fds[2] = {fd_reserve(cloexec), -1};
	if (fds[0] >= 0)
		fds[1] = fd_reserve(cloexec);
	int err = fds[0] < 0 ? fds[0] : fds[1] < 0 ? fds[1] : make_pipe((unsigned)flags, &rf, &wf);
	if (!err && arch_copy_to_user(ufds, fds, sizeof(fds))) {
		fput(rf);
		fput(wf);
		err = -EFAULT;
	}
	if (err) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				fd_unreserve(fds[i]);
		return err;
	}
	fd_commit(fds[0], rf);
	fd_commit(fds[1], wf);
	return 0;
}

static long sys_pipe(const struct syscall_args *a)
{
	return do_pipe2((int *)a->arg[0], 0);
}
SYSCALL_DEFINE(22, sys_pipe);

static long sys_pipe2(const struct syscall_args *a)
{
	return do_pipe2((int *)a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(293, sys_pipe2);

/* The internal file system the inodes of unnamed pipes belong to (never mounted). */
void pipe_init(void);
static struct fs_type pipefs_type = {.name = "pipefs"};

void pipe_init(void)
{
	struct super_block *sb = kzalloc(sizeof(*sb));
	struct inode *root = sb ? inode_new(sb, S_IFDIR | 0500) : NULL;
	if (!root)
		return;
	sb->type = &pipefs_type;
	sb->refs = 1;
	sb->magic = PIPEFS_MAGIC;
	sb->root = d_make_root(sb, root);
	pipe_mnt = sb->root ? vfs_kern_mount(sb) : NULL;
}
