/* Signal facts that user/signals.c leaves out: who sent a signal (si_pid, si_uid, si_code
 * for kill, tgkill/raise and sigqueue with its value), SIGCHLD to the parent with si_pid,
 * si_code and si_status, kill() errors and signal 0 on a zombie, the mask that sigsetjmp saves
 * (or not) when siglongjmp leaves a SIGSEGV handler, and the wait status of children killed
 * by SIGKILL, SIGTERM and SIGABRT; init (pid 1) shrugging off signals it has no handler for. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile siginfo_t got;
static volatile int hits;

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	got = *si;
	hits++;
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

/* Sleep in small steps until the handler count reaches want (a signal interrupts the sleep);
 * gives up after about two seconds. */
static void await_hits(int want)
{
	for (int i = 0; i < 200 && hits < want; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void test_senders(void)
{
	on(SIGUSR1, record);
	hits = 0;
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	await_hits(1);
	CHECK(hits == 1);
	CHECK(got.si_signo == SIGUSR1 && got.si_code == SI_USER);
	CHECK(got.si_pid == pid && got.si_uid == getuid());
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(raise(SIGUSR1) == 0); /* musl: tkill/tgkill on our own thread */
	CHECK(hits == 2 && got.si_code == SI_TKILL && got.si_pid == getpid());
	CHECK(syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1) == 0);
	CHECK(hits == 3 && got.si_code == SI_TKILL && got.si_pid == getpid());
	CHECK(sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 1234}) == 0);
	CHECK(hits == 4 && got.si_code == SI_QUEUE && got.si_pid == getpid());
	CHECK(got.si_value.sival_int == 1234);
	/* User space may not claim to be the kernel (si_code >= 0) when it queues a signal for
	 * another process (to itself it may, as on Linux). */
	siginfo_t forged;
	memset(&forged, 0, sizeof(forged));
	forged.si_signo = SIGUSR1;
	forged.si_code = SI_KERNEL;
	pid = fork();
	if (pid == 0) {
		for (;;)
			sleep(1);
	}
	errno = 0;
	CHECK(syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &forged) == -1 && errno == EPERM);
	CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, &st, 0) == pid);
	CHECK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &forged) == 0);
	CHECK(hits == 5 && got.si_code == SI_KERNEL);
}

static void test_kill_errors(void)
{
	errno = 0;
	CHECK(kill(getpid(), 99) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(kill(getpid(), -1) == -1 && errno == EINVAL);
	CHECK(kill(getpid(), 0) == 0);
	errno = 0;
	CHECK(kill(999999, 0) == -1 && errno == ESRCH);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	errno = 0;
	CHECK(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(sigaction(SIGSTOP, &sa, NULL) == -1 && errno == EINVAL);
	/* An ignored SIGTERM does nothing. */
	CHECK(sigaction(SIGTERM, &sa, NULL) == 0);
	CHECK(kill(getpid(), SIGTERM) == 0);
	sa.sa_handler = SIG_DFL;
	CHECK(sigaction(SIGTERM, &sa, NULL) == 0);
	/* init takes from user space only the signals it has handlers for: SIGKILL, SIGTERM
	 * and SIGSEGV sent to pid 1 do nothing (Linux: the same as root, EPERM otherwise). If
	 * this failed, init would be gone and never report on the programs after us. */
	int sigs[] = {SIGKILL, SIGTERM, SIGSEGV, SIGSTOP};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		errno = 0;
		int r = kill(1, sigs[i]);
		CHECK(r == 0 || errno == EPERM);
	}
	CHECK(kill(1, 0) == 0 || errno == EPERM); /* and it is still there */
}

/* SIGCHLD for a child that exits 42 and one killed by SIGTERM; a zombie still takes signal 0
 * until it is reaped. */
static void test_sigchld(void)
{
	on(SIGCHLD, record);
	hits = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(42);
	await_hits(1);
	CHECK(hits == 1);
	CHECK(got.si_signo == SIGCHLD && got.si_code == CLD_EXITED);
	CHECK(got.si_pid == pid && got.si_status == 42);
	CHECK(kill(pid, 0) == 0); /* a zombie exists until its parent reaps it */
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 42);
	errno = 0;
	CHECK(kill(pid, 0) == -1 && errno == ESRCH);
	pid = fork();
	if (pid == 0) {
		for (;;)
			sleep(1);
	}
	CHECK(kill(pid, SIGTERM) == 0);
	await_hits(2);
	CHECK(hits == 2);
	CHECK(got.si_signo == SIGCHLD && got.si_code == CLD_KILLED);
	CHECK(got.si_pid == pid && got.si_status == SIGTERM);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(!WCOREDUMP(st));
	signal(SIGCHLD, SIG_DFL);
}

