/* Host tests of the line discipline (kernel/tty/n_tty.c), driven with bytes as a terminal
 * sends them: canonical lines with echo, erase (^? and ^H), kill (^U), word erase (^W), ^V,
 * ^D at a line start and after text, ISIG characters (signal, flush, echo as ^C), ICRNL and
 * IGNCR, non-canonical reads with VMIN, FIONREAD's count, switching modes with text pending,
 * and a full buffer that still takes a newline. */
#include "unit.h"
#include "../../include/sig.h"
#include "../../include/tty.h"
#include <stdlib.h>
#include <string.h>

struct term {
	struct tty_ldisc ld;
	char echo[8192];
	size_t echo_len;
	int sigs[8];
	int nsigs;
};

static void t_echo(void *ctx, const char *s, size_t n)
{
	struct term *t = ctx;
	memcpy(t->echo + t->echo_len, s, n);
	t->echo_len += n;
	t->echo[t->echo_len] = 0;
}

static void t_signal(void *ctx, int sig)
{
	struct term *t = ctx;
	t->sigs[t->nsigs++] = sig;
}

static const struct tty_ldisc_ops t_ops = {.echo = t_echo, .signal = t_signal};

static struct term *term_new(void)
{
	struct term *t = calloc(1, sizeof(*t));
	tty_ldisc_init(&t->ld, &t_ops, t);
	return t;
}

static void type(struct term *t, const char *s)
{
	tty_ldisc_receive(&t->ld, (const uint8_t *)s, strlen(s));
}

/* One read of up to n bytes as a string (eof: set when it was an end of file). */
static const char *rd(struct term *t, size_t n, bool *eof)
{
	static char out[TTY_BUF_SIZE + 1];
	bool e;
	size_t k = tty_ldisc_read(&t->ld, (uint8_t *)out, n, &e);
	out[k] = 0;
	if (eof)
		*eof = e;
	return out;
}

TEST(tty_canon_line_echo_and_crnl)
{
	struct term *t = term_new();
	type(t, "ls -l");
	CHECK(!tty_ldisc_ready(&t->ld, 1)); /* no line yet */
	CHECK(strcmp(rd(t, 100, NULL), "") == 0);
	type(t, "\r"); /* Enter sends CR; ICRNL makes it a newline */
	CHECK(tty_ldisc_ready(&t->ld, 1));
	CHECK_EQ(tty_ldisc_readable(&t->ld), 6);
	CHECK(strcmp(t->echo, "ls -l\n") == 0);
	CHECK(strcmp(rd(t, 100, NULL), "ls -l\n") == 0);
	type(t, "a\nbc\n");
	CHECK(strcmp(rd(t, 100, NULL), "a\n") == 0); /* one line per read */
	CHECK(strcmp(rd(t, 1, NULL), "b") == 0);      /* a short read takes part of a line */
	CHECK(strcmp(rd(t, 100, NULL), "c\n") == 0);
	free(t);
}

TEST(tty_erase_kill_werase)
{
	struct term *t = term_new();
	type(t, "abc\x7f\x08x\n"); /* ^? and ^H each erase one */
	CHECK(strcmp(rd(t, 100, NULL), "ax\n") == 0);
	CHECK(strstr(t->echo, "abc\b \b\b \bx\n") != NULL);
	type(t, "junk\x15ok\n"); /* ^U kills the line */
	CHECK(strcmp(rd(t, 100, NULL), "ok\n") == 0);
	type(t, "echo foo_bar  \x17" "baz\n"); /* ^W: spaces, then the word */
	CHECK(strcmp(rd(t, 100, NULL), "echo baz\n") == 0);
	type(t, "\x7f\x7f\n"); /* erase on an empty line does nothing */
	CHECK(strcmp(rd(t, 100, NULL), "\n") == 0);
	t->echo_len = 0;
	type(t, "\x01\x7f\n"); /* ^A echoes as two columns and is erased as two */
	CHECK(strcmp(t->echo, "^A\b \b\b \b\n") == 0);
	CHECK(strcmp(rd(t, 100, NULL), "\n") == 0);
	free(t);
}

