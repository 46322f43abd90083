/* PCI on x86: configuration mechanism #1 (an address written to port 0xcf8 selects a 32-bit
 * register that port 0xcfc reads or writes: bit 31 enable, 23:16 bus, 15:11 device, 10:8
 * function, 7:2 register), uncached mappings of device registers, and the vectors that
 * message-signalled interrupts raise. There is no I/O APIC driver: a device interrupts by
 * writing a message to the local APIC's window at 0xfee00000 (Intel SDM vol. 3A, 11.11),
 * whose address names the destination APIC and whose data names the vector. */
#include "arch/pci.h"
#include "kerrno.h"
#include "printk.h"
#include "spinlock.h"
#include "x86.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define PCI_CONF_ENABLE 0x80000000u

#define MSI_ADDR_BASE 0xfee00000ull
#define MSI_ADDR_DEST_SHIFT 12 /* destination APIC id, bits 19:12 (physical mode) */
#define MSI_MAX_APIC_ID 255    /* an xAPIC message reaches ids 0..255 */
/* Device vectors: above the legacy 8259 range (0x20..0x2f), below the APIC's own (0xef+). */
#define DEV_VEC_FIRST 0x30
#define DEV_VEC_LAST 0xdf
#define DEV_VEC_COUNT (DEV_VEC_LAST - DEV_VEC_FIRST + 1)

static spinlock_t conf_lock = SPINLOCK_INIT;

static struct dev_vector {
	void (*fn)(void *arg);
	void *arg;
} dev_vectors[DEV_VEC_COUNT];
static spinlock_t vec_lock = SPINLOCK_INIT;

static uint32_t conf_address(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return PCI_CONF_ENABLE | (bus & 0xff) << 16 | (dev & 0x1f) << 11 | (fn & 7) << 8 |
	       (off & 0xfc);
}

uint32_t arch_pci_port_read(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	irqflags_t f = spin_lock_irqsave(&conf_lock);
	outl(PCI_CONF_ADDR, conf_address(bus, dev, fn, off));
	uint32_t v = inl(PCI_CONF_DATA);
	spin_unlock_irqrestore(&conf_lock, f);
	return v;
}

void arch_pci_port_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	irqflags_t f = spin_lock_irqsave(&conf_lock);
	outl(PCI_CONF_ADDR, conf_address(bus, dev, fn, off));
	outl(PCI_CONF_DATA, v);
	spin_unlock_irqrestore(&conf_lock, f);
}

/* Mechanism #1 keeps the address register as written (with its enable bit); a machine
 * without it floats the port. Linux's pci_check_type1 makes the same test. */
bool arch_pci_ports_present(void)
{
	irqflags_t f = spin_lock_irqsave(&conf_lock);
	uint32_t old = inl(PCI_CONF_ADDR);
	outl(PCI_CONF_ADDR, PCI_CONF_ENABLE);
	bool ok = inl(PCI_CONF_ADDR) == PCI_CONF_ENABLE;
	outl(PCI_CONF_ADDR, old);
	spin_unlock_irqrestore(&conf_lock, f);
	return ok;
}

#define SMALL_MAPPING (256u << 10)
#define PHYS_ADDR_BITS_MAX 52 /* the architecture's limit (CPUID 0x80000008 may say less) */

void *arch_map_device(paddr_t pa, size_t len)
{
	if (!len || pa + len < pa || (pa + len - 1) >> PHYS_ADDR_BITS_MAX)
		return NULL;
	return len <= SMALL_MAPPING ? mmu_map_mmio(pa, len) : mmu_map_mmio_large(pa, len);
}

/* Every device vector lands here: call its owner, then end the interrupt. */
static void dev_vector_entry(struct trap_frame *tf)
{
	struct dev_vector *d = &dev_vectors[tf->vector - DEV_VEC_FIRST];
	void (*fn)(void *) = __atomic_load_n(&d->fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn(d->arg);
	apic_eoi();
}

int arch_irq_alloc(void (*fn)(void *arg), void *arg)
{
	irqflags_t f = spin_lock_irqsave(&vec_lock);
	int irq = -ENOSPC;
	for (int i = 0; i < DEV_VEC_COUNT && irq < 0; i++) {
		if (dev_vectors[i].fn)
			continue;
		dev_vectors[i].arg = arg;
		__atomic_store_n(&dev_vectors[i].fn, fn, __ATOMIC_RELEASE);
		irq_register(DEV_VEC_FIRST + i, dev_vector_entry);
		irq = i;
	}
	spin_unlock_irqrestore(&vec_lock, f);
	return irq;
}

void arch_irq_free(int irq)
{
	if (irq < 0 || irq >= DEV_VEC_COUNT)
		return;
	irqflags_t f = spin_lock_irqsave(&vec_lock);
	__atomic_store_n(&dev_vectors[irq].fn, NULL, __ATOMIC_RELEASE);
	dev_vectors[irq].arg = NULL;
	spin_unlock_irqrestore(&vec_lock, f);
}

int arch_msi_message(int irq, unsigned cpu, uint64_t *addr, uint32_t *data)
{
	if (irq < 0 || irq >= DEV_VEC_COUNT || cpu >= MAX_CPUS || !cpu_locals[cpu].online)
		return -EINVAL;
	uint32_t apic = cpu_locals[cpu].apic_id;
	if (apic > MSI_MAX_APIC_ID)
		return -EINVAL;
	*addr = MSI_ADDR_BASE | (uint64_t)apic << MSI_ADDR_DEST_SHIFT;
	*data = DEV_VEC_FIRST + (uint32_t)irq; /* fixed delivery, edge */
	return 0;
}
