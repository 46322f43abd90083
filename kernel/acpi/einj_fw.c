/* The firmware backend of EINJ (include/einj.h): the platform's EINJ table, checked once at
 * boot (einj_table.c) and run for each injection in the order Linux 6.1 runs it
 * (__einj_error_inject):
 *   BEGIN_INJECTION_OPERATION (if the table has it);
 *   the error type and its parameters: with an ACPI 5 table, written into the
 *     SET_ERROR_TYPE_WITH_ADDRESS structure (the memory its WRITE_REGISTER entry names: type,
 *     vendor extension offset, flags, APIC id, memory address and mask, PCIe SBDF), else
 *     SET_ERROR_TYPE with the type as its value;
 *   EXECUTE_OPERATION, then CHECK_BUSY_STATUS until bit 0 clears (every 10 ms for at most
 *     1 s, or as GET_EXECUTE_OPERATION_TIMINGS says: bits 63:32 the longest the platform
 *     takes, 31:0 the usual time, in microseconds, as ERST encodes them), else -EIO;
 *   GET_COMMAND_STATUS: 0 success, 1 the platform refused (-EBUSY), 2 bad parameters (-EINVAL);
 *   GET_TRIGGER_ERROR_ACTION_TABLE, and unless notrigger, that table's TRIGGER_ERROR entries;
 *   END_OPERATION (if the table has it).
 * einj.trace=1 on the command line prints every register access ("einj: ACTION INSTRUCTION
 * mem|io ADDRESS/BITS <- or -> VALUE"), which is how the tests check the sequence. */
#include "arch/acpi.h"
#include "boot_info.h"
#include "einj.h"
#include "einj_priv.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "task.h"

#define NS_PER_US 1000ull
#define BUSY_TIMEOUT_US 1000000ull /* Linux's FIRMWARE_TIMEOUT */
#define BUSY_POLL_US 10000ull
#define BUSY_POLL_MIN_US 1000ull

static struct einj_prog prog;	 /* the EINJ table, checked */
static struct einj_prog trigger; /* the trigger table of the injection under way */
static uint8_t trigger_buf[PAGE_SIZE];
static uint64_t setwa; /* the SET_ERROR_TYPE_WITH_ADDRESS structure; 0: an ACPI 4 table */
static char vendor_text[96];
static bool trace;

static int run(unsigned action, uint64_t *v) { return einj_run(&prog, action, v, trace); }

static int run_optional(unsigned action, uint64_t *v)
{
	int err = run(action, v);
	return err == -ENOENT ? 0 : err;
}

static int fw_available(uint32_t *types)
{
	uint64_t v = 0;
	int err = run(EINJ_GET_ERROR_TYPE, &v);

	if (!err)
		*types = (uint32_t)v;
	return err;
}

static int setwa_put(unsigned off, unsigned bits, uint64_t v)
{
	if (trace)
		printk(KERN_INFO "einj: SET_ERROR_TYPE_WITH_ADDRESS WRITE_REGISTER mem %#llx/%u <- "
				 "%#llx\n",
		       (unsigned long long)(setwa + off), bits, (unsigned long long)v);
	return arch_acpi_write(ACPI_SPACE_MEMORY, setwa + off, bits, v);
}

/* Which parameter a type names when flags is 0 (processor: APIC id, memory: address and
 * mask, PCI Express: SBDF; none for the others). */
static uint32_t implied_flags(uint32_t type)
{
	if (type & (EINJ_PROC_CORRECTED | EINJ_PROC_UNCORRECTED | EINJ_PROC_FATAL))
		return EINJ_FLAG_APICID;
	if (type & EINJ_MEM_TYPES)
		return EINJ_FLAG_MEM;
	if (type & (0x40 | 0x80 | 0x100)) /* the PCI Express types */
		return EINJ_FLAG_PCIE_SBDF;
	return 0;
}

/* The field param1 (and param2) fill for one flag value, then the flags themselves. */
static int set_one_kind(uint32_t kind, const struct einj_request *r)
{
	int err = 0;

	if (kind == EINJ_FLAG_APICID)
		err = setwa_put(SETWA_APICID, 32, r->param1);
	if (kind == EINJ_FLAG_MEM) {
		err = setwa_put(SETWA_MEM_ADDR, 64, r->param1);
		if (!err)
			err = setwa_put(SETWA_MEM_RANGE, 64, r->param2);
	}
	if (kind == EINJ_FLAG_PCIE_SBDF)
		err = setwa_put(SETWA_PCIE_SBDF, 32, r->param1);
	return err;
}

/* ACPI 5: the parameters go into the structure, field by field, in the order Linux writes
 * them. A vendor type fills what vendor_flags names; explicit flags fill all four parameters;
 * otherwise the type decides. Fields not written keep what they held. */
