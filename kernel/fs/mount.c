/* File-system types and mounts. A type makes instances (super blocks); a mount attaches one
 * at a directory of another mount, or as the root. The mounts form a tree (parent, and the
 * dentry of the parent they cover); a walk that meets a covered dentry enters the newest mount
 * on it (namei.c). A mount is referenced by its place in the tree, by its child mounts and by
 * every path into it (open files, working directories, walks in progress), so umount2 sees
 * whether it is busy (-EBUSY) from its count; MNT_DETACH takes a mount and everything below it
 * out of the tree at once and leaves them to go when their last user does. Also here:
 * mount(2) and umount2(2) for the types MCRK has, /proc/mounts and /proc/filesystems.
 * Locks: ns_lock orders mounts and umounts against each other and the tree; dcache_lock
 * guards a mount's tree fields (parent, mountpoint, attached) for walkers. */
#include "arch/context.h"
#include "cred.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "syscall.h"
#include "vfs_priv.h"

#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_REC 16384
#define MS_PROPAGATION ((1 << 17) | (1 << 18) | (1 << 19) | (1 << 20))
#define MS_NOUSER (1u << 31)
#define MS_MGC_MSK 0xffff0000u
#define MS_MGC_VAL 0xc0ed0000u
#define MNT_FORCE 1
#define MNT_DETACH 2
#define MNT_EXPIRE 4
#define UMOUNT_NOFOLLOW 8
#define MOUNT_STRING_MAX PAGE_SIZE

static struct fs_type *fs_types;
static struct list_node mounts = LIST_HEAD_INIT(mounts);
struct path vfs_root;

void register_filesystem(struct fs_type *t)
{
	t->next = fs_types;
	fs_types = t;
}

