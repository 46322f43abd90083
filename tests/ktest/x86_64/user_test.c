/* In-kernel tests of the user-mode entry and exit paths (test=user): real ring-3 code runs
 * through SYSCALL/SYSRET, IRET, exceptions, paranoid NMI/#MC entries from user mode, the
 * context switch with FPU state, and the user-copy fixups. The portable task code is not
 * needed: entry_set_test_hooks() routes this CPU's syscalls, traps and faults to the hooks
 * below, and a "task" is just a kernel stack, an address space and an arch_context. A
 * program ends with syscall 60 (or a trap), whose hook switches straight back to the test,
 * abandoning the user task's kernel stack. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "entry_hooks.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "ktest.h"
#include "panic.h"
#include "x86.h"

#define CODE_VA 0x400000ull
#define DEMAND_VA 0x600000ull
#define STACK_VA 0x7ff000ull
#define COPY_VA 0x500000ull
#define TOP_VA (USER_VA_END - PAGE_SIZE)
#define USER_SP (STACK_VA + PAGE_SIZE - 128)
#define SYS_EXIT 60
#define SYS_GETPID 39
#define SYS_REDIRECT 15
#define GETPID_RESULT 0xabcd
#define FIRST_IRQ_VECTOR 32

#define DECLARE_PROG(p) extern const char p[], p##_end[]
DECLARE_PROG(utp_syscall);
DECLARE_PROG(utp_redirect);
DECLARE_PROG(utp_top);
DECLARE_PROG(utp_ud2);
DECLARE_PROG(utp_div);
DECLARE_PROG(utp_cli);
DECLARE_PROG(utp_int3);
DECLARE_PROG(utp_write_unmapped);
DECLARE_PROG(utp_read_kernel);
DECLARE_PROG(utp_exec_stack);
DECLARE_PROG(utp_demand);
DECLARE_PROG(utp_fpu);
DECLARE_PROG(utp_int18);
DECLARE_PROG(utp_int2);
DECLARE_PROG(utp_spin);
extern const char utp_syscall_ret1[], utp_redirect_target[];

static struct {
	struct arch_context test_ctx, user_ctx, aux_ctx;
	void *kstack, *aux_stack;
	struct arch_pt *pt;
	struct page *code_pg, *stack_pg, *demand_pg, *top_pg, *copy_pg;
	uint64_t free_before;
	/* how the hooks behave */
	bool demand_map, bad_rip, fpu_switch;
	/* what happened */
	bool exited, trapped, aux_ran, aux_irq_on;
	struct user_regs first_sys, last; /* at the first other syscall; at exit or trap */
	enum user_trap trap;
	uint64_t trap_addr;
	int trap_err;
	unsigned mm_calls, mm_access, sched_tail, para_calls, exit_after_para, exit_after_irq;
	vaddr_t mm_addr;
	uint64_t para_tf, para_cs, para_vec, para_rsp;
	uint32_t aux_mxcsr;
} ut;

static __noreturn void back_to_test(void)
{
	arch_irq_disable();
	arch_context_switch(&ut.user_ctx, &ut.test_ctx);
	panic("user test: an abandoned user context was resumed");
}

static void aux_task(void *arg)
{
	(void)arg;
	uint32_t mxcsr = 0, odd = 0x7f80; /* round toward zero: the user must not see it */
	ut.aux_irq_on = arch_irq_enabled();
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	ut.aux_mxcsr = mxcsr;
	__asm__ volatile("movq %0, %%xmm0\n\tldmxcsr %1" ::"r"(0x9999ull), "m"(odd));
	ut.aux_ran = true;
	arch_irq_disable();
	arch_context_switch(&ut.aux_ctx, &ut.user_ctx);
	panic("user test: aux task resumed");
}

static void hook_syscall(struct user_regs *r)
{
	switch (r->rax) {
	case SYS_EXIT:
		ut.last = *r;
		ut.exited = true;
		back_to_test();
	case SYS_GETPID:
		ut.first_sys = *r;
		r->rax = GETPID_RESULT;
		if (ut.fpu_switch) {
			arch_context_init_kernel(&ut.aux_ctx, ut.aux_stack, aux_task, NULL);
			arch_irq_disable();
			arch_context_switch(&ut.user_ctx, &ut.aux_ctx);
			arch_irq_enable();
		}
		return;
	case SYS_REDIRECT:
		if (ut.bad_rip) {
			r->rip = USER_VA_END; /* first non-canonical address */
			return;
		}
		r->rip = CODE_VA + (uint64_t)(utp_redirect_target - utp_redirect);
		r->rax = 0x77;
		r->rcx = 0x5555;
		r->r11 = 0x203; /* IF, CF */
		return;
	default:
		r->rax = (uint64_t)-ENOSYS;
	}
}

