/* The framebuffer console: kernel output drawn as text on a linear framebuffer (what UEFI's
 * GOP, or VBE under a BIOS, leaves set up and the loader describes in its framebuffer tag), for
 * machines without a serial line. Light grey 8x16 characters on black, lines wrap at the
 * right edge, and the screen scrolls up a line when the bottom is full. It keeps the text of
 * the screen in memory and, when scrolling, redraws only the cells whose character changed,
 * so it never reads the framebuffer (slow on real video memory). No locks: callers
 * (arch_console_write) already write one at a time; a write racing another (an NMI) may
 * garble a line, never memory outside the screen. */
#pragma once
#include "types.h"

#define FBCON_CELL_W 8
#define FBCON_CELL_H 16
#define FBCON_FIRST_GLYPH 0x20
#define FBCON_GLYPHS 95 /* printable ASCII 0x20..0x7e; anything else shows as '?' */
#define FBCON_FG 0xaa   /* each of red, green, blue: Linux's console grey */

/* A linear framebuffer: where it is mapped and how a pixel is laid out (bits of a
 * little-endian pixel of bpp bits; the multiboot2 tag's "direct RGB" color info). */
struct fbcon_fb {
	uint8_t *base;
	uint32_t pitch, width, height; /* pitch in bytes */
	uint8_t bpp;                   /* 15, 16, 24 or 32 */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* The font cells (generated from GNU Unifont by scripts/mkfont.py). */
extern const uint8_t fbcon_font[FBCON_GLYPHS][FBCON_CELL_H];

/* Cells of text memory fbcon_init needs for fb (two bytes a cell). */
size_t fbcon_text_bytes(const struct fbcon_fb *fb);
/* Start the console on fb with text memory text (fbcon_text_bytes long): clears the screen.
 * Returns 0, or -EINVAL for a layout it cannot draw (bpp, fields past the pixel, a screen
 * smaller than one cell, a pitch too short for the width) and stays off. Boot. */
int fbcon_init(const struct fbcon_fb *fb, void *text);
/* Draw len bytes of text ('\n' new line, '\r' line start, '\t' moves to the next multiple
 * of 8 columns; other bytes outside printable ASCII show as '?').
 * Nothing before fbcon_init. Any context (see above). */
void fbcon_write(const char *s, size_t len);
/* Columns and rows of text, 0 before fbcon_init. */
void fbcon_size(unsigned *cols, unsigned *rows);
