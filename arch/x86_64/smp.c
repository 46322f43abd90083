/* Multiprocessing: starting the application processors (APs), calling functions on other CPUs,
 * and stopping them all for a panic.
 *
 * Start-up follows the SDM's INIT-SIPI-SIPI sequence, one AP at a time: INIT, wait 10 ms,
 * start-up IPI with the trampoline's page (trampoline.S), wait 200 us, a second SIPI if the AP
 * has not yet said it is alive, then up to 1 s (5 s once the trampoline has run) for ap_main
 * (setup.c) to mark it online. CPU ids are dense, 0 for the boot CPU, the others in MADT order; an
 * AP that does not come up is put back to sleep with INIT and its id goes to the next one.
 *
 * Cross-CPU calls use one call slot per target CPU. A sender takes the slot's lock, writes
 * fn/arg, publishes a fresh sequence number in `pending` (release) and sends VEC_CALL_FUNCTION.
 * The target claims the request by swinging `pending` from that number to 0 (compare-exchange:
 * a sender that timed out withdraws its request the same way, so exactly one side wins), runs
 * fn with interrupts off and advances `done` to that number (release). The sender keeps the
 * lock until the target has claimed (and, with wait, finished) the request, so fn/arg are
 * never overwritten under the target. While it waits, a sender serves its own slot, so two
 * CPUs calling each other, or a caller with interrupts off, cannot deadlock. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "boot_info.h"
#include "cpumask.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "percpu.h"
#include "printk.h"
#include "spinlock.h"
#include "smp_priv.h"
#include "x86.h"

#define TRAMPOLINE_PHYS 0x8000 /* keep in step with trampoline.S */
#define SIPI_PAGE (TRAMPOLINE_PHYS >> PAGE_SHIFT)
#define INIT_DELAY_NS (10 * NS_PER_MS)
#define SIPI_DELAY_NS (200 * NS_PER_US)
#define AP_ONLINE_TIMEOUT_NS (1000 * NS_PER_MS) /* no sign of life after the SIPIs */
#define AP_ALIVE_TIMEOUT_NS (5000 * NS_PER_MS)	/* started the trampoline, not yet online */
#define CALL_WARN_NS NS_PER_SEC /* a call still unanswered after this is reported */
#define STOP_TIMEOUT_NS (100 * NS_PER_MS)
#define STOP_SPINS_UNCALIBRATED 100000000ul
#define AP_STACK_ORDER 2 /* 16 KiB */
#define CR4_PCIDE BIT(17)
#define EFER_LMA BIT(10)

/* Mirrors the data block at the end of trampoline.S. */
struct trampoline_data {
	uint64_t alive, cr0, cr3, cr4, efer, stack, entry, cpu;
};

struct call_slot {
	spinlock_t lock; /* held by the one sender using this slot */
	cpu_fn_t fn;
	void *arg;
	uint32_t pending; /* sequence number of the posted request, 0 when none */
	uint32_t done;	  /* sequence number of the last request that finished */
	uint32_t seq;	  /* last number handed out (under lock) */
} __attribute__((aligned(64)));

extern const char trampoline_start[], trampoline_end[], trampoline_data[];
void ap_main(unsigned cpu);

static struct call_slot call_slots[MAX_CPUS];
static unsigned cpu_count = 1;
static int stopping_cpu = -1; /* the CPU that sent the stop NMIs, -1 before */
static uint32_t cpus_stopped;
static uint64_t nmi_unexpected;
unsigned long smp_call_failures;
unsigned long smp_call_slow;

unsigned arch_cpu_count(void)
{
	return __atomic_load_n(&cpu_count, __ATOMIC_ACQUIRE);
}

bool arch_cpu_online(unsigned cpu)
{
	return cpu < MAX_CPUS && __atomic_load_n(&cpu_locals[cpu].online, __ATOMIC_ACQUIRE);
}

