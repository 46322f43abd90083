/* x86-64 private definitions: port and MSR access, control registers, CPUID, segment
 * selectors, and the per-CPU block reached through GS. Only arch/x86_64 includes this. */
#pragma once
#include "types.h"

/* Virtual layout. */
#define KERNEL_VMA 0xffffffff80000000ull /* kernel image: KERNEL_VMA + physical */
#define DIRECT_MAP_BASE 0xffff800000000000ull /* all RAM: DIRECT_MAP_BASE + physical */
#define MMIO_BASE 0xffffc00000000000ull /* device registers, uncached 4 KiB mappings */

/* GDT selectors, in Linux's x86-64 order so SYSCALL/SYSRET and user CS values match. */
#define SEL_KCODE 0x10
#define SEL_KDATA 0x18
#define SEL_UCODE32 0x23
#define SEL_UDATA 0x2b
#define SEL_UCODE 0x33
#define SEL_TSS 0x40

/* Exception vectors (Intel SDM vol. 3A, table 6-1). The APIC's vectors are in smp_priv.h. */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_OF 4
#define VEC_BR 5
#define VEC_UD 6
#define VEC_NM 7
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_MF 16
#define VEC_AC 17
#define VEC_MC 18
#define VEC_XM 19

/* Page-table entry bits (the format is described at the top of mmu.c). */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_MARKER BIT(9) /* software bit: a non-present entry holding a marker (pt.c) */
#define PTE_PROTNONE BIT(10) /* software bit: a PROT_NONE mapping, present bit clear (pt.c) */
#define PTE_TRAP BIT(11) /* software bit: a mapping made to fault, present bit clear and every
			    other bit kept (the poison emulator, poison_trap.c) */
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

/* Page-fault error code bits. */
#define PF_PRESENT BIT(0)
#define PF_WRITE BIT(1)
#define PF_USER BIT(2)
#define PF_RSVD BIT(3)
#define PF_INSN BIT(4)

/* MSRs. */
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_NXE BIT(11)

/* Control register bits. */
#define CR0_WP BIT(16)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_FSGSBASE BIT(16)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED BIT(1) /* always reads as 1 */
#define RFLAGS_PF BIT(2)
#define RFLAGS_AF BIT(4)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_SF BIT(7)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_OF BIT(11)
#define RFLAGS_IOPL (BIT(12) | BIT(13))
#define RFLAGS_NT BIT(14)
#define RFLAGS_RF BIT(16)
#define RFLAGS_VM BIT(17)
#define RFLAGS_AC BIT(18)
#define RFLAGS_VIF BIT(19)
#define RFLAGS_VIP BIT(20)
#define RFLAGS_ID BIT(21)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
	return r;
}

#define DEFINE_CR(n)                                                                          \
	static inline uint64_t read_cr##n(void)                                               \
	{                                                                                     \
		uint64_t v;                                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                             \
		return v;                                                                     \
	}                                                                                     \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/* CPU features MCRK cares about, read once per CPU by cpu_detect(). */
struct cpu_features {
	char vendor[13];
	char brand[49];
	uint32_t family, model, stepping, signature, microcode;
	uint32_t max_leaf, max_ext_leaf;
	bool intel, amd;
	bool apic, x2apic, tsc, tsc_invariant, tsc_deadline, mce, mca, nx, smep, smap, pdpe1gb,
		pge, fsgsbase, rdtscp, hypervisor;
};
extern struct cpu_features cpu_features; /* the boot CPU's */

/* An exception-table entry from inline assembly: a fault at label `from` resumes at `to`
 * (idt.c looks the faulting RIP up; the fixup code lives in .fixup). */
#define ASM_EXTABLE(from, to)                                                                 \
	".pushsection .ex_table, \"a\"\n.balign 8\n.quad " #from ", " #to "\n.popsection\n"

/* The rest of an asm statement whose instruction at label 1 may fault: execution goes on at
 * label 2 either way, and a fault first moves the operand efault (an "i"(-EFAULT)) into the
 * operand err; both are given as operand strings ("%1", "%3"). */
