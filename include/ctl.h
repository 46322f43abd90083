/* Control files: the small text files at Linux's paths (/proc/sys, /sys, debugfs) that show a
 * value and take a new one. Every such file in MCRK reads and writes through this header, so
 * they all follow one set of rules, Linux's rules for a numeric write (kstrtoul):
 *   - the number, in base 10 or, where the file takes base 0, C style (0x hex, 0 octal);
 *   - an optional leading '+' and one optional trailing newline ("echo 1 > file");
 *   - nothing else: no spaces, no second line, no NUL; an empty write is not a number;
 *   - a bad write is -EINVAL (-ERANGE for a number past 64 bits, as kstrtoul) and changes
 *     nothing.
 * Reading shows the value followed by a newline. A file is one row of a table (struct
 * ctl_file) that its subsystem registers with ctl_register (kernel/fs/ctlfile.c); the parser
 * and the text writer are in kernel/lib/ctl.c. */
#pragma once
#include "types.h"

/* Longest value a numeric write may hold (digits, prefix and newline). */
#define CTL_VALUE_MAX 32

/* Parse a write of n bytes (not NUL-terminated) as one unsigned number by the rules above;
 * base is 0 (C style) or 10. Returns 0 and sets *out, or -EINVAL / -ERANGE (*out untouched).
 * Any context. */
int ctl_parse_u64(const char *buf, size_t n, unsigned base, uint64_t *out);
/* The same, and the value must lie in [min, max] (else -EINVAL). */
int ctl_parse_range(const char *buf, size_t n, uint64_t min, uint64_t max, uint64_t *out);
/* Copy a word-valued write (flags, a name) without its one trailing newline into out,
 * NUL-terminated. Returns 0, or -EINVAL when it is empty, does not fit or holds a NUL. */
int ctl_take_word(const char *buf, size_t n, char *out, size_t size);

/* The text a read shows, built up piece by piece. len counts every byte the text needs, even
 * past size (as snprintf), so a caller learns how much room it would take. */
struct ctl_buf {
	char *p;
	size_t size;
	size_t len;
};
/* Append formatted text to b (truncated at its size, always NUL-terminated when size > 0). */
__printf(2, 3) void ctl_printf(struct ctl_buf *b, const char *fmt, ...);

/* One control file: its path, how it reads and writes, and what it controls. */
struct ctl_file;
typedef int (*ctl_show_fn)(const struct ctl_file *f, struct ctl_buf *b);
typedef long (*ctl_store_fn)(const struct ctl_file *f, const char *buf, size_t n);
struct ctl_file {
	const char *path;
	ctl_show_fn show;   /* 0 or -errno; NULL: write-only */
	ctl_store_fn store; /* n or -errno; NULL: read-only */
	void *field;	    /* the value shown and set (the helpers below), or the file's own data */
	uint64_t unit;	    /* the subsystem's own helpers: file value * unit = field value */
	uint64_t max;	    /* largest value a write may set */
};

/* Helpers for the common rows: an int field that takes 0..max, a uint64_t field that takes
 * 0..max (base 0). Process context. */
int ctl_show_int(const struct ctl_file *f, struct ctl_buf *b);
long ctl_store_int(const struct ctl_file *f, const char *buf, size_t n);
int ctl_show_u64(const struct ctl_file *f, struct ctl_buf *b);
long ctl_store_u64(const struct ctl_file *f, const char *buf, size_t n);

/* Register every row of files[0..n) with the VFS at its path (reads re-generate the text at
 * offset 0, see vfs.h). Returns 0 or the first error (the other rows are still tried); each
 * failure is logged with who. Boot, process context. */
int ctl_register(const struct ctl_file *files, size_t n, const char *who);
/* Show the row of files at path into buf (NUL-terminated when size > 0). Returns the length
 * the text needs (as snprintf), -ENOENT for no such row, -EACCES for a write-only one.
 * Process context. */
int ctl_show(const struct ctl_file *files, size_t n, const char *path, char *buf, size_t size);
/* Write n bytes to the row at path. Returns what the row's store returns, -ENOENT, or -EACCES
 * for a read-only row. Process context. */
long ctl_store(const struct ctl_file *files, size_t n, const char *path, const char *buf,
	       size_t len);
