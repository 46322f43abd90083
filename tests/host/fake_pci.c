/* Fake PCI configuration space, device mappings and vectors for the host tests
 * (tests/host/fake_pci.h). */
#include "fake_pci.h"
#include <stdlib.h>
#include <string.h>
#include "arch/pci.h"
#include "kerrno.h"

struct fake_pci_fn fake_pci[FAKE_PCI_FNS];
bool fake_pci_ports = true;
static void (*vec_fn[4])(void *);

void fake_pci_reset(void)
{
	memset(fake_pci, 0, sizeof(fake_pci));
	fake_pci_ports = true;
	memset(vec_fn, 0, sizeof(vec_fn));
}

void fake_pci_set32(struct fake_pci_fn *f, unsigned off, uint32_t v)
{
	memcpy(f->cfg + off, &v, 4);
}
void fake_pci_set16(struct fake_pci_fn *f, unsigned off, uint16_t v)
{
	memcpy(f->cfg + off, &v, 2);
}

static struct fake_pci_fn *lookup(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < FAKE_PCI_FNS; i++)
		if (fake_pci[i].present && bus == 0 && fake_pci[i].dev == dev &&
		    fake_pci[i].fn == fn)
			return &fake_pci[i];
	return NULL;
}

bool arch_pci_ports_present(void)
{
	return fake_pci_ports;
}

uint32_t arch_pci_port_read(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	struct fake_pci_fn *f = lookup(bus, dev, fn);
	uint32_t v = 0xffffffffu;
	if (f)
		memcpy(&v, f->cfg + (off & 0xfc), 4);
	return v;
}

void arch_pci_port_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	struct fake_pci_fn *f = lookup(bus, dev, fn);
	if (!f)
		return;
	off &= 0xfc;
	unsigned bar = (off - 0x10) / 4;
	if (off >= 0x10 && off < 0x28 && v == 0xffffffffu)
		v = f->bar_mask[bar];
	if (off == 0x04) /* the status half is read-only or write-one-to-clear: kept */
		v = (v & 0xffff) | (uint32_t)(f->cfg[6] | f->cfg[7] << 8) << 16;
	memcpy(f->cfg + off, &v, 4);
}

void *arch_map_device(paddr_t pa, size_t len)
{
	(void)pa;
	return len ? calloc(1, len) : NULL; /* the tests map little, and never twice */
}

int arch_irq_alloc(void (*fn)(void *arg), void *arg)
{
	(void)arg;
	for (int i = 0; i < 4; i++)
		if (!vec_fn[i]) {
			vec_fn[i] = fn;
			return i;
		}
	return -ENOSPC;
}

void arch_irq_free(int irq)
{
	vec_fn[irq] = NULL;
}

int arch_msi_message(int irq, unsigned cpu, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000ull | (uint64_t)cpu << 12;
	*data = 0x30u + (uint32_t)irq;
	return 0;
}
