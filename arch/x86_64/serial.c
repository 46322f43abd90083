/* Early console: the 16550 UART on COM1 (115200 8N1, polled) and the Bochs/QEMU debug port
 * 0xE9 when one answers. Output only; safe in any context (no locks, bounded waits). */
#include "arch/console.h"
#include "x86.h"

#define COM1 0x3f8
#define DEBUG_PORT 0xe9
#define UART_THR 0 /* transmit holding */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_THRE 0x20
#define LSR_TEMT 0x40 /* transmitter empty: the last byte has left */
#define LCR_DLAB 0x80

static bool com1_present;
static bool e9_present;

/* Program COM1 and probe for it and for the debug port. Boot CPU, before anything prints. */
void serial_init(void)
{
	outb(COM1 + UART_SCR, 0x5a); /* a UART keeps what is written to its scratch register */
	com1_present = inb(COM1 + UART_SCR) == 0x5a;
	e9_present = inb(DEBUG_PORT) == DEBUG_PORT; /* Bochs' port_e9_hack, QEMU -debugcon */
	if (!com1_present)
		return;
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + 0, 1); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7); /* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03);
}

static void com1_putc(char c)
{
	/* Bounded wait: a wedged UART must not hang a panic. */
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		__asm__ volatile("pause");
	outb(COM1 + UART_THR, (uint8_t)c);
}

void arch_console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (com1_present) {
			if (s[i] == '\n')
				com1_putc('\r');
			com1_putc(s[i]);
		}
		if (e9_present)
			outb(DEBUG_PORT, (uint8_t)s[i]);
	}
}

/* Wait (bounded) until COM1 has sent everything, so nothing is lost when the machine stops. */
void serial_flush(void)
{
	for (int i = 0; com1_present && i < 1000000 && !(inb(COM1 + UART_LSR) & LSR_TEMT); i++)
		__asm__ volatile("pause");
}
