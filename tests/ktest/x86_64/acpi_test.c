/* In-kernel tests of the MADT reader (test=acpi): hand-made RSDP, XSDT/RSDT and MADT in a
 * kernel buffer (reached, like firmware tables, through the direct map), valid ones and ones
 * broken in each way the reader must survive. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "kerrno.h"
#include "kstring.h"
#include "ktest.h"
#include "smp_priv.h"
#include "x86.h"

#define OFF_RSDP 0
#define OFF_ROOT 64
#define OFF_MADT 128
#define HDR 36

static uint8_t tbl[512] __attribute__((aligned(16)));

static paddr_t pa_of(unsigned off)
{
	return arch_virt_to_phys(tbl + off);
}
static void put32(unsigned off, uint32_t v)
{
	memcpy(tbl + off, &v, 4);
}
static void put64(unsigned off, uint64_t v)
{
	memcpy(tbl + off, &v, 8);
}

static void fix_sum(unsigned off, unsigned len, unsigned sum_off)
{
	uint8_t s = 0;
	tbl[off + sum_off] = 0;
	for (unsigned i = 0; i < len; i++)
		s += tbl[off + i];
	tbl[off + sum_off] = (uint8_t)-s;
}

static void header(unsigned off, const char *sig, uint32_t len)
{
	memcpy(tbl + off, sig, 4);
	put32(off + 4, len);
	tbl[off + 8] = 1;
	memcpy(tbl + off + 10, "MCRKT ", 6);
}

/* A MADT with: lapic 0 enabled, lapic 1 disabled but online-capable, x2apic 300 enabled,
 * lapic 2 enabled, x2apic 2 enabled (a duplicate), lapic 0xff (placeholder). Returns length. */
static unsigned build_madt(void)
{
	/* clang-format off */
	static const uint8_t entries[] = {
		0, 8, 0, 0, 1, 0, 0, 0,                           /* lapic: uid 0, id 0, enabled */
		0, 8, 1, 1, 2, 0, 0, 0,                           /* lapic: id 1, online capable */
		9, 16, 0, 0, 0x2c, 1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, /* x2apic 300, enabled */
		1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0,        /* an IO APIC: ignored */
		0, 8, 3, 2, 1, 0, 0, 0,                           /* lapic: id 2, enabled */
		9, 16, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0,  /* x2apic 2 again */
		0, 8, 5, 0xff, 1, 0, 0, 0,                        /* lapic id 0xff: placeholder */
	};
	/* clang-format on */

	unsigned len = HDR + 8 + sizeof entries;
	header(OFF_MADT, "APIC", len);
	put32(OFF_MADT + HDR, 0xfee00000);
	memcpy(tbl + OFF_MADT + HDR + 8, entries, sizeof entries);
	fix_sum(OFF_MADT, len, 9);
	return len;
}

/* RSDP (revision 2) -> XSDT -> MADT, all checksums right. */
static void build_all(void)
{
	memset(tbl, 0, sizeof tbl);
	build_madt();
	header(OFF_ROOT, "XSDT", HDR + 8);
	put64(OFF_ROOT + HDR, pa_of(OFF_MADT));
	fix_sum(OFF_ROOT, HDR + 8, 9);
	memcpy(tbl + OFF_RSDP, "RSD PTR ", 8);
	tbl[OFF_RSDP + 15] = 2;
	put32(OFF_RSDP + 20, 36);
	put64(OFF_RSDP + 24, pa_of(OFF_ROOT));
	fix_sum(OFF_RSDP, 20, 8);
	fix_sum(OFF_RSDP, 36, 32);
}

KTEST(acpi, madt_cpus_read_in_order)
{
	struct acpi_cpus c;
	build_all();
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == 0);
	KT_EXPECT(c.n == 3);
	KT_EXPECT(c.apic_id[0] == 0 && c.apic_id[1] == 300 && c.apic_id[2] == 2);
	KT_EXPECT(c.online_capable == 1);
	KT_EXPECT(c.dropped == 1);
}

KTEST(acpi, rsdt_used_for_acpi_1)
{
	struct acpi_cpus c;
	build_all();
	header(OFF_ROOT, "RSDT", HDR + 4);
	put32(OFF_ROOT + HDR, (uint32_t)pa_of(OFF_MADT));
	fix_sum(OFF_ROOT, HDR + 4, 9);
	tbl[OFF_RSDP + 15] = 0;
	put32(OFF_RSDP + 16, (uint32_t)pa_of(OFF_ROOT));
	fix_sum(OFF_RSDP, 20, 8);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == 0);
	KT_EXPECT(c.n == 3);
}

KTEST(acpi, bad_checksums_rejected)
{
	struct acpi_cpus c = {.n = 77};
	build_all();
	tbl[OFF_RSDP + 9] ^= 1; /* RSDP */
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	build_all();
	tbl[OFF_MADT + 40] ^= 1; /* MADT body */
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	build_all();
	tbl[OFF_ROOT + 20] ^= 1; /* XSDT */
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	KT_EXPECT(c.n == 77); /* untouched on failure */
}

KTEST(acpi, missing_tables_are_enoent)
{
	struct acpi_cpus c;
	build_all();
	memcpy(tbl + OFF_MADT, "FACP", 4);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -ENOENT);
	build_all();
	memcpy(tbl + OFF_RSDP, "RSD PTX ", 8);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -ENOENT);
}

KTEST(acpi, bad_lengths_rejected)
{
	struct acpi_cpus c;
	build_all();
	put32(OFF_MADT + 4, 0x7fffffff); /* MADT claims 2 GiB */
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	build_all();
	put32(OFF_MADT + 4, 20); /* shorter than its own header */
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	unsigned len = build_madt();
	tbl[OFF_MADT + HDR + 8 + 1] = 0; /* first entry of length 0: must not loop */
	fix_sum(OFF_MADT, len, 9);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	len = build_madt();
	tbl[OFF_MADT + HDR + 8 + 1] = 200; /* runs past the table's end */
	fix_sum(OFF_MADT, len, 9);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
	build_all();
	put64(OFF_ROOT + HDR, 1ul << 52); /* table pointer far outside memory */
	fix_sum(OFF_ROOT, HDR + 8, 9);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -ENOENT);
	KT_EXPECT(acpi_read_cpus(1ul << 52, &c) == -ENOENT);
}

KTEST(acpi, no_enabled_cpu_rejected)
{
	struct acpi_cpus c;
	build_all();
	unsigned len = HDR + 8 + 8;
	header(OFF_MADT, "APIC", len);
	static const uint8_t off_cpu[] = {0, 8, 0, 0, 0, 0, 0, 0};
	memcpy(tbl + OFF_MADT + HDR + 8, off_cpu, sizeof off_cpu);
	fix_sum(OFF_MADT, len, 9);
	KT_EXPECT(acpi_read_cpus(pa_of(OFF_RSDP), &c) == -EINVAL);
}

KTEST(acpi, boot_tables_were_read)
{
	/* The machine's own MADT (QEMU and Bochs have one) lists this CPU. */
	KT_EXPECT(acpi_cpus.n >= 1);
	bool found = false;
	for (unsigned i = 0; i < acpi_cpus.n; i++)
		found |= acpi_cpus.apic_id[i] == cpu_locals[arch_cpu_id()].apic_id;
	KT_EXPECT(found);
}
