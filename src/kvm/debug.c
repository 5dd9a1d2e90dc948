/* debug.c - the kvm layer's side of nobios's debugging aids (issue 5):
 * KVM's binary statistics (KVM_GET_STATS_FD), the extra parts of a failure
 * dump that need KVM (pending events, entry-failure reason and checks, the
 * translation of RIP and RSP) and the --timeline report at exit. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpu/pagewalk.h"
#include "debug/timeline.h"
#include "kvm/kvm.h"
#include "util/err.h"
#include "util/sandbox.h"

/* While the guest runs: the hlt-with-IF=0 check, failure dumps (events),
 * and the --timeline counters at exit (util/sandbox.h). */
SANDBOX_NEEDS(debug_needs, "failure dumps, hang watch, --timeline (src/kvm/debug.c)", 0,
	SB_IOCTL(KVM_GET_MP_STATE), SB_IOCTL(KVM_GET_REGS), SB_IOCTL(KVM_GET_VCPU_EVENTS),
	SB_IOCTL(KVM_GET_STATS_FD), SB_ALLOW(pread64));

/* Read the counters of a VM or vCPU fd through its binary stats fd (KVM
 * api.rst 4.133 "KVM_GET_STATS_FD"): header, descriptors, data.  Only
 * single-value stats are kept (histograms are skipped).  Returns the number
 * of stats stored, or -1 with nb_err when the host has no stats fd. */
int kvm_stats_read(int fd, struct nb_stat *out, unsigned max)
{
	int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);
	if (sfd < 0)
		return nb_err_errno("KVM_GET_STATS_FD");
	struct kvm_stats_header h;
	int n = -1;
	char *desc = NULL;
	uint64_t *data = NULL;
	if (pread(sfd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		nb_err_errno("KVM stats header");
		goto out;
	}
	/* Sanity limits: these come from the kernel, but a bad header must
	 * not make us allocate gigabytes. */
	if (h.num_desc > 4096 || h.name_size > 1024 || h.name_size == 0) {
		nb_err_internal("KVM stats header: %u descriptors, name size %u", h.num_desc,
				h.name_size);
		goto out;
	}
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	desc = calloc(h.num_desc ? h.num_desc : 1, dsz);
	if (!desc || pread(sfd, desc, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc)) {
		nb_err_errno("KVM stats descriptors");
		goto out;
	}
	/* Data size: the end of the furthest descriptor. */
	uint64_t words = 0;
	for (unsigned i = 0; i < h.num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(desc + i * dsz);
		uint64_t end = (uint64_t)d->offset / 8 + d->size;
		if (end > words)
			words = end;
	}
	if (words > 1 << 20) {
		nb_err_internal("KVM stats data too large");
		goto out;
	}
	data = calloc(words ? words : 1, 8);
	if (!data || pread(sfd, data, words * 8, h.data_offset) != (ssize_t)(words * 8)) {
		nb_err_errno("KVM stats data");
		goto out;
	}
	n = 0;
	for (unsigned i = 0; i < h.num_desc && (unsigned)n < max; i++) {
		const struct kvm_stats_desc *d = (const void *)(desc + i * dsz);
		if (d->size != 1)
			continue; /* histogram */
		unsigned type = d->flags & KVM_STATS_TYPE_MASK;
		struct nb_stat *s = &out[n++];
		snprintf(s->name, sizeof(s->name), "%.*s", (int)h.name_size, d->name);
		s->value = data[d->offset / 8];
		s->peak = type != KVM_STATS_TYPE_CUMULATIVE;
	}
out:
	free(desc);
	free(data);
	close(sfd);
	return n;
}

static const char *const exc_name[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound", "#UD invalid opcode", "#NM device not available", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87", "#AC alignment check", "#MC machine check", "#XM SIMD",
	"#VE virtualization", "#CP control protection",
};

