/* Control files in the VFS (include/ctl.h): each row of a subsystem's ctl_file table becomes a
 * node at its path. A read generates the row's text into a buffer sized to fit (nodefs.c
 * re-generates it whenever a read starts at offset 0); a write goes to the row's store, which
 * parses with the one parser in kernel/lib/ctl.c. */
#include "ctl.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "vfs.h"

#define GEN_FIRST_TRY 256 /* most files are one number; longer text is measured, then made */

static const struct ctl_file *find(const struct ctl_file *files, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(files[i].path, path))
			return &files[i];
	return NULL;
}

int ctl_show(const struct ctl_file *files, size_t n, const char *path, char *buf, size_t size)
{
	const struct ctl_file *f = find(files, n, path);
	struct ctl_buf b = {buf, size, 0};
	int err;

	if (!f)
		return -ENOENT;
	if (!f->show)
		return -EACCES;
	if (size)
		buf[0] = '\0';
	err = f->show(f, &b);
	return err ? err : (int)MIN(b.len, (size_t)INT32_MAX);
}

long ctl_store(const struct ctl_file *files, size_t n, const char *path, const char *buf,
	       size_t len)
{
	const struct ctl_file *f = find(files, n, path);

	if (!f)
		return -ENOENT;
	if (!f->store)
		return -EACCES;
	return f->store(f, buf, len);
}

/* vfs gen: the row's text in a kmalloc'd buffer that fits it. */
static int gen_row(void *priv, char **out, size_t *len)
{
	const struct ctl_file *f = priv;
	size_t size = GEN_FIRST_TRY;

	for (int tries = 0; tries < 2; tries++) {
		struct ctl_buf b = {kmalloc(size), size, 0};
		int err;

		if (!b.p)
			return -ENOMEM;
		b.p[0] = '\0';
		err = f->show(f, &b);
		if (err || b.len < size) {
			if (err)
				kfree(b.p);
			else
				*out = b.p, *len = b.len;
			return err;
		}
		kfree(b.p);
		size = b.len + 1; /* the text grew past the first guess: make room and redo */
	}
	return -EAGAIN; /* it kept growing between two looks */
}

static long write_row(void *priv, const char *buf, size_t n)
{
	const struct ctl_file *f = priv;

	return f->store(f, buf, n);
}

static const struct vfs_node_ops ops_rw = {
    .gen = gen_row, .write = write_row, .privileged_write = true};
static const struct vfs_node_ops ops_ro = {.gen = gen_row};
static const struct vfs_node_ops ops_wo = {.write = write_row, .privileged_write = true};

int ctl_register(const struct ctl_file *files, size_t n, const char *who)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ctl_file *f = &files[i];
		const struct vfs_node_ops *ops = !f->store ? &ops_ro : !f->show ? &ops_wo : &ops_rw;
		int err = vfs_register_node(f->path, ops, (void *)f);

		if (err) {
			printk(KERN_WARNING "%s: cannot register %s (%d)\n", who, f->path, err);
			first = first ? first : err;
		}
	}
	return first;
}
