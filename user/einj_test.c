/* einj_test: memory-error recovery through ACPI EINJ (/sys/kernel/debug/apei/einj/), the
 * thirteen cases of ras-tools' einj_mem_uc (single, double, split, THP, store, memcpy, instr,
 * patrol, llc, copyin, copyout, futex, mlock) plus a corrected error, each checked as a Linux
 * program sees it: the signal, si_code, si_addr and si_addr_lsb; the MCE and THR counts of
 * /proc/interrupts before and after (when the kernel has that file); that the page is offline
 * afterwards (/proc/self/pagemap and /proc/kpageflags); the syscall's result when the kernel
 * consumes the poison. A forked bystander maps the same page and spins (or sleeps): under early
 * kill it must get BUS_MCEERR_AO when the page is lost, under late kill nothing.
 * It works with either EINJ backend: MCRK's poison emulator (QEMU) or the platform's firmware
 * (a real server, MCRK or Linux as root), and says which it has. A case whose kernel feature
 * is missing says "waiting for <feature>" and is not counted as passed.
 * Usage: einj_test [early|late]+[spin|sleep]+[CASE...] (words joined by '+', since /init passes
 * one argument); no case: every case but those that end the machine (fatal, kpanic). */
#define _GNU_SOURCE
#include "utest.h"
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define EINJ "/sys/kernel/debug/apei/einj/"
#define PG 4096
#define LINE 64
#define TYPE_PROC_UC 0x2
#define TYPE_MEM_CE 0x8
#define TYPE_MEM_UC 0x10
#define TYPE_MEM_FATAL 0x20
#define FLAG_APICID 0x1
#define FLAG_MEM 0x2
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_PFN ((1ull << 55) - 1)
#define KPF_HWPOISON (1ull << 19)
#define OFFLINE_WAIT_MS 4000

static struct {
	int early, spin, ncpus;
	char backend[32];
} opt;

/* ---- what the kernel shows ---- */

struct counts {
	long mce, thr;
	int have; /* /proc/interrupts has MCE: and THR: rows */
};

/* The sum of a /proc/interrupts row's per-CPU numbers; -1 when the row is missing. */
static long irq_row(const char *text, const char *name)
{
	const char *p = text;
	long sum = 0;

	while ((p = strstr(p, name)) && p != text && p[-1] != ' ' && p[-1] != '\n')
		p++;
	if (!p)
		return -1;
	p += strlen(name);
	for (int i = 0; i < opt.ncpus; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		sum += v;
		p = end;
	}
	return sum;
}

static void read_counts(struct counts *c)
{
	static char buf[16384];

	c->have = utest_read_file("/proc/interrupts", buf, sizeof buf) > 0;
	c->mce = c->have ? irq_row(buf, "MCE:") : -1;
	c->thr = c->have ? irq_row(buf, "THR:") : -1;
	c->have = c->mce >= 0 && c->thr >= 0;
}

/* CPUs: the CPUn columns of /proc/interrupts (0 without the file: the counts it gives are
 * all this number is for). */
static int count_cpus(void)
{
	char buf[4096];
	int n = 0;

	if (utest_read_file("/proc/interrupts", buf, sizeof buf) > 0)
		for (const char *p = buf; (p = strstr(p, "CPU")) && p < strchr(buf, '\n'); p++)
			n++;
	return n;
}

static uint64_t pfn_of(const void *va)
{
	uint64_t e = utest_pagemap(va);
	return (e & PM_PRESENT) ? (e & PM_PFN) : 0;
}

static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t f = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd >= 0 && pread(fd, &f, 8, (off_t)(pfn * 8)) != 8)
		f = 0;
	if (fd >= 0)
		close(fd);
	return f;
}

static long long counter(const char *name) /* MCRK's machine-check counters, or -1 */
{
	char buf[4096], key[64];
	const char *p;

	if (utest_read_file("/sys/kernel/debug/mce/counters", buf, sizeof buf) <= 0)
		return -1;
	snprintf(key, sizeof key, "\n%s ", name);
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key)) : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Whether the frame pfn that va mapped went offline: poisoned, and va no longer maps it (a
 * poison entry, or for a dropped file page nothing or a fresh frame). Waits for a recovery
 * that runs after the syscall or signal that reported it. */
