/* The machine's end, for reboot(2): power off through ACPI (the FADT's PM1 control ports
 * with \\_S5's sleep type, read by acpi.c at boot; QEMU and real machines power off), restart
 * through the keyboard controller's reset line (pulse: command 0xFE to port 0x64) and, if
 * that does nothing, a triple fault; halt stops every CPU. Without ACPI power-off registers
 * the emulator's exit port ends the run (QEMU's isa-debug-exit, Bochs's shutdown port). */
#include "arch/cpu.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define SLP_EN (1u << 13)
#define SLP_TYP_SHIFT 10
#define KBC_STATUS 0x64
#define KBC_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xfe
#define KBC_WAIT_SPINS 100000
#define POWER_OFF_WAIT_NS 2000000000ull

static void quiesce(void)
{
	arch_stop_other_cpus();
	printk_flush();
	serial_flush();
}

__noreturn void arch_power_off(void)
{
	quiesce();
	if (acpi_poweroff.ok) {
		outw(acpi_poweroff.pm1a_cnt, (uint16_t)(acpi_poweroff.slp_typa << SLP_TYP_SHIFT | SLP_EN));
		if (acpi_poweroff.pm1b_cnt)
			outw(acpi_poweroff.pm1b_cnt,
			     (uint16_t)(acpi_poweroff.slp_typb << SLP_TYP_SHIFT | SLP_EN));
		/* The sleep request takes effect asynchronously (QEMU handles it in its main
		 * loop, firmware may take a moment): give it time before the fallback. */
		tsc_delay_ns(POWER_OFF_WAIT_NS);
	}
	arch_exit_emulator(0); /* still running: no ACPI power-off here */
}

__noreturn void arch_restart(void)
{
	quiesce();
	for (unsigned i = 0; i < KBC_WAIT_SPINS && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		arch_cpu_relax();
	outb(KBC_STATUS, KBC_PULSE_RESET);
	for (unsigned i = 0; i < KBC_WAIT_SPINS; i++)
		arch_cpu_relax();
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed empty = {0, 0};
	__asm__ volatile("lidt %0; int3" ::"m"(empty)); /* no IDT: a triple fault resets */
	arch_halt_forever();
}

__noreturn void arch_halt_machine(void)
{
	quiesce();
	arch_halt_forever();
}
