/* cec: the corrected-error collector from user space (docs/mca.md, "The corrected-error
 * collector"). One mode per run, as its first argument:
 *   sw-spin, sw-sleep    a victim (a forked child) fills a page and keeps checking and
 *                        rewriting every word of it, spinning without a syscall or sleeping
 *                        between passes; this process injects corrected memory errors at
 *                        that page through the software injector (/sys/kernel/debug/
 *                        mce-inject, alternating CMCI and poll, alternating CPUs), with
 *                        action_threshold 100 (spin) or the default, 1023 (sleep). One below
 *                        it nothing has happened (the array counts it, the frame is not
 *                        poisoned, HardwareCorrupted unchanged); at it the page is soft-offlined:
 *                        HardwareCorrupted + 4 kB, the old frame HWPOISON in kpageflags,
 *                        the kernel's line with pfn, count, what was done and the time. A
 *                        CMCI storm began on the way: the collector counted in storm mode.
 *                        The victim then finds every word as it last wrote it, no signal,
 *                        and its page on a new frame in /proc/self/pagemap.
 *   hmp-spin, hmp-sleep  the same with action_threshold 10, the errors injected from the
 *                        host with QEMU's `mce` (a corrected error only fills the bank: the
 *                        poller finds it): for each one this program prints "cec: inject CE
 *                        K with: mce ..." and waits until the kernel has taken it from the
 *                        bank ("cec: CE K seen"); tests/qemu/cec_tests.py does the injecting.
 *   files                the files under /sys/kernel/debug/ras/cec/ (defaults, Linux's ranges
 *                        and errors), decay that ages a frame that stopped erring until a full
 *                        array forgets it, the bound (errors at 5000 frames take no memory),
 *                        errors the collector must ignore (no usable address, not a memory
 *                        error, uncorrected), /sys/devices/system/memory/{soft,hard}_offline_page.
 *   disabled             booted with ras=cec_disable: no ras/cec files, every corrected error
 *                        is printed and none is kept.
 * Exit status: the number of failed checks. The files under ras/cec/ are Linux's (with
 * CONFIG_RAS_CEC_DEBUG); decay_interval_ms is MCRK's. */
#define _GNU_SOURCE
#include "utest.h"
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define PG 4096
#define WORDS (PG / 8)
#define CEC "/sys/kernel/debug/ras/cec/"
#define INJ "/sys/kernel/debug/mce-inject/"
#define COUNTERS "/sys/kernel/debug/mce/counters"
#define CE_STATUS 0x9c0000000000009full /* VAL EN MISCV ADDRV, memory read error, corrected */
#define MISC_PHYS 0x86ull		 /* physical address, LSB 6 */
#define HMP_THRESHOLD 10	/* each error from the host is a round trip through the monitor */
#define SPIN_THRESHOLD 100	/* a spinning victim keeps a host core busy: fewer, slower steps */
#define KPF_SLAB (1ull << 7)
#define KPF_HWPOISON (1ull << 19)
#define NOT_RAM_PFN 0x7f000000ull /* far above the guest's memory: counted, never acted on */
#define TIMEOUT_S 60
#define HMP_TIMEOUT_S 20 /* the host sends each error at once; the poller runs every 50 ms */

/* What the victim and this process share (MAP_SHARED). */
struct shared {
	volatile uint64_t pfn_before, pfn_after, passes, bad;
	volatile int ready, stop, signals;
};
static struct shared *sh;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static long hwc(void)
{
	char buf[4096];
	read_meminfo(buf, sizeof buf);
	return meminfo_value(buf, "HardwareCorrupted:");
}

static int write_num(const char *path, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof b, "%#llx\n", (unsigned long long)v);
	return utest_write_file(path, b);
}

/* The number after "key" in the text of path, or -1. */
static long long field(const char *path, const char *key)
{
	static char buf[32768];
	if (utest_read_file(path, buf, sizeof buf) < 0)
		return -1;
	const char *p = strstr(buf, key);
	return p ? strtoll(p + strlen(key), NULL, 0) : -1;
}

static long long counter(const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "\n%s ", name);
	return field(COUNTERS, key);
}