static void hook_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err)
{
	ut.last = *r;
	ut.trapped = true;
	ut.trap = trap;
	ut.trap_addr = addr;
	ut.trap_err = err;
	back_to_test();
}

static int hook_mm_fault(vaddr_t addr, unsigned access)
{
	ut.mm_calls++;
	ut.mm_addr = addr;
	ut.mm_access = access;
	if (!ut.demand_map || ALIGN_DOWN(addr, PAGE_SIZE) != DEMAND_VA)
		return -EFAULT;
	return arch_pt_map(ut.pt, DEMAND_VA, page_to_pfn(ut.demand_pg), PT_READ | PT_WRITE);
}

static void hook_exit_to_user(struct user_regs *r)
{
	if (r->vector == VEC_MC || r->vector == VEC_NMI)
		ut.exit_after_para++;
	if (r->vector >= FIRST_IRQ_VECTOR && r->vector < SYSCALL_VECTOR && r->cs == SEL_UCODE) {
		ut.exit_after_irq++; /* an interrupt from ring 3: tell utp_spin */
		*(volatile uint32_t *)page_to_virt(ut.stack_pg) = 1;
	}
}

static void hook_schedule_tail(void)
{
	ut.sched_tail++;
}

static const struct entry_test_hooks hooks = {hook_syscall, hook_user_trap, hook_mm_fault,
					      hook_exit_to_user, hook_schedule_tail};


static void *alloc_stack(void)
{
	struct page *pg = frame_alloc(KSTACK_ORDER, PG_KSTACK);
	return pg ? page_to_virt(pg) : NULL;
}

static bool ut_setup(void)
{
	memset(&ut, 0, sizeof(ut));
	ut.free_before = ktest_free_frames();
	ut.pt = arch_pt_create();
	ut.kstack = alloc_stack();
	ut.aux_stack = alloc_stack();
	ut.code_pg = frame_alloc(0, PG_USER);
	ut.stack_pg = frame_alloc(0, PG_USER);
	ut.demand_pg = frame_alloc(0, PG_USER);
	ut.top_pg = frame_alloc(0, PG_USER);
	ut.copy_pg = frame_alloc(0, PG_USER);
	if (!ut.pt || !ut.kstack || !ut.aux_stack || !ut.code_pg || !ut.stack_pg || !ut.demand_pg ||
	    !ut.top_pg || !ut.copy_pg)
		return false;
	memset(page_to_virt(ut.demand_pg), 0, PAGE_SIZE);
	memset(page_to_virt(ut.copy_pg), 0, PAGE_SIZE);
	return arch_pt_map(ut.pt, CODE_VA, page_to_pfn(ut.code_pg), PT_READ | PT_EXEC) == 0 &&
	       arch_pt_map(ut.pt, STACK_VA, page_to_pfn(ut.stack_pg), PT_READ | PT_WRITE) == 0 &&
	       arch_pt_map(ut.pt, TOP_VA, page_to_pfn(ut.top_pg), PT_READ | PT_EXEC) == 0 &&
	       arch_pt_map(ut.pt, COPY_VA, page_to_pfn(ut.copy_pg), PT_READ | PT_WRITE) == 0;
}

/* Free everything; true when the free-frame count is back where it started. */
static bool ut_teardown(void)
{
	const vaddr_t vas[] = {CODE_VA, STACK_VA, TOP_VA, COPY_VA, DEMAND_VA};
	for (unsigned i = 0; i < ARRAY_SIZE(vas); i++)
		arch_pt_clear(ut.pt, vas[i]);
	arch_pt_destroy(ut.pt);
	frame_free(virt_to_page(ut.kstack), KSTACK_ORDER);
	frame_free(virt_to_page(ut.aux_stack), KSTACK_ORDER);
	frame_free(ut.code_pg, 0);
	frame_free(ut.stack_pg, 0);
	frame_free(ut.demand_pg, 0);
	frame_free(ut.top_pg, 0);
	frame_free(ut.copy_pg, 0);
	return ktest_free_frames() == ut.free_before;
}

