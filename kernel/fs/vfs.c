/* The VFS (see include/vfs.h): a file is the console, an initrd file, a registered node, or
 * a directory listing. Open files are shared between a parent and its forked children by
 * reference count. Reads and writes bounce through a kernel buffer, so file types never see
 * user pointers.
 * A generated node (/proc/meminfo, the control files) reads like Linux's seq_file: its text is
 * generated when a read starts at offset 0 (or finds none yet), and later reads page through
 * that text, so a program that keeps the file open and reads it again from offset 0 sees the
 * values of now. The text is reference-counted, so a forked child reading the same open file
 * at the same time never sees it freed under it. */
#include "arch/context.h"
#include "initrd.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"
#include "arch/console.h"

#define VFS_MAX_NODES 64
#define BOUNCE 512
#define O_ACCMODE 3
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_CLOEXEC 02000000
#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define O_DIRECTORY 0200000
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define VFS_PATH_MAX 128
#define DIR_DOTS 2 /* getdents64 positions 0 and 1 are "." and ".." */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define DT_REG 8
#define DT_DIR 4

enum file_kind { F_CONSOLE, F_INITRD, F_NODE, F_DIR };

struct node_text {
	int32_t refs; /* the file's own reference and each reader's */
	size_t len;
	char *data;
};

struct file {
	enum file_kind kind;
	int refs;
	int flags;
	uint64_t pos;
	const struct initrd_file *irf;
	const struct vfs_node *node;
	struct node_text *text; /* a generated node's text, from the last read at offset 0 */
	spinlock_t text_lock;	/* guards the text pointer and its reference count */
	char dir[VFS_PATH_MAX]; /* directory path, for F_DIR */
};

struct vfs_node {
	const char *path;
	const struct vfs_node_ops *ops;
	void *priv;
};

static struct vfs_node nodes[VFS_MAX_NODES];
static unsigned n_nodes;
static spinlock_t vfs_lock = SPINLOCK_INIT;

int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv)
{
	irqflags_t f = spin_lock_irqsave(&vfs_lock);
	int err = 0;
	for (unsigned i = 0; i < n_nodes; i++)
		if (!strcmp(nodes[i].path, path))
			err = -EEXIST;
	if (!err && n_nodes == VFS_MAX_NODES)
		err = -ENOMEM;
	if (!err)
		nodes[n_nodes++] = (struct vfs_node){path, ops, priv};
	spin_unlock_irqrestore(&vfs_lock, f);
	return err;
}

static const struct vfs_node *find_node(const char *path)
{
	for (unsigned i = 0; i < n_nodes; i++)
		if (!strcmp(nodes[i].path, path))
			return &nodes[i];
	return NULL;
}

/* Put an absolute path in canonical form: no repeated or trailing slashes, no "." or ".."
 * components (".." of "/" is "/"). 0, or -ENAMETOOLONG when it does not fit in out. */
static int normalize_path(const char *in, char *out, size_t outsz)
{
	size_t len = 0;
	while (*in) {
		while (*in == '/')
			in++;
		const char *slash = strchr(in, '/');
		size_t n = slash ? (size_t)(slash - in) : strlen(in);
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (len && out[len - 1] != '/')
				len--;
			len -= len ? 1 : 0;
		} else if (n && !(n == 1 && in[0] == '.')) {
			if (len + n + 2 > outsz)
				return -ENAMETOOLONG;
			out[len++] = '/';
			memcpy(out + len, in, n);
			len += n;
		}
		in += n;
	}
	if (!len)
		out[len++] = '/';
	out[len] = 0;
	return 0;
}

static bool irf_is_dir(const struct initrd_file *f) { return (f->mode & S_IFMT) == S_IFDIR; }

/* Whether path (canonical) names a directory: "/", a directory entry of the initrd, or a
 * prefix of some initrd file or node path. */