/* pfn's entry in the array file: its count, with its generation ("11") in gen; -1 if absent. */
static int entry(uint64_t pfn, char gen[3])
{
	static char buf[32768];
	char key[40];
	if (utest_read_file(CEC "array", buf, sizeof buf) < 0)
		return -1;
	snprintf(key, sizeof key, ": [%016llx|", (unsigned long long)pfn);
	const char *p = strstr(buf, key);
	if (!p)
		return -1;
	p += strlen(key);
	if (gen)
		snprintf(gen, 3, "%.2s", p);
	return (int)strtol(p + 3, NULL, 16);
}

/* ---- the victim ---- */

static void on_signal(int sig)
{
	(void)sig;
	sh->signals++;
	_exit(3);
}

/* Check every word holds what the previous pass wrote, write this pass's value. */
static void victim_pass(volatile uint64_t *w, uint64_t pass)
{
	for (unsigned k = 0; k < WORDS; k++) {
		if (w[k] != (pass << 32 | k))
			sh->bad++;
		w[k] = (pass + 1) << 32 | k;
	}
}

static void victim(int spin)
{
	volatile uint64_t *w =
		mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	signal(SIGBUS, on_signal);
	signal(SIGSEGV, on_signal);
	for (unsigned k = 0; k < WORDS; k++)
		w[k] = k;
	sh->pfn_before = utest_pfn_of(w);
	sh->ready = 1;
	uint64_t pass = 0;
	while (!sh->stop) { /* spin: no syscall in this loop */
		victim_pass(w, pass++);
		sh->passes = pass;
		if (!spin)
			sleep_ms(2);
	}
	victim_pass(w, pass);
	sh->pfn_after = utest_pfn_of(w);
	_exit(sh->bad ? 1 : 0);
}

/* ---- feeding errors ---- */

static unsigned inject_cpus = 2; /* dropped to 1 when CPU 1 is not online */

/* One corrected memory error at paddr through the software injector, on CPU k mod the CPUs,
 * raised by CMCI for odd k and found by a poll for even k. */
static int inject_ce(uint64_t paddr, unsigned k, uint64_t status, uint64_t misc, const char *how)
{
	unsigned cpu = k % inject_cpus;
	int err = write_num(INJ "status", status) ?: write_num(INJ "addr", paddr) ?:
		  write_num(INJ "misc", misc) ?: utest_write_file(INJ "mcgstatus", "0") ?:
		  write_num(INJ "cpu", cpu) ?: utest_write_file(INJ "flags", how ? how : k & 1 ? "cmci" : "sw") ?:
		  utest_write_file(INJ "bank", "1");
	if (err == -EINVAL && cpu == 1 && inject_cpus == 2) {
		inject_cpus = 1;
		return inject_ce(paddr, k, status, misc, how);
	}
	return err;
}

/* Corrected errors taken from the banks so far (logged or held back by storm control). */
static long long ces_taken(void)
{
	return counter("grade_KEEP") + counter("storm_suppressed");
}

/* hmp modes: ask the host for corrected error k at paddr and wait until the poller took it. */
static int hmp_ce(uint64_t paddr, unsigned k, long long base)
{
	printf("cec: inject CE %u with: mce 0 1 %#llx 0x0 %#llx %#llx\n", k,
	       (unsigned long long)CE_STATUS, (unsigned long long)paddr, (unsigned long long)MISC_PHYS);
	fflush(stdout);
	for (uint64_t end = now_ms() + HMP_TIMEOUT_S * 1000; now_ms() < end; sleep_ms(5))
		if (ces_taken() - base >= k) {
			printf("cec: CE %u seen\n", k);
			fflush(stdout);
			return 0;
		}
	printf("cec: CE %u never taken from the bank\n", k);
	return -1;
}

/* Wait until the array says pfn has count want (0: gone and offlined pages >= offl). */
static int wait_array(uint64_t pfn, int want, long long offl)
{
	for (uint64_t end = now_ms() + TIMEOUT_S * 1000; now_ms() < end; sleep_ms(10)) {
		if (want && entry(pfn, NULL) == want)
			return 0;
		if (!want && entry(pfn, NULL) < 0 && field(CEC "array", "offlined pages: ") >= offl)
			return 0;
	}
	printf("cec: pfn %#llx: count %d, offlined pages %lld; wanted %d\n", (unsigned long long)pfn,
	       entry(pfn, NULL), field(CEC "array", "offlined pages: "), want);
	return -1;
}

