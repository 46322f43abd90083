/* Private interface between the interrupt-controller, time and multiprocessor files of
 * arch/x86_64: time.c (TSC), apic.c (local APIC and its timer), acpi.c (the MADT's CPU list)
 * and smp.c (AP start-up, cross-CPU calls). Nothing outside arch/x86_64 includes this. */
#pragma once
#include "types.h"

/* Interrupt vectors owned by the local APIC code. */
#define VEC_LAPIC_TIMER 0xef
#define VEC_CALL_FUNCTION 0xf0
#define VEC_APIC_ERROR 0xfe
#define VEC_APIC_SPURIOUS 0xff
#define VEC_CMCI 0xf1 /* the corrected-error interrupt's LVT entry (mca.c) */

#define NS_PER_SEC 1000000000ul
#define NS_PER_MS 1000000ul
#define NS_PER_US 1000ul

/* time.c: busy-wait for ns nanoseconds on the TSC. Any context; needs time_init first. */
void tsc_delay_ns(uint64_t ns);
/* time.c: the calibrated TSC frequency in Hz (0 before time_init). */
uint64_t tsc_hz(void);
/* time.c: whether that frequency came from CPUID rather than a measurement. */
bool tsc_known_freq(void);
/* apic.c: APIC errors reported so far, all CPUs. Any context. */
uint64_t apic_error_count(void);

/* apic.c: whether the local APICs run in x2APIC mode (MSR access, 32-bit ids). */
bool apic_x2apic_mode(void);
/* apic.c: this CPU's local APIC id, read from the APIC. */
uint32_t apic_read_id(void);
/* apic.c: INIT (assert) to the CPU with this APIC id, which then waits for a SIPI. Boot only. */
void apic_send_init(uint32_t apic_id);
/* apic.c: start-up IPI with the 4 KiB page number where the AP starts in real mode. */
void apic_send_sipi(uint32_t apic_id, uint8_t page);
/* apic.c: whether a CPU with this APIC id can be sent IPIs (xAPIC reaches ids 0..254). */
bool apic_id_reachable(uint32_t apic_id);
/* apic.c: NMI to the CPU with this APIC id. Any context, #MC/NMI included. */
void apic_send_nmi(uint32_t apic_id);

/* smp.c: cross-CPU calls that failed because the target left the online set, and calls
 * still unanswered after a second (reported, then waited for). */
extern unsigned long smp_call_failures, smp_call_slow;

/* What the ACPI MADT says about the processors. */
struct acpi_cpus {
	unsigned n;		    /* enabled processors listed, in MADT order */
	uint32_t apic_id[MAX_CPUS]; /* their local APIC (or x2APIC) ids */
	unsigned online_capable;    /* disabled now, but could be brought online (hot-plug) */
	unsigned dropped;	    /* enabled ones beyond MAX_CPUS, duplicates or unusable */
};

/* acpi.c: read the CPUs from the tables behind the RSDP at physical address rsdp (0: search
 * the BIOS areas). Returns 0, or -ENOENT (no RSDP or MADT), -EINVAL (bad checksum or length).
 * *out is filled only on success. Boot only; tables reached through the direct map. */
int acpi_read_cpus(paddr_t rsdp, struct acpi_cpus *out);
/* acpi.c: the result of acpi_init (n == 0 when no usable MADT was found). */
extern struct acpi_cpus acpi_cpus;
/* acpi.c: what powers the machine off (ACPI S5): write SLP_TYP << 10 | SLP_EN to the PM1
 * control ports; ok is false when the tables do not say. */
struct acpi_poweroff {
	uint16_t pm1a_cnt, pm1b_cnt, slp_typa, slp_typb;
	bool ok;
};
extern struct acpi_poweroff acpi_poweroff;
