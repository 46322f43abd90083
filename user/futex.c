/* futex(2) as Linux answers it: FUTEX_WAIT and WAKE, WAIT_BITSET and WAKE_BITSET, REQUEUE and
 * CMP_REQUEUE, WAKE_OP; private and shared (two processes meet on a MAP_SHARED page; a
 * private futex there does not cross processes); timeouts relative (WAIT) and absolute
 * (WAIT_BITSET, CLOCK_MONOTONIC or with FUTEX_CLOCK_REALTIME); every error (EAGAIN, ETIMEDOUT,
 * EINVAL, EFAULT, ENOSYS); a signal with a handler (EINTR, or a restart with SA_RESTART for a
 * wait without timeout) and a stop and continue (the wait goes on); and a futex word on a
 * poisoned page: -EFAULT and no signal from the syscall, SIGBUS BUS_MCEERR_AR when the
 * program itself touches the word. Waiters are threads (musl pthreads). */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <pthread.h>
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

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	(((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 5
#define MADV_HWPOISON 100

static long futex(volatile uint32_t *w, int op, uint32_t val, const void *ts, volatile uint32_t *w2,
		  uint32_t val3)
{
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- waiters ---- */

struct waiter {
	volatile uint32_t *word;
	int op;
	uint32_t val, bitset;
	const struct timespec *ts;
	long ret;
	int err;
	_Atomic int started, done;
	pthread_t th;
};

static void *wait_fn(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->started, 1);
	errno = 0;
	w->ret = futex(w->word, w->op, w->val, w->ts, NULL, w->bitset);
	w->err = errno;
	atomic_store(&w->done, 1);
	return NULL;
}

/* How many wait on word (private or shared key): FUTEX_REQUEUE of nobody woken and everyone
 * moved onto the same word counts them and leaves them where they are. */
static long waiters_on(volatile uint32_t *word, int private_flag)
{
	return futex(word, FUTEX_REQUEUE | private_flag, 0, (void *)0x7fffffffl, word, 0);
}

/* A thread that waits on word; returns once it is queued in the kernel. */
static void start_waiter(struct waiter *w, volatile uint32_t *word, int op, uint32_t val,
			 uint32_t bitset)
{
	long before = waiters_on(word, op & FUTEX_PRIVATE_FLAG);
	memset(w, 0, sizeof(*w));
	w->word = word, w->op = op, w->val = val, w->bitset = bitset;
	pthread_create(&w->th, NULL, wait_fn, w);
	for (int i = 0; i < 2000 && waiters_on(word, op & FUTEX_PRIVATE_FLAG) <= before; i++)
		msleep(1);
}

/* Wake calls are retried until they wake the expected count: a waiter may not have reached
 * the kernel yet. Returns what the last call gave. */
static long wake_until(int want, volatile uint32_t *w, int op, int n, uint32_t val3)
{
	long r = -1;
	for (int i = 0; i < 100; i++) {
		r = futex(w, op, (uint32_t)n, NULL, NULL, val3);
		if (r >= want)
			break;
		msleep(5);
	}
	return r;
}

static int finished(struct waiter *w)
{
	for (int i = 0; i < 200 && !atomic_load(&w->done); i++)
		msleep(5);
	if (atomic_load(&w->done))
		pthread_join(w->th, NULL);
	return atomic_load(&w->done);
}

static volatile uint32_t word_a, word_b;

static void test_wait_wake(void)
{
	struct waiter w[3];
	errno = 0;
	word_a = 1;
	CHECK(futex(&word_a, FUTEX_WAIT, 2, NULL, NULL, 0) == -1 && errno == EAGAIN);
	CHECK(futex(&word_a, FUTEX_WAKE, 1, NULL, NULL, 0) == 0); /* nobody waits */
	for (int i = 0; i < 3; i++)
		start_waiter(&w[i], &word_a, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, 0);
	CHECK(wake_until(2, &word_a, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 2, 0) == 2);
	CHECK(wake_until(1, &word_a, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, 0) == 1);
	for (int i = 0; i < 3; i++)
		CHECK(finished(&w[i]) && w[i].ret == 0);
	/* FUTEX_WAKE with 0 wakes one, as Linux does. */
	start_waiter(&w[0], &word_a, FUTEX_WAIT, 1, 0);
	CHECK(wake_until(1, &word_a, FUTEX_WAKE, 0, 0) == 1);
	CHECK(finished(&w[0]) && w[0].ret == 0);
}

static void test_bitset(void)
{
	struct waiter w;
	word_a = 3;
	start_waiter(&w, &word_a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 3, 0x1);
	CHECK(futex(&word_a, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0x2) == 0);
	CHECK(wake_until(1, &word_a, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 10, 0x3) == 1);
	CHECK(finished(&w) && w.ret == 0);
	errno = 0;
	CHECK(futex(&word_a, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0) == -1 && errno == EINVAL);
	CHECK(futex(&word_a, FUTEX_WAIT_BITSET, 3, NULL, NULL, 0) == -1 && errno == EINVAL);
}

static void test_requeue(void)
{
	struct waiter w[3];
	word_a = 5, word_b = 6;
	for (int i = 0; i < 3; i++)
		start_waiter(&w[i], &word_a, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 5, 0);
	errno = 0;
	CHECK(futex(&word_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1, &word_b, 4) ==
		      -1 && errno == EAGAIN); /* word_a is not 4 */
	CHECK(futex(&word_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, (uint32_t)-1, (void *)1,
		    &word_b, 5) == -1 && errno == EINVAL);
	/* Wake one, move one to word_b: 2. */
	CHECK(futex(&word_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1, &word_b, 5) == 2);
	CHECK(futex(&word_b, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0) == 1);
	CHECK(futex(&word_a, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, 0, (void *)5, &word_b, 0) == 1);
	CHECK(futex(&word_b, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0) == 1);
	for (int i = 0; i < 3; i++)
		CHECK(finished(&w[i]) && w[i].ret == 0);
}

static void test_wake_op(void)
{
	struct waiter wa, wb;
	word_a = 1, word_b = 10;
	start_waiter(&wa, &word_a, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, 0);
	start_waiter(&wb, &word_b, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 10, 0);
	/* word_b += 5; wake one on word_a; and one on word_b if the old word_b > 7: 2. */
	CHECK(futex(&word_a, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1, &word_b,
		    FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_GT, 7)) == 2);
	CHECK(word_b == 15);
	CHECK(finished(&wa) && finished(&wb));
	/* The comparison fails: only word_a's waiter (none now) would wake; the op still ran. */
	CHECK(futex(&word_a, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1, &word_b,
		    FUTEX_OP(FUTEX_OP_SET, 3, FUTEX_OP_CMP_EQ, 0)) == 0);
	CHECK(word_b == 3);
	errno = 0;
	CHECK(futex(&word_a, FUTEX_WAKE_OP, 1, (void *)1, &word_b, FUTEX_OP(7, 1, 0, 0)) == -1 &&
	      errno == ENOSYS && word_b == 3); /* unknown operation: nothing written */
	CHECK(futex(&word_a, FUTEX_WAKE_OP, 1, (void *)1, &word_b, FUTEX_OP(FUTEX_OP_SET, 9, 9, 0)) ==
		      -1 && errno == ENOSYS && word_b == 9); /* unknown comparison: after the op */
}

static void test_timeouts(void)
{
	struct timespec rel = {0, 50 * 1000000}, bad = {0, 1000000000};
	word_a = 7;
	uint64_t t0 = utest_ns(CLOCK_MONOTONIC);
	errno = 0;
	CHECK(futex(&word_a, FUTEX_WAIT, 7, &rel, NULL, 0) == -1 && errno == ETIMEDOUT);
	CHECK(utest_ns(CLOCK_MONOTONIC) - t0 >= 50 * 1000000ull);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 30 * 1000000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	CHECK(futex(&word_a, FUTEX_WAIT_BITSET, 7, &abs, NULL, ~0u) == -1 && errno == ETIMEDOUT);
	CHECK(utest_ns(CLOCK_MONOTONIC) >= (uint64_t)abs.tv_sec * 1000000000ull + (uint64_t)abs.tv_nsec);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 30 * 1000000;
	if (abs.tv_nsec >= 1000000000)
		abs.tv_sec++, abs.tv_nsec -= 1000000000;
	CHECK(futex(&word_a, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7, &abs, NULL, ~0u) == -1 &&
	      errno == ETIMEDOUT);
	CHECK(utest_ns(CLOCK_REALTIME) >= (uint64_t)abs.tv_sec * 1000000000ull + (uint64_t)abs.tv_nsec);
	/* An absolute time already past: at once. */
	abs.tv_sec = 0, abs.tv_nsec = 0;
	CHECK(futex(&word_a, FUTEX_WAIT_BITSET, 7, &abs, NULL, ~0u) == -1 && errno == ETIMEDOUT);
	CHECK(futex(&word_a, FUTEX_WAIT, 7, &bad, NULL, 0) == -1 && errno == EINVAL);
	CHECK(futex(&word_a, FUTEX_WAIT, 7, (void *)8, NULL, 0) == -1 && errno == EFAULT);
	CHECK(futex(&word_a, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 7, &rel, NULL, 0) == -1 &&
	      errno == ENOSYS);
}

static void test_errors(void)
{
	errno = 0;
	CHECK(futex((uint32_t *)((char *)&word_a + 1), FUTEX_WAIT, 0, NULL, NULL, 0) == -1 &&
	      errno == EINVAL);
	CHECK(futex(NULL, FUTEX_WAIT, 0, NULL, NULL, 0) == -1 && errno == EFAULT);
	CHECK(futex((uint32_t *)0xffff800000000000ull, FUTEX_WAKE, 1, NULL, NULL, 0) == -1 &&
	      errno == EFAULT);
	CHECK(futex(&word_a, 99, 0, NULL, NULL, 0) == -1 && errno == ENOSYS);
	/* An unmapped page: private WAKE needs no page (0), shared needs it (EFAULT). */
	uint32_t *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	CHECK(futex(gone, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) == 0);
	CHECK(futex(gone, FUTEX_WAKE, 1, NULL, NULL, 0) == -1 && errno == EFAULT);
	CHECK(futex(gone, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0) == -1 && errno == EFAULT);
	/* A read-only word: waiting reads it, fine. */
	static const uint32_t ro = 1;
	struct timespec t = {0, 1000000};
	CHECK(futex((uint32_t *)&ro, FUTEX_WAIT, 1, &t, NULL, 0) == -1 && errno == ETIMEDOUT);
}

/* ---- signals ---- */

static volatile int hits;
static void on_usr1(int sig) { (void)sig, hits++; }

static void set_handler(int restart)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
	sigaction(SIGUSR1, &sa, NULL);
}

static void test_signals(void)
{
	struct waiter w;
	word_a = 9;
	/* No SA_RESTART: EINTR. */
	set_handler(0);
	hits = 0;
	start_waiter(&w, &word_a, FUTEX_WAIT, 9, 0);
	pthread_kill(w.th, SIGUSR1);
	CHECK(finished(&w) && w.ret == -1 && w.err == EINTR && hits == 1);
	/* SA_RESTART and no timeout: the wait restarts and goes on until woken. */
	set_handler(1);
	start_waiter(&w, &word_a, FUTEX_WAIT, 9, 0);
	pthread_kill(w.th, SIGUSR1);
	msleep(50);
	CHECK(!atomic_load(&w.done) && hits == 2);
	CHECK(wake_until(1, &word_a, FUTEX_WAKE, 1, 0) == 1);
	CHECK(finished(&w) && w.ret == 0);
	/* SA_RESTART but a timeout: EINTR anyway (Linux restarts only without a handler). */
	struct timespec long_ts = {5, 0};
	memset(&w, 0, sizeof(w));
	w.word = &word_a, w.op = FUTEX_WAIT, w.val = 9, w.ts = &long_ts;
	pthread_create(&w.th, NULL, wait_fn, &w);
	for (int i = 0; i < 2000 && waiters_on(&word_a, 0) < 1; i++)
		msleep(1);
	pthread_kill(w.th, SIGUSR1);
	CHECK(finished(&w) && w.ret == -1 && w.err == EINTR);
	signal(SIGUSR1, SIG_DFL);
}

/* A stop and a continue (no handler runs): the timed wait goes on to its end, in a child
 * process whose only thread waits. */
static void test_stop_continue(void)
{
	static volatile uint32_t *shared;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*shared = 0;
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 300 * 1000000};
		uint64_t t0 = utest_ns(CLOCK_MONOTONIC);
		long r = futex(shared, FUTEX_WAIT, 0, &ts, NULL, 0);
		int e = errno;
		_exit(r == -1 && e == ETIMEDOUT && utest_ns(CLOCK_MONOTONIC) - t0 >= 300000000ull ? 0 : 1);
	}
	msleep(50);
	kill(pid, SIGSTOP);
	msleep(50);
	kill(pid, SIGCONT);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	munmap((void *)shared, 4096);
}

