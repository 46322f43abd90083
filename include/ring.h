/* Lock-free rings of fixed-size records: single-producer (struct ring) and multi-producer
 * (struct ring_mp), both single-consumer.
 *
 * struct ring: one producer, one consumer.
 * The producer may run in #MC/NMI context (never blocks, never takes a lock);
 * a full ring drops the new record and counts it. */
#pragma once
#include "types.h"

struct ring {
	uint8_t *buf;        /* capacity * rec_size bytes */
	uint32_t rec_size;   /* bytes per record */
	uint32_t capacity;   /* records; a power of two */
	uint64_t head;       /* next slot to write (producer only) */
	uint64_t tail;       /* next slot to read (consumer only) */
	uint64_t dropped;    /* records lost because the ring was full */
};

/* Set up a ring over buf (capacity records of rec_size bytes; capacity a power of two). */
int ring_init(struct ring *r, void *buf, uint32_t rec_size, uint32_t capacity);
/* Producer: copy one record in. Returns true, or false (and counts a drop) when full. */
bool ring_push(struct ring *r, const void *rec);
/* Consumer: copy the oldest record out. Returns false when empty. */
bool ring_pop(struct ring *r, void *rec);
/* Records waiting (a snapshot). */
uint32_t ring_count(const struct ring *r);

/* Lock-free multi-producer single-consumer ring of fixed-size records, for producers that may
 * interrupt one another: a #MC or NMI that arrives while the same CPU is in the middle of a
 * push pushes too, and neither waits for the other. A full ring refuses the record (the caller
 * counts it). Storage: capacity slots of RING_MP_SLOT_SIZE(rec_size) bytes, 8-byte aligned. */
struct ring_mp {
	uint8_t *buf;	    /* capacity slots: a uint64_t sequence word, then the record */
	uint32_t rec_size;  /* bytes per record */
	uint32_t slot_size; /* RING_MP_SLOT_SIZE(rec_size) */
	uint32_t capacity;  /* slots; a power of two */
	uint64_t head;	    /* next slot to claim (producers, compare-and-swap) */
	uint64_t tail;	    /* next slot to read (consumer only) */
};
#define RING_MP_SLOT_SIZE(rec_size) (8u + (((rec_size) + 7u) & ~7u))

/* Set up an empty ring over buf (8-byte aligned, capacity * RING_MP_SLOT_SIZE(rec_size)
 * bytes). 0 or -EINVAL. Before any producer or consumer runs. */
int ring_mp_init(struct ring_mp *r, void *buf, uint32_t rec_size, uint32_t capacity);
/* Producer: copy one record in. Returns false when full. Any context, #MC/NMI included, any
 * number of producers (they may interrupt one another). */
bool ring_mp_push(struct ring_mp *r, const void *rec);
/* Consumer: copy the oldest published record out. Returns false when empty, or when the
 * oldest slot is claimed by a producer that has not finished (it will be there once that
 * producer returns). One consumer at a time; any context. */
bool ring_mp_pop(struct ring_mp *r, void *rec);
/* Whether the ring holds anything, claimed or published (a snapshot). Any context. */
bool ring_mp_empty(const struct ring_mp *r);
