/* Tests of the swap header check (kernel/mm/swap_header.c) against headers laid out as
 * util-linux's mkswap writes them: a good one, and each way swapon refuses one (no magic, the
 * old or a byte-swapped version, last_page 0 or past the device, too many or out-of-range bad
 * pages, nothing usable left), each with its reason. */
#include "../../include/kerrno.h"
#include "../../include/swap.h"
#include "unit.h"
#include <stdint.h>
#include <string.h>

static uint8_t hdr[PAGE_SIZE];

static void make(uint32_t version, uint32_t last, uint32_t nbad, const uint32_t *bad)
{
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + 1024, &version, 4);
	memcpy(hdr + 1028, &last, 4);
	memcpy(hdr + 1032, &nbad, 4);
	for (uint32_t i = 0; bad && i < nbad; i++)
		memcpy(hdr + 1536 + 4 * i, &bad[i], 4);
	memcpy(hdr + PAGE_SIZE - 10, "SWAPSPACE2", 10);
}

static int parse(uint64_t dev_pages, struct swap_header_info *h, const char **why)
{
	return swap_header_parse(hdr, dev_pages, h, why);
}

TEST(swap_header_good)
{
	static struct swap_header_info h;
	const uint32_t bad[] = {5, 9};
	const char *why;

	make(1, 49151, 0, NULL);
	CHECK(parse(49152, &h, &why) == 0 && why == NULL);
	CHECK(h.last_page == 49151 && h.nr_badpages == 0);
	make(1, 100, 2, bad);
	CHECK(parse(200, &h, &why) == 0 && h.nr_badpages == 2 && h.badpages[1] == 9);
}

TEST(swap_header_refused)
{
	static struct swap_header_info h;
	const uint32_t out_of_range[] = {101};
	const uint32_t zero[] = {0};
	const char *why;

	make(1, 100, 0, NULL);
	hdr[PAGE_SIZE - 1] = 'X';
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "SWAPSPACE2"));
	make(0, 100, 0, NULL);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "version"));
	make(0x01000000, 100, 0, NULL);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "byte order"));
	make(1, 0, 0, NULL);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "empty"));
	make(1, 200, 0, NULL);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "shorter"));
	CHECK(parse(0, &h, &why) == -EINVAL);
	make(1, 100, SWAP_MAX_BADPAGES + 1, NULL);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "too many"));
	make(1, 100, 1, out_of_range);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "out of range"));
	make(1, 100, 1, zero);
	CHECK(parse(200, &h, &why) == -EINVAL && strstr(why, "out of range"));
	make(1, 1, 0, NULL);
	CHECK(parse(2, &h, &why) == 0); /* one usable page is enough */
}
