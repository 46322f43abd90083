/* virtio-blk over PCI, modern (virtio 1.x) interface only: one split virtqueue, interrupts
 * by MSI-X, reads, writes and flushes of the block layer's requests (include/blk.h).
 *
 * The device is found by its PCI ids (1af4:1042) and described by vendor capabilities
 * (virtio 1.1, 4.1.4): each names a structure (common configuration, notifications, the
 * interrupt status, the device's own configuration) by BAR, offset and length. Bring-up
 * follows 3.1.1: reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 required; FLUSH and RO
 * taken when offered), FEATURES_OK read back, the queue set up, DRIVER_OK.
 *
 * A request is a chain of descriptors (2.6.5): a 16-byte header (type, sector), one
 * descriptor per data frame, and a one-byte status the device writes. The ring's
 * descriptors are cut into fixed slots of BLK_MAX_FRAMES + 2, one request per slot, so a
 * slot index is the request's tag. The completion interrupt reads the used ring. */
#include "arch/cpu.h"
#include "blk.h"
#include "blk_drivers.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pci.h"
#include "printk.h"
#include "virtio_priv.h"

static bool find_caps(struct pci_dev *p, struct vblk *vb)
{
	for (unsigned c = pci_find_cap(p, PCI_CAP_ID_VENDOR, 0); c;
	     c = pci_find_cap(p, PCI_CAP_ID_VENDOR, c)) {
		uint8_t type = pci_read8(p, c + VIRTIO_CAP_TYPE),
			bar = pci_read8(p, c + VIRTIO_CAP_BAR);
		uint32_t off = pci_read32(p, c + VIRTIO_CAP_OFFSET);
		uint32_t len = pci_read32(p, c + VIRTIO_CAP_LENGTH);
		bool wanted = type == VIRTIO_CAP_COMMON || type == VIRTIO_CAP_NOTIFY ||
			      type == VIRTIO_CAP_DEVICE;
		if (!wanted || bar >= PCI_NUM_BARS || (uint64_t)off + len > p->bar[bar].size)
			continue;
		uint8_t *base = pci_map_bar(p, bar);
		if (!base)
			continue;
		if (type == VIRTIO_CAP_COMMON && !vb->common)
			vb->common = (volatile struct virtio_common *)(base + off);
		else if (type == VIRTIO_CAP_NOTIFY && !vb->notify_base) {
			vb->notify_base = base + off;
			vb->notify_mult = pci_read32(p, c + VIRTIO_CAP_NOTIFY_MULT);
		} else if (type == VIRTIO_CAP_DEVICE && !vb->devcfg)
			vb->devcfg = base + off;
	}
	return vb->common && vb->notify_base && vb->devcfg;
}

/* Features: VERSION_1 required, FLUSH and RO taken when offered. */
static int negotiate(struct vblk *vb)
{
	volatile struct virtio_common *c = vb->common;
	c->device_feature_select = 0;
	uint64_t feat = c->device_feature;
	c->device_feature_select = 1;
	feat |= (uint64_t)c->device_feature << 32;
	if (!(feat & VIRTIO_F_VERSION_1))
		return -ENODEV;
	uint64_t want = feat & (VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO);
	c->driver_feature_select = 0;
	c->driver_feature = (uint32_t)want;
	c->driver_feature_select = 1;
	c->driver_feature = (uint32_t)(want >> 32);
	c->device_status |= VIRTIO_STATUS_FEATURES_OK;
	if (!(c->device_status & VIRTIO_STATUS_FEATURES_OK))
		return -ENODEV;
	vb->features = want;
	return 0;
}

static int setup_queue(struct vblk *vb)
{
	volatile struct virtio_common *c = vb->common;
	c->queue_select = 0;
	unsigned size = c->queue_size;
	if (size > VBLK_QUEUE_MAX)
		size = VBLK_QUEUE_MAX;
	if (size < VBLK_DESCS_PER_SLOT || (size & (size - 1)))
		return -ENODEV;
	struct page *pg = frame_alloc(VBLK_RING_ORDER, PG_KERNEL);
	struct page *hp = frame_alloc(0, PG_KERNEL);
	if (!pg || !hp) {
		if (pg)
			frame_free(pg, VBLK_RING_ORDER);
		if (hp)
			frame_free(hp, 0);
		return -ENOMEM;
	}
	uint8_t *ring = page_to_virt(pg);
	memset(ring, 0, PAGE_SIZE << VBLK_RING_ORDER);
	paddr_t pa = (paddr_t)page_to_pfn(pg) << PAGE_SHIFT;
	vb->size = size;
	vb->nslots = size / VBLK_DESCS_PER_SLOT;
	vb->desc = (struct virtq_desc *)ring;
	vb->avail = (struct virtq_avail *)(ring + VBLK_AVAIL_OFF);
	vb->used = (struct virtq_used *)(ring + VBLK_USED_OFF);
	vb->hdr = page_to_virt(hp);
	vb->hdr_pa = (paddr_t)page_to_pfn(hp) << PAGE_SHIFT;
	c->queue_size = (uint16_t)size;
	c->queue_desc = pa;
	c->queue_driver = pa + VBLK_AVAIL_OFF;
	c->queue_device = pa + VBLK_USED_OFF;
	vb->notify = (volatile uint16_t *)(vb->notify_base + c->queue_notify_off * vb->notify_mult);
	return 0;
}

