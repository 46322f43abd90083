/* Fake implementations of the include/arch/ headers so the portable core runs on the host. */
#include "fake_arch.h"
#include "../../include/arch/console.h"
#include "../../include/arch/cpu.h"
#include "../../include/arch/mmu.h"
#include "../../include/arch/smp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned fake_cpu_id;
unsigned fake_cpu_count = 1;
uint8_t *fake_phys_base;
size_t fake_phys_size;
char fake_console[1 << 16];
size_t fake_console_len;
int fake_console_echo;
void (*fake_console_hook)(const char *s, size_t len);
void (*fake_timestamp_hook)(void);
static int irq_on = 1;

void fake_phys_alloc(size_t size)
{
	free(fake_phys_base);
	fake_phys_base = calloc(1, size);
	fake_phys_size = size;
	if (!fake_phys_base) {
		perror("fake_phys_alloc");
		exit(2);
	}
}

void fake_console_clear(void)
{
	fake_console_len = 0;
	fake_console[0] = 0;
}

irqflags_t arch_irq_save(void)
{
	irqflags_t f = (irqflags_t)irq_on;
	irq_on = 0;
	return f;
}
void arch_irq_restore(irqflags_t flags) { irq_on = (int)flags; }
void arch_irq_enable(void) { irq_on = 1; }
void arch_irq_disable(void) { irq_on = 0; }
bool arch_irq_enabled(void) { return irq_on; }
void arch_cpu_relax(void) {}
void arch_wait_for_interrupt(void) {}

__noreturn void arch_halt_forever(void)
{
	fprintf(stderr, "fake arch: halt\n");
	abort();
}

unsigned arch_cpu_id(void) { return fake_cpu_id; }
unsigned arch_cpu_count(void) { return fake_cpu_count; }

uint64_t arch_timestamp(void)
{
	struct timespec ts;
	if (fake_timestamp_hook)
		fake_timestamp_hook();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
uint64_t arch_timestamp_to_ns(uint64_t delta) { return delta; }
uint64_t arch_time_ns(void) { return arch_timestamp(); }
void arch_stop_other_cpus(void) {}

__noreturn void arch_exit_emulator(unsigned code)
{
	fprintf(stderr, "fake arch: exit %u\n", code);
	exit((int)code);
}

void *arch_phys_to_virt(paddr_t pa) { return fake_phys_base + pa; }
paddr_t arch_virt_to_phys(const void *va) { return (paddr_t)((const uint8_t *)va - fake_phys_base); }

void arch_console_write(const char *s, size_t len)
{
	size_t room = sizeof fake_console - 1 - fake_console_len;
	size_t n = len < room ? len : room;
	memcpy(fake_console + fake_console_len, s, n);
	fake_console_len += n;
	fake_console[fake_console_len] = 0;
	if (fake_console_echo)
		fwrite(s, 1, len, stdout);
	if (fake_console_hook)
		fake_console_hook(s, len);
}

/* One CPU runs everything, so it is always alone. */
int arch_run_alone(cpu_fn_t fn, void *arg)
{
	irqflags_t f = arch_irq_save();
	fn(arg);
	arch_irq_restore(f);
	return 0;
}

/* The console's input: nothing arrives on the host (test_tty.c drives the line discipline
 * directly). */
void arch_console_rx_start(void (*notify)(void))
{
	(void)notify;
}

size_t arch_console_rx_read(uint8_t *buf, size_t n)
{
	(void)buf, (void)n;
	return 0;
}

/* One CPU runs everything: a call "on" another CPU runs here with that CPU's id. */
int arch_call_on_cpu(unsigned cpu, cpu_fn_t fn, void *arg, bool wait)
{
	(void)wait;
	unsigned self = fake_cpu_id;
	fake_cpu_id = cpu;
	fn(arg);
	fake_cpu_id = self;
	return 0;
}

/* reboot(2)'s ends: no host test powers the machine off. */
__noreturn void arch_power_off(void) { fprintf(stderr, "fake arch: power off\n"); abort(); }
__noreturn void arch_restart(void) { fprintf(stderr, "fake arch: restart\n"); abort(); }
__noreturn void arch_halt_machine(void) { fprintf(stderr, "fake arch: halt\n"); abort(); }

bool arch_cpu_online(unsigned cpu) { return cpu < fake_cpu_count; }

struct arch_cpu_info fake_cpu_info[FAKE_CPU_INFOS];

/* What a test put in fake_cpu_info (the last entry for CPUs past the table). */
int arch_cpu_info(unsigned cpu, struct arch_cpu_info *out)
{
	if (!arch_cpu_online(cpu))
		return -22; /* -EINVAL */
	*out = fake_cpu_info[cpu < FAKE_CPU_INFOS ? cpu : FAKE_CPU_INFOS - 1];
	return 0;
}
