/* One address space live on every CPU at once: threads pinned to different CPUs fault,
 * break copy-on-write and unmap, and every byte is checked, so a missed TLB shootdown or a
 * racing fault shows as wrong data (or a kernel fault, which the test driver catches).
 *  1. Concurrent demand faults: THREADS threads write their own words of the same fresh pages
 *     at once; every word must hold its writer's value.
 *  2. fork while other threads write: two writer threads (on different CPUs) keep rewriting
 *     their page with an increasing sequence and publish it; a third thread forks. The child
 *     must see each page as it was at some instant (non-increasing words, at most one write
 *     apart, not older than what was published before the fork) and, above all, its memory
 *     must not change afterwards: a stale writable TLB entry on the parent's side would write
 *     into the child's frame. A checker thread meanwhile reads the writers' pages from the
 *     other CPU: never older than published (a write lost in the old frame).
 *  3. munmap and remap from one CPU while a thread on the other has the pages in its TLB: the
 *     reader must see the new (zeroed, then rewritten) pages, never the freed ones.
 * usage: mt_mm [ROUNDS]   (default 200) */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define PAGES 64
#define PAGE 4096
#define WORDS (PAGE / 8)

static int rounds = 200, ncpu;
static _Atomic int failures;
static pthread_barrier_t bar;

static void fail(const char *what, long detail)
{
	printf("mt_mm: %s (%ld)\n", what, detail);
	fflush(stdout);
	atomic_fetch_add(&failures, 1);
}

/* Run the calling thread on CPU (i mod the CPU count). */
static void pin(int i)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(i % ncpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- 1. concurrent faults on the same pages ---- */

static uint64_t *fresh;

static void *fault_writer(void *arg)
{
	int me = (int)(long)arg;
	pin(me);
	pthread_barrier_wait(&bar);
	for (int p = 0; p < PAGES; p++)
		fresh[p * WORDS + me] = ((uint64_t)me << 32) | (uint64_t)p;
	return NULL;
}

static void phase_faults(void)
{
	for (int r = 0; r < rounds / 10 + 1; r++) {
		fresh = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_t th[THREADS];
		for (long i = 0; i < THREADS; i++)
			pthread_create(&th[i], NULL, fault_writer, (void *)i);
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		for (int p = 0; p < PAGES; p++)
			for (int w = 0; w < WORDS; w++) {
				uint64_t want = w < THREADS ? ((uint64_t)w << 32) | (uint64_t)p : 0;
				if (fresh[p * WORDS + w] != want)
					fail("concurrent faults: a word is wrong", p * WORDS + w);
			}
		munmap(fresh, PAGES * PAGE);
	}
}

/* ---- 2. fork with writers running on other CPUs ---- */

#define WRITERS 2
static uint64_t *slots;		 /* one page per writer */
static _Atomic uint64_t published[WRITERS];
static _Atomic int stop_writers;

static void *seq_writer(void *arg)
{
	int me = (int)(long)arg;
	pin(me);
	uint64_t *pg = slots + me * WORDS;
	for (uint64_t seq = 1; !atomic_load(&stop_writers); seq++) {
		for (int w = 0; w < WORDS; w++)
			((volatile uint64_t *)pg)[w] = seq;
		atomic_store_explicit(&published[me], seq, memory_order_release);
	}
	return NULL;
}

static void *checker(void *arg)
{
	pin((int)(long)arg);
	while (!atomic_load(&stop_writers))
		for (int k = 0; k < WRITERS; k++) {
			uint64_t pub = atomic_load_explicit(&published[k], memory_order_acquire);
			for (int w = 0; w < WORDS; w += 61)
				if (((volatile uint64_t *)slots)[k * WORDS + w] < pub)
					fail("a reader saw a page older than published", k);
		}
	return NULL;
}

/* In the child: each page seen at one instant, no older than at the fork, and still. */
static int child_check(const uint64_t *floor)
{
	uint64_t snap[WRITERS][WORDS];
	for (int k = 0; k < WRITERS; k++) {
		const volatile uint64_t *pg = slots + k * WORDS;
		for (int w = 0; w < WORDS; w++) {
			snap[k][w] = pg[w];
			if (snap[k][w] < floor[k] || (w && snap[k][w] > snap[k][w - 1]) ||
			    snap[k][0] - snap[k][w] > 1)
				return 1;
		}
	}
	struct timespec ts = {0, 3 * 1000000};
	nanosleep(&ts, NULL); /* the parent's writers go on meanwhile */
	for (int k = 0; k < WRITERS; k++)
		if (memcmp(snap[k], (const void *)(slots + k * WORDS), PAGE))
			return 2; /* our private copy changed under us */
	return 0;
}

static void phase_fork(void)
{
	slots = mmap(NULL, WRITERS * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	memset(slots, 0, WRITERS * PAGE);
	atomic_store(&stop_writers, 0);
	pthread_t w[WRITERS], c;
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&w[i], NULL, seq_writer, (void *)i);
	pthread_create(&c, NULL, checker, (void *)1);
	pin(0);
	for (int r = 0; r < rounds; r++) {
		uint64_t floor[WRITERS];
		for (int k = 0; k < WRITERS; k++)
			floor[k] = atomic_load_explicit(&published[k], memory_order_acquire);
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_check(floor));
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			fail("fork child saw a wrong snapshot", pid < 0 ? -1 : WEXITSTATUS(st));
	}
	atomic_store(&stop_writers, 1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(c, NULL);
	munmap(slots, WRITERS * PAGE);
}

/* ---- 3. munmap and remap under another CPU's TLB ---- */

static uint64_t *area;
static _Atomic int remap_round;

static void *remap_reader(void *arg)
{
	pin((int)(long)arg);
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&bar); /* the area holds round r's pattern */
		for (int p = 0; p < PAGES; p++)
			if (((volatile uint64_t *)area)[p * WORDS + (r % WORDS)] != (uint64_t)r + 1)
				fail("after remap a reader saw the old pages", r);
		for (int p = 0; p < PAGES; p++)
			area[p * WORDS + WORDS - 1] = (uint64_t)r + 1000;
		pthread_barrier_wait(&bar); /* done with it: the owner unmaps */
	}
	return NULL;
}

