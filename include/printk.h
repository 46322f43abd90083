/* Kernel log: printk with levels and time stamps, to the console and a log buffer. */
#pragma once
#include <stdarg.h>
#include "types.h"

/* Levels as a prefix string, Linux style: printk(KERN_ERR "x %d\n", v). */
#define KERN_EMERG "\0010"
#define KERN_ALERT "\0011"
#define KERN_CRIT "\0012"
#define KERN_ERR "\0013"
#define KERN_WARNING "\0014"
#define KERN_NOTICE "\0015"
#define KERN_INFO "\0016"
#define KERN_DEBUG "\0017"

/* Print a formatted line "[    1.234567] text" to the console. Returns bytes formatted.
 * Text without a final newline leaves the line open for the next printk without a level.
 * Process and IRQ context; in #MC/NMI context only after printk_set_panic(). */
__printf(1, 2) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);
/* Show on the console only messages of this level or more urgent (numerically lower or equal);
 * the default 6 shows all but KERN_DEBUG, 7 shows everything. The log buffer keeps all. */
void printk_set_level(int level);
/* From now on printk never waits for its lock (panic or #MC: the owner may be stopped). */
void printk_set_panic(void);
/* Write out all text still queued for the console (see docs/log.md) before the machine
 * stops; waits a bounded time for a CPU that is writing it. Any context. */
void printk_flush(void);
/* Show a task's console text (write(1, ...)) whole, never inside a kernel line; not logged.
 * Process context. */
void printk_console_text(const char *s, size_t len);
/* Copy the newest log text (up to 64 KiB, all levels, starting at a line start) into buf,
 * NUL-terminated; returns the bytes copied (at most size-1). Process context. */
size_t printk_log_read(char *buf, size_t size);
/* The console level printk_set_level set (the default is 6). Any context. */
int printk_get_level(void);
/* Position of the end of the log: how many bytes of log text were ever written. Any context. */
uint64_t printk_log_pos(void);
/* Copy log text from position *pos into buf, at most size bytes (not NUL-terminated): *pos is
 * first moved up to the oldest text the 64 KiB ring still has and, with line_start, on to
 * the next line start unless it is at one; then past what was copied. Returns the bytes
 * copied (0 at the end). Takes printk_lock with interrupts off; process context. */
size_t printk_log_read_at(uint64_t *pos, char *buf, size_t size, bool line_start);
/* Size of the log ring in bytes (syslog's SIZE_BUFFER). */
#define PRINTK_LOG_BYTES (64 * 1024)

/* ksnprintf family (named apart from libc so the host build can test it against libc): %d %i %u %x %X %o %p %s %c %% with l, ll, z, h, hh, flags "-0 #+" and width/precision. */
__printf(3, 4) int ksnprintf(char *buf, size_t size, const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#define pr_err(...) printk(KERN_ERR __VA_ARGS__)
#define pr_warn(...) printk(KERN_WARNING __VA_ARGS__)
#define pr_info(...) printk(KERN_INFO __VA_ARGS__)
#define pr_debug(...) printk(KERN_DEBUG __VA_ARGS__)
