/* Host tests of kernel/proc on the fake CPU (fake_context.h) with the real scheduler:
 * syscall registration and dispatch (duplicates refused, unknown numbers -ENOSYS and
 * counted, arguments in order), and process life: fork returns twice, exit and default
 * signal actions give Linux's wait status and SIGCHLD, wait4's WNOHANG / -ECHILD /
 * interrupted cases, clone's refused flag combinations, a thread's exit and exit_group,
 * a stop and a continue reported by wait4 and SIGCHLD, FUTEX_WAKE_OP's operations against a
 * model, and every frame (kernel stacks included) back once all are reaped; and the kernel
 * workers: queued work takes the CPU from a user task that never sleeps, at its way back to
 * user mode, and the tick repeats a kick that was lost. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_context.h"
#include "fake_sigframe.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/arch/context.h"
#include "../../include/arch/uregs.h"
#include "../../include/entry.h"
#include "../../include/kerrno.h"
#include "../../include/sig.h"
#include "../../include/syscall.h"
#include "../../include/frame.h"
#include "../../include/kmalloc.h"
#include "../../include/task.h"
#include "../../include/work.h"
#include <string.h>

#define NR_KILL 62
#define NR_GETPID 39
#define NR_GETPPID 110
#define NR_FORK 57
#define NR_CLONE 56
#define NR_EXIT 60
#define NR_WAIT4 61
#define NR_PRCTL 157
#define NR_CLOCK_NANOSLEEP 230
#define CLONE_SIGCHLD 17
#define PR_MCE_KILL 33
#define PR_MCE_KILL_GET 34
#define PR_MCE_KILL_SET 1
#define PR_MCE_KILL_EARLY 1
#define SA_SIGINFO 0x4
#define SA_RESTORER 0x04000000
#define SA_RESTART 0x10000000

void task_release_zombie(struct thread_group *c); /* kernel/proc/exit.c */

struct ksigaction_abi {
	uint64_t handler, flags, restorer, mask;
};

static struct task *idle;

/* The host's table holds every syscall the host build links. */
static void syscalls_ready(void)
{
	static bool done;
	if (!done)
		syscall_init(); /* panics on a duplicate or out-of-range number */
	done = true;
}

static void start(void)
{
	vt_start();
	fake_cpu_id = 0;
	fake_cpu_count = 1;
	fake_console_clear();
	syscalls_ready();
	sched_init(); /* the test runs as CPU 0's idle task until it switches */
	idle = current_task();
}

/* Every task reaped, the test's own task freed, every frame back. */
static void end(void)
{
	CHECK_EQ(task_count(), 0);
	arch_set_kernel_stack(NULL);
	fake_current = &fake_task_obj;
	vt_check_clean();
}

static void do_schedule(void *unused)
{
	(void)unused;
	schedule();
}

/* A user task with an empty address space, made runnable. */
static struct task *spawn(const char *name)
{
	struct task *t = task_create_kernel(name, NULL, NULL);
	if (!t || sig_task_init(t))
		return NULL;
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	task_set_mm(t, mm);
	sched_start_task(t);
	return t;
}

/* start(), then a new user task running: the test goes on as it. NULL if it could not. */
static struct task *start_as(const char *name)
{
	start();
	struct task *t = spawn(name);
	if (!t || !fake_run(do_schedule, NULL) || current_task() != t)
		return NULL;
	return t;
}

static void dispatch(void *r) { syscall_dispatch(r); }

/* The current task makes syscall nr. true when it switched away (slept or exited): the
 * current task is then whoever the scheduler picked; else *ret is the result. */
static bool sys(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, long *ret)
{
	struct user_regs *r = fake_syscall_regs(nr, a0, a1, a2, 0);
	if (fake_run(dispatch, r))
		return true;
	*ret = arch_syscall_retval(r);
	return false;
}

