/* The part of ACPI MCRK needs: the list of processors in the MADT, to know which CPUs to start,
 * any other table by signature (include/arch/acpi.h: EINJ), the registers APEI names, and how
 * to power the machine off (the FADT's PM1 control ports and \_S5's sleep type).
 *
 * The firmware's tables hang off the RSDP ("RSD PTR ", found by the loader, or in the EBDA or
 * the BIOS area 0xE0000-0xFFFFF). Its first 20 bytes (ACPI 1.0) carry a checksum and the
 * 32-bit address of the RSDT; revision 2 and later add a length, the 64-bit address of the
 * XSDT and an extended checksum over the whole structure. RSDT and XSDT are ordinary tables:
 * a 36-byte header (signature, length, revision, checksum, ...) followed by 4- or 8-byte
 * physical addresses of the other tables. A table's bytes, header included, sum to 0 mod 256.
 *
 * The MADT (signature "APIC") has the header, the local APIC address and flags (8 bytes), then
 * variable-length entries: a type byte and a length byte, then the body. Type 0 (processor
 * local APIC, 8 bytes) holds the ACPI processor id, an 8-bit APIC id and flags; type 9
 * (processor local x2APIC, 16 bytes) holds a 32-bit x2APIC id, flags and the processor id.
 * Flag bit 0 says the processor is enabled; bit 1 ("online capable") that a disabled one may
 * be hot-added later.
 *
 * Everything is reached through the direct map and checked before it is trusted: the firmware
 * (or a test) may hand over garbage, and the answer to garbage is a warning and one CPU.
 *
 * APEI registers (arch_acpi_read/write) are SystemIO ports or SystemMemory: below the top of
 * the direct map through it (firmware-reserved RAM is cacheable; device space there is uncached
 * by the firmware's MTRRs), above it through an uncached device mapping made on first use. */
#include "arch/acpi.h"
#include "arch/mmu.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "smp_priv.h"
#include "spinlock.h"
#include "x86.h"

#define RSDP_SIG "RSD PTR "
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define SDT_HEADER_LEN 36
#define ACPI_TABLE_MAX (1u << 20) /* no sane root table or MADT comes near this */
#define BDA_EBDA_SEG 0x40e	  /* BIOS data area: segment of the extended BIOS data area */
#define EBDA_SCAN_LEN 1024
#define EBDA_MIN 0x80000
#define EBDA_MAX 0xa0000
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000
#define RSDP_ALIGN 16

#define MADT_FIXED_LEN 8 /* local APIC address, flags */
#define MADT_LAPIC 0
#define MADT_X2APIC 9
#define MADT_LAPIC_LEN 8
#define MADT_X2APIC_LEN 16
#define MADT_ENABLED BIT(0)
#define MADT_ONLINE_CAPABLE BIT(1)
#define XAPIC_BROADCAST 0xff

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length; /* revision >= 2 from here on */
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __packed;

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	uint32_t creator;
	uint32_t creator_revision;
} __packed;

/* FADT (signature "FACP") offsets: the DSDT's 32-bit address, the PM1a and PM1b control
 * ports, and (ACPI 2.0+) the DSDT's 64-bit address. */
#define FADT_DSDT 40
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_X_DSDT 140
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0a
#define AML_ONE_OP 0x01

struct acpi_cpus acpi_cpus;
struct acpi_poweroff acpi_poweroff;
static paddr_t root_pa;	       /* the root table found at boot (0: none) */
static unsigned root_entry_size;

/* The bytes [pa, pa + len) through the direct map, or NULL when they are not all mapped. */
static const uint8_t *acpi_map(paddr_t pa, uint64_t len)
{
	if (!pa || len > ACPI_TABLE_MAX || pa + len < pa || pa + len > mmu_direct_map_top())
		return NULL;
	return arch_phys_to_virt(pa);
}

