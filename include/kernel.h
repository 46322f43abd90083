/* Entry points between the arch start-up code and the portable kernel. */
#pragma once

/* Portable kernel entry: boot CPU, memory and all CPUs up, interrupts may be off. */
void kernel_main(void);

/* Run the in-kernel tests that the command line's test= names, print KTAP and end the run;
 * returns only when test= is absent. The production kernel has no tests: its version
 * (kernel/main.c, weak) says so and returns; the test build's (tests/ktest/runner.c) runs
 * them. Boot CPU, process context, interrupts on. */
void kernel_run_tests(const char *cmdline);
