/* handlers.c - the instructions unicorn 2.0.1 rejects whatever CPU model is
 * selected (popcnt, xsetbv, xgetbv and the XSAVE family), int3, the two
 * commonest completions of a Linux boot (clac/stac, cmpxchg16b), and the
 * guest-memory access through the guest's page tables they all share.
 *
 * References: Intel SDM vol. 1 ch. 13 "Managing state using the XSAVE feature
 * set" (13.4 area layout, 13.7-13.12 instruction operation), vol. 2B POPCNT,
 * vol. 2C XSETBV/XGETBV, vol. 3A 4.7 (#PF error code), 4.8 (A/D bits). */
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "emul/emul.h"
#include "mem/mem.h"

unsigned emul_cpl(const struct cpu_state *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return 0;
	if (s->rflags & X86_RFLAGS_VM)
		return 3;
	/* CS.DPL is the CPL outside conforming-code subtleties; KVM keeps SS.DPL
	 * equal to it (SDM 5.5), and SS.DPL is what KVM reports as CPL. */
	return s->ss.dpl;
}

static void set_exc(struct emul_result *r, uint8_t vec, bool has_err, uint32_t err)
{
	r->status = EMUL_EXCEPTION;
	r->exc = (struct emul_exception){ .vector = vec, .has_error = has_err, .error_code = err };
}

static void set_pf(struct emul_result *r, uint64_t la, uint32_t err)
{
	set_exc(r, X86_VEC_PF, true, err);
	r->exc.cr2 = la;
}

/* Set a bit in the low dword of a paging-structure entry: A and D live there
 * in every paging mode, so one 32-bit access serves 32-bit, PAE and 4-level
 * entries alike.  Atomically, as the MMU does (SDM 4.8): another vCPU's
 * page walk may set the other bit of the same entry at the same time, and a
 * plain read-modify-write would lose it. */
