/* PCI enumeration: choose how configuration space is reached, find every function on every
 * bus, size its BARs and note its interrupt capabilities, and hand devices to drivers.
 *
 * Configuration space: ECAM (memory-mapped, 4 KiB per function, bus << 20 | device << 15 |
 * function << 12) when the ACPI MCFG table describes segment 0, else the arch's legacy
 * mechanism (256 bytes per function). MCRK scans only segment 0, like a PC's firmware.
 * Every bus number the window (or the legacy mechanism, 0..255) covers is probed, device by
 * device, function 0 first and functions 1..7 only for a multi-function device; the
 * firmware has numbered the buses behind bridges already, so no bridge is reprogrammed.
 *
 * BARs are sized the usual way (decoding off, all ones written, the mask read back, the
 * value restored) and refused when the answer is nonsense (pci_bar_decode); they are mapped
 * only when a driver asks (pci_map_bar). */
#include "arch/acpi.h"
#include "arch/pci.h"
#include "kerrno.h"
#include "kstring.h"
#include "pci.h"
#include "pci_priv.h"
#include "printk.h"

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned ndevs;
static volatile uint8_t *ecam; /* the window of segment 0, bus ecam_bus0 at offset 0 */
static unsigned ecam_bus0, ecam_bus_end;
static unsigned scan_bus_end = 255;

static volatile uint8_t *ecam_reg(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return ecam + ((uint64_t)(bus - ecam_bus0) << 20 | dev << 15 | fn << 12 | off);
}

uint32_t pci_conf_read(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	if (off & 3 || off >= (ecam ? PCI_ECAM_SPACE : PCI_LEGACY_SPACE))
		return 0xffffffffu;
	if (ecam)
		return bus < ecam_bus0 || bus > ecam_bus_end
			   ? 0xffffffffu
			   : *(volatile uint32_t *)ecam_reg(bus, dev, fn, off);
	return arch_pci_port_read(bus, dev, fn, off);
}

void pci_conf_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	if (off & 3 || off >= (ecam ? PCI_ECAM_SPACE : PCI_LEGACY_SPACE))
		return;
	if (!ecam)
		arch_pci_port_write(bus, dev, fn, off, v);
	else if (bus >= ecam_bus0 && bus <= ecam_bus_end)
		*(volatile uint32_t *)ecam_reg(bus, dev, fn, off) = v;
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	return pci_conf_read(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(pci_read32(d, off & ~3u) >> (off & 2) * 8);
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)(pci_read32(d, off & ~3u) >> (off & 3) * 8);
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_conf_write(d->bus, d->dev, d->fn, off, v);
}

/* A 16-bit write as a read-modify-write of its dword: the other half is written back as
 * read, which is harmless for the registers MCRK writes this way (command, MSI/MSI-X
 * control; the status half's bits are write-one-to-clear and read back as they are). */
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	unsigned sh = (off & 2) * 8;
	uint32_t old = pci_read32(d, off & ~3u);
	if (off == PCI_COMMAND)
		old &= 0xffff; /* never clear status bits by writing them back */
	pci_write32(d, off & ~3u, (old & ~(0xffffu << sh)) | (uint32_t)v << sh);
}

/* ECAM for segment 0 when MCFG says where, mapped whole; else the legacy mechanism. */
static int choose_access(void)
{
	size_t len;
	const void *t = arch_acpi_table("MCFG", &len);
	struct pci_ecam w[4];
	int n = t ? pci_mcfg_parse(t, len, w, 4) : 0;
	for (int i = 0; i < n && i < 4 && !ecam; i++) {
		if (w[i].segment != 0)
			continue;
		size_t size = (size_t)(w[i].bus_end - w[i].bus_start + 1) << 20;
		ecam = arch_map_device(w[i].base + ((paddr_t)w[i].bus_start << 20), size);
		if (!ecam) {
			printk(KERN_WARNING "pci: cannot map the ECAM window at %#lx\n", w[i].base);
			continue;
		}
		ecam_bus0 = w[i].bus_start;
		scan_bus_end = ecam_bus_end = w[i].bus_end;
		printk(KERN_INFO "pci: ECAM at %#lx for buses %02x-%02x (MCFG)\n", w[i].base,
		       ecam_bus0, ecam_bus_end);
	}
	if (ecam)
		return 0;
	if (!arch_pci_ports_present()) {
		printk(KERN_WARNING "pci: no configuration access (no MCFG, no legacy ports)\n");
		return -ENODEV;
	}
	printk(KERN_INFO "pci: configuration through the legacy ports (no usable MCFG)\n");
	return 0;
}

/* Sizes BAR i (and i+1 for a 64-bit one) with decoding off; returns how many slots it used. */
static unsigned size_bar(struct pci_dev *d, unsigned i, unsigned nbars)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off), hi = 0, mlo, mhi = 0;
	pci_write32(d, off, 0xffffffffu);
	mlo = pci_read32(d, off);
	pci_write32(d, off, lo);
	bool is64 = !(lo & 1) && (lo & 6) == 4;
	if (is64 && i + 1 >= nbars) {
		printk(KERN_WARNING "pci: %02x:%02x.%u BAR%u: 64-bit BAR in the last slot; "
				    "ignored\n",
		       d->bus, d->dev, d->fn, i);
		return 1;
	}
	if (is64) {
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, 0xffffffffu);
		mhi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	const char *why;
	if (pci_bar_decode(lo, hi, mlo, mhi, &d->bar[i], &why))
		printk(KERN_WARNING "pci: %02x:%02x.%u BAR%u (%#x, mask %#x): %s; ignored\n",
		       d->bus, d->dev, d->fn, i, lo, mlo, why);
	return is64 ? 2 : 1;
}

