/* printk: the kernel log. Each line gets a level (an optional KERN_* prefix), a time stamp
 * "[    1.234567] " from arch_time_ns(), and goes to the console when its level is shown and
 * always into a 64 KiB ring of log text that printk_log_read() returns (for dmesg).
 *
 * A message that does not end in a newline leaves its line open; the next printk from the same
 * CPU without a level prefix continues it. A new level prefix, or a message from another CPU,
 * closes the open line first so lines never mix.
 *
 * printk never waits for the console. printk_lock (irqsave, held for a memcpy) guards the log
 * ring, the open-line state and a second ring of text still to be shown. Whoever finds the
 * console free becomes its owner and writes out all pending text, its own and what other CPUs
 * add meanwhile; a printk that finds an owner leaves its text to it and returns at once. So a
 * CPU printing a hardware-error report on a slow serial line never holds up memory_failure on
 * another CPU. If the console falls CON_SIZE bytes behind, the oldest unshown text is dropped
 * and the console says how much (the log ring still has it).
 *
 * After printk_set_panic() the lock is only tried for a bounded time and the message is printed
 * whether or not it was won, and the console is written without waiting for an owner: the
 * owner or the lock holder may be a stopped CPU or the interrupted code itself. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"

#define PRINTK_MSG_MAX 512	     /* one printk call formats at most this much */
#define PRINTK_LOG_SIZE PRINTK_LOG_BYTES /* log text kept for printk_log_read */
#define PRINTK_PANIC_SPINS 1000000ul /* lock attempts in panic mode before printing anyway */
#define LEVEL_MARK '\001'	     /* first byte of every KERN_* prefix */
#define DEFAULT_CONSOLE_LEVEL 6	     /* show KERN_INFO and more urgent */
#define DEFAULT_MSG_LEVEL 4	     /* a message without a prefix counts as a warning */
#define NS_PER_SEC 1000000000ull
#define NS_PER_US 1000ull
#define TRUNC_MARK "..."
#define CON_SIZE (16 * 1024)	     /* console text not yet written */
#define CON_CHUNK 256		     /* the owner writes out this much per lock round */

static spinlock_t printk_lock = SPINLOCK_INIT;
static int console_level = DEFAULT_CONSOLE_LEVEL;
static bool panic_mode;
static bool lock_given_up; /* panic mode found the lock stuck once: do not wait again */

/* Log ring: byte i of the text ever logged is at log_buf[i % PRINTK_LOG_SIZE]. */
static char log_buf[PRINTK_LOG_SIZE];
static uint64_t log_total;

/* Console text not yet written: byte i of all shown text is con_buf[i % CON_SIZE]; bytes
 * [con_done, con_total) are pending. printk_lock guards all four. */
static char con_buf[CON_SIZE];
static uint64_t con_total, con_done, con_dropped;
static int console_owner; /* 1 while some CPU writes the pending text out */

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


/* Append text to a byte ring: byte i of all text ever put is ring[i % size]. */
static void ring_put(char *ring, size_t size, uint64_t *total, const char *s, size_t len)
{
	while (len) {
		size_t at = (size_t)(*total % size);
		size_t n = MIN(len, size - at);

		memcpy(ring + at, s, n);
		*total += n;
		s += n;
		len -= n;
	}
}

/* Queue text for the console; the oldest pending text goes if it falls CON_SIZE behind. */
static void con_append(const char *s, size_t len)
{
	if (len > CON_SIZE) {
		con_dropped += len - CON_SIZE;
		s += len - CON_SIZE;
		len = CON_SIZE;
	}
	if (con_total + len - con_done > CON_SIZE) {
		uint64_t lose = con_total + len - con_done - CON_SIZE;
		con_dropped += lose;
		con_done += lose;
	}
	ring_put(con_buf, CON_SIZE, &con_total, s, len);
}

/* Send text of a line of the given level to the log, and to the console if it is shown. */
static void emit(const char *s, size_t len, int level)
{
	ring_put(log_buf, PRINTK_LOG_SIZE, &log_total, s, len);
	if (level <= READ_ONCE(console_level))
		con_append(s, len);
}

/* Write out pending console text until none is left; the caller owns the console (or is in
 * panic mode). Interrupts stay as the caller has them while the text goes out (an owner
 * with a long backlog on a real serial line must not keep them off for seconds); they are
 * off only while printk_lock is held. */