TEST(tty_eof)
{
	struct term *t = term_new();
	bool eof;
	type(t, "\x04"); /* ^D at a line start: read returns 0, end of file */
	CHECK(strcmp(rd(t, 100, &eof), "") == 0);
	CHECK(eof);
	CHECK(!tty_ldisc_ready(&t->ld, 1));
	type(t, "abc\x04"); /* after text: the text, without the ^D and without a newline */
	CHECK_EQ(tty_ldisc_readable(&t->ld), 3);
	CHECK(strcmp(rd(t, 100, &eof), "abc") == 0);
	CHECK(!eof);
	CHECK(!tty_ldisc_ready(&t->ld, 1));
	type(t, "\x16\x04\n"); /* ^V makes ^D an ordinary byte */
	CHECK(strcmp(rd(t, 100, NULL), "\x04\n") == 0);
	free(t);
}

TEST(tty_isig)
{
	struct term *t = term_new();
	type(t, "sleep 100\x03");
	CHECK_EQ(t->nsigs, 1);
	CHECK_EQ(t->sigs[0], SIGINT);
	CHECK(strstr(t->echo, "^C") != NULL);
	CHECK(!tty_ldisc_ready(&t->ld, 1)); /* flushed */
	type(t, "\n");
	CHECK(strcmp(rd(t, 100, NULL), "\n") == 0);
	type(t, "\x1a\x1c");
	CHECK_EQ(t->nsigs, 3);
	CHECK_EQ(t->sigs[1], SIGTSTP);
	CHECK_EQ(t->sigs[2], SIGQUIT);
	struct termios tio = t->ld.t;
	tio.c_lflag |= NOFLSH;
	tty_ldisc_set_termios(&t->ld, &tio);
	type(t, "keep\n\x03");
	CHECK(strcmp(rd(t, 100, NULL), "keep\n") == 0); /* NOFLSH keeps the input */
	tio.c_lflag &= ~ISIG;
	tty_ldisc_set_termios(&t->ld, &tio);
	type(t, "\x03\n");
	CHECK_EQ(t->nsigs, 4);
	CHECK(strcmp(rd(t, 100, NULL), "\x03\n") == 0);
	free(t);
}

TEST(tty_raw_and_vmin)
{
	struct term *t = term_new();
	struct termios tio = t->ld.t;
	tio.c_lflag &= ~(ICANON | ECHO);
	tio.c_iflag &= ~ICRNL;
	tio.c_cc[VMIN] = 3;
	tty_ldisc_set_termios(&t->ld, &tio);
	type(t, "\x7f\r");
	CHECK_EQ(t->echo_len, 0);
	CHECK(!tty_ldisc_ready(&t->ld, 3));
	CHECK(tty_ldisc_ready(&t->ld, 1));
	type(t, "q");
	CHECK(tty_ldisc_ready(&t->ld, 3));
	CHECK_EQ(tty_ldisc_readable(&t->ld), 3);
	CHECK(strcmp(rd(t, 2, NULL), "\x7f\r") == 0);
	CHECK(strcmp(rd(t, 100, NULL), "q") == 0);
	free(t);
}

TEST(tty_mode_switch_with_pending_text)
{
	struct term *t = term_new();
	type(t, "half");
	struct termios raw = t->ld.t, canon = t->ld.t;
	raw.c_lflag &= ~ICANON;
	tty_ldisc_set_termios(&t->ld, &raw); /* the unfinished line becomes readable */
	CHECK(strcmp(rd(t, 2, NULL), "ha") == 0);
	tty_ldisc_set_termios(&t->ld, &canon); /* what is left is one line */
	CHECK(tty_ldisc_ready(&t->ld, 1));
	CHECK(strcmp(rd(t, 100, NULL), "lf") == 0);
	raw.c_iflag |= IGNCR;
	tty_ldisc_set_termios(&t->ld, &raw);
	type(t, "a\rb");
	CHECK(strcmp(rd(t, 100, NULL), "ab") == 0);
	free(t);
}

TEST(tty_full_buffer_takes_newline)
{
	struct term *t = term_new();
	char big[TTY_BUF_SIZE + 100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	type(t, big);
	CHECK(!tty_ldisc_ready(&t->ld, 1));
	type(t, "\n");
	CHECK(tty_ldisc_ready(&t->ld, 1));
	const char *line = rd(t, TTY_BUF_SIZE, NULL);
	CHECK_EQ(strlen(line), TTY_BUF_SIZE);
	CHECK(line[TTY_BUF_SIZE - 1] == '\n');
	type(t, "again\n"); /* the ring is usable after wrapping */
	CHECK(strcmp(rd(t, 100, NULL), "again\n") == 0);
	free(t);
}
