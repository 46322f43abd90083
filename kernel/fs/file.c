/* Open files, descriptor tables and fs contexts. An open file (struct file) is an open file
 * description: its offset and status flags are shared by every descriptor dup, dup2, fcntl and
 * fork made of it. A task's descriptor table and its fs context (root, working directory,
 * umask) are separate reference-counted objects, so threads can share either (CLONE_FILES,
 * CLONE_FS) while processes get copies. A table grows on demand up to fd_limit() descriptors
 * (the process's RLIMIT_NOFILE, 1024 unless changed, at most TASK_MAX_FILES); past it,
 * -EMFILE.
 * Also here: close, dup, dup2, dup3 and fcntl. */
#include "arch/context.h"
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "task.h"
#include "vfs_priv.h"

#define FDT_FIRST_CAP 64
#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define F_DUPFD_CLOEXEC 1030
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define FD_CLOEXEC 1

struct fd_table {
	int32_t refs;
	spinlock_t lock;
	unsigned cap;
	struct file **fd;
	uint64_t *cloexec; /* one bit per slot */
};

struct fs_context {
	int32_t refs;
	spinlock_t lock;
	struct path root, pwd;
	unsigned umask;
};

/* A slot kept by fd_reserve for an open in progress: no file yet. */
#define FD_RESERVED ((struct file *)1)

static struct file *slot_file(struct file *f)
{
	return f == FD_RESERVED ? NULL : f;
}

unsigned fd_limit(void)
{
	return (unsigned)MIN(task_rlimit(RLIMIT_NOFILE), (uint64_t)TASK_MAX_FILES);
}

/* ---- open files ---- */

