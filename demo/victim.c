/* A program for machine checks injected from outside (QEMU's monitor `mce` command, or real
 * hardware): it fills a page, prints the page's physical address from /proc/self/pagemap and
 * the exact QEMU monitor command that poisons it, then keeps reading the page until SIGBUS.
 *   victim early   PR_MCE_KILL_EARLY, never touches the page again: expects BUS_MCEERR_AO
 *                  at once (SRAO injection)
 *   victim late    PR_MCE_KILL_LATE: expects BUS_MCEERR_AR on its next read (SRAO injection)
 *   victim srar    reads in a tight loop: expects BUS_MCEERR_AR (SRAR injected while it runs)
 *   victim repeat  like srar, for 5 pages in turn ("victim: round R ready ..."), printing the
 *                  cycles from each machine check to the handler (bench/srar_latency.py)
 * Prints "victim: SIGBUS si_code=N si_addr=P lsb=L" and exits 0 when it matches its mode. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
static volatile char *page;
static int want_code;
static int want_srar_timing, repeat;
static uint64_t page_pa, handler_tsc;
static sigjmp_buf jb;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* srar mode: the TSC the kernel logged for the machine check at paddr (its record's "TSC"
 * field), read back from /proc/kmsg once the log has been drained; 0 if not found. */
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

static uint64_t record_tsc(uint64_t paddr)
{
	struct timespec wait = {0, 300 * 1000 * 1000};
	nanosleep(&wait, NULL); /* the log drain runs after the task is recovered */
	char addr[40], *buf;
	snprintf(addr, sizeof(addr), " ADDR %llx ", (unsigned long long)paddr);
	char *hit = last_in_kmsg(addr, &buf);
	while (hit && hit > buf && strncmp(hit, "TSC ", 4))
		hit--;
	return hit && hit > buf ? strtoull(hit + 4, NULL, 16) : 0;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	uint64_t now = rdtsc();
	int ok = si->si_code == want_code && si->si_addr == (void *)page && si->si_addr_lsb == 12;
	/* (No timing from the program's own loop: under QEMU the guest TSC runs on while the VM
	 * is stopped for the injection. srar/repeat modes time against the kernel's record.) */
	printf("victim: SIGBUS si_code=%d si_addr=%p lsb=%d (%s)\n", si->si_code, si->si_addr,
	       si->si_addr_lsb, ok ? "as expected" : "WRONG");
	if (repeat) {
		handler_tsc = now;
		siglongjmp(jb, 1);
	}
	if (want_srar_timing) {
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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "early";
	int early = !strcmp(mode, "early");
	want_code = early ? 5 /* BUS_MCEERR_AO */ : 4 /* BUS_MCEERR_AR */;
	want_srar_timing = !strcmp(mode, "srar");
	repeat = !strcmp(mode, "repeat");
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	if (repeat)
		return repeat_rounds(5);
	page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	memset((void *)page, 0x42, PG);
	uint64_t pa = pfn_of(page) * PG;
	page_pa = pa;
	const char *status = !strcmp(mode, "srar") ? "0xbd80000000100134 0x6" : "0xbd000000000000c0 0x5";
	printf("victim: ready mode=%s addr=%p paddr=%#llx\n", mode, (void *)page, (unsigned long long)pa);
	printf("victim: poison it from the QEMU monitor with: mce -b 0 1 %s %#llx 0x86\n", status,
	       (unsigned long long)pa);
	fflush(stdout);
	struct timespec tick = {0, 5 * 1000 * 1000};
	for (unsigned long n = 0;; n++) {
		if (early) { /* early kill needs no touch; touching could race the AO with an AR */
			nanosleep(&tick, NULL);
			continue;
		}
		if (page[n % PG] != 0x42) {
			printf("victim: the page changed under us\n");
			return 2;
		}
		if (strcmp(mode, "srar"))
			nanosleep(&tick, NULL);
	}
}