static bool is_dir(const char *path)
{
	size_t len = strlen(path);
	if (len == 1 && path[0] == '/')
		return true;
	const struct initrd_file *self = initrd_lookup(path);
	if (self && irf_is_dir(self))
		return true;
	for (unsigned i = 0; i < n_nodes; i++)
		if (!strncmp(nodes[i].path, path, len) && nodes[i].path[len] == '/')
			return true;
	const struct initrd_file *f;
	const char *rel = path[0] == '/' ? path + 1 : path;
	size_t rlen = strlen(rel);
	for (unsigned i = 0; (f = initrd_entry(i)); i++)
		if (f->name_len > rlen && !strncmp(f->name, rel, rlen) && f->name[rlen] == '/')
			return true;
	return false;
}

static struct file *file_new(enum file_kind kind, int flags)
{
	struct file *f = kzalloc(sizeof(*f));
	if (f) {
		f->kind = kind;
		f->refs = 1;
		f->flags = flags;
		spin_init(&f->text_lock);
	}
	return f;
}

static void text_put(struct node_text *t)
{
	if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		kfree(t->data);
		kfree(t);
	}
}

static void file_put(struct file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		text_put(f->text);
		kfree(f);
	}
}

/* The file's text with a reference for the caller: generated anew when fresh is set or there
 * is none yet (the old text goes once its last reader is done). NULL with *err on failure. */
static struct node_text *node_text_get(struct file *f, bool fresh, int *err)
{
	struct node_text *t = NULL, *old;
	irqflags_t fl;
	if (fresh || !READ_ONCE(f->text)) {
		t = kzalloc(sizeof(*t));
		*err = t ? f->node->ops->gen(f->node->priv, &t->data, &t->len) : -ENOMEM;
		if (*err) {
			kfree(t);
			return NULL;
		}
		t->refs = 1;
	}
	fl = spin_lock_irqsave(&f->text_lock);
	if (t) {
		old = f->text;
		f->text = t;
	} else {
		old = NULL;
		t = f->text;
	}
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	spin_unlock_irqrestore(&f->text_lock, fl);
	text_put(old);
	return t;
}

_Static_assert(TASK_MAX_FILES <= 32, "fd_table.cloexec is a 32-bit mask");

/* The fd table: a reference-counted object, shared by tasks that clone(CLONE_FILES) made;
 * its lock guards the slots and the close-on-exec mask (never held across a file operation:
 * a lookup takes a reference on the file, fget, and the caller drops it, fput). */

/* Descriptors the current process may use: its RLIMIT_NOFILE, at most the table's size. */
static int fd_limit(void)
{
	return (int)MIN(task_rlimit(RLIMIT_NOFILE), (uint64_t)TASK_MAX_FILES);
}

/* Put f at the lowest free descriptor >= min (with FD_CLOEXEC if asked); drops f when there
 * is none (-EMFILE). */
static int install_fd(struct file *f, int min, bool cloexec)
{
	struct fd_table *fdt = current_task()->fdt;
	int limit = fd_limit();
	irqflags_t fl = spin_lock_irqsave(&fdt->lock);
	for (int fd = min; fd < limit; fd++)
		if (!fdt->files[fd]) {
			fdt->files[fd] = f;
			fdt->cloexec = (fdt->cloexec & ~(uint32_t)BIT(fd)) | (cloexec ? BIT(fd) : 0);
			spin_unlock_irqrestore(&fdt->lock, fl);
			return fd;
		}
	spin_unlock_irqrestore(&fdt->lock, fl);
	file_put(f);
	return -EMFILE;
}

static struct file *open_node(const struct vfs_node *n, int flags, int *err)
{
	if ((flags & O_ACCMODE) != 0 && !n->ops->write) {
		*err = -EACCES;
		return NULL;
	}
	struct file *f = file_new(F_NODE, flags);
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->node = n;
	return f;
}

/* Whether path (canonical) names a file: a node or a regular initrd file. */
static bool is_file(const char *path)
{
	const struct initrd_file *f = initrd_lookup(path);
	return find_node(path) || (f && !irf_is_dir(f));
}

/* The error for a path that names nothing: -ENOTDIR when one of its leading components is a
 * file, -EROFS for a file that O_CREAT would create in an existing directory (everything is
 * read-only), else -ENOENT. */