static void entry_set_bit(struct guest_mem *m, uint64_t addr, uint32_t bit)
{
	uint32_t *p = (addr & 3) ? NULL : mem_ptr(m, addr, 4);
	if (p && !(__atomic_load_n(p, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(p, bit, __ATOMIC_SEQ_CST);
}

int emul_translate(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, unsigned access,
		   uint64_t *pa, uint64_t *leaf_entry, struct emul_result *r)
{
	const struct cpu_state *s = &v->cpu;
	struct cpu_walk w;
	unsigned cpl = emul_cpl(s);
	bool fetch = access & CPU_ACCESS_EXEC;
	bool write = access & CPU_ACCESS_WRITE;
	uint32_t err = (write ? PF_ERR_W : 0) | (cpl == 3 ? PF_ERR_U : 0);
	if (fetch && ((s->efer & X86_EFER_NXE) || (s->cr4 & X86_CR4_SMEP)))
		err |= PF_ERR_I;
	if (leaf_entry)
		*leaf_entry = 0;
	memset(&w, 0, sizeof(w));
	if (cpu_translate(m, s, la, pa, &w) < 0) {
		switch (w.fault) {
		case CPU_WALK_NONCANONICAL:
			set_exc(r, X86_VEC_GP, true, 0);
			return -1;
		case CPU_WALK_NOT_PRESENT:
			set_pf(r, la, err);
			return -1;
		case CPU_WALK_RESERVED:
			set_pf(r, la, err | PF_ERR_P | PF_ERR_RSVD);
			return -1;
		default:
			r->status = EMUL_UNSUPPORTED;
			snprintf(r->why, sizeof(r->why),
				 "page tables for linear 0x%llx are outside RAM",
				 (unsigned long long)la);
			return -1;
		}
	}
	if (w.flags & CPU_WALK_NOPAGING)
		return 0;
	unsigned want = access | (cpl == 3 ? CPU_ACCESS_USER : 0);
	bool ok = cpu_walk_allows(s, &w, want) != 0;
	/* SMEP/SMAP (SDM 4.6.1): supervisor fetches from user pages fault with
	 * SMEP; supervisor data accesses to user pages fault with SMAP unless
	 * RFLAGS.AC is set. */
	if (ok && cpl < 3 && (w.flags & CPU_WALK_USER)) {
		if (fetch && (s->cr4 & X86_CR4_SMEP))
			ok = false;
		if (!fetch && (s->cr4 & X86_CR4_SMAP) && !(s->rflags & (1ULL << 18)))
			ok = false;
	}
	if (!ok) {
		set_pf(r, la, err | PF_ERR_P);
		return -1;
	}
	/* The MMU sets Accessed in every entry it used and Dirty in the leaf on a
	 * write (SDM 4.8); the walker itself is read-only. PAE PDPTEs have no A
	 * bit. */
	bool pae = w.mode && strcmp(w.mode, "PAE") == 0;
	for (unsigned i = pae ? 1 : 0; i < w.levels && i < CPU_WALK_MAX_LEVELS; i++)
		entry_set_bit(m, w.entry[i].addr, PTE_A);
	if (w.levels > 0) {
		if (write)
			entry_set_bit(m, w.entry[w.levels - 1].addr, PTE_D);
		if (leaf_entry)
			*leaf_entry = w.entry[w.levels - 1].addr;
	}
	return 0;
}

static int xfer_linear(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, uint8_t *buf,
		       const uint8_t *src, unsigned len, unsigned access, struct emul_result *r)
{
	/* Translate every page first, so a fault leaves memory untouched. */
	uint64_t pas[4];
	if (len > 3 * 4096) {
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why), "operand of %u bytes is too large", len);
		return -1;
	}
	unsigned npages = 0;
	uint64_t end = la + len;
	for (uint64_t p = la; p < end && npages < 4;) {
		uint64_t next = (p & ~0xFFFULL) + 0x1000;
		if (emul_translate(m, v, p, access, &pas[npages], NULL, r) < 0)
			return -1;
		uint64_t n = (next < end ? next : end) - p;
		if (!mem_range_ok(m, pas[npages], n)) {
			r->status = EMUL_UNSUPPORTED;
			snprintf(r->why, sizeof(r->why),
				 "operand at linear 0x%llx is not RAM (guest-physical 0x%llx)",
				 (unsigned long long)p, (unsigned long long)pas[npages]);
			return -1;
		}
		npages++;
		p = next;
	}
	uint64_t p = la;
	unsigned off = 0;
	for (unsigned i = 0; i < npages; i++) {
		uint64_t next = (p & ~0xFFFULL) + 0x1000;
		uint64_t n = (next < end ? next : end) - p;
		if (src)
			mem_copy_in(m, pas[i], src + off, n);
		else
			mem_copy_out(m, buf + off, pas[i], n);
		off += (unsigned)n;
		p = next;
	}
	return 0;
}

int emul_read_linear(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, void *buf,
		     unsigned len, unsigned access, struct emul_result *r)
{
	return xfer_linear(m, v, la, buf, NULL, len, access & ~CPU_ACCESS_WRITE, r);
}

int emul_write_linear(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, const void *buf,
		      unsigned len, struct emul_result *r)
{
	return xfer_linear(m, v, la, NULL, buf, len, CPU_ACCESS_WRITE, r);
}

static void done(struct emul_vcpu *v, const struct emul_insn *in, struct emul_result *r)
{
	v->cpu.rip += in->len;
	if (in->mode_bits != 64)
		v->cpu.rip &= 0xFFFFFFFFULL;
	v->changed |= EMUL_CHANGED_REGS;
	r->status = EMUL_DONE;
}

/* ---- popcnt (F3 [REX.W] 0F B8 /r) */
static void do_popcnt(struct guest_mem *m, struct emul_vcpu *v, const struct emul_insn *in,
		      struct emul_result *r)
{
	uint64_t src = 0;
	unsigned size = in->opsize;
	if (in->mod == 3) {
		src = v->cpu.gpr[in->rm];
	} else {
		uint8_t b[8] = { 0 };
		if (emul_read_linear(m, v, emul_linear_addr(in, &v->cpu), b, size, 0, r) < 0)
			return;
		memcpy(&src, b, sizeof(b));
	}
	if (size == 2)
		src &= 0xFFFF;
	else if (size == 4)
		src &= 0xFFFFFFFFULL;
	uint64_t cnt = (uint64_t)__builtin_popcountll(src);
	uint64_t *dst = &v->cpu.gpr[in->reg];
	if (size == 2)
		*dst = (*dst & ~0xFFFFULL) | cnt;
	else
		*dst = cnt; /* 32-bit results zero-extend; 64-bit fill the register */
	/* OF SF ZF AF CF PF cleared, ZF set for a zero source (SDM POPCNT). */
	v->cpu.rflags &= ~0x8D5ULL;
	if (src == 0)
		v->cpu.rflags |= X86_RFLAGS_ZF;
	done(v, in, r);
}

/* ---- clac / stac (0F 01 CA / CB): the commonest completions in a Linux boot
 * (every exception entry and user access), so they skip unicorn: the
 * registers travel through kvm_run and the completion costs a few us. */
static void do_clac_stac(struct emul_vcpu *v, const struct emul_insn *in, bool set,
			 struct emul_result *r)
{
	if (in->lock || emul_cpl(&v->cpu) != 0) /* SDM: #UD if CPL > 0 */
		return set_exc(r, X86_VEC_UD, false, 0);
	if (set)
		v->cpu.rflags |= 1ULL << 18;
	else
		v->cpu.rflags &= ~(1ULL << 18);
	done(v, in, r);
}

/* ---- cmpxchg16b / cmpxchg8b (0F C7 /1).  Other vCPUs keep running in KVM
 * while this one is completed, so the compare-and-exchange is the host's own
 * locked instruction on the guest page (through the bounds-checked pointer
 * of the translated address): atomic with respect to every vCPU, as the
 * guest's was.  Not for an operand that straddles a cache line: the host's
 * split lock is slow and may be refused outright (split_lock_detect=fatal
 * sends SIGBUS), and a guest must never bring nobios down; such an operand
 * (only a misaligned cmpxchg8b can be one) is done as a read and a write
 * under a process-wide lock: atomic with respect to other completions, not
 * to vCPUs running in KVM. */
static bool host_has_cx16(void)
{
	static int cx16 = -1;
	if (cx16 < 0) {
		unsigned a, b, c, d;
		cx16 = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 13));
	}
	return cx16;
}

