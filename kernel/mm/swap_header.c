/* The swap header as util-linux's mkswap writes it, checked the way Linux's swapon
 * (mm/swapfile.c, read_swap_header) checks it. Page 0 of an area: 1024 bytes left for a boot
 * block, then version, last_page and nr_badpages (32-bit, the machine's byte order), a UUID
 * and a label, padding, the list of bad pages, and the magic "SWAPSPACE2" in the last ten
 * bytes of the page. Kept apart from swapfile.c so that the host tests can feed it headers. */
#include "kerrno.h"
#include "kstring.h"
#include "swap.h"

#define HDR_INFO 1024	  /* version, last_page, nr_badpages follow the boot block */
#define HDR_BADPAGES 1536 /* after uuid[16], volume_name[16] and padding[117] words */

static uint32_t word(const uint8_t *p, size_t off)
{
	uint32_t w;
	memcpy(&w, p + off, sizeof(w));
	return w;
}

/* Check an area's header page; see swap.h. Pure. */
int swap_header_parse(const void *hdr, uint64_t dev_pages, struct swap_header_info *out,
		      const char **why)
{
	const uint8_t *p = hdr;
	uint32_t version = word(p, HDR_INFO), last = word(p, HDR_INFO + 4);
	uint32_t nbad = word(p, HDR_INFO + 8);

	*why = NULL;
	if (memcmp(p + PAGE_SIZE - SWAP_MAGIC_LEN, SWAP_MAGIC, SWAP_MAGIC_LEN))
		*why = "no SWAPSPACE2 signature (not made by mkswap?)";
	else if (version != SWAP_HEADER_VERSION)
		*why = version == __builtin_bswap32(SWAP_HEADER_VERSION)
			   ? "header in the other byte order"
			   : "unsupported header version";
	else if (last == 0)
		*why = "empty swap area (last_page 0)";
	else if (dev_pages == 0 || last > dev_pages - 1)
		*why = "swap area shorter than its header says";
	else if (nbad > SWAP_MAX_BADPAGES)
		*why = "too many bad pages";
	if (*why)
		return -EINVAL;
	out->last_page = last;
	out->nr_badpages = nbad;
	for (uint32_t i = 0; i < nbad; i++) {
		out->badpages[i] = word(p, HDR_BADPAGES + 4 * i);
		if (out->badpages[i] == 0 || out->badpages[i] > last) {
			*why = "bad page list out of range";
			return -EINVAL;
		}
	}
	if (nbad >= last) {
		*why = "no usable page left";
		return -EINVAL;
	}
	return 0;
}
