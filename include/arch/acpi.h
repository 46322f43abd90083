/* The arch interface for ACPI: the firmware's tables, and the registers APEI tables (EINJ)
 * name by ACPI generic address. kernel/acpi calls only these; arch/x86_64/acpi.c implements
 * them and tests/host/fake_acpi.c fakes them with a recording register file. */
#pragma once
#include "../types.h"

/* Address spaces of an ACPI generic address that APEI uses. */
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

/* The table with signature sig (4 characters) that the root table lists, checked (length,
 * checksum): its bytes through the direct map and *len, or NULL when there is none.
 * Process context, after the arch has read the ACPI tables at boot. */
const void *arch_acpi_table(const char *sig, size_t *len);

/* Read or write the bits-wide register (8, 16, 32 or 64; I/O ports up to 32) at addr in space.
 * Memory outside the direct map is mapped uncached on first use. 0, -EINVAL (space, width or
 * port out of range), -ENOMEM (no room to map it). Process context. */
int arch_acpi_read(unsigned space, uint64_t addr, unsigned bits, uint64_t *val);
int arch_acpi_write(unsigned space, uint64_t addr, unsigned bits, uint64_t val);
