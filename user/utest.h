/* A tiny test framework for MCRK's user programs (the same source builds for Linux):
 * CHECK prints the failing line and counts it; DONE prints the summary and exits with the
 * number of failures, which init reports. */
#pragma once
#include <stdio.h>
#include <stdlib.h>

static int utest_failures;
#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
			fflush(stdout);                                                     \
			utest_failures++;                                                   \
		}                                                                           \
	} while (0)
#define DONE(name)                                                                          \
	do {                                                                                \
		printf("%s: %s (%d failures)\n", name, utest_failures ? "FAILED" : "passed", \
		       utest_failures);                                                     \
		fflush(stdout);                                                             \
		exit(utest_failures ? 1 : 0);                                               \
	} while (0)
