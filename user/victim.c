/* A program for machine checks injected from outside (QEMU's monitor `mce` command, or real
 * hardware): it fills a page, prints the page's physical address from /proc/self/pagemap and
 * the exact QEMU monitor command that poisons it, then keeps reading the page until SIGBUS.
 *   victim early   PR_MCE_KILL_EARLY: expects BUS_MCEERR_AO at once (SRAO injection)
 *   victim late    PR_MCE_KILL_LATE: expects BUS_MCEERR_AR on its next read (SRAO injection)
 *   victim srar    reads in a tight loop: expects BUS_MCEERR_AR (SRAR injected while it runs)
 * Prints "victim: SIGBUS si_code=N si_addr=P lsb=L" and exits 0 when it matches its mode. */
#define _GNU_SOURCE
#include <fcntl.h>
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
static uint64_t stamp_before; /* TSC of the last loop iteration before the signal */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	uint64_t now = rdtsc();
	int ok = si->si_code == want_code && si->si_addr == (void *)page && si->si_addr_lsb == 12;
	printf("victim: SIGBUS si_code=%d si_addr=%p lsb=%d (%s), %llu TSC cycles after the last "
	       "loop stamp\n", si->si_code, si->si_addr, si->si_addr_lsb, ok ? "as expected" : "WRONG",
	       (unsigned long long)(now - stamp_before));
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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "early";
	int early = !strcmp(mode, "early");
	want_code = early ? 5 /* BUS_MCEERR_AO */ : 4 /* BUS_MCEERR_AR */;
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	memset((void *)page, 0x42, PG);
	uint64_t pa = pfn_of(page) * PG;
	const char *status = !strcmp(mode, "srar") ? "0xbd80000000100134 0x6" : "0xbd000000000000c0 0x5";
	printf("victim: ready mode=%s addr=%p paddr=%#llx\n", mode, (void *)page, (unsigned long long)pa);
	printf("victim: poison it from the QEMU monitor with: mce -b 0 1 %s %#llx 0x86\n", status,
	       (unsigned long long)pa);
	fflush(stdout);
	struct timespec tick = {0, 5 * 1000 * 1000};
	for (unsigned long n = 0;; n++) {
		stamp_before = rdtsc();
		if (page[n % PG] != 0x42) {
			printf("victim: the page changed under us\n");
			return 2;
		}
		if (strcmp(mode, "srar"))
			nanosleep(&tick, NULL);
	}
}
