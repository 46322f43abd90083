/* mmap/munmap/mprotect: anonymous private and shared mappings, partial unmaps that split
 * mappings, protection changes that must be enforced, and bad arguments that must fail. */
#include "utest.h"
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static int child_status(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return st;
}

static void write_to(void *p) { *(volatile char *)p = 1; }

int main(void)
{
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(round % 17 + 1) * PG;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED);
		if (p == MAP_FAILED)
			break;
		memset(p, round, n);
		CHECK(p[n - 1] == (char)round);
		if (n > 2 * PG) {
			CHECK(munmap(p + PG, PG) == 0); /* a hole in the middle */
			CHECK(p[0] == (char)round && p[2 * PG] == (char)round);
			CHECK(munmap(p, n) == 0);     /* the rest, across the hole */
		} else {
			CHECK(munmap(p, n) == 0);
		}
	}
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 5;
	CHECK(mprotect(p, PG, PROT_READ) == 0);
	int st = child_status(write_to, p);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	CHECK(p[0] == 5);
	CHECK(mprotect(p, PG, PROT_READ | PROT_WRITE) == 0);
	p[0] = 6;
	CHECK(p[0] == 6);
	st = child_status(write_to, p + 8 * PG); /* never mapped */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	/* Shared anonymous memory: a child's write is seen by the parent. */
	volatile int *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	*s = 1;
	pid_t pid = fork();
	if (pid == 0) {
		*s = 42;
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(*s == 42);
	/* Bad arguments. */
	errno = 0;
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(munmap((void *)(p + 1), PG) == -1 && errno == EINVAL);
	/* musl's mprotect() rounds the address down, so ask the kernel directly. */
	CHECK(syscall(SYS_mprotect, p + 1, PG, PROT_READ) == -1 && errno == EINVAL);
	CHECK(mmap((void *)0x1000, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED);
	DONE("mmap_stress");
}
