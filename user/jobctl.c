/* Processes beyond fork and exit, as Linux: waitid (P_PID, P_PGID, P_ALL; WEXITED, WSTOPPED,
 * WCONTINUED, WNOHANG, WNOWAIT; the siginfo it fills) and its errors, clone children and
 * __WALL; process groups and sessions (setsid, setpgid, getpgid, getpgrp, getsid and their
 * EPERM / ESRCH / EACCES / EINVAL), kill of a process group, of our own (0) and of everyone
 * (-1); job control: SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU stop every thread of a process,
 * SIGCONT continues it, wait4 WUNTRACED / WCONTINUED and SIGCHLD CLD_STOPPED / CLD_CONTINUED
 * report it (SA_NOCLDSTOP silences SIGCHLD only), an orphaned process group ignores the
 * terminal's stop signals, and one left orphaned with a stopped member gets SIGHUP and
 * SIGCONT; getppid after reparenting, to init or to a child subreaper.
 * usage: jobctl          (the tests)
 *        jobctl pause    (waits for a signal: the target of setpgid after execve) */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static volatile siginfo_t chld;
static volatile int chld_hits;
static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	chld = *si;
	chld_hits++;
}

static void catch_chld(int flags)
{
	struct sigaction sa = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART | flags};
	sigaction(SIGCHLD, &sa, NULL);
}

static void await_chld(int n)
{
	for (int i = 0; i < 200 && chld_hits < n; i++)
		msleep(5);
}

static pid_t spawn_pauser(int own_group)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (own_group)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (own_group)
		setpgid(pid, pid); /* both sides, as shells do: no race on who runs first */
	return pid;
}

static volatile int usr1_hits;
static void on_usr1(int sig) { (void)sig, usr1_hits++; }

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- waitid ---- */

static void test_waitid(void)
{
	siginfo_t si;
	errno = 0;
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == -1 && errno == ECHILD);
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	memset(&si, 0x55, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
	CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_EXITED && si.si_pid == pid &&
	      si.si_status == 3 && si.si_uid == 0 && si.si_errno == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0 && si.si_pid == pid); /* still there: reap */
	CHECK(waitid(P_PID, pid, &si, WEXITED) == -1 && errno == ECHILD);
	/* WNOHANG with a child that lives: 0, and a zeroed siginfo. */
	pid = spawn_pauser(0);
	memset(&si, 0x55, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0 && si.si_signo == 0);
	kill(pid, SIGTERM);
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0);
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGTERM && si.si_pid == pid);
	/* P_PGID: a child in a group of its own. */
	pid = spawn_pauser(1);
	kill(pid, SIGUSR1);
	CHECK(waitid(P_PGID, pid, &si, WEXITED) == 0 && si.si_pid == pid);
	/* Errors, as Linux checks them. */
	CHECK(waitid(P_ALL, 0, &si, 0) == -1 && errno == EINVAL);	  /* no state asked */
	CHECK(waitid(P_ALL, 0, &si, WEXITED | 0x100) == -1 && errno == EINVAL);
	CHECK(waitid(P_PID, 0, &si, WEXITED) == -1 && errno == EINVAL);
	CHECK(waitid(P_PGID, -1, &si, WEXITED) == -1 && errno == EINVAL);
	CHECK(waitid((idtype_t)7, 0, &si, WEXITED) == -1 && errno == EINVAL);
	CHECK(waitid((idtype_t)3, 999, &si, WEXITED) == -1 && errno == EBADF); /* P_PIDFD */
	CHECK(syscall(SYS_wait4, -1, NULL, WNOWAIT, NULL) == -1 && errno == EINVAL);
	/* A clone child (exit signal 0) is seen only with __WCLONE or __WALL; wait4 fills
	 * rusage. */
	pid = (pid_t)syscall(SYS_clone, 0, 0, 0, 0, 0);
	if (pid == 0)
		_exit(6);
	msleep(20);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	struct rusage ru;
	int st;
	CHECK(wait4(pid, &st, __WALL, &ru) == pid && WEXITSTATUS(st) == 6);
}

/* ---- process groups and sessions ---- */

