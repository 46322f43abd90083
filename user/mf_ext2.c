/* memory_failure of ext2 page-cache pages (/dev/vda mounted at /mnt), Linux 6.1's outcomes
 * (mm/memory-failure.c me_pagecache_dirty and me_pagecache_clean, errseq in mm/filemap.c):
 *   - a dirty page (written after an fsync, so the disk holds the older bytes), mapped
 *     MAP_SHARED by this process (late kill) and by two early-kill children, one spinning
 *     without syscalls and one sleeping: each child gets SIGBUS BUS_MCEERR_AO at the page,
 *     lsb 12; this process gets BUS_MCEERR_AR at its touch. The page leaves the page cache
 *     and EIO is recorded: the next fsync, fdatasync or msync(MS_SYNC) of EACH open file
 *     description that was open reports EIO once, then 0; a description opened after the
 *     error was reported gets 0. A read of the page gives what the disk holds (the bytes of
 *     the last fsync). HardwareCorrupted rises by 4 kB.
 *   - a clean page (fsync'd), mapped: no signal, the mapping and pread give the same bytes
 *     again from a new frame read from the disk; fsync reports nothing.
 * Each page is poisoned with madvise(MADV_HWPOISON), or with "corrupt" on the command line
 * through /sys/kernel/debug/hwpoison/corrupt-pfn at its frame from /proc/self/pagemap. On
 * Linux it runs as root with an ext2 file system mounted at /mnt. */
#define _GNU_SOURCE
#include "utest.h"
#include "mf_page.h"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#define NPAGES 3
#define PATH "/mnt/mf_ext2.data"

static sigjmp_buf jb;
static volatile int got_code, got_lsb;
static void *volatile got_addr;
/* A file of NPAGES pages, page i filled with 'a' + i, on the disk (fsync'd). */
static int make_file(void)
{
	char buf[PG];
	int fd = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; fd >= 0 && i < NPAGES; i++) {
		memset(buf, 'a' + i, PG);
		if (write(fd, buf, PG) != PG)
			return -1;
	}
	return fd >= 0 && fsync(fd) == 0 ? fd : -1;
}

/* A child that maps p (inherited), asks for early kill, says so on ready[1], then spins
 * without syscalls or sleeps; its exit status says what SIGBUS it got. */
static pid_t early_child(char *p, int ready[2], int spin)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	(void)*(volatile char *)p;
	if (sigsetjmp(jb, 1)) {
		int ok = got_lsb == 12 && got_addr == p;
		_exit(got_code * 2 + ok);
	}
	if (write(ready[1], "r", 1) != 1)
		_exit(100);
	for (volatile unsigned long n = 0; spin; n++)
		;
	for (;;)
		pause();
}

static void test_dirty(void)
{
	int fd = make_file(), ready[2], st;
	int fd2 = open(PATH, O_RDONLY), fd3 = open(PATH, O_RDWR);
	char buf[PG];
	CHECK(fd >= 0 && fd2 >= 0 && fd3 >= 0 && pipe(ready) == 0);
	char *p = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[PG] == 'b');
	memset(p + PG, 'B', PG); /* dirty now: the disk still holds 'b' */
	pid_t kids[2] = {early_child(p + PG, ready, 1), early_child(p + PG, ready, 0)};
	for (int i = 0; i < 2; i++)
		CHECK(read(ready[0], buf, 1) == 1);
	long hwc = hwc_kb();
	CHECK(poison(p + PG) == 0);
	for (int i = 0; i < 2; i++) { /* the spinner, then the sleeper */
		CHECK(waitpid(kids[i], &st, 0) == kids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == BUS_MCEERR_AO * 2 + 1);
	}
	CHECK(hwc_kb() == hwc + 4);
	CHECK(touch(p + PG) == BUS_MCEERR_AR && got_addr == p + PG && got_lsb == 12);
	CHECK(touch(p) == 0 && p[0] == 'a' && p[2 * PG] == 'c');
	/* errseq: each open file description hears of the lost page once */
	errno = 0;
	CHECK(fsync(fd) == -1 && errno == EIO);
	CHECK(fsync(fd) == 0);
	errno = 0;
	CHECK(fdatasync(fd2) == -1 && errno == EIO);
	CHECK(fdatasync(fd2) == 0);
	int fd4 = open(PATH, O_RDONLY); /* opened after the error was reported: not told */
	CHECK(fd4 >= 0 && fsync(fd4) == 0);
	close(fd4);
	/* msync goes through fd's description: already told */
	CHECK(msync(p, NPAGES * PG, MS_SYNC) == 0);
	errno = 0;
	CHECK(fsync(fd3) == -1 && errno == EIO);
	/* the page reads what the disk holds: the bytes of the last fsync */
	CHECK(pread(fd, buf, PG, PG) == PG && buf[0] == 'b' && buf[PG - 1] == 'b');
	char *q = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(q != MAP_FAILED && touch(q + PG) == 0 && q[PG] == 'b');
	CHECK(touch(p + PG) == BUS_MCEERR_AR); /* its own marker stays until it unmaps */
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(ready[0]);
	close(ready[1]);
	close(fd3);
	close(fd2);
	close(fd);
}

static void test_clean(void)
{
	int fd = make_file();
	char buf[PG];
	CHECK(fd >= 0);
	char *p = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[2 * PG] == 'c');
	long hwc = hwc_kb();
	CHECK(poison(p + 2 * PG) == 0);
	CHECK(hwc_kb() == hwc + 4);
	CHECK(touch(p + 2 * PG) == 0 && p[2 * PG] == 'c' && p[3 * PG - 1] == 'c');
	CHECK(pread(fd, buf, PG, 2 * PG) == PG && buf[0] == 'c');
	CHECK(fsync(fd) == 0);
	munmap(p, NPAGES * PG);
	close(fd);
}

int main(int argc, char **argv)
{
	use_corrupt_pfn = argc > 1 && strcmp(argv[1], "corrupt") == 0;
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGBUS, &sa, NULL);
	if (on_mcrk()) {
		mkdir("/mnt", 0755);
		CHECK(mount("/dev/vda", "/mnt", "ext2", 0, NULL) == 0);
	}
	test_dirty();
	test_clean();
	unlink(PATH);
	if (on_mcrk())
		CHECK(umount("/mnt") == 0);
	DONE("mf_ext2");
}
