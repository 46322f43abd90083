/* rename, renameat, renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE) with Linux's checks in
 * Linux's order (do_renameat2 and vfs_rename in fs/namei.c): both names' parents are walked,
 * then under ns_lock the source must exist, the target is replaced (or must not exist, or must
 * exist for an exchange), a directory can move only onto an empty directory, never into
 * itself, and a mountpoint never moves. The dentry moves; the inode stays what it was. */
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"

#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4

struct rename_req {
	struct nameidata old, new;
	struct dentry *src, *dst; /* looked up (dst NULL when the name is free) */
	unsigned flags;
};

/* may_delete for the source or a target that goes (is_dir: what the other side is). */
static int may_delete(const struct dentry *victim, bool is_dir)
{
	if (is_dir && !S_ISDIR(victim->inode->mode))
		return -ENOTDIR;
	if (!is_dir && S_ISDIR(victim->inode->mode))
		return -EISDIR;
	return 0;
}

/* vfs_rename's permission checks: the source may leave its directory, the target name may be
 * made or its file removed, and a directory that changes parent must be writable (its ".."
 * changes). 0, -EACCES, -EPERM (a sticky directory). */
static int rename_permission(struct rename_req *r, bool exchange, bool src_dir)
{
	struct inode *odir = r->old.path.dentry->inode, *ndir = r->new.path.dentry->inode;
	int err = may_delete_from(odir, r->src->inode);
	if (!err)
		err = r->dst ? may_delete_from(ndir, r->dst->inode)
			     : inode_permission(ndir, MAY_WRITE | MAY_EXEC);
	if (!err && odir != ndir && src_dir)
		err = inode_permission(r->src->inode, MAY_WRITE);
	if (!err && odir != ndir && exchange && S_ISDIR(r->dst->inode->mode))
		err = inode_permission(r->dst->inode, MAY_WRITE);
	return err;
}

/* The checks of do_renameat2 once both names are looked up. ns_lock held. */
static int rename_checks(struct rename_req *r)
{
	bool exchange = r->flags & RENAME_EXCHANGE;
	bool src_dir = S_ISDIR(r->src->inode->mode);
	if ((r->flags & RENAME_NOREPLACE) && r->dst)
		return -EEXIST;
	if (exchange && !r->dst)
		return -ENOENT;
	if (exchange && !S_ISDIR(r->dst->inode->mode) && r->new.trailing)
		return -ENOTDIR;
	if (!src_dir && (r->old.trailing || (!exchange && r->new.trailing)))
		return -ENOTDIR;
	/* the source may not contain the target's directory, nor the target the source's */
	if (d_is_ancestor(r->src, r->new.path.dentry))
		return -EINVAL;
	if (r->dst && d_is_ancestor(r->dst, r->old.path.dentry))
		return exchange ? -EINVAL : -ENOTEMPTY;
	if (r->dst && r->dst->inode == r->src->inode)
		return 1; /* two names of one file: nothing to do */
	const struct inode_ops *odir_iop = r->old.path.dentry->inode->iop;
	int err = rename_permission(r, exchange, src_dir);
	if (!err && r->dst)
		err = may_delete(r->dst, exchange ? S_ISDIR(r->dst->inode->mode) : src_dir);
	if (!err && d_dead(r->new.path.dentry))
		err = -ENOENT;
	if (!err && !(odir_iop && odir_iop->mknod))
		err = -EPERM;
	if (!err && (r->src->mounted || (r->dst && r->dst->mounted)))
		err = -EBUSY;
	if (!err && r->dst && !exchange && S_ISDIR(r->dst->inode->mode) && !d_empty_dir(r->dst))
		err = -ENOTEMPTY;
	return err;
}

/* Adjust the parents' link counts and sizes for d (a directory or not) leaving from and
 * arriving in to. */
static void move_counts(struct dentry *d, struct inode *from, struct inode *to)
{
	if (from == to)
		return;
	if (S_ISDIR(d->inode->mode)) {
		from->nlink--;
		to->nlink++;
	}
	from->pc.size -= 20;
	to->pc.size += 20;
}