static bool checksum_ok(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

/* The first valid ACPI 1.0 RSDP in [start, start + len), on a 16-byte boundary, or 0. */
static paddr_t rsdp_scan(paddr_t start, paddr_t len)
{
	const uint8_t *p = acpi_map(start, len);
	if (!p)
		return 0;
	for (paddr_t off = 0; off + RSDP_V1_LEN <= len; off += RSDP_ALIGN)
		if (!memcmp(p + off, RSDP_SIG, 8) && checksum_ok(p + off, RSDP_V1_LEN))
			return start + off;
	return 0;
}

/* Search the EBDA's first KiB, then the BIOS area, as the ACPI spec says. */
static paddr_t rsdp_search(void)
{
	const uint8_t *bda = acpi_map(BDA_EBDA_SEG, 2);
	paddr_t ebda = bda ? (paddr_t)(bda[0] | bda[1] << 8) << 4 : 0;
	paddr_t found = 0;
	if (ebda >= EBDA_MIN && ebda < EBDA_MAX)
		found = rsdp_scan(ebda, EBDA_SCAN_LEN);
	if (!found)
		found = rsdp_scan(BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START);
	return found;
}

/* Check the RSDP and pick the root table: the XSDT (8-byte entries) when the RSDP is ACPI 2+
 * and intact, else the RSDT (4-byte entries). */
static int rsdp_root(paddr_t pa, paddr_t *root, unsigned *entry_size)
{
	const struct rsdp *r = (const void *)acpi_map(pa, RSDP_V1_LEN);
	if (!r || memcmp(r->sig, RSDP_SIG, 8)) {
		printk(KERN_WARNING "acpi: no RSDP signature at %#lx\n", pa);
		return -ENOENT;
	}
	if (!checksum_ok((const uint8_t *)r, RSDP_V1_LEN)) {
		printk(KERN_WARNING "acpi: RSDP at %#lx has a bad checksum\n", pa);
		return -EINVAL;
	}
	if (r->revision >= 2) {
		const uint8_t *ful = acpi_map(pa, RSDP_V2_LEN);
		if (ful && r->length >= RSDP_V2_LEN && r->length <= ACPI_TABLE_MAX &&
		    acpi_map(pa, r->length) && checksum_ok(ful, r->length) && r->xsdt) {
			*root = r->xsdt;
			*entry_size = 8;
			return 0;
		}
		printk(KERN_WARNING "acpi: RSDP 2.0 part at %#lx is bad (length %u); trying the "
				    "RSDT\n",
		       pa, r->length);
	}
	if (!r->rsdt)
		return -ENOENT;
	*root = r->rsdt;
	*entry_size = 4;
	return 0;
}

/* Map and check a whole table: its header, length and checksum. 0 or -EINVAL. */
static int sdt_check(paddr_t pa, const struct sdt_header **out)
{
	const struct sdt_header *h = (const void *)acpi_map(pa, SDT_HEADER_LEN);
	if (!h) {
		printk(KERN_WARNING "acpi: table at %#lx is not in mapped memory\n", pa);
		return -EINVAL;
	}
	if (h->length < SDT_HEADER_LEN || !acpi_map(pa, h->length)) {
		printk(KERN_WARNING "acpi: table %.4s at %#lx has a bad length %u\n", h->sig, pa,
		       h->length);
		return -EINVAL;
	}
	if (!checksum_ok((const uint8_t *)h, h->length)) {
		printk(KERN_WARNING "acpi: table %.4s at %#lx has a bad checksum\n", h->sig, pa);
		return -EINVAL;
	}
	*out = h;
	return 0;
}

/* Find the table with signature sig in the root table. 0, -ENOENT, or -EINVAL when the only
 * ones found are damaged. */
static int find_table(paddr_t root_pa, unsigned entry_size, const char *sig,
		      const struct sdt_header **out)
{
	const struct sdt_header *root;
	int err = sdt_check(root_pa, &root);
	if (err)
		return err;
	if (memcmp(root->sig, entry_size == 8 ? "XSDT" : "RSDT", 4)) {
		printk(KERN_WARNING "acpi: root table at %#lx is \"%.4s\"\n", root_pa, root->sig);
		return -EINVAL;
	}
	unsigned n = (root->length - SDT_HEADER_LEN) / entry_size;
	const uint8_t *entries = (const uint8_t *)root + SDT_HEADER_LEN;
	int result = -ENOENT;
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = 0;
		memcpy(&pa, entries + (size_t)i * entry_size, entry_size); /* may be unaligned */
		const struct sdt_header *h = (const void *)acpi_map(pa, SDT_HEADER_LEN);
		if (!h || memcmp(h->sig, sig, 4))
			continue;
		result = sdt_check(pa, out);
		if (!result)
			return 0;
	}
	return result;
}

