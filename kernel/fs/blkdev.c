/* Block device nodes: /dev/vda, /dev/vdb, ... and /dev/nvme0n1, one per disk the block layer
 * registered, with Linux's device numbers (virtio-blk: major 254 as a Debian 6.1 kernel gives
 * it, 16 minors per disk; NVMe: block extended major 259). read, write and lseek move bytes
 * of the raw disk through the block layer, a 4 KiB chunk at a time through a bounce frame
 * (a partial sector is read, changed and written back). Linux keeps a page cache per block
 * device that a mounted file system shares; MCRK has none for raw devices, so writing a disk
 * that is mounted bypasses the file system's cache (as O_DIRECT would on Linux). */
#include "blk.h"
#include "cred.h"
#include "frame.h"
#include "kstring.h"
#include "printk.h"
#include "vfs_priv.h"

#define VIRTBLK_MAJOR 254
#define BLOCK_EXT_MAJOR 259
#define VIRTBLK_MINORS 16
#define BLKGETSIZE64 0x80081272u
#define BLKSSZGET 0x1268u

struct blkdev_node {
	uint32_t rdev;
	struct blk_device *dev;
};
static struct blkdev_node nodes[BLK_MAX_DEVICES];
static unsigned nr_nodes;

struct blk_device *blkdev_of(uint32_t rdev)
{
	for (unsigned i = 0; i < nr_nodes; i++)
		if (nodes[i].rdev == rdev)
			return nodes[i].dev;
	return NULL;
}

/* Linux's number for the disk named name (vdX: 254, 16 per letter; nvmeXnY: 259, in the order
 * NVMe namespaces registered). 0 for a name it does not know. */
static uint32_t rdev_for(const char *name, unsigned *nvme_seen)
{
	if (name[0] == 'v' && name[1] == 'd' && name[2] >= 'a' && name[2] <= 'z' && !name[3])
		return MKDEV(VIRTBLK_MAJOR, (unsigned)(name[2] - 'a') * VIRTBLK_MINORS);
	if (!strncmp(name, "nvme", 4)) {
		unsigned minor = (*nvme_seen)++;
		return MKDEV(BLOCK_EXT_MAJOR, minor);
	}
	return 0;
}

static uint64_t dev_bytes(const struct blk_device *d)
{
	return d->sectors * BLK_SECTOR_SIZE;
}

/* Read the 4 KiB chunk of d at byte chunk (a multiple of PAGE_SIZE) into frame pfn; the part
 * past the end of the device is left alone. Returns the bytes of the chunk on the device. */
static long chunk_io(struct blk_device *d, enum blk_op op, uint64_t chunk, pfn_t pfn)
{
	uint64_t n = MIN((uint64_t)PAGE_SIZE, dev_bytes(d) - chunk);
	int err = blk_rw(d, op, chunk / BLK_SECTOR_SIZE, (uint32_t)(n / BLK_SECTOR_SIZE), &pfn, 1);
	return err ? err : (long)n;
}

static long blkdev_rw(struct file *f, struct vfs_iter *it, uint64_t *pos, bool write)
{
	struct blk_device *d = f->priv;
	struct page *pg = frame_alloc(0, PG_KERNEL);
	long done = 0;
	if (!pg)
		return -ENOMEM;
	pfn_t pfn = page_to_pfn(pg);
	uint8_t *buf = page_to_virt(pg);
	while (it->count && *pos < dev_bytes(d)) {
		uint64_t chunk = ALIGN_DOWN(*pos, PAGE_SIZE);
		size_t off = (size_t)(*pos - chunk);
		long have = chunk_io(d, BLK_READ, chunk, pfn);
		if (have < 0) {
			done = done ? done : have;
			break;
		}
		size_t n = MIN((size_t)have - off, it->count);
		size_t k = write ? iter_copy_from(it, buf + off, n) : iter_copy_to(it, buf + off, n);
		long err = write && k ? chunk_io(d, BLK_WRITE, chunk, pfn) : 0;
		if (err < 0) {
			done = done ? done : err;
			break;
		}
		*pos += k;
		done += (long)k;
		if (k < n) {
			done = done ? done : -EFAULT;
			break;
		}
	}
	frame_free(pg, 0);
	return write && !done && it->count ? -ENOSPC : done;
}

static long blkdev_read(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	return blkdev_rw(f, it, pos, false);
}

static long blkdev_write(struct file *f, struct vfs_iter *it, uint64_t *pos)
{
	return blkdev_rw(f, it, pos, true);
}

/* Linux's block device lseek: SEEK_END counts from the device's size. */
static int64_t blkdev_llseek(struct file *f, int64_t off, int whence)
{
	struct blk_device *d = f->priv;
	int64_t base = whence == SEEK_SET ? 0
		       : whence == SEEK_CUR ? (int64_t)f->pos
		       : whence == SEEK_END ? (int64_t)dev_bytes(d)
					    : -1;
	if (base < 0 || (off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (int64_t)f->pos;
}

static int blkdev_open(struct inode *inode, struct file *f)
{
	f->priv = blkdev_of(inode->rdev);
	if (!f->priv)
		return -ENXIO;
	if ((f->fmode & FMODE_WRITE) && ((struct blk_device *)f->priv)->read_only)
		return -EROFS;
	return 0;
}

static long blkdev_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct blk_device *d = f->priv;
	uint64_t size = dev_bytes(d);
	uint32_t ssz = BLK_SECTOR_SIZE;
	if (cmd == BLKGETSIZE64)
		return arch_copy_to_user((void *)arg, &size, sizeof(size)) ? -EFAULT : 0;
	if (cmd == BLKSSZGET)
		return arch_copy_to_user((void *)arg, &ssz, sizeof(ssz)) ? -EFAULT : 0;
	return -ENOTTY;
}

/* fsync of the raw device: make its completed writes durable. */
static int blkdev_fsync(struct file *f)
{
	return blk_rw(f->priv, BLK_FLUSH, 0, 0, NULL, 0);
}

static const struct file_ops blkdev_fops = {
    .open = blkdev_open,
    .read = blkdev_read,
    .write = blkdev_write,
    .llseek = blkdev_llseek,
    .ioctl = blkdev_ioctl,
    .fsync = blkdev_fsync,
};

const struct file_ops *blkdev_fops_of(uint32_t rdev)
{
	return blkdev_of(rdev) ? &blkdev_fops : NULL;
}

void blkdev_nodes_init(void)
{
	unsigned nvme_seen = 0;
	struct dentry *dev = d_lookup(vfs_root.dentry, "dev", 3);
	if (!dev)
		return;
	mutex_lock(&ns_lock);
	for (unsigned i = 0; nr_nodes < BLK_MAX_DEVICES; i++) {
		struct blk_device *d = blk_get_nth(i);
		if (!d)
			break;
		uint32_t rdev = rdev_for(d->name, &nvme_seen);
		if (!rdev)
			continue;
		nodes[nr_nodes++] = (struct blkdev_node){rdev, d};
		if (tmpfs_mknod_at(dev, d->name, S_IFBLK | 0660, rdev, NULL, NULL))
			printk(KERN_ERR "vfs: cannot make /dev/%s\n", d->name);
		else
			printk(KERN_INFO "vfs: /dev/%s is block device %u:%u\n", d->name,
			       DEV_MAJOR(rdev), DEV_MINOR(rdev));
	}
	mutex_unlock(&ns_lock);
	dput(dev);
}
