/* kernel/pci on the host: the MCFG and BAR parsers against every malformed shape, the
 * capability walk against loops and bad pointers, and a whole enumeration through a fake
 * legacy mechanism (tests/host/fake_pci.c) with nonsense in it. */
#include <string.h>
#include "fake_acpi.h"
#include "fake_pci.h"
#include "kerrno.h"
#include "pci.h"
#include "../../kernel/pci/pci_priv.h"
#include "unit.h"

/* An MCFG of n entries, each base/segment/buses as given. */
static size_t make_mcfg(uint8_t *t, unsigned n, const uint64_t *base, const uint8_t *bus)
{
	size_t len = 44 + 16 * n;
	memset(t, 0, len);
	memcpy(t, "MCFG", 4);
	for (unsigned i = 0; i < n; i++) {
		memcpy(t + 44 + 16 * i, &base[i], 8);
		t[44 + 16 * i + 10] = bus[2 * i];
		t[44 + 16 * i + 11] = bus[2 * i + 1];
	}
	return len;
}

TEST(pci_mcfg_parse_good_and_malformed)
{
	uint8_t t[128];
	struct pci_ecam w[2];
	uint64_t base[] = {0xb0000000ull, 0xc0000000ull};
	uint8_t bus[] = {0, 255, 0, 15};
	size_t len = make_mcfg(t, 2, base, bus);
	CHECK_EQ(pci_mcfg_parse(t, len, w, 2), 2);
	CHECK_EQ(w[0].base, 0xb0000000ull);
	CHECK_EQ(w[0].bus_end, 255);
	CHECK_EQ(w[1].bus_end, 15);
	CHECK_EQ(pci_mcfg_parse(t, len, w, 1), 2); /* more than max: counted, not stored */
	CHECK_EQ(pci_mcfg_parse(t, 43, w, 2), -EINVAL);
	CHECK_EQ(pci_mcfg_parse(t, len - 1, w, 2), -EINVAL);
	CHECK_EQ(pci_mcfg_parse(t, 44, w, 2), 0);
	uint64_t zero[] = {0}, odd[] = {0xb0080000ull}, top[] = {0xfffffffffff00000ull};
	uint8_t back[] = {5, 4}, one[] = {0, 0}, two[] = {0, 1};
	CHECK_EQ(pci_mcfg_parse(t, make_mcfg(t, 1, zero, one), w, 2), -EINVAL);
	CHECK_EQ(pci_mcfg_parse(t, make_mcfg(t, 1, odd, one), w, 2), -EINVAL);
	CHECK_EQ(pci_mcfg_parse(t, make_mcfg(t, 1, base, back), w, 2), -EINVAL);
	CHECK_EQ(pci_mcfg_parse(t, make_mcfg(t, 1, top, two), w, 2), -EINVAL);
}

TEST(pci_bar_decode_every_kind_and_nonsense)
{
	struct pci_bar b;
	const char *why;
	CHECK_EQ(pci_bar_decode(0xfebf0000u, 0, 0xffffc000u, 0, &b, &why), 0); /* 32-bit, 16K */
	CHECK_EQ(b.base, 0xfebf0000ull);
	CHECK_EQ(b.size, 0x4000ull);
	CHECK(!b.is64 && !b.io);
	CHECK_EQ(pci_bar_decode(0x0000000cu, 0x8, 0xffffc00cu, 0xffffffffu, &b, &why), 0);
	CHECK(b.is64 && b.prefetch);
	CHECK_EQ(b.base, 0x800000000ull);
	CHECK_EQ(b.size, 0x4000ull);
	CHECK_EQ(pci_bar_decode(0xc001u, 0, 0xffffffe1u, 0, &b, &why), 0); /* I/O, 32 ports */
	CHECK(b.io);
	CHECK_EQ(b.base, 0xc000ull);
	CHECK_EQ(b.size, 0x20ull);
	CHECK_EQ(pci_bar_decode(0, 0, 0, 0, &b, &why), 0); /* no BAR */
	CHECK_EQ(b.size, 0ull);
	CHECK_EQ(pci_bar_decode(0x2u, 0, 0xfffff002u, 0, &b, &why), -EINVAL); /* reserved type */
	CHECK_EQ(pci_bar_decode(0xfe000000u, 0, 0xff0ff000u, 0, &b, &why), -EINVAL); /* holes */
	CHECK(why != NULL);
	CHECK_EQ(pci_bar_decode(0xfe001000u, 0, 0xffffc000u, 0, &b, &why), -EINVAL); /* unaligned */
	CHECK_EQ(pci_bar_decode(0xfc, 0, 0xfffffff0u, 0, &b, &why), -EINVAL);
}

