/* sysfuzz: the kernel must survive any syscall arguments. Forked children each make SYSCALLS
 * calls with random numbers (every Linux x86-64 number, implemented or not) and arguments
 * drawn from values that break things: 0, small and negative numbers, single bits, kernel
 * and non-canonical addresses, the top of user space, pointers into a scratch buffer and
 * into read-only strings, paths of real files and control files, and pure noise. A child
 * that breaks itself (unmaps its code, scribbles on its TLS, takes a signal with a garbage
 * handler) dies and the next one starts; one that sleeps too long is killed. At the end no
 * memory may be missing (MemFree as before, as in user/leakcheck.c) and the kernel must not
 * have faulted or panicked (the test driver checks the log).
 *
 * usage: sysfuzz [SEED]   (default 1; the same seed gives the same calls on the same build)
 * The same source runs on Linux, as an unprivileged user; there the memory check only
 * reports. */
#define _GNU_SOURCE
#include "utest.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 128
#define SYSCALLS 1500
#define CHILD_SECONDS 1
#define SCRATCH (64 * 1024)

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
	return rng;
}

/* Paths worth opening, reading, writing and executing; none that poison memory or inject
 * machine checks (those are for root and would take the machine down on purpose), and no
 * program that waits for a machine check. */
static const char *const paths[] = {
    "/bin/hello", "/proc/meminfo", "/proc/self/maps", "/proc/self/pagemap", "/proc/kpageflags",
    "/proc/kmsg", "/proc", "/", "/bin", "/nonexistent", "", "/proc/self",
    "/proc/sys/vm/memory_failure_early_kill",
    "/sys/devices/system/machinecheck/machinecheck0/check_interval",
    "/sys/devices/system/machinecheck/machinecheck0/tolerant",
    "/sys/kernel/debug/ras/cec/decay_interval", "/sys/kernel/debug/ras/cec/array",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static unsigned char *scratch; /* SCRATCH bytes, read-write, random content */

/* Shared with the parent: how far each child got, and the call it died in. */
static struct progress {
	uint64_t calls;
	long last_nr;
} *progress;
#define MAX_NR 512

static uint64_t arg(void)
{
	switch (rnd() % 12) {
	case 0: return 0;
	case 1: return rnd() % 64;
	case 2: return (uint64_t)-(int64_t)(rnd() % 64 + 1);
	case 3: return 1ull << (rnd() % 64);
	case 4: return (uint64_t)(scratch + rnd() % SCRATCH);
	case 5: return (uint64_t)(scratch + (rnd() % (SCRATCH / 4096)) * 4096); /* page-aligned */
	case 6: return 0xffff800000000000ull + (rnd() & 0x7fffffffffffull); /* kernel half */
	case 7: return 0x0000800000000000ull - 4096 + rnd() % 8192;	      /* top of user */
	case 8: return (uint64_t)paths[rnd() % NPATHS];
	case 9: return 0x0000800000000000ull + (rnd() & 0xffffffffffffull); /* non-canonical */
	case 10: return rnd() % 4096 + 4096;
	default: return rnd();
	}
}

/* Syscalls whose first argument is a pid: aim them at ourselves (or nobody), so a child
 * never kills its parent. init is tried on purpose elsewhere (user/sigcheck.c). */
static int targets_a_pid(long nr)
{
	return nr == SYS_kill || nr == SYS_tkill || nr == SYS_tgkill || nr == SYS_rt_sigqueueinfo ||
	       nr == SYS_rt_tgsigqueueinfo || nr == SYS_ptrace || nr == SYS_setpgid ||
	       nr == SYS_prlimit64 || nr == SYS_sched_setaffinity || nr == SYS_pidfd_open ||
	       nr == SYS_process_vm_writev || nr == SYS_kcmp;
}

static void child(pid_t me)
{
	for (int i = 0; i < SYSCALLS; i++) {
		long nr = (long)(rnd() % 3 ? rnd() % 336 : 424 + rnd() % 30);
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		if (targets_a_pid(nr))
			a[0] = rnd() % 2 ? (uint64_t)me : 1000000 + rnd() % 1000;
		if (nr == SYS_tgkill)
			a[1] = a[0];
		/* A copy made by clone must return on this stack, to the check below: one started
		 * on a random stack could run off into this loop as an orphan nobody waits for. */
		if (nr == SYS_clone)
			a[1] = 0;
		if (nr == SYS_clone3)
			continue;
		if (nr == SYS_exit || nr == SYS_exit_group)
			continue; /* would only end this child early */
		if (nr == SYS_rt_sigreturn && rnd() % 16)
			continue; /* with a garbage frame it nearly always kills: keep it rare */
		progress->calls++;
		progress->last_nr = nr;
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (syscall(SYS_getpid) != me)
			_exit(0); /* a fork or clone that succeeded: the copy stops here */
	}
	while (wait(NULL) > 0) /* such copies end at once; reap them */
		;
	_exit(0);
}

static char meminfo[2][2048]; /* the text of the first and the latest reading */

static long mem_free_kb(int which)
{
	read_meminfo(meminfo[which], sizeof(meminfo[which]));
	return meminfo_value(meminfo[which], "MemFree:");
}

/* The meminfo lines that changed, to say where missing memory went. */
static void print_changes(void)
{
	char *save0, *save1;
	char *a = strtok_r(meminfo[0], "\n", &save0), *b = strtok_r(meminfo[1], "\n", &save1);
	for (; a && b; a = strtok_r(NULL, "\n", &save0), b = strtok_r(NULL, "\n", &save1))
		if (strcmp(a, b))
			printf("sysfuzz:   %s  ->  %s\n", a, b);
}

/* Wait for pid at most CHILD_SECONDS, then SIGKILL it; its wait status. */
static int reap(pid_t pid)
{
	int st = 0;
	for (int tick = 0; tick < CHILD_SECONDS * 100; tick++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return st;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	int exited = 0, killed[65] = {0}, died_in[MAX_NR] = {0};
	uint64_t calls = 0;
	rng = seed * 0x9e3779b97f4a7c15ull | 1;
	scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	progress = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(scratch != MAP_FAILED && progress != MAP_FAILED);
	if (scratch == MAP_FAILED || progress == MAP_FAILED)
		DONE("sysfuzz");
	/* Warm up, so that what this process keeps for good is in the baseline: the scratch
	 * and progress frames, stdout's first write, the pages of both meminfo buffers (a read() faults
	 * them in after the snapshot was taken at open()), a fork and a reap. */
	memset(scratch, 0x5a, SCRATCH);
	*progress = (struct progress){0, -1};
	printf("sysfuzz: seed %llu: %d children x %d calls\n", (unsigned long long)seed, CHILDREN,
	       SYSCALLS);
	fflush(stdout);
	mem_free_kb(1);
	pid_t warm = fork();
	if (warm == 0)
		_exit(0);
	reap(warm);
	mem_free_kb(0);
	long before = mem_free_kb(0);
	for (int c = 0; c < CHILDREN; c++) {
		for (int i = 0; i < SCRATCH; i++)
			scratch[i] = (unsigned char)rnd();
		uint64_t child_seed = rnd();
		*progress = (struct progress){0, -1};
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			/* What a child writes to the console by chance would only fill the log. */
			close(0), close(1), close(2);
			rng = child_seed | 1;
			child(getpid());
		}
		CHECK(pid > 0);
		if (pid <= 0)
			break;
		int st = reap(pid);
		calls += progress->calls;
		if (WIFEXITED(st))
			exited++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) < 65)
			killed[WTERMSIG(st)]++;
		if (!WIFEXITED(st) && progress->last_nr >= 0 && progress->last_nr < MAX_NR)
			died_in[progress->last_nr]++;
	}
	printf("sysfuzz: %llu calls made; the most deadly (a child died in or right after it):",
	       (unsigned long long)calls);
	for (int top = 0; top < 5; top++) {
		int best = 0;
		for (int nr = 1; nr < MAX_NR; nr++)
			best = died_in[nr] > died_in[best] ? nr : best;
		if (died_in[best])
			printf(" %d (x%d)", best, died_in[best]);
		died_in[best] = 0;
	}
	printf("\nsysfuzz: children: %d exited, killed by SIGSEGV %d, SIGBUS %d, SIGKILL %d, "
	       "other %d\n",
	       exited, killed[SIGSEGV],
	       killed[SIGBUS], killed[SIGKILL],
	       CHILDREN - exited - killed[SIGSEGV] - killed[SIGBUS] - killed[SIGKILL]);
	/* The copies of a child that died first were adopted by init, which reaps them as they
	 * end: give that a moment before measuring. */
	long after = mem_free_kb(1);
	int waited = 0;
	for (; waited < 500 && after != before; waited++) {
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		after = mem_free_kb(1);
	}
	printf("sysfuzz: MemFree %ld kB before, %ld kB after (%d ms later)\n", before, after, waited * 10);
	if (after != before)
		print_changes();
	if (on_mcrk())
		CHECK(after == before);
	DONE("sysfuzz");
}
