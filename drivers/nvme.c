/* NVMe over PCI: the controller brought up with an admin queue pair, identified, given one
 * I/O queue pair whose completions interrupt by MSI-X, and its first namespace registered
 * as a block device (nvme0n1, ...). Reads, writes and flushes of the block layer's requests.
 *
 * Bring-up (NVMe 1.4, 7.6.1): disable (CC.EN = 0, wait for CSTS.RDY = 0), give the admin
 * queues' sizes and addresses (AQA, ASQ, ACQ), enable with 64-byte submission and 16-byte
 * completion entries and 4 KiB pages, wait for RDY within CAP.TO. Admin commands are then
 * polled: identify the controller (volatile write cache?) and namespace 1 (size, block
 * size), ask for one I/O queue pair (Set Features, Number of Queues), create its completion
 * queue on MSI-X entry 1 and its submission queue.
 *
 * A queue pair is two frames, submissions in the first and completions in the second. A
 * completion entry is new while its phase bit equals the queue's phase, which flips at
 * each wrap; the driver says how far it has read by writing the head to the queue's
 * doorbell. Data goes by PRP (physical region page) entries: the first frame in PRP1, the
 * second in PRP2 for a two-frame transfer, else PRP2 points to a list of the rest. */
#include "arch/cpu.h"
#include "blk.h"
#include "blk_drivers.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "nvme_priv.h"
#include "pci.h"
#include "printk.h"

#define NVME_POLL_NS 1000000000ull /* an admin command that takes longer has failed */

static uint32_t rd32(struct nvme *n, unsigned off)
{
	return *(volatile uint32_t *)(n->regs + off);
}
static void wr32(struct nvme *n, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(n->regs + off) = v;
}
static void wr64(struct nvme *n, unsigned off, uint64_t v)
{
	wr32(n, off, (uint32_t)v);
	wr32(n, off + 4, (uint32_t)(v >> 32));
}

static paddr_t va_pa(const void *va)
{
	return (paddr_t)page_to_pfn(virt_to_page(va)) << PAGE_SHIFT;
}

/* A queue pair in two new zeroed frames, with its doorbells (queue id qid). */
static int queue_init(struct nvme *n, struct nvme_queue *q, unsigned qid, unsigned depth)
{
	struct page *pg = frame_alloc(NVME_QUEUE_ORDER, PG_KERNEL);
	if (!pg)
		return -ENOMEM;
	uint8_t *va = page_to_virt(pg);
	memset(va, 0, PAGE_SIZE << NVME_QUEUE_ORDER);
	unsigned stride = 4u << NVME_CAP_DSTRD(n->cap);
	q->sq = (struct nvme_sqe *)va;
	q->cq = (struct nvme_cqe *)(va + NVME_CQ_OFF);
	q->sq_doorbell = (volatile uint32_t *)(n->regs + NVME_REG_DOORBELLS + 2 * qid * stride);
	q->cq_doorbell =
	    (volatile uint32_t *)(n->regs + NVME_REG_DOORBELLS + (2 * qid + 1) * stride);
	q->depth = (uint16_t)depth;
	q->sq_tail = q->cq_head = 0;
	q->phase = 1;
	return 0;
}

static void queue_push(struct nvme_queue *q, const struct nvme_sqe *e)
{
	q->sq[q->sq_tail] = *e;
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the entry before the doorbell */
	*q->sq_doorbell = q->sq_tail;
}

/* The next new completion entry of q, consumed, or NULL when there is none. */
static struct nvme_cqe *queue_pop(struct nvme_queue *q)
{
	struct nvme_cqe *c = &q->cq[q->cq_head];
	if ((__atomic_load_n(&c->status, __ATOMIC_ACQUIRE) & 1) != q->phase)
		return NULL;
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return c;
}

/* Runs an admin command and polls for its completion: 0, -EIO (the controller's error), or
 * -ETIMEDOUT. Boot, one admin command at a time. */
static int admin(struct nvme *n, struct nvme_sqe *e)
{
	e->cid = n->admin.sq_tail;
	queue_push(&n->admin, e);
	uint64_t end = arch_time_ns() + NVME_POLL_NS;
	struct nvme_cqe *c;
	while (!(c = queue_pop(&n->admin))) {
		if (arch_time_ns() > end)
			return -ETIMEDOUT;
		arch_cpu_relax();
	}
	uint16_t status = c->status >> 1;
	*n->admin.cq_doorbell = n->admin.cq_head;
	return status ? -EIO : 0;
}

/* Waits until CSTS.RDY is `ready`, within the controller's own timeout (CAP.TO). */
static int wait_ready(struct nvme *n, bool ready)
{
	uint64_t end = arch_time_ns() + (NVME_CAP_TO(n->cap) + 1) * 500000000ull;
	while (!!(rd32(n, NVME_REG_CSTS) & NVME_CSTS_RDY) != ready) {
		if (rd32(n, NVME_REG_CSTS) & NVME_CSTS_CFS || arch_time_ns() > end)
			return -ETIMEDOUT;
		arch_cpu_relax();
	}
	return 0;
}

static int enable(struct nvme *n)
{
	n->cap = rd32(n, NVME_REG_CAP) | (uint64_t)rd32(n, NVME_REG_CAP + 4) << 32;
	wr32(n, NVME_REG_CC, 0);
	int err = wait_ready(n, false);
	if (!err)
		err = queue_init(n, &n->admin, 0, NVME_ADMIN_DEPTH);
	if (err)
		return err;
	wr32(n, NVME_REG_AQA, (NVME_ADMIN_DEPTH - 1) << 16 | (NVME_ADMIN_DEPTH - 1));
	wr64(n, NVME_REG_ASQ, va_pa(n->admin.sq));
	wr64(n, NVME_REG_ACQ, va_pa(n->admin.cq));
	wr32(n, NVME_REG_CC, NVME_CC_ENABLE | NVME_CC_IOSQES | NVME_CC_IOCQES);
	return wait_ready(n, true);
}

