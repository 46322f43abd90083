/* CPU identity and per-CPU set-up: CPUID feature detection, control-register features
 * (NX, SMEP, SMAP, PGE), and each CPU's GDT and TSS with its IST stacks for #DF, NMI and #MC.
 * Also the arch_* CPU interface (interrupt flags, CPU id, halting). */
#include "arch/cpu.h"
#include "frame.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "x86.h"

struct cpu_features cpu_features;
struct cpu_local cpu_locals[MAX_CPUS];

/* IST slots (1-based, as the IDT gate encodes them). */
#define IST_DF 1
#define IST_NMI 2
#define IST_MC 3
#define IST_STACK_SIZE 16384
#define N_IST 3

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

/* GDT: null, unused, kernel code/data, user code32/data/code64, TSS (two slots). */
#define GDT_ENTRIES 10
struct cpu_tables {
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
};
static struct cpu_tables cpu_tables[MAX_CPUS];
static uint8_t bsp_ist_stacks[N_IST][IST_STACK_SIZE] __attribute__((aligned(16)));

void cpu_detect(struct cpu_features *f)
{
	struct cpuid_regs r = cpuid(0, 0);
	f->max_leaf = r.eax;
	memcpy(f->vendor + 0, &r.ebx, 4);
	memcpy(f->vendor + 4, &r.edx, 4);
	memcpy(f->vendor + 8, &r.ecx, 4);
	f->vendor[12] = 0;
	f->intel = !strcmp(f->vendor, "GenuineIntel");
	f->amd = !strcmp(f->vendor, "AuthenticAMD");
	r = cpuid(1, 0);
	f->signature = r.eax;
	f->stepping = r.eax & 0xf;
	f->family = (r.eax >> 8) & 0xf;
	f->model = (r.eax >> 4) & 0xf;
	if (f->family == 0xf)
		f->family += (r.eax >> 20) & 0xff;
	if (f->family == 0x6 || f->family >= 0xf)
		f->model += ((r.eax >> 16) & 0xf) << 4;
	f->tsc = r.edx & BIT(4);
	f->mce = r.edx & BIT(7);
	f->apic = r.edx & BIT(9);
	f->pge = r.edx & BIT(13);
	f->mca = r.edx & BIT(14);
	f->x2apic = r.ecx & BIT(21);
	f->tsc_deadline = r.ecx & BIT(24);
	f->hypervisor = r.ecx & BIT(31);
	if (f->max_leaf >= 7) {
		r = cpuid(7, 0);
		f->fsgsbase = r.ebx & BIT(0);
		f->smep = r.ebx & BIT(7);
		f->smap = r.ebx & BIT(20);
	}
	r = cpuid(0x80000000, 0);
	f->max_ext_leaf = r.eax;
	if (f->max_ext_leaf >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		f->nx = r.edx & BIT(20);
		f->pdpe1gb = r.edx & BIT(26);
		f->rdtscp = r.edx & BIT(27);
	}
	if (f->max_ext_leaf >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i, 0);
			memcpy(f->brand + 16 * i, &r, 16);
		}
		f->brand[48] = 0;
	}
	if (f->max_ext_leaf >= 0x80000007)
		f->tsc_invariant = cpuid(0x80000007, 0).edx & BIT(8);
	f->microcode = 0; /* read later with rdmsr_safe: not every model has the MSR */
}

