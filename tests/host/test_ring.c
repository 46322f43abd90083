/* Tests of the lock-free SPSC ring (kernel/lib/ring.c): argument checks, FIFO order, full and
 * empty behaviour, index wrap-around, and a two-thread stress test of 1M records that checks
 * order, contents, and that every record was either received or counted as dropped. */
#include "kerrno.h"
#include "ring.h"
#include "unit.h"
#include <pthread.h>
#include <sched.h>
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
