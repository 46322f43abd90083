/* madvise(2) with Linux 6.1's rules for every advice value (kernel/mm/madvise.c): the range
 * checks, a hole reported as ENOMEM after the mapped parts were advised, the VMAs each advice
 * refuses (FREE and WIPEONFORK only on private anonymous memory, DONTNEED not on locked
 * memory but DONTNEED_LOCKED yes, REMOVE only on a shared writable file mapping), what fork
 * does with DONTFORK and WIPEONFORK, REMOVE punching the file, and POPULATE_READ/WRITE with
 * their errors (a hole, a read-only mapping, past the end of a file, a poisoned page).
 * The same source runs on Linux (as root: MADV_HWPOISON); where Linux and MCRK differ on
 * purpose (KSM and khugepaged, which MCRK has not) the check says so. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#ifndef MADV_COLD
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static int err_of(void *addr, size_t len, int advice)
{
	errno = 0;
	return madvise(addr, len, advice) == 0 ? 0 : errno;
}

static char *anon(size_t pages, int flags)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0x5a, pages * PG);
	return p;
}

static void test_ranges_and_values(void)
{
	char *p = anon(4, MAP_PRIVATE);
	static const int ok[] = {MADV_NORMAL,	MADV_RANDOM,	 MADV_SEQUENTIAL, MADV_WILLNEED,
				 MADV_DONTFORK, MADV_DOFORK,	 MADV_DONTDUMP,	  MADV_DODUMP,
				 MADV_COLD,	MADV_PAGEOUT,	 MADV_WIPEONFORK, MADV_KEEPONFORK,
				 MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_POPULATE_READ,
				 MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_DONTNEED};
	for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int e = err_of(p, 4 * PG, ok[i]);
		if (e)
			printf("advice %d: errno %d\n", ok[i], e);
		CHECK(e == 0);
	}
	CHECK(err_of(p, 4 * PG, 1212) == EINVAL);
	CHECK(err_of(p, 4 * PG, -1) == EINVAL);
	if (on_mcrk()) { /* no KSM, no khugepaged: Linux built without them says the same */
		CHECK(err_of(p, 4 * PG, MADV_MERGEABLE) == EINVAL);
		CHECK(err_of(p, 4 * PG, MADV_COLLAPSE) == EINVAL);
	}
	CHECK(err_of(p + 1, PG, MADV_NORMAL) == EINVAL);
	CHECK(err_of(p, 0, MADV_DONTNEED) == 0);
	CHECK(err_of((void *)(uintptr_t)-PG, 2 * PG, MADV_NORMAL) == EINVAL); /* wraps */
	/* A hole: ENOMEM, and the mapped part is advised all the same. */
	CHECK(munmap(p + 2 * PG, PG) == 0);
	p[0] = 1;
	CHECK(err_of(p, 4 * PG, MADV_NORMAL) == ENOMEM);
	CHECK(err_of(p, 4 * PG, MADV_WILLNEED) == ENOMEM);
	CHECK(err_of(p, 4 * PG, MADV_DONTNEED) == ENOMEM);
	CHECK(p[0] == 0 && p[3 * PG] == 0); /* both sides of the hole were dropped */
	munmap(p, 4 * PG);
}

static void test_refusals(void)
{
	char *shared = anon(2, MAP_SHARED);
	CHECK(err_of(shared, 2 * PG, MADV_FREE) == EINVAL);
	CHECK(err_of(shared, 2 * PG, MADV_WIPEONFORK) == EINVAL);
	char *locked = anon(2, MAP_PRIVATE);
	CHECK(mlock(locked, 2 * PG) == 0);
	CHECK(err_of(locked, 2 * PG, MADV_DONTNEED) == EINVAL);
	CHECK(err_of(locked, 2 * PG, MADV_COLD) == EINVAL);
	CHECK(err_of(locked, 2 * PG, MADV_PAGEOUT) == EINVAL);
	CHECK(err_of(locked, 2 * PG, MADV_REMOVE) == EINVAL);
	CHECK(locked[0] == 0x5a);
	CHECK(err_of(locked, 2 * PG, MADV_DONTNEED_LOCKED) == 0);
	CHECK(locked[0] == 0 && locked[PG] == 0);
	char *priv = anon(1, MAP_PRIVATE);
	CHECK(err_of(priv, PG, MADV_REMOVE) == EINVAL); /* no file */
	munmap(shared, 2 * PG);
	munmap(locked, 2 * PG);
	munmap(priv, PG);
}

