/* The terminal: Linux's termios ABI (struct termios as TCGETS passes it, the c_cc indices and
 * flag bits of include/uapi/asm-generic/termbits.h) and the line discipline, a pure state
 * machine that turns received bytes into what read(2) returns, with echo and the job-control
 * characters, as Linux's drivers/tty/n_tty.c (docs/tty.md). The device around it (the console
 * as /dev/console, /dev/ttyS0 and /dev/tty; ioctls; the controlling terminal) is
 * kernel/tty/tty.c. */
#pragma once
#include "types.h"

#define TTY_NCCS 19
/* c_cc indices */
#define VINTR 0
#define VQUIT 1
#define VERASE 2
#define VKILL 3
#define VEOF 4
#define VTIME 5
#define VMIN 6
#define VSWTC 7
#define VSTART 8
#define VSTOP 9
#define VSUSP 10
#define VEOL 11
#define VREPRINT 12
#define VDISCARD 13
#define VWERASE 14
#define VLNEXT 15
#define VEOL2 16
/* c_iflag */
#define IGNBRK 0000001
#define BRKINT 0000002
#define ISTRIP 0000040
#define INLCR 0000100
#define IGNCR 0000200
#define ICRNL 0000400
#define IUCLC 0001000
#define IXON 0002000
#define IMAXBEL 0020000
#define IUTF8 0040000
/* c_oflag */
#define OPOST 0000001
#define ONLCR 0000004
/* c_cflag */
#define B38400 0000017
#define B115200 0010002
#define CS8 0000060
#define CREAD 0000200
#define HUPCL 0002000
#define CLOCAL 0004000
/* c_lflag */
#define ISIG 0000001
#define ICANON 0000002
#define ECHO 0000010
#define ECHOE 0000020
#define ECHOK 0000040
#define ECHONL 0000100
#define NOFLSH 0000200
#define TOSTOP 0000400
#define ECHOCTL 0001000
#define ECHOKE 0004000
#define IEXTEN 0100000

/* The kernel's struct termios for TCGETS/TCSETS* on x86-64 (36 bytes; glibc's and musl's
 * user-space struct is larger and converted by the C library). */
struct termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[TTY_NCCS];
};

struct winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

#define TTY_BUF_SIZE 4096 /* N_TTY_BUF_SIZE: what the line discipline holds unread */
#define TTY_ECHO_MAX 64	  /* echo bytes one received byte can produce at most */

/* What the line discipline asks of the device around it. */
struct tty_ldisc_ops {
	/* Write echo text to the terminal (with output processing). */
	void (*echo)(void *ctx, const char *s, size_t n);
	/* Send sig to the terminal's foreground process group (ISIG characters). */
	void (*signal)(void *ctx, int sig);
};

/* One terminal's line discipline. buf is a ring of TTY_BUF_SIZE bytes: [read, commit) can be
 * read, [commit, head) is the line being edited in canonical mode (always empty otherwise).
 * delim marks the bytes that end a canonical line: a newline, VEOL/VEOL2, or VEOF, which is
 * not returned. */
struct tty_ldisc {
	struct termios t;
	uint8_t buf[TTY_BUF_SIZE];
	uint8_t delim[TTY_BUF_SIZE / 8];
	uint32_t read, commit, head; /* free-running indices */
	bool lnext;		     /* the previous byte was VLNEXT: take the next one literally */
	const struct tty_ldisc_ops *ops;
	void *ctx;
};

/* Linux's default termios for a serial console: ICRNL|IXON, OPOST|ONLCR, B115200|CS8|CREAD|
 * HUPCL|CLOCAL, ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and tty_std_termios'
 * control characters. */
void tty_default_termios(struct termios *t);
/* Set ld up with the default termios, empty, reporting through ops(ctx). */
void tty_ldisc_init(struct tty_ldisc *ld, const struct tty_ldisc_ops *ops, void *ctx);
/* Feed n received bytes through input processing, ISIG, canonical editing and echo. Bytes
 * that do not fit are dropped (as Linux when its buffer is full), except that in canonical mode
 * a newline still ends the line. Caller holds the terminal's lock. */
void tty_ldisc_receive(struct tty_ldisc *ld, const uint8_t *p, size_t n);
/* Bytes a read could take now (FIONREAD; canonical: the complete lines, without VEOF). */
size_t tty_ldisc_readable(const struct tty_ldisc *ld);
/* Whether a read would return now: a complete line or an end of file in canonical mode, at
 * least min bytes otherwise. */
bool tty_ldisc_ready(const struct tty_ldisc *ld, size_t min);
/* Take up to n bytes for read(2) into out: canonical, at most one line (its VEOF dropped; a
 * lone VEOF gives 0 bytes and *eof); otherwise what there is. Returns the bytes taken. */
size_t tty_ldisc_read(struct tty_ldisc *ld, uint8_t *out, size_t n, bool *eof);
/* Discard everything unread (TCSETSF, TCFLSH, the ISIG characters without NOFLSH). */
void tty_ldisc_flush(struct tty_ldisc *ld);
/* Install new settings; leaving canonical mode commits the edited line, entering it keeps
 * what was typed as readable (n_tty_set_termios). */
void tty_ldisc_set_termios(struct tty_ldisc *ld, const struct termios *t);
