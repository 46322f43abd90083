/* Message-signalled interrupts. MCRK drives no I/O APIC, so a device's pin (INTx) reaches
 * no CPU: a driver gets interrupts through MSI-X, or MSI when the device has only that, or
 * not at all (pci_irq_setup says -ENODEV and the driver refuses the device aloud).
 *
 * MSI-X (PCI 3.0, 6.8.2): the capability's control word holds the table size (bits 10:0,
 * minus one), function mask (14) and enable (15); the next dword names the BAR (bits 2:0)
 * and offset of a table of 16-byte entries: message address (64 bits), data, and a vector
 * control word whose bit 0 masks the entry. MSI (6.8.1): one message, whose address and
 * data sit in the capability itself (data at +8, or at +12 when bit 7 says the address has
 * 64 bits). The message itself comes from the arch (arch_msi_message). */
#include "arch/pci.h"
#include "kerrno.h"
#include "pci.h"
#include "pci_priv.h"
#include "printk.h"

#define MSIX_CTRL 2
#define MSIX_CTRL_SIZE_MASK 0x7ffu
#define MSIX_CTRL_FUNC_MASK BIT(14)
#define MSIX_CTRL_ENABLE BIT(15)
#define MSIX_TABLE 4
#define MSIX_BIR_MASK 7u
#define MSIX_ENTRY_DWORDS 4
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3
#define MSIX_ENTRY_MASKED BIT(0)

#define MSI_CTRL 2
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_CTRL_MME_MASK (7u << 4)
#define MSI_CTRL_64BIT BIT(7)
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12

void pci_note_irq_caps(struct pci_dev *d)
{
	d->msi_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSI, 0);
	d->msix_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (d->msix_cap)
		d->msix_entries =
		    (pci_read16(d, d->msix_cap + MSIX_CTRL) & MSIX_CTRL_SIZE_MASK) + 1;
}

/* The MSI-X table through its BAR, mapped on first use; NULL (said why) when it cannot be. */
static volatile uint32_t *msix_table(struct pci_dev *d)
{
	if (d->msix_table)
		return d->msix_table;
	uint32_t t = pci_read32(d, d->msix_cap + MSIX_TABLE);
	unsigned bir = t & MSIX_BIR_MASK, off = t & ~MSIX_BIR_MASK;
	uint64_t need = off + (uint64_t)d->msix_entries * MSIX_ENTRY_DWORDS * 4;
	uint8_t *bar = bir < PCI_NUM_BARS && need <= d->bar[bir].size ? pci_map_bar(d, bir) : NULL;
	if (!bar) {
		printk(KERN_WARNING "pci: %02x:%02x.%u: MSI-X table (BAR%u + %#x, %u entries) is "
				    "outside a usable BAR\n",
		       d->bus, d->dev, d->fn, bir, off, d->msix_entries);
		return NULL;
	}
	d->msix_table = (volatile uint32_t *)(bar + off);
	return d->msix_table;
}

static int msix_setup(struct pci_dev *d, unsigned entry, int irq, uint64_t addr, uint32_t data)
{
	volatile uint32_t *e = msix_table(d);
	if (!e)
		return -ENODEV;
	e += entry * MSIX_ENTRY_DWORDS;
	e[MSIX_ENTRY_CTRL] |= MSIX_ENTRY_MASKED;
	e[MSIX_ENTRY_ADDR_LO] = (uint32_t)addr;
	e[MSIX_ENTRY_ADDR_HI] = (uint32_t)(addr >> 32);
	e[MSIX_ENTRY_DATA] = data;
	uint16_t ctrl = pci_read16(d, d->msix_cap + MSIX_CTRL);
	pci_write16(d, d->msix_cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FUNC_MASK);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	e[MSIX_ENTRY_CTRL] &= ~MSIX_ENTRY_MASKED;
	return irq;
}

static int msi_setup(struct pci_dev *d, int irq, uint64_t addr, uint32_t data)
{
	unsigned c = d->msi_cap;
	uint16_t ctrl = pci_read16(d, c + MSI_CTRL);
	if (!(ctrl & MSI_CTRL_64BIT) && addr >> 32)
		return -EINVAL;
	pci_write32(d, c + MSI_ADDR_LO, (uint32_t)addr);
	if (ctrl & MSI_CTRL_64BIT)
		pci_write32(d, c + MSI_ADDR_HI, (uint32_t)(addr >> 32));
	pci_write16(d, c + (ctrl & MSI_CTRL_64BIT ? MSI_DATA_64 : MSI_DATA_32), (uint16_t)data);
	pci_write16(d, c + MSI_CTRL, (ctrl & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	return irq;
}

int pci_irq_setup(struct pci_dev *d, unsigned entry, unsigned cpu, void (*fn)(void *arg), void *arg)
{
	if (!d->msix_cap && !d->msi_cap) {
		printk(KERN_WARNING "pci: %02x:%02x.%u has neither MSI-X nor MSI, and MCRK has no "
				    "I/O APIC for its pin: no interrupts\n",
		       d->bus, d->dev, d->fn);
		return -ENODEV;
	}
	if (d->msix_cap ? entry >= d->msix_entries : entry != 0)
		return -EINVAL;
	int irq = arch_irq_alloc(fn, arg);
	if (irq < 0)
		return irq;
	uint64_t addr;
	uint32_t data;
	int err = arch_msi_message(irq, cpu, &addr, &data);
	if (!err)
		err = d->msix_cap ? msix_setup(d, entry, irq, addr, data)
				  : msi_setup(d, irq, addr, data);
	if (err < 0)
		arch_irq_free(irq);
	return err;
}

void pci_irq_free(struct pci_dev *d, unsigned entry, int irq)
{
	if (d->msix_cap && d->msix_table && entry < d->msix_entries)
		d->msix_table[entry * MSIX_ENTRY_DWORDS + MSIX_ENTRY_CTRL] |= MSIX_ENTRY_MASKED;
	else if (!d->msix_cap && d->msi_cap)
		pci_write16(d, d->msi_cap + MSI_CTRL,
			    pci_read16(d, d->msi_cap + MSI_CTRL) & ~MSI_CTRL_ENABLE);
	arch_irq_free(irq);
}
