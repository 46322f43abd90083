/* Looking up code addresses in the kernel's symbol table (include/ksyms.h). The table is
 * generated (build/mcrk.elf.ksyms.c, and the same for the test build) and linked only into
 * the second link of each kernel image; where it is absent (the host build, the first link)
 * the weak reference is NULL and nothing is named. */
#include "kerrno.h"
#include "ksyms.h"
#include "printk.h"

extern const struct ksym_table ksym_builtin __attribute__((weak));

int ksym_lookup_in(const struct ksym_table *t, uint64_t addr, const char **name, uint64_t *off,
		   uint64_t *size)
{
	if (!t || !t->count || addr < t->entries[0].addr)
		return -ENOENT;
	/* The last entry starting at or below addr. */
	uint32_t lo = 0, hi = t->count - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (t->entries[mid].addr <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	const struct ksym_entry *e = &t->entries[lo];
	uint64_t len = e->size;
	if (!len && lo + 1 < t->count)
		len = t->entries[lo + 1].addr - e->addr;
	if (addr - e->addr >= len)
		return -ENOENT;
	*name = t->names + e->name;
	*off = addr - e->addr;
	*size = len;
	return 0;
}

int ksym_lookup(uint64_t addr, const char **name, uint64_t *off, uint64_t *size)
{
	return ksym_lookup_in(&ksym_builtin, addr, name, off, size);
}

int ksym_format(char *buf, size_t size, uint64_t addr)
{
	const char *name;
	uint64_t off, len;
	if (size)
		buf[0] = '\0';
	if (ksym_lookup(addr, &name, &off, &len))
		return 0;
	int n = ksnprintf(buf, size, "%s+0x%lx/0x%lx", name, off, len);
	return n < 0 ? 0 : n;
}
