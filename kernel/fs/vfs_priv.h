/* Private to kernel/fs: the VFS objects and what its files share. docs/files.md has the
 * picture; in short:
 *   inode       a file of some file system (tmpfs, a pseudo fs): type, mode, links, size,
 *               its page cache (regular files), symlink text, device number, node ops;
 *   dentry      a name in a directory, pointing at an inode. Every file system here keeps its
 *               whole tree in memory, so the dentry tree *is* the directory structure (as
 *               Linux's ramfs and tmpfs do): a directory's entries are its child dentries;
 *   super_block one instance of a file system; mount: where one is attached in the tree;
 *   path        (mount, dentry), both referenced; file: an open file description (offset,
 *               status flags), shared by dup and fork; fd_table and fs_context: a task's.
 *
 * Lock order (every path that nests takes them in this order, skipping levels at will):
 *     ns_lock (mutex: the shape of the tree and the mounts; every create, link, unlink,
 *       rename and (u)mount holds it)  ->  file->pos_lock (mutex)  ->  inode->lock (mutex:
 *       a regular file's size and data)  ->  [user copies: mm->lock -> pc->lock -> ...]
 *     dcache_lock (spinlock: the dentry hash, child lists, d_parent/d_inode pointers and the
 *       mount hash) is a leaf apart from kmalloc; fd_table.lock, fs_context.lock and the
 *       pipe locks are leaves too.
 * Reference counts are atomic. A dentry in the tree holds a reference on itself (dropped
 * when it is unlinked) and one on its parent; each dentry holds one on its inode. An inode
 * dies when no dentry holds it; its pages and number go then (a deleted file that is still
 * open lives on through the open file's dentry). The release of a file a mapping can hold
 * (a regular file: dput, inode_put, mntput) never sleeps, since a mapping's last reference
 * may go under mm->lock; a pipe's release takes its mutex. */
#pragma once
#include "kerrno.h"
#include "list.h"
#include "mutex.h"
#include "pagecache.h"
#include "spinlock.h"
#include "types.h"
#include "vfs.h"

/* ---- Linux's values (the user ABI) ---- */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISUID 04000
#define S_ISGID 02000
#define S_ISVTX 01000
#define S_IALLUGO 07777
#define S_IXUGO 0111
#define S_IXGRP 0010
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)

#define O_ACCMODE 03
#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DSYNC 010000
#define O_ASYNC 020000
#define O_DIRECT 040000
#define O_LARGEFILE 0100000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_NOATIME 01000000
#define O_CLOEXEC 02000000
#define __O_SYNC 04000000
#define O_PATH 010000000
#define __O_TMPFILE 020000000
#define O_TMPFILE (__O_TMPFILE | O_DIRECTORY)
#define O_VALID_FLAGS                                                                       \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | \
	 O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |  \
	 __O_SYNC | O_PATH | __O_TMPFILE)
/* Status flags F_SETFL may change (Linux's SETFL_MASK). */
#define O_SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)

#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EACCESS 0x200
#define AT_REMOVEDIR 0x200
#define AT_SYMLINK_FOLLOW 0x400
#define AT_NO_AUTOMOUNT 0x800
#define AT_EMPTY_PATH 0x1000
#define AT_STATX_SYNC_TYPE 0x6000

#define NAME_MAX 255
#define PATH_MAX 4096
#define MAXSYMLINKS 40
#define MAX_RW_COUNT (INT32_MAX & PAGE_MASK) /* the most one read or write moves, as Linux */
#define VFS_MAX_FILE_SIZE INT64_MAX	      /* tmpfs's s_maxbytes on 64-bit Linux */

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

/* Device numbers as Linux encodes them in dev_t (new_encode_dev). */
#define MKDEV(ma, mi) ((uint32_t)(((ma) << 8) | ((mi) & 0xff) | (((mi) & ~0xffu) << 12)))
#define DEV_MAJOR(d) ((unsigned)(((d) >> 8) & 0xfff))
#define DEV_MINOR(d) ((unsigned)(((d) & 0xff) | (((d) >> 12) & 0xfff00)))

