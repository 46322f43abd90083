/* procinfo: /proc/cpuinfo and /proc/interrupts read as a Linux tool reads them.
 *
 * Checks the layout Linux uses (arch/x86/kernel/cpu/proc.c, arch/x86/kernel/irq.c): one
 * cpuinfo block per CPU, numbered from 0, with the fields einj_mem_uc-style tools read
 * ("physical id", "core id", "apicid", "model name", flags with mce and mca), "siblings" and
 * "cpu cores" that agree with the blocks; an interrupts header with one CPUn column per CPU
 * and the rows NMI, LOC, THR, MCE, MCP, ERR. Then that the local timer row moves on every CPU.
 * On MCRK also: the poll row moves on every CPU (MCRK polls every second; Linux every five
 * minutes), and a corrected error injected with a CMCI on the last CPU through
 * /sys/kernel/debug/mce-inject/ adds exactly one to that CPU's THR column and none to the
 * others'. It prints "procinfo: cpu N package P core C apicid A" for each CPU, which the
 * tests compare with the emulator's own topology. First, /proc/uptime and /proc/loadavg in
 * Linux's layout.
 * With the argument "mce" it then waits (60 s at most) for a machine check from outside (the
 * test injects a broadcast one with QEMU's monitor) and checks that the MCE column of every
 * CPU moved. Exit status: the number of failed checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "utest.h"

#define MAXCPU 256
#define TEXT_MAX (256 * 1024)
#define INJ "/sys/kernel/debug/mce-inject/"
#define CE_STATUS "0x9000000000000017" /* VAL|EN, MCACOD 0x17: a corrected error */

static char text[TEXT_MAX];

struct cpu {
	long processor, package, siblings, core, cores, apicid;
	int has_flags_mce_mca, fields_in_order;
};
static struct cpu cpus[MAXCPU];
static int ncpu;

static int read_text(const char *path)
{
	return utest_read_file(path, text, TEXT_MAX);
}

/* The value after "key<TABs>: " in one block, or -1 (numbers only). */
static long field(const char *block, const char *key, const char **at)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\n%s\t", key);
	const char *p = strstr(block, pat);
	if (!p)
		return *at = NULL, -1;
	*at = p;
	p += strlen(pat);
	while (*p == '\t')
		p++;
	if (p[0] != ':' || p[1] != ' ')
		return -1;
	return strtol(p + 2, NULL, 0);
}

/* One cpuinfo block (NUL-terminated, starting with "\nprocessor"). */
static void parse_block(char *block, struct cpu *c)
{
	static const char *const order[] = {"processor", "vendor_id", "cpu family", "model",
					    "model name", "stepping", "physical id", "siblings",
					    "core id", "cpu cores", "apicid", "initial apicid",
					    "flags"};
	const char *at, *prev = block;
	c->fields_in_order = 1;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		field(block, order[i], &at);
		if (!at || at < prev)
			c->fields_in_order = 0;
		prev = at ? at : prev;
	}
	c->processor = field(block, "processor", &at);
	c->package = field(block, "physical id", &at);
	c->siblings = field(block, "siblings", &at);
	c->core = field(block, "core id", &at);
	c->cores = field(block, "cpu cores", &at);
	c->apicid = field(block, "apicid", &at);
	const char *fl = strstr(block, "\nflags\t");
	char line[2048] = "";
	if (fl) {
		const char *end = strchr(fl + 1, '\n');
		size_t n = end ? (size_t)(end - fl) : strlen(fl);
		n = n < sizeof line - 2 ? n : sizeof line - 2;
		memcpy(line, fl, n);
		line[n] = ' ';
		line[n + 1] = 0;
	}
	c->has_flags_mce_mca = strstr(line, " mce ") && strstr(line, " mca ");
}

