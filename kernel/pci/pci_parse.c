/* The PCI parsers that take firmware and device values at their word: the ACPI MCFG table
 * (where each segment's ECAM window is) and a BAR's value and size mask. Pure functions, so
 * the host tests feed them every malformed shape (tests/host/test_pci.c). */
#include "kerrno.h"
#include "kstring.h"
#include "pci.h"
#include "printk.h"

/* MCFG: the 36-byte ACPI header, 8 reserved bytes, then 16-byte entries of a 64-bit base
 * address, a 16-bit segment, the first and last bus, and 4 reserved bytes (PCI Firmware
 * Specification 3.0, 4.1.2). */
#define MCFG_HEADER 44
#define MCFG_ENTRY 16
#define ECAM_BUS_SHIFT 20 /* 1 MiB of configuration space per bus */

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static int mcfg_entry(const uint8_t *e, unsigned i, struct pci_ecam *out)
{
	out->base = le(e, 8);
	out->segment = (uint16_t)le(e + 8, 2);
	out->bus_start = e[10];
	out->bus_end = e[11];
	const char *why = NULL;
	if (!out->base)
		why = "no base address";
	else if (out->base & ((1ull << ECAM_BUS_SHIFT) - 1))
		why = "base not on a 1 MiB boundary";
	else if (out->bus_end < out->bus_start)
		why = "bus range ends before it starts";
	else if (out->base + ((uint64_t)(out->bus_end + 1) << ECAM_BUS_SHIFT) < out->base)
		why = "window wraps the address space";
	if (why)
		printk(KERN_WARNING "pci: MCFG entry %u (base %#lx, buses %02x-%02x): %s; MCFG "
				    "ignored\n",
		       i, out->base, out->bus_start, out->bus_end, why);
	return why ? -EINVAL : 0;
}

int pci_mcfg_parse(const void *table, size_t len, struct pci_ecam *out, unsigned max)
{
	const uint8_t *t = table;
	if (len < MCFG_HEADER || (len - MCFG_HEADER) % MCFG_ENTRY) {
		printk(KERN_WARNING "pci: MCFG is %zu bytes, not a header and whole entries; "
				    "MCFG ignored\n",
		       len);
		return -EINVAL;
	}
	unsigned n = (unsigned)((len - MCFG_HEADER) / MCFG_ENTRY);
	for (unsigned i = 0; i < n; i++) {
		struct pci_ecam e;
		if (mcfg_entry(t + MCFG_HEADER + i * MCFG_ENTRY, i, &e))
			return -EINVAL;
		if (i < max)
			out[i] = e;
	}
	return (int)n;
}

#define BAR_IO BIT(0)
#define BAR_MEM_TYPE_MASK 0x6u
#define BAR_MEM_TYPE_64 0x4u
#define BAR_MEM_TYPE_RESERVED 0x2u /* "below 1 MiB" in PCI 2.x, reserved since */
#define BAR_PREFETCH BIT(3)

int pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t mask_lo, uint32_t mask_hi,
		   struct pci_bar *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = NULL;
	uint64_t base, mask;
	out->io = lo & BAR_IO;
	if (out->io) {
		base = lo & ~3u;
		mask = (mask_lo & ~3u) | 0xffffffff00000000ull | 0xffff0000u; /* 16-bit ports */
	} else {
		if ((lo & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_RESERVED) {
			*why = "reserved memory type";
			return -EINVAL;
		}
		out->is64 = (lo & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64;
		out->prefetch = lo & BAR_PREFETCH;
		base = (lo & ~0xfu) | (out->is64 ? (uint64_t)hi << 32 : 0);
		mask = (mask_lo & ~0xfu) |
		       (out->is64 ? (uint64_t)mask_hi << 32 : 0xffffffff00000000ull);
	}
	if ((out->io ? mask_lo & ~3u : mask_lo & ~0xfu) == 0 && !(out->is64 && mask_hi))
		return 0; /* decodes nothing: no BAR here */
	uint64_t size = ~mask + 1;
	if (!size || (size & (size - 1))) {
		*why = "size mask is not a power of two";
		return -EINVAL;
	}
	if (base & (size - 1)) {
		*why = "base not aligned to its size";
		return -EINVAL;
	}
	if (base + size < base) {
		*why = "ends beyond the address space";
		return -EINVAL;
	}
	out->base = base;
	out->size = size;
	return 0;
}
