/* console_parse: the console= words of the kernel command line (include/console.h). The
 * serial options follow Linux's uart_parse_options: a decimal baud rate, then optionally a
 * parity letter, a number of data bits and 'r' for RTS/CTS flow control, in that order. MCRK's
 * UARTs are 16550s clocked for 115200 baud, so a rate must divide 115200. */
#include "console.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

#define UART_BASE_BAUD 115200u
#define WORD_MAX 64
#define SCREEN_TTYS 64 /* tty0..tty63 are virtual terminals on the screen */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number at *s of at most 9 digits; advances *s. -1 when there is none. */
static long number(const char **s)
{
	long v = 0;
	int digits = 0;
	while (is_digit(**s) && digits < 9) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits && !is_digit(**s) ? v : -1;
}

/* "115200n8r" into p. NULL when good, else why not. */
static const char *serial_options(const char *s, struct console_port *p)
{
	long baud = number(&s);
	if (baud <= 0 || UART_BASE_BAUD % (unsigned long)baud)
		return "the baud rate must divide 115200 (115200, 57600, 38400, 19200, 9600, ...)";
	p->baud = (uint32_t)baud;
	if (*s == 'n' || *s == 'o' || *s == 'e')
		p->parity = *s++;
	else if (*s && !is_digit(*s))
		return "parity must be n, o or e";
	if (is_digit(*s)) {
		if (*s < '5' || *s > '8')
			return "data bits must be 5 to 8";
		p->bits = (uint8_t)(*s++ - '0');
	}
	if (*s == 'r') {
		p->flow = true;
		s++;
	}
	return *s ? "unexpected characters after the options" : NULL;
}

/* One console= value into p. NULL when good, else why not. */
static const char *port_parse(const char *v, struct console_port *p)
{
	*p = (struct console_port){.kind = CONSOLE_SERIAL, .bits = 8, .parity = 'n',
				   .baud = CONSOLE_LINUX_BAUD};
	if (!strncmp(v, "ttyS", 4)) {
		const char *s = v + 4;
		long n = number(&s);
		if (n < 0 || n >= CONSOLE_SERIAL_PORTS)
			return "serial ports are ttyS0 to ttyS3";
		p->index = (uint8_t)n;
		if (!*s)
			return NULL;
		if (*s != ',')
			return "options follow a comma (ttyS1,115200n8)";
		return serial_options(s + 1, p);
	}
	if (!strncmp(v, "tty", 3)) {
		const char *s = v + 3;
		long n = number(&s);
		if (n < 0 || n >= SCREEN_TTYS || *s)
			return "the screen is tty0 (tty1..tty63 mean the same here)";
		p->kind = CONSOLE_SCREEN;
		return NULL;
	}
	return "not a console MCRK has (ttyS0..ttyS3, tty0)";
}

static bool same_port(const struct console_port *a, const struct console_port *b)
{
	return a->kind == b->kind && (a->kind == CONSOLE_SCREEN || a->index == b->index);
}

/* Add p unless the list has it already (a later word then wins) or is full. */
static void cfg_add(struct console_cfg *cfg, const struct console_port *p)
{
	for (unsigned i = 0; i < cfg->n; i++)
		if (same_port(&cfg->port[i], p)) {
			cfg->port[i] = *p;
			return;
		}
	if (cfg->n < CONSOLE_MAX)
		cfg->port[cfg->n++] = *p;
}

/* Copy the next blank-separated word at *line into w (cut at WORD_MAX - 1); advance *line. */
static bool next_word(const char **line, char *w)
{
	const char *s = *line, *start;
	size_t n;
	while (is_blank(*s))
		s++;
	if (!*s)
		return false;
	start = s;
	while (*s && !is_blank(*s))
		s++;
	n = MIN((size_t)(s - start), (size_t)WORD_MAX - 1);
	memcpy(w, start, n);
	w[n] = '\0';
	*line = s;
	return true;
}

int console_parse(const char *cmdline, struct console_cfg *cfg, char *msg, size_t msgsize)
{
	char w[WORD_MAX];
	int err = 0;
	bool any = false;
	*cfg = (struct console_cfg){0};
	if (msgsize)
		msg[0] = '\0';
	while (cmdline && next_word(&cmdline, w)) {
		struct console_port p;
		const char *why;
		if (strncmp(w, "console=", 8))
			continue;
		any = true;
		why = port_parse(w + 8, &p);
		if (!why) {
			cfg_add(cfg, &p);
		} else if (!err) {
			err = -EINVAL;
			ksnprintf(msg, msgsize, "console: \"%s\" not understood: %s", w + 8, why);
		}
	}
	if (!cfg->n) {
		struct console_port s0 = {CONSOLE_SERIAL, 0, 8, 'n', false, CONSOLE_DEFAULT_BAUD};
		cfg->port[cfg->n++] = s0;
		if (!any)
			cfg->port[cfg->n++] = (struct console_port){.kind = CONSOLE_SCREEN};
		cfg->defaulted = true;
	}
	return err;
}

void console_port_name(const struct console_port *p, char *buf, size_t size)
{
	if (p->kind == CONSOLE_SCREEN)
		ksnprintf(buf, size, "tty0");
	else
		ksnprintf(buf, size, "ttyS%u,%u%c%u%s", p->index, p->baud, p->parity, p->bits,
			  p->flow ? "r" : "");
}
