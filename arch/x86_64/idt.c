/* The interrupt descriptor table and trap dispatch. Exceptions in the kernel either have an
 * exception-table fixup (user copies, probing MSRs) or end in a readable report and a panic;
 * interrupts go to the handler registered for their vector, and a vector nobody registered
 * is reported, never ignored. */
#include "arch/cpu.h"
#include "entry_priv.h"
#include "ksyms.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define IDT_ENTRIES 256
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIC_SPURIOUS_IRQ7 0x27 /* the 8259s' vectors start at 0x20 and 0x28 (pic_disable) */
#define PIC_SPURIOUS_IRQ15 0x2f

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __packed;

struct ex_entry {
	uint64_t insn, fixup;
};

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[IDT_ENTRIES];
static uint64_t unexpected_count[IDT_ENTRIES];
static uint64_t pic_spurious; /* spurious IRQ 7/15 of the masked 8259s, all CPUs */
extern const char isr_stubs[];
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

/* Exception handlers other subsystems install (page fault, #MC, ...). */
static irq_handler_t exc_handlers[32];

static const char *const exc_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
	"device not available", "double fault", "coprocessor overrun", "invalid TSS",
	"segment not present", "stack fault", "general protection", "page fault", "reserved 15",
	"x87 FP error", "alignment check", "machine check", "SIMD FP error", "virtualization",
	"control protection", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "hypervisor injection", "VMM communication", "security",
	"reserved 31"};

static void set_gate(unsigned v, uint8_t ist, uint8_t type)
{
	uint64_t off = (uint64_t)(isr_stubs + 16 * v);
	idt[v] = (struct idt_gate){(uint16_t)off, SEL_KCODE, ist, type, (uint16_t)(off >> 16),
				   (uint32_t)(off >> 32), 0};
}

/* Build the IDT: every vector gets its stub; #DF, NMI and #MC run on their own IST stacks. */
void idt_init(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++)
		set_gate(v, 0, GATE_INTERRUPT);
	set_gate(VEC_DF, 1, GATE_INTERRUPT);
	set_gate(VEC_NMI, 2, GATE_INTERRUPT);
	set_gate(VEC_MC, 3, GATE_INTERRUPT);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

/* Set the DPL of a gate so user code may raise it with INT (only for deliberate uses). */
void idt_set_user_callable(unsigned v) { idt[v].type = GATE_INTERRUPT | 0x60; }
/* Undo idt_set_user_callable (INT v from ring 3 raises #GP again). */
void idt_clear_user_callable(unsigned v) { idt[v].type = GATE_INTERRUPT; }

/* Route interrupt vector v (32..255) to h. */
void irq_register(unsigned vector, irq_handler_t h) { irq_handlers[vector] = h; }
/* Route exception v (0..31) to h; h must handle both user and kernel mode or call
 * fault_report_and_panic. */
void exc_register(unsigned vector, irq_handler_t h) { exc_handlers[vector] = h; }
/* The handler exc_register installed for exception v, or NULL. */
irq_handler_t exc_get_handler(unsigned vector) { return exc_handlers[vector]; }

/* The fixup address for a faulting kernel instruction, or 0. Any context (#MC too). */
uint64_t ex_fixup_lookup(uint64_t rip)
{
	for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->insn == rip)
			return e->fixup;
	return 0;
}

/* Remap the legacy 8259 PICs away from the exception vectors and mask every line; the one
 * line MCRK uses, the serial console's receive interrupt, is let through by pic_unmask. */
void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20);
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 4);
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 1);
	outb(PIC2_DATA, 1);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/* Let the master 8259's line irq (0..7) through, on vector PIC_VECTOR_BASE + irq. Boot CPU,
 * interrupts off or before the line's device is told to interrupt. */
void pic_unmask(unsigned irq)
{
	outb(PIC1_DATA, (uint8_t)(inb(PIC1_DATA) & ~(1u << irq)));
}

/* End of a master 8259 interrupt (its handler, interrupts off). */
void pic_eoi(void)
{
	outb(PIC1_CMD, PIC_EOI);
}

static bool kernel_addr(uint64_t a) { return a >= 0xffff800000000000ull; }