static int set_params(const struct einj_request *r)
{
	int err = setwa_put(SETWA_TYPE, 32, r->type);
	uint32_t kind;

	if (err)
		return err;
	if (!(r->type & EINJ_VENDOR_TYPE) && r->flags) {
		uint64_t v[] = {r->flags, r->param1, r->param2, r->param3, r->param4};
		static const uint8_t off[] = {SETWA_FLAGS, SETWA_MEM_ADDR, SETWA_MEM_RANGE,
					      SETWA_APICID, SETWA_PCIE_SBDF};
		static const uint8_t bits[] = {32, 64, 64, 32, 32};
		for (unsigned i = 0; i < ARRAY_SIZE(v) && !err; i++)
			err = setwa_put(off[i], bits[i], v[i]);
		return err;
	}
	kind = (r->type & EINJ_VENDOR_TYPE) ? r->vendor_flags : implied_flags(r->type);
	err = set_one_kind(kind, r);
	if (!err && (kind || (r->type & EINJ_VENDOR_TYPE)))
		err = setwa_put(SETWA_FLAGS, 32, kind);
	return err;
}

/* CHECK_BUSY_STATUS until the busy bit clears; -EIO when the firmware takes too long. */
static int wait_not_busy(void)
{
	uint64_t timeout_us = BUSY_TIMEOUT_US, poll_us = BUSY_POLL_US, t = 0, waited = 0;

	if (einj_has_action(&prog, EINJ_GET_EXECUTE_TIMINGS) &&
	    run(EINJ_GET_EXECUTE_TIMINGS, &t) == 0 && t) {
		timeout_us = MAX(t >> 32, BUSY_POLL_MIN_US);
		poll_us = MIN(MAX(t & 0xffffffffull, BUSY_POLL_MIN_US), timeout_us);
	}
	for (unsigned polls = 0;; polls++) {
		uint64_t v = 0;
		/* Trace the first poll only: a stuck firmware would fill the log. */
		int err = einj_run(&prog, EINJ_CHECK_BUSY_STATUS, &v, trace && polls == 0);
		if (err)
			return err;
		if (!(v & EINJ_BUSY))
			return 0;
		if (waited >= timeout_us) {
			printk(KERN_ERR "einj: firmware still busy after %llu ms (%u polls of "
					"CHECK_BUSY_STATUS): giving up\n",
			       (unsigned long long)(waited / 1000), polls + 1);
			return -EIO;
		}
		sleep_ns(poll_us * NS_PER_US);
		waited += poll_us;
	}
}

/* Copy the trigger table at pa (firmware memory, at most a page) and run it. */
static int run_trigger(uint64_t pa, const struct einj_request *r)
{
	struct einj_trigger_header h;
	uint64_t target = r->param1 & r->param2, v = 0;
	char why[128];
	int err = -EINVAL;

	if (!einj_in_window(pa, sizeof h) || pa + PAGE_SIZE < pa) {
		printk(KERN_ERR "einj: trigger table at %#llx is in RAM the kernel uses\n",
		       (unsigned long long)pa);
		return -EINVAL;
	}
	for (unsigned off = 0; off < sizeof h; off += 4)
		if ((err = arch_acpi_read(ACPI_SPACE_MEMORY, pa + off, 32, &v)) == 0)
			memcpy(trigger_buf + off, &v, 4);
	memcpy(&h, trigger_buf, sizeof h);
	if (!err && (h.table_size > PAGE_SIZE || !einj_in_window(pa, h.table_size)))
		err = -EINVAL;
	for (unsigned off = sizeof h; !err && off + 4 <= h.table_size; off += 4)
		if ((err = arch_acpi_read(ACPI_SPACE_MEMORY, pa + off, 32, &v)) == 0)
			memcpy(trigger_buf + off, &v, 4);
	if (!err)
		err = einj_parse_trigger(trigger_buf, h.table_size, target, ~r->param2 + 1,
					 &trigger, why, sizeof why);
	if (err) {
		printk(KERN_ERR "einj: invalid trigger error action table at %#llx: %s\n",
		       (unsigned long long)pa, err == -EINVAL ? why : "unreadable");
		return err;
	}
	if (!trigger.n)
		return 0; /* nothing to trigger: the error waits for an access */
	v = 0;
	return einj_run(&trigger, EINJ_TRIGGER_ERROR, &v, trace);
}

