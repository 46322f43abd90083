/* tmpfs: a file system that lives in the page cache, as Linux's shmem/tmpfs. Its directories
 * are dentries (dcache.c); a regular file's bytes are the pages of its inode's page cache,
 * and nothing else holds them. The root is a tmpfs that the initrd is unpacked into
 * (initramfs.c): a file from the initrd keeps a pointer to its bytes in the initrd image
 * (inode->backing), so its pages come in *clean* from there on first use and can be dropped
 * and made again; a page written since is *dirty*, the only copy (docs/files.md).
 * Limits (mount options size=, nr_inodes=): pages held by every file of an instance, and
 * inodes; past them -ENOSPC. Options: size=N[k|m|g|%], nr_blocks=N, nr_inodes=N[k|m|g],
 * mode=OCTAL, uid=N, gid=N; anything else is -EINVAL. */
#include "frame.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "vfs_priv.h"

#define TMPFS_MAGIC 0x01021994
#define BOGO_DIRENT_SIZE 20 /* what a directory's size grows by per entry, as Linux's */

struct tmpfs_sb {
	spinlock_t lock;
	uint64_t max_pages, used_pages;	  /* max 0: no limit */
	uint64_t max_inodes, used_inodes; /* max 0: no limit */
	unsigned mode;			  /* of the root */
	uint32_t uid, gid;
};

struct tmpfs_opts {
	uint64_t pages, inodes;
	unsigned mode;
	uint32_t uid, gid;
	bool has_pages, has_inodes, has_mode;
};

static const struct inode_ops tmpfs_iops;
static const struct file_ops tmpfs_file_fops;

/* ---- options ---- */

static uint64_t ram_pages(void)
{
	struct frame_stats st;
	frame_get_stats(&st);
	return st.usable;
}

/* Linux's memparse: a number (C base) and an optional K/M/G/T/P/E suffix; see vfs_priv.h. */
int vfs_memparse(const char *s, uint64_t *out, const char **rest)
{
	char num[24];
	size_t n = 0;
	while (n < sizeof(num) - 1 &&
	       ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
		(s[n] >= 'A' && s[n] <= 'F') || s[n] == 'x' || s[n] == 'X'))
		n++;
	memcpy(num, s, n);
	num[n] = 0;
	if (!n || kstrtou64(num, 0, out))
		return -EINVAL;
	const char *suffix = "KMGTPE", *hit = s[n] ? strchr(suffix, s[n] & ~0x20) : NULL;
	*rest = s + n;
	if (hit && (s[n] & ~0x20)) {
		*out <<= 10 * (unsigned)(hit - suffix + 1);
		(*rest)++;
	}
	return 0;
}

/* One "key=value" option of a mount or remount. */
static int parse_one(void *arg, const char *key, const char *val)
{
	struct tmpfs_opts *o = arg;
	uint64_t v;
	const char *rest = "";
	if (!strcmp(key, "size") || !strcmp(key, "nr_blocks")) {
		if (!val || vfs_memparse(val, &v, &rest))
			return -EINVAL;
		if (!strcmp(key, "size")) {
			if (*rest == '%') {
				v = v * ram_pages() / 100 * PAGE_SIZE;
				rest++;
			}
			v = v / PAGE_SIZE + (v % PAGE_SIZE != 0);
		}
		o->pages = v;
		o->has_pages = true;
	} else if (!strcmp(key, "nr_inodes")) {
		if (!val || vfs_memparse(val, &v, &rest))
			return -EINVAL;
		o->inodes = v;
		o->has_inodes = true;
	} else if (!strcmp(key, "mode")) {
		if (!val || kstrtou64(val, 8, &v))
			return -EINVAL;
		o->mode = (unsigned)v & S_IALLUGO;
		o->has_mode = true;
	} else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		if (!val || kstrtou64(val, 0, &v) || v > UINT32_MAX - 1)
			return -EINVAL;
		*(key[0] == 'u' ? &o->uid : &o->gid) = (uint32_t)v;
	} else {
		return -EINVAL; /* "tmpfs: Unknown parameter" */
	}
	return *rest ? -EINVAL : 0;
}

/* Split mount options at commas and call one on each key (value or NULL); see vfs_priv.h. */
int vfs_parse_opts(const char *data, int (*one)(void *arg, const char *key, const char *val),
		   void *arg)
{
	char buf[256];
	if (!data)
		return 0;
	if (strlen(data) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, data);
	for (char *p = buf, *next; p && *p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = 0;
		if (!*p)
			continue;
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = 0;
		int err = one(arg, p, eq);
		if (err)
			return err;
	}
	return 0;
}

static int parse_opts(const char *data, struct tmpfs_opts *o)
{
	return vfs_parse_opts(data, parse_one, o);
}

