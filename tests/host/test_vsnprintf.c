/* Tests of kvsnprintf/ksnprintf (kernel/lib/vsnprintf.c): a table of formats compared with the
 * C library's vsnprintf, the cases where MCRK defines its own output (NULL strings, unknown
 * conversions), truncation, and a randomized differential test over the supported grammar. */
#include "printk.h"
#include "unit.h"
#include <stdarg.h>
#include <string.h>

#define CMP_BUF 512

static int cmp_failures;

/* Format with both implementations into a buffer of size bytes and compare everything. */
static void cmp_sized(size_t size, const char *fmt, va_list ap)
{
	char a[CMP_BUF], b[CMP_BUF];
	va_list ap2;
	int na, nb;

	memset(a, 0x5a, sizeof a);
	memset(b, 0x5a, sizeof b);
	va_copy(ap2, ap);
	na = kvsnprintf(a, size, fmt, ap);
	nb = vsnprintf(b, size, fmt, ap2);
	va_end(ap2);
	if (na != nb || memcmp(a, b, sizeof a)) {
		char m[CMP_BUF * 2 + 100];
		snprintf(m, sizeof m, "fmt \"%s\" size %zu: ours %d \"%.*s\", libc %d \"%.*s\"",
			 fmt, size, na, (int)(size ? size : 1), a, nb, (int)(size ? size : 1), b);
		unit_fail(__FILE__, __LINE__, m);
		cmp_failures++;
	}
}

static void __attribute__((format(printf, 1, 2))) cmp(const char *fmt, ...)
{
	static const size_t sizes[] = {CMP_BUF, 0, 1, 2, 5, 17};
	va_list ap;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		va_start(ap, fmt);
		cmp_sized(sizes[i], fmt, ap);
		va_end(ap);
	}
}

