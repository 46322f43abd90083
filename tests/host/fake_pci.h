/* The fake of include/arch/pci.h for host tests (tests/host/fake_pci.c): functions on bus 0
 * whose configuration space a test writes, with BARs that answer sizing as hardware does
 * (all ones written reads back the size mask), and a record of allocated vectors. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define FAKE_PCI_FNS 8

struct fake_pci_fn {
	bool present;
	unsigned dev, fn;
	uint8_t cfg[256];
	uint32_t bar_mask[6]; /* what reads back after all ones is written (0: no BAR) */
};

extern struct fake_pci_fn fake_pci[FAKE_PCI_FNS];
extern bool fake_pci_ports; /* whether arch_pci_ports_present says yes */

/* Forget every function. */
void fake_pci_reset(void);
/* Little-endian stores into a function's configuration space. */
void fake_pci_set32(struct fake_pci_fn *f, unsigned off, uint32_t v);
void fake_pci_set16(struct fake_pci_fn *f, unsigned off, uint16_t v);
