/* Dentries and inodes (kernel/fs/vfs_priv.h). A file system here keeps its whole tree in
 * memory, so the dentries are the directories: a directory's entries are its children, kept
 * in the order they were made (each gets the next listing position, which getdents hands out
 * as d_off), and found by name through one hash table of (parent, name). There are no
 * negative dentries: a name that is not there is simply not found.
 * Locks: dcache_lock guards the hash, the child lists and every dentry's parent, name and
 * position; ns_lock (a mutex) serialises the changes to the tree (create, link, unlink,
 * rename, mount) so that their checks and their effect are one step. */
#include "arch/cpu.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "hugetlb.h"
#include "vfs_priv.h"

#define DHASH_BITS 10
#define DHASH_SIZE (1u << DHASH_BITS)
#define NS_PER_S 1000000000ull

spinlock_t dcache_lock = SPINLOCK_INIT;
struct mutex ns_lock = {.waiters = {LIST_HEAD_INIT(ns_lock.waiters.waiters)}};
static struct dentry *dhash[DHASH_SIZE];

/* ---- inodes ---- */

struct ktimespec vfs_now(void)
{
	uint64_t ns = arch_time_ns(); /* no RTC: the epoch is the boot, as clock_gettime says */
	return (struct ktimespec){(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S)};
}

/* The inode's memory, once its page cache holds no frame any more (pagecache_destroy). */
static void inode_free(struct pagecache *pc)
{
	kfree(pc->host);
}

struct inode *inode_new(struct super_block *sb, unsigned mode)
{
	struct inode *i = kzalloc(sizeof(*i));
	if (!i)
		return NULL;
	i->ino = __atomic_add_fetch(&sb->next_ino, 1, __ATOMIC_RELAXED);
	i->mode = mode;
	i->nlink = 1;
	i->refs = 1;
	i->sb = sb;
	i->atime = i->mtime = i->ctime = i->btime = vfs_now();
	mutex_init(&i->lock);
	pagecache_init(&i->pc, NULL, i);
	i->pc.release = inode_free;
	return i;
}

void inode_get(struct inode *inode)
{
	__atomic_fetch_add(&inode->refs, 1, __ATOMIC_RELAXED);
}

