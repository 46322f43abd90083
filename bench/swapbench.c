/* Swap figures (docs/swap.md), not pass/fail: MADV_PAGEOUT and swap-in rates of 32 MiB,
 * writing and reading back 96 MiB on a machine of 64 MiB (reclaim under pressure: kswapd and
 * direct reclaim), and the time of madvise(MADV_HWPOISON) on a clean and on a dirty swap
 * cache page (memory_failure's swap cache handler), median of 32. Run by
 * bench/run_swapbench.sh, which boots with -m 64M and a swap disk.
 * usage: swapbench DEVICE   (the swap disk, e.g. /dev/vda) */
#include "bench.h"
#include <sys/swap.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define MIB (1024ul * 1024)
#define SAMPLES 32

static double rate(size_t bytes, uint64_t ns) { return (double)bytes / MIB / ((double)ns / 1e9); }

static void touch(volatile char *b, size_t len, int write)
{
	for (size_t i = 0; i < len; i += PG)
		if (write)
			b[i] = (char)i;
		else
			(void)b[i];
}

static void pageout_rates(void)
{
	size_t len = 32 * MIB;
	char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	touch(b, len, 1);
	uint64_t t0 = now_ns();
	madvise(b, len, MADV_PAGEOUT);
	uint64_t t1 = now_ns();
	touch(b, len, 0);
	uint64_t t2 = now_ns();
	printf("swapbench: MADV_PAGEOUT of 32 MiB: %.1f MiB/s out; touched back: %.1f MiB/s in\n",
	       rate(len, t1 - t0), rate(len, t2 - t1));
	munmap(b, len);
}

static void pressure_rates(void)
{
	size_t len = 96 * MIB;
	char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0 = now_ns();
	touch(b, len, 1);
	uint64_t t1 = now_ns();
	touch(b, len, 0);
	uint64_t t2 = now_ns();
	printf("swapbench: 96 MiB on 64 MiB of RAM: written at %.1f MiB/s, read back at %.1f "
	       "MiB/s (each page out and in once or more)\n", rate(len, t1 - t0), rate(len, t2 - t1));
	munmap(b, len);
}

/* Median cycles of madvise(MADV_HWPOISON) on a swap cache page, clean or dirty. */
static uint64_t hwpoison_cost(int dirty)
{
	uint64_t v[SAMPLES];
	for (int i = 0; i < SAMPLES; i++) {
		volatile char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 1;
		madvise((void *)p, PG, MADV_PAGEOUT);
		if (dirty)
			p[0] = 2;
		else
			(void)p[0];
		uint64_t t = rdtsc();
		madvise((void *)p, PG, 100 /* MADV_HWPOISON */);
		v[i] = rdtsc() - t;
		munmap((void *)p, PG);
	}
	return median(v, SAMPLES);
}

int main(int argc, char **argv)
{
	calibrate();
	if (argc < 2 || swapon(argv[1], 0)) {
		printf("swapbench: swapon %s failed\n", argc > 1 ? argv[1] : "(no device)");
		return 1;
	}
	pageout_rates();
	pressure_rates();
	printf("swapbench: madvise(MADV_HWPOISON) of a clean swap cache page: %.1f us\n",
	       us(hwpoison_cost(0)));
	printf("swapbench: madvise(MADV_HWPOISON) of a dirty swap cache page: %.1f us\n",
	       us(hwpoison_cost(1)));
	return 0;
}