static int offline(const void *va, uint64_t pfn)
{
	for (int ms = 0; ms < OFFLINE_WAIT_MS; ms += 10) {
		uint64_t e = utest_pagemap(va);
		if ((kpageflags(pfn) & KPF_HWPOISON) &&
		    (!(e & PM_PRESENT) || (e & PM_PFN) != pfn))
			return 1;
		sleep_ms(10);
	}
	return 0;
}

/* ---- injecting ---- */

static int put(const char *file, unsigned long long v)
{
	char path[128], val[32];

	snprintf(path, sizeof path, EINJ "%s", file);
	snprintf(val, sizeof val, "%#llx\n", v);
	return utest_write_file(path, val);
}

/* Inject type at physical address pa as einj_mem_uc does (mask: the whole address). */
static int inject(unsigned type, uint64_t pa, unsigned flags, uint64_t apicid, int notrigger)
{
	int err = put("error_type", type);

	if (!err)
		err = put("param1", pa);
	if (!err)
		err = put("param2", ~0ull);
	if (!err && (flags & FLAG_APICID))
		err = put("param3", apicid);
	if (!err)
		err = put("flags", flags);
	if (!err)
		err = put("notrigger", (unsigned)notrigger);
	if (!err)
		err = put("error_inject", 1);
	if (err)
		printf("einj_test: injecting type %#x at %#llx failed: %s\n", type,
		       (unsigned long long)pa, strerror(-err));
	return err;
}

static uint64_t phys(const void *va) { return pfn_of(va) * PG + (uintptr_t)va % PG; }

/* ---- signals ---- */

static sigjmp_buf jb;
static volatile int sig_count, sig_code, sig_lsb, sig_jump;
static void *volatile sig_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	sig_count++;
	sig_code = si->si_code;
	sig_addr = si->si_addr;
	sig_lsb = si->si_addr_lsb;
	if (sig_jump)
		siglongjmp(jb, 1);
}

static void catch_sigbus(int jump)
{
	struct sigaction sa = {0};

	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sig_count = sig_code = sig_lsb = 0;
	sig_addr = NULL;
	sig_jump = jump;
}

/* ---- the bystander: another process that maps the page ---- */

struct ctl {
	volatile int ready, stop, got, code, lsb;
	void *volatile addr;
};
static struct ctl *ctl;

static void bystander_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	ctl->code = si->si_code;
	ctl->addr = si->si_addr;
	ctl->lsb = si->si_addr_lsb;
	ctl->got++;
}

/* A child that maps page (touched), then spins without syscalls or sleeps until told. */
static pid_t bystander_start(char *page)
{
	pid_t pid;

	memset(ctl, 0, sizeof *ctl);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {0};
		sa.sa_sigaction = bystander_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGBUS, &sa, NULL);
		(void)*(volatile char *)page;
		ctl->ready = 1;
		while (!ctl->stop)
			if (!opt.spin)
				sleep_ms(1);
		_exit(0);
	}
	while (pid > 0 && !ctl->ready)
		sleep_ms(1);
	return pid;
}

/* Stop the bystander; it must have got BUS_MCEERR_AO at page when expect_ao, else nothing. */
static void bystander_check(pid_t pid, char *page, int expect_ao)
{
	int st = 0;

	for (int ms = 0; expect_ao && !ctl->got && ms < OFFLINE_WAIT_MS; ms += 10)
		sleep_ms(10);
	ctl->stop = 1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st));
	if (expect_ao)
		CHECK(ctl->got == 1 && ctl->code == BUS_MCEERR_AO && ctl->addr == page &&
		      ctl->lsb == 12);
	else
		CHECK(ctl->got == 0);
	printf("einj_test:   bystander (%s): %s\n", opt.spin ? "spinning" : "sleeping",
	       ctl->got ? (ctl->code == BUS_MCEERR_AO ? "SIGBUS BUS_MCEERR_AO" : "SIGBUS") : "no signal");
}

