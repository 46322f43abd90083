/* The physical address of a machine-check error, when the bank gives a usable one.
 *
 * MCi_ADDR alone is not enough: on Intel the address is meaningful only when MCi_STATUS has
 * ADDRV, and its kind and precision are in MCi_MISC (MISCV): bits 8:6 say what sort of address
 * it is (only 2, physical, names a frame we can retire) and bits 5:0 give the lowest valid bit.
 * Bits below that LSB are garbage and are cleared; an LSB above PAGE_SHIFT means the error is
 * known only to a region larger than a page, which memory_failure cannot act on. The LSB is
 * kept so that SIGBUS can report si_addr_lsb. Also here: whether an error is a memory error
 * at all (the corrected-error collector counts only those). */
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

/* MCACOD forms (SDM vol. 3B, "Compound Error Codes"), with the filter bit masked out. */
#define MCACOD_MEMCTL_MASK 0xef80u /* memory controller: 0000 1MMM CCCC */
#define MCACOD_MEMCTL 0x0080u
#define MCACOD_CACHE_MASK 0xef00u /* cache hierarchy: 0001 RRRR TTLL */
#define MCACOD_CACHE 0x0100u
#define MCACOD_GCACHE_MASK 0xeffcu /* generic cache hierarchy: 0000 0000 11LL */
#define MCACOD_GCACHE 0x000cu

bool mce_is_memory_error(const struct mce_record *r)
{
	unsigned code = mci_status_mcacod(r->status);

	return (code & MCACOD_MEMCTL_MASK) == MCACOD_MEMCTL ||
	       (code & MCACOD_CACHE_MASK) == MCACOD_CACHE ||
	       (code & MCACOD_GCACHE_MASK) == MCACOD_GCACHE;
}