/* ---- accounting ---- */

static struct tmpfs_sb *tsb(const struct super_block *sb)
{
	return sb->fs_priv;
}

static int charge_pages(struct pagecache *pc, long n)
{
	struct tmpfs_sb *s = tsb(((struct inode *)pc->host)->sb);
	int err = 0;
	spin_lock(&s->lock);
	if (n > 0 && s->max_pages && s->used_pages + (uint64_t)n > s->max_pages)
		err = -ENOSPC;
	else
		s->used_pages += (uint64_t)n;
	spin_unlock(&s->lock);
	return err;
}

static int reserve_inode(struct tmpfs_sb *s)
{
	int err = 0;
	spin_lock(&s->lock);
	if (s->max_inodes && s->used_inodes >= s->max_inodes)
		err = -ENOSPC;
	else
		s->used_inodes++;
	spin_unlock(&s->lock);
	return err;
}

/* The initrd bytes behind page index of a file unpacked from it; -EIO when a frame of the
 * image they lie in is poisoned (it cannot be read again). */
static long tmpfs_backing(struct pagecache *pc, uint64_t index, const void **src)
{
	struct inode *inode = pc->host;
	uint64_t off = index * PAGE_SIZE;
	if (!inode->backing || off >= inode->backing_len)
		return 0;
	const uint8_t *p = inode->backing + off;
	size_t n = (size_t)MIN(PAGE_SIZE, inode->backing_len - off);
	const uint8_t *last = p + n - 1;
	if (page_poisoned(virt_to_page(p)) || page_poisoned(virt_to_page(last)))
		return -EIO;
	*src = p;
	return (long)n;
}

static const struct pagecache_ops tmpfs_pc_ops = {tmpfs_backing, charge_pages, NULL};

/* ---- inodes ---- */

static struct inode *tmpfs_inode(struct super_block *sb, unsigned mode, uint32_t rdev)
{
	struct inode *i = inode_new(sb, mode);
	if (!i)
		return NULL;
	i->iop = &tmpfs_iops;
	i->rdev = rdev;
	i->pc.ops = &tmpfs_pc_ops;
	i->seals = F_SEAL_SEAL; /* only memfd_create(MFD_ALLOW_SEALING) lifts it */
	if (S_ISDIR(mode)) {
		i->fop = &dir_fops;
		i->nlink = 2;
		i->pc.size = 2 * BOGO_DIRENT_SIZE;
	} else if (S_ISREG(mode)) {
		i->fop = &tmpfs_file_fops;
	}
	return i;
}

static int tmpfs_mknod(struct inode *dir, struct dentry *d, unsigned mode, uint32_t rdev,
		       const char *target)
{
	struct tmpfs_sb *s = tsb(dir->sb);
	char *t = NULL;
	if (target && !(t = kmalloc(strlen(target) + 1)))
		return -ENOMEM;
	int err = reserve_inode(s);
	struct inode *i = err ? NULL : tmpfs_inode(dir->sb, mode, rdev);
	if (!i) {
		kfree(t);
		if (!err) {
			spin_lock(&s->lock);
			s->used_inodes--;
			spin_unlock(&s->lock);
		}
		return err ? err : -ENOMEM;
	}
	if (t)
		strcpy(t, target);
	i->symlink = t;
	inode_init_owner(i, dir);
	d->inode = i;
	return 0;
}

static void tmpfs_evict(struct inode *inode)
{
	struct tmpfs_sb *s = tsb(inode->sb);
	spin_lock(&s->lock);
	s->used_inodes--;
	spin_unlock(&s->lock);
}

static int tmpfs_setsize(struct inode *inode, uint64_t size)
{
	if (size > VFS_MAX_FILE_SIZE)
		return -EFBIG;
	if ((size < inode->pc.size && (inode->seals & F_SEAL_SHRINK)) ||
	    (size > inode->pc.size && (inode->seals & F_SEAL_GROW)))
		return -EPERM;
	if (size < inode->backing_len)
		inode->backing_len = size; /* bytes past a cut never come back from the image */
	return pagecache_truncate(&inode->pc, size);
}

/* The page at index of pc (pagecache_get). A page a memory error took the bytes of stays in
 * the cache, poisoned: reading, writing or allocating it is EIO, as Linux's shmem says. */
static int get_page(struct pagecache *pc, uint64_t index, unsigned flags, struct page **pg)
{
	int err = pagecache_get_io(pc, index, flags, pg);
	return err == -EHWPOISON ? -EIO : err;
}

