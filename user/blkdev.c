/* The raw disk through /dev/vda (or the node named by argv[1]): a block device node with
 * Linux's numbers, BLKGETSIZE64, read at any offset (scripts/mkdisk.py's pattern: sector N
 * starts with the 64-bit word N), lseek from the end, end of device on read and ENOSPC on
 * write, and a write that reads back. The row attaches the pattern image with snapshot=on. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "utest.h"

#define BLKGETSIZE64_ _IOR(0x12, 114, uint64_t)

static uint64_t word_at(int fd, uint64_t off)
{
	uint64_t w = ~0ull;
	CHECK(pread(fd, &w, sizeof(w), (off_t)off) == sizeof(w));
	return w;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/vda";
	struct stat st;
	uint64_t size = 0;
	char buf[1000], back[1000];

	CHECK(stat(path, &st) == 0 && S_ISBLK(st.st_mode));
	CHECK(major(st.st_rdev) == (strstr(path, "nvme") ? 259u : 254u));
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(ioctl(fd, BLKGETSIZE64_, &size) == 0 && size == 8u << 20);
	CHECK(word_at(fd, 0) == 0);
	CHECK(word_at(fd, 3 * 512) == 3);
	CHECK(word_at(fd, 16383ull * 512) == 16383);
	CHECK(lseek(fd, -512, SEEK_END) == (off_t)size - 512);
	CHECK(read(fd, buf, sizeof(buf)) == 512); /* stops at the end of the device */
	CHECK(read(fd, buf, sizeof(buf)) == 0);
	errno = 0;
	CHECK(write(fd, buf, 1) == -1 && errno == ENOSPC);
	/* A write that straddles sectors and pages, then reads back; the bytes around stay. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1);
	CHECK(pwrite(fd, buf, sizeof(buf), 4096 - 300) == sizeof(buf));
	CHECK(pread(fd, back, sizeof(back), 4096 - 300) == sizeof(back));
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHECK(word_at(fd, 7 * 512) == 7);
	CHECK(word_at(fd, 10 * 512) == 10);
	CHECK(fsync(fd) == 0);
	CHECK(lseek(fd, 0, 42) == -1 && errno == EINVAL);
	close(fd);
	DONE("blkdev");
}
