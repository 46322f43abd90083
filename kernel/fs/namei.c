/* Path walks with Linux's rules (fs/namei.c there): a path is walked one component at a
 * time from the task's root ("/...") or its working directory or a directory fd (*at
 * calls). "." stays, ".." goes up but never above the task's root and crosses from a mount's
 * root to where it is mounted; a directory with something mounted on it is entered at the
 * mount's root. A symlink in the middle of a path is always followed, one at the end only
 * when asked (or when a '/' follows it); MAXSYMLINKS (40) links per walk at most, then
 * -ELOOP. Every component but the last must be a directory (-ENOTDIR), a name longer than
 * NAME_MAX is -ENAMETOOLONG, a path of PATH_MAX bytes or more too (getname); looking a name
 * up in a directory needs search (execute) permission on it (-EACCES).
 * The strings being walked form a stack (struct nameidata): the path, then the text of each
 * symlink entered, so a link's last component can end the walk while the outer path still
 * has slashes to honour. */
#include "arch/context.h"
#include "kmalloc.h"
#include "kstring.h"
#include "task.h"
#include "vfs_priv.h"

int getname(const char *upath, bool empty_ok, char **out)
{
	char *buf = kmalloc(PATH_MAX);
	if (!buf)
		return -ENOMEM;
	long n = arch_strncpy_from_user(buf, upath, PATH_MAX);
	int err = n < 0 ? (int)n : (n == 0 && !empty_ok) ? -ENOENT : 0;
	if (err) {
		kfree(buf);
		return err;
	}
	*out = buf;
	return 0;
}

int nd_start(struct nameidata *nd, int dirfd, const char *path)
{
	memset(nd, 0, sizeof(*nd));
	fs_get_root(&nd->root);
	nd->stack[0].p = path;
	nd->depth = 1;
	if (path[0] == '/') {
		nd->path = nd->root;
		path_get(&nd->path);
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		fs_get_pwd(&nd->path);
		return 0;
	}
	struct file *f = fget_raw(dirfd);
	if (!f)
		return -EBADF;
	nd->path = f->path;
	path_get(&nd->path);
	fput(f);
	if (path[0] && !S_ISDIR(nd->path.dentry->inode->mode))
		return -ENOTDIR;
	return 0;
}

void nd_end(struct nameidata *nd)
{
	while (nd->depth > 1)
		dput(nd->stack[--nd->depth].link);
	if (nd->path.dentry)
		path_put(&nd->path);
	if (nd->root.dentry)
		path_put(&nd->root);
}

void follow_mounts(struct path *p)
{
	while (READ_ONCE(p->dentry->mounted)) {
		struct mount *m = lookup_mount(p->mnt, p->dentry);
		if (!m)
			return;
		path_put(p);
		p->mnt = m;
		p->dentry = dget(m->root);
	}
}

void path_up(struct path *p, const struct path *root)
{
	for (;;) {
		if (path_equal(p, root))
			return;
		spin_lock(&dcache_lock);
		struct mount *m = p->mnt;
		if (p->dentry == m->root) {
			struct mount *up = m->parent;
			struct dentry *mp = m->mountpoint;
			if (!up) {
				spin_unlock(&dcache_lock);
				return; /* the root mount, or one detached: stay */
			}
			mntget(up);
			dget(mp);
			spin_unlock(&dcache_lock);
			path_put(p);
			*p = (struct path){up, mp};
			continue;
		}
		struct dentry *parent = dget(p->dentry->parent);
		spin_unlock(&dcache_lock);
		dput(p->dentry);
		p->dentry = parent;
		break;
	}
	follow_mounts(p);
}

int lookup_child(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	const struct inode_ops *iop = dir->inode->iop;
	if (iop && iop->lookup && (*out = iop->lookup(dir, name, len)) != NULL)
		return 0;
	*out = d_lookup(dir, name, len);
	return *out ? 0 : -ENOENT;
}

int nd_follow_link(struct nameidata *nd, struct dentry *link)
{
	const char *t = link->inode->symlink;
	if (++nd->links > MAXSYMLINKS || nd->depth > MAXSYMLINKS)
		return -ELOOP;
	if (!t || !*t)
		return -ENOENT;
	nd->stack[nd->depth].p = t;
	nd->stack[nd->depth].link = dget(link);
	nd->depth++;
	if (t[0] == '/') {
		path_put(&nd->path);
		nd->path = nd->root;
		path_get(&nd->path);
	}
	return 0;
}

/* Step into component (name, len) of the walk, which is not its last. */
static int step(struct nameidata *nd, const char *name, size_t len)
{
	struct dentry *d;
	if (!S_ISDIR(nd->path.dentry->inode->mode))
		return -ENOTDIR;
	if (len == 1 && name[0] == '.')
		return 0;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		path_up(&nd->path, &nd->root);
		return 0;
	}
	int err = lookup_child(nd->path.dentry, name, len, &d);
	if (err)
		return err;
	struct path next = {mntget(nd->path.mnt), d};
	follow_mounts(&next);
	if (S_ISLNK(next.dentry->inode->mode)) {
		err = nd_follow_link(nd, next.dentry); /* relative to the directory we are in */
		path_put(&next);
		return err;
	}
	path_put(&nd->path);
	nd->path = next;
	return 0;
}

static const char *skip_slashes(const char *s)
{
	while (*s == '/')
		s++;
	return s;
}

/* Whether every string below the top of the stack is used up (only slashes left), and
 * whether one of them still has a slash (the whole path ends in '/'). */
