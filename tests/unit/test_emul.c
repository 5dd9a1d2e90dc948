/* test_emul.c - src/emul/: instruction completion without KVM, on a plain
 * guest-memory buffer with page tables of the test's own (code and data on
 * virtual pages whose physical pages are elsewhere): the decoder, popcnt,
 * xsetbv/xgetbv validation, the XSAVE family, int3, #PF error codes, and
 * unicorn completing SSE moves and cmpxchg16b. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "emul/emul.h"
#include "mem/mem.h"

#define RAM (8u << 20)
#define PML4 0x10000ULL
#define PDPT 0x11000ULL
#define PD 0x12000ULL
#define PT 0x13000ULL
/* Virtual pages (all under 2 MiB-aligned 0x40000000) -> physical pages. */
#define VA_BASE 0x40000000ULL
#define VA_CODE (VA_BASE + 0x1000)  /* -> PA_CODE */
#define VA_DATA (VA_BASE + 0x5000)  /* -> PA_DATA, writable */
#define VA_RO (VA_BASE + 0x6000)    /* -> PA_RO, read-only */
#define VA_NP (VA_BASE + 0x7000)    /* not present */
#define VA_DATA2 (VA_BASE + 0x8000) /* -> PA_DATA2 (follows VA_NP: page-crossing tests) */
#define PA_CODE 0x300000ULL
#define PA_DATA 0x355000ULL
#define PA_RO 0x366000ULL
#define PA_DATA2 0x377000ULL

struct fx {
	struct guest_mem mem;
	uint8_t *ram;
	struct emul_engine *eng;
	struct emul_vcpu v;
	struct emul_result r;
};

static void map4k(struct fx *f, uint64_t va, uint64_t pa, uint64_t flags)
{
	unsigned i = (unsigned)((va >> 12) & 511);
	assert_int_equal(mem_write64(&f->mem, PT + 8 * i, pa | flags), 0);
}

static void long_mode(struct cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP;
	s->cr3 = PML4;
	s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_OSXSAVE;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	s->rflags = X86_RFLAGS_FIXED;
	s->cs = (struct cpu_segment){ .selector = 0x10, .type = 0xB, .present = 1, .s = 1, .l = 1,
				      .limit = 0xFFFFFFFF, .g = 1 };
	s->ds = (struct cpu_segment){ .selector = 0x18, .type = 0x3, .present = 1, .s = 1, .db = 1,
				      .limit = 0xFFFFFFFF, .g = 1 };
	s->es = s->fs = s->gs = s->ss = s->ds;
	s->rip = VA_CODE;
}

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->ram = aligned_alloc(4096, RAM);
	memset(f->ram, 0, RAM);
	assert_int_equal(mem_init_buf(&f->mem, f->ram, RAM), 0);
	/* VA_BASE: PML4[0] -> PDPT, PDPT[1] -> PD, PD[0] -> PT. */
	mem_write64(&f->mem, PML4, PDPT | PTE_P | PTE_RW | PTE_US);
	mem_write64(&f->mem, PDPT + 8 * 1, PD | PTE_P | PTE_RW | PTE_US);
	mem_write64(&f->mem, PD, PT | PTE_P | PTE_RW | PTE_US);
	map4k(f, VA_CODE, PA_CODE, PTE_P | PTE_US); /* user code: CPL 3 tests fetch it */
	map4k(f, VA_DATA, PA_DATA, PTE_P | PTE_RW);
	map4k(f, VA_RO, PA_RO, PTE_P | PTE_NX);
	map4k(f, VA_DATA2, PA_DATA2, PTE_P | PTE_RW);
	assert_int_equal(emul_engine_create(&f->eng), 0);
	long_mode(&f->v.cpu);
	f->v.has_xsave = true;
	f->v.fpu_valid = true;
	f->v.xcr0 = XCR0_X87 | XCR0_SSE;
	f->v.xcr0_supported = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	uint32_t mxcsr = MXCSR_DEFAULT;
	memcpy(f->v.xsave + FXSAVE_MXCSR, &mxcsr, 4);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	emul_engine_destroy(f->eng);
	free(f->ram);
	free(f);
	return 0;
}

/* Put code at RIP and complete one instruction. */
static void run(struct fx *f, const uint8_t *code, unsigned len)
{
	assert_int_equal(mem_copy_in(&f->mem, PA_CODE + (f->v.cpu.rip & 0xFFF), code, len), 0);
	emul_complete(f->eng, &f->mem, &f->v, &f->r);
}
#define RUN(f, ...)                                                      \
	do {                                                             \
		static const uint8_t c_[] = { __VA_ARGS__ };             \
		run(f, c_, sizeof(c_));                                  \
	} while (0)

static uint64_t pte_of(struct fx *f, uint64_t va)
{
	uint64_t e = 0;
	mem_read64(&f->mem, PT + 8 * ((va >> 12) & 511), &e);
	return e;
}

