/* mremap as Linux does it: growing in place, moving (MREMAP_MAYMOVE) and to a chosen address
 * (MREMAP_FIXED) with the contents kept and the old range gone, shrinking, copy-on-write and
 * shared memory that stay so across a move, a shared mapping mapped twice (old_len 0), the
 * part of a grown shared mapping past its object (SIGBUS), and every bad argument. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

/* How a child that touches p ends: 0 if it could read (and write when asked), else signal. */
static int touch_status(volatile char *p, int write)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (write)
			*p = 1;
		(void)*p;
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
}

static char *map(size_t len, int flags)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static void fill(char *p, size_t pages, char base)
{
	for (size_t i = 0; i < pages; i++)
		memset(p + i * PG, base + (char)i, PG);
}

static int holds(const char *p, size_t pages, char base)
{
	for (size_t i = 0; i < pages; i++)
		if (p[i * PG] != base + (char)i || p[i * PG + PG - 1] != base + (char)i)
			return 0;
	return 1;
}

/* Grow in place when the pages above are free, -ENOMEM when not and moving is not allowed,
 * shrink by unmapping the tail. */
static void test_resize_in_place(void)
{
	char *p = map(8 * PG, MAP_PRIVATE);
	CHECK(munmap(p + 2 * PG, 6 * PG) == 0);
	fill(p, 2, 'a');
	CHECK(mremap(p, 2 * PG, 4 * PG, 0) == p);
	CHECK(holds(p, 2, 'a') && p[3 * PG] == 0);
	char *above = mmap(p + 4 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(above == p + 4 * PG);
	errno = 0;
	CHECK(mremap(p, 4 * PG, 5 * PG, 0) == MAP_FAILED && errno == ENOMEM);
	CHECK(mremap(p, 4 * PG, PG, 0) == p); /* shrink */
	CHECK(touch_status(p + PG, 0) == SIGSEGV && holds(p, 1, 'a'));
	CHECK(mremap(p, PG, PG, 0) == p);
	munmap(p, 5 * PG);
}

/* Moves keep the contents, take the old range away, and keep copy-on-write: a child forked
 * before the move still sees its own copy. */
static void test_move(void)
{
	char *p = map(4 * PG, MAP_PRIVATE), *blocker; /* its last page becomes another mapping */
	fill(p, 3, 'k');
	blocker = mmap(p + 3 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(blocker == p + 3 * PG);
	pid_t kid = fork();
	if (kid == 0) { /* waits for the parent's move, then checks its own copy */
		usleep(200 * 1000);
		_exit(holds(p, 3, 'k') ? 0 : 1);
	}
	char *q = mremap(p, 3 * PG, 6 * PG, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	CHECK(holds(q, 3, 'k') && q[5 * PG] == 0);
	CHECK(touch_status(p, 0) == SIGSEGV);
	q[0] = 'X'; /* a COW break at the new address */
	int st;
	waitpid(kid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char *target = map(2 * PG, MAP_PRIVATE);
	memset(target, 'T', 2 * PG);
	char *r = mremap(q, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK(r == target && r[0] == 'X' && r[PG] == 'k' + 1); /* what was at target is gone */
	CHECK(touch_status(q, 0) == SIGSEGV && q[2 * PG] == 'k' + 2);
	munmap(r, 2 * PG);
	munmap(q + 2 * PG, 4 * PG);
	munmap(blocker, PG);
}

/* Shared memory stays shared with a child across a move; mapped twice with old_len 0, both
 * addresses are the same memory; grown past its object, the tail raises SIGBUS. */
static void test_shared(void)
{
	volatile char *s = map(2 * PG, MAP_SHARED);
	s[0] = 1;
	char *t = mremap((void *)s, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			 map(2 * PG, MAP_PRIVATE));
	CHECK(t != MAP_FAILED && t[0] == 1);
	pid_t kid = fork();
	if (kid == 0) {
		t[PG] = 42;
		_exit(0);
	}
	waitpid(kid, NULL, 0);
	CHECK(t[PG] == 42);
	char *twin = mremap(t, 0, 2 * PG, MREMAP_MAYMOVE);
	CHECK(twin != MAP_FAILED && twin != t);
	if (twin != MAP_FAILED) {
		twin[1] = 7;
		CHECK(t[1] == 7 && twin[PG] == 42);
	}
	char *big = mremap(t, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	CHECK(big != MAP_FAILED && big[PG] == 42);
	CHECK(touch_status(big + 3 * PG, 0) == SIGBUS); /* past the 2-page object */
	munmap(big, 4 * PG);
	munmap(twin, 2 * PG);
}

static void test_errors(void)
{
	char *p = map(2 * PG, MAP_PRIVATE), *hole = map(PG, MAP_PRIVATE);
	munmap(hole, PG);
#define FAILS(call, err) CHECK((void *)(call) == MAP_FAILED && errno == (err))
	errno = 0;
	FAILS(syscall(SYS_mremap, p, PG, PG, 8, 0), EINVAL);		 /* unknown flag */
	FAILS(syscall(SYS_mremap, p, PG, 2 * PG, MREMAP_FIXED, p + 8 * PG), EINVAL);
	FAILS(syscall(SYS_mremap, p + 1, PG, PG, 0, 0), EINVAL);	 /* unaligned */
	FAILS(syscall(SYS_mremap, p, PG, 0, 0, 0), EINVAL);		 /* new_len 0 */
	FAILS(syscall(SYS_mremap, p + PG, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p), EINVAL);
	FAILS(syscall(SYS_mremap, p, 0, PG, MREMAP_MAYMOVE), EINVAL); /* private, old_len 0 */
	FAILS(syscall(SYS_mremap, hole, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);
	FAILS(syscall(SYS_mremap, p, 3 * PG, 4 * PG, MREMAP_MAYMOVE), EFAULT); /* past the VMA */
	FAILS(syscall(SYS_mremap, p, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, 0x100), EINVAL);
	if (on_mcrk()) /* Linux 6.1 moves with MREMAP_DONTUNMAP; MCRK refuses it */
		FAILS(syscall(SYS_mremap, p, PG, PG, MREMAP_MAYMOVE | 4, 0), EINVAL);
	CHECK(p[0] == 0 && touch_status(p + PG, 1) == 0); /* nothing changed */
	munmap(p, 2 * PG);
}

int main(void)
{
	test_resize_in_place();
	test_move();
	test_shared();
	test_errors();
	DONE("mremap");
}
