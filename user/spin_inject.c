/* spin_inject: runs one mce-inject file through the software injector while another task
 * keeps a CPU busy without ever sleeping or making a syscall, so that the kernel has to get
 * the records to the console (and the frames to memory_failure) with no idle CPU to wait for.
 *   spin_inject PATH   PATH: an mce-inject text file (e.g. /mce-cases/non-panic/corrected)
 * A forked child spins on the time stamp counter for SPIN_S seconds at most; once it has
 * started, the parent writes the file to /sys/kernel/debug/mce-inject/text in one write() and
 * waits for the child. Prints "spin_inject: child spinning", "spin_inject: injected PATH: N"
 * (write's result, or -errno), and from the child at its end "spin_inject: child spun SPIN_S s".
 * The kernel's lines about the records must come before that last line (tests/qemu). Exits 0
 * when the write was accepted, 1 when not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "utest.h"

#define SPIN_S 60
#define TEXT_MAX 511 /* the VFS's limit for one write to a control file */
#define INJECT_TEXT "/sys/kernel/debug/mce-inject/text"

/* The child: say it spins, then spin without a syscall until the deadline. */
static void spin_child(volatile int *started)
{
	uint64_t end = utest_tsc_deadline(SPIN_S);
	*started = 1;
	while (utest_rdtsc() < end)
		;
	printf("spin_inject: child spun %d s\n", SPIN_S);
	fflush(stdout);
	_exit(0);
}

/* Read the file at path (at most TEXT_MAX bytes); its length or -errno. */
static int read_text(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY), n;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, TEXT_MAX + 1);
	close(fd);
	if (n < 0)
		return -errno;
	return n > TEXT_MAX ? -EFBIG : n;
}

int main(int argc, char **argv)
{
	char text[TEXT_MAX + 1];
	struct timespec nap = {0, 1000 * 1000};
	int len = argc > 1 ? read_text(argv[1], text) : -EINVAL, fd, rc, status;

	if (len < 0) {
		printf("spin_inject: cannot read %s: %s\n", argc > 1 ? argv[1] : "(no path)",
		       strerror(-len));
		return 1;
	}
	/* A shared flag: the child raises it when it starts spinning (fork keeps the mapping). */
	volatile int *started = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (started == MAP_FAILED) {
		printf("spin_inject: mmap: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("spin_inject: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0)
		spin_child(started);
	while (!*started)
		nanosleep(&nap, NULL);
	printf("spin_inject: child spinning\n");
	fflush(stdout);
	fd = open(INJECT_TEXT, O_WRONLY);
	rc = fd < 0 ? -errno : (int)write(fd, text, (size_t)len);
	if (rc < 0 && fd >= 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	printf("spin_inject: injected %s: %d\n", argv[1], rc);
	fflush(stdout);
	waitpid(pid, &status, 0);
	return rc == len ? 0 : 1;
}