/* The text of path holds what. */
static int file_has(const char *path, const char *what)
{
	static char buf[256 * 1024];
	return utest_read_file(path, buf, sizeof buf) > 0 && strstr(buf, what) != NULL;
}

/* The kernel log holds what. */
static int kmsg_has(const char *what)
{
	return file_has("/proc/kmsg", what);
}

/* ---- the victim cases ---- */

static void offline_a_victim(int spin, int hmp)
{
	sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0)
		victim(spin);
	for (uint64_t end = now_ms() + TIMEOUT_S * 1000; !sh->ready && now_ms() < end;)
		sleep_ms(5);
	CHECK(sh->ready);
	if (!sh->ready)
		return;
	uint64_t pfn = sh->pfn_before, paddr = pfn * PG;
	long hwc0 = hwc();
	long long storms0 = counter("storms_begun"), base = ces_taken();
	long long offl0 = field(CEC "array", "offlined pages: ");
	unsigned threshold = hmp ? HMP_THRESHOLD : spin ? SPIN_THRESHOLD : 1023;
	CHECK(field(CEC "action_threshold", "") == 1023); /* Linux's default */
	if (threshold != 1023)
		CHECK(write_num(CEC "action_threshold", threshold) == 0);
	printf("cec: victim page at pfn %#llx, %s, threshold %u\n", (unsigned long long)pfn,
	       spin ? "spinning" : "sleeping", threshold);
	fflush(stdout);
	for (unsigned k = 1; k < threshold; k++)
		CHECK((hmp ? hmp_ce(paddr + 64 * (k % 64), k, base)
			   : inject_ce(paddr + 64 * (k % 64), k, CE_STATUS, MISC_PHYS, NULL)) == 0);
	CHECK(wait_array(pfn, (int)threshold - 1, 0) == 0); /* one below: counted, nothing done */
	CHECK(hwc() == hwc0);
	CHECK(!(utest_kpageflags(pfn) & KPF_HWPOISON));
	printf("cec: %u corrected errors counted, page still in place\n", threshold - 1);
	fflush(stdout);
	CHECK((hmp ? hmp_ce(paddr, threshold, base)
		   : inject_ce(paddr, threshold, CE_STATUS, MISC_PHYS, NULL)) == 0);
	CHECK(wait_array(pfn, 0, offl0 + 1) == 0);
	CHECK(hwc() == hwc0 + 4);
	CHECK(utest_kpageflags(pfn) & KPF_HWPOISON);
	if (!hmp)
		CHECK(counter("storms_begun") > storms0); /* and the collector counted through it */
	uint64_t passes = sh->passes;
	sleep_ms(50);
	sh->stop = 1;
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(sh->signals == 0 && sh->bad == 0);
	CHECK(sh->pfn_after != 0 && sh->pfn_after != pfn);
	printf("cec: victim: %llu passes (%llu before the stop), %llu bad words, %d signals, page "
	       "moved from pfn %#llx to %#llx\n", (unsigned long long)sh->passes,
	       (unsigned long long)passes, (unsigned long long)sh->bad, sh->signals,
	       (unsigned long long)pfn, (unsigned long long)sh->pfn_after);
	char line[160];
	snprintf(line, sizeof line, "RAS: Soft-offlining pfn: %#llx (%u corrected errors): anonymous "
				    "user page moved to pfn %#llx, old frame retired (0); took ",
		 (unsigned long long)pfn, threshold, (unsigned long long)sh->pfn_after);
	CHECK(kmsg_has(line));
	CHECK(write_num(CEC "action_threshold", 1023) == 0);
}

/* ---- files ---- */

