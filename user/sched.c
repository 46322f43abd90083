/* The scheduler as a program sees it: more busy tasks than CPUs all make progress (each of
 * SPINNERS children counts in shared memory; over the run each must get a share and none
 * may stall for most of the run, while the parent sleeps), nanosleep sleeps at least as long as asked and rejects bad times,
 * sched_yield hands the CPU over (two processes take turns through shared memory), and
 * CLOCK_MONOTONIC never goes back, in one process or across several. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPINNERS 8
#define INTERVALS 8
#define INTERVAL_MS 200
#define TURNS 500
#define CLOCK_READS 20000

static void *shared(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void test_progress(void)
{
	volatile uint64_t *count = shared(4096);
	pid_t pids[SPINNERS];
	for (int i = 0; i < SPINNERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			for (;;)
				count[i]++;
	}
	/* Progress is judged against wall time, and under QEMU a busy host (make test runs two
	 * emulators on two cores) can stop one vCPU for hundreds of milliseconds, and with it
	 * the spinner that vCPU was running. So a spinner fails only if it stalls for more than
	 * half of the intervals, or ends with under an eighth of the average share; a scheduler
	 * that starves a task fails both. */
	uint64_t last[SPINNERS] = {0};
	int stalled = 0, still[SPINNERS] = {0};
	for (int round = 0; round < INTERVALS; round++) {
		sleep_ms(INTERVAL_MS); /* the sleeper must get the CPU back, too */
		for (int i = 0; i < SPINNERS; i++) {
			uint64_t c = count[i];
			still[i] += c <= last[i];
			last[i] = c;
		}
	}
	for (int i = 0; i < SPINNERS; i++)
		if (still[i] > INTERVALS / 2) {
			printf("sched: spinner %d stalled in %d of %d intervals\n", i, still[i],
			       INTERVALS);
			stalled++;
		}
	uint64_t sum = 0;
	for (int i = 0; i < SPINNERS; i++)
		sum += last[i];
	for (int i = 0; i < SPINNERS; i++)
		if (last[i] < sum / SPINNERS / 8) {
			printf("sched: spinner %d got %llu of %llu counts\n", i,
			       (unsigned long long)last[i], (unsigned long long)sum);
			stalled++;
		}
	CHECK(stalled == 0);
	for (int i = 0; i < SPINNERS; i++) {
		int st;
		CHECK(kill(pids[i], SIGKILL) == 0);
		CHECK(waitpid(pids[i], &st, 0) == pids[i]);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	}
	munmap((void *)count, 4096);
}

static void test_nanosleep(void)
{
	const unsigned ms[] = {1, 10, 30, 120};
	for (unsigned i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint64_t t0 = utest_ns(CLOCK_MONOTONIC);
		struct timespec ts = {0, (long)ms[i] * 1000000L};
		CHECK(nanosleep(&ts, NULL) == 0);
		uint64_t slept = utest_ns(CLOCK_MONOTONIC) - t0;
		if (slept < ms[i] * 1000000ull)
			printf("sched: nanosleep(%u ms) returned after %llu ns\n", ms[i],
			       (unsigned long long)slept);
		CHECK(slept >= ms[i] * 1000000ull);
		CHECK(slept < 5000000000ull); /* not lost: a generous bound, not a timing claim */
	}
	struct timespec zero = {0, 0}, bad_ns = {0, 1000000000L}, neg = {-1, 0};
	CHECK(nanosleep(&zero, NULL) == 0);
	errno = 0;
	CHECK(nanosleep(&bad_ns, NULL) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(nanosleep(&neg, NULL) == -1 && errno == EINVAL);
}

/* Parent and child take TURNS turns each through a shared word, yielding while they wait:
 * on one CPU this only finishes if sched_yield really lets the other run. */
static void test_yield(void)
{
	volatile int *turn = shared(4096);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < TURNS; i++) {
			while (*turn != 2 * i + 1)
				sched_yield();
			*turn = 2 * i + 2;
		}
		_exit(0);
	}
	for (int i = 0; i < TURNS; i++) {
		while (*turn != 2 * i)
			CHECK(sched_yield() == 0);
		*turn = 2 * i + 1;
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(*turn == 2 * TURNS);
	munmap((void *)turn, 4096);
}

/* CLOCK_MONOTONIC never decreases within a process; readers in several processes (on every
 * CPU) each check their own sequence, and a value published by one is never ahead of a later
 * reading by another. */
static int clock_reader(volatile uint64_t *pub)
{
	uint64_t prev = utest_ns(CLOCK_MONOTONIC);
	int bad = 0;
	for (int i = 0; i < CLOCK_READS; i++) {
		uint64_t seen = *pub, t = utest_ns(CLOCK_MONOTONIC);
		bad += t < prev || t < seen;
		prev = t;
		*pub = t; /* racy max is fine: any published value was read before ours */
	}
	return bad;
}

static void test_monotonic(void)
{
	volatile uint64_t *pub = shared(4096);
	pid_t pids[3];
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(clock_reader(pub) ? 1 : 0);
	}
	CHECK(clock_reader(pub) == 0);
	for (int i = 0; i < 3; i++) {
		int st;
		CHECK(waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct timespec ts;
	errno = 0;
	CHECK(clock_gettime((clockid_t)1000, &ts) == -1 && errno == EINVAL);
	munmap((void *)pub, 4096);
}

int main(void)
{
	test_progress();
	test_nanosleep();
	test_yield();
	test_monotonic();
	DONE("sched");
}
