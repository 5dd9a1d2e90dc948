/* emul.h - instruction completion: finish, in user space, one instruction the
 * host's KVM emulator refused (KVM_EXIT_INTERNAL_ERROR, emulation failure).
 *
 * The caller (src/kvm/complete.c) fills a struct emul_vcpu from the vCPU,
 * calls emul_complete() and writes back what the result says changed, or
 * injects the exception the instruction raised.  Most instructions run in
 * libunicorn (QEMU's TCG as a library) against the guest's own memory: the
 * engine walks the guest's page tables itself (unicorn 2.0.1 treats virtual =
 * physical) and maps each virtual page the instruction touches onto the host
 * memory of its guest-physical page.  Instructions unicorn 2.0.1 rejects
 * (popcnt, the XSAVE family, xsetbv, xgetbv), int3, and the commonest ones
 * in a Linux boot (clac/stac, cmpxchg16b: handled here they cost a few us
 * instead of a unicorn run) have handlers of nobios's own.  AVX and system
 * instructions are refused (EMUL_UNSUPPORTED), never half-done.
 *
 * No KVM types: the state is struct cpu_state plus a standard-format XSAVE
 * area (Intel SDM vol. 1, 13.4), which is what KVM_GET_XSAVE returns.
 */
#ifndef NOBIOS_EMUL_EMUL_H
#define NOBIOS_EMUL_EMUL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

struct guest_mem;

/* XSAVE area: legacy region (FXSAVE layout, 512 bytes), header (64 bytes),
 * extended components at the offsets CPUID leaf 0xD gives. */
#define EMUL_XSAVE_SIZE 4096
#define XSAVE_LEGACY_SIZE 512
#define XSAVE_HDR_OFF 512
#define XSAVE_HDR_SIZE 64
#define FXSAVE_FCW 0
#define FXSAVE_FSW 2
#define FXSAVE_FTW 4
#define FXSAVE_MXCSR 24
#define FXSAVE_MXCSR_MASK 28
#define FXSAVE_ST0 32
#define FXSAVE_XMM0 160
#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
#define XCR0_BNDREGS (1ULL << 3)
#define XCR0_BNDCSR (1ULL << 4)
#define XCR0_OPMASK (1ULL << 5)
#define XCR0_ZMM_HI256 (1ULL << 6)
#define XCR0_HI16_ZMM (1ULL << 7)
#define XCR0_PKRU (1ULL << 9)
#define XSTATE_COMPACTED (1ULL << 63) /* XCOMP_BV bit 63 */
#define MXCSR_DEFAULT 0x1F80
#define FCW_DEFAULT 0x037F

/* Exception vectors (SDM vol. 3A, table 6-1). */
#define X86_VEC_DE 0
#define X86_VEC_BP 3
#define X86_VEC_UD 6
#define X86_VEC_NM 7
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_MF 16
#define X86_VEC_AC 17
#define X86_VEC_XM 19
/* #PF error code bits (SDM 4.7). */
#define PF_ERR_P 0x01u
#define PF_ERR_W 0x02u
#define PF_ERR_U 0x04u
#define PF_ERR_RSVD 0x08u
#define PF_ERR_I 0x10u

/* The vCPU state an instruction may read or change. */
struct emul_vcpu {
	struct cpu_state cpu;
	uint8_t xsave[EMUL_XSAVE_SIZE] __attribute__((aligned(64)));
	bool fpu_valid;          /* xsave holds the vCPU's x87/SSE state (read only when needed) */
	bool has_xsave;          /* xsave holds XSAVE state (else only the legacy region) */
	uint64_t xcr0;
	uint64_t xcr0_supported; /* bits xsetbv accepts (KVM's supported XCR0) */
	/* Other vCPUs run while this one is completed: a locked
	 * read-modify-write must be atomic with respect to them. */
	bool smp;
	/* Out: what the instruction changed (EMUL_CHANGED_*). */
	unsigned changed;
};
#define EMUL_CHANGED_REGS 0x1u  /* GPRs, RIP, RFLAGS */
#define EMUL_CHANGED_SREGS 0x2u /* control registers, segments */
#define EMUL_CHANGED_FPU 0x4u   /* xsave area */
#define EMUL_CHANGED_XCR0 0x8u

/* Instruction kinds, for -v counts. */
enum emul_kind {
	EMUL_KIND_SSE_MOVE,
	EMUL_KIND_SSE_LOGIC,
	EMUL_KIND_SSE_OTHER,
	EMUL_KIND_CMPXCHG16B,
	EMUL_KIND_POPCNT,
	EMUL_KIND_XSETBV,
	EMUL_KIND_XGETBV,
	EMUL_KIND_XRSTOR,
	EMUL_KIND_XRSTORS,
	EMUL_KIND_XSAVE,
	EMUL_KIND_XSAVEOPT,
	EMUL_KIND_XSAVEC,
	EMUL_KIND_XSAVES,
	EMUL_KIND_FXSAVE,
	EMUL_KIND_FXRSTOR,
	EMUL_KIND_MXCSR,
	EMUL_KIND_CLAC,
	EMUL_KIND_STAC,
	EMUL_KIND_FWAIT,
	EMUL_KIND_X87,
	EMUL_KIND_RDSSP,
	EMUL_KIND_INT3,
	EMUL_KIND_AVX,
	EMUL_KIND_OTHER,
	EMUL_NKINDS
};
const char *emul_kind_name(enum emul_kind k);