static int open_missing_error(char *path, int flags)
{
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		bool file = is_file(path);
		*p = '/';
		if (file)
			return -ENOTDIR;
	}
	char *last = strrchr(path, '/');
	*last = 0;
	bool parent_dir = is_dir(last == path ? "/" : path);
	*last = '/';
	return (flags & O_CREAT) && parent_dir ? -EROFS : -ENOENT;
}

int vfs_open(const char *upath, int flags)
{
	char path[VFS_PATH_MAX];
	int err = normalize_path(upath, path, sizeof(path));
	if (err)
		return err;
	err = -ENOMEM;
	struct file *f = NULL;
	const struct vfs_node *n = find_node(path);
	const struct initrd_file *irf = n ? NULL : initrd_lookup(path);
	if (irf && irf_is_dir(irf))
		irf = NULL; /* an initrd directory entry: opened as a directory below */
	if (n) {
		f = open_node(n, flags, &err);
	} else if (irf) {
		if ((flags & O_ACCMODE) != 0)
			return -EROFS;
		f = file_new(F_INITRD, flags);
		if (f)
			f->irf = irf;
	} else if (is_dir(path)) {
		if ((flags & O_ACCMODE) != 0)
			return -EISDIR;
		f = file_new(F_DIR, flags);
		if (f)
			strlcpy(f->dir, path, sizeof(f->dir));
	} else if (!strcmp(path, "/dev/console") || !strcmp(path, "/dev/tty")) {
		f = file_new(F_CONSOLE, flags);
	} else {
		return open_missing_error(path, flags);
	}
	if (!f)
		return err;
	if ((flags & O_DIRECTORY) && f->kind != F_DIR) {
		file_put(f);
		return -ENOTDIR;
	}
	return install_fd(f, 0, flags & O_CLOEXEC);
}

/* The file at fd with a reference for the caller (drop it with file_put), or NULL. */
static struct file *fget(int fd)
{
	struct fd_table *fdt = current_task()->fdt;
	if (fd < 0 || fd >= TASK_MAX_FILES || !fdt)
		return NULL;
	irqflags_t fl = spin_lock_irqsave(&fdt->lock);
	struct file *f = fdt->files[fd];
	if (f)
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	spin_unlock_irqrestore(&fdt->lock, fl);
	return f;
}

static void fput(struct file *f)
{
	if (f)
		file_put(f);
}

static long copy_out(void *ubuf, const void *src, size_t n)
{
	return arch_copy_to_user(ubuf, src, n) ? -EFAULT : (long)n;
}

static long read_bytes(struct file *f, const uint8_t *data, size_t size, void *ubuf, size_t n)
{
	if (f->pos >= size)
		return 0;
	size_t k = MIN(n, size - f->pos);
	long r = copy_out(ubuf, data + f->pos, k);
	if (r > 0)
		f->pos += (uint64_t)r;
	return r;
}

static long read_node_direct(struct file *f, void *ubuf, size_t n)
{
	char buf[BOUNCE];
	size_t done = 0;
	while (done < n) {
		long r = f->node->ops->read(f->node->priv, buf, MIN(n - done, sizeof(buf)), f->pos);
		if (r <= 0)
			return done ? (long)done : r;
		if (copy_out((char *)ubuf + done, buf, (size_t)r) < 0)
			return -EFAULT;
		f->pos += (uint64_t)r;
		done += (size_t)r;
	}
	return (long)done;
}

/* A read of a generated node: a read that starts at offset 0 generates the text anew. */
static long read_generated(struct file *f, void *ubuf, size_t n)
{
	int err;
	struct node_text *t = node_text_get(f, f->pos == 0, &err);
	if (!t)
		return err;
	long r = read_bytes(f, (const uint8_t *)t->data, t->len, ubuf, n);
	text_put(t);
	return r;
}

static long file_read(struct file *f, void *ubuf, size_t n)
{
	if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	switch (f->kind) {
	case F_CONSOLE:
		return 0; /* no console input yet: end of file */
	case F_INITRD:
		return read_bytes(f, f->irf->data, f->irf->size, ubuf, n);
	case F_NODE:
		if (f->node->ops->gen)
			return read_generated(f, ubuf, n);
		return f->node->ops->read ? read_node_direct(f, ubuf, n) : -EINVAL;
	case F_DIR:
		return -EISDIR;
	}
	return -EBADF;
}

