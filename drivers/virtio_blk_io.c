/* virtio-blk's I/O path: a block request becomes a descriptor chain in a free slot of the
 * ring and a notification; the completion interrupt walks the used ring and completes the
 * requests it names (drivers/virtio_blk.c sets the device up). */
#include "blk.h"
#include "frame.h"
#include "kerrno.h"
#include "virtio_priv.h"

static void set_desc(struct vblk *vb, unsigned i, paddr_t pa, uint32_t len, uint16_t flags)
{
	vb->desc[i] = (struct virtq_desc){pa, len, flags, (uint16_t)(i + 1)};
}

/* Writes the chain of slot s for r: header, one descriptor per frame, status. */
static void build_chain(struct vblk *vb, unsigned s, struct blk_request *r)
{
	unsigned first = s * VBLK_DESCS_PER_SLOT, i = first;
	struct virtio_blk_hdr *h = (struct virtio_blk_hdr *)(vb->hdr + s * VBLK_SLOT_BYTES);
	h->type = r->op == BLK_READ    ? VIRTIO_BLK_T_IN
		  : r->op == BLK_WRITE ? VIRTIO_BLK_T_OUT
				       : VIRTIO_BLK_T_FLUSH;
	h->reserved = 0;
	h->sector = r->op == BLK_FLUSH ? 0 : r->sector;
	vb->hdr[s * VBLK_SLOT_BYTES + VBLK_STATUS_OFF] = 0xff;
	set_desc(vb, i++, vb->hdr_pa + s * VBLK_SLOT_BYTES, sizeof(*h), VIRTQ_DESC_F_NEXT);
	uint32_t left = r->op == BLK_FLUSH ? 0 : r->count * BLK_SECTOR_SIZE;
	for (unsigned f = 0; left; f++) {
		uint32_t len = left < PAGE_SIZE ? left : PAGE_SIZE;
		set_desc(vb, i++, (paddr_t)r->frames[f] << PAGE_SHIFT, len,
			 VIRTQ_DESC_F_NEXT | (r->op == BLK_READ ? VIRTQ_DESC_F_WRITE : 0));
		left -= len;
	}
	set_desc(vb, i, vb->hdr_pa + s * VBLK_SLOT_BYTES + VBLK_STATUS_OFF, 1, VIRTQ_DESC_F_WRITE);
	vb->desc[i].next = 0;
}

static int vblk_submit(struct blk_device *d, struct blk_request *r)
{
	struct vblk *vb = d->driver;
	spin_lock(&vb->lock);
	unsigned s = 0;
	while (s < vb->nslots && vb->slot[s])
		s++;
	if (s == vb->nslots) {
		spin_unlock(&vb->lock);
		return -EBUSY;
	}
	vb->slot[s] = r;
	r->tag = (uint16_t)s;
	build_chain(vb, s, r);
	uint16_t idx = vb->avail->idx;
	vb->avail->ring[idx & (vb->size - 1)] = (uint16_t)(s * VBLK_DESCS_PER_SLOT);
	/* The chain and ring entry are visible before the index, the index before the
	 * notification (2.6.13). */
	__atomic_store_n(&vb->avail->idx, (uint16_t)(idx + 1), __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*vb->notify = 0; /* queue 0 */
	spin_unlock(&vb->lock);
	return 0;
}

/* VIRTIO_BLK_S_IOERR, and anything the spec does not define, is an I/O error. */
static int status_errno(uint8_t st)
{
	return st == VIRTIO_BLK_S_OK ? 0 : st == VIRTIO_BLK_S_UNSUPP ? -EOPNOTSUPP : -EIO;
}

void vblk_irq(void *arg)
{
	struct vblk *vb = arg;
	struct blk_request *done[VBLK_MAX_SLOTS];
	int status[VBLK_MAX_SLOTS];
	unsigned n = 0;
	spin_lock(&vb->lock);
	uint16_t end = __atomic_load_n(&vb->used->idx, __ATOMIC_ACQUIRE);
	for (; vb->last_used != end && n < VBLK_MAX_SLOTS; vb->last_used++) {
		uint32_t id = vb->used->ring[vb->last_used & (vb->size - 1)].id;
		unsigned s = id / VBLK_DESCS_PER_SLOT;
		if (s >= vb->nslots || !vb->slot[s])
			continue; /* not ours: a confused device; nothing to complete */
		done[n] = vb->slot[s];
		status[n++] = status_errno(vb->hdr[s * VBLK_SLOT_BYTES + VBLK_STATUS_OFF]);
		vb->slot[s] = NULL;
	}
	spin_unlock(&vb->lock);
	for (unsigned i = 0; i < n; i++)
		blk_complete(done[i], status[i]);
}

const struct blk_ops vblk_ops = {.submit = vblk_submit};
