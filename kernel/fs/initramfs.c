/* The root file system at boot, as Linux makes it with an initramfs: a tmpfs becomes "/",
 * the cpio initrd is unpacked into it (directories, regular files, symlinks, device nodes and
 * FIFOs, with their modes), /dev gets its devices, and the pseudo file systems and two more
 * tmpfs instances are mounted: /proc (procfs), /sys (sysfs), /sys/kernel/debug (debugfs),
 * /dev/shm (tmpfs, 1777) and /run (tmpfs, 755); /tmp is a sticky (1777) directory of the root.
 * Archives that follow one another in the initrd are unpacked in order, a later entry replacing
 * an earlier one of the same name, as Linux does. A regular file from the initrd is not copied: its inode points at its bytes in the archive,
 * which stays reserved in memory, so its pages come in clean from there on first use (see
 * tmpfs.c and docs/files.md). */
#include "initrd.h"
#include "kstring.h"
#include "printk.h"
#include "vfs_priv.h"
#include "vm.h"

struct unpack {
	unsigned made, skipped;
};

/* The directory that holds the last component of name (making the ones before it), and that
 * component NUL-terminated in last. Referenced, or NULL. */
static struct dentry *parent_dir(const char *name, size_t len, char *last)
{
	struct dentry *d = dget(vfs_root.dentry);
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < len && name[j] != '/')
			j++;
		if (j - i > NAME_MAX || (j - i == 2 && name[i] == '.' && name[i + 1] == '.')) {
			dput(d);
			return NULL; /* no climbing out of the root, no over-long names */
		}
		memcpy(last, name + i, j - i);
		last[j - i] = 0;
		if (j >= len)
			return d;
		struct dentry *next = NULL;
		int err = (j == i || !strcmp(last, "."))
			      ? 1
			      : tmpfs_mknod_at(d, last, S_IFDIR | 0755, 0, NULL, &next);
		if (err != 1) {
			if (err && (err != -EEXIST || !S_ISDIR(next->inode->mode))) {
				dput(next);
				dput(d);
				return NULL;
			}
			dput(d);
			d = next;
		}
		i = j + 1;
	}
}

/* Linux's rule for an entry whose name is taken (init/initramfs.c, clean_path): a directory
 * over a directory keeps it (unpack_node takes the new mode); anything else first removes
 * what is there, an empty directory included, so that a later archive of a concatenated
 * initrd overrides an earlier one. 0, or why the old name cannot go. */
static int make_room(struct dentry *dir, const char *name, unsigned type)
{
	struct dentry *old = d_lookup(dir, name, strlen(name));
	int err = 0;
	if (!old)
		return 0;
	bool old_dir = S_ISDIR(old->inode->mode);
	if (old_dir && type == S_IFDIR)
		err = 0;
	else if (old->mounted)
		err = -EBUSY;
	else if (old_dir && !d_empty_dir(old))
		err = -ENOTEMPTY;
	else {
		mutex_lock(&ns_lock);
		vfs_remove_name(dir->inode, old);
		mutex_unlock(&ns_lock);
	}
	dput(old);
	return err;
}

static int unpack_node(struct dentry *dir, const char *name, const struct initrd_file *f)
{
	unsigned type = f->mode & S_IFMT, perm = f->mode & S_IALLUGO;
	char target[256];
	struct dentry *d = NULL;
	int err = make_room(dir, name, type);
	if (err)
		return err;
	switch (type) {
	case S_IFDIR:
		err = tmpfs_mknod_at(dir, name, S_IFDIR | perm, 0, NULL, &d);
		if (err == -EEXIST && S_ISDIR(d->inode->mode)) {
			d->inode->mode =
			    S_IFDIR | perm; /* an earlier path made it: take its mode */
			err = 0;
		}
		break;
	case S_IFREG:
		err = tmpfs_mknod_at(dir, name, f->mode, 0, NULL, &d);
		if (!err)
			tmpfs_set_backing(d->inode, f->data, f->size);
		break;
	case S_IFLNK:
		if (f->size == 0 || f->size >= sizeof(target))
			return -EINVAL;
		memcpy(target, f->data, f->size);
		target[f->size] = 0;
		err = tmpfs_mknod_at(dir, name, S_IFLNK | 0777, 0, target, &d);
		break;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		err = tmpfs_mknod_at(dir, name, f->mode, f->rdev, NULL, &d);
		break;
	default:
		return -EINVAL;
	}
	if (d)
		dput(d);
	return err;
}

static void unpack_one(const struct initrd_file *f, void *arg)
{
	struct unpack *u = arg;
	char last[NAME_MAX + 1];
	struct dentry *dir = parent_dir(f->name, f->name_len, last);
	int err = dir && last[0] ? unpack_node(dir, last, f) : -EINVAL;
	if (dir)
		dput(dir);
	if (err) {
		u->skipped++;
		printk(KERN_WARNING "initramfs: %.*s: not unpacked (%d)\n", (int)f->name_len,
		       f->name, err);
	} else {
		u->made++;
	}
}

/* mkdir -p of an absolute path in the root (boot). */
static void make_dir(const char *path, unsigned mode)
{
	struct initrd_file f = {path + 1, strlen(path + 1), NULL, 0, S_IFDIR | mode, 0};
	struct unpack u = {0, 0};
	unpack_one(&f, &u);
}

static void mount_at(const char *type, const char *where, const char *data)
{
	struct path p;
	struct super_block *sb;
	struct fs_type *t = vfs_find_fs(type);
	int err =
	    t && !vfs_lookup(AT_FDCWD, where, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p) ? 0 : -ENOENT;
	if (!err) {
		err = vfs_get_sb(t, data, &sb);
		if (!err)
			err = vfs_attach(sb, &p, 0, !strcmp(type, "proc") ? "proc" : type);
		path_put(&p);
	}
	if (err)
		printk(KERN_ERR "vfs: cannot mount %s at %s (%d)\n", type, where, err);
}

void vfs_init(const void *initrd, size_t len)
{
	struct super_block *root;
	register_filesystem(&tmpfs_type);
	register_filesystem(&ext2_type);
	register_filesystem(&hugetlbfs_type);
	nodefs_init();
	pipe_init();
	shmem_init();
	if (vfs_get_sb(&tmpfs_type, "mode=755", &root) || vfs_attach(root, NULL, 0, "rootfs")) {
		printk(KERN_ERR "vfs: no memory for the root file system\n");
		return;
	}
	if (len) {
		struct unpack u = {0, 0};
		int n = initrd_walk(initrd, len, unpack_one, &u);
		printk(KERN_INFO
		       "initramfs: %u entries unpacked into the root tmpfs (%lu KiB archive)"
		       "%s\n",
		       u.made, (unsigned long)(len >> 10),
		       n < 0 ? ", the archive is not cpio newc" : "");
	}
	chrdev_init();
	tty_init();
	make_dir("/proc", 0555);
	make_dir("/sys", 0555);
	make_dir("/tmp", 01777);
	make_dir("/run", 0755);
	make_dir("/dev/shm", 01777);
	mount_at("proc", "/proc", NULL);
	mount_at("sysfs", "/sys", NULL);
	mount_at("debugfs", "/sys/kernel/debug", NULL);
	mount_at("tmpfs", "/dev/shm", NULL);
	mount_at("tmpfs", "/run", "mode=755");
	mount_procfs_init();
}
