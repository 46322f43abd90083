/* What the guest benchmarks share (bench/mfbench.c, bench/forkbench.c, bench/cecbench.c,
 * bench/thpbench.c): the time stamp counter as a clock, its rate calibrated against
 * CLOCK_MONOTONIC, medians, dirty pages, sleeping children that keep a COW-shared page mapped,
 * and memory_failure's own time from the kernel log. Header-only, since each
 * benchmark is one static program; the same code runs on Linux. */
#pragma once
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096ul
#define CALIBRATE_NS 50000000ull /* 50 ms of CLOCK_MONOTONIC */

static double tsc_per_us;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Measure the TSC rate into tsc_per_us. */
static inline void calibrate(void)
{
	uint64_t n0 = now_ns(), t0 = rdtsc(), n1;
	while ((n1 = now_ns()) - n0 < CALIBRATE_NS)
		;
	tsc_per_us = (double)(rdtsc() - t0) * 1000.0 / (double)(n1 - n0);
}

static inline double us(uint64_t cycles) { return (double)cycles / tsc_per_us; }

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static inline uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* A private anonymous page filled with 0x5a. */
static inline char *dirty_page(void)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 0x5a, PG);
	return p;
}

/* Fork a child that shares the caller's memory and sleeps until killed (MCRK has no pipes);
 * its pid, or -1. */
static inline pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			sleep(1000); /* nanosleep: killed by SIGKILL */
	}
	return pid;
}

/* SIGKILL the n children in pids (those > 0), then wait for each. */
static inline void reap(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

#define OWN_RUNS 64 /* the last events kernel_own_us looks at, at most */

/* memory_failure's own time for its last n events on MCRK: the "(+N ns)" of the outcome lines
 * it logs ("...: recovered (...)"), read back from /proc/kmsg (the log keeps them even when the
 * console level hides them). The median in us, or -1 when none is found (as on Linux). */
static inline double kernel_own_us(int n)
{
	static char log[1 << 16];
	uint64_t v[OWN_RUNS];
	int fd = open("/proc/kmsg", O_RDONLY | O_NONBLOCK), k = 0;
	ssize_t len = fd >= 0 ? read(fd, log, sizeof(log) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return -1;
	log[len] = 0;
	for (char *p = log; (p = strstr(p, "page: recovered (")) != NULL; p++) {
		char *t = strstr(p, "(+"), *eol = strchr(p, '\n');
		if (t && (!eol || t < eol)) {
			v[k % OWN_RUNS] = strtoull(t + 2, NULL, 10);
			k++;
		}
	}
	/* the last min(k, n) events are the slots before k in the ring */
	uint64_t last[OWN_RUNS];
	int m = k < n ? k : n;
	if (m > OWN_RUNS)
		m = OWN_RUNS;
	for (int i = 0; i < m; i++)
		last[i] = v[(k - m + i) % OWN_RUNS];
	return m ? (double)median(last, m) / 1000.0 : -1;
}
