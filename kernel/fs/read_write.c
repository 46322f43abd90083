/* Moving bytes: read, write, pread64, pwrite64, readv, writev, preadv, pwritev and lseek, with
 * Linux's checks in Linux's order (fs/read_write.c there): the descriptor (-EBADF), the file's
 * mode (-EBADF, or -EINVAL for a file that cannot do it), the buffer's range (-EFAULT), the
 * offset (-EINVAL, -ESPIPE for a stream), at most MAX_RW_COUNT bytes a call. Files with an
 * offset take their pos_lock around the transfer, so a shared offset moves by whole calls.
 * Data moves straight between the file and user memory through an iterator over the buffers
 * (struct vfs_iter): file types never touch user pointers themselves. */
#include "arch/context.h"
#include "arch/mmu.h"
#include "kmalloc.h"
#include "kstring.h"
#include "syscall.h"
#include "vfs_priv.h"

#define UIO_MAXIOV 1024
#define UIO_FASTIOV 8
#define TASK_SIZE (USER_VA_END - PAGE_SIZE)

static bool access_ok(uint64_t addr, uint64_t size)
{
	return size <= TASK_SIZE && addr <= TASK_SIZE - size;
}

/* ---- iterators ---- */

void iter_init(struct vfs_iter *it, const struct kiovec *iov, unsigned nr, bool user)
{
	it->iov = iov;
	it->nr = nr;
	it->idx = 0;
	it->off = 0;
	it->user = user;
	it->count = 0;
	for (unsigned i = 0; i < nr; i++)
		it->count += iov[i].len;
}

/* Move up to n bytes between kbuf and the iterator; to_iter says which way. */
static size_t iter_move(struct vfs_iter *it, void *kbuf, size_t n, bool to_iter, bool zero)
{
	size_t done = 0;
	while (done < n && it->idx < it->nr) {
		const struct kiovec *v = &it->iov[it->idx];
		size_t k = MIN(n - done, v->len - it->off);
		char *u = (char *)v->base + it->off;
		int err = 0;
		if (k && to_iter && zero)
			err = it->user ? arch_clear_user(u, k) : (memset(u, 0, k), 0);
		else if (k && to_iter)
			err = it->user ? arch_copy_to_user(u, (char *)kbuf + done, k)
				       : (memcpy(u, (char *)kbuf + done, k), 0);
		else if (k)
			err = it->user ? arch_copy_from_user((char *)kbuf + done, u, k)
				       : (memcpy((char *)kbuf + done, u, k), 0);
		if (err)
			break; /* a fault: what moved so far counts */
		done += k;
		it->off += k;
		it->count -= k;
		if (it->off == v->len) {
			it->idx++;
			it->off = 0;
		}
	}
	return done;
}

size_t iter_copy_to(struct vfs_iter *it, const void *src, size_t n)
{
	return iter_move(it, (void *)src, n, true, false);
}

size_t iter_copy_from(struct vfs_iter *it, void *dst, size_t n)
{
	return iter_move(it, dst, n, false, false);
}

size_t iter_zero(struct vfs_iter *it, size_t n)
{
	return iter_move(it, NULL, n, true, true);
}

/* ---- lseek ---- */

static int64_t set_pos(struct file *f, int64_t off)
{
	if (off < 0 || off > VFS_MAX_FILE_SIZE)
		return -EINVAL;
	f->pos = (uint64_t)off;
	return off;
}

int64_t no_end_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_CUR)
		off = (int64_t)((uint64_t)f->pos + (uint64_t)off);
	else if (whence != SEEK_SET)
		return -EINVAL;
	return set_pos(f, off);
}

int64_t generic_llseek(struct file *f, int64_t off, int whence)
{
	int64_t eof = (int64_t)inode_size(f->inode);
	switch (whence) {
	case SEEK_SET:
		return set_pos(f, off);
	case SEEK_CUR:
		return off ? set_pos(f, (int64_t)((uint64_t)f->pos + (uint64_t)off))
			   : (int64_t)f->pos;
	case SEEK_END:
		return set_pos(f, (int64_t)((uint64_t)eof + (uint64_t)off));
	case SEEK_DATA: /* the whole file is data: the next hole is its end */
		return off < 0 || off >= eof ? -ENXIO : set_pos(f, off);
	case SEEK_HOLE:
		return off < 0 || off >= eof ? -ENXIO : set_pos(f, eof);
	default:
		return -EINVAL;
	}
}

static bool has_pos(const struct file *f)
{
	return !(f->fmode & FMODE_STREAM);
}

static long sys_lseek(const struct syscall_args *a)
{
	struct file *f = fget((int)a->arg[0]);
	int whence = (int)a->arg[2];
	int64_t r;
	if (!f)
		return -EBADF;
	if ((unsigned)whence > SEEK_HOLE)
		r = -EINVAL;
	else if (!f->fop->llseek || !has_pos(f))
		r = -ESPIPE;
	else {
		mutex_lock(&f->pos_lock);
		r = f->fop->llseek(f, (int64_t)a->arg[1], whence);
		mutex_unlock(&f->pos_lock);
	}
	fput(f);
	return r;
}
SYSCALL_DEFINE(8, sys_lseek);

