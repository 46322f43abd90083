/* The calls that change names: mkdir(at), mknod(at), rmdir, unlink(at), rename(at)(2),
 * link(at), symlink(at), and readlink(at) beside them. Each walks to the parent directory of
 * its last component (nd_walk_parent), then under ns_lock looks the name up, makes Linux's
 * checks in Linux's order (fs/namei.c: filename_create, do_rmdir, do_unlinkat,
 * do_renameat2, do_linkat, vfs_*), and changes the dentry tree; the file system only makes
 * inodes (inode_ops.mknod). Link counts follow Linux: a directory has 2 plus one per
 * subdirectory; an inode whose last name goes lives on while it is open. */
#include "arch/context.h"
#include "cred.h"
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"

#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4
#define BOGO_DIRENT_SIZE 20

static void dir_entries(struct inode *dir, int n)
{
	dir->pc.size += (uint64_t)(n * BOGO_DIRENT_SIZE);
	inode_touch(dir, true);
}

/* Walk to the parent of a user path's last component: nd and the kernel copy of the path in
 * *kpath (free it after nd_end). */
static int walk_parent(int dirfd, const char *upath, struct nameidata *nd, char **kpath)
{
	*kpath = NULL;
	int err = getname(upath, false, kpath);
	if (err) {
		memset(nd, 0, sizeof(*nd));
		return err;
	}
	err = nd_start(nd, dirfd, *kpath);
	return err ? err : nd_walk_parent(nd);
}

static void walk_done(struct nameidata *nd, char *kpath)
{
	nd_end(nd);
	kfree(kpath);
}

/* filename_create: the checks before making np's last component (ns_lock held). */
static int may_create(struct nameidata *nd, bool want_dir)
{
	struct dentry *d;
	if (nd->type != LAST_NORM)
		return -EEXIST;
	int rofs = mnt_want_write(&nd->path);
	int err = lookup_child(nd->path.dentry, nd->last, nd->len, &d);
	if (err == 0) {
		dput(d);
		return -EEXIST;
	}
	if (err != -ENOENT)
		return err;
	const struct inode_ops *iop = nd->path.dentry->inode->iop;
	if (iop && iop->create_lookup_err)
		return iop->create_lookup_err;
	if (nd->trailing && !want_dir)
		return -ENOENT;
	if (rofs)
		return rofs;
	if (d_dead(nd->path.dentry))
		return -ENOENT;
	return inode_permission(nd->path.dentry->inode, MAY_WRITE | MAY_EXEC);
}

/* Make an inode of mode (rdev, target) named by nd's last component. ns_lock held. */
static int make_node(struct nameidata *nd, unsigned mode, uint32_t rdev, const char *target)
{
	struct inode *dir = nd->path.dentry->inode;
	if (!dir->iop || !(dir->iop && dir->iop->mknod))
		return -EPERM;
	struct dentry *d = d_alloc(nd->path.dentry, nd->last, nd->len);
	if (!d)
		return -ENOMEM;
	int err = dir->iop->mknod(dir, d, mode, rdev, target);
	if (!err) {
		if (S_ISDIR(mode))
			dir->nlink++;
		dir_entries(dir, 1);
		d_add(d);
	}
	dput(d);
	return err;
}

static long create_at(int dirfd, const char *upath, unsigned mode, uint32_t rdev,
		      const char *target)
{
	struct nameidata nd;
	char *kpath;
	int err = walk_parent(dirfd, upath, &nd, &kpath);
	if (!err) {
		mutex_lock(&ns_lock);
		err = may_create(&nd, S_ISDIR(mode));
		if (!err)
			err = make_node(&nd, mode, rdev, target);
		mutex_unlock(&ns_lock);
	}
	walk_done(&nd, kpath);
	return err;
}

static long mkdir_at(int dirfd, const char *upath, unsigned mode)
{
	return create_at(dirfd, upath, S_IFDIR | (mode & (0777 | S_ISVTX) & ~fs_umask()), 0, NULL);
}

