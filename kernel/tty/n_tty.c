/* The line discipline, as Linux's drivers/tty/n_tty.c: input processing (ISTRIP, IGNCR, ICRNL,
 * INLCR), the signal characters (ISIG: VINTR, VQUIT, VSUSP to the foreground group, the input
 * flushed unless NOFLSH), canonical editing (ICANON: VERASE, VKILL, VWERASE, VLNEXT, lines
 * ended by a newline, VEOL, VEOL2 or VEOF), echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL)
 * and the non-canonical byte stream. Pure: no locks, no sleeping; the device (tty.c) holds its
 * lock around every call and sleeps for VMIN/VTIME. One deliberate difference: in canonical mode
 * ^H erases as VERASE does, because many terminals send it for Backspace (docs/tty.md). */
#include "kstring.h"
#include "sig.h"
#include "tty.h"

#define CTRL(c) ((c) & 0x1f)
#define DEL 0x7f
#define BS 0x08
#define EOF_MARK 0 /* VEOF is stored as a NUL with its delimiter bit, as Linux stores it */

enum erase_kind { ERASE_CHAR, ERASE_WORD, ERASE_LINE };

void tty_default_termios(struct termios *t)
{
	static const uint8_t cc[TTY_NCCS] = {
	    [VINTR] = CTRL('C'), [VQUIT] = CTRL('\\'), [VERASE] = DEL,	  [VKILL] = CTRL('U'),
	    [VEOF] = CTRL('D'),	 [VTIME] = 0,	       [VMIN] = 1,	  [VSTART] = CTRL('Q'),
	    [VSTOP] = CTRL('S'), [VSUSP] = CTRL('Z'),  [VREPRINT] = CTRL('R'),
	    [VDISCARD] = CTRL('O'), [VWERASE] = CTRL('W'), [VLNEXT] = CTRL('V')};
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B115200 | CS8 | CREAD | HUPCL | CLOCAL;
	t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(t->c_cc, cc, sizeof(cc));
}

void tty_ldisc_init(struct tty_ldisc *ld, const struct tty_ldisc_ops *ops, void *ctx)
{
	memset(ld, 0, sizeof(*ld));
	tty_default_termios(&ld->t);
	ld->ops = ops;
	ld->ctx = ctx;
}

static bool lflag(const struct tty_ldisc *ld, uint32_t f)
{
	return ld->t.c_lflag & f;
}

/* Whether c is control character i of c_cc (a NUL entry is disabled, _POSIX_VDISABLE). */
static bool is_cc(const struct tty_ldisc *ld, uint8_t c, unsigned i)
{
	return ld->t.c_cc[i] && c == ld->t.c_cc[i];
}

static uint32_t slot(uint32_t i)
{
	return i & (TTY_BUF_SIZE - 1);
}

static bool is_delim(const struct tty_ldisc *ld, uint32_t i)
{
	return ld->delim[slot(i) / 8] & (1u << (slot(i) % 8));
}

static void set_delim(struct tty_ldisc *ld, uint32_t i, bool on)
{
	uint8_t bit = (uint8_t)(1u << (slot(i) % 8));
	ld->delim[slot(i) / 8] = on ? ld->delim[slot(i) / 8] | bit : ld->delim[slot(i) / 8] & ~bit;
}

static void echo(struct tty_ldisc *ld, const char *s, size_t n)
{
	if (ld->ops && ld->ops->echo)
		ld->ops->echo(ld->ctx, s, n);
}

/* Whether c echoes as ^X (ECHOCTL: control characters but tab and newline, and DEL). */
static bool echoes_caret(const struct tty_ldisc *ld, uint8_t c)
{
	return lflag(ld, ECHOCTL) && (c < 0x20 || c == DEL) && c != '\t' && c != '\n';
}

/* Echo one received character as the terminal shows it. */
static void echo_char(struct tty_ldisc *ld, uint8_t c)
{
	char s[2] = {(char)c, 0};
	if (echoes_caret(ld, c)) {
		s[0] = '^';
		s[1] = (char)(c ^ 0x40);
		echo(ld, s, 2);
	} else {
		echo(ld, s, 1);
	}
}