/* ---- checks shared by the cases ---- */

/* One machine-check event: every CPU counts it when it was broadcast, one when local. */
static void check_mce(const char *name, const struct counts *b, const struct counts *a, int events)
{
	if (!b->have || !a->have) {
		printf("einj_test:   %s: no MCE/THR rows in /proc/interrupts: counts not checked\n",
		       name);
		return;
	}
	long d = a->mce - b->mce;
	CHECK(events ? d == (long)events * opt.ncpus || d == events : d == 0);
	printf("einj_test:   MCE %+ld (%s), THR %+ld\n", d,
	       d == opt.ncpus && d > 1 ? "broadcast" : d == 1 ? "one CPU" : "none",
	       a->thr - b->thr);
}

static char *fresh_page(void)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (int i = 0; i < PG; i++)
		p[i] = (char)(i * 7 + 1);
	return p;
}

/* What a case's page went through, reported and checked alike. */
struct outcome {
	int sigs, code, lsb;
	void *addr;
};

/* The outcome so far. With want_ao, under early kill, first wait for the AO signal that
 * memory_failure sends right after it unmapped the page (offline a moment before). */
static void take_signal(struct outcome *o, int want_ao)
{
	for (int ms = 0; want_ao && opt.early && !sig_count && ms < OFFLINE_WAIT_MS; ms += 10)
		sleep_ms(10);
	o->sigs = sig_count;
	o->code = sig_code;
	o->addr = sig_addr;
	o->lsb = sig_lsb;
	if (!o->sigs)
		printf("einj_test:   no signal\n");
	else
		printf("einj_test:   SIGBUS %s at %p, lsb %d (%d signal%s)\n",
		       o->code == BUS_MCEERR_AR   ? "BUS_MCEERR_AR"
		       : o->code == BUS_MCEERR_AO ? "BUS_MCEERR_AO"
						  : "(other code)",
		       o->addr, o->lsb, o->sigs, o->sigs == 1 ? "" : "s");
}

/* The consumer got BUS_MCEERR_AR at page, once. */
static void expect_ar(const struct outcome *o, char *page)
{
	CHECK(o->sigs == 1 && o->code == BUS_MCEERR_AR && o->addr == page && o->lsb == 12);
}

/* Nobody consumed it: BUS_MCEERR_AO at page under early kill, else no signal. */
static void expect_ao_if_early(const struct outcome *o, char *page)
{
	if (opt.early)
		CHECK(o->sigs == 1 && o->code == BUS_MCEERR_AO && o->addr == page && o->lsb == 12);
	else
		CHECK(o->sigs == 0);
}

static void check_offline(char *page, uint64_t pfn)
{
	int off = offline(page, pfn);

	CHECK(off);
	printf("einj_test:   page %p (pfn %#llx) %s\n", (void *)page, (unsigned long long)pfn,
	       off ? "offline: poisoned, no longer mapped" : "STILL ONLINE");
}

/* ---- the triggers (what einj_mem_uc does to the poisoned address) ---- */

static int trigger_single(char *a) { return *(volatile char *)a; }
static int trigger_double(char *a) { return ((volatile char *)a)[0] + ((volatile char *)a)[1]; }
static int trigger_split(char *a) { return (int)*(volatile long *)(a - 1); } /* good -> bad line */
static int trigger_memcpy(char *a)
{
	memcpy(a + PG / 2, a, 512); /* from the bad line to another line of the same page */
	return 0;
}

/* A data consumer in user mode: SIGBUS BUS_MCEERR_AR at the page, one machine check, the page
 * offline, and the bystander told under early kill. */