static int do_rename(struct rename_req *r)
{
	struct inode *odir = r->old.path.dentry->inode, *ndir = r->new.path.dentry->inode;
	if (r->flags & RENAME_EXCHANGE) {
		move_counts(r->src, odir, ndir);
		move_counts(r->dst, ndir, odir);
		int err = d_exchange(r->src, r->dst);
		if (err) {
			move_counts(r->src, ndir, odir);
			move_counts(r->dst, odir, ndir);
		}
		return err;
	}
	if (r->dst) { /* the target's name goes, as an unlink or rmdir would take it */
		struct inode *t = r->dst->inode;
		if (S_ISDIR(t->mode)) {
			t->nlink = 0;
			ndir->nlink--;
		} else {
			t->nlink--;
		}
		ndir->pc.size -= 20;
		inode_touch(t, false);
		d_delete(r->dst);
	}
	move_counts(r->src, odir, ndir);
	int err = d_move(r->src, r->new.path.dentry, r->new.last, r->new.len);
	if (err)
		move_counts(r->src, ndir, odir);
	return err;
}

static int rename_locked(struct rename_req *r)
{
	int err = lookup_child(r->old.path.dentry, r->old.last, r->old.len, &r->src);
	if (err)
		return err;
	err = lookup_child(r->new.path.dentry, r->new.last, r->new.len, &r->dst);
	if (err == -ENOENT)
		err = 0, r->dst = NULL;
	if (err)
		return err;
	err = rename_checks(r);
	if (err)
		return err > 0 ? 0 : err;
	err = do_rename(r);
	if (!err) {
		inode_touch(r->old.path.dentry->inode, true);
		inode_touch(r->new.path.dentry->inode, true);
		inode_touch(r->src->inode, false);
	}
	return err;
}

static long rename_at(int olddfd, const char *uold, int newdfd, const char *unew, unsigned flags)
{
	struct rename_req r = {.flags = flags};
	char *kold = NULL, *knew = NULL;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (flags & RENAME_WHITEOUT)
		return -EINVAL; /* whiteouts are for overlay file systems, which MCRK has not */
	int err = getname(uold, false, &kold);
	if (!err)
		err = nd_start(&r.old, olddfd, kold);
	if (!err)
		err = nd_walk_parent(&r.old);
	if (!err)
		err = getname(unew, false, &knew);
	if (!err)
		err = nd_start(&r.new, newdfd, knew);
	if (!err)
		err = nd_walk_parent(&r.new);
	if (!err && r.old.path.mnt != r.new.path.mnt)
		err = -EXDEV;
	if (!err && r.old.type != LAST_NORM)
		err = -EBUSY;
	if (!err && r.new.type != LAST_NORM)
		err = (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	if (!err)
		err = mnt_want_write(&r.old.path);
	if (!err) {
		mutex_lock(&ns_lock);
		err = rename_locked(&r);
		mutex_unlock(&ns_lock);
	}
	if (r.src)
		dput(r.src);
	if (r.dst)
		dput(r.dst);
	if (kold)
		nd_end(&r.old);
	if (knew)
		nd_end(&r.new);
	kfree(kold);
	kfree(knew);
	return err;
}

static long sys_rename(const struct syscall_args *a)
{
	return rename_at(AT_FDCWD, (const char *)a->arg[0], AT_FDCWD, (const char *)a->arg[1], 0);
}
SYSCALL_DEFINE(82, sys_rename);

static long sys_renameat(const struct syscall_args *a)
{
	return rename_at((int)a->arg[0], (const char *)a->arg[1], (int)a->arg[2],
			 (const char *)a->arg[3], 0);
}
SYSCALL_DEFINE(264, sys_renameat);

static long sys_renameat2(const struct syscall_args *a)
{
	return rename_at((int)a->arg[0], (const char *)a->arg[1], (int)a->arg[2],
			 (const char *)a->arg[3], (unsigned)a->arg[4]);
}
SYSCALL_DEFINE(316, sys_renameat2);
