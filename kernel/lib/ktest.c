/* In-kernel test runner: test=SUITE[,SUITE...] or test=all on the command line runs the
 * KTEST bodies of those suites, prints KTAP, and ends the emulator with status 0 (all
 * passed) or 1. The suite "panic" exists to check that a panic is reported and ends the run. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "frame.h"
#include "boot_info.h"
#include "kstring.h"
#include "ktest.h"
#include "panic.h"

extern const struct ktest __ktest_start[], __ktest_end[];

static void drain_here(void *unused)
{
	(void)unused;
	frame_drain_cpu(arch_cpu_id());
}

uint64_t ktest_free_frames(void)
{
	struct frame_stats st;
	drain_here(NULL);
	arch_call_on_others(drain_here, NULL, true);
	frame_get_stats(&st);
	return st.free;
}

static bool suite_selected(const char *list, const char *suite)
{
	size_t n = strlen(suite);
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if ((len == n && !strncmp(p, suite, n)) || (len == 3 && !strncmp(p, "all", 3)))
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}

static bool wanted(const char *list, const struct ktest *t)
{
	/* "all" runs everything except the suites that end the run on purpose. */
	if (!strcmp(t->suite, "panic") || !strcmp(t->suite, "fault"))
		return strstr(list, t->suite) != NULL;
	return suite_selected(list, t->suite);
}

void ktest_run_from_cmdline(const char *cmdline)
{
	char list[128];
	if (!cmdline_get(cmdline, "test", list, sizeof(list)))
		return;
	unsigned n = 0, failed = 0, i = 0;
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++)
		n += wanted(list, t);
	printk("KTAP version 1\n1..%u\n", n);
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++) {
		if (!wanted(list, t))
			continue;
		int f = 0;
		t->fn(&f);
		failed += f != 0;
		printk("%sok %u %s.%s\n", f ? "not " : "", ++i, t->suite, t->name);
	}
	printk("# ktest: %u passed, %u failed\n", n - failed, failed);
	if (n == 0)
		printk("# ktest: no suite matches \"%s\"\n", list);
	arch_exit_emulator(failed || n == 0 ? 1 : 0);
}

KTEST(panic, deliberate)
{
	(void)ktest_failed__;
	panic("deliberate panic from test=panic");
}
