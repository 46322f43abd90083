/* A program for machine checks injected from outside (QEMU's monitor `mce` command, or real
 * hardware): it fills a page, prints the page's physical address from /proc/self/pagemap and
 * the exact QEMU monitor command that poisons it, then waits (at most WAIT_S seconds) for
 * what the error should do to it. Each waiting mode comes in two forms: MODE sleeps while it
 * waits (nanosleep, so the CPU idles), MODE-spin never sleeps or makes a syscall while it waits
 * (so only the kernel's preemption can run anything else on its CPU).
 *   victim early[-spin]  PR_MCE_KILL_EARLY, never touches the page again: expects
 *                        BUS_MCEERR_AO at once (SRAO or UCNA injection); the handler also
 *                        prints the cycles from the machine check to itself
 *   victim late[-spin]   PR_MCE_KILL_LATE, keeps reading the page: expects BUS_MCEERR_AR on
 *                        the first read after the page was unmapped (SRAO or UCNA injection)
 *   victim early-file[-spin], late-file[-spin]  the same, with the page a dirty page of a
 *                        tmpfs file (/tmp/victim.page) it maps shared: the page cache keeps
 *                        it poisoned, the signals are the same
 *   victim early-ext2[-spin], late-ext2[-spin]  the same with a dirty page of an ext2 file
 *                        (/mnt/victim.page, /dev/vda mounted at /mnt): memory_failure drops
 *                        it from the page cache and records EIO for fsync; the same signals
 *   victim early-shm[-spin], late-shm[-spin]  the same, with the page a written page of
 *                        MAP_SHARED|MAP_ANONYMOUS memory: a shmem file's page, kept alike
 *   victim free[-spin]   frees the page again and prints the free frame's address: expects no
 *                        signal (an SRAO there isolates a free frame)
 *   victim wait[-spin]   has no page: a bystander for errors elsewhere; expects no signal
 *   victim srar          reads in a tight loop: expects BUS_MCEERR_AR (SRAR injected while it
 *                        runs)
 *   victim repeat        like srar, for 5 pages in turn ("victim: round R ready ..."), printing
 *                        the cycles from each machine check to the handler
 *                        (bench/srar_latency.py)
 * Prints "victim: SIGBUS si_code=N si_addr=P lsb=L" and exits 0 when it matches its mode, 1 when
 * it does not. A mode that expects no signal prints "victim: no signal in WAIT_S s of waiting"
 * and exits 0 at the end; one that expects a signal and got none prints "victim: no SIGBUS in
 * WAIT_S s" and exits 3. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "utest.h"

#define PG 4096
#define WAIT_S 60
#define SRAO_STATUS "0xbd000000000000c0 0x5" /* memory scrub, MCG_STATUS RIPV|MCIP */
#define SRAR_STATUS "0xbd80000000100134 0x6" /* data load, MCG_STATUS EIPV|MCIP */

/* What a mode does while it waits and what it expects. */
struct mode {
	const char *name;
	int kill;	   /* PR_MCE_KILL_EARLY or PR_MCE_KILL_LATE */
	int want_code;	   /* BUS_MCEERR_AO (5), BUS_MCEERR_AR (4), or 0: no signal */
	int touch;	   /* keeps reading the page while it waits */
	int keep_page;	   /* 0: the page is freed again before the wait */
	int has_page;	   /* 0: no page at all (a bystander) */
	int file;	   /* the page is a shared mapping of a written file: 1 tmpfs, 2 ext2 */
	int shm;	   /* the page is MAP_SHARED|MAP_ANONYMOUS memory (a shmem file's) */
	int timing;	   /* the handler prints the cycles since the machine check */
	const char *status; /* the monitor command's MCi_STATUS and MCG_STATUS */
};

