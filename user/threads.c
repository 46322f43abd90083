/* Threads as Linux has them, through musl's pthreads and raw clone: tids distinct from the
 * pid, exit ending one thread and exit_group all, a process whose main thread exited living
 * on (its parent sees it only when the last thread ends), clone's flag checks (clone and
 * clone3), CLONE_CHILD_SETTID/CLEARTID and the futex wake at thread exit, robust mutexes
 * (FUTEX_OWNER_DIED when the owner dies), signals: tgkill to one thread, process-directed
 * signals to a thread that does not block them, per-thread masks and alternate stacks,
 * shared actions, a fatal signal or fault killing every thread; wait4 for a thread's tid;
 * CPU affinity and getcpu; vfork; and execve from a thread (the other threads die, the
 * process keeps its pid).
 * usage: threads            (the tests)
 *        threads execd PID  (the image execve runs: checks it is alone with pid PID) */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define FUTEX_WAIT 0

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long futex(void *addr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* ---- identity ---- */

static pid_t tids[NTHREADS];

static void *report_ids(void *arg)
{
	long i = (long)arg;
	tids[i] = gettid_();
	return (void *)(long)(getpid() * 1000 + i);
}

static void test_ids(void)
{
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, report_ids, (void *)i) == 0);
	for (long i = 0; i < NTHREADS; i++) {
		void *ret;
		CHECK(pthread_join(th[i], &ret) == 0);
		CHECK((long)ret == getpid() * 1000 + i); /* same process */
		CHECK(tids[i] != getpid() && tids[i] > 0);
		for (long k = 0; k < i; k++)
			CHECK(tids[k] != tids[i]);
	}
	CHECK(gettid_() == getpid()); /* the main thread's tid is the pid */
}

/* ---- clone's flag checks, as Linux's copy_process and clone3 ---- */

struct clone_args3 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

static long clone3_(struct clone_args3 *a, size_t size) { return syscall(435, a, size); }

static void test_clone_checks(void)
{
	errno = 0;
	CHECK(syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clone, CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0,
		      0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0, 0x800000000000ull) == -1 &&
	      errno == EPERM);
	struct clone_args3 a;
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	CHECK(clone3_(&a, 32) == -1 && errno == EINVAL);	/* smaller than version 0 */
	CHECK(clone3_(&a, 8192) == -1 && errno == E2BIG); /* past a page */
	a.exit_signal = 65;
	CHECK(clone3_(&a, sizeof(a)) == -1 && errno == EINVAL);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	CHECK(clone3_(&a, sizeof(a)) == -1 && errno == EINVAL); /* a thread's exit signal */
	a.flags = 0;
	a.stack_size = 4096; /* a size without a stack */
	CHECK(clone3_(&a, sizeof(a)) == -1 && errno == EINVAL);
	a.stack_size = 0;
	a.flags = SIGCHLD; /* the signal belongs in exit_signal */
	CHECK(clone3_(&a, sizeof(a)) == -1 && errno == EINVAL);
	struct {
		struct clone_args3 a;
		uint64_t extra;
	} big;
	memset(&big, 0, sizeof(big));
	big.a.exit_signal = SIGCHLD;
	big.extra = 1; /* a larger struct is fine only if its tail is zero */
	CHECK(clone3_(&big.a, sizeof(big)) == -1 && errno == E2BIG);
	big.extra = 0;
	pid_t pid = (pid_t)clone3_(&big.a, sizeof(big)); /* a fork, through clone3 */
	if (pid == 0)
		_exit(9);
	int st;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 9);
}

/* ---- raw threads: CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID ---- */

static _Atomic int raw_ran;
static int raw_child(void *arg)
{
	(void)arg;
	atomic_store(&raw_ran, gettid_());
	return 0; /* musl's clone wrapper then calls SYS_exit: this thread only */
}

static void test_cleartid(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	static volatile pid_t ctid = -1, ptid;
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
	int tid = clone(raw_child, stack + sizeof(stack), flags, NULL, &ptid, NULL, &ctid);
	CHECK(tid > 0 && tid != getpid());
	CHECK(ptid == tid); /* CLONE_PARENT_SETTID, in the caller's memory at once */
	/* The thread stores its tid (CLONE_CHILD_SETTID), then its exit stores 0 and wakes us. */
	for (int i = 0; i < 1000 && ctid != 0; i++) {
		pid_t v = ctid;
		if (v != 0)
			futex((void *)&ctid, FUTEX_WAIT, v, &(struct timespec){0, 10000000});
	}
	CHECK(ctid == 0);
	CHECK(atomic_load(&raw_ran) == tid);
}

/* ---- exit and exit_group ---- */

static void *exit_thread_only(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 3); /* this thread, not the process */
	return NULL;
}

static void *exit_group_later(void *arg)
{
	(void)arg;
	msleep(30);
	syscall(SYS_exit_group, 5);
	return NULL;
}

