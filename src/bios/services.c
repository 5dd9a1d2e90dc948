/* services.c - the host side of the pseudo-BIOS: INT 10h, 11h, 12h, 13h,
 * 15h, 16h, 18h, 19h and 1Ah served on the caller's registers (bios.h has
 * the trap convention).  Every guest pointer goes through mem.h with its
 * length; a bad pointer or count is a BIOS error (CF=1, code in AH), never a
 * host fault.  References: Ralf Brown's Interrupt List, Phoenix EDD 3.0. */
#include "bios/bios.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem/layout.h"
#include "util/err.h"

#define SECTOR 512

/* BIOS data area offsets (segment 0040h). */
#define BDA_COM1       0x00
#define BDA_EBDA_SEG   0x0E
#define BDA_EQUIPMENT  0x10
#define BDA_MEM_KB     0x13
#define BDA_KBD_FLAGS  0x17
#define BDA_KBD_HEAD   0x1A
#define BDA_KBD_TAIL   0x1C
#define BDA_FD_STATUS  0x41
#define BDA_VIDEO_MODE 0x49
#define BDA_COLUMNS    0x4A
#define BDA_PAGE_SIZE  0x4C
#define BDA_CURSOR     0x50 /* 8 pages x (col, row) */
#define BDA_CURSOR_SHAPE 0x60
#define BDA_PAGE       0x62
#define BDA_CRTC       0x63
#define BDA_TICKS      0x6C
#define BDA_MIDNIGHT   0x70
#define BDA_HD_STATUS  0x74
#define BDA_HD_COUNT   0x75
#define BDA_KBD_START  0x80
#define BDA_KBD_END    0x82
#define BDA_ROWS       0x84
#define BDA_CHAR_HEIGHT 0x85

#define SMAP 0x534D4150u /* "SMAP" */

/* ---- register access in real-mode widths */
static inline uint8_t lo8(const struct cpu_state *s, int r) { return (uint8_t)s->gpr[r]; }
static inline uint8_t hi8(const struct cpu_state *s, int r) { return (uint8_t)(s->gpr[r] >> 8); }
static inline uint16_t r16(const struct cpu_state *s, int r) { return (uint16_t)s->gpr[r]; }
static inline uint32_t r32(const struct cpu_state *s, int r) { return (uint32_t)s->gpr[r]; }
static inline void set_lo8(struct cpu_state *s, int r, uint8_t v)
{
	s->gpr[r] = (s->gpr[r] & ~0xFFull) | v;
}
static inline void set_hi8(struct cpu_state *s, int r, uint8_t v)
{
	s->gpr[r] = (s->gpr[r] & ~0xFF00ull) | ((uint64_t)v << 8);
}
static inline void set16(struct cpu_state *s, int r, uint16_t v)
{
	s->gpr[r] = (s->gpr[r] & ~0xFFFFull) | v;
}
static inline void set32(struct cpu_state *s, int r, uint32_t v)
{
	s->gpr[r] = (s->gpr[r] & ~0xFFFFFFFFull) | v;
}
#define AH(s) hi8(s, CPU_RAX)
#define AL(s) lo8(s, CPU_RAX)

static void set_cf(struct cpu_state *s, bool on)
{
	s->rflags = on ? s->rflags | X86_RFLAGS_CF : s->rflags & ~X86_RFLAGS_CF;
}
static void set_zf(struct cpu_state *s, bool on)
{
	s->rflags = on ? s->rflags | X86_RFLAGS_ZF : s->rflags & ~X86_RFLAGS_ZF;
}
static void ok(struct cpu_state *s)
{
	set_hi8(s, CPU_RAX, 0);
	set_cf(s, false);
}
static void fail(struct cpu_state *s, uint8_t code)
{
	set_hi8(s, CPU_RAX, code);
	set_cf(s, true);
}
static void unsupported(struct bios *b, struct cpu_state *s)
{
	snprintf(b->note, sizeof(b->note), "unsupported");
	fail(s, BIOS_UNSUPPORTED);
}

static void set_seg(struct cpu_segment *seg, uint16_t sel)
{
	seg->selector = sel;
	seg->base = (uint64_t)sel << 4;
}

/* ---- BIOS data area */
static uint8_t bda8(struct bios *b, unsigned off)
{
	uint8_t v = 0;
	mem_read8(b->mem, LAYOUT_BDA + off, &v);
	return v;
}
static uint16_t bda16(struct bios *b, unsigned off)
{
	uint16_t v = 0;
	mem_read16(b->mem, LAYOUT_BDA + off, &v);
	return v;
}
static void bda_set8(struct bios *b, unsigned off, uint8_t v)
{
	mem_write8(b->mem, LAYOUT_BDA + off, v);
}
static void bda_set16(struct bios *b, unsigned off, uint16_t v)
{
	mem_write16(b->mem, LAYOUT_BDA + off, v);
}

/* A guest buffer the BIOS may write: RAM, and not the legacy hole where the
 * firmware lives (a ROM would ignore the write; here it would corrupt us). */
static void *guest_buf(struct bios *b, uint64_t gpa, uint64_t len, bool writing)
{
	if (len == 0)
		return NULL;
	if (writing && gpa < LAYOUT_BIOS_END && gpa + len > LAYOUT_LEGACY_HOLE)
		return NULL;
	return mem_ptr(b->mem, gpa, len);
}

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
static void text_flush(struct bios *b)
{
	if (b->tlen && b->uart_tx == b->ttx)
		con_write(b, b->tbuf, b->tlen);
	b->tlen = 0;
}

