/* Host tests of the cpio newc reader: well-formed archives walked in order, lookups by every
 * spelling of a path, and truncated or corrupt archives that must be refused without reading
 * past the end. */
#include "initrd.h"
#include "kerrno.h"
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t put_entry(uint8_t *buf, const char *name, const char *data, uint32_t mode)
{
	size_t nsize = strlen(name) + 1, fsize = data ? strlen(data) : 0;
	int n = sprintf((char *)buf, "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x",
			1, mode, 0, 0, 1, 0, fsize, 0, 0, 0, 0, nsize, 0);
	memcpy(buf + n, name, nsize);
	size_t off = (size_t)n + nsize;
	while (off % 4)
		buf[off++] = 0;
	if (fsize)
		memcpy(buf + off, data, fsize);
	off += fsize;
	while (off % 4)
		buf[off++] = 0;
	return off;
}

static size_t build(uint8_t *buf)
{
	size_t off = put_entry(buf, ".", NULL, 040755);
	off += put_entry(buf + off, "init", "#!init", 0100755);
	off += put_entry(buf + off, "./bin/hello", "hello world", 0100755);
	off += put_entry(buf + off, "TRAILER!!!", NULL, 0);
	return off;
}

struct seen {
	int n;
	char names[4][32];
};

static void note(const struct initrd_file *f, void *arg)
{
	struct seen *s = arg;
	if (s->n < 4)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%.*s", (int)f->name_len, f->name);
	s->n++;
}

static int walk(const void *buf, size_t len)
{
	struct seen s = {0};
	return initrd_walk(buf, len, note, &s);
}

TEST(initrd_reads_entries_and_finds_paths)
{
	static uint8_t buf[4096];
	struct seen s = {0};
	size_t len = build(buf);
	CHECK_EQ(initrd_walk(buf, len, note, &s), 2); /* "." strips to nothing and is skipped */
	CHECK_EQ(s.n, 2);
	CHECK(!strcmp(s.names[0], "init") && !strcmp(s.names[1], "bin/hello"));
	CHECK(initrd_present());
	const struct initrd_file *f = initrd_lookup("/init");
	REQUIRE(f);
	CHECK_EQ(f->size, 6);
	CHECK(!memcmp(f->data, "#!init", 6));
	CHECK(initrd_lookup("init") == f && initrd_lookup("./init") == f);
	f = initrd_lookup("/bin/hello");
	REQUIRE(f);
	CHECK_EQ(f->size, 11);
	CHECK_EQ(f->mode, 0100755);
	CHECK(initrd_lookup("/bin/hell") == NULL);
	CHECK(initrd_lookup("/bin/hello2") == NULL);
}

TEST(initrd_refuses_truncated_and_corrupt)
{
	static uint8_t buf[4096];
	size_t len = build(buf);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* ASan catches any read past the cut */
		memcpy(copy, buf, cut);
		int n = walk(copy, cut);
		CHECK(n == -EINVAL || (n >= 0 && n <= 2));
		free(copy);
	}
	buf[3] = 'X'; /* bad magic in the first header */
	CHECK_EQ(walk(buf, len), -EINVAL);
	build(buf);
	memcpy(buf + 6 + 8 * 6, "zzzzzzzz", 8); /* non-hex file size */
	CHECK_EQ(walk(buf, len), -EINVAL);
	build(buf);
	memcpy(buf + 6 + 8 * 6, "7fffffff", 8); /* file size past the end */
	CHECK_EQ(walk(buf, len), -EINVAL);
}

TEST(initrd_walks_concatenated_archives_and_finds_the_last_entry)
{
	static uint8_t buf[8192];
	size_t len = build(buf);
	memset(buf + len, 0, 512); /* padding between archives, as cat of block-padded files */
	len += 512;
	len += put_entry(buf + len, "init", "#!new-init", 0100700);
	len += put_entry(buf + len, "opt/mine", "x", 0100755);
	len += put_entry(buf + len, "TRAILER!!!", NULL, 0);
	memset(buf + len, 0, 64); /* trailing padding ends the walk quietly */
	struct seen s = {0};
	CHECK_EQ(initrd_walk(buf, len + 64, note, &s), 4);
	CHECK(!strcmp(s.names[2], "init") && !strcmp(s.names[3], "opt/mine"));
	const struct initrd_file *f = initrd_lookup("/init");
	REQUIRE(f);
	CHECK_EQ(f->size, 10);
	CHECK_EQ(f->mode, 0100700);
	CHECK(initrd_lookup("/bin/hello") != NULL);
	buf[len - 1 + 64] = 'X'; /* a stray byte after the padding, too short for a header */
	CHECK_EQ(walk(buf, len + 64), 4);
	for (size_t cut = 0; cut < len; cut += 7) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		int n = walk(copy, cut);
		CHECK(n == -EINVAL || (n >= 0 && n <= 4));
		free(copy);
	}
}