/* Append c to the edited line (delim: it ends the line). False when there is no room: an
 * ordinary byte needs two free places, so a line can always be ended. */
static bool store(struct tty_ldisc *ld, uint8_t c, bool delim)
{
	uint32_t used = ld->head - ld->read;
	if (used >= TTY_BUF_SIZE - (delim ? 0 : 1))
		return false;
	ld->buf[slot(ld->head)] = c;
	set_delim(ld, ld->head, delim);
	ld->head++;
	return true;
}

/* Erase the last character of the edited line, with ECHOE's "\b \b" (twice for one echoed
 * as ^X); without ECHOE the erase character itself is echoed by the caller. */
static void erase_one(struct tty_ldisc *ld)
{
	uint8_t c = ld->buf[slot(--ld->head)];
	if (lflag(ld, ECHO) && lflag(ld, ECHOE)) {
		echo(ld, "\b \b", 3);
		if (echoes_caret(ld, c))
			echo(ld, "\b \b", 3);
	}
}

static bool word_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_';
}

/* VERASE, VWERASE and VKILL on the edited line (n_tty's eraser). */
static void eraser(struct tty_ldisc *ld, uint8_t c, enum erase_kind kind)
{
	if (ld->head == ld->commit)
		return;
	if (kind == ERASE_LINE && (!lflag(ld, ECHO) || !lflag(ld, ECHOKE) || !lflag(ld, ECHOE))) {
		ld->head = ld->commit;
		if (lflag(ld, ECHO)) {
			echo_char(ld, c);
			if (lflag(ld, ECHOK))
				echo(ld, "\n", 1);
		}
		return;
	}
	if (kind != ERASE_LINE && lflag(ld, ECHO) && !lflag(ld, ECHOE))
		echo_char(ld, c);
	bool seen_word = false;
	while (ld->head != ld->commit) {
		uint8_t prev = ld->buf[slot(ld->head - 1)];
		if (kind == ERASE_WORD) {
			if (word_char(prev))
				seen_word = true;
			else if (seen_word)
				break;
		}
		erase_one(ld);
		if (kind == ERASE_CHAR)
			break;
	}
}

/* A signal character: flush unless NOFLSH, signal the foreground group, echo it. */
static void isig(struct tty_ldisc *ld, uint8_t c, int sig)
{
	if (!lflag(ld, NOFLSH))
		tty_ldisc_flush(ld);
	if (ld->ops && ld->ops->signal)
		ld->ops->signal(ld->ctx, sig);
	if (lflag(ld, ECHO))
		echo_char(ld, c);
}

/* Canonical handling of c. Returns false when it was an editing character (consumed). */
static bool canon_special(struct tty_ldisc *ld, uint8_t c)
{
	if (is_cc(ld, c, VERASE) || c == BS)
		eraser(ld, c, ERASE_CHAR);
	else if (is_cc(ld, c, VKILL))
		eraser(ld, c, ERASE_LINE);
	else if (lflag(ld, IEXTEN) && is_cc(ld, c, VWERASE))
		eraser(ld, c, ERASE_WORD);
	else if (is_cc(ld, c, VEOF)) {
		if (store(ld, EOF_MARK, true))
			ld->commit = ld->head;
	} else if (c == '\n' || is_cc(ld, c, VEOL) || (lflag(ld, IEXTEN) && is_cc(ld, c, VEOL2))) {
		if (lflag(ld, ECHO) || (c == '\n' && lflag(ld, ECHONL)))
			echo_char(ld, c);
		if (store(ld, c, true))
			ld->commit = ld->head;
	} else {
		return true;
	}
	return false;
}