static int fw_inject(const struct einj_request *r)
{
	uint64_t v = 0;
	int err = run_optional(EINJ_BEGIN_INJECTION, &v);

	if (err)
		return err;
	v = r->type;
	err = setwa ? set_params(r) : run(EINJ_SET_ERROR_TYPE, &v);
	if (!err)
		err = run(EINJ_EXECUTE_OPERATION, &v);
	if (!err)
		err = wait_not_busy();
	if (!err)
		err = run(EINJ_GET_COMMAND_STATUS, &v);
	if (err)
		return err;
	if (v == EINJ_STATUS_FAIL)
		return -EBUSY;
	if (v == EINJ_STATUS_INVALID)
		return -EINVAL;
	err = run(EINJ_GET_TRIGGER_TABLE, &v);
	if (!err && !r->notrigger)
		err = run_trigger(v, r);
	if (!err)
		err = run_optional(EINJ_END_OPERATION, &v);
	return err;
}

static struct einj_backend fw_backend = {
	.name = "firmware",
	.available = fw_available,
	.inject = fw_inject,
};

/* The structure of SET_ERROR_TYPE_WITH_ADDRESS: the memory its WRITE_REGISTER entry names. */
static uint64_t find_setwa(void)
{
	for (unsigned i = 0; i < prog.n; i++) {
		const struct einj_op *op = &prog.op[i];
		if (op->action == EINJ_SET_ERROR_TYPE_WITH_ADDRESS &&
		    op->insn == EINJ_WRITE_REGISTER && op->space == ACPI_SPACE_MEMORY)
			return op->addr;
	}
	return 0;
}

/* The vendor extension a SET_ERROR_TYPE_WITH_ADDRESS structure may point to, as Linux shows it
 * in the "vendor" file. */
static void read_vendor(void)
{
	uint64_t off = 0, sbdf = 0, ids = 0, rev = 0;

	if (arch_acpi_read(ACPI_SPACE_MEMORY, setwa + SETWA_VENDOR_OFFSET, 32, &off) || !off ||
	    !einj_in_window(setwa + off, VENDOR_EXT_LEN) ||
	    arch_acpi_read(ACPI_SPACE_MEMORY, setwa + off + 4, 32, &sbdf) ||
	    arch_acpi_read(ACPI_SPACE_MEMORY, setwa + off + 8, 32, &ids) ||
	    arch_acpi_read(ACPI_SPACE_MEMORY, setwa + off + 12, 8, &rev))
		return;
	ksnprintf(vendor_text, sizeof vendor_text,
		  "%x:%x:%x.%x vendor_id=%x device_id=%x rev_id=%x\n", (unsigned)(sbdf >> 24),
		  (unsigned)(sbdf >> 16) & 0xff, (unsigned)(sbdf >> 11) & 0x1f,
		  (unsigned)(sbdf >> 8) & 0x7, (unsigned)ids & 0xffff, (unsigned)(ids >> 16),
		  (unsigned)rev);
	fw_backend.vendor = vendor_text;
}

/* A table that cannot inject is refused at boot rather than at the first write. */
static const char *missing_action(void)
{
	static const uint8_t needed[] = {EINJ_GET_ERROR_TYPE, EINJ_EXECUTE_OPERATION,
					 EINJ_CHECK_BUSY_STATUS, EINJ_GET_COMMAND_STATUS,
					 EINJ_GET_TRIGGER_TABLE};

	for (unsigned i = 0; i < ARRAY_SIZE(needed); i++)
		if (!einj_has_action(&prog, needed[i]))
			return einj_action_name(needed[i]);
	if (!setwa && !einj_has_action(&prog, EINJ_SET_ERROR_TYPE))
		return einj_action_name(EINJ_SET_ERROR_TYPE);
	return NULL;
}

const struct einj_backend *einj_fw_probe(void)
{
	size_t len = 0;
	const uint8_t *t = arch_acpi_table("EINJ", &len);
	const char *missing;
	char why[128], v[4];

	trace = cmdline_get(boot_info.cmdline, "einj.trace", v, sizeof v) && strcmp(v, "0");
	if (!t)
		return NULL;
	if (einj_parse(t, len, &prog, why, sizeof why)) {
		printk(KERN_ERR "einj: EINJ table rejected: %s\n", why);
		return NULL;
	}
	setwa = find_setwa();
	if (setwa && !einj_in_window(setwa, SETWA_LEN)) {
		printk(KERN_ERR "einj: EINJ table rejected: SET_ERROR_TYPE_WITH_ADDRESS structure at "
				"%#llx is in RAM the kernel uses\n", (unsigned long long)setwa);
		return NULL;
	}
	missing = missing_action();
	if (missing) {
		printk(KERN_ERR "einj: EINJ table rejected: no %s action\n", missing);
		return NULL;
	}
	fw_backend.params = setwa != 0;
	fw_backend.vendor = NULL;
	if (setwa)
		read_vendor();
	printk(KERN_INFO "einj: EINJ table: %u entries, %s\n", prog.n,
	       setwa ? "parameters in the ACPI 5 SET_ERROR_TYPE_WITH_ADDRESS structure"
		     : "no parameters (ACPI 4: error type only)");
	return &fw_backend;
}