/* fallocate mode 0 / KEEP_SIZE: make every page of the range, or none when there is no room. */
static int tmpfs_reserve(struct inode *inode, int mode, uint64_t off, uint64_t len)
{
	struct tmpfs_sb *s = tsb(inode->sb);
	uint64_t first = off / PAGE_SIZE, end = (off + len - 1) / PAGE_SIZE + 1;
	uint64_t missing = end - first - pagecache_cached(&inode->pc, first, end);
	spin_lock(&s->lock);
	bool room = !s->max_pages || missing <= s->max_pages - s->used_pages;
	spin_unlock(&s->lock);
	if (!room)
		return -ENOSPC;
	for (uint64_t i = first; i < end; i++) {
		struct page *pg;
		int err = get_page(&inode->pc, i, PC_CREATE, &pg);
		if (err)
			return err;
		pagecache_put(pg);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode->pc.size)
		return pagecache_truncate(&inode->pc, off + len);
	return 0;
}

static int tmpfs_fallocate(struct inode *inode, int mode, uint64_t off, uint64_t len)
{
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && (inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		return -EPERM;
	if ((inode->seals & F_SEAL_GROW) && off + len > inode->pc.size)
		return -EPERM;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return pagecache_punch(&inode->pc, off, off + len);
	return tmpfs_reserve(inode, mode, off, len);
}

static const struct inode_ops tmpfs_iops = {
    .mknod = tmpfs_mknod,
    .setsize = tmpfs_setsize,
    .fallocate = tmpfs_fallocate,
    .evict = tmpfs_evict,
};

void tmpfs_set_backing(struct inode *inode, const uint8_t *data, uint64_t len)
{
	inode->backing = data;
	inode->backing_len = len;
	inode->pc.size = len;
}

/* ---- file data ---- */

long tmpfs_file_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct pagecache *pc = &f->inode->pc;
	long done = 0;
	while (it->count) {
		uint64_t size = READ_ONCE(pc->size);
		if (*pos >= size)
			break;
		size_t off = *pos % PAGE_SIZE;
		size_t n = (size_t)MIN(MIN(PAGE_SIZE - off, it->count), size - *pos);
		struct page *pg;
		int err = get_page(pc, *pos / PAGE_SIZE, 0, &pg);
		if (err)
			return done ? done : err;
		size_t k =
		    pg ? iter_copy_to(it, (uint8_t *)page_to_virt(pg) + off, n) : iter_zero(it, n);
		if (pg)
			pagecache_put(pg);
		*pos += k;
		done += (long)k;
		if (k < n)
			return done ? done : -EFAULT;
	}
	return done;
}

/* Copy from the iterator into the file at *pos. inode->lock held. */
static long write_pages(struct inode *inode, struct vfs_iter *it, uint64_t *pos)
{
	struct pagecache *pc = &inode->pc;
	long done = 0;
	while (it->count) {
		size_t off = *pos % PAGE_SIZE, n = (size_t)MIN(PAGE_SIZE - off, it->count);
		struct page *pg;
		if ((inode->seals & F_SEAL_GROW) && *pos + n > pc->size)
			return done ? done : -EPERM; /* per page, as Linux's shmem_write_begin */
		int err = get_page(pc, *pos / PAGE_SIZE, PC_CREATE, &pg);
		if (err)
			return done ? done : err;
		size_t k = iter_copy_from(it, (uint8_t *)page_to_virt(pg) + off, n);
		if (k)
			pagecache_mark_dirty(pg);
		pagecache_put(pg);
		*pos += k;
		done += (long)k;
		if (*pos > pc->size)
			pagecache_truncate(pc,
					   *pos); /* grows: sets the size under the cache lock */
		if (k < n)
			return done ? done : -EFAULT;
	}
	return done;
}

long tmpfs_file_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct inode *inode = f->inode;
	long r = 0;
	mutex_lock(&inode->lock);
	if (f->flags & O_APPEND)
		*pos = inode->pc.size;
	if (inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		r = -EPERM;
	else if (*pos >= VFS_MAX_FILE_SIZE)
		r = it->count ? -EFBIG : 0;
	else if (it->count)
		r = write_pages(inode, it, pos);
	if (r > 0)
		inode_touch(inode, true);
	mutex_unlock(&inode->lock);
	return r;
}

static int tmpfs_open(struct inode *inode, struct file *f)
{
	(void)inode;
	return (f->flags & O_DIRECT) ? -EINVAL : 0; /* no direct I/O on tmpfs (Linux 6.1) */
}

static int tmpfs_fsync(struct file *f)
{
	(void)f;
	return 0; /* nothing to write back: the pages are the file */
}

static const struct file_ops tmpfs_file_fops = {
    .open = tmpfs_open,
    .read = tmpfs_file_read,
    .write = tmpfs_file_write,
    .llseek = generic_llseek,
    .fsync = tmpfs_fsync,
    .mappable = true,
};

