/* complete.c - the KVM side of instruction completion.
 *
 * On hosts whose KVM runs ring-0 guest code through its instruction
 * emulator (kvm_pvm), instructions that emulator lacks end KVM_RUN with
 * KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION.  Here the vCPU
 * state is read (registers and segments from kvm_run's synced registers, or
 * KVM_GET_REGS/SREGS before those are armed; KVM_GET_XSAVE or KVM_GET_FPU
 * for the XMM/x87 registers and MXCSR and KVM_GET_XCRS, only for the kinds
 * that use them), the one instruction is completed by src/emul/ against
 * guest memory, and what it changed is written back (kvm_run's dirty
 * registers or KVM_SET_REGS/SREGS, KVM_SET_XSAVE/FPU, KVM_SET_XCRS); an
 * exception it raised is injected as a vCPU event (KVM_SET_VCPU_EVENTS or
 * its synced copy) so the guest's own handler runs.  KVM types stay in this
 * file; src/emul/ sees struct emul_vcpu. */
#include <cpuid.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "emul/emul.h"
#include "kvm/kvm.h"
#include "util/err.h"
#include "util/sandbox.h"

/* The KVM side of a completion, on any host (where the engine itself may
 * run is emul's business: src/emul/uc_dl.c). */
SANDBOX_NEEDS(complete_needs, "instruction completion, KVM side (src/kvm/complete.c)", 0,
	SB_IOCTL(KVM_CHECK_EXTENSION), SB_IOCTL(KVM_GET_REGS), SB_IOCTL(KVM_SET_REGS),
	SB_IOCTL(KVM_GET_SREGS), SB_IOCTL(KVM_SET_SREGS), SB_IOCTL(KVM_GET_VCPU_EVENTS),
	SB_IOCTL(KVM_SET_VCPU_EVENTS), SB_IOCTL(KVM_GET_FPU), SB_IOCTL(KVM_SET_FPU),
	SB_IOCTL(KVM_GET_XSAVE), SB_IOCTL(KVM_SET_XSAVE), SB_IOCTL(KVM_GET_XCRS),
	SB_IOCTL(KVM_SET_XCRS));

#define SYNC_ALL (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