/* Linux's defaults and answers. */
static void test_files(void)
{
	char buf[256];
	CHECK(utest_read_file(CEC "action_threshold", buf, sizeof buf) > 0 && !strcmp(buf, "1023\n"));
	CHECK(utest_read_file(CEC "decay_interval", buf, sizeof buf) > 0 && !strcmp(buf, "86400\n"));
	CHECK(utest_read_file(CEC "pfn", buf, sizeof buf) > 0 && !strcmp(buf, "0x0\n"));
	CHECK(utest_read_file(CEC "array", buf, sizeof buf) > 0 && !strncmp(buf, "{ n: 0\n}\n", 9));
	CHECK(utest_write_file(CEC "decay_interval", "3599\n") == -EINVAL);
	CHECK(utest_write_file(CEC "decay_interval", "2592001\n") == -EINVAL);
	CHECK(utest_write_file(CEC "decay_interval", "abc\n") == -EINVAL);
	CHECK(utest_write_file(CEC "action_threshold", "-1\n") == -EINVAL);
	CHECK(utest_write_file(CEC "action_threshold", "99999999999999999999999\n") == -ERANGE);
	CHECK(utest_write_file(CEC "pfn", "12abc\n") == -EINVAL);
	CHECK(field(CEC "decay_interval", "") == 86400);
	CHECK(utest_write_file(CEC "action_threshold", "5000\n") == 0);
	CHECK(field(CEC "action_threshold", "") == 1023); /* the count holds at most 1023 */
	CHECK(utest_write_file(CEC "decay_interval", "3600\n") == 0);
	CHECK(field(CEC "decay_interval", "") == 3600);
	CHECK(write_num(CEC "pfn", NOT_RAM_PFN + 99999) == 0);
	CHECK(utest_read_file(CEC "pfn", buf, sizeof buf) > 0 && !strcmp(buf, "0x7f01869f\n"));
	CHECK(entry(NOT_RAM_PFN + 99999, NULL) == 1);
}

static int feed(uint64_t pfn, int times)
{
	int err = 0;
	for (int i = 0; i < times && !err; i++)
		err = write_num(CEC "pfn", pfn);
	return err;
}

/* A frame that stops erring ages with every decay until a full array forgets it, while the
 * frames that go on erring stay. 511 frames err 3 times each and A twice, last; a new frame
 * then evicts an old one, not A (A erred lately). Time passes: three decays, nothing else.
 * A new frame now evicts A (its generation is 0 and its count the smallest), and A's next
 * error counts from 1. */
static void test_decay_forgets(void)
{
	const uint64_t a = NOT_RAM_PFN, filler = NOT_RAM_PFN + 1;
	char gen[3];
	CHECK(write_num(CEC "decay_interval_ms", 86400000) == 0);
	for (uint64_t i = 0; i < 511; i++)
		CHECK(feed(filler + i, 3) == 0);
	CHECK(feed(a, 2) == 0);
	CHECK(field(CEC "array", "{ n: ") == 512);
	CHECK(entry(a, gen) == 2 && gen[0] == '1'); /* 11, or 10 if a cleaning came just after */
	CHECK(feed(NOT_RAM_PFN + 1000, 3) == 0);
	CHECK(entry(a, NULL) == 2); /* a frame that erred lately is not the one evicted */
	CHECK(entry(filler, NULL) < 0);
	long long decays = field(CEC "array", "Decays: ");
	CHECK(write_num(CEC "decay_interval_ms", 50) == 0);
	for (uint64_t end = now_ms() + TIMEOUT_S * 1000;
	     field(CEC "array", "Decays: ") < decays + 3 && now_ms() < end;)
		sleep_ms(20);
	CHECK(write_num(CEC "decay_interval_ms", 86400000) == 0);
	CHECK(entry(a, gen) == 2 && !strcmp(gen, "00")); /* aged, not forgotten by itself */
	printf("cec: after %lld decays pfn %#llx reads %d|%s\n",
	       field(CEC "array", "Decays: ") - decays, (unsigned long long)a, entry(a, NULL), gen);
	CHECK(feed(NOT_RAM_PFN + 1001, 1) == 0);
	CHECK(entry(a, NULL) < 0); /* the array was full: the frame that stopped erring went */
	CHECK(feed(a, 1) == 0);
	CHECK(entry(a, gen) == 1 && !strcmp(gen, "11"));
}

