/* Kernel heap: power-of-two size classes from 16 bytes to 2 KiB on slab frames (each class
 * keeps a few empty ones in reserve), larger requests as whole buddy blocks. */
#pragma once
#include "types.h"

/* Allocate size bytes (16-byte aligned). Returns NULL on failure or size 0. Process/IRQ context. */
void *kmalloc(size_t size);
/* Like kmalloc, zero-filled. */
void *kzalloc(size_t size);
/* Free a kmalloc'd pointer; NULL is ignored. */
void kfree(void *p);
void kmalloc_init(void);
/* Give the empty slabs each size class keeps in reserve back to the frame allocator (leak
 * checks compare free frames). Process context. */
void kmalloc_drain(void);
