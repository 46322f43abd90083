/* memory_failure of tmpfs pages, the two kinds a page cache holds (docs/memory_failure.md):
 *   - a dirty page (written: the only copy of its bytes), mapped MAP_SHARED by this process
 *     and by two early-kill children, one spinning without syscalls and one sleeping:
 *     madvise(MADV_HWPOISON) tells each child SIGBUS BUS_MCEERR_AO at the page, lsb 12; this
 *     process (late kill) gets BUS_MCEERR_AR when it touches the page. The page stays in the
 *     file, poisoned, as Linux 6.1 keeps a shmem page: read, pread and pwrite of it give EIO
 *     while the other pages read and write as before; a new mapping of it gets BUS_MCEERR_AR
 *     at its touch; fsync and msync return 0 (Linux's tmpfs fsync is a no-op that reports
 *     nothing); HardwareCorrupted rises by 4 kB. A hole punched over the whole page releases
 *     it: the range reads as zeros and takes writes again, and the frame stays out of use
 *     (HardwareCorrupted stays). Truncating the file below a poisoned page releases it too.
 *   - madvise(MADV_SOFT_OFFLINE) of a dirty page: its bytes move to a new frame, the file and
 *     the mapping follow, no signal, the old frame is retired (+4 kB HardwareCorrupted).
 *   - (MCRK only) a clean page of a file from the initrd (/bin/hello, never written), mapped
 *     privately: madvise(MADV_HWPOISON) sends no signal, and the mapping and pread give the
 *     same bytes again, from a new frame: MCRK keeps the initrd image and reads the page
 *     again. Linux unpacks its initramfs into pages that have no other copy, so it would
 *     keep the page poisoned and signal.
 * Each page is poisoned with madvise(MADV_HWPOISON), or with the argument "corrupt" through
 * /sys/kernel/debug/hwpoison/corrupt-pfn at its frame from /proc/self/pagemap. The same source
 * runs on Linux as root with a tmpfs /tmp (the clean case is skipped there; corrupt-pfn needs
 * debugfs and hwpoison_inject). */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#define NPAGES 3
#define PATH "/tmp/mf_tmpfs.data"

/* Poison the page mapped at p: madvise(MADV_HWPOISON), or with "corrupt" on the command line
 * /sys/kernel/debug/hwpoison/corrupt-pfn at its frame number from /proc/self/pagemap. */
/* A file of NPAGES pages, page i filled with 'a' + i: written, so every page is dirty. */
static int make_file(void)
{
	char buf[PG];
	int fd = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; fd >= 0 && i < NPAGES; i++) {
		memset(buf, 'a' + i, PG);
		if (write(fd, buf, PG) != PG)
			return -1;
	}
	return fd;
}

/* A child that maps the page at p (shared, inherited), asks for early kill, says it is ready
 * on ready[1], then spins without syscalls or sleeps. Its SIGBUS handler reports code, lsb
 * and whether si_addr is p in its exit status. */
static pid_t early_child(char *p, int ready[2], int spin)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	(void)*(volatile char *)p;
	if (sigsetjmp(jb, 1)) {
		int ok = got_lsb == 12 && got_addr == p;
		_exit(got_code * 2 + ok); /* AO: 11 */
	}
	if (write(ready[1], "r", 1) != 1)
		_exit(100);
	for (volatile unsigned long n = 0; spin; n++)
		;
	for (;;)
		pause();
}

