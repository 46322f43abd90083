/* procfs, sysfs and debugfs: the pseudo file systems whose files other subsystems register by
 * path (vfs_register_node). Each is one instance, made on first use and kept for good (so a
 * file registered before the mount, or while unmounted, is there when it is mounted), with a
 * read-only tree: directories made as registrations need them, files that call back into the
 * subsystem. A generated file (ops->gen) reads like Linux's seq_file: its text is made when a
 * read starts at offset 0 (or finds none yet) and later reads page through that text; the
 * text is reference counted, so a forked child reading the same open file at the same time
 * never sees it freed under it. */
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "vfs_priv.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define DEBUGFS_MAGIC 0x64626720
#define NODE_WRITE_MAX 512 /* a control file takes one short value per write */
#define BOUNCE 512

struct node_text {
	int32_t refs; /* the file's own reference and each reader's */
	size_t len;
	char *data;
};

struct node_file {
	struct node_text *text; /* a generated node's text, from the last read at offset 0 */
	spinlock_t lock;	/* guards the text pointer and its reference count */
	void *state;		/* what gen and read get: the node's priv, or ops->open's state */
};

/* No mknod: read-only directories. procfs's lookup of a missing name is -ENOENT. */
static const struct inode_ops node_dir_iops = {0};
static const struct inode_ops proc_dir_iops = {.create_lookup_err = -ENOENT};

/* ---- the three types ---- */

static int nodefs_get_sb(struct fs_type *t, const char *data, struct super_block **out);
static void nodefs_kill_sb(struct super_block *sb)
{
	(void)sb; /* kept for good */
}

static struct fs_type proc_type = {
    .name = "proc", .get_sb = nodefs_get_sb, .kill_sb = nodefs_kill_sb, .single = true};
static struct fs_type sysfs_type = {
    .name = "sysfs", .get_sb = nodefs_get_sb, .kill_sb = nodefs_kill_sb, .single = true};
static struct fs_type debugfs_type = {
    .name = "debugfs", .get_sb = nodefs_get_sb, .kill_sb = nodefs_kill_sb, .single = true};

static struct inode *dir_inode(struct super_block *sb, unsigned perm)
{
	struct inode *i = inode_new(sb, S_IFDIR | perm);
	if (i) {
		i->iop = sb->magic == PROC_SUPER_MAGIC ? &proc_dir_iops : &node_dir_iops;
		i->fop = &dir_fops;
		i->nlink = 2;
	}
	return i;
}