static void consume(const char *name, int (*trigger)(char *), char *page)
{
	char *addr = page + PG / 4;
	uint64_t pfn = pfn_of(page);
	struct counts b, a;
	struct outcome o;
	pid_t by = bystander_start(page);

	read_counts(&b);
	catch_sigbus(1);
	if (sigsetjmp(jb, 1) == 0) {
		CHECK(inject(TYPE_MEM_UC, phys(addr), FLAG_MEM, 0, 1) == 0);
		trigger(addr);
		CHECK(!"the load of the poisoned line must raise SIGBUS");
	}
	read_counts(&a);
	take_signal(&o, 0);
	expect_ar(&o, page);
	check_mce(name, &b, &a, 1);
	check_offline(page, pfn);
	bystander_check(by, page, opt.early);
}

static void data_case(const char *name, int (*trigger)(char *))
{
	char *p = fresh_page();

	CHECK(p != NULL);
	if (p)
		consume(name, trigger, p);
	munmap(p, PG);
}

static void case_single(void) { data_case("single", trigger_single); }
static void case_double(void) { data_case("double", trigger_double); }
static void case_split(void) { data_case("split", trigger_split); }
static void case_memcpy(void) { data_case("memcpy", trigger_memcpy); }

static void case_mlock(void)
{
	char *p = fresh_page();

	CHECK(p && mlock(p, PG) == 0);
	if (p)
		consume("mlock", trigger_single, p);
	munmap(p, PG);
}

/* THP: a huge page, poisoned in its middle. */
static void case_thp(void)
{
	size_t len = 4u << 20;
	char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *huge = (char *)(((uintptr_t)raw + (2u << 20) - 1) & ~((2ul << 20) - 1));

	CHECK(raw != MAP_FAILED && madvise(huge, 2u << 20, MADV_HUGEPAGE) == 0);
	memset(huge, 0x5a, 2u << 20);
	consume("THP", trigger_single, huge + (1u << 20));
	munmap(raw, len);
}

/* This CPU's APIC id from /proc/cpuinfo, or 0 (the boot CPU's on QEMU) without one. */
static unsigned long my_apicid(void)
{
	static char buf[65536];
	int cpu = sched_getcpu();
	const char *p = buf;

	if (utest_read_file("/proc/cpuinfo", buf, sizeof buf) <= 0 || cpu < 0)
		return 0;
	for (int i = 0; i <= cpu && p; i++)
		if ((p = strstr(p, "apicid")))
			p += 6;
	p = p ? strchr(p, ':') : NULL;
	return p ? strtoul(p + 1, NULL, 0) : 0;
}

/* A page lost without the program consuming it (the kernel did, or the error was reported
 * otherwise): after act, the page goes offline; the program and the bystander get
 * BUS_MCEERR_AO under early kill and nothing under late kill; mce_events machine checks. */
struct lost {
	const char *name;
	unsigned type, flags;
	int notrigger, mce_events;
	void (*act)(char *addr); /* what the program does once it has injected */
};

static void lost_case(const struct lost *l)
{
	char *p = fresh_page(), *addr = p + PG / 4;
	uint64_t pfn = pfn_of(p);
	struct counts b, a;
	struct outcome o;
	pid_t by = bystander_start(p);

	read_counts(&b);
	catch_sigbus(0);
	CHECK(inject(l->type, phys(addr), l->flags, my_apicid(), l->notrigger) == 0);
	if (l->act)
		l->act(addr);
	check_offline(p, pfn);
	read_counts(&a);
	take_signal(&o, 1);
	expect_ao_if_early(&o, p);
	check_mce(l->name, &b, &a, l->mce_events);
	bystander_check(by, p, opt.early);
	munmap(p, PG);
}

/* A store completes; the L2 reports a UCNA (CMCI or the poller), no machine check. */
static void store_to(char *addr)
{
	long long ucna = counter("grade_UCNA");

	*(volatile char *)addr = 'a';
	for (int ms = 0; ucna >= 0 && counter("grade_UCNA") <= ucna && ms < OFFLINE_WAIT_MS; ms += 10)
		sleep_ms(10);
	if (ucna >= 0)
		CHECK(counter("grade_UCNA") > ucna);
}

/* A processor error (type 0x2) sits in the cache until its write-back (CLFLUSH here; the
 * emulator writes it back by itself, not seeing CLFLUSH) reports SRAO 0x17A. */