struct super_block;
struct inode;
struct dentry;
struct mount;
struct file;
struct vfs_iter;
struct poll_table;
struct kstatfs;

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

struct ktimespec {
	int64_t sec, nsec;
};

/* ---- inodes ---- */

/* What a directory of a file system can do; a NULL mknod makes its directories read-only
 * (creating gives -EACCES or -EPERM, as Linux answers for a file system without the op). */
struct inode_ops {
	/* Make the inode for new entry d in dir: mode has the type; rdev for devices, target for
	 * symlinks. Sets d->inode. 0, -ENOSPC, -ENOMEM. ns_lock held. */
	int (*mknod)(struct inode *dir, struct dentry *d, unsigned mode, uint32_t rdev,
		     const char *target);
	/* Set a regular file's size (truncate, extending write). inode->lock held. */
	int (*setsize)(struct inode *inode, uint64_t size);
	/* fallocate on a regular file: mode 0 (reserve) or PUNCH_HOLE|KEEP_SIZE. */
	int (*fallocate)(struct inode *inode, int mode, uint64_t off, uint64_t len);
	/* The inode lost its last reference: free what the file system keeps for it. */
	void (*evict)(struct inode *inode);
	/* What looking up a missing name to create it gives, when not a chance to create it:
	 * procfs's lookup answers -ENOENT, so creating anything in /proc does (Linux). */
	int create_lookup_err;
	/* A pseudo directory's own lookup, tried before the dcache: a referenced dentry (it may
	 * be one made for this walk alone, outside the tree), or NULL to look in the dcache
	 * (procfs: /proc/self, and the PID directories brought up to date first). */
	struct dentry *(*lookup)(struct dentry *dir, const char *name, size_t len);
	/* Bring a pseudo directory's children up to date before a listing (procfs's PIDs). */
	void (*refresh)(struct dentry *dir);
};

struct inode {
	uint64_t ino;
	uint32_t mode;	 /* type and permission bits */
	uint32_t nlink;	 /* names (a directory: 2 + subdirectories) */
	uint32_t uid, gid;
	uint32_t rdev;	 /* character devices */
	int32_t refs;	 /* dentries that point here, and temporary holders */
	int32_t writers; /* open for writing (> 0), or running as a program (< 0: ETXTBSY) */
	struct ktimespec atime, mtime, ctime, btime;
	struct super_block *sb;
	const struct inode_ops *iop;
	const struct file_ops *fop;
	struct mutex lock;    /* a regular file's size and data */
	struct pagecache pc;  /* a regular file's pages; pc.size is its size */
	char *symlink;	      /* a symlink's target (kmalloc'd, immutable) */
	const uint8_t *backing; /* tmpfs from the initrd: the original bytes (clean pages) */
	uint64_t backing_len;
	const struct vfs_node_ops *node_ops; /* a pseudo file system's node */
	void *node_priv;
	struct pipe *pipe;    /* a FIFO's pipe, while open */
	bool linkable;	      /* an O_TMPFILE file that linkat may give a name */
	void *fs_priv;	      /* the file system's own (ext2: struct ext2_inode_info) */
	uint32_t seals;	      /* tmpfs: F_SEAL_* (inode->lock; shmem.c) */
	struct list_node flocks; /* flock(2) holders (flock.c; all zero until the first) */
};

/* A new inode of sb with one reference (the caller's), a fresh number and times of now.
 * NULL when out of memory. */
struct inode *inode_new(struct super_block *sb, unsigned mode);
void inode_get(struct inode *inode);
/* Drop a reference; the last one evicts the inode. Never sleeps. */
void inode_put(struct inode *inode);
/* The inode's size (a regular file's page cache size, a symlink's length, 0 otherwise). */
uint64_t inode_size(const struct inode *inode);
/* Times of now for the inode's ctime/mtime. */
void inode_touch(struct inode *inode, bool modified);
struct ktimespec vfs_now(void);

