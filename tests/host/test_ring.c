/* Tests of the lock-free rings (kernel/lib/ring.c). The SPSC ring: argument checks, FIFO
 * order, full and empty behaviour, index wrap-around, and a two-thread stress test of 1M
 * records that checks order, contents, and that every record was either received or counted
 * as dropped. The multi-producer ring: the same basics, a producer interrupted between claim
 * and publish, and three producer threads against one consumer. */
#include "kerrno.h"
#include "ring.h"
#include "unit.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

struct rec {
	uint64_t seq;
	uint64_t check; /* derived from seq: a torn copy would not match */
	uint32_t pad[3];
};

static uint64_t check_of(uint64_t seq)
{
	return seq * 0x9e3779b97f4a7c15ull ^ 0xabcdef;
}

TEST(ring_init_rejects_bad_arguments)
{
	struct ring r;
	uint8_t buf[64];

	CHECK_EQ(ring_init(&r, NULL, 8, 8), -EINVAL);
	CHECK_EQ(ring_init(&r, buf, 0, 8), -EINVAL);
	CHECK_EQ(ring_init(&r, buf, 8, 0), -EINVAL);
	CHECK_EQ(ring_init(&r, buf, 8, 6), -EINVAL);
	CHECK_EQ(ring_init(&r, buf, 8, 8), 0);
	CHECK_EQ(ring_count(&r), 0);
}

TEST(ring_fifo_full_empty_wrap)
{
	struct ring r;
	uint32_t buf[4], v;

	REQUIRE(ring_init(&r, buf, sizeof(uint32_t), 4) == 0);
	CHECK(!ring_pop(&r, &v));
	for (uint32_t i = 0; i < 4; i++)
		CHECK(ring_push(&r, &i));
	v = 99;
	CHECK(!ring_push(&r, &v)); /* full: dropped and counted */
	CHECK_EQ(r.dropped, 1);
	CHECK_EQ(ring_count(&r), 4);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK(ring_pop(&r, &v));
		CHECK_EQ(v, i);
	}
	CHECK(!ring_pop(&r, &v));
	/* Many rounds through the slots: indices keep growing, slots wrap. */
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t a = i * 2, b = i * 2 + 1;
		CHECK(ring_push(&r, &a));
		CHECK(ring_push(&r, &b));
		CHECK_EQ(ring_count(&r), 2);
		CHECK(ring_pop(&r, &v) && v == a);
		CHECK(ring_pop(&r, &v) && v == b);
	}
	CHECK_EQ(r.dropped, 1);
	CHECK_EQ(r.head, 2004);
	CHECK_EQ(r.tail, 2004);
}

#define STRESS_RECORDS (1ull << 20)
#define STRESS_CAPACITY 256

static struct ring stress_ring;
static uint64_t stress_pushed_ok, stress_push_failed;
static volatile int producer_done;

