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
 * missing (MemFree + Slab and the kmalloc objects as before, as in user/leakcheck.c), no
 * child or thread may be left (every child reaped, with __WALL), and the kernel must not have
 * faulted or panicked (the test driver checks the log). A pipe a child makes is set
 * non-blocking at once: a read of an empty pipe nobody writes would only hang the child.
 * Some calls get arguments shaped to reach deeper: futex (real operations with and without
 * FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME, on aligned, unaligned, shared, read-only and
 * kernel words, with short timeouts), clone/clone3/vfork/fork (combinations of CLONE_* flags,
 * exit signals, stacks, TLS and tid pointers; the copy leaves at once with SYS_exit from
 * assembly, so it never runs C code on a stack it may share with its creator), the calls that
 * take a pid (aimed at the child itself, its own process group, its threads, or nobody) and
 * the signal numbers they take, and ioctl (the terminal's requests on the console and other
 * low fds, with random termios, window sizes and process groups). A child first makes its own
 * process group, so kill(0) and kill(-pgid) reach only it.
 *
 * Run by a user other than root (init's "user@sysfuzz:SEED"), it also calls reboot, and no
 * child may ever see one of its user ids become 0 nor HardwareCorrupted change: nothing
 * privileged was reached. A user can neither mount nor chroot: its children work in
 * /tmp/sysfuzz-user instead (relative paths land there; the file permissions leave a user
 * nothing else to write but /tmp, where a child may chdir), and whatever the user owns in
 * /tmp goes before the memory is counted.
 *
 * usage: sysfuzz [SEED]   (default 1; the same seed gives the same calls on the same build)
 * The same source runs on Linux, as an unprivileged user; there the memory check only
 * reports. */
#define _GNU_SOURCE
#include "utest.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <dirent.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sem.h>
#include <sys/shm.h>
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
#define STACK (16 * 1024) /* a stack for clone's copies (they never use it) */

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
    "/sys/kernel/debug/ras/cec/decay_interval", "/sys/kernel/debug/ras/cec/array",
    "/dev/console", "/dev/tty", "/dev/ttyS0", "/proc/1/stat", "/proc/self/status",
    "/proc/1/task", "/proc/1/cmdline",
};
#define FUZZ_ROOT "/tmp/sysfuzz"
#define FUZZ_USER_DIR "/tmp/sysfuzz-user" /* an unprivileged run's working directory */
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static unsigned char *scratch; /* SCRATCH bytes, read-write, random content */

/* Shared with the parent: how far each child got, and the call it died in. */
static struct progress {
	uint64_t calls;
	long last_nr;
	long escalated_by; /* run unprivileged: the call after which an id was 0, or -1 */
} *progress;
static int unprivileged; /* started by a user other than root */
#define MAX_NR 512

static unsigned char *stack; /* STACK bytes, read-write */

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
	       nr == SYS_process_vm_writev || nr == SYS_kcmp || nr == SYS_getpgid ||
	       nr == SYS_getsid || nr == SYS_get_robust_list || nr == SYS_sched_getaffinity;
}

/* A pid for such a call: ourselves, our process group (negative, for kill), 0 (ourselves), or
 * nobody. Never -1: kill(-1) would reach the parent. */
static uint64_t pid_arg(pid_t me)
{
	switch (rnd() % 5) {
	case 0: return (uint64_t)me;
	case 1: return (uint64_t)(int64_t)-me;
	case 2: return 0;
	case 3: return (uint64_t)syscall(SYS_gettid);
	default: return 1000000 + rnd() % 1000;
	}
}

/* A signal number: valid ones mostly (the child catches them), then 0, the edges and junk;
 * SIGKILL and SIGSTOP, which end the child's run, seldom. */
static uint64_t sig_arg(void)
{
	uint64_t sig;
	switch (rnd() % 4) {
	case 0: sig = rnd() % 70; break;
	case 1: return (uint64_t)(int64_t)-(int64_t)(rnd() % 3);
	case 2: return 64 + rnd() % 3;
	default: sig = 1 + rnd() % 31; break;
	}
	return (sig == SIGKILL || sig == SIGSTOP) && rnd() % 8 ? SIGUSR1 : sig;
}

static void caught(int sig) { (void)sig; }

/* Catch every signal that can be caught, so that the signals it sends itself do not end the
 * child's run at once (until a random rt_sigaction changes that). */
