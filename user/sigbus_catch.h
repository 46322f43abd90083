/* Catching SIGBUS in a test program (user/hwpoison.c, user/thp.c): the handler records what
 * the signal said and jumps back to the sigsetjmp on jb, so that a program can touch a
 * poisoned page and then look at si_code, si_addr and si_addr_lsb. Header-only: each program
 * is one static binary. */
#pragma once
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

static sigjmp_buf jb;
static volatile int got_code, got_lsb, got_count;
static void *volatile got_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	got_code = si->si_code;
	got_addr = si->si_addr;
	got_lsb = si->si_addr_lsb;
	got_count++;
	siglongjmp(jb, 1);
}

/* Install on_sigbus for SIGBUS. */
static __attribute__((unused)) void catch_sigbus(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
}
