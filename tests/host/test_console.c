/* Host tests of the console= parser (boot/console.c): Linux's serial option syntax, the
 * screen, several consoles, the defaults, and every kind of bad word (reported, skipped, and
 * ttyS0 when nothing usable is left). */
#include "console.h"
#include "kerrno.h"
#include "unit.h"
#include <string.h>

static struct console_cfg cfg;
static char msg[160];

static int parse(const char *line)
{
	return console_parse(line, &cfg, msg, sizeof msg);
}

static const char *name(unsigned i)
{
	static char buf[32];
	console_port_name(&cfg.port[i], buf, sizeof buf);
	return buf;
}

TEST(console_default_is_ttys0_and_the_screen)
{
	CHECK_EQ(parse(""), 0);
	CHECK(cfg.defaulted);
	CHECK_EQ(cfg.n, 2);
	CHECK(!strcmp(name(0), "ttyS0,115200n8"));
	CHECK(!strcmp(name(1), "tty0"));
	CHECK_EQ(parse(NULL), 0);
	CHECK_EQ(cfg.n, 2);
	CHECK_EQ(parse("root=/dev/sda consoleblank=0 run=hello"), 0); /* not console= words */
	CHECK(cfg.defaulted && cfg.n == 2);
	CHECK(!strcmp(msg, ""));
}

TEST(console_linux_serial_syntax)
{
	static const struct {
		const char *line, *want;
	} ok[] = {
		{"console=ttyS1,115200n8", "ttyS1,115200n8"},
		{"console=ttyS1", "ttyS1,9600n8"}, /* Linux's default without options */
		{"console=ttyS0,57600", "ttyS0,57600n8"},
		{"console=ttyS2,38400e7", "ttyS2,38400e7"},
		{"console=ttyS3,9600o8r", "ttyS3,9600o8r"},
		{"console=ttyS1,19200n", "ttyS1,19200n8"},
		{"console=ttyS1,1200n5", "ttyS1,1200n5"},
		{"console=ttyS0,50", "ttyS0,50n8"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		CHECK_EQ(parse(ok[i].line), 0);
		CHECK_EQ(cfg.n, 1);
		CHECK(!cfg.defaulted);
		if (strcmp(name(0), ok[i].want))
			unit_fail(__FILE__, __LINE__, ok[i].line);
	}
	CHECK_EQ(parse("console=tty0"), 0);
	CHECK(cfg.n == 1 && cfg.port[0].kind == CONSOLE_SCREEN);
	CHECK_EQ(parse("console=tty1"), 0); /* any virtual terminal is the screen */
	CHECK(cfg.n == 1 && cfg.port[0].kind == CONSOLE_SCREEN);
}

TEST(console_several_words_and_repeats)
{
	CHECK_EQ(parse("console=tty0 console=ttyS1,115200n8"), 0);
	CHECK_EQ(cfg.n, 2);
	CHECK(!strcmp(name(0), "tty0") && !strcmp(name(1), "ttyS1,115200n8"));
	/* The same port twice: the later settings win, in its first place. */
	CHECK_EQ(parse("console=ttyS1,9600 console=ttyS0 console=ttyS1,115200"), 0);
	CHECK_EQ(cfg.n, 2);
	CHECK(!strcmp(name(0), "ttyS1,115200n8") && !strcmp(name(1), "ttyS0,9600n8"));
	CHECK_EQ(parse("console=ttyS0 console=ttyS1 console=ttyS2 console=ttyS3 console=tty0 "
		       "console=ttyS0,115200"),
		 0);
	CHECK_EQ(cfg.n, CONSOLE_MAX); /* the list is full: tty0 did not fit */
	CHECK(!strcmp(name(0), "ttyS0,115200n8"));
}

TEST(console_bad_words_are_reported_and_skipped)
{
	static const struct {
		const char *word, *why;
	} bad[] = {
		{"console=ttyS4", "ttyS0 to ttyS3"},
		{"console=ttyS", "ttyS0 to ttyS3"},
		{"console=ttyS1,115201", "divide 115200"},
		{"console=ttyS1,0", "divide 115200"},
		{"console=ttyS1,abc", "divide 115200"},
		{"console=ttyS1,9600x8", "parity"},
		{"console=ttyS1,9600n9", "data bits"},
		{"console=ttyS1,9600n8q", "unexpected"},
		{"console=ttyS1:9600", "comma"},
		{"console=ttyS1,99999999999", "divide 115200"},
		{"console=tty64", "tty0"},
		{"console=ttyUSB0", "tty0"},
		{"console=lp0", "not a console"},
		{"console=", "not a console"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(parse(bad[i].word), -EINVAL);
		if (!strstr(msg, bad[i].why) || !strstr(msg, bad[i].word + 8))
			unit_fail(__FILE__, __LINE__, bad[i].word);
		/* Nothing usable left: ttyS0 at 115200n8, and not the screen. */
		CHECK(cfg.defaulted && cfg.n == 1);
		CHECK(!strcmp(name(0), "ttyS0,115200n8"));
	}
	/* A bad word among good ones: the good ones stay, the first bad one is named. */
	CHECK_EQ(parse("console=ttyS9 console=ttyS1,115200 console=foo"), -EINVAL);
	CHECK(!cfg.defaulted && cfg.n == 1 && !strcmp(name(0), "ttyS1,115200n8"));
	CHECK(strstr(msg, "\"ttyS9\"") != NULL);
	char tiny[8];
	CHECK_EQ(console_parse("console=nope", &cfg, tiny, sizeof tiny), -EINVAL);
	CHECK_EQ(strlen(tiny), 7); /* cut, terminated */
}
