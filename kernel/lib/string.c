/* The C library's memory and string functions for the freestanding kernel (declared in
 * include/kstring.h). The host build uses libc instead; tests/host/test_string.c builds this
 * file under other names and compares it with libc. Word-sized copies where alignment allows,
 * bytes elsewhere.
 *
 * GCC may turn a byte loop into a call to memset/memcpy, which inside memset itself would
 * recurse forever; the optimize attribute below switches that transformation off here. */
#include "kstring.h"

#define WORD_SIZE sizeof(uint64_t)
#define WORD_MASK (WORD_SIZE - 1)

typedef uint64_t __attribute__((may_alias)) word_t;

#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALLS
#endif

static inline bool both_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & WORD_MASK) == 0;
}

/* Copy n bytes from src to dst (no overlap). Returns dst. Any context. */
NO_LIBCALLS void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (both_aligned(d, s)) {
		for (; n >= WORD_SIZE; n -= WORD_SIZE, d += WORD_SIZE, s += WORD_SIZE)
			*(word_t *)d = *(const word_t *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

/* Copy n bytes from src to dst; the areas may overlap. Returns dst. Any context. */
NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlap with dst above src: copy from the end backwards. */
	d += n;
	s += n;
	if (both_aligned(d, s)) {
		for (; n >= WORD_SIZE; n -= WORD_SIZE) {
			d -= WORD_SIZE;
			s -= WORD_SIZE;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	while (n--)
		*--d = *--s;
	return dst;
}

/* Fill n bytes at dst with the byte c. Returns dst. Any context. */
NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char b = (unsigned char)c;

	while (n && ((uintptr_t)d & WORD_MASK)) {
		*d++ = b;
		n--;
	}
	if (n >= WORD_SIZE) {
		word_t w = 0x0101010101010101ull * b;
		for (; n >= WORD_SIZE; n -= WORD_SIZE, d += WORD_SIZE)
			*(word_t *)d = w;
	}
	while (n--)
		*d++ = b;
	return dst;
}

/* Compare n bytes as unsigned chars: <0, 0 or >0. Any context. */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

/* Length of the NUL-terminated string s. Any context. */
size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

/* Length of s, but at most max (never reads past s[max - 1]). Any context. */
size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

/* Compare two strings as unsigned chars: <0, 0 or >0. Any context. */
int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x - *y;
}

/* Compare at most n characters of two strings: <0, 0 or >0. Any context. */
int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
		if (!*x)
			return 0;
	}
	return 0;
}

/* First occurrence of (char)c in s, the terminator included; NULL if none. Any context. */
char *strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

/* Last occurrence of (char)c in s, the terminator included; NULL if none. Any context. */
char *strcpy(char *dst, const char *src)
{
	char *d = dst;

	while ((*d++ = *src++) != 0)
		;
	return dst;
}

char *strrchr(const char *s, int c)
{
	char ch = (char)c;
	const char *last = NULL;

	for (;; s++) {
		if (*s == ch)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

/* First occurrence of needle in hay (hay itself for an empty needle); NULL if none. */
char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return (char *)hay;
	for (; *hay; hay++)
		if (*hay == *needle && !strncmp(hay, needle, n))
			return (char *)hay;
	return NULL;
}