/* The same with six arguments. */
static bool sys6(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5, long *ret)
{
	struct user_regs *r = fake_syscall_regs(nr, a0, a1, a2, a3);
	r->args[4] = a4;
	r->args[5] = a5;
	if (fake_run(dispatch, r))
		return true;
	*ret = arch_syscall_retval(r);
	return false;
}

/* The current task, with no parent, exits; the test reaps it as nobody else will. */
static void exit_orphan(void)
{
	struct task *t = current_task();
	long ret;
	CHECK(sys(NR_EXIT, 0, 0, 0, &ret));
	CHECK_EQ(t->state, TASK_ZOMBIE);
	CHECK_EQ(t->group->state, GROUP_ZOMBIE);
	CHECK(current_task() == idle);
	task_release_zombie(t->group);
}

static void to_user(void *r) { task_exit_to_user(r); }

/* Deliver the current task's pending signal to its handler; the frame's siginfo. */
static struct ksiginfo take_signal(void)
{
	unsigned before = fake_sigframes;
	struct user_regs *r = arch_current_user_regs();
	CHECK(!fake_run(to_user, r));
	CHECK_EQ(fake_sigframes, before + 1);
	return fake_sigframe_at->info;
}

static void catch_signal(int sig, uint64_t flags)
{
	struct ksigaction_abi ka = {0x400100, flags | SA_SIGINFO | SA_RESTORER, 0x400200, 0};
	CHECK_EQ(sys_rt_sigaction(sig, &ka, NULL, 8), 0);
}

static int noop_calls;
static long sys_noop(const struct syscall_args *a)
{
	noop_calls++;
	return (long)(a->arg[0] + a->arg[5]);
}

TEST(proc_syscall_table_refuses_duplicates)
{
	const struct syscall_def defs[] = {{3, sys_noop, "a"}, {7, sys_noop, "b"},
					   {3, sys_noop, "c"}, {SYSCALL_NR_MAX, sys_noop, "d"}};
	const struct syscall_def *tab[SYSCALL_NR_MAX] = {0}, *bad = NULL;
	CHECK_EQ(syscall_table_fill(tab, defs, 2, &bad), 0);
	CHECK(tab[3] == &defs[0] && tab[7] == &defs[1] && !tab[0]);
	CHECK_EQ(syscall_table_fill(tab, defs + 2, 1, &bad), -EEXIST);
	CHECK(bad == &defs[2]);
	CHECK(tab[3] == &defs[0]); /* the first registration stays */
	CHECK_EQ(syscall_table_fill(tab, defs + 3, 1, &bad), -ERANGE);
	CHECK(bad == &defs[3]);
}

TEST(proc_syscall_unknown_numbers)
{
	start();
	struct user_regs r = {.nr = 400, .in_syscall = true};
	uint64_t n400 = syscall_unknown_count(400), nbig = syscall_unknown_count(SYSCALL_NR_MAX);
	syscall_dispatch(&r);
	CHECK_EQ(r.ret, -ENOSYS);
	syscall_dispatch(&r);
	CHECK_EQ(syscall_unknown_count(400), n400 + 2);
	/* Numbers past the table share one count; none of them crashes. */
	uint64_t huge[] = {SYSCALL_NR_MAX, SYSCALL_NR_MAX + 1, 1ull << 40, ~0ull, 1ull << 63};
	for (unsigned i = 0; i < 5; i++) {
		r = (struct user_regs){.nr = huge[i], .ret = 1, .in_syscall = true};
		syscall_dispatch(&r);
		CHECK_EQ(r.ret, -ENOSYS);
	}
	CHECK_EQ(syscall_unknown_count(SYSCALL_NR_MAX), nbig + 5);
	CHECK_EQ(syscall_unknown_count(~0ull), nbig + 5);
	/* The first call of each number is logged, later ones only counted. */
	const char *line = "syscall 400 (by idle/0) is not implemented: -ENOSYS";
	const char *first = strstr(fake_console, line);
	CHECK(n400 > 0 || first);
	CHECK(!first || !strstr(first + 1, line));
	end();
}

