/* Wall-clock time (include/clock.h): decoding the real-time clock's registers, and wall time
 * as a fixed offset from the monotonic clock.
 *
 * The RTC keeps seconds, minutes, hours, day of month, month and a two-digit year (plus, on
 * ACPI machines, a century register the FADT names). Status register B says how: bit 2 set
 * means binary values, clear means BCD (0x59 is 59); bit 1 set means 24-hour hours, clear
 * means 1..12 with bit 7 of the hour register set for PM (12 AM is midnight, 12 PM noon).
 * Dates become days since the epoch with the usual civil-calendar arithmetic (years of 365
 * days, every fourth a leap year but not every hundredth, yet every four-hundredth). */
#include "arch/cpu.h"
#include "clock.h"
#include "kerrno.h"

#define SECS_PER_DAY 86400ull
#define NS_PER_SEC 1000000000ull

static uint64_t wall_base_ns; /* wall time (ns since the epoch) at arch_time_ns() == 0 */
static bool wall_known;

/* A register's value, from BCD unless binary; -1 for a BCD digit above 9. */
static int rtc_value(uint8_t v, bool binary)
{
	if (binary)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (y >= 1970): whole years, then whole months. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
	uint64_t days = 0;
	for (unsigned yy = 1970; yy < y; yy++)
		days += leap(yy) ? 366 : 365;
	for (unsigned mm = 1; mm < m; mm++)
		days += days_in_month(y, mm);
	return days + d - 1;
}

/* The hour 0..23, or -1, from the hour register in either mode. */
static int rtc_hour(uint8_t v, uint8_t status_b)
{
	bool binary = status_b & RTC_STATUS_B_BINARY;
	if (status_b & RTC_STATUS_B_24H) {
		int h = rtc_value(v, binary);
		return h >= 0 && h < 24 ? h : -1;
	}
	int h = rtc_value(v & (uint8_t)~RTC_HOUR_PM, binary);
	if (h < 1 || h > 12)
		return -1;
	return (h % 12) + ((v & RTC_HOUR_PM) ? 12 : 0);
}

int rtc_decode(const struct rtc_regs *r, uint64_t *secs)
{
	bool bin = r->status_b & RTC_STATUS_B_BINARY;
	int sec = rtc_value(r->sec, bin), min = rtc_value(r->min, bin);
	int mday = rtc_value(r->mday, bin), mon = rtc_value(r->mon, bin);
	int yy = rtc_value(r->year, bin), hour = rtc_hour(r->hour, r->status_b);
	int cent = r->century ? rtc_value(r->century, bin) : (yy < 70 ? 20 : 19);

	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || yy < 0 || yy > 99 ||
	    cent < 0 || mon < 1 || mon > 12 || mday < 1)
		return -EINVAL;
	unsigned year = (unsigned)cent * 100 + (unsigned)yy;
	if (year < 1970 || (unsigned)mday > days_in_month(year, (unsigned)mon))
		return -EINVAL;
	*secs = days_since_epoch(year, (unsigned)mon, (unsigned)mday) * SECS_PER_DAY +
		(uint64_t)hour * 3600 + (uint64_t)min * 60 + (uint64_t)sec;
	return 0;
}

void clock_date_of(uint64_t secs, struct clock_date *d)
{
	uint64_t days = secs / SECS_PER_DAY, rest = secs % SECS_PER_DAY;
	unsigned y = 1970, m = 1;
	while (days >= (leap(y) ? 366u : 365u))
		days -= leap(y++) ? 366 : 365;
	while (days >= days_in_month(y, m))
		days -= days_in_month(y, m++);
	*d = (struct clock_date){y, m, (unsigned)days + 1, (unsigned)(rest / 3600),
				 (unsigned)(rest / 60 % 60), (unsigned)(rest % 60)};
}

static bool plausible(uint64_t hz)
{
	return hz >= CLOCK_RATE_MIN_HZ && hz <= CLOCK_RATE_MAX_HZ;
}

uint64_t clock_rate_choose(uint64_t claimed, uint64_t measured, uint64_t guess,
			   enum clock_rate_source *src)
{
	if (!plausible(claimed))
		claimed = 0;
	if (!plausible(measured))
		measured = 0;
	if (claimed && measured) {
		uint64_t diff = claimed > measured ? claimed - measured : measured - claimed;
		*src = diff <= measured / CLOCK_RATE_TOLERANCE ? CLOCK_RATE_CLAIMED
							       : CLOCK_RATE_DISAGREE;
		return *src == CLOCK_RATE_CLAIMED ? claimed : measured;
	}
	if (measured) {
		*src = CLOCK_RATE_MEASURED;
		return measured;
	}
	if (claimed) {
		*src = CLOCK_RATE_CLAIMED_ONLY;
		return claimed;
	}
	*src = CLOCK_RATE_GUESS;
	return guess;
}

void clock_set_wall(uint64_t secs)
{
	wall_base_ns = secs * NS_PER_SEC - arch_time_ns();
	__atomic_store_n(&wall_known, true, __ATOMIC_RELEASE);
}

uint64_t clock_wall_ns(void)
{
	if (!__atomic_load_n(&wall_known, __ATOMIC_ACQUIRE))
		return 0;
	return wall_base_ns + arch_time_ns();
}

uint64_t clock_wall_offset_ns(void)
{
	return __atomic_load_n(&wall_known, __ATOMIC_ACQUIRE) ? wall_base_ns : 0;
}
