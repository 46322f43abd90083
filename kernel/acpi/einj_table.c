/* The EINJ table and the APEI interpreter that runs it (ACPI 6.x, "Error Injection").
 *
 * The table is the ACPI header (36 bytes), an injection header (its own size, flags, 3 bytes
 * reserved, the number of entries) and entries of 32 bytes: an action (what the sequence is
 * for: BEGIN_INJECTION_OPERATION, SET_ERROR_TYPE, EXECUTE_OPERATION, ...), an instruction, flags
 * (bit 0: preserve the register's other bits), a generic address (address space, register bit
 * width, bit offset, access size, address), a value and a mask. An action is every entry with
 * that action, run in table order on one value (APEI's context):
 *   READ_REGISTER         value = (register >> bit offset) & mask
 *   READ_REGISTER_VALUE   value = ((register >> bit offset) & mask) == entry value
 *   WRITE_REGISTER        register = (value & mask) << bit offset (other bits kept with preserve)
 *   WRITE_REGISTER_VALUE  value = entry value, then as WRITE_REGISTER
 *   NOOP                  nothing
 * The trigger-action table the firmware hands back has a 16-byte header (header size, revision,
 * table size, entry count) and entries of action TRIGGER_ERROR.
 * Everything is checked before anything runs, as Linux's einj_check_table and apei_check_gar
 * do, plus what Linux leaves to luck: unknown actions and instructions are refused, and a
 * memory register must lie outside the RAM the kernel uses (firmware-reserved memory or device
 * space, the register window) and an I/O register inside the 64 KiB port space. */
#include "arch/acpi.h"
#include "boot_info.h"
#include "einj_priv.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

#define MAX_PHYS_BITS 52
#define IO_PORTS 0x10000ull

static const char *const action_names[EINJ_ACTION_COUNT] = {
    "BEGIN_INJECTION_OPERATION", "GET_TRIGGER_ERROR_ACTION_TABLE", "SET_ERROR_TYPE",
    "GET_ERROR_TYPE", "END_OPERATION", "EXECUTE_OPERATION", "CHECK_BUSY_STATUS",
    "GET_COMMAND_STATUS", "SET_ERROR_TYPE_WITH_ADDRESS", "GET_EXECUTE_OPERATION_TIMINGS",
};
static const char *const insn_names[EINJ_INSN_COUNT] = {
    "READ_REGISTER", "READ_REGISTER_VALUE", "WRITE_REGISTER", "WRITE_REGISTER_VALUE", "NOOP",
};

const char *einj_action_name(unsigned action)
{
	if (action == EINJ_TRIGGER_ERROR)
		return "TRIGGER_ERROR";
	return action < EINJ_ACTION_COUNT ? action_names[action] : "?";
}

bool einj_in_window(uint64_t addr, uint64_t n)
{
	if (addr + n < addr)
		return false;
	for (unsigned i = 0; i < boot_info.n_mmap; i++) {
		const struct mem_range *m = &boot_info.mmap[i];
		if (m->type == MEM_USABLE && addr < m->base + m->len && m->base < addr + n)
			return false;
	}
	return true;
}

/* The one RAM range a trigger table may name: the memory being injected, which some firmware
 * reads to set the error off (Linux lets it through the same way). */
static uint64_t ram_ok_base, ram_ok_len;

static bool register_allowed(uint64_t addr, uint64_t n)
{
	if (ram_ok_len && addr >= ram_ok_base && addr + n <= ram_ok_base + ram_ok_len)
		return true;
	return einj_in_window(addr, n);
}