/* ---- decoder */
static void test_decode(void **st)
{
	struct emul_insn in;
	/* lock cmpxchg16b [rdi+0x10] */
	static const uint8_t cx[] = { 0xF0, 0x48, 0x0F, 0xC7, 0x4F, 0x10 };
	assert_int_equal(emul_decode(&in, cx, sizeof(cx), 64), 0);
	assert_true(in.lock);
	assert_int_equal(in.len, 6);
	assert_int_equal(in.base, CPU_RDI);
	assert_int_equal(in.disp, 0x10);
	assert_int_equal(emul_classify(&in), EMUL_KIND_CMPXCHG16B);
	/* popcnt r9, [rax+rcx*8-8] */
	static const uint8_t pc[] = { 0xF3, 0x4C, 0x0F, 0xB8, 0x4C, 0xC8, 0xF8 };
	assert_int_equal(emul_decode(&in, pc, sizeof(pc), 64), 0);
	assert_int_equal(in.reg, CPU_R9);
	assert_int_equal(in.index, CPU_RCX);
	assert_int_equal(in.scale, 8);
	assert_int_equal(in.disp, -8);
	assert_int_equal(in.len, 7);
	assert_int_equal(emul_classify(&in), EMUL_KIND_POPCNT);
	/* xrstor [rip+0x100]: RIP-relative from the end of the instruction */
	static const uint8_t xr[] = { 0x0F, 0xAE, 0x2D, 0x00, 0x01, 0x00, 0x00 };
	assert_int_equal(emul_decode(&in, xr, sizeof(xr), 64), 0);
	assert_true(in.rip_rel);
	assert_int_equal(emul_classify(&in), EMUL_KIND_XRSTOR);
	struct cpu_state s;
	long_mode(&s);
	assert_int_equal(emul_linear_addr(&in, &s), VA_CODE + 7 + 0x100);
	/* classification of the kinds the issue lists */
	static const struct { uint8_t b[6]; unsigned n; enum emul_kind k; } k[] = {
		{ { 0x66, 0x48, 0x0F, 0x6E, 0xC0 }, 5, EMUL_KIND_SSE_MOVE },   /* movq xmm0,rax */
		{ { 0x0F, 0x57, 0xC0 }, 3, EMUL_KIND_SSE_LOGIC },              /* xorps */
		{ { 0x0F, 0x01, 0xCA }, 3, EMUL_KIND_CLAC },
		{ { 0x0F, 0x01, 0xCB }, 3, EMUL_KIND_STAC },
		{ { 0x9B }, 1, EMUL_KIND_FWAIT },
		{ { 0xF3, 0x48, 0x0F, 0x1E, 0xC8 }, 5, EMUL_KIND_RDSSP },
		{ { 0x0F, 0x01, 0xD1 }, 3, EMUL_KIND_XSETBV },
		{ { 0xCC }, 1, EMUL_KIND_INT3 },
		{ { 0x0F, 0xAE, 0xE8 }, 3, EMUL_KIND_OTHER },                  /* lfence, not xrstor */
	};
	for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		assert_int_equal(emul_decode(&in, k[i].b, k[i].n, 64), 0);
		assert_int_equal(emul_classify(&in), k[i].k);
	}
	/* 32-bit: 0x48 is dec eax, not REX */
	static const uint8_t dec[] = { 0x48 };
	assert_int_equal(emul_decode(&in, dec, 1, 32), 0);
	assert_int_equal(in.op, 0x48);
}

/* ---- popcnt */
static void test_popcnt_reg(void **st)
{
	struct fx *f = *st;
	f->v.cpu.gpr[CPU_RBX] = 0xF0F0F0F0F0F0F0F0ULL;
	f->v.cpu.rflags = X86_RFLAGS_FIXED | X86_RFLAGS_CF | X86_RFLAGS_ZF;
	RUN(f, 0xF3, 0x48, 0x0F, 0xB8, 0xC3); /* popcnt rax, rbx */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->r.kind, EMUL_KIND_POPCNT);
	assert_int_equal(f->v.cpu.gpr[CPU_RAX], 32);
	assert_int_equal(f->v.cpu.rip, VA_CODE + 5);
	assert_int_equal(f->v.cpu.rflags & (X86_RFLAGS_CF | X86_RFLAGS_ZF), 0);
	/* 32-bit form zero-extends; a zero source sets ZF */
	f->v.cpu.gpr[CPU_RBX] = 0xFFFFFFFF00000000ULL;
	f->v.cpu.gpr[CPU_RAX] = ~0ULL;
	RUN(f, 0xF3, 0x0F, 0xB8, 0xC3); /* popcnt eax, ebx */
	assert_int_equal(f->v.cpu.gpr[CPU_RAX], 0);
	assert_true(f->v.cpu.rflags & X86_RFLAGS_ZF);
	/* 16-bit form keeps the upper bits */
	f->v.cpu.gpr[CPU_RBX] = 0x0007;
	f->v.cpu.gpr[CPU_RAX] = 0x1234567890ABCDEFULL;
	RUN(f, 0x66, 0xF3, 0x0F, 0xB8, 0xC3); /* popcnt ax, bx */
	assert_int_equal(f->v.cpu.gpr[CPU_RAX], 0x1234567890AB0003ULL);
	/* r9 <- popcnt r10 through REX.R and REX.B */
	f->v.cpu.gpr[CPU_R10] = 0xFF;
	RUN(f, 0xF3, 0x4D, 0x0F, 0xB8, 0xCA); /* popcnt r9, r10 */
	assert_int_equal(f->v.cpu.gpr[CPU_R9], 8);
}

