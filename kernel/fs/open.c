/* open, openat, creat (with O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW,
 * O_CLOEXEC, O_PATH, O_TMPFILE), and the calls that act on what a path or an fd names:
 * chdir, fchdir, chroot, getcwd, umask, chmod, fchmod, fchmodat, chown, fchown, lchown,
 * fchownat, access, faccessat, faccessat2, truncate, ftruncate, fallocate. Linux's checks in Linux's order (fs/open.c,
 * fs/namei.c there), with the permission checks of permission.c: read and write permission
 * on the file to open it, write and search permission on the directory to create in it,
 * search to make a directory the working directory; a read-only mount refuses writes. */
#include "arch/context.h"
#include "cred.h"
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "task.h"
#include "vfs_priv.h"

#define FALLOC_FL_NO_HIDE_STALE 0x04
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#define FALLOC_FL_ZERO_RANGE 0x10
#define FALLOC_FL_INSERT_RANGE 0x20
#define FALLOC_FL_UNSHARE_RANGE 0x40
#define FALLOC_FL_SUPPORTED                                                                        \
	(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |                   \
	 FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE)
#define O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)

/* Make a regular file named np->last in np->dir. ns_lock held. */
static int create_file(struct nameidata *nd, unsigned mode, struct path *out)
{
	struct inode *dir = nd->path.dentry->inode;
	if (d_dead(nd->path.dentry))
		return -ENOENT; /* the directory was removed */
	if (nd->len > NAME_MAX)
		return -ENAMETOOLONG;
	if (dir->iop && dir->iop->create_lookup_err)
		return dir->iop->create_lookup_err;
	int err = mnt_want_write(&nd->path);
	if (!err)
		err = inode_permission(dir, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if (!dir->iop || !dir->iop->mknod)
		return -EACCES;
	struct dentry *d = d_alloc(nd->path.dentry, nd->last, nd->len);
	if (!d)
		return -ENOMEM;
	err = dir->iop->mknod(dir, d, S_IFREG | (mode & ~fs_umask() & S_IALLUGO), 0, NULL);
	if (err) {
		dput(d);
		return err;
	}
	dir->pc.size += 20; /* tmpfs's directory size per entry */
	inode_touch(dir, true);
	d_add(d);
	*out = (struct path){mntget(nd->path.mnt), d};
	return 0;
}

/* The last step of an open with O_CREAT: find or make the file. 1: follow a symlink (the walk
 * goes on), 0: *out is the file (*created says whether we made it), or -errno. */
static int open_create(struct nameidata *nd, unsigned flags, unsigned mode, struct path *out,
		       bool *created)
{
	struct dentry *d;
	if (nd->trailing)
		return -EISDIR;
	mutex_lock(&ns_lock);
	int err = lookup_child(nd->path.dentry, nd->last, nd->len, &d);
	if (err == -ENOENT) {
		err = create_file(nd, mode, out);
		*created = !err;
		mutex_unlock(&ns_lock);
		return err;
	}
	mutex_unlock(&ns_lock);
	if (err)
		return err;
	if (flags & O_EXCL) {
		dput(d);
		return -EEXIST;
	}
	*out = (struct path){mntget(nd->path.mnt), d};
	follow_mounts(out);
	if (S_ISLNK(out->dentry->inode->mode) && !(flags & O_NOFOLLOW)) {
		err = nd_follow_link(nd, out->dentry);
		path_put(out);
		return err ? err : 1;
	}
	return 0;
}

/* The last step without O_CREAT. Same returns as open_create. */
static int open_existing(struct nameidata *nd, unsigned flags, struct path *out)
{
	struct dentry *d;
	int err = lookup_child(nd->path.dentry, nd->last, nd->len, &d);
	if (err)
		return err;
	*out = (struct path){mntget(nd->path.mnt), d};
	follow_mounts(out);
	if (S_ISLNK(out->dentry->inode->mode) && (!(flags & O_NOFOLLOW) || nd->trailing)) {
		err = nd_follow_link(nd, out->dentry);
		path_put(out);
		return err ? err : 1;
	}
	if (nd->trailing && !S_ISDIR(out->dentry->inode->mode)) {
		path_put(out);
		return -ENOTDIR;
	}
	return 0;
}

/* Walk path to the file an open names, creating it with O_CREAT. */
static int open_walk(int dirfd, const char *path, unsigned flags, unsigned mode, struct path *out,
		     bool *created)
{
	struct nameidata nd;
	int err = nd_start(&nd, dirfd, path);
	while (!err) {
		err = nd_walk_parent(&nd);
		if (err)
			break;
		if (nd.type != LAST_NORM) {
			if (nd.type == LAST_DOTDOT)
				path_up(&nd.path, &nd.root);
			*out = nd.path;
			path_get(out);
			break;
		}
		err = (flags & O_CREAT) ? open_create(&nd, flags, mode, out, created)
					: open_existing(&nd, flags, out);
		if (err != 1)
			break;
		err = 0;
	}
	nd_end(&nd);
	return err;
}

/* O_TMPFILE: an unnamed regular file in the directory path names. */
static int open_tmpfile(int dirfd, const char *path, unsigned flags, unsigned mode,
			struct path *out)
{
	struct path dir;
	int err = vfs_lookup(dirfd, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
	if (err)
		return err;
	struct inode *di = dir.dentry->inode;
	err = mnt_want_write(&dir);
	if (!err)
		err = inode_permission(di, MAY_WRITE | MAY_EXEC);
	if (!err && (!di->iop || !di->iop->mknod))
		err = -EOPNOTSUPP;
	struct dentry *d = err ? NULL : d_alloc(dir.dentry, "#tmpfile", 8);
	if (!err && !d)
		err = -ENOMEM;
	if (!err)
		err = di->iop->mknod(di, d, S_IFREG | (mode & ~fs_umask() & S_IALLUGO), 0, NULL);
	if (!err) {
		d->inode->nlink = 0; /* no name: it goes when its last user does */
		d->inode->linkable = !(flags & O_EXCL);
		*out = (struct path){mntget(dir.mnt), d};
	} else {
		dput(d);
	}
	path_put(&dir);
	return err;
}

/* The permission an open asks for (Linux's ACC_MODE, with O_TRUNC a write). */
static int open_mask(unsigned flags)
{
	static const int acc[4] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE};
	return acc[flags & O_ACCMODE] | ((flags & O_TRUNC) ? MAY_WRITE : 0);
}

/* What may_open and do_open check once the file is found (fs/namei.c); a file the open made
 * itself is not checked against its own mode. */
static int may_open(const struct path *p, unsigned flags, bool created)
{
	struct inode *i = p->dentry->inode;
	bool write = (flags & O_ACCMODE) != O_RDONLY;
	if ((flags & O_CREAT) && S_ISDIR(i->mode))
		return -EISDIR;
	if ((flags & O_DIRECTORY) && !S_ISDIR(i->mode))
		return -ENOTDIR;
	if (flags & O_PATH)
		return 0;
	if (S_ISLNK(i->mode))
		return -ELOOP;
	if (S_ISDIR(i->mode) && write)
		return -EISDIR;
	if ((S_ISCHR(i->mode) || S_ISBLK(i->mode)) && (p->mnt->flags & MNT_NODEV))
		return -EACCES;
	int err = created ? 0 : inode_permission(i, open_mask(flags));
	if (!err && (flags & O_NOATIME) && !inode_owner_or_capable(i))
		err = -EPERM;
	if (!err && (S_ISREG(i->mode) || S_ISDIR(i->mode)) &&
	    (write || ((flags & O_TRUNC) && !created)))
		err = mnt_want_write(p);
	return err;
}

/* O_TRUNC of an existing regular file. */
static int open_truncate(struct inode *inode)
{
	int32_t w = __atomic_load_n(&inode->writers, __ATOMIC_RELAXED);
	if (w < 0)
		return -ETXTBSY;
	mutex_lock(&inode->lock);
	inode_remove_privs(inode); /* Linux's do_truncate: O_TRUNC too */
	int err = inode->iop && inode->iop->setsize ? inode->iop->setsize(inode, 0) : 0;
	if (!err)
		inode_touch(inode, true);
	mutex_unlock(&inode->lock);
	return err;
}

static struct file *open_path(int dirfd, const char *path, unsigned flags, unsigned mode, int *err)
{
	struct path p;
	bool created = false;
	*err = (flags & __O_TMPFILE) ? open_tmpfile(dirfd, path, flags, mode, &p)
				     : open_walk(dirfd, path, flags, mode, &p, &created);
	if (*err)
		return NULL;
	created |= flags & __O_TMPFILE; /* made by this open: not checked against its mode */
	*err = may_open(&p, (flags & __O_TMPFILE) ? flags & ~O_DIRECTORY : flags, created);
	if (!*err && (flags & O_TRUNC) && !created && S_ISREG(p.dentry->inode->mode) &&
	    !(flags & O_PATH))
		*err = open_truncate(p.dentry->inode);
	struct file *f = *err ? NULL : file_open_path(&p, flags, err);
	path_put(&p);
	return f;
}

/* open/openat/creat (Linux's build_open_flags, then the descriptor, then the walk). */
static long do_open(int dirfd, const char *upath, unsigned flags, unsigned mode)
{
	flags = (flags & O_VALID_FLAGS) | O_LARGEFILE;
	if (flags & O_PATH)
		flags &= O_PATH_FLAGS;
	bool create = flags & (O_CREAT | __O_TMPFILE);
	mode = create ? mode & S_IALLUGO : 0;
	if (flags & __O_TMPFILE) {
		if ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE)
			return -EINVAL;
		if ((flags & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
	}
	char *path;
	int err = getname(upath, false, &path);
	if (err)
		return err;
	int fd = fd_reserve(flags & O_CLOEXEC);
	if (fd >= 0) {
		struct file *f = open_path(dirfd, path, flags, mode, &err);
		if (f)
			fd_commit(fd, f);
		else
			fd_unreserve(fd);
	}
	kfree(path);
	return fd < 0 ? fd : err ? err : fd;
}

static long sys_open(const struct syscall_args *a)
{
	return do_open(AT_FDCWD, (const char *)a->arg[0], (unsigned)a->arg[1], (unsigned)a->arg[2]);
}
SYSCALL_DEFINE(2, sys_open);

static long sys_openat(const struct syscall_args *a)
{
	return do_open((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2],
		       (unsigned)a->arg[3]);
}
SYSCALL_DEFINE(257, sys_openat);

static long sys_creat(const struct syscall_args *a)
{
	return do_open(AT_FDCWD, (const char *)a->arg[0], O_CREAT | O_WRONLY | O_TRUNC,
		       (unsigned)a->arg[1]);
}
SYSCALL_DEFINE(85, sys_creat);

/* ---- working directory, root, umask ---- */

static long set_dir(const char *upath, bool root)
{
	struct path p;
	int err = user_lookup(AT_FDCWD, upath, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (err)
		return err;
	err = inode_permission(p.dentry->inode, MAY_EXEC);
	if (!err && root && !capable(CAP_SYS_CHROOT))
		err = -EPERM;
	if (!err)
		fs_set_path(&p, root);
	path_put(&p);
	return err;
}

static long sys_chdir(const struct syscall_args *a)
{
	return set_dir((const char *)a->arg[0], false);
}
SYSCALL_DEFINE(80, sys_chdir);

static long sys_chroot(const struct syscall_args *a)
{
	return set_dir((const char *)a->arg[0], true);
}
SYSCALL_DEFINE(161, sys_chroot);

static long sys_fchdir(const struct syscall_args *a)
{
	struct file *f = fget_raw((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long err = S_ISDIR(f->inode->mode) ? inode_permission(f->inode, MAY_EXEC) : -ENOTDIR;
	if (!err)
		fs_set_path(&f->path, false);
	fput(f);
	return err;
}
SYSCALL_DEFINE(81, sys_fchdir);

static long sys_getcwd(const struct syscall_args *a)
{
	struct path pwd;
	char *buf = kmalloc(PATH_MAX);
	if (!buf)
		return -ENOMEM;
	fs_get_pwd(&pwd);
	long len = vfs_path_name(&pwd, buf, PATH_MAX);
	path_put(&pwd);
	if (len >= 0) {
		len++; /* with its NUL */
		if ((uint64_t)len > a->arg[1])
			len = -ERANGE;
		else if (arch_copy_to_user((void *)a->arg[0], buf, (size_t)len))
			len = -EFAULT;
	}
	kfree(buf);
	return len;
}
SYSCALL_DEFINE(79, sys_getcwd);

static long sys_umask(const struct syscall_args *a)
{
	return fs_set_umask((unsigned)a->arg[0]);
}
SYSCALL_DEFINE(95, sys_umask);

/* ---- chmod ---- */

static long chmod_path(const struct path *p, unsigned mode)
{
	int err = mnt_want_write(p);
	if (err)
		return err;
	struct inode *i = p->dentry->inode;
	if (!inode_owner_or_capable(i))
		return -EPERM; /* only the owner (or CAP_FOWNER) changes a mode */
	const struct cred *c = &current_task()->cred;
	if (!cred_in_fs_group(c, i->gid) && c->fsuid != 0)
		mode &= ~(unsigned)S_ISGID; /* setgid only for a group of ours (CAP_FSETID) */
	i->mode = (i->mode & ~S_IALLUGO) | (mode & S_IALLUGO);
	inode_touch(i, false);
	return 0;
}

static long chmod_at(int dirfd, const char *upath, unsigned mode)
{
	struct path p;
	int err = user_lookup(dirfd, upath, LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	err = (int)chmod_path(&p, mode);
	path_put(&p);
	return err;
}

static long sys_chmod(const struct syscall_args *a)
{
	return chmod_at(AT_FDCWD, (const char *)a->arg[0], (unsigned)a->arg[1]);
}
SYSCALL_DEFINE(90, sys_chmod);

static long sys_fchmodat(const struct syscall_args *a)
{
	return chmod_at((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2]);
}
SYSCALL_DEFINE(268, sys_fchmodat);

static long sys_fchmod(const struct syscall_args *a)
{
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long err = chmod_path(&f->path, (unsigned)a->arg[1]);
	fput(f);
	return err;
}
SYSCALL_DEFINE(91, sys_fchmod);

/* ---- chown ---- */

/* Linux's chown_ok and chgrp_ok (fs/attr.c): the owner may keep its uid and give the file a
 * group of its own; fsuid 0 (CAP_CHOWN) anything. */
static bool chown_allowed(const struct inode *i, uint32_t uid, uint32_t gid)
{
	const struct cred *c = &current_task()->cred;
	if (c->fsuid == 0)
		return true;
	if (uid != CRED_INVALID_ID && (c->fsuid != i->uid || uid != i->uid))
		return false;
	if (gid != CRED_INVALID_ID &&
	    (c->fsuid != i->uid || (gid != i->gid && !cred_in_fs_group(c, gid))))
		return false;
	return true;
}

static long chown_path(const struct path *p, uint32_t uid, uint32_t gid)
{
	int err = mnt_want_write(p);
	if (err)
		return err;
	struct inode *i = p->dentry->inode;
	if (!chown_allowed(i, uid, gid))
		return -EPERM;
	if (uid != CRED_INVALID_ID)
		i->uid = uid;
	if (gid != CRED_INVALID_ID)
		i->gid = gid;
	if (!S_ISDIR(i->mode)) { /* a new owner does not inherit set-ID powers (notify_change) */
		i->mode &= ~(unsigned)S_ISUID;
		if ((i->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
			i->mode &= ~(unsigned)S_ISGID;
	}
	inode_touch(i, false);
	return 0;
}

static long chown_at(int dirfd, const char *upath, uint32_t uid, uint32_t gid, int flags)
{
	struct path p;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int err = user_lookup(dirfd, upath, at_lookup_flags((unsigned)flags), &p);
	if (err)
		return err;
	err = (int)chown_path(&p, uid, gid);
	path_put(&p);
	return err;
}

static long sys_chown(const struct syscall_args *a)
{
	return chown_at(AT_FDCWD, (const char *)a->arg[0], (uint32_t)a->arg[1],
			(uint32_t)a->arg[2], 0);
}
SYSCALL_DEFINE(92, sys_chown);

static long sys_lchown(const struct syscall_args *a)
{
	return chown_at(AT_FDCWD, (const char *)a->arg[0], (uint32_t)a->arg[1],
			(uint32_t)a->arg[2], AT_SYMLINK_NOFOLLOW);
}
SYSCALL_DEFINE(94, sys_lchown);

static long sys_fchownat(const struct syscall_args *a)
{
	return chown_at((int)a->arg[0], (const char *)a->arg[1], (uint32_t)a->arg[2],
			(uint32_t)a->arg[3], (int)a->arg[4]);
}
SYSCALL_DEFINE(260, sys_fchownat);

static long sys_fchown(const struct syscall_args *a)
{
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long err = chown_path(&f->path, (uint32_t)a->arg[1], (uint32_t)a->arg[2]);
	fput(f);
	return err;
}
SYSCALL_DEFINE(93, sys_fchown);

/* ---- access ---- */

static long access_at(int dirfd, const char *upath, unsigned mode, unsigned flags)
{
	struct path p;
	if (mode & ~7u)
		return -EINVAL;
	if (flags & ~(unsigned)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	unsigned lf = at_lookup_flags((unsigned)flags);
	int err = user_lookup(dirfd, upath, lf, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	struct cred who = current_task()->cred; /* the real ids ask, unless AT_EACCESS */
	if (!(flags & AT_EACCESS)) {
		who.fsuid = who.uid;
		who.fsgid = who.gid;
	}
	err = cred_permission(&who, i, (int)mode);
	if (!err && (mode & MAY_WRITE) &&
	    (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode)))
		err = mnt_want_write(&p);
	path_put(&p);
	return err;
}

static long sys_access(const struct syscall_args *a)
{
	return access_at(AT_FDCWD, (const char *)a->arg[0], (unsigned)a->arg[1], 0);
}
SYSCALL_DEFINE(21, sys_access);

static long sys_faccessat(const struct syscall_args *a)
{
	return access_at((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2], 0);
}
SYSCALL_DEFINE(269, sys_faccessat);

static long sys_faccessat2(const struct syscall_args *a)
{
	return access_at((int)a->arg[0], (const char *)a->arg[1], (unsigned)a->arg[2],
			 (unsigned)a->arg[3]);
}
SYSCALL_DEFINE(439, sys_faccessat2);

/* ---- truncate, fallocate ---- */

static long do_truncate(struct inode *inode, uint64_t size)
{
	if (!inode->iop || !inode->iop->setsize)
		return -EACCES; /* a pseudo file system's file has no size to set */
	if (size > VFS_MAX_FILE_SIZE)
		return -EFBIG;
	mutex_lock(&inode->lock);
	inode_remove_privs(inode);
	int err = inode->iop->setsize(inode, size);
	if (!err)
		inode_touch(inode, true);
	mutex_unlock(&inode->lock);
	return err;
}

static long sys_truncate(const struct syscall_args *a)
{
	struct path p;
	if ((int64_t)a->arg[1] < 0)
		return -EINVAL;
	int err = user_lookup(AT_FDCWD, (const char *)a->arg[0], LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	struct inode *i = p.dentry->inode;
	err = S_ISDIR(i->mode) ? -EISDIR : !S_ISREG(i->mode) ? -EINVAL : mnt_want_write(&p);
	if (!err)
		err = inode_permission(i, MAY_WRITE);
	if (!err && __atomic_load_n(&i->writers, __ATOMIC_RELAXED) < 0)
		err = -ETXTBSY;
	if (!err)
		err = (int)do_truncate(i, a->arg[1]);
	path_put(&p);
	return err;
}
SYSCALL_DEFINE(76, sys_truncate);

static long sys_ftruncate(const struct syscall_args *a)
{
	if ((int64_t)a->arg[1] < 0)
		return -EINVAL;
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long err = !S_ISREG(f->inode->mode) || !(f->fmode & FMODE_WRITE)
		       ? -EINVAL
		       : do_truncate(f->inode, a->arg[1]);
	fput(f);
	return err;
}
SYSCALL_DEFINE(77, sys_ftruncate);

static long fallocate_checks(struct file *f, int mode, int64_t off, int64_t len)
{
	struct inode *i = f->inode;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~FALLOC_FL_SUPPORTED)
		return -EOPNOTSUPP;
	if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) ==
	    (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) &&
	    (mode & ~(FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)))
		return -EINVAL;
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (S_ISFIFO(i->mode))
		return -ESPIPE;
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode))
		return -ENODEV;
	if ((uint64_t)off + (uint64_t)len > VFS_MAX_FILE_SIZE)
		return -EFBIG;
	if (!i->iop || !i->iop->fallocate)
		return -EOPNOTSUPP;
	return 0;
}

static long sys_fallocate(const struct syscall_args *a)
{
	int mode = (int)a->arg[1];
	int64_t off = (int64_t)a->arg[2], len = (int64_t)a->arg[3];
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long err = fallocate_checks(f, mode, off, len);
	if (!err) {
		mutex_lock(&f->inode->lock);
		err = f->inode->iop->fallocate(f->inode, mode, (uint64_t)off, (uint64_t)len);
		if (!err)
			inode_touch(f->inode, true);
		mutex_unlock(&f->inode->lock);
	}
	fput(f);
	return err;
}
SYSCALL_DEFINE(285, sys_fallocate);