static void cpus_add(struct acpi_cpus *c, uint32_t id, uint32_t flags)
{
	if (!(flags & MADT_ENABLED)) {
		c->online_capable += (flags & MADT_ONLINE_CAPABLE) != 0;
		return;
	}
	for (unsigned i = 0; i < c->n; i++) {
		if (c->apic_id[i] == id) { /* listed twice (type 0 and type 9): count once */
			c->dropped++;
			return;
		}
	}
	if (c->n == MAX_CPUS) {
		c->dropped++;
		return;
	}
	c->apic_id[c->n++] = id;
}

/* Walk the MADT's entries into *c. -EINVAL when an entry's length is impossible. */
static int madt_parse(const struct sdt_header *madt, struct acpi_cpus *c)
{
	const uint8_t *p = (const uint8_t *)madt + SDT_HEADER_LEN + MADT_FIXED_LEN;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	if (madt->length < SDT_HEADER_LEN + MADT_FIXED_LEN) {
		printk(KERN_WARNING "acpi: MADT too short (%u bytes)\n", madt->length);
		return -EINVAL;
	}
	while (p < end) {
		if (end - p < 2 || p[1] < 2 || p[1] > end - p) {
			printk(KERN_WARNING "acpi: MADT entry at offset %ld has a bad length\n",
			       (long)(p - (const uint8_t *)madt));
			return -EINVAL;
		}
		uint32_t id, flags;
		if (p[0] == MADT_LAPIC && p[1] >= MADT_LAPIC_LEN) {
			memcpy(&flags, p + 4, 4);
			if (p[3] == XAPIC_BROADCAST) /* placeholder entry some firmware adds */
				flags = 0;
			cpus_add(c, p[3], flags);
		} else if (p[0] == MADT_X2APIC && p[1] >= MADT_X2APIC_LEN) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			cpus_add(c, id, flags);
		}
		p += p[1];
	}
	return 0;
}

int acpi_read_cpus(paddr_t rsdp, struct acpi_cpus *out)
{
	paddr_t root;
	unsigned entry_size;
	const struct sdt_header *madt;
	struct acpi_cpus c;
	int err;

	if (!rsdp)
		rsdp = rsdp_search();
	if (!rsdp) {
		printk(KERN_WARNING "acpi: no RSDP from the loader or in the BIOS areas\n");
		return -ENOENT;
	}
	err = rsdp_root(rsdp, &root, &entry_size);
	if (!err && !root_pa) { /* the first call is the boot's (acpi_init) */
		root_pa = root;
		root_entry_size = entry_size;
	}
	if (!err)
		err = find_table(root, entry_size, "APIC", &madt);
	if (err == -ENOENT)
		printk(KERN_WARNING "acpi: no MADT (\"APIC\" table)\n");
	if (err)
		return err;
	memset(&c, 0, sizeof c);
	err = madt_parse(madt, &c);
	if (err)
		return err;
	if (!c.n) {
		printk(KERN_WARNING "acpi: the MADT lists no enabled processor\n");
		return -EINVAL;
	}
	*out = c;
	return 0;
}

