/* emul.c - complete one instruction: fetch it through the guest's page
 * tables, decode it, and hand it to nobios's own handler or to unicorn. */
#include <stdio.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "emul/emul.h"
#include "mem/mem.h"

static const char *const kind_names[EMUL_NKINDS] = {
	[EMUL_KIND_SSE_MOVE] = "sse-move",
	[EMUL_KIND_SSE_LOGIC] = "sse-logic",
	[EMUL_KIND_SSE_OTHER] = "sse-other",
	[EMUL_KIND_CMPXCHG16B] = "cmpxchg16b",
	[EMUL_KIND_POPCNT] = "popcnt",
	[EMUL_KIND_XSETBV] = "xsetbv",
	[EMUL_KIND_XGETBV] = "xgetbv",
	[EMUL_KIND_XRSTOR] = "xrstor",
	[EMUL_KIND_XRSTORS] = "xrstors",
	[EMUL_KIND_XSAVE] = "xsave",
	[EMUL_KIND_XSAVEOPT] = "xsaveopt",
	[EMUL_KIND_XSAVEC] = "xsavec",
	[EMUL_KIND_XSAVES] = "xsaves",
	[EMUL_KIND_FXSAVE] = "fxsave",
	[EMUL_KIND_FXRSTOR] = "fxrstor",
	[EMUL_KIND_MXCSR] = "ldmxcsr/stmxcsr",
	[EMUL_KIND_CLAC] = "clac",
	[EMUL_KIND_STAC] = "stac",
	[EMUL_KIND_FWAIT] = "fwait",
	[EMUL_KIND_X87] = "x87",
	[EMUL_KIND_RDSSP] = "rdssp",
	[EMUL_KIND_INT3] = "int3",
	[EMUL_KIND_AVX] = "avx",
	[EMUL_KIND_OTHER] = "other",
};

const char *emul_kind_name(enum emul_kind k)
{
	return (unsigned)k < EMUL_NKINDS ? kind_names[k] : "?";
}

static unsigned mode_bits_of(const struct cpu_state *s)
{
	switch (cpu_mode_of(s)) {
	case CPU_MODE_LONG: return 64;
	case CPU_MODE_PROT32:
	case CPU_MODE_LONG_COMPAT: return 32;
	default: return 16;
	}
}

int emul_fetch(struct guest_mem *m, struct emul_vcpu *v, struct emul_insn *in,
	       struct emul_result *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = EMUL_KIND_OTHER;
	v->changed = 0;
	const struct cpu_state *s = &v->cpu;
	unsigned bits = mode_bits_of(s);
	uint64_t la = bits == 64 ? s->rip : (s->cs.base + s->rip) & 0xFFFFFFFFULL;
	/* Fetch up to 15 bytes; bytes on a second page are only needed (and a
	 * fault there only counts) when the instruction really extends there. */
	uint8_t b[15];
	unsigned first = (unsigned)(0x1000 - (la & 0xFFF));
	if (first > sizeof(b))
		first = sizeof(b);
	if (emul_read_linear(m, v, la, b, first, CPU_ACCESS_EXEC, r) < 0)
		return -1;
	unsigned n = first;
	struct emul_result r2;
	memset(&r2, 0, sizeof(r2));
	if (n < sizeof(b) &&
	    emul_read_linear(m, v, la + n, b + n, (unsigned)sizeof(b) - n, CPU_ACCESS_EXEC, &r2) == 0)
		n = sizeof(b);
	memcpy(r->bytes, b, n);
	r->nbytes = n;
	if (emul_decode(in, b, n, bits) < 0) {
		if (n < sizeof(b) && r2.status != EMUL_DONE) {
			/* The instruction runs onto a page that faults. */
			r->status = r2.status;
			r->exc = r2.exc;
			memcpy(r->why, r2.why, sizeof(r->why));
			return -1;
		}
		memset(in, 0, sizeof(*in));
		memcpy(in->b, b, n);
		in->n = n;
		in->mode_bits = bits;
	}
	r->kind = emul_classify(in);
	return 0;
}

