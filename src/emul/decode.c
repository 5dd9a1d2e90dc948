/* decode.c - the part of x86 decoding instruction completion needs: prefixes,
 * REX, the opcode map, ModRM/SIB/displacement and the memory operand's linear
 * address (Intel SDM vol. 2A, ch. 2 "Instruction format").  Unicorn decodes
 * everything it executes; this decoder serves nobios's own handlers and the
 * per-kind counts, so it stops where those stop needing it. */
#include <string.h>

#include "emul/emul.h"

/* One-byte opcodes that take a ModRM byte (SDM vol. 2D, table A-2). */
static bool onebyte_has_modrm(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4; /* ALU r/m forms 00-03, 08-0B, ... */
	switch (op) {
	case 0x62: case 0x63: case 0x69: case 0x6B:
	case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
	case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F:
	case 0xC0: case 0xC1: case 0xC4: case 0xC5: case 0xC6: case 0xC7:
	case 0xD0: case 0xD1: case 0xD2: case 0xD3:
	case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
	case 0xF6: case 0xF7: case 0xFE: case 0xFF:
		return true;
	default:
		return false;
	}
}

/* Two-byte (0F xx) opcodes without ModRM (SDM vol. 2D, table A-3). */
static bool twobyte_has_modrm(uint8_t op)
{
	switch (op) {
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0B:
	case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37:
	case 0x77: case 0xA0: case 0xA1: case 0xA2: case 0xA8: case 0xA9: case 0xAA:
		return false;
	default:
		return !((op >= 0x80 && op <= 0x8F) || (op >= 0xC8 && op <= 0xCF));
	}
}