static void catch_all(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = caught;
	sa.sa_flags = SA_RESTART;
	for (int sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
}

#define NCLONE_BITS 23
/* clone flags: random subsets of the real ones, the pthread set now and then, and an exit
 * signal (or junk in the low byte). */
static uint64_t clone_flags(void)
{
	static const uint64_t bits[NCLONE_BITS] = {
	    0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000,
	    0x40000, 0x80000, 0x100000, 0x200000, 0x400000, 0x800000, 0x1000000, 0x2000000,
	    0x4000000, 0x20000000, 0x80000000ull, 0x100000000ull, 0x200000000ull};
	uint64_t f = 0;
	if (rnd() % 4 == 0)
		f = 0x7d0f00; /* musl's and glibc's pthread_create */
	for (int k = (int)(rnd() % 5); k > 0; k--)
		f ^= bits[rnd() % NCLONE_BITS];
	return f | (rnd() % 8 ? (rnd() % 2 ? SIGCHLD : rnd() % 70) : 0);
}

/* clone, clone3, vfork and fork without C code in the copy: it leaves at once with SYS_exit
 * (its thread only), touching no stack. Returns the caller's result. */
static long raw_fork_like(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4)
{
	long ret;
	register uint64_t r10 __asm__("r10") = a3, r8 __asm__("r8") = a4;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "1:"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The futex word: aligned or not, private scratch, the page shared with the parent, a
 * read-only string, nothing, or anything. */
static uint64_t futex_word(void)
{
	switch (rnd() % 6) {
	case 0: return (uint64_t)(scratch + (rnd() % (SCRATCH / 4)) * 4);
	case 1: return (uint64_t)(scratch + rnd() % SCRATCH);
	case 2: return (uint64_t)progress + 64 + (rnd() % 8) * 4;
	case 3: return (uint64_t)paths[rnd() % NPATHS];
	case 4: return 0;
	default: return arg();
	}
}

/* A timeout that ends quickly (relative or absolute from boot), or anything. */
static uint64_t short_timeout(void)
{
	struct timespec *ts = (struct timespec *)(scratch + SCRATCH - 64);
	if (rnd() % 4 == 0)
		return arg();
	ts->tv_sec = 0;
	ts->tv_nsec = (long)(rnd() % 2000000);
	return (uint64_t)ts;
}

/* A SysV segment and semaphore set of this child's, so that the IPC calls meet real objects
 * half of the time (the parent removes what is left, listed in /proc/sysvipc). */
static int own_shm = -1, own_sem = -1;

/* Shape the arguments of calls that reach further with real values. */
static void shape(long nr, uint64_t *a, pid_t me)
{
	if ((nr == SYS_shmat || nr == SYS_shmctl) && rnd() % 2)
		a[0] = (uint64_t)own_shm;
	if ((nr == SYS_semop || nr == SYS_semtimedop || nr == SYS_semctl) && rnd() % 2) {
		a[0] = (uint64_t)own_sem;
		if (nr != SYS_semctl && rnd() % 2) /* a short list of real operations */
			a[1] = (uint64_t)scratch, a[2] = 1 + rnd() % 4;
		if (nr == SYS_semop && rnd() % 2)
			((short *)scratch)[2] |= 04000; /* IPC_NOWAIT: the wait is tested elsewhere */
	}
	if (targets_a_pid(nr))
		a[0] = pid_arg(me);
	if (nr == SYS_tgkill || nr == SYS_rt_tgsigqueueinfo)
		a[1] = rnd() % 2 ? (uint64_t)syscall(SYS_gettid) : a[0];
	if (nr == SYS_kill || nr == SYS_tkill)
		a[1] = sig_arg();
	if (nr == SYS_tgkill)
		a[2] = sig_arg();
	if (nr == SYS_waitid && rnd() % 2)
		a[0] = rnd() % 4, a[1] = pid_arg(me), a[3] = rnd() % 2 ? 4 | 1 : a[3];
	if (nr == SYS_futex) {
		static const int ops[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
		uint32_t *w = (uint32_t *)futex_word();
		a[0] = (uint64_t)w;
		a[1] = (uint64_t)(ops[rnd() % 14] | (rnd() % 2 ? 128 : 0) | (rnd() % 4 ? 0 : 256));
		if (rnd() % 2 && (uint64_t)w >= (uint64_t)scratch &&
		    (uint64_t)w < (uint64_t)scratch + SCRATCH - 4 && !((uint64_t)w & 3))
			a[2] = *w; /* the value it holds: a wait really waits */
		a[3] = rnd() % 2 ? short_timeout() : rnd() % 4;
		a[4] = futex_word();
	}
	if (nr == SYS_clone) {
		a[0] = clone_flags();
		a[1] = rnd() % 2 ? (uint64_t)(stack + STACK) : rnd() % 2 ? 0 : arg();
	}
	if (nr == SYS_clone3) {
		uint64_t *ca = (uint64_t *)(scratch + rnd() % (SCRATCH / 2) / 8 * 8);
		ca[0] = clone_flags() & ~0xffull;
		ca[4] = rnd() % 4 ? SIGCHLD : rnd() % 70;
		ca[5] = rnd() % 2 ? (uint64_t)stack : arg();
		ca[6] = rnd() % 2 ? STACK : arg();
		a[0] = (uint64_t)ca;
		a[1] = rnd() % 2 ? 64 + (rnd() % 4) * 8 : arg();
	}
	if (nr == SYS_ioctl && rnd() % 2) { /* the terminal's requests, hostile termios values */
		static const uint32_t tty_ioctls[] = {0x5401, 0x5402, 0x5403, 0x5404, 0x540b,
						      0x540e, 0x540f, 0x5410, 0x5413, 0x5414,
						      0x541b, 0x5422, 0x5429, 0x5409, 0x5411};
		a[1] = tty_ioctls[rnd() % (sizeof(tty_ioctls) / sizeof(tty_ioctls[0]))];
		if (rnd() % 2)
			a[0] = rnd() % 4; /* the console, as init gave it, or another low fd */
	}
	if (nr == SYS_syslog && (a[0] == 6 || a[0] == 7 || a[0] == 8))
		a[0] = 3; /* not the console level: the test reads the console */
}

static int fork_like(long nr)
{
	return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork;
}

static void child(pid_t me)
{
	setpgid(0, 0); /* our own process group: kill(0) and kill(-me) reach only us */
	catch_all();
	own_shm = shmget(IPC_PRIVATE, 2 * 4096, IPC_CREAT | 0600);
	own_sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	for (int i = 0; i < SYSCALLS; i++) {
		long nr = (long)(rnd() % 3 ? rnd() % 336 : 424 + rnd() % 30);
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		if (nr == SYS_exit || nr == SYS_exit_group || (nr == SYS_reboot && !unprivileged))
			continue; /* would only end this child early (or, for root, the machine) */
		if (nr == SYS_rt_sigreturn && rnd() % 16)
			continue; /* with a garbage frame it nearly always kills: keep it rare */
		if ((nr == SYS_pause || nr == SYS_rt_sigsuspend) && rnd() % 16)
			continue; /* they wait for a signal nobody sends: keep them rare */
		shape(nr, a, me);
		progress->calls++;
		progress->last_nr = nr;
		if (fork_like(nr)) {
			raw_fork_like(nr, a[0], a[1], a[2], a[3], a[4]);
		} else if (syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) == 0 &&
			   (nr == SYS_pipe || nr == SYS_pipe2)) {
			int *fds = (int *)a[0];
			fcntl(fds[0], F_SETFL, O_NONBLOCK);
			fcntl(fds[1], F_SETFL, O_NONBLOCK);
		}
		if (syscall(SYS_getpid) != me)
			_exit(0); /* cannot happen any more: copies leave in raw_fork_like */
		uid_t r, e, su;
		if (unprivileged && progress->escalated_by < 0 &&
		    (syscall(SYS_getresuid, &r, &e, &su) || !r || !e || !su))
			progress->escalated_by = nr;
	}
	while (waitpid(-1, NULL, __WALL) > 0) /* such copies end at once; reap them */
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
		unsigned major, minor;
	} devs[] = {{"null", 1, 3},    {"zero", 1, 5},	  {"full", 1, 7},
		    {"urandom", 1, 9}, {"console", 5, 1}, {"tty", 5, 0}, {"ttyS0", 4, 64}};
	char buf[4096];
	mkdir(FUZZ_ROOT, 0755);
	if (mount("none", FUZZ_ROOT, "tmpfs", 0, "size=8m"))
		return -1;
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(dirs[i], 0755);
	for (unsigned i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(buf, sizeof(buf), FUZZ_ROOT "/dev/%s", devs[i].name);
		mknod(buf, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor));
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

/* Remove path and everything below it (an unprivileged run's files: a child may have taken
 * the permissions away from its own, which their owner gives back first). */
static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		char sub[512];
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < (int)sizeof(sub))
			remove_tree(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* Remove every entry of dir that belongs to this user. */
/* Remove every SysV object listed in /proc/sysvipc/NAME (the id is the second column) that
 * we may remove: what the children left. Line by line through stdio, whose buffer the first
 * call (before the memory is counted) leaves in the heap for the last. */
static void remove_sysvipc(const char *name, int shm)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/sysvipc/%s", name);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		int key, id;
		if (sscanf(line, "%d %d", &key, &id) != 2)
			continue; /* the header */
		if (shm)
			shmctl(id, IPC_RMID, NULL);
		else
			semctl(id, 0, IPC_RMID);
	}
	if (f)
		fclose(f);
}

