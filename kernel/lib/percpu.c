/* Per-CPU copies of the .percpu section (include/percpu.h). CPU 0 uses the section in the
 * image; every other CPU gets a zeroed copy from the kernel heap before it starts. The linker
 * script brackets the section with __percpu_start and __percpu_end and aligns it to
 * PERCPU_ALIGN, which the heap's blocks of a page or more also have. */
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "percpu.h"

extern char __percpu_start[], __percpu_end[];
intptr_t percpu_offset[MAX_CPUS];
static char *copies[MAX_CPUS];

size_t percpu_size(void)
{
	return (size_t)(__percpu_end - __percpu_start);
}

int percpu_prepare(unsigned cpu)
{
	size_t size = percpu_size();

	if (cpu == 0 || cpu >= MAX_CPUS)
		return -EINVAL;
	if (!copies[cpu]) {
		/* At least a page: the heap aligns such blocks to a page, as the section is. */
		copies[cpu] = kmalloc(MAX(size, (size_t)PAGE_SIZE));
		if (!copies[cpu])
			return -ENOMEM;
	}
	memset(copies[cpu], 0, size);
	percpu_offset[cpu] = copies[cpu] - __percpu_start;
	return 0;
}
