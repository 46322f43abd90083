/* Runner for the host unit tests: runs every registered test, or those whose full names
 * ("host/NAME") contain one of the command-line arguments, ignoring case, and prints one
 * result line per test. --list prints the names it would run instead of running them. */
#define _GNU_SOURCE /* strcasestr */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

struct unit_test {
	const char *name, *file;
	void (*fn)(void);
};

static struct unit_test tests[1024];
static int n_tests;
int unit_current_failed;
static int fail_prints;

void unit_register(const char *name, void (*fn)(void), const char *file)
{
	if (n_tests == (int)(sizeof tests / sizeof tests[0])) {
		fprintf(stderr, "unit: too many tests\n");
		exit(2);
	}
	tests[n_tests++] = (struct unit_test){name, file, fn};
}

void unit_fail(const char *file, int line, const char *expr)
{
	unit_current_failed = 1;
	if (fail_prints++ < 20) /* a failing loop should not flood the log */
		printf("    %s:%d: check failed: %s\n", file, line, expr);
}

static int selected(const char *name, int npat, char **pat)
{
	char full[256];
	if (npat == 0)
		return 1;
	snprintf(full, sizeof full, "host/%s", name);
	for (int i = 0; i < npat; i++)
		if (strcasestr(full, pat[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	int list = argc > 1 && !strcmp(argv[1], "--list");
	int npat = argc - 1 - list;
	char **pat = argv + 1 + list;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n_tests; i++) {
		if (!selected(tests[i].name, npat, pat))
			continue;
		if (list) {
			printf("host/%s\n", tests[i].name);
			continue;
		}
		unit_current_failed = 0;
		fail_prints = 0;
		tests[i].fn();
		printf("%s host/%s\n", unit_current_failed ? "FAIL" : "ok  ", tests[i].name);
		if (unit_current_failed)
			failed++;
		else
			passed++;
	}
	if (list)
		return 0;
	printf("host: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