/* ---- dentries (dcache.c) ---- */
struct dentry {
	char *name;
	uint32_t len, hash;
	struct dentry *parent;	     /* itself for a root */
	struct inode *inode;
	int32_t refs;
	bool hashed;		     /* in its parent's listing (not deleted) */
	uint32_t mounted;	     /* mounts whose mountpoint it is */
	uint64_t dir_pos;	     /* its position in the parent's getdents listing */
	uint64_t next_pos;	     /* a directory: the position its next child gets */
	struct dentry *hash_next;
	struct list_node child;	     /* in parent->children, in position order */
	struct list_node children;
	struct super_block *sb;
};

extern spinlock_t dcache_lock;
extern struct mutex ns_lock;

/* A root dentry for sb (its own parent) on inode (the reference passes to it). NULL on OOM. */
struct dentry *d_make_root(struct super_block *sb, struct inode *inode);
/* A new unhashed dentry named (name, len) under parent, holding a reference on parent and
 * none on any inode yet. NULL on OOM. */
struct dentry *d_alloc(struct dentry *parent, const char *name, size_t len);
/* Put d (with d->inode set) into its parent's listing; the tree takes a reference. */
void d_add(struct dentry *d);
/* The child of parent named (name, len), referenced, or NULL. */
struct dentry *d_lookup(struct dentry *parent, const char *name, size_t len);
/* Take d out of its parent's listing (unlink): drops the tree's reference. ns_lock held. */
void d_delete(struct dentry *d);
/* Move d under new_parent as (name, len) (rename; the target name must be free). 0 or -ENOMEM. */
int d_move(struct dentry *d, struct dentry *new_parent, const char *name, size_t len);
/* Swap the names and places of a and b (RENAME_EXCHANGE). 0. ns_lock held. */
int d_exchange(struct dentry *a, struct dentry *b);
/* A deleted dentry (not a root, no longer in its directory). */
static inline bool d_dead(const struct dentry *d) { return !d->hashed && d->parent != d; }
struct dentry *dget(struct dentry *d);
/* Drop a reference; an unhashed dentry dies with its last one (and its inode's). */
void dput(struct dentry *d);
/* Whether directory d has no entries. */
bool d_empty_dir(struct dentry *d);
/* Whether a is d or one of its ancestors (rename's loop check). ns_lock held. */
bool d_is_ancestor(struct dentry *a, struct dentry *d);
/* The child of dir at listing position >= *pos (referenced, *pos set to its position), or NULL. */
struct dentry *d_child_at(struct dentry *dir, uint64_t *pos);
/* Free every dentry below root and root itself (a file system going away; nothing else
 * holds them). */
void d_kill_tree(struct dentry *root);

/* ---- file systems and mounts (mount.c) ---- */
struct fs_type {
	const char *name;
	/* A new instance from the mount options (data: a kernel copy, or NULL). 0 or -errno. */
	int (*get_sb)(struct fs_type *type, const char *data, struct super_block **out);
	/* Change options of a mounted instance (MS_REMOUNT). */
	int (*remount)(struct super_block *sb, const char *data);
	/* The instance's last mount went. */
	void (*kill_sb)(struct super_block *sb);
	/* statfs numbers other than the magic. */
	void (*statfs)(struct super_block *sb, struct kstatfs *st);
	/* Options as /proc/mounts shows them after "rw" ("size=...,mode=..."). */
	void (*show_options)(struct super_block *sb, char *buf, size_t size);
	/* A file system on a device: get_sb with the mount's source (a block device path).
	 * Used instead of get_sb when set. 0 or -errno. ns_lock held; sleeps. */
	int (*get_sb_dev)(struct fs_type *type, const char *dev, const char *data,
			  struct super_block **out);
	/* Write everything dirty out to the device and flush it (sync, syncfs; umount with
	 * unmount set, which also marks the file system clean). 0 or an error writing the file
	 * system's own structures (a file's data errors go to its open files, errseq). ns_lock
	 * held; sleeps. NULL: nothing to write. */
	int (*sync_fs)(struct super_block *sb, bool unmount);
	bool single; /* one instance for every mount (procfs, sysfs, debugfs) */
	struct super_block *the_sb;
	struct fs_type *next;
};

