/* A tiny test framework for MCRK's user programs (the same source builds for Linux):
 * CHECK prints the failing line and counts it; DONE prints the summary and exits with the
 * number of failures, which init reports. */
#pragma once
#include <stdio.h>
#include <stdlib.h>

static int utest_failures __attribute__((unused)); /* not every includer checks */
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

/* Linux's values, for C libraries whose headers lack them (musl's <sys/mman.h> and
 * <signal.h> have them only in newer releases). */
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#define BUS_MCEERR_AO 5
#endif

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

#include <errno.h>

/* Read a whole small file into buf (NUL-terminated); returns its length or -errno. */
static inline int utest_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY), n = 0, len = 0;

	if (fd < 0)
		return -errno;
	while (len < (int)size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return n < 0 ? -errno : len;
}

/* Write s to path in one write() (a control file takes a value whole); 0 or -errno. */
static inline int utest_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rc = -errno;
	close(fd);
	return rc;
}

/* The number after "Name:" in meminfo text (kB for most fields), or -1 when absent. */
static inline long meminfo_value(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

/* The hexadecimal value of a "Name:" line of /proc/self/status (the Cap lines), or ~0. */
static inline unsigned long long utest_status_hex(const char *name)
{
	char buf[4096];
	const char *p = utest_read_file("/proc/self/status", buf, sizeof(buf)) > 0
			    ? strstr(buf, name)
			    : NULL;
	return p ? strtoull(p + strlen(name), NULL, 16) : ~0ull;
}

#include <errno.h>

/* Whether path opens with flags (access(2) is not everywhere MCRK's programs run). */
static inline int utest_can_open(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

#include <stdint.h>
#include <time.h>

/* The time stamp counter: a clock that needs no syscall, for programs that must wait without
 * one (a victim spinning while the kernel recovers behind its back). */
static inline uint64_t utest_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Clock c now, in nanoseconds. */
static inline uint64_t utest_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The TSC value `seconds` from now, its rate measured against CLOCK_MONOTONIC over 20 ms
 * (syscalls are allowed here, before the wait). */
static inline uint64_t utest_tsc_deadline(unsigned seconds)
{
	struct timespec a, b, nap = {0, 20 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = utest_rdtsc();
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	uint64_t t1 = utest_rdtsc();
	double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	return t1 + (uint64_t)((t1 - t0) / ns * 1e9 * seconds);
}

/* ---- pages and frames ---- */

/* The /proc/self/pagemap entry of the page at va (bit 63 present, bits 54:0 the frame), or 0. */
static inline uint64_t utest_pagemap(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)va / 4096 * 8)) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return e;
}

/* The frame behind va from /proc/self/pagemap, or 0 when none is present. */
static inline uint64_t utest_pfn_of(const volatile void *va)
{
	uint64_t e = utest_pagemap((const void *)va);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

/* The /proc/kpageflags word of frame pfn (0 if it cannot be read). */
static inline uint64_t utest_kpageflags(uint64_t pfn)
{
	uint64_t f = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &f, 8, (off_t)(pfn * 8)) != 8)
		f = 0;
	close(fd);
	return f;
}

#include <sys/mman.h>

/* A frame that was ours and is free now: touch two pages, note the first one's frame, unmap
 * it, then the second (a decoy: the per-CPU cache is last-in first-out, so a stray allocation
 * before the caller uses the frame, e.g. a first touch of a code page, takes the decoy). */
static inline uint64_t utest_free_frame(void)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	p[0] = 1;
	p[4096] = 1;
	uint64_t pfn = utest_pfn_of(p);
	munmap(p, 4096);
	munmap(p + 4096, 4096);
	return pfn;
}
