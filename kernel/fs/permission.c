/* Who may touch a file: Linux's discretionary access control (fs/namei.c generic_permission,
 * fs/inode.c inode_init_owner, check_sticky). The mode's owner bits apply when the caller's
 * filesystem uid owns the inode, the group bits when the inode's group is the caller's
 * filesystem gid or a supplementary group, the other bits otherwise. Filesystem uid 0 stands
 * for CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER (Linux drops them from a thread
 * whose fsuid leaves 0): it reads and writes anything and searches every directory, but runs
 * only a file with some execute bit. A write or truncate by a caller without CAP_FSETID takes
 * a file's set-ID bits away (inode_remove_privs). docs/security.md lists where each check is
 * made. */
#include "cred.h"
#include "task.h"
#include "vfs_priv.h"

static const struct cred *cur_cred(void) { return &current_task()->cred; }

/* The fsuid-0 override of generic_permission, for a mask the mode bits refused. */
static int dac_override(const struct cred *c, const struct inode *inode, int mask)
{
	if (c->fsuid != 0)
		return -EACCES;
	if (S_ISDIR(inode->mode))
		return 0;
	if (!(mask & MAY_EXEC) || (inode->mode & S_IXUGO))
		return 0;
	return -EACCES;
}

int cred_permission(const struct cred *c, const struct inode *inode, int mask)
{
	unsigned mode = inode->mode;
	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	if (c->fsuid == inode->uid)
		mode >>= 6;
	else if (cred_in_fs_group(c, inode->gid))
		mode >>= 3;
	if (!(mask & ~mode & 7))
		return 0;
	return dac_override(c, inode, mask);
}

int inode_permission(const struct inode *inode, int mask)
{
	return cred_permission(cur_cred(), inode, mask);
}

bool inode_owner_or_capable(const struct inode *inode)
{
	const struct cred *c = cur_cred();
	return c->fsuid == inode->uid || c->fsuid == 0;
}

int may_delete_from(const struct inode *dir, const struct inode *victim)
{
	int err = inode_permission(dir, MAY_WRITE | MAY_EXEC);
	if (err)
		return err;
	if (!(dir->mode & S_ISVTX))
		return 0;
	const struct cred *c = cur_cred();
	bool owner = c->fsuid == victim->uid || c->fsuid == dir->uid;
	return owner || c->fsuid == 0 ? 0 : -EPERM; /* the sticky bit (/tmp, /dev/shm) */
}

void inode_init_owner(struct inode *inode, const struct inode *dir)
{
	const struct cred *c = cur_cred();
	inode->uid = c->fsuid;
	inode->gid = c->fsgid;
	if (!dir || !(dir->mode & S_ISGID))
		return;
	inode->gid = dir->gid; /* a set-group-ID directory passes its group on */
	if (S_ISDIR(inode->mode))
		inode->mode |= S_ISGID;
	else if ((inode->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
		 !cred_in_fs_group(c, inode->gid) && c->fsuid != 0)
		inode->mode &= ~(unsigned)S_ISGID; /* no set-group-ID for a group not ours */
}

/* Which set-ID bits a change of the file's data takes away (Linux's should_remove_suid):
 * S_ISUID always, S_ISGID when group-executable (without S_IXGRP it marks mandatory locking
 * and stays); none for a caller with CAP_FSETID or for a non-regular file. */
static unsigned privs_to_remove(const struct inode *inode)
{
	unsigned kill = inode->mode & S_ISUID;
	if ((inode->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		kill |= S_ISGID;
	return kill && S_ISREG(inode->mode) && !capable(CAP_FSETID) ? kill : 0;
}

void inode_remove_privs(struct inode *inode)
{
	unsigned kill = privs_to_remove(inode);
	if (!kill)
		return;
	inode->mode &= ~kill;
	inode_touch(inode, false);
}

void file_remove_privs(struct file *f)
{
	struct inode *inode = f->inode;
	if (!(READ_ONCE(inode->mode) & (S_ISUID | S_ISGID)))
		return; /* the common case, without the lock */
	mutex_lock(&inode->lock);
	inode_remove_privs(inode);
	mutex_unlock(&inode->lock);
}
