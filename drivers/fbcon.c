/* The framebuffer console (include/fbcon.h).
 *
 * The screen is a grid of cols x rows cells of 8x16 pixels. `shown` holds the character each
 * cell displays now, `want` the one it should; drawing a cell writes its 128 pixels from the
 * font. A new line at the bottom moves `want` up a row and then draws every cell where the two
 * differ, so scrolling costs in proportion to the text on screen, not to the screen's pixels,
 * and the framebuffer is only ever written. Pixels are written byte by byte in the order
 * the layout gives (little-endian, bpp/8 bytes), so any direct-colour format works. */
#include "fbcon.h"
#include "kerrno.h"
#include "kstring.h"

static struct fbcon_fb fb;
static unsigned cols, rows, cur_col, cur_row;
static uint8_t *shown, *want; /* rows * cols characters each */
static uint32_t fg_pixel, bg_pixel;
static bool on;

size_t fbcon_text_bytes(const struct fbcon_fb *f)
{
	return 2ul * (f->width / FBCON_CELL_W) * (f->height / FBCON_CELL_H);
}

static uint32_t field(uint8_t value, uint8_t pos, uint8_t size)
{
	return size ? ((uint32_t)value >> (8 - MIN(size, (uint8_t)8))) << pos : 0;
}

static bool layout_ok(const struct fbcon_fb *f)
{
	unsigned bytes = (f->bpp + 7) / 8;
	if (f->bpp != 15 && f->bpp != 16 && f->bpp != 24 && f->bpp != 32)
		return false;
	if (f->red_pos + f->red_size > f->bpp || f->green_pos + f->green_size > f->bpp ||
	    f->blue_pos + f->blue_size > f->bpp)
		return false;
	return f->base && f->width >= FBCON_CELL_W && f->height >= FBCON_CELL_H &&
	       (uint64_t)f->pitch >= (uint64_t)f->width * bytes;
}

static void put_pixel(uint8_t *p, uint32_t v)
{
	for (unsigned b = 0; b < (fb.bpp + 7u) / 8; b++)
		p[b] = (uint8_t)(v >> (8 * b));
}

static void draw_cell(unsigned r, unsigned c, uint8_t ch)
{
	const uint8_t *g = fbcon_font[ch - FBCON_FIRST_GLYPH];
	unsigned bytes = (fb.bpp + 7u) / 8;
	uint8_t *row = fb.base + (size_t)r * FBCON_CELL_H * fb.pitch +
		       (size_t)c * FBCON_CELL_W * bytes;
	for (unsigned y = 0; y < FBCON_CELL_H; y++, row += fb.pitch)
		for (unsigned x = 0; x < FBCON_CELL_W; x++)
			put_pixel(row + x * bytes, (g[y] & (0x80 >> x)) ? fg_pixel : bg_pixel);
	shown[r * cols + c] = ch;
}

/* Draw every cell whose wanted character differs from the one shown. */
static void sync_cells(void)
{
	for (unsigned i = 0; i < rows * cols; i++)
		if (shown[i] != want[i])
			draw_cell(i / cols, i % cols, want[i]);
}

static void new_line(void)
{
	cur_col = 0;
	if (cur_row + 1 < rows) {
		cur_row++;
		return;
	}
	memmove(want, want + cols, (size_t)(rows - 1) * cols);
	memset(want + (size_t)(rows - 1) * cols, ' ', cols);
	sync_cells();
}

static void put_char(char c)
{
	uint8_t ch = (uint8_t)c;
	if (ch < FBCON_FIRST_GLYPH || ch >= FBCON_FIRST_GLYPH + FBCON_GLYPHS)
		ch = '?';
	if (cur_col == cols)
		new_line(); /* wrap */
	want[cur_row * cols + cur_col] = ch;
	draw_cell(cur_row, cur_col, ch);
	cur_col++;
}

void fbcon_write(const char *s, size_t len)
{
	if (!__atomic_load_n(&on, __ATOMIC_ACQUIRE))
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			new_line();
		} else if (s[i] == '\r') {
			cur_col = 0;
		} else if (s[i] == '\t') {
			cur_col = MIN((cur_col / 8 + 1) * 8, cols); /* moves, erases nothing */
		} else {
			put_char(s[i]);
		}
	}
}

int fbcon_init(const struct fbcon_fb *f, void *text)
{
	if (!layout_ok(f) || !text)
		return -EINVAL;
	fb = *f;
	cols = f->width / FBCON_CELL_W;
	rows = f->height / FBCON_CELL_H;
	shown = text;
	want = shown + (size_t)rows * cols;
	fg_pixel = field(FBCON_FG, f->red_pos, f->red_size) |
		   field(FBCON_FG, f->green_pos, f->green_size) |
		   field(FBCON_FG, f->blue_pos, f->blue_size);
	bg_pixel = 0;
	for (uint32_t y = 0; y < f->height; y++)
		memset(f->base + (size_t)y * f->pitch, 0, (size_t)f->width * ((f->bpp + 7u) / 8));
	memset(shown, ' ', (size_t)rows * cols);
	memset(want, ' ', (size_t)rows * cols);
	cur_row = cur_col = 0;
	__atomic_store_n(&on, true, __ATOMIC_RELEASE);
	return 0;
}

void fbcon_size(unsigned *c, unsigned *r)
{
	*c = on ? cols : 0;
	*r = on ? rows : 0;
}
