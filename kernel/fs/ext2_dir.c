/* ext2 directories: read at mount into the dcache, every entry checked (ext2_dir_walk) and
 * every name's inode read, the whole tree below the root; and laid out again at sync from
 * the dentries, linearly as Linux's ext2 writes them without an index: ".", "..", then the
 * names in the order they were made, each entry as short as its name allows, the last one of
 * a block stretched to its end. A directory keeps at least the blocks it had (Linux never
 * shrinks one); a block whose bytes did not change is not written. */
#include "ext2_priv.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"

uint64_t ext2_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ull

/* A hard link's other names share one inode: ext2 numbers already read at this mount. */
struct seen {
	uint32_t ino;
	struct inode *inode;
};

struct load_ctx {
	struct super_block *sb;
	struct dentry *dir;
	unsigned depth;
	char *why;
	size_t whylen;
	int err;
};

static struct seen *seen_tab;
static unsigned seen_n, seen_cap;

/* An inode already read at this mount that has several names, or NULL. */
static struct inode *seen_find(uint32_t ino)
{
	for (unsigned i = 0; i < seen_n; i++)
		if (seen_tab[i].ino == ino)
			return seen_tab[i].inode;
	return NULL;
}

static int seen_add(uint32_t ino, struct inode *inode)
{
	if (seen_n == seen_cap) {
		unsigned cap = seen_cap ? seen_cap * 2 : 64;
		struct seen *t = kmalloc(cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		if (seen_tab)
			memcpy(t, seen_tab, seen_n * sizeof(*t));
		kfree(seen_tab);
		seen_tab = t;
		seen_cap = cap;
	}
	seen_tab[seen_n++] = (struct seen){ino, inode};
	return 0;
}

/* Whether byte ch is among the n bytes at p. */
static bool has_byte(const char *p, size_t n, char ch)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == ch)
			return true;
	return false;
}

static int refuse(struct load_ctx *c, int err, const char *what, const struct ext2_dirent *e)
{
	ksnprintf(c->why, c->whylen, "directory inode %lu: entry \"%.*s\": %s", c->dir->inode->ino,
		  (int)e->name_len, e->name, what);
	return err;
}

