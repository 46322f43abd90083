/* Wall-clock time. The arch reads the battery-backed real-time clock once at boot (on x86 the
 * CMOS RTC), rtc_decode turns its registers into seconds since the Unix epoch, and
 * clock_set_wall anchors that to the monotonic clock (arch_time_ns); from then on wall time is
 * the anchor plus the time since, so reading it is arithmetic on the TSC and safe anywhere.
 * Machine-check records carry it as TIME (what mcelog prints as the error's time), and
 * CLOCK_REALTIME reads it. MCRK never writes the RTC and knows no time zones: the RTC is
 * taken to hold UTC, as Linux assumes on a machine it set up. */
#pragma once
#include "types.h"

/* The RTC's registers as read, before decoding (the MC146818 layout that PC RTCs keep). */
struct rtc_regs {
	uint8_t sec, min, hour, mday, mon, year;
	uint8_t century;  /* the century register, or 0 when the platform names none */
	uint8_t status_b; /* RTC_STATUS_B_* below */
};
#define RTC_STATUS_B_24H 0x02    /* hours 0..23; clear: 1..12 with RTC_HOUR_PM */
#define RTC_STATUS_B_BINARY 0x04 /* binary values; clear: BCD */
#define RTC_HOUR_PM 0x80         /* in 12-hour mode, the hour register's PM bit */

/* Seconds since 1970-01-01 00:00:00 UTC of the date in r. Without a century register, years
 * 00..69 are 2000..2069 and 70..99 are 1970..1999 (Linux's rule). Returns 0, or -EINVAL for
 * values no clock holds (a BCD digit above 9, month 13, February 30, hour 24, 12-hour
 * mode hour 0, a date before 1970), leaving *secs alone. Any context; pure. */
int rtc_decode(const struct rtc_regs *r, uint64_t *secs);

/* Break secs since the epoch into a calendar date (UTC), for printing. Pure. */
struct clock_date {
	unsigned year, mon, mday, hour, min, sec; /* mon 1..12, mday 1..31 */
};
void clock_date_of(uint64_t secs, struct clock_date *d);

/* Anchor wall time: the epoch second secs is now (arch_time_ns()). Boot, once. */
void clock_set_wall(uint64_t secs);
/* Nanoseconds since the epoch now, or 0 when no RTC was read. Any context, #MC and NMI too. */
uint64_t clock_wall_ns(void);
