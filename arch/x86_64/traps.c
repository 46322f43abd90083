/* Exceptions that user mode can cause, and kernel-mode page faults.
 *
 * From user mode every exception becomes a user trap for the portable code (a signal, see
 * enum user_trap), with interrupts enabled while it runs; a page fault first goes to
 * mm_handle_user_fault (demand paging, copy-on-write) and becomes a trap only when that
 * fails. In kernel mode the only expected faults are at instructions with an exception-table
 * fixup: a user copy (a #PF on a user address, resolved by the mm first so copies can fault
 * pages in, then fixed up), or a probe (probe.c). Anything else is a kernel bug: report and
 * panic. A page fault on a frame the poison emulator armed, and the debug trap that ends one of
 * its steps, go to poison_trap.c first. #DF, NMI and #MC are not handled here. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "entry_priv.h"
#include "kerrno.h"
#include "x86.h"

static const struct {
	uint8_t vector;
	uint8_t trap;
} user_traps[] = {
    {VEC_DE, UTRAP_DIVIDE},    {VEC_DB, UTRAP_BREAKPOINT},   {VEC_BP, UTRAP_BREAKPOINT},
    {VEC_OF, UTRAP_OTHER},     {VEC_BR, UTRAP_OTHER},	     {VEC_UD, UTRAP_INVALID_OP},
    {VEC_NM, UTRAP_OTHER},     {VEC_TS, UTRAP_OTHER},	     {VEC_NP, UTRAP_OTHER},
    {VEC_SS, UTRAP_OTHER},     {VEC_GP, UTRAP_GENERAL_PROT}, {VEC_MF, UTRAP_FPU},
    {VEC_AC, UTRAP_ALIGNMENT}, {VEC_XM, UTRAP_FPU},
};

static enum user_trap trap_of(unsigned vector)
{
	for (unsigned i = 0; i < ARRAY_SIZE(user_traps); i++)
		if (user_traps[i].vector == vector)
			return (enum user_trap)user_traps[i].trap;
	return UTRAP_OTHER;
}

static void user_trap(struct trap_frame *tf, enum user_trap trap, uint64_t addr, int err)
{
	arch_irq_enable();
	entry_user_trap((struct user_regs *)tf, trap, addr, err);
	arch_irq_disable();
}

static bool try_fixup(struct trap_frame *tf)
{
	uint64_t fix = ex_fixup_lookup(tf->rip);
	if (fix)
		tf->rip = fix;
	return fix != 0;
}

/* Every exception of user_traps[]: user mode -> trap with addr = the faulting RIP;
 * kernel mode -> fixup or panic. */
static void simple_trap(struct trap_frame *tf)
{
	if (tf->cs & 3) {
		user_trap(tf, trap_of((unsigned)tf->vector), tf->rip, (int)tf->error_code);
		return;
	}
	if (!try_fixup(tf))
		fault_report_and_panic(tf, "exception in kernel mode");
}

/* The FAULT_* bits of entry.h: exactly one of READ, WRITE, EXEC, plus PRESENT and USER. */
static unsigned fault_access(uint64_t err)
{
	unsigned a = (err & PF_INSN) ? FAULT_EXEC : (err & PF_WRITE) ? FAULT_WRITE : FAULT_READ;
	if (err & PF_PRESENT)
		a |= FAULT_PRESENT;
	if (err & PF_USER)
		a |= FAULT_USER;
	return a;
}

static void user_page_fault(struct trap_frame *tf, uint64_t addr)
{
	int err = -EFAULT;
	arch_irq_enable();
	if (addr < USER_VA_END)
		err = entry_mm_fault(addr, fault_access(tf->error_code));
	if (err)
		entry_user_trap((struct user_regs *)tf, UTRAP_PAGE_FAULT, addr, err);
	arch_irq_disable();
}

/* A kernel-mode fault on a user address at a fixup IP: let the mm resolve it (the copy then
 * retries the instruction) when the interrupted code could sleep, else take the fixup. */
static bool kernel_user_fault(struct trap_frame *tf, uint64_t addr)
{
	if (!ex_fixup_lookup(tf->rip))
		return false;
	int err = -EFAULT;
	if ((tf->rflags & RFLAGS_IF) && !(tf->error_code & PF_RSVD)) {
		arch_irq_enable();
		err = entry_mm_fault(addr, fault_access(tf->error_code));
		arch_irq_disable();
	}
	return err == 0 || try_fixup(tf);
}

static void page_fault(struct trap_frame *tf)
{
	uint64_t addr = read_cr2();
	if (poison_trap_fault(tf, addr))
		return;
	if (tf->error_code & PF_RSVD)
		fault_report_and_panic(tf, "reserved bit set in a page-table entry");
	if (tf->cs & 3) {
		user_page_fault(tf, addr);
		return;
	}
	if (addr < USER_VA_END) {
		if (kernel_user_fault(tf, addr))
			return;
		fault_report_and_panic(tf, "kernel access to a user address outside a user copy");
	}
	if (!try_fixup(tf))
		fault_report_and_panic(tf, "page fault in kernel mode");
}

/* #DB: the end of a step of the poison emulator, or an ordinary debug trap. A step that
 * also hits a data breakpoint may come as two traps (QEMU reports the breakpoint, then the
 * single step on the first instruction of the #DB entry, before it has swapped GS): the second
 * one finds the first still to be handled and returns at once, touching nothing per-CPU. */
static void debug_trap(struct trap_frame *tf)
{
	extern const char isr_stubs[];

	if (!(tf->cs & 3) && tf->rip == (uint64_t)isr_stubs + 16 * VEC_DB)
		return;
	if (!poison_trap_debug(tf))
		simple_trap(tf);
}

/* Install the handlers above, and let user mode raise #BP with INT3 (and #OF with INTO) as
 * on Linux. Boot CPU, after idt_init. */
void traps_init(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(user_traps); i++)
		exc_register(user_traps[i].vector, simple_trap);
	exc_register(VEC_DB, debug_trap);
	exc_register(VEC_PF, page_fault);
	idt_set_user_callable(VEC_BP);
	idt_set_user_callable(VEC_OF);
}