/* The dirty page: who is told, and what the file says afterwards. */
static void test_dirty(void)
{
	int fd = make_file(), ready[2], st;
	char buf[PG];
	CHECK(fd >= 0 && pipe(ready) == 0);
	char *p = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[PG] == 'b');
	p[PG + 1] = 'B'; /* written through the mapping too */
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
	CHECK(touch(p) == 0 && touch(p + 2 * PG) == 0 && p[2 * PG] == 'c');
	/* the file keeps the page, poisoned: EIO for it, the others as before */
	CHECK(pread(fd, buf, 10, PG + 5) == -1 && errno == EIO);
	CHECK(pwrite(fd, "x", 1, PG + 7) == -1 && errno == EIO);
	CHECK(pread(fd, buf, PG, 0) == PG && buf[0] == 'a');
	static char two[2 * PG];
	CHECK(pread(fd, two, 2 * PG, 0) == PG); /* a read stops before the lost page */
	CHECK(lseek(fd, PG, SEEK_SET) == PG && read(fd, buf, 1) == -1 && errno == EIO);
	CHECK(pwrite(fd, "C", 1, 2 * PG) == 1 && p[2 * PG] == 'C');
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0 && msync(p, NPAGES * PG, MS_SYNC) == 0);
	char *q = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, fd, 0); /* a new mapper */
	CHECK(q != MAP_FAILED && touch(q + PG) == BUS_MCEERR_AR && got_addr == q + PG);
	CHECK(touch(q) == 0 && q[0] == 'a');
	/* a hole over the whole page releases it: zeros, writable, the frame stays out */
	CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG) == 0);
	CHECK(pread(fd, buf, 3, PG) == 3 && buf[0] == 0 && buf[2] == 0);
	CHECK(touch(q + PG) == 0 && q[PG] == 0);
	CHECK(touch(p + PG) == BUS_MCEERR_AR); /* its own marker stays until it unmaps */
	CHECK(pwrite(fd, "new", 3, PG) == 3 && q[PG] == 'n');
	CHECK(hwc_kb() == hwc + 4);
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(ready[0]);
	close(ready[1]);
	close(fd);
	unlink(PATH);
}

/* Truncating the file below a poisoned page releases it as a hole punch does. */
static void test_truncate(void)
{
	int fd = make_file();
	char buf[4];
	char *p = mmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[2 * PG] == 'c');
	CHECK(poison(p + 2 * PG) == 0);
	CHECK(pread(fd, buf, 1, 2 * PG) == -1 && errno == EIO);
	munmap(p, NPAGES * PG);
	CHECK(ftruncate(fd, 2 * PG) == 0 && ftruncate(fd, 3 * PG) == 0);
	CHECK(pread(fd, buf, 4, 2 * PG) == 4 && buf[0] == 0 && buf[3] == 0);
	CHECK(pread(fd, buf, 1, PG) == 1 && buf[0] == 'b');
	close(fd);
	unlink(PATH);
}

/* madvise(MADV_SOFT_OFFLINE) of a dirty tmpfs page: the file keeps its bytes in a new frame,
 * the mapping follows it, no signal, and the old frame is retired. */
static void test_soft_offline(void)
{
	int fd = make_file();
	char b[2];
	char *p = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[PG] == 'b');
	p[PG + 1] = 'S';
	uint64_t old = pfn_of(p + PG);
	long hwc = hwc_kb();
	CHECK(madvise(p + PG, PG, MADV_SOFT_OFFLINE) == 0);
	CHECK(touch(p + PG) == 0 && p[PG] == 'b' && p[PG + 1] == 'S');
	CHECK(pfn_of(p + PG) != old && old != 0);
	CHECK(pread(fd, b, 2, PG) == 2 && b[0] == 'b' && b[1] == 'S');
	p[PG + 2] = 'T'; /* the file's page is the new frame */
	CHECK(pread(fd, b, 1, PG + 2) == 1 && b[0] == 'T');
	CHECK(hwc_kb() == hwc + 4);
	munmap(p, NPAGES * PG);
	close(fd);
	unlink(PATH);
}

/* (MCRK only) A clean page of an initrd file is dropped and read again: no signal. */
static void test_clean_initrd_page(void)
{
	char before[PG], again[PG];
	int fd = open("/bin/hello", O_RDONLY);
	CHECK(fd >= 0 && pread(fd, before, PG, 0) == PG);
	char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, before, PG) == 0);
	uint64_t old = pfn_of(p);
	long hwc = hwc_kb();
	CHECK(poison(p) == 0);
	CHECK(touch(p) == 0 && memcmp(p, before, PG) == 0);
	CHECK(pfn_of(p) != old && old != 0);
	CHECK(pread(fd, again, PG, 0) == PG && memcmp(again, before, PG) == 0);
	CHECK(hwc_kb() == hwc + 4);
	munmap(p, PG);
	close(fd);
}

int main(int argc, char **argv)
{
	use_corrupt_pfn = argc > 1 && strcmp(argv[1], "corrupt") == 0;
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGBUS, &sa, NULL);
	test_dirty();
	test_truncate();
	test_soft_offline();
	if (on_mcrk())
		test_clean_initrd_page();
	DONE("mf_tmpfs");
}
