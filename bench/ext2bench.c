/* ext2 through the page cache under QEMU TCG (figures, not pass/fail; bench/run_ext2bench.sh
 * boots it over an empty ext2 image on virtio-blk mounted at /mnt):
 *   tmpfs write  the same write into /tmp, and memcpy of 64 MiB, for scale in the same run
 *   write        64 MiB written sequentially in 1 MiB calls into a new file (page cache only)
 *   write+fsync  the same, then fsync: every page to the disk
 *   read         the file read sequentially after umount and mount (every page from disk)
 *   read cached  the same read again (every page in the cache)
 *   mf dirty     madvise(MADV_HWPOISON) of a dirty ext2 page mapped once (memory_failure of
 *                the "dirty file" state: unmap, kill policy, drop with EIO recorded)
 * Prints one "ext2bench: NAME VALUE UNIT" line each. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1u << 20)
#define FILE_MIB 64
#define MF_PAGES 64

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char buf[MIB];

static double mib_per_s(uint64_t ns)
{
	return FILE_MIB / (ns / 1e9);
}

static int write_file(const char *path, int do_fsync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	for (unsigned i = 0; i < FILE_MIB; i++)
		if (write(fd, buf, MIB) != MIB)
			return -1;
	int err = do_fsync ? fsync(fd) : 0;
	close(fd);
	return err;
}

static int read_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;
	uint64_t total = 0;
	while (fd >= 0 && (n = read(fd, buf, MIB)) > 0)
		total += (uint64_t)n;
	close(fd);
	return total == (uint64_t)FILE_MIB * MIB ? 0 : -1;
}

static void report(const char *name, uint64_t t0, int err)
{
	if (err)
		printf("ext2bench: %s failed\n", name);
	else
		printf("ext2bench: %s %.0f MiB/s\n", name, mib_per_s(now_ns() - t0));
}

/* memory_failure of MF_PAGES dirty pages of a shared mapping, one at a time: µs each. */
static void mf_dirty(void)
{
	int fd = open("/mnt/mf", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, MF_PAGES * 4096) != 0)
		return;
	char *p = mmap(NULL, MF_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return;
	memset(p, 1, MF_PAGES * 4096);
	uint64_t total = 0;
	for (unsigned i = 0; i < MF_PAGES; i++) {
		uint64_t t0 = now_ns();
		if (madvise(p + i * 4096, 4096, MADV_HWPOISON) != 0) {
			printf("ext2bench: mf dirty failed\n");
			return;
		}
		total += now_ns() - t0;
	}
	printf("ext2bench: mf dirty %.1f us per page\n", total / 1e3 / MF_PAGES);
	munmap(p, MF_PAGES * 4096);
	close(fd);
}

int main(void)
{
	memset(buf, 0x5a, sizeof(buf));
	mkdir("/mnt", 0755);
	if (mount("/dev/vda", "/mnt", "ext2", 0, NULL) != 0) {
		printf("ext2bench: cannot mount /dev/vda\n");
		return 1;
	}
	static char src[FILE_MIB * MIB], dst[FILE_MIB * MIB];
	memset(src, 1, sizeof(src)); /* fault both in first */
	memset(dst, 2, sizeof(dst));
	uint64_t t0 = now_ns();
	memcpy(dst, src, sizeof(dst));
	report("memcpy", t0, 0);
	t0 = now_ns();
	report("tmpfs write", t0, write_file("/tmp/a", 0));
	unlink("/tmp/a");
	t0 = now_ns();
	report("write", t0, write_file("/mnt/a", 0));
	t0 = now_ns();
	report("write+fsync", t0, write_file("/mnt/b", 1));
	sync();
	umount("/mnt");
	mount("/dev/vda", "/mnt", "ext2", 0, NULL);
	t0 = now_ns();
	report("read", t0, read_file("/mnt/b"));
	t0 = now_ns();
	report("read cached", t0, read_file("/mnt/b"));
	mf_dirty();
	umount("/mnt");
	printf("ext2bench: done\n");
	return 0;
}
