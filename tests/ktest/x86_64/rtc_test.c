/* In-kernel tests of the CMOS clock reader (test=rtc): the emulated MC146818 is switched to
 * each of its four register formats (BCD or binary, 24-hour or 12-hour) and read through
 * rtc_read_regs and rtc_decode; every format must give the time of the wall clock the boot
 * anchored, within a couple of seconds. QEMU re-renders the time registers in the current
 * format on every read; real hardware does not (its registers keep the old format until the
 * time is set again), which is why this test lives only in the test build. Status B is
 * restored afterwards. */
#include "arch/cpu.h"
#include "clock.h"
#include "ktest.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_STATUS_B 0x0b
#define SLACK_SECS 3

static uint8_t status_b_read(void)
{
	outb(CMOS_INDEX, RTC_STATUS_B);
	return inb(CMOS_DATA);
}

static void status_b_write(uint8_t v)
{
	outb(CMOS_INDEX, RTC_STATUS_B);
	outb(CMOS_DATA, v);
}

KTEST(rtc, every_register_format_gives_the_wall_time)
{
	static const uint8_t formats[] = {RTC_STATUS_B_24H, 0, RTC_STATUS_B_BINARY,
					  RTC_STATUS_B_BINARY | RTC_STATUS_B_24H};
	const uint8_t mode_bits = RTC_STATUS_B_BINARY | RTC_STATUS_B_24H;
	uint8_t saved = status_b_read();
	KT_EXPECT(clock_wall_ns() != 0); /* the boot read the clock */
	for (unsigned i = 0; i < sizeof formats; i++) {
		struct rtc_regs r;
		uint64_t secs = 0, now;
		status_b_write((uint8_t)((saved & ~mode_bits) | formats[i]));
		KT_EXPECT(rtc_read_regs(&r) == 0);
		KT_EXPECT((r.status_b & mode_bits) == formats[i]);
		KT_EXPECT(rtc_decode(&r, &secs) == 0);
		now = clock_wall_ns() / 1000000000ull;
		KT_EXPECT(secs + SLACK_SECS >= now && secs <= now + SLACK_SECS);
		printk("    # status B %#x: %02x:%02x:%02x -> %lu (wall %lu)\n", r.status_b, r.hour,
		       r.min, r.sec, secs, now);
	}
	status_b_write(saved);
	KT_EXPECT(status_b_read() == saved);
}