static long sys_mkdir(const struct syscall_args *a)
{
	return mkdir_at(AT_FDCWD, (const char *)a->arg[0], (unsigned)a->arg[1]);
}
SYSCALL_DEFINE(83, sys_mkdir);

static long sys_mkdirat(const struct syscall_args *a)
{
	return mkdir_at((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2]);
}
SYSCALL_DEFINE(258, sys_mkdirat);

static long mknod_at(int dirfd, const char *upath, unsigned mode, uint64_t dev)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFCHR:
	case S_IFBLK:
		if (!capable(CAP_MKNOD))
			return -EPERM; /* a device node is the device's permission */
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	unsigned perm = mode & S_IALLUGO & ~fs_umask();
	return create_at(dirfd, upath, (mode & S_IFMT) | perm, (uint32_t)dev, NULL);
}

static long sys_mknod(const struct syscall_args *a)
{
	return mknod_at(AT_FDCWD, (const char *)a->arg[0], (unsigned)a->arg[1], a->arg[2]);
}
SYSCALL_DEFINE(133, sys_mknod);

static long sys_mknodat(const struct syscall_args *a)
{
	return mknod_at((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2], a->arg[3]);
}
SYSCALL_DEFINE(259, sys_mknodat);

static long symlink_at(const char *utarget, int dirfd, const char *upath)
{
	char *target;
	int err = getname(utarget, false, &target);
	if (err)
		return err;
	err = (int)create_at(dirfd, upath, S_IFLNK | 0777, 0, target);
	kfree(target);
	return err;
}

static long sys_symlink(const struct syscall_args *a)
{
	return symlink_at((const char *)a->arg[0], AT_FDCWD, (const char *)a->arg[1]);
}
SYSCALL_DEFINE(88, sys_symlink);

static long sys_symlinkat(const struct syscall_args *a)
{
	return symlink_at((const char *)a->arg[0], (int)a->arg[1], (const char *)a->arg[2]);
}
SYSCALL_DEFINE(266, sys_symlinkat);

/* ---- removing names ---- */

void vfs_remove_name(struct inode *dir, struct dentry *victim)
{
	struct inode *i = victim->inode;
	if (S_ISDIR(i->mode)) {
		i->nlink = 0;
		dir->nlink--;
	} else {
		i->nlink--;
	}
	inode_touch(i, false);
	dir_entries(dir, -1);
	d_delete(victim);
}

/* Why the name d in dir (locked) cannot go: rmdir's reasons (want_dir) or unlink's. */
static int remove_refusal(struct inode *dir, struct dentry *d, bool want_dir, bool trailing)
{
	bool isdir = S_ISDIR(d->inode->mode);
	if (want_dir ? !isdir : trailing)
		return isdir ? -EISDIR : -ENOTDIR;
	int err = may_delete_from(dir, d->inode);
	if (err)
		return err;
	if (!want_dir && isdir)
		return -EISDIR;
	if (!(dir->iop && dir->iop->mknod))
		return -EPERM;
	if (d->mounted)
		return -EBUSY;
	return want_dir && !d_empty_dir(d) ? -ENOTEMPTY : 0;
}

/* rmdir (want_dir) or unlink of upath relative to dirfd. */
static long remove_at(int dirfd, const char *upath, bool want_dir)
{
	struct nameidata nd;
	struct dentry *d;
	char *kpath;
	int err = walk_parent(dirfd, upath, &nd, &kpath);
	if (!err && want_dir)
		err = nd.type == LAST_DOTDOT ? -ENOTEMPTY
		      : nd.type == LAST_DOT  ? -EINVAL
		      : nd.type == LAST_ROOT ? -EBUSY
					     : 0;
	else if (!err && nd.type != LAST_NORM)
		err = -EISDIR;
	if (!err)
		err = mnt_want_write(&nd.path);
	if (!err) {
		mutex_lock(&ns_lock);
		err = lookup_child(nd.path.dentry, nd.last, nd.len, &d);
		if (!err) {
			struct inode *dir = nd.path.dentry->inode;
			err = remove_refusal(dir, d, want_dir, nd.trailing);
			if (!err)
				vfs_remove_name(dir, d);
			dput(d);
		}
		mutex_unlock(&ns_lock);
	}
	walk_done(&nd, kpath);
	return err;
}