/* Errors at 5000 frames: the array holds 512, evicts the rest, takes no memory. */
static void test_bounded(void)
{
	char m0[4096], m1[4096];
	long long evicted = field(CEC "array", "Evicted: ");
	read_meminfo(m0, sizeof m0);
	for (uint64_t i = 0; i < 5000; i++)
		CHECK(write_num(CEC "pfn", NOT_RAM_PFN + 20000 + i) == 0);
	read_meminfo(m1, sizeof m1);
	long used = meminfo_value(m0, "MemFree:") - meminfo_value(m1, "MemFree:");
	CHECK(field(CEC "array", "{ n: ") == 512);
	CHECK(field(CEC "array", "Evicted: ") - evicted >= 5000 - 512);
	CHECK(used <= 16 && used >= -16);
	printf("cec: errors at 5000 frames: 512 kept, MemFree changed by %ld kB\n", -used);
}

/* The collector takes only corrected memory errors with a usable physical address: each of
 * these is logged as before and not counted; the same error with everything right is. */
static void test_ignored_errors(void)
{
	static const struct {
		uint64_t status, misc;
		const char *flags;
	} ignored[] = {
	    {CE_STATUS & ~(1ull << 58), MISC_PHYS, "sw"},	     /* no ADDRV */
	    {CE_STATUS & ~(1ull << 59), MISC_PHYS, "sw"},	     /* no MISCV */
	    {CE_STATUS, 0x46, "sw"},				     /* address mode 1, not physical */
	    {CE_STATUS, 0x8d, "sw"},				     /* LSB 13: coarser than a page */
	    {(CE_STATUS & ~0xffffull) | 0x0e0b, MISC_PHYS, "sw"},    /* a bus error */
	    {(CE_STATUS & ~0xffffull) | 0x0017, MISC_PHYS, "sw"},    /* a TLB error */
	    {CE_STATUS | (1ull << 61), MISC_PHYS, "poll"},	     /* uncorrected (UCNA) */
	};
	uint64_t paddr = NOT_RAM_PFN * PG;
	long long ces = field(CEC "array", "CEs: "), kept = counter("cec_kept");
	long long keep = counter("grade_KEEP");
	for (unsigned i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		CHECK(inject_ce(paddr, 0, ignored[i].status, ignored[i].misc, ignored[i].flags) == 0);
	CHECK(counter("grade_KEEP") == keep + 6); /* taken from the bank like any corrected error */
	/* The same error with everything right, last: the drain (the injector's, or a kernel
	 * worker's already under way) takes one CPU's records in order, so once this one is
	 * counted the others have been through the collector too. */
	CHECK(inject_ce(paddr, 0, CE_STATUS, MISC_PHYS, "sw") == 0);
	for (uint64_t end = now_ms() + TIMEOUT_S * 1000; now_ms() < end; sleep_ms(5))
		if (field(CEC "array", "CEs: ") > ces && counter("cec_kept") > kept)
			break;
	CHECK(field(CEC "array", "CEs: ") == ces + 1);
	CHECK(counter("cec_kept") == kept + 1);
}

/* The first frame /proc/kpageflags says is kernel heap (KPF_SLAB), or 0. */
static uint64_t slab_frame(void)
{
	for (uint64_t pfn = 1; pfn < (1u << 20); pfn++)
		if (utest_kpageflags(pfn) & KPF_SLAB)
			return pfn;
	return 0;
}

/* At the threshold a free frame is taken out; kernel memory stays in use, reported and
 * listed in the array file. */
static void test_free_and_kernel_frames(void)
{
	char want[160];
	long hwc0 = hwc();
	uint64_t f = utest_free_frame(), slab = slab_frame();
	CHECK(write_num(CEC "action_threshold", 2) == 0);
	CHECK(feed(f, 2) == 0);
	CHECK(utest_kpageflags(f) & KPF_HWPOISON);
	CHECK(hwc() == hwc0 + 4);
	snprintf(want, sizeof want, "RAS: Soft-offlining pfn: %#llx (2 corrected errors): free frame "
				    "taken out of the allocator (0)", (unsigned long long)f);
	CHECK(kmsg_has(want));
	CHECK(slab != 0);
	CHECK(feed(slab, 4) == 0);
	CHECK(!(utest_kpageflags(slab) & KPF_HWPOISON) && (utest_kpageflags(slab) & KPF_SLAB));
	CHECK(hwc() == hwc0 + 4);
	snprintf(want, sizeof want, "RAS: Soft-offlining pfn: %#llx (2 corrected errors): kernel heap:"
				    " cannot be moved, left in use (-5)", (unsigned long long)slab);
	CHECK(kmsg_has(want));
	snprintf(want, sizeof want, "Unmovable pfn %#llx: kernel heap, threshold reached 2 time(s)",
		 (unsigned long long)slab);
	CHECK(file_has(CEC "array", want));
	CHECK(write_num("/sys/kernel/debug/hwpoison/unpoison-pfn", f) == 0);
	CHECK(hwc() == hwc0);
	CHECK(write_num(CEC "action_threshold", 1023) == 0);
}

/* /sys/devices/system/memory/soft_offline_page and hard_offline_page take a physical
 * address; Linux's answers. */
static void test_offline_files(void)
{
	const char *soft = "/sys/devices/system/memory/soft_offline_page";
	const char *hard = "/sys/devices/system/memory/hard_offline_page";
	long hwc0 = hwc();
	for (int i = 0; i < 2; i++) {
		const char *f = i ? hard : soft;
		CHECK(utest_write_file(f, "abc\n") == -EINVAL);
		CHECK(utest_write_file(f, "\n") == -EINVAL);
		CHECK(utest_write_file(f, "99999999999999999999999\n") == -EINVAL);
		CHECK(utest_write_file(f, "0x7fffffffff000\n") == -ENXIO);
	}
	CHECK(hwc() == hwc0);
	unsigned char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < PG; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	uint64_t old = utest_pfn_of(p);
	CHECK(write_num(soft, old * PG + 0x123) == 0);
	int same = 1;
	for (int i = 0; i < PG; i++)
		same &= p[i] == (unsigned char)(i * 7 + 3);
	CHECK(same);
	CHECK(utest_pfn_of(p) != old && utest_pfn_of(p) != 0);
	CHECK(write_num(soft, old * PG) == 0); /* poisoned already: nothing to do */
	uint64_t f = utest_free_frame();
	CHECK(write_num(hard, f * PG) == 0);
	CHECK(write_num(hard, f * PG) == -EHWPOISON);
	CHECK(utest_kpageflags(f) & KPF_HWPOISON);
	CHECK(hwc() == hwc0 + 8);
	CHECK(write_num("/sys/kernel/debug/hwpoison/unpoison-pfn", old) == 0);
	CHECK(write_num("/sys/kernel/debug/hwpoison/unpoison-pfn", f) == 0);
	CHECK(hwc() == hwc0);
	munmap(p, PG);
}

/* ras=cec_disable: no files, every corrected error printed, none kept. */
static void test_disabled(void)
{
	char buf[64];
	long long keep = counter("grade_KEEP"), kept = counter("cec_kept");
	CHECK(utest_read_file(CEC "array", buf, sizeof buf) == -ENOENT);
	for (unsigned k = 0; k < 3; k++)
		CHECK(inject_ce(NOT_RAM_PFN * PG, k, CE_STATUS, MISC_PHYS, "sw") == 0);
	CHECK(counter("grade_KEEP") == keep + 3);
	CHECK(counter("cec_kept") == kept);
	CHECK(kmsg_has("RAS: Correctable Errors collector disabled (ras=cec_disable)"));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "files";
	if (!strcmp(mode, "sw-spin") || !strcmp(mode, "sw-sleep") || !strcmp(mode, "hmp-spin") ||
	    !strcmp(mode, "hmp-sleep")) {
		offline_a_victim(strstr(mode, "spin") != NULL, !strncmp(mode, "hmp", 3));
	} else if (!strcmp(mode, "files")) {
		test_files();
		test_decay_forgets();
		test_ignored_errors();
		test_bounded();
		test_free_and_kernel_frames();
		test_offline_files();
	} else if (!strcmp(mode, "disabled")) {
		test_disabled();
	} else {
		printf("usage: cec sw-spin|sw-sleep|hmp-spin|hmp-sleep|files|disabled\n");
		return 2;
	}
	DONE("cec");
}