long vfs_read(int fd, void *ubuf, size_t n)
{
	struct file *f = fget(fd);
	long r = file_read(f, ubuf, n);
	fput(f);
	return r;
}

long console_write(const char *buf, size_t n)
{
	printk_console_text(buf, n);
	return (long)n;
}

static long file_write(struct file *f, const void *ubuf, size_t n)
{
	char buf[BOUNCE];
	if (!f || (f->flags & O_ACCMODE) == 0)
		return f && f->kind == F_CONSOLE ? 0 : -EBADF;
	if (f->kind == F_NODE) {
		if (n >= sizeof(buf))
			return -EINVAL; /* control files take one short value */
		if (arch_copy_from_user(buf, ubuf, n))
			return -EFAULT;
		buf[n] = 0;
		return f->node->ops->write(f->node->priv, buf, n);
	}
	if (f->kind != F_CONSOLE)
		return -EBADF;
	size_t done = 0;
	while (done < n) {
		size_t k = MIN(n - done, sizeof(buf));
		if (arch_copy_from_user(buf, (const char *)ubuf + done, k))
			return done ? (long)done : -EFAULT;
		console_write(buf, k);
		done += k;
	}
	return (long)done;
}

long vfs_write(int fd, const void *ubuf, size_t n)
{
	struct file *f = fget(fd);
	long r = file_write(f, ubuf, n);
	fput(f);
	return r;
}

int vfs_close(int fd)
{
	struct fd_table *fdt = current_task()->fdt;
	if (fd < 0 || fd >= TASK_MAX_FILES || !fdt)
		return -EBADF;
	irqflags_t fl = spin_lock_irqsave(&fdt->lock);
	struct file *f = fdt->files[fd];
	fdt->files[fd] = NULL;
	fdt->cloexec &= ~(uint32_t)BIT(fd);
	spin_unlock_irqrestore(&fdt->lock, fl);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

static long file_lseek(struct file *f, int64_t off, int whence)
{
	if (!f)
		return -EBADF;
	if (f->kind == F_CONSOLE)
		return -ESPIPE;
	int64_t size = 0;
	if (f->kind == F_INITRD) {
		size = (int64_t)f->irf->size;
	} else if (f->kind == F_NODE && f->node->ops->gen && whence == SEEK_END) {
		int err;
		struct node_text *t = node_text_get(f, false, &err);
		if (!t)
			return err;
		size = (int64_t)t->len;
		text_put(t);
	}
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos
			: whence == SEEK_END ? size : -1;
	if (base < 0 || (off < 0 && -off > base))
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

long vfs_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fget(fd);
	long r = file_lseek(f, off, whence);
	fput(f);
	return r;
}

/* The i-th candidate path (nodes first, then initrd files), or NULL past the end; *dir says
 * whether it is an initrd directory entry. */
static const char *candidate(unsigned i, char *tmp, size_t tmpsz, bool *dir)
{
	*dir = false;
	if (i < n_nodes)
		return nodes[i].path;
	const struct initrd_file *f = initrd_entry(i - n_nodes);
	if (!f)
		return NULL;
	*dir = irf_is_dir(f);
	tmp[0] = '/';
	size_t n = MIN(f->name_len, tmpsz - 2);
	memcpy(tmp + 1, f->name, n);
	tmp[n + 1] = 0;
	return tmp;
}

/* The child of dir that path lies under: its name in out; returns whether it is a directory,
 * or -1 if path is not under dir. */
static int child_of(const char *dir, const char *path, char *out, size_t outsz)
{
	size_t dl = strlen(dir);
	if (dl == 1)
		dl = 0; /* "/" */
	if (strncmp(path, dir, dl) || path[dl] != '/' || !path[dl + 1])
		return -1;
	const char *name = path + dl + 1, *slash = strchr(name, '/');
	size_t n = slash ? (size_t)(slash - name) : strlen(name);
	n = MIN(n, outsz - 1);
	memcpy(out, name, n);
	out[n] = 0;
	return slash != NULL;
}

/* Whether candidate j < i already produced the same child name. */
static bool seen_before(const char *dir, unsigned i, const char *name)
{
	char tmp[160], other[64];
	bool dir_entry;
	for (unsigned j = 0; j < i; j++) {
		const char *p = candidate(j, tmp, sizeof(tmp), &dir_entry);
		if (p && child_of(dir, p, other, sizeof(other)) >= 0 && !strcmp(other, name))
			return true;
	}
	return false;
}

struct dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
} __packed;