static bool host_cmpxchg16(void *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
	bool ok;
	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile uint64_t(*)[2])p), "+a"(*lo), "+d"(*hi)
			 : "b"(nlo), "c"(nhi)
			 : "memory", "cc");
	return ok;
}

static bool host_cmpxchg8(void *p, uint64_t *old, uint64_t desired)
{
	bool ok;
	__asm__ volatile("lock cmpxchgq %3, %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile uint64_t *)p), "+a"(*old)
			 : "r"(desired)
			 : "memory", "cc");
	return ok;
}

static pthread_mutex_t split_lock = PTHREAD_MUTEX_INITIALIZER;

static void do_cmpxchg(struct guest_mem *m, struct emul_vcpu *v, const struct emul_insn *in,
		       struct emul_result *r)
{
	struct cpu_state *s = &v->cpu;
	bool wide = in->mode_bits == 64 && (in->rex & 8);
	unsigned size = wide ? 16 : 8;
	uint64_t la = emul_linear_addr(in, s);
	if (wide && (la & 15)) /* cmpxchg16b needs a 16-byte aligned operand */
		return set_exc(r, X86_VEC_GP, true, 0);
	uint64_t mask = wide ? ~0ULL : 0xFFFFFFFFULL;
	uint64_t lo = s->gpr[CPU_RAX] & mask, hi = s->gpr[CPU_RDX] & mask;
	uint64_t nlo = wide ? s->gpr[CPU_RBX] : (s->gpr[CPU_RBX] & 0xFFFFFFFFULL) | (s->gpr[CPU_RCX] << 32);
	uint64_t nhi = s->gpr[CPU_RCX];
	uint64_t mlo, mhi; /* the memory operand as compared */
	bool eq;
	if ((la & 63) + size <= 64 && (!wide || host_has_cx16())) {
		/* Translated as the write a locked RMW always is (#PF with W,
		 * Accessed and Dirty set even when the comparison fails). */
		uint64_t pa;
		if (emul_translate(m, v, la, CPU_ACCESS_WRITE, &pa, NULL, r) < 0)
			return;
		void *p = mem_ptr(m, pa, size);
		if (!p) {
			r->status = EMUL_UNSUPPORTED;
			snprintf(r->why, sizeof(r->why),
				 "operand at linear 0x%llx is not RAM (guest-physical 0x%llx)",
				 (unsigned long long)la, (unsigned long long)pa);
			return;
		}
		if (wide) {
			mlo = lo;
			mhi = hi;
			eq = host_cmpxchg16(p, &mlo, &mhi, nlo, nhi);
		} else {
			uint64_t old = lo | hi << 32;
			eq = host_cmpxchg8(p, &old, nlo);
			mlo = old & 0xFFFFFFFFULL;
			mhi = old >> 32;
		}
	} else {
		uint64_t old[2] = { 0, 0 };
		pthread_mutex_lock(&split_lock);
		if (emul_read_linear(m, v, la, old, size, CPU_ACCESS_WRITE, r) < 0) {
			pthread_mutex_unlock(&split_lock);
			return;
		}
		mlo = wide ? old[0] : old[0] & 0xFFFFFFFFULL;
		mhi = wide ? old[1] : old[0] >> 32;
		eq = lo == mlo && hi == mhi;
		uint64_t nw[2] = { eq ? nlo : old[0], eq ? nhi : old[1] };
		/* Failure writes the old value back (a locked RMW always writes). */
		int w = emul_write_linear(m, v, la, nw, size, r);
		pthread_mutex_unlock(&split_lock);
		if (w < 0)
			return;
	}
	if (eq) {
		s->rflags |= X86_RFLAGS_ZF;
	} else {
		s->rflags &= ~X86_RFLAGS_ZF;
		s->gpr[CPU_RAX] = mlo; /* 32-bit forms zero-extend, as all 32-bit writes */
		s->gpr[CPU_RDX] = mhi;
	}
	done(v, in, r);
}

