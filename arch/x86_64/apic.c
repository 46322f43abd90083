/* The local APIC of each CPU: enabling it, interrupts between CPUs (IPIs), end of interrupt,
 * and its timer as the periodic tick.
 *
 * Two register interfaces reach the same registers. xAPIC: 32-bit registers every 16 bytes in
 * a 4 KiB page at the APIC base (MSR 0x1b, normally 0xfee00000), mapped uncached once and
 * used by every CPU (each CPU sees its own APIC there). x2APIC: the same register at offset
 * R is MSR 0x800 + R/16, ids are 32 bits, and the interrupt command register (ICR) is one
 * 64-bit MSR instead of two halves. MCRK uses x2APIC whenever CPUID offers it (Bochs does,
 * QEMU 7.2's TCG does not), on every CPU alike; "nox2apic" on the command line keeps xAPIC.
 *
 * The timer counts down from an initial count at the bus clock divided by 16. Its rate is not
 * architectural, so the boot CPU measures it once against the calibrated TSC. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "boot_info.h"
#include "panic.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

/* Register offsets in the xAPIC page. */
#define APIC_ID 0x020
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define X2APIC_MSR_BASE 0x800

#define APIC_BASE_ADDR_MASK 0xffffff000ul
#define APIC_BASE_EXTD BIT(10) /* x2APIC mode */
#define APIC_BASE_EN BIT(11)
#define SVR_ENABLE BIT(8)
#define LVT_MASKED BIT(16)
#define LVT_PERIODIC BIT(17)
#define LVT_DM_NMI (4u << 8)
#define LVT_DM_EXTINT (7u << 8)
#define TIMER_DIV_16 0x3
#define ICR_DM_FIXED (0u << 8)
#define ICR_DM_NMI (4u << 8)
#define ICR_DM_INIT (5u << 8)
#define ICR_DM_STARTUP (6u << 8)
#define ICR_BUSY BIT(12)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_DEST_SELF (1u << 18)
#define ICR_BUSY_SPINS 1000000ul
#define XAPIC_MAX_ID 0xfe

#define TIMER_CAL_NS (10 * NS_PER_MS)
/* Used if calibration fails: a 1 GHz bus / 16, as QEMU has. */
#define TIMER_FALLBACK_HZ 62500000ul

static bool x2apic;
static volatile uint32_t *xapic_regs; /* the mapped xAPIC page */
static uint64_t timer_hz;	      /* APIC timer counts per second, divider 16 */
#define MAX_TICK_FNS 4
static void (*volatile tick_fns[MAX_TICK_FNS])(void);
static uint64_t apic_errors;

uint64_t apic_error_count(void)
{
	return __atomic_load_n(&apic_errors, __ATOMIC_RELAXED);
}

bool apic_x2apic_mode(void)
{
	return x2apic;
}

static uint32_t apic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16);
	return xapic_regs[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR_BASE + reg / 16, v);
	else
		xapic_regs[reg / 4] = v;
}

/* Signal end of interrupt to this CPU's APIC. IRQ context (any vector the APIC delivered). */
void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

uint32_t apic_read_id(void)
{
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + APIC_ID / 16);
	return xapic_regs[APIC_ID / 4] >> 24;
}

/* Write the ICR: destination APIC id and the low word (vector, delivery mode, shorthand).
 * Interrupts are off around it so an IRQ cannot slip its own IPI between the xAPIC halves;
 * the busy waits are bounded, so this is safe in NMI/#MC context too. */
static void apic_icr_write(uint32_t dest, uint32_t lo)
{
	irqflags_t f = arch_irq_save();
	if (x2apic) {
		/* x2APIC MSR writes are not serializing: make earlier stores (a posted call)
		 * visible before the IPI can arrive. */
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(X2APIC_MSR_BASE + APIC_ICR_LO / 16, (uint64_t)dest << 32 | lo);
	} else {
		for (unsigned long i = 0; i < ICR_BUSY_SPINS && (apic_read(APIC_ICR_LO) & ICR_BUSY);
		     i++)
			arch_cpu_relax();
		apic_write(APIC_ICR_HI, dest << 24);
		apic_write(APIC_ICR_LO, lo);
	}
	arch_irq_restore(f);
}

/* Send interrupt vector (32..255) to CPU cpu (itself included). Any context; the CPU must
 * be online or being started (its APIC id is known); ids past MAX_CPUS are ignored. */
void apic_send_ipi(unsigned cpu, unsigned vector)
{
	if (cpu >= MAX_CPUS)
		return;
	if (cpu == arch_cpu_id())
		apic_icr_write(0, ICR_DEST_SELF | ICR_DM_FIXED | (vector & 0xff));
	else
		apic_icr_write(cpu_locals[cpu].apic_id, ICR_DM_FIXED | (vector & 0xff));
}

void apic_send_init(uint32_t apic_id)
{
	apic_icr_write(apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT);
}

void apic_send_sipi(uint32_t apic_id, uint8_t page)
{
	apic_icr_write(apic_id, ICR_DM_STARTUP | ICR_LEVEL_ASSERT | page);
}

void apic_send_nmi(uint32_t apic_id)
{
	apic_icr_write(apic_id, ICR_DM_NMI | ICR_LEVEL_ASSERT);
}

/* The APIC reports a bad IPI or a bad vector: say what the error status register holds. */
static void apic_error_irq(struct trap_frame *tf)
{
	(void)tf;
	apic_write(APIC_ESR, 0); /* latch the current errors into the readable register */
	uint32_t esr = apic_read(APIC_ESR);
	apic_eoi();
	if (__atomic_fetch_add(&apic_errors, 1, __ATOMIC_RELAXED) < 10)
		printk(KERN_WARNING "apic: error on CPU %u: ESR %#x\n", arch_cpu_id(), esr);
}