#define ASM_FAULT_TO(err, efault)                                                             \
	"2:\n"                                                                                 \
	".pushsection .fixup, \"ax\"\n"                                                        \
	"3: movl " efault ", " err "\n"                                                       \
	"   jmp 2b\n"                                                                          \
	".popsection\n" ASM_EXTABLE(1b, 3b)

/* Bracket deliberate kernel accesses to user pages (SMAP makes any other one fault). */
static inline void user_access_begin(void)
{
	if (cpu_features.smap)
		__asm__ volatile("stac" ::: "memory");
}
static inline void user_access_end(void)
{
	if (cpu_features.smap)
		__asm__ volatile("clac" ::: "memory");
}

/* The per-CPU block; GS base points at it in kernel mode. Field offsets are used from
 * assembly (entry code), so keep the first fields in this order. */
struct cpu_local {
	struct cpu_local *self;    /* 0x00 */
	uint64_t kernel_rsp;       /* 0x08: top of the current task's kernel stack (SYSCALL) */
	uint64_t user_rsp_scratch; /* 0x10: user RSP during SYSCALL entry */
	uint32_t cpu_id;           /* 0x18 */
	uint32_t apic_id;          /* 0x1c */
	struct task *current;      /* 0x20: running task (arch_current_task) */
	uint64_t mce_nesting;      /* 0x28: #MC handler depth on this CPU */
	bool online;
	/* The poison emulator's trap is writing this CPU's banks for a machine check of its own
	 * (mca_raise_begin), and a broadcast NMI came meanwhile (mca.c). */
	bool mce_raising, mce_missed;
	uint64_t irq_count;
	uint64_t timer_ticks;
	/* Events /proc/interrupts counts (cpuinfo.c), each bumped only by its own CPU. */
	uint64_t nmi_count, spurious_count, call_count, tlb_count;
	/* Where this CPU sits (topology.c): package (socket), core within it, hardware thread. */
	uint32_t initial_apic_id, package_id, core_id, thread_id;
	uint32_t package_cpus, package_cores; /* CPUs and cores online in its package */
};
#define CPU_LOCAL_KERNEL_RSP 0x08
#define CPU_LOCAL_USER_RSP 0x10
#define CPU_LOCAL_CURRENT 0x20

