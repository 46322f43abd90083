/* A lock-free single-producer single-consumer ring of fixed-size records (include/ring.h).
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