static void test_groups(void)
{
	pid_t me = getpid();
	CHECK(setsid() == me); /* init started us in its group: we lead nothing yet */
	CHECK(getsid(0) == me && getpgrp() == me && getpgid(0) == me && getpgid(me) == me);
	errno = 0;
	CHECK(setsid() == -1 && errno == EPERM); /* a session leader already */
	CHECK(setpgid(0, 0) == -1 && errno == EPERM);
	CHECK(setpgid(0, -1) == -1 && errno == EINVAL);
	CHECK(setpgid(999999, 0) == -1 && errno == ESRCH);
	CHECK(getpgid(999999) == -1 && errno == ESRCH);
	CHECK(getsid(999999) == -1 && errno == ESRCH);
	CHECK(setpgid(1, 0) == -1 && errno == ESRCH); /* not ours */
	pid_t a = spawn_pauser(0), b = spawn_pauser(0);
	CHECK(getpgid(a) == me && getsid(a) == me);
	CHECK(setpgid(a, a) == 0 && getpgid(a) == a); /* a new group */
	CHECK(setpgid(b, a) == 0 && getpgid(b) == a); /* joins it */
	CHECK(setpgid(b, 123456) == -1 && errno == EPERM); /* no such group in the session */
	/* kill of the group reaches both; a missing group is ESRCH. */
	CHECK(kill(-a, SIGTERM) == 0);
	int st;
	CHECK(waitpid(a, &st, 0) == a && WTERMSIG(st) == SIGTERM);
	CHECK(waitpid(b, &st, 0) == b && WTERMSIG(st) == SIGTERM);
	CHECK(kill(-a, 0) == -1 && errno == ESRCH);
	CHECK(kill(-999999, SIGTERM) == -1 && errno == ESRCH);
	/* A child in another session, and one that exec'd: EPERM, EACCES. */
	pid_t s = fork();
	if (s == 0) {
		setsid();
		for (;;)
			pause();
	}
	msleep(30);
	CHECK(setpgid(s, me) == -1 && errno == EPERM);
	reap(s);
	pid_t e = fork();
	if (e == 0) {
		char *argv[] = {"/bin/jobctl", "pause", NULL};
		execv(argv[0], argv);
		_exit(1);
	}
	msleep(50);
	CHECK(setpgid(e, e) == -1 && errno == EACCES);
	reap(e);
	/* kill(0): our own group, ourselves included. */
	usr1_hits = 0;
	signal(SIGUSR1, on_usr1);
	CHECK(kill(0, SIGUSR1) == 0 && usr1_hits == 1);
	signal(SIGUSR1, SIG_DFL);
}

/* ---- job control ---- */

static _Atomic unsigned long *counters; /* shared with the child: its threads' progress */

static void *spin(void *arg)
{
	long i = (long)arg;
	for (;;)
		atomic_fetch_add(&counters[i], 1);
	return NULL;
}

/* A child in its own process group (not orphaned: we are in another group of the session)
 * with three threads spinning. */
static pid_t spawn_spinners(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		pthread_t t;
		for (long i = 1; i < 3; i++)
			pthread_create(&t, NULL, spin, (void *)i);
		spin((void *)0);
	}
	setpgid(pid, pid);
	return pid;
}

static int progressing(void)
{
	unsigned long before[3], moved = 0;
	for (int i = 0; i < 3; i++)
		before[i] = atomic_load(&counters[i]);
	msleep(60);
	for (int i = 0; i < 3; i++)
		moved += atomic_load(&counters[i]) != before[i];
	return (int)moved; /* threads that ran */
}

static void stop_and_continue(pid_t pid, int stopsig)
{
	int st;
	chld_hits = 0;
	CHECK(kill(pid, stopsig) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == stopsig);
	await_chld(1);
	CHECK(chld_hits == 1 && chld.si_code == CLD_STOPPED && chld.si_status == stopsig &&
	      chld.si_pid == pid);
	CHECK(progressing() == 0); /* every thread stopped */
	CHECK(waitpid(pid, &st, WUNTRACED | WNOHANG) == 0); /* reported once */
	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st));
	await_chld(2);
	CHECK(chld_hits == 2 && chld.si_code == CLD_CONTINUED && chld.si_status == SIGCONT);
	CHECK(progressing() == 3); /* every thread runs again */
}

