/* Tests of printk (kernel/lib/printk.c) and panic (kernel/lib/panic.c): level filtering, time
 * stamp prefixes, continuation lines, the log ring and its reader, serialisation across
 * threads, and, in forked children (they exit), panic mode and the panic message and exit
 * codes. */
#include "fake_arch.h"
#include "panic.h"
#include "printk.h"
#include "unit.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_LEVEL 6
#define TS_LEN 15 /* "[    1.234567] " */

/* True if s starts with a time stamp "[sssss.uuuuuu] " (seconds right-aligned, >= 5 wide). */
static bool is_stamp(const char *s)
{
	const char *p = s + 1;

	if (s[0] != '[')
		return false;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p - s < 6 || *p != '.')
		return false;
	for (int i = 1; i <= 6; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return p[7] == ']' && p[8] == ' ';
}

/* Copy console text with each line's time stamp replaced by "@"; checks every line has one. */
static void strip_stamps(const char *in, char *out, size_t size, int *bad)
{
	size_t o = 0;
	bool at_start = true;

	*bad = 0;
	while (*in && o + 2 < size) {
		if (at_start) {
			if (!is_stamp(in)) {
				(*bad)++;
			} else {
				in = strchr(in, ']') + 2;
				out[o++] = '@';
			}
		}
		at_start = *in == '\n';
		out[o++] = *in++;
	}
	out[o] = '\0';
}

static char stripped[1 << 16];

/* The console output since the last clear, time stamps checked and replaced by "@". */
static const char *console_text(void)
{
	int bad;

	strip_stamps(fake_console, stripped, sizeof stripped, &bad);
	CHECK_EQ(bad, 0);
	return stripped;
}

static void expect_console(const char *want, int line)
{
	const char *got = console_text();
	if (strcmp(got, want)) {
		char m[1024];
		snprintf(m, sizeof m, "console \"%s\" != \"%s\"", got, want);
		unit_fail(__FILE__, line, m);
	}
}
#define EXPECT_CONSOLE(s) expect_console(s, __LINE__)

TEST(printk_levels_and_prefix)
{
	fake_console_clear();
	CHECK_EQ(printk(KERN_ERR "error %d\n", 5), 8);
	pr_info("info\n");
	pr_debug("debug hidden\n");
	printk("no level\n");
	EXPECT_CONSOLE("@error 5\n@info\n@no level\n");
	CHECK_EQ(strlen(fake_console) - strlen(stripped), 3 * (TS_LEN - 1));

	fake_console_clear();
	printk_set_level(7);
	pr_debug("debug shown\n");
	printk_set_level(3);
	pr_warn("warn hidden\n");
	pr_err("err shown\n");
	printk(KERN_EMERG "emerg\n");
	printk_set_level(DEFAULT_LEVEL);
	EXPECT_CONSOLE("@debug shown\n@err shown\n@emerg\n");
}

TEST(printk_continuation)
{
	fake_console_clear();
	pr_info("part one");
	printk(", part two");
	printk(" end\n");
	pr_info("a\nb\nc"); /* several lines in one call, the last one open */
	printk("+\n");
	pr_info("open");
	pr_err("new level closes it\n");
	EXPECT_CONSOLE("@part one, part two end\n@a\n@b\n@c+\n@open\n@new level closes it\n");

	/* A continuation keeps the level of its line: a hidden line stays hidden. */
	fake_console_clear();
	pr_debug("hidden");
	printk(" still hidden\n");
	pr_info("seen\n");
	EXPECT_CONSOLE("@seen\n");

	/* Another CPU's message closes the open line first. */
	fake_console_clear();
	pr_info("cpu0 half");
	fake_cpu_id = 1;
	printk("cpu1 line\n");
	fake_cpu_id = 0;
	EXPECT_CONSOLE("@cpu0 half\n@cpu1 line\n");
}

