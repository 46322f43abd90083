/* Host tests of kernel/sig's delivery policy and of the fault-to-signal mapping in
 * kernel/proc/entry.c, against the fake frame writer of fake_context.c: which signal goes
 * first, which handler runs with which mask, SA_NODEFER / SA_RESETHAND / SA_ONSTACK, the
 * alternate stack, what the frame is asked to hold, syscall restart around a handler,
 * rt_sigreturn (mask, forged and unreadable frames), default actions and their wait status,
 * and a frame that cannot be written. Flag values are Linux's, spelt out here on purpose. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_context.h"
#include "fake_sigframe.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/arch/uregs.h"
#include "../../include/entry.h"
#include "../../include/kerrno.h"
#include "../../include/sig.h"
#include "../../include/task.h"
#include <string.h>

#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER 0x04000000
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SIG_SETMASK 2
#define HANDLER 0x400100ull
#define RESTORER 0x400200ull
#define IP 0x401234ull
#define NR_WAIT4 61
#define SBIT(s) (1ull << ((s)-1))

struct ksigaction_abi {
	uint64_t handler, flags, restorer, mask;
};

static uint8_t ustack[16384] __attribute__((aligned(16)));
static uint8_t altstack[8192] __attribute__((aligned(16)));

static struct task *start(void)
{
	vt_setup(); /* the heap for the signal state */
	fake_console_clear();
	fake_sigframes = 0;
	struct task *t = fake_task_new(300, NULL, MF_KILL_DEFAULT, false);
	fake_current = t;
	return t;
}

static void end(struct task *t)
{
	fake_current = &fake_task_obj;
	fake_task_free(t);
}

static void handle(int sig, uint64_t flags, uint64_t mask)
{
	struct ksigaction_abi ka = {HANDLER, flags | SA_RESTORER, RESTORER, mask};
	CHECK_EQ(sys_rt_sigaction(sig, &ka, NULL, 8), 0);
}

static uint64_t blocked(void)
{
	uint64_t old = 0;
	CHECK_EQ(sys_rt_sigprocmask(SIG_SETMASK, NULL, &old, 8), 0);
	return old;
}

static struct user_regs user_regs_at(uint64_t sp)
{
	return (struct user_regs){.ip = IP, .sp = sp, .args = {1, 2, 3}, .ret = 77};
}

static void deliver_fn(void *r) { sig_deliver(r); }
static void exit_to_user_fn(void *r) { task_exit_to_user(r); }

/* Deliver t's next signal with registers r; true when the task died (then *status). */
static bool deliver(struct user_regs *r, int *status)
{
	struct task *t = current_task();
	if (!fake_run(deliver_fn, r))
		return false;
	*status = t->exit_code;
	fake_current = t; /* back to the test's task (it is a zombie now) */
	return true;
}

static void send(struct task *t, int sig)
{
	struct ksiginfo i = {.si_signo = sig, .si_code = SI_USER};
	i.u.kill.pid = 42;
	CHECK_EQ(sig_send(t, &i), 0);
}

TEST(sig_handler_gets_frame_and_mask)
{
	struct task *t = start();
	handle(SIGUSR1, SA_SIGINFO, SBIT(SIGUSR2) | SBIT(SIGKILL));
	send(t, SIGUSR1);
	CHECK(sig_pending(t));
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	int st;
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframes, 1);
	CHECK_EQ(fake_sigframe_req.sig, SIGUSR1);
	CHECK_EQ(fake_sigframe_req.handler, HANDLER);
	CHECK_EQ(fake_sigframe_req.restorer, RESTORER);
	CHECK_EQ(fake_sigframe_req.stack_top, 0); /* no alternate stack: below the user's sp */
	CHECK_EQ(fake_sigframe_req.uc_stack.ss_flags, SS_DISABLE);
	CHECK_EQ(fake_sigframe_req.uc_sigmask, 0); /* the mask before the handler */
	CHECK_EQ(fake_sigframe_at->info.si_signo, SIGUSR1);
	CHECK_EQ(fake_sigframe_at->info.si_code, SI_USER);
	CHECK_EQ(fake_sigframe_at->info.u.kill.pid, 42);
	CHECK_EQ(fake_sigframe_at->saved.ip, IP); /* the interrupted registers are in the frame */
	CHECK_EQ(fake_sigframe_at->saved.ret, 77);
	CHECK_EQ(r.ip, HANDLER);
	CHECK_EQ(r.args[0], SIGUSR1);
	/* Blocked in the handler: its mask and the signal itself, never SIGKILL. */
	CHECK_EQ(blocked(), SBIT(SIGUSR1) | SBIT(SIGUSR2));
	CHECK(!sig_pending(t));
	end(t);
}

