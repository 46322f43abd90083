/* The arch interface for PCI devices: configuration space through the legacy ports, device
 * registers mapped uncached, and message-signalled interrupts (MSI/MSI-X) to a CPU's local
 * APIC. kernel/pci decides everything else (ECAM through the MCFG table, enumeration, BARs,
 * capabilities); arch/x86_64/pci.c implements these and tests/host/fake_pci.c fakes them. */
#pragma once
#include "../types.h"

/* Whether the legacy configuration mechanism (x86: ports 0xcf8/0xcfc) answers. Boot. */
bool arch_pci_ports_present(void);
/* The aligned 32-bit configuration register at off (0..252) of bus:dev.fn through the legacy
 * mechanism; a missing function reads all ones. Any context but #MC/NMI (one global lock). */
uint32_t arch_pci_port_read(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void arch_pci_port_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);

/* Kernel address of len bytes of device registers at physical pa, mapped uncached (small
 * ranges in 4 KiB pages, large ones such as an ECAM window in 2 MiB pages). NULL when the
 * device region has no room or pa is beyond the physical address width. Process context. */
void *arch_map_device(paddr_t pa, size_t len);

/* A device interrupt: a vector whose arrival calls fn(arg) in IRQ context on the CPU the
 * message names, then ends the interrupt. Returns a handle >= 0, or -ENOSPC when every
 * device vector is taken. Process context. */
int arch_irq_alloc(void (*fn)(void *arg), void *arg);
/* Give the vector back; the device must no longer send it. Process context. */
void arch_irq_free(int irq);
/* The message a device writes (address, data) to raise irq on CPU cpu: an edge-triggered
 * fixed interrupt to that CPU's local APIC. 0, or -EINVAL (no such irq or CPU). */
int arch_msi_message(int irq, unsigned cpu, uint64_t *addr, uint32_t *data);