static int setup_irq(struct vblk *vb)
{
	int irq = pci_irq_setup(vb->pci, 0, 0, vblk_irq, vb);
	if (irq < 0)
		return irq;
	vb->irq = irq;
	volatile struct virtio_common *c = vb->common;
	c->msix_config = VIRTIO_NO_VECTOR;
	c->queue_select = 0;
	c->queue_msix_vector = 0;
	if (c->queue_msix_vector != 0) { /* the device could not take the vector */
		pci_irq_free(vb->pci, 0, irq);
		return -ENOSPC;
	}
	c->queue_enable = 1;
	return 0;
}

/* Device bring-up (virtio 1.1, 3.1.1); 0 or -errno, the device then marked FAILED. */
static int bring_up(struct vblk *vb)
{
	volatile struct virtio_common *c = vb->common;
	c->device_status = 0;
	for (unsigned i = 0; c->device_status && i < VIRTIO_RESET_SPINS; i++)
		arch_cpu_relax();
	c->device_status = VIRTIO_STATUS_ACKNOWLEDGE;
	c->device_status |= VIRTIO_STATUS_DRIVER;
	int err = negotiate(vb);
	if (!err)
		err = setup_queue(vb);
	if (!err)
		err = setup_irq(vb);
	if (err) {
		c->device_status |= VIRTIO_STATUS_FAILED;
		return err;
	}
	c->device_status |= VIRTIO_STATUS_DRIVER_OK;
	return 0;
}

/* The capacity in 512-byte sectors, read until the configuration generation is stable. */
static uint64_t capacity(struct vblk *vb)
{
	uint8_t gen;
	uint64_t cap;
	do {
		gen = vb->common->config_generation;
		volatile uint32_t *w = (volatile uint32_t *)vb->devcfg;
		cap = w[0] | (uint64_t)w[1] << 32;
	} while (gen != vb->common->config_generation);
	return cap;
}

static int probe(struct pci_dev *p, unsigned index)
{
	struct vblk *vb = kmalloc(sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	memset(vb, 0, sizeof(*vb));
	vb->pci = p;
	spin_init(&vb->lock);
	int err = find_caps(p, vb) ? bring_up(vb) : -ENODEV;
	if (err) {
		printk(KERN_WARNING "virtio-blk: %02x:%02x.%u: not used (error %d)\n", p->bus,
		       p->dev, p->fn, err);
		kfree(vb);
		return err;
	}
	p->claimed = true;
	struct blk_device *d = &vb->blk;
	ksnprintf(d->name, sizeof(d->name), "vd%c", 'a' + index);
	d->sectors = capacity(vb);
	d->read_only = vb->features & VIRTIO_BLK_F_RO;
	d->write_cache = vb->features & VIRTIO_BLK_F_FLUSH;
	d->ops = &vblk_ops;
	d->driver = vb;
	printk(KERN_INFO "virtio-blk: %s at %02x:%02x.%u, %u-entry queue (%u requests), MSI-X\n",
	       d->name, p->bus, p->dev, p->fn, vb->size, vb->nslots);
	return blk_register(d);
}

/* Modern devices, and transitional ones through their modern interface. */
int virtio_blk_probe_all(void)
{
	static const uint16_t ids[] = {VIRTIO_PCI_BLK_MODERN, VIRTIO_PCI_BLK_TRANSITIONAL};
	int n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++)
		for (struct pci_dev *p = pci_find(VIRTIO_PCI_VENDOR, ids[i], NULL); p;
		     p = pci_find(VIRTIO_PCI_VENDOR, ids[i], p))
			n += probe(p, (unsigned)n) == 0;
	return n;
}
