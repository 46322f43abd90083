/* memory_failure of swap cache pages (docs/memory_failure.md, docs/swap.md), with Linux 6.1's
 * outcomes: a clean swap cache page is dropped and read again from swap on the next touch, no
 * signal ("recovered"); a dirty one stays poisoned in the swap cache and its owner gets SIGBUS
 * BUS_MCEERR_AR on each touch ("delayed"), or BUS_MCEERR_AO at once with early kill.
 *
 * A page becomes swap cache by MADV_PAGEOUT and a touch: a read brings it back clean, a write
 * dirty. /proc/self/pagemap gives its frame and /proc/kpageflags must say SWAPCACHE.
 *
 * usage: mf_swap self | spin | sleep | pressure | hmp-STATE-spin | hmp-STATE-sleep
 *        (STATE clean, dirty or dirty-early; needs /dev/vdb made by mkswap)
 *   self:     each state poisoned by the owner itself, with madvise(MADV_HWPOISON) and with
 *             /sys/kernel/debug/hwpoison/corrupt-pfn;
 *   spin:     each state poisoned through corrupt-pfn by the parent while the owner, a child,
 *             spins without syscalls; sleep: while it sleeps;
 *   pressure: a child keeps memory short (1.5 times the RAM, checksummed) while the parent
 *             poisons its own swap cache pages again and again, clean and dirty;
 *   hmp-*:    prints the QEMU monitor command that poisons the page (an SRAO, memory scrub)
 *             and spins (a pagemap read every 2^20 loads) or sleeps until the error has
 *             done what it must: clean, the page read again into another frame, intact;
 *             dirty, BUS_MCEERR_AR at the next load; dirty-early, AO first. 60 s at most. */
#include "sigbus_catch.h"
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define PAGE 4096
#define KPF_SWAPCACHE 13

enum state { CLEAN, DIRTY, DIRTY_EARLY };
static const char *const state_names[] = {"clean", "dirty", "dirty-early"};

static uint64_t pagemap(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return e;
}

static uint64_t kpageflags(uint64_t pfn)
{
	uint64_t k = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);
	if (fd >= 0 && pread(fd, &k, 8, (off_t)(pfn * 8)) != 8)
		k = 0;
	if (fd >= 0)
		close(fd);
	return k;
}

static long hwcorrupted_kb(void)
{
	char buf[2048];
	read_meminfo(buf, sizeof(buf));
	return meminfo_value(buf, "HardwareCorrupted:");
}

static int corrupt_pfn(uint64_t pfn)
{
	char s[32];
	int fd = open("/sys/kernel/debug/hwpoison/corrupt-pfn", O_WRONLY);
	int len = snprintf(s, sizeof(s), "%#llx\n", (unsigned long long)pfn);
	int ok = fd >= 0 && write(fd, s, (size_t)len) == len;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static void fill(volatile uint64_t *p, uint64_t seed)
{
	for (int i = 0; i < PAGE / 8; i++)
		p[i] = seed * 1000003 + (uint64_t)i;
}

static int intact(volatile uint64_t *p, uint64_t seed)
{
	for (int i = 0; i < PAGE / 8; i++)
		if (p[i] != seed * 1000003 + (uint64_t)i)
			return 0;
	return 1;
}

/* A page in the swap cache in state st, mapped at the returned address; its frame in *pfn. */
static volatile uint64_t *make_swapcache_page(enum state st, uint64_t *pfn)
{
	volatile uint64_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	fill(p, 1);
	CHECK(madvise((void *)p, PAGE, MADV_PAGEOUT) == 0);
	CHECK((pagemap((void *)p) >> 62) == 1); /* on swap, not present */
	if (st == CLEAN)
		CHECK(intact(p, 1)); /* read back: clean */
	else
		fill(p, 2); /* written back: dirty, the swap copy stale */
	uint64_t e = pagemap((void *)p);
	*pfn = e & ((1ull << 55) - 1);
	CHECK((e >> 63) && (kpageflags(*pfn) >> KPF_SWAPCACHE & 1));
	return p;
}

/* After the poison: what a touch of p must give in state st. */
static void check_touch(volatile uint64_t *p, enum state st)
{
	int before = got_count;
	if (sigsetjmp(jb, 1) == 0)
		(void)p[7];
	if (st == CLEAN) {
		CHECK(got_count == before && intact(p, 1)); /* re-read from swap, no signal */
		return;
	}
	CHECK(got_count == before + 1 && got_code == BUS_MCEERR_AR && got_addr == (void *)p &&
	      got_lsb == 12);
	if (sigsetjmp(jb, 1) == 0)
		p[3] = 5; /* the entry still names the poisoned page: again */
	CHECK(got_count == before + 2 && got_code == BUS_MCEERR_AR);
	CHECK(madvise((void *)p, PAGE, MADV_DONTNEED) == 0); /* the program lets the page go */
	CHECK(p[0] == 0);
}

static void early(enum state st)
{
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET,
		    st == DIRTY_EARLY ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0) == 0);
}