static void test_popcnt_mem(void **st)
{
	struct fx *f = *st;
	uint64_t val = 0x8000000000000101ULL;
	mem_write64(&f->mem, PA_DATA + 0x18, val);
	f->v.cpu.gpr[CPU_RDI] = VA_DATA;
	RUN(f, 0xF3, 0x48, 0x0F, 0xB8, 0x47, 0x18); /* popcnt rax, [rdi+0x18] */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->v.cpu.gpr[CPU_RAX], 3);
	assert_int_equal(f->v.cpu.rip, VA_CODE + 6);
	/* the walk set Accessed, not Dirty (a read) */
	assert_true(pte_of(f, VA_DATA) & PTE_A);
	assert_false(pte_of(f, VA_DATA) & PTE_D);
	/* memory operand on a not-present page: #PF, CR2, error code 0 */
	f->v.cpu.rip = VA_CODE;
	f->v.cpu.gpr[CPU_RDI] = VA_NP + 0x20;
	RUN(f, 0xF3, 0x48, 0x0F, 0xB8, 0x07); /* popcnt rax, [rdi] */
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.cr2, VA_NP + 0x20);
	assert_true(f->r.exc.has_error);
	assert_int_equal(f->r.exc.error_code, 0);
	assert_int_equal(f->v.cpu.rip, VA_CODE); /* a fault: RIP stays */
}

/* ---- xsetbv / xgetbv */
static void test_xsetbv(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	static const struct { uint64_t val; uint32_t ecx; bool ok; } cases[] = {
		{ 0x7, 0, true },   /* x87 SSE AVX */
		{ 0x3, 0, true },
		{ 0x1, 0, true },
		{ 0x5, 0, false },  /* AVX without SSE */
		{ 0x2, 0, false },  /* x87 must be set */
		{ 0xF, 0, false },  /* bit 3 not supported here */
		{ 0x1ULL << 32 | 3, 0, false },
		{ 0x3, 1, false },  /* only XCR0 exists */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->v.xcr0 = 1;
		s->rip = VA_CODE;
		s->gpr[CPU_RAX] = cases[i].val & 0xFFFFFFFF;
		s->gpr[CPU_RDX] = cases[i].val >> 32;
		s->gpr[CPU_RCX] = cases[i].ecx;
		RUN(f, 0x0F, 0x01, 0xD1);
		assert_int_equal(f->r.kind, EMUL_KIND_XSETBV);
		if (cases[i].ok) {
			assert_int_equal(f->r.status, EMUL_DONE);
			assert_int_equal(f->v.xcr0, cases[i].val);
			assert_true(f->v.changed & EMUL_CHANGED_XCR0);
			assert_int_equal(s->rip, VA_CODE + 3);
		} else {
			assert_int_equal(f->r.status, EMUL_EXCEPTION);
			assert_int_equal(f->r.exc.vector, X86_VEC_GP);
			assert_int_equal(f->v.xcr0, 1);
		}
	}
	/* CPL 3: #GP; CR4.OSXSAVE clear: #UD */
	s->rip = VA_CODE;
	s->gpr[CPU_RAX] = 3;
	s->gpr[CPU_RCX] = 0;
	s->ss.dpl = 3;
	RUN(f, 0x0F, 0x01, 0xD1);
	assert_int_equal(f->r.exc.vector, X86_VEC_GP);
	/* and at CPL 3 a popcnt operand on a supervisor page: #PF with U set */
	s->gpr[CPU_RDI] = VA_DATA;
	RUN(f, 0xF3, 0x48, 0x0F, 0xB8, 0x07);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.error_code, PF_ERR_P | PF_ERR_U);
	s->ss.dpl = 0;
	s->cr4 &= ~X86_CR4_OSXSAVE;
	RUN(f, 0x0F, 0x01, 0xD1);
	assert_int_equal(f->r.exc.vector, X86_VEC_UD);
	s->cr4 |= X86_CR4_OSXSAVE;
	/* xgetbv reads it back */
	f->v.xcr0 = 7;
	s->gpr[CPU_RAX] = s->gpr[CPU_RDX] = ~0ULL;
	RUN(f, 0x0F, 0x01, 0xD0);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(s->gpr[CPU_RAX], 7);
	assert_int_equal(s->gpr[CPU_RDX], 0);
}

