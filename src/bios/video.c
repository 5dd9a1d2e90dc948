/* video.c - INT 10h: a text console for boot loaders, written to the serial
 * console (there is no video adapter): teletype, strings, cursor, modes. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bios/regs.h"

/* ---- console */
static void con_write(struct bios *b, const char *p, size_t n)
{
	if (b->con_out < 0)
		return;
	while (n) {
		ssize_t w = write(b->con_out, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* INT 10h text is held back until the next decision point (the first
 * character of a new line, any other BIOS call, the end): if the guest
 * wrote COM1 itself meanwhile, it printed this text there too (syslinux with
 * SERIAL, Linux's setup with earlyprintk, in either order, per character or
 * per string), and the held text is dropped instead of shown twice. */
void bios_text_flush(struct bios *b)
{
	if (b->tlen && b->uart_tx == b->ttx)
		con_write(b, b->tbuf, b->tlen);
	b->tlen = 0;
}

static void text_out(struct bios *b, uint8_t c)
{
	if (b->tlen && (b->tbuf[b->tlen - 1] == '\n' || b->tlen == sizeof(b->tbuf)))
		bios_text_flush(b);
	if (b->tlen == 0)
		b->ttx = b->uart_tx;
	b->tbuf[b->tlen++] = (char)c;
}

static void cursor_get(struct bios *b, uint8_t page, uint8_t *row, uint8_t *col)
{
	uint16_t v = bda16(b, BDA_CURSOR + 2 * (page & 7));
	*col = (uint8_t)v;
	*row = (uint8_t)(v >> 8);
}
static void cursor_set(struct bios *b, uint8_t page, uint8_t row, uint8_t col)
{
	bda_set16(b, BDA_CURSOR + 2 * (page & 7), (uint16_t)(row << 8 | col));
}

/* Teletype one character: output it and move the cursor as a screen would. */
static void tty_char(struct bios *b, uint8_t page, uint8_t c)
{
	uint8_t row, col;
	uint8_t cols = bda8(b, BDA_COLUMNS) ? bda8(b, BDA_COLUMNS) : 80;
	uint8_t rows = bda8(b, BDA_ROWS) + 1;
	cursor_get(b, page, &row, &col);
	if (c != 7) /* BEL would beep the user's terminal */
		text_out(b, c);
	switch (c) {
	case '\r': col = 0; break;
	case '\n': row++; break;
	case '\b': if (col) col--; break;
	case 7: break;
	default:
		if (++col >= cols) {
			col = 0;
			row++;
		}
	}
	if (row >= rows)
		row = rows - 1;
	cursor_set(b, page, row, col);
}

/* ---- INT 10h: video, as text on the serial console */
void bios_int10(struct bios *b, struct cpu_state *s)
{
	uint8_t page = hi8(s, CPU_RBX);
	/* The character the previous call wrote with AH=09h, if that was the
	 * previous INT 10h call (see case 0x0E). */
	size_t at09 = b->at09;
	uint16_t cur09 = b->cur09;
	b->at09 = 0;
	set_cf(s, false);
	switch (AH(s)) {
	case 0x00: { /* set mode: remember it; the console has no modes */
		uint8_t mode = AL(s) & 0x7F;
		bda_set8(b, BDA_VIDEO_MODE, mode);
		bda_set8(b, BDA_COLUMNS, mode <= 1 ? 40 : 80);
		for (int p = 0; p < 8; p++)
			cursor_set(b, (uint8_t)p, 0, 0);
		set_lo8(s, CPU_RAX, mode <= 7 ? 0x30 : 0x20);
		snprintf(b->note, sizeof(b->note), "set mode %02xh", mode);
		break;
	}
	case 0x01: bda_set16(b, BDA_CURSOR_SHAPE, r16(s, CPU_RCX)); break;
	case 0x02: {
		/* Consoles that draw with AH=09h move to the next line by setting
		 * the cursor (syslinux's ANSI console): a new line on the serial
		 * console too. */
		uint8_t row, col;
		cursor_get(b, page, &row, &col);
		if (hi8(s, CPU_RDX) > row && lo8(s, CPU_RDX) == 0 && b->drawn) {
			text_out(b, '\r');
			text_out(b, '\n');
			b->drawn = false;
		}
		cursor_set(b, page, hi8(s, CPU_RDX), lo8(s, CPU_RDX));
		break;
	}
	case 0x03: {
		uint8_t row, col;
		cursor_get(b, page, &row, &col);
		set_hi8(s, CPU_RDX, row);
		set_lo8(s, CPU_RDX, col);
		set16(s, CPU_RCX, bda16(b, BDA_CURSOR_SHAPE));
		set16(s, CPU_RAX, 0);
		break;
	}
	case 0x05: bda_set8(b, BDA_PAGE, AL(s) & 7); break;
	case 0x06: /* scroll up: a serial console scrolls itself, by a new line */
		if (AL(s) >= 1 && b->drawn) {
			text_out(b, '\r');
			text_out(b, '\n');
			b->drawn = false;
		}
		break;
	case 0x07: break;
	case 0x08: set16(s, CPU_RAX, 0x0720); break; /* blank, grey on black */
	case 0x09: case 0x0A: {
		/* Write at the cursor without moving it.  Loaders use CX > 1 with
		 * blanks to clear lines: that is no text. */
		uint8_t c = AL(s);
		if (r16(s, CPU_RCX) >= 1 && !(r16(s, CPU_RCX) > 1 && c == ' ') && c >= 0x20) {
			text_out(b, c);
			b->drawn = true;
			if (r16(s, CPU_RCX) == 1) {
				uint8_t row, col;
				cursor_get(b, page, &row, &col);
				b->at09 = b->tlen;
				b->cur09 = (uint16_t)(row << 8 | col);
			}
		}
		break;
	}
	case 0x0E: {
		/* iPXE sets a character's colour with AH=09h (CX=1, the cursor
		 * stays) and then prints the same character with AH=0Eh at the
		 * same place: one cell on a screen, so one character here. */
		uint8_t row, col;
		cursor_get(b, page, &row, &col);
		if (at09 && at09 == b->tlen && cur09 == (uint16_t)(row << 8 | col) &&
		    (uint8_t)b->tbuf[b->tlen - 1] == AL(s)) {
			b->tlen--;
			b->drawn = false;
		}
		tty_char(b, page, AL(s));
		break;
	}
	case 0x0F:
		set_lo8(s, CPU_RAX, bda8(b, BDA_VIDEO_MODE));
		set_hi8(s, CPU_RAX, bda8(b, BDA_COLUMNS));
		set_hi8(s, CPU_RBX, bda8(b, BDA_PAGE));
		break;
	case 0x11:
		if (AL(s) == 0x30) { /* font information: 8x16, 25 rows */
			set16(s, CPU_RCX, 16);
			set_lo8(s, CPU_RDX, bda8(b, BDA_ROWS));
		}
		break;
	case 0x12:
		/* BL=10h (EGA information): leaving BL unchanged says "no EGA/VGA"
		 * (RBIL), which is the truth: there is no video adapter. */
		break;
	case 0x13: { /* write string ES:BP, CX chars, at DH,DL */
		uint8_t mode = AL(s);
		uint16_t n = r16(s, CPU_RCX);
		uint64_t len = (uint64_t)n * ((mode & 2) ? 2 : 1);
		uint64_t gpa = bios_linear(&s->es, r16(s, CPU_RBP));
		const uint8_t *str = n ? mem_ptr(b->mem, gpa, len) : NULL;
		if (n && !str) {
			snprintf(b->note, sizeof(b->note), "bad string 0x%llx+%u",
				 (unsigned long long)gpa, n);
			set_cf(s, true);
			break;
		}
		uint8_t orow, ocol;
		cursor_get(b, page, &orow, &ocol);
		cursor_set(b, page, hi8(s, CPU_RDX), lo8(s, CPU_RDX));
		for (uint16_t i = 0; i < n; i++)
			tty_char(b, page, str[(mode & 2) ? 2 * i : i]);
		if (!(mode & 1))
			cursor_set(b, page, orow, ocol);
		break;
	}
	case 0x1A:
		/* Display combination code: not answering (AL unchanged) means no
		 * VGA, consistent with AH=12h. */
		break;
	case 0x4F:
		/* VBE (VBE 3.0, 4.1 "VBE Return Status"): AL=4Fh says a function
		 * is supported.  There is no graphics adapter, so every VBE call,
		 * 4F00h "return controller information" first, returns AX=0100h:
		 * AL=00h "not supported" (and AH=01h "failed"), the buffer at
		 * ES:DI untouched. */
		snprintf(b->note, sizeof(b->note), "VBE function %02Xh: not supported (no VBE)",
			 AL(s));
		set16(s, CPU_RAX, 0x0100);
		break;
	default:
		unsupported(b, s);
	}
}
