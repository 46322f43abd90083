/* Tests of the one control-file parser and writer (kernel/lib/ctl.c) and the table glue
 * (kernel/fs/ctlfile.c): Linux's kstrtoul rules for a numeric write (an optional '+', one
 * optional trailing newline, base 10 or C style), malformed input, whitespace, empty writes,
 * embedded NULs, overflow (-ERANGE), ranges, and that a bad write changes nothing; text that
 * outgrows its buffer; dispatch by path and the read-only / write-only errors. */
#include "../../include/ctl.h"
#include "../../include/kerrno.h"
#include "../../include/kmalloc.h"
#include "../../include/vfs.h"
#include "fake_task.h"
#include "unit.h"
#include "vm_testlib.h"
#include <string.h>

static int parse(const char *s, unsigned base, uint64_t *v)
{
	return ctl_parse_u64(s, strlen(s), base, v);
}

TEST(ctl_parse_accepts_linux_numbers)
{
	static const struct {
		const char *s;
		unsigned base;
		uint64_t want;
	} ok[] = {
	    {"0", 10, 0},
	    {"1", 10, 1},
	    {"1\n", 10, 1},
	    {"+7", 10, 7},
	    {"+7\n", 0, 7},
	    {"0x1f", 0, 31},
	    {"0X1F\n", 0, 31},
	    {"017", 0, 15},
	    {"017", 10, 17},
	    {"0\n", 0, 0},
	    {"18446744073709551615", 10, UINT64_MAX},
	    {"0xffffffffffffffff\n", 0, UINT64_MAX},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 12345;
		CHECK_EQ(parse(ok[i].s, ok[i].base, &v), 0);
		CHECK_EQ(v, ok[i].want);
	}
}