static void phase_remap(void)
{
	pthread_t t;
	pthread_barrier_t *b = &bar;
	pthread_barrier_destroy(b);
	pthread_barrier_init(b, NULL, 2);
	area = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_create(&t, NULL, remap_reader, (void *)1);
	pin(0);
	for (int r = 0; r < rounds; r++) {
		for (int p = 0; p < PAGES; p++)
			if (area[p * WORDS + (r % WORDS)] != 0)
				fail("a remapped page was not zeroed", r);
		for (int p = 0; p < PAGES; p++)
			area[p * WORDS + (r % WORDS)] = (uint64_t)r + 1;
		pthread_barrier_wait(b);
		pthread_barrier_wait(b);
		for (int p = 0; p < PAGES; p++)
			if (area[p * WORDS + WORDS - 1] != (uint64_t)r + 1000)
				fail("the owner did not see the reader's write", r);
		/* Away and back at the same address: the reader's TLB still knows the old frames. */
		if (munmap(area, PAGES * PAGE) ||
		    mmap(area, PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != area)
			fail("munmap/mmap failed", errno);
		atomic_store(&remap_round, r);
	}
	pthread_join(t, NULL);
	munmap(area, PAGES * PAGE);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_barrier_init(&bar, NULL, THREADS);
	phase_faults();
	phase_fork();
	phase_remap();
	printf("mt_mm: %d rounds on %d CPU(s)\n", rounds, ncpu);
	CHECK(atomic_load(&failures) == 0);
	DONE("mt_mm");
}
