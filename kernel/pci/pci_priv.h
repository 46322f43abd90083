/* Private interface between the files of kernel/pci. */
#pragma once
#include "pci.h"

#define PCI_LEGACY_SPACE 256 /* bytes of configuration space per function without ECAM */
#define PCI_ECAM_SPACE 4096  /* and with it */
#define PCI_CAP_MIN 0x40     /* capabilities live past the standard header */
#define PCI_CAP_TTL 48	     /* at most this many entries (Linux's PCI_FIND_CAP_TTL) */

/* pci.c: the 32-bit configuration register at off (aligned) of bus:dev.fn, through ECAM or
 * the legacy mechanism; all ones for one that does not exist. */
uint32_t pci_conf_read(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_conf_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);
/* msi.c: note d's MSI and MSI-X capabilities (offsets, table size). Enumeration. */
void pci_note_irq_caps(struct pci_dev *d);
/* pci.c: forget every function and the configuration access (host tests re-enumerate). */
void pci_reset_for_test(void);