TEST(ctl_parse_rejects_garbage_whitespace_and_overflow)
{
	static const struct {
		const char *s;
		unsigned base;
		int err;
	} bad[] = {
	    {"", 10, -EINVAL},	      {"\n", 10, -EINVAL},	  {" 1", 10, -EINVAL},
	    {"1 ", 10, -EINVAL},      {"1\t", 10, -EINVAL},	  {"1\n\n", 10, -EINVAL},
	    {"1\r\n", 10, -EINVAL},   {"\n1", 10, -EINVAL},	  {"-1", 10, -EINVAL},
	    {"+", 10, -EINVAL},	      {"++1", 10, -EINVAL},	  {"+-1", 10, -EINVAL},
	    {"0x", 0, -EINVAL},	      {"0x1f", 10, -EINVAL},	  {"1f", 10, -EINVAL},
	    {"08", 0, -EINVAL},	      {"abc", 0, -EINVAL},	  {"12abc", 0, -EINVAL},
	    {"1 2", 10, -EINVAL},     {"1.5", 10, -EINVAL},	  {"1", 16, -EINVAL},
	    {"18446744073709551616", 10, -ERANGE},
	    {"99999999999999999999999", 10, -ERANGE},
	    {"0x10000000000000000", 0, -ERANGE},
	    {"123456789012345678901234567890123", 10, -EINVAL}, /* longer than any value */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 777;
		int got = parse(bad[i].s, bad[i].base, &v);
		if (got != bad[i].err)
			fprintf(stderr, "    \"%s\" (base %u): %d\n", bad[i].s, bad[i].base, got);
		CHECK_EQ(got, bad[i].err);
		CHECK_EQ(v, 777); /* nothing written on a bad value */
	}
	/* A NUL inside the written bytes is not a number ("1\0" is 2 bytes). */
	uint64_t v = 5;
	CHECK_EQ(ctl_parse_u64("1\0", 2, 10, &v), -EINVAL);
	CHECK_EQ(ctl_parse_u64("1\n\0", 3, 10, &v), -EINVAL);
	/* Only the n bytes written count: "12" written as 1 byte is "1". */
	CHECK_EQ(ctl_parse_u64("12", 1, 10, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(ctl_parse_u64(NULL, 0, 10, &v), -EINVAL);
}

TEST(ctl_parse_range_and_word)
{
	uint64_t v = 9;
	CHECK_EQ(ctl_parse_range("2", 1, 0, 1, &v), -EINVAL);
	CHECK_EQ(v, 9);
	CHECK_EQ(ctl_parse_range("0", 1, 1, 5, &v), -EINVAL);
	CHECK_EQ(ctl_parse_range("99999999999999999999", 20, 0, 1, &v), -ERANGE);
	CHECK_EQ(ctl_parse_range("5\n", 2, 1, 5, &v), 0);
	CHECK_EQ(v, 5);
	char w[8];
	CHECK_EQ(ctl_take_word("sw hw\n", 6, w, sizeof w), 0);
	CHECK(!strcmp(w, "sw hw"));
	CHECK_EQ(ctl_take_word("12345678", 8, w, sizeof w), -EINVAL); /* no room for the NUL */
	CHECK_EQ(ctl_take_word("\n", 1, w, sizeof w), -EINVAL);
	CHECK_EQ(ctl_take_word("a\0b", 3, w, sizeof w), -EINVAL);
}

TEST(ctl_printf_counts_past_the_buffer)
{
	char small[8];
	struct ctl_buf b = {small, sizeof small, 0};
	ctl_printf(&b, "%d\n", 12345);
	CHECK_EQ(b.len, 6);
	ctl_printf(&b, "abcdef");
	CHECK_EQ(b.len, 12); /* what the whole text needs */
	CHECK(!strcmp(small, "12345\na"));
	struct ctl_buf none = {NULL, 0, 0};
	ctl_printf(&none, "%s", "measured only");
	CHECK_EQ(none.len, 13);
}

/* A small table: an int knob 0..3, a read-only long text, a write-only sink. */
static int knob = 2;
static char sink[16];

static int show_long(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	for (int i = 0; i < 100; i++)
		ctl_printf(b, "line %d\n", i);
	return 0;
}

static long store_sink(const struct ctl_file *f, const char *buf, size_t n)
{
	(void)f;
	return ctl_take_word(buf, n, sink, sizeof sink) ? -EINVAL : (long)n;
}

static const struct ctl_file table[] = {
    {"/t/knob", ctl_show_int, ctl_store_int, &knob, 1, 3},
    {"/t/long", show_long, NULL, NULL, 0, 0},
    {"/t/sink", NULL, store_sink, NULL, 0, 0},
};


TEST(ctl_table_show_store_and_vfs_glue)
{
	char buf[64];
	CHECK_EQ(ctl_show(table, 3, "/t/knob", buf, sizeof buf), 2);
	CHECK(!strcmp(buf, "2\n"));
	CHECK_EQ(ctl_store(table, 3, "/t/knob", "3\n", 2), 2);
	CHECK_EQ(knob, 3);
	for (const char *const *s = (const char *const[]){"4", "", " 1", "1 ", "x", NULL}; *s; s++) {
		CHECK_EQ(ctl_store(table, 3, "/t/knob", *s, strlen(*s)), -EINVAL);
		CHECK_EQ(knob, 3);
	}
	CHECK_EQ(ctl_store(table, 3, "/t/knob", "99999999999999999999", 20), -ERANGE);
	CHECK_EQ(knob, 3);
	CHECK_EQ(ctl_show(table, 3, "/t/sink", buf, sizeof buf), -EACCES);
	CHECK_EQ(ctl_store(table, 3, "/t/long", "1", 1), -EACCES);
	CHECK_EQ(ctl_show(table, 3, "/t/none", buf, sizeof buf), -ENOENT);
	CHECK_EQ(ctl_store(table, 3, "/t/none", "1", 1), -ENOENT);
	CHECK(ctl_show(table, 3, "/t/long", buf, sizeof buf) > (int)sizeof buf);

	/* Through the VFS glue: the long text is generated whole, past the first guess. */
	vt_setup(); /* the kernel heap the text is made in */
	int first = fake_nodes;
	REQUIRE(ctl_register(table, 3, "test") == 0);
	REQUIRE(fake_nodes == first + 3);
	const struct vfs_node_ops *ro = fake_node_ops[first + 1];
	CHECK(ro->gen && !ro->write);
	char *text = NULL;
	size_t len = 0;
	REQUIRE(ro->gen(fake_node_priv[first + 1], &text, &len) == 0);
	CHECK_EQ(len, strlen(text));
	CHECK(strstr(text, "line 0\n") == text && strstr(text, "line 99\n"));
	kfree(text);
	const struct vfs_node_ops *wo = fake_node_ops[first + 2];
	CHECK(!wo->gen && wo->write);
	CHECK_EQ(wo->write(fake_node_priv[first + 2], "abc\n", 4), 4);
	CHECK(!strcmp(sink, "abc"));
	fake_nodes = first; /* the fake VFS table is small: give the rows back */
	knob = 2;
}