static void self_case(enum state st, int by_pfn)
{
	uint64_t pfn;
	long hw = hwcorrupted_kb();
	early(st);
	volatile uint64_t *p = make_swapcache_page(st, &pfn);
	got_count = 0;
	if (sigsetjmp(jb, 1) == 0)
		CHECK((by_pfn ? corrupt_pfn(pfn) : madvise((void *)p, PAGE, MADV_HWPOISON)) == 0);
	if (st == DIRTY_EARLY) /* early kill: told at once, the address with it */
		CHECK(got_count == 1 && got_code == BUS_MCEERR_AO && got_addr == (void *)p);
	else
		CHECK(got_count == 0);
	CHECK(hwcorrupted_kb() == hw + 4);
	check_touch(p, st);
	printf("mf_swap: %s by %s: ok so far (%d failures)\n", state_names[st],
	       by_pfn ? "corrupt-pfn" : "madvise", utest_failures);
}

/* The victim: a child that owns the page and spins or sleeps until the parent poisoned it. */
static int victim(enum state st, int spin, volatile uint64_t *shared)
{
	uint64_t pfn;
	early(st);
	volatile uint64_t *p = make_swapcache_page(st, &pfn);
	shared[1] = pfn;
	shared[0] = 1;
	got_count = 0;
	if (sigsetjmp(jb, 1) == 0) {
		while (shared[0] != 2)
			if (!spin)
				usleep(1000);
	} else {
		while (shared[0] != 2) /* AO came first: wait for the go */
			;
	}
	if (st == DIRTY_EARLY)
		CHECK(got_count == 1 && got_code == BUS_MCEERR_AO && got_addr == (void *)p);
	else
		CHECK(got_count == 0);
	check_touch(p, st);
	return utest_failures;
}

static void victim_case(enum state st, int spin)
{
	volatile uint64_t *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long hw = hwcorrupted_kb();
	int status = -1;
	pid_t pid = fork();
	if (pid == 0)
		_exit(victim(st, spin, shared));
	while (shared[0] != 1)
		usleep(1000);
	usleep(20000); /* it is spinning or sleeping by now */
	CHECK(corrupt_pfn(shared[1]) == 0);
	if (st == DIRTY_EARLY)
		usleep(50000); /* the AO reaches it where it is */
	shared[0] = 2;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(hwcorrupted_kb() == hw + 4);
	printf("mf_swap: %s, %s victim: ok so far (%d failures)\n", state_names[st],
	       spin ? "spinning" : "sleeping", utest_failures);
	munmap((void *)shared, PAGE);
}

#define HMP_WAIT_S 60

static volatile int codes_seen; /* bit c: a SIGBUS with si_code c came */

static void on_sigbus_noting(int sig, siginfo_t *si, void *uc)
{
	codes_seen |= 1 << si->si_code;
	on_sigbus(sig, si, uc);
}