extern struct cpu_local cpu_locals[MAX_CPUS];
static inline struct cpu_local *this_cpu(void)
{
	struct cpu_local *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* The register state the entry stubs save (isr.S builds it; keep the two in step). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* arch-internal functions (one line each on what they do; see their files). */
void serial_init(void);
void serial_flush(void);
struct console_cfg;
void serial_configure(const struct console_cfg *cfg, bool have_screen); /* console= ports */
void cpu_detect(struct cpu_features *f);
void cpu_init_features(void);           /* NX, SMEP, SMAP, PGE on this CPU */
void cpu_local_init(unsigned cpu);      /* GS base -> cpu_locals[cpu] */
void gdt_init_cpu(unsigned cpu);        /* GDT + TSS with IST stacks for this CPU */
void idt_init(void);                    /* build the IDT once */
void idt_load(void);                    /* load it on this CPU */
void mmu_init_direct_map(paddr_t top);  /* map [0, top) at DIRECT_MAP_BASE, switch CR3 */
void *mmu_map_mmio(paddr_t pa, size_t len); /* uncached mapping of device registers */
void *mmu_map_device_memory(paddr_t pa, size_t len); /* a framebuffer, cached as the MTRRs say */
void *mmu_map_mmio_large(paddr_t pa, size_t len); /* uncached, in 2 MiB pages (ECAM, big BARs) */
void mmu_drop_identity(void);
paddr_t mmu_kernel_pml4(void);
void pic_disable(void);
#define PIC_VECTOR_BASE 0x20 /* the master 8259's IRQ 0..7 arrive on 0x20..0x27 (idt.c) */
void pic_unmask(unsigned irq);
void pic_eoi(void);
void apic_lint0_extint(void); /* the 8259s' interrupts reach the boot CPU (apic.c) */
typedef void (*irq_handler_t)(struct trap_frame *tf);
void irq_register(unsigned vector, irq_handler_t h);
void exc_register(unsigned vector, irq_handler_t h); /* exception 0..31 (idt.c) */
uint64_t idt_pic_spurious_count(void);                /* spurious 8259 interrupts (idt.c) */
paddr_t mmu_direct_map_top(void);                    /* the direct map covers [0, this) */
void apic_eoi(void);                                 /* end of interrupt, this CPU (apic.c) */
void apic_send_ipi(unsigned cpu, unsigned vector);   /* fixed IPI to a CPU, self included */
__noreturn void fault_report_and_panic(struct trap_frame *tf, const char *why);
uint64_t ex_fixup_lookup(uint64_t rip);  /* fixup address for a faulting kernel RIP, or 0 */
void idt_set_user_callable(unsigned v);  /* allow INT v from ring 3 */
void trap_dispatch(struct trap_frame *tf);
int probe_read64(const void *addr, uint64_t *val); /* 0, or -EFAULT if the read faults */
int rdmsr_safe(uint32_t msr, uint64_t *val);       /* 0, or -EFAULT if the MSR #GPs */
void cpu_set_kernel_stack(uint64_t top); /* TSS.RSP0 and the SYSCALL stack of this CPU */
void mmu_init_early(void);
void mmu_extend_direct_map(paddr_t top, paddr_t (*alloc_table)(void));
uint64_t *mmu_direct_pte(paddr_t pa);     /* 4 KiB direct-map entry of pa, splitting (mmu.c) */
/* The poison emulator's trap (poison_trap.c): a page fault on a trapped entry, the #DB that
 * ends a step, any other entry from user mode, and the last step of the return to user. */
bool poison_trap_fault(struct trap_frame *tf, uint64_t addr);
bool poison_trap_debug(struct trap_frame *tf);
void poison_trap_user_entry(struct trap_frame *tf);
struct user_regs;
void poison_trap_exit_to_user(struct user_regs *r);
/* mca.c: raise a machine check at tf now, the banks already written: this CPU enters the #MC
 * handler with tf, and unless local every other CPU too (by NMI, mca_nmi). #PF/#DB context. */
void mca_raise_at(struct trap_frame *tf, bool local);
bool mca_nmi(struct trap_frame *tf); /* NMI: true when it was mca_raise_at's broadcast */
/* Ask CPU cpu (this one too) by NMI to take part in a broadcast machine check. Any context. */
void mca_broadcast_nmi(unsigned cpu);
/* Around the emulator's decision at tf (#PF/#DB, interrupts off): from begin, a broadcast NMI
 * does not overwrite the banks and MCG_STATUS being written for this CPU's own machine check;
 * mca_raise_at then joins the other CPU's event with it, and end, when there is none to
 * raise, joins as a bystander (the other CPU's meeting waits for this one). */
void mca_raise_begin(void);
void mca_raise_end(struct trap_frame *tf);

/* Boot and per-CPU start-up (setup.c calls these in order; see their files). */
void x86_64_start(uint32_t magic, uint32_t info_phys);
void ap_main(unsigned cpu);
void time_init(void);          /* calibrate the TSC */
void apic_init(bool bsp);      /* local APIC of this CPU */
void acpi_init(paddr_t rsdp);  /* find the CPUs in the MADT */
void smp_boot_aps(void);       /* start every other CPU */
void timer_init_cpu(void);     /* periodic LAPIC timer on this CPU */
void mca_cpu_init(bool bsp);   /* machine checks on this CPU; bsp: install handlers (mca.c) */
void topology_init_cpu(void);  /* this CPU's package, core and thread (topology.c) */
void rtc_init(void);           /* read the CMOS clock, anchor wall time (rtc.c) */
struct rtc_regs;
int rtc_read_regs(struct rtc_regs *r); /* one consistent reading of the CMOS clock, 0 or -1 */
void cpuinfo_init(void);       /* the arch's rows of /proc/interrupts (cpuinfo.c) */
void topology_finish(void);    /* siblings and cores per package, once all CPUs are up */