TEST(proc_syscall_arguments_reach_handlers)
{
	struct task *p = start_as("args");
	REQUIRE(p);
	long ret;
	CHECK(!sys(NR_GETPID, 0, 0, 0, &ret));
	CHECK_EQ(ret, p->pid);
	CHECK(!sys(NR_GETPPID, 0, 0, 0, &ret));
	CHECK_EQ(ret, 0);
	/* prctl(PR_MCE_KILL, PR_MCE_KILL_SET, EARLY, 0, 0): args 0..4 in order. */
	CHECK(!sys(NR_PRCTL, PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, &ret));
	CHECK_EQ(ret, 0);
	CHECK_EQ(p->mf_kill, MF_KILL_EARLY);
	CHECK(!sys(NR_PRCTL, PR_MCE_KILL_GET, 0, 0, &ret));
	CHECK_EQ(ret, PR_MCE_KILL_EARLY);
	CHECK(!sys(NR_PRCTL, PR_MCE_KILL, PR_MCE_KILL_SET, 7, &ret));
	CHECK_EQ(ret, -EINVAL);
	/* clock_nanosleep(clock, flags, request, remain): a bad clock is -EINVAL, a sleeping
	 * clock with an unreadable request -EFAULT. */
	CHECK(!sys(NR_CLOCK_NANOSLEEP, 10, 1, 0x1000, &ret));
	CHECK_EQ(ret, -EINVAL);
	CHECK(!sys(NR_CLOCK_NANOSLEEP, 1, 1, 8, &ret));
	CHECK_EQ(ret, -EFAULT);
	/* clone(CLONE_THREAD) without CLONE_SIGHAND: -EINVAL, as Linux's copy_process. */
	CHECK(!sys(NR_CLONE, CLONE_THREAD | CLONE_VM, 0x7000, 0, &ret));
	CHECK_EQ(ret, -EINVAL);
	CHECK(!sys(NR_KILL, (uint64_t)-5, 0, 0, &ret));
	CHECK_EQ(ret, -ESRCH);
	exit_orphan();
	end();
}

TEST(proc_fork_exit_wait_status)
{
	struct task *p = start_as("parent");
	REQUIRE(p);
	catch_signal(SIGCHLD, 0);
	long pid, ret;
	int status = -1;
	REQUIRE(!sys(NR_FORK, 0, 0, 0, &pid));
	REQUIRE(pid > 0 && pid != p->pid);
	struct task *c = task_find((int)pid);
	REQUIRE(c);
	task_put(c);
	CHECK(c->group->parent == p->group);
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, WNOHANG, &ret));
	CHECK_EQ(ret, 0); /* the child lives */
	CHECK(!sys(NR_WAIT4, (uint64_t)(pid + 1000), (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, -ECHILD); /* not a child of ours */
	/* A blocking wait4 sleeps: the child runs, and sees fork return 0. */
	REQUIRE(sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	REQUIRE(current_task() == c);
	CHECK_EQ(arch_syscall_retval(arch_current_user_regs()), 0);
	CHECK(!sys(NR_GETPPID, 0, 0, 0, &ret));
	CHECK_EQ(ret, p->pid);
	/* exit(0x107): only the low 8 bits count. The parent wakes. */
	REQUIRE(sys(NR_EXIT, 0x107, 0, 0, &ret));
	REQUIRE(current_task() == p);
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, pid);
	CHECK_EQ(status, 0x0700); /* WIFEXITED, WEXITSTATUS 7 */
	struct ksiginfo i = take_signal();
	CHECK_EQ(i.si_signo, SIGCHLD);
	CHECK_EQ(i.si_code, CLD_EXITED);
	CHECK_EQ(i.u.chld.pid, pid);
	CHECK_EQ(i.u.chld.status, 7);
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, -ECHILD);
	exit_orphan();
	end();
}