/* Sequence numbers wrap: a is later than b when it is less than 2^31 ahead. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Run this CPU's posted call, if any. Interrupts off (IPI handler or a waiting sender). */
static void call_slot_serve(void)
{
	struct call_slot *s = &call_slots[arch_cpu_id()];
	uint32_t seq = __atomic_load_n(&s->pending, __ATOMIC_ACQUIRE);
	if (!seq)
		return;
	cpu_fn_t fn = s->fn;
	void *arg = s->arg;
	if (!__atomic_compare_exchange_n(&s->pending, &seq, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return; /* withdrawn by a sender that gave up */
	fn(arg);
	/* done only moves forward: a call posted without wait may finish after later calls
	 * that ran nested inside it (their senders serve calls while they wait). */
	uint32_t cur = __atomic_load_n(&s->done, __ATOMIC_RELAXED);
	while (seq_after(seq, cur) &&
	       !__atomic_compare_exchange_n(&s->done, &cur, seq, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

static void call_ipi(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->call_count++;
	apic_eoi();
	call_slot_serve();
}

/* Spin until *word == want, or with at_least until *word is want or later (acquire); serve
 * our own slot meanwhile. There is no deadline: a claimed call may point at the caller's stack
 * and a withdrawn TLB shootdown would leave stale entries, so like Linux's csd lock this waits
 * for as long as it takes, saying so once after CALL_WARN_NS (a busy emulator host can stall a
 * virtual CPU for seconds). Gives up (false) only when cpu leaves the online set (stopped by
 * a panic). */
static bool wait_for(unsigned cpu, const uint32_t *word, uint32_t want, bool at_least)
{
	uint64_t warn_at = arch_time_ns() + CALL_WARN_NS;
	for (;;) {
		uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		if (v == want || (at_least && seq_after(v, want)))
			return true;
		if (!arch_cpu_online(cpu))
			return false;
		if (warn_at && arch_time_ns() > warn_at) {
			warn_at = 0;
			__atomic_fetch_add(&smp_call_slow, 1, __ATOMIC_RELAXED);
			printk(KERN_WARNING "smp: CPU %u has not answered a call for 1 s; waiting\n", cpu);
		}
		irqflags_t f = arch_irq_save();
		call_slot_serve();
		arch_irq_restore(f);
		arch_cpu_relax();
	}
}

/* Post fn(arg) to cpu's slot and wait until the target claimed it. Returns the sequence
 * number (slot lock still held), or 0 when the target went offline first (request withdrawn,
 * lock released). */
static uint32_t call_post(unsigned cpu, cpu_fn_t fn, void *arg)
{
	struct call_slot *s = &call_slots[cpu];
	while (!spin_trylock(&s->lock)) {
		/* Whoever holds it may be waiting for us to take its call. */
		irqflags_t f = arch_irq_save();
		call_slot_serve();
		arch_irq_restore(f);
		arch_cpu_relax();
	}
	uint32_t seq = ++s->seq ? s->seq : ++s->seq; /* never 0: 0 means "none" */
	s->fn = fn;
	s->arg = arg;
	__atomic_store_n(&s->pending, seq, __ATOMIC_RELEASE);
	apic_send_ipi(cpu, VEC_CALL_FUNCTION);
	if (!wait_for(cpu, &s->pending, 0, false)) {
		uint32_t expect = seq;
		if (__atomic_compare_exchange_n(&s->pending, &expect, 0, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			spin_unlock(&s->lock);
			__atomic_fetch_add(&smp_call_failures, 1, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return seq;
}

/* Finish a posted call: optionally wait for it to complete, then release the slot. */
static int call_finish(unsigned cpu, uint32_t seq, bool wait)
{
	struct call_slot *s = &call_slots[cpu];
	int err = 0;
	if (wait && !wait_for(cpu, &s->done, seq, true)) {
		err = -EINVAL; /* the target was stopped before it finished */
		__atomic_fetch_add(&smp_call_failures, 1, __ATOMIC_RELAXED);
	}
	spin_unlock(&s->lock);
	return err;
}

int arch_call_on_cpu(unsigned cpu, cpu_fn_t fn, void *arg, bool wait)
{
	if (!arch_cpu_online(cpu))
		return -EINVAL;
	if (cpu == arch_cpu_id()) {
		irqflags_t f = arch_irq_save();
		fn(arg);
		arch_irq_restore(f);
		return 0;
	}
	uint32_t seq = call_post(cpu, fn, arg);
	if (!seq)
		return -EINVAL;
	return call_finish(cpu, seq, wait);
}

void arch_call_on_others(cpu_fn_t fn, void *arg, bool wait)
{
	struct cpumask posted = {0};
	unsigned self = arch_cpu_id(), n = arch_cpu_count();
	/* Post to all first (slot locks taken in CPU order, so callers cannot deadlock), then
	 * wait for all: the calls run in parallel. A posted slot stays locked by us, so its seq
	 * is still the number we were given. */
	for (unsigned c = 0; c < n; c++)
		if (c != self && arch_cpu_online(c) && call_post(c, fn, arg))
			cpumask_set(&posted, c);
	for_each_cpu_in(c, &posted)
		call_finish(c, call_slots[c].seq, wait);
}

/* NMI: the stop request of arch_stop_other_cpus, a broadcast machine check (mca.c), or
 * something the platform raised. */
static void nmi_handler(struct trap_frame *tf)
{
	this_cpu()->nmi_count++;
	int stopper = __atomic_load_n(&stopping_cpu, __ATOMIC_ACQUIRE);
	if (stopper >= 0 && (unsigned)stopper != arch_cpu_id()) {
		__atomic_store_n(&this_cpu()->online, false, __ATOMIC_RELEASE);
		__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_ACQ_REL);
		arch_halt_forever();
	}
	if (mca_nmi(tf))
		return;
	/* No printk here: the interrupted code may hold its lock. The console is lock-free. */
	char msg[96];
	int n = ksnprintf(msg, sizeof msg, "\nNMI on CPU %u with no reason known (%lu so far)\n",
			  arch_cpu_id(), ++nmi_unexpected);
	arch_console_write(msg, (size_t)MIN(n, (int)sizeof msg - 1));
}

/* Send an NMI to every other online CPU; their NMI handler halts them. Waits a bounded time
 * for them to confirm and says on the console how many did. Any context (panic, #MC, NMI,
 * interrupts off); lock-free; returns at once if another CPU is already doing this. */
void arch_stop_other_cpus(void)
{
	unsigned self = arch_cpu_id(), n = arch_cpu_count(), sent = 0;
	int none = -1;
	if (!__atomic_compare_exchange_n(&stopping_cpu, &none, (int)self, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	for (unsigned c = 0; c < n; c++) {
		if (c != self && arch_cpu_online(c)) {
			apic_send_nmi(cpu_locals[c].apic_id);
			sent++;
		}
	}
	uint64_t deadline = arch_time_ns() + STOP_TIMEOUT_NS;
	for (unsigned long spins = 0; __atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE) < sent;
	     spins++) {
		if (tsc_hz() ? arch_time_ns() > deadline : spins > STOP_SPINS_UNCALIBRATED)
			break;
		arch_cpu_relax();
	}
	if (!sent)
		return;
	uint32_t stopped = __atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE);
	char msg[80];
	int len = ksnprintf(msg, sizeof msg, "smp: %u of %u other CPUs stopped%s\n", stopped, sent,
			    stopped < sent ? " (the rest did not answer the NMI)" : "");
	arch_console_write(msg, (size_t)MIN(len, (int)sizeof msg - 1));
}

/* Copy the trampoline into low memory. False (with a warning) if it does not fit a page. */
static bool trampoline_install(void)
{
	size_t len = (size_t)(trampoline_end - trampoline_start);
	if (len > PAGE_SIZE) {
		printk(KERN_ERR "smp: trampoline is %zu bytes, more than a page\n", len);
		return false;
	}
	memcpy(arch_phys_to_virt(TRAMPOLINE_PHYS), trampoline_start, len);
	return true;
}

static struct trampoline_data *trampoline_block(void)
{
	return (struct trampoline_data *)((char *)arch_phys_to_virt(TRAMPOLINE_PHYS) +
					  (trampoline_data - trampoline_start));
}

static bool ap_alive(volatile struct trampoline_data *d)
{
	return d->alive != 0;
}

/* INIT-SIPI-SIPI to apic_id as CPU cpu. 0 once it is online, -ENOMEM, or -ETIMEDOUT. */
static int ap_start(unsigned cpu, uint32_t apic_id)
{
	if (percpu_prepare(cpu))
		return -ENOMEM;
	struct page *stack = frame_alloc(AP_STACK_ORDER, PG_KSTACK);
	if (!stack)
		return -ENOMEM;
	volatile struct trampoline_data *d = trampoline_block();
	d->alive = 0;
	d->cr0 = read_cr0();
	d->cr3 = mmu_kernel_pml4();
	d->cr4 = read_cr4() & ~CR4_PCIDE; /* PCIDE may only be set in long mode */
	d->efer = rdmsr(MSR_EFER) & ~EFER_LMA;
	d->stack = (uint64_t)page_to_virt(stack) + (PAGE_SIZE << AP_STACK_ORDER);
	d->entry = (uint64_t)ap_main;
	d->cpu = cpu;
	cpu_locals[cpu].apic_id = apic_id;
	cpu_locals[cpu].online = false;
	__atomic_store_n(&cpu_count, cpu + 1, __ATOMIC_RELEASE); /* "being brought up" */

	apic_send_init(apic_id);
	tsc_delay_ns(INIT_DELAY_NS);
	apic_send_sipi(apic_id, SIPI_PAGE);
	tsc_delay_ns(SIPI_DELAY_NS);
	if (!ap_alive(d))
		apic_send_sipi(apic_id, SIPI_PAGE);
	uint64_t start = arch_time_ns();
	for (;;) {
		uint64_t waited = arch_time_ns() - start;
		/* One that ran the trampoline gets longer: an emulator on a busy host is slow. */
		if (arch_cpu_online(cpu) || waited > AP_ALIVE_TIMEOUT_NS ||
		    (waited > AP_ONLINE_TIMEOUT_NS && !ap_alive(d)))
			break;
		arch_cpu_relax();
	}
	if (arch_cpu_online(cpu))
		return 0;
	/* Park it again so it cannot wake up later on a reused id; its stack is leaked on
	 * purpose (a CPU we know nothing about might still be using it). */
	apic_send_init(apic_id);
	__atomic_store_n(&cpu_count, cpu, __ATOMIC_RELEASE);
	printk(KERN_WARNING "smp: CPU with APIC id %u did not come online (%s); skipped\n", apic_id,
	       ap_alive(d) ? "it ran the trampoline" : "no sign of life");
	return -ETIMEDOUT;
}

/* Start every AP that the MADT lists, as CPUs 1..n-1. */
static void ap_start_all(void)
{
	uint32_t bsp = this_cpu()->apic_id;
	bool bsp_listed = false;
	unsigned next = 1;
	for (unsigned i = 0; i < acpi_cpus.n; i++) {
		uint32_t id = acpi_cpus.apic_id[i];
		if (id == bsp) {
			bsp_listed = true;
			continue;
		}
		if (next == MAX_CPUS) {
			printk(KERN_WARNING "smp: more than %u CPUs; the rest stay off\n",
			       MAX_CPUS);
			break;
		}
		if (!apic_id_reachable(id)) {
			printk(KERN_WARNING "smp: APIC id %u needs x2APIC; CPU skipped\n", id);
			continue;
		}
		int err = ap_start(next, id);
		if (!err)
			next++;
		else if (err == -ENOMEM)
			printk(KERN_WARNING "smp: no memory for a stack or per-CPU data; "
					    "APIC id %u skipped\n",
			       id);
	}
	if (!bsp_listed)
		printk(KERN_WARNING "smp: the boot CPU (APIC id %u) is not in the MADT\n", bsp);
}

static void flush_tlb_local(void *unused)
{
	(void)unused;
	write_cr3(read_cr3());
}

/* Bring up the other CPUs (unless "nosmp"), then drop the low identity map on all of them.
 * Boot CPU, once, after acpi_init and the boot CPU's apic_init; prints the CPU count. */
void smp_boot_aps(void)
{
	char v[4];
	irq_register(VEC_CALL_FUNCTION, call_ipi);
	exc_register(VEC_NMI, nmi_handler);
	if (cmdline_get(boot_info.cmdline, "nosmp", v, sizeof v))
		printk(KERN_INFO "smp: \"nosmp\" on the command line: one CPU\n");
	else if (acpi_cpus.n > 1 && trampoline_install())
		ap_start_all();
	mmu_drop_identity();
	arch_call_on_others(flush_tlb_local, NULL, true);
	printk(KERN_INFO "smp: %u CPUs online\n", arch_cpu_count());
}
