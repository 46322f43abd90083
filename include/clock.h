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

/* How clock_rate_choose picked a counter's rate. */
enum clock_rate_source {
	CLOCK_RATE_CLAIMED,	 /* the hardware's claim, confirmed by the measurement */
	CLOCK_RATE_CLAIMED_ONLY, /* the claim; nothing could be measured */
	CLOCK_RATE_MEASURED,	 /* the measurement; no plausible claim */
	CLOCK_RATE_DISAGREE,	 /* the measurement; the claim was more than 2% off */
	CLOCK_RATE_GUESS,	 /* neither was plausible: the guess */
};
#define CLOCK_RATE_MIN_HZ 1000000ull	   /* 1 MHz: emulators with a slow instruction clock */
#define CLOCK_RATE_MAX_HZ 100000000000ull /* 100 GHz */
#define CLOCK_RATE_TOLERANCE 50		   /* a claim must be within 1/50 = 2% */

/* A counter's rate in Hz from what the hardware claims (CPUID's TSC leaves; 0: nothing) and
 * what was measured against another clock (0: nothing). Values outside CLOCK_RATE_MIN_HZ..
 * CLOCK_RATE_MAX_HZ count as nothing. The claim wins when the measurement confirms it or
 * there is none; a measurement that disagrees wins over the claim; with neither, guess.
 * *src says which. Pure. */
uint64_t clock_rate_choose(uint64_t claimed, uint64_t measured, uint64_t guess,
			   enum clock_rate_source *src);

/* Anchor wall time: the epoch second secs is now (arch_time_ns()). Boot, once. */
void clock_set_wall(uint64_t secs);
/* Nanoseconds since the epoch now, or 0 when no RTC was read. Any context, #MC and NMI too. */
uint64_t clock_wall_ns(void);
/* Wall time minus arch_time_ns() (so clock_wall_ns() is arch_time_ns() plus it), or 0 when no
 * RTC was read. Any context. */
uint64_t clock_wall_offset_ns(void);