static void apic_timer_irq(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->timer_ticks++;
	/* Acknowledge first: a tick function that switches tasks must not leave the timer's
	 * in-service bit set (and every lower-priority vector blocked) until it comes back. */
	apic_eoi();
	for (unsigned i = 0; i < MAX_TICK_FNS; i++) {
		void (*fn)(void) = tick_fns[i];
		if (fn)
			fn();
	}
}

void arch_timer_set_tick(void (*tick)(void))
{
	for (unsigned i = 0; i < MAX_TICK_FNS; i++) {
		if (tick_fns[i] == tick)
			return;
		if (!tick_fns[i]) {
			tick_fns[i] = tick;
			return;
		}
	}
	printk(KERN_ERR "apic: no room for another tick function\n");
}

/* Choose xAPIC or x2APIC (boot CPU) and map the xAPIC page when it is needed. */
static void apic_setup_mode(uint64_t base_msr)
{
	char v[4];
	x2apic = cpu_features.x2apic && !cmdline_get(boot_info.cmdline, "nox2apic", v, sizeof v);
	if (base_msr & APIC_BASE_EXTD) {
		if (!x2apic)
			printk(KERN_WARNING "apic: firmware left x2APIC mode on; keeping it\n");
		x2apic = true; /* leaving x2APIC needs the APIC disabled first: not worth it */
	}
	if (!x2apic) {
		xapic_regs = mmu_map_mmio(base_msr & APIC_BASE_ADDR_MASK, PAGE_SIZE);
		if (!xapic_regs)
			panic("apic: cannot map the local APIC at %#lx",
			      base_msr & APIC_BASE_ADDR_MASK);
	}
	irq_register(VEC_LAPIC_TIMER, apic_timer_irq);
	irq_register(VEC_APIC_ERROR, apic_error_irq);
	printk(KERN_INFO "apic: %s mode, base %#lx\n", x2apic ? "x2APIC" : "xAPIC",
	       base_msr & APIC_BASE_ADDR_MASK);
}

/* Read the timer's current count with the TSC time (ns) half-way through the read. */
static uint32_t timer_read(uint64_t *ns)
{
	uint64_t t0 = arch_time_ns();
	uint32_t v = apic_read(APIC_TIMER_CUR);
	*ns = t0 + (arch_time_ns() - t0) / 2;
	return v;
}

/* Measure the timer against the TSC: let it count down from the top for TIMER_CAL_NS. */
static void apic_timer_calibrate(void)
{
	uint64_t ns0, ns1;
	apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	uint32_t c0 = timer_read(&ns0);
	tsc_delay_ns(TIMER_CAL_NS);
	uint32_t c1 = timer_read(&ns1);
	apic_write(APIC_TIMER_INIT, 0);
	if (ns1 <= ns0 || c1 >= c0 || !c1) {
		printk(KERN_WARNING "apic: timer calibration failed (count %u -> %u in %lu ns); "
				    "assuming %lu Hz\n",
		       c0, c1, ns1 - ns0, TIMER_FALLBACK_HZ);
		timer_hz = TIMER_FALLBACK_HZ;
		return;
	}
	timer_hz = (uint64_t)(c0 - c1) * NS_PER_SEC / (ns1 - ns0);
	printk(KERN_INFO "apic: timer %lu.%03lu MHz (bus clock / 16)\n", timer_hz / 1000000,
	       timer_hz / 1000 % 1000);
}

/* Enable this CPU's local APIC and record its id in this_cpu()->apic_id. bsp: also choose
 * the mode, map the registers and calibrate the timer (the boot CPU, once, after time_init).
 * APs call it from ap_main with interrupts off. */
void apic_init(bool bsp)
{
	if (!cpu_features.apic)
		panic("this CPU has no local APIC (CPUID.1:EDX.APIC = 0): MCRK needs one");
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (bsp)
		apic_setup_mode(base);
	base |= APIC_BASE_EN;
	if (x2apic)
		base |= APIC_BASE_EXTD;
	wrmsr(MSR_APIC_BASE, base);

	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	/* LINT1 is the platform's NMI line on the boot CPU; the APs do not get it. */
	apic_write(APIC_LVT_LINT1, bsp ? LVT_DM_NMI : LVT_MASKED);
	apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | VEC_APIC_SPURIOUS);
	this_cpu()->apic_id = apic_read_id();
	if (bsp)
		apic_timer_calibrate();
}

/* Let the 8259s' interrupts in through this CPU's LINT0 ("virtual wire" mode): the serial
 * console's receive interrupt comes that way. The boot CPU, after apic_init. */
void apic_lint0_extint(void)
{
	apic_write(APIC_LVT_LINT0, LVT_DM_EXTINT);
}

/* Start the APIC timer on this CPU: periodic, HZ times a second, on VEC_LAPIC_TIMER; each tick
 * counts this_cpu()->timer_ticks and calls the arch_timer_set_tick function. After apic_init. */
void timer_init_cpu(void)
{
	uint64_t count = timer_hz / HZ;
	if (count > 0xfffffffful)
		count = 0xfffffffful;
	if (!count)
		count = 1;
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
	apic_write(APIC_LVT_TIMER, LVT_PERIODIC | VEC_LAPIC_TIMER);
	apic_write(APIC_TIMER_INIT, (uint32_t)count);
}

bool apic_id_reachable(uint32_t apic_id)
{
	return x2apic || apic_id <= XAPIC_MAX_ID;
}
