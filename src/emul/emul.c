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

void emul_execute(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		  const struct emul_insn *in, struct emul_result *r)
{
	if (emul_handle_own(m, v, in, r))
		return;
	if (r->kind == EMUL_KIND_X87) {
		/* The x87 registers are not carried into unicorn: computing on its
		 * stale copy would be silently wrong, so say so instead. */
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why), "x87 arithmetic is not completed by nobios");
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