/* One entry of the directory being read: its inode (read once), a dentry for it. */
static int load_entry(void *arg, const struct ext2_dirent *e)
{
	struct load_ctx *c = arg;
	if ((e->name_len == 1 && e->name[0] == '.') ||
	    (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
		return 0;
	if (has_byte(e->name, e->name_len, '/') || has_byte(e->name, e->name_len, 0))
		return refuse(c, -EUCLEAN, "a name with '/' or NUL", e);
	struct dentry *dup = d_lookup(c->dir, e->name, e->name_len);
	if (dup) {
		dput(dup);
		return refuse(c, -EUCLEAN, "a second entry of that name", e);
	}
	struct inode *inode = seen_find(e->inode);
	int err = 0;
	if (inode && S_ISDIR(inode->mode))
		return refuse(c, -EUCLEAN, "a second name for a directory", e);
	if (inode)
		inode_get(inode);
	else
		err = ext2_inode_read(c->sb, e->inode, &inode, c->why, c->whylen);
	if (!err && inode->nlink > 1 && !S_ISDIR(inode->mode) && !seen_find(e->inode))
		err = seen_add(e->inode, inode);
	struct dentry *d = err ? NULL : d_alloc(c->dir, e->name, e->name_len);
	if (!err && !d)
		err = -ENOMEM;
	if (err) {
		if (inode)
			inode_put(inode);
		return err;
	}
	d->inode = inode;
	d_add(d);
	if (S_ISDIR(inode->mode))
		err = ext2_dir_load(c->sb, d, c->depth + 1, c->why, c->whylen);
	dput(d);
	return err;
}

int ext2_dir_load(struct super_block *sb, struct dentry *d, unsigned depth, char *why,
		  size_t whylen)
{
	struct ext2_sb_info *s = ext2_sbi(sb);
	struct ext2_inode_info *ii = ext2_ii(d->inode);
	struct load_ctx c = {sb, d, depth, why, whylen, 0};
	if (depth > EXT2_DEPTH_MAX) {
		ksnprintf(why, whylen, "directories nested deeper than %u", EXT2_DEPTH_MAX);
		return -EUCLEAN;
	}
	uint8_t *buf = kmalloc(PAGE_SIZE);
	int err = buf ? 0 : -ENOMEM;
	uint64_t h = HASH_SEED;
	for (uint64_t k = 0; !err && k < ii->nblocks; k++) {
		if (!ii->blocks[k]) {
			ksnprintf(why, whylen, "directory inode %lu has a hole at block %lu",
				  d->inode->ino, k);
			err = -EUCLEAN;
			break;
		}
		err = ext2_bio(s, BLK_READ, ii->blocks[k], buf);
		if (!err)
			h = ext2_hash(h, buf, PAGE_SIZE);
		if (!err)
			err = ext2_dir_walk(&s->g, buf, load_entry, &c, why, whylen);
	}
	kfree(buf);
	ii->dir_hash = h;
	if (depth == 0) { /* the whole tree is in: forget the hard-link table */
		kfree(seen_tab);
		seen_tab = NULL;
		seen_n = seen_cap = 0;
	}
	return err;
}

/* ---- writing ---- */

struct layout {
	uint8_t *buf; /* nblk blocks */
	uint64_t nblk, cap;
	uint32_t off;		    /* in the current block */
	struct ext2_dirent *last;   /* the last entry of the current block */
	bool filetype;
};

/* Append an entry to the layout, starting a block when it does not fit. */
static int put_entry(struct layout *l, uint32_t ino, const char *name, uint32_t len,
		     uint8_t type)
{
	uint32_t rec = ext2_rec_len(len);
	if (l->nblk == 0 || l->off + rec > PAGE_SIZE) {
		if (l->nblk == l->cap) {
			uint64_t cap = l->cap ? l->cap * 2 : 1;
			uint8_t *nb = kzalloc(cap * PAGE_SIZE);
			if (!nb)
				return -ENOMEM;
			if (l->buf)
				memcpy(nb, l->buf, l->nblk * PAGE_SIZE);
			kfree(l->buf);
			l->buf = nb;
			l->cap = cap;
		}
		l->nblk++;
		l->off = 0;
		l->last = NULL;
	}
	struct ext2_dirent *e = (void *)(l->buf + (l->nblk - 1) * PAGE_SIZE + l->off);
	e->inode = ino;
	e->rec_len = (uint16_t)(PAGE_SIZE - l->off); /* the rest of the block until another */
	e->name_len = (uint8_t)len;
	e->file_type = l->filetype ? type : 0;
	memcpy(e->name, name, len);
	if (l->last)
		l->last->rec_len = (uint16_t)((uint8_t *)e - (uint8_t *)l->last);
	l->last = e;
	l->off += rec;
	return 0;
}

/* Lay out directory d's entries from its dentries. ns_lock held. */
static int layout_dir(struct dentry *d, struct layout *l)
{
	struct dentry *parent = d->parent;
	int err = put_entry(l, (uint32_t)d->inode->ino, ".", 1, EXT2_FT_DIR);
	if (!err)
		err = put_entry(l, (uint32_t)(parent == d ? d->inode->ino : parent->inode->ino),
				"..", 2, EXT2_FT_DIR);
	uint64_t pos = 0;
	struct dentry *c;
	while (!err && (c = d_child_at(d, &pos)) != NULL) {
		if (c->inode && c->inode->sb == d->sb)
			err = put_entry(l, (uint32_t)c->inode->ino, c->name, c->len,
					ext2_file_type(c->inode->mode));
		dput(c);
		pos++;
	}
	return err;
}

/* Whether one of the first n blocks is missing from the map. */
static bool map_has_hole(const struct ext2_inode_info *ii, uint64_t n)
{
	if (n > ii->nblocks)
		return true;
	for (uint64_t k = 0; k < n; k++)
		if (!ii->blocks[k])
			return true;
	return false;
}

/* Write the layout into d's blocks (allocating what it lacks), at least as many as it has. */
static int write_blocks(struct super_block *sb, struct dentry *d, struct layout *l)
{
	struct ext2_inode_info *ii = ext2_ii(d->inode);
	uint64_t n = MAX(l->nblk, ii->nblocks ? ii->nblocks : 1);
	uint8_t *empty = kzalloc(PAGE_SIZE);
	int err = empty ? 0 : -ENOMEM;
	if (empty)
		((struct ext2_dirent *)empty)->rec_len = PAGE_SIZE; /* a block with no entry */
	uint64_t h = HASH_SEED;
	for (uint64_t k = 0; k < n; k++)
		h = ext2_hash(h, k < l->nblk ? l->buf + k * PAGE_SIZE : empty, PAGE_SIZE);
	bool changed = h != ii->dir_hash || map_has_hole(ii, n);
	for (uint64_t k = 0; !err && changed && k < n; k++) {
		uint32_t blk;
		err = ext2_map_block(d->inode, k, &blk);
		if (!err)
			err = ext2_bio(ext2_sbi(sb), BLK_WRITE, blk,
				       k < l->nblk ? l->buf + k * PAGE_SIZE : empty);
	}
	if (!err && changed) {
		ii->dir_hash = h;
		ext2_sbi(sb)->writes += n;
	}
	d->inode->pc.size = n * PAGE_SIZE;
	kfree(empty);
	return err;
}

int ext2_dir_write(struct super_block *sb, struct dentry *d)
{
	struct layout l = {.filetype = ext2_sbi(sb)->g.filetype};
	int err = layout_dir(d, &l);
	if (!err)
		err = write_blocks(sb, d, &l);
	kfree(l.buf);
	return err;
}
