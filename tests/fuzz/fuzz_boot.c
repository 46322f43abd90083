/* libFuzzer target for the boot-information parsers: mb2_parse, pvh_parse and memmap_sanitize
 * on arbitrary bytes. Beyond "no crash, no hang, no sanitizer report" it checks what the
 * parsers promise: a sorted, disjoint, non-empty memory map within its bounds, terminated
 * strings, sane modules.
 *
 * Build and run (from the repository root; seeds: a multiboot2 and a PVH structure):
 *   make build/fuzz_boot
 *   python3 tests/fuzz/make_boot_seeds.py build/fuzz_boot_corpus
 *   build/fuzz_boot -max_total_time=120 build/fuzz_boot_corpus
 * The first input byte picks a variant (alignment shift, shorter max_len, map room); the rest
 * is the structure. */
#include "boot_info.h"
#include "../host/fake_arch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX 65536
#define PVH_SLACK 4096 /* zero bytes after the input: PVH tables read at most 3 KiB past a start   \
			*/

static _Alignas(8) uint8_t mem[FUZZ_MAX + PVH_SLACK];
static size_t mem_len;
static struct boot_info bi;

static void require(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_boot: broken promise: %s\n", what);
		abort();
	}
}

/* A memory map as memmap_sanitize promises it. */
static void check_map(const struct mem_range *r, unsigned n, unsigned max)
{
	require(n <= max, "map count within max");
	for (unsigned i = 0; i < n; i++) {
		require(r[i].len > 0, "non-empty range");
		require(r[i].type >= MEM_USABLE && r[i].type <= MEM_BAD, "known type");
		require(r[i].len - 1 <= UINT64_MAX - r[i].base, "no wrap");
		if (i) {
			uint64_t prev_last = r[i - 1].base + (r[i - 1].len - 1);
			require(prev_last < r[i].base, "sorted and disjoint");
		}
	}
}

static void check_info(const struct boot_info *b)
{
	check_map(b->mmap, b->n_mmap, BOOT_MAX_RANGES);
	require(memchr(b->cmdline, 0, sizeof b->cmdline) != NULL, "cmdline terminated");
	require(memchr(b->loader, 0, sizeof b->loader) != NULL, "loader terminated");
	require(b->n_modules <= BOOT_MAX_MODULES, "module count");
	for (unsigned i = 0; i < b->n_modules; i++) {
		require(b->modules[i].start < b->modules[i].end, "module non-empty");
		require(memchr(b->modules[i].name, 0, sizeof b->modules[i].name) != NULL,
			"module name terminated");
	}
	require(b->info_start <= b->info_end, "info range");
}

/* PVH tables are found by "physical" address: here an offset into the input. */
static void *fuzz_p2v(paddr_t pa)
{
	return pa < mem_len ? mem + pa : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_range r[BOOT_MAX_RANGES];
	unsigned n, max, fixes = 0;

	if (size < 1 || size > FUZZ_MAX)
		return 0;
	fake_console_clear();
	mem_len = size - 1;
	memset(mem, 0, sizeof mem);
	memcpy(mem, data + 1, mem_len);

	/* The first byte picks the variant: aligned or not, max_len shorter than the data. */
	size_t shift = data[0] & 7, max_len = mem_len > shift ? mem_len - shift : 0;
	if (data[0] & 8)
		max_len /= 2;
	mb2_parse(mem + shift, max_len, 0x10000 + shift, &bi);
	check_info(&bi);

	if (mem_len >= 56) {
		pvh_parse(mem, 0, fuzz_p2v, &bi);
		check_info(&bi);
	}

	/* The bytes as a raw memory map, sanitized into a room of 1..BOOT_MAX_RANGES. */
	n = (unsigned)MIN(mem_len / sizeof r[0], (size_t)BOOT_MAX_RANGES);
	memcpy(r, mem, n * sizeof r[0]);
	max = 1 + data[0] % BOOT_MAX_RANGES;
	n = MIN(n, max);
	n = memmap_sanitize(r, n, max, &fixes);
	check_map(r, n, max);
	return 0;
}
