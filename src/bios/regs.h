/* regs.h - what the pseudo-BIOS services share (private to src/bios/):
 * register access in real-mode widths, result flags, the BIOS data area,
 * the guest-buffer check, and the service entry points of each file. */
#ifndef NOBIOS_BIOS_REGS_H
#define NOBIOS_BIOS_REGS_H

#include <stdio.h>

#include "bios/bios.h"
#include "mem/layout.h"

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

static inline void set_cf(struct cpu_state *s, bool on)
{
	s->rflags = on ? s->rflags | X86_RFLAGS_CF : s->rflags & ~X86_RFLAGS_CF;
}
static inline void set_zf(struct cpu_state *s, bool on)
{
	s->rflags = on ? s->rflags | X86_RFLAGS_ZF : s->rflags & ~X86_RFLAGS_ZF;
}
static inline void ok(struct cpu_state *s)
{
	set_hi8(s, CPU_RAX, 0);
	set_cf(s, false);
}
static inline void fail(struct cpu_state *s, uint8_t code)
{
	set_hi8(s, CPU_RAX, code);
	set_cf(s, true);
}
static inline void unsupported(struct bios *b, struct cpu_state *s)
{
	snprintf(b->note, sizeof(b->note), "unsupported");
	fail(s, BIOS_UNSUPPORTED);
}

static inline void set_seg(struct cpu_segment *seg, uint16_t sel)
{
	seg->selector = sel;
	seg->base = (uint64_t)sel << 4;
}

/* ---- BIOS data area */
static inline uint8_t bda8(struct bios *b, unsigned off)
{
	uint8_t v = 0;
	mem_read8(b->mem, LAYOUT_BDA + off, &v);
	return v;
}
static inline uint16_t bda16(struct bios *b, unsigned off)
{
	uint16_t v = 0;
	mem_read16(b->mem, LAYOUT_BDA + off, &v);
	return v;
}
static inline void bda_set8(struct bios *b, unsigned off, uint8_t v)
{
	mem_write8(b->mem, LAYOUT_BDA + off, v);
}
static inline void bda_set16(struct bios *b, unsigned off, uint16_t v)
{
	mem_write16(b->mem, LAYOUT_BDA + off, v);
}

/* A guest buffer the BIOS may write: RAM, and not the legacy hole where the
 * firmware lives (a ROM would ignore the write; here it would corrupt us). */
static inline void *guest_buf(struct bios *b, uint64_t gpa, uint64_t len, bool writing)
{
	if (len == 0)
		return NULL;
	if (writing && gpa < LAYOUT_BIOS_END && gpa + len > LAYOUT_LEGACY_HOLE)
		return NULL;
	return mem_ptr(b->mem, gpa, len);
}

/* The drive DL names, or NULL. */
static inline struct bios_disk *disk_of(struct bios *b, uint8_t dl)
{
	if (dl == 0x80 && b->hd.present)
		return &b->hd;
	if (dl == 0x00 && b->fd.present)
		return &b->fd;
	return NULL;
}

/* video.c: INT 10h, and the held text (see struct bios). */
void bios_int10(struct bios *b, struct cpu_state *s);
void bios_text_flush(struct bios *b);
/* disk.c: INT 13h. */
void bios_int13(struct bios *b, struct cpu_state *s);

#endif
