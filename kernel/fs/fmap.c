/* What mappings need from files (include/vm.h's struct vm_file): the page cache of a regular
 * file, a reference on the open file for as long as a VMA maps it, its fsync for msync, and
 * its path for /proc/self/maps. Also the opening of a program for execve, whose mapping stops
 * writes to the file while it runs (-ETXTBSY), as Linux's deny_write_access, and what its
 * set-ID bits give (none on a nosuid mount). */
#include "kstring.h"
#include "printk.h"
#include "vfs_priv.h"
#include "vm.h"

static void vmf_get(void *file)
{
	__atomic_fetch_add(&((struct file *)file)->refs, 1, __ATOMIC_RELAXED);
}
static void vmf_put(void *file)
{
	fput(file);
}

static int vmf_sync(void *file, uint64_t start, uint64_t end)
{
	struct file *f = file;
	(void)start, (void)end;
	return f->fop && f->fop->fsync ? f->fop->fsync(f) : -EINVAL;
}

static long vmf_name(void *file, char *buf, size_t size)
{
	struct file *f = file;
	return vfs_d_path(&f->path, buf, size);
}

/* MADV_REMOVE: Linux's vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) on the mapped file. */
static int vmf_punch(void *file, uint64_t off, uint64_t len)
{
	struct file *f = file;
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!f->inode->iop || !f->inode->iop->fallocate)
		return -EOPNOTSUPP;
	return f->inode->iop->fallocate(f->inode, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
					len);
}

static const struct vm_file_ops file_vm_ops = {vmf_get, vmf_put, vmf_sync, vmf_name, vmf_punch};

/* The program's mapping of itself: its last reference lets writers in again. */
static void exe_put(void *file)
{
	struct file *f = file;
	__atomic_fetch_add(&f->inode->writers, 1, __ATOMIC_RELEASE);
	fput(f);
}

static const struct vm_file_ops exe_vm_ops = {vmf_get, exe_put, vmf_sync, vmf_name, vmf_punch};

/* Stop writes to inode (deny_write_access): -ETXTBSY when it is open for writing. */
static int deny_write(struct inode *inode)
{
	int32_t w = __atomic_load_n(&inode->writers, __ATOMIC_RELAXED);
	do {
		if (w > 0)
			return -ETXTBSY;
	} while (!__atomic_compare_exchange_n(&inode->writers, &w, w - 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return 0;
}

int vfs_file_vm(struct file *f, bool exe, struct vm_file *out)
{
	if (!f->fop || !f->fop->mappable)
		return -ENODEV;
	if (exe && hugetlbfs_obj(f->inode))
		return -EACCES; /* a program runs from the page cache, which hugetlbfs has none of */
	if (exe) {
		int err = deny_write(f->inode);
		if (err)
			return err;
	}
	vmf_get(f);
	out->huge = hugetlbfs_obj(f->inode);
	out->pc = out->huge ? NULL : &f->inode->pc;
	out->file = f;
	out->ops = exe ? &exe_vm_ops : &file_vm_ops;
	out->mode = (f->fmode & FMODE_READ ? VM_FILE_READ : 0) |
		    (f->fmode & FMODE_WRITE ? VM_FILE_WRITE : 0);
	return 0;
}

int vfs_mmap_file(int fd, struct vm_file *out)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	if (S_ISCHR(f->inode->mode) && chrdev_is_zero(f->inode->rdev)) {
		fput(f);
		return 1;
	}
	int err = vfs_file_vm(f, false, out);
	if (err == -ENODEV) { /* vm_mmap says -ENODEV after its own checks, as Linux orders them */
		vmf_get(f);
		*out = (struct vm_file){NULL, f, &file_vm_ops,
					(f->fmode & FMODE_READ ? VM_FILE_READ : 0) |
					    (f->fmode & FMODE_WRITE ? VM_FILE_WRITE : 0),
					NULL};
		err = 0;
	}
	fput(f);
	return err;
}

struct file *vfs_open_exec(const char *path, bool user, int *err)
{
	struct path p;
	*err = user ? user_lookup(AT_FDCWD, path, LOOKUP_FOLLOW, &p)
		    : vfs_lookup(AT_FDCWD, path, LOOKUP_FOLLOW, &p);
	if (*err)
		return NULL;
	struct inode *i = p.dentry->inode;
	if (!S_ISREG(i->mode) || (p.mnt->flags & MNT_NOEXEC))
		*err = -EACCES;
	else
		*err = inode_permission(i, MAY_EXEC);
	struct file *f = *err ? NULL : file_open_path(&p, O_RDONLY | O_LARGEFILE, err);
	path_put(&p);
	return f;
}

unsigned vfs_exec_setid(struct file *f, uint32_t *uid, uint32_t *gid)
{
	struct inode *i = f->inode;
	if (f->path.mnt->flags & MNT_NOSUID)
		return 0;
	mutex_lock(&i->lock); /* the three together, as Linux's bprm_fill_uid */
	unsigned mode = i->mode & (S_ISUID | S_ISGID | S_IXGRP);
	*uid = i->uid;
	*gid = i->gid;
	mutex_unlock(&i->lock);
	return mode;
}

bool vfs_file_may_read(struct file *f)
{
	return inode_permission(f->inode, MAY_READ) == 0;
}

uint64_t vfs_file_size(struct file *f)
{
	return inode_size(f->inode);
}
