/* Tests of kernel/lib/string.c (built here under k_* names, since the host build links libc's
 * own) against libc over many lengths and alignments, and of strlcpy and kstrtou64. */
#include <string.h>
#define memcpy k_memcpy
#define memmove k_memmove
#define memset k_memset
#define memcmp k_memcmp
#define strlen k_strlen
#define strnlen k_strnlen
#define strcmp k_strcmp
#define strncmp k_strncmp
#define strchr k_strchr
#define strrchr k_strrchr
#define strstr k_strstr
#include "../../kernel/lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef strstr
#include "kerrno.h"
#include "unit.h"

#define AREA 96

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + 1);
}

TEST(string_memcpy_memset_all_alignments)
{
	unsigned char src[AREA], a[AREA], b[AREA];

	fill(src, AREA, 3);
	for (size_t so = 0; so < 9; so++)
		for (size_t d = 0; d < 9; d++)
			for (size_t n = 0; n + 9 < AREA; n += 1 + n / 8) {
				memset(a, 0xee, AREA);
				memset(b, 0xee, AREA);
				CHECK(k_memcpy(a + d, src + so, n) == a + d);
				memcpy(b + d, src + so, n);
				CHECK(!memcmp(a, b, AREA));
				CHECK(k_memset(a + d, (int)(n + 0x100), n) ==
				      a + d); /* byte of c only */
				memset(b + d, (int)(n & 0xff), n);
				CHECK(!memcmp(a, b, AREA));
			}
}

TEST(string_memmove_overlaps)
{
	unsigned char a[AREA], b[AREA];

	for (size_t s = 0; s < 20; s++)
		for (size_t d = 0; d < 20; d++)
			for (size_t n = 0; n + 20 < AREA; n += 3) {
				fill(a, AREA, (unsigned)(s + d));
				fill(b, AREA, (unsigned)(s + d));
				CHECK(k_memmove(a + d, a + s, n) == a + d);
				memmove(b + d, b + s, n);
				CHECK(!memcmp(a, b, AREA));
			}
}

TEST(string_compare_and_search)
{
	static const char *const s[] = {"",  "a",    "ab",	  "abc", "abd",
					"b", "\xff", "abcabcabd", "aaab"};
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		CHECK_EQ(k_strlen(s[i]), strlen(s[i]));
		for (size_t m = 0; m < 5; m++)
			CHECK_EQ(k_strnlen(s[i], m), strnlen(s[i], m));
		CHECK(k_strchr(s[i], 'b') == strchr(s[i], 'b'));
		CHECK(k_strchr(s[i], 0) == strchr(s[i], 0));
		CHECK(k_strrchr(s[i], 'b') == strrchr(s[i], 'b'));
		CHECK(k_strrchr(s[i], 0) == strrchr(s[i], 0));
		for (size_t j = 0; j < ARRAY_SIZE(s); j++) {
			CHECK_EQ(sign(k_strcmp(s[i], s[j])), sign(strcmp(s[i], s[j])));
			for (size_t n = 0; n < 5; n++)
				CHECK_EQ(sign(k_strncmp(s[i], s[j], n)),
					 sign(strncmp(s[i], s[j], n)));
			size_t n = MIN(strlen(s[i]), strlen(s[j])) + 1;
			CHECK_EQ(sign(k_memcmp(s[i], s[j], n)), sign(memcmp(s[i], s[j], n)));
			CHECK(k_strstr(s[i], s[j]) == strstr(s[i], s[j]));
		}
	}
	CHECK(k_strstr("abcabcabd", "abcabd") == strstr("abcabcabd", "abcabd"));
}

TEST(string_strlcpy)
{
	char b[8];

	memset(b, 'x', sizeof b);
	CHECK_EQ(strlcpy(b, "hello world", sizeof b), 11);
	CHECK(!strcmp(b, "hello w"));
	CHECK_EQ(strlcpy(b, "hi", sizeof b), 2);
	CHECK(!strcmp(b, "hi"));
	b[0] = 'q';
	CHECK_EQ(strlcpy(b, "abc", 0), 3);
	CHECK_EQ(b[0], 'q');
	CHECK_EQ(strlcpy(b, "abc", 1), 3);
	CHECK_EQ(b[0], '\0');
}

TEST(string_kstrtou64)
{
	static const struct {
		const char *s;
		unsigned base;
		int ret;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0, 0},
	    {"42", 0, 0, 42},
	    {"42\n", 10, 0, 42},
	    {"0x1F", 0, 0, 31},
	    {"0X1f", 16, 0, 31},
	    {"1f", 16, 0, 31},
	    {"017", 0, 0, 15},
	    {"017", 10, 0, 17},
	    {"101", 2, 0, 5},
	    {"zz", 36, 0, 36 * 35 + 35},
	    {"18446744073709551615", 0, 0, UINT64_MAX},
	    {"0xffffffffffffffff", 0, 0, UINT64_MAX},
	    {"18446744073709551616", 0, -ERANGE, 0},
	    {"0x10000000000000000", 0, -ERANGE, 0},
	    {"", 0, -EINVAL, 0},
	    {"\n", 0, -EINVAL, 0},
	    {"0x", 0, -EINVAL, 0},
	    {"08", 0, -EINVAL, 0},
	    {"12a", 10, -EINVAL, 0},
	    {" 12", 10, -EINVAL, 0},
	    {"12 ", 10, -EINVAL, 0},
	    {"12\n\n", 10, -EINVAL, 0},
	    {"-1", 0, -EINVAL, 0},
	    {"+1", 0, -EINVAL, 0},
	    {"2", 2, -EINVAL, 0},
	    {"1", 1, -EINVAL, 0},
	    {"1", 37, -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 0xabcd;
		int r = kstrtou64(cases[i].s, cases[i].base, &v);
		if (r != cases[i].ret)
			printf("    case %zu \"%s\": got %d\n", i, cases[i].s, r);
		CHECK_EQ(r, cases[i].ret);
		CHECK(v == (r ? 0xabcd : cases[i].v));
	}
}