/* ---- XSAVE / XRSTOR round trip through guest memory */
static void test_xsave_xrstor(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	f->v.xcr0 = XCR0_X87 | XCR0_SSE;
	for (int i = 0; i < 16 * 16; i++)
		f->v.xsave[FXSAVE_XMM0 + i] = (uint8_t)(i * 7 + 1);
	uint64_t bv = XCR0_X87 | XCR0_SSE;
	memcpy(f->v.xsave + XSAVE_HDR_OFF, &bv, 8);
	uint8_t saved[16 * 16];
	memcpy(saved, f->v.xsave + FXSAVE_XMM0, sizeof(saved));
	s->gpr[CPU_RAX] = ~0u;
	s->gpr[CPU_RDX] = ~0u;
	s->gpr[CPU_RDI] = VA_DATA + 0x40;
	RUN(f, 0x0F, 0xAE, 0x27); /* xsave [rdi] */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->r.kind, EMUL_KIND_XSAVE);
	assert_memory_equal(f->ram + PA_DATA + 0x40 + FXSAVE_XMM0, saved, sizeof(saved));
	uint64_t mbv;
	mem_read64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF, &mbv);
	assert_int_equal(mbv, 3);
	assert_true(pte_of(f, VA_DATA) & PTE_D); /* a write set Dirty */
	/* clobber, then restore */
	memset(f->v.xsave + FXSAVE_XMM0, 0xEE, 256);
	s->rip = VA_CODE;
	RUN(f, 0x0F, 0xAE, 0x2F); /* xrstor [rdi] */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_true(f->v.changed & EMUL_CHANGED_FPU);
	assert_memory_equal(f->v.xsave + FXSAVE_XMM0, saved, sizeof(saved));
	/* XSTATE_BV without SSE: the XMM registers get their init state (0) */
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF, XCR0_X87);
	s->rip = VA_CODE;
	RUN(f, 0x0F, 0xAE, 0x2F);
	assert_int_equal(f->r.status, EMUL_DONE);
	for (int i = 0; i < 256; i++)
		assert_int_equal(f->v.xsave[FXSAVE_XMM0 + i], 0);
	/* RFBM excludes SSE (EAX=1): XMM registers untouched */
	memset(f->v.xsave + FXSAVE_XMM0, 0x55, 256);
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF, 3);
	s->gpr[CPU_RAX] = 1;
	s->rip = VA_CODE;
	RUN(f, 0x0F, 0xAE, 0x2F);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->v.xsave[FXSAVE_XMM0], 0x55);
	/* compacted form (XCOMP_BV bit 63), SSE not in XSTATE_BV: XMM and
	 * MXCSR get their init values */
	uint32_t mx = 0x1F00;
	memcpy(f->v.xsave + FXSAVE_MXCSR, &mx, 4);
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF, XCR0_X87);
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF + 8, XSTATE_COMPACTED | 3);
	s->gpr[CPU_RAX] = 3;
	s->rip = VA_CODE;
	RUN(f, 0x48, 0x0F, 0xAE, 0x2F); /* xrstor64 [rdi] */
	assert_int_equal(f->r.status, EMUL_DONE);
	memcpy(&mx, f->v.xsave + FXSAVE_MXCSR, 4);
	assert_int_equal(mx, MXCSR_DEFAULT);
	assert_int_equal(f->v.xsave[FXSAVE_XMM0], 0);
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF + 8, 0);
	/* XSTATE_BV naming a component outside XCR0: #GP; misaligned: #GP */
	s->gpr[CPU_RAX] = ~0u;
	mem_write64(&f->mem, PA_DATA + 0x40 + XSAVE_HDR_OFF, 7);
	s->rip = VA_CODE;
	RUN(f, 0x0F, 0xAE, 0x2F);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_GP);
	s->gpr[CPU_RDI] = VA_DATA + 0x48;
	RUN(f, 0x0F, 0xAE, 0x2F);
	assert_int_equal(f->r.exc.vector, X86_VEC_GP);
}

/* ---- int3 */
static void test_int3(void **st)
{
	struct fx *f = *st;
	RUN(f, 0xCC);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_BP);
	assert_false(f->r.exc.has_error);
	assert_int_equal(f->v.cpu.rip, VA_CODE + 1); /* a trap: past int3 */
	assert_true(f->v.changed & EMUL_CHANGED_REGS);
}

/* ---- unicorn: SSE moves and logic */
static void test_engine_sse(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	s->gpr[CPU_RAX] = 0x1122334455667788ULL;
	RUN(f, 0x66, 0x48, 0x0F, 0x6E, 0xC0); /* movq xmm0, rax */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->r.kind, EMUL_KIND_SSE_MOVE);
	assert_int_equal(s->rip, VA_CODE + 5);
	uint64_t x;
	memcpy(&x, f->v.xsave + FXSAVE_XMM0, 8);
	assert_int_equal(x, 0x1122334455667788ULL);
	assert_true(f->v.changed & EMUL_CHANGED_FPU);
	/* xmm9 (REX) <- xmm0, then rbx <- xmm9 */
	RUN(f, 0x44, 0x0F, 0x28, 0xC8); /* movaps xmm9, xmm0 */
	assert_int_equal(f->r.status, EMUL_DONE);
	memcpy(&x, f->v.xsave + FXSAVE_XMM0 + 16 * 9, 8);
	assert_int_equal(x, 0x1122334455667788ULL);
	RUN(f, 0x66, 0x4C, 0x0F, 0x7E, 0xCB); /* movq rbx, xmm9 */
	assert_int_equal(s->gpr[CPU_RBX], 0x1122334455667788ULL);
	/* xorps xmm0, xmm0 */
	RUN(f, 0x0F, 0x57, 0xC0);
	assert_int_equal(f->r.kind, EMUL_KIND_SSE_LOGIC);
	memcpy(&x, f->v.xsave + FXSAVE_XMM0, 8);
	assert_int_equal(x, 0);
	/* movdqu xmm1, [rsi] from a virtual page whose physical page differs */
	for (int i = 0; i < 16; i++)
		f->ram[PA_DATA + 0x100 + i] = (uint8_t)(0xA0 + i);
	s->gpr[CPU_RSI] = VA_DATA + 0x100;
	RUN(f, 0xF3, 0x0F, 0x6F, 0x0E);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_memory_equal(f->v.xsave + FXSAVE_XMM0 + 16, f->ram + PA_DATA + 0x100, 16);
	/* movq [rdi], xmm1 to a read-only page: #PF with P and W, RIP stays */
	s->gpr[CPU_RDI] = VA_RO + 8;
	uint64_t rip = s->rip;
	RUN(f, 0x66, 0x0F, 0xD6, 0x0F);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.error_code, PF_ERR_P | PF_ERR_W);
	assert_int_equal(f->r.exc.cr2, VA_RO + 8);
	assert_int_equal(s->rip, rip);
	/* a 16-byte load straddling into a not-present page: CR2 is that page */
	s->gpr[CPU_RSI] = VA_NP - 8;
	map4k(f, VA_NP - 0x1000, PA_DATA2 - 0x1000, PTE_P | PTE_RW);
	RUN(f, 0xF3, 0x0F, 0x6F, 0x0E);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.cr2, VA_NP);
	assert_int_equal(f->r.exc.error_code, 0);
	/* clac / stac change RFLAGS.AC */
	s->rflags |= 1ULL << 18;
	RUN(f, 0x0F, 0x01, 0xCA);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_false(s->rflags & (1ULL << 18));
	RUN(f, 0x0F, 0x01, 0xCB);
	assert_true(s->rflags & (1ULL << 18));
	/* VEX (AVX) is refused: unicorn would run it as legacy SSE */
	rip = s->rip;
	RUN(f, 0xC5, 0xF1, 0xEF, 0xC2); /* vpxor xmm0, xmm1, xmm2 */
	assert_int_equal(f->r.status, EMUL_UNSUPPORTED);
	assert_int_equal(f->r.kind, EMUL_KIND_AVX);
	assert_int_equal(s->rip, rip);
	/* a system instruction KVM would normally emulate: refused, not run
	 * in unicorn with its effect dropped */
	RUN(f, 0x0F, 0x22, 0xD8); /* mov cr3, rax */
	assert_int_equal(f->r.status, EMUL_UNSUPPORTED);
	assert_int_equal(s->rip, rip);
	/* ud2 is truly invalid: #UD */
	RUN(f, 0x0F, 0x0B);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_UD);
	assert_int_equal(s->rip, rip);
}