/* Run one program to its exit or first trap: at CODE_VA, or ending at the top of user space.
 * Returns the user address it started at. */
static uint64_t run_user(const char *start, const char *end, bool at_top)
{
	size_t len = (size_t)(end - start);
	uint64_t entry = at_top ? TOP_VA + PAGE_SIZE - len : CODE_VA;
	char *page = page_to_virt(at_top ? ut.top_pg : ut.code_pg);
	memcpy(page + (entry & (PAGE_SIZE - 1)), start, len);
	ut.exited = ut.trapped = false;
	struct user_regs r;
	arch_regs_init_user(&r, entry, USER_SP);
	arch_context_init_user(&ut.user_ctx, ut.kstack, &r);

	irqflags_t f = arch_irq_save();
	uint64_t saved_stack = this_cpu()->kernel_rsp;
	entry_set_test_hooks(&hooks);
	arch_set_kernel_stack(ut.kstack);
	arch_pt_activate(ut.pt);
	arch_context_switch(&ut.test_ctx, &ut.user_ctx);
	arch_pt_activate(NULL);
	cpu_set_kernel_stack(saved_stack);
	entry_set_test_hooks(NULL);
	arch_irq_restore(f);
	return entry;
}

#define SETUP_OR_FAIL()                                                                            \
	do {                                                                                       \
		bool ok_ = ut_setup();                                                             \
		KT_EXPECT(ok_);                                                                    \
		if (!ok_)                                                                          \
			return;                                                                    \
	} while (0)

KTEST(user, syscall_args_result_and_sysret)
{
	SETUP_OR_FAIL();
	uint64_t sysret_before = entry_stats.sysret;
	run_user(utp_syscall, utp_syscall_end, false);
	KT_EXPECT(ut.exited && !ut.trapped);
	struct user_regs *s = &ut.first_sys, *e = &ut.last;
	KT_EXPECT(s->rax == SYS_GETPID && s->vector == SYSCALL_VECTOR);
	KT_EXPECT(s->rdi == 0x11 && s->rsi == 0x22 && s->rdx == 0x33);
	KT_EXPECT(s->r10 == 0x44 && s->r8 == 0x55 && s->r9 == 0x66);
	KT_EXPECT(s->cs == SEL_UCODE && s->ss == SEL_UDATA && s->rsp == USER_SP);
	uint64_t ret1 = CODE_VA + (uint64_t)(utp_syscall_ret1 - utp_syscall);
	KT_EXPECT(s->rip == ret1 && s->rcx == ret1 && s->r11 == s->rflags);
	KT_EXPECT(s->rflags & RFLAGS_IF);
	KT_EXPECT(e->rdi == GETPID_RESULT);		 /* the result reached user mode */
	KT_EXPECT(e->rsi == 0x1111 && e->rdx == 0x2222); /* r12, rbx kept */
	KT_EXPECT(e->r10 == ret1);			 /* SYSRET's rcx: the return RIP */
	KT_EXPECT(e->r8 == s->rflags);			 /* and r11: RFLAGS */
	KT_EXPECT(e->rip == CODE_VA + (uint64_t)(utp_syscall_end - utp_syscall));
	KT_EXPECT(entry_stats.sysret == sysret_before + 1);
	KT_EXPECT(ut.sched_tail == 1); /* the first switch ran the schedule tail */
	KT_EXPECT(ut_teardown());
}

KTEST(user, changed_registers_return_with_iret)
{
	SETUP_OR_FAIL();
	uint64_t iret_before = entry_stats.syscall_iret;
	run_user(utp_redirect, utp_redirect_end, false);
	KT_EXPECT(ut.exited && !ut.trapped);
	KT_EXPECT(ut.last.rdi == 0x77 && ut.last.rsi == 0x5555);
	KT_EXPECT((ut.last.rdx & 0xfff) == 0x203);
	KT_EXPECT(entry_stats.syscall_iret == iret_before + 1);
	KT_EXPECT(ut_teardown());
}

