/* The initial RAM disk: a cpio "newc" archive handed over by the boot loader as a module,
 * read in place (never copied). Files are looked up by path; contents stay read-only. */
#pragma once
#include "types.h"

struct initrd_file {
	const char *name;   /* path inside the archive, without a leading "./" or "/" */
	size_t name_len;
	const uint8_t *data;
	size_t size;
	uint32_t mode;      /* st_mode bits from the archive */
};

/* Index the archive at [base, base+len). Returns the number of entries, or -EINVAL for an
 * archive that is not cpio newc (a malformed header, a size past the end) — entries before
 * the first bad header stay usable and the problem is printed. */
int initrd_init(const void *base, size_t len);
/* Find a file by path ("/init", "init" and "./init" are the same). NULL when absent. */
const struct initrd_file *initrd_lookup(const char *path);
/* The i-th entry (0-based) or NULL past the end: for directory listings. */
const struct initrd_file *initrd_entry(unsigned i);
