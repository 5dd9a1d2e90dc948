/* cpu_fuzz.h - a vCPU state and a guest memory image from fuzz input, for
 * the harnesses that walk the guest's own page tables (fuzz_pagewalk,
 * fuzz_emul): the paging mode, CR3, segment caches and registers are the
 * input's, and so is the memory the tables live in. */
#ifndef TESTS_FUZZ_CPU_FUZZ_H
#define TESTS_FUZZ_CPU_FUZZ_H

#include "cpu/cpu.h"
#include "fuzz.h"

#define FZ_RAM (2u << 20)

static inline void fz_segment(struct fz *f, struct cpu_segment *s)
{
	uint32_t a = fz_u32(f);
	s->selector = (uint16_t)a;
	s->base = fz_u32(f);
	s->limit = fz_u32(f);
	s->type = (a >> 16) & 0xF;
	s->s = (a >> 20) & 1;
	s->dpl = (a >> 21) & 3;
	s->present = 1;
	s->db = (a >> 23) & 1;
	s->l = (a >> 24) & 1;
	s->g = (a >> 25) & 1;
	s->unusable = (a >> 26) & 1;
}

/* Mode: real, protected, 32-bit paging, PAE, 4-level, 5-level, or any bits
 * at all; the control bits on top come from the input too. */
static inline void fz_cpu_state(struct fz *f, struct cpu_state *s)
{
	cpu_state_init(s);
	uint8_t mode = fz_u8(f);
	uint64_t cr0 = 0, cr4 = 0, efer = 0;
	switch (mode % 7) {
	case 0: break;
	case 1: cr0 = X86_CR0_PE; break;
	case 2: cr0 = X86_CR0_PE | X86_CR0_PG; break;
	case 3: cr0 = X86_CR0_PE | X86_CR0_PG; cr4 = X86_CR4_PAE; break;
	case 4: cr0 = X86_CR0_PE | X86_CR0_PG; cr4 = X86_CR4_PAE; efer = X86_EFER_LME | X86_EFER_LMA; break;
	case 5: cr0 = X86_CR0_PE | X86_CR0_PG; cr4 = X86_CR4_PAE | X86_CR4_LA57; efer = X86_EFER_LME | X86_EFER_LMA; break;
	default: cr0 = fz_u32(f); cr4 = fz_u32(f); efer = fz_u32(f); break;
	}
	uint32_t extra = fz_u32(f);
	cr0 |= (extra & 1 ? X86_CR0_WP : 0) | (extra & 2 ? X86_CR0_TS : 0) | (extra & 4 ? X86_CR0_EM : 0);
	cr4 |= (extra & 8 ? X86_CR4_PSE : 0) | (extra & 16 ? X86_CR4_SMEP : 0) |
	       (extra & 32 ? X86_CR4_SMAP : 0) | (extra & 64 ? X86_CR4_OSXSAVE : 0) |
	       (extra & 128 ? X86_CR4_OSFXSR : 0);
	efer |= extra & 256 ? X86_EFER_NXE : 0;
	s->cr0 = cr0;
	s->cr4 = cr4;
	s->efer = efer;
	/* mostly a table inside RAM, sometimes anywhere */
	uint64_t cr3 = fz_u64(f);
	s->cr3 = (extra & 512) ? cr3 : cr3 % FZ_RAM;
	s->rip = fz_u64(f);
	s->rflags = fz_u64(f);
	for (int i = 0; i < CPU_NGPR; i++)
		s->gpr[i] = fz_u64(f);
	fz_segment(f, &s->cs);
	fz_segment(f, &s->ss);
	fz_segment(f, &s->ds);
	fz_segment(f, &s->es);
	fz_segment(f, &s->fs);
	fz_segment(f, &s->gs);
	if (efer & X86_EFER_LMA) {
		s->cs.l = (extra >> 10) & 1 ? 0 : 1;
		s->cs.db = 0;
	}
}

#endif