/* One received byte after input processing. */
static void receive_char(struct tty_ldisc *ld, uint8_t c)
{
	bool canon = lflag(ld, ICANON);
	if (ld->lnext) {
		ld->lnext = false;
		if (lflag(ld, ECHO) && echoes_caret(ld, c))
			echo(ld, "\b", 1); /* over the "^" the VLNEXT left */
	} else {
		if (lflag(ld, ISIG)) {
			int sig = is_cc(ld, c, VINTR)	? SIGINT
				  : is_cc(ld, c, VQUIT) ? SIGQUIT
				  : is_cc(ld, c, VSUSP) ? SIGTSTP
							: 0;
			if (sig) {
				isig(ld, c, sig);
				return;
			}
		}
		if (canon && lflag(ld, IEXTEN) && is_cc(ld, c, VLNEXT)) {
			ld->lnext = true;
			if (lflag(ld, ECHO))
				echo(ld, "^\b", 2);
			return;
		}
		if (canon && !canon_special(ld, c))
			return;
	}
	if (lflag(ld, ECHO))
		echo_char(ld, c);
	if (store(ld, c, false) && !canon)
		ld->commit = ld->head;
}

void tty_ldisc_receive(struct tty_ldisc *ld, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		uint32_t ifl = ld->t.c_iflag;
		if (ifl & ISTRIP)
			c &= 0x7f;
		if (!ld->lnext && c == '\r') {
			if (ifl & IGNCR)
				continue;
			if (ifl & ICRNL)
				c = '\n';
		} else if (!ld->lnext && c == '\n' && (ifl & INLCR)) {
			c = '\r';
		}
		receive_char(ld, c);
	}
}

size_t tty_ldisc_readable(const struct tty_ldisc *ld)
{
	size_t n = ld->commit - ld->read;
	if (!lflag(ld, ICANON))
		return n;
	for (uint32_t i = ld->read; i != ld->commit; i++)
		if (is_delim(ld, i) && ld->buf[slot(i)] == EOF_MARK)
			n--;
	return n;
}

bool tty_ldisc_ready(const struct tty_ldisc *ld, size_t min)
{
	if (lflag(ld, ICANON))
		return ld->commit != ld->read;
	return ld->commit - ld->read >= (min ? min : 1);
}

/* Copy count bytes from the ring at ld->read into out and consume them. */
static void take(struct tty_ldisc *ld, uint8_t *out, size_t count)
{
	for (size_t i = 0; i < count; i++)
		out[i] = ld->buf[slot(ld->read + (uint32_t)i)];
	ld->read += (uint32_t)count;
}

size_t tty_ldisc_read(struct tty_ldisc *ld, uint8_t *out, size_t n, bool *eof)
{
	*eof = false;
	if (!lflag(ld, ICANON)) {
		size_t k = MIN(n, (size_t)(ld->commit - ld->read));
		take(ld, out, k);
		return k;
	}
	uint32_t end = ld->read;
	while (end != ld->commit && !is_delim(ld, end))
		end++;
	if (end == ld->commit)
		return 0; /* no complete line */
	size_t line = end - ld->read + 1; /* with its delimiter */
	bool eof_mark = ld->buf[slot(end)] == EOF_MARK;
	if (eof_mark)
		line--;
	size_t k = MIN(n, line);
	take(ld, out, k);
	if (eof_mark && k == line) {
		ld->read++; /* the VEOF itself is never returned */
		*eof = k == 0;
	}
	return k;
}

void tty_ldisc_flush(struct tty_ldisc *ld)
{
	ld->read = ld->commit = ld->head = 0;
	ld->lnext = false;
	memset(ld->delim, 0, sizeof(ld->delim));
}

void tty_ldisc_set_termios(struct tty_ldisc *ld, const struct termios *t)
{
	bool was_canon = lflag(ld, ICANON);
	ld->t = *t;
	if (was_canon == lflag(ld, ICANON))
		return;
	memset(ld->delim, 0, sizeof(ld->delim));
	ld->commit = ld->head;
	ld->lnext = false;
	if (lflag(ld, ICANON) && ld->head != ld->read)
		set_delim(ld, ld->head - 1, true); /* what was typed is one line */
}