static void flush(char *addr) { __asm__ volatile("clflush %0" : "+m"(*addr)); }

/* The kernel reads the poison while copying from user (write(2)): the copy fails, write
 * returns -EFAULT (nothing was copied), and the task is not signalled for it. */
static void write_from(char *addr)
{
	ssize_t n;

	errno = 0;
	n = write(1, addr, 512);
	printf("einj_test:   write(2) from the poisoned buffer: %zd (%s)\n", n, strerror(errno));
	CHECK(n == -1 && errno == EFAULT);
}

/* get_user in futex(2) on a poisoned word: -EFAULT, as for write(2). */
static void futex_on(char *addr)
{
	long r;

	errno = 0;
	r = syscall(SYS_futex, (int *)addr, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
	printf("einj_test:   futex on the poisoned word: %ld (%s)\n", r, strerror(errno));
	CHECK(r == -1 && errno == EFAULT);
}

static void case_store(void) { lost_case(&(struct lost){"store", TYPE_MEM_UC, FLAG_MEM, 1, 0, store_to}); }
/* Patrol scrub: with notrigger 0 the error is found at once (SRAO), before anyone reads it. */
static void case_patrol(void) { lost_case(&(struct lost){"patrol", TYPE_MEM_UC, FLAG_MEM, 0, 1, NULL}); }
static void case_llc(void)
{
	lost_case(&(struct lost){"llc", TYPE_PROC_UC, FLAG_APICID | FLAG_MEM, 1, 1, flush});
}
static void case_copyin(void) { lost_case(&(struct lost){"copyin", TYPE_MEM_UC, FLAG_MEM, 1, 1, write_from}); }
static void case_futex(void) { lost_case(&(struct lost){"futex", TYPE_MEM_UC, FLAG_MEM, 1, 1, futex_on}); }

/* read(2) of a poisoned page-cache page: the copy to user fails (short or -EFAULT). */
static void case_copyout(void)
{
	char name[] = "/tmp/einj-XXXXXX", buf[PG];
	int fd = mkstemp(name);
	char *p;
	uint64_t pfn;
	struct counts b, a;
	ssize_t n;

	CHECK(fd >= 0);
	unlink(name);
	memset(buf, 0x33, sizeof buf);
	CHECK(write(fd, buf, PG) == PG);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	pfn = pfn_of(p);
	read_counts(&b);
	catch_sigbus(0);
	CHECK(inject(TYPE_MEM_UC, phys(p + PG / 4), FLAG_MEM, 0, 1) == 0);
	n = pread(fd, buf, PG, 0);
	printf("einj_test:   read(2) of the poisoned page-cache page: %zd (%s)\n", n,
	       strerror(errno));
	CHECK(n < PG);
	check_offline(p, pfn);
	read_counts(&a);
	check_mce("copyout", &b, &a, 1);
	munmap(p, PG);
	close(fd);
}

/* Straight-line code over several pages (each statement ~15 bytes; 729 of them). */
#define REP9(s) s; s; s; s; s; s; s; s; s
static volatile int vol;
__attribute__((noinline, aligned(PG))) static int dosums(void)
{
	vol = 0;
	REP9(REP9(REP9(vol++)));
	return vol;
}

/* An instruction fetch from a poisoned line of a clean text page: the page is dropped and read
 * again from the program file, and the program runs on without a signal. */
static void case_instr(void)
{
	char *text = (char *)(((uintptr_t)dosums + 2 * PG) & ~(uintptr_t)(PG - 1));
	uint64_t pfn;
	struct counts b, a;
	struct outcome o;
	int sum;

	CHECK(dosums() == 729); /* and the text page is present */
	pfn = pfn_of(text);
	read_counts(&b);
	catch_sigbus(0);
	CHECK(inject(TYPE_MEM_UC, phys(text), FLAG_MEM, 0, 1) == 0);
	sum = dosums();
	read_counts(&a);
	take_signal(&o, 0);
	CHECK(sum == 729 && o.sigs == 0);
	printf("einj_test:   dosums() = %d after the fetch\n", sum);
	check_mce("instr", &b, &a, 1);
	CHECK(kpageflags(pfn) & KPF_HWPOISON);
	CHECK(pfn_of(text) != pfn); /* read again into another frame */
	printf("einj_test:   text page pfn %#llx poisoned, now pfn %#llx\n",
	       (unsigned long long)pfn, (unsigned long long)pfn_of(text));
}

/* A corrected memory error: reported (CMCI or poller), the data intact, the page kept. */
static void case_ce(void)
{
	char *p = fresh_page(), *addr = p + PG / 4;
	uint64_t pfn = pfn_of(p);
	long long recs = counter("records");
	struct counts b, a;
	char want = addr[0], got;

	read_counts(&b);
	catch_sigbus(0);
	CHECK(inject(TYPE_MEM_CE, phys(addr), FLAG_MEM, 0, 1) == 0);
	got = *(volatile char *)addr;
	CHECK(got == want && sig_count == 0);
	for (int ms = 0; recs >= 0 && counter("records") <= recs && ms < OFFLINE_WAIT_MS; ms += 10)
		sleep_ms(10);
	if (recs >= 0)
		CHECK(counter("records") > recs);
	read_counts(&a);
	check_mce("ce", &b, &a, 0);
	CHECK(pfn_of(p) == pfn && !(kpageflags(pfn) & KPF_HWPOISON));
	printf("einj_test:   corrected; data intact, page %p still pfn %#llx\n", (void *)p,
	       (unsigned long long)pfn_of(p));
	munmap(p, PG);
}

/* A fatal memory error: the machine check has PCC and the kernel panics. Runs alone. */
static void case_fatal(void)
{
	char *p = fresh_page(), *addr = p + PG / 4;

	CHECK(inject(TYPE_MEM_FATAL, phys(addr), FLAG_MEM, 0, 1) == 0);
	printf("einj_test:   reading the line now: the kernel must panic\n");
	fflush(stdout);
	(void)*(volatile char *)addr;
	CHECK(!"still running after a fatal error");
}

/* The kernel itself reads the poison outside any user copy (the copy of a copy-on-write page
 * after fork): "Data load in unrecoverable area of kernel", a panic. Runs alone. */
static void case_kpanic(void)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	memset(p, 0x11, PG);
	CHECK(inject(TYPE_MEM_UC, phys(p + PG / 4), FLAG_MEM, 0, 1) == 0);
	pid = fork();
	if (pid == 0) {
		sleep_ms(60000);
		_exit(0);
	}
	printf("einj_test:   writing the shared page: the kernel copies it and must panic\n");
	fflush(stdout);
	p[0] = 2;
	CHECK(!"still running after the kernel read poison");
}

