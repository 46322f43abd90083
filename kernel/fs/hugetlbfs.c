/* hugetlbfs: files whose pages are 2 MiB pages of the hugetlb pool (include/hugetlb.h), as
 * Linux's fs/hugetlbfs. A regular file is an object of 2 MiB slots (kernel/mm/hugetlb_map.c);
 * programs use it through mmap: MAP_SHARED maps its pages, MAP_PRIVATE copies them, and a
 * writable mapping past the end makes the file that long. Its size is always a whole number of
 * huge pages: ftruncate to anything else is -EINVAL, as on Linux; read gives the bytes, write
 * is -EINVAL (Linux's hugetlbfs has no write either). Directories and symlinks are as tmpfs's.
 * Mount options: pagesize=2M (the default; 1G is -EINVAL, since MCRK has no 1 GiB user pages,
 * whatever the CPU), mode=, uid=, gid=; anything else is -EINVAL. */
#include "hugetlb.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "frame.h"
#include "vfs_priv.h"

#define HUGETLBFS_MAGIC 0x958458f6

struct hugetlbfs_opts {
	unsigned mode;
	uint32_t uid, gid;
};

static const struct inode_ops hugetlbfs_iops;
static const struct file_ops hugetlbfs_fops;

static int parse_one(void *arg, const char *key, const char *val)
{
	struct hugetlbfs_opts *o = arg;
	const char *rest = "";
	uint64_t v;

	if (!val)
		return -EINVAL;
	if (!strcmp(key, "pagesize")) {
		if (vfs_memparse(val, &v, &rest) || *rest)
			return -EINVAL;
		if (v != HUGETLB_SIZE || !hugetlb_size_supported(HUGETLB_SHIFT)) {
			pr_err("hugetlbfs: Unsupported page size %lu MB\n", v >> 20);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "mode"))
		return kstrtou64(val, 8, &v) || v > 07777 ? -EINVAL : (o->mode = (unsigned)v, 0);
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		if (kstrtou64(val, 10, &v) || v > UINT32_MAX)
			return -EINVAL;
		*(key[0] == 'u' ? &o->uid : &o->gid) = (uint32_t)v;
		return 0;
	}
	pr_err("hugetlbfs: Unknown parameter '%s'\n", key);
	return -EINVAL;
}

struct hugetlb_obj *hugetlbfs_obj(const struct inode *inode)
{
	return inode->sb && inode->sb->magic == HUGETLBFS_MAGIC && S_ISREG(inode->mode)
		       ? inode->node_priv
		       : NULL;
}

static struct inode *hugetlbfs_inode(struct super_block *sb, unsigned mode)
{
	struct inode *i = inode_new(sb, mode);

	if (!i)
		return NULL;
	i->iop = &hugetlbfs_iops;
	if (S_ISDIR(mode)) {
		i->fop = &dir_fops;
		i->nlink = 2;
	} else if (S_ISREG(mode)) {
		i->fop = &hugetlbfs_fops;
		i->node_priv = hugetlb_obj_create(0);
		if (!i->node_priv) {
			inode_put(i);
			return NULL;
		}
	}
	return i;
}

static int hugetlbfs_mknod(struct inode *dir, struct dentry *d, unsigned mode, uint32_t rdev,
			   const char *target)
{
	char *t = target ? kmalloc(strlen(target) + 1) : NULL;
	struct inode *i = (!target || t) ? hugetlbfs_inode(dir->sb, mode) : NULL;

	if (!i) {
		kfree(t);
		return -ENOMEM;
	}
	if (t)
		strcpy(t, target);
	i->symlink = t;
	i->rdev = rdev;
	inode_init_owner(i, dir);
	d->inode = i;
	return 0;
}

static void hugetlbfs_evict(struct inode *inode)
{
	struct hugetlb_obj *o = hugetlbfs_obj(inode);

	if (o)
		hugetlb_obj_put(o);
	inode->node_priv = NULL;
}

static int hugetlbfs_setsize(struct inode *inode, uint64_t size)
{
	struct hugetlb_obj *o = hugetlbfs_obj(inode);

	if (!o || (size & (HUGETLB_SIZE - 1)))
		return -EINVAL; /* Linux's hugetlbfs_setattr */
	return hugetlb_obj_resize(o, size / HUGETLB_SIZE);
}

static const struct inode_ops hugetlbfs_iops = {
    .mknod = hugetlbfs_mknod,
    .setsize = hugetlbfs_setsize,
    .evict = hugetlbfs_evict,
};

/* read: the bytes of the pages the file has, zeroes for a slot never touched, -EIO for a page
 * a memory error took. */
static long hugetlbfs_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	struct hugetlb_obj *o = hugetlbfs_obj(f->inode);
	long done = 0;

	while (it->count && *pos < hugetlb_obj_slots(o) * HUGETLB_SIZE) {
		size_t off = *pos % PAGE_SIZE;
		size_t n = (size_t)MIN(MIN(PAGE_SIZE - off, it->count),
				       hugetlb_obj_slots(o) * HUGETLB_SIZE - *pos);
		struct page *pg;
		int err = hugetlb_obj_page(o, *pos / PAGE_SIZE, &pg);
		if (err)
			return done ? done : err;
		size_t k = pg ? iter_copy_to(it, (uint8_t *)page_to_virt(pg) + off, n)
			      : iter_zero(it, n);
		if (pg)
			hugetlb_page_put(pg);
		*pos += k;
		done += (long)k;
		if (k < n)
			return done ? done : -EFAULT;
	}
	return done;
}

static const struct file_ops hugetlbfs_fops = {
    .read = hugetlbfs_read,
    .llseek = generic_llseek,
    .mappable = true,
};

static int hugetlbfs_get_sb(struct fs_type *t, const char *data, struct super_block **out)
{
	struct hugetlbfs_opts o = {.mode = 0755};
	int err = vfs_parse_opts(data, parse_one, &o);
	struct super_block *sb;
	struct inode *root;

	if (err)
		return err;
	sb = kzalloc(sizeof(*sb));
	root = sb ? (sb->magic = HUGETLBFS_MAGIC, hugetlbfs_inode(sb, S_IFDIR | o.mode)) : NULL;
	if (root) {
		sb->type = t;
		sb->refs = 1;
		root->uid = o.uid;
		root->gid = o.gid;
		sb->root = d_make_root(sb, root);
	}
	if (!root || !sb->root) {
		if (root)
			inode_put(root);
		kfree(sb);
		return -ENOMEM;
	}
	*out = sb;
	return 0;
}

static void hugetlbfs_kill_sb(struct super_block *sb)
{
	d_kill_tree(sb->root);
	kfree(sb);
}

static void hugetlbfs_statfs(struct super_block *sb, struct kstatfs *st)
{
	struct hugetlb_stats s;

	(void)sb;
	hugetlb_get_stats(&s);
	st->bsize = st->frsize = HUGETLB_SIZE;
	st->blocks = s.total;
	st->bfree = st->bavail = s.free;
}

static void hugetlbfs_show_options(struct super_block *sb, char *buf, size_t size)
{
	(void)sb;
	ksnprintf(buf, size, "pagesize=2M");
}

struct fs_type hugetlbfs_type = {
    .name = "hugetlbfs",
    .get_sb = hugetlbfs_get_sb,
    .kill_sb = hugetlbfs_kill_sb,
    .statfs = hugetlbfs_statfs,
    .show_options = hugetlbfs_show_options,
};
