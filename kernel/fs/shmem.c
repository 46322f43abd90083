/* Shared memory objects, as Linux's mm/shmem.c and mm/memfd.c make them: each is an unlinked
 * regular file of an internal tmpfs instance that is mounted nowhere (Linux's shm_mnt), so its
 * memory is the pages of a page cache like any tmpfs file's. A MAP_SHARED|MAP_ANONYMOUS mapping
 * maps one named "dev/zero" (shmem_zero_setup), memfd_create makes one named "memfd:NAME",
 * SysV shared memory one named "SYSV<key>" (kernel/ipc/shm.c). Being tmpfs pages, a memory
 * error in one follows tmpfs's rule (docs/memory_failure.md): a dirty page stays in the page
 * cache, poisoned, its reads EIO and its touches SIGBUS, until truncated away.
 *
 * Also here: file seals (fcntl F_ADD_SEALS / F_GET_SEALS, Linux's memfd_add_seals). Every
 * tmpfs file carries F_SEAL_SEAL from birth except a memfd made with MFD_ALLOW_SEALING; tmpfs.c
 * checks the seals on write, truncate and fallocate, kernel/mm on mmap (pc->map_writable). */
#include "arch/context.h"
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"
#include "vm.h"

#define MFD_CLOEXEC 0x1
#define MFD_ALLOW_SEALING 0x2
#define MFD_HUGETLB 0x4
#define MFD_NAME_PREFIX "memfd:"
#define MFD_NAME_MAX (NAME_MAX - 6) /* the name after "memfd:", as Linux's MFD_NAME_MAX_LEN */
#define F_GET_SEALS 1034

static struct mount *shm_mnt;

/* Boot (and each host test's fresh memory): the internal instance, with no size or inode
 * limit, as Linux's shm_mnt. Without it (out of memory) shared memory cannot be made. */
void shmem_init(void)
{
	struct super_block *sb;
	shm_mnt = NULL;
	if (vfs_get_sb(&tmpfs_type, "size=0,nr_inodes=0", &sb))
		return;
	shm_mnt = vfs_kern_mount(sb);
	if (!shm_mnt)
		tmpfs_type.kill_sb(sb);
}

struct file *shmem_file_setup(const char *name, uint64_t size, unsigned mode, int *err)
{
	struct mount *m = shm_mnt;
	struct dentry *d = m ? d_alloc(m->root, name, strlen(name)) : NULL;
	struct inode *dir = m ? m->root->inode : NULL;
	*err = d ? dir->iop->mknod(dir, d, S_IFREG | (mode & S_IALLUGO), 0, NULL) : -ENOMEM;
	if (!*err) {
		d->inode->nlink = 0; /* no name anywhere: it goes with its last user */
		mutex_lock(&d->inode->lock);
		*err = d->inode->iop->setsize(d->inode, size);
		mutex_unlock(&d->inode->lock);
	}
	struct path p = {m ? mntget(m) : NULL, d};
	struct file *f = *err ? NULL : file_open_path(&p, O_RDWR | O_LARGEFILE, err);
	if (d)
		path_put(&p);
	return f;
}

int shmem_zero_setup(uint64_t len, struct vm_file *out)
{
	int err;
	struct file *f = shmem_file_setup("dev/zero", len, 0777, &err);
	if (!f)
		return err;
	err = vfs_file_vm(f, false, out);
	fput(f);
	return err;
}

/* ---- seals ---- */

/* F_ADD_SEALS (Linux's memfd_add_seals): only a writable descriptor may seal (-EPERM),
 * unknown bits -EINVAL, a file sealed with F_SEAL_SEAL -EPERM, and F_SEAL_WRITE -EBUSY while a
 * shared mapping may still write the file. */
static long add_seals(struct file *f, uint64_t seals)
{
	struct inode *i = f->inode;
	if (!(f->fmode & FMODE_WRITE))
		return -EPERM;
	if (seals & ~(uint64_t)F_SEAL_ALL)
		return -EINVAL;
	mutex_lock(&i->lock);
	long err = (i->seals & F_SEAL_SEAL) ? -EPERM : 0;
	if (!err && (seals & F_SEAL_WRITE) && !(i->seals & F_SEAL_WRITE))
		err = pagecache_deny_writable(&i->pc);
	if (!err && (seals & F_SEAL_FUTURE_WRITE))
		__atomic_store_n(&i->pc.seal_future_write, true, __ATOMIC_RELEASE);
	if (!err)
		i->seals |= (uint32_t)seals;
	mutex_unlock(&i->lock);
	return err;
}

long shmem_fcntl(struct file *f, int cmd, uint64_t arg)
{
	if (!S_ISREG(f->inode->mode) || f->inode->sb->type != &tmpfs_type)
		return -EINVAL; /* only tmpfs files carry seals */
	if (cmd == F_GET_SEALS)
		return READ_ONCE(f->inode->seals);
	return arg > UINT32_MAX ? -EINVAL : add_seals(f, arg);
}

/* ---- memfd_create ---- */

static long sys_memfd_create(const struct syscall_args *a)
{
	unsigned flags = (unsigned)a->arg[1];
	char name[sizeof(MFD_NAME_PREFIX) + MFD_NAME_MAX];
	if (a->arg[1] & ~(uint64_t)(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL; /* MFD_HUGETLB too: no hugetlbfs memfds */
	strcpy(name, MFD_NAME_PREFIX);
	long n = arch_strncpy_from_user(name + strlen(MFD_NAME_PREFIX), (const char *)a->arg[0],
					MFD_NAME_MAX + 1);
	if (n < 0)
		return n == -ENAMETOOLONG ? -EINVAL : n;
	int fd = fd_reserve(flags & MFD_CLOEXEC), err;
	if (fd < 0)
		return fd;
	struct file *f = shmem_file_setup(name, 0, 0777, &err);
	if (!f) {
		fd_unreserve(fd);
		return err;
	}
	if (flags & MFD_ALLOW_SEALING)
		f->inode->seals = 0;
	fd_commit(fd, f);
	return fd;
}
SYSCALL_DEFINE(319, sys_memfd_create);