/* Copy one record to ubuf + *done if it fits: 1 when copied, 0 when there is no room, or
 * -EFAULT. */
static int put_dirent(void *ubuf, size_t n, size_t *done, const char *name, uint8_t type,
		      uint64_t next_pos)
{
	char rec[96];
	size_t nl = strlen(name), len = ALIGN_UP(sizeof(struct dirent64_hdr) + nl + 1, 8);
	if (*done + len > n)
		return 0;
	struct dirent64_hdr h = {next_pos, (int64_t)next_pos, (uint16_t)len, type};
	memset(rec, 0, len);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), name, nl);
	if (arch_copy_to_user((char *)ubuf + *done, rec, len))
		return -EFAULT;
	*done += len;
	return 1;
}

/* Directory positions: 0 ".", 1 "..", then DIR_DOTS + i for candidate i (most candidates are
 * not children of this directory, or repeat a child seen before, and are skipped). */
static long file_getdents64(struct file *f, void *ubuf, size_t n)
{
	if (!f)
		return -EBADF;
	if (f->kind != F_DIR)
		return -ENOTDIR;
	char tmp[160], child[64];
	size_t done = 0;
	for (;;) {
		uint64_t pos = f->pos;
		const char *name = pos ? ".." : ".";
		uint8_t type = DT_DIR;
		if (pos >= DIR_DOTS) {
			unsigned i = (unsigned)(pos - DIR_DOTS);
			bool dir_entry;
			const char *p = candidate(i, tmp, sizeof(tmp), &dir_entry);
			if (!p)
				break;
			int d = child_of(f->dir, p, child, sizeof(child));
			if (d < 0 || seen_before(f->dir, i, child)) {
				f->pos = pos + 1;
				continue;
			}
			name = child;
			type = d || dir_entry ? DT_DIR : DT_REG;
		}
		int r = put_dirent(ubuf, n, &done, name, type, pos + 1);
		if (r < 0)
			return r;
		if (r == 0)
			return done ? (long)done : -EINVAL;
		f->pos = pos + 1;
	}
	return (long)done;
}

long vfs_getdents64(int fd, void *ubuf, size_t n)
{
	struct file *f = fget(fd);
	long r = file_getdents64(f, ubuf, n);
	fput(f);
	return r;
}

int vfs_dup2(int oldfd, int newfd)
{
	struct fd_table *fdt = current_task()->fdt;
	struct file *f = fget(oldfd), *old = NULL;
	if (!f || newfd < 0 || newfd >= fd_limit()) {
		fput(f);
		return -EBADF;
	}
	if (oldfd == newfd) {
		fput(f);
		return newfd;
	}
	irqflags_t fl = spin_lock_irqsave(&fdt->lock);
	old = fdt->files[newfd];
	fdt->files[newfd] = f; /* takes fget's reference */
	fdt->cloexec &= ~(uint32_t)BIT(newfd);
	spin_unlock_irqrestore(&fdt->lock, fl);
	fput(old);
	return newfd;
}

/* FD_CLOEXEC of fd: read (set < 0) or set. */
static long fd_cloexec(int fd, int set)
{
	struct fd_table *fdt = current_task()->fdt;
	irqflags_t fl = spin_lock_irqsave(&fdt->lock);
	long r = (fdt->cloexec & BIT(fd)) ? FD_CLOEXEC : 0;
	if (set >= 0)
		fdt->cloexec = (fdt->cloexec & ~(uint32_t)BIT(fd)) | (set ? BIT(fd) : 0);
	spin_unlock_irqrestore(&fdt->lock, fl);
	return set >= 0 ? 0 : r;
}

