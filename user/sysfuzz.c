/* sysfuzz: the kernel must survive any syscall arguments. Forked children each make SYSCALLS
 * calls with random numbers (every Linux x86-64 number, implemented or not) and arguments
 * drawn from values that break things: 0, small and negative numbers, single bits, kernel
 * and non-canonical addresses, the top of user space, pointers into a scratch buffer and
 * into read-only strings, paths of real files, directories, devices and control files,
 * file-system type names, and pure noise. A child that breaks itself (unmaps its code,
 * scribbles on its TLS, takes a signal with a garbage handler) dies and the next one starts;
 * one that sleeps too long is killed. The children run chrooted in a tmpfs of their own
 * (/tmp/sysfuzz, with /proc, /sys, /dev and /bin/hello inside), so whatever they create,
 * rename, mount or delete goes when that tmpfs is detached at the end; then no memory may be
 * missing (MemFree + Slab and SlabObjects as before, user/leakcheck.c's rule: slab frames are
 * filled in allocation order, so only every other frame and every object must come back) and
 * the kernel must not have faulted or panicked (the test driver checks the log). A pipe a child
 * makes is set non-blocking at once: a read of an empty pipe nobody writes would only hang the
 * child.
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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
    "/tmp", "/tmp/f", "f", "d", "d/f", "l", "/dev/null", "/dev/zero", "/dev/full",
    "/dev/urandom", "/proc/mounts", "tmpfs", "proc", "size=64k", "mode=0700", "/mnt",
};
#define FUZZ_ROOT "/tmp/sysfuzz"
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
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if ((nr == SYS_pipe || nr == SYS_pipe2) && r == 0) {
			int *fds = (int *)a[0];
			fcntl(fds[0], F_SETFL, O_NONBLOCK);
			fcntl(fds[1], F_SETFL, O_NONBLOCK);
		}
		if (syscall(SYS_getpid) != me)
			_exit(0); /* a fork or clone that succeeded: the copy stops here */
	}
	while (wait(NULL) > 0) /* such copies end at once; reap them */
		;
	_exit(0);
}

/* The children's root: a tmpfs with what the paths above name. On Linux without root this
 * fails, and the children run in the real root (there the memory check only reports). */
static int make_fuzz_root(void)
{
	static const char *const dirs[] = {FUZZ_ROOT "/bin", FUZZ_ROOT "/proc", FUZZ_ROOT "/sys",
					   FUZZ_ROOT "/dev", FUZZ_ROOT "/tmp", FUZZ_ROOT "/d"};
	static const struct {
		const char *name;
		unsigned minor;
	} devs[] = {{"null", 3}, {"zero", 5}, {"full", 7}, {"urandom", 9}};
	char buf[4096];
	mkdir(FUZZ_ROOT, 0755);
	if (mount("none", FUZZ_ROOT, "tmpfs", 0, "size=8m"))
		return -1;
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(dirs[i], 0755);
	for (unsigned i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(buf, sizeof(buf), FUZZ_ROOT "/dev/%s", devs[i].name);
		mknod(buf, S_IFCHR | 0666, makedev(1, devs[i].minor));
	}
	int in = open("/bin/hello", O_RDONLY), out = open(FUZZ_ROOT "/bin/hello",
							     O_WRONLY | O_CREAT, 0755);
	for (ssize_t n; in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0;)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(in);
	close(out);
	if (mount("proc", FUZZ_ROOT "/proc", "proc", 0, NULL) ||
	    mount("sysfs", FUZZ_ROOT "/sys", "sysfs", 0, NULL))
		return -1;
	return 0;
}

static char meminfo[2][2048]; /* the text of the first and the latest reading */

/* MemFree + Slab in kB; the live kmalloc objects in *objects. */
static long mem_free_kb(int which, long *objects)
{
	read_meminfo(meminfo[which], sizeof(meminfo[which]));
	*objects = meminfo_value(meminfo[which], "SlabObjects:");
	return meminfo_value(meminfo[which], "MemFree:") + meminfo_value(meminfo[which], "Slab:");
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
	long objs, objs_before;
	mem_free_kb(1, &objs);
	char hello[4096]; /* its pages come into the page cache now, not in the measured part */
	int hfd = open("/bin/hello", O_RDONLY);
	while (hfd >= 0 && read(hfd, hello, sizeof(hello)) > 0)
		;
	close(hfd);
	pid_t warm = fork();
	if (warm == 0)
		_exit(0);
	reap(warm);
	mem_free_kb(0, &objs);
	long before = mem_free_kb(0, &objs_before);
	int jailed = make_fuzz_root() == 0;
	if (on_mcrk())
		CHECK(jailed);
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
			if (jailed && (chroot(FUZZ_ROOT) || chdir("/")))
				_exit(99);
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
	/* Everything the children made goes with their tmpfs, once the last of them is gone (the
	 * copies of a child that died first were adopted by init, which reaps them as they end):
	 * give that a moment before measuring. */
	if (jailed)
		CHECK(umount2(FUZZ_ROOT, MNT_DETACH) == 0);
	rmdir(FUZZ_ROOT);
	long after = mem_free_kb(1, &objs);
	int waited = 0;
	for (; waited < 500 && (after != before || objs != objs_before); waited++) {
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		after = mem_free_kb(1, &objs);
	}
	printf("sysfuzz: MemFree + Slab %ld kB before, %ld kB after, SlabObjects %ld -> %ld (%d ms "
	       "later)\n", before, after, objs_before, objs, waited * 10);
	if (after != before || objs != objs_before)
		print_changes();
	if (on_mcrk())
		CHECK(after == before && objs == objs_before);
	DONE("sysfuzz");
}