static int nodefs_get_sb(struct fs_type *t, const char *data, struct super_block **out)
{
	(void)data; /* options are accepted and ignored, as Linux's procfs does most */
	struct super_block *sb = kzalloc(sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->type = t;
	sb->refs = 2; /* the mount's, and the kernel's: the tree stays while nothing mounts it */
	sb->magic = t == &proc_type    ? PROC_SUPER_MAGIC
		    : t == &sysfs_type ? SYSFS_MAGIC
				       : DEBUGFS_MAGIC;
	struct inode *root = dir_inode(sb, t == &debugfs_type ? 0700 : 0555); /* debugfs: root's */
	if (root)
		sb->root = d_make_root(sb, root);
	if (!root || !sb->root) {
		if (root)
			inode_put(root);
		kfree(sb);
		return -ENOMEM;
	}
	*out = sb;
	return 0;
}

/* The instance of t, made on first use (the kernel's reference only). */
static struct super_block *instance(struct fs_type *t)
{
	struct super_block *sb;
	if (t->the_sb)
		return t->the_sb;
	if (vfs_get_sb(t, NULL, &sb))
		return NULL;
	__atomic_fetch_sub(&sb->refs, 1, __ATOMIC_RELAXED); /* no mount yet */
	return sb;
}

/* ---- registration ---- */

/* The child dir of d named (name, len), made if missing. Referenced, or NULL. ns_lock held. */
static struct dentry *subdir(struct dentry *d, const char *name, size_t len)
{
	struct dentry *c = d_lookup(d, name, len);
	if (c)
		return S_ISDIR(c->inode->mode) ? c : (dput(c), NULL);
	c = d_alloc(d, name, len);
	struct inode *i = c ? dir_inode(d->sb, 0555) : NULL;
	if (!i) {
		dput(c);
		return NULL;
	}
	c->inode = i;
	d->inode->nlink++;
	d_add(c);
	return c;
}

/* Walk (making directories) to the parent of rel in sb; the last name in *last. */
static struct dentry *parent_of(struct super_block *sb, const char *rel, const char **last)
{
	struct dentry *d = dget(sb->root);
	const char *slash;
	while (d && (slash = strchr(rel, '/')) != NULL) {
		struct dentry *c = slash > rel ? subdir(d, rel, (size_t)(slash - rel)) : dget(d);
		dput(d);
		d = c;
		rel = slash + 1;
	}
	*last = rel;
	return d;
}

/* A node's permission bits, owner root: readable by all (a root_only node by root alone),
 * writable by root (a privileged_write control file) or by all. */
static unsigned node_mode(const struct vfs_node_ops *ops)
{
	unsigned read = ops->root_only ? 0400 : 0444;
	unsigned write = ops->privileged_write || ops->root_only ? 0200 : 0222;
	return (ops->gen || ops->read ? read : 0) | (ops->write ? write : 0);
}

/* Make name in dir: a node file (ops), or a symlink to target when ops is NULL. */
static int add_entry(struct dentry *dir, const char *name, const struct vfs_node_ops *ops,
		     void *priv, const char *target)
{
	struct dentry *d;
	if (!*name || strlen(name) > NAME_MAX)
		return -EINVAL;
	if ((d = d_lookup(dir, name, strlen(name))) != NULL) {
		dput(d);
		return -EEXIST;
	}
	unsigned mode = !ops ? S_IFLNK | 0777 : S_IFREG | node_mode(ops);
	d = d_alloc(dir, name, strlen(name));
	struct inode *i = d ? inode_new(dir->sb, mode) : NULL;
	char *link = i && !ops ? kmalloc(strlen(target) + 1) : NULL;
	if (link)
		memcpy(link, target, strlen(target) + 1);
	if (!i || (!ops && !link)) {
		if (i)
			inode_put(i);
		dput(d);
		return -ENOMEM;
	}
	i->fop = ops ? &node_fops : NULL;
	i->node_ops = ops;
	i->node_priv = priv;
	i->symlink = link;
	d->inode = i;
	d_add(d);
	dput(d);
	return 0;
}

static int add_node(struct super_block *sb, const char *rel, const struct vfs_node_ops *ops,
		    void *priv)
{
	const char *name;
	struct dentry *dir = parent_of(sb, rel, &name);
	int err = dir ? add_entry(dir, name, ops, priv, NULL) : -ENOMEM;
	dput(dir);
	return err;
}

struct dentry *nodefs_proc_root(void)
{
	mutex_lock(&ns_lock);
	struct super_block *sb = instance(&proc_type);
	struct dentry *root = sb ? dget(sb->root) : NULL;
	mutex_unlock(&ns_lock);
	return root;
}

struct dentry *nodefs_mkdir(struct dentry *dir, const char *name, const struct inode_ops *iop,
			    void *priv)
{
	struct dentry *d = subdir(dir, name, strlen(name));
	if (d) {
		d->inode->iop = iop;
		d->inode->node_priv = priv;
	}
	return d;
}

int nodefs_add(struct dentry *dir, const char *name, const struct vfs_node_ops *ops, void *priv,
	       const char *target)
{
	return add_entry(dir, name, ops, priv, target);
}

int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv)
{
	static const struct {
		const char *prefix;
		struct fs_type *type;
	} roots[] = {
	    {"/sys/kernel/debug/", &debugfs_type}, {"/proc/", &proc_type}, {"/sys/", &sysfs_type}};
	for (unsigned i = 0; i < ARRAY_SIZE(roots); i++) {
		size_t n = strlen(roots[i].prefix);
		if (strncmp(path, roots[i].prefix, n))
			continue;
		mutex_lock(&ns_lock);
		struct super_block *sb = instance(roots[i].type);
		int err = sb ? add_node(sb, path + n, ops, priv) : -ENOMEM;
		mutex_unlock(&ns_lock);
		return err;
	}
	return -ENOENT;
}

/* ---- node files ---- */

static void text_put(struct node_text *t)
{
	if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		kfree(t->data);
		kfree(t);
	}
}