static void test_job_control(void)
{
	counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	catch_chld(0);
	pid_t pid = spawn_spinners();
	CHECK(progressing() == 3);
	stop_and_continue(pid, SIGSTOP);
	stop_and_continue(pid, SIGTSTP);
	stop_and_continue(pid, SIGTTIN);
	stop_and_continue(pid, SIGTTOU);
	/* waitid's view of a stop and a continue. */
	siginfo_t si;
	kill(pid, SIGSTOP);
	CHECK(waitid(P_PID, pid, &si, WSTOPPED) == 0 && si.si_code == CLD_STOPPED &&
	      si.si_status == SIGSTOP);
	kill(pid, SIGCONT);
	CHECK(waitid(P_PID, pid, &si, WCONTINUED | WNOWAIT) == 0 && si.si_code == CLD_CONTINUED);
	CHECK(waitid(P_PID, pid, &si, WCONTINUED) == 0 && si.si_status == SIGCONT);
	CHECK(waitid(P_PID, pid, &si, WCONTINUED | WNOHANG) == 0 && si.si_pid == 0);
	/* SA_NOCLDSTOP: no SIGCHLD for a stop, wait still reports it. */
	catch_chld(SA_NOCLDSTOP);
	chld_hits = 0;
	kill(pid, SIGSTOP);
	int st;
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	msleep(30);
	CHECK(chld_hits == 0);
	/* SIGKILL ends a stopped process. */
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	catch_chld(0);
}

/* An orphaned process group (no member has a parent in another group of the session):
 * the terminal's stop signals are ignored, SIGSTOP still stops. */
static void test_orphaned(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setsid(); /* its own session: its parent is in another one */
		for (;;)
			pause();
	}
	msleep(30);
	int st;
	kill(pid, SIGTSTP);
	msleep(30);
	CHECK(waitpid(pid, &st, WUNTRACED | WNOHANG) == 0); /* not stopped */
	kill(pid, SIGSTOP);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	reap(pid);
}

/* A group left orphaned with a stopped member gets SIGHUP, then SIGCONT. */
static volatile int *hup_seen;
static void on_hup(int sig) { (void)sig, *hup_seen = 1; }

static void test_orphaning_exit(void)
{
	hup_seen = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*hup_seen = 0;
	pid_t middle = fork();
	if (middle == 0) {
		pid_t g = fork();
		if (g == 0) {
			signal(SIGHUP, on_hup);
			setpgid(0, 0);
			kill(getpid(), SIGSTOP);
			for (int i = 0; i < 200 && !*hup_seen; i++)
				msleep(5);
			_exit(0);
		}
		int st;
		waitpid(g, &st, WUNTRACED); /* it stopped */
		_exit(0);		    /* and now its group is orphaned */
	}
	waitpid(middle, NULL, 0);
	for (int i = 0; i < 200 && !*hup_seen; i++)
		msleep(5);
	CHECK(*hup_seen == 1);
}

/* ---- reparenting ---- */

static void test_reparent(void)
{
	int *ppid = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int sub = 0; sub < 2; sub++) {
		ppid[0] = 0;
		if (sub)
			CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
		pid_t middle = fork();
		if (middle == 0) {
			if (fork() == 0) {
				msleep(60);
				ppid[0] = getppid();
				_exit(0);
			}
			_exit(0);
		}
		waitpid(middle, NULL, 0);
		for (int i = 0; i < 200 && !ppid[0]; i++)
			msleep(5);
		CHECK(ppid[0] == (sub ? getpid() : 1)); /* init, or us as the subreaper */
		if (sub) {
			CHECK(waitpid(-1, NULL, 0) > 0); /* we adopted it: ours to reap */
			int v = 0;
			CHECK(prctl(PR_GET_CHILD_SUBREAPER, &v) == 0 && v == 1);
			prctl(PR_SET_CHILD_SUBREAPER, 0);
		}
	}
}

/* kill(-1): every process but init and ourselves. Only on MCRK, where the test machine holds
 * nothing else: on a Linux host as root it would signal every process there is. */
static void test_kill_everyone(void)
{
	if (!on_mcrk())
		return;
	pid_t a = spawn_pauser(0), b = spawn_pauser(1);
	errno = 0;
	CHECK(kill(-1, 99) == -1 && errno == EINVAL);
	CHECK(kill(-1, SIGTERM) == 0); /* we are spared */
	int st;
	CHECK(waitpid(a, &st, 0) == a && WTERMSIG(st) == SIGTERM);
	CHECK(waitpid(b, &st, 0) == b && WTERMSIG(st) == SIGTERM);
	msleep(20);
	CHECK(kill(-1, SIGTERM) == -1 && errno == ESRCH); /* nobody left to signal */
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "pause")) {
		pause();
		return 0;
	}
	test_waitid();
	test_groups();
	test_job_control();
	test_orphaned();
	test_orphaning_exit();
	test_reparent();
	test_kill_everyone();
	DONE("jobctl");
}