/* ---- XCR0 */
static bool xcr0_valid(uint64_t val, uint64_t supported)
{
	if (!(val & XCR0_X87) || (val & ~supported))
		return false;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return false;
	if (!!(val & XCR0_BNDREGS) != !!(val & XCR0_BNDCSR))
		return false;
	uint64_t avx512 = XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM;
	if ((val & avx512) && ((val & avx512) != avx512 || !(val & XCR0_AVX)))
		return false;
	return true;
}

static void do_xsetbv(struct emul_vcpu *v, const struct emul_insn *in, struct emul_result *r)
{
	const struct cpu_state *s = &v->cpu;
	if (!(s->cr4 & X86_CR4_OSXSAVE))
		return set_exc(r, X86_VEC_UD, false, 0);
	uint64_t val = (s->gpr[CPU_RDX] << 32) | (s->gpr[CPU_RAX] & 0xFFFFFFFFULL);
	if (emul_cpl(s) != 0 || (s->gpr[CPU_RCX] & 0xFFFFFFFFULL) != 0 ||
	    !xcr0_valid(val, v->xcr0_supported))
		return set_exc(r, X86_VEC_GP, true, 0);
	v->xcr0 = val;
	v->changed |= EMUL_CHANGED_XCR0;
	done(v, in, r);
}

static uint64_t xstate_bv(const struct emul_vcpu *v)
{
	uint64_t bv;
	memcpy(&bv, v->xsave + XSAVE_HDR_OFF, 8);
	return bv;
}

