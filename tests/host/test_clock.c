/* Host tests of the real-time clock decoding and the calendar arithmetic (kernel/lib/clock.c),
 * against the C library's timegm/gmtime as the oracle: random dates in every register mode
 * (BCD or binary, 24-hour or 12-hour with the PM bit), the 12-hour edges, the two-digit year
 * rule, the century register, and values no clock holds. */
#include "clock.h"
#include "kerrno.h"
#include "unit.h"
#include <time.h>

static uint8_t bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }

/* Registers for a broken-down UTC time in the given status-B mode. */
static struct rtc_regs encode(const struct tm *t, uint8_t status_b, bool with_century)
{
	bool bin = status_b & RTC_STATUS_B_BINARY;
	unsigned year = (unsigned)t->tm_year + 1900, hour = (unsigned)t->tm_hour;
	uint8_t h;
	if (status_b & RTC_STATUS_B_24H) {
		h = bin ? (uint8_t)hour : bcd(hour);
	} else {
		unsigned h12 = hour % 12 ? hour % 12 : 12;
		h = (uint8_t)((bin ? h12 : bcd(h12)) | (hour >= 12 ? RTC_HOUR_PM : 0));
	}
#define V(x) (bin ? (uint8_t)(x) : bcd(x))
	return (struct rtc_regs){V((unsigned)t->tm_sec), V((unsigned)t->tm_min), h,
				 V((unsigned)t->tm_mday), V((unsigned)t->tm_mon + 1), V(year % 100),
				 with_century ? V(year / 100) : 0, status_b};
#undef V
}

TEST(rtc_decode_random_dates_in_every_mode)
{
	static const uint8_t modes[] = {RTC_STATUS_B_24H, 0, RTC_STATUS_B_24H | RTC_STATUS_B_BINARY,
					RTC_STATUS_B_BINARY};
	uint64_t rng = 0x5eed1234;
	for (int i = 0; i < 20000; i++) {
		/* 1970-01-01 .. 2069-12-31: what two-digit years reach without a century. */
		time_t when = (time_t)(unit_xorshift(&rng) % 3155759999ull);
		struct tm t;
		gmtime_r(&when, &t);
		for (unsigned m = 0; m < sizeof modes; m++) {
			struct rtc_regs r = encode(&t, modes[m], i & 1);
			uint64_t secs = 0;
			CHECK_EQ(rtc_decode(&r, &secs), 0);
			CHECK_EQ(secs, (uint64_t)when);
		}
	}
}

TEST(rtc_decode_twelve_hour_edges)
{
	/* 2026-12-07: 12 AM is 00:xx, 12 PM is 12:xx, 1 PM is 13:xx (BCD, 12-hour). */
	struct rtc_regs r = {0x00, 0x30, 0x12, 0x07, 0x12, 0x26, 0, 0};
	uint64_t midnight, noon, one_pm;
	CHECK_EQ(rtc_decode(&r, &midnight), 0);
	r.hour = 0x12 | RTC_HOUR_PM;
	CHECK_EQ(rtc_decode(&r, &noon), 0);
	r.hour = 0x01 | RTC_HOUR_PM;
	CHECK_EQ(rtc_decode(&r, &one_pm), 0);
	CHECK_EQ(noon - midnight, 12 * 3600);
	CHECK_EQ(one_pm - midnight, 13 * 3600);
	CHECK_EQ(midnight % 86400, 30 * 60);
}

TEST(rtc_decode_year_rules)
{
	struct rtc_regs r = {0, 0, 0, 0x01, 0x01, 0x70, 0, RTC_STATUS_B_24H};
	uint64_t s;
	CHECK_EQ(rtc_decode(&r, &s), 0); /* 70 -> 1970 */
	CHECK_EQ(s, 0); /* 1970-01-01 */
	r.year = 0x69;
	CHECK_EQ(rtc_decode(&r, &s), 0); /* 69 -> 2069 */
	CHECK_EQ(s, 3124224000ull); /* 2069-01-01 */
	r.century = 0x21;
	r.year = 0x05;
	CHECK_EQ(rtc_decode(&r, &s), 0); /* century register: 2105-01-01 */
	CHECK_EQ(s, 4260211200ull);
	r.century = 0x19;
	r.year = 0x69;
	CHECK_EQ(rtc_decode(&r, &s), -EINVAL); /* 1969: before the epoch */
}

