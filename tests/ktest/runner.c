/* In-kernel test runner (the test build of the kernel only): test=ITEM[,ITEM...] on the
 * command line runs the KTEST bodies it names, prints KTAP, and ends the emulator with
 * status 0 (all passed) or 1. An item is "all", a suite ("mce") or one test ("mce.cmci_path").
 * The suites "panic" and "fault" end the run on purpose (a panic, a kernel fault report) and
 * run only when named, never as part of "all". */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "boot_info.h"
#include "frame.h"
#include "kernel.h"
#include "kmalloc.h"
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
	kmalloc_drain();
	drain_here(NULL);
	arch_call_on_others(drain_here, NULL, true);
	frame_get_stats(&st);
	return st.free;
}

static bool ends_the_run(const struct ktest *t)
{
	return !strcmp(t->suite, "panic") || !strcmp(t->suite, "fault");
}

/* Whether one item of the test= list (len bytes at item) selects t. */
static bool item_selects(const char *item, size_t len, const struct ktest *t)
{
	size_t ns = strlen(t->suite), nn = strlen(t->name);
	if (len == 3 && !strncmp(item, "all", 3))
		return !ends_the_run(t);
	if (len == ns && !strncmp(item, t->suite, ns))
		return true;
	return len == ns + 1 + nn && !strncmp(item, t->suite, ns) && item[ns] == '.' &&
	       !strncmp(item + ns + 1, t->name, nn);
}

static bool wanted(const char *list, const struct ktest *t)
{
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (item_selects(p, len, t))
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}

void kernel_run_tests(const char *cmdline)
{
	char list[512];
	if (!cmdline_get(cmdline, "test", list, sizeof(list)))
		return;
	if (strlen(list) == sizeof(list) - 1) { /* cut: running fewer tests would pass unseen */
		printk("# ktest: test= is longer than %zu bytes\n", sizeof(list) - 2);
		arch_exit_emulator(1);
	}
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
		printk("# ktest: no test matches \"%s\"\n", list);
	arch_exit_emulator(failed || n == 0 ? 1 : 0);
}

KTEST(panic, deliberate)
{
	(void)ktest_failed__;
	panic("deliberate panic from test=panic");
}
