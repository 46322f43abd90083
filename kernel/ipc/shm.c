/* SysV shared memory, as Linux's ipc/shm.c: shmget makes (or finds by key) a segment, which is
 * a shmem file (kernel/fs/shmem.c, named "SYSV<key>"); shmat maps it shared into the caller,
 * shmdt unmaps it, shmctl reads and sets its owner and mode (IPC_STAT, IPC_SET) and removes it
 * (IPC_RMID). A removed segment loses its key at once and goes with its last attachment. Its
 * pages are tmpfs pages, so a memory error in one follows the dirty-shmem rule
 * (docs/memory_failure.md). Each attachment is a VMA whose file ops count it (shm_nattch):
 * fork and a VMA split count one more, an unmap one less, as Linux's shm_open/shm_close. */
#include "ctl.h"
#include "ipc_priv.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pagecache.h"
#include "printk.h"
#include "syscall.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define SHM_RDONLY 010000
#define SHM_RND 020000
#define SHM_REMAP 040000
#define SHM_EXEC 0100000
#define SHM_DEST 01000 /* mode bit: removed, goes with its last attachment */
#define SHMMIN 1
#define SHMMAX (UINT64_MAX - (1ull << 24)) /* Linux's default */
#define SHMLBA PAGE_SIZE

struct shm_seg {
	struct ipc_obj perm;
	uint64_t size;	   /* as asked (shm_segsz) */
	struct vm_file vf; /* the shmem file as a mapping backing (its reference) */
	int64_t atime, dtime, ctime;
	int cpid, lpid;
	long nattch;
};

/* Linux's struct shmid64_ds on x86-64. */
struct shmid64_ds {
	struct ipc64_perm perm;
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch, unused[2];
};

static struct ipc_table shm_ids = {.lock = SPINLOCK_INIT};

static void seg_free(struct shm_seg *s)
{
	s->vf.ops->put(s->vf.file);
	kfree(s);
}

/* ---- a segment as a mapping backing: each VMA counts an attachment ---- */

static void shm_vma_get(void *arg)
{
	struct shm_seg *s = arg;
	spin_lock(&shm_ids.lock);
	s->nattch++;
	spin_unlock(&shm_ids.lock);
}

/* One attachment less; a removed segment goes with its last. Never sleeps (mm->lock may be
 * held). */
static void shm_vma_put(void *arg)
{
	struct shm_seg *s = arg;
	spin_lock(&shm_ids.lock);
	bool last = --s->nattch == 0 && (s->perm.mode & SHM_DEST);
	s->dtime = ipc_now();
	s->lpid = current_task()->group ? current_task()->group->tgid : 0;
	if (last)
		ipc_remove(&shm_ids, &s->perm);
	spin_unlock(&shm_ids.lock);
	if (last)
		seg_free(s);
}

static int shm_vma_sync(void *arg, uint64_t start, uint64_t end)
{
	struct shm_seg *s = arg;
	return s->vf.ops->sync(s->vf.file, start, end);
}

static long shm_vma_name(void *arg, char *buf, size_t size)
{
	struct shm_seg *s = arg;
	return s->vf.ops->name(s->vf.file, buf, size);
}

/* MADV_REMOVE on an attached segment punches its shmem file, as Linux's shm_fallocate. */
static int shm_vma_punch(void *arg, uint64_t off, uint64_t len)
{
	struct shm_seg *s = arg;
	return s->vf.ops->punch(s->vf.file, off, len);
}

static const struct vm_file_ops shm_vm_ops = {shm_vma_get, shm_vma_put, shm_vma_sync, shm_vma_name,
					      shm_vma_punch};

/* ---- shmget ---- */

struct shmget_arg {
	int key;
	uint64_t size;
};

static struct ipc_obj *seg_prepare(void *arg, int *err)
{
	struct shmget_arg *a = arg;
	char name[16];
	struct shm_seg *s = a->size < SHMMIN || a->size > SHMMAX ? NULL : kzalloc(sizeof(*s));
	if (!s) {
		*err = a->size < SHMMIN || a->size > SHMMAX ? -EINVAL : -ENOMEM;
		return NULL;
	}
	ksnprintf(name, sizeof(name), "SYSV%08x", (unsigned)a->key);
	struct file *f = shmem_file_setup(name, ALIGN_UP(a->size, PAGE_SIZE), 0777, err);
	if (f) {
		*err = vfs_file_vm(f, false, &s->vf);
		vfs_file_put(f);
	}
	if (!f || *err) {
		kfree(s);
		return NULL;
	}
	s->size = a->size;
	s->ctime = ipc_now();
	s->cpid = current_task()->group ? current_task()->group->tgid : 0;
	return &s->perm;
}