/* The parts of the failure dump that need KVM or guest memory. */
void vcpu_dump_extra(struct vcpu *v, FILE *out, const struct cpu_state *s,
		     const struct kvm_vcpu_events *snap_ev)
{
	struct kvm_run *run = v->run;
	char buf[256];
	bool paging = (s->cr0 & X86_CR0_PG) && (s->cr0 & X86_CR0_PE);
	if (paging) {
		struct cpu_walk w;
		uint64_t pa = 0;
		uint64_t lin = s->cs.base + s->rip;
		int r = cpu_translate(&v->m->mem, s, lin, &pa, &w);
		fprintf(out, "  RIP translation: %s\n", cpu_walk_describe(&w, lin, pa, buf, sizeof(buf)));
		(void)r;
		lin = s->ss.base + s->gpr[CPU_RSP];
		cpu_translate(&v->m->mem, s, lin, &pa, &w);
		fprintf(out, "  RSP translation: %s\n", cpu_walk_describe(&w, lin, pa, buf, sizeof(buf)));
		if (s->cr2) {
			cpu_translate(&v->m->mem, s, s->cr2, &pa, &w);
			fprintf(out, "  CR2 translation: %s\n",
				cpu_walk_describe(&w, s->cr2, pa, buf, sizeof(buf)));
		}
	}
	/* Stack words: often the fastest way to see where a fault came from. */
	uint64_t words[4];
	unsigned wsz = cpu_mode_of(s) == CPU_MODE_LONG ? 8 : 4;
	uint64_t sp = s->ss.base + (wsz == 8 ? s->gpr[CPU_RSP] : (s->gpr[CPU_RSP] & 0xFFFFFFFF));
	uint8_t raw[32];
	size_t got = cpu_read_linear(&v->m->mem, s, sp, raw, 4 * wsz);
	if (got >= wsz) {
		fprintf(out, "  stack:");
		for (unsigned i = 0; i < got / wsz && i < 4; i++) {
			words[i] = 0;
			memcpy(&words[i], raw + i * wsz, wsz);
			fprintf(out, wsz == 8 ? " %016" PRIx64 : " %08" PRIx64, words[i]);
		}
		fputc('\n', out);
	}
	/* A guest asleep in hlt with IF=0 never wakes (no NMI source here):
	 * say so, since the registers alone look healthy. */
	struct kvm_mp_state mp;
	if (!snap_ev && ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0 &&
	    mp.mp_state == KVM_MP_STATE_HALTED)
		fprintf(out, "  vCPU halted (hlt)%s\n",
			(s->rflags & X86_RFLAGS_IF) ? " with IF=1: waiting for an interrupt"
						    : " with IF=0: nothing can wake it");
	struct kvm_vcpu_events ev;
	if (snap_ev)
		ev = *snap_ev;
	if (snap_ev || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
		bool any = false;
		if (ev.exception.injected || ev.exception.pending) {
			unsigned nr = ev.exception.nr;
			fprintf(out, "  pending exception: vector %u (%s)%s", nr,
				nr < 32 && exc_name[nr] ? exc_name[nr] : "?",
				ev.exception.injected ? " injected" : " pending");
			if (ev.exception.has_error_code)
				fprintf(out, " error code 0x%x", ev.exception.error_code);
			fputc('\n', out);
			any = true;
		}
		if (ev.interrupt.injected) {
			fprintf(out, "  pending interrupt: vector %u%s\n", ev.interrupt.nr,
				ev.interrupt.soft ? " (software)" : "");
			any = true;
		}
		if (ev.nmi.injected || ev.nmi.pending) {
			fprintf(out, "  NMI %s%s\n", ev.nmi.injected ? "injected" : "pending",
				ev.nmi.masked ? " (masked)" : "");
			any = true;
		}
		if (ev.interrupt.shadow)
			fprintf(out, "  interrupt shadow: %s\n",
				(ev.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS) ? "mov ss/pop ss" : "sti");
		if (!any)
			fprintf(out, "  pending events: none\n");
	}
	/* The VMX guest-state checks explain entry failures, and only those. */
	if (snap_ev || !run || run->exit_reason != KVM_EXIT_FAIL_ENTRY)
		return;
	uint64_t r = run->fail_entry.hardware_entry_failure_reason;
	/* VMX basic exit reason 33 = "VM-entry failure due to invalid guest
	 * state", 34 = "... MSR loading", 41 = "... machine-check event"
	 * (SDM vol 3D appendix C); bit 31 marks an entry failure.  SVM reports
	 * VMEXIT_INVALID (-1) for an inconsistent VMCB. */
	unsigned basic = (unsigned)(r & 0xFFFF);
	const char *what = r == ~0ULL     ? "SVM VMEXIT_INVALID: invalid VMCB state"
			   : basic == 33 ? "invalid guest state"
			   : basic == 34 ? "MSR loading"
			   : basic == 41 ? "machine-check event"
					 : "see SDM vol 3D appendix C";
	fprintf(out, "  entry failure: hardware reason 0x%llx (basic exit reason %u: %s), cpu %u\n",
		(unsigned long long)r, basic, what, run->fail_entry.cpu);
	if (v->m->host.svm)
		return; /* the VMX checks say nothing about a VMCB */
	char checks[2048];
	unsigned flags = v->m->host.vmx_no_unrestricted ? CPU_CHECK_NO_UNRESTRICTED : 0;
	int n = cpu_check_entry_state_ex(s, flags, checks, sizeof(checks));
	if (n > 0) {
		fprintf(out, "  VMX guest-state checks violated (SDM vol 3C 26.3.1): %d\n", n);
		for (char *line = strtok(checks, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(out, "    - %s\n", line);
	} else {
		fprintf(out, "  VMX guest-state checks (SDM vol 3C 26.3.1): none violated\n");
	}
}

/* The --timeline report at exit, with KVM's counters: the VM's and each
 * vCPU's ("vcpu0", "vcpu1", ...). */
void machine_timeline_report(struct machine *m, const struct machine_result *res)
{
	enum { MAX_STATS = 128 };
	unsigned nsets = 1 + m->nvcpus;
	struct nb_stat *stats = calloc((size_t)nsets * MAX_STATS, sizeof(*stats));
	struct timeline_stats *st = calloc(nsets, sizeof(*st));
	char(*names)[16] = calloc(nsets, sizeof(*names));
	unsigned nst = 0;
	if (stats && st && names) {
		int n = kvm_stats_read(m->vm_fd, stats, MAX_STATS);
		if (n >= 0)
			st[nst++] = (struct timeline_stats){ "vm", stats, (unsigned)n };
		for (unsigned i = 0; i < m->nvcpus; i++) {
			if (m->vcpus[i].fd < 0)
				continue;
			struct nb_stat *vs = stats + (size_t)(1 + i) * MAX_STATS;
			n = kvm_stats_read(m->vcpus[i].fd, vs, MAX_STATS);
			if (n < 0)
				continue;
			snprintf(names[nst], sizeof(names[nst]), "vcpu%u", i);
			st[nst] = (struct timeline_stats){ names[nst], vs, (unsigned)n };
			nst++;
		}
	}
	timeline_print(stderr, m->cfg.timeline_json, st, nst, res ? res->cause : NULL,
		       res ? res->status : 0);
	free(names);
	free(st);
	free(stats);
}

/* ---- a guest that can never run again ----
 * With the in-kernel irqchip, hlt sleeps inside KVM_RUN and never exits to
 * us.  A vCPU halted with IF=0 (and no NMI pending: this machine has no
 * NMI source) can only be woken by another vCPU (an NMI, INIT or SIPI IPI),
 * and so can an AP the guest never started (waiting for INIT/SIPI).  When
 * every vCPU is in one of those states at once, nothing can ever wake the
 * guest.  With several vCPUs "at once" matters: a watcher thread opens a
 * round every HANG_CHECK_MS in which the guest made no exit (below) and
 * kicks every vCPU out of KVM_RUN; each looks at
 * itself (vcpu_hang_check); one that can run reports so and goes on, which
 * ends the round; one that cannot reports and waits, out of KVM_RUN, for
 * the verdict.  Only if all report "cannot run" while all are waiting
 * (nobody left in the guest to send an IPI) is the guest declared dead.  A
 * vCPU that does not answer within HANG_REPLY_MS (gdb holds it, a long
 * completion) ends the round as "alive".  A waiting vCPU would have slept
 * anyway; at worst an IPI sent to it during the round is taken
 * HANG_REPLY_MS late. */
#define HANG_CHECK_MS 500
#define HANG_REPLY_MS 100

/* A guest that can never run again makes no exit, so a round is opened
 * only after a tick in which no vCPU made one: a busy guest (a booting
 * kernel, I/O) is never kicked.  Kicks are not free: each is a signal and
 * an exit for every vCPU, and under nested virtualization an interrupt
 * that the outer hypervisor must deliver in the middle of the guest. */
static uint64_t exits_so_far(const struct machine *m)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < m->nvcpus; i++)
		n += __atomic_load_n(&m->vcpus[i].exits_total, __ATOMIC_RELAXED);
	return n;
}

