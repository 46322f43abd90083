/* Time from the time stamp counter. time_init finds the TSC frequency once, on the boot CPU:
 * from CPUID leaf 0x15 (crystal clock times a ratio) or 0x16 (base frequency) when the CPU
 * reports them, cross-checked against the legacy PIT; otherwise by counting TSC cycles over
 * about 10 ms of PIT channel 2 (read back through its latch, see pit_measure_once). From then on
 * nanoseconds are (cycles * mult) >> 32 with a 128-bit product, so the conversion never divides and
 * is safe in any context, #MC and NMI included. */
#include "arch/cpu.h"
#include "clock.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

/* PIT (8254): channel 2 can be gated and read back through port 0x61 without interrupts.
 * In mode 0 ("interrupt on terminal count") its output goes high when the count reaches 0. */
#define PIT_HZ 1193182ul
#define PIT_CH2_DATA 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xb0 /* channel 2, low then high byte, mode 0, binary */
#define PIT_CMD_CH2_LATCH 0x80	    /* channel 2: latch the count for reading */
#define PORT_SYS_CTRL 0x61	    /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */
#define SYS_CTRL_GATE2 0x01
#define SYS_CTRL_SPEAKER 0x02
#define SYS_CTRL_OUT2 0x20
#define PIT_CAL_MS 10
#define PIT_CAL_RUNS 3
#define PIT_POLL_MAX 100000ul /* samples (~40x a 10 ms run) before giving up on a dead PIT */
#define PIT_SAMPLE_TRIES 4

#define TSC_FALLBACK_HZ 1000000000ul /* assumed when nothing could be measured */
#define TSC_SHIFT 32

static uint64_t tsc_freq;   /* Hz */
static uint64_t tsc_mult;   /* ns = (cycles * tsc_mult) >> TSC_SHIFT */
static uint64_t tsc_origin; /* TSC at time_init: arch_time_ns counts from here */
static bool tsc_from_cpuid; /* the frequency is CPUID's, not a measurement */

uint64_t arch_timestamp_to_ns(uint64_t delta)
{
	return (uint64_t)(((unsigned __int128)delta * tsc_mult) >> TSC_SHIFT);
}