TEST(rtc_decode_refuses_impossible_values)
{
	static const struct {
		struct rtc_regs r;
		const char *why;
	} bad[] = {
		{{0x5a, 0, 0, 1, 1, 0x26, 0, RTC_STATUS_B_24H}, "BCD digit above 9"},
		{{0x60, 0, 0, 1, 1, 0x26, 0, RTC_STATUS_B_24H}, "second 60"},
		{{0, 0x60, 0, 1, 1, 0x26, 0, RTC_STATUS_B_24H}, "minute 60"},
		{{0, 0, 0x24, 1, 1, 0x26, 0, RTC_STATUS_B_24H}, "hour 24"},
		{{0, 0, 0x00, 1, 1, 0x26, 0, 0}, "12-hour hour 0"},
		{{0, 0, 0x13, 1, 1, 0x26, 0, 0}, "12-hour hour 13"},
		{{0, 0, 0, 0, 1, 0x26, 0, RTC_STATUS_B_24H}, "day 0"},
		{{0, 0, 0, 0x32, 1, 0x26, 0, RTC_STATUS_B_24H}, "January 32"},
		{{0, 0, 0, 0x29, 2, 0x23, 0, RTC_STATUS_B_24H}, "February 29, 2023"},
		{{0, 0, 0, 0x31, 4, 0x26, 0, RTC_STATUS_B_24H}, "April 31"},
		{{0, 0, 0, 1, 0, 0x26, 0, RTC_STATUS_B_24H}, "month 0"},
		{{0, 0, 0, 1, 0x13, 0x26, 0, RTC_STATUS_B_24H}, "month 13"},
		{{0, 0, 0, 1, 1, 100, 0, RTC_STATUS_B_24H | RTC_STATUS_B_BINARY}, "year 100"},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xff}, "nothing there (all ones)"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t s = 12345;
		if (rtc_decode(&bad[i].r, &s) != -EINVAL || s != 12345)
			unit_fail(__FILE__, __LINE__, bad[i].why);
	}
	struct rtc_regs leap = {0, 0, 0, 0x29, 2, 0x24, 0, RTC_STATUS_B_24H};
	uint64_t s;
	CHECK_EQ(rtc_decode(&leap, &s), 0); /* February 29, 2024 exists */
}

TEST(rtc_clock_date_of_matches_gmtime)
{
	uint64_t rng = 77;
	for (int i = 0; i < 20000; i++) {
		time_t when = (time_t)(unit_xorshift(&rng) % 8000000000ull);
		struct tm t;
		struct clock_date d;
		gmtime_r(&when, &t);
		clock_date_of((uint64_t)when, &d);
		CHECK_EQ(d.year, t.tm_year + 1900);
		CHECK_EQ(d.mon, t.tm_mon + 1);
		CHECK_EQ(d.mday, t.tm_mday);
		CHECK_EQ(d.hour * 3600 + d.min * 60 + d.sec,
			 t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec);
	}
}

TEST(clock_rate_choose_claim_measurement_guess)
{
	enum clock_rate_source src;
	const uint64_t g = 1000000000ull;
	/* Within 2%: the claim (exact by construction) wins. */
	CHECK_EQ(clock_rate_choose(2100000000ull, 2095000000ull, g, &src), 2100000000ull);
	CHECK_EQ(src, CLOCK_RATE_CLAIMED);
	/* 1.9% off: the claim; 2.1% off: the measurement. */
	CHECK_EQ(clock_rate_choose(2100000000ull, 2061000000ull, g, &src), 2100000000ull);
	CHECK_EQ(src, CLOCK_RATE_CLAIMED);
	CHECK_EQ(clock_rate_choose(2100000000ull, 2056000000ull, g, &src), 2056000000ull);
	CHECK_EQ(src, CLOCK_RATE_DISAGREE);
	/* More than 2% off: the measurement. */
	CHECK_EQ(clock_rate_choose(3000000000ull, 4000000ull, g, &src), 4000000ull);
	CHECK_EQ(src, CLOCK_RATE_DISAGREE);
	CHECK_EQ(clock_rate_choose(2100000000ull, 2000000000ull, g, &src), 2000000000ull);
	CHECK_EQ(src, CLOCK_RATE_DISAGREE);
	/* One of them only. */
	CHECK_EQ(clock_rate_choose(0, 2694815000ull, g, &src), 2694815000ull);
	CHECK_EQ(src, CLOCK_RATE_MEASURED);
	CHECK_EQ(clock_rate_choose(2100000000ull, 0, g, &src), 2100000000ull);
	CHECK_EQ(src, CLOCK_RATE_CLAIMED_ONLY);
	/* Implausible values count as nothing. */
	CHECK_EQ(clock_rate_choose(999999, 2000000000ull, g, &src), 2000000000ull);
	CHECK_EQ(src, CLOCK_RATE_MEASURED);
	CHECK_EQ(clock_rate_choose(2000000000ull, CLOCK_RATE_MAX_HZ + 1, g, &src), 2000000000ull);
	CHECK_EQ(src, CLOCK_RATE_CLAIMED_ONLY);
	CHECK_EQ(clock_rate_choose(0, 5, g, &src), g);
	CHECK_EQ(src, CLOCK_RATE_GUESS);
	CHECK_EQ(clock_rate_choose(CLOCK_RATE_MIN_HZ, CLOCK_RATE_MAX_HZ, g, &src),
		 CLOCK_RATE_MAX_HZ);
	CHECK_EQ(src, CLOCK_RATE_DISAGREE);
}
