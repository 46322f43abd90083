/* Private to kernel/acpi's EINJ code (einj_table.c, einj_fw.c) and to their host tests and
 * fuzz target: the table format, the checked program it becomes, and the interpreter. */
#pragma once
#include "types.h"

/* Injection actions (ACPI 6.x, "Injection Actions"). */
enum einj_action {
	EINJ_BEGIN_INJECTION = 0x0,
	EINJ_GET_TRIGGER_TABLE = 0x1,
	EINJ_SET_ERROR_TYPE = 0x2,
	EINJ_GET_ERROR_TYPE = 0x3,
	EINJ_END_OPERATION = 0x4,
	EINJ_EXECUTE_OPERATION = 0x5,
	EINJ_CHECK_BUSY_STATUS = 0x6,
	EINJ_GET_COMMAND_STATUS = 0x7,
	EINJ_SET_ERROR_TYPE_WITH_ADDRESS = 0x8,
	EINJ_GET_EXECUTE_TIMINGS = 0x9,
	EINJ_ACTION_COUNT,
	EINJ_TRIGGER_ERROR = 0xff, /* trigger tables only */
};

/* Instructions (ACPI 6.x, "Injection Instructions"). */
enum einj_insn {
	EINJ_READ_REGISTER = 0,
	EINJ_READ_REGISTER_VALUE = 1,
	EINJ_WRITE_REGISTER = 2,
	EINJ_WRITE_REGISTER_VALUE = 3,
	EINJ_NOOP = 4,
	EINJ_INSN_COUNT,
};
#define EINJ_FLAG_PRESERVE 0x1 /* entry flags: keep the register's other bits on a write */

/* Command status (GET_COMMAND_STATUS) and busy bit (CHECK_BUSY_STATUS). */
#define EINJ_STATUS_SUCCESS 0
#define EINJ_STATUS_FAIL 1
#define EINJ_STATUS_INVALID 2
#define EINJ_BUSY 0x1

/* The layouts: the table header, its entries, the trigger table header, and ACPI 5's
 * SET_ERROR_TYPE_WITH_ADDRESS structure (the memory the firmware reads the parameters from). */
#define ACPI_HEADER_LEN 36
#define EINJ_INJ_HEADER_LEN 12 /* injection header size, flags, reserved, entry count */
#define EINJ_HEADER_LEN (ACPI_HEADER_LEN + EINJ_INJ_HEADER_LEN)
#define EINJ_ENTRY_LEN 32
#define EINJ_TRIGGER_HEADER_LEN 16
#define EINJ_MAX_ENTRIES 256

struct einj_gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t address;
} __packed;

struct einj_entry_raw {
	uint8_t action, instruction, flags, reserved;
	struct einj_gas reg;
	uint64_t value, mask;
} __packed;

struct einj_trigger_header {
	uint32_t header_size, revision, table_size, entry_count;
} __packed;

#define SETWA_TYPE 0
#define SETWA_VENDOR_OFFSET 4
#define SETWA_FLAGS 8
#define SETWA_APICID 12
#define SETWA_MEM_ADDR 16
#define SETWA_MEM_RANGE 24
#define SETWA_PCIE_SBDF 32
#define SETWA_LEN 36
#define VENDOR_EXT_LEN 16 /* length, PCIe SBDF, vendor id, device id, revision, reserved */

/* One checked entry. */
struct einj_op {
	uint8_t action, insn;
	bool preserve;
	uint8_t space;	      /* ACPI_SPACE_MEMORY or ACPI_SPACE_IO */
	uint8_t bit_offset;
	uint8_t access_bits;  /* 8, 16, 32 or 64 */
	uint64_t addr, value, mask;
};

/* A checked table: entries in table order. */
struct einj_prog {
	struct einj_op op[EINJ_MAX_ENTRIES];
	unsigned n;
};

/* Check an EINJ table of len bytes (the ACPI header's length) into *p. 0, or -EINVAL with a
 * sentence on what is wrong in why. Never reads past len. Any context. */
int einj_parse(const uint8_t *tab, size_t len, struct einj_prog *p, char *why, size_t whylen);
/* The same for a trigger-action table (header of 16 bytes, entries of action TRIGGER_ERROR);
 * its memory registers may also name [target, target + target_len), the RAM being injected.
 * Callers serialise (one injection at a time). */
int einj_parse_trigger(const uint8_t *tab, size_t len, uint64_t target, uint64_t target_len,
		       struct einj_prog *p, char *why, size_t whylen);
/* Whether [addr, addr + n) is outside the RAM the kernel uses (firmware-reserved memory or
 * device space: where firmware registers may be). */
bool einj_in_window(uint64_t addr, uint64_t n);
/* Whether p has an entry for action. */
bool einj_has_action(const struct einj_prog *p, unsigned action);
/* Run action's entries in order, as APEI does: *value goes in, the last read (or what a
 * READ_REGISTER_VALUE compared) comes out. With trace, each register access is printed.
 * 0, -ENOENT (no entry for the action), or the register access's error. Process context. */
int einj_run(const struct einj_prog *p, unsigned action, uint64_t *value, bool trace);
/* Name of an action for messages ("EXECUTE_OPERATION"), "?" when unknown. */
const char *einj_action_name(unsigned action);
