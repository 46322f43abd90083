/* NVMe over PCI as drivers/nvme.c uses it (NVM Express Base Specification 1.4): the
 * controller registers in BAR0, submission and completion queue entries, and the admin and
 * NVM command set opcodes. Little-endian, as x86 and the spec both are. */
#pragma once
#include "blk.h"
#include "pci.h"
#include "spinlock.h"
#include "types.h"

#define NVME_CLASS 0x010802 /* mass storage, non-volatile memory, NVM Express */

/* Controller registers (3.1). */
#define NVME_REG_CAP 0x00 /* 64-bit: MQES 15:0, TO 31:24 (500 ms units), DSTRD 35:32 */
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28 /* 64-bit */
#define NVME_REG_ACQ 0x30 /* 64-bit */
#define NVME_REG_DOORBELLS 0x1000
#define NVME_CAP_MQES(cap) ((unsigned)((cap)&0xffff))
#define NVME_CAP_TO(cap) ((unsigned)(((cap) >> 24) & 0xff))
#define NVME_CAP_DSTRD(cap) ((unsigned)(((cap) >> 32) & 0xf))
#define NVME_CC_ENABLE BIT(0)
#define NVME_CC_IOSQES (6u << 16) /* 64-byte submission entries */
#define NVME_CC_IOCQES (4u << 20) /* 16-byte completion entries */
#define NVME_CSTS_RDY BIT(0)
#define NVME_CSTS_CFS BIT(1)

struct nvme_sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd, mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe submission entries are 64 bytes");

struct nvme_cqe {
	uint32_t result, rsvd;
	uint16_t sq_head, sq_id, cid, status; /* status bit 0: the phase tag */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe completion entries are 16 bytes");

/* Admin commands (5) and NVM commands (6). */
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_FEAT_NUM_QUEUES 0x07
#define NVME_IDENTIFY_NS 0
#define NVME_IDENTIFY_CTRL 1
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
#define NVME_QUEUE_PHYS_CONTIG BIT(0)
#define NVME_CQ_IRQ_ENABLED BIT(1)

/* Identify data: the controller's volatile write cache and namespace count; a namespace's
 * size, formatted LBA format and the formats' LBA data sizes (log2). */
#define NVME_ID_CTRL_NN 516
#define NVME_ID_CTRL_VWC 525
#define NVME_ID_NS_NSZE 0
#define NVME_ID_NS_FLBAS 26
#define NVME_ID_NS_LBAF 128

#define NVME_ADMIN_DEPTH 16
#define NVME_IO_DEPTH 32
#define NVME_SLOTS (NVME_IO_DEPTH - 1) /* one entry stays empty: full and empty differ */
#define NVME_PRP_LIST_BYTES 128	       /* per slot: up to 16 eight-byte entries */
/* A queue pair is two frames: submissions in the first, completions in the second (each
 * queue must start on a page: ASQ/ACQ and a contiguous queue's PRP1 have no offset). */
#define NVME_QUEUE_ORDER 1
#define NVME_CQ_OFF PAGE_SIZE

struct nvme_queue {
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	volatile uint32_t *sq_doorbell, *cq_doorbell;
	uint16_t depth, sq_tail, cq_head;
	uint8_t phase;
};

struct nvme {
	struct blk_device blk;
	struct pci_dev *pci;
	volatile uint8_t *regs;
	uint64_t cap;
	unsigned lba_shift; /* log2 of the namespace's block size (9..12) */
	int irq;
	struct nvme_queue admin, io;
	void *identify; /* one frame for identify data */
	uint64_t *prp_lists;
	paddr_t prp_lists_pa;
	spinlock_t lock; /* the I/O queue pair and slots; after the block device's queue lock */
	struct blk_request *slot[NVME_SLOTS];
};

/* nvme_io.c: the block layer's operations, and the I/O completion interrupt. */
extern const struct blk_ops nvme_ops;
void nvme_irq(void *arg);