static long sys_rmdir(const struct syscall_args *a)
{
	return remove_at(AT_FDCWD, (const char *)a->arg[0], true);
}
SYSCALL_DEFINE(84, sys_rmdir);

static long sys_unlink(const struct syscall_args *a)
{
	return remove_at(AT_FDCWD, (const char *)a->arg[0], false);
}
SYSCALL_DEFINE(87, sys_unlink);

static long sys_unlinkat(const struct syscall_args *a)
{
	if (a->arg[2] & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	return remove_at((int)a->arg[0], (const char *)a->arg[1], a->arg[2] & AT_REMOVEDIR);
}
SYSCALL_DEFINE(263, sys_unlinkat);

/* ---- link ---- */

static long link_at(int olddfd, const char *uold, int newdfd, const char *unew, int flags)
{
	struct path old;
	struct nameidata nd;
	char *kpath;
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	unsigned lf = (flags & AT_SYMLINK_FOLLOW ? LOOKUP_FOLLOW : 0) |
		      (flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
	int err = user_lookup(olddfd, uold, lf, &old);
	if (err)
		return err;
	err = walk_parent(newdfd, unew, &nd, &kpath);
	if (!err) {
		mutex_lock(&ns_lock);
		err = may_create(&nd, false);
		struct inode *i = old.dentry->inode, *dir = nd.path.dentry->inode;
		if (!err && old.mnt != nd.path.mnt)
			err = -EXDEV;
		if (!err && (!(dir->iop && dir->iop->mknod) || S_ISDIR(i->mode)))
			err = -EPERM;
		if (!err && i->nlink == 0 && !i->linkable)
			err = -ENOENT;
		struct dentry *d = err ? NULL : d_alloc(nd.path.dentry, nd.last, nd.len);
		if (!err && !d)
			err = -ENOMEM;
		if (!err) {
			inode_get(i);
			d->inode = i;
			i->nlink++;
			i->linkable = false;
			inode_touch(i, false);
			dir_entries(dir, 1);
			d_add(d);
			dput(d);
		}
		mutex_unlock(&ns_lock);
	}
	walk_done(&nd, kpath);
	path_put(&old);
	return err;
}

static long sys_link(const struct syscall_args *a)
{
	return link_at(AT_FDCWD, (const char *)a->arg[0], AT_FDCWD, (const char *)a->arg[1], 0);
}
SYSCALL_DEFINE(86, sys_link);

static long sys_linkat(const struct syscall_args *a)
{
	return link_at((int)a->arg[0], (const char *)a->arg[1], (int)a->arg[2],
		       (const char *)a->arg[3], (int)a->arg[4]);
}
SYSCALL_DEFINE(265, sys_linkat);

/* ---- readlink ---- */

static long readlink_at(int dirfd, const char *upath, char *ubuf, int size)
{
	struct path p;
	if (size <= 0)
		return -EINVAL;
	char *kpath;
	int err = getname(upath, true, &kpath);
	if (err)
		return err;
	bool empty = !kpath[0];
	err = vfs_lookup(dirfd, kpath, empty ? LOOKUP_EMPTY : 0, &p);
	kfree(kpath);
	if (err)
		return err;
	const char *t = p.dentry->inode->symlink;
	long r = empty ? -ENOENT : -EINVAL;
	if (S_ISLNK(p.dentry->inode->mode)) {
		size_t n = MIN(strlen(t), (size_t)size);
		r = arch_copy_to_user(ubuf, t, n) ? -EFAULT : (long)n;
	}
	path_put(&p);
	return r;
}

static long sys_readlink(const struct syscall_args *a)
{
	return readlink_at(AT_FDCWD, (const char *)a->arg[0], (char *)a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(89, sys_readlink);

static long sys_readlinkat(const struct syscall_args *a)
{
	return readlink_at((int)a->arg[0], (const char *)a->arg[1], (char *)a->arg[2],
			   (int)a->arg[3]);
}
SYSCALL_DEFINE(267, sys_readlinkat);
