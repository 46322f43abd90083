/* The fake of include/arch/acpi.h for host tests (tests/host/fake_acpi.c): one firmware table
 * that a test supplies, and a register file of a 64 KiB memory window at FAKE_ACPI_MEM_BASE and
 * the 64 KiB of I/O ports, where every access is recorded in order. A test can play the
 * firmware by reacting to writes (fake_acpi_on_write). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_ACPI_MEM_BASE 0xff000000ull
#define FAKE_ACPI_MEM_SIZE 0x10000u
#define FAKE_ACPI_LOG_MAX 512

struct fake_acpi_access {
	bool write;
	unsigned space, bits;
	uint64_t addr, val;
};

extern const void *fake_acpi_table_ptr; /* what arch_acpi_table("EINJ") gives (NULL: none) */
extern size_t fake_acpi_table_len;
extern uint8_t fake_acpi_mem[FAKE_ACPI_MEM_SIZE];
extern uint8_t fake_acpi_io[0x10000];
extern struct fake_acpi_access fake_acpi_log[FAKE_ACPI_LOG_MAX];
extern unsigned fake_acpi_nlog;
/* Called after each write has been stored, and before each read is served; NULL: plain
 * storage. */
extern void (*fake_acpi_on_write)(unsigned space, uint64_t addr, unsigned bits, uint64_t val);
extern void (*fake_acpi_on_read)(unsigned space, uint64_t addr, unsigned bits);

/* Zero the registers and the log, forget the table and the hook. */
void fake_acpi_reset(void);
/* Little-endian access to the memory window by physical address (for tests and hooks). */
uint64_t fake_acpi_peek(uint64_t pa, unsigned bytes);
void fake_acpi_poke(uint64_t pa, unsigned bytes, uint64_t v);