/* ---- read and write ---- */

/* Check f can move it->count bytes at *pos (pos NULL: the file's own), then move them. */
static long do_rw(struct file *f, struct vfs_iter *it, uint64_t *pos, bool write)
{
	if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ)))
		return -EBADF;
	if (!(write ? f->fop->write : f->fop->read))
		return -EINVAL;
	if (it->count > MAX_RW_COUNT)
		it->count = MAX_RW_COUNT; /* the iterator stops there */
	if (pos && (int64_t)(*pos + it->count) < 0)
		return -EINVAL;
	if (write && it->count && S_ISREG(f->inode->mode))
		file_remove_privs(f); /* before the data changes, as Linux's write_iter does */
	bool lock = !pos && has_pos(f);
	uint64_t p = pos ? *pos : 0;
	if (lock) {
		mutex_lock(&f->pos_lock);
		p = f->pos;
	}
	long r = write ? f->fop->write(f, it, &p) : f->fop->read(f, it, &p);
	if (lock) {
		f->pos = p;
		mutex_unlock(&f->pos_lock);
	}
	return r;
}

/* read/write/pread64/pwrite64: one buffer. pos < 0 for the file's own offset. */
static long rw_one(int fd, void *ubuf, size_t n, int64_t pos, bool write)
{
	struct kiovec v = {ubuf, n};
	struct vfs_iter it;
	long r;
	if (pos < -1)
		return -EINVAL;
	struct file *f = fget(fd);
	if (!f)
		return -EBADF;
	uint64_t p = (uint64_t)pos;
	if (pos >= 0 && !has_pos(f))
		r = -ESPIPE;
	else if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ)))
		r = -EBADF;
	else if (!(write ? f->fop->write : f->fop->read))
		r = -EINVAL;
	else if (!access_ok((uint64_t)ubuf, n))
		r = -EFAULT;
	else if ((int64_t)n < 0)
		r = -EINVAL;
	else {
		iter_init(&it, &v, 1, true);
		r = do_rw(f, &it, pos >= 0 ? &p : NULL, write);
	}
	fput(f);
	return r;
}

static long sys_read(const struct syscall_args *a)
{
	return rw_one((int)a->arg[0], (void *)a->arg[1], a->arg[2], -1, false);
}
SYSCALL_DEFINE(0, sys_read);

static long sys_write(const struct syscall_args *a)
{
	return rw_one((int)a->arg[0], (void *)a->arg[1], a->arg[2], -1, true);
}
SYSCALL_DEFINE(1, sys_write);

static long sys_pread64(const struct syscall_args *a)
{
	int64_t pos = (int64_t)a->arg[3];
	return pos < 0 ? -EINVAL : rw_one((int)a->arg[0], (void *)a->arg[1], a->arg[2], pos, false);
}
SYSCALL_DEFINE(17, sys_pread64);

static long sys_pwrite64(const struct syscall_args *a)
{
	int64_t pos = (int64_t)a->arg[3];
	return pos < 0 ? -EINVAL : rw_one((int)a->arg[0], (void *)a->arg[1], a->arg[2], pos, true);
}
SYSCALL_DEFINE(18, sys_pwrite64);

/* Copy and check a user iovec array (Linux's import_iovec): -EINVAL for more than UIO_MAXIOV
 * or a negative length, -EFAULT for a buffer outside user space; lengths past MAX_RW_COUNT in
 * total are cut. *out is stack or kmalloc'd (free it when it is not stack). */
static int import_iovec(const void *uvec, uint64_t nr, struct kiovec *stack, struct kiovec **out)
{
	struct kiovec *v = stack;
	uint64_t total = 0;
	*out = stack;
	if (nr == 0)
		return 0;
	if (nr > UIO_MAXIOV)
		return -EINVAL;
	if (nr > UIO_FASTIOV && !(v = kmalloc(nr * sizeof(*v))))
		return -ENOMEM;
	int err = arch_copy_from_user(v, uvec, nr * sizeof(*v)) ? -EFAULT : 0;
	for (uint64_t i = 0; i < nr && !err; i++) {
		if ((int64_t)v[i].len < 0)
			err = -EINVAL;
		else if (!access_ok((uint64_t)v[i].base, v[i].len))
			err = -EFAULT;
		else if (v[i].len > MAX_RW_COUNT - total)
			v[i].len = MAX_RW_COUNT - total;
		total += err ? 0 : v[i].len;
	}
	if (err && v != stack)
		kfree(v);
	*out = err ? stack : v;
	return err;
}