TEST(sig_nodefer_resethand)
{
	struct task *t = start();
	handle(SIGUSR1, SA_NODEFER | SA_RESETHAND, 0);
	send(t, SIGUSR1);
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	int st;
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframes, 1);
	CHECK_EQ(blocked(), 0); /* SA_NODEFER: the signal stays unblocked */
	struct ksigaction_abi old;
	CHECK_EQ(sys_rt_sigaction(SIGUSR1, NULL, &old, 8), 0);
	CHECK_EQ(old.handler, 0); /* SA_RESETHAND: back to SIG_DFL */
	/* The next one takes the default action: terminate, wait status = the signal. */
	send(t, SIGUSR1);
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGUSR1);
	CHECK_EQ(t->state, TASK_ZOMBIE);
	end(t);
}

TEST(sig_order_and_one_frame_per_return)
{
	struct task *t = start();
	handle(SIGUSR1, 0, 0);
	handle(SIGUSR2, 0, 0);
	send(t, SIGUSR2);
	send(t, SIGUSR1);
	send(t, SIGUSR1); /* a standard signal does not queue twice */
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	int st;
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframe_req.sig, SIGUSR1); /* lowest number first */
	CHECK_EQ(fake_sigframes, 1);
	CHECK(sig_pending(t)); /* SIGUSR2 waits for the next return */
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframe_req.sig, SIGUSR2);
	CHECK_EQ(fake_sigframes, 2);
	CHECK(!sig_pending(t));
	/* SIGKILL goes before any lower-numbered signal, and kills whatever handlers say. */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){0}, NULL, 8);
	send(t, SIGUSR1);
	send(t, SIGKILL);
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGKILL);
	end(t);
}

TEST(sig_ignored_and_blocked)
{
	struct task *t = start();
	struct ksigaction_abi ign = {1 /* SIG_IGN */, 0, 0, 0};
	CHECK_EQ(sys_rt_sigaction(SIGUSR1, &ign, NULL, 8), 0);
	send(t, SIGUSR1);
	CHECK(!sig_pending(t)); /* ignored: dropped */
	send(t, SIGCHLD);
	CHECK(!sig_pending(t)); /* default action ignore: dropped */
	/* A blocked ignored signal stays pending (it may be unignored before it is unblocked). */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){SBIT(SIGUSR1)}, NULL, 8);
	send(t, SIGUSR1);
	uint64_t pend = 0;
	CHECK_EQ(sys_rt_sigpending(&pend, 8), 0);
	CHECK_EQ(pend, SBIT(SIGUSR1));
	/* SIGKILL and SIGSTOP cannot be blocked, caught or ignored. */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){~0ull}, NULL, 8);
	CHECK_EQ(blocked(), ~(SBIT(SIGKILL) | SBIT(SIGSTOP)));
	CHECK_EQ(sys_rt_sigaction(SIGKILL, &ign, NULL, 8), -EINVAL);
	CHECK_EQ(sys_rt_sigaction(SIGSTOP, &ign, NULL, 8), -EINVAL);
	CHECK_EQ(sys_rt_sigaction(0, NULL, NULL, 8), -EINVAL);
	CHECK_EQ(sys_rt_sigaction(65, NULL, NULL, 8), -EINVAL);
	CHECK_EQ(sys_rt_sigaction(SIGUSR1, NULL, NULL, 4), -EINVAL);
	end(t);
}