static void text_out(struct bios *b, uint8_t c)
{
	if (b->tlen && (b->tbuf[b->tlen - 1] == '\n' || b->tlen == sizeof(b->tbuf)))
		text_flush(b);
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
static void int10(struct bios *b, struct cpu_state *s)
{
	uint8_t page = hi8(s, CPU_RBX);
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
		}
		break;
	}
	case 0x0E:
		tty_char(b, page, AL(s));
		break;
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
		/* VBE: AL != 4Fh means "function not supported". */
		set16(s, CPU_RAX, 0x0100);
		snprintf(b->note, sizeof(b->note), "no VBE");
		break;
	default:
		unsupported(b, s);
	}
}

/* ---- INT 13h: disks */
static struct bios_disk *disk_of(struct bios *b, uint8_t dl)
{
	if (dl == 0x80 && b->hd.present)
		return &b->hd;
	if (dl == 0x00 && b->fd.present)
		return &b->fd;
	return NULL;
}

static uint8_t disk_xfer(struct bios *b, struct bios_disk *d, uint64_t lba, uint32_t count,
			 uint64_t gpa, bool write, uint32_t *done)
{
	*done = 0;
	if (count == 0)
		return BIOS_DISK_OK;
	if (lba >= d->sectors || count > d->sectors - lba)
		return BIOS_DISK_NOT_FOUND;
	if (write && !d->writable)
		return BIOS_DISK_WRITE_PROTECT;
	uint64_t len = (uint64_t)count * SECTOR;
	uint8_t *buf = guest_buf(b, gpa, len, !write);
	if (!buf)
		return BIOS_DISK_BAD_PARAM;
	if (write)
		memcpy(d->data + lba * SECTOR, buf, len);
	else
		memcpy(buf, d->data + lba * SECTOR, len);
	*done = count;
	return BIOS_DISK_OK;
}

static void disk_status(struct bios *b, struct bios_disk *d, struct cpu_state *s, uint8_t st)
{
	d->status = st;
	bda_set8(b, d->floppy ? BDA_FD_STATUS : BDA_HD_STATUS, st);
	if (st)
		fail(s, st);
	else
		ok(s);
}

/* AH=02h/03h/04h: CHS transfer of AL sectors at ES:BX. */
static void disk_chs(struct bios *b, struct bios_disk *d, struct cpu_state *s, bool write,
		     bool verify)
{
	uint32_t count = AL(s);
	uint32_t cyl = hi8(s, CPU_RCX) | ((uint32_t)(lo8(s, CPU_RCX) & 0xC0) << 2);
	uint32_t sec = lo8(s, CPU_RCX) & 0x3F;
	uint32_t head = hi8(s, CPU_RDX);
	uint64_t gpa = bios_linear(&s->es, r16(s, CPU_RBX));
	uint8_t st;
	uint32_t done = 0;
	if (count == 0 || count > 128)
		st = BIOS_DISK_BAD_PARAM;
	else if (sec == 0 || sec > d->spt || head >= d->heads || cyl >= d->cyls)
		st = BIOS_DISK_NOT_FOUND;
	else {
		uint64_t lba = ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
		if (verify) {
			st = lba + count <= d->sectors ? BIOS_DISK_OK : BIOS_DISK_NOT_FOUND;
			done = st ? 0 : count;
		} else {
			st = disk_xfer(b, d, lba, count, gpa, write, &done);
		}
		snprintf(b->note, sizeof(b->note), "%s C/H/S %u/%u/%u = LBA %llu, %u sectors %s 0x%llx",
			 verify ? "verify" : write ? "write" : "read", cyl, head, sec,
			 (unsigned long long)lba, count, write ? "from" : "to",
			 (unsigned long long)gpa);
	}
	set_lo8(s, CPU_RAX, (uint8_t)done);
	disk_status(b, d, s, st);
}