KTEST(user, non_user_rip_never_reaches_sysret_or_iret)
{
	SETUP_OR_FAIL();
	/* A SYSCALL in the last bytes of user space: its return RIP is non-canonical. */
	uint64_t sysret_before = entry_stats.sysret, bad_before = entry_stats.bad_return;
	run_user(utp_top, utp_top_end, true);
	KT_EXPECT(ut.trapped && ut.trap == UTRAP_GENERAL_PROT && ut.trap_addr == USER_VA_END);
	KT_EXPECT(entry_stats.sysret == sysret_before);
	KT_EXPECT(entry_stats.bad_return == bad_before + 1);
	/* A hook (a forged signal frame) setting a non-user RIP. */
	ut.bad_rip = true;
	run_user(utp_redirect, utp_redirect_end, false);
	KT_EXPECT(ut.trapped && ut.trap == UTRAP_GENERAL_PROT && ut.trap_addr == USER_VA_END);
	KT_EXPECT(ut_teardown());
}

KTEST(user, exceptions_become_user_traps)
{
	static const struct {
		const char *start, *end;
		enum user_trap trap;
		uint64_t rip_off; /* user RIP reported, from the program start */
	} cases[] = {
	    {utp_ud2, utp_ud2_end, UTRAP_INVALID_OP, 0},
	    {utp_div, utp_div_end, UTRAP_DIVIDE, 2},
	    {utp_cli, utp_cli_end, UTRAP_GENERAL_PROT, 0},
	    {utp_int3, utp_int3_end, UTRAP_BREAKPOINT, 1}, /* a trap: RIP after INT3 */
	};
	SETUP_OR_FAIL();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		run_user(cases[i].start, cases[i].end, false);
		KT_EXPECT(ut.trapped && ut.trap == cases[i].trap);
		KT_EXPECT(ut.trap_addr == CODE_VA + cases[i].rip_off);
		KT_EXPECT(ut.last.rip == CODE_VA + cases[i].rip_off && ut.last.cs == SEL_UCODE);
		if (!ut.trapped || ut.trap != cases[i].trap)
			printk("    # case %u: trapped %d trap %d\n", i, ut.trapped, ut.trap);
	}
	KT_EXPECT(ut_teardown());
}

KTEST(user, page_faults_go_to_mm_then_trap)
{
	SETUP_OR_FAIL();
	run_user(utp_write_unmapped, utp_write_unmapped_end, false);
	KT_EXPECT(ut.trapped && ut.trap == UTRAP_PAGE_FAULT && ut.trap_addr == DEMAND_VA);
	KT_EXPECT(ut.trap_err == -EFAULT && ut.mm_calls == 1 && ut.mm_addr == DEMAND_VA);
	KT_EXPECT(ut.mm_access == (FAULT_WRITE | FAULT_USER));
	/* A kernel address: a trap without asking the mm. */
	ut.mm_calls = 0;
	run_user(utp_read_kernel, utp_read_kernel_end, false);
	KT_EXPECT(ut.trapped && ut.trap == UTRAP_PAGE_FAULT);
	KT_EXPECT(ut.trap_addr == 0xffffffff80200000ull && ut.mm_calls == 0);
	if (cpu_features.nx) {
		run_user(utp_exec_stack, utp_exec_stack_end, false);
		KT_EXPECT(ut.trapped && ut.trap == UTRAP_PAGE_FAULT &&
			  ut.trap_addr == USER_SP - 64);
		KT_EXPECT(ut.mm_access == (FAULT_EXEC | FAULT_PRESENT | FAULT_USER));
	}
	KT_EXPECT(ut_teardown());
}

KTEST(user, demand_paging_retries_the_access)
{
	SETUP_OR_FAIL();
	ut.demand_map = true;
	run_user(utp_demand, utp_demand_end, false);
	KT_EXPECT(ut.exited && !ut.trapped && ut.last.rdi == 0x1234);
	KT_EXPECT(ut.mm_calls == 1);
	KT_EXPECT(*(volatile uint32_t *)page_to_virt(ut.demand_pg) == 0x1234);
	KT_EXPECT(ut_teardown());
}

KTEST(user, fpu_state_follows_the_task)
{
	SETUP_OR_FAIL();
	ut.fpu_switch = true;
	run_user(utp_fpu, utp_fpu_end, false);
	KT_EXPECT(ut.exited && ut.aux_ran && ut.aux_irq_on);
	KT_EXPECT(ut.aux_mxcsr == 0x1f80); /* a fresh kernel context starts from the default */
	KT_EXPECT(ut.last.rdi == 0x1234);  /* xmm0 restored after the other context changed it */
	KT_EXPECT(ut.last.rsi == 0x1f80);  /* and MXCSR */
	KT_EXPECT(ut.sched_tail == 2);	   /* user task, then the kernel task */
	KT_EXPECT(ut_teardown());
}