/* apei_check_gar's rules, then the register window. */
static int check_register(const struct einj_gas *g, struct einj_op *op, char *why, size_t n)
{
	unsigned size = g->access_size, bits;

	if (!g->address)
		return ksnprintf(why, n, "register address is 0"), -EINVAL;
	if (size < 1 || size > 4)
		return ksnprintf(why, n, "access size code %u (want 1..4)", size), -EINVAL;
	bits = 8u << (size - 1);
	/* A common firmware mistake Linux fixes up: a 32- or 64-bit register with a smaller
	 * access size code, at an aligned address. */
	if ((g->bit_width == 32 || g->bit_width == 64) && !g->bit_offset &&
	    IS_ALIGNED(g->address, g->bit_width / 8u) && bits < g->bit_width)
		bits = g->bit_width;
	if ((unsigned)g->bit_width + g->bit_offset > bits || g->bit_offset >= bits)
		return ksnprintf(why, n, "bit width %u + offset %u exceed the %u-bit access",
				 g->bit_width, g->bit_offset, bits), -EINVAL;
	if (g->space == ACPI_SPACE_IO) {
		if (bits > 32 || g->address >= IO_PORTS || g->address + bits / 8 > IO_PORTS)
			return ksnprintf(why, n, "I/O register %#llx/%u is outside the port space",
					 (unsigned long long)g->address, bits), -EINVAL;
	} else if (g->space == ACPI_SPACE_MEMORY) {
		if (g->address >> MAX_PHYS_BITS || !IS_ALIGNED(g->address, bits / 8))
			return ksnprintf(why, n, "memory register %#llx/%u is not a physical "
					 "address of that alignment", (unsigned long long)g->address,
					 bits), -EINVAL;
		if (!register_allowed(g->address, bits / 8))
			return ksnprintf(why, n, "memory register %#llx is in RAM the kernel uses, "
					 "outside any firmware register window",
					 (unsigned long long)g->address), -EINVAL;
	} else {
		return ksnprintf(why, n, "address space %u (want 0 memory or 1 I/O)", g->space),
		       -EINVAL;
	}
	op->space = g->space;
	op->bit_offset = g->bit_offset;
	op->access_bits = (uint8_t)bits;
	op->addr = g->address;
	return 0;
}

/* Check and convert the count entries at e; trigger: only TRIGGER_ERROR actions. */
static int parse_entries(const uint8_t *e, unsigned count, bool trigger, struct einj_prog *p,
			 char *why, size_t n)
{
	char what[96];

	if (count > EINJ_MAX_ENTRIES)
		return ksnprintf(why, n, "%u entries (at most %u)", count, EINJ_MAX_ENTRIES), -EINVAL;
	p->n = 0;
	for (unsigned i = 0; i < count; i++) {
		struct einj_entry_raw raw;
		struct einj_op *op = &p->op[i];

		memcpy(&raw, e + (size_t)i * EINJ_ENTRY_LEN, sizeof raw);
		if (trigger ? raw.action != EINJ_TRIGGER_ERROR : raw.action >= EINJ_ACTION_COUNT)
			return ksnprintf(why, n, "entry %u: unknown action %#x", i, raw.action),
			       -EINVAL;
		if (raw.instruction >= EINJ_INSN_COUNT)
			return ksnprintf(why, n, "entry %u (%s): unknown instruction %u", i,
					 einj_action_name(raw.action), raw.instruction), -EINVAL;
		*op = (struct einj_op){.action = raw.action, .insn = raw.instruction,
				       .preserve = raw.flags & EINJ_FLAG_PRESERVE,
				       .value = raw.value, .mask = raw.mask};
		if (raw.instruction != EINJ_NOOP && check_register(&raw.reg, op, what, sizeof what))
			return ksnprintf(why, n, "entry %u (%s): %s", i,
					 einj_action_name(raw.action), what), -EINVAL;
		p->n++;
	}
	return 0;
}

int einj_parse(const uint8_t *tab, size_t len, struct einj_prog *p, char *why, size_t whylen)
{
	uint32_t hdr_len, count;

	if (len < EINJ_HEADER_LEN)
		return ksnprintf(why, whylen, "table of %zu bytes is shorter than its headers", len),
		       -EINVAL;
	memcpy(&hdr_len, tab + ACPI_HEADER_LEN, 4);
	memcpy(&count, tab + ACPI_HEADER_LEN + 8, 4);
	if (hdr_len != EINJ_INJ_HEADER_LEN && hdr_len != EINJ_HEADER_LEN)
		return ksnprintf(why, whylen, "injection header size %u (want %u or %u)", hdr_len,
				 EINJ_INJ_HEADER_LEN, EINJ_HEADER_LEN), -EINVAL;
	if (count != (len - EINJ_HEADER_LEN) / EINJ_ENTRY_LEN)
		return ksnprintf(why, whylen, "%u entries do not fill the %zu bytes of the table",
				 count, len), -EINVAL;
	return parse_entries(tab + EINJ_HEADER_LEN, count, false, p, why, whylen);
}