/* Some formats below are deliberately odd ('0' with a precision, unknown conversions). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
TEST(vsnprintf_table_ints)
{
	cmp("plain text");
	cmp("%d %d %d", 0, -1, 2147483647);
	cmp("%d", (int)-2147483647 - 1);
	cmp("%i|%5d|%-5d|%05d|%+d|% d|%+5d|%-+5d|", 42, 42, 42, -42, 42, 42, -7, 7);
	cmp("%.0d|%.0u|%.0x|%#.0x|%#.0o|%.3d|%.3d|%08.3d|%-8.3d|", 0, 0u, 0u, 0u, 0u, 7, -7, 5, 5);
	cmp("%x %X %#x %#X %#o %o %#o", 255u, 255u, 255u, 255u, 8u, 8u, 0u);
	cmp("%#08x|%#-8x|%#8o|%#.5o|%#.5x", 0x1fu, 0x1fu, 9u, 9u, 9u);
	cmp("%u %lu %llu %zu", 4294967295u, 18446744073709551615ul, 18446744073709551615ull,
	    (size_t)-1);
	cmp("%ld %lld %zd %ld", (long)-9223372036854775807l - 1, -1ll, (ssize_t)-5, 123456789012l);
	cmp("%hd %hu %hhd %hhu %hx %hhx", 70000, 70000, 200, 300, -1, -1);
	cmp("%jd %td %ju", (intmax_t)-3, (ptrdiff_t)-4, (uintmax_t)5);
	cmp("%lx %llX %#lo %#llx", 0xdeadbeefcafeul, 0xabcdefull, 01234567ul, 0ull);
	cmp("%*d|%-*d|%*d|%.*d|%.*d|%*.*x", 6, 1, 6, 2, -6, 3, 4, 5, -1, 6, 8, 3, 0xau);
	cmp("%020lld|%-20lld|%+020lld", -123456789012345ll, 1ll, 1ll);
	cmp("%% %5s %-5s|%.2s|%5.1s|%s", "ab", "ab", "abc", "xyz", "");
	cmp("%c%c%5c%-3c|", 'a', 'Z', 'q', 'r');
	cmp("%p %p %20p %-20p|", (void *)0x1234, (void *)~0ul, (void *)0xfee00000, (void *)0x10);
	cmp("%p %10p %-10p|", (void *)0, (void *)0, (void *)0);
	cmp("%s=%d, %s=%#x; %c%%", "alpha", -1, "beta", 0xbeefu, '!');
	cmp("%.100d", 1);
	cmp("%300d|", 1);
}

TEST(vsnprintf_mcrk_defined_cases)
{
	char b[64];

	CHECK_EQ(ksnprintf(b, sizeof b, "%s", (char *)NULL), 6);
	CHECK(!strcmp(b, "(null)"));
	CHECK_EQ(ksnprintf(b, sizeof b, "[%8s]", (char *)NULL), 10);
	CHECK(!strcmp(b, "[  (null)]"));
	CHECK_EQ(ksnprintf(b, sizeof b, "%.3s", (char *)NULL), 3);
	CHECK(!strcmp(b, "(nu"));
	/* Unknown conversions and a lone '%' at the end are copied literally. */
	CHECK_EQ(ksnprintf(b, sizeof b, "a%yb%"), 5);
	CHECK(!strcmp(b, "a%yb%"));
	CHECK_EQ(ksnprintf(b, sizeof b, "%-5w|"), 5);
	CHECK(!strcmp(b, "%-5w|"));
	/* size 0: nothing written, length returned. */
	b[0] = 'x';
	CHECK_EQ(ksnprintf(b, 0, "%d", 12345), 5);
	CHECK_EQ(b[0], 'x');
	/* Truncation keeps the NUL and reports the full length. */
	CHECK_EQ(ksnprintf(b, 4, "%s", "abcdef"), 6);
	CHECK(!strcmp(b, "abc"));
	/* A string precision never reads past it (no NUL within the array). */
	char raw[3] = {'x', 'y', 'z'};
	CHECK_EQ(ksnprintf(b, sizeof b, "%.3s|", raw), 4);
	CHECK(!strcmp(b, "xyz|"));
	/* Widths and precisions are capped (a wild '*' must not spin for seconds). */
	CHECK_EQ(ksnprintf(b, 8, "%*d", (int)0x80000000, 1), 4096);
	CHECK(!strcmp(b, "1      "));
	CHECK_EQ(ksnprintf(b, 8, "%99999d", 1), 4096);
	CHECK_EQ(ksnprintf(b, 8, "%.99999d", 1), 4096);
	CHECK(!strcmp(b, "0000000"));
}

#pragma GCC diagnostic pop

/* ---- randomized differential test ---- */

#define RAND_ITERS 200000
#define MAX_CONV 4
#define MAX_SLOTS (MAX_CONV * 3)

static uint64_t rng_state;

static uint64_t rnd(void) { return unit_xorshift(&rng_state); }

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static const char *const rand_strings[] = {"", "a", "hello", "MCRK machine check",
					   "0123456789abcdef"};

/* An integer value that is often interesting: 0, small, extremes, or fully random. */
static uint64_t rnd_int(void)
{
	static const uint64_t special[] = {0,
					   1,
					   0xff,
					   0x80,
					   0x7fffffff,
					   0x80000000,
					   0xffffffff,
					   0x7fffffffffffffff,
					   0x8000000000000000,
					   ~0ull};
	switch (rnd_below(4)) {
	case 0:
		return special[rnd_below(ARRAY_SIZE(special))];
	case 1:
		return rnd() % 1000;
	case 2:
		return (uint64_t) - (int64_t)(rnd() % 1000);
	default:
		return rnd();
	}
}

static void add_flags(char **f, const char *allowed)
{
	size_t n = strlen(allowed);
	for (unsigned i = rnd_below(4); i; i--)
		*(*f)++ = allowed[rnd_below((unsigned)n)];
}