TEST(sig_altstack_choice)
{
	struct task *t = start();
	uint64_t user_sp = (uint64_t)(ustack + sizeof(ustack));
	struct ksigaltstack ss = {(uint64_t)altstack, 0, 0, sizeof(altstack)};
	CHECK_EQ(sys_sigaltstack(&ss, NULL, user_sp), 0);
	handle(SIGUSR1, SA_ONSTACK, 0);
	handle(SIGUSR2, 0, 0);
	send(t, SIGUSR1);
	struct user_regs r = user_regs_at(user_sp);
	int st;
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframe_req.stack_top, (uint64_t)altstack + sizeof(altstack));
	CHECK_EQ(fake_sigframe_req.uc_stack.ss_sp, (uint64_t)altstack);
	CHECK_EQ(fake_sigframe_req.uc_stack.ss_flags, 0); /* it was not on it */
	CHECK((uint64_t)fake_sigframe_at > (uint64_t)altstack);
	CHECK((uint64_t)fake_sigframe_at < (uint64_t)altstack + sizeof(altstack));
	/* Already on the alternate stack: the frame goes below the current sp, flagged so. */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){0}, NULL, 8);
	send(t, SIGUSR1);
	r = user_regs_at((uint64_t)altstack + 4096);
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframe_req.stack_top, 0);
	CHECK_EQ(fake_sigframe_req.uc_stack.ss_flags, SS_ONSTACK);
	CHECK_EQ(sys_sigaltstack(&ss, NULL, (uint64_t)altstack + 4096), -EPERM); /* in use */
	/* Without SA_ONSTACK the user's own stack is used. */
	send(t, SIGUSR2);
	r = user_regs_at(user_sp);
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(fake_sigframe_req.stack_top, 0);
	CHECK_EQ(fake_sigframe_req.uc_stack.ss_flags, 0);
	ss.ss_size = 100; /* below MINSIGSTKSZ */
	CHECK_EQ(sys_sigaltstack(&ss, NULL, user_sp), -ENOMEM);
	end(t);
}

TEST(sig_frame_unwritable_kills_with_sigsegv)
{
	struct task *t = start();
	handle(SIGUSR1, 0, 0);
	send(t, SIGUSR1);
	struct user_regs r = user_regs_at(64); /* no user memory there */
	int st;
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	CHECK_EQ(fake_sigframes, 0);
	end(t);
	/* No SA_RESTORER: the handler could not return, so it is not entered. */
	t = start();
	struct ksigaction_abi ka = {HANDLER, SA_SIGINFO, 0, 0};
	CHECK_EQ(sys_rt_sigaction(SIGUSR2, &ka, NULL, 8), 0);
	send(t, SIGUSR2);
	r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	end(t);
}

/* Registers of a wait4 that a signal interrupted (-ERESTARTSYS). */
static struct user_regs interrupted_syscall(void)
{
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	r.nr = NR_WAIT4;
	r.ret = -ERESTARTSYS;
	r.in_syscall = true;
	return r;
}

TEST(sig_syscall_restart_policy)
{
	struct task *t = start();
	handle(SIGUSR1, SA_RESTART, 0);
	handle(SIGUSR2, 0, 0);
	/* SA_RESTART: the frame saves registers that run the syscall again. */
	send(t, SIGUSR1);
	struct user_regs r = interrupted_syscall();
	REQUIRE(!fake_run(exit_to_user_fn, &r));
	CHECK_EQ(fake_sigframes, 1);
	CHECK_EQ(fake_sigframe_at->saved.ret, NR_WAIT4);
	CHECK_EQ(fake_sigframe_at->saved.ip, IP - FAKE_SYSCALL_INSN_LEN);
	/* Without it the syscall fails with -EINTR and is not run again. */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){0}, NULL, 8);
	send(t, SIGUSR2);
	r = interrupted_syscall();
	REQUIRE(!fake_run(exit_to_user_fn, &r));
	CHECK_EQ(fake_sigframes, 2);
	CHECK_EQ(fake_sigframe_at->saved.ret, -EINTR);
	CHECK_EQ(fake_sigframe_at->saved.ip, IP);
	/* No handler runs (nothing pending, or only an ignored signal): it restarts. */
	r = interrupted_syscall();
	REQUIRE(!fake_run(exit_to_user_fn, &r));
	CHECK_EQ(fake_sigframes, 2);
	CHECK_EQ(r.ret, NR_WAIT4);
	CHECK_EQ(r.ip, IP - FAKE_SYSCALL_INSN_LEN);
	/* A trap is not a syscall: its registers are left alone. */
	r = interrupted_syscall();
	r.in_syscall = false;
	REQUIRE(!fake_run(exit_to_user_fn, &r));
	CHECK_EQ(r.ret, -ERESTARTSYS);
	CHECK_EQ(r.ip, IP);
	end(t);
}