int einj_parse_trigger(const uint8_t *tab, size_t len, uint64_t target, uint64_t target_len,
		       struct einj_prog *p, char *why, size_t whylen)
{
	struct einj_trigger_header h;
	int err;

	if (len < sizeof h)
		return ksnprintf(why, whylen, "trigger table shorter than its header"), -EINVAL;
	memcpy(&h, tab, sizeof h);
	if (h.header_size != EINJ_TRIGGER_HEADER_LEN || h.table_size > PAGE_SIZE ||
	    h.table_size < h.header_size || h.table_size > len)
		return ksnprintf(why, whylen, "trigger table header: header size %u, table size "
				 "%u", h.header_size, h.table_size), -EINVAL;
	if (h.entry_count != (h.table_size - h.header_size) / EINJ_ENTRY_LEN)
		return ksnprintf(why, whylen, "trigger table: %u entries in %u bytes",
				 h.entry_count, h.table_size), -EINVAL;
	ram_ok_base = target;
	ram_ok_len = target_len;
	err = parse_entries(tab + h.header_size, h.entry_count, true, p, why, whylen);
	ram_ok_len = 0;
	return err;
}

bool einj_has_action(const struct einj_prog *p, unsigned action)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->op[i].action == action)
			return true;
	return false;
}

/* ---- running ---- */

static uint64_t width_mask(unsigned bits) { return bits >= 64 ? ~0ull : BIT(bits) - 1; }

static void trace_access(const struct einj_op *op, bool write, uint64_t v)
{
	printk(KERN_INFO "einj: %s %s %s %#llx/%u %s %#llx\n", einj_action_name(op->action),
	       insn_names[op->insn], op->space == ACPI_SPACE_IO ? "io" : "mem",
	       (unsigned long long)op->addr, op->access_bits, write ? "<-" : "->",
	       (unsigned long long)v);
}

static int reg_read(const struct einj_op *op, uint64_t *v, bool trace)
{
	int err = arch_acpi_read(op->space, op->addr, op->access_bits, v);

	if (!err && trace)
		trace_access(op, false, *v);
	return err;
}

static int reg_write(const struct einj_op *op, uint64_t v, bool trace)
{
	int err = arch_acpi_write(op->space, op->addr, op->access_bits, v);

	if (!err && trace)
		trace_access(op, true, v);
	return err;
}

/* WRITE_REGISTER's bits: value masked and shifted, merged with the register when preserve. */
static int write_field(const struct einj_op *op, uint64_t value, bool trace)
{
	uint64_t field = op->mask << op->bit_offset, v = (value & op->mask) << op->bit_offset;

	if (op->preserve) {
		uint64_t old;
		int err = reg_read(op, &old, trace);
		if (err)
			return err;
		v |= old & ~field;
	}
	return reg_write(op, v & width_mask(op->access_bits), trace);
}

static int run_one(const struct einj_op *op, uint64_t *value, bool trace)
{
	uint64_t v = 0;
	int err = 0;

	switch (op->insn) {
	case EINJ_READ_REGISTER:
	case EINJ_READ_REGISTER_VALUE:
		err = reg_read(op, &v, trace);
		v = (v >> op->bit_offset) & op->mask;
		if (!err)
			*value = op->insn == EINJ_READ_REGISTER ? v : v == op->value;
		break;
	case EINJ_WRITE_REGISTER_VALUE:
		*value = op->value;
		err = write_field(op, *value, trace);
		break;
	case EINJ_WRITE_REGISTER:
		err = write_field(op, *value, trace);
		break;
	default: /* NOOP */
		break;
	}
	return err;
}

int einj_run(const struct einj_prog *p, unsigned action, uint64_t *value, bool trace)
{
	bool found = false;

	for (unsigned i = 0; i < p->n; i++) {
		if (p->op[i].action != action)
			continue;
		found = true;
		int err = run_one(&p->op[i], value, trace);
		if (err)
			return err;
	}
	return found ? 0 : -ENOENT;
}
