/* Directories as open files: getdents64 and getdents, and the file ops every directory shares
 * (read gives -EISDIR, lseek sets a listing position). A directory lists "." (position 0),
 * ".." (1), then its entries in the order they were made, each at the position its dentry got
 * then (dcache.c): an entry made or removed during a listing neither repeats nor hides
 * another. Each record's d_off is the position to resume after it, as Linux's filldir gives. */
#include "arch/context.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"

#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

static long dir_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	(void)f, (void)it, (void)pos;
	return -EISDIR;
}

static int dir_fsync(struct file *f)
{
	(void)f;
	return 0;
}

const struct file_ops dir_fops = {.read = dir_read, .llseek = no_end_llseek, .fsync = dir_fsync};

static uint8_t dtype(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return DT_REG;
	case S_IFDIR:
		return DT_DIR;
	case S_IFLNK:
		return DT_LNK;
	case S_IFCHR:
		return DT_CHR;
	case S_IFIFO:
		return DT_FIFO;
	case S_IFBLK:
		return DT_BLK;
	case S_IFSOCK:
		return DT_SOCK;
	default:
		return DT_UNKNOWN;
	}
}

struct dirent_out {
	char *ubuf;
	size_t size, used;
	bool old; /* struct linux_dirent (getdents) instead of linux_dirent64 */
};

/* Write one record; 1 when written, 0 when it does not fit, -EFAULT. */
static int emit(struct dirent_out *o, const char *name, size_t len, uint64_t ino, uint64_t next,
		uint8_t type)
{
	char rec[8 + 8 + 2 + 1 + NAME_MAX + 1 + 8];
	size_t hdr = o->old ? 18 : 19, reclen = ALIGN_UP(hdr + len + (o->old ? 2 : 1), 8);
	if (o->used + reclen > o->size)
		return 0;
	memset(rec, 0, reclen);
	memcpy(rec, &ino, 8);
	memcpy(rec + 8, &next, 8);
	uint16_t rl = (uint16_t)reclen;
	memcpy(rec + 16, &rl, 2);
	if (o->old)
		rec[reclen - 1] = (char)type; /* linux_dirent keeps the type in its last byte */
	else
		rec[18] = (char)type;
	memcpy(rec + hdr, name, len);
	if (arch_copy_to_user(o->ubuf + o->used, rec, reclen))
		return -EFAULT;
	o->used += reclen;
	return 1;
}

/* Fill o from f's listing at f->pos. Bytes written, or -EINVAL (no record fits), -EFAULT,
 * -ENOENT (the directory was removed). pos_lock held. */
static long fill_dir(struct file *f, struct dirent_out *o)
{
	struct dentry *dir = f->path.dentry;
	int r = 1;
	if (!dir->hashed && dir != dir->parent)
		return -ENOENT;
	if (dir->inode->iop && dir->inode->iop->refresh)
		dir->inode->iop->refresh(dir);
	while (r == 1) {
		uint64_t pos = f->pos;
		if (pos < 2) {
			struct dentry *d = pos ? dir->parent : dir;
			r = emit(o, "..", pos + 1, d->inode->ino, pos + 1, DT_DIR);
			if (r == 1)
				f->pos = pos + 1;
			continue;
		}
		struct dentry *c = d_child_at(dir, &pos);
		if (!c)
			break;
		r = emit(o, c->name, c->len, c->inode->ino, pos + 1, dtype(c->inode->mode));
		if (r == 1)
			f->pos = pos + 1;
		dput(c);
	}
	if (r < 0 && !o->used)
		return r;
	if (r == 0 && !o->used)
		return -EINVAL;
	return (long)o->used;
}

static long getdents_common(const struct syscall_args *a, bool old)
{
	struct dirent_out o = {(char *)a->arg[1], (unsigned)a->arg[2], 0, old};
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long r = -ENOTDIR;
	if (S_ISDIR(f->inode->mode) && f->fop == &dir_fops) {
		mutex_lock(&f->pos_lock);
		r = fill_dir(f, &o);
		mutex_unlock(&f->pos_lock);
	}
	fput(f);
	return r;
}

static long sys_getdents64(const struct syscall_args *a)
{
	return getdents_common(a, false);
}
SYSCALL_DEFINE(217, sys_getdents64);

static long sys_getdents(const struct syscall_args *a)
{
	return getdents_common(a, true);
}
SYSCALL_DEFINE(78, sys_getdents);
