/* What the huge-page programs (user/thp.c, user/hugetlb_mf.c) share: reading and writing
 * control files, /proc/meminfo fields, /proc/self/pagemap frame numbers, and a pattern that
 * differs in every word of every 4 KiB page of a 2 MiB page, to check byte for byte which
 * pages kept their data. Header-only: each program is one static binary. */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigbus_catch.h"

#define PG 4096ul
#define HPAGE (2ul << 20)
#define NPG (HPAGE / PG)

static __attribute__((unused)) long meminfo_kb(const char *field)
{
	static char buf[4096];
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *p = strstr(buf, field);
	return p ? strtol(p + strlen(field) + 1, NULL, 10) : -1;
}

static __attribute__((unused)) int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n < 0 ? -errno : 0;
}

/* write(2) of text to path: its result, or -errno. */
static __attribute__((unused)) long write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	long n = write(fd, text, strlen(text));
	long r = n < 0 ? -errno : n;
	close(fd);
	return r;
}

static __attribute__((unused)) uint64_t pagemap(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd >= 0) {
		pread(fd, &e, 8, (off_t)((uintptr_t)va / PG * 8));
		close(fd);
	}
	return e;
}

static __attribute__((unused)) uint64_t pfn_of(const void *va)
{
	uint64_t e = pagemap(va);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

/* Word w of page i holds this; every page differs and every word of it. */
static __attribute__((unused)) uint64_t pattern(unsigned i, unsigned w) { return ((uint64_t)i << 32) ^ w ^ 0x5a5a00000000a5a5ull; }

static __attribute__((unused)) void fill(char *r)
{
	for (unsigned i = 0; i < NPG; i++)
		for (unsigned w = 0; w < PG / 8; w++)
			((uint64_t *)(r + i * PG))[w] = pattern(i, w);
}

/* Pages of r, other than skip, whose bytes are not the pattern. */
static __attribute__((unused)) unsigned bad_pages(const char *r, long skip)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < NPG; i++) {
		if ((long)i == skip)
			continue;
		for (unsigned w = 0; w < PG / 8; w++)
			if (((const uint64_t *)(r + i * PG))[w] != pattern(i, w)) {
				bad++;
				break;
			}
	}
	return bad;
}

/* Whether r is mapped by 512 contiguous frames, the first 2 MiB-aligned. */
static __attribute__((unused)) int contiguous(const char *r)
{
	uint64_t first = pfn_of(r);
	if (!first || first % NPG)
		return 0;
	for (unsigned i = 1; i < NPG; i++)
		if (pfn_of(r + i * PG) != first + i)
			return 0;
	return 1;
}

/* A read of *p: 0, or the SIGBUS code it raised. */
static __attribute__((unused)) int touch(volatile char *p)
{
	got_code = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	return got_code;
}