static void do_xgetbv(struct emul_vcpu *v, const struct emul_insn *in, struct emul_result *r)
{
	struct cpu_state *s = &v->cpu;
	if (!(s->cr4 & X86_CR4_OSXSAVE))
		return set_exc(r, X86_VEC_UD, false, 0);
	uint32_t ecx = (uint32_t)s->gpr[CPU_RCX];
	uint64_t val;
	if (ecx == 0)
		val = v->xcr0;
	else if (ecx == 1) /* XINUSE (SDM 13.6): components not in their init state */
		val = v->xcr0 & (v->has_xsave ? xstate_bv(v) : (XCR0_X87 | XCR0_SSE));
	else
		return set_exc(r, X86_VEC_GP, true, 0);
	s->gpr[CPU_RAX] = val & 0xFFFFFFFFULL;
	s->gpr[CPU_RDX] = val >> 32;
	done(v, in, r);
}

/* ---- XSAVE family.  Component geometry of the standard format comes from
 * CPUID leaf 0xD of the host, which is the layout KVM_GET_XSAVE uses. */
struct xcomp {
	uint32_t size, offset;
	bool align64;
};
static struct xcomp xcomp[64];
static bool xcomp_ready;

static void xcomp_init(void)
{
	if (xcomp_ready)
		return;
	xcomp[0] = (struct xcomp){ 160, 0, false };  /* x87 in the legacy region */
	xcomp[1] = (struct xcomp){ 256, 160, false }; /* XMM registers */
	for (unsigned i = 2; i < 63; i++) {
		unsigned a = 0, b = 0, c = 0, d = 0;
		if (__get_cpuid_count(0xD, i, &a, &b, &c, &d) && a != 0)
			xcomp[i] = (struct xcomp){ a, b, (c & 2) != 0 };
	}
	xcomp_ready = true;
}

/* Offset of component i in an area of the given form. */
static uint32_t xcomp_offset(unsigned i, bool compacted, uint64_t xcomp_bv)
{
	if (i >= 63)
		return 0;
	if (i < 2 || !compacted)
		return xcomp[i].offset;
	uint32_t off = XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE;
	for (unsigned j = 2; j < i; j++) {
		if (!(xcomp_bv & (1ULL << j)))
			continue;
		if (xcomp[j].align64)
			off = (off + 63) & ~63u;
		off += xcomp[j].size;
	}
	if (xcomp[i & 63].align64)
		off = (off + 63) & ~63u;
	return off;
}

/* Bytes of the area that components in rfbm occupy. */
static uint32_t xarea_extent(uint64_t rfbm, bool compacted, uint64_t xcomp_bv)
{
	uint32_t end = XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE;
	for (unsigned i = 2; i < 63; i++) {
		if (!(rfbm & (1ULL << i)) || xcomp[i].size == 0)
			continue;
		uint32_t e = xcomp_offset(i, compacted, xcomp_bv) + xcomp[i].size;
		if (e > end)
			end = e;
	}
	return end;
}

static void x87_init(uint8_t *a)
{
	/* FINIT state (SDM 13.6): FCW 037FH, everything else 0. */
	memset(a, 0, 24);
	memset(a + FXSAVE_ST0, 0, 128);
	a[FXSAVE_FCW] = FCW_DEFAULT & 0xFF;
	a[FXSAVE_FCW + 1] = FCW_DEFAULT >> 8;
}

static void do_xsave_family(struct guest_mem *m, struct emul_vcpu *v, const struct emul_insn *in,
			    enum emul_kind kind, struct emul_result *r)
{
	struct cpu_state *s = &v->cpu;
	xcomp_init();
	if (!(s->cr4 & X86_CR4_OSXSAVE) || !v->has_xsave || !v->fpu_valid)
		return set_exc(r, X86_VEC_UD, false, 0);
	if (s->cr0 & X86_CR0_TS)
		return set_exc(r, X86_VEC_NM, false, 0);
	bool supervisor = kind == EMUL_KIND_XSAVES || kind == EMUL_KIND_XRSTORS;
	if (supervisor && emul_cpl(s) != 0)
		return set_exc(r, X86_VEC_GP, true, 0);
	uint64_t la = emul_linear_addr(in, s);
	if (la & 63) /* the area must be 64-byte aligned */
		return set_exc(r, X86_VEC_GP, true, 0);
	/* IA32_XSS is taken as 0: KVM_GET_XSAVE carries no supervisor state. */
	uint64_t rfbm = v->xcr0 & ((s->gpr[CPU_RDX] << 32) | (s->gpr[CPU_RAX] & 0xFFFFFFFFULL));
	unsigned nxmm = in->mode_bits == 64 ? 16 : 8;
	uint8_t *a = v->xsave;
	uint8_t buf[EMUL_XSAVE_SIZE] __attribute__((aligned(64)));
	uint64_t inuse = xstate_bv(v);
	bool restore = kind == EMUL_KIND_XRSTOR || kind == EMUL_KIND_XRSTORS;

