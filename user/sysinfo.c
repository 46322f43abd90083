/* The system calls a program asks the system with, as Linux answers them: uname (a Linux
 * release number that programs parse), sysinfo, getrandom (lengths, flags, errors), the
 * resource limits (getrlimit, setrlimit, prlimit64: raising a hard limit, cur > max, an open
 * file limit past the table, RLIMIT_NOFILE enforced by open, RLIMIT_AS by mmap, RLIMIT_STACK
 * used by execve), times and getrusage (self, children, thread), the clocks (every id,
 * CPU-time clocks of a process and of a thread, resolutions), nanosleep and clock_nanosleep
 * (relative and TIMER_ABSTIME, -EINTR with the time left, errors), syslog as dmesg uses it,
 * reboot's checks (the magic numbers, commands), sched_yield and time.
 * usage: sysinfo          (the tests)
 *        sysinfo stack N  (the image execve runs: exits 0 if its stack holds N KiB)
 *        sysinfo poweroff | restart   (reboot(2) for real: the machine goes) */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KLOG_READ_ALL 3
#define KLOG_READ_CLEAR 4
#define KLOG_CLEAR 5
#define KLOG_CONSOLE_LEVEL 8
#define KLOG_SIZE_UNREAD 9
#define KLOG_SIZE_BUFFER 10

static void test_uname(void)
{
	struct utsname u;
	CHECK(uname(&u) == 0);
	CHECK(!strcmp(u.sysname, "Linux") && !strcmp(u.machine, "x86_64"));
	int major = 0, minor = 0;
	CHECK(sscanf(u.release, "%d.%d", &major, &minor) == 2 && major >= 3); /* as programs parse it */
	if (on_mcrk())
		CHECK(!strcmp(u.release, "6.1.0-mcrk") && strstr(u.version, "MCRK"));
	errno = 0;
	CHECK(syscall(SYS_uname, (void *)8) == -1 && errno == EFAULT);
}

static void test_sysinfo(void)
{
	struct sysinfo si;
	CHECK(sysinfo(&si) == 0);
	CHECK(si.mem_unit >= 1 && si.totalram > 0 && si.freeram > 0 && si.freeram <= si.totalram);
	CHECK(si.procs >= 2);
	errno = 0;
	CHECK(syscall(SYS_sysinfo, (void *)8) == -1 && errno == EFAULT);
}

static void test_getrandom(void)
{
	unsigned char a[512], b[512];
	CHECK(getrandom(a, sizeof(a), 0) == (ssize_t)sizeof(a));
	CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == (ssize_t)sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	size_t big = 1 << 20;
	unsigned char *m = malloc(big);
	CHECK(getrandom(m, big, 0) == (ssize_t)big); /* no 256-byte cap */
	free(m);
	CHECK(getrandom(a, 0, 0) == 0);
	errno = 0;
	CHECK(syscall(SYS_getrandom, a, 16, 0x8) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_getrandom, a, 16, GRND_RANDOM | 0x4) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_getrandom, (void *)8, 16, 0) == -1 && errno == EFAULT);
}