/* The parent forks a child, kills it with sig, and reaps it: its wait status and SIGCHLD. */
static void killed_child(int sig)
{
	struct task *p = current_task();
	long pid, ret;
	int status = -1;
	REQUIRE(!sys(NR_FORK, 0, 0, 0, &pid));
	CHECK(!sys(NR_KILL, (uint64_t)pid, (uint64_t)sig, 0, &ret));
	CHECK_EQ(ret, 0);
	REQUIRE(sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, 0, &ret));
	REQUIRE(current_task()->pid == pid);
	/* On its way back to user mode the child meets the default action. */
	REQUIRE(fake_run(to_user, arch_current_user_regs()));
	REQUIRE(current_task() == p);
	CHECK(!sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, pid);
	CHECK_EQ(status, sig); /* WIFSIGNALED, WTERMSIG sig, no core-dump bit */
	struct ksiginfo i = take_signal();
	CHECK_EQ(i.si_code, CLD_KILLED);
	CHECK_EQ(i.u.chld.status, sig);
	CHECK_EQ(i.u.chld.pid, pid);
	sys_rt_sigreturn(arch_current_user_regs()); /* SIGCHLD unblocked again */
}

TEST(proc_killed_child_status)
{
	struct task *p = start_as("parent");
	REQUIRE(p);
	catch_signal(SIGCHLD, 0);
	killed_child(SIGTERM); /* terminate */
	killed_child(SIGSEGV); /* "core": no core file, so reported as killed, as Linux does */
	killed_child(SIGKILL);
	exit_orphan();
	end();
}

TEST(proc_wait4_interrupted_by_signal)
{
	struct task *p = start_as("parent");
	REQUIRE(p);
	catch_signal(SIGUSR1, 0);
	catch_signal(SIGUSR2, SA_RESTART);
	long pid, ret;
	int status;
	REQUIRE(!sys(NR_FORK, 0, 0, 0, &pid));
	/* A signal pending before it sleeps: wait4 gives -ERESTARTSYS, and the handler
	 * without SA_RESTART turns it into -EINTR... */
	sig_send(p, &(struct ksiginfo){.si_signo = SIGUSR1});
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, -ERESTARTSYS);
	struct user_regs *r = arch_current_user_regs();
	uint64_t ip = r->ip;
	take_signal();
	CHECK_EQ(fake_sigframe_at->saved.ret, -EINTR);
	CHECK_EQ(fake_sigframe_at->saved.ip, ip);
	/* ...while one with SA_RESTART makes it run again after the handler. */
	CHECK_EQ(sys_rt_sigreturn(r), -EINTR);
	sig_send(p, &(struct ksiginfo){.si_signo = SIGUSR2});
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, -ERESTARTSYS);
	take_signal();
	CHECK_EQ(fake_sigframe_at->saved.ret, NR_WAIT4);
	CHECK_EQ(fake_sigframe_at->saved.ip, ip - FAKE_SYSCALL_INSN_LEN);
	sys_rt_sigreturn(r);
	/* The restarted wait4 sleeps until the child exits, then reaps it. */
	REQUIRE(sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	REQUIRE(current_task()->pid == pid);
	REQUIRE(sys(NR_EXIT, 3, 0, 0, &ret));
	REQUIRE(current_task() == p);
	CHECK(!sys(NR_WAIT4, (uint64_t)-1, (uint64_t)&status, 0, &ret));
	CHECK_EQ(ret, pid);
	CHECK_EQ(status, 0x300);
	exit_orphan();
	end();
}

/* ---- threads and process model ---- */

#define NR_GETTID 186
#define NR_EXIT_GROUP 231
#define NR_FUTEX 202
#define NR_WAITID 247
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM)

/* Every combination Linux's copy_process refuses, and what MCRK does not implement: -EINVAL,
 * and no task made. */
