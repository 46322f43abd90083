/* printk: the kernel log. Each line gets a level (an optional KERN_* prefix), a time stamp
 * "[    1.234567] " from arch_time_ns(), and goes to the console when its level is shown and
 * always into a 64 KiB ring of log text that printk_log_read() returns (for dmesg).
 *
 * A message that does not end in a newline leaves its line open; the next printk from the same
 * CPU without a level prefix continues it. A new level prefix, or a message from another CPU,
 * closes the open line first so lines never mix.
 *
 * printk_lock (irqsave) serialises the console and the ring across CPUs. After
 * printk_set_panic() the lock is only tried for a bounded time and the message is printed
 * whether or not it was won: the owner may be a stopped CPU or the interrupted code itself. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"

#define PRINTK_MSG_MAX 512	     /* one printk call formats at most this much */
#define PRINTK_LOG_SIZE (64 * 1024)  /* log text kept for printk_log_read */
#define PRINTK_PANIC_SPINS 1000000ul /* lock attempts in panic mode before printing anyway */
#define LEVEL_MARK '\001'	     /* first byte of every KERN_* prefix */
#define DEFAULT_CONSOLE_LEVEL 6	     /* show KERN_INFO and more urgent */
#define DEFAULT_MSG_LEVEL 4	     /* a message without a prefix counts as a warning */
#define NS_PER_SEC 1000000000ull
#define NS_PER_US 1000ull
#define TRUNC_MARK "..."

static spinlock_t printk_lock = SPINLOCK_INIT;
static int console_level = DEFAULT_CONSOLE_LEVEL;
static bool panic_mode;
static bool lock_given_up; /* panic mode found the lock stuck once: do not wait again */

/* Log ring: byte i of the text ever logged is at log_buf[i % PRINTK_LOG_SIZE]. */
static char log_buf[PRINTK_LOG_SIZE];
static uint64_t log_total;

/* The open (unterminated) line, if any. */
static bool line_open;
static int line_level;
static unsigned line_cpu;

/* Take printk_lock; in panic mode give up after a bounded spin. Returns whether it is held. */
static bool printk_lock_take(void)
{
	if (!READ_ONCE(panic_mode)) {
		spin_lock(&printk_lock);
		return true;
	}
	for (unsigned long i = 0; i < PRINTK_PANIC_SPINS; i++) {
		if (spin_trylock(&printk_lock))
			return true;
		if (READ_ONCE(lock_given_up))
			return false;
		arch_cpu_relax();
	}
	WRITE_ONCE(lock_given_up, true);
	return false;
}

#ifdef MCRK_HOST
/* Host tests only: take printk's lock and keep it, as a CPU stopped inside printk would. */
void printk_test_hold_lock(void);
void printk_test_hold_lock(void)
{
	spin_lock(&printk_lock);
}
#endif

static void log_append(const char *s, size_t len)
{
	while (len) {
		size_t at = (size_t)(log_total % PRINTK_LOG_SIZE);
		size_t n = MIN(len, PRINTK_LOG_SIZE - at);

		memcpy(log_buf + at, s, n);
		log_total += n;
		s += n;
		len -= n;
	}
}

/* Send text of a line of the given level to the log, and to the console if it is shown. */
static void emit(const char *s, size_t len, int level)
{
	log_append(s, len);
	if (level <= READ_ONCE(console_level))
		arch_console_write(s, len);
}

static void emit_prefix(uint64_t now_ns, int level)
{
	char pre[40];
	int n =
	    ksnprintf(pre, sizeof pre, "[%5llu.%06llu] ", (unsigned long long)(now_ns / NS_PER_SEC),
		      (unsigned long long)(now_ns % NS_PER_SEC / NS_PER_US));

	emit(pre, (size_t)MIN(n, (int)sizeof pre - 1), level);
}

/* Split fmt into its level (if it has a KERN_* prefix) and the text after it. */
static const char *parse_level(const char *fmt, int *level, bool *has_level)
{
	*has_level = fmt[0] == LEVEL_MARK && fmt[1] >= '0' && fmt[1] <= '7';
	*level = *has_level ? fmt[1] - '0' : DEFAULT_MSG_LEVEL;
	return *has_level ? fmt + 2 : fmt;
}