static void backtrace(uint64_t rbp)
{
	printk(KERN_EMERG "Call trace:\n");
	for (int depth = 0; depth < 16; depth++) {
		if (!kernel_addr(rbp) || (rbp & 7))
			break;
		uint64_t *frame = (uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (!kernel_addr(ret))
			break;
		char sym[KSYM_FMT_MAX];
		ksym_format(sym, sizeof sym, ret);
		printk(KERN_EMERG "  [<%016lx>] %s\n", ret, sym);
		if (frame[0] <= rbp) /* frames grow up the stack; anything else is garbage */
			break;
		rbp = frame[0];
	}
}

/* Print everything known about a fatal trap, then panic. Any context. */
__noreturn void fault_report_and_panic(struct trap_frame *tf, const char *why)
{
	printk_set_panic();
	unsigned v = (unsigned)tf->vector;
	printk(KERN_EMERG "KERNEL FAULT: %s (vector %u, error code %#lx) on CPU %u: %s\n",
	       v < 32 ? exc_names[v] : "interrupt", v, tf->error_code, arch_cpu_id(), why);
	char sym[KSYM_FMT_MAX];
	if (!(tf->cs & 3))
		ksym_format(sym, sizeof sym, tf->rip);
	else
		sym[0] = '\0';
	printk(KERN_EMERG "RIP: %04lx:%016lx %s%s%sRFLAGS: %08lx RSP: %04lx:%016lx\n", tf->cs,
	       tf->rip, sym[0] ? "{" : "", sym, sym[0] ? "} " : "", tf->rflags, tf->ss, tf->rsp);
	printk(KERN_EMERG "CR2: %016lx CR3: %016lx CR0: %08lx CR4: %08lx\n", read_cr2(), read_cr3(),
	       read_cr0(), read_cr4());
	printk(KERN_EMERG "RAX: %016lx RBX: %016lx RCX: %016lx\n", tf->rax, tf->rbx, tf->rcx);
	printk(KERN_EMERG "RDX: %016lx RSI: %016lx RDI: %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	printk(KERN_EMERG "RBP: %016lx R08: %016lx R09: %016lx\n", tf->rbp, tf->r8, tf->r9);
	printk(KERN_EMERG "R10: %016lx R11: %016lx R12: %016lx\n", tf->r10, tf->r11, tf->r12);
	printk(KERN_EMERG "R13: %016lx R14: %016lx R15: %016lx\n", tf->r13, tf->r14, tf->r15);
	if (!(tf->cs & 3))
		backtrace(tf->rbp);
	panic("fatal %s in %s mode", v < 32 ? exc_names[v] : "trap", (tf->cs & 3) ? "user" : "kernel");
}

static void handle_exception(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	if (exc_handlers[v]) {
		exc_handlers[v](tf);
		return;
	}
	bool abort_class = v == VEC_NMI || v == VEC_DF || v == VEC_MC;
	if ((tf->cs & 3) && !abort_class) { /* user mode: the task gets a signal, we carry on */
		arch_irq_enable();
		entry_user_trap((struct user_regs *)tf, UTRAP_OTHER, tf->rip, (int)tf->error_code);
		arch_irq_disable();
		return;
	}
	uint64_t fix = (tf->cs & 3) ? 0 : ex_fixup_lookup(tf->rip);
	if (fix) {
		tf->rip = fix;
		return;
	}
	fault_report_and_panic(tf, "no handler for this exception");
}

static void handle_unexpected(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	/* 0x27/0x2f: spurious IRQ 7/15 of the masked 8259s; 0xff: APIC spurious. No EOI.
	 * Counted as Linux counts them: the APIC's in SPU per CPU, the 8259s' in ERR. */
	if (v == VEC_APIC_SPURIOUS)
		this_cpu()->spurious_count++;
	else if (v == PIC_SPURIOUS_IRQ7 || v == PIC_SPURIOUS_IRQ15)
		__atomic_fetch_add(&pic_spurious, 1, __ATOMIC_RELAXED);
	if (unexpected_count[v]++ < 5 || v == VEC_APIC_SPURIOUS)
		printk(KERN_WARNING "unexpected interrupt vector %u on CPU %u (seen %lu times)\n", v,
		       arch_cpu_id(), unexpected_count[v]);
}

/* Spurious interrupts the masked 8259s raised so far. Any context. */
uint64_t idt_pic_spurious_count(void)
{
	return __atomic_load_n(&pic_spurious, __ATOMIC_RELAXED);
}

/* Called by every entry stub with the saved state. */
void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	if ((tf->cs & 3) && v != VEC_DB)
		poison_trap_user_entry(tf);
	if (v < 32) {
		handle_exception(tf);
		return;
	}
	this_cpu()->irq_count++;
	if (irq_handlers[v])
		irq_handlers[v](tf);
	else
		handle_unexpected(tf);
}