/* ---- what the kernel lacks ---- */

static const char *need_thp(void)
{
	return utest_can_open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY)
		       ? NULL : "transparent huge pages (the huge-pages issue)";
}

static const char *need_files(void)
{
	char name[] = "/tmp/einj-probe-XXXXXX";
	int fd = mkstemp(name);

	if (fd < 0)
		return "writable files in the page cache (the files issue)";
	close(fd);
	unlink(name);
	return NULL;
}

static const char *need_futex(void)
{
	int word = 0;

	errno = 0;
	syscall(SYS_futex, &word, 0 /* FUTEX_WAIT */, 1, NULL, NULL, 0); /* EAGAIN: 0 != 1 */
	return errno == ENOSYS ? "futex(2) (the threads issue)" : NULL;
}

static const char *need_mlock(void)
{
	static char page[PG] __attribute__((aligned(PG)));

	errno = 0;
	if (mlock(page, PG) == 0) {
		munlock(page, PG);
		return NULL;
	}
	return errno == ENOSYS ? "mlock(2)" : NULL;
}

struct ecase {
	const char *name, *what;
	void (*run)(void);
	const char *(*needs)(void); /* NULL, or what is missing */
	int alone;		    /* ends the machine: only when named */
};

static const struct ecase cases[] = {
    {"single", "one load of the poisoned line: SRAR, SIGBUS", case_single, NULL, 0},
    {"double", "two loads in a row: one SRAR, SIGBUS", case_double, NULL, 0},
    {"split", "a load from a good line into the bad one: SRAR, SIGBUS", case_split, NULL, 0},
    {"THP", "a load in a transparent huge page: SRAR, SIGBUS", case_thp, need_thp, 0},
    {"store", "a store: UCNA by CMCI or the poller, no #MC", case_store, NULL, 0},
    {"memcpy", "a streaming copy from the line: SRAR, SIGBUS", case_memcpy, NULL, 0},
    {"instr", "an instruction fetch: SRAR, the text page read again", case_instr, NULL, 0},
    {"patrol", "notrigger 0: the patrol scrubber finds it (SRAO)", case_patrol, NULL, 0},
    {"llc", "a processor error written back by CLFLUSH: SRAO 0x17A", case_llc, NULL, 0},
    {"copyin", "write(2) from the poisoned buffer: -EFAULT", case_copyin, NULL, 0},
    {"copyout", "read(2) of a poisoned page-cache page", case_copyout, need_files, 0},
    {"futex", "futex(2) on a poisoned word: -EFAULT", case_futex, need_futex, 0},
    {"mlock", "a load of a poisoned mlocked page: SRAR, SIGBUS", case_mlock, need_mlock, 0},
    {"ce", "a corrected error: logged, the data intact", case_ce, NULL, 0},
    {"fatal", "a fatal error: PCC, panic", case_fatal, NULL, 1},
    {"kpanic", "the kernel copies a poisoned page: panic", case_kpanic, NULL, 1},
};

