/* A tiny test framework for MCRK's user programs (the same source builds for Linux):
 * CHECK prints the failing line and counts it; DONE prints the summary and exits with the
 * number of failures, which init reports. */
#pragma once
#include <stdio.h>
#include <stdlib.h>

static int utest_failures;
#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
			fflush(stdout);                                                     \
			utest_failures++;                                                   \
		}                                                                           \
	} while (0)
#define DONE(name)                                                                          \
	do {                                                                                \
		printf("%s: %s (%d failures)\n", name, utest_failures ? "FAILED" : "passed", \
		       utest_failures);                                                     \
		fflush(stdout);                                                             \
		exit(utest_failures ? 1 : 0);                                               \
	} while (0)

#include <string.h>
#include <sys/utsname.h>

/* Whether we run on MCRK rather than Linux: MCRK's uname says sysname "Linux" and a release
 * that ends in "-mcrk" ("6.1.0-mcrk"). For the few checks whose exact expected value differs
 * between the two (each such place says why). */
static inline int on_mcrk(void)
{
	struct utsname u;
	size_t n;
	if (uname(&u) != 0)
		return 0;
	n = strlen(u.release);
	return n >= 5 && strcmp(u.release + n - 5, "-mcrk") == 0;
}

#include <fcntl.h>
#include <unistd.h>

/* Read /proc/meminfo into buf (NUL-terminated) with plain read(), so that no stdio buffer is
 * allocated between two readings. */
static inline void read_meminfo(char *buf, size_t size)
{
	ssize_t n = -1;
	int fd = open("/proc/meminfo", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

/* The number after "Name:" in meminfo text (kB for most fields), or -1 when absent. */
static inline long meminfo_value(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}