static void remove_own(const char *dir)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		char sub[512];
		struct stat st;
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub) &&
		    !lstat(sub, &st) && st.st_uid == getuid())
			remove_tree(sub);
	}
	if (d)
		closedir(d);
}

static char meminfo[2][2048]; /* the text of the first and the latest reading */

static long hardware_corrupted_kb(void)
{
	char text[2048];
	read_meminfo(text, sizeof(text));
	return meminfo_value(text, "HardwareCorrupted:");
}

/* Free memory as user/leakcheck.c counts it: MemFree + Slab (kmalloc keeps a few empty slab
 * frames in reserve and fills slabs in allocation order, so the objects say what is in use)
 * into meminfo[which], in kB; the live kmalloc objects in *objects. */
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

/* Wait for pid at most CHILD_SECONDS, then SIGKILL it; its wait status. Then reap whatever
 * else it left us: copies it made with CLONE_PARENT are our children (__WALL: whatever their
 * exit signal). */
static int reap(pid_t pid)
{
	int st = 0;
	int tick = 0;
	for (; tick < CHILD_SECONDS * 100; tick++) {
		if (waitpid(pid, &st, WNOHANG | __WALL) == pid)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	if (tick == CHILD_SECONDS * 100) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, __WALL);
	}
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
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
	stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(scratch != MAP_FAILED && progress != MAP_FAILED && stack != MAP_FAILED);
	if (scratch == MAP_FAILED || progress == MAP_FAILED || stack == MAP_FAILED)
		DONE("sysfuzz");
	/* Warm up, so that what this process keeps for good is in the baseline: the scratch
	 * and progress frames, stdout's first write, the pages of both meminfo buffers (a read() faults
	 * them in after the snapshot was taken at open()), a fork and a reap, an opendir, and /proc
	 * listed (the PID directories of init and this process stay while they live). */
	memset(scratch, 0x5a, SCRATCH);
	*progress = (struct progress){0, -1, -1};
	unprivileged = getuid() != 0;
	long corrupted = hardware_corrupted_kb();
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
	closedir(opendir("/")); /* what malloc keeps after remove_own's first opendir */
	pid_t warm = fork();
	if (warm == 0)
		_exit(0);
	reap(warm);
	DIR *proc = opendir("/proc");
	while (proc && readdir(proc))
		;
	if (proc)
		closedir(proc);
	remove_sysvipc("shm", 1); /* nothing yet: the pages its reading touches are counted now */
	remove_sysvipc("sem", 0);
	mem_free_kb(0, &objs);
	long before = mem_free_kb(0, &objs_before);
	/* Root jails the children in a tmpfs of their own; a user cannot mount nor chroot, so
	 * its children work in a directory of its own instead, which goes at the end. */
	int jailed = !unprivileged && make_fuzz_root() == 0;
	if (on_mcrk() && !unprivileged)
		CHECK(jailed);
	if (unprivileged)
		CHECK(mkdir(FUZZ_USER_DIR, 0755) == 0);
	for (int c = 0; c < CHILDREN; c++) {
		for (int i = 0; i < SCRATCH; i++)
			scratch[i] = (unsigned char)rnd();
		uint64_t child_seed = rnd();
		*progress = (struct progress){0, -1, progress->escalated_by};
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			/* What a child writes to the console by chance would only fill the log. */
			close(0), close(1), close(2);
			if (jailed && (chroot(FUZZ_ROOT) || chdir("/")))
				_exit(99);
			if (unprivileged && chdir(FUZZ_USER_DIR))
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
	if (!unprivileged)
		rmdir(FUZZ_ROOT);
	if (unprivileged)
		remove_own("/tmp"); /* its directory, and what children that went there made */
	remove_sysvipc("shm", 1);
	remove_sysvipc("sem", 0);
	long after = mem_free_kb(1, &objs);
	int waited = 0;
	for (; waited < 500 && (after != before || objs != objs_before); waited++) {
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		after = mem_free_kb(1, &objs);
	}
	printf("sysfuzz: MemFree + Slab %ld kB before, %ld kB after, kmalloc objects %ld and %ld (%d ms "
	       "later)\n", before, after, objs_before, objs, waited * 10);
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) == -1 && errno == ECHILD); /* nothing left */
	if (after != before || objs != objs_before)
		print_changes();
	if (on_mcrk())
		CHECK(after == before && objs == objs_before);
	if (unprivileged) {
		printf("sysfuzz: unprivileged (uid %d): ids after the calls %s, HardwareCorrupted %ld "
		       "kB before and %ld kB after\n", (int)getuid(),
		       progress->escalated_by < 0 ? "never 0" : "became 0", corrupted,
		       hardware_corrupted_kb());
		CHECK(progress->escalated_by < 0);
		CHECK(hardware_corrupted_kb() == corrupted);
		CHECK(getuid() && geteuid());
	}
	DONE("sysfuzz");
}