TEST(proc_clone_refuses_bad_flags)
{
	static const uint64_t bad[] = {
	    CLONE_THREAD | CLONE_VM,			   /* a thread needs shared actions */
	    CLONE_SIGHAND,				   /* shared actions need shared memory */
	    CLONE_NEWNS | CLONE_FS, CLONE_NEWUSER | CLONE_FS,
	    THREAD_FLAGS | CLONE_NEWPID,		   /* a thread in another pid namespace */
	    THREAD_FLAGS | CLONE_PIDFD, CLONE_PIDFD | CLONE_DETACHED,
	    CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWIPC, CLONE_PIDFD, /* not implemented */
	};
	struct task *p = start_as("cloner");
	REQUIRE(p);
	unsigned tasks = task_count();
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		long ret;
		CHECK(!sys(NR_CLONE, bad[i] | CLONE_SIGCHLD, 0, 0, &ret));
		CHECK_EQ(ret, -EINVAL);
	}
	CHECK_EQ(task_count(), tasks);
	exit_orphan();
	end();
}

/* A thread: its own tid, the process's pid; exit ends it alone, exit_group the process (the
 * other thread dies of the SIGKILL it gets), which ends with exit_group's status. */
TEST(proc_thread_exit_and_exit_group)
{
	struct task *p = start_as("threads");
	REQUIRE(p);
	catch_signal(SIGUSR1, 0);
	long tid, ret;
	REQUIRE(!sys(NR_CLONE, THREAD_FLAGS, 0x7000, 0, &tid));
	REQUIRE(tid > 0 && tid != p->pid);
	struct task *t = task_find((int)tid);
	REQUIRE(t);
	task_put(t);
	CHECK(t->group == p->group && p->group->nr_threads == 2 && t->mm == p->mm);
	CHECK(t->fdt == p->fdt);
	/* The parent waits in pause; the thread runs: pid is the process's, tid its own. */
	REQUIRE(sys(34 /* pause */, 0, 0, 0, &ret));
	REQUIRE(current_task() == t);
	CHECK(!sys(NR_GETPID, 0, 0, 0, &ret));
	CHECK_EQ(ret, p->pid);
	CHECK(!sys(NR_GETTID, 0, 0, 0, &ret));
	CHECK_EQ(ret, tid);
	REQUIRE(sys(NR_EXIT, 3, 0, 0, &ret)); /* this thread only */
	CHECK_EQ(p->group->nr_threads, 1);
	CHECK_EQ(p->group->state, GROUP_LIVE);
	/* The parent wakes (a caught signal) and makes another thread, then exit_group(5). */
	sig_send(p, &(struct ksiginfo){.si_signo = SIGUSR1});
	REQUIRE(fake_run(do_schedule, NULL) && current_task() == p);
	REQUIRE(!sys(NR_CLONE, THREAD_FLAGS, 0x7000, 0, &tid));
	REQUIRE(sys(NR_EXIT_GROUP, 5, 0, 0, &ret));
	CHECK_EQ(p->state, TASK_ZOMBIE);
	CHECK_EQ(p->group->state, GROUP_LIVE); /* the other thread still has to die */
	REQUIRE(current_task()->pid == tid);
	CHECK(sig_fatal_pending(current_task()));
	REQUIRE(fake_run(to_user, arch_current_user_regs())); /* it meets its SIGKILL */
	CHECK_EQ(p->group->state, GROUP_ZOMBIE);
	CHECK_EQ(p->group->exit_status, 0x500); /* exit_group's, not the SIGKILL's */
	task_release_zombie(p->group);
	end();
}

/* Job control on the fake CPU: a child stops (SIGSTOP) and continues (SIGCONT); wait4 with
 * WUNTRACED and WCONTINUED reports each once; SIGCHLD says CLD_STOPPED, CLD_CONTINUED. */