static int identify(struct nvme *n, unsigned cns, uint32_t nsid)
{
	struct nvme_sqe e = {
	    .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid, .prp1 = va_pa(n->identify), .cdw10 = cns};
	return admin(n, &e);
}

/* Namespace 1's size and block size, and whether writes need a flush. */
static int read_identity(struct nvme *n)
{
	const uint8_t *id = n->identify;
	int err = identify(n, NVME_IDENTIFY_CTRL, 0);
	if (err)
		return err;
	uint32_t nn;
	memcpy(&nn, id + NVME_ID_CTRL_NN, 4);
	n->blk.write_cache = id[NVME_ID_CTRL_VWC] & 1;
	if (nn < 1 || (err = identify(n, NVME_IDENTIFY_NS, 1)))
		return err ? err : -ENODEV;
	uint64_t nsze;
	memcpy(&nsze, id + NVME_ID_NS_NSZE, 8);
	unsigned fmt = id[NVME_ID_NS_FLBAS] & 0xf;
	n->lba_shift = id[NVME_ID_NS_LBAF + 4 * fmt + 2];
	if (n->lba_shift < BLK_SECTOR_SHIFT || n->lba_shift > PAGE_SHIFT || !nsze)
		return -ENODEV; /* a block size the block layer cannot express */
	n->blk.sectors = nsze << (n->lba_shift - BLK_SECTOR_SHIFT);
	return 0;
}

/* One I/O queue pair: its completions on MSI-X entry 1 (the admin queue's entry 0 stays
 * masked: admin commands are polled). */
static int create_io_queues(struct nvme *n)
{
	unsigned depth =
	    NVME_CAP_MQES(n->cap) + 1 < NVME_IO_DEPTH ? NVME_CAP_MQES(n->cap) + 1 : NVME_IO_DEPTH;
	if (depth < NVME_IO_DEPTH)
		return -ENODEV; /* MQES below 31: slots would outnumber the entries */
	struct nvme_sqe nq = {
	    .opcode = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_NUM_QUEUES, .cdw11 = 0};
	int err = admin(n, &nq);
	if (!err)
		err = queue_init(n, &n->io, 1, depth);
	if (err)
		return err;
	n->irq = pci_irq_setup(n->pci, 1, 0, nvme_irq, n);
	if (n->irq < 0)
		return n->irq;
	struct nvme_sqe cq = {.opcode = NVME_ADMIN_CREATE_CQ,
			      .prp1 = va_pa(n->io.cq),
			      .cdw10 = (depth - 1) << 16 | 1,
			      .cdw11 = 1u << 16 | NVME_CQ_IRQ_ENABLED | NVME_QUEUE_PHYS_CONTIG};
	struct nvme_sqe sq = {.opcode = NVME_ADMIN_CREATE_SQ,
			      .prp1 = va_pa(n->io.sq),
			      .cdw10 = (depth - 1) << 16 | 1,
			      .cdw11 = 1u << 16 | NVME_QUEUE_PHYS_CONTIG};
	err = admin(n, &cq);
	return err ? err : admin(n, &sq);
}

static int setup(struct nvme *n)
{
	n->regs = pci_map_bar(n->pci, 0);
	struct page *id = frame_alloc(0, PG_KERNEL), *prp = frame_alloc(0, PG_KERNEL);
	if (!n->regs || !id || !prp)
		return !n->regs ? -ENODEV : -ENOMEM; /* the frames stay with the device's state */
	n->identify = page_to_virt(id);
	n->prp_lists = page_to_virt(prp);
	n->prp_lists_pa = (paddr_t)page_to_pfn(prp) << PAGE_SHIFT;
	int err = enable(n);
	if (!err)
		err = read_identity(n);
	return err ? err : create_io_queues(n);
}

static int probe(struct pci_dev *p, unsigned index)
{
	struct nvme *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->pci = p;
	spin_init(&n->lock);
	int err = setup(n);
	if (err) {
		printk(KERN_WARNING "nvme: %02x:%02x.%u: not used (error %d)\n", p->bus, p->dev,
		       p->fn, err);
		if (n->regs)
			wr32(n, NVME_REG_CC, 0); /* stop the controller using our queues */
		return err; /* n and its frames stay: the device may have seen their addresses */
	}
	p->claimed = true;
	struct blk_device *d = &n->blk;
	ksnprintf(d->name, sizeof(d->name), "nvme%un1", index);
	d->ops = &nvme_ops;
	d->driver = n;
	printk(KERN_INFO "nvme: %s at %02x:%02x.%u, %u-byte blocks, %u-entry I/O queue, MSI-X%s\n",
	       d->name, p->bus, p->dev, p->fn, 1u << n->lba_shift, n->io.depth,
	       d->write_cache ? ", volatile write cache" : "");
	return blk_register(d);
}

/* Every function of class NVM Express, whoever made it. */
int nvme_probe_all(void)
{
	int count = 0;
	for (struct pci_dev *p = pci_find(0xffff, 0xffff, NULL); p; p = pci_find(0xffff, 0xffff, p))
		if (((uint32_t)p->class_code << 16 | p->subclass << 8 | p->prog_if) == NVME_CLASS)
			count += probe(p, (unsigned)count) == 0;
	return count;
}