/* ---- unicorn: x87 registers travel between the FXSAVE image and unicorn */
static void test_engine_x87(void **st)
{
	struct fx *f = *st;
	uint8_t *a = f->v.xsave;
	uint16_t fcw = FCW_DEFAULT, fsw = 0;
	memcpy(a + FXSAVE_FCW, &fcw, 2);
	memcpy(a + FXSAVE_FSW, &fsw, 2);
	a[FXSAVE_FTW] = 0; /* all empty */
	RUN(f, 0xD9, 0xEB); /* fldpi */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->r.kind, EMUL_KIND_X87);
	assert_true(f->v.changed & EMUL_CHANGED_FPU);
	RUN(f, 0xD9, 0xE8); /* fld1 */
	RUN(f, 0xDE, 0xC1); /* faddp st(1), st */
	assert_int_equal(f->r.status, EMUL_DONE);
	/* the host's x87 computes the same */
	uint8_t want[10];
	__asm__ volatile("fldpi\n\tfld1\n\tfaddp\n\tfstpt %0" : "=m"(want));
	memcpy(&fsw, a + FXSAVE_FSW, 2);
	assert_int_equal((fsw >> 11) & 7, 7);      /* TOP: one value on the stack */
	assert_int_equal(a[FXSAVE_FTW], 0x80);     /* physical R7 valid */
	assert_memory_equal(a + FXSAVE_ST0, want, 10);
}