static void *exit_after_main(void *arg)
{
	pid_t parent = (pid_t)(long)arg;
	msleep(100);
	/* The main thread is gone, the process lives: its pid and parent are the same. */
	_exit(getppid() == parent && getpid() != gettid_() ? 7 : 1);
}

static int child_status(pid_t pid)
{
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid);
	return st;
}

static void test_exit(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, exit_thread_only, NULL) == 0);
	msleep(20);
	CHECK(kill(getpid(), 0) == 0); /* still here */
	pid_t pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, exit_group_later, NULL);
		for (;;)
			pause(); /* exit_group ends this thread too */
	}
	int st = child_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	/* The main thread exits first: the parent sees the process end with the last thread. */
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, exit_after_main, (void *)(long)parent);
		syscall(SYS_exit, 0);
	}
	msleep(30);
	CHECK(waitpid(pid, &st, WNOHANG) == 0); /* not yet: a thread lives */
	CHECK(kill(pid, 0) == 0);
	st = child_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* ---- signals and threads ---- */

static _Atomic pid_t handled_by;
static _Atomic int handled;
static volatile int go;

static void record_tid(int sig)
{
	(void)sig;
	atomic_store(&handled_by, gettid_());
	atomic_fetch_add(&handled, 1);
}

static void *spinner(void *arg)
{
	sigset_t *unblock = arg;
	if (unblock)
		pthread_sigmask(SIG_UNBLOCK, unblock, NULL);
	tids[1] = gettid_();
	while (!go)
		msleep(1);
	return NULL;
}

static void wait_handled(int n)
{
	for (int i = 0; i < 300 && atomic_load(&handled) < n; i++)
		msleep(5);
}

static void test_signal_targets(void)
{
	struct sigaction sa = {.sa_handler = record_tid};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t both, usr2;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	/* The main thread blocks both; the new thread starts with that mask, unblocks SIGUSR2. */
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	pthread_t t;
	tids[1] = 0;
	go = 0;
	CHECK(pthread_create(&t, NULL, spinner, &usr2) == 0);
	while (!tids[1])
		msleep(1);
	/* A process-directed signal goes to the thread that does not block it. */
	atomic_store(&handled, 0);
	kill(getpid(), SIGUSR2);
	wait_handled(1);
	CHECK(atomic_load(&handled) == 1 && atomic_load(&handled_by) == tids[1]);
	/* A thread-directed one waits for its thread, even if another could take it. */
	syscall(SYS_tgkill, getpid(), getpid(), SIGUSR2);
	msleep(30);
	CHECK(atomic_load(&handled) == 1);
	sigset_t pend;
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2)); /* pending for the main thread, which blocks it */
	pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
	CHECK(atomic_load(&handled) == 2 && atomic_load(&handled_by) == getpid());
	/* tgkill to the other thread, and errors. */
	syscall(SYS_tgkill, getpid(), tids[1], SIGUSR2);
	wait_handled(3);
	CHECK(atomic_load(&handled) == 3 && atomic_load(&handled_by) == tids[1]);
	errno = 0;
	CHECK(syscall(SYS_tgkill, getpid() + 100000, tids[1], 0) == -1 && errno == ESRCH);
	CHECK(syscall(SYS_tgkill, 0, tids[1], 0) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_tkill, tids[1], 0) == 0);
	go = 1;
	pthread_join(t, NULL);
	pthread_sigmask(SIG_UNBLOCK, &both, NULL);
}

static void *altstack_thread(void *arg)
{
	(void)arg;
	stack_t ss;
	CHECK(sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)); /* none inherited */
	static char alt[16384];
	ss = (stack_t){.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0};
	CHECK(sigaltstack(&ss, NULL) == 0);
	/* Actions are shared: this one is seen by the main thread. */
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigaction(SIGURG, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, NULL); /* masks are not */
	return NULL;
}

static void test_per_thread_state(void)
{
	static char alt[16384];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0}, now;
	CHECK(sigaltstack(&ss, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, altstack_thread, NULL) == 0);
	pthread_join(t, NULL);
	CHECK(sigaltstack(NULL, &now) == 0 && now.ss_sp == alt); /* ours, not the thread's */
	struct sigaction old;
	sigaction(SIGURG, NULL, &old);
	CHECK(old.sa_handler == SIG_IGN);
	sigset_t mask;
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	CHECK(!sigismember(&mask, SIGHUP));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	signal(SIGURG, SIG_DFL);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *fault_later(void *arg)
{
	(void)arg;
	msleep(20);
	volatile int *volatile bad = (volatile int *)8;
	*bad = 1;
	return NULL;
}

