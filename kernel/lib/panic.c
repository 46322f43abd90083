/* panic: the kernel's last words. Switch printk to panic mode (it may not wait for its lock),
 * print "Kernel panic - not syncing: <msg>", stop the other CPUs and leave the emulator with
 * PANIC_EXIT_CODE (see include/panic.h for the exit codes). A second panic while the first is
 * still running (on this CPU from inside the first, or on another CPU at the same time) prints
 * one fixed line with no formatting and halts that CPU. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "panic.h"
#include "printk.h"

#define PANIC_MSG_MAX 256

static const char recursive_msg[] = "\nKernel panic: recursive or concurrent panic, halting\n";

static int panicking;

/* Stop the kernel with a message: see include/panic.h. Any context; never returns. */
void panic(const char *fmt, ...)
{
	char msg[PANIC_MSG_MAX];
	va_list ap;

	arch_irq_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL)) {
		/* No printk: it may be what failed. */
		arch_console_write(recursive_msg, sizeof(recursive_msg) - 1);
		arch_halt_forever();
	}
	printk_set_panic();
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A level prefix closes any open line, so the message starts a line of its own. */
	printk(KERN_EMERG "Kernel panic - not syncing: %s\n", msg);
	arch_stop_other_cpus();
	printk(KERN_EMERG "---[ end Kernel panic - not syncing: %s ]---\n", msg);
	arch_exit_emulator(PANIC_EXIT_CODE);
}