static int seg_more(struct ipc_obj *o, void *arg)
{
	return ((struct shmget_arg *)arg)->size > container_of(o, struct shm_seg, perm)->size
		   ? -EINVAL
		   : 0;
}

static void seg_discard(struct ipc_obj *o)
{
	seg_free(container_of(o, struct shm_seg, perm));
}

static const struct ipc_get_ops seg_get_ops = {seg_prepare, seg_more, seg_discard};

static long sys_shmget(const struct syscall_args *a)
{
	struct shmget_arg g = {(int)a->arg[0], a->arg[1]};
	return ipc_get(&shm_ids, g.key, (int)a->arg[2], &seg_get_ops, &g);
}
SYSCALL_DEFINE(29, sys_shmget);

/* ---- shmat, shmdt ---- */

/* The segment id names, with one attachment counted for the caller while it maps it. */
static struct shm_seg *seg_hold(int id, unsigned acc, int *err)
{
	spin_lock(&shm_ids.lock);
	struct ipc_obj *o = ipc_find_id(&shm_ids, id);
	struct shm_seg *s = o ? container_of(o, struct shm_seg, perm) : NULL;
	*err = !s ? -EINVAL : ipc_perms(o, acc);
	if (!*err)
		s->nattch++;
	spin_unlock(&shm_ids.lock);
	return *err ? NULL : s;
}

/* Where shmat maps: addr rounded with SHM_RND, else page-aligned; -EINVAL otherwise. */
static long shmat_addr(uint64_t addr, int flags)
{
	if (!addr)
		return flags & SHM_REMAP ? -EINVAL : 0;
	if (addr & (SHMLBA - 1)) {
		if (!(flags & SHM_RND))
			return -EINVAL;
		addr &= ~(uint64_t)(SHMLBA - 1);
		if (!addr && (flags & SHM_REMAP))
			return -EINVAL;
	}
	return (long)addr;
}

static long sys_shmat(const struct syscall_args *a)
{
	int flags = (int)a->arg[2], err;
	long addr = shmat_addr(a->arg[1], flags);
	if ((int)a->arg[0] < 0 || addr < 0)
		return -EINVAL;
	bool ro = flags & SHM_RDONLY;
	unsigned prot = PT_READ | (ro ? 0 : PT_WRITE) | (flags & SHM_EXEC ? PT_EXEC : 0);
	struct shm_seg *s = seg_hold((int)a->arg[0], ro ? 0444 : 0666, &err);
	if (!s)
		return err;
	struct vm_file vf = {s->vf.pc, s, &shm_vm_ops, VM_FILE_READ | (ro ? 0 : VM_FILE_WRITE), NULL};
	unsigned mflags =
	    MAP_SHARED | (addr ? (flags & SHM_REMAP ? MAP_FIXED : MAP_FIXED_NOREPLACE) : 0);
	long r = vm_mmap(current_task()->mm, (vaddr_t)addr, s->size, prot, mflags, &vf, 0);
	if (r == -EEXIST)
		r = -EINVAL; /* Linux: an attach over a mapping without SHM_REMAP */
	if (r >= 0) {
		spin_lock(&shm_ids.lock);
		s->atime = ipc_now();
		s->lpid = current_task()->group->tgid;
		spin_unlock(&shm_ids.lock);
	}
	shm_vma_put(s); /* seg_hold's count: the VMA holds its own */
	return r;
}
SYSCALL_DEFINE(30, sys_shmat);

/* shmdt's search: the segment attached at addr (a VMA of one at or above it whose page offset
 * says it starts there), then the ranges of that segment's VMAs within its size. */
struct shmdt_find {
	vaddr_t addr;
	struct shm_seg *seg;
	vaddr_t start[16], end[16];
	unsigned n;
};

static int shmdt_first(const struct vma *v, void *arg)
{
	struct shmdt_find *f = arg;
	if (v->start < f->addr || !(v->flags & VM_FILE) || v->file.ops != &shm_vm_ops ||
	    (v->start - f->addr) >> PAGE_SHIFT != v->pgoff)
		return 0;
	f->seg = v->file.file;
	return 1;
}

static int shmdt_ranges(const struct vma *v, void *arg)
{
	struct shmdt_find *f = arg;
	uint64_t end = f->addr + ALIGN_UP(f->seg->size, PAGE_SIZE);
	if (v->start < f->addr || v->start >= end || v->file.file != f->seg || f->n == 16)
		return 0;
	f->start[f->n] = v->start;
	f->end[f->n++] = MIN(v->end, end);
	return 0;
}

