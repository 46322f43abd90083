/* libFuzzer target for EINJ's table checker and interpreter (kernel/acpi/einj_table.c): any
 * bytes as an EINJ table (input starting with 'E', as a real table does) or else as a trigger
 * table. It aborts when an accepted table breaks what the checks promise (a known action and
 * instruction, a memory register aligned and outside RAM, an I/O register of at most 32 bits
 * inside the port space, the bit field inside the access), and runs every action of an
 * accepted table against the recording register file of tests/host/fake_acpi.c; ASan and
 * UBSan catch the rest. Seeds: every table scripts/mkeinj.py writes, good and malformed, and
 * one trigger table (scripts/fuzz.sh). */
#include "../../kernel/acpi/einj_priv.h"
#include "arch/acpi.h"
#include "boot_info.h"
#include "fake_acpi.h"
#include "kerrno.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM_BASE 0x100000ull
#define RAM_END 0x10000000ull
#define TARGET 0x200000ull /* the RAM a trigger table may name (the memory being injected) */

struct boot_info boot_info;
static struct einj_prog prog;

#define check(cond) check_at(cond, __LINE__)
static void check_at(int cond, int line)
{
	if (!cond) {
		fprintf(stderr, "fuzz_einj: broken invariant at line %d\n", line);
		abort();
	}
}

static void check_op(const struct einj_op *op, bool trigger)
{
	unsigned bytes = op->access_bits / 8u;

	check(trigger ? op->action == EINJ_TRIGGER_ERROR : op->action < EINJ_ACTION_COUNT);
	check(op->insn < EINJ_INSN_COUNT);
	if (op->insn == EINJ_NOOP)
		return;
	check(op->access_bits == 8 || op->access_bits == 16 || op->access_bits == 32 ||
	      op->access_bits == 64);
	check(op->bit_offset < op->access_bits);
	if (op->space == ACPI_SPACE_IO) {
		check(op->access_bits <= 32 && op->addr < 0x10000 && op->addr + bytes <= 0x10000);
		return;
	}
	check(op->space == ACPI_SPACE_MEMORY && op->addr % bytes == 0);
	check(op->addr >> 52 == 0);
	check(op->addr + bytes <= RAM_BASE || op->addr >= RAM_END ||
	      (trigger && op->addr >= TARGET && op->addr + bytes <= TARGET + 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool trigger = !size || data[0] != 'E';
	char why[160];
	int err;

	boot_info.mmap[0] = (struct mem_range){RAM_BASE, RAM_END - RAM_BASE, MEM_USABLE};
	boot_info.n_mmap = 1;
	err = trigger ? einj_parse_trigger(data, size, TARGET, 8, &prog, why, sizeof why)
		      : einj_parse(data, size, &prog, why, sizeof why);
	check(err == 0 || err == -EINVAL);
	check(memchr(why, '\0', sizeof why) != NULL || err == 0);
	if (err)
		return 0;
	check(prog.n <= EINJ_MAX_ENTRIES);
	for (unsigned i = 0; i < prog.n; i++)
		check_op(&prog.op[i], trigger);
	fake_acpi_reset();
	for (unsigned a = 0; a < EINJ_ACTION_COUNT + 1; a++) {
		uint64_t v = size;
		unsigned action = a == EINJ_ACTION_COUNT ? EINJ_TRIGGER_ERROR : a;
		err = einj_run(&prog, action, &v, false);
		check(err == 0 || err == -ENOENT || err == -EINVAL);
	}
	return 0;
}
