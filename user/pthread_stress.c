/* musl's pthread synchronisation under load: THREADS threads run ROUNDS rounds, each round a
 * mutex phase (every thread adds to a shared counter under a mutex, checked exactly at the
 * round's end), a condition-variable phase (a token passed around the threads in order with
 * pthread_cond_wait / broadcast), and barriers between the phases. On 2 CPUs the threads run
 * at once, so every futex path (wait, wake, requeue of condition variables, timeouts of none)
 * is raced; a lost wake-up hangs the program and the row's timeout fails it.
 * usage: pthread_stress [ROUNDS]   (default 1000) */
#define _GNU_SOURCE
#include "utest.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define THREADS 4
#define ADDS 10

static pthread_barrier_t bar;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn, rounds = 1000;
static _Atomic unsigned long cpus_seen;
static _Atomic int bad;

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	long per_round = 0;
	for (int i = 0; i < THREADS; i++)
		per_round += ADDS * (i + 1);
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < ADDS; k++) {
			pthread_mutex_lock(&mu);
			counter += me + 1;
			pthread_mutex_unlock(&mu);
		}
		pthread_barrier_wait(&bar);
		if (me == 0 && counter != per_round * (r + 1))
			atomic_fetch_add(&bad, 1);
		pthread_barrier_wait(&bar);
		pthread_mutex_lock(&mu);
		while (turn != me)
			pthread_cond_wait(&cv, &mu);
		turn = (turn + 1) % THREADS;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		int cpu = sched_getcpu();
		if (cpu >= 0 && cpu < 64)
			atomic_fetch_or(&cpus_seen, 1ul << cpu);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	pthread_t th[THREADS];
	CHECK(pthread_barrier_init(&bar, NULL, THREADS) == 0);
	for (long i = 0; i < THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	CHECK(atomic_load(&bad) == 0);
	CHECK(counter == (long)rounds * ADDS * (THREADS * (THREADS + 1) / 2));
	CHECK(turn == 0);
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	printf("pthread_stress: %d rounds of %d threads on %d CPU(s), ran on CPU mask %#lx\n",
	       rounds, THREADS, ncpu, atomic_load(&cpus_seen));
	if (ncpu > 1)
		CHECK(__builtin_popcountl(atomic_load(&cpus_seen)) > 1); /* really in parallel */
	DONE("pthread_stress");
}