struct super_block {
	struct fs_type *type;
	int32_t refs;	   /* mounts of it */
	uint64_t magic;	   /* statfs f_type */
	uint32_t dev;	   /* st_dev: the disk's number, or an anonymous one as Linux gives tmpfs */
	struct dentry *root;
	uint64_t next_ino;
	void *fs_priv;
};

struct kstatfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, fsid[2], namelen, frsize,
	    flags, spare[4];
};

#define MNT_RDONLY 0x1
#define MNT_NOSUID 0x2
#define MNT_NODEV 0x4
#define MNT_NOEXEC 0x8

struct mount {
	struct super_block *sb;
	struct dentry *root;	    /* sb->root */
	struct mount *parent;	    /* NULL for the root mount and a detached one */
	struct dentry *mountpoint;  /* in parent (referenced) */
	int32_t refs;		    /* paths into it, child mounts, and 1 while attached */
	unsigned flags;		    /* MNT_* */
	char *devname;		    /* the mount's source, as /proc/mounts shows it */
	struct list_node link;	    /* in the mount list, in mount order */
	bool attached;
};

void register_filesystem(struct fs_type *t);
/* The hugetlb object of a hugetlbfs regular file, NULL for any other inode (hugetlbfs.c). */
struct hugetlb_obj *hugetlbfs_obj(const struct inode *inode);
/* Mount options (kernel/fs/tmpfs.c): split data (NULL: none) at commas and call one(arg, key,
 * value or NULL) for each non-empty one; 0, the first error one returns, or -EINVAL when data
 * is too long. */
int vfs_parse_opts(const char *data, int (*one)(void *arg, const char *key, const char *val),
		   void *arg);
/* Linux's memparse: a number (C base) with an optional K/M/G/T/P/E suffix into *out, *rest
 * after it. 0 or -EINVAL. */
int vfs_memparse(const char *s, uint64_t *out, const char **rest);
/* An instance of type with options data (or the single one), with a reference. */
int vfs_get_sb(struct fs_type *t, const char *data, struct super_block **out);
/* Mount sb at (the directory) mp, or as the root when mp is NULL. 0 or -errno. */
int vfs_attach(struct super_block *sb, const struct path *mp, unsigned flags,
	       const char *devname);
/* A mount of sb that is attached nowhere (internal file systems: pipes), kept for good. */
struct mount *vfs_kern_mount(struct super_block *sb);
struct mount *mntget(struct mount *m);
void mntput(struct mount *m);
/* The mount attached on (mnt, d), referenced, or NULL. */
struct mount *lookup_mount(struct mount *mnt, struct dentry *d);
/* The root of everything. */
extern struct path vfs_root;
struct fs_type *vfs_find_fs(const char *name);

void path_get(const struct path *p);
void path_put(struct path *p);
bool path_equal(const struct path *a, const struct path *b);

/* ---- path walks (namei.c) ---- */
#define LOOKUP_FOLLOW 0x1    /* follow a symlink in the last component */
#define LOOKUP_DIRECTORY 0x2 /* the last component must be a directory */
#define LOOKUP_EMPTY 0x4     /* an empty path names dirfd itself (AT_EMPTY_PATH) */

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

/* A walk in progress. The strings still to walk form a stack: the path itself, then the
 * text of each symlink being followed (its dentry referenced, so the text stays). After
 * nd_walk_parent, path is the directory that holds the last component (last, len, type;
 * trailing when a '/' follows it). */