static int waiting;

static void run_case(const struct ecase *c)
{
	const char *missing = c->needs ? c->needs() : NULL;
	int before = utest_failures;

	if (missing) {
		printf("einj_test: %s: waiting for %s\n", c->name, missing);
		waiting++;
		return;
	}
	printf("einj_test: %s: %s\n", c->name, c->what);
	fflush(stdout);
	c->run();
	printf("einj_test: %s: %s\n", c->name, utest_failures == before ? "ok" : "FAILED");
	fflush(stdout);
}

/* Which backend: MCRK's "backend" file, else the firmware's table means firmware EINJ. */
static int find_backend(void)
{
	if (utest_read_file(EINJ "backend", opt.backend, sizeof opt.backend) > 0) {
		opt.backend[strcspn(opt.backend, "\n")] = 0;
	} else if (utest_can_open(EINJ "error_inject", O_WRONLY)) {
		snprintf(opt.backend, sizeof opt.backend, "%s",
			 utest_can_open("/sys/firmware/acpi/tables/EINJ", O_RDONLY) ? "firmware" : "unknown");
	} else {
		printf("einj_test: no EINJ interface at " EINJ " (no table, no emulator)\n");
		return -1;
	}
	printf("einj_test: EINJ backend: %s (%s)\n", opt.backend,
	       !strcmp(opt.backend, "emulator") ? "MCRK's poison emulator"
	       : !strcmp(opt.backend, "firmware") ? "the platform's EINJ table"
						   : "?");
	return 0;
}

static int named(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, '+') ? strchr(p, '+') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '+' || !p[n]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *args = argc > 1 ? argv[1] : "";
	int any = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	opt.early = named(args, "early");
	opt.spin = named(args, "spin");
	opt.ncpus = count_cpus();
	ctl = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || find_backend())
		return 1;
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET,
		    opt.early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0) == 0);
	printf("einj_test: %s kill, a %s bystander\n", opt.early ? "early" : "late",
	       opt.spin ? "spinning" : "sleeping");
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		any |= named(args, cases[i].name);
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (any ? named(args, cases[i].name) : !cases[i].alone)
			run_case(&cases[i]);
	printf("einj_test: %d case(s) waiting for a kernel feature\n", waiting);
	DONE("einj_test");
}
