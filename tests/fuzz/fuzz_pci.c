/* libFuzzer target for the PCI parsers (kernel/pci): input whose first byte is even is an
 * MCFG table, odd the configuration space of one function (the first 256 bytes after it)
 * plus its BARs' size masks (the 24 bytes after those), enumerated through the fake legacy
 * mechanism of tests/host/fake_pci.c and then searched for every capability id. It aborts
 * when an accepted MCFG window, an accepted BAR or a capability found breaks what the
 * parsers promise; ASan and UBSan catch the rest. Seeds: scripts/fuzz.sh. */
#include "../../kernel/pci/pci_priv.h"
#include "fake_acpi.h"
#include "fake_pci.h"
#include "pci.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define check(cond) check_at(cond, __LINE__)
static void check_at(int cond, int line)
{
	if (!cond) {
		fprintf(stderr, "fuzz_pci: broken invariant at line %d\n", line);
		abort();
	}
}

static void fuzz_mcfg(const uint8_t *data, size_t size)
{
	struct pci_ecam w[8];
	int n = pci_mcfg_parse(data, size, w, 8);
	for (int i = 0; i < n && i < 8; i++) {
		check(w[i].base && !(w[i].base & 0xfffff));
		check(w[i].bus_end >= w[i].bus_start);
	}
}

static void fuzz_function(const uint8_t *data, size_t size)
{
	fake_pci_reset();
	fake_acpi_reset();
	pci_reset_for_test();
	struct fake_pci_fn *f = &fake_pci[0];
	f->present = true;
	memcpy(f->cfg, data, size < 256 ? size : 256);
	if (size > 256)
		memcpy(f->bar_mask, data + 256, size - 256 < 24 ? size - 256 : 24);
	f->cfg[PCI_HEADER_TYPE] &= 0x7f; /* one function: no others to probe */
	if (pci_init() != 1)
		return; /* vendor id 0 or 0xffff: nothing there */
	struct pci_dev *d = pci_find(0xffff, 0xffff, NULL);
	check(d != NULL);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (d->bar[i].size) {
			check(!(d->bar[i].size & (d->bar[i].size - 1)));
			check(!(d->bar[i].base & (d->bar[i].size - 1)));
		}
	for (unsigned id = 0; id < 256; id++) {
		unsigned pos = pci_find_cap(d, (uint8_t)id, 0);
		check(pos == 0 || (pos >= PCI_CAP_MIN && !(pos & 3) && pos < 256));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_function(data + 1, size - 1);
	else
		fuzz_mcfg(data + 1, size - 1);
	return 0;
}