static void test_limits(void)
{
	struct rlimit r, old;
	CHECK(getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur == 8u << 20 && r.rlim_max == RLIM_INFINITY);
	CHECK(getrlimit(RLIMIT_CORE, &r) == 0 && r.rlim_cur == 0);
	errno = 0;
	CHECK(syscall(SYS_getrlimit, 99, &r) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_getrlimit, RLIMIT_AS, (void *)8) == -1 && errno == EFAULT);
	r = (struct rlimit){10, 5};
	CHECK(setrlimit(RLIMIT_AS, &r) == -1 && errno == EINVAL); /* cur above max */
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	r = (struct rlimit){old.rlim_cur, 1u << 30};
	CHECK(setrlimit(RLIMIT_NOFILE, &r) == -1 && errno == EPERM); /* past the fd table */
	/* prlimit64 on ourselves, by pid, with the old value back. */
	struct rlimit n = {3, old.rlim_max}, back;
	CHECK(prlimit(getpid(), RLIMIT_NOFILE, &n, &back) == 0 && back.rlim_cur == old.rlim_cur);
	CHECK(open("/bin/sysinfo", O_RDONLY) == -1 && errno == EMFILE); /* 0, 1, 2 are taken */
	CHECK(dup2(0, 7) == -1 && errno == EBADF);
	CHECK(prlimit(0, RLIMIT_NOFILE, &old, NULL) == 0);
	int fd = open("/bin/sysinfo", O_RDONLY);
	CHECK(fd >= 0);
	close(fd);
	CHECK(prlimit(999999, RLIMIT_NOFILE, NULL, &back) == -1 && errno == ESRCH);
	/* RLIMIT_AS: a mapping past it fails with ENOMEM, in a child. */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit as = {64u << 20, RLIM_INFINITY};
		setrlimit(RLIMIT_AS, &as);
		void *p = mmap(NULL, 128u << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(p == MAP_FAILED && errno == ENOMEM ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* RLIMIT_STACK: the stack execve maps for the new program. */
	pid = fork();
	if (pid == 0) {
		struct rlimit s = {1u << 20, RLIM_INFINITY};
		setrlimit(RLIMIT_STACK, &s);
		char *argv[] = {"/bin/sysinfo", "stack", "1024", NULL};
		execv(argv[0], argv);
		_exit(9);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* In the exec'd image: /proc/self/maps shows a [stack] of kib KiB. */
static int check_stack(int kib)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			return (hi - lo) == (unsigned long)kib * 1024 ? 0 : 1;
	return on_mcrk() ? 2 : 0; /* Linux grows its stack: only MCRK maps it whole */
}

/* Use arg ms of this thread's CPU time. */
static void *burn(void *arg)
{
	volatile uint64_t x = 0;
	uint64_t until = utest_ns(CLOCK_THREAD_CPUTIME_ID) + (uint64_t)(long)arg * 1000000ull;
	while (utest_ns(CLOCK_THREAD_CPUTIME_ID) < until)
		for (int i = 0; i < 1000; i++)
			x++;
	return NULL;
}

static void test_cpu_times(void)
{
	uint64_t p0 = utest_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = utest_ns(CLOCK_THREAD_CPUTIME_ID);
	pthread_t th;
	pthread_create(&th, NULL, burn, (void *)150L);
	burn((void *)100L);
	pthread_join(th, NULL);
	uint64_t p1 = utest_ns(CLOCK_PROCESS_CPUTIME_ID), t1 = utest_ns(CLOCK_THREAD_CPUTIME_ID);
	CHECK(t1 - t0 >= 100000000ull);		/* this thread ran 100 ms */
	CHECK(p1 - p0 >= (t1 - t0) + 100000000ull); /* the process also the other thread's */
	clockid_t c;
	CHECK(pthread_getcpuclockid(pthread_self(), &c) == 0 && utest_ns(c) >= t1);
	CHECK(clock_getcpuclockid(getpid(), &c) == 0 && utest_ns(c) >= p1);
	struct rusage self, thread, kids;
	CHECK(getrusage(RUSAGE_SELF, &self) == 0 && getrusage(RUSAGE_THREAD, &thread) == 0);
	long self_ms = self.ru_utime.tv_sec * 1000 + self.ru_utime.tv_usec / 1000 +
		       self.ru_stime.tv_sec * 1000 + self.ru_stime.tv_usec / 1000;
	CHECK(self_ms >= 150); /* sampled at each tick: about 250 ms */
	CHECK(self.ru_minflt > 0 && self.ru_nvcsw + self.ru_nivcsw > 0);
	errno = 0;
	CHECK(getrusage(2, &kids) == -1 && errno == EINVAL);
	pid_t pid = fork();
	if (pid == 0) {
		burn((void *)100L);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	CHECK(getrusage(RUSAGE_CHILDREN, &kids) == 0);
	CHECK(kids.ru_utime.tv_sec * 1000 + kids.ru_utime.tv_usec / 1000 + kids.ru_stime.tv_sec * 1000 +
		      kids.ru_stime.tv_usec / 1000 >= 50);
	struct tms t;
	clock_t now = times(&t);
	CHECK(now != (clock_t)-1 && t.tms_utime + t.tms_stime >= 15 && t.tms_cutime + t.tms_cstime >= 5);
}

static void test_clocks(void)
{
	static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
					CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
					CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
					CLOCK_TAI};
	struct timespec ts, res;
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		CHECK(clock_gettime(ids[i], &ts) == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
		CHECK(clock_getres(ids[i], &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
	}
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_nsec == 1);
	CHECK(clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_nsec > 1);
	CHECK(clock_getres(CLOCK_MONOTONIC, NULL) == 0);
	uint64_t a = utest_ns(CLOCK_MONOTONIC), b = utest_ns(CLOCK_BOOTTIME), c = utest_ns(CLOCK_MONOTONIC);
	CHECK(a <= b && b <= c + 1000000); /* no suspend: the same clock */
	errno = 0;
	CHECK(clock_gettime((clockid_t)10, &ts) == -1 && errno == EINVAL);
	CHECK(clock_gettime((clockid_t)-1, &ts) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8) == -1 && errno == EFAULT);
	CHECK(clock_getres((clockid_t)10, &res) == -1 && errno == EINVAL);
	struct timeval tv;
	struct timezone tz = {99, 99};
	CHECK(syscall(SYS_gettimeofday, &tv, &tz) == 0 && tz.tz_minuteswest == 0 && tz.tz_dsttime == 0);
	time_t t1, t2 = time(&t1);
	CHECK(t1 == t2 && t1 >= tv.tv_sec);
	CHECK(sched_yield() == 0);
}

static volatile int alarms;
static void on_usr1(int sig) { (void)sig, alarms++; }

static void *poke(void *arg)
{
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

static void test_sleeps(void)
{
	struct timespec req = {0, 20 * 1000000}, rem;
	uint64_t t0 = utest_ns(CLOCK_MONOTONIC);
	CHECK(nanosleep(&req, NULL) == 0 && utest_ns(CLOCK_MONOTONIC) - t0 >= 20000000ull);
	/* TIMER_ABSTIME, on the monotonic and the wall clock. */
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 30 * 1000000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) == 0);
	CHECK(utest_ns(CLOCK_MONOTONIC) >= (uint64_t)abs.tv_sec * 1000000000ull + (uint64_t)abs.tv_nsec);
	abs = (struct timespec){0, 1}; /* the epoch: long past */
	CHECK(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL) == 0);
	/* A handler cuts a relative sleep short: EINTR and the time left. */
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t self = pthread_self(), th;
	pthread_create(&th, NULL, poke, &self);
	req = (struct timespec){2, 0};
	errno = 0;
	CHECK(nanosleep(&req, &rem) == -1 && errno == EINTR && alarms == 1);
	CHECK(rem.tv_sec >= 1 && rem.tv_sec <= 2);
	pthread_join(th, NULL);
	pthread_create(&th, NULL, poke, &self);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR && rem.tv_sec >= 1);
	pthread_join(th, NULL);
	signal(SIGUSR1, SIG_DFL);
	/* Errors: clock_nanosleep returns them, nanosleep sets errno. */
	struct timespec bad = {0, 1000000000};
	CHECK(nanosleep(&bad, NULL) == -1 && errno == EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
	CHECK(clock_nanosleep((clockid_t)10, 0, &req, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC_COARSE, 0, &req, NULL) == EOPNOTSUPP);
	CHECK(syscall(SYS_nanosleep, (void *)8, NULL) == -1 && errno == EFAULT);
	/* A CPU-time clock: until the process has used that much. */
	struct timespec cpu = {0, 30 * 1000000};
	uint64_t c0 = utest_ns(CLOCK_PROCESS_CPUTIME_ID);
	pthread_create(&th, NULL, burn, (void *)200L);
	CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &cpu, NULL) == 0);
	CHECK(utest_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 30000000ull);
	pthread_join(th, NULL);
}

