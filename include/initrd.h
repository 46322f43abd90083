/* The initial RAM disk: a cpio "newc" archive handed over by the boot loader as a module. The
 * VFS unpacks it into the root tmpfs at boot (kernel/fs/initramfs.c); file contents are not
 * copied: each file's pages come from the archive's bytes on first use, so the archive stays
 * in memory (reserved) for as long as the kernel runs. */
#pragma once
#include "types.h"

struct initrd_file {
	const char *name;   /* path inside the archive, without a leading "./" or "/" */
	size_t name_len;
	const uint8_t *data;
	size_t size;
	uint32_t mode;      /* st_mode bits from the archive */
	uint32_t rdev;      /* device number (Linux's encoding) for device nodes */
};

/* Call fn for each entry of the archive at [base, base+len) in archive order (the root "."
 * and the trailers are skipped; archives that follow one another, NUL padding between them,
 * are walked one after the other, as Linux reads a concatenated initramfs). Returns the number of entries, or -EINVAL for an archive that
 * is not cpio newc (a malformed header, a size past the end): entries before the first bad
 * header were given to fn and the problem is printed. Any context that may call fn. */
int initrd_walk(const void *base, size_t len, void (*fn)(const struct initrd_file *f, void *arg),
		void *arg);
/* Whether a non-empty initrd was unpacked at boot. */
bool initrd_present(void);
/* The entry at path ("/init", "init" and "./init" are the same; of several, the last, as the
 * unpacker leaves it) of the archive walked at boot,
 * read from the archive itself (what the root tmpfs holds may have changed since), or NULL.
 * The result stays valid until the next call. Boot and process context, one caller at a
 * time (the machine-check injector's case files). */
const struct initrd_file *initrd_lookup(const char *path);
