/* The campaign agent (/bin/campaign): runs one boot's share of an injection campaign.
 * docs/campaign.md is the manual; tests/campaign/campaign.py writes the plan this program
 * reads from the initrd (/campaign/plan) and reads everything it prints.
 *
 * It takes the kernel's books (frame accounting) while only init and itself run, starts the
 * workload families (workload.c), then for each event of the plan: waits the event's delay
 * while the workload runs, picks a target frame (one of the workload's own pages from the
 * frames they publish, a frame in a given memory_failure state from
 * /sys/kernel/debug/mcrk/frame_state, or any frame), delivers the error (a write to a control
 * file, a request to the host for QEMU's monitor, MADV_HWPOISON by the page's owner, or an SRAR
 * at a workload process caught reading the page) and waits until the kernel has dealt with it.
 * Every few events and at the end it runs the allocator audit and the address-space check.
 * At the end it stops the workload and takes the books again.
 *
 * Frames mapped by init or by the agent are never targets: losing them would end the boot
 * (init) or the campaign, not test recovery. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"

#define PLAN_PATH "/campaign/plan"
#define PLAN_MAX (512 * 1024)
#define MAX_FRAMES (1 << 20)
#define MAX_STATES 128
#define MAX_PIDS 8192
#define PICK_TRIES 64
#define WAIT_MF_MS 5000
#define WAIT_CE_MS 3000
#define MAX_CPUS 64
#define WAIT_ANSWER_MS 3000
#define WAIT_READER_MS 6000
#define WAIT_EXIT_MS 60000
#define STATE_POISONED 0x80
#define FLAG_USER 0x20 /* PG_USER of include/frame.h, in frame_info flags */
#define DBG "/sys/kernel/debug/mcrk/"
#define STACK_OWNED (160 * 1024) /* below main's frame: deeper than the agent ever goes */

struct frame_info_rec {
	uint32_t flags;
	uint8_t state, order;
	uint16_t nr_tasks;
	int32_t mapcount, refcount;
	uint32_t min_pid, max_pid;
};

