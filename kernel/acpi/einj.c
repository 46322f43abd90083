/* The EINJ interface at Linux's paths (include/einj.h), over whichever backend einj_init chose.
 *
 * /sys/kernel/debug/apei/einj/ holds, as on Linux 6.1 (drivers/acpi/apei/einj.c):
 *   available_error_type  one line per type the backend offers, "0x00000010\tMemory ..."
 *   error_type            the type to inject: one type bit (bit 31 may add a vendor type);
 *                         a non-vendor type must be available; bits above 31 are refused
 *   error_inject          write any number: inject (error_type must be set)
 *   flags, param1..param4, notrigger   with a backend that takes parameters (ACPI 5
 *                         SET_ERROR_TYPE_WITH_ADDRESS, or the emulator)
 *   vendor, vendor_flags  when the firmware has a vendor extension
 *   backend               (MCRK) "firmware" or "emulator"
 * and /sys/firmware/acpi/tables/EINJ has the table's bytes when there is one.
 * Before injecting a memory error (a memory type, or flags with the memory bit) Linux insists
 * that param2 masks at least a page and that param1 & param2 lies in RAM; flags may only hold
 * the three defined bits. Each refusal is -EINVAL and changes nothing. Numbers are written by
 * the control-file rules of include/ctl.h (C syntax; junk is refused, where Linux 6.1's debugfs
 * took it as 0; a 32-bit file refuses a larger value, where Linux truncates it). One injection
 * runs at a time. Process context throughout. */
#include "arch/acpi.h"
#include "boot_info.h"
#include "ctl.h"
#include "einj.h"
#include "kerrno.h"
#include "kstring.h"
#include "mce_core.h"
#include "printk.h"
#include "task.h"
#include "vfs.h"

#define EINJ_DIR "/sys/kernel/debug/apei/einj/"
#define EINJ_TABLE_FILE "/sys/firmware/acpi/tables/EINJ"
#define NS_PER_MS 1000000ull

static const char *const type_names[EINJ_TYPE_NAMES] = {
    "Processor Correctable",	     "Processor Uncorrectable non-fatal",
    "Processor Uncorrectable fatal", "Memory Correctable",
    "Memory Uncorrectable non-fatal", "Memory Uncorrectable fatal",
    "PCI Express Correctable",	     "PCI Express Uncorrectable non-fatal",
    "PCI Express Uncorrectable fatal", "Platform Correctable",
    "Platform Uncorrectable non-fatal", "Platform Uncorrectable fatal",
};

static const struct einj_backend *backend;
static struct einj_request req; /* what the files hold (type: error_type) */
static uint32_t notrigger_word; /* a 32-bit file, as on Linux; non-zero: no trigger */
static uint32_t inject_busy;

const struct einj_backend *einj_backend(void) { return backend; }

/* ---- Linux's checks ---- */

/* Whether [base, base + size) lies in usable RAM (a size of 0 means the byte at base). */
static bool in_ram(uint64_t base, uint64_t size)
{
	uint64_t end = size ? base + size : base + 1;

	if (end < base)
		return false;
	for (unsigned i = 0; i < boot_info.n_mmap; i++) {
		const struct mem_range *m = &boot_info.mmap[i];
		if (m->type == MEM_USABLE && base >= m->base && end <= m->base + m->len)
			return true;
	}
	return false;
}

/* error_type: one type bit, available unless it is a vendor type. */
static int check_type(uint64_t val)
{
	uint32_t tval = (uint32_t)val & ~(uint32_t)EINJ_VENDOR_TYPE, avail = 0;
	int err;

	if (val >> 32 || (tval & (tval - 1)))
		return -EINVAL;
	if (val & EINJ_VENDOR_TYPE)
		return 0;
	err = backend->available(&avail);
	if (err)
		return err;
	return (val & avail) ? 0 : -EINVAL;
}

/* What Linux checks before it injects (einj_error_inject). */
static int check_request(const struct einj_request *r)
{
	uint64_t base, size;

	if (r->flags & ~(uint32_t)EINJ_FLAGS_ALL)
		return -EINVAL;
	if (!backend->params)
		return 0; /* no address goes to the firmware */
	if (r->type & EINJ_VENDOR_TYPE) {
		if (r->vendor_flags != EINJ_FLAG_MEM)
			return 0;
	} else if (!(r->type & EINJ_MEM_TYPES) && !(r->flags & EINJ_FLAG_MEM)) {
		return 0;
	}
	base = r->param1 & r->param2;
	size = ~r->param2 + 1;
	if ((r->param2 & PAGE_MASK) != PAGE_MASK || !in_ram(base, size))
		return -EINVAL;
	return 0;
}

static int inject(void)
{
	struct einj_request r = req;
	int err;

	r.notrigger = notrigger_word != 0;
	if (!r.type)
		return -EINVAL;
	err = check_request(&r);
	if (err)
		return err;
	while (__atomic_exchange_n(&inject_busy, 1, __ATOMIC_ACQUIRE))
		sleep_ns(NS_PER_MS);
	err = backend->inject(&r);
	__atomic_store_n(&inject_busy, 0, __ATOMIC_RELEASE);
	return err;
}

/* ---- the files ---- */

static int show_available(const struct ctl_file *f, struct ctl_buf *b)
{
	uint32_t avail = 0;
	int err = backend->available(&avail);

	(void)f;
	if (err)
		return err;
	for (unsigned i = 0; i < EINJ_TYPE_NAMES; i++)
		if (avail & BIT(i))
			ctl_printf(b, "0x%08x\t%s\n", (unsigned)BIT(i), type_names[i]);
	return 0;
}

