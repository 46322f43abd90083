/* NVMe's I/O path: a block request becomes one command in the I/O submission queue, its
 * slot index the command id; the completion interrupt reads the completion queue and
 * completes the requests it names (drivers/nvme.c sets the controller up). */
#include "blk.h"
#include "frame.h"
#include "kerrno.h"
#include "nvme_priv.h"

/* PRP1 and PRP2 for r's frames; a transfer over more than two frames gets slot s's list. */
static void set_prps(struct nvme *n, unsigned s, const struct blk_request *r, struct nvme_sqe *e)
{
	unsigned frames = (r->count * BLK_SECTOR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
	e->prp1 = (paddr_t)r->frames[0] << PAGE_SHIFT;
	if (frames == 2)
		e->prp2 = (paddr_t)r->frames[1] << PAGE_SHIFT;
	if (frames <= 2)
		return;
	uint64_t *list = n->prp_lists + s * (NVME_PRP_LIST_BYTES / 8);
	for (unsigned i = 1; i < frames; i++)
		list[i - 1] = (paddr_t)r->frames[i] << PAGE_SHIFT;
	e->prp2 = n->prp_lists_pa + s * NVME_PRP_LIST_BYTES;
}

/* The command for r in slot s; -EINVAL when r's sectors are not whole blocks. */
static int build(struct nvme *n, unsigned s, const struct blk_request *r, struct nvme_sqe *e)
{
	*e = (struct nvme_sqe){.cid = (uint16_t)s, .nsid = 1};
	if (r->op == BLK_FLUSH) {
		e->opcode = NVME_CMD_FLUSH;
		return 0;
	}
	unsigned per = 1u << (n->lba_shift - BLK_SECTOR_SHIFT); /* sectors per block */
	if (r->sector % per || r->count % per)
		return -EINVAL;
	e->opcode = r->op == BLK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
	uint64_t slba = r->sector / per;
	e->cdw10 = (uint32_t)slba;
	e->cdw11 = (uint32_t)(slba >> 32);
	e->cdw12 = r->count / per - 1; /* blocks, zero-based */
	set_prps(n, s, r, e);
	return 0;
}

static int nvme_submit(struct blk_device *d, struct blk_request *r)
{
	struct nvme *n = d->driver;
	spin_lock(&n->lock);
	unsigned s = 0;
	while (s < NVME_SLOTS && n->slot[s])
		s++;
	if (s == NVME_SLOTS) {
		spin_unlock(&n->lock);
		return -EBUSY;
	}
	struct nvme_sqe e;
	int err = build(n, s, r, &e);
	if (!err) {
		n->slot[s] = r;
		r->tag = (uint16_t)s;
		n->io.sq[n->io.sq_tail] = e;
		n->io.sq_tail = (uint16_t)((n->io.sq_tail + 1) % n->io.depth);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the entry before the doorbell */
		*n->io.sq_doorbell = n->io.sq_tail;
	}
	spin_unlock(&n->lock);
	return err;
}

void nvme_irq(void *arg)
{
	struct nvme *n = arg;
	struct blk_request *done[NVME_SLOTS];
	int status[NVME_SLOTS];
	unsigned k = 0;
	spin_lock(&n->lock);
	struct nvme_queue *q = &n->io;
	while (k < NVME_SLOTS) {
		struct nvme_cqe *c = &q->cq[q->cq_head];
		if ((__atomic_load_n(&c->status, __ATOMIC_ACQUIRE) & 1) != q->phase)
			break;
		if (++q->cq_head == q->depth) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		if (c->cid >= NVME_SLOTS || !n->slot[c->cid])
			continue; /* not a command of ours: nothing to complete */
		done[k] = n->slot[c->cid];
		status[k++] = c->status >> 1 ? -EIO : 0;
		n->slot[c->cid] = NULL;
	}
	*q->cq_doorbell = q->cq_head;
	spin_unlock(&n->lock);
	for (unsigned i = 0; i < k; i++)
		blk_complete(done[i], status[i]);
}

const struct blk_ops nvme_ops = {.submit = nvme_submit};
