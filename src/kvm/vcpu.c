/* vcpu.c - one vCPU: state conversion between struct cpu_state and KVM, the
 * run loop and exit dispatch, and the failure dump.  Each vCPU's loop runs
 * in its own thread; what they share (devices, the stop request, the
 * completion of locked instructions) is synchronised where it lives. */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu/pagewalk.h"
#include "debug/timeline.h"
#include "kvm/kvm.h"
#include "util/err.h"
#include "util/sandbox.h"

/* While the guest runs: the exit loop, register access for dumps and the
 * pseudo-BIOS, and the --timeout timer (util/sandbox.h). */
SANDBOX_NEEDS(vcpu_needs, "vCPU run loop (src/kvm/vcpu.c)", 0,
	SB_IOCTL(KVM_RUN), SB_IOCTL(KVM_GET_REGS), SB_IOCTL(KVM_SET_REGS),
	SB_IOCTL(KVM_GET_SREGS), SB_IOCTL(KVM_SET_SREGS),
	SB_ALLOW(timer_create), SB_ALLOW(timer_settime), SB_ALLOW(timer_delete));

static __thread struct vcpu *current_vcpu;

struct vcpu *vcpu_current(void)
{
	return current_vcpu;
}

/* Where KVM resets the vCPU at a triple fault, have it copy the state out at
 * every exit (no extra ioctl), so the dump can show the last state the guest
 * really had. */
#define VCPU_SYNC_REGS (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

int vcpu_probe(struct machine *m)
{
	int sz = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return nb_err_errno("KVM_GET_VCPU_MMAP_SIZE");
	m->vcpu_run_size = (size_t)sz;
	m->vcpu_sync_regs = false;
	if (m->host.shutdown_resets) {
		int caps = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
		m->vcpu_sync_regs = caps > 0 && ((unsigned)caps & VCPU_SYNC_REGS) == VCPU_SYNC_REGS;
	}
	return 0;
}

int vcpu_create(struct machine *m, struct vcpu *v, int id)
{
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->m = m;
	v->id = id;
	v->fd = ioctl(m->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return nb_err_errno("KVM_CREATE_VCPU");
	v->run_size = m->vcpu_run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return nb_err_errno("mmap kvm_run");
	}
	if (m->vcpu_sync_regs) {
		v->run->kvm_valid_regs = VCPU_SYNC_REGS;
		v->sync_regs = true;
	}
	return kvm_cpuid_setup(m, v);
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_complete_free(v);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void seg_to_kvm(struct kvm_segment *k, const struct cpu_segment *s)
{
	*k = (struct kvm_segment){ .base = s->base, .limit = s->limit, .selector = s->selector,
				   .type = s->type, .present = s->present, .dpl = s->dpl,
				   .db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
				   .unusable = s->unusable };
}

static void seg_from_kvm(struct cpu_segment *s, const struct kvm_segment *k)
{
	*s = (struct cpu_segment){ .base = k->base, .limit = k->limit, .selector = k->selector,
				   .type = k->type, .present = k->present, .dpl = k->dpl,
				   .db = k->db, .s = k->s, .l = k->l, .g = k->g, .avl = k->avl,
				   .unusable = k->unusable };
}

static void state_from_kvm(struct cpu_state *s, const struct kvm_regs *r,
			   const struct kvm_sregs *sr)
{
	uint64_t g[CPU_NGPR] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				 r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	memcpy(s->gpr, g, sizeof(g));
	s->rip = r->rip;
	s->rflags = r->rflags;
	seg_from_kvm(&s->cs, &sr->cs);
	seg_from_kvm(&s->ds, &sr->ds);
	seg_from_kvm(&s->es, &sr->es);
	seg_from_kvm(&s->fs, &sr->fs);
	seg_from_kvm(&s->gs, &sr->gs);
	seg_from_kvm(&s->ss, &sr->ss);
	seg_from_kvm(&s->tr, &sr->tr);
	seg_from_kvm(&s->ldt, &sr->ldt);
	s->gdt = (struct cpu_dtable){ sr->gdt.base, sr->gdt.limit };
	s->idt = (struct cpu_dtable){ sr->idt.base, sr->idt.limit };
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->cr8 = sr->cr8;
	s->efer = sr->efer;
	s->xcr0 = 0; /* "leave alone": vcpu_set_state then keeps the guest's */
}

int vcpu_get_state(struct vcpu *v, struct cpu_state *s)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return nb_err_errno("KVM_GET_REGS");
	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return nb_err_errno("KVM_GET_SREGS");
	state_from_kvm(s, &r, &sr);
	return 0;
}