static void test_syslog(void)
{
	int size = (int)syscall(SYS_syslog, KLOG_SIZE_BUFFER, NULL, 0);
	CHECK(size >= 16384);
	char *buf = malloc((size_t)size + 1);
	int n = (int)syscall(SYS_syslog, KLOG_READ_ALL, buf, size);
	CHECK(n > 0 && n <= size);
	buf[n > 0 ? n : 0] = 0;
	if (on_mcrk())
		CHECK(strstr(buf, "mcrk: ready") != NULL); /* the boot is in the log */
	CHECK(syscall(SYS_syslog, KLOG_SIZE_UNREAD, NULL, 0) >= 0);
	/* READ_CLEAR, then nothing new until the next message. */
	CHECK(syscall(SYS_syslog, KLOG_READ_CLEAR, buf, size) >= 0);
	CHECK(syscall(SYS_syslog, KLOG_READ_ALL, buf, size) == 0);
	errno = 0;
	CHECK(syscall(SYS_syslog, KLOG_READ_ALL, NULL, 10) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_syslog, KLOG_READ_ALL, buf, -1) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_syslog, KLOG_READ_ALL, (void *)0xffff800000000000ull, 10) == -1 &&
	      errno == EFAULT);
	CHECK(syscall(SYS_syslog, KLOG_CONSOLE_LEVEL, NULL, 9) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_syslog, KLOG_CONSOLE_LEVEL, NULL, 7) == 0); /* the default: back */
	CHECK(syscall(SYS_syslog, 11, NULL, 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_syslog, KLOG_CLEAR, NULL, 0) == 0);
	free(buf);
}

static void test_reboot_checks(void)
{
	errno = 0;
	CHECK(syscall(SYS_reboot, 0xfee1dead, 1, 0x4321fedc, NULL) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_reboot, 0xfee1deae, 672274793, 0x4321fedc, NULL) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_reboot, 0xfee1dead, 672274793, 0x12345678, NULL) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_reboot, 0xfee1dead, 672274793, 0x89abcdef, NULL) == 0); /* CAD on */
	CHECK(syscall(SYS_reboot, 0xfee1dead, 672274793, 0, NULL) == 0);	   /* CAD off */
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "stack"))
		return check_stack(atoi(argv[2]));
	if (argc == 2 && (!strcmp(argv[1], "poweroff") || !strcmp(argv[1], "restart"))) {
		sync();
		syscall(SYS_reboot, 0xfee1dead, 672274793,
			strcmp(argv[1], "poweroff") ? 0x01234567 : 0x4321fedc, NULL);
		printf("sysinfo: reboot returned (errno %d)\n", errno);
		return 1;
	}
	test_uname();
	test_sysinfo();
	test_getrandom();
	test_limits();
	test_cpu_times();
	test_clocks();
	test_sleeps();
	test_syslog();
	if (on_mcrk())
		test_reboot_checks(); /* as root on Linux a wrong guess here reboots the host */
	DONE("sysinfo");
}
