/* The kernel's own symbol table, for naming code addresses the way Linux's %pS does
 * ("mc_inside_copy+0x1a/0x40": function, offset into it, its length). The build links the
 * kernel once, lists its functions with nm (scripts/mksyms.py), compiles that list into a
 * table and links again with it (the table sits after all code, so no function moves between
 * the two links; the build checks that). Machine-check records name the kernel RIP with it,
 * and the fault report its RIP and every return address of the call trace. */
#pragma once
#include "types.h"

struct ksym_entry {
	uint64_t addr;      /* first byte of the function */
	uint32_t size;      /* its length in bytes, or 0 when unknown (assembly labels) */
	uint32_t name;      /* offset of its name in the table's names */
};

struct ksym_table {
	uint32_t count;                    /* entries, sorted by address */
	const struct ksym_entry *entries;
	const char *names;                 /* NUL-separated */
};

/* The function containing addr in table t: its name, addr's offset into it and its size
 * (for a function of unknown length: up to the next symbol). Returns 0, or -ENOENT when addr
 * is before the first function, past the end of the last, or t is NULL. Any context, #MC and
 * NMI included (reads a constant table). */
int ksym_lookup_in(const struct ksym_table *t, uint64_t addr, const char **name, uint64_t *off,
		   uint64_t *size);
/* The same in the running kernel's own table. */
int ksym_lookup(uint64_t addr, const char **name, uint64_t *off, uint64_t *size);
/* Room for any ksym_format text (a long name and two 64-bit numbers). */
#define KSYM_FMT_MAX 160
/* Format addr as "name+0xoff/0xsize" into buf (NUL-terminated when size > 0), from the
 * kernel's table. Returns the length, or 0 (buf "") when addr names no function. Any context. */
int ksym_format(char *buf, size_t size, uint64_t addr);