/* ---- entry features the guest's CPUID decides.  Loaders run before any
 * vCPU exists, so they ask (EFER.NXE, cpu_state.xcr0) and this decides.
 * KVM_SET_SREGS does not check EFER against the vCPU's CPUID (measured:
 * kvm_amd in the SVM test host takes NXE with NX masked), so a guest would
 * run with EFER.NXE set while its CPUID says there is no NX, a state its
 * own WRMSR could never reach (#GP): keep the two consistent.
 * KVM_SET_XCRS refuses features outside CPUID leaf 0Dh. */
static struct kvm_cpuid2 *guest_cpuid_table(struct vcpu *v)
{
	for (uint32_t n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(v->fd, KVM_GET_CPUID2, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static const struct kvm_cpuid_entry2 *guest_cpuid(const struct kvm_cpuid2 *c, uint32_t fn,
						   uint32_t idx)
{
	for (uint32_t i = 0; c && i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == idx))
			return &c->entries[i];
	return NULL;
}

#define CPUID_80000001_EDX_NX (1u << 20)
#define CPUID_1_ECX_XSAVE     (1u << 26)

/* EFER for KVM_SET_SREGS: NXE asked for and not already on is dropped when
 * the guest's CPUID has no NX (so once, at entry: a running guest that has
 * NXE on has NX, and the other callers pass back what they read). */
static uint64_t fit_efer(struct vcpu *v, const struct cpu_state *s, uint64_t cur_efer,
			 struct kvm_cpuid2 **cpuid)
{
	uint64_t efer = s->efer;
	if (!(efer & X86_EFER_NXE) || (cur_efer & X86_EFER_NXE))
		return efer;
	if (!*cpuid)
		*cpuid = guest_cpuid_table(v);
	const struct kvm_cpuid_entry2 *e = guest_cpuid(*cpuid, 0x80000001, 0);
	if (e && (e->edx & CPUID_80000001_EDX_NX))
		return efer;
	if (v->m->cfg.log)
		fprintf(v->m->cfg.log, "nobios: the guest's CPUID has no NX: EFER.NXE left clear\n");
	return efer & ~X86_EFER_NXE;
}

/* XCR0 where KVM can set it and the guest has XSAVE, trimmed to the
 * features the guest's leaf 0Dh lists (x87 always). */
static int set_xcr0(struct vcpu *v, uint64_t want, struct kvm_cpuid2 **cpuid)
{
	if (ioctl(v->m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
		return 0;
	if (!*cpuid)
		*cpuid = guest_cpuid_table(v);
	const struct kvm_cpuid_entry2 *f = guest_cpuid(*cpuid, 1, 0);
	const struct kvm_cpuid_entry2 *d = guest_cpuid(*cpuid, 0xD, 0);
	if (!f || !(f->ecx & CPUID_1_ECX_XSAVE) || !d)
		return 0;
	uint64_t xcr0 = want & (((uint64_t)d->edx << 32 | d->eax) | X86_XCR0_X87);
	struct kvm_xcrs x = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = xcr0 } } };
	if (ioctl(v->fd, KVM_SET_XCRS, &x) < 0)
		return nb_err_errno("KVM_SET_XCRS (XCR0 = 0x%llx)", (unsigned long long)xcr0);
	if (v->m->cfg.log)
		fprintf(v->m->cfg.log, "nobios: XCR0 = 0x%llx\n", (unsigned long long)xcr0);
	return 0;
}

int vcpu_set_state(struct vcpu *v, const struct cpu_state *s)
{
	struct kvm_sregs sr;
	/* Start from KVM's view to keep apic_base and the interrupt bitmap. */
	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return nb_err_errno("KVM_GET_SREGS");
	seg_to_kvm(&sr.cs, &s->cs);
	seg_to_kvm(&sr.ds, &s->ds);
	seg_to_kvm(&sr.es, &s->es);
	seg_to_kvm(&sr.fs, &s->fs);
	seg_to_kvm(&sr.gs, &s->gs);
	seg_to_kvm(&sr.ss, &s->ss);
	seg_to_kvm(&sr.tr, &s->tr);
	seg_to_kvm(&sr.ldt, &s->ldt);
	sr.gdt = (struct kvm_dtable){ .base = s->gdt.base, .limit = s->gdt.limit };
	sr.idt = (struct kvm_dtable){ .base = s->idt.base, .limit = s->idt.limit };
	sr.cr0 = s->cr0;
	sr.cr2 = s->cr2;
	sr.cr3 = s->cr3;
	sr.cr4 = s->cr4;
	sr.cr8 = s->cr8;
	struct kvm_cpuid2 *cpuid = NULL;
	sr.efer = fit_efer(v, s, sr.efer, &cpuid);
	int rc = ioctl(v->fd, KVM_SET_SREGS, &sr) < 0 ? nb_err_errno("KVM_SET_SREGS") : 0;
	if (rc == 0 && s->xcr0)
		rc = set_xcr0(v, s->xcr0, &cpuid);
	free(cpuid);
	if (rc < 0)
		return -1;
	const uint64_t *g = s->gpr;
	struct kvm_regs r = { .rax = g[CPU_RAX], .rcx = g[CPU_RCX], .rdx = g[CPU_RDX],
			      .rbx = g[CPU_RBX], .rsp = g[CPU_RSP], .rbp = g[CPU_RBP],
			      .rsi = g[CPU_RSI], .rdi = g[CPU_RDI], .r8 = g[CPU_R8],
			      .r9 = g[CPU_R9],   .r10 = g[CPU_R10], .r11 = g[CPU_R11],
			      .r12 = g[CPU_R12], .r13 = g[CPU_R13], .r14 = g[CPU_R14],
			      .r15 = g[CPU_R15], .rip = s->rip,     .rflags = s->rflags };
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return nb_err_errno("KVM_SET_REGS");
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		v->run->immediate_exit = 1;
	if (atomic_load(&v->started) && !pthread_equal(pthread_self(), v->thread))
		pthread_kill(v->thread, SIGUSR1);
}

/* The instruction bytes at the failure: from KVM's emulation-failure data
 * when it gives them, else from guest memory at CS.base + RIP when that is
 * through the guest's page tables. */
/* The failing instruction's bytes as KVM reported them with an emulation
 * failure (no ioctl needed); 0 when KVM gave none. */
static int kvm_insn_bytes(const struct kvm_run *run, uint8_t *buf, int max)
{
	if (run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
	    run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION || run->internal.ndata < 2 ||
	    !(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return 0;
	int n = run->emulation_failure.insn_size;
	if (n > max)
		n = max;
	if (n > 15)
		n = 15;
	memcpy(buf, run->emulation_failure.insn_bytes, n);
	return n;
}

static int insn_bytes(struct vcpu *v, const struct cpu_state *s, uint8_t *buf, int max)
{
	int n = kvm_insn_bytes(v->run, buf, max);
	if (n > 0)
		return n;
	/* Linear address of RIP; the walker handles paging off and on. */
	uint64_t lin = s->cs.base + s->rip;
	return (int)cpu_read_linear(&v->m->mem, s, lin, buf, (size_t)max);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Registers, instruction bytes, translations, events.  ev: the events that
 * belong to s when s is not the live state (a snapshot), NULL when it is. */
static void dump_state(struct vcpu *v, FILE *out, const struct cpu_state *s,
		       const struct kvm_vcpu_events *ev)
{
	cpu_state_dump(out, s);
	uint8_t b[16];
	int n = insn_bytes(v, s, b, 15);
	fprintf(out, "  bytes at RIP:");
	for (int i = 0; i < n; i++)
		fprintf(out, " %02x", b[i]);
	fprintf(out, n ? "\n" : " (not readable)\n");
	vcpu_dump_extra(v, out, s, ev); /* issue 5: translations, events, entry checks */
}

void vcpu_dump(struct vcpu *v, FILE *out, const char *cause)
{
	struct cpu_state s;
	if (cause)
		fprintf(out, "nobios: %s\n", cause);
	if (vcpu_get_state(v, &s) < 0) {
		fprintf(out, "nobios: cannot read vCPU state: %s\n", nb_errmsg());
		return;
	}
	dump_state(v, out, &s, NULL);
}

static void describe_exit(const struct vcpu_snapshot *l, char *buf, size_t len)
{
	switch (l->exit_reason) {
	case KVM_EXIT_IO:
		snprintf(buf, len, "port I/O %s 0x%x", l->io_out ? "out" : "in", l->port);
		break;
	case KVM_EXIT_MMIO:
		snprintf(buf, len, "MMIO at 0x%llx", (unsigned long long)l->mmio_addr);
		break;
	case KVM_EXIT_INTR:
		snprintf(buf, len, "a signal");
		break;
	default:
		snprintf(buf, len, "exit %u", l->exit_reason);
	}
}

/* A triple fault.  Where KVM leaves the guest's state in place (VMX,
 * kvm_pvm), that is what the dump shows.  Where KVM has reinitialised the
 * vCPU first (SVM), the registers read now are the reset state: say so, and
 * show the newest state that really was the guest's instead, named for what
 * it is. */
static void dump_shutdown(struct vcpu *v, FILE *out, const char *cause)
{
	struct cpu_state s;
	fprintf(out, "nobios: %s\n", cause);
	if (vcpu_get_state(v, &s) < 0) {
		fprintf(out, "nobios: cannot read vCPU state: %s\n", nb_errmsg());
		return;
	}
	if (!cpu_state_is_reset(&s)) {
		dump_state(v, out, &s, NULL);
		return;
	}
	fprintf(out, "nobios: KVM reinitialised the vCPU at the triple fault (%s): the registers "
		     "now are the x86 reset state (CS:IP=f000:fff0), not the guest's, and its state "
		     "at the fault is lost\n",
		v->m->host.svm ? "SVM: the VMCB is undefined after a SHUTDOWN intercept"
			       : "this host");
	struct kvm_vcpu_events none;
	memset(&none, 0, sizeof(none));
	if (v->have_last) {
		char what[64];
		describe_exit(&v->last, what, sizeof(what));
		fprintf(out, "nobios: the guest's state at its last exit before the fault (%s, "
			     "%.1f ms before the shutdown) follows; the fault came after it, in code "
			     "that made no exit\n",
			what, (double)(now_ns() - v->last.ns) / 1e6);
		state_from_kvm(&s, &v->last.regs, &v->last.sregs);
		dump_state(v, out, &s, &v->last.events);
	} else if (v->id == 0) {
		fprintf(out, "nobios: the guest made no exit before the fault: the entry state "
			     "nobios set follows\n");
		dump_state(v, out, &v->m->entry, &none);
	} else {
		fprintf(out, "nobios: this AP made no exit between its SIPI and the fault: no "
			     "state of it was kept (it started at the SIPI vector in real mode)\n");
	}
}

/* Keep the state KVM copied out at this exit (sync_regs only). */
static void snapshot_exit(struct vcpu *v)
{
	const struct kvm_run *run = v->run;
	struct vcpu_snapshot *l = &v->last;
	l->regs = run->s.regs.regs;
	l->sregs = run->s.regs.sregs;
	l->events = run->s.regs.events;
	l->exit_reason = run->exit_reason;
	if (run->exit_reason == KVM_EXIT_IO) {
		l->port = run->io.port;
		l->io_out = run->io.direction == KVM_EXIT_IO_OUT;
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		l->mmio_addr = run->mmio.phys_addr;
	}
	l->ns = now_ns();
	v->have_last = true;
}

/* Device handlers assume one caller at a time: several vCPUs' exits take
 * turns on the bus (m->io_lock).  An exit costs microseconds; an
 * uncontended lock tens of nanoseconds. */
static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	/* data_offset/size/count come from KVM, but stay defensive: the data
	 * must lie inside the kvm_run mapping. */
	if (size == 0 || size > 4 ||
	    run->io.data_offset + (uint64_t)size * run->io.count > v->run_size)
		return;
	/* --timeline logs POST codes with their times (issue 5). */
	if (run->io.port == 0x80 && run->io.direction == KVM_EXIT_IO_OUT && v->m->cfg.timeline)
		timeline_post_code(0x80, data[0]);
	pthread_mutex_lock(&v->m->io_lock);
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_pio_out(&v->m->bus, run->io.port, data, size);
		else
			bus_pio_in(&v->m->bus, run->io.port, data, size);
	}
	pthread_mutex_unlock(&v->m->io_lock);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	if (len == 0 || len > 8)
		return;
	pthread_mutex_lock(&v->m->io_lock);
	if (run->mmio.is_write)
		bus_mmio_write(&v->m->bus, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_mmio_read(&v->m->bus, run->mmio.phys_addr, run->mmio.data, len);
	pthread_mutex_unlock(&v->m->io_lock);
}

/* The cause names the vCPU when there are several. */
static void set_cause(struct vcpu *v, struct machine_result *res, const char *fmt, va_list ap)
{
	size_t n = 0;
	if (v->m->nvcpus > 1)
		n = (size_t)snprintf(res->cause, sizeof(res->cause), "vCPU %d: ", v->id);
	vsnprintf(res->cause + n, sizeof(res->cause) - n, fmt, ap);
}

static void cause(struct vcpu *v, struct machine_result *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cause(struct vcpu *v, struct machine_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_cause(v, res, fmt, ap);
	va_end(ap);
}

/* This vCPU's own exit ends the guest: stop the others first (so they stop
 * running while the dump is printed), then dump this one. */
static void fail(struct vcpu *v, struct machine_result *res, enum machine_stop kind,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(struct vcpu *v, struct machine_result *res, enum machine_stop kind,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_cause(v, res, fmt, ap);
	va_end(ap);
	res->stop = kind;
	res->status = NB_EXIT_GUEST_FAULT;
	machine_vcpu_stop(v->m, v, res);
	pthread_mutex_lock(&v->m->dump_lock);
	vcpu_dump(v, stderr, res->cause);
	pthread_mutex_unlock(&v->m->dump_lock);
}

static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
	case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
	case KVM_EXIT_NMI: return "KVM_EXIT_NMI";
	case KVM_EXIT_TPR_ACCESS: return "KVM_EXIT_TPR_ACCESS";
	default: return "unhandled exit";
	}
}

static int run_loop(struct vcpu *v, struct machine_result *res, uint64_t deadline);

int vcpu_run_loop(struct vcpu *v)
{
	struct machine *m = v->m;
	struct machine_result *res = &v->res;
	memset(res, 0, sizeof(*res));
	current_vcpu = v;
	/* The machine's deadline is vCPU 0's to watch: a guest asleep in hlt
	 * or spinning without exits never returns from KVM_RUN by itself, so a
	 * one-shot timer signal to this thread ends it, and the stop it then
	 * requests kicks every other vCPU. */
	uint64_t deadline = 0;
	timer_t timer;
	bool have_timer = false;
	if (v->id == 0 && m->cfg.timeout_s > 0) {
		deadline = now_ns() + (uint64_t)(m->cfg.timeout_s * 1e9);
		struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
		sev._sigev_un._tid = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0) {
			double t = m->cfg.timeout_s;
			struct itimerspec its = { .it_value = { (time_t)t,
								(long)((t - (time_t)t) * 1e9) + 1 } };
			timer_settime(timer, 0, &its, NULL);
			have_timer = true;
		}
	}
	int r = run_loop(v, res, deadline);
	if (have_timer)
		timer_delete(timer);
	current_vcpu = NULL;
	return r;
}

static int run_loop(struct vcpu *v, struct machine_result *res, uint64_t deadline)
{
	struct machine *m = v->m;
	struct kvm_run *run = v->run;
	bool entered = false; /* --timeline: "first guest instruction" once */

	for (;;) {
		if (m->signal_stop && !atomic_load(&m->stop)) {
			char msg[64];
			snprintf(msg, sizeof(msg), "stopped by signal %d (%s)", (int)m->signal_stop,
				 strsignal(m->signal_stop));
			machine_request_stop(m, MACHINE_STOP_SIGNAL, 128 + m->signal_stop, msg);
		}
		if (atomic_load(&m->stop)) {
			/* Stopped from outside this vCPU, or by another one: the
			 * machine's result is this loop's too (machine_run dumps
			 * for timeouts and hangs once every vCPU has stopped). */
			pthread_mutex_lock(&m->lock);
			if (m->stop_vcpu != v->id) {
				res->stop = m->stop_kind;
				res->status = m->stop_status;
				snprintf(res->cause, sizeof(res->cause), "%s", m->stop_msg);
			}
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
		if (deadline && now_ns() >= deadline) {
			char msg[128];
			snprintf(msg, sizeof(msg), "guest still running after --timeout %g s",
				 m->cfg.timeout_s);
			machine_request_stop(m, MACHINE_STOP_TIMEOUT, NB_EXIT_GUEST_FAULT, msg);
			continue;
		}
		if (!entered) {
			entered = true;
			/* --gdb-wait: stop for gdb before the first instruction. */
			if (vcpu_gdb_hook(v, VCPU_GDB_START, res) < 0) {
				machine_vcpu_stop(m, v, res);
				return 0;
			}
			if (v->id == 0)
				timeline_mark("first guest instruction");
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				/* gdb's Ctrl-C (or a new gdb connection) kicked us. */
				if (vcpu_gdb_hook(v, VCPU_GDB_INTR, res) < 0) {
					machine_vcpu_stop(m, v, res);
					return 0;
				}
				vcpu_hang_check(v); /* the hang watcher's round, if open */
				continue;
			}
			res->stop = MACHINE_STOP_ERROR;
			res->status = NB_EXIT_INTERNAL;
			cause(v, res, "KVM_RUN: %s", strerror(errno));
			machine_vcpu_stop(m, v, res);
			return -1;
		}
		/* Read by the hang watcher's thread (debug.c) as a sign of life. */
		__atomic_store_n(&v->exits_total, v->exits_total + 1, __ATOMIC_RELAXED);
		if (v->sync_regs && run->exit_reason != KVM_EXIT_SHUTDOWN)
			snapshot_exit(v);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->exits_io++;
			handle_io(v);
			break;
		case KVM_EXIT_MMIO:
			v->exits_mmio++;
			handle_mmio(v);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; with one, hlt sleeps in KVM. */
			fail(v, res, MACHINE_STOP_HLT, "guest halted (hlt) and nothing can wake it");
			return 0;
		case KVM_EXIT_SHUTDOWN:
			res->stop = MACHINE_STOP_SHUTDOWN;
			res->status = NB_EXIT_GUEST_FAULT;
			cause(v, res,
			      "triple fault (KVM_EXIT_SHUTDOWN): the guest raised an exception "
			      "it could not handle");
			machine_vcpu_stop(m, v, res);
			pthread_mutex_lock(&m->dump_lock);
			dump_shutdown(v, stderr, res->cause);
			pthread_mutex_unlock(&m->dump_lock);
			return 0;
		case KVM_EXIT_FAIL_ENTRY:
			fail(v, res, MACHINE_STOP_FAIL_ENTRY,
			     "VM entry failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x%llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return 0;
		case KVM_EXIT_SYSTEM_EVENT:
			res->stop = run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN
					    ? MACHINE_STOP_POWEROFF
					    : MACHINE_STOP_RESET;
			res->status = NB_EXIT_OK;
			snprintf(res->cause, sizeof(res->cause), "guest requested %s",
				 res->stop == MACHINE_STOP_POWEROFF ? "power-off" : "reset");
			machine_vcpu_stop(m, v, res);
			return 0;
		case KVM_EXIT_INTERNAL_ERROR: {
			/* int3 in ring 0 is an emulation failure on emulating hosts.
			 * A gdb stub's breakpoint goes to the stub; any other int3
			 * is completed below like every refused instruction (#BP
			 * injected, RIP past it).  The vCPU state is read only when
			 * a stub exists and KVM did not report the bytes. */
			if (m->gdb && run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
				uint8_t b[16];
				struct cpu_state s;
				int n = kvm_insn_bytes(run, b, 15);
				if (n == 0 && vcpu_get_state(v, &s) == 0)
					n = insn_bytes(v, &s, b, 15);
				if (n >= 1 && b[0] == 0xCC) {
					int g = vcpu_gdb_hook(v, VCPU_GDB_INT3, res);
					if (g < 0) {
						machine_vcpu_stop(m, v, res);
						return 0;
					}
					if (g > 0)
						continue;
				}
			}
			/* Issue 6: finish in user space what KVM's emulator refused
			 * (SSE, cmpxchg16b, xsave family, popcnt, ...) and resume;
			 * when nobios cannot either, it has said why: stop below. */
			if (vcpu_complete_insn(v) == 0)
				continue;
			fail(v, res, MACHINE_STOP_INTERNAL,
			     "KVM internal error, suberror %u (%s)", run->internal.suberror,
			     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				     ? "instruction emulation failed"
				     : "see KVM's api.rst");
			return 0;
		}
		case KVM_EXIT_DEBUG: {
			/* gdb stub: single step, hw breakpoint, #BP (issue 5). */
			int g = vcpu_gdb_hook(v, VCPU_GDB_DEBUG, res);
			if (g < 0) {
				machine_vcpu_stop(m, v, res);
				return 0;
			}
			if (g > 0)
				break;
			__attribute__((fallthrough)); /* nobody asked for debug exits */
		}
		default:
			fail(v, res, MACHINE_STOP_INTERNAL, "unexpected exit %u (%s)",
			     run->exit_reason, exit_name(run->exit_reason));
			return 0;
		}
	}
}