struct nameidata {
	struct path path; /* referenced */
	struct path root; /* referenced: ".." stops here, "/" starts here */
	const char *last;
	size_t len;
	enum last_type type;
	bool trailing;
	unsigned links; /* symlinks followed so far (MAXSYMLINKS at most) */
	unsigned depth;
	struct {
		const char *p;
		struct dentry *link;
	} stack[MAXSYMLINKS + 1];
};

/* Copy a path from user space (at most PATH_MAX bytes with its NUL): a kmalloc'd string in
 * *out. 0, -EFAULT, -ENAMETOOLONG, -ENOENT (empty, unless empty_ok), -ENOMEM. */
int getname(const char *upath, bool empty_ok, char **out);
/* Start a walk of path (a kernel string that outlives nd) at dirfd (AT_FDCWD: the working
 * directory; ignored for an absolute path). 0, -EBADF, -ENOTDIR (dirfd is not a directory
 * and path is not empty). nd_end releases nd either way. */
int nd_start(struct nameidata *nd, int dirfd, const char *path);
/* Walk every component but the last: nd->path becomes its directory. 0, -ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG. */
int nd_walk_parent(struct nameidata *nd);
/* Go on with the text of symlink link (the walk's last component) as the rest of the path:
 * nd_walk_parent again gives its last component. 0, -ELOOP (MAXSYMLINKS), -ENOENT (empty). */
int nd_follow_link(struct nameidata *nd, struct dentry *link);
void nd_end(struct nameidata *nd);
/* The child named (name, len) of directory dir, referenced: 0, -ENOENT, -ENAMETOOLONG. */
int lookup_child(struct dentry *dir, const char *name, size_t len, struct dentry **out);
/* Walk path from dirfd to what it names, per LOOKUP_* flags. 0 with *out referenced, or
 * -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EBADF. */
int vfs_lookup(int dirfd, const char *path, unsigned flags, struct path *out);
/* The same from a user path (getname first; AT_EMPTY_PATH allows ""). */
int user_lookup(int dirfd, const char *upath, unsigned flags, struct path *out);
/* The LOOKUP_* flags of an *at call's AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
static inline unsigned at_lookup_flags(unsigned at_flags)
{
	return (at_flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW) |
	       (at_flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
}
/* Follow mounts stacked on p (in place). */
void follow_mounts(struct path *p);
/* Move p to its parent, crossing mount roots, staying at root. */
void path_up(struct path *p, const struct path *root);
/* The path of p from the current task's root, into buf. Returns the length, -ENAMETOOLONG
 * when it does not fit, -ENOENT when p was deleted. */
long vfs_path_name(const struct path *p, char *buf, size_t size);
/* The same as Linux's d_path: a deleted p is named by the path it had, with " (deleted)". */
long vfs_d_path(const struct path *p, char *buf, size_t size);

/* ---- open files (file.c) ---- */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_PATH 0x4	 /* O_PATH: a handle for *at calls, no I/O */
#define FMODE_STREAM 0x8 /* no offsets: pread/pwrite/lseek give -ESPIPE */
#define FMODE_WRITER 0x10 /* counted in inode->writers */
/* fallocate modes (Linux's ABI; open.c has the rest). */
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02

struct file_ops {
	/* Open: set up f->priv. 0 or -errno. */
	int (*open)(struct inode *inode, struct file *f);
	/* The file's last reference went. Never sleeps. */
	void (*release)(struct file *f);
	/* Move bytes between the file at *pos and it; bytes moved or -errno. */
	long (*read)(struct file *f, struct vfs_iter *it, uint64_t *pos);
	long (*write)(struct file *f, struct vfs_iter *it, uint64_t *pos);
	/* lseek; NULL: -ESPIPE. */
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	/* ioctl beyond the generic ones (FIOCLEX, FIONBIO, ...); NULL: -ENOTTY. */
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
	/* poll: the POLL* bits ready now; registers pt on the file's wait list when pt. */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	/* fsync/fdatasync; NULL: -EINVAL. */
	int (*fsync)(struct file *f);
	bool mappable; /* mmap goes through the inode's page cache */
};