TEST(printk_long_message_truncated)
{
	char big[2000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	fake_console_clear();
	CHECK_EQ(printk(KERN_INFO "%s\n", big), 2000);
	const char *t = console_text();
	size_t n = strlen(t);
	REQUIRE(n > 100);
	CHECK(n < 600);
	CHECK(!strcmp(t + n - 5, "x...\n"));
}

TEST(printk_log_ring_read)
{
	static char buf[80 * 1024];
	char small[64];
	size_t n;

	printk(KERN_DEBUG "log keeps debug too: marker-%d\n", 77);
	n = printk_log_read(buf, sizeof buf);
	CHECK(n == strlen(buf));
	CHECK(strstr(buf, "log keeps debug too: marker-77\n") != NULL);

	/* Fill past 64 KiB: only the newest text stays, starting at a line start. */
	for (int i = 0; i < 2000; i++)
		pr_debug("filler line %04d ..........................\n", i);
	n = printk_log_read(buf, sizeof buf);
	CHECK(n <= 64 * 1024);
	CHECK(n > 60 * 1024);
	CHECK(is_stamp(buf));
	CHECK(strstr(buf, "marker-77") == NULL);
	CHECK(strstr(buf, "filler line 1999 ....") != NULL);
	CHECK_EQ(buf[n - 1], '\n');

	/* A small buffer gets the newest whole lines. */
	n = printk_log_read(small, sizeof small);
	CHECK(n < sizeof small);
	CHECK(is_stamp(small) || n == 0);
	n = printk_log_read(small, 60); /* one 59-byte line does not fit in 59 bytes */
	CHECK(n == 0 || is_stamp(small));
	CHECK_EQ(printk_log_read(small, 0), 0);
}

#define THREADS 4
#define LINES_PER_THREAD 150

static void *printk_thread(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < LINES_PER_THREAD; i++)
		pr_info("thread %ld line %03d %s\n", id, i, "the quick brown fox");
	return NULL;
}

TEST(printk_threads_do_not_mix_lines)
{
	pthread_t t[THREADS];
	int seen[THREADS] = {0};
	char *save, *line;

	fake_console_clear();
	for (long i = 0; i < THREADS; i++)
		REQUIRE(pthread_create(&t[i], NULL, printk_thread, (void *)i) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	char *copy = strdup(console_text());
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long id;
		int n, end = 0;
		if (sscanf(line, "@thread %ld line %d the quick brown fox%n", &id, &n, &end) != 2 ||
		    line[end] || id < 0 || id >= THREADS || n != seen[id]) {
			CHECK(!"line mixed or out of order");
			break;
		}
		seen[id]++;
	}
	free(copy);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(seen[i], LINES_PER_THREAD);
}

void printk_test_own_console(bool hold);

TEST(printk_never_waits_for_a_busy_console)
{
	char log[256];

	/* Another CPU owns the console: printk logs and returns; the owner shows it later. */
	fake_console_clear();
	printk_test_own_console(true);
	pr_info("left for the owner\n");
	CHECK_EQ(fake_console_len, 0);
	printk_log_read(log, sizeof log);
	CHECK(strstr(log, "left for the owner\n") != NULL);
	printk_test_own_console(false);
	EXPECT_CONSOLE("@left for the owner\n");

	/* A task's text waits for the kernel text queued before it and closes an open line. */
	fake_console_clear();
	printk_test_own_console(true);
	pr_info("queued");
	printk_test_own_console(false);
	printk_console_text("task text\n", 10);
	pr_info("after\n");
	const char *task = strstr(fake_console, "] queued\ntask text\n[");
	CHECK(task != NULL && strstr(task, "] after\n") != NULL);
}

TEST(printk_flush_before_the_machine_stops)
{
	/* Queued text is written before an exit even when the owner never lets go (a CPU
	 * stopped while it wrote): after a bounded wait, printk_flush writes it itself. */
	fake_console_clear();
	printk_test_own_console(true);
	pr_info("last words\n");
	CHECK_EQ(fake_console_len, 0);
	printk_flush();
	EXPECT_CONSOLE("@last words\n");
	printk_test_own_console(false);
	EXPECT_CONSOLE("@last words\n"); /* and not twice */
}

