/* The arch interface for the console: raw byte output, safe in any context. */
#pragma once
#include "../types.h"

/* Write len bytes to every early console (serial, debug port). Any context; never blocks long. */
void arch_console_write(const char *s, size_t len);