TEST(proc_job_control_stop_continue)
{
	struct task *p = start_as("shell");
	REQUIRE(p);
	catch_signal(SIGCHLD, 0);
	long pid, ret;
	int status = 0;
	REQUIRE(!sys(NR_FORK, 0, 0, 0, &pid));
	struct task *c = task_find((int)pid);
	REQUIRE(c);
	task_put(c);
	CHECK(!sys(NR_KILL, (uint64_t)pid, SIGSTOP, 0, &ret));
	CHECK_EQ(ret, 0);
	/* We wait; the child runs into its SIGSTOP on its way to user mode and stops. */
	REQUIRE(sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, WUNTRACED, &ret));
	REQUIRE(current_task() == c);
	REQUIRE(fake_run(to_user, arch_current_user_regs()));
	REQUIRE(current_task() == p);
	CHECK(c->group->jobctl & JOBCTL_STOPPED);
	CHECK(!sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, WUNTRACED, &ret));
	CHECK_EQ(ret, pid);
	CHECK_EQ(status, (SIGSTOP << 8) | 0x7f); /* WIFSTOPPED, WSTOPSIG */
	CHECK(!sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, WUNTRACED | WNOHANG, &ret));
	CHECK_EQ(ret, 0); /* once */
	struct ksiginfo i = take_signal();
	CHECK_EQ(i.si_code, CLD_STOPPED);
	CHECK_EQ(i.u.chld.status, SIGSTOP);
	sys_rt_sigreturn(arch_current_user_regs());
	CHECK(!sys(NR_KILL, (uint64_t)pid, SIGCONT, 0, &ret));
	CHECK(!(c->group->jobctl & JOBCTL_STOPPED) && (c->group->jobctl & JOBCTL_CONTINUED));
	CHECK(!sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, WCONTINUED, &ret));
	CHECK_EQ(ret, pid);
	CHECK_EQ(status, 0xffff); /* WIFCONTINUED */
	i = take_signal();
	CHECK_EQ(i.si_code, CLD_CONTINUED);
	CHECK_EQ(i.u.chld.status, SIGCONT);
	sys_rt_sigreturn(arch_current_user_regs());
	/* SIGKILL: gone, reaped. */
	CHECK(!sys(NR_KILL, (uint64_t)pid, SIGKILL, 0, &ret));
	REQUIRE(sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, 0, &ret));
	REQUIRE(current_task() == c);
	REQUIRE(fake_run(to_user, arch_current_user_regs()));
	REQUIRE(current_task() == p);
	CHECK(!sys(NR_WAIT4, (uint64_t)pid, (uint64_t)&status, 0, &ret));
	CHECK_EQ(status, SIGKILL);
	exit_orphan();
	end();
}

/* FUTEX_WAKE_OP's operation on the second word, against an independent statement of Linux's
 * futex_atomic_op_inuser: every operation and comparison, sign-extended 12-bit arguments,
 * FUTEX_OP_OPARG_SHIFT; unknown ones -ENOSYS (the operation before the comparison). */
static int64_t model_op(unsigned op, int32_t oparg, uint32_t *w)
{
	uint32_t old = *w, a = (uint32_t)oparg;
	switch (op) {
	case 0: *w = a; break;
	case 1: *w = old + a; break;
	case 2: *w = old | a; break;
	case 3: *w = old & ~a; break;
	case 4: *w = old ^ a; break;
	default: return -ENOSYS;
	}
	return (int32_t)old;
}

TEST(proc_futex_wake_op_operations)
{
	struct task *p = start_as("futex");
	REQUIRE(p);
	static const int32_t args[] = {0, 1, 5, 31, 2047, -1, -2048};
	static uint32_t w1 __attribute__((aligned(4))), w2 __attribute__((aligned(4)));
	for (unsigned op = 0; op < 8; op++)
		for (unsigned shift = 0; shift < 2; shift++)
			for (unsigned cmp = 0; cmp < 8; cmp++)
				for (unsigned k = 0; k < ARRAY_SIZE(args); k++) {
					int32_t oparg = args[k], cmparg = args[(k + 3) % ARRAY_SIZE(args)];
					uint32_t enc = (op << 28) | (shift << 31) | (cmp << 24) |
						       (((uint32_t)oparg & 0xfff) << 12) | ((uint32_t)cmparg & 0xfff);
					uint32_t want = 0x80000010u + k;
					int32_t eff = shift ? (int32_t)(1u << (oparg & 31)) : oparg;
					w2 = want;
					int64_t old = model_op(op & 7, eff, &want);
					long ret;
					CHECK(!sys6(NR_FUTEX, (uint64_t)&w1, 5 | 128 /* WAKE_OP, private */, 1, 1,
						    (uint64_t)&w2, enc, &ret));
					bool known = old != -ENOSYS && cmp <= 5;
					CHECK_EQ(ret, known ? 0 : -ENOSYS); /* nobody waits: 0 woken */
					CHECK_EQ(w2, want);
				}
	exit_orphan();
	end();
}