/* One sleep-type element of a package: ByteConst, Zero or One. -1 for anything else. */
static int aml_small_int(const uint8_t *p, const uint8_t *end, unsigned *len)
{
	if (p < end && (*p == 0 || *p == AML_ONE_OP)) {
		*len = 1;
		return *p;
	}
	if (p + 1 < end && *p == AML_BYTE_PREFIX) {
		*len = 2;
		return p[1];
	}
	return -1;
}

/* Find "Name (_S5, Package () {SLP_TYPa, SLP_TYPb, ...})" in the DSDT's AML, as every
 * small kernel does: the name, a PackageOp, its length (1 to 4 bytes, the count in the top two
 * bits of the first), the element count, then the two values. */
static int dsdt_s5(const struct sdt_header *dsdt, struct acpi_poweroff *out)
{
	const uint8_t *p = (const uint8_t *)dsdt + SDT_HEADER_LEN + 2;
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	for (; p + 8 < end; p++) {
		bool named = p[-1] == AML_NAME_OP || (p[-1] == '\\' && p[-2] == AML_NAME_OP);
		if (memcmp(p, "_S5_", 4) || !named)
			continue;
		if (p[4] != AML_PACKAGE_OP)
			continue;
		const uint8_t *q = p + 5 + (p[5] >> 6) + 1 + 1; /* past the length and the count */
		unsigned la, lb;
		int a = aml_small_int(q, end, &la), b = a < 0 ? -1 : aml_small_int(q + la, end, &lb);
		if (a < 0 || b < 0)
			return -EINVAL;
		out->slp_typa = (uint16_t)a;
		out->slp_typb = (uint16_t)b;
		return 0;
	}
	return -ENOENT;
}

/* The power-off registers, from the FADT in the root table acpi_read_cpus found. */
static void read_poweroff(struct acpi_poweroff *out)
{
	size_t len;
	const struct sdt_header *fadt = arch_acpi_table("FACP", &len), *dsdt;
	if (!fadt || len < FADT_PM1B_CNT + 4)
		return;
	const uint8_t *f = (const uint8_t *)fadt;
	uint32_t dsdt32, pm1a, pm1b;
	uint64_t dsdt64 = 0;
	memcpy(&dsdt32, f + FADT_DSDT, 4);
	memcpy(&pm1a, f + FADT_PM1A_CNT, 4);
	memcpy(&pm1b, f + FADT_PM1B_CNT, 4);
	if (fadt->length >= FADT_X_DSDT + 8)
		memcpy(&dsdt64, f + FADT_X_DSDT, 8);
	if (!pm1a || pm1a > 0xffff || pm1b > 0xffff ||
	    sdt_check(dsdt64 ? dsdt64 : dsdt32, &dsdt) || dsdt_s5(dsdt, out))
		return;
	out->pm1a_cnt = (uint16_t)pm1a;
	out->pm1b_cnt = (uint16_t)pm1b;
	out->ok = true;
}

/* Read the CPU list from the ACPI tables at rsdp (0: search for them) into acpi_cpus, and the
 * power-off registers into acpi_poweroff; on any problem warn and leave the CPU list empty,
 * which means "boot CPU only" (without power-off registers, power-off uses the emulator's
 * exit port). Boot CPU, once. */
void acpi_init(paddr_t rsdp)
{
	int err = acpi_read_cpus(rsdp, &acpi_cpus);
	read_poweroff(&acpi_poweroff);
	if (err) {
		memset(&acpi_cpus, 0, sizeof acpi_cpus);
		printk(KERN_WARNING "acpi: no usable processor list (error %d): using the boot CPU "
				    "only\n",
		       err);
		return;
	}
	printk(KERN_INFO "acpi: MADT lists %u enabled CPUs (%u more online-capable, %u dropped)\n",
	       acpi_cpus.n, acpi_cpus.online_capable, acpi_cpus.dropped);
}