/* Append a width or precision: none, digits, or '*' (taking an int slot). */
static void add_number(char **f, uint64_t *slots, int *ns, bool precision)
{
	switch (rnd_below(4)) {
	case 0:
		return;
	case 1:
		*f += sprintf(*f, precision ? ".%u" : "%u", rnd_below(25));
		return;
	case 2:
		if (precision)
			*(*f)++ = '.';
		return; /* a bare '.' means precision 0 */
	default:
		*f += sprintf(*f, precision ? ".*" : "*");
		slots[(*ns)++] = (uint64_t)(int64_t)((int)rnd_below(41) - 20);
	}
}

/* Append one random conversion that the C standard defines, with its argument slots. */
static void add_conversion(char **f, uint64_t *slots, int *ns)
{
	static const char *const lengths[] = {"", "", "hh", "h", "l", "ll", "z", "j", "t"};
	static const char int_convs[] = "diuxXo";
	unsigned kind = rnd_below(10);

	*(*f)++ = '%';
	if (kind < 7) { /* integers */
		char c = int_convs[rnd_below(sizeof int_convs - 1)];
		add_flags(f, c == 'd' || c == 'i' ? "-0 +" : c == 'u' ? "-0" : "-0#");
		add_number(f, slots, ns, false);
		add_number(f, slots, ns, true);
		*f += sprintf(*f, "%s%c", lengths[rnd_below(ARRAY_SIZE(lengths))], c);
		slots[(*ns)++] = rnd_int();
	} else if (kind == 7) {
		add_flags(f, "-");
		add_number(f, slots, ns, false);
		add_number(f, slots, ns, true);
		*(*f)++ = 's';
		slots[(*ns)++] =
		    (uint64_t)(uintptr_t)rand_strings[rnd_below(ARRAY_SIZE(rand_strings))];
	} else if (kind == 8) {
		add_flags(f, "-");
		add_number(f, slots, ns, false);
		*(*f)++ = rnd_below(2) ? 'c' : 'p';
		slots[(*ns)++] = rnd_below(4) ? rnd_int() : 0;
	} else {
		*(*f)++ = '%';
	}
}

static void build_format(char *f, uint64_t *slots, int *ns)
{
	static const char lit[] = "ab -+#0.*\t\n[]x";
	for (unsigned i = rnd_below(MAX_CONV) + 1; i; i--) {
		for (unsigned j = rnd_below(4); j; j--)
			*f++ = lit[rnd_below(sizeof lit - 1)];
		add_conversion(&f, slots, ns);
	}
	*f = '\0';
}

/* Every argument is passed as a 64-bit slot; on x86-64 each vararg takes one 8-byte slot and
 * va_arg of a narrower type reads its low bits, the same for both implementations. */
static void rand_one(size_t size)
{
	char fmt[256];
	uint64_t s[MAX_SLOTS] = {0};
	int ns = 0;

	build_format(fmt, s, &ns);
	char a[CMP_BUF], b[CMP_BUF];
	memset(a, 0x5a, sizeof a);
	memset(b, 0x5a, sizeof b);
	int na = ksnprintf(a, size, fmt, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9],
			   s[10], s[11]);
	int nb = snprintf(b, size, fmt, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9],
			  s[10], s[11]);
	if (na != nb || memcmp(a, b, sizeof a)) {
		char m[CMP_BUF * 2 + 300];
		snprintf(m, sizeof m, "random fmt \"%s\" size %zu: ours %d \"%s\", libc %d \"%s\"",
			 fmt, size, na, size ? a : "", nb, size ? b : "");
		unit_fail(__FILE__, __LINE__, m);
		cmp_failures++;
	}
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
TEST(vsnprintf_random_vs_libc)
{
	static const size_t sizes[] = {CMP_BUF, CMP_BUF, CMP_BUF, 0, 1, 3, 16};

	rng_state = 0x9e3779b97f4a7c15ull;
	cmp_failures = 0;
	for (int i = 0; i < RAND_ITERS && cmp_failures < 5; i++)
		rand_one(sizes[rnd_below(ARRAY_SIZE(sizes))]);
	CHECK_EQ(cmp_failures, 0);
}
#pragma GCC diagnostic pop