static void size_bars(struct pci_dev *d)
{
	unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nbars;)
		i += size_bar(d, i, nbars);
	pci_write16(d, PCI_COMMAND, cmd);
}

static void print_dev(const struct pci_dev *d)
{
	char line[160];
	size_t n = ksnprintf(line, sizeof(line), "pci: %02x:%02x.%u [%04x:%04x] class %02x%02x%02x",
			     d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code,
			     d->subclass, d->prog_if);
	for (unsigned i = 0; i < PCI_NUM_BARS && n < sizeof(line); i++)
		if (d->bar[i].size)
			n += ksnprintf(line + n, sizeof(line) - n, " bar%u=%s%#lx+%#lx", i,
				       d->bar[i].io ? "io:" : "", d->bar[i].base, d->bar[i].size);
	if (n < sizeof(line) && d->msix_cap)
		n += ksnprintf(line + n, sizeof(line) - n, " msix=%u", d->msix_entries);
	if (n < sizeof(line) && d->msi_cap)
		n += ksnprintf(line + n, sizeof(line) - n, " msi");
	printk(KERN_INFO "%s\n", line);
}

/* Records bus:dev.fn if something answers there; returns its header type, or -1. */
static int probe_fn(unsigned bus, unsigned dev, unsigned fn)
{
	uint32_t id = pci_conf_read(bus, dev, fn, PCI_VENDOR_ID);
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return -1;
	struct pci_dev tmp = {.bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn};
	uint8_t ht = pci_read8(&tmp, PCI_HEADER_TYPE);
	if (ndevs == PCI_MAX_DEVS) {
		printk(KERN_WARNING "pci: %02x:%02x.%u: more than %u functions; not used\n", bus,
		       dev, fn, PCI_MAX_DEVS);
		return ht;
	}
	struct pci_dev *d = &devs[ndevs++];
	*d = tmp;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cr = pci_read32(d, PCI_CLASS_REVISION);
	d->class_code = (uint8_t)(cr >> 24);
	d->subclass = (uint8_t)(cr >> 16);
	d->prog_if = (uint8_t)(cr >> 8);
	d->revision = (uint8_t)cr;
	d->header_type = ht;
	size_bars(d);
	pci_note_irq_caps(d);
	print_dev(d);
	return ht;
}

int pci_init(void)
{
	int err = choose_access();
	if (err)
		return err;
	for (unsigned bus = ecam ? ecam_bus0 : 0; bus <= scan_bus_end; bus++)
		for (unsigned dev = 0; dev < 32; dev++) {
			int ht = probe_fn(bus, dev, 0);
			for (unsigned fn = 1; ht >= 0 && (ht & 0x80) && fn < 8; fn++)
				probe_fn(bus, dev, fn);
		}
	printk(KERN_INFO "pci: %u functions\n", ndevs);
	return (int)ndevs;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from)
{
	for (unsigned i = from ? (unsigned)(from - devs) + 1 : 0; i < ndevs; i++)
		if (!devs[i].claimed && (vendor == 0xffff || devs[i].vendor == vendor) &&
		    (device == 0xffff || devs[i].device == device))
			return &devs[i];
	return NULL;
}

void *pci_map_bar(struct pci_dev *d, unsigned i)
{
	if (i >= PCI_NUM_BARS || !d->bar[i].size || d->bar[i].io)
		return NULL;
	if (!d->bar[i].base) {
		printk(KERN_WARNING "pci: %02x:%02x.%u BAR%u was not assigned by the firmware\n",
		       d->bus, d->dev, d->fn, i);
		return NULL;
	}
	if (!d->bar[i].va)
		d->bar[i].va = arch_map_device(d->bar[i].base, d->bar[i].size);
	if (d->bar[i].va)
		pci_write16(d, PCI_COMMAND,
			    pci_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return d->bar[i].va;
}

/* Capability lists: a byte pointer at 0x34, then entries of an id byte and a next-pointer
 * byte, each dword-aligned past the 64-byte header. Linux's __pci_find_next_cap_ttl bounds
 * the walk at 48 entries; MCRK also refuses a pointer into the header and reports why. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned pos = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	for (unsigned ttl = PCI_CAP_TTL; pos; ttl--) {
		const char *why = pos < PCI_CAP_MIN ? "points into the header"
				  : pos & 3	    ? "is not dword-aligned"
				  : !ttl	    ? "has more than 48 entries (a loop?)"
						    : NULL;
		if (why) {
			printk(KERN_WARNING "pci: %02x:%02x.%u: capability list %s (at %#x); walk "
					    "ended\n",
			       d->bus, d->dev, d->fn, why, pos);
			return 0;
		}
		if (pci_read8(d, pos) == id)
			return pos;
		pos = pci_read8(d, pos + 1);
	}
	return 0;
}

#ifdef MCRK_HOST
void pci_reset_for_test(void)
{
	memset(devs, 0, sizeof(devs));
	ndevs = 0;
	ecam = NULL;
	ecam_bus0 = ecam_bus_end = 0;
	scan_bus_end = 255;
}
#endif