const void *arch_acpi_table(const char *sig, size_t *len)
{
	const struct sdt_header *h;

	if (!root_pa || find_table(root_pa, root_entry_size, sig, &h))
		return NULL;
	*len = h->length;
	return h;
}

/* ---- APEI registers ---- */

#define MMIO_SLOTS 16
static struct {
	paddr_t page;
	uint8_t *va;
} mmio_slots[MMIO_SLOTS];
static spinlock_t mmio_lock = SPINLOCK_INIT;

/* A pointer to the bits-wide register at pa, or NULL when it cannot be mapped. */
static volatile void *mem_register(paddr_t pa, unsigned bits)
{
	paddr_t page = ALIGN_DOWN(pa, PAGE_SIZE);
	volatile void *p = NULL;

	if (pa + bits / 8 <= mmu_direct_map_top())
		return arch_phys_to_virt(pa);
	if (ALIGN_DOWN(pa + bits / 8 - 1, PAGE_SIZE) != page)
		return NULL; /* straddles two pages of device space */
	spin_lock(&mmio_lock);
	for (unsigned i = 0; i < MMIO_SLOTS && !p; i++) {
		if (!mmio_slots[i].va) {
			mmio_slots[i].va = mmu_map_mmio(page, PAGE_SIZE);
			mmio_slots[i].page = page;
		}
		if (mmio_slots[i].va && mmio_slots[i].page == page)
			p = mmio_slots[i].va + (pa - page);
	}
	spin_unlock(&mmio_lock);
	return p;
}

static bool io_ok(uint64_t port, unsigned bits)
{
	return (bits == 8 || bits == 16 || bits == 32) && port < 0x10000 && port + bits / 8 <= 0x10000;
}

/* The memory behind a SystemMemory register, or NULL with *err set. */
static volatile void *memory_at(unsigned space, uint64_t addr, unsigned bits, int *err)
{
	volatile void *p;

	*err = -EINVAL;
	if (space != ACPI_SPACE_MEMORY || (bits != 8 && bits != 16 && bits != 32 && bits != 64))
		return NULL;
	p = mem_register(addr, bits);
	*err = p ? 0 : -ENOMEM;
	return p;
}

int arch_acpi_read(unsigned space, uint64_t addr, unsigned bits, uint64_t *val)
{
	volatile void *p;
	int err;

	if (space == ACPI_SPACE_IO) {
		if (!io_ok(addr, bits))
			return -EINVAL;
		*val = bits == 8 ? inb((uint16_t)addr) : bits == 16 ? inw((uint16_t)addr)
								 : inl((uint16_t)addr);
		return 0;
	}
	if (!(p = memory_at(space, addr, bits, &err)))
		return err;
	switch (bits) {
	case 8: *val = *(volatile uint8_t *)p; break;
	case 16: *val = *(volatile uint16_t *)p; break;
	case 32: *val = *(volatile uint32_t *)p; break;
	default: *val = *(volatile uint64_t *)p; break;
	}
	return 0;
}

int arch_acpi_write(unsigned space, uint64_t addr, unsigned bits, uint64_t val)
{
	volatile void *p;
	int err;

	if (space == ACPI_SPACE_IO) {
		if (!io_ok(addr, bits))
			return -EINVAL;
		if (bits == 8)
			outb((uint16_t)addr, (uint8_t)val);
		else if (bits == 16)
			outw((uint16_t)addr, (uint16_t)val);
		else
			outl((uint16_t)addr, (uint32_t)val);
		return 0;
	}
	if (!(p = memory_at(space, addr, bits, &err)))
		return err;
	switch (bits) {
	case 8: *(volatile uint8_t *)p = (uint8_t)val; break;
	case 16: *(volatile uint16_t *)p = (uint16_t)val; break;
	case 32: *(volatile uint32_t *)p = (uint32_t)val; break;
	default: *(volatile uint64_t *)p = val; break;
	}
	return 0;
}