static bool outer_done(const struct nameidata *nd, bool *slash)
{
	*slash = false;
	for (unsigned i = 0; i + 1 < nd->depth; i++) {
		const char *s = nd->stack[i].p;
		if (*skip_slashes(s))
			return false;
		*slash |= *s == '/';
	}
	return true;
}

static enum last_type type_of(const char *s, size_t len)
{
	if (len == 1 && s[0] == '.')
		return LAST_DOT;
	if (len == 2 && s[0] == '.' && s[1] == '.')
		return LAST_DOTDOT;
	return LAST_NORM;
}

int nd_walk_parent(struct nameidata *nd)
{
	for (;;) {
		unsigned top = nd->depth - 1;
		const char *s = skip_slashes(nd->stack[top].p);
		if (!*s) {
			if (top) { /* a link's text is used up: back to the path around it */
				dput(nd->stack[top].link);
				nd->depth--;
				continue;
			}
			nd->last = s;
			nd->len = 0;
			nd->type = LAST_ROOT; /* nothing after the start: the path is nd->path */
			nd->trailing = false;
			return 0;
		}
		const char *end = s;
		while (*end && *end != '/')
			end++;
		bool outer_slash;
		nd->stack[top].p = end;
		struct inode *dir = nd->path.dentry->inode;
		if (!S_ISDIR(dir->mode))
			return -ENOTDIR;
		int err = inode_permission(dir, MAY_EXEC); /* Linux's may_lookup: search */
		if (err)
			return err;
		if (!*skip_slashes(end) && outer_done(nd, &outer_slash)) {
			nd->last = s;
			nd->len = (size_t)(end - s);
			nd->type = type_of(s, nd->len);
			nd->trailing = *end == '/' || outer_slash;
			return 0;
		}
		err = step(nd, s, (size_t)(end - s));
		if (err)
			return err;
	}
}

/* Resolve the last component of a walked nd per flags into *out. 1 when it was a symlink to
 * follow (nd now walks its text), 0 when done, or -errno. */
static int resolve_last(struct nameidata *nd, unsigned flags, struct path *out)
{
	struct dentry *d;
	if (nd->type != LAST_NORM) {
		if (nd->type == LAST_DOTDOT)
			path_up(&nd->path, &nd->root);
		*out = nd->path;
		path_get(out);
		return 0;
	}
	int err = lookup_child(nd->path.dentry, nd->last, nd->len, &d);
	if (err)
		return err;
	struct path p = {mntget(nd->path.mnt), d};
	follow_mounts(&p);
	if (S_ISLNK(p.dentry->inode->mode) && ((flags & LOOKUP_FOLLOW) || nd->trailing)) {
		err = nd_follow_link(nd, p.dentry);
		path_put(&p);
		return err ? err : 1;
	}
	if ((nd->trailing || (flags & LOOKUP_DIRECTORY)) && !S_ISDIR(p.dentry->inode->mode)) {
		path_put(&p);
		return -ENOTDIR;
	}
	*out = p;
	return 0;
}

int vfs_lookup(int dirfd, const char *path, unsigned flags, struct path *out)
{
	struct nameidata nd;
	int err = nd_start(&nd, dirfd, path);
	while (!err) {
		err = nd_walk_parent(&nd);
		if (!err)
			err = resolve_last(&nd, flags, out);
		if (err != 1)
			break;
		err = 0;
	}
	nd_end(&nd);
	return err;
}

int user_lookup(int dirfd, const char *upath, unsigned flags, struct path *out)
{
	char *path;
	int err = getname(upath, flags & LOOKUP_EMPTY, &path);
	if (err)
		return err;
	err = vfs_lookup(dirfd, path, flags, out);
	kfree(path);
	return err;
}

/* The path of p into buf (see vfs_path_name); a deleted p gives -ENOENT unless deleted_ok. */
static long path_name(const struct path *p, char *buf, size_t size, bool deleted_ok)
{
	struct path root, cur = *p;
	size_t pos = size ? size - 1 : 0; /* built backwards from the end, room kept for the NUL */
	long err = size ? 0 : -ENAMETOOLONG;
	fs_get_root(&root);
	spin_lock(&dcache_lock);
	if (!deleted_ok && d_dead(cur.dentry))
		err = -ENOENT;
	while (!err && !path_equal(&cur, &root)) {
		if (cur.dentry == cur.mnt->root) {
			if (!cur.mnt->parent)
				break; /* outside the task's root: name it from the top */
			cur = (struct path){cur.mnt->parent, cur.mnt->mountpoint};
			continue;
		}
		size_t n = cur.dentry->len;
		if (pos < n + 1) {
			err = -ENAMETOOLONG;
			break;
		}
		pos -= n;
		memcpy(buf + pos, cur.dentry->name, n);
		buf[--pos] = '/';
		cur.dentry = cur.dentry->parent;
	}
	spin_unlock(&dcache_lock);
	path_put(&root);
	if (err)
		return err;
	if (pos == size - 1) {
		if (pos < 1)
			return -ENAMETOOLONG;
		buf[--pos] = '/';
	}
	size_t len = size - 1 - pos;
	memmove(buf, buf + pos, len);
	buf[len] = 0;
	return (long)len;
}

long vfs_path_name(const struct path *p, char *buf, size_t size)
{
	return path_name(p, buf, size, false);
}

long vfs_d_path(const struct path *p, char *buf, size_t size)
{
	long n = path_name(p, buf, size, true);
	if (n >= 0 && d_dead(p->dentry))
		n = (size_t)n + 11 < size ? n + (long)strlen(strcpy(buf + n, " (deleted)"))
					  : -ENAMETOOLONG;
	return n;
}