/* Turn on NX, SMEP, SMAP and global pages on this CPU where the boot CPU has them. */
void cpu_init_features(void)
{
	const struct cpu_features *f = &cpu_features;
	if (f->nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (f->pge)
		cr4 |= CR4_PGE;
	if (f->smep)
		cr4 |= CR4_SMEP;
	if (f->smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);
	write_cr0(read_cr0() | CR0_WP);
}

static uint64_t seg_desc(uint32_t flags_access) { return (uint64_t)flags_access << 40 | 0xffff; }

static void set_tss_desc(uint64_t *gdt, unsigned idx, const struct tss *t)
{
	uint64_t base = (uint64_t)t, limit = sizeof(*t) - 1;
	gdt[idx] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[idx + 1] = base >> 32;
}

/* Build and load this CPU's GDT and TSS, reload segments and set GS to its cpu_local.
 * IST stacks: static for the boot CPU, from the frame allocator for the others. */
void gdt_init_cpu(unsigned cpu)
{
	struct cpu_tables *t = &cpu_tables[cpu];
	uint64_t *g = t->gdt;
	memset(t, 0, sizeof(*t));
	g[2] = seg_desc(0xa09a);     /* kernel code: L=1, P, DPL0, code */
	g[3] = seg_desc(0xc092);     /* kernel data */
	g[4] = seg_desc(0xc0fa);     /* user code 32 (unused, keeps Linux's selector numbers) */
	g[5] = seg_desc(0xc0f2);     /* user data */
	g[6] = seg_desc(0xa0fa);     /* user code 64 */
	set_tss_desc(g, SEL_TSS / 8, &t->tss);
	for (unsigned i = 0; i < N_IST; i++) {
		uint8_t *stack;
		if (cpu == 0) {
			stack = bsp_ist_stacks[i];
		} else {
			struct page *pg = frame_alloc(2, PG_KSTACK); /* 16 KiB */
			if (!pg)
				panic("cpu %u: no memory for IST stacks", cpu);
			stack = page_to_virt(pg);
		}
		t->tss.ist[i] = (uint64_t)stack + IST_STACK_SIZE;
	}
	t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap: user port access faults */

	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr = {sizeof(t->gdt) - 1, (uint64_t)g};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(SEL_KCODE), "i"(SEL_KDATA), "r"(SEL_TSS)
			 : "rax", "memory");
	/* Loading GS cleared the GS base: point it at this CPU's block again. */
	wrmsr(MSR_GS_BASE, (uint64_t)&cpu_locals[cpu]);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/* Point GS at CPU cpu's per-CPU block; first thing every CPU does (arch_cpu_id needs it). */
void cpu_local_init(unsigned cpu)
{
	struct cpu_local *c = &cpu_locals[cpu];
	c->self = c;
	c->cpu_id = cpu;
	wrmsr(MSR_GS_BASE, (uint64_t)c);
}

/* Kernel stack pointer the CPU loads on a ring 3 -> 0 interrupt (TSS.RSP0). */
void cpu_set_kernel_stack(uint64_t top)
{
	cpu_tables[this_cpu()->cpu_id].tss.rsp[0] = top;
	this_cpu()->kernel_rsp = top;
}

irqflags_t arch_irq_save(void)
{
	irqflags_t f = read_rflags();
	__asm__ volatile("cli" ::: "memory");
	return f;
}
void arch_irq_restore(irqflags_t f)
{
	if (f & RFLAGS_IF)
		__asm__ volatile("sti" ::: "memory");
}
void arch_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
void arch_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
bool arch_irq_enabled(void) { return read_rflags() & RFLAGS_IF; }
void arch_cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
void arch_wait_for_interrupt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

__noreturn void arch_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned arch_cpu_id(void)
{
	uint32_t id;
	__asm__ volatile("movl %%gs:0x18, %0" : "=r"(id));
	return id;
}

uint64_t arch_timestamp(void) { return rdtsc(); }

__noreturn void arch_exit_emulator(unsigned code)
{
	printk_flush(); /* text another CPU is still writing out (docs/log.md) */
	serial_flush();
	outb(0xf4, (uint8_t)code); /* QEMU isa-debug-exit: exits with (code << 1) | 1 */
	const char *s = "Shutdown"; /* Bochs: writing this string to port 0x8900 ends the run */
	while (*s)
		outb(0x8900, (uint8_t)*s++);
	arch_halt_forever();
}
