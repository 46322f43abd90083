/* A fake of include/arch/acpi.h for the host build: a table the test supplies and a recording
 * register file (see fake_acpi.h). Memory outside the window and ports past 0xffff fail with
 * -EINVAL, as an address the arch cannot reach would. Single-threaded, like the host tests. */
#include "fake_acpi.h"
#include "../../include/arch/acpi.h"
#include "../../include/kerrno.h"
#include <string.h>

const void *fake_acpi_table_ptr;
size_t fake_acpi_table_len;
uint8_t fake_acpi_mem[FAKE_ACPI_MEM_SIZE];
uint8_t fake_acpi_io[0x10000];
struct fake_acpi_access fake_acpi_log[FAKE_ACPI_LOG_MAX];
unsigned fake_acpi_nlog;
void (*fake_acpi_on_write)(unsigned space, uint64_t addr, unsigned bits, uint64_t val);
void (*fake_acpi_on_read)(unsigned space, uint64_t addr, unsigned bits);

void fake_acpi_reset(void)
{
	memset(fake_acpi_mem, 0, sizeof fake_acpi_mem);
	memset(fake_acpi_io, 0, sizeof fake_acpi_io);
	fake_acpi_nlog = 0;
	fake_acpi_table_ptr = NULL;
	fake_acpi_table_len = 0;
	fake_acpi_on_write = NULL;
	fake_acpi_on_read = NULL;
}

const void *arch_acpi_table(const char *sig, size_t *len)
{
	if (!fake_acpi_table_ptr || memcmp(sig, "EINJ", 4))
		return NULL;
	*len = fake_acpi_table_len;
	return fake_acpi_table_ptr;
}

/* The bytes behind a register, or NULL. */
static uint8_t *cell(unsigned space, uint64_t addr, unsigned bits)
{
	unsigned n = bits / 8;

	if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
		return NULL;
	if (space == ACPI_SPACE_IO)
		return bits <= 32 && addr < sizeof fake_acpi_io && addr + n <= sizeof fake_acpi_io
			       ? fake_acpi_io + addr : NULL;
	if (space == ACPI_SPACE_MEMORY && addr >= FAKE_ACPI_MEM_BASE &&
	    addr - FAKE_ACPI_MEM_BASE < FAKE_ACPI_MEM_SIZE &&
	    addr - FAKE_ACPI_MEM_BASE + n <= FAKE_ACPI_MEM_SIZE)
		return fake_acpi_mem + (addr - FAKE_ACPI_MEM_BASE);
	return NULL;
}

static void record(bool write, unsigned space, uint64_t addr, unsigned bits, uint64_t v)
{
	if (fake_acpi_nlog < FAKE_ACPI_LOG_MAX)
		fake_acpi_log[fake_acpi_nlog++] = (struct fake_acpi_access){write, space, bits, addr, v};
}

int arch_acpi_read(unsigned space, uint64_t addr, unsigned bits, uint64_t *val)
{
	uint8_t *c = cell(space, addr, bits);

	if (!c)
		return -EINVAL;
	if (fake_acpi_on_read)
		fake_acpi_on_read(space, addr, bits);
	*val = 0;
	memcpy(val, c, bits / 8);
	record(false, space, addr, bits, *val);
	return 0;
}

int arch_acpi_write(unsigned space, uint64_t addr, unsigned bits, uint64_t val)
{
	uint8_t *c = cell(space, addr, bits);

	if (!c)
		return -EINVAL;
	memcpy(c, &val, bits / 8);
	record(true, space, addr, bits, val);
	if (fake_acpi_on_write)
		fake_acpi_on_write(space, addr, bits, val);
	return 0;
}

uint64_t fake_acpi_peek(uint64_t pa, unsigned bytes)
{
	uint64_t v = 0;

	memcpy(&v, fake_acpi_mem + (pa - FAKE_ACPI_MEM_BASE), bytes);
	return v;
}

void fake_acpi_poke(uint64_t pa, unsigned bytes, uint64_t v)
{
	memcpy(fake_acpi_mem + (pa - FAKE_ACPI_MEM_BASE), &v, bytes);
}
