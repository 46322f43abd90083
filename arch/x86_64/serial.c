/* The console: output to 16550 UARTs (COM1..COM4, polled), the screen (drivers/fbcon.c) and the
 * Bochs/QEMU debug port 0xE9 when one answers; arch_console_write is safe in any context (no
 * locks, bounded waits). Input from the first serial port, by its receive interrupt (IRQ 4 for
 * COM1/COM3, 3 for COM2/COM4, through the 8259 in virtual-wire mode to the boot CPU) into a
 * ring that the terminal (kernel/tty/tty.c) drains in process context.
 *
 * Boot starts on COM1 at 115200 8N1, before anything is known. Once the command line is read,
 * serial_configure applies its console= words (include/console.h): the ports named are
 * programmed and take over, the screen joins if asked for and present, and each output that
 * was not on before is sent the log so far, so a BMC watching COM2 sees the whole boot. */
#include "arch/console.h"
#include "arch/cpu.h"
#include "console.h"
#include "fbcon.h"
#include "printk.h"
#include "x86.h"

#define DEBUG_PORT 0xe9
#define UART_THR 0 /* transmit holding */
#define UART_DLL 0 /* divisor latch, low byte (with LCR_DLAB) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch, high byte (with LCR_DLAB) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_DR 0x01 /* a received byte is waiting */
#define LSR_THRE 0x20
#define IER_RDA 0x01 /* interrupt when a byte was received */
#define MCR_OUT2 0x08 /* on PCs, gates the UART's interrupt line */
#define RX_RING 1024 /* bytes received and not yet taken by the terminal */
#define LSR_TEMT 0x40 /* transmitter empty: the last byte has left */
#define LCR_DLAB 0x80
#define LCR_PARITY_EVEN 0x18 /* parity enable + even */
#define LCR_PARITY_ODD 0x08
#define MCR_DTR_RTS 0x03
#define UART_CLOCK_BAUD 115200u
#define REPLAY_MAX 16384

static const uint16_t com_ports[CONSOLE_SERIAL_PORTS] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static uint16_t out_ports[CONSOLE_SERIAL_PORTS]; /* the serial ports written, in order */
static unsigned n_out;
static bool screen_on;
static bool e9_present;
static uint16_t rx_port; /* the port received from, 0 until arch_console_rx_start */
static void (*rx_notify)(void);
static uint8_t rx_ring[RX_RING];
static uint32_t rx_head, rx_tail; /* written by the interrupt, read by one consumer */

/* Whether a UART answers at base: it keeps what is written to its scratch register. */
static bool uart_probe(uint16_t base)
{
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return false;
	outb(base + UART_SCR, 0xa5);
	return inb(base + UART_SCR) == 0xa5;
}

/* Program the UART at base: baud rate, data bits, parity, one stop bit, FIFO on, polled. */
static void uart_setup(uint16_t base, const struct console_port *p)
{
	uint16_t div = (uint16_t)(UART_CLOCK_BAUD / p->baud);
	uint8_t lcr = (uint8_t)(p->bits - 5);
	if (p->parity == 'e')
		lcr |= LCR_PARITY_EVEN;
	else if (p->parity == 'o')
		lcr |= LCR_PARITY_ODD;
	outb(base + UART_IER, 0x00);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, (uint8_t)div);
	outb(base + UART_DLM, (uint8_t)(div >> 8));
	outb(base + UART_LCR, lcr);
	outb(base + UART_FCR, 0xc7); /* FIFO on, cleared */
	outb(base + UART_MCR, MCR_DTR_RTS);
}

/* Program COM1 (115200 8N1) and probe it and the debug port. Boot CPU, before any printk. */
void serial_init(void)
{
	const struct console_port com1 = {CONSOLE_SERIAL, 0, 8, 'n', false, UART_CLOCK_BAUD};
	e9_present = inb(DEBUG_PORT) == DEBUG_PORT; /* Bochs' port_e9_hack, QEMU -debugcon */
	if (!uart_probe(com_ports[0]))
		return;
	uart_setup(com_ports[0], &com1);
	out_ports[0] = com_ports[0];
	n_out = 1;
}

static void uart_putc(uint16_t base, char c)
{
	/* Bounded wait: a wedged UART must not hang a panic. */
	for (int i = 0; i < 100000 && !(inb(base + UART_LSR) & LSR_THRE); i++)
		__asm__ volatile("pause");
	outb(base + UART_THR, (uint8_t)c);
}

static void uart_write(uint16_t base, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(base, '\r');
		uart_putc(base, s[i]);
	}
}

void arch_console_write(const char *s, size_t len)
{
	unsigned n = __atomic_load_n(&n_out, __ATOMIC_ACQUIRE);
	for (unsigned p = 0; p < n; p++)
		uart_write(out_ports[p], s, len);
	if (__atomic_load_n(&screen_on, __ATOMIC_ACQUIRE))
		fbcon_write(s, len);
	for (size_t i = 0; e9_present && i < len; i++)
		outb(DEBUG_PORT, (uint8_t)s[i]);
}

