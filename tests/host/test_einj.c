/* Host tests of EINJ's table and interpreter (kernel/acpi/einj_table.c) and its firmware
 * backend (kernel/acpi/einj_fw.c) over the recording register file of fake_acpi.c: every
 * refusal of a malformed table, each instruction's semantics, and whole injections in Linux
 * 6.1's order against a firmware the test plays (busy, refused, invalid, trigger tables, the
 * vendor extension). The interface's own checks and the emulator are in test_einj_emu.c. */
#include "../../kernel/acpi/einj_priv.h"
#include "arch/acpi.h"
#include "boot_info.h"
#include "einj.h"
#include "fake_acpi.h"
#include "kerrno.h"
#include "unit.h"
#include <string.h>

#define W FAKE_ACPI_MEM_BASE
#define RAM_BASE 0x100000ull
#define RAM_END 0x10000000ull

/* ---- a table builder ---- */

static uint8_t tab[4096];
static size_t tab_len;
static unsigned tab_n;

static void tab_begin(void)
{
	memset(tab, 0, sizeof tab);
	memcpy(tab, "EINJ", 4);
	tab_len = EINJ_HEADER_LEN;
	tab_n = 0;
}

/* An entry for a bits-wide access to addr in space (reg_bits: the GAS bit width). */
static void ent(uint8_t action, uint8_t insn, uint8_t space, uint64_t addr, unsigned bits,
		uint64_t value, uint64_t mask, uint8_t flags)
{
	struct einj_entry_raw e = {
		.action = action, .instruction = insn, .flags = flags,
		.reg = {space, (uint8_t)bits, 0, (uint8_t)(bits == 8 ? 1 : bits == 16 ? 2 : bits == 32 ? 3 : 4),
			addr},
		.value = value, .mask = mask};
	memcpy(tab + tab_len, &e, sizeof e);
	tab_len += sizeof e;
	tab_n++;
}

static struct einj_entry_raw *last_ent(void)
{
	return (struct einj_entry_raw *)(tab + tab_len - EINJ_ENTRY_LEN);
}

static void tab_end(void)
{
	uint32_t len = (uint32_t)tab_len, hdr = EINJ_INJ_HEADER_LEN;

	memcpy(tab + 4, &len, 4);
	memcpy(tab + ACPI_HEADER_LEN, &hdr, 4);
	memcpy(tab + ACPI_HEADER_LEN + 8, &tab_n, 4);
}

/* The firmware a good table describes: registers in the fake window. */
#define R_SETWA (W + 0x000)
#define R_TYPES (W + 0x080)
#define R_BUSY (W + 0x088)
#define R_STATUS (W + 0x090)
#define R_ETYPE (W + 0x098)
#define R_TRIG_PTR (W + 0x0a0)
#define R_TIMINGS (W + 0x0a8)
#define R_TRIGGER (W + 0x100)
#define R_FIRED (W + 0x300)
#define DOORBELL 0xb2

static void good_table(bool acpi5)
{
	tab_begin();
	ent(EINJ_BEGIN_INJECTION, EINJ_NOOP, 0, 0, 8, 0, 0, 0);
	ent(EINJ_GET_ERROR_TYPE, EINJ_READ_REGISTER, ACPI_SPACE_MEMORY, R_TYPES, 32, 0, ~0ull, 0);
	if (acpi5)
		ent(EINJ_SET_ERROR_TYPE_WITH_ADDRESS, EINJ_WRITE_REGISTER, ACPI_SPACE_MEMORY, R_SETWA,
		    32, 0, ~0ull, 0);
	else
		ent(EINJ_SET_ERROR_TYPE, EINJ_WRITE_REGISTER, ACPI_SPACE_MEMORY, R_ETYPE, 32, 0,
		    0xffffffff, 0);
	ent(EINJ_EXECUTE_OPERATION, EINJ_WRITE_REGISTER_VALUE, ACPI_SPACE_IO, DOORBELL, 8, 0x9c,
	    0xff, 0);
	ent(EINJ_CHECK_BUSY_STATUS, EINJ_READ_REGISTER, ACPI_SPACE_MEMORY, R_BUSY, 64, 0, 1, 0);
	ent(EINJ_GET_COMMAND_STATUS, EINJ_READ_REGISTER, ACPI_SPACE_MEMORY, R_STATUS, 32, 0, 0xff, 0);
	ent(EINJ_GET_TRIGGER_TABLE, EINJ_READ_REGISTER, ACPI_SPACE_MEMORY, R_TRIG_PTR, 64, 0, ~0ull, 0);
	ent(EINJ_END_OPERATION, EINJ_WRITE_REGISTER_VALUE, ACPI_SPACE_IO, DOORBELL, 8, 0xe0, 0xff, 0);
	tab_end();
}