static void con_write_pending(void)
{
	char chunk[CON_CHUNK];

	for (;;) {
		irqflags_t flags = arch_irq_save();
		bool locked = printk_lock_take();
		uint64_t from = con_done, dropped = con_dropped;
		size_t n = (size_t)MIN(con_total - from, (uint64_t)CON_CHUNK);

		for (size_t i = 0; i < n; i++)
			chunk[i] = con_buf[(from + i) % CON_SIZE];
		con_dropped = 0;
		if (locked)
			spin_unlock(&printk_lock);
		arch_irq_restore(flags);
		if (!n && !dropped)
			return;
		if (dropped) {
			char note[64];
			int k = ksnprintf(note, sizeof note, "\n[console fell behind: %llu bytes not shown]\n",
					  (unsigned long long)dropped);
			arch_console_write(note, (size_t)MIN(k, (int)sizeof note - 1));
		}
		arch_console_write(chunk, n);
		flags = arch_irq_save();
		locked = printk_lock_take();
		if (con_done < from + n) /* (text dropped meanwhile moved it already) */
			con_done = from + n;
		if (locked)
			spin_unlock(&printk_lock);
		arch_irq_restore(flags);
	}
}

static bool con_idle(void)
{
	return __atomic_load_n(&con_total, __ATOMIC_SEQ_CST) ==
	       __atomic_load_n(&con_done, __ATOMIC_SEQ_CST);
}

/* Show pending console text: as its new owner, or by leaving it to the CPU that owns the
 * console now (it looks again before letting go). printk_lock not held. The owner is never
 * preempted (kernel code is not) and never waits for anyone while it writes. */
static void con_flush(void)
{
	if (READ_ONCE(panic_mode)) {
		con_write_pending();
		return;
	}
	while (!con_idle() && !__atomic_exchange_n(&console_owner, 1, __ATOMIC_ACQUIRE)) {
		con_write_pending();
		__atomic_store_n(&console_owner, 0, __ATOMIC_SEQ_CST);
		/* Text queued after our last look, by a CPU that saw us as the owner, is ours. */
	}
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
	con_flush();
	return n;
}

/* Text that is not a kernel message (a task writing to its console): written as it is, after
 * the kernel text before it and never inside a kernel line, and not kept in the log. Waits
 * for the console (its owner is never preempted and waits for nobody) and never drops
 * text. An open kernel line is closed first. Process context, interrupts on. */
void printk_console_text(const char *s, size_t len)
{
	bool panicking = READ_ONCE(panic_mode);

	while (!panicking && __atomic_exchange_n(&console_owner, 1, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	irqflags_t flags = arch_irq_save();
	bool locked = printk_lock_take();
	if (line_open) {
		emit("\n", 1, line_level);
		line_open = false;
	}
	if (locked)
		spin_unlock(&printk_lock);
	arch_irq_restore(flags);
	con_write_pending();
	arch_console_write(s, len);
	if (!panicking)
		__atomic_store_n(&console_owner, 0, __ATOMIC_SEQ_CST);
	con_flush();
}

/* Before the machine stops (test exit, panic): write out everything still queued, as the
 * console's owner or by waiting for the CPU that owns it; after a bounded wait (that CPU may
 * be stopped) write it regardless. Any context. */
void printk_flush(void)
{
	for (unsigned long i = 0; !con_idle() && i < PRINTK_PANIC_SPINS; i++) {
		if (!__atomic_exchange_n(&console_owner, 1, __ATOMIC_ACQUIRE)) {
			con_write_pending();
			__atomic_store_n(&console_owner, 0, __ATOMIC_SEQ_CST);
		} else {
			arch_cpu_relax();
		}
	}
	if (!con_idle())
		con_write_pending();
}

#ifdef MCRK_HOST
/* Host tests only: take printk's lock and keep it, as a CPU stopped inside printk would. */
void printk_test_hold_lock(void);
void printk_test_hold_lock(void)
{
	spin_lock(&printk_lock);
}

/* Host tests only: own the console as another CPU busy writing would (hold), then let go of
 * it and write what piled up meanwhile (release). */
void printk_test_own_console(bool hold);
void printk_test_own_console(bool hold)
{
	__atomic_store_n(&console_owner, hold, __ATOMIC_SEQ_CST);
	if (!hold)
		con_flush();
}
#endif

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

int printk_get_level(void) { return READ_ONCE(console_level); }

uint64_t printk_log_pos(void)
{
	return __atomic_load_n(&log_total, __ATOMIC_ACQUIRE);
}

size_t printk_log_read_at(uint64_t *pos, char *buf, size_t size, bool line_start)
{
	irqflags_t flags = arch_irq_save();
	bool locked = printk_lock_take();
	uint64_t end = log_total, oldest = end - MIN(end, (uint64_t)PRINTK_LOG_SIZE);
	uint64_t p = MAX(*pos, oldest);
	if (line_start && p > oldest && log_buf[(p - 1) % PRINTK_LOG_SIZE] != '\n')
		while (p < end && log_buf[p++ % PRINTK_LOG_SIZE] != '\n')
			;
	size_t n = 0;
	for (; p < end && n < size; p++)
		buf[n++] = log_buf[p % PRINTK_LOG_SIZE];
	*pos = p;
	if (locked)
		spin_unlock(&printk_lock);
	arch_irq_restore(flags);
	return n;
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
