/* kvsnprintf: the kernel's printf formatter, a subset of C99 printf without floating point.
 *
 * Conversions %d %i %u %x %X %o %p %s %c %%, length modifiers hh h l ll z j t, flags "-0 #+",
 * width and precision (digits or '*'). The output matches the C library for every combination
 * the C standard defines (tests/host/test_vsnprintf.c checks it against glibc); %p prints
 * "0x" and lowercase hex, or "(nil)" for NULL, as glibc does; a NULL %s prints "(null)".
 * An unknown conversion is copied to the output as it stands. Width and precision are capped
 * at MAX_FIELD (libc has no cap; nothing in the kernel needs one that large). No locks, no
 * allocation: usable in any context, including #MC and NMI. */
#include "kstring.h"
#include "printk.h"

#define FL_LEFT 0x01  /* '-': pad on the right */
#define FL_ZERO 0x02  /* '0': pad numbers with zeros */
#define FL_SPACE 0x04 /* ' ': space before a non-negative signed number */
#define FL_ALT 0x08   /* '#': 0x prefix for hex, leading 0 for octal */
#define FL_PLUS 0x10  /* '+': sign before a non-negative signed number */

#define NO_PRECISION (-1)
#define MAX_FIELD 4096 /* widths and precisions are capped here: a wild '*' must not spin */
#define MAX_DIGITS 24  /* a 64-bit value in octal needs 22 */

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

struct spec {
	unsigned flags;
	int width;
	int precision; /* NO_PRECISION when not given */
	enum length len;
};

/* Output cursor: bytes past size are counted but not stored. */
struct out {
	char *buf;
	size_t size;
	size_t pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_n(struct out *o, char c, int n)
{
	for (; n > 0; n--)
		put(o, c);
}

/* n bytes at once: the part that fits is one memcpy (a line of text is mostly literal runs
 * and strings, and byte-by-byte stores cost a lot under an emulator). */
static void put_str(struct out *o, const char *s, size_t n)
{
	if (o->pos + 1 < o->size)
		memcpy(o->buf + o->pos, s, MIN(n, o->size - 1 - o->pos));
	o->pos += n;
}

/* Write a string or character body padded to the field width. */
static void put_padded(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!(sp->flags & FL_LEFT))
		put_n(o, ' ', pad);
	put_str(o, s, n);
	if (sp->flags & FL_LEFT)
		put_n(o, ' ', pad);
}

/* Format an integer of magnitude mag; neg says it was negative (signed conversions only). */
static void put_number(struct out *o, const struct spec *sp, uint64_t mag, bool neg, bool is_signed,
		       unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[MAX_DIGITS];
	int nd = 0, zeros, total, pad;
	const char *prefix = "";
	char sign = 0;

	for (uint64_t v = mag; v; v /= base)
		tmp[nd++] = digits[v % base];
	if (mag == 0 && sp->precision != 0)
		tmp[nd++] = '0'; /* "%.0d" of 0 prints no digits at all */
	zeros = sp->precision > nd ? sp->precision - nd : 0;
	if ((sp->flags & FL_ALT) && base == 8 && zeros == 0 && (mag != 0 || nd == 0))
		zeros = 1; /* '#' with octal: the first digit must be a 0 */
	if ((sp->flags & FL_ALT) && base == 16 && mag != 0)
		prefix = upper ? "0X" : "0x";
	if (neg)
		sign = '-';
	else if (is_signed && (sp->flags & FL_PLUS))
		sign = '+';
	else if (is_signed && (sp->flags & FL_SPACE))
		sign = ' ';

	total = (sign ? 1 : 0) + (int)strlen(prefix) + zeros + nd;
	pad = sp->width > total ? sp->width - total : 0;
	if (!(sp->flags & FL_LEFT) && !((sp->flags & FL_ZERO) && sp->precision == NO_PRECISION)) {
		put_n(o, ' ', pad);
		pad = 0;
	}
	if (sign)
		put(o, sign);
	put_str(o, prefix, strlen(prefix));
	if (!(sp->flags & FL_LEFT)) {
		put_n(o, '0', pad); /* zero padding goes after the sign and prefix */
		pad = 0;
	}
	put_n(o, '0', zeros);
	while (nd)
		put(o, tmp[--nd]);
	put_n(o, ' ', pad);
}

/* Fetch a signed argument of the given length and split it into sign and magnitude. */
static uint64_t get_signed(va_list *ap, enum length len, bool *neg)
{
	int64_t v;

	switch (len) {
	case LEN_CHAR:
		v = (signed char)va_arg(*ap, int);
		break;
	case LEN_SHORT:
		v = (short)va_arg(*ap, int);
		break;
	case LEN_LONG:
		v = va_arg(*ap, long);
		break;
	case LEN_LLONG:
		v = va_arg(*ap, long long);
		break;
	case LEN_SIZE:
		v = (int64_t)va_arg(*ap, size_t);
		break; /* %zd: the signed size_t */
	default:
		v = va_arg(*ap, int);
		break;
	}
	*neg = v < 0;
	return *neg ? 0 - (uint64_t)v : (uint64_t)v;
}