/* ---- unicorn: cmpxchg16b on a page mapped at another virtual address */
static void test_engine_cmpxchg16b(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	mem_write64(&f->mem, PA_DATA + 0x200, 0x1111);
	mem_write64(&f->mem, PA_DATA + 0x208, 0x2222);
	s->gpr[CPU_RDI] = VA_DATA + 0x200;
	s->gpr[CPU_RAX] = 0x1111;
	s->gpr[CPU_RDX] = 0x2222;
	s->gpr[CPU_RBX] = 0xAAAA;
	s->gpr[CPU_RCX] = 0xBBBB;
	RUN(f, 0xF0, 0x48, 0x0F, 0xC7, 0x0F); /* lock cmpxchg16b [rdi] */
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(f->r.kind, EMUL_KIND_CMPXCHG16B);
	uint64_t lo, hi;
	mem_read64(&f->mem, PA_DATA + 0x200, &lo);
	mem_read64(&f->mem, PA_DATA + 0x208, &hi);
	assert_int_equal(lo, 0xAAAA);
	assert_int_equal(hi, 0xBBBB);
	assert_true(s->rflags & X86_RFLAGS_ZF);
	assert_true(pte_of(f, VA_DATA) & PTE_D);
	/* failure: memory unchanged, RDX:RAX loaded, ZF clear */
	s->gpr[CPU_RAX] = 0x1111;
	s->gpr[CPU_RDX] = 0x2222;
	RUN(f, 0xF0, 0x48, 0x0F, 0xC7, 0x0F);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_false(s->rflags & X86_RFLAGS_ZF);
	assert_int_equal(s->gpr[CPU_RAX], 0xAAAA);
	assert_int_equal(s->gpr[CPU_RDX], 0xBBBB);
	mem_read64(&f->mem, PA_DATA + 0x200, &lo);
	assert_int_equal(lo, 0xAAAA);
	/* the physical page is not visible at its own address as virtual */
	assert_int_equal(f->ram[PA_DATA + 0x200], 0xAA);
	/* a misaligned operand: #GP(0) */
	s->gpr[CPU_RDI] = VA_DATA + 0x208;
	RUN(f, 0xF0, 0x48, 0x0F, 0xC7, 0x0F);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_GP);
	/* unicorn's cmpxchg16b (the fallback route) agrees, and its write hook
	 * sets the leaf's Dirty bit */
	mem_write64(&f->mem, PT + 8 * ((VA_DATA >> 12) & 511), PA_DATA | PTE_P | PTE_RW);
	s->gpr[CPU_RDI] = VA_DATA + 0x200;
	s->gpr[CPU_RAX] = 0xAAAA;
	s->gpr[CPU_RDX] = 0xBBBB;
	s->gpr[CPU_RBX] = 0x5555;
	s->gpr[CPU_RCX] = 0x6666;
	s->rip = VA_CODE;
	static const uint8_t cx[] = { 0xF0, 0x48, 0x0F, 0xC7, 0x0F };
	mem_copy_in(&f->mem, PA_CODE, cx, sizeof(cx));
	struct emul_insn in;
	assert_int_equal(emul_decode(&in, cx, sizeof(cx), 64), 0);
	memset(&f->r, 0, sizeof(f->r));
	emul_engine_run(f->eng, &f->mem, &f->v, &in, &f->r);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(s->rip, VA_CODE + 5);
	assert_true(s->rflags & X86_RFLAGS_ZF);
	mem_read64(&f->mem, PA_DATA + 0x200, &lo);
	mem_read64(&f->mem, PA_DATA + 0x208, &hi);
	assert_int_equal(lo, 0x5555);
	assert_int_equal(hi, 0x6666);
	assert_true(pte_of(f, VA_DATA) & PTE_D);
}

/* ---- several vCPUs: cmpxchg16b completed by nobios is atomic with respect
 * to a vCPU writing the same memory at the same time (here: a host thread
 * doing its own lock cmpxchg16b increments, as a vCPU running in KVM would).
 * A read-then-write completion loses some of those updates. */
#define RACE_N 20000

static bool host_cas16(uint64_t *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
	bool ok;
	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile uint64_t(*)[2])p), "+a"(*lo), "+d"(*hi)
			 : "b"(nlo), "c"(nhi)
			 : "memory", "cc");
	return ok;
}

struct race {
	struct fx *f;
	uint64_t *host; /* the operand's host address */
	volatile int go;
};

static void *race_host(void *arg)
{
	struct race *rc = arg;
	while (!rc->go)
		;
	for (int i = 0; i < RACE_N; i++) {
		uint64_t lo = rc->host[0], hi = rc->host[1];
		while (!host_cas16(rc->host, &lo, &hi, lo + 1, hi))
			;
	}
	return NULL;
}

static void test_cmpxchg16b_atomic(void **st)
{
	struct fx *f = *st;
	static const uint8_t cx[] = { 0xF0, 0x48, 0x0F, 0xC7, 0x0F }; /* lock cmpxchg16b [rdi] */
	mem_copy_in(&f->mem, PA_CODE, cx, sizeof(cx));
	mem_write64(&f->mem, PA_DATA + 0x100, 0);
	mem_write64(&f->mem, PA_DATA + 0x108, 0);
	f->v.smp = true;
	struct race rc = { .f = f, .host = mem_ptr(&f->mem, PA_DATA + 0x100, 16) };
	assert_non_null(rc.host);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, race_host, &rc), 0);
	rc.go = 1;
	struct cpu_state *s = &f->v.cpu;
	uint64_t guess = 0;
	for (int done = 0; done < RACE_N;) {
		s->rip = VA_CODE;
		s->gpr[CPU_RDI] = VA_DATA + 0x100;
		s->gpr[CPU_RAX] = guess;
		s->gpr[CPU_RDX] = 0;
		s->gpr[CPU_RBX] = guess + 1;
		s->gpr[CPU_RCX] = 0;
		emul_complete(NULL, &f->mem, &f->v, &f->r);
		assert_int_equal(f->r.status, EMUL_DONE);
		if (s->rflags & X86_RFLAGS_ZF) {
			done++;
			guess++;
		} else {
			guess = s->gpr[CPU_RAX]; /* the value it saw */
		}
	}
	pthread_join(t, NULL);
	uint64_t lo, hi;
	mem_read64(&f->mem, PA_DATA + 0x100, &lo);
	mem_read64(&f->mem, PA_DATA + 0x108, &hi);
	assert_int_equal(lo, 2 * RACE_N); /* no increment lost on either side */
	assert_int_equal(hi, 0);
}

/* cmpxchg8b in 32-bit form (EDX:EAX, ECX:EBX), aligned (the host's locked
 * instruction) and straddling a cache line (the process-wide lock): the same
 * results. */
