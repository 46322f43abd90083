/* What a file says about itself, and the calls that ask the file system to keep its data:
 * stat, fstat, lstat, newfstatat, statx, statfs, fstatfs, fsync, fdatasync, sync, syncfs, and
 * ioctl with the requests every file answers (FIOCLEX, FIONCLEX, FIONBIO, FIONREAD,
 * FIOQSIZE) before the file's own. The structures are Linux x86-64's. Every file here lives
 * in memory, so the sync calls have nothing to write back and succeed, as on tmpfs. */
#include "arch/context.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"

#define STATX_BASIC_STATS 0x7ff
#define STATX_BTIME 0x800
#define STATX_MNT_ID 0x1000
#define STATX__RESERVED 0x80000000u
#define STATX_ATTR_MOUNT_ROOT 0x2000
#define ST_RDONLY 1
#define ST_NOSUID 2
#define ST_NODEV 4
#define ST_NOEXEC 8
#define ST_RELATIME 4096
#define FIONREAD 0x541b
#define FIONBIO 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX 0x5451
#define FIOQSIZE 0x5460
#define BLKSIZE 4096

struct linux_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};

struct statx_ts {
	int64_t sec;
	uint32_t nsec;
	int32_t reserved;
};

struct linux_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t mnt_id;
	uint32_t dio_mem_align, dio_offset_align;
	uint64_t spare3[12];
};

struct linux_statfs {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};

_Static_assert(sizeof(struct linux_stat) == 144, "struct stat is 144 bytes on x86-64");
_Static_assert(sizeof(struct linux_statx) == 256, "struct statx is 256 bytes");
_Static_assert(sizeof(struct linux_statfs) == 120, "struct statfs is 120 bytes on x86-64");

void vfs_getattr(const struct path *p, struct kstat *st)
{
	const struct inode *i = p->dentry->inode;
	memset(st, 0, sizeof(*st));
	st->dev = i->sb->dev;
	st->ino = i->ino;
	st->nlink = i->nlink;
	st->mode = i->mode;
	st->uid = i->uid;
	st->gid = i->gid;
	st->rdev = i->rdev;
	st->size = inode_size(i);
	st->blksize = BLKSIZE;
	st->blocks = READ_ONCE(i->pc.nrpages) * (PAGE_SIZE / 512);
	st->atime = i->atime;
	st->mtime = i->mtime;
	st->ctime = i->ctime;
	st->btime = i->btime;
}

static int copy_stat(const struct path *p, void *ubuf)
{
	struct kstat k;
	vfs_getattr(p, &k);
	struct linux_stat s = {.dev = k.dev,
			       .ino = k.ino,
			       .nlink = k.nlink,
			       .mode = k.mode,
			       .uid = k.uid,
			       .gid = k.gid,
			       .rdev = k.rdev,
			       .size = (int64_t)k.size,
			       .blksize = (int64_t)k.blksize,
			       .blocks = (int64_t)k.blocks,
			       .atime = (uint64_t)k.atime.sec,
			       .atime_ns = (uint64_t)k.atime.nsec,
			       .mtime = (uint64_t)k.mtime.sec,
			       .mtime_ns = (uint64_t)k.mtime.nsec,
			       .ctime = (uint64_t)k.ctime.sec,
			       .ctime_ns = (uint64_t)k.ctime.nsec};
	return arch_copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
}

static long stat_at(int dirfd, const char *upath, void *ubuf, int flags)
{
	struct path p;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	unsigned lf = at_lookup_flags((unsigned)flags);
	int err = user_lookup(dirfd, upath, lf, &p);
	if (err)
		return err;
	err = copy_stat(&p, ubuf);
	path_put(&p);
	return err;
}

static long sys_stat(const struct syscall_args *a)
{
	return stat_at(AT_FDCWD, (const char *)a->arg[0], (void *)a->arg[1], 0);
}
SYSCALL_DEFINE(4, sys_stat);

static long sys_lstat(const struct syscall_args *a)
{
	return stat_at(AT_FDCWD, (const char *)a->arg[0], (void *)a->arg[1], AT_SYMLINK_NOFOLLOW);
}
SYSCALL_DEFINE(6, sys_lstat);

static long sys_newfstatat(const struct syscall_args *a)
{
	return stat_at((int)a->arg[0], (const char *)a->arg[1], (void *)a->arg[2], (int)a->arg[3]);
}
SYSCALL_DEFINE(262, sys_newfstatat);

/* copy (copy_stat or copy_statfs) of what descriptor fd names, O_PATH ones included. */
static long copy_fd(int fd, int (*copy)(const struct path *, void *), void *ubuf)
{
	struct file *f = fget_raw(fd);
	if (!f)
		return -EBADF;
	long err = copy(&f->path, ubuf);
	fput(f);
	return err;
}

static long sys_fstat(const struct syscall_args *a)
{
	return copy_fd((int)a->arg[0], copy_stat, (void *)a->arg[1]);
}
SYSCALL_DEFINE(5, sys_fstat);

static struct statx_ts sx_ts(struct ktimespec t)
{
	return (struct statx_ts){t.sec, (uint32_t)t.nsec, 0};
}