static int show_type(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "0x%x\n", req.type);
	return 0;
}

static long store_type(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t val;
	int err = ctl_parse_u64(buf, n, 0, &val);

	(void)f;
	if (!err)
		err = check_type(val);
	if (err)
		return err;
	req.type = (uint32_t)val;
	return (long)n;
}

static long store_inject(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t val; /* any number: Linux ignores it */
	int err = ctl_parse_u64(buf, n, 0, &val);

	(void)f;
	if (!err)
		err = inject();
	return err ? err : (long)n;
}

/* flags, notrigger, vendor_flags (32 bits) and param1..4 (64 bits): f->field, f->max. */
static int show_hex(const struct ctl_file *f, struct ctl_buf *b)
{
	if (f->max == UINT32_MAX)
		ctl_printf(b, "0x%08x\n", *(uint32_t *)f->field);
	else
		ctl_printf(b, "0x%016llx\n", (unsigned long long)*(uint64_t *)f->field);
	return 0;
}

static long store_hex(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t val;
	int err = ctl_parse_range(buf, n, 0, f->max, &val);

	if (err)
		return err;
	if (f->max == UINT32_MAX)
		*(uint32_t *)f->field = (uint32_t)val;
	else
		*(uint64_t *)f->field = val;
	return (long)n;
}

static int show_backend(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "%s\n", backend->name);
	return 0;
}

static int show_vendor(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "%s", backend->vendor);
	return 0;
}

static const struct ctl_file base_files[] = {
    {EINJ_DIR "available_error_type", show_available, NULL, NULL, 0, 0},
    {EINJ_DIR "error_type", show_type, store_type, NULL, 0, 0},
    {EINJ_DIR "error_inject", NULL, store_inject, NULL, 0, 0},
    {EINJ_DIR "backend", show_backend, NULL, NULL, 0, 0},
};
static const struct ctl_file param_files[] = {
    {EINJ_DIR "flags", show_hex, store_hex, &req.flags, 1, UINT32_MAX},
    {EINJ_DIR "param1", show_hex, store_hex, &req.param1, 1, UINT64_MAX},
    {EINJ_DIR "param2", show_hex, store_hex, &req.param2, 1, UINT64_MAX},
    {EINJ_DIR "param3", show_hex, store_hex, &req.param3, 1, UINT64_MAX},
    {EINJ_DIR "param4", show_hex, store_hex, &req.param4, 1, UINT64_MAX},
    {EINJ_DIR "notrigger", show_hex, store_hex, &notrigger_word, 1, UINT32_MAX},
};
static const struct ctl_file vendor_files[] = {
    {EINJ_DIR "vendor", show_vendor, NULL, NULL, 0, 0},
    {EINJ_DIR "vendor_flags", show_hex, store_hex, &req.vendor_flags, 1, UINT32_MAX},
};

/* /sys/firmware/acpi/tables/EINJ: the table's bytes. */
static const uint8_t *table;
static size_t table_len;

static long read_table(void *priv, void *buf, size_t n, uint64_t off)
{
	const uint8_t *t = table;
	size_t len = table_len;

	(void)priv;
	if (!t || off >= len)
		return 0;
	n = MIN(n, (size_t)(len - off));
	memcpy(buf, t + off, n);
	return (long)n;
}

static const struct vfs_node_ops table_ops = {.read = read_table, .root_only = true}; /* 0400 */

/* auto: the firmware's table when there is one (a table it rejects leaves no EINJ, as on
 * Linux), the emulator when there is none; or what einj.backend names. */
static const struct einj_backend *choose(const char *want)
{
	if (!strcmp(want, "emulator"))
		return einj_emu_probe();
	if (!strcmp(want, "firmware") || (!strcmp(want, "auto") && table))
		return einj_fw_probe();
	if (!strcmp(want, "auto"))
		return einj_emu_probe();
	if (strcmp(want, "off"))
		printk(KERN_ERR "einj: einj.backend=%s: want auto, firmware, emulator or off\n", want);
	return NULL;
}

/* The EINJ part of the boot's "recovery-capable" line: 1 when the firmware's table is in use. */
static int summary(char *detail, size_t size)
{
	uint32_t types = 0;
	unsigned n = 0;

	if (backend && !strcmp(backend->name, "firmware")) {
		if (backend->available(&types) == 0)
			for (; types; types &= types - 1)
				n++;
		ksnprintf(detail, size, "%u error types%s", n,
			  backend->params ? "" : " (ACPI 4: no address)");
		return 1;
	}
	ksnprintf(detail, size, "%s", table ? "the table is refused or not used (einj: above)"
				: backend ? "the poison emulator stands in" : "");
	return 0;
}

void einj_init(void)
{
	char want[16] = "auto";

	table = arch_acpi_table("EINJ", &table_len);
	if (table)
		vfs_register_node(EINJ_TABLE_FILE, &table_ops, NULL);
	cmdline_get(boot_info.cmdline, "einj.backend", want, sizeof want);
	backend = choose(want);
	mce_summary_set_einj(summary);
	if (!backend) {
		printk(KERN_INFO "einj: no error injection (einj.backend=%s)\n", want);
		return;
	}
	ctl_register(base_files, ARRAY_SIZE(base_files), "einj");
	if (backend->params)
		ctl_register(param_files, ARRAY_SIZE(param_files), "einj");
	if (backend->vendor)
		ctl_register(vendor_files, ARRAY_SIZE(vendor_files), "einj");
	printk(KERN_INFO "einj: error injection through the %s at " EINJ_DIR "\n",
	       !strcmp(backend->name, "firmware") ? "firmware's EINJ table" : "poison emulator");
}