static void test_cmpxchg8b(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	f->v.smp = true;
	const uint64_t at[] = { VA_DATA + 0x140, VA_DATA + 0x17C };
	for (int i = 0; i < 2; i++) {
		uint64_t pa = PA_DATA + (at[i] - VA_DATA);
		mem_write64(&f->mem, pa, 0x2222222211111111ULL);
		s->rip = VA_CODE;
		s->gpr[CPU_RDI] = at[i];
		s->gpr[CPU_RAX] = 0xFFFFFFFF11111111ULL; /* upper halves ignored */
		s->gpr[CPU_RDX] = 0x22222222;
		s->gpr[CPU_RBX] = 0x33333333;
		s->gpr[CPU_RCX] = 0x44444444;
		RUN(f, 0xF0, 0x0F, 0xC7, 0x0F); /* lock cmpxchg8b [rdi] */
		assert_int_equal(f->r.status, EMUL_DONE);
		assert_true(s->rflags & X86_RFLAGS_ZF);
		uint64_t m;
		mem_read64(&f->mem, pa, &m);
		assert_int_equal(m, 0x4444444433333333ULL);
		/* mismatch: EDX:EAX loaded (zero-extended), memory rewritten as is */
		s->rip = VA_CODE;
		s->gpr[CPU_RAX] = 0;
		s->gpr[CPU_RDX] = 0;
		RUN(f, 0xF0, 0x0F, 0xC7, 0x0F);
		assert_int_equal(f->r.status, EMUL_DONE);
		assert_false(s->rflags & X86_RFLAGS_ZF);
		assert_int_equal(s->gpr[CPU_RAX], 0x33333333);
		assert_int_equal(s->gpr[CPU_RDX], 0x44444444);
		mem_read64(&f->mem, pa, &m);
		assert_int_equal(m, 0x4444444433333333ULL);
	}
	/* a read-only page: #PF with W|P, as the write a locked RMW is */
	s->rip = VA_CODE;
	s->gpr[CPU_RDI] = VA_RO;
	RUN(f, 0xF0, 0x0F, 0xC7, 0x0F);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.error_code, PF_ERR_W | PF_ERR_P);
}

/* Locked read-modify-writes unicorn would run non-atomically are refused
 * when other vCPUs run; one vCPU keeps them. */
static void test_locked_rmw(void **st)
{
	struct fx *f = *st;
	struct emul_insn in;
	static const struct { uint8_t b[6]; unsigned n; bool locked; } cases[] = {
		{ { 0xF0, 0x01, 0x07 }, 3, true },              /* lock add [rdi], eax */
		{ { 0x87, 0x07 }, 2, true },                    /* xchg [rdi], eax: implicitly */
		{ { 0xF0, 0x0F, 0xC1, 0x07 }, 4, true },        /* lock xadd [rdi], eax */
		{ { 0xF0, 0x0F, 0xBA, 0x2F, 0x03 }, 5, true },  /* lock bts dword [rdi], 3 */
		{ { 0xF0, 0x83, 0x3F, 0x01 }, 4, false },       /* lock cmp: not lockable (#UD) */
		{ { 0x01, 0x07 }, 2, false },                   /* add without lock */
		{ { 0x03, 0x07 }, 2, false },                   /* add eax, [rdi]: register destination */
		{ { 0xF0, 0x01, 0xC0 }, 3, false },             /* lock add eax, eax: no memory */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(emul_decode(&in, cases[i].b, cases[i].n, 64), 0);
		assert_int_equal(emul_insn_locked_rmw(&in), cases[i].locked);
	}
	struct cpu_state *s = &f->v.cpu;
	mem_write32(&f->mem, PA_DATA + 0x80, 5);
	s->gpr[CPU_RDI] = VA_DATA + 0x80;
	s->gpr[CPU_RAX] = 2;
	f->v.smp = true;
	RUN(f, 0xF0, 0x01, 0x07);
	assert_int_equal(f->r.status, EMUL_UNSUPPORTED);
	assert_non_null(strstr(f->r.why, "atomic"));
	uint32_t m;
	mem_read32(&f->mem, PA_DATA + 0x80, &m);
	assert_int_equal(m, 5); /* untouched */
	f->v.smp = false;
	s->rip = VA_CODE;
	RUN(f, 0xF0, 0x01, 0x07);
	assert_int_equal(f->r.status, EMUL_DONE);
	mem_read32(&f->mem, PA_DATA + 0x80, &m);
	assert_int_equal(m, 7);
}

/* ---- code that changed at the same address is retranslated */
static void test_engine_code_change(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	s->gpr[CPU_RAX] = 5;
	s->gpr[CPU_RCX] = 3;
	RUN(f, 0x48, 0x01, 0xC8); /* add rax, rcx */
	assert_int_equal(s->gpr[CPU_RAX], 8);
	s->rip = VA_CODE;
	RUN(f, 0x48, 0x29, 0xC8); /* sub rax, rcx, same address */
	assert_int_equal(s->gpr[CPU_RAX], 5);
	/* engine created per completion gives the same answer */
	emul_engine_set_fresh(f->eng, true);
	s->rip = VA_CODE;
	RUN(f, 0x48, 0x01, 0xC8);
	assert_int_equal(s->gpr[CPU_RAX], 8);
	emul_engine_set_fresh(f->eng, false);
	/* a jump to itself never finishes: refused, not a hang */
	s->rip = VA_CODE;
	RUN(f, 0xEB, 0xFE);
	assert_int_equal(f->r.status, EMUL_UNSUPPORTED);
	assert_int_equal(f->v.changed, 0);
	/* rep stosb runs to its end */
	s->rip = VA_CODE;
	s->gpr[CPU_RCX] = 100;
	s->gpr[CPU_RDI] = VA_DATA + 0x400;
	s->gpr[CPU_RAX] = 0x7A;
	RUN(f, 0xF3, 0xAA);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(s->gpr[CPU_RCX], 0);
	assert_int_equal(s->rip, VA_CODE + 2);
	assert_int_equal(f->ram[PA_DATA + 0x400 + 99], 0x7A);
}

