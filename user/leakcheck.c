/* No memory leaks across the life of processes: MemFree from /proc/meminfo before and after a
 * workload (fork+exec of the hello program 20 times, a fork tree three levels deep,
 * mmap/munmap of private and shared memory touched by parent and children, and a child killed
 * by SIGSEGV) must be equal to the kilobyte once every child has been reaped: kernel stacks,
 * task structures, page tables, user frames and kmalloc slabs all go back. On MCRK free
 * memory counts the frames in the per-CPU caches, and the empty slabs kmalloc keeps in
 * reserve count in Slab, which the check adds to MemFree, so nothing legitimate stays
 * behind. On Linux MemFree moves with everything else the
 * machine does, so there the difference is only reported. */
#define _GNU_SOURCE
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXECS 20
#define TREE_DEPTH 3
#define TREE_FANOUT 3
#define MAP_ROUNDS 50

static char hello[256];

struct mem {
	long free, slab, objects, kstack, pgtable;
};

/* One snapshot of /proc/meminfo, read with plain read(): no stdio buffer is allocated
 * between two measurements. */
static void measure(struct mem *m)
{
	char buf[2048];
	read_meminfo(buf, sizeof(buf));
	m->free = meminfo_value(buf, "MemFree:");
	m->slab = meminfo_value(buf, "Slab:");
	m->objects = meminfo_value(buf, "SlabObjects:");
	m->kstack = meminfo_value(buf, "KernelStack:");
	m->pgtable = meminfo_value(buf, "PageTables:");
}

static int wait_ok(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void run_hello_quietly(void)
{
	close(1); /* its greeting goes nowhere: 40 of them would only fill the log */
	char *argv[] = {hello, NULL};
	execv(hello, argv);
	_exit(127);
}

static int fork_tree(int depth)
{
	pid_t kids[TREE_FANOUT];
	int ok = 1;
	static char scratch[64 * 1024];
	memset(scratch, depth, sizeof(scratch)); /* break COW on some pages */
	if (depth == 0)
		return 1;
	for (int i = 0; i < TREE_FANOUT; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(fork_tree(depth - 1) ? 0 : 1);
		ok &= kids[i] > 0;
	}
	for (int i = 0; i < TREE_FANOUT; i++)
		ok &= kids[i] > 0 && wait_ok(kids[i]);
	return ok;
}

static void map_workload(void)
{
	for (int r = 0; r < MAP_ROUNDS; r++) {
		size_t n = (size_t)(r % 7 + 1) * 4096 * 16;
		char *priv = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *shr = mmap(NULL, 4096 * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		CHECK(priv != MAP_FAILED && shr != MAP_FAILED);
		memset(priv, r, n);
		memset(shr, r, 4096 * 4);
		pid_t pid = fork();
		if (pid == 0) {
			memset(priv, r + 1, n / 2); /* COW copies in the child */
			shr[0] = 1;
			munmap(priv + 4096, 4096); /* a hole, then exit with the rest mapped */
			_exit(0);
		}
		CHECK(wait_ok(pid));
		CHECK(shr[0] == 1 && priv[0] == (char)r);
		CHECK(munmap(priv + n / 2, n / 2) == 0); /* in two pieces */
		CHECK(munmap(priv, n / 2) == 0);
		CHECK(munmap(shr, 4096 * 4) == 0);
	}
}

static void workload(void)
{
	for (int i = 0; i < EXECS; i++) {
		pid_t pid = fork();
		if (pid == 0)
			run_hello_quietly();
		CHECK(pid > 0 && wait_ok(pid));
	}
	CHECK(fork_tree(TREE_DEPTH));
	map_workload();
	pid_t pid = fork();
	if (pid == 0) {
		char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(p, 1, 8 * 4096);
		volatile uintptr_t bad = (uintptr_t)p[0]; /* 1: SIGSEGV with memory mapped */
		*(volatile int *)bad = 0;
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

int main(int argc, char **argv)
{
	/* The hello program sits next to us (/bin on MCRK, build/user on Linux). */
	snprintf(hello, sizeof(hello), "%s", argv[0]);
	char *slash = strrchr(hello, '/');
	snprintf(slash ? slash + 1 : hello, sizeof(hello) - (size_t)(slash ? slash + 1 - hello : 0),
		 "hello");
	(void)argc;
	/* Warm up once so that what the first run allocates for good in this process is in the
	 * baseline: the pages of our own stack and .bss that the workload touches first (the
	 * fork tree's scratch buffer), and the stack page of measure()'s buffer, which its
	 * first read() faults in after /proc/meminfo's snapshot was taken at open() (one user
	 * frame and its rmap object). */
	workload();
	struct mem before, after;
	measure(&before);
	measure(&before);
	CHECK(before.free > 0);
	workload();
	measure(&after);
	printf("leakcheck: MemFree %ld -> %ld kB (%+ld), Slab %ld -> %ld kB, SlabObjects %ld -> %ld\n",
	       before.free, after.free, after.free - before.free, before.slab, after.slab,
	       before.objects, after.objects);
	if (on_mcrk()) {
		/* Every frame but slab frames is back, and so is every kmalloc object; the number
		 * of slab frames holding the same objects may differ with allocation order. */
		CHECK(after.free + after.slab == before.free + before.slab);
		CHECK(after.objects == before.objects);
		CHECK(after.kstack == before.kstack && after.pgtable == before.pgtable);
	}
	DONE("leakcheck");
}