/* A trigger table at R_TRIGGER with n entries writing 0x7e to R_FIRED. */
static void trigger_table(unsigned n, uint32_t header_size)
{
	struct einj_trigger_header h = {header_size, 1, 16 + n * EINJ_ENTRY_LEN, n};
	struct einj_entry_raw e = {.action = EINJ_TRIGGER_ERROR,
				   .instruction = EINJ_WRITE_REGISTER_VALUE,
				   .reg = {ACPI_SPACE_MEMORY, 64, 0, 4, R_FIRED},
				   .value = 0x7e, .mask = ~0ull};

	memcpy(fake_acpi_mem + (R_TRIGGER - W), &h, sizeof h);
	for (unsigned i = 0; i < n; i++)
		memcpy(fake_acpi_mem + (R_TRIGGER - W) + 16 + i * EINJ_ENTRY_LEN, &e, sizeof e);
	fake_acpi_poke(R_TRIG_PTR, 8, R_TRIGGER);
}

/* usable RAM at [RAM_BASE, RAM_END); the window is outside it. */
static void ram_setup(void)
{
	memset(&boot_info, 0, sizeof boot_info);
	boot_info.mmap[0] = (struct mem_range){RAM_BASE, RAM_END - RAM_BASE, MEM_USABLE};
	boot_info.n_mmap = 1;
}

static struct einj_prog prog;
static char why[160];

static int parse(void) { return einj_parse(tab, tab_len, &prog, why, sizeof why); }

/* ---- parsing ---- */

TEST(einj_table_good_parses)
{
	ram_setup();
	good_table(true);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(prog.n, 8);
	CHECK(einj_has_action(&prog, EINJ_EXECUTE_OPERATION));
	CHECK(!einj_has_action(&prog, EINJ_SET_ERROR_TYPE));
	CHECK_EQ(prog.op[3].access_bits, 8);
	CHECK_EQ(prog.op[3].space, ACPI_SPACE_IO);
}

TEST(einj_table_refuses_bad_headers_and_lengths)
{
	uint32_t v;

	ram_setup();
	good_table(true);
	CHECK_EQ(einj_parse(tab, EINJ_HEADER_LEN - 1, &prog, why, sizeof why), -EINVAL);
	CHECK(strstr(why, "shorter than its headers"));
	v = 99;
	memcpy(tab + ACPI_HEADER_LEN, &v, 4);
	CHECK_EQ(parse(), -EINVAL);
	CHECK(strstr(why, "injection header size 99"));
	v = EINJ_HEADER_LEN; /* Linux accepts the size with or without the ACPI header */
	memcpy(tab + ACPI_HEADER_LEN, &v, 4);
	CHECK_EQ(parse(), 0);
	v = tab_n + 1;
	memcpy(tab + ACPI_HEADER_LEN + 8, &v, 4);
	CHECK_EQ(parse(), -EINVAL);
	CHECK(strstr(why, "entries do not fill"));
}

/* Each malformed entry: edit the last entry of a good table, then parse. */
static const char *refusal(void (*edit)(struct einj_entry_raw *e))
{
	ram_setup();
	good_table(true);
	edit(last_ent());
	return parse() == -EINVAL ? why : NULL;
}