static char plan[PLAN_MAX];
static uint8_t states[MAX_FRAMES];
static char text[64 * 1024];
static char state_name[MAX_STATES][48];
static struct shape shape;
static struct mailbox *mb;
static pid_t heads[MAX_FAMILIES];
static int seen_pids[MAX_PIDS], nseen;
static long frames;
static int self, check_every = 25;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static int fd_state, fd_info;
static char *stack_floor; /* the lowest stack address the agent uses (own_stack) */

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&t, NULL);
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Read a generated file from offset 0 into text (NUL-terminated); its length or -errno. */
static long read_text(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	long n = 0, r;
	while (n < (long)sizeof(text) - 1 && (r = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
		n += r;
	close(fd);
	text[n] = 0;
	return n;
}

/* The number after "name " (or "name:") on a line of text, or -1. */
static long value_of(const char *name)
{
	size_t len = strlen(name);
	for (const char *p = text; (p = strstr(p, name)); p++)
		if ((p == text || p[-1] == '\n') && (p[len] == ' ' || p[len] == ':'))
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/* Print every line of text, each prefixed. */
static void say_lines(const char *prefix)
{
	for (char *p = text, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		char c = *nl;
		*nl = 0;
		say("%s %s", prefix, p);
		*nl = c;
		if (!c)
			break;
	}
}

static void note_pid(int pid)
{
	for (int i = nseen - 1; i >= 0 && i >= nseen - 64; i--)
		if (seen_pids[i] == pid)
			return;
	if (pid > 0 && nseen < MAX_PIDS)
		seen_pids[nseen++] = pid;
}

static void note_slots(void)
{
	for (int s = 0; s < MAX_SLOTS; s++)
		note_pid(mb->slot[s].pid);
}

/* ---- the plan ---- */

static char *next_line(char **p)
{
	char *line = *p;
	if (!*line)
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

static void parse_member(const char *line)
{
	int f, m;
	char kill[16], handler[16], wait[16], thread[16];
	if (sscanf(line, "member %d %d %15s %15s %15s %15s", &f, &m, kill, handler, wait,
		   thread) != 6 ||
	    f < 0 || f >= MAX_FAMILIES || m < 0 || m >= MAX_MEMBERS)
		return;
	shape.policy[f][m] = (struct policy){!strcmp(kill, "early"), !strcmp(handler, "handler"),
					     !strcmp(wait, "spin"), !strcmp(thread, "thread")};
}

/* The header lines of the plan; returns where the events begin. */
static char *parse_header(char *p)
{
	char *line, *events = p;
	unsigned long long seed = 0;
	int boot = 0;
	while ((line = next_line(&p))) {
		if (!strncmp(line, "event ", 6)) {
			line[strlen(line)] = '\n'; /* give the line back to the event loop */
			return events;
		}
		sscanf(line, "campaign %llu %d", &seed, &boot);
		sscanf(line, "shape %d %d %d %d %d %d", &shape.families, &shape.members,
		       &shape.priv_pages, &shape.shared_pages, &shape.lifetime, &shape.file_pages);
		sscanf(line, "check_every %d", &check_every);
		if (!strncmp(line, "member ", 7))
			parse_member(line);
		events = p;
	}
	rng ^= seed * 0x100000001b3ull + (unsigned)boot;
	return events;
}

static int load_plan(void)
{
	int fd = open(PLAN_PATH, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while (n < PLAN_MAX - 1 && (r = read(fd, plan + n, PLAN_MAX - 1 - n)) > 0)
		n += r;
	close(fd);
	plan[n] = 0;
	return 0;
}

/* ---- books and checks ---- */

/* The frame accounting, and HardwareCorrupted as /proc/meminfo shows it (nothing transient
 * changes it between the two reads, unlike MemFree, which the reads themselves move). */
static void account(const char *when)
{
	char mem[1024];
	long hc_kb = read_text("/proc/meminfo") > 0 ? value_of("HardwareCorrupted") : -1;
	if (read_text(DBG "frame_accounting") <= 0) {
		say("ACCOUNT %s unavailable", when);
		return;
	}
	int n = 0;
	static const char *const keys[] = {"MemFree",
					   "HardwareCorrupted",
					   "frames",
					   "free",
					   "poisoned",
					   "in_use",
					   "unaccounted",
					   "reserved",
					   "user",
					   "file",
					   "pgtable",
					   "slab",
					   "kstack",
					   "kernel",
					   "poisoned_in_use",
					   "slab_objects",
					   "pagetree_nodes",
					   "directmap"};
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long v = value_of(keys[i]);
		n += snprintf(mem + n, sizeof(mem) - (size_t)n, " %s=%ld", keys[i], v);
	}
	say("ACCOUNT %s meminfo_HardwareCorrupted=%d%s", when, (int)hc_kb, mem);
}

static void check(const char *when)
{
	if (read_text(DBG "frame_audit") > 0)
		say_lines(when[0] == 'e' ? "AUDIT end" : "AUDIT mid");
	else
		say("AUDIT %s unavailable", when);
	if (read_text(DBG "vm_check") > 0)
		say_lines(when[0] == 'e' ? "VMCHECK end" : "VMCHECK mid");
	else
		say("VMCHECK %s unavailable", when);
}

/* Every poisoned frame, with its flags, and the count against HardwareCorrupted. */
static void list_poisoned(void)
{
	static uint64_t kpf[8192];
	char line[200];
	int n = 0, fd = open("/proc/kpageflags", O_RDONLY);
	long count = 0;
	for (long base = 0; fd >= 0 && base < frames; base += 8192) {
		long r = pread(fd, kpf, sizeof(kpf), base * 8);
		for (long i = 0; i < r / 8; i++) {
			if (!(kpf[i] & (1ull << 19)))
				continue;
			struct frame_info_rec rec = {0};
			pread(fd_info, &rec, sizeof(rec), (base + i) * (off_t)sizeof(rec));
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %lx:%x:%x", base + i,
				      rec.flags, rec.state);
			count++;
			if (n > 150) {
				say("HWPOISON%s", line);
				n = 0;
			}
		}
	}
	if (n)
		say("HWPOISON%s", line);
	if (fd >= 0)
		close(fd);
	say("KPAGEFLAGS hwpoison=%d", (int)count);
}

/* ---- targets ---- */

struct target {
	uint64_t pfn;
	int slot, index; /* a workload page: whose and which, else -1 */
	const char *how;
};

static int read_info(uint64_t pfn, struct frame_info_rec *r)
{
	return pread(fd_info, r, sizeof(*r), (off_t)(pfn * sizeof(*r))) == sizeof(*r) ? 0 : -1;
}

/* Mapped by init or by us: never a target. */
static int protected_frame(uint64_t pfn)
{
	struct frame_info_rec r;
	return read_info(pfn, &r) || (r.nr_tasks && r.min_pid <= (uint32_t)self);
}

/* A page of a workload process (head: of a family head, which lives as long as its family:
 * its pages are not freed behind an EINJ line). */
static int pick_own(const char *region, int head, struct target *t)
{
	int cow = !strcmp(region, "cow");
	int want = !strcmp(region, "shared") ? REG_SHARED
		   : !strcmp(region, "file") ? REG_FILE
		   : !strcmp(region, "any")  ? 0
					     : REG_PRIVATE;
	for (int tries = 0; tries < PICK_TRIES; tries++) {
		int s = head ? (int)rnd(MAX_FAMILIES) * MAX_MEMBERS : (int)rnd(MAX_SLOTS);
		struct slot *sl = &mb->slot[s];
		if (!sl->pid || sl->npages <= 0)
			continue;
		int i = (int)rnd((uint32_t)sl->npages);
		uint64_t pfn = sl->pfn[i];
		struct frame_info_rec r;
		if (!pfn || (want && sl->region[i] != want) || read_info(pfn, &r))
			continue;
		if (r.state & STATE_POISONED || (r.nr_tasks && r.min_pid <= (uint32_t)self))
			continue;
		if (!(r.flags & FLAG_USER)) /* published before the page moved: no longer its */
			continue;
		if (cow && r.mapcount < 2)
			continue;
		*t = (struct target){pfn, s, i, region};
		return 0;
	}
	return -1;
}

static int state_index(const char *name)
{
	char want[48];
	snprintf(want, sizeof(want), "%.47s", name);
	for (char *c = want; *c; c++)
		*c = *c == '_' ? ' ' : *c;
	for (int i = 0; i < MAX_STATES; i++)
		if (!strcmp(state_name[i], want))
			return i;
	return -1;
}

static int pick_state(const char *name, struct target *t)
{
	int idx = state_index(name);
	long n = idx < 0 ? -1 : pread(fd_state, states, (size_t)frames, 0);
	long count = 0;
	for (long i = 0; i < n; i++)
		count += states[i] == idx;
	for (int tries = 0; count && tries < PICK_TRIES; tries++) {
		long k = (long)rnd((uint32_t)count);
		for (long i = 0; i < n; i++) {
			if (states[i] == idx && k-- == 0) {
				if (protected_frame((uint64_t)i))
					break;
				*t = (struct target){(uint64_t)i, -1, -1, name};
				return 0;
			}
		}
	}
	return -1;
}

static int pick_random(struct target *t)
{
	for (int tries = 0; tries < PICK_TRIES; tries++) {
		uint64_t pfn = rnd((uint32_t)frames);
		if (!protected_frame(pfn)) {
			*t = (struct target){pfn, -1, -1, "random"};
			return 0;
		}
	}
	return -1;
}

static int pick(const char *spec, struct target *t)
{
	if (!strncmp(spec, "own:", 4))
		return pick_own(spec + 4, 0, t);
	if (!strncmp(spec, "head:", 5))
		return pick_own(spec + 5, 1, t);
	if (!strncmp(spec, "state:", 6))
		return pick_state(spec + 6, t);
	return pick_random(t);
}

/* ---- delivery ---- */

/* Copy src into dst with \n turned into newlines and {pfn}, {addr} filled in. */
static void fill_in(char *dst, size_t size, const char *src, uint64_t pfn)
{
	size_t n = 0;
	while (*src && n + 24 < size) {
		if (!strncmp(src, "\\n", 2)) {
			dst[n++] = '\n';
			src += 2;
		} else if (!strncmp(src, "{pfn}", 5)) {
			n += (size_t)snprintf(dst + n, size - n, "%#llx", (unsigned long long)pfn);
			src += 5;
		} else if (!strncmp(src, "{addr}", 6)) {
			n += (size_t)snprintf(dst + n, size - n, "%#llx",
					      (unsigned long long)pfn << 12);
			src += 6;
		} else {
			dst[n++] = *src++;
		}
	}
	dst[n] = 0;
}

/* One write of PATH TEXT; see deliver_write. */
static int write_one(const char *args, uint64_t pfn)
{
	char path[128], body[600];
	int skip = 0;
	if (sscanf(args, "%127s %n", path, &skip) != 1)
		return -EINVAL;
	fill_in(body, sizeof(body), args + skip, pfn);
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	long r = write(fd, body, strlen(body));
	int err = r < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* "PATH TEXT [;; PATH TEXT ...]": each write in turn, stopping at the first error. */
static int deliver_write(const char *args, uint64_t pfn)
{
	char one[600];
	for (const char *p = args; *p;) {
		const char *sep = strstr(p, " ;; ");
		size_t len = sep ? (size_t)(sep - p) : strlen(p);
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		int err = write_one(one, pfn);
		if (err)
			return err;
		p += len + (sep ? 4 : 0);
	}
	return 0;
}

/* Ask slot s's process for op on its page i; its answer, or ANS_NONE after timeout_ms. */
static int request(int s, int op, int i, int want, long timeout_ms)
{
	struct slot *sl = &mb->slot[s];
	uint32_t seq = sl->req_seq + 1;
	int pid = sl->pid;
	sl->req_op = op;
	sl->req_page = i;
	__atomic_store_n(&sl->req_seq, seq, __ATOMIC_RELEASE);
	for (long end = now_ms() + timeout_ms; now_ms() < end && sl->pid == pid; sleep_ms(1)) {
		int ans = sl->ans;
		if (__atomic_load_n(&sl->ans_seq, __ATOMIC_ACQUIRE) == seq &&
		    (!want || ans == want || ans != ANS_READY))
			return ans;
	}
	return ANS_NONE;
}

static const char *answer_name(int a)
{
	static const char *const names[] = {"none", "done", "ready", "got_ar", "timeout", "failed"};
	return a >= 0 && a <= ANS_FAILED ? names[a] : "?";
}

static void reap_heads(int stopping);

/* An SRAR at a process reading its page: it says when it spins, the host injects. */
static const char *deliver_srar(int idx, const struct target *t, const char *mcg)
{
	struct slot *sl = &mb->slot[t->slot];
	int ans = request(t->slot, REQ_SRAR, t->index, ANS_READY, WAIT_ANSWER_MS);
	if (ans != ANS_READY)
		return answer_name(ans);
	say("@srar %d pid=%d pfn=%x mcg=%s lo=%x hi=%x", idx, sl->pid, sl->ans_pfn, mcg,
	    mb->reader_lo, mb->reader_hi);
	uint32_t seq = sl->req_seq;
	int pid = sl->pid;
	for (long end = now_ms() + WAIT_READER_MS; now_ms() < end; sleep_ms(2)) {
		reap_heads(0); /* a head that dies is ours to notice */
		if (sl->pid != pid)
			return "killed";
		if (sl->ans_seq == seq && sl->ans != ANS_READY)
			return answer_name(sl->ans);
	}
	return "no_answer";
}

struct books {
	long events, settled, ce;
	long mc_in; /* CPUs inside the machine-check handler (MCG_STATUS.MCIP set) */
};

static void take_books(struct books *b)
{
	b->events = b->settled = b->ce = b->mc_in = -1;
	if (read_text("/sys/kernel/debug/hwpoison/stats") > 0) {
		b->events = value_of("events");
		b->settled = value_of("recovered") + value_of("delayed") + value_of("ignored") +
			     value_of("failed") + value_of("already_poisoned");
	}
	if (read_text("/sys/kernel/debug/mce/counters") > 0) {
		b->ce = value_of("grade_KEEP");
		b->mc_in = value_of("mc_events") - value_of("mc_done");
	}
}

/* Wait until no CPU is inside the machine-check handler: a machine check that reaches a CPU
 * whose MCG_STATUS.MCIP is still set shuts it down (QEMU resets the machine), so the next
 * injection waits for every CPU to have left the last one. A CPU that never leaves is a
 * hang: STUCK. */
static void wait_mc_quiet(int idx)
{
	struct books b;
	for (long end = now_ms() + WAIT_MF_MS; now_ms() < end; sleep_ms(2)) {
		take_books(&b);
		if (b.mc_in <= 0)
			return;
	}
	say("STUCK mc %d: %d CPU(s) still in the machine-check handler", idx, (int)b.mc_in);
}

/* The per-CPU counts of the MCP row of /proc/interrupts (polls begun) into out; how many
 * CPUs, or -1. */
static int poll_counts(long *out, int max)
{
	if (read_text("/proc/interrupts") <= 0)
		return -1;
	char *p = strstr(text, "MCP:");
	int n = 0;
	for (p = p ? p + 4 : NULL; p && n < max; n++) {
		char *end;
		out[n] = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
	}
	return p ? n : -1;
}

/* QEMU's broadcast (the monitor's `mce -b`) writes VAL|UC into bank 1 of every other CPU. Their
 * handlers leave such a record to the poller, as Linux's do, and until it has been polled the
 * bank is taken: a corrected error QEMU puts there is lost (it only sets OVER), and an
 * uncorrected one overflows it (a panic). Real hardware leaves no such record behind, so the
 * next injection waits until every CPU has begun a poll since this one's machine checks. */
static void wait_broadcast_polled(int idx)
{
	long before[MAX_CPUS], now[MAX_CPUS];
	int n = poll_counts(before, MAX_CPUS);
	for (long end = now_ms() + WAIT_CE_MS; n > 1 && now_ms() < end; sleep_ms(5)) {
		int k = poll_counts(now, MAX_CPUS), behind = 0;
		for (int c = 0; c < n && c < k; c++)
			behind += now[c] <= before[c];
		if (k == n && !behind)
			return;
	}
	if (n > 1)
		say("EV %d poll late: a CPU has not polled its banks", idx);
}

/* Wait until the kernel has dealt with the error: memory_failure ran to its outcome (mf), or
 * the poller logged the corrected error (ce). */
static const char *settle_wait(const char *what, const struct books *before)
{
	long limit = !strcmp(what, "ce") ? WAIT_CE_MS : WAIT_MF_MS;
	if (!strcmp(what, "none"))
		return "ok";
	for (long end = now_ms() + limit; now_ms() < end; sleep_ms(2)) {
		struct books b;
		take_books(&b);
		note_slots();
		if (!strcmp(what, "ce") ? b.ce > before->ce
					: b.events > before->events && b.events == b.settled)
			return "ok";
	}
	return "timeout";
}

/* An EINJ line armed to wait for a load (notrigger 1) that nobody made: say who maps the
 * frame (the judge holds a mapper that never read it against the kernel), then let the patrol
 * scrubber find it (the same injection with notrigger 0). So no armed line outlives its event:
 * a frame freed with one would poison whoever got it next, the kernel included, as real
 * poison would; only the scrubber finds such a line on a real server. */
static const char *scrub(int idx, const char *args, uint64_t pfn, const struct books *before)
{
	char again[600];
	struct frame_info_rec r = {0};
	read_info(pfn, &r);
	say("EV %d unconsumed pfn=%x state=%u tasks=%u pids=%u..%u", idx, pfn, r.state,
	    r.nr_tasks, r.min_pid, r.max_pid);
	snprintf(again, sizeof(again), "%s", args);
	char *nt = strstr(again, "notrigger 1");
	if (!nt)
		return "timeout";
	nt[strlen("notrigger ")] = '0';
	return deliver_write(again, pfn) ? "timeout" : settle_wait("mf", before);
}

static void run_event(char *line)
{
	int idx, delay, skip = 0;
	char spec[64], wait[16], how[16];
	if (sscanf(line, "event %d %d %63s %15s %15s %n", &idx, &delay, spec, wait, how, &skip) < 5)
		return;
	const char *args = skip ? line + skip : "";
	sleep_ms(delay);
	note_slots();
	struct target t;
	if (pick(spec, &t)) {
		say("EV %d skip no target %s", idx, spec);
		return;
	}
	struct frame_info_rec r = {0};
	read_info(t.pfn, &r);
	say("EV %d sel %s pfn=%x state=%u flags=%x pids=%d..%d slot=%d index=%d via=%s", idx, spec,
	    t.pfn, r.state, r.flags, r.min_pid, r.max_pid, t.slot, t.index, how);
	struct books before;
	take_books(&before);
	const char *res = "ok";
	if (!strcmp(how, "write")) {
		int err = deliver_write(args, t.pfn);
		res = err ? "write_failed" : "ok";
		if (err)
			say("EV %d write error %d", idx, err);
	} else if (!strcmp(how, "hmp")) {
		char cmd[300];
		fill_in(cmd, sizeof(cmd), args, t.pfn);
		say("@hmp %d %s", idx, cmd);
	} else if (!strcmp(how, "madvise") && t.slot >= 0) {
		res = answer_name(request(t.slot, REQ_MADVISE, t.index, 0, WAIT_ANSWER_MS));
		res = !strcmp(res, "done") ? "ok" : res;
		say("EV %d madvised pid=%d pfn=%x", idx, mb->slot[t.slot].pid,
		    mb->slot[t.slot].ans_pfn);
	} else if (!strcmp(how, "srar") && t.slot >= 0) {
		res = deliver_srar(idx, &t, args[0] ? args : "0x7");
	} else {
		res = "bad_delivery";
	}
	const char *settled = settle_wait(
	    strcmp(res, "ok") && strcmp(res, "got_ar") && strcmp(res, "killed") ? "none" : wait,
	    &before);
	if (!strcmp(how, "write") && !strcmp(settled, "timeout") && strstr(args, "notrigger 1"))
		settled = scrub(idx, args, t.pfn, &before);
	wait_mc_quiet(idx);
	if ((!strcmp(how, "hmp") && strstr(args, " -b ")) || !strcmp(how, "srar"))
		wait_broadcast_polled(idx);
	say("EV %d done %s %s", idx, res, settled);
}

/* ---- set-up and the end ---- */

/* Write every stack page from stack_floor up to here: the same pages, whatever the depth of the
 * caller, so that no later call takes a stack page the start's books did not count. */
__attribute__((noinline)) static void own_stack(void)
{
	char here;
	size_t depth = ((uintptr_t)&here - (uintptr_t)stack_floor) & ~(size_t)(PG - 1);
	volatile char *low = __builtin_alloca(depth);
	for (size_t i = 0; i < depth; i += PG)
		low[i] = 0;
}

/* Make every page of the agent its own: read each mapped page, and write back each page of a
 * private writable one, the stack down to stack_floor included. After a fork (which shares them all
 * copy-on-write with the new head) this breaks copy-on-write at once, so that the agent
 * takes no new frame later, in the middle of an event: a frame picked while free could be
 * the agent's by the time the error lands, and the agent is never a target. */
__attribute__((noinline)) static void own_every_page(void)
{
	static char maps[sizeof(text)];
	own_stack();
	if (read_text("/proc/self/maps") <= 0)
		return;
	memcpy(maps, text, sizeof(maps));
	char *p = maps, *line;
	while ((line = next_line(&p))) {
		unsigned long lo, hi;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 || perm[0] != 'r' ||
		    strstr(line, "[stack]"))
			continue;
		for (unsigned long a = lo; a < hi; a += PG) {
			volatile char *c = (volatile char *)a;
			char v = *c;
			if (perm[1] == 'w' && perm[3] == 'p')
				*c = v;
		}
	}
}

/* Fault in everything the agent will ever touch (its program, data, a deep stack and the
 * mailbox), so that the books taken at the start and at the end differ by nothing of ours. */
static void warm_up(void)
{
	own_every_page();
	memset((void *)mb, 0, sizeof(*mb));
	memset(states, 0, sizeof(states));
	memset(text, 0, sizeof(text));
	read_text("/proc/meminfo");
	take_books(&(struct books){0});
	say("CAMPAIGN warm");
}

static void load_state_names(void)
{
	if (read_text(DBG "frame_state_names") <= 0)
		return;
	say_lines("STATE");
	for (char *p = text; *p;) {
		int i, n = 0;
		char name[48];
		if (sscanf(p, "%d %n", &i, &n) == 1 && i >= 0 && i < MAX_STATES) {
			char *nl = strchr(p + n, '\n');
			size_t len = nl ? (size_t)(nl - p - n) : strlen(p + n);
			snprintf(name, sizeof(name), "%.*s", (int)len, p + n);
			memcpy(state_name[i], name, sizeof(name));
		}
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
}

static pid_t start_family(int f)
{
	pid_t pid = fork();
	if (pid == 0)
		family_head(mb, &shape, f);
	own_every_page();
	return pid;
}

/* Restart a family whose head died (its children notice and exit). */
static void reap_heads(int stopping)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int f = 0; f < shape.families; f++) {
			if (heads[f] != pid)
				continue;
			for (int m = 0; m < MAX_MEMBERS; m++)
				mb->slot[f * MAX_MEMBERS + m].pid = 0;
			heads[f] = stopping ? 0 : start_family(f);
			say("RESTART %d 0 %d %d %d", f, pid,
			    WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status),
			    heads[f]);
		}
	}
}

