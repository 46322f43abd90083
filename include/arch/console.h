/* The arch interface for the console: raw byte output, safe in any context. */
#pragma once
#include "../types.h"

/* Write len bytes to every early console (serial, debug port). Any context; never blocks long. */
void arch_console_write(const char *s, size_t len);
/* Start receiving on the console's first serial port: each byte that arrives is put in a
 * small ring (dropped when it is full) and notify is called, in interrupt context, after each
 * batch. Boot, process context, once. */
void arch_console_rx_start(void (*notify)(void));
/* Take up to n received bytes from the ring into buf; returns how many. One caller at a time
 * (the terminal's receive work); process context. */
size_t arch_console_rx_read(uint8_t *buf, size_t n);