static void para_handler(struct trap_frame *tf)
{
	uint64_t rsp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
	ut.para_calls++;
	ut.para_tf = (uint64_t)tf;
	ut.para_cs = tf->cs;
	ut.para_vec = tf->vector;
	ut.para_rsp = rsp;
	(void)this_cpu()->self; /* faults if GS were still the user's */
}

/* NMI/#MC from ring 3 move from the IST stack to the task's kernel stack. */
static void check_paranoid(int *ktest_failed__, unsigned vec, const char *p, const char *e)
{
	irq_handler_t old = exc_get_handler(vec);
	exc_register(vec, para_handler);
	idt_set_user_callable(vec);
	run_user(p, e, false);
	idt_clear_user_callable(vec);
	exc_register(vec, old);
	uint64_t top = (uint64_t)ut.kstack + KSTACK_SIZE;
	KT_EXPECT(ut.exited && ut.last.rdi == 7 && ut.last.rsi == 0x5151);
	KT_EXPECT(ut.para_calls == 1 && ut.para_vec == vec && ut.para_cs == SEL_UCODE);
	KT_EXPECT(ut.para_tf == top - sizeof(struct user_regs)); /* the task's user_regs slot */
	KT_EXPECT(ut.para_rsp < ut.para_tf && ut.para_rsp > (uint64_t)ut.kstack);
	KT_EXPECT(ut.exit_after_para == 1); /* the return-to-user work ran after it */
	ut.para_calls = ut.exit_after_para = 0;
}

KTEST(user, interrupts_from_user_mode_keep_registers)
{
	SETUP_OR_FAIL();
	*(volatile uint32_t *)page_to_virt(ut.stack_pg) = 0;
	run_user(utp_spin, utp_spin_end, false); /* waits for a timer tick in ring 3 */
	KT_EXPECT(ut.exited && ut.exit_after_irq >= 1);
	KT_EXPECT(ut.last.rdi == 0x1515 && ut.last.rsi == 0x1616);
	KT_EXPECT(ut.last.rdx == 0x3333 && ut.last.r10 == 0x4444);
	KT_EXPECT(ut_teardown());
}

KTEST(user, paranoid_entry_from_user_moves_to_task_stack)
{
	SETUP_OR_FAIL();
	check_paranoid(ktest_failed__, VEC_MC, utp_int18, utp_int18_end);
	check_paranoid(ktest_failed__, VEC_NMI, utp_int2, utp_int2_end);
	check_paranoid(ktest_failed__, VEC_MC, utp_int18, utp_int18_end); /* IST reusable */
	KT_EXPECT(ut_teardown());
}