static void *producer(void *arg)
{
	(void)arg;
	for (uint64_t s = 0; s < STRESS_RECORDS; s++) {
		struct rec r = {s, check_of(s), {(uint32_t)s, 1, 2}};

		/* Mostly wait for room (so most records arrive); every 8th record is pushed
		 * blindly, and is dropped when the ring happens to be full. */
		if (s % 8)
			while (ring_count(&stress_ring) == STRESS_CAPACITY)
				sched_yield();
		if (ring_push(&stress_ring, &r))
			stress_pushed_ok++;
		else
			stress_push_failed++;
	}
	__atomic_store_n(&producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST(ring_two_thread_stress)
{
	static uint8_t buf[STRESS_CAPACITY * sizeof(struct rec)];
	uint64_t received = 0, next_min = 0, bad = 0;
	struct rec r;
	pthread_t t;

	REQUIRE(ring_init(&stress_ring, buf, sizeof(struct rec), STRESS_CAPACITY) == 0);
	REQUIRE(pthread_create(&t, NULL, producer, NULL) == 0);
	for (;;) {
		/* Read done before popping: a failed pop after done was seen means the end. */
		int done = __atomic_load_n(&producer_done, __ATOMIC_ACQUIRE);

		if (!ring_pop(&stress_ring, &r)) {
			if (done)
				break;
			continue;
		}
		/* Strictly increasing (drops leave gaps), contents intact. */
		if (r.seq < next_min || r.check != check_of(r.seq) || r.pad[0] != (uint32_t)r.seq ||
		    r.pad[1] != 1 || r.pad[2] != 2)
			bad++;
		next_min = r.seq + 1;
		received++;
	}
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(received, stress_pushed_ok);
	CHECK_EQ(stress_ring.dropped, stress_push_failed);
	CHECK_EQ(received + stress_ring.dropped, STRESS_RECORDS);
	CHECK(received >= STRESS_RECORDS * 7 / 8); /* every waited-for record arrived */
	printf("    ring stress: %llu received, %llu dropped\n", (unsigned long long)received,
	       (unsigned long long)stress_ring.dropped);
}

/* ---- the multi-producer ring ---- */

TEST(ring_mp_init_fifo_full_wrap)
{
	struct ring_mp r;
	static uint64_t buf[4 * RING_MP_SLOT_SIZE(sizeof(uint32_t)) / 8];
	uint32_t v;

	CHECK_EQ(ring_mp_init(&r, NULL, 4, 4), -EINVAL);
	CHECK_EQ(ring_mp_init(&r, (uint8_t *)buf + 1, 4, 4), -EINVAL); /* misaligned */
	CHECK_EQ(ring_mp_init(&r, buf, 0, 4), -EINVAL);
	CHECK_EQ(ring_mp_init(&r, buf, 4, 3), -EINVAL);
	REQUIRE(ring_mp_init(&r, buf, sizeof(uint32_t), 4) == 0);
	CHECK(ring_mp_empty(&r) && !ring_mp_pop(&r, &v));
	for (uint32_t i = 0; i < 4; i++)
		CHECK(ring_mp_push(&r, &i));
	v = 99;
	CHECK(!ring_mp_push(&r, &v)); /* full: refused */
	for (uint32_t i = 0; i < 4; i++)
		CHECK(ring_mp_pop(&r, &v) && v == i);
	CHECK(ring_mp_empty(&r) && !ring_mp_pop(&r, &v));
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t a = i * 2, b = i * 2 + 1;
		CHECK(ring_mp_push(&r, &a) && ring_mp_push(&r, &b));
		CHECK(ring_mp_pop(&r, &v) && v == a);
		CHECK(ring_mp_pop(&r, &v) && v == b);
	}
	CHECK_EQ(r.head, 2004);
	CHECK_EQ(r.tail, 2004);
}

/* A producer interrupted between its claim and its publish (what an #MC arriving in the middle
 * of a push looks like), written out by hand from the slot layout of kernel/lib/ring.c: the
 * interrupting producer takes the next slot, the consumer waits at the unpublished one, and
 * both records arrive in claim order once the interrupted producer finishes. */
TEST(ring_mp_interrupted_producer)
{
	struct ring_mp r;
	static uint64_t buf[4 * RING_MP_SLOT_SIZE(sizeof(uint64_t)) / 8];
	uint64_t v, first = 111, second = 222;

	REQUIRE(ring_mp_init(&r, buf, sizeof(uint64_t), 4) == 0);
	uint64_t pos = r.head;
	REQUIRE(__atomic_compare_exchange_n(&r.head, &pos, pos + 1, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED)); /* claimed, then "interrupted" */
	CHECK(ring_mp_push(&r, &second));		     /* the #MC pushes meanwhile */
	CHECK(!ring_mp_empty(&r));
	CHECK(!ring_mp_pop(&r, &v)); /* the oldest slot is not published yet */
	uint64_t *slot = (uint64_t *)(void *)(r.buf + (pos & 3) * r.slot_size);
	slot[1] = first; /* the interrupted producer resumes: fills and publishes */
	__atomic_store_n(&slot[0], pos + 1, __ATOMIC_RELEASE);
	CHECK(ring_mp_pop(&r, &v) && v == first);
	CHECK(ring_mp_pop(&r, &v) && v == second);
	CHECK(ring_mp_empty(&r));
}

#define MP_PRODUCERS 3
#define MP_PER_PRODUCER (1u << 15)
#define MP_CAPACITY 64

static struct ring_mp mp_ring;
static uint64_t mp_refused[MP_PRODUCERS], mp_given_up[MP_PRODUCERS];
static int mp_done;

static void *mp_producer(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;
	for (uint64_t s = 0; s < MP_PER_PRODUCER; s++) {
		struct rec r = {id << 32 | s, check_of(id << 32 | s), {(uint32_t)s, 1, 2}};
		if (!ring_mp_push(&mp_ring, &r)) {
			mp_refused[id]++;
			if (s % 4) { /* most records wait for room and go again */
				s--;
				sched_yield();
			} else {
				mp_given_up[id]++;
			}
		}
	}
	__atomic_add_fetch(&mp_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Three producer threads and one consumer: every record arrives once, intact, in each
 * producer's order; the ones given up on are exactly the refused pushes not retried. */
TEST(ring_mp_thread_stress)
{
	static uint64_t buf[MP_CAPACITY * RING_MP_SLOT_SIZE(sizeof(struct rec)) / 8];
	uint64_t next[MP_PRODUCERS] = {0}, got[MP_PRODUCERS] = {0}, bad = 0;
	pthread_t t[MP_PRODUCERS];
	struct rec r;

	REQUIRE(ring_mp_init(&mp_ring, buf, sizeof(struct rec), MP_CAPACITY) == 0);
	for (uintptr_t i = 0; i < MP_PRODUCERS; i++)
		REQUIRE(pthread_create(&t[i], NULL, mp_producer, (void *)i) == 0);
	for (;;) {
		int done = __atomic_load_n(&mp_done, __ATOMIC_ACQUIRE) == MP_PRODUCERS;
		if (!ring_mp_pop(&mp_ring, &r)) {
			if (done && ring_mp_empty(&mp_ring))
				break;
			continue;
		}
		uint64_t id = r.seq >> 32, s = r.seq & 0xffffffffu;
		if (id >= MP_PRODUCERS || s < next[id] || r.check != check_of(r.seq) ||
		    r.pad[0] != (uint32_t)s) {
			bad++;
			continue;
		}
		next[id] = s + 1;
		got[id]++;
	}
	for (unsigned i = 0; i < MP_PRODUCERS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(bad, 0);
	uint64_t total = 0;
	for (unsigned i = 0; i < MP_PRODUCERS; i++) {
		CHECK_EQ(got[i] + mp_given_up[i], MP_PER_PRODUCER);
		total += got[i];
	}
	printf("    ring_mp stress: %llu received of %u, pushes refused %llu/%llu/%llu\n",
	       (unsigned long long)total, MP_PRODUCERS * MP_PER_PRODUCER,
	       (unsigned long long)mp_refused[0], (unsigned long long)mp_refused[1],
	       (unsigned long long)mp_refused[2]);
}

/* Producers that interrupt each other on one "CPU": the main thread pushes in a loop while
 * another thread keeps sending it signals whose handler pushes too (as an #MC handler would,
 * in the middle of whatever push it interrupted); a third thread consumes. Every record
 * arrives once, intact, whether it was pushed by the loop or by a handler. */
#define NEST_LOOP 20000u
#define NEST_CAPACITY 16

static struct ring_mp nest_ring;
static volatile int nest_stop, nest_consumer_stop;
static uint64_t nest_handler_seq, nest_handler_pushed, nest_handler_refused;
static uint64_t nest_got_loop, nest_got_handler, nest_bad;
static pthread_t nest_main;

static void nest_handler(int sig)
{
	(void)sig;
	uint64_t s = (1ull << 40) | nest_handler_seq++;
	struct rec r = {s, check_of(s), {(uint32_t)s, 1, 2}};
	if (ring_mp_push(&nest_ring, &r))
		nest_handler_pushed++;
	else
		nest_handler_refused++;
}

static void *nest_kicker(void *arg)
{
	(void)arg;
	while (!nest_stop) {
		pthread_kill(nest_main, SIGUSR2);
		sched_yield();
	}
	return NULL;
}

static void *nest_consumer(void *arg)
{
	(void)arg;
	uint64_t next_loop = 0, next_handler = 1ull << 40;
	struct rec r;
	for (;;) {
		int stop = __atomic_load_n(&nest_consumer_stop, __ATOMIC_ACQUIRE);
		if (!ring_mp_pop(&nest_ring, &r)) {
			if (stop && ring_mp_empty(&nest_ring))
				break;
			sched_yield();
			continue;
		}
		bool handler = r.seq >> 40;
		uint64_t *next = handler ? &next_handler : &next_loop;
		if (r.seq < *next || r.check != check_of(r.seq))
			nest_bad++;
		*next = r.seq + 1;
		if (handler)
			nest_got_handler++;
		else
			nest_got_loop++;
	}
	return NULL;
}

TEST(ring_mp_pushes_from_interrupting_handlers)
{
	static uint64_t buf[NEST_CAPACITY * RING_MP_SLOT_SIZE(sizeof(struct rec)) / 8];
	struct sigaction sa = {0}, old;
	pthread_t kicker, consumer;

	REQUIRE(ring_mp_init(&nest_ring, buf, sizeof(struct rec), NEST_CAPACITY) == 0);
	sa.sa_handler = nest_handler;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR2, &sa, &old) == 0);
	nest_main = pthread_self();
	REQUIRE(pthread_create(&consumer, NULL, nest_consumer, NULL) == 0);
	REQUIRE(pthread_create(&kicker, NULL, nest_kicker, NULL) == 0);
	for (uint64_t s = 0; s < NEST_LOOP; s++) {
		struct rec r = {s, check_of(s), {(uint32_t)s, 1, 2}};
		while (!ring_mp_push(&nest_ring, &r))
			sched_yield(); /* the loop waits for room; the handlers never wait */
	}
	nest_stop = 1;
	pthread_join(kicker, NULL);
	sigaction(SIGUSR2, &old, NULL); /* no handler runs after this */
	__atomic_store_n(&nest_consumer_stop, 1, __ATOMIC_RELEASE);
	pthread_join(consumer, NULL);
	CHECK_EQ(nest_bad, 0);
	CHECK_EQ(nest_got_loop, NEST_LOOP);
	CHECK_EQ(nest_got_handler, nest_handler_pushed);
	CHECK(nest_handler_pushed > 0);
	printf("    ring_mp nesting: %u loop pushes, %llu from handlers (%llu refused: full)\n",
	       NEST_LOOP, (unsigned long long)nest_handler_pushed,
	       (unsigned long long)nest_handler_refused);
}