uint64_t arch_time_ns(void)
{
	uint64_t now = rdtsc();
	/* Another CPU's TSC may lag the boot CPU's by a little: never go below zero. */
	return now > tsc_origin ? arch_timestamp_to_ns(now - tsc_origin) : 0;
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

bool tsc_known_freq(void)
{
	return tsc_from_cpuid;
}

void tsc_delay_ns(uint64_t ns)
{
	uint64_t end = arch_time_ns() + ns;
	while (arch_time_ns() < end)
		arch_cpu_relax();
}

/* TSC frequency from CPUID, or 0. Leaf 0x15 gives TSC/crystal as EBX/EAX and the crystal
 * in ECX; when ECX is 0 the TSC runs at the base frequency that leaf 0x16 gives in MHz. */
static uint64_t tsc_hz_from_cpuid(void)
{
	if (!cpu_features.intel || cpu_features.max_leaf < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	if (!r.eax || !r.ebx)
		return 0;
	if (r.ecx)
		return (uint64_t)r.ecx * r.ebx / r.eax;
	if (cpu_features.max_leaf < 0x16)
		return 0;
	return (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000ul;
}

/* One reading of the PIT counter with the TSC around it. On a busy host (or with an SMI) a
 * reading can be stretched, so take the tightest of a few: its TSC mid-point is then within a
 * microsecond or so of the moment the counter was latched. */
struct pit_sample {
	uint16_t count;
	uint64_t tsc, width;
};

static struct pit_sample pit_sample(void)
{
	struct pit_sample best = {0, 0, ~0ul};
	for (unsigned i = 0; i < PIT_SAMPLE_TRIES; i++) {
		uint64_t t0 = rdtsc();
		outb(PIT_CMD, PIT_CMD_CH2_LATCH);
		uint16_t c = inb(PIT_CH2_DATA);
		c |= (uint16_t)(inb(PIT_CH2_DATA) << 8);
		uint64_t t1 = rdtsc();
		if (t1 - t0 < best.width)
			best = (struct pit_sample){c, t0 + (t1 - t0) / 2, t1 - t0};
	}
	return best;
}

/* TSC frequency in Hz over about PIT_CAL_MS: let channel 2 count down from 0xffff (mode 0) and
 * compare how far it and the TSC moved between two tight readings. Being descheduled in between
 * costs nothing: both clocks run on. Returns 0 if the PIT wrapped (its output went high) or does
 * not count at all (absent or gated off: then *dead is set). */
static uint64_t pit_measure_once(bool *dead)
{
	const uint16_t want = (uint16_t)(PIT_HZ * PIT_CAL_MS / 1000);
	uint8_t ctrl = inb(PORT_SYS_CTRL);
	uint64_t hz = 0;

	outb(PORT_SYS_CTRL, (ctrl & ~SYS_CTRL_SPEAKER) | SYS_CTRL_GATE2);
	outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2_DATA, 0xff);
	outb(PIT_CH2_DATA, 0xff);
	(void)pit_sample(); /* the first reading may precede the count being loaded */
	struct pit_sample a = pit_sample(), b = a;
	for (unsigned long n = 0; n < PIT_POLL_MAX && (uint16_t)(a.count - b.count) < want; n++)
		b = pit_sample();
	if ((uint16_t)(a.count - b.count) >= want && !(inb(PORT_SYS_CTRL) & SYS_CTRL_OUT2) &&
	    a.count > b.count)
		hz = (b.tsc - a.tsc) * PIT_HZ / (a.count - b.count);
	*dead = a.count == b.count;
	outb(PORT_SYS_CTRL, ctrl);
	return hz;
}

/* Median of a few PIT runs in Hz, or 0. The median shrugs off one run stretched by the host
 * (emulators) or by an SMI (hardware). */
static uint64_t tsc_hz_from_pit(void)
{
	uint64_t c[PIT_CAL_RUNS];
	unsigned got = 0;
	bool dead = false;
	/* A run fails if the counter wrapped (we were away for over 55 ms): try a few more. */
	for (unsigned tries = 0; got < PIT_CAL_RUNS && tries < 2 * PIT_CAL_RUNS && !dead; tries++) {
		c[got] = pit_measure_once(&dead);
		got += c[got] != 0;
	}
	if (got < PIT_CAL_RUNS)
		return 0;
	for (unsigned i = 1; i < PIT_CAL_RUNS; i++) /* insertion sort, three elements */
		for (unsigned j = i; j > 0 && c[j - 1] > c[j]; j--) {
			uint64_t t = c[j];
			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	return c[PIT_CAL_RUNS / 2];
}

/* Pick the frequency (kernel/lib/clock.c decides between CPUID's claim and the PIT's
 * measurement) and say where it came from. */
static uint64_t choose_tsc_hz(const char **how)
{
	uint64_t by_cpuid = tsc_hz_from_cpuid(), by_pit = tsc_hz_from_pit();
	enum clock_rate_source src;
	uint64_t hz = clock_rate_choose(by_cpuid, by_pit, TSC_FALLBACK_HZ, &src);

	tsc_from_cpuid = src == CLOCK_RATE_CLAIMED || src == CLOCK_RATE_CLAIMED_ONLY;
	switch (src) {
	case CLOCK_RATE_CLAIMED:
		*how = "CPUID 0x15/0x16, confirmed by the PIT";
		break;
	case CLOCK_RATE_CLAIMED_ONLY:
		*how = "CPUID 0x15/0x16 (no PIT)";
		break;
	case CLOCK_RATE_MEASURED:
		*how = by_cpuid ? "PIT; CPUID's claim is implausible" : "PIT calibration";
		break;
	case CLOCK_RATE_DISAGREE:
		printk(KERN_WARNING "time: CPUID says the TSC runs at %lu Hz but the PIT measures "
				    "%lu Hz; using the PIT\n",
		       by_cpuid, by_pit);
		*how = "PIT calibration";
		break;
	case CLOCK_RATE_GUESS:
		printk(KERN_ERR "time: cannot measure the TSC (no usable CPUID leaf 0x15/0x16, "
				"no PIT); assuming %lu Hz: time stamps and timeouts will be off\n",
		       hz);
		*how = "a guess";
		break;
	}
	return hz;
}

/* Calibrate the TSC; afterwards arch_time_ns counts from this moment. Boot CPU, once. */
void time_init(void)
{
	const char *how = "";
	uint64_t start = rdtsc();

	if (!cpu_features.tsc)
		printk(KERN_ERR "time: CPUID reports no TSC; time stamps will not work\n");
	if (!cpu_features.tsc_invariant && !cpu_features.hypervisor)
		printk(KERN_WARNING "time: the TSC is not invariant; it may change with "
				    "frequency scaling\n");
	tsc_freq = choose_tsc_hz(&how);
	tsc_mult = (NS_PER_SEC << TSC_SHIFT) / tsc_freq;
	tsc_origin = start;
	printk(KERN_INFO "time: TSC %lu.%03lu MHz (from %s)\n", tsc_freq / 1000000,
	       tsc_freq / 1000 % 1000, how);
}