void inode_put(struct inode *inode)
{
	if (__atomic_sub_fetch(&inode->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (inode->iop && inode->iop->evict)
		inode->iop->evict(inode);
	kfree(inode->symlink);
	pagecache_destroy(&inode->pc); /* frees the inode, at once or when its last frame goes */
}

uint64_t inode_size(const struct inode *inode)
{
	struct hugetlb_obj *huge = hugetlbfs_obj(inode);
	if (S_ISLNK(inode->mode))
		return strlen(inode->symlink);
	if (huge) /* a writable mapping can extend it (kernel/mm/hugetlb_map.c) */
		return hugetlb_obj_slots(huge) * HUGETLB_SIZE;
	return READ_ONCE(inode->pc.size);
}

void inode_touch(struct inode *inode, bool modified)
{
	inode->ctime = vfs_now();
	if (modified)
		inode->mtime = inode->ctime;
}

/* ---- dentries ---- */

static uint32_t name_hash(const struct dentry *parent, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uintptr_t)parent;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

struct dentry *dget(struct dentry *d)
{
	__atomic_fetch_add(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

static struct dentry *d_new(const char *name, size_t len)
{
	struct dentry *d = kzalloc(sizeof(*d));
	char *n = kmalloc(len + 1);
	if (!d || !n) {
		kfree(d);
		kfree(n);
		return NULL;
	}
	memcpy(n, name, len);
	n[len] = 0;
	d->name = n;
	d->len = (uint32_t)len;
	d->refs = 1;
	d->next_pos = 2; /* 0 and 1 are "." and ".." */
	list_init(&d->child);
	list_init(&d->children);
	return d;
}

struct dentry *d_make_root(struct super_block *sb, struct inode *inode)
{
	struct dentry *d = d_new("/", 1);
	if (!d)
		return NULL;
	d->parent = d;
	d->inode = inode;
	d->sb = sb;
	return d;
}

struct dentry *d_alloc(struct dentry *parent, const char *name, size_t len)
{
	struct dentry *d = d_new(name, len);
	if (!d)
		return NULL;
	d->parent = dget(parent);
	d->sb = parent->sb;
	d->hash = name_hash(parent, name, len);
	return d;
}

/* Hash and list d under its parent. dcache_lock held. */
static void d_link(struct dentry *d)
{
	struct dentry *p = d->parent;
	d->hash = name_hash(p, d->name, d->len);
	d->hash_next = dhash[d->hash & (DHASH_SIZE - 1)];
	dhash[d->hash & (DHASH_SIZE - 1)] = d;
	d->dir_pos = p->next_pos++;
	list_add_tail(&d->child, &p->children);
	d->hashed = true;
}

/* Take d out of the hash and its parent's list. dcache_lock held. */
static void d_unlink(struct dentry *d)
{
	struct dentry **pp = &dhash[d->hash & (DHASH_SIZE - 1)];
	while (*pp && *pp != d)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = d->hash_next;
	list_del(&d->child);
	d->hashed = false;
}

void d_add(struct dentry *d)
{
	dget(d); /* the tree's */
	spin_lock(&dcache_lock);
	d_link(d);
	spin_unlock(&dcache_lock);
}

struct dentry *d_lookup(struct dentry *parent, const char *name, size_t len)
{
	uint32_t h = name_hash(parent, name, len);
	struct dentry *found = NULL;
	spin_lock(&dcache_lock);
	for (struct dentry *d = dhash[h & (DHASH_SIZE - 1)]; d; d = d->hash_next)
		if (d->hash == h && d->parent == parent && d->len == len &&
		    !memcmp(d->name, name, len)) {
			found = dget(d);
			break;
		}
	spin_unlock(&dcache_lock);
	return found;
}

void d_delete(struct dentry *d)
{
	spin_lock(&dcache_lock);
	bool was = d->hashed;
	if (was)
		d_unlink(d);
	spin_unlock(&dcache_lock);
	if (was)
		dput(d); /* the tree's reference */
}

int d_move(struct dentry *d, struct dentry *new_parent, const char *name, size_t len)
{
	char *n = kmalloc(len + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n, name, len);
	n[len] = 0;
	dget(new_parent);
	spin_lock(&dcache_lock);
	struct dentry *old_parent = d->parent;
	char *old_name = d->name;
	d_unlink(d);
	d->parent = new_parent;
	d->name = n;
	d->len = (uint32_t)len;
	d_link(d);
	spin_unlock(&dcache_lock);
	kfree(old_name);
	dput(old_parent);
	return 0;
}

int d_exchange(struct dentry *a, struct dentry *b)
{
	spin_lock(&dcache_lock);
	d_unlink(a);
	d_unlink(b);
	struct dentry *pa = a->parent;
	char *na = a->name;
	uint32_t la = a->len;
	a->parent = b->parent;
	a->name = b->name;
	a->len = b->len;
	b->parent = pa;
	b->name = na;
	b->len = la;
	d_link(a);
	d_link(b);
	spin_unlock(&dcache_lock);
	return 0;
}

void dput(struct dentry *d)
{
	while (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		struct dentry *parent = d->parent != d ? d->parent : NULL;
		if (d->hashed)
			pr_err("vfs: dentry %s freed while in its directory\n", d->name);
		if (d->inode)
			inode_put(d->inode);
		kfree(d->name);
		kfree(d);
		d = parent;
	}
}

bool d_empty_dir(struct dentry *d)
{
	spin_lock(&dcache_lock);
	bool empty = list_empty(&d->children);
	spin_unlock(&dcache_lock);
	return empty;
}

bool d_is_ancestor(struct dentry *a, struct dentry *d)
{
	bool found = false;
	spin_lock(&dcache_lock);
	for (;; d = d->parent) {
		if (d == a) {
			found = true;
			break;
		}
		if (d->parent == d)
			break;
	}
	spin_unlock(&dcache_lock);
	return found;
}

struct dentry *d_child_at(struct dentry *dir, uint64_t *pos)
{
	struct dentry *found = NULL;
	struct list_node *n;
	spin_lock(&dcache_lock);
	list_for_each(n, &dir->children)
	{
		struct dentry *c = list_entry(n, struct dentry, child);
		if (c->dir_pos >= *pos) {
			found = dget(c);
			*pos = c->dir_pos;
			break;
		}
	}
	spin_unlock(&dcache_lock);
	return found;
}

void d_kill_tree(struct dentry *root)
{
	struct dentry *d = root;
	for (;;) {
		spin_lock(&dcache_lock);
		if (!list_empty(&d->children)) {
			d = list_first_entry(&d->children, struct dentry, child);
			spin_unlock(&dcache_lock);
			continue;
		}
		spin_unlock(&dcache_lock);
		if (d == root)
			break;
		struct dentry *parent = d->parent;
		d_delete(d); /* frees d, which drops its reference on parent */
		d = parent;
	}
	dput(root);
}