static int decode_modrm(struct emul_insn *in, unsigned i)
{
	if (i >= in->n)
		return -1;
	in->has_modrm = true;
	in->modrm = in->b[i++];
	in->mod = in->modrm >> 6;
	in->reg = ((in->modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
	in->rm = (in->modrm & 7) | ((in->rex & 1) ? 8 : 0);
	in->base = in->index = -1;
	in->scale = 1;
	in->disp = 0;
	in->rip_rel = false;
	if (in->mod == 3) {
		in->len = i;
		return 0;
	}
	unsigned dispsz = 0;
	if (in->addrsize == 2) {
		/* 16-bit addressing (SDM vol. 2A, table 2-1). */
		static const int8_t b16[8] = { CPU_RBX, CPU_RBX, CPU_RBP, CPU_RBP, CPU_RSI, CPU_RDI, CPU_RBP, CPU_RBX };
		static const int8_t x16[8] = { CPU_RSI, CPU_RDI, CPU_RSI, CPU_RDI, -1, -1, -1, -1 };
		unsigned rm = in->modrm & 7;
		in->base = b16[rm];
		in->index = x16[rm];
		if (rm == 6 && in->mod == 0) {
			in->base = -1;
			dispsz = 2;
		} else {
			dispsz = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
		}
	} else {
		unsigned rm = in->modrm & 7;
		if (rm == 4) {
			if (i >= in->n)
				return -1;
			uint8_t sib = in->b[i++];
			unsigned base = (sib & 7) | ((in->rex & 1) ? 8 : 0);
			unsigned index = ((sib >> 3) & 7) | ((in->rex & 2) ? 8 : 0);
			in->scale = 1u << (sib >> 6);
			in->index = index == CPU_RSP ? -1 : (int)index;
			if ((sib & 7) == 5 && in->mod == 0) {
				in->base = -1;
				dispsz = 4;
			} else {
				in->base = (int)base;
			}
		} else if (rm == 5 && in->mod == 0) {
			if (in->mode_bits == 64)
				in->rip_rel = true;
			dispsz = 4;
		} else {
			in->base = in->rm;
		}
		if (in->mod == 1)
			dispsz = 1;
		else if (in->mod == 2)
			dispsz = 4;
	}
	if (i + dispsz > in->n)
		return -1;
	int64_t d = 0;
	if (dispsz == 1)
		d = (int8_t)in->b[i];
	else if (dispsz == 2)
		d = (int16_t)(in->b[i] | in->b[i + 1] << 8);
	else if (dispsz == 4)
		d = (int32_t)((uint32_t)in->b[i] | (uint32_t)in->b[i + 1] << 8 |
			      (uint32_t)in->b[i + 2] << 16 | (uint32_t)in->b[i + 3] << 24);
	in->disp = d;
	in->len = i + dispsz;
	return 0;
}

int emul_decode(struct emul_insn *in, const uint8_t *bytes, unsigned n, unsigned mode_bits)
{
	memset(in, 0, sizeof(*in));
	if (n > sizeof(in->b))
		n = sizeof(in->b);
	memcpy(in->b, bytes, n);
	in->n = n;
	in->mode_bits = mode_bits;
	in->seg = -1;
	in->base = in->index = -1;
	unsigned def = mode_bits == 16 ? 2 : 4;
	bool p67 = false;
	unsigned i = 0;
	for (; i < n; i++) {
		uint8_t c = in->b[i];
		switch (c) {
		case 0x66: in->p66 = true; in->rex = 0; continue;
		case 0x67: p67 = true; in->rex = 0; continue;
		case 0xF0: in->lock = true; in->rex = 0; continue;
		case 0xF2: in->pf2 = true; in->pf3 = false; in->rex = 0; continue;
		case 0xF3: in->pf3 = true; in->pf2 = false; in->rex = 0; continue;
		case 0x26: in->seg = EMUL_SEG_ES; in->rex = 0; continue;
		case 0x2E: in->seg = EMUL_SEG_CS; in->rex = 0; continue;
		case 0x36: in->seg = EMUL_SEG_SS; in->rex = 0; continue;
		case 0x3E: in->seg = EMUL_SEG_DS; in->rex = 0; continue;
		case 0x64: in->seg = EMUL_SEG_FS; in->rex = 0; continue;
		case 0x65: in->seg = EMUL_SEG_GS; in->rex = 0; continue;
		default: break;
		}
		if (mode_bits == 64 && (c & 0xF0) == 0x40) {
			in->rex = c; /* only meaningful right before the opcode */
			continue;
		}
		break;
	}
	if (i >= n)
		return -1;
	if (mode_bits == 64) {
		in->addrsize = p67 ? 4 : 8;
		in->opsize = (in->rex & 8) ? 8 : in->p66 ? 2 : 4;
	} else {
		in->addrsize = p67 ? (def == 2 ? 4 : 2) : def;
		in->opsize = in->p66 ? (def == 2 ? 4 : 2) : def;
	}
	uint8_t c = in->b[i];
	/* VEX (C4/C5): always in 64-bit mode, else only when the next byte's
	 * top bits are 11 (otherwise it is LES/LDS). */
	if ((c == 0xC4 || c == 0xC5) && i + 1 < n &&
	    (mode_bits == 64 || (in->b[i + 1] & 0xC0) == 0xC0)) {
		in->vex = true;
		in->op_at = i;
		in->op = c;
		return 0;
	}
	if (c == 0x0F) {
		if (++i >= n)
			return -1;
		if (in->b[i] == 0x38 || in->b[i] == 0x3A) {
			in->map = in->b[i] == 0x38 ? 2 : 3;
			if (++i >= n)
				return -1;
		} else {
			in->map = 1;
		}
	}
	in->op = in->b[i];
	in->op_at = i;
	i++;
	in->len = i;
	bool modrm = in->map == 0 ? onebyte_has_modrm(in->op)
		   : in->map == 1 ? twobyte_has_modrm(in->op)
				  : true;
	if (modrm)
		return decode_modrm(in, i);
	return 0;
}

/* Which SSE opcodes of map 0F are moves and which are bitwise logic (SDM
 * vol. 2D, table A-3); everything else in the SSE space counts as "other". */
static bool sse_move(uint8_t op, bool p66)
{
	switch (op) {
	case 0x10: case 0x11: case 0x12: case 0x13: case 0x16: case 0x17:
	case 0x28: case 0x29: case 0x2B: case 0x50: case 0x6E: case 0x6F:
	case 0x7E: case 0x7F: case 0xD6: case 0xD7: case 0xE7: case 0xC3:
		return true;
	default:
		(void)p66;
		return false;
	}
}

static bool sse_logic(uint8_t op)
{
	switch (op) {
	case 0x54: case 0x55: case 0x56: case 0x57:
	case 0xDB: case 0xDF: case 0xEB: case 0xEF:
		return true;
	default:
		return false;
	}
}

enum emul_kind emul_classify(const struct emul_insn *in)
{
	if (in->vex)
		return EMUL_KIND_AVX;
	if (in->map == 0) {
		if (in->op == 0xCC)
			return EMUL_KIND_INT3;
		if (in->op == 0x9B)
			return EMUL_KIND_FWAIT;
		if (in->op >= 0xD8 && in->op <= 0xDF)
			return EMUL_KIND_X87;
		return EMUL_KIND_OTHER;
	}
	if (in->map == 2 || in->map == 3)
		return EMUL_KIND_SSE_OTHER;
	uint8_t op = in->op;
	unsigned ext = (in->modrm >> 3) & 7;
	switch (op) {
	case 0x01:
		if (in->modrm == 0xD0)
			return EMUL_KIND_XGETBV;
		if (in->modrm == 0xD1)
			return EMUL_KIND_XSETBV;
		if (in->modrm == 0xCA)
			return EMUL_KIND_CLAC;
		if (in->modrm == 0xCB)
			return EMUL_KIND_STAC;
		return EMUL_KIND_OTHER;
	case 0xB8:
		return in->pf3 ? EMUL_KIND_POPCNT : EMUL_KIND_OTHER;
	case 0xC7:
		if (in->mod == 3)
			return EMUL_KIND_OTHER;
		if (ext == 1)
			return EMUL_KIND_CMPXCHG16B; /* cmpxchg8b too: same opcode */
		if (ext == 3)
			return EMUL_KIND_XRSTORS;
		if (ext == 4)
			return EMUL_KIND_XSAVEC;
		if (ext == 5)
			return EMUL_KIND_XSAVES;
		return EMUL_KIND_OTHER;
	case 0xAE:
		if (in->mod == 3 || in->p66 || in->pf3 || in->pf2)
			return EMUL_KIND_OTHER;
		switch (ext) {
		case 0: return EMUL_KIND_FXSAVE;
		case 1: return EMUL_KIND_FXRSTOR;
		case 2: case 3: return EMUL_KIND_MXCSR;
		case 4: return EMUL_KIND_XSAVE;
		case 5: return EMUL_KIND_XRSTOR;
		case 6: return EMUL_KIND_XSAVEOPT;
		default: return EMUL_KIND_OTHER;
		}
	case 0x1E:
		if (in->pf3 && in->mod == 3 && ext == 1)
			return EMUL_KIND_RDSSP;
		return EMUL_KIND_OTHER;
	default:
		break;
	}
	if (sse_move(op, in->p66))
		return EMUL_KIND_SSE_MOVE;
	if (sse_logic(op))
		return EMUL_KIND_SSE_LOGIC;
	if ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2F) ||
	    (op >= 0x50 && op <= 0x7F) || op == 0xC2 || (op >= 0xC4 && op <= 0xC6) ||
	    op >= 0xD0)
		return EMUL_KIND_SSE_OTHER;
	return EMUL_KIND_OTHER;
}