static void e_action(struct einj_entry_raw *e) { e->action = 0x42; }
static void e_trigger_action(struct einj_entry_raw *e) { e->action = EINJ_TRIGGER_ERROR; }
static void e_insn(struct einj_entry_raw *e) { e->instruction = 7; }
static void e_zero(struct einj_entry_raw *e) { e->reg.address = 0; }
static void e_size0(struct einj_entry_raw *e) { e->reg.access_size = 0; }
static void e_size5(struct einj_entry_raw *e) { e->reg.access_size = 5; }
static void e_overflow(struct einj_entry_raw *e) { e->reg.bit_offset = 4; }
static void e_io64(struct einj_entry_raw *e) { e->reg.access_size = 4, e->reg.bit_width = 64; }
static void e_io_end(struct einj_entry_raw *e) { e->reg.address = 0xffff, e->reg.access_size = 2, e->reg.bit_width = 16; }
static void e_io_wrap(struct einj_entry_raw *e) { e->reg.address = ~0ull; }
static void e_offset_full(struct einj_entry_raw *e) { e->reg.bit_width = 0, e->reg.bit_offset = 8; }
static void e_space(struct einj_entry_raw *e) { e->reg.space = 2; }
static void e_in_ram(struct einj_entry_raw *e) { e->reg.space = ACPI_SPACE_MEMORY, e->reg.address = 0x200000; }
static void e_unaligned(struct einj_entry_raw *e)
{
	e->reg.space = ACPI_SPACE_MEMORY, e->reg.address = W + 2, e->reg.access_size = 3,
	e->reg.bit_width = 32;
}

TEST(einj_table_refuses_each_bad_entry)
{
	const char *w;

	CHECK((w = refusal(e_action)) && strstr(w, "unknown action 0x42"));
	CHECK((w = refusal(e_trigger_action)) && strstr(w, "unknown action 0xff"));
	CHECK((w = refusal(e_insn)) && strstr(w, "unknown instruction 7"));
	CHECK((w = refusal(e_zero)) && strstr(w, "register address is 0"));
	CHECK((w = refusal(e_size0)) && strstr(w, "access size code 0"));
	CHECK((w = refusal(e_size5)) && strstr(w, "access size code 5"));
	CHECK((w = refusal(e_overflow)) && strstr(w, "exceed the 8-bit access"));
	CHECK((w = refusal(e_io64)) && strstr(w, "outside the port space"));
	CHECK((w = refusal(e_io_end)) && strstr(w, "outside the port space"));
	CHECK((w = refusal(e_io_wrap)) && strstr(w, "outside the port space"));
	CHECK((w = refusal(e_offset_full)) && strstr(w, "offset 8 exceed the 8-bit access"));
	CHECK((w = refusal(e_space)) && strstr(w, "address space 2"));
	CHECK((w = refusal(e_in_ram)) && strstr(w, "in RAM the kernel uses"));
	CHECK((w = refusal(e_unaligned)) && strstr(w, "alignment"));
	CHECK(refusal(e_action) && strstr(why, "entry 7 (?)") == NULL && strstr(why, "entry 7"));
}

TEST(einj_table_fixes_up_small_access_size_as_linux_does)
{
	ram_setup();
	good_table(true);
	last_ent()->reg = (struct einj_gas){ACPI_SPACE_MEMORY, 32, 0, 1, W + 0x40};
	CHECK_EQ(parse(), 0);
	CHECK_EQ(prog.op[prog.n - 1].access_bits, 32); /* byte access code on a 32-bit register */
	last_ent()->reg.address = W + 0x41;		/* not aligned: no fix-up, 32 > 8 */
	CHECK_EQ(parse(), -EINVAL);
}

/* ---- the instructions ---- */

static uint64_t run_one_insn(uint8_t insn, uint64_t value, uint64_t mask, uint8_t offset,
			     uint8_t flags, uint64_t in)
{
	struct einj_prog p = {0};
	uint64_t v = in;

	p.op[0] = (struct einj_op){EINJ_EXECUTE_OPERATION, insn, flags & EINJ_FLAG_PRESERVE,
				   ACPI_SPACE_MEMORY, offset, 32, W + 0x40, value, mask};
	p.n = 1;
	CHECK_EQ(einj_run(&p, EINJ_EXECUTE_OPERATION, &v, false), 0);
	return v;
}