	if (restore) {
		uint8_t hdr[XSAVE_HDR_SIZE] = { 0 };
		if (emul_read_linear(m, v, la + XSAVE_HDR_OFF, hdr, sizeof(hdr), 0, r) < 0)
			return;
		uint64_t bv, comp;
		memcpy(&bv, hdr, 8);
		memcpy(&comp, hdr + 8, 8);
		bool compacted = (comp & XSTATE_COMPACTED) != 0;
		/* Header checks (SDM 13.8.1 / 13.12): #GP on reserved bits. */
		if (kind == EMUL_KIND_XRSTORS && !compacted)
			return set_exc(r, X86_VEC_GP, true, 0);
		for (unsigned i = 16; i < XSAVE_HDR_SIZE; i++)
			if (hdr[i])
				return set_exc(r, X86_VEC_GP, true, 0);
		if (!compacted && (bv & ~v->xcr0))
			return set_exc(r, X86_VEC_GP, true, 0);
		if (compacted && ((comp & ~XSTATE_COMPACTED & ~v->xcr0) || (bv & ~comp)))
			return set_exc(r, X86_VEC_GP, true, 0);
		uint32_t ext = xarea_extent(rfbm & bv, compacted, comp);
		if (ext > sizeof(buf)) {
			r->status = EMUL_UNSUPPORTED;
			snprintf(r->why, sizeof(r->why), "XSAVE area of %u bytes", ext);
			return;
		}
		if (emul_read_linear(m, v, la, buf, ext, 0, r) < 0)
			return;
		/* MXCSR (SDM 13.8): the standard form loads it whenever RFBM
		 * names SSE or AVX; the compacted form treats it as part of the
		 * SSE component (loaded with it, else set to its init value). */
		uint32_t mxcsr;
		memcpy(&mxcsr, buf + FXSAVE_MXCSR, 4);
		bool load_mxcsr = compacted ? (rfbm & XCR0_SSE) != 0 : (rfbm & (XCR0_SSE | XCR0_AVX)) != 0;
		if (compacted && !(bv & XCR0_SSE))
			mxcsr = MXCSR_DEFAULT;
		if (load_mxcsr && (mxcsr & 0xFFFF0000u))
			return set_exc(r, X86_VEC_GP, true, 0);
		/* Everything checked: load. */
		if (rfbm & XCR0_X87) {
			if (bv & XCR0_X87) {
				memcpy(a, buf, 24);
				memcpy(a + FXSAVE_ST0, buf + FXSAVE_ST0, 128);
			} else {
				x87_init(a);
			}
		}
		if (rfbm & XCR0_SSE) {
			if (bv & XCR0_SSE)
				memcpy(a + FXSAVE_XMM0, buf + FXSAVE_XMM0, 16 * nxmm);
			else
				memset(a + FXSAVE_XMM0, 0, 16 * nxmm);
		}
		if (load_mxcsr)
			memcpy(a + FXSAVE_MXCSR, &mxcsr, 4);
		for (unsigned i = 2; i < 63; i++) {
			if (!(rfbm & (1ULL << i)) || xcomp[i].size == 0)
				continue;
			uint32_t dst = xcomp[i].offset, n = xcomp[i].size;
			if (dst + n > EMUL_XSAVE_SIZE)
				continue;
			if (bv & (1ULL << i))
				memcpy(a + dst, buf + xcomp_offset(i, compacted, comp), n);
			else
				memset(a + dst, 0, n);
		}
		inuse = (inuse & ~rfbm) | (bv & rfbm);
		memcpy(a + XSAVE_HDR_OFF, &inuse, 8);
		v->changed |= EMUL_CHANGED_FPU;
		return done(v, in, r);
	}