static void check_cpuinfo(void)
{
	CHECK(read_text("/proc/cpuinfo") > 0);
	CHECK(!strncmp(text, "processor\t: 0\n", 14));
	/* Blocks are separated by one blank line; give each a leading newline for field(). */
	char *p = text;
	while (*p && ncpu < MAXCPU) {
		char *end = strstr(p, "\n\n"), block[8192];
		size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
		int len = (int)(n < sizeof block - 2 ? n : sizeof block - 2);
		snprintf(block, sizeof block, "\n%.*s", len, p);
		parse_block(block, &cpus[ncpu]);
		ncpu++;
		p += n + (end ? 1 : 0);
	}
	CHECK(ncpu >= 1);
	for (int i = 0; i < ncpu; i++) {
		struct cpu *c = &cpus[i];
		int sib = 0, cores = 0;
		CHECK(c->processor == i);
		CHECK(c->fields_in_order);
		CHECK(c->has_flags_mce_mca);
		CHECK(c->package >= 0 && c->core >= 0 && c->apicid >= 0);
		for (int j = 0; j < ncpu; j++) {
			int first_of_core = 1;
			if (cpus[j].package != c->package)
				continue;
			sib++;
			for (int k = 0; k < j; k++)
				if (cpus[k].package == c->package && cpus[k].core == cpus[j].core)
					first_of_core = 0;
			cores += first_of_core;
		}
		CHECK(c->siblings == sib);
		CHECK(c->cores == cores);
		printf("procinfo: cpu %d package %ld core %ld apicid %ld\n", i, c->package, c->core,
		       c->apicid);
	}
}

/* The per-CPU counts of row name ("LOC") in the current text; how many were read, or -1. */
static int irq_row(const char *name, long long *counts)
{
	char pat[16];
	snprintf(pat, sizeof pat, "\n%3s: ", name);
	const char *p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	int n = 0;
	for (; n < ncpu; n++) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || end - p > 11 || *end != ' ')
			break;
		counts[n] = v;
		p = end + 1;
	}
	return n;
}

static void read_interrupts(const char *row, long long *counts)
{
	CHECK(read_text("/proc/interrupts") > 0);
	CHECK(irq_row(row, counts) == ncpu);
}

static void check_interrupts_layout(void)
{
	long long v[MAXCPU];
	CHECK(read_text("/proc/interrupts") > 0);
	/* Header: CPU columns 11 characters apart, after an indent. */
	char *nl = strchr(text, '\n');
	CHECK(nl != NULL);
	for (int i = 0; nl && i < ncpu; i++) {
		char want[16];
		snprintf(want, sizeof want, "CPU%d", i);
		CHECK(!strncmp(text + 11 + 11 * i, want, strlen(want)));
	}
	static const char *const rows[] = {"NMI", "LOC", "THR", "MCE", "MCP"};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		CHECK(irq_row(rows[r], v) == ncpu);
		if (irq_row(rows[r], v) != ncpu)
			printf("procinfo: row %s missing or short\n", rows[r]);
	}
	CHECK(strstr(text, "  Machine check exceptions\n") != NULL);
	CHECK(strstr(text, "  Machine check polls\n") != NULL);
	CHECK(strstr(text, "  Threshold APIC interrupts\n") != NULL);
	CHECK(strstr(text, "\nERR: ") != NULL);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* The timer row moves on every CPU; on MCRK the poll row too (every second). */
static void check_counters_move(void)
{
	long long loc0[MAXCPU], loc1[MAXCPU], mcp0[MAXCPU], mcp1[MAXCPU];
	read_interrupts("LOC", loc0);
	read_interrupts("MCP", mcp0);
	sleep_ms(2500);
	read_interrupts("LOC", loc1);
	read_interrupts("MCP", mcp1);
	for (int i = 0; i < ncpu; i++) {
		CHECK(loc1[i] > loc0[i]);
		if (on_mcrk())
			CHECK(mcp1[i] > mcp0[i]);
	}
}