static long file_fcntl(struct file *f, int fd, int cmd, uint64_t arg)
{
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= (uint64_t)fd_limit())
			return -EINVAL;
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
		return install_fd(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return fd_cloexec(fd, -1);
	case F_SETFD:
		return fd_cloexec(fd, (arg & FD_CLOEXEC) != 0);
	case F_GETFL:
		return f->flags & ~O_CLOEXEC;
	case F_SETFL: /* status flags (O_APPEND, O_NONBLOCK) change nothing MCRK's files do */
		f->flags = (f->flags & O_ACCMODE) | (int)(arg & ~(uint64_t)(O_ACCMODE | O_CLOEXEC));
		return 0;
	default:
		return -EINVAL;
	}
}

long vfs_fcntl(int fd, int cmd, uint64_t arg)
{
	struct file *f = fget(fd);
	long r = f ? file_fcntl(f, fd, cmd, arg) : -EBADF;
	fput(f);
	return r;
}

static struct fd_table *fdt_new(void)
{
	struct fd_table *fdt = kzalloc(sizeof(*fdt));
	if (fdt) {
		fdt->refs = 1;
		spin_init(&fdt->lock);
	}
	return fdt;
}

struct fd_table *vfs_fdt_get(struct fd_table *fdt)
{
	__atomic_add_fetch(&fdt->refs, 1, __ATOMIC_ACQ_REL);
	return fdt;
}

struct fd_table *vfs_fdt_dup(struct fd_table *src)
{
	struct fd_table *fdt = fdt_new();
	if (!fdt)
		return NULL;
	irqflags_t fl = spin_lock_irqsave(&src->lock);
	for (int fd = 0; fd < TASK_MAX_FILES; fd++) {
		fdt->files[fd] = src->files[fd];
		if (fdt->files[fd])
			__atomic_add_fetch(&fdt->files[fd]->refs, 1, __ATOMIC_RELAXED);
	}
	fdt->cloexec = src->cloexec;
	spin_unlock_irqrestore(&src->lock, fl);
	return fdt;
}

void vfs_fdt_put(struct fd_table *fdt)
{
	if (__atomic_sub_fetch(&fdt->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (int fd = 0; fd < TASK_MAX_FILES; fd++)
		fput(fdt->files[fd]);
	kfree(fdt);
}

int vfs_exec_files(struct task *t)
{
	struct fd_table *fdt = t->fdt;
	if (__atomic_load_n(&fdt->refs, __ATOMIC_ACQUIRE) > 1) { /* shared (CLONE_FILES): a copy */
		fdt = vfs_fdt_dup(t->fdt);
		if (!fdt)
			return -ENOMEM;
		vfs_fdt_put(t->fdt);
		t->fdt = fdt;
	}
	for (int fd = 0; fd < TASK_MAX_FILES; fd++)
		if ((fdt->cloexec & BIT(fd)) && fdt->files[fd]) {
			file_put(fdt->files[fd]);
			fdt->files[fd] = NULL;
		}
	fdt->cloexec = 0;
	return 0;
}

int vfs_init_task_console(struct task *t)
{
	struct file *f = file_new(F_CONSOLE, O_RDWR);
	t->fdt = f ? fdt_new() : NULL;
	if (!t->fdt) {
		kfree(f);
		return -ENOMEM;
	}
	f->refs = 3;
	t->fdt->files[0] = t->fdt->files[1] = t->fdt->files[2] = f;
	return 0;
}

int vfs_file_backing(int fd, struct vm_file *out)
{
	struct file *f = fget(fd);
	int err = -EBADF; /* only initrd files can be mapped */
	if (f && f->kind == F_INITRD) {
		/* The initrd's bytes live as long as the kernel: the file may go after this. */
		out->data = f->irf->data;
		out->size = f->irf->size;
		err = 0;
	}
	fput(f);
	return err;
}
