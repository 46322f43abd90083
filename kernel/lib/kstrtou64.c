/* String helpers the C library lacks (or that glibc names differently): a bounded string copy
 * and a strict unsigned-integer parser for command-line values and control-file writes.
 * Built in both the kernel and the host build. */
#include "kerrno.h"
#include "kstring.h"

#define KSTRTO_MAX_BASE 36

/* Copy at most size-1 bytes of src and NUL-terminate (when size > 0); returns strlen(src).
 * Any context. */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return KSTRTO_MAX_BASE; /* never a valid digit */
}

/* Work out the base from the prefix (base 0), skip a "0x" for base 16; returns the base. */
static unsigned detect_base(const char **sp, unsigned base)
{
	const char *s = *sp;
	bool hex_prefix = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16;

	if (base == 0) {
		if (hex_prefix)
			base = 16;
		else if (s[0] == '0' && s[1] != '\0' && s[1] != '\n')
			base = 8;
		else
			base = 10;
	}
	if (base == 16 && hex_prefix)
		*sp = s + 2;
	return base;
}

/* Parse s as an unsigned number in base (0 = by prefix, or 2..36). One trailing newline is
 * accepted (for writes such as "echo 1 > file"). Returns 0 and sets *out, -EINVAL for no digits,
 * junk or a bad base, -ERANGE on overflow (then *out is untouched). Any context. */
int kstrtou64(const char *s, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!s || base == 1 || base > KSTRTO_MAX_BASE)
		return -EINVAL;
	base = detect_base(&s, base);
	for (p = s; *p; p++) {
		unsigned d = (unsigned)digit_value(*p);

		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (p == s)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*out = v;
	return 0;
}
