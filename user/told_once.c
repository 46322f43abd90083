/* Every mapper of a poisoned page is told once (the injection campaign found it told twice):
 * a parent and its forked child share a page copy-on-write, both with early kill and a
 * SIGBUS handler that drops the page. The child reads the page in a loop without any syscall;
 * the parent poisons it with madvise(MADV_HWPOISON). memory_failure unmaps both, then signals
 * both. With two CPUs the child, still reading, meets the unmapped page before its
 * BUS_MCEERR_AO is sent and is told by that touch (BUS_MCEERR_AR); it must then get no AO on
 * top. Each round both must be told exactly once, with the page's address; the child waits
 * GRACE_MS more for a second signal. Prints how many rounds the child was told by its touch
 * (the race) and by the AO. Exits 0 when every round passed. The same source runs on Linux,
 * which tells such a child twice (it sends the AO whatever happened since the unmapping). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "utest.h"

#define PG 4096
#define ROUNDS 30
#define GRACE_MS 150
#define CHILD_WAIT_S 10
#define MADV_HWPOISON_ADVICE 100

struct shared {
	volatile int spinning; /* the child reads the page now */
	volatile int codes[8]; /* the child's si_codes, in order */
	volatile int told;     /* how many */
};

static volatile char *page;
static struct shared *sh;
static volatile int parent_told, parent_code, is_child;
static volatile uintptr_t bad_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if ((uintptr_t)si->si_addr != (uintptr_t)page)
		bad_addr = (uintptr_t)si->si_addr;
	madvise((void *)page, PG, MADV_DONTNEED); /* drop the lost page; the next read is fresh */
	if (is_child) {
		if (sh->told < 8)
			sh->codes[sh->told] = si->si_code;
		sh->told++;
	} else {
		parent_told++;
		parent_code = si->si_code;
	}
}

static uint64_t ms_to_tsc(unsigned ms)
{
	return (utest_tsc_deadline(1) - utest_rdtsc()) / 1000 * ms;
}

/* The child: read the page until told, then GRACE_MS more (a second telling would come then). */
static void child(uint64_t grace)
{
	is_child = 1;
	uint64_t give_up = utest_rdtsc() + grace / GRACE_MS * 1000 * CHILD_WAIT_S;
	sh->spinning = 1;
	while (!sh->told && utest_rdtsc() < give_up)
		(void)page[(utest_rdtsc() >> 4) % PG];
	for (uint64_t end = utest_rdtsc() + grace; utest_rdtsc() < end;)
		(void)page[0];
	_exit(bad_addr ? 3 : 0);
}

/* One round; 0 when both were told once, and *raced says how the child was told. */
static int round_once(int r, uint64_t grace, int *raced)
{
	page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset((void *)page, 0x5a, PG);
	memset(sh, 0, sizeof(*sh));
	parent_told = 0;
	pid_t pid = fork();
	if (pid == 0)
		child(grace);
	while (!sh->spinning)
		sched_yield();
	CHECK(madvise((void *)page, PG, MADV_HWPOISON_ADVICE) == 0);
	for (uint64_t end = utest_rdtsc() + grace; utest_rdtsc() < end;)
		;
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	*raced = sh->told >= 1 && sh->codes[0] == BUS_MCEERR_AR;
	int ok = parent_told == 1 && parent_code == BUS_MCEERR_AO && sh->told == 1 &&
		 WIFEXITED(status) && WEXITSTATUS(status) == 0 && !bad_addr;
	if (!ok)
		printf("told_once: round %d: parent told %d time(s) (code %d), child %d time(s) "
		       "(codes %d %d), child status %#x\n",
		       r, parent_told, parent_code, sh->told, sh->codes[0], sh->codes[1], status);
	munmap((void *)page, PG);
	return ok ? 0 : 1;
}

int main(void)
{
	sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) == 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	uint64_t grace = ms_to_tsc(GRACE_MS);
	int failed = 0, raced = 0;
	for (int r = 0; r < ROUNDS && sh != MAP_FAILED; r++) {
		int by_touch = 0;
		failed += round_once(r, grace, &by_touch);
		raced += by_touch;
	}
	printf("told_once: %d rounds; the child was told by its touch in %d, by BUS_MCEERR_AO in "
	       "%d; %d round(s) told someone other than once\n",
	       ROUNDS, raced, ROUNDS - raced, failed);
	CHECK(failed == 0);
	DONE("told_once");
}
