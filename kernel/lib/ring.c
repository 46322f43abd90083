/* Lock-free rings of fixed-size records (include/ring.h): single-producer, then multi-producer.
 *
 * head and tail count records ever pushed and popped (64-bit: they never wrap in practice);
 * slot i is buf[(i % capacity) * rec_size]. Only the producer writes head and dropped, only
 * the consumer writes tail. The producer fills the slot, then publishes it with a release
 * store of head; the consumer reads head with acquire before copying the slot out, then frees
 * it with a release store of tail, which the producer reads with acquire before reusing it.
 * Nothing here waits or locks, so the producer may be an #MC or NMI handler. */
#include "kerrno.h"
#include "kstring.h"
#include "ring.h"

static inline uint8_t *slot(const struct ring *r, uint64_t i)
{
	return r->buf + (size_t)(i & (r->capacity - 1)) * r->rec_size;
}

/* Set up an empty ring over buf. Returns 0, or -EINVAL for a NULL buffer, a zero record size,
 * or a capacity that is not a power of two. Call before the producer or consumer run. */
int ring_init(struct ring *r, void *buf, uint32_t rec_size, uint32_t capacity)
{
	if (!r || !buf || rec_size == 0 || capacity == 0 || (capacity & (capacity - 1)))
		return -EINVAL;
	r->buf = buf;
	r->rec_size = rec_size;
	r->capacity = capacity;
	r->head = 0;
	r->tail = 0;
	r->dropped = 0;
	return 0;
}

/* Producer side: copy rec into the ring; false (and dropped + 1) when full. Any context,
 * #MC/NMI included; one producer at a time. */
bool ring_push(struct ring *r, const void *rec)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= r->capacity) {
		__atomic_store_n(&r->dropped, __atomic_load_n(&r->dropped, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
		return false;
	}
	memcpy(slot(r, head), rec, r->rec_size);
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer side: copy the oldest record into rec; false when empty. Any context; one consumer
 * at a time. */
bool ring_pop(struct ring *r, void *rec)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head == tail)
		return false;
	memcpy(rec, slot(r, tail), r->rec_size);
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Records waiting, as a snapshot (may be stale by the time it returns). Any context. */
uint32_t ring_count(const struct ring *r)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t n = head - tail;

	/* tail read first, so head >= tail; clamp anyway against a torn view. */
	return n > r->capacity ? r->capacity : (uint32_t)n;
}

/* ---- multi-producer ring ----
 * Each slot starts with a sequence word that says whose turn the slot is. For the slot that
 * position pos (a count of records ever claimed) maps to: seq == pos means free for the
 * producer that claims pos; seq == pos + 1 means the record for pos is published and the
 * consumer may take it; the consumer then sets seq = pos + capacity, freeing the slot for the
 * producer one lap later. A producer claims pos by advancing head with compare-and-swap, fills
 * the slot, and publishes it with a release store of seq. A producer interrupted between its
 * claim and its publish (by an #MC on the same CPU, say) leaves its slot unpublished: the
 * interrupting producer claims the next slot and goes on, and the consumer stops at the
 * unpublished slot until the interrupted producer resumes and finishes. Nobody ever waits on
 * anybody, so every context may push. */

static inline uint64_t *mp_seq(const struct ring_mp *r, uint64_t pos)
{
	return (uint64_t *)(void *)(r->buf + (size_t)(pos & (r->capacity - 1)) * r->slot_size);
}

int ring_mp_init(struct ring_mp *r, void *buf, uint32_t rec_size, uint32_t capacity)
{
	if (!r || !buf || ((uintptr_t)buf & 7) || rec_size == 0 || capacity == 0 ||
	    (capacity & (capacity - 1)))
		return -EINVAL;
	r->buf = buf;
	r->rec_size = rec_size;
	r->slot_size = RING_MP_SLOT_SIZE(rec_size);
	r->capacity = capacity;
	r->head = 0;
	r->tail = 0;
	for (uint64_t i = 0; i < capacity; i++)
		__atomic_store_n(mp_seq(r, i), i, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 0;
}

bool ring_mp_push(struct ring_mp *r, const void *rec)
{
	uint64_t pos = __atomic_load_n(&r->head, __ATOMIC_RELAXED);

	for (;;) {
		uint64_t seq = __atomic_load_n(mp_seq(r, pos), __ATOMIC_ACQUIRE);
		int64_t diff = (int64_t)(seq - pos);

		if (diff < 0)
			return false; /* the slot still holds a record of the previous lap: full */
		if (diff > 0) {	      /* another producer claimed pos: look at the new head */
			pos = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
			continue;
		}
		/* A failed exchange loads the current head into pos: try that slot. */
		if (__atomic_compare_exchange_n(&r->head, &pos, pos + 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	memcpy(mp_seq(r, pos) + 1, rec, r->rec_size);
	__atomic_store_n(mp_seq(r, pos), pos + 1, __ATOMIC_RELEASE);
	return true;
}

bool ring_mp_pop(struct ring_mp *r, void *rec)
{
	uint64_t pos = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint64_t *seq = mp_seq(r, pos);

	if (__atomic_load_n(seq, __ATOMIC_ACQUIRE) != pos + 1)
		return false; /* empty, or claimed but not yet published */
	memcpy(rec, seq + 1, r->rec_size);
	__atomic_store_n(seq, pos + r->capacity, __ATOMIC_RELEASE);
	__atomic_store_n(&r->tail, pos + 1, __ATOMIC_RELEASE);
	return true;
}

bool ring_mp_empty(const struct ring_mp *r)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == tail;
}