struct hang_watch {
	struct machine *m;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* the watcher waits for replies, vCPUs for the verdict */
	bool quit;
	atomic_uint round;         /* open round (0: none) */
	unsigned replies, asleep;  /* in the open round */
	unsigned decided;          /* the last round with a verdict */
};

static struct timespec deadline_in(unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static void *hang_watch_main(void *arg)
{
	struct hang_watch *h = arg;
	struct machine *m = h->m;
	unsigned round = 0;
	uint64_t exits = exits_so_far(m);
	pthread_mutex_lock(&h->lock);
	while (!h->quit) {
		struct timespec ts = deadline_in(HANG_CHECK_MS);
		pthread_cond_timedwait(&h->cond, &h->lock, &ts);
		if (h->quit)
			break;
		uint64_t now = exits_so_far(m);
		if (now != exits) {
			exits = now; /* some vCPU ran since the last tick */
			continue;
		}
		if (++round == 0)
			round = 1;
		h->replies = h->asleep = 0;
		atomic_store(&h->round, round);
		machine_kick_all(m);
		ts = deadline_in(HANG_REPLY_MS);
		while (!h->quit && h->asleep == h->replies && h->replies < m->nvcpus)
			if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) != 0)
				break; /* someone did not answer: alive */
		bool dead = !h->quit && h->asleep == m->nvcpus;
		atomic_store(&h->round, 0);
		h->decided = round;
		pthread_cond_broadcast(&h->cond);
		if (dead) {
			pthread_mutex_unlock(&h->lock);
			machine_request_stop(m, MACHINE_STOP_HLT, NB_EXIT_GUEST_FAULT,
					     m->nvcpus == 1
						     ? "guest halted with interrupts disabled (hlt "
						       "with IF=0): nothing can wake it"
						     : "every vCPU is halted with interrupts disabled "
						       "or waits for INIT/SIPI: nothing can wake the "
						       "guest");
			pthread_mutex_lock(&h->lock);
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

void machine_hang_watch_start(struct machine *m)
{
	struct hang_watch *h = calloc(1, sizeof(*h));
	if (!h)
		return; /* best effort: --timeout still ends a hung guest */
	h->m = m;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	/* The watcher must not take the vCPU threads' kick signal itself. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* the sandbox's refusals must reach their handler */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&h->thread, NULL, hang_watch_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		free(h);
		return;
	}
	m->hang = h;
}

void machine_hang_watch_stop(struct machine *m)
{
	struct hang_watch *h = m->hang;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->quit = true; /* releases any vCPU waiting for a verdict */
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	m->hang = NULL;
	free(h);
}

bool vcpu_waiting_for_sipi(struct vcpu *v)
{
	struct kvm_mp_state mp;
	if (v->fd < 0 || ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return false;
	return mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
	       mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
}

/* Can this vCPU not run by itself (see above)? */
static bool vcpu_asleep_for_good(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs r;
	struct kvm_vcpu_events ev;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return false;
	if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return true;
	if (mp.mp_state != KVM_MP_STATE_HALTED)
		return false;
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || (r.rflags & X86_RFLAGS_IF))
		return false;
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0 && (ev.nmi.pending || ev.nmi.injected))
		return false;
	return true;
}

void vcpu_hang_check(struct vcpu *v)
{
	struct hang_watch *h = v->m->hang;
	if (!h)
		return;
	unsigned round = atomic_load(&h->round);
	if (round == 0 || round == v->hang_round)
		return;
	v->hang_round = round;
	bool asleep = vcpu_asleep_for_good(v);
	pthread_mutex_lock(&h->lock);
	if (atomic_load(&h->round) == round && h->decided != round) {
		h->replies++;
		h->asleep += asleep;
		pthread_cond_broadcast(&h->cond);
		while (asleep && h->decided != round && !h->quit)
			pthread_cond_wait(&h->cond, &h->lock);
	}
	pthread_mutex_unlock(&h->lock);
}
