/* Credentials and the privileged interfaces, as Linux 6.1 decides them (the same source
 * builds and passes on Linux, run as root, with user 1000 and group 100 unused by others).
 * Run as root: the ids of root, a temporary seteuid that loses and regains CAP_SYS_ADMIN,
 * PFNs visible, full capability sets in /proc/self/status, and a pagemap opened as root that
 * keeps its PFNs after a drop to the user; then a child drops to user 1000 for good (groups,
 * gid, uid) and execs this program again. Run as user 1000 (that exec, or init's "user@creds"): every privileged
 * path gives EPERM or EACCES and changes nothing (no frame poisoned, no PFN learned, no root
 * process signalled or looked into through /proc, no capability), while what an unprivileged program may do (signal its own processes,
 * PR_MCE_KILL, lower a limit) still works. Its parent must be a root process. */
#define _GNU_SOURCE
#include "utest.h"
#include <grp.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define USER 1000
#define GROUP_USERS 100
#define PM_PRESENT (1ull << 63)
#define PM_FRAME_BITS ((1ull << 55) - 1)
#define CAP_FULL 0x1ffffffffffull /* Linux 6.1's 41 capabilities */

static long hardware_corrupted(void)
{
	char buf[4096];
	read_meminfo(buf, sizeof(buf));
	return meminfo_value(buf, "HardwareCorrupted:");
}

/* A page of our own, filled, for the madvise and pagemap checks. */
static char *own_page(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, 4096);
	return p;
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

/* The pagemap entry of va read through fd (0 on failure). */
static uint64_t pagemap_at(int fd, const void *va)
{
	uint64_t e = 0;
	if (pread(fd, &e, 8, (off_t)((uintptr_t)va / 4096 * 8)) != 8)
		e = 0;
	return e;
}

/* Another process's maps and pagemap: EACCES at open unless we may look into it (Linux's
 * ptrace_may_access with our filesystem ids). */
static int open_errno(pid_t pid, const char *file)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : errno;
}

/* rt_sigqueueinfo(pid, sig) with a chosen si_code. */
static long queue_with_code(pid_t pid, int sig, int code)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

/* ---- the unprivileged side ---- */

static void check_identity(void)
{
	uid_t r, e, s;
	gid_t gl[64];
	CHECK(getresuid(&r, &e, &s) == 0 && r == USER && e == USER && s == USER);
	CHECK(getuid() == USER && geteuid() == USER && getgid() == USER && getegid() == USER);
	int n = getgroups(64, gl), users = 0;
	for (int i = 0; i < n; i++)
		users |= gl[i] == GROUP_USERS;
	CHECK(n >= 1 && users); /* /etc/group puts user in "users" */
	CHECK(setuid(0) < 0 && errno == EPERM);
	CHECK(setresuid(-1, 0, -1) < 0 && errno == EPERM);
	CHECK(setreuid(0, -1) < 0 && errno == EPERM);
	CHECK(setgid(0) < 0 && errno == EPERM);
	CHECK(setgroups(0, NULL) < 0 && errno == EPERM);
	CHECK(setfsuid(0) == USER && setfsuid(-1) == USER); /* refused: the old value stays */
	CHECK(getuid() == USER && geteuid() == USER && getgid() == USER);
}

static void check_memory_errors(void)
{
	char *p = own_page();
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(madvise(p + 1, 4096, MADV_HWPOISON) < 0 && errno == EINVAL); /* range first */
	CHECK(madvise(p, 4096, MADV_HWPOISON) < 0 && errno == EPERM);
	CHECK(madvise(p, 4096, MADV_SOFT_OFFLINE) < 0 && errno == EPERM);
	CHECK(p[0] == 0x5a && p[4095] == 0x5a);
	uint64_t e = utest_pagemap(p);
	CHECK((e & PM_PRESENT) && (e & PM_FRAME_BITS) == 0); /* present, but no PFN */
	static const char *const root_files[] = {
	    "/proc/kpageflags",
	    "/proc/kmsg",
	    "/sys/kernel/debug/hwpoison/corrupt-pfn",
	    "/sys/kernel/debug/mce-inject/status",
	    "/sys/kernel/debug/ras/cec/pfn",
	    "/sys/kernel/debug/apei/einj/error_type",
	    "/sys/firmware/acpi/tables/EINJ",
	};
	for (unsigned i = 0; i < sizeof(root_files) / sizeof(root_files[0]); i++) {
		int fd = open(root_files[i], O_RDONLY); /* the EINJ files exist with a backend */
		bool ok = fd < 0 && (errno == EACCES || (errno == ENOENT && i >= 5));
		if (!ok)
			printf("creds: %s: %s\n", root_files[i],
			       fd >= 0 ? "opened" : strerror(errno));
		CHECK(ok);
		if (fd >= 0)
			close(fd);
	}
	CHECK(open("/sys/kernel/debug", O_RDONLY | O_DIRECTORY) < 0 && errno == EACCES);
	CHECK(open("/proc/sys/vm/memory_failure_early_kill", O_WRONLY) < 0 && errno == EACCES);
	CHECK(open("/sys/devices/system/memory/soft_offline_page", O_WRONLY) < 0 && errno == EACCES);
	CHECK(open("/sys/devices/system/memory/hard_offline_page", O_WRONLY) < 0 && errno == EACCES);
	CHECK(utest_can_open("/proc/sys/vm/memory_failure_early_kill", O_RDONLY));
	CHECK(utest_can_open("/proc/meminfo", O_RDONLY));
	CHECK(open_errno(1, "pagemap") == EACCES && open_errno(1, "maps") == EACCES);
	CHECK(open_errno(getppid(), "pagemap") == EACCES);
	CHECK(open_errno(getpid(), "pagemap") == 0 && open_errno(getpid(), "maps") == 0);
	CHECK(utest_status_hex("CapEff:") == 0 && utest_status_hex("CapPrm:") == 0);
	CHECK(utest_status_hex("CapBnd:") == CAP_FULL); /* the bounding set stays full, as on Linux */
	munmap(p, 4096);
}

