/* The poison emulator's trap (include/einj.h): every access to an armed frame faults, and this
 * file turns each fault into what the emulator says it means.
 *
 * Every mapping of an armed frame traps: its user PTEs (pt.c: PTE_TRAP instead of PTE_P) and
 * its 4 KiB entry in the direct map (split out of a large page by mmu.c). The kernel image's
 * alias of the first GiB is left alone: no allocated frame is reached through it. A page fault
 * on a trapped entry goes to the emulator (einj_emu_access) with the physical address and the
 * kind of access (read, write, instruction fetch). Then either
 *   - the access consumes poison: the emulator has written the banks, and the machine check is
 *     raised at the faulting instruction (mca_raise_at: this CPU runs the #MC handler on the
 *     fault's frame, and every other CPU gets an NMI that makes it enter the handler too,
 *     Intel's broadcast, unless the error is a local one);
 *   - or the access goes elsewhere: the instruction runs once with the entry present (single
 *     step, RFLAGS.TF), then the entry traps again. Meanwhile data breakpoints (DR0..DR3) watch
 *     the first byte of each armed line of the page, so an access that starts in a good line
 *     and runs into a poisoned one (a split load) is caught as well: it has completed by then,
 *     so the machine check is raised with RIP set back to it. A store into an armed line runs
 *     the same way and the emulator reports it afterwards (UCNA).
 * In user mode the one instruction runs with interrupts off (IRET with IF clear), so nothing
 * can switch tasks under it. The step is set up at the very end of the return to user mode
 * (poison_trap_exit_to_user) and undone by any other entry from user mode, such as a fault of
 * the stepped instruction (poison_trap_user_entry); the entry then traps again and the step is
 * set up anew when the instruction is retried. In kernel mode interrupts keep their state (the
 * interrupt gate clears TF, so handlers are not stepped), and steps nest when the stepped
 * instruction faults and the fault's handling touches an armed frame (a user copy whose fault
 * makes the mm copy a page), so kernel steps form a short stack per CPU.
 * Not caught: the hardware page walker reading an armed page-table frame, an instruction whose
 * bytes run from a good line into an armed one (breakpoints watch data, not fetches), and
 * another CPU touching the page in the one instruction its entry is present. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "einj.h"
#include "kerrno.h"
#include "panic.h"
#include "spinlock.h"
#include "x86.h"

#define DR6_HITS 0xfull		 /* B0..B3: which breakpoint matched */
#define DR6_BS BIT(14)		 /* the single step trapped */
#define DR6_RESET 0xffff0ff0ull	 /* DR6 with nothing reported */
#define DR7_ENABLE(i) BIT(2 * (i)) /* L0..L3 */
#define DR7_RW_SHIFT(i) (16 + 4 * (i))
#define DR7_RW_DATA 3ull	 /* break on data reads and writes; LEN 0: one byte */
#define KSTEP_DEPTH 3

enum step_state { STEP_IDLE, STEP_PENDING, STEP_ACTIVE };

/* One instruction let through an armed frame's entry. */
struct step {
	uint64_t *pte;	    /* the entry it goes through */
	uint64_t trap_val;  /* the entry's value while it traps */
	uint64_t va;	    /* the page's linear address */
	uint64_t rip;	    /* the instruction */
	uint64_t cr3;	    /* its address space (user steps) */
	uint64_t watch_va[EINJ_EMU_WATCH];
	paddr_t watch[EINJ_EMU_WATCH];
	unsigned nwatch;
	paddr_t pa;	    /* what the faulting access touched */
	enum einj_access acc;
	bool report;	    /* ask the emulator again once it ran */
	enum step_state state;
};

struct cpu_steps {
	struct step user; /* at most one user instruction, between its fault and its #DB */
	struct step kern[KSTEP_DEPTH];
	unsigned nkern;
};
static struct cpu_steps cpu_steps[MAX_CPUS];
static spinlock_t split_lock = SPINLOCK_INIT; /* arch_trap_frame's direct-map changes */

static void write_dr(unsigned i, uint64_t v)
{
	switch (i) {
	case 0: __asm__ volatile("mov %0, %%db0" ::"r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%db1" ::"r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%db2" ::"r"(v)); break;
	default: __asm__ volatile("mov %0, %%db3" ::"r"(v)); break;
	}
}
static void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%db6" ::"r"(v)); }
static void write_dr7(uint64_t v) { __asm__ volatile("mov %0, %%db7" ::"r"(v)); }
static uint64_t read_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%db6, %0" : "=r"(v));
	return v;
}

/* ---- arming the kernel's mapping ---- */

static void flush_page(void *va) { invlpg((uint64_t)va); }

/* The direct map's 4 KiB entry of frame pfn (split out of a large page first): when it has a
 * bit of `when` (or when is 0), the bits of clr go and those of set come; every CPU flushes. */