/* A fatal signal to the process, or a fault in any thread, ends every thread. */
static void test_fatal(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, sleeper, NULL);
		for (;;)
			pause();
	}
	msleep(50);
	kill(pid, SIGTERM);
	int st = child_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, sleeper, NULL);
		pthread_create(&t, NULL, fault_later, NULL);
		for (;;)
			pause();
	}
	st = child_status(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

/* wait4 waits for processes: a thread's tid is not a child. */
static void test_wait_threads(void)
{
	pthread_t t;
	tids[1] = 0;
	go = 0;
	pthread_create(&t, NULL, spinner, NULL);
	while (!tids[1])
		msleep(1);
	errno = 0;
	CHECK(waitpid(tids[1], NULL, WNOHANG) == -1 && errno == ECHILD);
	go = 1;
	pthread_join(t, NULL);
}

/* ---- robust mutexes: the owner dies, the next locker gets EOWNERDEAD ---- */

static pthread_mutex_t robust;

static void *lock_and_die(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL; /* exits holding it */
}

static void test_robust(void)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_t t;
	pthread_create(&t, NULL, lock_and_die, NULL);
	pthread_join(t, NULL);
	CHECK(pthread_mutex_lock(&robust) == EOWNERDEAD);
	CHECK(pthread_mutex_consistent(&robust) == 0);
	CHECK(pthread_mutex_unlock(&robust) == 0);
	CHECK(pthread_mutex_lock(&robust) == 0);
	pthread_mutex_unlock(&robust);
	/* A process-shared one held by a process that exits without unlocking: musl leaves that
	 * to the kernel's walk of the robust list at exit. */
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				  -1, 0);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &ma);
	pid_t pid = fork();
	if (pid == 0)
		_exit(pthread_mutex_lock(m) == 0 ? 0 : 1);
	int st = child_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(pthread_mutex_lock(m) == EOWNERDEAD);
	pthread_mutex_consistent(m);
	pthread_mutex_unlock(m);
	munmap(m, 4096);
	/* The robust list pointer: set_robust_list's length is checked, get gives it back. */
	void *head;
	size_t len;
	CHECK(syscall(SYS_get_robust_list, 0, &head, &len) == 0 && len == 24);
	errno = 0;
	CHECK(syscall(SYS_set_robust_list, head, 23) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_get_robust_list, 999999, &head, &len) == -1 && errno == ESRCH);
}

/* ---- CPUs ---- */

static void test_affinity(void)
{
	cpu_set_t set, all;
	CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
	int ncpu = CPU_COUNT(&all);
	CHECK(ncpu >= 1 && ncpu == sysconf(_SC_NPROCESSORS_ONLN));
	for (int cpu = 0; cpu < ncpu; cpu++) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
		for (int i = 0; i < 20; i++) {
			sched_yield();
			CHECK(sched_getcpu() == cpu);
		}
		unsigned c = 99, node = 99;
		CHECK(syscall(SYS_getcpu, &c, &node, NULL) == 0 && c == (unsigned)cpu && node == 0);
	}
	CPU_ZERO(&set);
	CPU_SET(ncpu, &set); /* no such CPU */
	errno = 0;
	CHECK(sched_setaffinity(0, sizeof(set), &set) == -1 && errno == EINVAL);
	CHECK(syscall(SYS_sched_getaffinity, 0, 4, &set) == -1 && errno == EINVAL); /* < long */
	CHECK(syscall(SYS_sched_getaffinity, 999999, sizeof(set), &set) == -1 && errno == ESRCH);
	CHECK(syscall(SYS_sched_getaffinity, 0, sizeof(set), &set) == 8); /* the mask's size */
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
}

/* ---- vfork: the parent waits for the child's exec or exit ---- */

static void test_vfork(void)
{
	static volatile int order;
	order = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		order = 1; /* the parent has not run since: it sees this */
		_exit(4);
	}
	CHECK(order == 1);
	int st = child_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4);
}

/* ---- execve from a thread ---- */

static void *execer(void *arg)
{
	char pid[16];
	snprintf(pid, sizeof(pid), "%ld", (long)arg);
	char *argv[] = {"/bin/threads", "execd", pid, NULL};
	execv(argv[0], argv);
	_exit(90);
}

static void test_exec_from_thread(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, sleeper, NULL);
		pthread_create(&t, NULL, execer, (void *)(long)getpid());
		for (;;)
			pause(); /* killed by the exec */
	}
	int st = child_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}

/* The image execve ran: one thread, with the pid the process had. */
static int execd(const char *pid)
{
	if (getpid() != atoi(pid) || gettid_() != getpid())
		return 1;
	/* Alone: a process-directed signal can only come here. */
	struct sigaction sa = {.sa_handler = record_tid};
	sigaction(SIGUSR1, &sa, NULL);
	kill(getpid(), SIGUSR1);
	return atomic_load(&handled_by) == getpid() ? 42 : 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "execd"))
		return execd(argv[2]);
	test_ids();
	test_clone_checks();
	test_cleartid();
	test_exit();
	test_signal_targets();
	test_per_thread_state();
	test_fatal();
	test_wait_threads();
	test_robust();
	test_affinity();
	test_vfork();
	test_exec_from_thread();
	DONE("threads");
}