unsigned emul_insn_needs(const struct emul_insn *in)
{
	switch (emul_classify(in)) {
	case EMUL_KIND_CMPXCHG16B:
	case EMUL_KIND_POPCNT:
	case EMUL_KIND_CLAC:
	case EMUL_KIND_STAC:
	case EMUL_KIND_RDSSP:
	case EMUL_KIND_INT3:
		return 0;
	case EMUL_KIND_XSETBV:
		return EMUL_NEED_XCR0;
	case EMUL_KIND_XGETBV:
	case EMUL_KIND_XRSTOR:
	case EMUL_KIND_XRSTORS:
	case EMUL_KIND_XSAVE:
	case EMUL_KIND_XSAVEOPT:
	case EMUL_KIND_XSAVEC:
	case EMUL_KIND_XSAVES:
		return EMUL_NEED_FPU | EMUL_NEED_XCR0;
	case EMUL_KIND_OTHER:
		/* One-byte opcodes (iret, string moves, ...) touch no SIMD
		 * state; an unknown 0F opcode might. */
		return in->map == 0 && !in->vex ? 0 : EMUL_NEED_FPU;
	default:
		return EMUL_NEED_FPU;
	}
}

/* Instructions whose effects live outside what the engine carries back
 * (general registers, RIP, RFLAGS' arithmetic bits, XMM/MXCSR/x87, memory,
 * and in 32-bit code the segment registers): I/O, control and debug
 * registers, MSRs, descriptor tables, interrupt flag, TSC and CPUID (unicorn
 * has its own), privilege transitions.  KVM emulates all of these itself; if
 * it ever refuses one, nobios says so rather than drop the effect. */
static const char *system_insn(const struct emul_insn *in)
{
	if (in->map == 0) {
		switch (in->op) {
		case 0x6C: case 0x6D: case 0x6E: case 0x6F:
		case 0xE4: case 0xE5: case 0xE6: case 0xE7:
		case 0xEC: case 0xED: case 0xEE: case 0xEF:
			return "port I/O";
		case 0xF4: return "hlt";
		case 0xFA: case 0xFB: return "cli/sti";
		case 0xCC: case 0xCD: case 0xCE: case 0xF1: return "software interrupt";
		case 0x8E: case 0x9A: case 0xCA: case 0xCB: case 0xEA:
		case 0x07: case 0x17: case 0x1F: case 0xC4: case 0xC5:
			return in->mode_bits == 64 ? "segment load in long mode" : NULL;
		case 0xCF:
			return in->mode_bits == 64 ? "iretq" : NULL;
		default:
			return NULL;
		}
	}
	if (in->map != 1)
		return NULL;
	switch (in->op) {
	case 0x00: return "descriptor-table instruction";
	case 0x01:
		if (in->modrm == 0xCA || in->modrm == 0xCB || in->modrm == 0xD0 || in->modrm == 0xD1)
			return NULL; /* clac stac xgetbv xsetbv */
		return "system instruction (0F 01 group)";
	case 0x05: case 0x07: case 0x34: case 0x35: return "privilege transition";
	case 0x06: case 0x08: case 0x09: return "clts/invd/wbinvd";
	case 0x20: case 0x21: case 0x22: case 0x23: return "control/debug register move";
	case 0x30: case 0x31: case 0x32: case 0x33: return "MSR/TSC/PMC access";
	case 0xA2: return "cpuid";
	case 0xA0: case 0xA1: case 0xA8: case 0xA9: case 0xB2: case 0xB4: case 0xB5:
		return in->mode_bits == 64 ? "segment load in long mode" : NULL;
	default:
		return NULL;
	}
}

void emul_execute(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		  const struct emul_insn *in, struct emul_result *r)
{
	if (emul_handle_own(m, v, in, r))
		return;
	if (in->vex) {
		/* unicorn 2.0.1 runs VEX encodings as their legacy SSE forms
		 * (measured: vpxor xmm0,xmm1,xmm2 computed xmm0 ^= xmm2) and keeps
		 * no YMM upper halves: refusing beats a wrong value. */
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why),
			 "AVX (VEX-encoded) instructions are not completed: unicorn 2.0.1 "
			 "would compute them as legacy SSE");
		return;
	}
	if (v->smp && emul_insn_locked_rmw(in)) {
		/* unicorn runs without its parallel (atomic) mode: its locked
		 * read-modify-write would race the other vCPUs, which run on in
		 * KVM.  KVM's emulator does these itself; should it ever refuse
		 * one, nobios says so rather than risk a torn update. */
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why),
			 "locked read-modify-write: it would not be atomic with respect to "
			 "the other vCPUs");
		return;
	}
	const char *sys = system_insn(in);
	if (sys) {
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why),
			 "%s: its effect lies outside what nobios carries back from unicorn", sys);
		return;
	}
	emul_engine_run(e, m, v, in, r);
}

void emul_complete(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		   struct emul_result *r)
{
	struct emul_insn in;
	if (emul_fetch(m, v, &in, r) < 0)
		return;
	emul_execute(e, m, v, &in, r);
}