/* ---- kernel workers ---- */

static unsigned work_runs;
static void count_work(void *unused)
{
	(void)unused;
	work_runs++;
}
static struct work test_item = {.fn = count_work, .name = "test-proc"};

static void worker_wait(void *unused)
{
	(void)unused;
	sched_worker_wait();
}

/* The current task, a worker that has run its work, waits; the CPU must go back to u. */
static bool worker_gives_back(struct task *u)
{
	return fake_run(worker_wait, NULL) && current_task() == u;
}

TEST(proc_worker_runs_ahead_of_a_spinning_task)
{
	static bool registered;
	if (!registered)
		registered = work_register(&test_item) == 0;
	REQUIRE(registered);
	struct task *u = start_as("spinner");
	REQUIRE(u);
	sched_start_workers(); /* one per CPU: one here, waiting */
	CHECK_EQ(task_count(), 1); /* a worker has no pid */
	work_run_pending();       /* what other tests left queued */
	struct user_regs *r = fake_syscall_regs(NR_GETPID, 0, 0, 0, 0);
	task_test_and_clear_flag(u, TIF_NEED_RESCHED);

	/* Nothing queued: u keeps the CPU on its way back to user mode, and the tick leaves it
	 * alone (it is alone: no time slice ends either). */
	sched_tick();
	CHECK(!(u->flags & TIF_NEED_RESCHED));
	CHECK(!fake_run(to_user, r));
	CHECK(current_task() == u);

	/* Queued while u runs (as a #MC or the poll timer would): the kick marks u, and u's way
	 * back to user mode hands the CPU to the worker although u is still runnable. */
	work_runs = 0;
	work_queue(&test_item);
	CHECK(u->flags & TIF_NEED_RESCHED);
	REQUIRE(fake_run(to_user, r));
	struct task *w = current_task();
	REQUIRE(w != u);
	CHECK(w->is_worker);
	CHECK_EQ(w->pid, 0);
	CHECK_EQ(u->state, TASK_RUNNABLE);
	CHECK_EQ(work_run_pending(), 1); /* what the worker does */
	CHECK_EQ(work_runs, 1);
	REQUIRE(worker_gives_back(u));

	/* A kick that was lost (it landed on a task being switched out): the next tick marks
	 * u again while work waits for a worker. */
	work_queue(&test_item);
	task_test_and_clear_flag(u, TIF_NEED_RESCHED);
	sched_tick();
	CHECK(u->flags & TIF_NEED_RESCHED);
	REQUIRE(fake_run(to_user, r));
	CHECK(current_task() == w);
	CHECK_EQ(work_run_pending(), 1);
	/* Queued after the worker's run and before its wait: it does not wait. */
	work_queue(&test_item);
	CHECK(!fake_run(worker_wait, NULL));
	CHECK(current_task() == w);
	CHECK_EQ(work_run_pending(), 1);
	REQUIRE(worker_gives_back(u));
	CHECK_EQ(work_runs, 3);

	/* The worker lives for good in the kernel; the test takes it back out by hand. */
	exit_orphan();
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	list_del(&w->run_link);
	spin_unlock_irqrestore(&sched_lock, f);
	frame_free(virt_to_page(w->kstack), KSTACK_ORDER);
	kfree(w);
	end();
}
