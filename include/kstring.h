/* String and memory functions with the C library's names and contracts.
 * The kernel build gets them from kernel/lib/string.c; the host build from libc. */
#pragma once
#include "types.h"

#ifdef MCRK_HOST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
char *strcpy(char *dst, const char *src);
#endif

/* Copy at most size-1 bytes and always NUL-terminate; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/* Parse an unsigned integer (base 0: 0x prefix = hex, leading 0 = octal, else decimal).
 * Returns 0 and sets *out, or -EINVAL on no digits / trailing junk, -ERANGE on overflow. */
int kstrtou64(const char *s, unsigned base, uint64_t *out);