/* MCRK: a corrected error raised by CMCI on the last CPU counts once in its THR column. */
static void check_cmci_counts(void)
{
	long long thr0[MAXCPU], thr1[MAXCPU], mcp0[MAXCPU], mcp1[MAXCPU];
	char cpu[16];
	int last = ncpu - 1;
	read_interrupts("THR", thr0);
	read_interrupts("MCP", mcp0);
	snprintf(cpu, sizeof cpu, "%d", last);
	CHECK(utest_write_file(INJ "cpu", cpu) == 0);
	CHECK(utest_write_file(INJ "status", CE_STATUS) == 0);
	CHECK(utest_write_file(INJ "addr", "0") == 0);
	CHECK(utest_write_file(INJ "misc", "0") == 0);
	CHECK(utest_write_file(INJ "mcgstatus", "0") == 0);
	CHECK(utest_write_file(INJ "flags", "th") == 0);
	CHECK(utest_write_file(INJ "bank", "2") == 0);
	sleep_ms(200); /* the CMCI is taken when the target next has interrupts on */
	read_interrupts("THR", thr1);
	read_interrupts("MCP", mcp1);
	for (int i = 0; i < ncpu; i++)
		CHECK(thr1[i] == thr0[i] + (i == last));
	CHECK(mcp1[last] > mcp0[last]);
	printf("procinfo: THR on CPU %d: %lld -> %lld\n", last, thr0[last], thr1[last]);
}

/* Wait for a broadcast machine check from outside: every CPU's MCE column moves. */
static void wait_for_mce(void)
{
	long long mce0[MAXCPU], mce1[MAXCPU];
	int moved = 0;
	read_interrupts("MCE", mce0);
	printf("procinfo: waiting for a machine check\n");
	fflush(stdout);
	for (int tries = 0; tries < 600 && moved < ncpu; tries++) {
		sleep_ms(100);
		read_interrupts("MCE", mce1);
		moved = 0;
		for (int i = 0; i < ncpu; i++)
			moved += mce1[i] > mce0[i];
	}
	CHECK(moved == ncpu);
	printf("procinfo: MCE counted on %d of %d CPUs\n", moved, ncpu);
}

/* /proc/uptime "U.uu I.ii" and /proc/loadavg "a.aa b.bb c.cc R/T LAST", as Linux prints
 * them: uptime grows with time and agrees with sysinfo, idle time never passes uptime times
 * the CPUs, this program is among the running, and the last pid is the newest child's. */
static void check_uptime_loadavg(void)
{
	char text[256], tail;
	double up[2], idle[2], load[3];
	unsigned running, threads, cpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	int last;
	for (int i = 0; i < 2; i++) {
		CHECK(utest_read_file("/proc/uptime", text, sizeof(text)) > 0);
		CHECK(sscanf(text, "%lf %lf%c", &up[i], &idle[i], &tail) == 3 && tail == '\n');
		CHECK(strspn(text, "0123456789. \n") == strlen(text)); /* "%lu.%02lu %lu.%02lu" */
		if (!i)
			usleep(300 * 1000);
	}
	struct sysinfo si;
	CHECK(sysinfo(&si) == 0 && (double)si.uptime >= up[1] - 1 &&
	      (double)si.uptime <= up[1] + 2);
	CHECK(up[1] >= up[0] + 0.29 && up[0] > 0);
	CHECK(idle[0] <= idle[1] && idle[1] <= up[1] * cpus + 0.01);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	CHECK(utest_read_file("/proc/loadavg", text, sizeof(text)) > 0);
	CHECK(sscanf(text, "%lf %lf %lf %u/%u %d%c", &load[0], &load[1], &load[2], &running,
		     &threads, &last, &tail) == 7 &&
	      tail == '\n');
	CHECK(running >= 1 && running <= threads && last >= child);
	CHECK(load[0] >= 0 && load[1] >= 0 && load[2] >= 0);
	waitpid(child, NULL, 0);
	printf("procinfo: uptime %.2f s, idle %.2f s; loadavg %s", up[1], idle[1], text);
}

int main(int argc, char **argv)
{
	check_uptime_loadavg();
	check_cpuinfo();
	check_interrupts_layout();
	check_counters_move();
	if (on_mcrk())
		check_cmci_counts();
	if (argc > 1 && !strcmp(argv[1], "mce"))
		wait_for_mce();
	DONE("procinfo");
}
