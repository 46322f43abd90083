/* The physical address of a machine-check error, when the bank gives a usable one.
 *
 * MCi_ADDR alone is not enough: on Intel the address is meaningful only when MCi_STATUS has
 * ADDRV, and its kind and precision are in MCi_MISC (MISCV): bits 8:6 say what sort of address
 * it is (only 2, physical, names a frame we can retire) and bits 5:0 give the lowest valid bit.
 * Bits below that LSB are garbage and are cleared; an LSB above PAGE_SHIFT means the error is
 * known only to a region larger than a page, which memory_failure cannot act on. The LSB is
 * kept so that SIGBUS can report si_addr_lsb. */
#include "kerrno.h"
#include "mce.h"

int mce_addr_decode(const struct mce_record *r, struct mce_paddr *out)
{
	const uint64_t need = MCI_STATUS_ADDRV | MCI_STATUS_MISCV;
	unsigned lsb;
	uint64_t keep;

	if ((r->status & need) != need)
		return -ENOENT;
	if (mci_misc_addr_mode(r->misc) != MCI_MISC_ADDR_PHYS)
		return -EINVAL;
	lsb = mci_misc_addr_lsb(r->misc);
	if (lsb > PAGE_SHIFT)
		return -ERANGE;
	/* Keep bits lsb..MCE_PADDR_BITS-1: lower ones are invalid, higher ones reserved. */
	keep = (BIT(MCE_PADDR_BITS) - 1) & ~(BIT(lsb) - 1);
	out->addr = r->addr & keep;
	out->pfn = out->addr >> PAGE_SHIFT;
	out->lsb = lsb;
	return 0;
}

bool mce_addr_usable(const struct mce_record *r)
{
	struct mce_paddr pa;

	return mce_addr_decode(r, &pa) == 0;
}