#define AO 5 /* BUS_MCEERR_AO */
#define AR 4 /* BUS_MCEERR_AR */
static const struct mode modes[] = {
	{.name = "early", .kill = PR_MCE_KILL_EARLY, .want_code = AO, .keep_page = 1,
	 .has_page = 1, .timing = 1, .status = SRAO_STATUS},
	{.name = "late", .kill = PR_MCE_KILL_LATE, .want_code = AR, .touch = 1, .keep_page = 1,
	 .has_page = 1, .status = SRAO_STATUS},
	{.name = "early-file", .kill = PR_MCE_KILL_EARLY, .want_code = AO, .keep_page = 1,
	 .has_page = 1, .file = 1, .status = SRAO_STATUS},
	{.name = "late-file", .kill = PR_MCE_KILL_LATE, .want_code = AR, .touch = 1,
	 .keep_page = 1, .has_page = 1, .file = 1, .status = SRAO_STATUS},
	{.name = "early-ext2", .kill = PR_MCE_KILL_EARLY, .want_code = AO, .keep_page = 1,
	 .has_page = 1, .file = 2, .status = SRAO_STATUS},
	{.name = "late-ext2", .kill = PR_MCE_KILL_LATE, .want_code = AR, .touch = 1,
	 .keep_page = 1, .has_page = 1, .file = 2, .status = SRAO_STATUS},
	{.name = "early-shm", .kill = PR_MCE_KILL_EARLY, .want_code = AO, .keep_page = 1,
	 .has_page = 1, .shm = 1, .status = SRAO_STATUS},
	{.name = "late-shm", .kill = PR_MCE_KILL_LATE, .want_code = AR, .touch = 1,
	 .keep_page = 1, .has_page = 1, .shm = 1, .status = SRAO_STATUS},
	{.name = "free", .kill = PR_MCE_KILL_LATE, .has_page = 1, .status = SRAO_STATUS},
	{.name = "wait", .kill = PR_MCE_KILL_LATE},
	{.name = "srar", .kill = PR_MCE_KILL_LATE, .want_code = AR, .touch = 1, .keep_page = 1,
	 .has_page = 1, .timing = 1, .status = SRAR_STATUS},
};

static volatile char *page;
static const struct mode *mode;
static int repeat;
static uint64_t page_pa, handler_tsc;
static sigjmp_buf jb;

/* The last occurrence of what in the kernel log (/proc/kmsg), or NULL; *start gets the
 * buffer so the caller can look backwards. */