TEST(einj_run_each_instruction)
{
	fake_acpi_reset();
	fake_acpi_poke(W + 0x40, 4, 0xabcd1234);
	CHECK_EQ(run_one_insn(EINJ_READ_REGISTER, 0, 0xff, 8, 0, 0), 0x12);
	CHECK_EQ(run_one_insn(EINJ_READ_REGISTER_VALUE, 0x12, 0xff, 8, 0, 0), 1);
	CHECK_EQ(run_one_insn(EINJ_READ_REGISTER_VALUE, 0x13, 0xff, 8, 0, 0), 0);
	CHECK_EQ(run_one_insn(EINJ_WRITE_REGISTER, 0, 0xff, 4, 0, 0x1a5), 0x1a5);
	CHECK_EQ(fake_acpi_peek(W + 0x40, 4), 0xa50); /* masked, shifted, the rest cleared */
	fake_acpi_poke(W + 0x40, 4, 0xffffffff);
	CHECK_EQ(run_one_insn(EINJ_WRITE_REGISTER_VALUE, 0x5, 0xf, 8, EINJ_FLAG_PRESERVE, 7), 5);
	CHECK_EQ(fake_acpi_peek(W + 0x40, 4), 0xfffff5ff); /* preserved around the field */
	CHECK_EQ(fake_acpi_log[fake_acpi_nlog - 2].write, false); /* the preserving read */
	CHECK_EQ(run_one_insn(EINJ_NOOP, 9, 9, 0, 0, 3), 3);
	struct einj_prog empty = {0};
	uint64_t v = 0;
	CHECK_EQ(einj_run(&empty, EINJ_BEGIN_INJECTION, &v, false), -ENOENT);
}

/* ---- whole injections through the firmware backend ---- */

/* The firmware the test plays: the doorbell sets the busy word and status as configured. */
static struct {
	uint64_t status;
	int busy_polls; /* CHECK_BUSY reads that still see busy (-1: forever) */
} fw;

/* CHECK_BUSY: the busy word reads 1 until busy_polls reads have gone by. */
static void fw_on_read(unsigned space, uint64_t addr, unsigned bits)
{
	(void)space, (void)bits;
	if (addr != R_BUSY)
		return;
	fake_acpi_poke(R_BUSY, 8, fw.busy_polls != 0);
	if (fw.busy_polls > 0)
		fw.busy_polls--;
}

static void fw_on_write(unsigned space, uint64_t addr, unsigned bits, uint64_t val)
{
	(void)bits;
	if (space == ACPI_SPACE_IO && addr == DOORBELL && val == 0x9c)
		fake_acpi_poke(R_STATUS, 4, fw.status);
}

static const struct einj_backend *fw_setup(bool acpi5, uint64_t status, int busy_polls)
{
	ram_setup();
	fake_acpi_reset();
	good_table(acpi5);
	fake_acpi_table_ptr = tab;
	fake_acpi_table_len = tab_len;
	fake_acpi_poke(R_TYPES, 4, 0x38);
	fw.status = status;
	fw.busy_polls = busy_polls;
	fake_acpi_on_write = fw_on_write;
	fake_acpi_on_read = fw_on_read;
	return einj_fw_probe();
}

static int fw_inject(const struct einj_backend *b, uint32_t flags, bool notrigger)
{
	struct einj_request r = {.type = EINJ_MEM_UNCORRECTED, .flags = flags,
				 .param1 = 0x123440, .param2 = ~0ull, .notrigger = notrigger};
	fake_acpi_nlog = 0;
	return b->inject(&r);
}

/* The access log, one letter per access: the order of the actions shows in which registers
 * were touched. */
static int logged_at(uint64_t addr, bool write)
{
	for (unsigned i = 0; i < fake_acpi_nlog; i++)
		if (fake_acpi_log[i].addr == addr && fake_acpi_log[i].write == write)
			return (int)i;
	return -1;
}