struct file {
	int32_t refs;
	unsigned flags;		/* O_* as opened, status flags as F_SETFL left them */
	unsigned fmode;		/* FMODE_* */
	struct mutex pos_lock;	/* pos, for files with offsets */
	uint64_t pos;
	struct path path;
	struct inode *inode;
	const struct file_ops *fop;
	void *priv;
	uint32_t wb_seq; /* the write-back errors this open file was told of (errseq) */
};

/* A new open file of path (referenced by the file now) with the inode's file ops, opened
 * with flags. NULL with *err. */
struct file *file_open_path(const struct path *p, unsigned flags, int *err);
/* f's last reference went: its flock(2) lock, if any, goes (flock.c). Never sleeps. */
void flock_release(struct file *f);
struct file *fget(int fd);	  /* referenced, or NULL */
struct file *fget_raw(int fd);	  /* O_PATH files too */
void fput(struct file *f);
/* Put f at the lowest free descriptor >= min (close-on-exec when cloexec). The descriptor,
 * or -EMFILE (f is then dropped). */
int fd_install(struct file *f, int min, bool cloexec);
/* Keep the lowest free descriptor for an open in progress (so -EMFILE comes before any
 * effect, as on Linux): the descriptor or -EMFILE. fd_commit puts the file there, fd_unreserve
 * gives the slot back. */
int fd_reserve(bool cloexec);
void fd_commit(int fd, struct file *f);
void fd_unreserve(int fd);
/* Set or clear fd's close-on-exec flag. 0 or -EBADF. */
int fd_set_cloexec(int fd, bool on);
/* Set the working directory (root: the root) of the current task to p. */
void fs_set_path(const struct path *p, bool root);
unsigned fs_set_umask(unsigned mask);
/* The current task's fs context (root, cwd) as paths, referenced. */
void fs_get_root(struct path *out);
void fs_get_pwd(struct path *out);
unsigned fs_umask(void);
/* The largest descriptor number + 1 (RLIMIT_NOFILE). */
unsigned fd_limit(void);

/* ---- moving bytes (read_write.c) ---- */
struct kiovec {
	void *base;
	size_t len;
};

/* A sequence of buffers, user or kernel, that a read fills or a write drains. */
struct vfs_iter {
	const struct kiovec *iov;
	unsigned nr, idx;
	size_t off;   /* into iov[idx] */
	size_t count; /* bytes left in all */
	bool user;
};

void iter_init(struct vfs_iter *it, const struct kiovec *iov, unsigned nr, bool user);
/* Copy n bytes of src to the iterator (or from it), advancing it. Returns the bytes moved
 * (less than n at a user fault). */
size_t iter_copy_to(struct vfs_iter *it, const void *src, size_t n);
size_t iter_copy_from(struct vfs_iter *it, void *dst, size_t n);
/* Store n zero bytes. */
size_t iter_zero(struct vfs_iter *it, size_t n);
/* The generic lseek of a file with a size (regular files, devices that seek). */
int64_t generic_llseek(struct file *f, int64_t off, int whence);
/* The lseek of a file without an end (directories, generated text): SEEK_SET and SEEK_CUR to
 * a position >= 0, else -EINVAL. */
int64_t no_end_llseek(struct file *f, int64_t off, int whence);

/* ---- waiting (poll.c) ---- */
#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200