enum emul_status {
	EMUL_DONE,        /* completed: write back what `changed` says */
	EMUL_EXCEPTION,   /* the instruction raised exc: inject it, state unchanged */
	EMUL_UNSUPPORTED, /* nobios cannot complete it: stop the guest (why says why) */
};

struct emul_exception {
	uint8_t vector;
	bool has_error;
	uint32_t error_code;
	uint64_t cr2; /* #PF only */
};

struct emul_result {
	enum emul_status status;
	enum emul_kind kind;
	struct emul_exception exc;
	uint8_t bytes[15]; /* instruction bytes as fetched */
	unsigned nbytes;
	char why[160];
};

/* Decoded instruction (the subset our handlers and the classifier need). */
struct emul_insn {
	uint8_t b[15];
	unsigned n;         /* bytes available in b */
	unsigned len;       /* decoded length (0 if not decoded that far) */
	unsigned mode_bits; /* 16, 32 or 64 */
	unsigned opsize, addrsize; /* bytes */
	bool p66, pf2, pf3, lock;
	int seg;            /* segment override: 0..5 = ES CS SS DS FS GS, -1 none */
	uint8_t rex;
	bool vex;
	unsigned map;       /* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
	uint8_t op;
	unsigned op_at;     /* index of the opcode byte */
	bool has_modrm;
	uint8_t modrm, mod, reg, rm; /* reg and rm include REX.R / REX.B */
	/* memory operand (mod != 3) */
	int base, index;    /* GPR numbers, -1 none */
	unsigned scale;
	int64_t disp;
	bool rip_rel;
};
#define EMUL_SEG_ES 0
#define EMUL_SEG_CS 1
#define EMUL_SEG_SS 2
#define EMUL_SEG_DS 3
#define EMUL_SEG_FS 4
#define EMUL_SEG_GS 5

/* decode.c: prefixes, opcode and (where the opcode has one) ModRM/SIB/disp. */
int emul_decode(struct emul_insn *in, const uint8_t *bytes, unsigned n, unsigned mode_bits);
enum emul_kind emul_classify(const struct emul_insn *in);
/* A locked read-modify-write of memory: a LOCK prefix on one of the
 * instructions that accept it (SDM vol 2A "LOCK"), or xchg with a memory
 * operand, which is locked without one. */
bool emul_insn_locked_rmw(const struct emul_insn *in);
/* Linear address of the memory operand (segment base included, address-size
 * truncation applied).  Needs a decoded ModRM with mod != 3. */
uint64_t emul_linear_addr(const struct emul_insn *in, const struct cpu_state *s);

/* handlers.c: nobios's own handlers (see above).  Return true when the
 * instruction is one of theirs (r filled in). */
bool emul_handle_own(struct guest_mem *m, struct emul_vcpu *v, const struct emul_insn *in,
		     struct emul_result *r);
/* Guest-memory access through the guest's page tables, as the instruction
 * would do it (permission checks, A/D bits).  On a fault, fill r->exc,
 * set r->status = EMUL_EXCEPTION and return -1; -1 with EMUL_UNSUPPORTED for
 * memory that is not RAM. */
int emul_read_linear(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, void *buf,
		     unsigned len, unsigned access, struct emul_result *r);
int emul_write_linear(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, const void *buf,
		      unsigned len, struct emul_result *r);
/* Translate one page for an access (CPU_ACCESS_* bits); sets A (and D for
 * writes) in the guest's entries like the MMU.  Returns 0 with *pa, or -1
 * with r filled (#PF, #GP for non-canonical, or UNSUPPORTED). */
int emul_translate(struct guest_mem *m, struct emul_vcpu *v, uint64_t la, unsigned access,
		   uint64_t *pa, uint64_t *leaf_entry, struct emul_result *r);
unsigned emul_cpl(const struct cpu_state *s);

/* uc_dl.c: load libunicorn in a thread of its own, beside the guest (the
 * sandbox's temporary grant for it ends when it is loaded). */
void emul_preload_async(void);

/* engine.c: the unicorn engine, created once and reused. */
struct emul_engine;
int emul_engine_create(struct emul_engine **out);
void emul_engine_destroy(struct emul_engine *e);
/* Recreate the unicorn instance for every completion (benchmark baseline). */
void emul_engine_set_fresh(struct emul_engine *e, bool fresh);
/* Run the one instruction at RIP in unicorn. */
void emul_engine_run(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		     const struct emul_insn *in, struct emul_result *r);

/* emul.c: fetch, decode, dispatch.  Never fails silently: r->status says
 * what to do.  emul_complete = emul_fetch + emul_execute; the KVM side calls
 * the two halves so that it reads the (costly) FPU state and XCR0 only for
 * instructions that need them. */
void emul_complete(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		   struct emul_result *r);
/* Fetch and decode the instruction at CS:RIP; -1 with r set (a #PF on the
 * fetch) when there is nothing to execute. */
int emul_fetch(struct guest_mem *m, struct emul_vcpu *v, struct emul_insn *in,
	       struct emul_result *r);
#define EMUL_NEED_FPU 0x1u  /* x87/SSE state (fpu_valid, has_xsave) */
#define EMUL_NEED_XCR0 0x2u /* xcr0 */
unsigned emul_insn_needs(const struct emul_insn *in);
void emul_execute(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		  const struct emul_insn *in, struct emul_result *r);

#endif
