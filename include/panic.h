/* panic: stop every CPU and say why. BUG_ON for invariants that must never break. */
#pragma once
#include "types.h"

/* Exit codes the kernel leaves QEMU or Bochs with (arch_exit_emulator): in-kernel tests passed,
 * some test failed, or the kernel panicked. */
#define EXIT_TESTS_PASSED 0
#define EXIT_TESTS_FAILED 1
#define PANIC_EXIT_CODE 3

/* Print "Kernel panic - not syncing: <msg>", stop all CPUs, leave the emulator. Any context. */
__printf(1, 2) __noreturn void panic(const char *fmt, ...);

#define BUG_ON(cond)                                                              \
	do {                                                                      \
		if (unlikely(cond))                                               \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);     \
	} while (0)