struct fs_type *vfs_find_fs(const char *name)
{
	for (struct fs_type *t = fs_types; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

int vfs_get_sb(struct fs_type *t, const char *data, struct super_block **out)
{
	if (t->single && t->the_sb) {
		__atomic_fetch_add(&t->the_sb->refs, 1, __ATOMIC_RELAXED);
		*out = t->the_sb;
		return 0;
	}
	static uint32_t next_anon_dev = 16; /* anonymous devices 0:16 and up */
	int err = t->get_sb(t, data, out);
	if (!err && !(*out)->dev)
		(*out)->dev = MKDEV(0, __atomic_fetch_add(&next_anon_dev, 1, __ATOMIC_RELAXED));
	if (!err && t->single)
		t->the_sb = *out;
	return err;
}

static void sb_put(struct super_block *sb)
{
	if (__atomic_sub_fetch(&sb->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (sb->type->single)
		sb->type->the_sb = NULL;
	sb->type->kill_sb(sb);
}

struct mount *mntget(struct mount *m)
{
	__atomic_fetch_add(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void mntput(struct mount *m)
{
	if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL))
		return;
	spin_lock(&dcache_lock);
	list_del(&m->link);
	spin_unlock(&dcache_lock);
	dput(m->root);
	sb_put(m->sb);
	kfree(m->devname);
	kfree(m);
}

void path_get(const struct path *p)
{
	mntget(p->mnt);
	dget(p->dentry);
}

void path_put(struct path *p)
{
	dput(p->dentry);
	mntput(p->mnt);
}

bool path_equal(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}

struct mount *lookup_mount(struct mount *mnt, struct dentry *d)
{
	struct mount *found = NULL;
	struct list_node *n;
	spin_lock(&dcache_lock);
	list_for_each(n, &mounts)
	{
		struct mount *m = list_entry(n, struct mount, link);
		if (m->attached && m->parent == mnt && m->mountpoint == d)
			found = m; /* the newest one wins: it covers the others */
	}
	if (found)
		mntget(found);
	spin_unlock(&dcache_lock);
	return found;
}

int vfs_attach(struct super_block *sb, const struct path *mp, unsigned flags, const char *devname)
{
	struct mount *m = kzalloc(sizeof(*m));
	char *name = kmalloc(strlen(devname) + 1);
	if (!m || !name) {
		kfree(m);
		kfree(name);
		return -ENOMEM;
	}
	strcpy(name, devname);
	m->sb = sb;
	m->root = dget(sb->root);
	m->refs = 1; /* attached */
	m->flags = flags;
	m->devname = name;
	m->attached = true;
	if (mp) {
		m->parent = mntget(mp->mnt);
		m->mountpoint = dget(mp->dentry);
		__atomic_fetch_add(&mp->dentry->mounted, 1, __ATOMIC_RELAXED);
	}
	spin_lock(&dcache_lock);
	list_add_tail(&m->link, &mounts);
	spin_unlock(&dcache_lock);
	if (!mp) {
		vfs_root = (struct path){m, dget(m->root)};
		mntget(m);
	}
	return 0;
}

struct mount *vfs_kern_mount(struct super_block *sb)
{
	struct mount *m = kzalloc(sizeof(*m));
	char *name = kmalloc(8);
	if (!m || !name) {
		kfree(m);
		kfree(name);
		return NULL;
	}
	strcpy(name, "none");
	m->sb = sb;
	m->root = dget(sb->root);
	m->refs = 1; /* the kernel's, for good */
	m->devname = name;
	list_init(&m->link);
	return m;
}

/* Take m out of the tree. dcache_lock held; *mp and *parent get what the caller must put. */
static void detach_locked(struct mount *m, struct dentry **mp, struct mount **parent)
{
	m->attached = false;
	*mp = m->mountpoint;
	*parent = m->parent;
	if (*mp)
		__atomic_fetch_sub(&(*mp)->mounted, 1, __ATOMIC_RELAXED);
	m->parent = NULL;
	m->mountpoint = NULL;
}

static void detach(struct mount *m)
{
	struct dentry *mp;
	struct mount *parent;
	spin_lock(&dcache_lock);
	detach_locked(m, &mp, &parent);
	spin_unlock(&dcache_lock);
	if (mp)
		dput(mp);
	if (parent)
		mntput(parent);
	mntput(m); /* the tree's reference */
}

/* An attached mount with m as its parent, or NULL. dcache_lock held. */
static struct mount *first_child_locked(struct mount *m)
{
	struct list_node *n;
	list_for_each(n, &mounts)
	{
		struct mount *c = list_entry(n, struct mount, link);
		if (c->attached && c->parent == m)
			return c;
	}
	return NULL;
}

/* MNT_DETACH: m and every mount below it leave the tree, deepest first. ns_lock held. */
static void detach_tree(struct mount *m)
{
	for (;;) {
		struct mount *c = m, *next;
		spin_lock(&dcache_lock);
		while ((next = first_child_locked(c)) != NULL)
			c = next;
		mntget(c);
		spin_unlock(&dcache_lock);
		detach(c);
		mntput(c);
		if (c == m)
			return;
	}
}

/* Before the last mount of a file system on a device goes: write it all back, mark it clean. */
static void sync_last(struct mount *m)
{
	if (m->sb->type->sync_fs && __atomic_load_n(&m->sb->refs, __ATOMIC_RELAXED) == 1)
		m->sb->type->sync_fs(m->sb, true);
}

/* umount2 of the mount whose root p is. The walk's own reference is p's. ns_lock held. */
static int do_umount(struct path *p, int flags)
{
	struct mount *m = p->mnt;
	struct path root;
	if (p->dentry != m->root || !m->attached)
		return -EINVAL;
	fs_get_root(&root);
	bool is_root = m == vfs_root.mnt || m == root.mnt;
	path_put(&root);
	if (is_root)
		return -EBUSY; /* MCRK keeps its root mounted */
	if (flags & MNT_EXPIRE)
		return flags & (MNT_FORCE | MNT_DETACH) ? -EINVAL : -EAGAIN;
	if (flags & MNT_DETACH) {
		sync_last(m);
		detach_tree(m);
		return 0;
	}
	spin_lock(&dcache_lock);
	bool busy = __atomic_load_n(&m->refs, __ATOMIC_RELAXED) > 2 || first_child_locked(m);
	spin_unlock(&dcache_lock);
	if (busy)
		return -EBUSY;
	sync_last(m);
	detach(m);
	return 0;
}

int vfs_sync_all(void)
{
	int first = 0;
	mutex_lock(&ns_lock);
	struct list_node *n;
	list_for_each(n, &mounts)
	{
		struct mount *m = list_entry(n, struct mount, link);
		int err = m->attached && m->sb->type->sync_fs ? m->sb->type->sync_fs(m->sb, false) : 0;
		first = first ? first : err;
	}
	mutex_unlock(&ns_lock);
	return first;
}

static long sys_umount2(const struct syscall_args *a)
{
	int flags = (int)a->arg[1];
	struct path p;
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	int err = user_lookup(AT_FDCWD, (const char *)a->arg[0],
			      (flags & UMOUNT_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	mutex_lock(&ns_lock);
	err = do_umount(&p, flags);
	mutex_unlock(&ns_lock);
	path_put(&p);
	return err;
}
SYSCALL_DEFINE(166, sys_umount2);

/* A string argument of mount(2) (at most a page), or NULL for a NULL pointer. */
static int mount_string(const char *u, char **out)
{
	*out = NULL;
	if (!u)
		return 0;
	char *s = kmalloc(MOUNT_STRING_MAX);
	if (!s)
		return -ENOMEM;
	long n = arch_strncpy_from_user(s, u, MOUNT_STRING_MAX);
	if (n < 0) {
		kfree(s);
		return n == -ENAMETOOLONG ? -EINVAL : (int)n;
	}
	*out = s;
	return 0;
}

static unsigned mnt_flags_of(unsigned long flags)
{
	return (flags & MS_RDONLY ? MNT_RDONLY : 0) | (flags & MS_NOSUID ? MNT_NOSUID : 0) |
	       (flags & MS_NODEV ? MNT_NODEV : 0) | (flags & MS_NOEXEC ? MNT_NOEXEC : 0);
}

static int do_new_mount(struct path *p, const char *type, unsigned long flags, const char *dev,
			const char *data)
{
	struct super_block *sb;
	if (!type)
		return -EINVAL;
	struct fs_type *t = vfs_find_fs(type);
	if (!t)
		return -ENODEV;
	if (!S_ISDIR(p->dentry->inode->mode))
		return -ENOTDIR;
	if (!p->dentry->hashed && p->dentry != p->dentry->parent)
		return -ENOENT; /* the directory was deleted */
	int err = t->get_sb_dev ? t->get_sb_dev(t, dev, data, &sb) : vfs_get_sb(t, data, &sb);
	if (err)
		return err;
	err = vfs_attach(sb, p, mnt_flags_of(flags), dev ? dev : "none");
	if (err)
		sb_put(sb);
	return err;
}

static int do_remount(struct path *p, unsigned long flags, const char *data)
{
	struct mount *m = p->mnt;
	if (p->dentry != m->root)
		return -EINVAL;
	if (data && *data) {
		if (!m->sb->type->remount)
			return -EINVAL;
		int err = m->sb->type->remount(m->sb, data);
		if (err)
			return err;
	}
	m->flags = mnt_flags_of(flags);
	return 0;
}

static long sys_mount(const struct syscall_args *a)
{
	char *type = NULL, *dev = NULL, *data = NULL;
	unsigned long flags = a->arg[3];
	struct path p;
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
		flags &= ~MS_MGC_MSK;
	int err = mount_string((const char *)a->arg[2], &type);
	if (err)
		return err;
	err = mount_string((const char *)a->arg[0], &dev);
	if (!err)
		err = mount_string((const char *)a->arg[4], &data);
	if (!err)
		err = user_lookup(AT_FDCWD, (const char *)a->arg[1], LOOKUP_FOLLOW, &p);
	if (!err) {
		mutex_lock(&ns_lock);
		if (flags & MS_NOUSER)
			err = -EINVAL;
		else if (!capable(CAP_SYS_ADMIN))
			err = -EPERM; /* Linux's may_mount */
		else if (flags & MS_REMOUNT)
			err = do_remount(&p, flags, data);
		else if (flags & (MS_BIND | MS_MOVE | MS_PROPAGATION | MS_REC))
			err = -EINVAL; /* bind, move and propagation changes: not in MCRK */
		else
			err = do_new_mount(&p, type, flags, dev, data);
		mutex_unlock(&ns_lock);
		path_put(&p);
	}
	kfree(type);
	kfree(dev);
	kfree(data);
	return err;
}
SYSCALL_DEFINE(165, sys_mount);

int mnt_want_write(const struct path *p)
{
	return (READ_ONCE(p->mnt->flags) & MNT_RDONLY) ? -EROFS : 0;
}

/* ---- /proc/mounts and /proc/filesystems ---- */

#define MOUNTS_TEXT_MAX 16384

/* Append s with Linux's escapes for /proc/mounts (space, tab, newline, backslash). */
static size_t put_escaped(char *b, size_t len, size_t max, const char *s)
{
	for (; *s && len + 5 < max; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			len += (size_t)ksnprintf(b + len, max - len, "\\%03o", (unsigned char)*s);
		else
			b[len++] = *s;
	}
	b[len] = 0;
	return len;
}

static size_t mount_line(struct mount *m, char *b, size_t len, size_t max)
{
	char path[512], opts[256] = "";
	struct path at = {m, m->root};
	if (vfs_path_name(&at, path, sizeof(path)) < 0)
		strcpy(path, "?");
	if (m->sb->type->show_options)
		m->sb->type->show_options(m->sb, opts, sizeof(opts));
	len = put_escaped(b, len, max, m->devname);
	b[len++] = ' ';
	len = put_escaped(b, len, max, path);
	len += (size_t)ksnprintf(b + len, max - len, " %s %s%s%s%s,relatime%s%s 0 0\n",
				 m->sb->type->name, m->flags & MNT_RDONLY ? "ro" : "rw",
				 m->flags & MNT_NOSUID ? ",nosuid" : "",
				 m->flags & MNT_NODEV ? ",nodev" : "",
				 m->flags & MNT_NOEXEC ? ",noexec" : "", opts[0] ? "," : "", opts);
	return MIN(len, max - 1);
}

#define MOUNTS_SHOWN_MAX 64

static int gen_mounts(void *priv, char **out, size_t *outlen)
{
	(void)priv;
	struct mount *shown[MOUNTS_SHOWN_MAX];
	unsigned n = 0;
	size_t len = 0;
	char *b = kmalloc(MOUNTS_TEXT_MAX);
	if (!b)
		return -ENOMEM;
	struct list_node *it;
	spin_lock(&dcache_lock);
	list_for_each(it, &mounts)
	{
		struct mount *m = list_entry(it, struct mount, link);
		if (m->attached && n < MOUNTS_SHOWN_MAX)
			shown[n++] = mntget(m);
	}
	spin_unlock(&dcache_lock);
	for (unsigned i = 0; i < n; i++) {
		if (len + 600 < MOUNTS_TEXT_MAX)
			len = mount_line(shown[i], b, len, MOUNTS_TEXT_MAX);
		mntput(shown[i]);
	}
	*out = b;
	*outlen = len;
	return 0;
}

static int gen_filesystems(void *priv, char **out, size_t *outlen)
{
	(void)priv;
	char *b = kmalloc(512);
	size_t len = 0;
	if (!b)
		return -ENOMEM;
	for (struct fs_type *t = fs_types; t; t = t->next)
		len += (size_t)ksnprintf(b + len, 512 - len, "%s\t%s\n",
					 t->get_sb_dev ? "" : "nodev", t->name); /* Linux's format */
	*out = b;
	*outlen = MIN(len, (size_t)511);
	return 0;
}

const struct vfs_node_ops vfs_mounts_ops = {.gen = gen_mounts};
static const struct vfs_node_ops filesystems_ops = {.gen = gen_filesystems};

void mount_procfs_init(void)
{
	vfs_register_node("/proc/mounts", &vfs_mounts_ops, NULL);
	vfs_register_node("/proc/filesystems", &filesystems_ops, NULL);
}