/* A list of waiters on something that changes (a pipe): each entry wakes its task. */
struct wait_list {
	spinlock_t lock;
	struct list_node entries;
};
struct wait_entry {
	struct list_node link;
	struct task *task;
	uint32_t *woken;
	struct wait_list *list;
};
void wait_list_init(struct wait_list *wl);
/* Wake everyone on wl. Any context but #MC/NMI. */
void wait_list_wake(struct wait_list *wl);
/* What a sleeper registers on the wait lists it cares about. */
struct poll_table {
	uint32_t woken;
	struct wait_entry *entry; /* kmalloc'd, grown as files register */
	unsigned n, cap;
	bool oom; /* an entry could not be added: sleep in short slices instead */
};
void poll_table_init(struct poll_table *pt);
/* Register pt on wl (a file's poll op calls this). */
void poll_wait(struct poll_table *pt, struct wait_list *wl);
void poll_table_free(struct poll_table *pt);
/* Sleep until one of pt's lists wakes, deadline (0: none) or a signal: 0, -EINTR, -ETIMEDOUT. */
int poll_table_sleep(struct poll_table *pt, uint64_t deadline_ns);

/* ---- pieces other files register ---- */
extern const struct file_ops dir_fops;
/* tmpfs (tmpfs.c): the root's type, and making the root from the initrd. */
extern struct fs_type tmpfs_type;
extern struct fs_type hugetlbfs_type; /* hugetlbfs.c */
/* Make name in the tmpfs directory dir (boot: the initrd, /dev): 0 with *out (when out) the
 * new dentry, referenced; -EEXIST with *out the one already there; -ENOSPC, -ENOMEM. */
/* /proc/mounts' text (one mount namespace: the same in /proc/PID/mounts). */
extern const struct vfs_node_ops vfs_mounts_ops;
/* Take victim's name away (it was looked up in dir, whose inode is dir): unlink or rmdir
 * without the checks (the caller made them). ns_lock held. */
void vfs_remove_name(struct inode *dir, struct dentry *victim);
int tmpfs_mknod_at(struct dentry *dir, const char *name, unsigned mode, uint32_t rdev,
		   const char *target, struct dentry **out);
void tmpfs_set_backing(struct inode *inode, const uint8_t *data, uint64_t len);
/* read and write of a regular file through its page cache (tmpfs's, also ext2's): bytes
 * moved or -errno; a page on a device is read in first (pagecache_get_io). write takes
 * inode->lock. */
long tmpfs_file_read(struct file *f, struct vfs_iter *it, uint64_t *pos);
long tmpfs_file_write(struct file *f, struct vfs_iter *it, uint64_t *pos);
/* ext2 (ext2_super.c). */
extern struct fs_type ext2_type;
/* sync_fs of every mounted file system that has one (sync(2)); the first error. Sleeps. */
int vfs_sync_all(void);
/* File seals (fcntl F_ADD_SEALS), Linux's values. */
#define F_SEAL_SEAL 0x0001	   /* no more seals */
#define F_SEAL_SHRINK 0x0002	   /* the size may not shrink */
#define F_SEAL_GROW 0x0004	   /* nor grow */
#define F_SEAL_WRITE 0x0008	   /* no writes, no writable shared mapping */
#define F_SEAL_FUTURE_WRITE 0x0010 /* no new writes or writable mappings; old mappings go on */
#define F_SEAL_ALL 0x001f
/* fcntl F_ADD_SEALS / F_GET_SEALS on f: the seals, 0, -EINVAL (not a tmpfs file, bad bits),
 * -EPERM (sealed against sealing, or f not open for writing), -EBUSY (F_SEAL_WRITE while a
 * writable shared mapping exists). Takes inode->lock. */
long shmem_fcntl(struct file *f, int cmd, uint64_t arg);
/* Unpack the cpio archive into the root. */
void initramfs_unpack(const void *base, size_t len);
/* Character devices (chardev.c): the file ops of device rdev, or NULL. */
const struct file_ops *chrdev_fops(uint32_t rdev);
bool chrdev_is_zero(uint32_t rdev);
void chrdev_init(void);
/* The console's terminal (ttydev.c): its file ops, and starting it (after chrdev_init). */
extern const struct file_ops tty_fops;
void tty_init(void);
/* Whether the console is session sid's controlling terminal; *pgrp: its foreground group. */
bool tty_session_info(int sid, int *pgrp);
/* Block device nodes (blkdev.c): the file ops of block device rdev (NULL: no such disk), and
 * the disk behind rdev (NULL: none). Any context but #MC/NMI. */