static const struct cpu_segment *seg_of(const struct cpu_state *s, int seg)
{
	switch (seg) {
	case EMUL_SEG_ES: return &s->es;
	case EMUL_SEG_CS: return &s->cs;
	case EMUL_SEG_SS: return &s->ss;
	case EMUL_SEG_FS: return &s->fs;
	case EMUL_SEG_GS: return &s->gs;
	default: return &s->ds;
	}
}

uint64_t emul_linear_addr(const struct emul_insn *in, const struct cpu_state *s)
{
	uint64_t amask = in->addrsize == 8 ? ~0ULL : in->addrsize == 4 ? 0xFFFFFFFFULL : 0xFFFFULL;
	uint64_t off = (uint64_t)in->disp;
	if (in->rip_rel)
		off += s->rip + in->len;
	if (in->base >= 0)
		off += s->gpr[in->base];
	if (in->index >= 0)
		off += s->gpr[in->index] * in->scale;
	off &= amask;
	int seg = in->seg;
	if (seg < 0)
		seg = (in->base == CPU_RSP || in->base == CPU_RBP) ? EMUL_SEG_SS : EMUL_SEG_DS;
	if (in->mode_bits == 64) {
		/* Long mode: only FS and GS have a base (SDM vol. 3A, 3.2.4). */
		if (seg == EMUL_SEG_FS || seg == EMUL_SEG_GS)
			return off + seg_of(s, seg)->base;
		return off;
	}
	return (seg_of(s, seg)->base + off) & 0xFFFFFFFFULL;
}

bool emul_insn_locked_rmw(const struct emul_insn *in)
{
	if (in->len == 0 || !in->has_modrm || in->mod == 3 || in->vex)
		return false;
	unsigned digit = (in->modrm >> 3) & 7;
	bool lockable = false;
	if (in->map == 0) {
		switch (in->op) {
		case 0x86: case 0x87: /* xchg: locked with or without the prefix */
			return true;
		case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11:
		case 0x18: case 0x19: case 0x20: case 0x21: case 0x28: case 0x29:
		case 0x30: case 0x31: /* add or adc sbb and sub xor, r/m destination */
			lockable = true;
			break;
		case 0x80: case 0x81: case 0x83: /* group 1 except /7 (cmp) */
			lockable = digit != 7;
			break;
		case 0xF6: case 0xF7: /* not, neg */
			lockable = digit == 2 || digit == 3;
			break;
		case 0xFE: case 0xFF: /* inc, dec */
			lockable = digit <= 1;
			break;
		default:
			break;
		}
	} else if (in->map == 1) {
		switch (in->op) {
		case 0xAB: case 0xB3: case 0xBB: /* bts btr btc */
		case 0xB0: case 0xB1: /* cmpxchg */
		case 0xC0: case 0xC1: /* xadd */
			lockable = true;
			break;
		case 0xBA: /* bts btr btc with an immediate */
			lockable = digit >= 5;
			break;
		case 0xC7: /* cmpxchg8b/16b */
			lockable = digit == 1;
			break;
		default:
			break;
		}
	}
	return lockable && in->lock;
}
