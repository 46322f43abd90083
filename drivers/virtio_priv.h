/* virtio 1.x over PCI as drivers/virtio_blk.c uses it: the vendor capabilities, the common
 * configuration structure, the split virtqueue and the block request (virtio 1.1, 2.6, 4.1,
 * 5.2). Little-endian fields, as x86 and the spec both are. */
#pragma once
#include "blk.h"
#include "pci.h"
#include "spinlock.h"
#include "types.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_BLK_MODERN 0x1042 /* 0x1040 + device type 2 */
#define VIRTIO_PCI_BLK_TRANSITIONAL 0x1001

/* Vendor capability: type, BAR, offset and length of one structure. */
#define VIRTIO_CAP_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_NOTIFY_MULT 16
#define VIRTIO_CAP_COMMON 1
#define VIRTIO_CAP_NOTIFY 2
#define VIRTIO_CAP_DEVICE 4

struct virtio_common {
	uint32_t device_feature_select, device_feature;
	uint32_t driver_feature_select, driver_feature;
	uint16_t msix_config, num_queues;
	uint8_t device_status, config_generation;
	uint16_t queue_select, queue_size, queue_msix_vector, queue_enable, queue_notify_off;
	uint64_t queue_desc, queue_driver, queue_device;
} __attribute__((packed));

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 128
#define VIRTIO_NO_VECTOR 0xffff
#define VIRTIO_RESET_SPINS 1000000

#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2 /* the device writes this buffer */

struct virtq_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};
struct virtq_used_elem {
	uint32_t id, len;
};
struct virtq_used {
	uint16_t flags, idx;
	struct virtq_used_elem ring[];
};

/* The block request header and status (5.2.6). */
struct virtio_blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* The ring: 256 entries at most, in two frames: descriptors (4 KiB), then the available ring
 * (518 bytes) and the used ring (2054 bytes, 4-byte aligned) in the second. */
#define VBLK_QUEUE_MAX 256
#define VBLK_RING_ORDER 1
#define VBLK_AVAIL_OFF PAGE_SIZE
#define VBLK_USED_OFF (PAGE_SIZE + 1024)
#define VBLK_DESCS_PER_SLOT (BLK_MAX_FRAMES + 2)
#define VBLK_SLOT_BYTES 32 /* per slot in the header frame: header, then status at +16 */
#define VBLK_STATUS_OFF 16
#define VBLK_MAX_SLOTS (VBLK_QUEUE_MAX / VBLK_DESCS_PER_SLOT)

struct vblk {
	struct blk_device blk;
	struct pci_dev *pci;
	volatile struct virtio_common *common;
	uint8_t *notify_base, *devcfg;
	uint32_t notify_mult;
	volatile uint16_t *notify;
	uint64_t features;
	int irq;
	spinlock_t lock; /* the ring and slots; after the block device's queue lock */
	unsigned size, nslots;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_used;
	uint8_t *hdr; /* the header frame: VBLK_SLOT_BYTES per slot */
	paddr_t hdr_pa;
	struct blk_request *slot[VBLK_MAX_SLOTS];
};

/* virtio_blk_io.c: the block layer's operations, and the completion interrupt. */
extern const struct blk_ops vblk_ops;
void vblk_irq(void *arg);