static char *last_in_kmsg(const char *what, char **start)
{
	static char buf[64 * 1024];
	int fd = open("/proc/kmsg", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	*start = buf;
	char *hit = NULL;
	for (char *p = strstr(buf, what); p; p = strstr(p + 1, what))
		hit = p;
	return hit;
}

/* The TSC the kernel logged for the machine check at paddr (its record's "TSC" field), read
 * back from /proc/kmsg; 0 if not found. The record is printed before the SIGBUS of an AO is
 * sent, but an SRAR's task is recovered first: give the log drain a moment then. */
static uint64_t record_tsc(uint64_t paddr)
{
	char addr[40], *buf, *hit;
	snprintf(addr, sizeof(addr), " ADDR %llx ", (unsigned long long)paddr);
	for (int tries = 0; tries < 2; tries++) {
		struct timespec wait = {0, 300 * 1000 * 1000};
		if (tries)
			nanosleep(&wait, NULL);
		hit = last_in_kmsg(addr, &buf);
		while (hit && hit > buf && strncmp(hit, "TSC ", 4))
			hit--;
		if (hit && hit > buf)
			return strtoull(hit + 4, NULL, 16);
	}
	return 0;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	uint64_t now = utest_rdtsc();
	int ok = si->si_code == mode->want_code && si->si_addr == (void *)page &&
		 si->si_addr_lsb == 12;
	/* (No timing from the program's own loop: under QEMU the guest TSC runs on while the VM
	 * is stopped for the injection. The handler times against the kernel's record.) */
	printf("victim: SIGBUS si_code=%d si_addr=%p lsb=%d (%s)\n", si->si_code, si->si_addr,
	       si->si_addr_lsb, ok ? "as expected" : "WRONG");
	if (repeat) {
		handler_tsc = now;
		siglongjmp(jb, 1);
	}
	if (mode->timing) {
		uint64_t mc = record_tsc(page_pa);
		if (mc && mc < now)
			printf("victim: machine check at TSC %#llx, handler at TSC %#llx: %llu cycles\n",
			       (unsigned long long)mc, (unsigned long long)now,
			       (unsigned long long)(now - mc));
	}
	fflush(stdout);
	_exit(ok ? 0 : 1);
}

static uint64_t pfn_of(volatile void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	pread(fd, &e, 8, (off_t)((uintptr_t)va / PG * 8));
	close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

/* From the kernel's "recovery starts A ns after the bank was read (B ns after the rendezvous
 * decided)" line of the last event: A - B, the time the #MC rendezvous took. */
static unsigned long rendezvous_ns(void)
{
	char *buf;
	char *hit = last_in_kmsg("recovery starts ", &buf);
	unsigned long a, b;
	if (!hit || sscanf(hit, "recovery starts %lu ns after the bank was read (%lu", &a, &b) != 2)
		return 0;
	return a > b ? a - b : 0;
}

/* Several SRARs in one boot: the first one pays for QEMU translating the recovery path; the
 * later ones show what the kernel itself costs. */
static int repeat_rounds(int rounds)
{
	for (volatile int r = 0; r < rounds; r++) {
		page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset((void *)page, 0x42, PG);
		page_pa = pfn_of(page) * PG;
		printf("victim: round %d ready paddr=%#llx with: mce -b 0 1 0xbd80000000100134 0x7 "
		       "%#llx 0x86\n", r, (unsigned long long)page_pa, (unsigned long long)page_pa);
		fflush(stdout);
		if (sigsetjmp(jb, 1) == 0)
			for (unsigned long n = 0;; n++)
				(void)page[n % PG];
		uint64_t mc = record_tsc(page_pa);
		printf("victim: round %d: machine check at TSC %#llx, handler at TSC %#llx: %llu "
		       "cycles; rendezvous %lu ns\n", r, (unsigned long long)mc,
		       (unsigned long long)handler_tsc,
		       (unsigned long long)(mc && mc < handler_tsc ? handler_tsc - mc : 0),
		       rendezvous_ns());
		fflush(stdout);
	}
	return 0;
}

/* Wait for the signal until the deadline: reading the page or not, sleeping or spinning (no
 * syscall at all in the spin). Returns only when the deadline passed. */
static void wait_for_signal(uint64_t end, int spin)
{
	struct timespec tick = {0, 5 * 1000 * 1000};
	for (unsigned long n = 0; utest_rdtsc() < end; n++) {
		if (mode->touch && page[n % PG] != 0x42) {
			printf("victim: the page changed under us\n");
			exit(2);
		}
		if (!spin)
			nanosleep(&tick, NULL);
	}
}

/* The mode named NAME or NAME-spin; *spin says which. */
static const struct mode *find_mode(const char *arg, int *spin)
{
	size_t len = strlen(arg);
	*spin = len > 5 && !strcmp(arg + len - 5, "-spin");
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strlen(modes[i].name) == len - (*spin ? 5 : 0) &&
		    !strncmp(modes[i].name, arg, len - (*spin ? 5 : 0)))
			return &modes[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *arg = argc > 1 ? argv[1] : "early";
	int spin;
	repeat = !strcmp(arg, "repeat");
	mode = find_mode(repeat ? "srar" : arg, &spin);
	if (!mode) {
		printf("victim: unknown mode %s (early, late, early-file, late-file, early-ext2, late-ext2, "
		       "early-shm, late-shm, free, wait, each "
		       "also -spin; srar, repeat)\n", arg);
		return 2;
	}
	spin |= !strcmp(mode->name, "srar"); /* the SRAR must find it in user mode */
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, mode->kill, 0, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	if (repeat)
		return repeat_rounds(5);
	if (mode->has_page) {
		if (mode->file == 2) {
			mkdir("/mnt", 0755);
			if (mount("/dev/vda", "/mnt", "ext2", 0, NULL) != 0)
				return 2;
		}
		const char *path = mode->file == 2 ? "/mnt/victim.page" : "/tmp/victim.page";
		int fd = mode->file ? open(path, O_RDWR | O_CREAT | O_TRUNC, 0600) : -1;
		if (mode->file && ftruncate(fd, PG) != 0)
			return 2;
		page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			    (mode->file  ? MAP_SHARED
			     : mode->shm ? MAP_SHARED | MAP_ANONYMOUS
					 : MAP_PRIVATE | MAP_ANONYMOUS) | MAP_LOCKED,
			    fd, 0);
		memset((void *)page, 0x42, PG); /* a file's page: now dirty, the only copy */
		page_pa = pfn_of(page) * PG;
	}
	uint64_t end = utest_tsc_deadline(WAIT_S);
	printf("victim: ready mode=%s addr=%p paddr=%#llx\n", arg, (void *)page,
	       (unsigned long long)page_pa);
	fflush(stdout);
	if (mode->has_page && !mode->keep_page) {
		/* Free the frame only now, with every code and data page this program touches
		 * from here on already faulted in (the wait loop ran once): a fault would take
		 * the frame just freed. */
		wait_for_signal(0, spin);
		munmap((void *)page, PG);
	}
	if (mode->has_page)
		printf("victim: poison it from the QEMU monitor with: mce -b 0 1 %s %#llx 0x86\n",
		       mode->status, (unsigned long long)page_pa);
	fflush(stdout);
	wait_for_signal(end, spin);
	if (mode->want_code) {
		printf("victim: no SIGBUS in %d s\n", WAIT_S);
		return 3;
	}
	printf("victim: no signal in %d s of waiting\n", WAIT_S);
	return 0;
}
