/* Lock-free single-producer single-consumer ring of fixed-size records.
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