static int direct_entry_change(pfn_t pfn, uint64_t when, uint64_t clr, uint64_t set)
{
	paddr_t pa = pfn << PAGE_SHIFT;
	irqflags_t f = arch_irq_save();
	uint64_t *pte;

	spin_lock(&split_lock);
	pte = mmu_direct_pte(pa);
	if (pte) {
		uint64_t v = READ_ONCE(*pte);
		if (!when || (v & when))
			WRITE_ONCE(*pte, (v & ~clr) | set);
	}
	spin_unlock(&split_lock);
	arch_irq_restore(f);
	if (!pte)
		return pa < mmu_direct_map_top() ? -ENOMEM : -EINVAL;
	flush_page(arch_phys_to_virt(pa));
	arch_call_on_others(flush_page, arch_phys_to_virt(pa), true);
	return 0;
}

int arch_trap_frame(pfn_t pfn, bool on)
{
	return on ? direct_entry_change(pfn, PTE_P, PTE_P, PTE_TRAP)
		  : direct_entry_change(pfn, PTE_TRAP, PTE_TRAP, PTE_P);
}

/* Neither present nor trapped: an access faults and the trap code does not claim it, and a
 * later arch_trap_frame(pfn, false) finds nothing to put back. */
int arch_direct_map_remove(pfn_t pfn)
{
	return direct_entry_change(pfn, 0, PTE_P | PTE_TRAP, 0);
}

/* ---- letting one instruction through ---- */

/* The 4 KiB entry that maps va in the loaded tables, or NULL (not mapped down to one). */
static uint64_t *leaf_of(uint64_t va)
{
	uint64_t *t = arch_phys_to_virt(read_cr3() & PTE_ADDR);

	for (int level = 3; level > 0; level--) {
		uint64_t e = t[(va >> (PAGE_SHIFT + 9 * level)) & 511];
		if (!(e & PTE_P) || (e & PTE_PS))
			return NULL;
		t = arch_phys_to_virt(e & PTE_ADDR);
	}
	return &t[(va >> PAGE_SHIFT) & 511];
}

/* Make the entry present again, unless something replaced it meanwhile (memory_failure's
 * poison marker, an unmap): then the step has nothing to let through. */
static bool entry_open(struct step *s)
{
	uint64_t want = s->trap_val, open = (want & ~PTE_TRAP) | PTE_P;
	bool ok = __atomic_compare_exchange_n(s->pte, &want, open, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE);
	invlpg(s->va);
	return ok;
}