/* Signals: nothing reaches the root parent; our own child gets what we send, and a forged
 * kernel si_code is refused even for it. */
static void check_signals(void)
{
	pid_t root = getppid();
	CHECK(kill(root, 0) < 0 && errno == EPERM);
	CHECK(kill(root, SIGKILL) < 0 && errno == EPERM);
	CHECK(syscall(SYS_tgkill, root, root, SIGKILL) < 0 && errno == EPERM);
	CHECK(queue_with_code(root, SIGBUS, BUS_MCEERR_AR) < 0 && errno == EPERM);
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	CHECK(child > 0);
	CHECK(kill(child, 0) == 0);
	CHECK(open_errno(child, "pagemap") == 0); /* ours to look into */
	CHECK(queue_with_code(child, SIGBUS, BUS_MCEERR_AR) < 0 && errno == EPERM);
	CHECK(queue_with_code(child, SIGWINCH, SI_QUEUE) == 0); /* ignored by default */
	CHECK(sched_setaffinity(root, sizeof(cpu_set_t), &(cpu_set_t){{1}}) < 0 && errno == EPERM);
	signal(SIGTERM, SIG_IGN);      /* kill(-1) skips our own process anyway */
	CHECK(kill(-1, SIGTERM) == 0); /* reaches the child only: the rest is root's */
	siginfo_t si = {0};
	CHECK(waitid(P_PID, child, &si, WEXITED) == 0 && si.si_code == CLD_KILLED &&
	      si.si_status == SIGTERM && si.si_uid == USER); /* the child's real uid */
	CHECK(kill(root, 0) < 0 && errno == EPERM);	     /* still there */
}

static void check_the_rest(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rlim_t hard = rl.rlim_max;
	rl.rlim_max = hard + 1;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EPERM);
	rl.rlim_cur = rl.rlim_max = hard - 1;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0); /* lowering is always allowed */
	rl.rlim_max = hard;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) < 0 && errno == EPERM); /* and final */
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) == 0);
	CHECK(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_EARLY);
	CHECK(errno_of(reboot(RB_POWER_OFF)) == EPERM); /* the row would see the machine go */
}

static void unpriv(void)
{
	long hc = hardware_corrupted();
	check_identity();
	check_memory_errors();
	check_signals();
	check_the_rest();
	CHECK(hardware_corrupted() == hc);
	printf("creds: unprivileged: uid %d, every privileged path refused\n", (int)getuid());
	DONE("creds unpriv");
}

/* ---- the root side ---- */

/* A pagemap opened as root keeps showing frames after the process drops to the user (the
 * decision is the opener's, at open); one opened after the drop shows none. */
static void kept_pagemap(const char *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	CHECK(fd >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = setresuid(USER, USER, USER) != 0;
		bad |= (pagemap_at(fd, p) & PM_FRAME_BITS) == 0;
		bad |= (utest_pagemap(p) & PM_FRAME_BITS) != 0;
		bad |= utest_status_hex("CapEff:") != 0 || utest_status_hex("CapPrm:") != 0;
		_exit(bad);
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && st == 0);
	close(fd);
}

static void root_side(const char *self)
{
	uid_t r = 1, e = 1, s = 1;
	CHECK(getresuid(&r, &e, &s) == 0 && r == 0 && e == 0 && s == 0);
	char *p = own_page();
	CHECK(p && (utest_pagemap(p) & PM_FRAME_BITS) != 0); /* root sees the frame */
	/* seteuid away and back: CAP_SYS_ADMIN goes with euid 0 and comes back with it */
	CHECK(setresuid(-1, USER, -1) == 0 && geteuid() == USER && getuid() == 0);
	CHECK(madvise(p, 4096, MADV_HWPOISON) < 0 && errno == EPERM);
	CHECK(p && (utest_pagemap(p) & PM_FRAME_BITS) == 0);
	CHECK(setresuid(-1, 0, -1) == 0 && geteuid() == 0);
	CHECK(p && (utest_pagemap(p) & PM_FRAME_BITS) != 0);
	CHECK(utest_status_hex("CapEff:") == CAP_FULL && utest_status_hex("CapPrm:") == CAP_FULL);
	CHECK(utest_status_hex("CapInh:") == 0 && utest_status_hex("CapAmb:") == 0);
	kept_pagemap(p);
	long hc = hardware_corrupted();
	pid_t pid = fork();
	if (pid == 0) {
		gid_t groups[] = {GROUP_USERS};
		if (setgroups(1, groups) || setresgid(USER, USER, USER) ||
		    setresuid(USER, USER, USER)) {
			printf("creds: cannot drop to user %d\n", USER);
			_exit(2);
		}
		execl(self, self, (char *)NULL); /* the ids survive exec */
		_exit(127);
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(hardware_corrupted() == hc);
	CHECK(getuid() == 0 && geteuid() == 0);
	DONE("creds");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (getuid() != 0)
		unpriv();
	root_side(argv[0]);
}