static sigjmp_buf jb;
static volatile uintptr_t bad_addr = 0x10;
static void jump_out(int sig) { siglongjmp(jb, sig); }

/* Leave a SIGSEGV handler with siglongjmp; savemask says whether sigsetjmp saved the mask.
 * Returns how many faults were caught of two attempts (the child exits with that count). */
static int two_faults(int savemask)
{
	signal(SIGSEGV, jump_out);
	int caught = 0;
	for (int i = 0; i < 2; i++)
		if (sigsetjmp(jb, savemask) == 0)
			*(volatile int *)bad_addr = i;
		else
			caught++;
	return caught;
}

static void test_siglongjmp(void)
{
	/* With the mask saved, SIGSEGV is unblocked again after each jump: both faults caught. */
	CHECK(two_faults(1) == 2);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGSEGV));
	signal(SIGSEGV, SIG_DFL);
	/* Without it, SIGSEGV stays blocked after the first jump, and a fault while it is blocked
	 * kills the task (forced), as on Linux. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(two_faults(0));
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

/* A child that waits to be killed (or, for SIGABRT, calls abort()); its wait status. */
static int killed_child(int sig)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (sig == SIGABRT)
			abort();
		for (;;)
			sleep(1);
	}
	if (sig != SIGABRT)
		CHECK(kill(pid, sig) == 0);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid);
	return st;
}

static void test_wait_status(void)
{
	const int sigs[] = {SIGKILL, SIGTERM, SIGABRT, SIGUSR2, SIGALRM};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st = killed_child(sigs[i]);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i]))
			printf("signal %d: wait status %#x\n", sigs[i], st);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i]);
		CHECK(!WIFEXITED(st));
		/* MCRK writes no core file and so claims none (as Linux with RLIMIT_CORE 0). */
		if (on_mcrk())
			CHECK(!WCOREDUMP(st));
	}
	/* A blocked SIGKILL is impossible: the mask cannot hold it. */
	sigset_t all, cur;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP));
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static volatile int restart_hits;
static void count_restart(int sig) { (void)sig, restart_hits++; }

/* A wait4 interrupted by a caught signal: restarted with SA_RESTART (it returns the child),
 * -1/EINTR without it. The child signals its parent, then lingers so wait4 is still waiting. */
static int interrupted_wait(int flags)
{
	struct sigaction sa = {0};
	sa.sa_handler = count_restart;
	sa.sa_flags = flags;
	sigaction(SIGUSR1, &sa, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec t = {0, 50 * 1000 * 1000};
		nanosleep(&t, NULL);
		kill(getppid(), SIGUSR1);
		nanosleep(&t, NULL);
		_exit(3);
	}
	int st, r = (int)waitpid(pid, &st, 0);
	if (r == -1 && errno == EINTR)
		r = (int)waitpid(pid, &st, 0) == pid ? -2 : -3; /* reap it anyway */
	else if (r == pid && !(WIFEXITED(st) && WEXITSTATUS(st) == 3))
		r = -4;
	return r == pid ? 1 : r;
}

static void test_sa_restart(void)
{
	restart_hits = 0;
	CHECK(interrupted_wait(SA_RESTART) == 1);
	CHECK(restart_hits == 1);
	restart_hits = 0;
	CHECK(interrupted_wait(0) == -2);
	CHECK(restart_hits == 1);
}

int main(void)
{
	test_senders();
	test_kill_errors();
	test_sigchld();
	test_siglongjmp();
	test_wait_status();
	test_sa_restart();
	DONE("sigcheck");
}