static int get_write_access(struct inode *inode)
{
	int32_t w = __atomic_load_n(&inode->writers, __ATOMIC_RELAXED);
	do {
		if (w < 0)
			return -ETXTBSY;
	} while (!__atomic_compare_exchange_n(&inode->writers, &w, w + 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return 0;
}

static unsigned fmode_of(unsigned flags)
{
	if (flags & O_PATH)
		return FMODE_PATH;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return FMODE_READ;
	case O_WRONLY:
		return FMODE_WRITE;
	case O_RDWR:
		return FMODE_READ | FMODE_WRITE;
	default:
		return 0; /* 3: checked for read and write, opened for neither (as Linux) */
	}
}

static const struct file_ops *fops_of(struct inode *inode)
{
	if (S_ISCHR(inode->mode))
		return chrdev_fops(inode->rdev);
	if (S_ISBLK(inode->mode))
		return blkdev_fops_of(inode->rdev);
	if (S_ISFIFO(inode->mode) && !inode->fop)
		return &fifo_fops; /* a named FIFO; an unnamed pipe's inode has its own ops */
	return inode->fop;
}

struct file *file_open_path(const struct path *p, unsigned flags, int *err)
{
	struct inode *inode = p->dentry->inode;
	struct file *f = kzalloc(sizeof(*f));
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->refs = 1;
	f->flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
	f->fmode = fmode_of(flags);
	mutex_init(&f->pos_lock);
	f->path = *p;
	path_get(&f->path);
	f->inode = inode;
	*err = 0;
	if (f->fmode & FMODE_PATH)
		return f;
	f->fop = fops_of(inode);
	if (!f->fop)
		*err = -ENXIO; /* a device with no driver */
	if (!*err && (f->fmode & FMODE_WRITE) && S_ISREG(inode->mode)) {
		*err = get_write_access(inode);
		f->fmode |= *err ? 0 : FMODE_WRITER;
	}
	if (!*err && f->fop->open)
		*err = f->fop->open(inode, f);
	if (*err) {
		f->fop = NULL; /* the open failed: nothing to release */
		fput(f);
		return NULL;
	}
	return f;
}

void fput(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (f->fop && f->fop->release && !(f->fmode & FMODE_PATH))
		f->fop->release(f);
	if (!(f->fmode & FMODE_PATH))
		flock_release(f);
	if (f->fmode & FMODE_WRITER)
		__atomic_fetch_sub(&f->inode->writers, 1, __ATOMIC_RELEASE);
	path_put(&f->path);
	kfree(f);
}

void vfs_file_put(struct file *f)
{
	fput(f);
}

/* ---- descriptor tables ---- */

static struct fd_table *fdt_new(unsigned cap)
{
	struct fd_table *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->fd = kzalloc(cap * sizeof(t->fd[0]));
	t->cloexec = kzalloc(cap / 8);
	if (!t->fd || !t->cloexec) {
		kfree(t->fd);
		kfree(t->cloexec);
		kfree(t);
		return NULL;
	}
	t->refs = 1;
	t->cap = cap;
	spin_init(&t->lock);
	return t;
}

static void fdt_put(struct fd_table *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (unsigned i = 0; i < t->cap; i++)
		fput(slot_file(t->fd[i]));
	kfree(t->fd);
	kfree(t->cloexec);
	kfree(t);
}

static struct fd_table *cur_fdt(void)
{
	return current_task()->fdt;
}

static bool cloexec_of(const struct fd_table *t, unsigned fd)
{
	return t->cloexec[fd / 64] & BIT(fd % 64);
}

static void set_cloexec(struct fd_table *t, unsigned fd, bool on)
{
	t->cloexec[fd / 64] = (t->cloexec[fd / 64] & ~BIT(fd % 64)) | (on ? BIT(fd % 64) : 0);
}

/* Make room for descriptor fd (< TASK_MAX_FILES). t->lock held; may drop and retake it. */
static int fdt_expand(struct fd_table *t, unsigned fd)
{
	unsigned cap = t->cap;
	while (cap <= fd)
		cap *= 2;
	spin_unlock(&t->lock);
	struct file **nfd = kzalloc(cap * sizeof(nfd[0]));
	uint64_t *nce = kzalloc(cap / 8);
	spin_lock(&t->lock);
	if (!nfd || !nce) {
		kfree(nfd);
		kfree(nce);
		return -ENOMEM;
	}
	if (t->cap >= cap) { /* someone else grew it meanwhile */
		kfree(nfd);
		kfree(nce);
		return 0;
	}
	memcpy(nfd, t->fd, t->cap * sizeof(nfd[0]));
	memcpy(nce, t->cloexec, t->cap / 8);
	kfree(t->fd);
	kfree(t->cloexec);
	t->fd = nfd;
	t->cloexec = nce;
	t->cap = cap;
	return 0;
}

/* Install f at the lowest free slot >= min of t; see vfs_priv.h. */
static int fdt_install(struct fd_table *t, struct file *f, unsigned min, bool cloexec)
{
	int fd = -EMFILE;
	spin_lock(&t->lock);
	unsigned limit = fd_limit();
	for (unsigned i = min; i < limit; i++) {
		if (i >= t->cap) {
			int err = fdt_expand(t, i);
			if (err) {
				fd = err;
				break;
			}
		}
		if (!t->fd[i]) {
			t->fd[i] = f;
			set_cloexec(t, i, cloexec);
			fd = (int)i;
			break;
		}
	}
	spin_unlock(&t->lock);
	if (fd < 0 && f != FD_RESERVED)
		fput(f);
	return fd;
}

int fd_install(struct file *f, int min, bool cloexec)
{
	return fdt_install(cur_fdt(), f, (unsigned)min, cloexec);
}

int fd_reserve(bool cloexec)
{
	return fdt_install(cur_fdt(), FD_RESERVED, 0, cloexec);
}

void fd_commit(int fd, struct file *f)
{
	struct fd_table *t = cur_fdt();
	spin_lock(&t->lock);
	t->fd[fd] = f;
	spin_unlock(&t->lock);
}

int fd_set_cloexec(int fd, bool on)
{
	struct fd_table *t = cur_fdt();
	int err = -EBADF;
	spin_lock(&t->lock);
	if (fd >= 0 && (unsigned)fd < t->cap && slot_file(t->fd[fd])) {
		set_cloexec(t, (unsigned)fd, on);
		err = 0;
	}
	spin_unlock(&t->lock);
	return err;
}

void fd_unreserve(int fd)
{
	struct fd_table *t = cur_fdt();
	spin_lock(&t->lock);
	t->fd[fd] = NULL;
	set_cloexec(t, (unsigned)fd, false);
	spin_unlock(&t->lock);
}

static struct file *fget_any(int fd, bool raw)
{
	struct fd_table *t = cur_fdt();
	struct file *f = NULL;
	if (!t || fd < 0)
		return NULL;
	spin_lock(&t->lock);
	if ((unsigned)fd < t->cap)
		f = slot_file(t->fd[fd]);
	if (f && !raw && (f->fmode & FMODE_PATH))
		f = NULL;
	if (f)
		__atomic_fetch_add(&f->refs, 1, __ATOMIC_RELAXED);
	spin_unlock(&t->lock);
	return f;
}

struct file *fget(int fd)
{
	return fget_any(fd, false);
}
struct file *fget_raw(int fd)
{
	return fget_any(fd, true);
}

/* ---- fs contexts ---- */

static struct fs_context *fs_new(const struct path *root, const struct path *pwd, unsigned umask)
{
	struct fs_context *c = kzalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->refs = 1;
	spin_init(&c->lock);
	c->root = *root;
	c->pwd = *pwd;
	path_get(&c->root);
	path_get(&c->pwd);
	c->umask = umask;
	return c;
}

static void fs_put(struct fs_context *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		return;
	path_put(&c->root);
	path_put(&c->pwd);
	kfree(c);
}

int vfs_fs_users(const struct fs_context *fs)
{
	return __atomic_load_n(&fs->refs, __ATOMIC_RELAXED);
}

static void fs_get_path(struct path *out, bool root)
{
	struct fs_context *c = current_task() ? current_task()->fs : NULL;
	if (!c) { /* a kernel task: the global root */
		*out = vfs_root;
		path_get(out);
		return;
	}
	spin_lock(&c->lock);
	*out = root ? c->root : c->pwd;
	path_get(out);
	spin_unlock(&c->lock);
}

void fs_get_root(struct path *out)
{
	fs_get_path(out, true);
}
void fs_get_pwd(struct path *out)
{
	fs_get_path(out, false);
}

unsigned fs_umask(void)
{
	struct fs_context *c = current_task()->fs;
	return c ? READ_ONCE(c->umask) : 022;
}

void fs_set_path(const struct path *p, bool root)
{
	struct fs_context *c = current_task()->fs;
	struct path old;
	path_get(p);
	spin_lock(&c->lock);
	old = root ? c->root : c->pwd;
	if (root)
		c->root = *p;
	else
		c->pwd = *p;
	spin_unlock(&c->lock);
	path_put(&old);
}

unsigned fs_set_umask(unsigned mask)
{
	struct fs_context *c = current_task()->fs;
	return __atomic_exchange_n(&c->umask, mask & 0777, __ATOMIC_RELAXED);
}

/* ---- a task's life ---- */

int vfs_init_task_console(struct task *t)
{
	struct path console;
	struct file *f = NULL;
	int err;
	t->fs = fs_new(&vfs_root, &vfs_root, 022);
	t->fdt = fdt_new(FDT_FIRST_CAP);
	if (t->fs && t->fdt && !vfs_lookup(AT_FDCWD, "/dev/console", LOOKUP_FOLLOW, &console)) {
		f = file_open_path(&console, O_RDWR, &err);
		path_put(&console);
	}
	if (!f) {
		fdt_put(t->fdt);
		fs_put(t->fs);
		t->fdt = NULL;
		t->fs = NULL;
		return -ENOMEM;
	}
	f->refs = 3;
	t->fdt->fd[0] = t->fdt->fd[1] = t->fdt->fd[2] = f;
	return 0;
}

struct fd_table *vfs_fdt_dup(struct fd_table *p)
{
	struct fd_table *c;
	unsigned cap = READ_ONCE(p->cap);
	for (;;) {
		c = fdt_new(cap);
		if (!c)
			return NULL;
		spin_lock(&p->lock);
		if (p->cap == cap)
			break;
		cap = p->cap; /* it grew meanwhile: try again with the new size */
		spin_unlock(&p->lock);
		fdt_put(c);
	}
	for (unsigned i = 0; i < cap; i++)
		if ((c->fd[i] = slot_file(p->fd[i])) != NULL)
			__atomic_fetch_add(&c->fd[i]->refs, 1, __ATOMIC_RELAXED);
	memcpy(c->cloexec, p->cloexec, cap / 8);
	spin_unlock(&p->lock);
	return c;
}

struct fd_table *vfs_fdt_get(struct fd_table *fdt)
{
	__atomic_fetch_add(&fdt->refs, 1, __ATOMIC_RELAXED);
	return fdt;
}

void vfs_fdt_put(struct fd_table *fdt)
{
	fdt_put(fdt);
}

struct fs_context *vfs_fs_dup(struct fs_context *p)
{
	spin_lock(&p->lock);
	struct path root = p->root, pwd = p->pwd;
	path_get(&root);
	path_get(&pwd);
	unsigned umask = p->umask;
	spin_unlock(&p->lock);
	struct fs_context *c = fs_new(&root, &pwd, umask);
	path_put(&root);
	path_put(&pwd);
	return c;
}

struct fs_context *vfs_fs_get(struct fs_context *fs)
{
	__atomic_fetch_add(&fs->refs, 1, __ATOMIC_RELAXED);
	return fs;
}

void vfs_fs_put(struct fs_context *fs)
{
	fs_put(fs);
}

/* Close t's FD_CLOEXEC descriptors, one at a time (fput may sleep: not under the lock). */
static void close_on_exec(struct fd_table *ft)
{
	for (unsigned i = 0;; i++) {
		struct file *f = NULL;
		spin_lock(&ft->lock);
		if (i >= ft->cap) {
			spin_unlock(&ft->lock);
			return;
		}
		if (cloexec_of(ft, i) && ft->fd[i] != FD_RESERVED) {
			f = ft->fd[i];
			ft->fd[i] = NULL;
			set_cloexec(ft, i, false);
		}
		spin_unlock(&ft->lock);
		fput(f);
	}
}

int vfs_exec_files(struct task *t)
{
	struct fd_table *ft = t->fdt;
	if (!ft)
		return 0;
	if (__atomic_load_n(&ft->refs, __ATOMIC_ACQUIRE) > 1) { /* shared (CLONE_FILES): a copy */
		ft = vfs_fdt_dup(t->fdt);
		if (!ft)
			return -ENOMEM;
		fdt_put(t->fdt);
		t->fdt = ft;
	}
	close_on_exec(ft);
	return 0;
}

/* ---- syscalls ---- */

static long sys_close(const struct syscall_args *a)
{
	struct fd_table *t = cur_fdt();
	int fd = (int)a->arg[0];
	struct file *f = NULL;
	spin_lock(&t->lock);
	if (fd >= 0 && (unsigned)fd < t->cap && (f = slot_file(t->fd[fd])) != NULL) {
		t->fd[fd] = NULL;
		set_cloexec(t, (unsigned)fd, false);
	}
	spin_unlock(&t->lock);
	if (!f)
		return -EBADF;
	fput(f);
	return 0;
}
SYSCALL_DEFINE(3, sys_close);

/* Make newfd refer to oldfd's file (closing what newfd held). */
static long do_dup3(unsigned oldfd, unsigned newfd, bool cloexec)
{
	struct fd_table *t = cur_fdt();
	struct file *f, *old = NULL;
	if (newfd >= fd_limit())
		return -EBADF;
	spin_lock(&t->lock);
	if (newfd >= t->cap && fdt_expand(t, newfd)) {
		spin_unlock(&t->lock);
		return -ENOMEM;
	}
	f = oldfd < t->cap ? slot_file(t->fd[oldfd]) : NULL;
	if (f && t->fd[newfd] == FD_RESERVED) {
		spin_unlock(&t->lock);
		return -EBUSY; /* an open in progress owns it (Linux's answer too) */
	}
	if (f) {
		__atomic_fetch_add(&f->refs, 1, __ATOMIC_RELAXED);
		old = t->fd[newfd];
		t->fd[newfd] = f;
		set_cloexec(t, newfd, cloexec);
	}
	spin_unlock(&t->lock);
	if (!f)
		return -EBADF;
	fput(old);
	return newfd;
}

static long sys_dup2(const struct syscall_args *a)
{
	unsigned oldfd = (unsigned)a->arg[0], newfd = (unsigned)a->arg[1];
	if (oldfd == newfd) {
		struct file *f = fget_raw((int)oldfd);
		fput(f);
		return f ? (long)newfd : -EBADF;
	}
	return do_dup3(oldfd, newfd, false);
}
SYSCALL_DEFINE(33, sys_dup2);

static long sys_dup3(const struct syscall_args *a)
{
	if (a->arg[2] & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if ((unsigned)a->arg[0] == (unsigned)a->arg[1])
		return -EINVAL;
	return do_dup3((unsigned)a->arg[0], (unsigned)a->arg[1], a->arg[2] & O_CLOEXEC);
}
SYSCALL_DEFINE(292, sys_dup3);

static long sys_dup(const struct syscall_args *a)
{
	struct file *f = fget_raw((int)a->arg[0]);
	return f ? fd_install(f, 0, false) : -EBADF;
}
SYSCALL_DEFINE(32, sys_dup);

static long setfl(struct file *f, uint64_t arg)
{
	unsigned want = (unsigned)arg & O_SETFL_MASK;
	if ((want & O_DIRECT) && !S_ISFIFO(f->inode->mode))
		return -EINVAL; /* tmpfs has no direct I/O (Linux 6.1) */
	f->flags = (f->flags & ~O_SETFL_MASK) | want;
	return 0;
}

static long do_fcntl(int fd, struct file *f, int cmd, uint64_t arg)
{
	struct fd_table *t = cur_fdt();
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= fd_limit())
			return -EINVAL;
		__atomic_fetch_add(&f->refs, 1, __ATOMIC_RELAXED);
		return fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD:
	case F_SETFD:
		spin_lock(&t->lock);
		r = t->fd[fd] == f ? (cloexec_of(t, (unsigned)fd) ? FD_CLOEXEC : 0) : -EBADF;
		if (r >= 0 && cmd == F_SETFD) {
			set_cloexec(t, (unsigned)fd, arg & FD_CLOEXEC);
			r = 0;
		}
		spin_unlock(&t->lock);
		return r;
	case F_GETFL:
		return f->flags;
	case F_SETFL:
		return (f->fmode & FMODE_PATH) ? -EBADF : setfl(f, arg);
	case F_SETPIPE_SZ:
	case F_GETPIPE_SZ:
		return (f->fmode & FMODE_PATH) ? -EBADF : pipe_fcntl(f, cmd, arg);
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return (f->fmode & FMODE_PATH) ? -EBADF : shmem_fcntl(f, cmd, arg);
	default:
		return (f->fmode & FMODE_PATH) ? -EBADF : -EINVAL;
	}
}

static long sys_fcntl(const struct syscall_args *a)
{
	int fd = (int)a->arg[0];
	struct file *f = fget_raw(fd);
	if (!f)
		return -EBADF;
	long r = do_fcntl(fd, f, (int)a->arg[1], a->arg[2]);
	fput(f);
	return r;
}
SYSCALL_DEFINE(72, sys_fcntl);