/* ---- shared futexes: two processes, one MAP_SHARED page ---- */

static void test_shared(void)
{
	volatile uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				    -1, 0);
	volatile uint32_t *ready = w + 1;
	*w = 0, *ready = 0;
	pid_t pid = fork();
	if (pid == 0) {
		*ready = 1;
		long r = futex(w, FUTEX_WAIT, 0, &(struct timespec){5, 0}, NULL, 0);
		_exit(r == 0 ? 0 : 1);
	}
	for (int i = 0; i < 2000 && waiters_on(w, 0) < 1; i++)
		msleep(1);
	/* A private wake keys on our address space: it cannot reach the child. */
	CHECK(futex(w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) == 0);
	CHECK(wake_until(1, w, FUTEX_WAKE, 1, 0) == 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	munmap((void *)w, 4096);
}

/* ---- a futex word on a poisoned page ---- */

static sigjmp_buf jb;
static volatile int bus_code;
static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	bus_code = si->si_code;
	siglongjmp(jb, 1);
}

static void test_poisoned(void)
{
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*w = 1;
	if (madvise(w, 4096, MADV_HWPOISON) != 0) {
		printf("futex: MADV_HWPOISON refused (errno %d): not root? poisoned case not run\n",
		       errno);
		CHECK(!on_mcrk());
		return;
	}
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	errno = 0;
	CHECK(futex(w, FUTEX_WAIT, 1, NULL, NULL, 0) == -1 && errno == EFAULT);
	CHECK(futex(w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) == 0);
	CHECK(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0) == -1 && errno == EFAULT);
	sigset_t pend;
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGBUS) && bus_code == 0); /* the syscall sent nothing */
	if (!sigsetjmp(jb, 1))
		(void)*(volatile uint32_t *)w; /* the program's own touch */
	CHECK(bus_code == BUS_MCEERR_AR);
	signal(SIGBUS, SIG_DFL);
	munmap(w, 4096);
}

int main(void)
{
	test_wait_wake();
	test_bitset();
	test_requeue();
	test_wake_op();
	test_timeouts();
	test_errors();
	test_signals();
	test_stop_continue();
	test_shared();
	test_poisoned();
	DONE("futex");
}
