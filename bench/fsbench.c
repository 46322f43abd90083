/* fsbench: tmpfs sequential write and read, 64 MiB with 4 KiB and with 1 MiB calls, in MiB/s,
 * beside memcpy of the same 64 MiB in the same machine (the copy every write and read does
 * between user memory and the page cache, without the syscalls). A write is timed into a new
 * file (every page allocated then) and again over the file's pages (rewrite); a read after
 * them. Figures, not pass/fail: `make bench-guest`, or `sh bench/run_guest.sh fsbench`. The
 * same source runs on Linux, in any tmpfs directory given as its argument (default /tmp). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TOTAL (64u << 20)
#define MIB (1u << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rate(double secs)
{
	return (double)TOTAL / MIB / secs;
}

/* One pass of TOTAL bytes in calls of size chunk: write (at offset 0) or read. Seconds. */
static double pass(int fd, char *buf, size_t chunk, int write_it)
{
	double t0 = now();
	if (lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	for (size_t done = 0; done < TOTAL; done += chunk) {
		ssize_t n = write_it ? write(fd, buf, chunk) : read(fd, buf, chunk);
		if (n != (ssize_t)chunk) {
			perror(write_it ? "fsbench: write" : "fsbench: read");
			exit(1);
		}
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[256];
	char *src = mmap(NULL, TOTAL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = mmap(NULL, TOTAL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		perror("fsbench: mmap");
		return 1;
	}
	memset(src, 0x5a, TOTAL); /* both buffers faulted in before anything is timed */
	memset(dst, 0xa5, TOTAL);
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		double t0 = now();
		memcpy(dst, src, TOTAL);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	printf("fsbench: memcpy of 64 MiB: %.0f MiB/s\n", rate(best));
	static const size_t chunks[] = {4096, MIB};
	for (unsigned c = 0; c < 2; c++) {
		snprintf(path, sizeof(path), "%s/fsbench.%d", dir, getpid());
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0) {
			perror("fsbench: open");
			return 1;
		}
		double w = pass(fd, src, chunks[c], 1), rw = pass(fd, src, chunks[c], 1);
		double r = pass(fd, dst, chunks[c], 0);
		printf("fsbench: %s calls: write %.0f MiB/s, rewrite %.0f MiB/s, read %.0f MiB/s\n",
		       chunks[c] == MIB ? "1 MiB" : "4 KiB", rate(w), rate(rw), rate(r));
		close(fd);
		unlink(path);
	}
	if (memcmp(dst, src, TOTAL)) {
		printf("fsbench: the bytes read back differ\n");
		return 1;
	}
	return 0;
}
