/* Where the kernel's console output goes, from the command line's console= words in Linux's
 * syntax (Documentation/admin-guide/serial-console.rst):
 *   console=ttyS<n>[,<baud>[<parity>[<bits>[r]]]]   serial port n (0..3: COM1..COM4), e.g.
 *                                                   console=ttyS1,115200n8 for a BMC on COM2;
 *                                                   without options 9600n8, as Linux
 *   console=tty0 (or tty1..tty63)                   the screen (the framebuffer console)
 * Several console= words send output to each. Without any, MCRK writes to ttyS0 at 115200n8
 * and to the screen when the loader gave a framebuffer (Linux would use only the screen; MCRK
 * is mostly watched over a serial line). A word that does not parse is reported and skipped;
 * if none is left, ttyS0 at 115200n8. */
#pragma once
#include "types.h"

#define CONSOLE_MAX 4
#define CONSOLE_SERIAL_PORTS 4
#define CONSOLE_DEFAULT_BAUD 115200
#define CONSOLE_LINUX_BAUD 9600 /* console=ttySn without options */

enum console_kind { CONSOLE_SERIAL = 1, CONSOLE_SCREEN = 2 };

struct console_port {
	uint8_t kind;   /* enum console_kind */
	uint8_t index;  /* serial: 0..3 (ttyS0..ttyS3) */
	uint8_t bits;   /* 5..8 */
	char parity;    /* 'n', 'o' or 'e' */
	bool flow;      /* 'r': RTS/CTS */
	uint32_t baud;  /* divides 115200 exactly */
};

struct console_cfg {
	unsigned n;
	struct console_port port[CONSOLE_MAX];
	bool defaulted; /* no usable console= word: the default was taken */
};

/* Read every console= word of cmdline into cfg. Returns 0, or -EINVAL when a word was bad:
 * then msg holds a one-line reason for the first such word (NUL-terminated when msgsize > 0)
 * and the word is left out. cfg is always usable. Pure (any context). */
int console_parse(const char *cmdline, struct console_cfg *cfg, char *msg, size_t msgsize);
/* The name of a port ("ttyS1", "tty0") and its settings ("115200n8") into buf. */
void console_port_name(const struct console_port *p, char *buf, size_t size);
