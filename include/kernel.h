/* Entry points between the arch start-up code and the portable kernel. */
#pragma once

/* Portable kernel entry: boot CPU, memory and all CPUs up, interrupts may be off. */
void kernel_main(void);