static uint64_t get_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

/* Parse flags, width, precision and length after '%'; returns the conversion character's
 * position. '*' values come from the argument list. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	static const char flag_chars[] = "-0 #+";
	static const unsigned flag_bits[] = {FL_LEFT, FL_ZERO, FL_SPACE, FL_ALT, FL_PLUS};
	const char *fc;

	*sp = (struct spec){0, 0, NO_PRECISION, LEN_INT};
	while (*f && (fc = strchr(flag_chars, *f)) != NULL) {
		sp->flags |= flag_bits[fc - flag_chars];
		f++;
	}
	if (*f == '*') {
		int w = va_arg(*ap, int);
		if (w < 0) { /* a negative '*' width means '-' and its magnitude */
			sp->flags |= FL_LEFT;
			w = w == INT32_MIN ? MAX_FIELD : -w;
		}
		sp->width = MIN(w, MAX_FIELD);
		f++;
	} else {
		for (; *f >= '0' && *f <= '9'; f++)
			sp->width = MIN(sp->width * 10 + (*f - '0'), MAX_FIELD);
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			int p = va_arg(*ap, int);
			sp->precision = p < 0 ? NO_PRECISION : MIN(p, MAX_FIELD); /* <0: omitted */
			f++;
		} else {
			for (; *f >= '0' && *f <= '9'; f++)
				sp->precision = MIN(sp->precision * 10 + (*f - '0'), MAX_FIELD);
		}
	}
	if (*f == 'h') {
		f++;
		sp->len = *f == 'h' ? (f++, LEN_CHAR) : LEN_SHORT;
	} else if (*f == 'l') {
		f++;
		sp->len = *f == 'l' ? (f++, LEN_LLONG) : LEN_LONG;
	} else if (*f == 'z' || *f == 't') {
		f++;
		sp->len = LEN_SIZE;
	} else if (*f == 'j') {
		f++;
		sp->len = LEN_LLONG;
	}
	return f;
}

/* Format one string conversion (%s, %c, %p); s may be NULL for %s. */
static void put_string_conv(struct out *o, const struct spec *sp, const char *s)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->precision == NO_PRECISION ? strlen(s) : strnlen(s, (size_t)sp->precision);
	put_padded(o, sp, s, n);
}

static void put_pointer(struct out *o, const struct spec *sp, const void *p)
{
	struct spec hex = *sp;

	if (!p) {
		put_padded(o, sp, "(nil)", 5);
		return;
	}
	hex.flags |= FL_ALT;
	put_number(o, &hex, (uint64_t)(uintptr_t)p, false, false, 16, false);
}

/* Handle one conversion whose character is c; returns false for an unknown one. */
static bool convert(struct out *o, const struct spec *sp, char c, va_list *ap)
{
	bool neg;
	uint64_t v;
	char ch;

	switch (c) {
	case 'd':
	case 'i':
		v = get_signed(ap, sp->len, &neg);
		put_number(o, sp, v, neg, true, 10, false);
		return true;
	case 'u':
		put_number(o, sp, get_unsigned(ap, sp->len), false, false, 10, false);
		return true;
	case 'x':
		put_number(o, sp, get_unsigned(ap, sp->len), false, false, 16, false);
		return true;
	case 'X':
		put_number(o, sp, get_unsigned(ap, sp->len), false, false, 16, true);
		return true;
	case 'o':
		put_number(o, sp, get_unsigned(ap, sp->len), false, false, 8, false);
		return true;
	case 'p':
		put_pointer(o, sp, va_arg(*ap, void *));
		return true;
	case 's':
		put_string_conv(o, sp, va_arg(*ap, const char *));
		return true;
	case 'c':
		ch = (char)va_arg(*ap, int);
		put_padded(o, sp, &ch, 1);
		return true;
	default:
		return false;
	}
}

/* Format into buf (at most size bytes, always NUL-terminated when size > 0). Returns the length
 * the full output has (excluding the NUL), even when it did not fit. Any context. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = {buf, size, 0};
	struct spec sp;
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		const char *start = fmt, *conv;

		if (*fmt != '%') { /* a run of literal text up to the next conversion */
			while (*fmt && *fmt != '%')
				fmt++;
			put_str(&o, start, (size_t)(fmt - start));
			continue;
		}
		if (fmt[1] == '%') {
			put(&o, '%');
			fmt += 2;
			continue;
		}
		conv = parse_spec(fmt + 1, &sp, &ap);
		if (*conv && convert(&o, &sp, *conv, &ap)) {
			fmt = conv + 1;
			continue;
		}
		/* Unknown or truncated conversion: copy it literally and go on after it. */
		fmt = *conv ? conv + 1 : conv;
		put_str(&o, start, (size_t)(fmt - start));
	}
	va_end(ap);
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos > INT32_MAX ? INT32_MAX : (int)o.pos;
}

/* ksnprintf: kvsnprintf with a variable argument list. Any context. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
