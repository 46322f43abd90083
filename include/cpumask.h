/* A set of CPU ids, one bit per id up to MAX_CPUS: which CPUs have an address space loaded,
 * which CPUs an injection targets. Updates are atomic per word, so CPUs may add and remove
 * themselves concurrently; a reader sees each bit as it was at some moment. Any context. */
#pragma once
#include "types.h"

#define CPUMASK_WORDS ((MAX_CPUS + 63) / 64)

struct cpumask {
	uint64_t bits[CPUMASK_WORDS];
};

/* Add or remove cpu (< MAX_CPUS). */
static inline void cpumask_set(struct cpumask *m, unsigned cpu)
{
	__atomic_fetch_or(&m->bits[cpu / 64], BIT(cpu % 64), __ATOMIC_SEQ_CST);
}

static inline void cpumask_clear(struct cpumask *m, unsigned cpu)
{
	__atomic_fetch_and(&m->bits[cpu / 64], ~BIT(cpu % 64), __ATOMIC_SEQ_CST);
}

/* Whether cpu is in m (false for any cpu >= MAX_CPUS). */
static inline bool cpumask_test(const struct cpumask *m, unsigned cpu)
{
	return cpu < MAX_CPUS &&
	       (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_ACQUIRE) & BIT(cpu % 64));
}

static inline bool cpumask_empty(const struct cpumask *m)
{
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		if (__atomic_load_n(&m->bits[w], __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static inline void cpumask_zero(struct cpumask *m)
{
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		__atomic_store_n(&m->bits[w], 0, __ATOMIC_RELEASE);
}

/* The next CPU id in m at or after cpu, or MAX_CPUS when there is none. */
static inline unsigned cpumask_next(const struct cpumask *m, unsigned cpu)
{
	for (; cpu < MAX_CPUS; cpu = (cpu / 64 + 1) * 64) {
		uint64_t w = __atomic_load_n(&m->bits[cpu / 64], __ATOMIC_ACQUIRE) >> (cpu % 64);
		if (w)
			return cpu + (unsigned)__builtin_ctzll(w);
	}
	return MAX_CPUS;
}

#define for_each_cpu_in(cpu, m)                                                                \
	for (unsigned cpu = cpumask_next((m), 0); cpu < MAX_CPUS; cpu = cpumask_next((m), cpu + 1))