/* The SRAO from the host: wait for what it does to a page in state st. */
static void hmp_case(enum state st, int spin)
{
	uint64_t pfn;
	time_t end = time(NULL) + HMP_WAIT_S;
	early(st);
	volatile uint64_t *p = make_swapcache_page(st, &pfn);
	uint64_t seed = st == CLEAN ? 1 : 2;
	printf("mf_swap: poison it from the QEMU monitor with: mce -b 0 1 0xbd000000000000c0 0x5 "
	       "%#llx 0x86\n", (unsigned long long)(pfn << 12));
	fflush(stdout);
	struct sigaction sa = {.sa_sigaction = on_sigbus_noting, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	got_count = 0;
	int moved = 0;
	if (sigsetjmp(jb, 1) == 0) {
		for (unsigned long n = 1; !moved && time(NULL) < end; n++) {
			if (p[n % (PAGE / 8)] != seed * 1000003 + n % (PAGE / 8))
				break; /* wrong bytes: the check below says so */
			if (!spin)
				usleep(1000);
			if (st == CLEAN && (!spin || n % (1ul << 20) == 0)) {
				uint64_t e = pagemap((void *)p); /* present in another frame */
				moved = (e >> 63) && (e & ((1ull << 55) - 1)) != pfn;
			}
		}
	}
	if (st == CLEAN) {
		/* A touch between memory_failure's unmapping and its dropping the page from the swap
		 * cache meets the poisoned cached page and takes SIGBUS AR, as Linux 6.1's
		 * do_swap_page answers VM_FAULT_HWPOISON for it then; only a victim spinning on
		 * another CPU lands in that window. Once the page is out of the swap cache, a touch
		 * reads the good swap copy. */
		int raced = spin && got_count == 1 && got_code == BUS_MCEERR_AR &&
			    got_addr == (void *)p;
		CHECK((moved && got_count == 0) || raced);
		for (int i = 0; raced && i < 1000 && (kpageflags(pfn) >> KPF_SWAPCACHE & 1); i++)
			usleep(10000);
		CHECK(intact(p, 1));
	} else if (st == DIRTY) {
		CHECK(got_count >= 1 && got_addr == (void *)p && got_code == BUS_MCEERR_AR);
	} else {
		/* Early kill: AO, and AR at a touch. A spinning victim may touch the page between
		 * memory_failure's unmapping and its signal, and take AR first (Linux too). */
		if (sigsetjmp(jb, 1) == 0)
			usleep(20000); /* a signal still on its way arrives */
		if (sigsetjmp(jb, 1) == 0)
			(void)p[1];
		CHECK(got_addr == (void *)p && (codes_seen & (1 << BUS_MCEERR_AO)) &&
		      (codes_seen & (1 << BUS_MCEERR_AR)));
	}
	printf("mf_swap: %s, SRAO, %s victim: %s\n", state_names[st], spin ? "spinning" : "sleeping",
	       utest_failures ? "FAILED" : "ok");
}

/* The hog: 1.5 times the RAM of checksummed pages, written and read back twice or more. */
static int hog(volatile uint64_t *stop)
{
	size_t pages = 96u * 256; /* half as much again as the RAM */
	volatile uint64_t *b = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return 10;
	for (size_t i = 0; i < pages; i++)
		fill(b + i * (PAGE / 8), i + 7);
	for (int round = 0; round < 2 || !*stop; round++)
		for (size_t i = 0; i < pages; i++)
			if (!intact(b + i * (PAGE / 8), i + 7))
				return 11;
	return 0;
}

/* Under pressure the page may leave memory again at any moment (then madvise brings it back
 * clean): a touch after the poison must give the right bytes or BUS_MCEERR_AR, never wrong
 * bytes. madvise only: the frame number may be stale by the time it is used. */
static void pressure_case(enum state st)
{
	uint64_t seed = st == CLEAN ? 1 : 2;
	volatile uint64_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	early(CLEAN);
	fill(p, 1);
	CHECK(madvise((void *)p, PAGE, MADV_PAGEOUT) == 0);
	if (st == CLEAN)
		CHECK(intact(p, 1));
	else
		fill(p, 2);
	int before = got_count;
	CHECK(madvise((void *)p, PAGE, MADV_HWPOISON) == 0);
	CHECK(got_count == before);
	if (sigsetjmp(jb, 1) == 0)
		CHECK(intact(p, seed));
	CHECK(got_count == before || (got_code == BUS_MCEERR_AR && got_addr == (void *)p));
	munmap((void *)p, PAGE);
}

static void pressure(void)
{
	volatile uint64_t *stop = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status = -1;
	pid_t pid = fork();
	if (pid == 0)
		_exit(hog(stop));
	for (int i = 0; i < 32; i++)
		pressure_case(i % 2 ? DIRTY : CLEAN);
	*stop = 1;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "self";
	catch_sigbus();
	CHECK(swapon("/dev/vdb", 0) == 0 || errno == EBUSY);
	if (!strcmp(mode, "self")) {
		for (int by_pfn = 0; by_pfn < 2; by_pfn++)
			for (int st = CLEAN; st <= DIRTY_EARLY; st++)
				self_case(st, by_pfn);
	} else if (!strcmp(mode, "spin") || !strcmp(mode, "sleep")) {
		for (int st = CLEAN; st <= DIRTY_EARLY; st++)
			victim_case(st, !strcmp(mode, "spin"));
	} else if (!strcmp(mode, "pressure")) {
		pressure();
	} else if (!strncmp(mode, "hmp-", 4)) {
		int spin = strstr(mode, "-spin") != NULL;
		enum state st = !strncmp(mode + 4, "dirty-early", 11) ? DIRTY_EARLY
				: !strncmp(mode + 4, "dirty", 5)	  ? DIRTY
									  : CLEAN;
		hmp_case(st, spin);
	} else {
		printf("usage: mf_swap self|spin|sleep|pressure|hmp-STATE-spin|hmp-STATE-sleep\n");
		return 2;
	}
	DONE("mf_swap");
}
