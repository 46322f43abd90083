/* A tiny unit-test framework for the host build: TEST(name) registers a test, CHECK records
 * a failure and goes on. main() in unit.c runs every test (or those named on the command line)
 * and prints "host: N passed, N failed". */
#pragma once
#include <stdint.h>
#include <stdio.h>

void unit_register(const char *name, void (*fn)(void), const char *file);
void unit_fail(const char *file, int line, const char *expr);
extern int unit_current_failed;

#define TEST(name)                                                                          \
	static void test_##name(void);                                                      \
	__attribute__((constructor)) static void register_##name(void)                     \
	{                                                                                   \
		unit_register(#name, test_##name, __FILE__);                                \
	}                                                                                   \
	static void test_##name(void)

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond))                                                                \
			unit_fail(__FILE__, __LINE__, #cond);                               \
	} while (0)

#define CHECK_EQ(a, b)                                                                      \
	do {                                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);                         \
		if (a_ != b_) {                                                             \
			char m_[256];                                                       \
			snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_); \
			unit_fail(__FILE__, __LINE__, m_);                                  \
		}                                                                           \
	} while (0)

/* Stop the current test at the first failure (for checks later ones depend on). */
#define REQUIRE(cond)                                                                       \
	do {                                                                                \
		if (!(cond)) {                                                              \
			unit_fail(__FILE__, __LINE__, #cond);                               \
			return;                                                             \
		}                                                                           \
	} while (0)

/* xorshift64: the tests' reproducible random numbers (*state must not be 0). */
static inline uint64_t unit_xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}