static long sys_statx(const struct syscall_args *a)
{
	int flags = (int)a->arg[2];
	uint32_t mask = (uint32_t)a->arg[3];
	struct path p;
	struct kstat k;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	unsigned lf = at_lookup_flags((unsigned)flags);
	int err = user_lookup((int)a->arg[0], (const char *)a->arg[1], lf, &p);
	if (err)
		return err;
	vfs_getattr(&p, &k);
	struct linux_statx s = {.mask = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID,
				.blksize = (uint32_t)k.blksize,
				.attributes = p.dentry == p.mnt->root ? STATX_ATTR_MOUNT_ROOT : 0,
				.nlink = (uint32_t)k.nlink,
				.uid = k.uid,
				.gid = k.gid,
				.mode = (uint16_t)k.mode,
				.ino = k.ino,
				.size = k.size,
				.blocks = k.blocks,
				.attributes_mask = STATX_ATTR_MOUNT_ROOT,
				.atime = sx_ts(k.atime),
				.btime = sx_ts(k.btime),
				.ctime = sx_ts(k.ctime),
				.mtime = sx_ts(k.mtime),
				.rdev_major = DEV_MAJOR(k.rdev),
				.rdev_minor = DEV_MINOR(k.rdev),
				.dev_major = DEV_MAJOR(k.dev),
				.dev_minor = DEV_MINOR(k.dev),
				.mnt_id = (uint64_t)(uintptr_t)p.mnt % 100000};
	path_put(&p);
	return arch_copy_to_user((void *)a->arg[4], &s, sizeof(s)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(332, sys_statx);

/* ---- statfs ---- */

static int copy_statfs(const struct path *p, void *ubuf)
{
	struct kstatfs k = {0};
	struct super_block *sb = p->mnt->sb;
	unsigned mf = p->mnt->flags;
	if (sb->type->statfs)
		sb->type->statfs(sb, &k);
	struct linux_statfs s = {.type = (int64_t)sb->magic,
				 .bsize = PAGE_SIZE,
				 .blocks = k.blocks,
				 .bfree = k.bfree,
				 .bavail = k.bavail,
				 .files = k.files,
				 .ffree = k.ffree,
				 .fsid = {(int32_t)DEV_MINOR(sb->dev), (int32_t)DEV_MAJOR(sb->dev)},
				 .namelen = NAME_MAX,
				 .frsize = PAGE_SIZE,
				 .flags = (mf & MNT_RDONLY ? ST_RDONLY : 0) |
					  (mf & MNT_NOSUID ? ST_NOSUID : 0) |
					  (mf & MNT_NODEV ? ST_NODEV : 0) |
					  (mf & MNT_NOEXEC ? ST_NOEXEC : 0) | ST_RELATIME};
	return arch_copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
}

static long sys_statfs(const struct syscall_args *a)
{
	struct path p;
	int err = user_lookup(AT_FDCWD, (const char *)a->arg[0], LOOKUP_FOLLOW, &p);
	if (err)
		return err;
	err = copy_statfs(&p, (void *)a->arg[1]);
	path_put(&p);
	return err;
}
SYSCALL_DEFINE(137, sys_statfs);

static long sys_fstatfs(const struct syscall_args *a)
{
	return copy_fd((int)a->arg[0], copy_statfs, (void *)a->arg[1]);
}
SYSCALL_DEFINE(138, sys_fstatfs);

/* ---- sync ---- */

static long fsync_fd(int fd)
{
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	long err = f->fop->fsync ? f->fop->fsync(f) : -EINVAL;
	fput(f);
	return err;
}

static long sys_fsync(const struct syscall_args *a)
{
	return fsync_fd((int)a->arg[0]);
}
SYSCALL_DEFINE(74, sys_fsync);
static long sys_fdatasync(const struct syscall_args *a)
{
	return fsync_fd((int)a->arg[0]);
}
SYSCALL_DEFINE(75, sys_fdatasync);

static long sys_sync(const struct syscall_args *a)
{
	(void)a;
	vfs_sync_all(); /* sync(2) reports nothing, as on Linux */
	return 0;
}
SYSCALL_DEFINE(162, sys_sync);

static long sys_syncfs(const struct syscall_args *a)
{
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	struct super_block *sb = f->path.mnt->sb;
	int err = 0;
	if (sb->type->sync_fs) {
		mutex_lock(&ns_lock);
		err = sb->type->sync_fs(sb, false);
		mutex_unlock(&ns_lock);
	}
	fput(f);
	return err;
}
SYSCALL_DEFINE(306, sys_syncfs);

/* ---- ioctl ---- */

static long generic_ioctl(struct file *f, int fd, unsigned cmd, uint64_t arg)
{
	int v;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		return fd_set_cloexec(fd, cmd == FIOCLEX);
	case FIONBIO:
		if (arch_copy_from_user(&v, (const void *)arg, sizeof(v)))
			return -EFAULT;
		f->flags = v ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
		return 0;
	case FIONREAD:
		if (!S_ISREG(f->inode->mode))
			break;
		v = (int)(inode_size(f->inode) - f->pos);
		return arch_copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
	case FIOQSIZE:
		if (S_ISDIR(f->inode->mode) || S_ISREG(f->inode->mode) || S_ISLNK(f->inode->mode)) {
			int64_t size = (int64_t)inode_size(f->inode);
			return arch_copy_to_user((void *)arg, &size, sizeof(size)) ? -EFAULT : 0;
		}
		return -ENOTTY;
	}
	return f->fop->ioctl ? f->fop->ioctl(f, cmd, arg) : -ENOTTY;
}

static long sys_ioctl(const struct syscall_args *a)
{
	struct file *f = fget((int)a->arg[0]);
	if (!f)
		return -EBADF;
	long r = generic_ioctl(f, (int)a->arg[0], (unsigned)a->arg[1], a->arg[2]);
	fput(f);
	return r;
}
SYSCALL_DEFINE(16, sys_ioctl);