/* The file's text with a reference for the caller: generated anew when fresh is set or there
 * is none yet (the old text goes once its last reader is done). NULL with *err on failure. */
static struct node_text *node_text_get(struct file *f, bool fresh, int *err)
{
	struct node_file *nf = f->priv;
	const struct inode *inode = f->inode;
	struct node_text *t = NULL, *old = NULL;
	if (fresh || !READ_ONCE(nf->text)) {
		t = kzalloc(sizeof(*t));
		*err = t ? inode->node_ops->gen(nf->state, &t->data, &t->len) : -ENOMEM;
		if (*err) {
			kfree(t);
			return NULL;
		}
		t->refs = 1;
	}
	spin_lock(&nf->lock);
	if (t) {
		old = nf->text;
		nf->text = t;
	} else {
		t = nf->text;
	}
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	spin_unlock(&nf->lock);
	text_put(old);
	return t;
}

static int node_open(struct inode *inode, struct file *f)
{
	if ((f->fmode & FMODE_WRITE) && !inode->node_ops->write)
		return -EACCES;
	const struct vfs_node_ops *ops = inode->node_ops;
	struct node_file *nf = kzalloc(sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	spin_init(&nf->lock);
	nf->state = inode->node_priv;
	int err = ops->open ? ops->open(inode->node_priv, &nf->state) : 0;
	if (err) {
		kfree(nf);
		return err;
	}
	f->priv = nf;
	return 0;
}

static void node_release(struct file *f)
{
	struct node_file *nf = f->priv;
	text_put(nf->text);
	if (f->inode->node_ops->release)
		f->inode->node_ops->release(nf->state);
	kfree(nf);
}

static long node_read_direct(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	char buf[BOUNCE];
	long done = 0;
	while (it->count) {
		long r = f->inode->node_ops->read(((struct node_file *)f->priv)->state, buf,
						  MIN(it->count, sizeof(buf)), *pos);
		if (r <= 0)
			return done ? done : r;
		size_t k = iter_copy_to(it, buf, (size_t)r);
		*pos += k;
		done += (long)k;
		if (k < (size_t)r)
			return done ? done : -EFAULT;
	}
	return done;
}

static long node_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	const struct vfs_node_ops *ops = f->inode->node_ops;
	int err;
	if (!ops->gen)
		return ops->read ? node_read_direct(f, it, pos) : -EINVAL;
	struct node_text *t = node_text_get(f, *pos == 0, &err);
	if (!t)
		return err;
	long r = 0;
	if (*pos < t->len) {
		size_t n = (size_t)MIN(it->count, t->len - *pos);
		size_t k = iter_copy_to(it, t->data + *pos, n);
		r = k ? (long)k : (n ? -EFAULT : 0);
		*pos += k;
	}
	text_put(t);
	return r;
}

static long node_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	char buf[NODE_WRITE_MAX];
	size_t n = it->count;
	(void)pos;
	if (n >= sizeof(buf))
		return -EINVAL; /* control files take one short value */
	if (iter_copy_from(it, buf, n) != n)
		return -EFAULT;
	buf[n] = 0;
	return f->inode->node_ops->write(f->inode->node_priv, buf, n);
}

static int64_t node_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_END && f->inode->node_ops->gen) {
		int err;
		struct node_text *t = node_text_get(f, false, &err);
		if (!t)
			return err;
		off = (int64_t)((uint64_t)off + t->len); /* wraps negative: EINVAL */
		text_put(t);
		whence = SEEK_SET;
	}
	return no_end_llseek(f, off, whence);
}

const struct file_ops node_fops = {
    .open = node_open,
    .release = node_release,
    .read = node_read,
    .write = node_write,
    .llseek = node_llseek,
};

void nodefs_init(void)
{
	register_filesystem(&debugfs_type);
	register_filesystem(&sysfs_type);
	register_filesystem(&proc_type);
	mutex_lock(&ns_lock);
	struct super_block *sys = instance(&sysfs_type);
	const char *last;
	struct dentry *d =
	    sys ? parent_of(sys, "kernel/debug/x", &last) : NULL; /* its mountpoint */
	dput(d);
	instance(&proc_type);
	instance(&debugfs_type);
	mutex_unlock(&ns_lock);
}
