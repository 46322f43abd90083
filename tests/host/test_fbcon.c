/* Host tests of the framebuffer console (drivers/fbcon.c) on framebuffers in host memory:
 * every printable character drawn pixel for pixel from the font in 32, 24 and 16 bpp
 * layouts, the grey foreground in each layout's own colour fields, wrapping at the right edge,
 * tabs, carriage return, scrolling (the screen equals the last lines written), pixels outside
 * the screen's width left alone, and layouts it must refuse. */
#include "fbcon.h"
#include "kerrno.h"
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#define W 64 /* 8 columns */
#define H 48 /* 3 rows */
#define PAD 24 /* bytes past the visible width in each line (pitch > width * bytes) */

static uint8_t *mem;
static struct fbcon_fb fb;
static char text_mem[2 * 8 * 3];

static void setup(uint8_t bpp, uint8_t rp, uint8_t rs, uint8_t gp, uint8_t gs, uint8_t bp,
		  uint8_t bs)
{
	unsigned bytes = (bpp + 7u) / 8;
	free(mem);
	mem = malloc((size_t)(W * bytes + PAD) * H);
	memset(mem, 0x5c, (size_t)(W * bytes + PAD) * H); /* garbage the console must clear */
	fb = (struct fbcon_fb){mem, W * bytes + PAD, W, H, bpp, rp, rs, gp, gs, bp, bs};
	CHECK_EQ(fbcon_text_bytes(&fb), sizeof text_mem);
	CHECK_EQ(fbcon_init(&fb, text_mem), 0);
}

static uint32_t pixel(unsigned x, unsigned y)
{
	unsigned bytes = (fb.bpp + 7u) / 8;
	uint32_t v = 0;
	for (unsigned b = 0; b < bytes; b++)
		v |= (uint32_t)mem[(size_t)y * fb.pitch + x * bytes + b] << (8 * b);
	return v;
}

/* Whether cell (r, c) shows ch in colour fg on black, pixel for pixel. */
static bool cell_is(unsigned r, unsigned c, char ch, uint32_t fg)
{
	const uint8_t *g = fbcon_font[(uint8_t)ch - FBCON_FIRST_GLYPH];
	for (unsigned y = 0; y < FBCON_CELL_H; y++)
		for (unsigned x = 0; x < FBCON_CELL_W; x++) {
			uint32_t want = (g[y] & (0x80 >> x)) ? fg : 0;
			if (pixel(c * FBCON_CELL_W + x, r * FBCON_CELL_H + y) != want)
				return false;
		}
	return true;
}

static bool row_is(unsigned r, const char *s, uint32_t fg)
{
	for (unsigned c = 0; c < 8; c++)
		if (!cell_is(r, c, c < strlen(s) ? s[c] : ' ', fg))
			return false;
	return true;
}

TEST(fbcon_every_character_in_32_24_16_bpp)
{
	static const struct {
		uint8_t bpp, rp, rs, gp, gs, bp, bs;
		uint32_t grey;
	} layouts[] = {
		{32, 16, 8, 8, 8, 0, 8, 0xaaaaaa}, /* UEFI GOP's usual BGRX */
		{32, 0, 8, 8, 8, 16, 8, 0xaaaaaa}, /* RGBX */
		{24, 16, 8, 8, 8, 0, 8, 0xaaaaaa},
		{16, 11, 5, 5, 6, 0, 5, (0x15u << 11) | (0x2au << 5) | 0x15u}, /* RGB 565 */
	};
	for (size_t l = 0; l < ARRAY_SIZE(layouts); l++) {
		setup(layouts[l].bpp, layouts[l].rp, layouts[l].rs, layouts[l].gp, layouts[l].gs,
		      layouts[l].bp, layouts[l].bs);
		for (int ch = FBCON_FIRST_GLYPH; ch < FBCON_FIRST_GLYPH + FBCON_GLYPHS; ch++) {
			char c = (char)ch;
			fbcon_write("\r", 1);
			fbcon_write(&c, 1);
			CHECK(cell_is(0, 0, c, layouts[l].grey));
		}
		/* The padding past the visible width is never written. */
		unsigned bytes = (fb.bpp + 7u) / 8;
		for (unsigned y = 0; y < H; y++)
			CHECK(mem[(size_t)y * fb.pitch + W * bytes] == 0x5c);
	}
}

TEST(fbcon_wraps_tabs_and_unprintables)
{
	setup(32, 16, 8, 8, 8, 0, 8);
	fbcon_write("abcdefghij", 10); /* 8 columns: "ij" wraps */
	CHECK(row_is(0, "abcdefgh", 0xaaaaaa));
	CHECK(row_is(1, "ij", 0xaaaaaa));
	fbcon_write("\n\tX\x01\xff", 5); /* row 2: a tab (nothing drawn), X at 8: wraps */
	CHECK(row_is(0, "ij", 0xaaaaaa));
	CHECK(row_is(1, "", 0xaaaaaa));
	CHECK(row_is(2, "X??", 0xaaaaaa));
	unsigned cols, rows;
	fbcon_size(&cols, &rows);
	CHECK(cols == 8 && rows == 3);
}

TEST(fbcon_scrolls_keeping_the_last_lines)
{
	setup(32, 16, 8, 8, 8, 0, 8);
	fbcon_write("one\ntwo\nthree\nfour\nfive", 23);
	CHECK(row_is(0, "three", 0xaaaaaa));
	CHECK(row_is(1, "four", 0xaaaaaa));
	CHECK(row_is(2, "five", 0xaaaaaa));
	fbcon_write("\n", 1);
	CHECK(row_is(0, "four", 0xaaaaaa));
	CHECK(row_is(1, "five", 0xaaaaaa));
	CHECK(row_is(2, "", 0xaaaaaa));
	fbcon_write("\r12345678\rAB", 12); /* CR goes back to the line's start */
	CHECK(row_is(2, "AB345678", 0xaaaaaa));
	fbcon_write("\tZ", 2); /* the tab moves to column 8, the edge: Z wraps */
	CHECK(row_is(0, "five", 0xaaaaaa));
	CHECK(row_is(1, "AB345678", 0xaaaaaa));
	CHECK(row_is(2, "Z", 0xaaaaaa));
}

TEST(fbcon_refuses_layouts_it_cannot_draw)
{
	uint8_t buf[64 * 64 * 4];
	char text[2 * 64];
	struct fbcon_fb good = {buf, 64 * 4, 64, 16, 32, 16, 8, 8, 8, 0, 8};
	struct fbcon_fb f = good;
	CHECK_EQ(fbcon_init(&f, text), 0);
	f.bpp = 8;
	CHECK_EQ(fbcon_init(&f, text), -EINVAL);
	f = good;
	f.red_pos = 30; /* red field past the pixel */
	CHECK_EQ(fbcon_init(&f, text), -EINVAL);
	f = good;
	f.pitch = 64 * 4 - 1;
	CHECK_EQ(fbcon_init(&f, text), -EINVAL);
	f = good;
	f.height = 15; /* not one whole row */
	CHECK_EQ(fbcon_init(&f, text), -EINVAL);
	f = good;
	f.base = NULL;
	CHECK_EQ(fbcon_init(&f, text), -EINVAL);
	CHECK_EQ(fbcon_init(&good, NULL), -EINVAL);
}