TEST(einj_fw_acpi5_runs_actions_in_linux_order)
{
	const struct einj_backend *b = fw_setup(true, EINJ_STATUS_SUCCESS, 0);
	uint32_t types = 0;

	REQUIRE(b);
	CHECK(b->params && !b->vendor);
	CHECK_EQ(b->available(&types), 0);
	CHECK_EQ(types, 0x38);
	trigger_table(1, 16);
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, false), 0);
	/* type, flags, address, mask, APIC id, SBDF into the structure, then the doorbell, the
	 * busy word, the status, the trigger table's pointer, the trigger, the end. */
	int type = logged_at(R_SETWA + SETWA_TYPE, true), flags = logged_at(R_SETWA + SETWA_FLAGS, true);
	int addr = logged_at(R_SETWA + SETWA_MEM_ADDR, true), bell = logged_at(DOORBELL, true);
	int busy = logged_at(R_BUSY, false), st = logged_at(R_STATUS, false);
	int ptr = logged_at(R_TRIG_PTR, false), fired = logged_at(R_FIRED, true);
	CHECK(type >= 0 && type < flags && flags < addr && addr < bell && bell < busy);
	CHECK(busy < st && st < ptr && ptr < fired);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_MEM_ADDR, 8), 0x123440);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_MEM_RANGE, 8), ~0ull);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_FLAGS, 4), EINJ_FLAG_MEM);
	CHECK_EQ(fake_acpi_peek(R_FIRED, 8), 0x7e);
	CHECK_EQ(fake_acpi_log[fake_acpi_nlog - 1].addr, DOORBELL); /* END_OPERATION last */
	CHECK_EQ(fake_acpi_log[fake_acpi_nlog - 1].val, 0xe0);
}

TEST(einj_fw_parameters_by_type_and_flags)
{
	const struct einj_backend *b = fw_setup(true, 0, 0);
	struct einj_request r = {.type = EINJ_PROC_UNCORRECTED, .param1 = 7, .notrigger = true};

	REQUIRE(b);
	trigger_table(0, 16);
	fake_acpi_poke(R_SETWA + SETWA_MEM_ADDR, 8, 0x5555);
	CHECK_EQ(b->inject(&r), 0); /* flags 0, a processor type: param1 is the APIC id */
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_APICID, 4), 7);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_FLAGS, 4), EINJ_FLAG_APICID);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_MEM_ADDR, 8), 0x5555); /* not touched */
	r = (struct einj_request){.type = EINJ_VENDOR_TYPE | 1, .vendor_flags = EINJ_FLAG_PCIE_SBDF,
				  .param1 = 0x100, .notrigger = true};
	CHECK_EQ(b->inject(&r), 0);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_PCIE_SBDF, 4), 0x100);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_FLAGS, 4), EINJ_FLAG_PCIE_SBDF);
	CHECK_EQ(fake_acpi_peek(R_SETWA + SETWA_TYPE, 4), EINJ_VENDOR_TYPE | 1);
}

TEST(einj_fw_acpi4_sets_the_type_only)
{
	const struct einj_backend *b = fw_setup(false, 0, 0);

	REQUIRE(b);
	CHECK(!b->params);
	trigger_table(0, 16);
	CHECK_EQ(fw_inject(b, 0, false), 0);
	CHECK_EQ(fake_acpi_peek(R_ETYPE, 4), EINJ_MEM_UNCORRECTED);
	CHECK(logged_at(R_SETWA, true) < 0);
	CHECK(logged_at(R_ETYPE, true) < logged_at(DOORBELL, true));
}

/* The firmware's answers. Waiting for a busy firmware sleeps, which the host's fake CPU cannot
 * do in the middle of a call: the rows einj-fw-busy and einj-fw-busy-default (QEMU) time it. */
