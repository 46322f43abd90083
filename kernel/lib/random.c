/* Random bytes (include/random.h): one xorshift128+ generator shared by every caller, stirred
 * with the time stamp counter at each call so that two boots or two CPUs do not repeat each
 * other. Good enough for AT_RANDOM, getrandom and /dev/urandom in a test kernel; not for
 * keys. */
#include "arch/cpu.h"
#include "kstring.h"
#include "random.h"
#include "spinlock.h"

static spinlock_t lock = SPINLOCK_INIT;
static uint64_t s0 = 0x9e3779b97f4a7c15ull, s1 = 0xbf58476d1ce4e5b9ull;

static uint64_t next(void)
{
	uint64_t a = s0, b = s1;
	s0 = b;
	a ^= a << 23;
	s1 = a ^ b ^ (a >> 17) ^ (b >> 26);
	return s1 + b;
}

void random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	irqflags_t f = spin_lock_irqsave(&lock);
	s0 ^= arch_timestamp() * 0x94d049bb133111ebull;
	while (n) {
		uint64_t v = next();
		size_t k = MIN(n, sizeof(v));
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
	spin_unlock_irqrestore(&lock, f);
}