TEST(printk_console_far_behind_drops_oldest_and_says_so)
{
	char line[128], log[512];
	unsigned long long dropped = 0;

	fake_console_clear();
	printk_test_own_console(true);
	for (int i = 0; i < 400; i++) /* 400 lines of 15 + 86 bytes: ~40 KiB, over 16 KiB */
		pr_info("line %03d %s\n", i,
			"................................................................................");
	printk_test_own_console(false);
	const char *note = strstr(fake_console, "[console fell behind: ");
	REQUIRE(note != NULL);
	CHECK(sscanf(note, "[console fell behind: %llu bytes not shown]", &dropped) == 1);
	CHECK(dropped > 20000 && dropped < 30000);
	CHECK(strstr(fake_console, "line 000 ") == NULL);
	snprintf(line, sizeof line, "line 399 ");
	CHECK(strstr(fake_console, line) != NULL);
	size_t note_len = (size_t)(strchr(note, '\n') - note) + 2; /* with its leading newline */
	CHECK_EQ(strlen(fake_console) + dropped, 400 * (TS_LEN + 9 + 80 + 1) + note_len);
	printk_log_read(log, sizeof log); /* the log ring kept the newest lines whole */
	CHECK(strstr(log, "line 399 ") != NULL);
}

/* Run fn in a child with the console echoed to a pipe; returns its wait status and output. */
static int run_child(void (*fn)(void), char *out, size_t size)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		fake_console_echo = 1;
		fn();
		_exit(99); /* fn must not return */
	}
	close(fds[1]);
	while (got + 1 < size && (r = read(fds[0], out + got, size - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void child_panic(void)
{
	pr_info("half a line");
	panic("disk %s on fire (%d)", "sda", 3);
}

TEST(panic_message_and_exit_code)
{
	char out[4096];
	int st = run_child(child_panic, out, sizeof out);

	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), PANIC_EXIT_CODE);
	CHECK(strstr(out, "half a line\n[") != NULL); /* the open line was closed first */
	CHECK(strstr(out, "] Kernel panic - not syncing: disk sda on fire (3)\n") != NULL);
	CHECK(strstr(out, "---[ end Kernel panic") != NULL);
}

static void panic_again(void)
{
	panic("second");
}

static void child_recursive_panic(void)
{
	atexit(panic_again); /* the fake exit runs it: a panic inside the first one's exit */
	panic("first");
}

TEST(panic_recursive_halts)
{
	char out[4096];
	int st = run_child(child_recursive_panic, out, sizeof out);

	CHECK(WIFSIGNALED(st)); /* fake arch_halt_forever aborts */
	CHECK(strstr(out, "Kernel panic - not syncing: first") != NULL);
	CHECK(strstr(out, "recursive or concurrent panic, halting") != NULL);
	CHECK(strstr(out, "not syncing: second") == NULL);
	CHECK(strstr(out, "fake arch: halt") != NULL);
}

void printk_test_hold_lock(void);

static void child_panic_mode_lock_held(void)
{
	/* A CPU stopped while it held printk's lock: in panic mode printk waits a bounded time,
	 * then prints anyway, and after that does not wait again. */
	printk_test_hold_lock();
	printk_set_panic();
	printk(KERN_EMERG "printed despite the held lock\n");
	printk(KERN_EMERG "and again\n");
	exit(0);
}

TEST(printk_panic_mode_never_deadlocks)
{
	char out[4096];
	int st = run_child(child_panic_mode_lock_held, out, sizeof out);

	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK(strstr(out, "] printed despite the held lock\n[") != NULL);
	CHECK(strstr(out, "] and again\n") != NULL);
}
