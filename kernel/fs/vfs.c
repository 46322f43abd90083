/* The VFS (see include/vfs.h): a file is the console, an initrd file, a registered node, or
 * a directory listing. Open files are shared between a parent and its forked children by
 * reference count. Reads and writes bounce through a kernel buffer, so file types never see
 * user pointers. */
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
#define O_DIRECTORY 0200000
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define DT_REG 8
#define DT_DIR 4

enum file_kind { F_CONSOLE, F_INITRD, F_NODE, F_DIR };

struct file {
	enum file_kind kind;
	int refs;
	int flags;
	uint64_t pos;
	const struct initrd_file *irf;
	const struct vfs_node *node;
	char *text; /* snapshot of a generated node */
	size_t text_len;
	char dir[128]; /* directory path, for F_DIR */
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

/* Whether path names a directory: a prefix of some initrd file or node path. */
static bool is_dir(const char *path)
{
	size_t len = strlen(path);
	if (len == 1 && path[0] == '/')
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
	}
	return f;
}

static void file_put(struct file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		kfree(f->text);
		kfree(f);
	}
}

static int install_fd(struct file *f)
{
	struct task *t = current_task();
	for (int fd = 0; fd < TASK_MAX_FILES; fd++)
		if (!t->files[fd]) {
			t->files[fd] = f;
			return fd;
		}
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
	if (n->ops->gen && (flags & O_ACCMODE) != O_WRONLY) {
		*err = n->ops->gen(n->priv, &f->text, &f->text_len);
		if (*err) {
			file_put(f);
			return NULL;
		}
	}
	return f;
}

int vfs_open(const char *path, int flags)
{
	int err = -ENOENT;
	struct file *f = NULL;
	const struct vfs_node *n = find_node(path);
	const struct initrd_file *irf = n ? NULL : initrd_lookup(path);
	if (n) {
		f = open_node(n, flags, &err);
	} else if (irf) {
		if ((flags & O_ACCMODE) != 0)
			return -EROFS;
		f = file_new(F_INITRD, flags);
		if (f)
			f->irf = irf;
		err = -ENOMEM;
	} else if (is_dir(path)) {
		f = file_new(F_DIR, flags);
		if (f)
			strlcpy(f->dir, path, sizeof(f->dir));
		err = -ENOMEM;
	} else if (!strcmp(path, "/dev/console") || !strcmp(path, "/dev/tty")) {
		f = file_new(F_CONSOLE, flags);
		err = -ENOMEM;
	}
	if (!f)
		return err;
	if ((flags & O_DIRECTORY) && f->kind != F_DIR) {
		file_put(f);
		return -ENOTDIR;
	}
	return install_fd(f);
}

static struct file *fd_file(int fd)
{
	if (fd < 0 || fd >= TASK_MAX_FILES)
		return NULL;
	return current_task()->files[fd];
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

long vfs_read(int fd, void *ubuf, size_t n)
{
	struct file *f = fd_file(fd);
	if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	switch (f->kind) {
	case F_CONSOLE:
		return 0; /* no console input yet: end of file */
	case F_INITRD:
		return read_bytes(f, f->irf->data, f->irf->size, ubuf, n);
	case F_NODE:
		if (f->text)
			return read_bytes(f, (const uint8_t *)f->text, f->text_len, ubuf, n);
		return f->node->ops->read ? read_node_direct(f, ubuf, n) : -EINVAL;
	case F_DIR:
		return -EISDIR;
	}
	return -EBADF;
}

long console_write(const char *buf, size_t n)
{
	arch_console_write(buf, n);
	return (long)n;
}

long vfs_write(int fd, const void *ubuf, size_t n)
{
	struct file *f = fd_file(fd);
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

int vfs_close(int fd)
{
	struct file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	current_task()->files[fd] = NULL;
	file_put(f);
	return 0;
}

long vfs_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	if (f->kind == F_CONSOLE)
		return -ESPIPE;
	int64_t size = f->kind == F_INITRD ? (int64_t)f->irf->size : (int64_t)f->text_len;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos
			: whence == SEEK_END ? size : -1;
	if (base < 0 || (off < 0 && -off > base))
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

/* The i-th candidate path (nodes first, then initrd files), or NULL past the end. */
static const char *candidate(unsigned i, char *tmp, size_t tmpsz)
{
	if (i < n_nodes)
		return nodes[i].path;
	const struct initrd_file *f = initrd_entry(i - n_nodes);
	if (!f)
		return NULL;
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
	for (unsigned j = 0; j < i; j++) {
		const char *p = candidate(j, tmp, sizeof(tmp));
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

long vfs_getdents64(int fd, void *ubuf, size_t n)
{
	struct file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	if (f->kind != F_DIR)
		return -ENOTDIR;
	char tmp[160], name[64], rec[96];
	size_t done = 0;
	const char *p;
	for (unsigned i = (unsigned)f->pos; (p = candidate(i, tmp, sizeof(tmp))); i++) {
		int d = child_of(f->dir, p, name, sizeof(name));
		if (d < 0 || seen_before(f->dir, i, name)) {
			f->pos = i + 1;
			continue;
		}
		size_t nl = strlen(name), len = ALIGN_UP(sizeof(struct dirent64_hdr) + nl + 1, 8);
		if (done + len > n)
			return done ? (long)done : -EINVAL;
		struct dirent64_hdr h = {i + 1, (int64_t)i + 1, (uint16_t)len, d ? DT_DIR : DT_REG};
		memset(rec, 0, len);
		memcpy(rec, &h, sizeof(h));
		memcpy(rec + sizeof(h), name, nl);
		if (arch_copy_to_user((char *)ubuf + done, rec, len))
			return -EFAULT;
		done += len;
		f->pos = i + 1;
	}
	return (long)done;
}

int vfs_dup2(int oldfd, int newfd)
{
	struct file *f = fd_file(oldfd);
	if (!f || newfd < 0 || newfd >= TASK_MAX_FILES)
		return -EBADF;
	if (oldfd == newfd)
		return newfd;
	struct task *t = current_task();
	if (t->files[newfd])
		file_put(t->files[newfd]);
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	t->files[newfd] = f;
	return newfd;
}

int vfs_init_task_console(struct task *t)
{
	struct file *f = file_new(F_CONSOLE, O_RDWR);
	if (!f)
		return -ENOMEM;
	f->refs = 3;
	t->files[0] = t->files[1] = t->files[2] = f;
	return 0;
}

void vfs_fork_files(struct task *child, const struct task *parent)
{
	for (int fd = 0; fd < TASK_MAX_FILES; fd++) {
		child->files[fd] = parent->files[fd];
		if (child->files[fd])
			__atomic_add_fetch(&child->files[fd]->refs, 1, __ATOMIC_RELAXED);
	}
}

void vfs_close_all(struct task *t)
{
	for (int fd = 0; fd < TASK_MAX_FILES; fd++)
		if (t->files[fd]) {
			file_put(t->files[fd]);
			t->files[fd] = NULL;
		}
}

int vfs_file_backing(int fd, struct vm_file *out)
{
	struct file *f = fd_file(fd);
	if (!f || f->kind != F_INITRD)
		return -EBADF; /* only initrd files can be mapped */
	out->data = f->irf->data;
	out->size = f->irf->size;
	return 0;
}