/* AH=42h/43h/44h: EDD transfer described by the DAP at DS:SI. */
static void disk_ext(struct bios *b, struct bios_disk *d, struct cpu_state *s, bool write,
		     bool verify)
{
	uint64_t dap = bios_linear(&s->ds, r16(s, CPU_RSI));
	uint8_t raw[0x18];
	uint32_t done = 0;
	uint8_t st;
	memset(raw, 0, sizeof(raw));
	if (mem_copy_out(b->mem, raw, dap, 0x10) < 0 || raw[0] < 0x10) {
		snprintf(b->note, sizeof(b->note), "bad DAP at 0x%llx", (unsigned long long)dap);
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	uint16_t count = (uint16_t)(raw[2] | raw[3] << 8);
	uint16_t off = (uint16_t)(raw[4] | raw[5] << 8), seg = (uint16_t)(raw[6] | raw[7] << 8);
	uint64_t lba = 0, gpa = ((uint64_t)seg << 4) + off;
	for (int i = 7; i >= 0; i--)
		lba = lba << 8 | raw[8 + i];
	/* EDD 3.0: buffer FFFF:FFFF in a DAP of 18h bytes means the 64-bit flat
	 * address at offset 10h. */
	if (seg == 0xFFFF && off == 0xFFFF && raw[0] >= 0x18) {
		if (mem_copy_out(b->mem, raw + 0x10, dap + 0x10, 8) < 0) {
			disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
			return;
		}
		gpa = 0;
		for (int i = 7; i >= 0; i--)
			gpa = gpa << 8 | raw[0x10 + i];
	}
	if (count > 0x7F) /* EDD's limit per call */
		st = BIOS_DISK_BAD_PARAM;
	else if (verify) {
		st = lba < d->sectors && count <= d->sectors - lba ? BIOS_DISK_OK
								     : BIOS_DISK_NOT_FOUND;
		done = st ? 0 : count;
	} else
		st = disk_xfer(b, d, lba, count, gpa, write, &done);
	snprintf(b->note, sizeof(b->note), "%s LBA %llu, %u sectors %s 0x%llx%s",
		 verify ? "verify" : write ? "write" : "read", (unsigned long long)lba, count,
		 write ? "from" : "to", (unsigned long long)gpa, st ? " failed" : "");
	if (guest_buf(b, dap + 2, 2, true)) /* blocks transferred, as EDD returns them */
		mem_write16(b->mem, dap + 2, (uint16_t)done);
	disk_status(b, d, s, st);
}

static void disk_params(struct bios *b, struct bios_disk *d, struct cpu_state *s)
{
	uint32_t c = d->cyls - 1;
	set16(s, CPU_RAX, 0);
	set_hi8(s, CPU_RCX, (uint8_t)c);
	set_lo8(s, CPU_RCX, (uint8_t)((d->spt & 0x3F) | ((c >> 2) & 0xC0)));
	set_hi8(s, CPU_RDX, (uint8_t)(d->heads - 1));
	if (d->floppy) {
		set_lo8(s, CPU_RDX, 1);
		set_lo8(s, CPU_RBX, d->type);
		set_hi8(s, CPU_RBX, 0);
		set_seg(&s->es, BIOS_SEG);
		set16(s, CPU_RDI, BIOS_OFF_FDPT);
	} else {
		set_lo8(s, CPU_RDX, 1);
	}
	snprintf(b->note, sizeof(b->note), "C/H/S %u/%u/%u", d->cyls, d->heads, d->spt);
	disk_status(b, d, s, BIOS_DISK_OK);
}

/* AH=48h: EDD drive parameters into the buffer at DS:SI. */
static void disk_ext_params(struct bios *b, struct bios_disk *d, struct cpu_state *s)
{
	uint64_t gpa = bios_linear(&s->ds, r16(s, CPU_RSI));
	uint16_t size;
	if (mem_read16(b->mem, gpa, &size) < 0 || size < 0x1A) {
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	uint8_t p[0x1E];
	memset(p, 0, sizeof(p));
	unsigned n = size >= 0x1E ? 0x1E : 0x1A;
	p[0] = (uint8_t)n;
	p[2] = 0x02; /* CHS information valid */
	uint32_t geo[3] = { d->cyls, d->heads, d->spt };
	memcpy(p + 4, geo, sizeof(geo));
	memcpy(p + 0x10, &d->sectors, 8);
	p[0x18] = SECTOR & 0xFF;
	p[0x19] = SECTOR >> 8;
	if (n == 0x1E)
		memset(p + 0x1A, 0xFF, 4); /* no DPTE */
	if (!guest_buf(b, gpa, n, true)) {
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	mem_copy_in(b->mem, gpa, p, n);
	snprintf(b->note, sizeof(b->note), "%llu sectors", (unsigned long long)d->sectors);
	disk_status(b, d, s, BIOS_DISK_OK);
}

static void int13(struct bios *b, struct cpu_state *s)
{
	uint8_t fn = AH(s), dl = lo8(s, CPU_RDX);
	struct bios_disk *d = disk_of(b, dl);
	if (fn == 0x15 && !d) { /* "no such drive" is an answer, not an error */
		set16(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	}
	if (!d) {
		snprintf(b->note, sizeof(b->note), "no drive %02xh", dl);
		fail(s, BIOS_DISK_BAD_PARAM);
		return;
	}
	switch (fn) {
	case 0x00: case 0x09: case 0x0C: case 0x0D: case 0x10: case 0x11: case 0x47:
		disk_status(b, d, s, BIOS_DISK_OK);
		break;
	case 0x01:
		set_lo8(s, CPU_RAX, d->status);
		set_hi8(s, CPU_RAX, d->status);
		set_cf(s, d->status != 0);
		break;
	case 0x02: disk_chs(b, d, s, false, false); break;
	case 0x03: disk_chs(b, d, s, true, false); break;
	case 0x04: disk_chs(b, d, s, false, true); break;
	case 0x08: disk_params(b, d, s); break;
	case 0x15:
		if (d->floppy) {
			set_hi8(s, CPU_RAX, 0x01); /* diskette, no change line */
		} else {
			uint64_t n = d->sectors > 0xFFFFFFFFu ? 0xFFFFFFFFu : d->sectors;
			set_hi8(s, CPU_RAX, 0x03);
			set16(s, CPU_RCX, (uint16_t)(n >> 16));
			set16(s, CPU_RDX, (uint16_t)n);
		}
		set_cf(s, false);
		break;
	case 0x16: /* diskette change line: not changed */
		disk_status(b, d, s, BIOS_DISK_OK);
		break;
	case 0x41:
		if (r16(s, CPU_RBX) != 0x55AA || d->floppy) {
			fail(s, BIOS_DISK_BAD_PARAM);
			break;
		}
		set16(s, CPU_RBX, 0xAA55);
		set_hi8(s, CPU_RAX, 0x30); /* EDD 3.0 */
		set16(s, CPU_RCX, 0x0001); /* extended disk access (42h-44h, 47h, 48h) */
		set_cf(s, false);
		break;
	case 0x42: disk_ext(b, d, s, false, false); break;
	case 0x43: disk_ext(b, d, s, true, false); break;
	case 0x44: disk_ext(b, d, s, false, true); break;
	case 0x48: disk_ext_params(b, d, s); break;
	case 0x4B: /* El Torito status/terminate: no drive is emulated */
		snprintf(b->note, sizeof(b->note), "not emulating");
		fail(s, BIOS_DISK_BAD_PARAM);
		break;
	default:
		unsupported(b, s);
	}
}

/* ---- INT 15h: system services */
static void e820_call(struct bios *b, struct cpu_state *s)
{
	uint32_t idx = r32(s, CPU_RBX), len = r32(s, CPU_RCX);
	if (r32(s, CPU_RDX) != SMAP || len < 20 || idx >= b->e820.n) {
		snprintf(b->note, sizeof(b->note), "bad request (index %u, size %u)", idx, len);
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	const struct e820_entry *e = &b->e820.e[idx];
	uint8_t out[24];
	memcpy(out, &e->addr, 8);
	memcpy(out + 8, &e->size, 8);
	memcpy(out + 16, &e->type, 4);
	uint32_t n = len >= 24 ? 24 : 20;
	uint32_t attr = 1; /* ACPI 3.0 extended attributes: enabled */
	memcpy(out + 20, &attr, 4);
	uint64_t gpa = bios_linear(&s->es, r16(s, CPU_RDI));
	if (!guest_buf(b, gpa, n, true)) {
		snprintf(b->note, sizeof(b->note), "bad buffer 0x%llx", (unsigned long long)gpa);
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	mem_copy_in(b->mem, gpa, out, n);
	set32(s, CPU_RAX, SMAP);
	set32(s, CPU_RCX, n);
	set32(s, CPU_RBX, idx + 1 < b->e820.n ? idx + 1 : 0);
	set_cf(s, false);
	snprintf(b->note, sizeof(b->note), "#%u [0x%llx-0x%llx] %s", idx,
		 (unsigned long long)e->addr, (unsigned long long)(e->addr + e->size - 1),
		 e820_type_name(e->type));
}

/* RAM above 1 MiB below the 32-bit hole, in bytes. */
static uint64_t ext_mem(const struct bios *b)
{
	uint64_t low = mem_low_top(b->mem);
	return low > LAYOUT_HIGH_MEM ? low - LAYOUT_HIGH_MEM : 0;
}

/* AH=87h: copy CX words between the 24-bit (or 32-bit) bases of the
 * descriptors at ES:SI+10h (source) and +18h (destination). */
static void block_move(struct bios *b, struct cpu_state *s)
{
	uint64_t gdt = bios_linear(&s->es, r16(s, CPU_RSI));
	uint8_t g[0x20];
	uint32_t words = r16(s, CPU_RCX);
	if (mem_copy_out(b->mem, g, gdt, sizeof(g)) < 0 || words > 0x8000) {
		snprintf(b->note, sizeof(b->note), "bad descriptor table or count");
		fail(s, 0x01);
		return;
	}
	uint64_t len = (uint64_t)words * 2;
	uint64_t base[2];
	for (int i = 0; i < 2; i++) {
		const uint8_t *d = g + 0x10 + 8 * i;
		uint32_t limit = (uint32_t)(d[0] | d[1] << 8);
		base[i] = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
			  (uint64_t)d[7] << 24;
		if (len && len - 1 > limit) {
			snprintf(b->note, sizeof(b->note), "count beyond descriptor limit");
			fail(s, 0x01);
			return;
		}
	}
	uint8_t *src = len ? mem_ptr(b->mem, base[0], len) : NULL;
	uint8_t *dst = len ? guest_buf(b, base[1], len, true) : NULL;
	if (len && (!src || !dst)) {
		snprintf(b->note, sizeof(b->note), "bad range 0x%llx -> 0x%llx, %llu bytes",
			 (unsigned long long)base[0], (unsigned long long)base[1],
			 (unsigned long long)len);
		fail(s, 0x01);
		return;
	}
	if (len)
		memmove(dst, src, len);
	snprintf(b->note, sizeof(b->note), "0x%llx -> 0x%llx, %llu bytes",
		 (unsigned long long)base[0], (unsigned long long)base[1], (unsigned long long)len);
	ok(s);
}

static void int15(struct bios *b, struct cpu_state *s)
{
	uint16_t ax = r16(s, CPU_RAX);
	if (ax == 0xE820) {
		e820_call(b, s);
		return;
	}
	if (ax == 0xE801 || ax == 0xE881) {
		uint64_t ext = ext_mem(b);
		uint64_t below16 = ext > (15ull << 20) ? (15ull << 20) : ext;
		uint64_t above16 = ext > (15ull << 20) ? ext - (15ull << 20) : 0;
		uint32_t k = (uint32_t)(below16 >> 10), blk = (uint32_t)(above16 >> 16);
		if (ax == 0xE881) {
			set32(s, CPU_RAX, k);
			set32(s, CPU_RCX, k);
			set32(s, CPU_RBX, blk);
			set32(s, CPU_RDX, blk);
		} else {
			set16(s, CPU_RAX, (uint16_t)k);
			set16(s, CPU_RCX, (uint16_t)k);
			set16(s, CPU_RBX, (uint16_t)(blk > 0xFFFF ? 0xFFFF : blk));
			set16(s, CPU_RDX, (uint16_t)(blk > 0xFFFF ? 0xFFFF : blk));
		}
		set_cf(s, false);
		snprintf(b->note, sizeof(b->note), "%u KiB + %u x 64 KiB", k, blk);
		return;
	}
	switch (AH(s)) {
	case 0x24:
		switch (AL(s)) {
		case 0x00: b->a20 = false; ok(s); break;
		case 0x01: b->a20 = true; ok(s); break;
		case 0x02: set_lo8(s, CPU_RAX, b->a20); ok(s); break;
		case 0x03: set16(s, CPU_RBX, 0x0003); ok(s); break; /* KBC and port 92h */
		default: unsupported(b, s);
		}
		return;
	case 0x88: {
		uint64_t k = ext_mem(b) >> 10;
		set16(s, CPU_RAX, (uint16_t)(k > 0xFFFF ? 0xFFFF : k));
		set_cf(s, false);
		return;
	}
	case 0xC0:
		set_seg(&s->es, BIOS_SEG);
		set16(s, CPU_RBX, BIOS_OFF_CONFIG);
		ok(s);
		return;
	case 0xC1:
		set_seg(&s->es, (uint16_t)(LAYOUT_EBDA >> 4));
		set_cf(s, false);
		return;
	case 0x86: { /* wait CX:DX microseconds */
		uint64_t us = (uint64_t)r16(s, CPU_RCX) << 16 | r16(s, CPU_RDX);
		if (us > 10000000)
			us = 10000000; /* a stuck guest gets at most 10 s per call */
		if (b->wait_sleep) {
			struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		snprintf(b->note, sizeof(b->note), "%llu us", (unsigned long long)us);
		ok(s);
		return;
	}
	case 0x87: block_move(b, s); return;
	case 0x90: case 0x91: ok(s); return;
	case 0xEC: /* AMD: target operating mode (Linux says "long mode") */
		if (AL(s) == 0x00) {
			ok(s);
			return;
		}
		break;
	case 0x4F: /* keyboard intercept: process the key as usual */
		set_cf(s, true);
		return;
	}
	unsupported(b, s); /* 53h APM, C2h mouse, E980h IST, 89h, ... */
}

/* ---- INT 16h: keyboard, from the console input */
static const char kbd_row1[] = "1234567890-=";
static const char kbd_row1s[] = "!@#$%^&*()_+";
static const char kbd_row2[] = "qwertyuiop[]";
static const char kbd_row2s[] = "QWERTYUIOP{}";
static const char kbd_row3[] = "asdfghjkl;'`";
static const char kbd_row3s[] = "ASDFGHJKL:\"~";
static const char kbd_row4[] = "\\zxcvbnm,./";
static const char kbd_row4s[] = "|ZXCVBNM<>?";

static uint8_t kbd_scan(uint8_t c)
{
	const char *p;
	if (c >= 1 && c <= 26 && c != '\b' && c != '\t' && c != '\r') /* Ctrl-letter */
		c = (uint8_t)('a' + c - 1);
	if (c == '\r' || c == '\n') return 0x1C;
	if (c == '\t') return 0x0F;
	if (c == '\b' || c == 0x7F) return 0x0E;
	if (c == 0x1B) return 0x01;
	if (c == ' ') return 0x39;
	if (c && ((p = strchr(kbd_row1, c)) || (p = strchr(kbd_row1s, c))))
		return (uint8_t)(0x02 + (p - (strchr(kbd_row1, c) ? kbd_row1 : kbd_row1s)));
	if (c && ((p = strchr(kbd_row2, c)) || (p = strchr(kbd_row2s, c))))
		return (uint8_t)(0x10 + (p - (strchr(kbd_row2, c) ? kbd_row2 : kbd_row2s)));
	if (c && ((p = strchr(kbd_row3, c)) || (p = strchr(kbd_row3s, c))))
		return (uint8_t)(0x1E + (p - (strchr(kbd_row3, c) ? kbd_row3 : kbd_row3s)));
	if (c && ((p = strchr(kbd_row4, c)) || (p = strchr(kbd_row4s, c))))
		return (uint8_t)(0x2B + (p - (strchr(kbd_row4, c) ? kbd_row4 : kbd_row4s)));
	return 0;
}

static void kbd_push(struct bios *b, uint16_t key)
{
	if (b->kbd_n < BIOS_KBD_QUEUE)
		b->kbd[(b->kbd_head + b->kbd_n++) % BIOS_KBD_QUEUE] = key;
}

/* Terminal escape sequences for the keys boot menus use. */
static bool kbd_escape(struct bios *b)
{
	static const struct { const char *seq; uint16_t key; } map[] = {
		{ "\033[A", 0x4800 }, { "\033[B", 0x5000 }, { "\033[C", 0x4D00 },
		{ "\033[D", 0x4B00 }, { "\033[H", 0x4700 }, { "\033[F", 0x4F00 },
		{ "\033[5~", 0x4900 }, { "\033[6~", 0x5100 }, { "\033OP", 0x3B00 },
		{ "\033OQ", 0x3C00 }, { "\033OR", 0x3D00 }, { "\033OS", 0x3E00 },
	};
	bool prefix = false;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t l = strlen(map[i].seq);
		if (l == b->nesc && memcmp(map[i].seq, b->esc, l) == 0) {
			kbd_push(b, map[i].key);
			b->nesc = 0;
			return true;
		}
		if (l > b->nesc && memcmp(map[i].seq, b->esc, b->nesc) == 0)
			prefix = true;
	}
	return prefix;
}

void bios_kbd_feed(struct bios *b, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (b->nesc || c == 0x1B) {
			b->esc[b->nesc++] = (char)c;
			if (!kbd_escape(b) || b->nesc == sizeof(b->esc)) {
				/* not a known sequence: deliver the bytes as keys */
				for (unsigned j = 0; j < b->nesc; j++)
					kbd_push(b, (uint16_t)(kbd_scan((uint8_t)b->esc[j]) << 8 |
							       (uint8_t)b->esc[j]));
				b->nesc = 0;
			}
			continue;
		}
		if (c == '\n')
			c = '\r';
		kbd_push(b, (uint16_t)(kbd_scan(c) << 8 | c));
	}
	/* A lone ESC at the end of the input is the Escape key. */
	if (b->nesc == 1) {
		kbd_push(b, 0x011B);
		b->nesc = 0;
	}
}

static void kbd_poll(struct bios *b)
{
	if (b->kbd_n)
		return;
	if (b->kbd_source) {
		uint8_t buf[16];
		size_t n = b->kbd_source(b->kbd_opaque, buf, sizeof(buf));
		if (n)
			bios_kbd_feed(b, buf, n);
		return;
	}
	if (b->con_in < 0)
		return;
	struct pollfd p = { .fd = b->con_in, .events = POLLIN };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return;
	uint8_t buf[16];
	ssize_t n = read(b->con_in, buf, sizeof(buf));
	if (n > 0)
		bios_kbd_feed(b, buf, (size_t)n);
	else if (n == 0)
		b->con_in = -1; /* end of input */
}

static void int16(struct bios *b, struct cpu_state *s)
{
	switch (AH(s)) {
	case 0x00: case 0x10:
	case 0x01: case 0x11: {
		bool take = AH(s) == 0x00 || AH(s) == 0x10;
		kbd_poll(b);
		if (!b->kbd_n) {
			set_zf(s, true);
			if (take)
				set16(s, CPU_RAX, 0);
			return;
		}
		set16(s, CPU_RAX, b->kbd[b->kbd_head]);
		set_zf(s, false);
		if (take) {
			b->kbd_head = (b->kbd_head + 1) % BIOS_KBD_QUEUE;
			b->kbd_n--;
		}
		snprintf(b->note, sizeof(b->note), "key %04xh", r16(s, CPU_RAX));
		return;
	}
	case 0x02: set_lo8(s, CPU_RAX, bda8(b, BDA_KBD_FLAGS)); set_cf(s, false); return;
	case 0x12:
		set_lo8(s, CPU_RAX, bda8(b, BDA_KBD_FLAGS));
		set_hi8(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	case 0x03: set_cf(s, false); return; /* typematic rate: nothing to set */
	case 0x05:
		kbd_push(b, r16(s, CPU_RCX));
		set_lo8(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	case 0x09: set_lo8(s, CPU_RAX, 0x30); return; /* capabilities: 10h-12h */
	}
	unsupported(b, s);
}

/* ---- INT 1Ah: time */
static uint8_t bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }

static void int1a(struct bios *b, struct cpu_state *s)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	switch (AH(s)) {
	case 0x00:
		set16(s, CPU_RCX, bda16(b, BDA_TICKS + 2));
		set16(s, CPU_RDX, bda16(b, BDA_TICKS));
		set_lo8(s, CPU_RAX, bda8(b, BDA_MIDNIGHT));
		bda_set8(b, BDA_MIDNIGHT, 0);
		set_cf(s, false);
		return;
	case 0x01:
		bda_set16(b, BDA_TICKS + 2, r16(s, CPU_RCX));
		bda_set16(b, BDA_TICKS, r16(s, CPU_RDX));
		bda_set8(b, BDA_MIDNIGHT, 0);
		set_cf(s, false);
		return;
	case 0x02:
		set_hi8(s, CPU_RCX, bcd((unsigned)tm.tm_hour));
		set_lo8(s, CPU_RCX, bcd((unsigned)tm.tm_min));
		set_hi8(s, CPU_RDX, bcd((unsigned)tm.tm_sec));
		set_lo8(s, CPU_RDX, 0);
		set_cf(s, false);
		return;
	case 0x04:
		set_hi8(s, CPU_RCX, bcd((unsigned)(tm.tm_year + 1900) / 100));
		set_lo8(s, CPU_RCX, bcd((unsigned)(tm.tm_year + 1900) % 100));
		set_hi8(s, CPU_RDX, bcd((unsigned)tm.tm_mon + 1));
		set_lo8(s, CPU_RDX, bcd((unsigned)tm.tm_mday));
		set_cf(s, false);
		return;
	case 0x03: case 0x05: /* set RTC: the host's clock stays authoritative */
		set_cf(s, false);
		return;
	case 0xB1: /* PCI BIOS: not present */
		snprintf(b->note, sizeof(b->note), "no PCI BIOS");
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	unsupported(b, s);
}

/* ---- boot */
int bios_boot_sector(struct bios *b, char *why, size_t whylen)
{
	if (b->has_boot_code)
		return mem_copy_in(b->mem, LAYOUT_BOOT_SECTOR, b->boot_code, SECTOR) < 0 ? -1 : 0;
	struct bios_disk *d = disk_of(b, b->boot_drive);
	if (!d) {
		snprintf(why, whylen, "no boot drive %02xh", b->boot_drive);
		return -1;
	}
	if (d->sectors == 0 || d->data[510] != 0x55 || d->data[511] != 0xAA) {
		snprintf(why, whylen, "%s: no boot signature 55 AA at offset 510",
			 d->path ? d->path : "boot drive");
		return -1;
	}
	if (mem_copy_in(b->mem, LAYOUT_BOOT_SECTOR, d->data, SECTOR) < 0) {
		snprintf(why, whylen, "no RAM for the boot sector");
		return -1;
	}
	return 0;
}

static void stop_vm(struct bios *b, int status, const char *msg)
{
	b->stop = true;
	b->stop_status = status;
	snprintf(b->stop_msg, sizeof(b->stop_msg), "%s", msg);
}

static const char *const exception_names[8] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM no math coprocessor",
};

int bios_call(struct bios *b, uint8_t vec, struct cpu_state *s)
{
	if (s->cr0 & X86_CR0_PE)
		return nb_err("pseudo-BIOS: INT %02xh stub reached in protected mode", vec);
	b->note[0] = 0;
	b->calls++;
	/* Held INT 10h text goes out (or is dropped) at any call that is not
	 * part of drawing text (mode queries, set mode, other services). */
	static const char drawing[] = { 0x02, 0x03, 0x06, 0x09, 0x0A, 0x0E, 0x13 };
	if (vec != 0x10 || !memchr(drawing, AH(s), sizeof(drawing)))
		text_flush(b);
	struct cpu_state in = *s;
	uint64_t frame = bios_linear(&s->ss, r16(s, CPU_RSP));
	uint16_t ret_ip = 0, ret_cs = 0, fl = 0;
	bool have_frame = mem_read16(b->mem, frame, &ret_ip) == 0 &&
			  mem_read16(b->mem, frame + 2, &ret_cs) == 0 &&
			  mem_read16(b->mem, frame + 4, &fl) == 0;
	/* Results start from the caller's flags. */
	if (have_frame)
		s->rflags = (s->rflags & ~0xFFFFull) | fl;

	switch (vec) {
	case 0x10: int10(b, s); break;
	case 0x11: set16(s, CPU_RAX, bda16(b, BDA_EQUIPMENT)); break;
	case 0x12: set16(s, CPU_RAX, bda16(b, BDA_MEM_KB)); set_cf(s, false); break;
	case 0x13: int13(b, s); break;
	case 0x15: int15(b, s); break;
	case 0x16: int16(b, s); break;
	case 0x18:
		stop_vm(b, 4, "guest called INT 18h: no bootable device");
		break;
	case 0x19: {
		char why[160];
		if (bios_boot_sector(b, why, sizeof(why)) < 0) {
			snprintf(b->note, sizeof(b->note), "%s", why);
			fail(s, 0x01);
			if (b->log)
				fprintf(b->log, "nobios: bios: boot failed: %s\n", why);
			break;
		}
		set_lo8(s, CPU_RDX, b->boot_drive);
		snprintf(b->note, sizeof(b->note), "boot sector of drive %02xh at 0000:7C00",
			 b->boot_drive);
		ok(s);
		break;
	}
	case 0x1A: int1a(b, s); break;
	default:
		if (vec < 8) {
			char msg[160];
			snprintf(msg, sizeof(msg), "guest CPU exception %s in real mode at %04x:%04x",
				 exception_names[vec], ret_cs, ret_ip);
			stop_vm(b, 4, msg);
			break;
		}
		unsupported(b, s); /* 14h serial, 17h printer */
	}

	/* The INT frame's FLAGS carry the result to the caller through iret. */
	if (have_frame) {
		uint16_t mask = (uint16_t)(X86_RFLAGS_CF | X86_RFLAGS_ZF);
		fl = (uint16_t)((fl & ~mask) | (s->rflags & mask));
		mem_write16(b->mem, frame + 4, fl);
	}

	if (b->log) {
		uint32_t key = (uint32_t)vec << 16 | r16(&in, CPU_RAX);
		bool poll_empty = vec == 0x16 && (AH(&in) == 0x01 || AH(&in) == 0x11) &&
				  (s->rflags & X86_RFLAGS_ZF);
		if (poll_empty && key == b->last_call) {
			b->repeats++;
			return 0;
		}
		if (b->repeats)
			fprintf(b->log, "nobios: bios: (previous call repeated %u times)\n", b->repeats);
		b->repeats = 0;
		b->last_call = poll_empty ? key : 0;
		fprintf(b->log,
			"nobios: bios: INT %02Xh AX=%04X BX=%04X CX=%04X DX=%04X SI=%04X DI=%04X "
			"DS=%04X ES=%04X from %04X:%04X -> %s AX=%04X BX=%04X CX=%04X DX=%04X%s%s\n",
			vec, r16(&in, CPU_RAX), r16(&in, CPU_RBX), r16(&in, CPU_RCX),
			r16(&in, CPU_RDX), r16(&in, CPU_RSI), r16(&in, CPU_RDI), in.ds.selector,
			in.es.selector, ret_cs, ret_ip, (s->rflags & X86_RFLAGS_CF) ? "CF=1" : "CF=0",
			r16(s, CPU_RAX), r16(s, CPU_RBX), r16(s, CPU_RCX), r16(s, CPU_RDX),
			b->note[0] ? " ; " : "", b->note);
	}
	return 0;
}

/* ---- set-up */
void bios_init(struct bios *b, struct guest_mem *m)
{
	memset(b, 0, sizeof(*b));
	b->mem = m;
	b->a20 = true; /* KVM has no A20 gate: memory never wraps at 1 MiB */
	b->con_in = -1;
	b->con_out = -1;
	b->boot_drive = 0x80;
	e820_build(&b->e820, m);
}

void bios_fini(struct bios *b)
{
	text_flush(b);
	if (b->log && b->repeats)
		fprintf(b->log, "nobios: bios: (previous call repeated %u times)\n", b->repeats);
	bios_disk_close(&b->hd);
	bios_disk_close(&b->fd);
}

int bios_install(struct bios *b)
{
	size_t size = (size_t)(bios_image_end - bios_image);
	if (size != BIOS_IMAGE_SIZE || memcmp(bios_image, "NOBIOS1", 8) != 0)
		return nb_err_internal("pseudo-BIOS image is corrupt (%zu bytes)", size);
	if (mem_low_top(b->mem) < LAYOUT_BIOS_END)
		return nb_err("the pseudo-BIOS needs at least 1 MiB of guest RAM");
	if (mem_copy_in(b->mem, LAYOUT_BIOS, bios_image, size) < 0)
		return -1;
	/* IVT: every vector F000:offset from the image's table. */
	for (unsigned v = 0; v < 256; v++) {
		uint16_t off = (uint16_t)(bios_image[BIOS_OFF_IVT + 2 * v] |
					  bios_image[BIOS_OFF_IVT + 2 * v + 1] << 8);
		if (mem_write32(b->mem, LAYOUT_IVT + 4 * v, (uint32_t)BIOS_SEG << 16 | off) < 0)
			return -1;
	}
	/* BIOS data area (RBIL MEMORY.LST 0040h:xxxx). */
	if (mem_zero(b->mem, LAYOUT_BDA, 0x100) < 0)
		return -1;
	uint64_t base = mem_low_top(b->mem) < LAYOUT_LOW_RAM_END ? mem_low_top(b->mem)
								  : LAYOUT_LOW_RAM_END;
	bda_set16(b, BDA_COM1, 0x3F8);
	bda_set16(b, BDA_EBDA_SEG, (uint16_t)(LAYOUT_EBDA >> 4));
	/* equipment: 1 serial port, 80x25 colour, FPU, diskette present */
	bda_set16(b, BDA_EQUIPMENT, (1u << 9) | (2u << 4) | 0x2 | (b->fd.present ? 0x1 : 0));
	bda_set16(b, BDA_MEM_KB, (uint16_t)(base >> 10));
	bda_set16(b, BDA_KBD_HEAD, 0x1E);
	bda_set16(b, BDA_KBD_TAIL, 0x1E);
	bda_set16(b, BDA_KBD_START, 0x1E);
	bda_set16(b, BDA_KBD_END, 0x3E);
	bda_set8(b, BDA_VIDEO_MODE, 0x03);
	bda_set16(b, BDA_COLUMNS, 80);
	bda_set16(b, BDA_PAGE_SIZE, 0x1000);
	bda_set16(b, BDA_CURSOR_SHAPE, 0x0607);
	bda_set16(b, BDA_CRTC, 0x3D4);
	bda_set8(b, BDA_ROWS, 24);
	bda_set8(b, BDA_CHAR_HEIGHT, 16);
	bda_set8(b, BDA_HD_COUNT, b->hd.present ? 1 : 0);
	/* Ticks since midnight, as a BIOS reads them from the RTC at POST. */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	uint64_t secs = (uint64_t)tm.tm_hour * 3600 + (uint64_t)tm.tm_min * 60 + (uint64_t)tm.tm_sec;
	uint32_t ticks = (uint32_t)(secs * 1193182 / 65536);
	bda_set16(b, BDA_TICKS, (uint16_t)ticks);
	bda_set16(b, BDA_TICKS + 2, (uint16_t)(ticks >> 16));
	/* EBDA: its first word is its size in KiB. */
	if (mem_low_top(b->mem) >= LAYOUT_LEGACY_HOLE)
		mem_write16(b->mem, LAYOUT_EBDA, (uint16_t)((LAYOUT_LEGACY_HOLE - LAYOUT_EBDA) >> 10));
	return 0;
}
