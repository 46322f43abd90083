/* PCI devices (kernel/pci): enumeration of every bus, device and function at boot, their
 * BARs sized, capability lists walked, and message-signalled interrupts set up for a driver.
 * Configuration space is reached through ECAM when the ACPI MCFG table describes segment 0,
 * else through the arch's legacy mechanism (include/arch/pci.h). See docs/block.md. */
#pragma once
#include "types.h"

#define PCI_MAX_DEVS 64
#define PCI_NUM_BARS 6

/* Configuration-space registers (PCI Local Bus 3.0, type 0 header). */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO BIT(0)
#define PCI_COMMAND_MEMORY BIT(1)
#define PCI_COMMAND_MASTER BIT(2)
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34

/* Capability ids. */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_bar {
	paddr_t base;  /* 0: none, or not assigned by the firmware */
	uint64_t size; /* bytes; 0 when the BAR is absent or refused */
	bool io, is64, prefetch;
	void *va; /* once mapped (pci_map_bar) */
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision, header_type;
	struct pci_bar bar[PCI_NUM_BARS];
	uint8_t msi_cap, msix_cap; /* capability offsets, 0 if absent */
	uint16_t msix_entries;	   /* table size */
	volatile uint32_t *msix_table;
	bool claimed; /* a driver owns it */
};

/* Find the configuration access (ECAM or the legacy ports), scan every bus, and print one
 * line per function found. Returns the number of functions, or -ENODEV when there is no
 * configuration access at all. Boot, process context, once. */
int pci_init(void);

/* The next function after `from` (NULL: the first) with this vendor and device id (0xffff:
 * any) that no driver has claimed. Process context. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from);

/* Configuration registers of d at off (naturally aligned, below 4096 with ECAM, 256 without;
 * reads outside give all ones and writes are dropped). Process or IRQ context. */
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);

/* The offset of the first capability with id at or after the capability at `from` (0: from
 * the start of the list), or 0 when there is none. A list that loops, points into the
 * header or runs past 48 entries ends the walk with a message. Process context. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from);

/* Map memory BAR i of d and turn on memory decoding and bus mastering. The kernel address,
 * or NULL (an I/O or absent BAR, refused at enumeration, or no room). Process context. */
void *pci_map_bar(struct pci_dev *d, unsigned i);

/* Interrupt entry `entry` of d calls fn(arg) on CPU cpu: through MSI-X (the entry of its
 * table), else MSI (entry 0 only). Returns an irq handle >= 0 for pci_irq_free, -ENODEV
 * when d has neither (there is no I/O APIC, so INTx cannot be delivered), -EINVAL for an
 * entry beyond the table, -ENOSPC without a free vector. Process context. */
int pci_irq_setup(struct pci_dev *d, unsigned entry, unsigned cpu, void (*fn)(void *arg),
		  void *arg);
/* Mask entry `entry` again and free its vector. Process context. */
void pci_irq_free(struct pci_dev *d, unsigned entry, int irq);

/* ---- The parsers, pure functions over bytes and register values (host-tested) ---- */

/* One ECAM window of the MCFG table: segment, bus range, base of bus 0 of the segment. */
struct pci_ecam {
	paddr_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};
/* Parse an MCFG table (len bytes, the ACPI header included) into out[0..max): returns the
 * number of windows, or -EINVAL (a length that is not the header plus whole entries, a
 * window with no base, a base not on a 1 MiB boundary, a bus range that ends before it
 * starts or wraps the address space), printing the reason. */
int pci_mcfg_parse(const void *table, size_t len, struct pci_ecam *out, unsigned max);
/* Decode a BAR from its value (lo, and hi for the upper half of a 64-bit one) and what it
 * read after all ones were written (mask_lo, mask_hi). 0 and *out, or -EINVAL for a
 * nonsense BAR (reserved type, size not a power of two, base not aligned to the size, an
 * end beyond 2^64), with the reason in *why. A BAR that decodes nothing gives size 0. */
int pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t mask_lo, uint32_t mask_hi,
		   struct pci_bar *out, const char **why);