const struct file_ops *blkdev_fops_of(uint32_t rdev);
struct blk_device *blkdev_of(uint32_t rdev);
/* Pipes (pipe.c): a FIFO inode's open. */
extern const struct file_ops fifo_fops;
void pipe_init(void);
long pipe_fcntl(struct file *f, int cmd, uint64_t arg);
/* The pseudo file systems (nodefs.c). */
void nodefs_init(void);
/* procfs's root directory, referenced (NULL when out of memory). */
struct dentry *nodefs_proc_root(void);
/* A directory name in the pseudo directory dir (made if missing) with the inode ops iop and
 * node_priv priv; referenced, or NULL. ns_lock held. */
struct dentry *nodefs_mkdir(struct dentry *dir, const char *name, const struct inode_ops *iop,
			    void *priv);
/* A node file (ops, priv) named name in dir, or with ops NULL a symlink to target. 0, -EEXIST,
 * -EINVAL, -ENOMEM. ns_lock held. */
int nodefs_add(struct dentry *dir, const char *name, const struct vfs_node_ops *ops, void *priv,
	       const char *target);
/* procfs's PID directories and /proc/self (proc_pid.c), and /proc/stat (proc_stat.c). */
void proc_pid_init(void);
void proc_stat_init(void);
/* /proc/PID/maps and pagemap of mm (procfs.c); the frame bits of pagemap with show_pfn. */
int procfs_maps_text(struct mm *mm, char **out, size_t *len);
long procfs_pagemap_read(struct mm *mm, void *buf, size_t n, uint64_t off, bool show_pfn);
extern const struct file_ops node_fops;
/* /proc/mounts and /proc/filesystems (mount.c). */
void mount_procfs_init(void);
/* stat filling (stat.c). */
struct kstat {
	uint64_t dev, ino, nlink, size, blocks, blksize;
	uint32_t mode, uid, gid, rdev;
	struct ktimespec atime, mtime, ctime, btime;
};
void vfs_getattr(const struct path *p, struct kstat *st);
/* ---- permissions (permission.c) ---- */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4
struct cred;
/* Linux's generic_permission of mask (MAY_*) on inode for credentials c: 0 or -EACCES. */
int cred_permission(const struct cred *c, const struct inode *inode, int mask);
/* The same for the current task. */
int inode_permission(const struct inode *inode, int mask);
/* Whether the current task owns inode or may act as its owner (fsuid 0: CAP_FOWNER). */
bool inode_owner_or_capable(const struct inode *inode);
/* Before the current task changes a regular file's data (write, truncate): its set-user-ID bit
 * goes, and its set-group-ID bit when group-executable, unless the task has CAP_FSETID
 * (Linux's file_remove_privs). inode->lock held. */
void inode_remove_privs(struct inode *inode);
/* The same for a write to the open file f (takes f's inode lock). */
void file_remove_privs(struct file *f);
/* May the current task remove an entry for victim from dir: write and search on dir, and in
 * a sticky directory own the file or the directory. 0, -EACCES, -EPERM (sticky). */
int may_delete_from(const struct inode *dir, const struct inode *victim);
/* A new inode in dir (NULL for a root) belongs to the current task's fsuid and fsgid, or to
 * dir's group when dir is set-group-ID (Linux's inode_init_owner). */
void inode_init_owner(struct inode *inode, const struct inode *dir);
/* May a file of p be changed (not on a read-only mount)? 0 or -EROFS. */
int mnt_want_write(const struct path *p);