/* ---- instances ---- */

static int tmpfs_get_sb(struct fs_type *t, const char *data, struct super_block **out)
{
	struct tmpfs_opts o = {.pages = ram_pages() / 2, .inodes = ram_pages() / 2, .mode = 01777};
	int err = parse_opts(data, &o);
	if (err)
		return err;
	struct super_block *sb = kzalloc(sizeof(*sb));
	struct tmpfs_sb *s = kzalloc(sizeof(*s));
	struct inode *root = NULL;
	if (sb && s) {
		sb->type = t;
		sb->refs = 1;
		sb->magic = TMPFS_MAGIC;
		sb->fs_priv = s;
		spin_init(&s->lock);
		*s =
		    (struct tmpfs_sb){SPINLOCK_INIT, o.pages, 0, o.inodes, 1, o.mode, o.uid, o.gid};
		root = tmpfs_inode(sb, S_IFDIR | o.mode, 0);
	}
	if (root) {
		root->uid = o.uid;
		root->gid = o.gid;
		sb->root = d_make_root(sb, root);
	}
	if (!sb || !s || !root || !sb->root) {
		if (root && !(sb && sb->root))
			inode_put(root);
		kfree(s);
		kfree(sb);
		return -ENOMEM;
	}
	*out = sb;
	return 0;
}

static int tmpfs_remount(struct super_block *sb, const char *data)
{
	struct tmpfs_sb *s = tsb(sb);
	struct tmpfs_opts o = {0};
	int err = parse_opts(data, &o);
	if (err)
		return err;
	spin_lock(&s->lock);
	if ((o.has_pages && o.pages && o.pages < s->used_pages) ||
	    (o.has_inodes && o.inodes && o.inodes < s->used_inodes))
		err = -EINVAL; /* "tmpfs: Too small size" */
	if (!err && o.has_pages)
		s->max_pages = o.pages;
	if (!err && o.has_inodes)
		s->max_inodes = o.inodes;
	spin_unlock(&s->lock);
	return err;
}

static void tmpfs_kill_sb(struct super_block *sb)
{
	d_kill_tree(sb->root);
	kfree(sb->fs_priv);
	kfree(sb);
}

static void tmpfs_statfs(struct super_block *sb, struct kstatfs *st)
{
	struct tmpfs_sb *s = tsb(sb);
	spin_lock(&s->lock);
	if (s->max_pages) {
		st->blocks = s->max_pages;
		st->bfree = st->bavail = s->max_pages - MIN(s->used_pages, s->max_pages);
	}
	if (s->max_inodes) {
		st->files = s->max_inodes;
		st->ffree = s->max_inodes - MIN(s->used_inodes, s->max_inodes);
	}
	spin_unlock(&s->lock);
}

static void tmpfs_show_options(struct super_block *sb, char *buf, size_t size)
{
	struct tmpfs_sb *s = tsb(sb);
	size_t n = 0;
	if (s->max_pages != ram_pages() / 2)
		n += (size_t)ksnprintf(buf + n, size - n, "size=%luk",
				       s->max_pages * (PAGE_SIZE / 1024));
	if (s->max_inodes != ram_pages() / 2)
		n += (size_t)ksnprintf(buf + n, size - n, "%snr_inodes=%lu", n ? "," : "",
				       s->max_inodes);
	if (s->mode != 01777)
		n += (size_t)ksnprintf(buf + n, size - n, "%smode=%03o", n ? "," : "", s->mode);
	buf[MIN(n, size - 1)] = 0;
}

struct fs_type tmpfs_type = {
    .name = "tmpfs",
    .get_sb = tmpfs_get_sb,
    .remount = tmpfs_remount,
    .kill_sb = tmpfs_kill_sb,
    .statfs = tmpfs_statfs,
    .show_options = tmpfs_show_options,
};

int tmpfs_mknod_at(struct dentry *dir, const char *name, unsigned mode, uint32_t rdev,
		   const char *target, struct dentry **out)
{
	struct dentry *d = d_lookup(dir, name, strlen(name));
	if (d) {
		if (out)
			*out = d;
		else
			dput(d);
		return -EEXIST;
	}
	d = d_alloc(dir, name, strlen(name));
	if (!d)
		return -ENOMEM;
	int err = tmpfs_mknod(dir->inode, d, mode, rdev, target);
	if (err) {
		dput(d);
		return err;
	}
	if (S_ISDIR(mode))
		dir->inode->nlink++;
	dir->inode->pc.size += BOGO_DIRENT_SIZE;
	d_add(d);
	if (out)
		*out = d;
	else
		dput(d);
	return 0;
}
