/* The PC's CMOS real-time clock (an MC146818 and its successors), read once at boot to anchor
 * wall time (include/clock.h). Registers are reached by writing their index to port 0x70 and
 * reading port 0x71: 0 seconds, 2 minutes, 4 hours, 7 day of month, 8 month, 9 year, 0x0a
 * status A (bit 7, UIP: an update of the time registers is in progress or starts within
 * 244 us), 0x0b status B (data mode and 12/24-hour mode, see clock.h).
 *
 * While an update runs the registers may hold a mix of old and new values, so the read waits
 * for UIP to be clear, reads all registers, and accepts them only if UIP is still clear and a
 * second read gives the same values (an update takes at most about 2 ms, once a second).
 * No century register is read: that would need the ACPI FADT, and without it rtc_decode
 * places two-digit years in 1970..2069, as Linux does. */
#include "clock.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_OFF 0x80 /* bit 7 of the index masks NMIs; MCRK leaves it clear */
#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_MDAY 0x07
#define RTC_MON 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_UIP 0x80
#define UIP_WAIT_NS (10 * NS_PER_MS)
#define UIP_POLL_NS (100 * NS_PER_US)
#define READ_TRIES 5

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg & (uint8_t)~CMOS_NMI_OFF);
	return inb(CMOS_DATA);
}

/* Wait (bounded) for UIP to clear; false if it never does. */
static bool wait_no_update(void)
{
	for (uint64_t waited = 0; waited < UIP_WAIT_NS; waited += UIP_POLL_NS) {
		if (!(cmos_read(RTC_STATUS_A) & RTC_UIP))
			return true;
		tsc_delay_ns(UIP_POLL_NS);
	}
	return false;
}

static void read_regs(struct rtc_regs *r)
{
	*r = (struct rtc_regs){cmos_read(RTC_SEC),  cmos_read(RTC_MIN), cmos_read(RTC_HOUR),
			       cmos_read(RTC_MDAY), cmos_read(RTC_MON), cmos_read(RTC_YEAR),
			       0,		    cmos_read(RTC_STATUS_B)};
}

static bool same(const struct rtc_regs *a, const struct rtc_regs *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->mday == b->mday && a->mon == b->mon && a->year == b->year &&
	       a->status_b == b->status_b;
}

/* A consistent reading of the time registers. 0, or -1 when the clock never settled. */
int rtc_read_regs(struct rtc_regs *r)
{
	for (int i = 0; i < READ_TRIES; i++) {
		struct rtc_regs again;
		if (!wait_no_update())
			continue;
		read_regs(r);
		if (cmos_read(RTC_STATUS_A) & RTC_UIP)
			continue;
		read_regs(&again);
		if (same(r, &again))
			return 0;
	}
	return -1;
}

/* Read the RTC and anchor wall time; say what it said. Boot CPU, after time_init. */
void rtc_init(void)
{
	struct rtc_regs r;
	struct clock_date d;
	uint64_t secs;

	if (cmos_read(RTC_STATUS_B) == 0xff && cmos_read(RTC_STATUS_A) == 0xff) {
		printk(KERN_WARNING "rtc: no CMOS clock answers; machine-check records carry "
				    "TIME 0\n");
		return;
	}
	if (rtc_read_regs(&r)) {
		printk(KERN_WARNING "rtc: the CMOS clock stays in update; no wall time\n");
		return;
	}
	if (rtc_decode(&r, &secs)) {
		printk(KERN_WARNING "rtc: the CMOS clock holds no valid date (%02x-%02x-%02x "
				    "%02x:%02x:%02x, status B %#x); no wall time\n",
		       r.year, r.mon, r.mday, r.hour, r.min, r.sec, r.status_b);
		return;
	}
	clock_set_wall(secs);
	clock_date_of(secs, &d);
	printk(KERN_INFO "rtc: %04u-%02u-%02u %02u:%02u:%02u UTC (CMOS, %s, %s)\n", d.year, d.mon,
	       d.mday, d.hour, d.min, d.sec,
	       (r.status_b & RTC_STATUS_B_BINARY) ? "binary" : "BCD",
	       (r.status_b & RTC_STATUS_B_24H) ? "24-hour" : "12-hour");
}