static void test_fork(void)
{
	char *gone = anon(2, MAP_PRIVATE), *wiped = anon(2, MAP_PRIVATE), *kept = anon(1, MAP_PRIVATE);
	CHECK(err_of(gone, 2 * PG, MADV_DONTFORK) == 0);
	CHECK(err_of(wiped, 2 * PG, MADV_WIPEONFORK) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		bad |= madvise(gone, 2 * PG, MADV_NORMAL) == 0 || errno != ENOMEM; /* not mapped */
		bad |= (wiped[0] != 0 || wiped[PG + 7] != 0) << 1;		 /* zero-filled */
		bad |= (kept[0] != 0x5a) << 2;
		_exit(bad);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	if (WEXITSTATUS(st))
		printf("fork child: %#x\n", WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
	CHECK(gone[0] == 0x5a && wiped[0] == 0x5a); /* the parent keeps its data */
	CHECK(err_of(gone, 2 * PG, MADV_DOFORK) == 0);
	CHECK(err_of(wiped, 2 * PG, MADV_KEEPONFORK) == 0);
	pid = fork();
	if (pid == 0)
		_exit(gone[PG] == 0x5a && wiped[PG] == 0x5a ? 0 : 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_file(void)
{
	char path[] = "/tmp/madviseXXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	char buf[3 * PG];
	memset(buf, 'f', sizeof buf);
	CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
	char *sh = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *ro = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(sh != MAP_FAILED && pr != MAP_FAILED && ro != MAP_FAILED);
	CHECK(err_of(pr, PG, MADV_REMOVE) == EACCES);
	if (on_mcrk()) /* 6.1's rule (VM_SHARED|VM_WRITE); Linux 6.7 on allows it if the fd may write */
		CHECK(err_of(ro, PG, MADV_REMOVE) == EACCES);
	CHECK(err_of(pr, PG, MADV_WIPEONFORK) == EINVAL);
	CHECK(err_of(sh, PG, MADV_FREE) == EINVAL);
	CHECK(err_of(sh + PG, PG, MADV_REMOVE) == 0);
	CHECK(pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf);
	CHECK(buf[0] == 'f' && buf[PG] == 0 && buf[2 * PG - 1] == 0 && buf[2 * PG] == 'f');
	CHECK(sh[PG] == 0 && sh[2 * PG] == 'f');
	CHECK(lseek(fd, 0, SEEK_END) == 3 * PG); /* the size stays (KEEP_SIZE) */
	/* POPULATE: read-only refuses WRITE; past the end of the file is EFAULT. */
	CHECK(err_of(ro, 3 * PG, MADV_POPULATE_WRITE) == EINVAL);
	CHECK(err_of(ro, 3 * PG, MADV_POPULATE_READ) == 0);
	CHECK(ftruncate(fd, PG) == 0);
	CHECK(err_of(ro, 3 * PG, MADV_POPULATE_READ) == EFAULT);
	munmap(sh, 3 * PG);
	munmap(pr, 3 * PG);
	munmap(ro, 3 * PG);
	close(fd);
}

static void test_populate(void)
{
	char *p = anon(3, MAP_PRIVATE);
	CHECK(munmap(p + PG, PG) == 0);
	CHECK(err_of(p, 3 * PG, MADV_POPULATE_READ) == ENOMEM);
	char *none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(err_of(none, PG, MADV_POPULATE_READ) == EINVAL);
	char *q = anon(2, MAP_PRIVATE);
	if (madvise(q + PG, PG, MADV_HWPOISON) == 0) { /* root, and a kernel with it */
		CHECK(err_of(q, 2 * PG, MADV_POPULATE_WRITE) == EHWPOISON);
		CHECK(err_of(q, PG, MADV_POPULATE_WRITE) == 0);
	} else {
		CHECK(!on_mcrk());
	}
	munmap(p, 3 * PG);
	munmap(none, PG);
}

int main(void)
{
	test_ranges_and_values();
	test_refusals();
	test_fork();
	test_file();
	test_populate();
	DONE("madvise");
}