TEST(sig_rt_sigreturn)
{
	struct task *t = start();
	handle(SIGUSR1, 0, SBIT(SIGUSR2));
	send(t, SIGUSR1);
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	int st;
	REQUIRE(!deliver(&r, &st));
	CHECK_EQ(blocked(), SBIT(SIGUSR1) | SBIT(SIGUSR2));
	/* The handler returns: registers and mask come back from the frame... */
	CHECK_EQ(sys_rt_sigreturn(&r), 77);
	CHECK_EQ(r.ip, IP);
	CHECK_EQ(r.args[2], 3);
	CHECK(!r.in_syscall);
	CHECK_EQ(blocked(), 0);
	/* ...minus what cannot be blocked, whatever the frame says. */
	send(t, SIGUSR1);
	REQUIRE(!deliver(&r, &st));
	fake_sigframe_at->uc_sigmask = ~0ull;
	sys_rt_sigreturn(&r);
	CHECK_EQ(blocked(), ~(SBIT(SIGKILL) | SBIT(SIGSTOP)));
	CHECK(!sig_pending(t));
	/* A forged frame (a kernel ip) costs the task a SIGSEGV it cannot block. */
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){0}, NULL, 8);
	send(t, SIGUSR1);
	REQUIRE(!deliver(&r, &st));
	fake_sigframe_at->saved.ip = USER_VA_END_FAKE;
	sys_rt_sigreturn(&r);
	CHECK(strstr(fake_console, "forged signal frame"));
	CHECK(sig_pending(t));
	r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	end(t);
}

TEST(sig_rt_sigreturn_bad_frames)
{
	struct task *t = start();
	struct user_regs r = user_regs_at(64); /* unreadable: -EFAULT and SIGSEGV */
	CHECK_EQ(sys_rt_sigreturn(&r), -EFAULT);
	CHECK_EQ(r.ip, IP); /* registers untouched */
	int st;
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	end(t);
	t = start();
	handle(SIGUSR1, 0, 0);
	send(t, SIGUSR1);
	r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	REQUIRE(!deliver(&r, &st));
	fake_sigframe_at->fpu_bad = true; /* the FPU state it points at is unreadable */
	sys_rt_sigreturn(&r);
	CHECK(strstr(fake_console, "FPU state unreadable"));
	r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	end(t);
}

/* The signal task_user_trap sends for one trap (delivered to a catching handler). */
static struct ksiginfo trap_signal(enum user_trap trap, int err, uint64_t addr)
{
	struct task *t = start();
	for (int s = 1; s <= 31; s++)
		if (s != SIGKILL && s != SIGSTOP)
			handle(s, SA_SIGINFO, 0);
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	task_user_trap(&r, trap, addr, err);
	int st = 0;
	struct ksiginfo i = {0};
	if (deliver(&r, &st))
		i.si_signo = -st;
	else if (fake_sigframes)
		i = fake_sigframe_at->info;
	end(t);
	return i;
}

TEST(sig_user_traps_become_signals)
{
	struct ksiginfo i = trap_signal(UTRAP_DIVIDE, 0, IP);
	CHECK(i.si_signo == SIGFPE && i.si_code == FPE_INTDIV && i.u.fault.addr == IP);
	i = trap_signal(UTRAP_INVALID_OP, 0, IP);
	CHECK(i.si_signo == SIGILL && i.si_code == ILL_ILLOPN && i.u.fault.addr == IP);
	i = trap_signal(UTRAP_PAGE_FAULT, -EFAULT, 0x5000);
	CHECK(i.si_signo == SIGSEGV && i.si_code == SEGV_MAPERR && i.u.fault.addr == 0x5000);
	i = trap_signal(UTRAP_PAGE_FAULT, -EACCES, 0x6000);
	CHECK(i.si_signo == SIGSEGV && i.si_code == SEGV_ACCERR && i.u.fault.addr == 0x6000);
	i = trap_signal(UTRAP_PAGE_FAULT, -ENOMEM, 0x6000);
	CHECK_EQ(i.si_signo, -SIGKILL); /* out of memory: killed, no handler */
	i = trap_signal(UTRAP_GENERAL_PROT, 0, IP);
	CHECK(i.si_signo == SIGSEGV && i.si_code == SI_KERNEL);
	i = trap_signal(UTRAP_ALIGNMENT, 0, IP);
	CHECK(i.si_signo == SIGBUS && i.si_code == BUS_ADRALN);
	i = trap_signal(UTRAP_BREAKPOINT, 0, IP);
	CHECK(i.si_signo == SIGTRAP && i.si_code == TRAP_BRKPT);
	/* A fault signal the task blocks kills it (forced), as on Linux. */
	struct task *t = start();
	handle(SIGSEGV, SA_SIGINFO, 0);
	sys_rt_sigprocmask(SIG_SETMASK, &(uint64_t){SBIT(SIGSEGV)}, NULL, 8);
	struct user_regs r = user_regs_at((uint64_t)(ustack + sizeof(ustack)));
	task_user_trap(&r, UTRAP_GENERAL_PROT, IP, 0);
	int st;
	CHECK(deliver(&r, &st));
	CHECK_EQ(st, SIGSEGV);
	end(t);
}
