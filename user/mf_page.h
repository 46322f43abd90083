/* What the memory-failure programs of a page kind share (user/mf_tmpfs.c, user/mf_shmem.c,
 * user/mf_ext2.c): touching a page and seeing the SIGBUS it raises (sigbus_catch.h), the
 * HardwareCorrupted count, a page's frame from /proc/self/pagemap, and poisoning a page either
 * with madvise(MADV_HWPOISON) or with corrupt-pfn at its frame, as the program's "corrupt"
 * argument picks (use_corrupt_pfn). Header-only: each program is one static binary; include
 * utest.h first. */
#pragma once
#include "sigbus_catch.h"
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

static int use_corrupt_pfn; /* poison() writes the frame to corrupt-pfn rather than madvise */

/* Touch p (read); the si_code of the SIGBUS it raised, or 0. */
static __attribute__((unused)) int touch(const volatile char *p)
{
	got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	return got_code;
}

static __attribute__((unused)) long hwc_kb(void)
{
	char buf[4096];
	read_meminfo(buf, sizeof(buf));
	return meminfo_value(buf, "HardwareCorrupted:");
}

static uint64_t pfn_of(const void *va) { return utest_pagemap(va) & ((1ull << 55) - 1); }

/* Poison the 4 KiB page mapped at p: madvise(MADV_HWPOISON), or corrupt-pfn at its frame. */
static __attribute__((unused)) int poison(char *p)
{
	char b[32];
	if (!use_corrupt_pfn)
		return madvise(p, 4096, MADV_HWPOISON);
	(void)*(volatile char *)p; /* mapped, so pagemap has its frame */
	snprintf(b, sizeof(b), "%llu\n", (unsigned long long)pfn_of(p));
	return utest_write_file("/sys/kernel/debug/hwpoison/corrupt-pfn", b);
}