/* Wait (bounded) until the UARTs have sent everything, so nothing is lost when the machine
 * stops. Any context. */
void serial_flush(void)
{
	for (unsigned p = 0; p < n_out; p++)
		for (int i = 0; i < 1000000 && !(inb(out_ports[p] + UART_LSR) & LSR_TEMT); i++)
			__asm__ volatile("pause");
}

static bool was_on(uint16_t base)
{
	for (unsigned p = 0; p < n_out; p++)
		if (out_ports[p] == base)
			return true;
	return false;
}

/* Send the log so far to the outputs that were not on (one serial port, or the screen). */
static void replay(uint16_t base, bool screen)
{
	static char text[REPLAY_MAX];
	size_t n = printk_log_read(text, sizeof text);
	for (size_t i = 0; i < n; i++)
		if (text[i] == '\0')
			text[i] = ' '; /* none expected; never let one cut a port's output short */
	if (screen)
		fbcon_write(text, n);
	else
		uart_write(base, text, n);
}

/* Switch the console to cfg's ports (have_screen: a framebuffer console exists). Ports that do
 * not answer are reported and skipped; if none is left, COM1 stays. Boot CPU, process
 * context, before the other CPUs start. */
void serial_configure(const struct console_cfg *cfg, bool have_screen)
{
	uint16_t ports[CONSOLE_SERIAL_PORTS];
	unsigned n = 0;
	bool screen = false;
	char name[32], line[CONSOLE_MAX * 32] = "";
	size_t len = 0;

	printk_flush();
	for (unsigned i = 0; i < cfg->n; i++) {
		const struct console_port *p = &cfg->port[i];
		console_port_name(p, name, sizeof name);
		if (p->kind == CONSOLE_SCREEN && !have_screen) {
			if (!cfg->defaulted)
				printk(KERN_WARNING "console: %s: the loader gave no framebuffer\n",
				       name);
			continue;
		}
		if (p->kind == CONSOLE_SCREEN) {
			screen = true;
		} else if (!uart_probe(com_ports[p->index])) {
			printk(KERN_WARNING "console: %s: no UART at %#x\n", name,
			       com_ports[p->index]);
			continue;
		} else {
			uart_setup(com_ports[p->index], p);
			ports[n++] = com_ports[p->index];
		}
		len += (size_t)ksnprintf(line + len, sizeof line - len, " %s", name);
		len = MIN(len, sizeof line - 1);
	}
	if (!n && !screen) {
		printk(KERN_WARNING "console: none of the consoles asked for works; staying on "
				    "ttyS0\n");
		return;
	}
	printk(KERN_INFO "console: output to%s%s\n", line, cfg->defaulted ? " (the default)" : "");
	printk_flush();
	for (unsigned i = 0; i < n; i++)
		if (!was_on(ports[i]))
			replay(ports[i], false);
	if (screen)
		replay(0, true);
	for (unsigned i = 0; i < n; i++)
		out_ports[i] = ports[i];
	__atomic_store_n(&n_out, n, __ATOMIC_RELEASE);
	__atomic_store_n(&screen_on, screen, __ATOMIC_RELEASE);
}

/* Move every byte the UART holds into the ring. Interrupts off. */
static void rx_drain(void)
{
	uint32_t head = rx_head;
	while (inb(rx_port + UART_LSR) & LSR_DR) {
		uint8_t c = inb(rx_port + UART_THR);
		if (head - __atomic_load_n(&rx_tail, __ATOMIC_ACQUIRE) < RX_RING)
			rx_ring[head++ % RX_RING] = c;
	}
	__atomic_store_n(&rx_head, head, __ATOMIC_RELEASE);
}

/* The receive interrupt (the boot CPU, interrupts off): drain the UART, tell the terminal. */
static void serial_rx_irq(struct trap_frame *tf)
{
	(void)tf;
	rx_drain();
	pic_eoi();
	if (rx_notify)
		rx_notify();
}

void arch_console_rx_start(void (*notify)(void))
{
	if (!n_out)
		return;
	rx_port = out_ports[0];
	unsigned irq = (rx_port == com_ports[0] || rx_port == com_ports[2]) ? 4 : 3;
	rx_notify = notify;
	irq_register(PIC_VECTOR_BASE + irq, serial_rx_irq);
	irqflags_t f = arch_irq_save();
	outb(rx_port + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(rx_port + UART_IER, IER_RDA);
	pic_unmask(irq);
	apic_lint0_extint();
	rx_drain(); /* typed before now: that interrupt edge is gone */
	arch_irq_restore(f);
	notify();
}

size_t arch_console_rx_read(uint8_t *buf, size_t n)
{
	uint32_t tail = rx_tail, head = __atomic_load_n(&rx_head, __ATOMIC_ACQUIRE);
	size_t k = 0;
	for (; k < n && tail != head; k++)
		buf[k] = rx_ring[tail++ % RX_RING];
	__atomic_store_n(&rx_tail, tail, __ATOMIC_RELEASE);
	return k;
}