/* Trap again, keeping the accessed and dirty bits the instruction set. */
static void entry_close(struct step *s)
{
	uint64_t ad = PTE_A | PTE_D, open = (s->trap_val & ~PTE_TRAP) | PTE_P;
	uint64_t cur = __atomic_load_n(s->pte, __ATOMIC_ACQUIRE);

	if ((cur & ~ad) == (open & ~ad))
		__atomic_compare_exchange_n(s->pte, &cur, (cur & ~PTE_P) | PTE_TRAP, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	invlpg(s->va);
}

static void watch_arm(const struct step *s)
{
	uint64_t dr7 = 0;

	for (unsigned i = 0; i < s->nwatch; i++) {
		write_dr(i, s->watch_va[i]);
		dr7 |= DR7_ENABLE(i) | DR7_RW_DATA << DR7_RW_SHIFT(i);
	}
	write_dr6(DR6_RESET);
	write_dr7(dr7);
}

static void step_fill(struct step *s, uint64_t *pte, uint64_t addr, uint64_t rip, paddr_t pa,
		      enum einj_access acc, const struct einj_emu_plan *plan, bool report)
{
	s->pte = pte;
	s->trap_val = READ_ONCE(*pte);
	s->va = addr & PAGE_MASK;
	s->rip = rip;
	s->cr3 = read_cr3();
	s->pa = pa;
	s->acc = acc;
	s->report = report;
	s->nwatch = MIN(plan->nwatch, (unsigned)EINJ_EMU_WATCH);
	for (unsigned i = 0; i < s->nwatch; i++) {
		s->watch[i] = plan->watch[i];
		s->watch_va[i] = s->va + (plan->watch[i] & (PAGE_SIZE - 1));
	}
}

static struct cpu_steps *steps(void) { return &cpu_steps[arch_cpu_id()]; }

/* A kernel instruction: let it through now (its frame returns with TF set). */
static void kernel_step(struct trap_frame *tf, struct step *s)
{
	struct cpu_steps *c = steps();

	if (c->nkern == KSTEP_DEPTH)
		fault_report_and_panic(tf, "poison emulator: accesses to armed frames nested too deep");
	c->kern[c->nkern++] = *s;
	entry_open(&c->kern[c->nkern - 1]);
	watch_arm(s);
	tf->rflags |= RFLAGS_TF;
}

static enum einj_access access_of(uint64_t err)
{
	return (err & PF_INSN) ? EINJ_FETCH : (err & PF_WRITE) ? EINJ_WRITE : EINJ_READ;
}

/* Page fault, before anything else looks at it: true when it was on a trapped entry and has
 * been dealt with (a machine check raised, or the instruction set to run once). */
bool poison_trap_fault(struct trap_frame *tf, uint64_t addr)
{
	uint64_t *pte = leaf_of(addr);
	struct einj_emu_plan plan = {0};
	struct step s = {0};
	bool user = tf->cs & 3;
	enum einj_emu_act act;
	paddr_t pa;

	/* A trapped entry is not present: a protection fault (a copy-on-write store of a stepped
	 * instruction, its entry trapped again since) is the mm's business. */
	if ((tf->error_code & PF_PRESENT) || !pte || !(READ_ONCE(*pte) & PTE_TRAP))
		return false;
	pa = (READ_ONCE(*pte) & PTE_ADDR) | (addr & (PAGE_SIZE - 1));
	act = einj_emu_access(pa, access_of(tf->error_code), &plan);
	if (act == EINJ_EMU_RAISE) {
		mca_raise_at(tf, plan.local);
		return true;
	}
	step_fill(&s, pte, addr, tf->rip, pa, access_of(tf->error_code), &plan,
		  act == EINJ_EMU_STEP_REPORT);
	if (!user) {
		kernel_step(tf, &s);
		return true;
	}
	s.state = STEP_PENDING; /* let through on the way out (poison_trap_exit_to_user) */
	steps()->user = s;
	return true;
}

/* The last thing before IRET to user mode, interrupts off: let the pending user instruction
 * through if it is the one about to run, in the address space that faulted. */
void poison_trap_exit_to_user(struct user_regs *r)
{
	struct trap_frame *tf = (struct trap_frame *)r;
	struct step *s = &steps()->user;

	if (likely(s->state == STEP_IDLE))
		return;
	if (s->state == STEP_PENDING && tf->rip == s->rip && read_cr3() == s->cr3 &&
	    entry_open(s)) {
		watch_arm(s);
		tf->rflags = (tf->rflags | RFLAGS_TF) & ~RFLAGS_IF;
		s->state = STEP_ACTIVE;
		return;
	}
	if (s->state == STEP_ACTIVE)
		entry_close(s);
	write_dr7(0);
	s->state = STEP_IDLE;
}

/* Another entry from user mode while the user instruction was let through (it faulted, or an
 * NMI or machine check came): trap again; the step stays pending for the retry. */
void poison_trap_user_entry(struct trap_frame *tf)
{
	struct step *s = &steps()->user;

	if (likely(s->state != STEP_ACTIVE))
		return;
	write_dr7(0);
	entry_close(s);
	tf->rflags = (tf->rflags & ~RFLAGS_TF) | RFLAGS_IF;
	s->state = STEP_PENDING;
}

/* The step of s ended with debug status dr6: trap again, then ask the emulator whether the
 * instruction consumed poison on the way. Returns the emulator's answer. */
static enum einj_emu_act step_end(struct step *s, uint64_t dr6, struct einj_emu_plan *plan)
{
	paddr_t hit = 0;

	for (unsigned i = 0; i < s->nwatch && !hit; i++)
		if (dr6 & BIT(i))
			hit = s->watch[i];
	entry_close(s);
	if (!hit && !s->report)
		return EINJ_EMU_STEP;
	return einj_emu_stepped(s->pa, s->acc, hit, s->report, plan);
}

/* #DB: true when it ends one of our steps (the frame then goes on, or takes the machine check
 * the instruction earned); false for anyone else's debug trap. */
bool poison_trap_debug(struct trap_frame *tf)
{
	struct cpu_steps *c = steps();
	uint64_t dr6 = read_dr6();
	bool user = tf->cs & 3;
	struct step s;
	struct einj_emu_plan plan = {0};
	enum einj_emu_act act;

	if (user ? c->user.state != STEP_ACTIVE : c->nkern == 0)
		return false;
	if (!(dr6 & (DR6_BS | DR6_HITS)))
		return false;
	write_dr6(DR6_RESET);
	write_dr7(0);
	tf->rflags &= ~RFLAGS_TF;
	if (user) {
		s = c->user;
		c->user.state = STEP_IDLE;
		tf->rflags |= RFLAGS_IF;
	} else {
		s = c->kern[--c->nkern];
		if (c->nkern)
			watch_arm(&c->kern[c->nkern - 1]);
	}
	act = step_end(&s, dr6, &plan);
	if (act == EINJ_EMU_RAISE) {
		tf->rip = s.rip; /* it ran into the poison: report it at that instruction */
		mca_raise_at(tf, plan.local);
	}
	return true;
}
