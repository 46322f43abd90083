/* Interval timers as Linux gives them: alarm (SIGALRM with si_code SI_KERNEL, to a process that
 * sleeps in pause() and to one that spins without a syscall; the seconds the previous alarm
 * had left), setitimer/getitimer for ITIMER_REAL with an interval (several periods), the CPU
 * timers ITIMER_VIRTUAL (user time only: not while the process sleeps) and ITIMER_PROF, a
 * NULL new value disarming, the errors (which, usec out of range, negative seconds, bad
 * pointers), fork (the child has none) and execve (the timer goes on in the new image).
 * usage: itimer          (the tests)
 *        itimer exec     (the image execve runs: exits 0 if ITIMER_REAL is still armed) */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got[65], last_code;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got[sig]++;
	last_code = si->si_code;
}

static void catch(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
	got[sig] = 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spin in user mode, no syscall, until sig arrived or limit seconds passed (checked by
 * counting: clock_gettime is a syscall here only every million rounds). */
static void spin_until(int sig, double limit)
{
	double end = now_s() + limit;
	while (!got[sig]) {
		for (volatile int i = 0; i < 1000000 && !got[sig]; i++)
			;
		if (now_s() > end)
			break;
	}
}

static void test_alarm(void)
{
	catch(SIGALRM);
	CHECK(alarm(1) == 0);
	double t0 = now_s();
	pause();
	double took = now_s() - t0;
	CHECK(got[SIGALRM] == 1);
	CHECK(last_code == SI_KERNEL);
	CHECK(took > 0.9 && took < 3.0);

	catch(SIGALRM);
	CHECK(alarm(1) == 0);
	spin_until(SIGALRM, 5);
	CHECK(got[SIGALRM] == 1); /* reaches a process that never enters the kernel */

	CHECK(alarm(5) == 0);
	CHECK(alarm(7) == 5); /* rounded to the nearest second */
	CHECK(alarm(0) == 7);
	struct itimerval v;
	CHECK(getitimer(ITIMER_REAL, &v) == 0 && !v.it_value.tv_sec && !v.it_value.tv_usec);
}

static void test_real_interval(void)
{
	catch(SIGALRM);
	struct itimerval v = {{0, 50000}, {0, 50000}}, old;
	CHECK(setitimer(ITIMER_REAL, &v, &old) == 0);
	CHECK(getitimer(ITIMER_REAL, &old) == 0);
	CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 50000);
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 50000);
	double end = now_s() + 0.5;
	while (now_s() < end)
		usleep(10000);
	int n = got[SIGALRM];
	CHECK(n >= 4 && n <= 11); /* 10 periods in 0.5 s, give or take a tick each */
	struct itimerval off = {{0, 0}, {0, 0}};
	CHECK(setitimer(ITIMER_REAL, &off, &old) == 0);
	CHECK(old.it_interval.tv_usec == 50000);
	usleep(150000);
	CHECK(got[SIGALRM] == n || got[SIGALRM] == n + 1); /* one may have been on its way */
}

static void test_cpu_timers(void)
{
	catch(SIGVTALRM);
	catch(SIGPROF);
	struct itimerval v = {{0, 0}, {0, 20000}};
	CHECK(setitimer(ITIMER_VIRTUAL, &v, NULL) == 0);
	usleep(300000); /* asleep: no user time passes */
	CHECK(got[SIGVTALRM] == 0);
	struct itimerval left;
	CHECK(getitimer(ITIMER_VIRTUAL, &left) == 0 && left.it_value.tv_usec > 0);
	spin_until(SIGVTALRM, 10);
	CHECK(got[SIGVTALRM] == 1);
	CHECK(last_code == SI_KERNEL);
	CHECK(getitimer(ITIMER_VIRTUAL, &left) == 0 && !left.it_value.tv_usec &&
	      !left.it_value.tv_sec);
	CHECK(setitimer(ITIMER_PROF, &v, NULL) == 0);
	spin_until(SIGPROF, 10);
	CHECK(got[SIGPROF] == 1);
}

static void test_errors(void)
{
	struct itimerval v = {{0, 0}, {0, 1000000}}, old;
	errno = 0;
	CHECK(setitimer(ITIMER_REAL, &v, NULL) == -1 && errno == EINVAL);
	v.it_value.tv_usec = 0;
	v.it_value.tv_sec = -1;
	errno = 0;
	CHECK(setitimer(ITIMER_REAL, &v, NULL) == -1 && errno == EINVAL);
	v.it_value.tv_sec = 1;
	v.it_interval.tv_usec = -1;
	errno = 0;
	CHECK(setitimer(ITIMER_REAL, &v, NULL) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(syscall(SYS_setitimer, 3, &v, NULL) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(syscall(SYS_getitimer, -1, &old) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(syscall(SYS_getitimer, ITIMER_REAL, (void *)8) == -1 && errno == EFAULT);
	errno = 0;
	CHECK(syscall(SYS_setitimer, ITIMER_REAL, (void *)8, NULL) == -1 && errno == EFAULT);
	/* A NULL new value disarms, as Linux still allows. */
	struct itimerval arm = {{0, 0}, {30, 0}};
	CHECK(setitimer(ITIMER_REAL, &arm, NULL) == 0);
	CHECK(syscall(SYS_setitimer, ITIMER_REAL, NULL, &old) == 0 && old.it_value.tv_sec >= 29);
	CHECK(getitimer(ITIMER_REAL, &old) == 0 && !old.it_value.tv_sec && !old.it_value.tv_usec);
}

static void test_fork_exec(const char *self)
{
	struct itimerval arm = {{0, 0}, {30, 0}}, v;
	CHECK(setitimer(ITIMER_REAL, &arm, NULL) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		getitimer(ITIMER_REAL, &v);
		_exit(v.it_value.tv_sec || v.it_value.tv_usec ? 1 : 0); /* the child has none */
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pid = fork();
	if (pid == 0) {
		setitimer(ITIMER_REAL, &arm, NULL);
		execl(self, self, "exec", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	alarm(0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		struct itimerval v;
		getitimer(ITIMER_REAL, &v);
		return v.it_value.tv_sec >= 25 ? 0 : 1;
	}
	test_alarm();
	test_real_interval();
	test_cpu_timers();
	test_errors();
	test_fork_exec(argv[0]);
	DONE("itimer");
}
