/* Signals as Linux delivers them: siginfo fields for faults and kill(), siglongjmp out of a
 * SIGSEGV handler, masking and pending, SA_RESETHAND, SA_NODEFER nesting, a handler on
 * sigaltstack after stack overflow, a forged signal frame, x87/SSE state kept in the frame
 * and restored after a handler that clobbers it (also a forged MXCSR), and a child killed by
 * SIGBUS. */
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

/* ---- x87/SSE state across a handler (Linux keeps it in the frame: uc_mcontext.fpregs) ---- */

#define MXCSR_DEFAULT 0x1f80u
#define MXCSR_ROUND_ZERO 0x6000u
static volatile unsigned fp_handler_mxcsr, fp_saved_mxcsr, fp_saved_mask;
static volatile uint64_t fp_saved_xmm3;
static volatile int fp_forge; /* 1: the handler also writes a forged MXCSR into the frame */

static void fpu_handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si;
	ucontext_t *uc = ucv;
	unsigned mx;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	fp_handler_mxcsr = mx; /* the handler starts with the default state */
	fpregset_t fp = uc->uc_mcontext.fpregs; /* musl and glibc spell the fields alike */
	if (fp) {
		fp_saved_mxcsr = fp->mxcsr;
		fp_saved_mask = fp->mxcr_mask;
		memcpy((void *)&fp_saved_xmm3, &fp->_xmm[3], sizeof(fp_saved_xmm3));
		fp->_xmm[1].element[0] = 0x600dcafe; /* sigreturn must load what the frame says */
		if (fp_forge)
			fp->mxcsr = 0xffffffffu;
	}
	/* Clobber everything the interrupted code had: SSE, MXCSR and the x87 stack. */
	unsigned clobber = MXCSR_DEFAULT | 0x2000u;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tmovdqa %%xmm0, %%xmm1\n\t"
			 "movdqa %%xmm0, %%xmm2\n\tmovdqa %%xmm0, %%xmm3\n\tmovdqa %%xmm0, %%xmm8\n\t"
			 "movdqa %%xmm0, %%xmm15\n\tldmxcsr %0\n\tfninit\n\tfld1\n\tfld1"
			 :
			 : "m"(clobber)
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm8", "xmm15");
}

/* Load xmm0..15, MXCSR and an x87 value, take SIGUSR1 from a raw kill syscall (so no C code
 * runs in between), and store them back. */
static void fpu_roundtrip(const uint64_t in[32], uint64_t out[32], unsigned mx_in,
			  unsigned *mx_out, double *x87_out)
{
	int pid = getpid();
	__asm__ volatile(
	    "ldmxcsr %[mxin]\n\t"
	    "movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\tmovdqu 32(%[in]), %%xmm2\n\t"
	    "movdqu 48(%[in]), %%xmm3\n\tmovdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"
	    "movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\tmovdqu 128(%[in]), %%xmm8\n\t"
	    "movdqu 144(%[in]), %%xmm9\n\tmovdqu 160(%[in]), %%xmm10\n\t"
	    "movdqu 176(%[in]), %%xmm11\n\tmovdqu 192(%[in]), %%xmm12\n\t"
	    "movdqu 208(%[in]), %%xmm13\n\tmovdqu 224(%[in]), %%xmm14\n\t"
	    "movdqu 240(%[in]), %%xmm15\n\t"
	    "fldpi\n\t"
	    "mov $62, %%eax\n\tmov %[pid], %%edi\n\tmov $10, %%esi\n\tsyscall\n\t" /* kill */
	    "fstpl %[x87]\n\t"
	    "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\tmovdqu %%xmm2, 32(%[out])\n\t"
	    "movdqu %%xmm3, 48(%[out])\n\tmovdqu %%xmm4, 64(%[out])\n\t"
	    "movdqu %%xmm5, 80(%[out])\n\tmovdqu %%xmm6, 96(%[out])\n\t"
	    "movdqu %%xmm7, 112(%[out])\n\tmovdqu %%xmm8, 128(%[out])\n\t"
	    "movdqu %%xmm9, 144(%[out])\n\tmovdqu %%xmm10, 160(%[out])\n\t"
	    "movdqu %%xmm11, 176(%[out])\n\tmovdqu %%xmm12, 192(%[out])\n\t"
	    "movdqu %%xmm13, 208(%[out])\n\tmovdqu %%xmm14, 224(%[out])\n\t"
	    "movdqu %%xmm15, 240(%[out])\n\t"
	    "stmxcsr %[mxout]\n\t"
	    "ldmxcsr %[mxdef]"
	    : [mxout] "=m"(*mx_out), [x87] "=m"(*x87_out)
	    : [in] "r"(in), [out] "r"(out), [pid] "r"(pid), [mxin] "m"(mx_in),
	      [mxdef] "m"((unsigned){MXCSR_DEFAULT})
	    : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
	      "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
	      "xmm15");
}

static void test_fpu_state(void)
{
	uint64_t in[32], out[32];
	unsigned mx = 0;
	double x87 = 0;
	for (int i = 0; i < 32; i++)
		in[i] = 0x0123456789abcdefull * (uint64_t)(i + 1);
	on(SIGUSR1, fpu_handler, 0);
	fpu_roundtrip(in, out, MXCSR_DEFAULT | MXCSR_ROUND_ZERO, &mx, &x87);
	CHECK(fp_handler_mxcsr == MXCSR_DEFAULT);		       /* the handler started clean */
	CHECK(fp_saved_mxcsr == (MXCSR_DEFAULT | MXCSR_ROUND_ZERO)); /* the frame had the old */
	CHECK(fp_saved_xmm3 == in[6]);
	CHECK(mx == (MXCSR_DEFAULT | MXCSR_ROUND_ZERO)); /* and got it back */
	CHECK(x87 == 3.14159265358979323846);
	for (int i = 0; i < 32; i++)
		if (i != 2)
			CHECK(out[i] == in[i]);
	CHECK((uint32_t)out[2] == 0x600dcafe); /* xmm1's low word as the handler wrote it */

	/* A forged MXCSR (reserved bits set) must neither fault in the kernel nor reach the
	 * CPU: the reserved bits are dropped. */
	fp_forge = 1;
	fpu_roundtrip(in, out, MXCSR_DEFAULT, &mx, &x87);
	fp_forge = 0;
	CHECK(fp_saved_mask != 0);
	CHECK(mx == (0xffffffffu & fp_saved_mask));
	signal(SIGUSR1, SIG_DFL);
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
	test_fpu_state();
	test_child_sigbus();
	DONE("signals");
}
