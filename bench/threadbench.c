/* Threads against processes, in microseconds (figures, never pass/fail; run by
 * bench/run_threadbench.sh, which boots MCRK with run=threadbench):
 *   create+join  pthread_create of a thread that returns at once, and pthread_join
 *   fork+wait    fork of a child that _exits at once, and waitpid
 *   futex ping-pong between two threads (FUTEX_PRIVATE_FLAG), each pinned to its own CPU when
 *                there are two: one round trip is two wakes and two waits
 *   the same ping-pong between two processes on a MAP_SHARED word (shared futexes)
 * Each figure is the median of ROUNDS runs of BATCH operations.
 * usage: threadbench [quick] */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

static int rounds = 9, batch = 200, pingpongs = 2000, ncpu;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median over rounds of fn's microseconds per operation. */
static double median_us(double (*fn)(void))
{
	double v[32];
	for (int r = 0; r < rounds; r++)
		v[r] = fn();
	qsort(v, (size_t)rounds, sizeof(v[0]), cmp);
	return v[rounds / 2];
}

static void *nothing(void *arg) { return arg; }

static double create_join(void)
{
	uint64_t t0 = now_ns();
	for (int i = 0; i < batch; i++) {
		pthread_t t;
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
	}
	return (double)(now_ns() - t0) / batch / 1000.0;
}

static double fork_wait(void)
{
	uint64_t t0 = now_ns();
	for (int i = 0; i < batch; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
	return (double)(now_ns() - t0) / batch / 1000.0;
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu % ncpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

/* One side of a ping-pong on *w: wait while it is not `mine`, then hand it over. */
static void play(_Atomic uint32_t *w, uint32_t mine, int op_flags, int n)
{
	for (int i = 0; i < n; i++) {
		while (atomic_load(w) != mine)
			syscall(SYS_futex, w, FUTEX_WAIT | op_flags, 1 - mine, NULL, NULL, 0);
		atomic_store(w, 1 - mine);
		syscall(SYS_futex, w, FUTEX_WAKE | op_flags, 1, NULL, NULL, 0);
	}
}

static _Atomic uint32_t tword;
static void *partner(void *arg)
{
	(void)arg;
	pin(1);
	play(&tword, 1, FUTEX_PRIVATE_FLAG, pingpongs);
	return NULL;
}

static double pingpong_threads(void)
{
	pthread_t t;
	atomic_store(&tword, 0);
	pin(0);
	pthread_create(&t, NULL, partner, NULL);
	uint64_t t0 = now_ns();
	play(&tword, 0, FUTEX_PRIVATE_FLAG, pingpongs);
	pthread_join(t, NULL);
	return (double)(now_ns() - t0) / pingpongs / 1000.0;
}

static _Atomic uint32_t *pword;
static double pingpong_processes(void)
{
	atomic_store(pword, 0);
	pin(0);
	pid_t pid = fork();
	if (pid == 0) {
		pin(1);
		play(pword, 1, 0, pingpongs);
		_exit(0);
	}
	uint64_t t0 = now_ns();
	play(pword, 0, 0, pingpongs);
	waitpid(pid, NULL, 0);
	return (double)(now_ns() - t0) / pingpongs / 1000.0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "quick"))
		rounds = 3, batch = 50, pingpongs = 300;
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pword = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	printf("threadbench: %d CPU(s), median of %d rounds\n", ncpu, rounds);
	printf("threadbench: create+join %.1f us, fork+wait %.1f us\n", median_us(create_join),
	       median_us(fork_wait));
	printf("threadbench: futex ping-pong round trip: threads %.1f us, processes %.1f us%s\n",
	       median_us(pingpong_threads), median_us(pingpong_processes),
	       ncpu > 1 ? " (each side on its own CPU)" : " (one CPU)");
	return 0;
}