static long sys_shmdt(const struct syscall_args *a)
{
	struct mm *mm = current_task()->mm;
	struct shmdt_find f = {.addr = a->arg[0]};
	if (f.addr & (PAGE_SIZE - 1))
		return -EINVAL;
	vm_for_each_vma(mm, shmdt_first, &f);
	if (!f.seg)
		return -EINVAL;
	vm_for_each_vma(mm, shmdt_ranges, &f); /* the segment lives while its VMAs do */
	for (unsigned i = 0; i < f.n; i++)
		vm_munmap(mm, f.start[i], f.end[i] - f.start[i]);
	return 0;
}
SYSCALL_DEFINE(67, sys_shmdt);

/* ---- shmctl ---- */

static long shm_stat(struct shm_seg *s, void *ubuf)
{
	struct shmid64_ds ds = {.segsz = s->size,
				.atime = s->atime,
				.dtime = s->dtime,
				.ctime = s->ctime,
				.cpid = s->cpid,
				.lpid = s->lpid,
				.nattch = (uint64_t)s->nattch};
	ipc_fill_perm(&s->perm, &ds.perm);
	spin_unlock(&shm_ids.lock);
	return arch_copy_to_user(ubuf, &ds, sizeof(ds)) ? -EFAULT : 0;
}

/* IPC_RMID: the key goes now, the segment with its last attachment. */
static long shm_rmid(struct shm_seg *s)
{
	bool now = s->nattch == 0;
	s->perm.key = IPC_PRIVATE;
	s->perm.mode |= SHM_DEST;
	if (now)
		ipc_remove(&shm_ids, &s->perm);
	spin_unlock(&shm_ids.lock);
	if (now)
		seg_free(s);
	return 0;
}

static long sys_shmctl(const struct syscall_args *a)
{
	int id = (int)a->arg[0], cmd = (int)a->arg[1];
	struct ipc64_perm in = {0};
	if (cmd < 0 || id < 0 || (cmd != IPC_STAT && cmd != IPC_SET && cmd != IPC_RMID))
		return -EINVAL; /* IPC_INFO, SHM_INFO, SHM_STAT, SHM_LOCK: not in MCRK */
	if (cmd == IPC_SET && arch_copy_from_user(&in, (void *)a->arg[2], sizeof(in)))
		return -EFAULT;
	spin_lock(&shm_ids.lock);
	struct ipc_obj *o = ipc_find_id(&shm_ids, id);
	struct shm_seg *s = o ? container_of(o, struct shm_seg, perm) : NULL;
	long err = !s ? -EINVAL : cmd == IPC_STAT ? ipc_perms(o, 0444) : ipc_owner(o) ? 0 : -EPERM;
	if (!err && cmd == IPC_STAT)
		return shm_stat(s, (void *)a->arg[2]);
	if (!err && cmd == IPC_RMID)
		return shm_rmid(s);
	if (!err) {
		ipc_set_perm(o, &in);
		s->ctime = ipc_now();
	}
	spin_unlock(&shm_ids.lock);
	return err;
}
SYSCALL_DEFINE(31, sys_shmctl);

/* ---- /proc/sysvipc/shm: every segment, in Linux's columns (ipcs reads it) ---- */

static int show_shm(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(
	    b,
	    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid "
	    " cuid  cgid      atime      dtime      ctime                   rss                  "
	    "swap\n");
	spin_lock(&shm_ids.lock);
	for (unsigned i = 0; i < IPC_MNI; i++) {
		struct ipc_obj *o = shm_ids.slot[i];
		struct shm_seg *s = o ? container_of(o, struct shm_seg, perm) : NULL;
		if (s)
			ctl_printf(
			    b,
			    "%10d %10d  %4o %21lu %5d %5d  %5ld %5u %5u %5u %5u %10ld %10ld %10ld "
			    "%21lu %21lu\n",
			    o->key, o->id, o->mode, s->size, s->cpid, s->lpid, s->nattch, o->uid,
			    o->gid, o->cuid, o->cgid, s->atime, s->dtime, s->ctime,
			    pagecache_cached(s->vf.pc, 0, UINT64_MAX) * PAGE_SIZE, 0ul);
	}
	spin_unlock(&shm_ids.lock);
	return 0;
}

static const struct ctl_file shm_files[] = {{"/proc/sysvipc/shm", show_shm, NULL, NULL, 0, 0}};

void shm_init(void)
{
	ctl_register(shm_files, ARRAY_SIZE(shm_files), "sysvipc");
}