struct vcpu_completion {
	struct emul_engine *eng;
	struct emul_vcpu ev;
	bool use_xsave;  /* KVM_GET_XSAVE works (else KVM_GET_FPU) */
	bool use_xcrs;
	bool sync_ok;    /* KVM_CAP_SYNC_REGS covers regs, sregs and events */
	bool sync_armed; /* kvm_valid_regs set: later exits carry the state */
	bool trace;      /* NOBIOS_EMUL_TRACE=1: one stderr line per completion */
	uint64_t count[EMUL_NKINDS];
	uint64_t exceptions, failed;
	uint64_t ns_total, ns_read, ns_engine; /* -v: where the time goes */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct vcpu_completion *completion_get(struct vcpu *v)
{
	if (v->completion)
		return v->completion;
	/* 64-byte aligned for the XSAVE image inside (KVM copies it as is). */
	struct vcpu_completion *c = aligned_alloc(64, (sizeof(*c) + 63) & ~(size_t)63);
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (emul_engine_create(&c->eng) < 0) {
		free(c);
		return NULL;
	}
	/* Benchmark baseline (bench/emul.sh): a fresh unicorn per completion. */
	const char *fresh = getenv("NOBIOS_EMUL_FRESH");
	emul_engine_set_fresh(c->eng, fresh && *fresh == '1');
	const char *trace = getenv("NOBIOS_EMUL_TRACE");
	c->trace = trace && *trace == '1';
	c->use_xsave = ioctl(v->m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	c->use_xcrs = ioctl(v->m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	int sync = ioctl(v->m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	c->sync_ok = sync > 0 && (sync & SYNC_ALL) == SYNC_ALL;
	/* XCR0 bits xsetbv may set: what the CPU supports (CPUID.(EAX=0DH,
	 * ECX=0):EDX:EAX); KVM_SET_XCRS refuses anything beyond its own list,
	 * which then becomes the guest's #GP. */
	unsigned a = 0, b = 0, cc = 0, d = 0;
	if (__get_cpuid_count(0xD, 0, &a, &b, &cc, &d))
		c->ev.xcr0_supported = ((uint64_t)d << 32) | a;
	else
		c->ev.xcr0_supported = XCR0_X87 | XCR0_SSE;
	/* With other vCPUs running, locked instructions must stay atomic
	 * (src/emul/handlers.c cmpxchg8b/16b, emul.c's refusal). */
	c->ev.smp = v->m->nvcpus > 1;
	v->completion = c;
	return c;
}

void vcpu_complete_free(struct vcpu *v)
{
	if (!v->completion)
		return;
	emul_engine_destroy(v->completion->eng);
	free(v->completion);
	v->completion = NULL;
}

/* struct kvm_fpu <-> the FXSAVE layout the engine works on (SDM vol. 1,
 * table 10-2), for KVMs without KVM_CAP_XSAVE. */
static void fpu_to_fx(uint8_t *a, const struct kvm_fpu *f)
{
	memset(a, 0, EMUL_XSAVE_SIZE);
	memcpy(a + FXSAVE_FCW, &f->fcw, 2);
	memcpy(a + FXSAVE_FSW, &f->fsw, 2);
	a[FXSAVE_FTW] = f->ftwx;
	memcpy(a + 6, &f->last_opcode, 2);
	memcpy(a + 8, &f->last_ip, 8);
	memcpy(a + 16, &f->last_dp, 8);
	memcpy(a + FXSAVE_MXCSR, &f->mxcsr, 4);
	for (int i = 0; i < 8; i++)
		memcpy(a + FXSAVE_ST0 + 16 * i, f->fpr[i], 16);
	memcpy(a + FXSAVE_XMM0, f->xmm, 256);
}

static void fx_to_fpu(struct kvm_fpu *f, const uint8_t *a)
{
	memcpy(&f->fcw, a + FXSAVE_FCW, 2);
	memcpy(&f->fsw, a + FXSAVE_FSW, 2);
	f->ftwx = a[FXSAVE_FTW];
	memcpy(&f->last_opcode, a + 6, 2);
	memcpy(&f->last_ip, a + 8, 8);
	memcpy(&f->last_dp, a + 16, 8);
	memcpy(&f->mxcsr, a + FXSAVE_MXCSR, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], a + FXSAVE_ST0 + 16 * i, 16);
	memcpy(f->xmm, a + FXSAVE_XMM0, 256);
}

/* ---- state transfer.  Each vCPU ioctl costs 25-40 us on kvm_pvm (measured:
 * the vCPU is loaded and put around it), more than the completion itself, so
 * registers, segments and events travel through kvm_run's synced-register
 * area (KVM_CAP_SYNC_REGS) once it is armed, and the FPU state and XCR0 are
 * read only for instructions that use them. */
static void seg_in(struct cpu_segment *s, const struct kvm_segment *k)
{
	*s = (struct cpu_segment){ .base = k->base, .limit = k->limit, .selector = k->selector,
				   .type = k->type, .present = k->present, .dpl = k->dpl,
				   .db = k->db, .s = k->s, .l = k->l, .g = k->g, .avl = k->avl,
				   .unusable = k->unusable };
}

static void seg_out(struct kvm_segment *k, const struct cpu_segment *s)
{
	*k = (struct kvm_segment){ .base = s->base, .limit = s->limit, .selector = s->selector,
				   .type = s->type, .present = s->present, .dpl = s->dpl,
				   .db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
				   .unusable = s->unusable };
}

static void regs_in(struct cpu_state *s, const struct kvm_regs *r)
{
	uint64_t g[CPU_NGPR] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				 r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	memcpy(s->gpr, g, sizeof(g));
	s->rip = r->rip;
	s->rflags = r->rflags;
}

static void regs_out(struct kvm_regs *r, const struct cpu_state *s)
{
	const uint64_t *g = s->gpr;
	*r = (struct kvm_regs){ .rax = g[CPU_RAX], .rcx = g[CPU_RCX], .rdx = g[CPU_RDX],
				.rbx = g[CPU_RBX], .rsp = g[CPU_RSP], .rbp = g[CPU_RBP],
				.rsi = g[CPU_RSI], .rdi = g[CPU_RDI], .r8 = g[CPU_R8],
				.r9 = g[CPU_R9],   .r10 = g[CPU_R10], .r11 = g[CPU_R11],
				.r12 = g[CPU_R12], .r13 = g[CPU_R13], .r14 = g[CPU_R14],
				.r15 = g[CPU_R15], .rip = s->rip,     .rflags = s->rflags };
}

static void sregs_in(struct cpu_state *s, const struct kvm_sregs *sr)
{
	seg_in(&s->cs, &sr->cs);
	seg_in(&s->ds, &sr->ds);
	seg_in(&s->es, &sr->es);
	seg_in(&s->fs, &sr->fs);
	seg_in(&s->gs, &sr->gs);
	seg_in(&s->ss, &sr->ss);
	seg_in(&s->tr, &sr->tr);
	seg_in(&s->ldt, &sr->ldt);
	s->gdt = (struct cpu_dtable){ sr->gdt.base, sr->gdt.limit };
	s->idt = (struct cpu_dtable){ sr->idt.base, sr->idt.limit };
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->cr8 = sr->cr8;
	s->efer = sr->efer;
}

/* Completions change data segments, CS and SS only (iret, far jumps). */
static void segs_out(struct kvm_sregs *sr, const struct cpu_state *s)
{
	seg_out(&sr->cs, &s->cs);
	seg_out(&sr->ds, &s->ds);
	seg_out(&sr->es, &s->es);
	seg_out(&sr->fs, &s->fs);
	seg_out(&sr->gs, &s->gs);
	seg_out(&sr->ss, &s->ss);
}

static int read_cpu(struct vcpu *v, struct vcpu_completion *c, bool synced)
{
	if (synced) {
		regs_in(&c->ev.cpu, &v->run->s.regs.regs);
		sregs_in(&c->ev.cpu, &v->run->s.regs.sregs);
		return 0;
	}
	return vcpu_get_state(v, &c->ev.cpu);
}

static int read_fpu(struct vcpu *v, struct vcpu_completion *c)
{
	struct emul_vcpu *ev = &c->ev;
	_Static_assert(sizeof(struct kvm_xsave) >= EMUL_XSAVE_SIZE, "kvm_xsave size");
	ev->has_xsave = false;
	if (c->use_xsave) {
		if (ioctl(v->fd, KVM_GET_XSAVE, (struct kvm_xsave *)ev->xsave) == 0)
			ev->has_xsave = true;
		else
			c->use_xsave = false;
	}
	if (!ev->has_xsave) {
		struct kvm_fpu f;
		if (ioctl(v->fd, KVM_GET_FPU, &f) < 0)
			return nb_err_errno("KVM_GET_FPU");
		fpu_to_fx(ev->xsave, &f);
	}
	ev->fpu_valid = true;
	return 0;
}

static int read_xcr0(struct vcpu *v, struct vcpu_completion *c)
{
	struct emul_vcpu *ev = &c->ev;
	ev->xcr0 = XCR0_X87;
	if (!c->use_xcrs)
		return 0;
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	if (ioctl(v->fd, KVM_GET_XCRS, &x) < 0) {
		c->use_xcrs = false;
		return 0;
	}
	for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++)
		if (x.xcrs[i].xcr == 0)
			ev->xcr0 = x.xcrs[i].value;
	return 0;
}

static int write_xcr0(struct vcpu *v, uint64_t xcr0)
{
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = xcr0;
	if (ioctl(v->fd, KVM_SET_XCRS, &x) < 0)
		return nb_err_errno("KVM_SET_XCRS 0x%" PRIx64, xcr0);
	return 0;
}

static int write_fpu(struct vcpu *v, struct vcpu_completion *c)
{
	if (c->ev.has_xsave) {
		if (ioctl(v->fd, KVM_SET_XSAVE, (struct kvm_xsave *)c->ev.xsave) < 0)
			return nb_err_errno("KVM_SET_XSAVE");
		return 0;
	}
	struct kvm_fpu f;
	memset(&f, 0, sizeof(f));
	fx_to_fpu(&f, c->ev.xsave);
	if (ioctl(v->fd, KVM_SET_FPU, &f) < 0)
		return nb_err_errno("KVM_SET_FPU");
	return 0;
}

/* Registers and segments back to the vCPU: through kvm_run (applied at the
 * next KVM_RUN) when synced, else by ioctl. */
static int write_cpu(struct vcpu *v, const struct cpu_state *s, unsigned changed, bool synced)
{
	if (synced) {
		if (changed & EMUL_CHANGED_REGS) {
			regs_out(&v->run->s.regs.regs, s);
			v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		}
		if (changed & EMUL_CHANGED_SREGS) {
			segs_out(&v->run->s.regs.sregs, s);
			v->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		}
		return 0;
	}
	if (changed & EMUL_CHANGED_SREGS)
		return vcpu_set_state(v, s); /* segments (iret, far jmp) and registers */
	if (changed & EMUL_CHANGED_REGS) {
		struct kvm_regs r;
		regs_out(&r, s);
		if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
			return nb_err_errno("KVM_SET_REGS");
	}
	return 0;
}

/* Deliver the exception as the CPU would have raised it: #PF first gets
 * its CR2, then the event is queued for the next entry. */
static int inject(struct vcpu *v, const struct emul_exception *x, bool synced)
{
	struct kvm_vcpu_events ev;
	if (synced) {
		if (x->vector == X86_VEC_PF) {
			v->run->s.regs.sregs.cr2 = x->cr2;
			v->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		}
		ev = v->run->s.regs.events;
	} else {
		if (x->vector == X86_VEC_PF) {
			struct kvm_sregs sr;
			if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
				return nb_err_errno("KVM_GET_SREGS");
			sr.cr2 = x->cr2;
			if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
				return nb_err_errno("KVM_SET_SREGS");
		}
		if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return nb_err_errno("KVM_GET_VCPU_EVENTS");
	}
	ev.exception.injected = 1;
	ev.exception.nr = x->vector;
	ev.exception.has_error_code = x->has_error;
	ev.exception.error_code = x->error_code;
	ev.flags = 0;
	if (synced) {
		v->run->s.regs.events = ev;
		v->run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
		return 0;
	}
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return nb_err_errno("KVM_SET_VCPU_EVENTS");
	return 0;
}

static void print_refusal(FILE *out, const struct vcpu_completion *c, const struct emul_result *r)
{
	fprintf(out, "nobios: cannot complete the instruction KVM refused (%s) at RIP 0x%" PRIx64
		     ", bytes",
		emul_kind_name(r->kind), c->ev.cpu.rip);
	for (unsigned i = 0; i < r->nbytes; i++)
		fprintf(out, " %02x", r->bytes[i]);
	fprintf(out, ": %s\n", r->why[0] ? r->why : "unknown reason");
}

int vcpu_complete_insn(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	if (run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
	    run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
		return -1;
	uint64_t t0 = now_ns();
	struct vcpu_completion *c = completion_get(v);
	if (!c) {
		fprintf(stderr, "nobios: instruction completion unavailable: %s\n", nb_errmsg());
		return -1;
	}
	/* kvm_run's synced registers are valid from the exit after they were
	 * armed (in completion_get); until then, ioctls. */
	bool synced = c->sync_armed && (run->kvm_valid_regs & SYNC_ALL) == SYNC_ALL;
	if (c->sync_ok && !(run->kvm_valid_regs & SYNC_ALL)) {
		run->kvm_valid_regs |= SYNC_ALL;
		c->sync_armed = true;
	}
	struct emul_vcpu *ev = &c->ev;
	ev->fpu_valid = false;
	struct emul_result r;
	struct emul_insn in;
	int rc = read_cpu(v, c, synced);
	uint64_t t1;
	uint64_t rip0 = ev->cpu.rip;
	if (rc == 0 && emul_fetch(&v->m->mem, ev, &in, &r) == 0) {
		unsigned needs = emul_insn_needs(&in);
		if (needs & EMUL_NEED_FPU)
			rc = read_fpu(v, c);
		if (rc == 0 && (needs & EMUL_NEED_XCR0))
			rc = read_xcr0(v, c);
		t1 = now_ns();
		if (rc == 0)
			emul_execute(c->eng, &v->m->mem, ev, &in, &r);
	} else {
		t1 = now_ns();
	}
	uint64_t t2 = now_ns();
	if (rc != 0) { /* r is filled only when rc == 0 */
		fprintf(stderr, "nobios: instruction completion: %s\n", nb_errmsg());
		return -1;
	}
	if (r.status == EMUL_UNSUPPORTED) {
		c->failed++;
		print_refusal(stderr, c, &r);
		return -1;
	}
	if ((ev->changed & EMUL_CHANGED_XCR0) && write_xcr0(v, ev->xcr0) < 0) {
		/* KVM's list of XCR0 bits is narrower than the CPU's: the guest
		 * gets the #GP xsetbv raises for an unsupported value. */
		r.status = EMUL_EXCEPTION;
		r.exc = (struct emul_exception){ .vector = X86_VEC_GP, .has_error = true };
		ev->changed = 0;
	}
	if (rc == 0 && (ev->changed & EMUL_CHANGED_FPU))
		rc = write_fpu(v, c);
	if (rc == 0)
		rc = write_cpu(v, &ev->cpu, ev->changed, synced);
	if (rc == 0 && r.status == EMUL_EXCEPTION) {
		rc = inject(v, &r.exc, synced);
		c->exceptions++;
	}
	if (rc < 0) {
		fprintf(stderr, "nobios: instruction completion: %s\n", nb_errmsg());
		return -1;
	}
	c->count[r.kind]++;
	if (c->trace) {
		fprintf(stderr, "nobios: completed %s at 0x%" PRIx64 " ->", emul_kind_name(r.kind),
			rip0);
		if (r.status == EMUL_EXCEPTION)
			fprintf(stderr, " exception %u error %#x cr2 %#" PRIx64, r.exc.vector,
				r.exc.error_code, r.exc.cr2);
		fprintf(stderr, " rip 0x%" PRIx64 "\n", ev->cpu.rip);
	}
	c->ns_total += now_ns() - t0;
	c->ns_read += t1 - t0;
	c->ns_engine += t2 - t1;
	if (r.kind == EMUL_KIND_INT3)
		v->int3_injected++;
	return 0;
}

void vcpu_complete_report(struct vcpu *v, FILE *out)
{
	const struct vcpu_completion *c = v->completion;
	if (!out)
		return;
	char who[32] = "";
	if (v->m->nvcpus > 1)
		snprintf(who, sizeof(who), "vCPU %d ", v->id);
	if (!c) {
		fprintf(out, "nobios: %scompletions: 0\n", who);
		return;
	}
	uint64_t total = 0;
	for (int k = 0; k < EMUL_NKINDS; k++)
		total += c->count[k];
	fprintf(out, "nobios: %scompletions: %" PRIu64, who, total);
	if (total)
		fprintf(out, " in %.3f ms (%.1f us each: %.1f reading the vCPU, %.1f completing, %.1f writing back)",
			c->ns_total / 1e6, c->ns_total / 1e3 / (double)total,
			c->ns_read / 1e3 / (double)total, c->ns_engine / 1e3 / (double)total,
			(c->ns_total - c->ns_read - c->ns_engine) / 1e3 / (double)total);
	fprintf(out, ", %" PRIu64 " raised an exception, %" PRIu64 " refused;", c->exceptions,
		c->failed);
	for (int k = 0; k < EMUL_NKINDS; k++)
		if (c->count[k])
			fprintf(out, " %s %" PRIu64, emul_kind_name((enum emul_kind)k), c->count[k]);
	fprintf(out, "\n");
}