/* readv/writev/preadv/pwritev; pos < 0 for the file's own offset. */
static long rw_vec(int fd, const void *uvec, uint64_t nr, int64_t pos, bool write)
{
	struct kiovec stack[UIO_FASTIOV], *v;
	struct vfs_iter it;
	uint64_t p = (uint64_t)pos;
	struct file *f = fget(fd);
	long r;
	if (!f)
		return -EBADF;
	if (pos >= 0 && !has_pos(f)) {
		fput(f);
		return -ESPIPE;
	}
	r = import_iovec(uvec, nr, stack, &v);
	if (!r) {
		iter_init(&it, v, (unsigned)nr, true);
		if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ)))
			r = -EBADF;
		else if (!it.count)
			r = (write ? f->fop->write : f->fop->read) ? 0 : -EINVAL;
		else
			r = do_rw(f, &it, pos >= 0 ? &p : NULL, write);
		if (v != stack)
			kfree(v);
	}
	fput(f);
	return r;
}

static long sys_readv(const struct syscall_args *a)
{
	return rw_vec((int)a->arg[0], (const void *)a->arg[1], a->arg[2], -1, false);
}
SYSCALL_DEFINE(19, sys_readv);

static long sys_writev(const struct syscall_args *a)
{
	return rw_vec((int)a->arg[0], (const void *)a->arg[1], a->arg[2], -1, true);
}
SYSCALL_DEFINE(20, sys_writev);

static long sys_preadv(const struct syscall_args *a)
{
	int64_t pos = (int64_t)a->arg[3]; /* pos_l; on 64-bit pos_h adds nothing */
	return pos < 0 ? -EINVAL
		       : rw_vec((int)a->arg[0], (const void *)a->arg[1], a->arg[2], pos, false);
}
SYSCALL_DEFINE(295, sys_preadv);

static long sys_pwritev(const struct syscall_args *a)
{
	int64_t pos = (int64_t)a->arg[3];
	return pos < 0 ? -EINVAL
		       : rw_vec((int)a->arg[0], (const void *)a->arg[1], a->arg[2], pos, true);
}
SYSCALL_DEFINE(296, sys_pwritev);

long vfs_pread(struct file *f, void *buf, size_t n, uint64_t off, bool user)
{
	struct kiovec v = {buf, n};
	struct vfs_iter it;
	iter_init(&it, &v, 1, user);
	return do_rw(f, &it, &off, false);
}

/* ---- sendfile ---- */

/* Move up to count bytes from in at *p (NULL: a stream, consumed as read) to out, a page at a
 * time. Bytes written, or -errno when nothing was. A short write puts the position back to
 * the first byte not written. */
static long send_pages(struct file *out, struct file *in, uint64_t *p, size_t count)
{
	char *buf = kmalloc(PAGE_SIZE);
	long done = 0, err = 0;
	if (!buf)
		return -ENOMEM;
	while (count && !err) {
		struct kiovec v = {buf, MIN(count, PAGE_SIZE)};
		struct vfs_iter it;
		iter_init(&it, &v, 1, false);
		long r = do_rw(in, &it, p, false);
		if (r <= 0) {
			err = r;
			break;
		}
		v.len = (size_t)r;
		iter_init(&it, &v, 1, false);
		long w = do_rw(out, &it, NULL, true);
		err = w < 0 ? w : (w < r);
		w = w < 0 ? 0 : w;
		if (p)
			*p += (uint64_t)w;
		done += w;
		count -= (size_t)w;
	}
	kfree(buf);
	return done ? done : (err < 0 ? err : 0);
}

/* sendfile(out_fd, in_fd, offset, count) as Linux's do_sendfile: with offset, in is read from
 * *offset (updated; its own position stays), else from its position. */
static long sys_sendfile(const struct syscall_args *a)
{
	uint64_t *uoff = (uint64_t *)a->arg[2], off = 0;
	size_t count = MIN((size_t)a->arg[3], (size_t)MAX_RW_COUNT);
	struct file *out = fget((int)a->arg[0]), *in = fget((int)a->arg[1]);
	long r = !in || !out ? -EBADF : 0;
	if (!r && (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE)))
		r = -EBADF;
	else if (!r && (out->flags & O_APPEND))
		r = -EINVAL;
	else if (!r && uoff && !has_pos(in))
		r = -ESPIPE;
	else if (!r && uoff && arch_copy_from_user(&off, uoff, sizeof(off)))
		r = -EFAULT;
	else if (!r && uoff && (int64_t)off < 0)
		r = -EINVAL;
	if (!r && uoff) {
		r = send_pages(out, in, &off, count);
		if (arch_copy_to_user(uoff, &off, sizeof(off)))
			r = -EFAULT;
	} else if (!r && has_pos(in)) {
		mutex_lock(&in->pos_lock);
		off = in->pos;
		r = send_pages(out, in, &off, count);
		in->pos = off;
		mutex_unlock(&in->pos_lock);
	} else if (!r) {
		r = send_pages(out, in, NULL, count);
	}
	if (in)
		fput(in);
	if (out)
		fput(out);
	return r;
}
SYSCALL_DEFINE(40, sys_sendfile);