/* Write msg line by line with prefixes; printk_lock held (or panic mode). */
static void emit_message(const char *msg, size_t len, int level, bool has_level, uint64_t now)
{
	unsigned cpu = arch_cpu_id();

	if (line_open && (has_level || line_cpu != cpu)) {
		emit("\n", 1, line_level); /* close someone else's or an older line */
		line_open = false;
	}
	if (line_open)
		level = line_level; /* a continuation keeps its line's level */
	while (len) {
		size_t n = 0;
		bool nl = false;

		while (n < len && !nl)
			nl = msg[n++] == '\n';

		if (!line_open)
			emit_prefix(now, level);
		emit(msg, n, level);
		line_open = !nl;
		line_level = level;
		line_cpu = cpu;
		msg += n;
		len -= n;
	}
}

/* Format and log one message (see printk). Process and IRQ context; #MC/NMI only after
 * printk_set_panic(). Takes printk_lock with interrupts off. */
int vprintk(const char *fmt, va_list ap)
{
	char msg[PRINTK_MSG_MAX];
	bool has_level, locked;
	int level, n;
	size_t len;
	uint64_t now = arch_time_ns();
	irqflags_t flags;

	fmt = parse_level(fmt, &level, &has_level);
	n = kvsnprintf(msg, sizeof msg, fmt, ap);
	len = strlen(msg);
	if (n >= (int)sizeof msg) { /* too long: mark the cut, keep the line end */
		bool nl = *fmt && fmt[strlen(fmt) - 1] == '\n';
		size_t keep = sizeof msg - sizeof(TRUNC_MARK) - 1;

		memcpy(msg + keep, TRUNC_MARK, sizeof(TRUNC_MARK) - 1);
		len = keep + sizeof(TRUNC_MARK) - 1;
		if (nl)
			msg[len++] = '\n';
	}

	flags = arch_irq_save();
	locked = printk_lock_take();
	emit_message(msg, len, level, has_level, now);
	if (locked)
		spin_unlock(&printk_lock);
	arch_irq_restore(flags);
	return n;
}

/* Text that is not a kernel message (a task writing to its console): shown as it is, under
 * printk_lock so it never lands inside a kernel line or splits one, and not kept in the log.
 * An open kernel line is closed first. Process context. */
void printk_console_text(const char *s, size_t len)
{
	irqflags_t flags = arch_irq_save();
	bool locked = printk_lock_take();

	if (line_open) {
		emit("\n", 1, line_level);
		line_open = false;
	}
	arch_console_write(s, len);
	if (locked)
		spin_unlock(&printk_lock);
	arch_irq_restore(flags);
}

/* Print a formatted message: see include/printk.h. */
int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

/* Show messages of this level and more urgent (lower numbers) on the console. Any context. */
void printk_set_level(int level)
{
	WRITE_ONCE(console_level, level);
}

/* Enter panic mode: printk never waits long for its lock again. Any context. */
void printk_set_panic(void)
{
	WRITE_ONCE(panic_mode, true);
}

/* Copy the newest log text (at most size-1 bytes, starting at a line start when older text
 * had to be left out) into buf and NUL-terminate it. Returns the bytes copied. Takes
 * printk_lock with interrupts off; process context. */
size_t printk_log_read(char *buf, size_t size)
{
	uint64_t avail, start, end;
	irqflags_t flags;
	bool locked;
	size_t n = 0;

	if (!size)
		return 0;
	flags = arch_irq_save();
	locked = printk_lock_take();
	end = log_total;
	avail = MIN(end, (uint64_t)PRINTK_LOG_SIZE);
	start = end - MIN(avail, (uint64_t)(size - 1));
	if (start > 0 && !(start > end - avail && log_buf[(start - 1) % PRINTK_LOG_SIZE] == '\n')) {
		/* Older text was left out: start after the first newline if there is one. */
		for (uint64_t p = start; p < end; p++) {
			if (log_buf[p % PRINTK_LOG_SIZE] == '\n') {
				start = p + 1;
				break;
			}
		}
	}
	for (uint64_t i = start; i < end; i++)
		buf[n++] = log_buf[i % PRINTK_LOG_SIZE];
	buf[n] = '\0';
	if (locked)
		spin_unlock(&printk_lock);
	arch_irq_restore(flags);
	return n;
}
