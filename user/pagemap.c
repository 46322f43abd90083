/* /proc/self/pagemap: a touched page is present with a PFN that /proc/meminfo's total
 * covers; an untouched page is not present. Also reads /proc/self/maps. */
#include "utest.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static uint64_t entry(int fd, void *va)
{
	uint64_t e = 0;
	pread(fd, &e, 8, (off_t)((uintptr_t)va / 4096 * 8));
	return e;
}

int main(void)
{
	static char page[3 * 4096] __attribute__((aligned(4096)));
	page[0] = 1;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	CHECK(fd >= 0);
	uint64_t e = entry(fd, page);
	CHECK(e >> 63); /* present */
	uint64_t pfn = e & ((1ull << 55) - 1);
	CHECK(pfn != 0);
	CHECK(!(entry(fd, page + 2 * 4096) >> 63)); /* never touched */
	char buf[1024] = {0};
	int mfd = open("/proc/meminfo", O_RDONLY);
	CHECK(mfd >= 0 && read(mfd, buf, sizeof(buf) - 1) > 0);
	unsigned long total_kb = 0;
	char *t = strstr(buf, "MemTotal:");
	CHECK(t && sscanf(t, "MemTotal: %lu kB", &total_kb) == 1);
	/* Within RAM. MemTotal leaves out what the kernel image, the initrd and the firmware
	 * reserve (about 6 MiB under QEMU -m 256M, more with a bigger initrd), so the highest
	 * RAM frame lies that far above it: allow 16 MiB. */
	CHECK(pfn * 4 < total_kb + 16384);
	CHECK(strstr(buf, "HardwareCorrupted:") != NULL);
	int maps = open("/proc/self/maps", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	CHECK(maps >= 0 && read(maps, buf, sizeof(buf) - 1) > 0);
	CHECK(strstr(buf, "[stack]") != NULL);
	printf("pagemap: page %p is pfn %#llx\n", (void *)page, (unsigned long long)pfn);
	DONE("pagemap");
}