/* ---- pages stay mapped between completions: a changed translation or
 * permission must still be honoured */
static void test_engine_remap(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	mem_write64(&f->mem, PA_DATA + 0x300, 0x1111111111111111ULL);
	mem_write64(&f->mem, PA_DATA2 + 0x300, 0x2222222222222222ULL);
	s->gpr[CPU_RSI] = VA_DATA + 0x300;
	RUN(f, 0xF3, 0x0F, 0x7E, 0x06); /* movq xmm0, [rsi] */
	assert_int_equal(f->r.status, EMUL_DONE);
	uint64_t x;
	memcpy(&x, f->v.xsave + FXSAVE_XMM0, 8);
	assert_int_equal(x, 0x1111111111111111ULL);
	/* the guest points VA_DATA at another physical page */
	map4k(f, VA_DATA, PA_DATA2, PTE_P | PTE_RW);
	s->rip = VA_CODE;
	RUN(f, 0xF3, 0x0F, 0x7E, 0x06);
	memcpy(&x, f->v.xsave + FXSAVE_XMM0, 8);
	assert_int_equal(x, 0x2222222222222222ULL);
	/* ... then makes it read-only: a store now faults with P|W */
	map4k(f, VA_DATA, PA_DATA2, PTE_P);
	s->rip = VA_CODE;
	s->gpr[CPU_RDI] = VA_DATA + 0x308;
	RUN(f, 0x66, 0x0F, 0xD6, 0x07); /* movq [rdi], xmm0 */
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.vector, X86_VEC_PF);
	assert_int_equal(f->r.exc.error_code, PF_ERR_P | PF_ERR_W);
	/* ... and removes it: not present */
	map4k(f, VA_DATA, 0, 0);
	RUN(f, 0xF3, 0x0F, 0x7E, 0x06);
	assert_int_equal(f->r.status, EMUL_EXCEPTION);
	assert_int_equal(f->r.exc.error_code, 0);
	assert_int_equal(f->r.exc.cr2, VA_DATA + 0x300);
}

/* ---- 32-bit protected mode, paging off, a data segment with a base */
static void test_engine_prot32(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = &f->v.cpu;
	memset(s, 0, sizeof(*s));
	s->cr0 = X86_CR0_PE | X86_CR0_ET;
	s->cr4 = X86_CR4_OSFXSR;
	s->rflags = X86_RFLAGS_FIXED;
	s->cs = (struct cpu_segment){ .selector = 0x08, .type = 0xB, .present = 1, .s = 1, .db = 1,
				      .limit = 0xFFFFFFFF, .g = 1 };
	s->ds = (struct cpu_segment){ .selector = 0x18, .type = 0x3, .present = 1, .s = 1, .db = 1,
				      .limit = 0xFFFFFFFF, .g = 1 };
	s->ss = s->es = s->fs = s->gs = s->ds;
	s->ds.base = 0x10000; /* the load must honour the hidden base */
	s->rip = PA_CODE + 0x10;
	f->v.xcr0 = 1;
	s->gpr[CPU_RAX] = 0xCAFEBABE;
	RUN(f, 0x66, 0x0F, 0x6E, 0xC0); /* movd xmm0, eax */
	assert_int_equal(f->r.status, EMUL_DONE);
	uint32_t x;
	memcpy(&x, f->v.xsave + FXSAVE_XMM0, 4);
	assert_int_equal(x, 0xCAFEBABE);
	assert_int_equal(s->rip, PA_CODE + 0x14);
	mem_write32(&f->mem, 0x10000 + 0x2000, 0x600DF00D);
	s->gpr[CPU_RBX] = 0x2000;
	RUN(f, 0x66, 0x0F, 0x6E, 0x0B); /* movd xmm1, [ebx] (DS) */
	assert_int_equal(f->r.status, EMUL_DONE);
	memcpy(&x, f->v.xsave + FXSAVE_XMM0 + 16, 4);
	assert_int_equal(x, 0x600DF00D);
	/* stac in 32-bit mode sets EFLAGS.AC */
	s->rflags = X86_RFLAGS_FIXED | X86_RFLAGS_IF;
	RUN(f, 0x0F, 0x01, 0xCB);
	assert_int_equal(f->r.status, EMUL_DONE);
	assert_int_equal(s->rflags, X86_RFLAGS_FIXED | X86_RFLAGS_IF | (1ULL << 18));
	/* popcnt in 32-bit mode: 0x48 would be REX in 64-bit mode */
	s->gpr[CPU_RBX] = 0xFFFF;
	RUN(f, 0xF3, 0x0F, 0xB8, 0xC3);
	assert_int_equal(s->gpr[CPU_RAX], 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test_setup_teardown(test_popcnt_reg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_popcnt_mem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xsetbv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xsave_xrstor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_sse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_x87, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_cmpxchg16b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmpxchg16b_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmpxchg8b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_rmw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_code_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_remap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_prot32, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