static struct fake_pci_fn *add_fn(unsigned i, unsigned dev, unsigned fn, uint32_t id)
{
	struct fake_pci_fn *f = &fake_pci[i];
	f->present = true;
	f->dev = dev;
	f->fn = fn;
	fake_pci_set32(f, PCI_VENDOR_ID, id);
	return f;
}

/* Capability list: MSI at 0x40 -> MSI-X at 0x50 -> next as given. */
static void caps(struct fake_pci_fn *f, uint8_t first, uint8_t after_msix)
{
	fake_pci_set16(f, PCI_STATUS, PCI_STATUS_CAP_LIST);
	f->cfg[PCI_CAP_PTR] = first;
	f->cfg[0x40] = PCI_CAP_ID_MSI;
	f->cfg[0x41] = 0x50;
	f->cfg[0x50] = PCI_CAP_ID_MSIX;
	f->cfg[0x51] = after_msix;
	fake_pci_set16(f, 0x52, 7); /* 8 entries */
}

TEST(pci_enumeration_survives_nonsense)
{
	fake_pci_reset();
	fake_acpi_reset(); /* no MCFG: the legacy ports */
	pci_reset_for_test();
	struct fake_pci_fn *a = add_fn(0, 0, 0, 0x12378086);
	fake_pci_set32(a, PCI_BAR0, 0xfebf0000u);
	a->bar_mask[0] = 0xffffc000u;
	fake_pci_set32(a, PCI_BAR0 + 4, 0xfe001000u); /* misaligned: refused */
	a->bar_mask[1] = 0xffffc000u;
	fake_pci_set32(a, PCI_BAR0 + 20, 0x4u); /* 64-bit in the last slot: refused */
	a->bar_mask[5] = 0xfffff004u;
	caps(a, 0x40, 0x40); /* loops back to MSI */
	struct fake_pci_fn *b = add_fn(1, 3, 0, 0x10421af4);
	b->cfg[PCI_HEADER_TYPE] = 0x80; /* multi-function */
	caps(b, 0x40, 0x20);		/* points into the header */
	add_fn(2, 3, 2, 0x00011b36);
	struct fake_pci_fn *c = add_fn(3, 4, 0, 0x5845);
	caps(c, 0x41, 0); /* unaligned */
	CHECK_EQ(pci_init(), 4);
	struct pci_dev *d = pci_find(0x8086, 0x1237, NULL);
	REQUIRE(d != NULL);
	CHECK_EQ(d->bar[0].size, 0x4000ull);
	CHECK_EQ(d->bar[1].size, 0ull);
	CHECK_EQ(d->bar[5].size, 0ull);
	CHECK_EQ(d->msix_cap, 0x50);
	CHECK_EQ(d->msix_entries, 8);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0), 0u); /* the loop ends the walk */
	CHECK_EQ(pci_read32(d, PCI_BAR0), 0xfebf0000u);	     /* restored after sizing */
	struct pci_dev *e = pci_find(0x1af4, 0xffff, NULL);
	REQUIRE(e != NULL);
	CHECK_EQ(e->msix_cap, 0x50);
	CHECK_EQ(pci_find_cap(e, PCI_CAP_ID_VENDOR, 0), 0u);
	CHECK(pci_find(0x1b36, 0x0001, NULL) != NULL); /* function 2 of a multi-function */
	struct pci_dev *g = pci_find(0x5845, 0xffff, NULL);
	REQUIRE(g != NULL);
	CHECK_EQ(g->msi_cap, 0);
	CHECK_EQ(pci_irq_setup(g, 0, 0, NULL, NULL), -ENODEV); /* no MSI/MSI-X: no interrupts */
	CHECK(pci_map_bar(g, 0) == NULL);
	CHECK(pci_map_bar(g, 9) == NULL);
	pci_reset_for_test();
}

TEST(pci_no_configuration_access)
{
	fake_pci_reset();
	fake_acpi_reset();
	pci_reset_for_test();
	fake_pci_ports = false;
	CHECK_EQ(pci_init(), -ENODEV);
	fake_pci_reset();
	pci_reset_for_test();
}
