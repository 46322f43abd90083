/* Signals as Linux delivers them: siginfo fields for faults and kill(), siglongjmp out of a
 * SIGSEGV handler, masking and pending, SA_RESETHAND, SA_NODEFER nesting, a handler on
 * sigaltstack after stack overflow, a forged signal frame, and a child killed by SIGBUS. */
#define _GNU_SOURCE
#include "utest.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile uintptr_t bad_addr = 0x8;
static volatile siginfo_t last;
static volatile int hits, depth, max_depth;

static void catcher(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last = *si;
	hits++;
	siglongjmp(jb, sig);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void test_faults(void)
{
	on(SIGSEGV, catcher, 0);
	on(SIGFPE, catcher, 0);
	on(SIGILL, catcher, 0);
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)(uintptr_t)bad_addr = 1;
	CHECK(last.si_signo == SIGSEGV && last.si_code == SEGV_MAPERR && last.si_addr == (void *)0x8);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(jb, 1) == 0)
		*(volatile char *)ro = 1;
	CHECK(last.si_signo == SIGSEGV && last.si_code == SEGV_ACCERR && last.si_addr == ro);
	volatile int zero = 0;
	if (sigsetjmp(jb, 1) == 0)
		zero = 10 / zero;
	CHECK(last.si_signo == SIGFPE && last.si_code == FPE_INTDIV);
	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("ud2");
	CHECK(last.si_signo == SIGILL && last.si_code == ILL_ILLOPN);
	on(SIGUSR1, catcher, 0);
	if (sigsetjmp(jb, 1) == 0) {
		kill(getpid(), SIGUSR1);
		for (;;)
			;
	}
	CHECK(last.si_signo == SIGUSR1 && last.si_code == SI_USER && last.si_pid == getpid());
	CHECK(hits == 5);
}

static volatile int usr2;
static void count_usr2(int sig) { (void)sig; usr2++; }

static void test_mask_and_resethand(void)
{
	sigset_t set, old, pend;
	signal(SIGUSR2, count_usr2);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	kill(getpid(), SIGUSR2);
	CHECK(usr2 == 0);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(usr2 == 1);
	struct sigaction sa = {0};
	sa.sa_handler = count_usr2;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGUSR2, &sa, NULL);
	kill(getpid(), SIGUSR2);
	CHECK(usr2 == 2);
	sigaction(SIGUSR2, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL);
}

static void nested(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (depth < 3)
		kill(getpid(), sig); /* delivered at once with SA_NODEFER */
	depth--;
}

static void test_nodefer(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = nested;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	kill(getpid(), SIGUSR1);
	CHECK(max_depth == 3);
}

static char altstack[64 * 1024];
static volatile int on_alt;

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	siglongjmp(jb, sig);
}

static volatile int keep_going = 1;

static int recurse(int n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return keep_going ? recurse(n + 1) + pad[0] : 0; /* runs until the stack overflows */
}

static void test_altstack(void)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
	CHECK(sigaltstack(&ss, NULL) == 0);
	on(SIGSEGV, overflow_handler, SA_ONSTACK);
	if (sigsetjmp(jb, 1) == 0)
		recurse(0);
	CHECK(on_alt);
}

static void forged(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si;
	ucontext_t *uc = ucv;
	uc->uc_mcontext.gregs[REG_CSGSFS] = 0x10; /* kernel CS */
	uc->uc_mcontext.gregs[REG_EFL] |= 3 << 12; /* IOPL 3 */
}

static void test_forged_frame(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		on(SIGUSR1, forged, 0);
		kill(getpid(), SIGUSR1);
		/* If we get here, the kernel cleaned the frame: we must not have IOPL. */
		unsigned long fl;
		__asm__ volatile("pushfq; popq %0" : "=r"(fl));
		_exit(((fl >> 12) & 3) ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	/* Linux kills with SIGSEGV for a bad CS; either way ring 0 and IOPL were refused. */
	CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV));
}

static void test_child_sigbus(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		raise(SIGBUS);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
}

int main(void)
{
	test_faults();
	test_mask_and_resethand();
	test_nodefer();
	test_altstack();
	test_forged_frame();
	test_child_sigbus();
	DONE("signals");
}
