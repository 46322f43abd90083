/* Character devices: a table from device number to file ops, and the nodes /dev holds at
 * boot. The memory devices behave as Linux's drivers/char/mem.c: /dev/null (1,3) reads end of
 * file and swallows writes, /dev/zero (1,5) reads zeros, /dev/full (1,7) reads zeros and
 * refuses writes with -ENOSPC, /dev/random (1,8) and /dev/urandom (1,9) read random bytes
 * (include/random.h) and take writes. The console, /dev/console (5,1), /dev/ttyS0 (4,64) and
 * /dev/tty (5,0), is the terminal of ttydev.c. */
#include "kstring.h"
#include "printk.h"
#include "random.h"
#include "vfs_priv.h"

#define MEM_MAJOR 1
#define TTY_MAJOR 4
#define TTYAUX_MAJOR 5
#define BOUNCE 512

static long null_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	(void)f, (void)it, (void)pos;
	return 0;
}

static long sink_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	(void)f, (void)pos;
	size_t n = it->count;
	it->count = 0; /* taken, unread: Linux does not even look at the bytes */
	return (long)n;
}

/* /dev/null, /dev/zero and /dev/full seek nowhere: every lseek answers 0. */
static int64_t null_llseek(struct file *f, int64_t off, int whence)
{
	(void)off, (void)whence;
	f->pos = 0;
	return 0;
}

static int64_t noop_llseek(struct file *f, int64_t off, int whence)
{
	(void)off, (void)whence;
	return (int64_t)f->pos;
}

static long zero_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	(void)f, (void)pos;
	size_t n = it->count, k = iter_zero(it, n);
	return k ? (long)k : (n ? -EFAULT : 0);
}

static long full_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	(void)f, (void)it, (void)pos;
	return -ENOSPC;
}

static long random_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	uint8_t buf[BOUNCE];
	long done = 0;
	(void)f, (void)pos;
	while (it->count) {
		size_t n = MIN(it->count, sizeof(buf));
		random_bytes(buf, n);
		size_t k = iter_copy_to(it, buf, n);
		done += (long)k;
		if (k < n)
			return done ? done : -EFAULT;
	}
	return done;
}

static unsigned always_ready(struct file *f, struct poll_table *pt)
{
	(void)f, (void)pt;
	return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

static const struct file_ops null_fops = {
    .read = null_read, .write = sink_write, .llseek = null_llseek, .poll = always_ready};
static const struct file_ops zero_fops = {
    .read = zero_read, .write = sink_write, .llseek = null_llseek, .poll = always_ready};
static const struct file_ops full_fops = {
    .read = zero_read, .write = full_write, .llseek = null_llseek, .poll = always_ready};
static const struct file_ops random_fops = {
    .read = random_read, .write = sink_write, .llseek = noop_llseek, .poll = always_ready};

/* ---- the console ---- */

long console_write(const char *buf, size_t n)
{
	printk_console_text(buf, n);
	return (long)n;
}

/* ---- the table ---- */

static const struct {
	uint32_t rdev;
	const struct file_ops *fops;
	const char *name;
	unsigned mode;
} devices[] = {
    {MKDEV(MEM_MAJOR, 3), &null_fops, "null", 0666},
    {MKDEV(MEM_MAJOR, 5), &zero_fops, "zero", 0666},
    {MKDEV(MEM_MAJOR, 7), &full_fops, "full", 0666},
    {MKDEV(MEM_MAJOR, 8), &random_fops, "random", 0666},
    {MKDEV(MEM_MAJOR, 9), &random_fops, "urandom", 0666},
    {MKDEV(TTYAUX_MAJOR, 0), &tty_fops, "tty", 0666},
    {MKDEV(TTYAUX_MAJOR, 1), &tty_fops, "console", 0600},
    {MKDEV(TTY_MAJOR, 64), &tty_fops, "ttyS0", 0660},
};

const struct file_ops *chrdev_fops(uint32_t rdev)
{
	for (unsigned i = 0; i < ARRAY_SIZE(devices); i++)
		if (devices[i].rdev == rdev)
			return devices[i].fops;
	return NULL;
}

/* Whether rdev is /dev/zero (mmap of it gives anonymous memory). */
bool chrdev_is_zero(uint32_t rdev)
{
	return rdev == MKDEV(MEM_MAJOR, 5);
}

void chrdev_init(void)
{
	struct dentry *dev = NULL;
	int err = tmpfs_mknod_at(vfs_root.dentry, "dev", S_IFDIR | 0755, 0, NULL, &dev);
	if (err && (err != -EEXIST || !S_ISDIR(dev->inode->mode))) {
		dput(dev);
		printk(KERN_ERR "vfs: cannot make /dev\n");
		return;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(devices); i++)
		if (tmpfs_mknod_at(dev, devices[i].name, S_IFCHR | devices[i].mode, devices[i].rdev,
				   NULL, NULL) == -ENOMEM)
			printk(KERN_ERR "vfs: cannot make /dev/%s\n", devices[i].name);
	dput(dev);
}