static void check_copies(int *ktest_failed__)
{
	char buf[32], *page = page_to_virt(ut.copy_pg);
	char *u = (char *)COPY_VA;
	uint64_t kernel_word = 0x1122334455667788ull;
	KT_EXPECT(arch_copy_to_user(u + 10, "hello", 6) == 0 && !strcmp(page + 10, "hello"));
	KT_EXPECT(arch_copy_from_user(buf, u + 10, 6) == 0 && !strcmp(buf, "hello"));
	KT_EXPECT(arch_copy_from_user(buf, (void *)(DEMAND_VA + 8), 4) == -EFAULT);
	KT_EXPECT(ut.mm_calls == 1 && ut.mm_addr == DEMAND_VA + 8 && ut.mm_access == FAULT_READ);
	/* Kernel pointers on the user side, wrapping and past-the-end ranges. */
	KT_EXPECT(arch_copy_from_user(buf, &kernel_word, 8) == -EFAULT);
	KT_EXPECT(arch_copy_to_user(&kernel_word, "xxxxxxxx", 8) == -EFAULT);
	KT_EXPECT(kernel_word == 0x1122334455667788ull);
	KT_EXPECT(arch_copy_from_user(buf, (void *)(USER_VA_END - 4), 8) == -EFAULT);
	KT_EXPECT(arch_copy_to_user((void *)~0ull, "x", 1) == -EFAULT);
	KT_EXPECT(arch_copy_from_user(buf, (void *)0x10, 0) == 0);
	/* A copy that runs off the mapped page: partial, -EFAULT, rest of dst zeroed. */
	memcpy(page + PAGE_SIZE - 4, "abcd", 4);
	memset(buf, 'z', sizeof(buf));
	KT_EXPECT(arch_copy_from_user(buf, u + PAGE_SIZE - 4, 8) == -EFAULT);
	KT_EXPECT(!memcmp(buf, "abcd\0\0\0\0", 8) && buf[8] == 'z');
	KT_EXPECT(arch_copy_to_user(u + PAGE_SIZE - 2, "WXYZ", 4) == -EFAULT);
	KT_EXPECT(page[PAGE_SIZE - 2] == 'W' && page[PAGE_SIZE - 1] == 'X');
	/* Strings. */
	KT_EXPECT(arch_strncpy_from_user(buf, u + 10, sizeof(buf)) == 5 && !strcmp(buf, "hello"));
	KT_EXPECT(arch_strncpy_from_user(buf, u + 10, 5) == -ENAMETOOLONG);
	KT_EXPECT(arch_strncpy_from_user(buf, u + 10, 6) == 5);
	KT_EXPECT(arch_strncpy_from_user(buf, u + PAGE_SIZE - 2, sizeof(buf)) == -EFAULT);
	KT_EXPECT(arch_strncpy_from_user(buf, (const char *)&kernel_word, 8) == -EFAULT);
	/* The last two bytes of user space (mapped) without a NUL: the string runs off the end. */
	memset((char *)page_to_virt(ut.top_pg) + PAGE_SIZE - 2, 'a', 2);
	KT_EXPECT(arch_strncpy_from_user(buf, (const char *)(USER_VA_END - 2), 8) == -EFAULT);
	KT_EXPECT(arch_strncpy_from_user(buf, (const char *)(USER_VA_END - 2), 2) == -ENAMETOOLONG);
	/* clear_user. */
	KT_EXPECT(arch_clear_user(u + 10, 3) == 0 && page[10] == 0 && page[12] == 0 &&
		  page[13] == 'l');
	KT_EXPECT(arch_clear_user(u + PAGE_SIZE - 1, 2) == -EFAULT && page[PAGE_SIZE - 1] == 0);
	KT_EXPECT(arch_clear_user(&kernel_word, 8) == -EFAULT && kernel_word != 0);
	/* Demand paging inside a copy: the mm maps the page and the copy completes. */
	ut.demand_map = true;
	ut.mm_calls = 0;
	KT_EXPECT(arch_copy_to_user((void *)(DEMAND_VA + 16), "paged", 6) == 0);
	KT_EXPECT(ut.mm_calls == 1 && ut.mm_access == FAULT_WRITE);
	KT_EXPECT(!strcmp((char *)page_to_virt(ut.demand_pg) + 16, "paged"));
}

KTEST(user, copies_fault_to_efault)
{
	SETUP_OR_FAIL();
	irqflags_t f = arch_irq_save();
	entry_set_test_hooks(&hooks);
	arch_irq_restore(f);
	arch_pt_activate(ut.pt);
	check_copies(ktest_failed__);
	arch_pt_activate(NULL);
	f = arch_irq_save();
	entry_set_test_hooks(NULL);
	arch_irq_restore(f);
	KT_EXPECT(ut_teardown());
}

KTEST(user, sanitize_refuses_privileged_state)
{
	struct user_regs r;
	arch_regs_init_user(&r, CODE_VA, USER_SP);
	KT_EXPECT(r.cs == SEL_UCODE && r.ss == SEL_UDATA && r.rflags == 0x202);
	KT_EXPECT(r.rip == CODE_VA && r.rsp == USER_SP && r.rax == 0);
	r.cs = SEL_KCODE;
	r.ss = SEL_KDATA;
	r.rflags = 0x3000 | BIT(14) | BIT(17) | RFLAGS_AC | 0x8d5; /* IOPL 3, NT, VM, AC + arith */
	KT_EXPECT(arch_regs_sanitize_user(&r));
	KT_EXPECT(r.cs == SEL_UCODE && r.ss == SEL_UDATA);
	KT_EXPECT(r.rflags == (0x8d5 | 0x202));
	r.rip = USER_VA_END;
	KT_EXPECT(!arch_regs_sanitize_user(&r));
	r.rip = 0xffffffff80100000ull; /* the kernel */
	KT_EXPECT(!arch_regs_sanitize_user(&r));
	r.rip = USER_VA_END - 1;
	KT_EXPECT(arch_regs_sanitize_user(&r));
}
