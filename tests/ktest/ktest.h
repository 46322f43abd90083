/* In-kernel unit tests: KTEST(suite, name) bodies run when the command line says test=suite
 * (or test=all), printing KTAP; the run ends the emulator with status 0 (pass) or 1 (fail). */
#pragma once
#include "printk.h"
#include "types.h"

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(int *failed);
};

#define KTEST(suite_, name_)                                                                \
	static void ktest_##suite_##_##name_(int *ktest_failed__);                          \
	static const struct ktest ktest_rec_##suite_##_##name_                              \
		__attribute__((used, section(".ktest"), aligned(8))) = {                    \
			#suite_, #name_, ktest_##suite_##_##name_};                             \
	static void ktest_##suite_##_##name_(int *ktest_failed__)

#define KT_EXPECT(cond)                                                                     \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printk("    # %s:%d: expected %s\n", __FILE__, __LINE__, #cond);     \
			*ktest_failed__ = 1;                                                \
		}                                                                           \
	} while (0)

/* Free frames after every CPU emptied its per-CPU cache (each on itself, through an IPI),
 * so leak checks compare exact counts. Process context, interrupts enabled. */
uint64_t ktest_free_frames(void);