TEST(einj_fw_command_status)
{
	const struct einj_backend *b = fw_setup(true, EINJ_STATUS_FAIL, 0);

	REQUIRE(b);
	trigger_table(0, 16);
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, true), -EBUSY);
	fw.status = EINJ_STATUS_INVALID;
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, true), -EINVAL);
	fw.status = EINJ_STATUS_SUCCESS;
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, true), 0);
	CHECK(logged_at(R_FIRED, true) < 0);
}

TEST(einj_fw_trigger_tables)
{
	const struct einj_backend *b = fw_setup(true, 0, 0);

	REQUIRE(b);
	trigger_table(2, 16);
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, true), 0); /* notrigger: not read at all */
	CHECK(logged_at(R_TRIGGER, false) < 0 && logged_at(R_FIRED, true) < 0);
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, false), 0);
	CHECK_EQ(fake_acpi_peek(R_FIRED, 8), 0x7e);
	trigger_table(1, 20); /* a header size Linux refuses */
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, false), -EINVAL);
	fake_acpi_poke(R_TRIG_PTR, 8, 0x200000); /* in RAM */
	CHECK_EQ(fw_inject(b, EINJ_FLAG_MEM, false), -EINVAL);
	/* An entry that names the memory being injected is allowed (firmware reads it to set the
	 * error off); any other RAM address is not. */
	struct einj_trigger_header h = {16, 1, 48, 1};
	struct einj_entry_raw e = {EINJ_TRIGGER_ERROR, EINJ_READ_REGISTER, 0, 0,
				   {ACPI_SPACE_MEMORY, 64, 0, 4, 0x123440}, 0, ~0ull};
	struct einj_prog p;
	uint8_t t[48];
	memcpy(t, &h, 16);
	memcpy(t + 16, &e, 32);
	CHECK_EQ(einj_parse_trigger(t, 48, 0x123440, 8, &p, why, sizeof why), 0);
	CHECK_EQ(einj_parse_trigger(t, 48, 0x123000, 8, &p, why, sizeof why), -EINVAL);
}

TEST(einj_fw_rejects_tables_that_cannot_inject)
{
	ram_setup();
	fake_acpi_reset();
	tab_begin();
	ent(EINJ_GET_ERROR_TYPE, EINJ_READ_REGISTER, ACPI_SPACE_MEMORY, R_TYPES, 32, 0, ~0ull, 0);
	tab_end();
	fake_acpi_table_ptr = tab;
	fake_acpi_table_len = tab_len;
	CHECK(einj_fw_probe() == NULL); /* no EXECUTE_OPERATION, ... */
	fake_acpi_table_ptr = NULL;
	CHECK(einj_fw_probe() == NULL);
	good_table(true);
	struct einj_entry_raw *e = (struct einj_entry_raw *)(tab + EINJ_HEADER_LEN) + 2;
	CHECK_EQ(e->action, EINJ_SET_ERROR_TYPE_WITH_ADDRESS);
	e->reg.address = RAM_BASE - 8; /* its register is outside RAM, the structure is not */
	fake_acpi_table_ptr = tab;
	fake_acpi_table_len = tab_len;
	CHECK(einj_fw_probe() == NULL);
	e->reg.address = W + 0xff00; /* fine */
	CHECK(einj_fw_probe() != NULL);
}

TEST(einj_fw_vendor_extension_text)
{
	const struct einj_backend *b;

	ram_setup();
	fake_acpi_reset();
	good_table(true);
	fake_acpi_table_ptr = tab;
	fake_acpi_table_len = tab_len;
	fake_acpi_poke(R_SETWA + SETWA_VENDOR_OFFSET, 4, 0x40);
	fake_acpi_poke(R_SETWA + 0x40 + 4, 4, (3u << 24) | (2u << 16) | (5u << 11) | (1u << 8));
	fake_acpi_poke(R_SETWA + 0x40 + 8, 4, 0x1234u << 16 | 0x8086);
	fake_acpi_poke(R_SETWA + 0x40 + 12, 1, 0x7);
	b = einj_fw_probe();
	REQUIRE(b && b->vendor);
	CHECK(!strcmp(b->vendor, "3:2:5.1 vendor_id=8086 device_id=1234 rev_id=7\n"));
}