static void stop_workload(void)
{
	mb->stop = 1;
	long end = now_ms() + WAIT_EXIT_MS;
	for (int f = 0; f < shape.families; f++) {
		while (heads[f] > 0 && now_ms() < end) {
			reap_heads(1);
			sleep_ms(5);
		}
		if (heads[f] > 0)
			say("STUCK head %d of family %d", heads[f], f);
	}
	note_slots();
	for (int i = 0; i < nseen; i++) { /* orphans are init's to reap */
		while (kill(seen_pids[i], 0) == 0 && now_ms() < end)
			sleep_ms(5);
		if (kill(seen_pids[i], 0) == 0)
			say("STUCK %d", seen_pids[i]);
	}
}

extern char reader_spin[], reader_spin_end[];

int main(void)
{
	char top;
	stack_floor = (char *)((uintptr_t)&top - STACK_OWNED);
	self = getpid();
	if (load_plan()) {
		say("CAMPAIGN error no plan at %s", PLAN_PATH);
		return 2;
	}
	char *events = parse_header(plan);
	mb = mmap(NULL, sizeof(*mb), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd_state = open(DBG "frame_state", O_RDONLY);
	fd_info = open(DBG "frame_info", O_RDONLY);
	if (mb == MAP_FAILED || fd_state < 0 || fd_info < 0 || shape.families > MAX_FAMILIES ||
	    shape.members > MAX_MEMBERS || shape.priv_pages > MAX_PRIV ||
	    shape.shared_pages > MAX_SHARED || shape.file_pages > MAX_FILE) {
		say("CAMPAIGN error set-up (%d)", errno);
		return 2;
	}
	frames = read_text(DBG "frame_accounting") > 0 ? value_of("frames") : -1;
	if (frames <= 0 || frames > MAX_FRAMES) {
		say("CAMPAIGN error frame count %d", (int)frames);
		return 2;
	}
	load_state_names();
	warm_up();
	mb->reader_lo = (uintptr_t)reader_spin;
	mb->reader_hi = (uintptr_t)reader_spin_end;
	account("start");
	check("mid");
	for (int f = 0; f < shape.families; f++)
		heads[f] = start_family(f);
	say("CAMPAIGN start agent=%d families=%d frames=%d", self, shape.families, (int)frames);
	int done = 0;
	for (char *line; (line = next_line(&events));) {
		if (strncmp(line, "event ", 6))
			continue;
		run_event(line);
		reap_heads(0);
		if (++done % check_every == 0)
			check("mid");
	}
	stop_workload();
	account("end");
	check("end");
	list_poisoned();
	say("CAMPAIGN end events=%d", done);
	return 0;
}