	/* Save. */
	bool compacted = kind == EMUL_KIND_XSAVEC || kind == EMUL_KIND_XSAVES;
	uint64_t comp = rfbm | XSTATE_COMPACTED;
	uint32_t ext = xarea_extent(rfbm, compacted, comp);
	if (ext > sizeof(buf)) {
		r->status = EMUL_UNSUPPORTED;
		snprintf(r->why, sizeof(r->why), "XSAVE area of %u bytes", ext);
		return;
	}
	/* Start from what the area holds so untouched bytes stay as they are. */
	if (emul_read_linear(m, v, la, buf, ext, CPU_ACCESS_WRITE, r) < 0)
		return;
	if (rfbm & XCR0_X87) {
		memcpy(buf, a, 24);
		memcpy(buf + FXSAVE_ST0, a + FXSAVE_ST0, 128);
	}
	if (rfbm & (XCR0_SSE | XCR0_AVX))
		memcpy(buf + FXSAVE_MXCSR, a + FXSAVE_MXCSR, 8); /* MXCSR, MXCSR_MASK */
	if (rfbm & XCR0_SSE)
		memcpy(buf + FXSAVE_XMM0, a + FXSAVE_XMM0, 16 * nxmm);
	for (unsigned i = 2; i < 63; i++) {
		if (!(rfbm & (1ULL << i)) || xcomp[i].size == 0)
			continue;
		uint32_t src = xcomp[i].offset, n = xcomp[i].size;
		if (src + n > EMUL_XSAVE_SIZE)
			continue;
		memcpy(buf + xcomp_offset(i, compacted, comp), a + src, n);
	}
	uint64_t bv;
	memcpy(&bv, buf + XSAVE_HDR_OFF, 8);
	if (compacted) {
		bv = rfbm & inuse;
		memcpy(buf + XSAVE_HDR_OFF + 8, &comp, 8);
	} else {
		bv = (bv & ~rfbm) | (rfbm & inuse);
	}
	memcpy(buf + XSAVE_HDR_OFF, &bv, 8);
	if (emul_write_linear(m, v, la, buf, ext, r) < 0)
		return;
	done(v, in, r);
}

bool emul_handle_own(struct guest_mem *m, struct emul_vcpu *v, const struct emul_insn *in,
		     struct emul_result *r)
{
	enum emul_kind k = emul_classify(in);
	switch (k) {
	case EMUL_KIND_INT3:
		/* #BP is a trap: the handler returns past int3 (SDM 6.5). */
		done(v, in, r);
		set_exc(r, X86_VEC_BP, false, 0);
		return true;
	case EMUL_KIND_POPCNT:
		if (in->len == 0)
			return false;
		do_popcnt(m, v, in, r);
		return true;
	case EMUL_KIND_XSETBV:
		do_xsetbv(v, in, r);
		return true;
	case EMUL_KIND_CLAC:
	case EMUL_KIND_STAC:
		if (in->len == 0)
			return false;
		do_clac_stac(v, in, k == EMUL_KIND_STAC, r);
		return true;
	case EMUL_KIND_CMPXCHG16B:
		if (in->len == 0 || in->mod == 3)
			return false;
		do_cmpxchg(m, v, in, r);
		return true;
	case EMUL_KIND_XGETBV:
		do_xgetbv(v, in, r);
		return true;
	case EMUL_KIND_XSAVE:
	case EMUL_KIND_XSAVEOPT:
	case EMUL_KIND_XSAVEC:
	case EMUL_KIND_XSAVES:
	case EMUL_KIND_XRSTOR:
	case EMUL_KIND_XRSTORS:
		if (in->len == 0)
			return false;
		do_xsave_family(m, v, in, k, r);
		return true;
	default:
		return false;
	}
}
