/* gdb.c - the kvm layer's side of the gdb stub (src/debug/gdbstub.c): the
 * struct gdb_target callbacks (registers, KVM_SET_GUEST_DEBUG, kick), what
 * this host honours, and the hook the run loop calls when the guest stops
 * for the debugger.
 *
 * What differs between hosts (the stub serves whatever is missing by
 * single-stepping, see src/debug/gdb_break.c):
 *  - VMX/SVM: measured once per run with --gdb (src/kvm/gdb_probe.c), not
 *    assumed.  On hardware, int3 breakpoints use KVM_GUESTDBG_USE_SW_BP and
 *    come back as KVM_EXIT_DEBUG with exception 3 and RIP at the int3, DR0-3
 *    breakpoints and watchpoints fire.  In the SVM test host (QEMU TCG's
 *    SVM) neither does: the int3 reaches the guest, DR7 is never armed.
 *  - emulating hosts (kvm_pvm): not probed, the answers are known.  Ring-0
 *    code runs in KVM's instruction emulator, which cannot execute int3 and
 *    ends in an emulation-failure exit with RIP at the int3; the run loop
 *    hands that exit to the stub when the byte is one of the stub's.
 *    DR0-3 execute breakpoints work (and fire again at the same RIP when
 *    resumed, so the stub steps over them); data breakpoints never fire in
 *    the emulator.  KVM_CAP_GUEST_DEBUG_HW_BPS is not reported.
 *    Single-step gives one KVM_EXIT_DEBUG per instruction everywhere. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "debug/gdbstub.h"
#include "kvm/kvm.h"
#include "util/err.h"
#include "util/sandbox.h"

SANDBOX_NEEDS(kvm_gdb_needs, "gdb stub, KVM side (src/kvm/gdb.c)", SANDBOX_F_GDB,
	SB_IOCTL(KVM_SET_GUEST_DEBUG));

/* gdb's thread index -> vCPU (the stub numbers them 0..ncpus-1). */
static struct vcpu *target_vcpu(struct machine *m, unsigned cpu)
{
	if (cpu >= m->nvcpus) {
		nb_err("gdb: no vCPU %u (the guest has %u)", cpu, m->nvcpus);
		return NULL;
	}
	return &m->vcpus[cpu];
}

static int t_get_regs(void *ctx, unsigned cpu, struct cpu_state *s)
{
	struct vcpu *v = target_vcpu(ctx, cpu);
	return v ? vcpu_get_state(v, s) : -1;
}

static int t_set_regs(void *ctx, unsigned cpu, const struct cpu_state *s)
{
	struct vcpu *v = target_vcpu(ctx, cpu);
	return v ? vcpu_set_state(v, s) : -1;
}

static int t_set_debug(void *ctx, unsigned cpu, const struct gdb_debug *d)
{
	struct vcpu *v = target_vcpu(ctx, cpu);
	if (!v)
		return -1;
	struct kvm_guest_debug dbg;
	memset(&dbg, 0, sizeof(dbg));
	if (d->enable) {
		dbg.control = KVM_GUESTDBG_ENABLE;
		if (d->single_step)
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		if (d->sw_bp)
			dbg.control |= KVM_GUESTDBG_USE_SW_BP;
		/* The #BP KVM just intercepted was the guest's own int3: queue
		 * it for the guest (KVM re-delivers it as the software exception
		 * it was, RIP past the int3). */
		if (d->inject_bp)
			dbg.control |= KVM_GUESTDBG_INJECT_BP;
		if (d->hw_bp) {
			dbg.control |= KVM_GUESTDBG_USE_HW_BP;
			for (int i = 0; i < 4; i++)
				dbg.arch.debugreg[i] = d->dr[i];
			dbg.arch.debugreg[7] = d->dr7;
		}
	}
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return nb_err_errno("KVM_SET_GUEST_DEBUG");
	return 0;
}

static void t_kick(void *ctx)
{
	struct machine *m = ctx;
	vcpu_kick(&m->vcpus[0]);
}

static void t_dump(void *ctx, unsigned cpu, FILE *out)
{
	struct vcpu *v = target_vcpu(ctx, cpu);
	if (v)
		vcpu_dump(v, out, NULL);
}

/* What this host honours: kvm_pvm's answers are known (probing there
 * would only run the emulator's paths again); VMX/SVM hosts are asked. */
static void host_caps(struct machine *m, struct gdb_host_caps *caps)
{
	FILE *log = m->cfg.log;
	if (m->host.emulating) {
		*caps = (struct gdb_host_caps){ .int3 = true, .hw_exec = true, .hw_data = false };
		if (log)
			fprintf(log, "nobios: gdb: emulating host (not probed): int3 breakpoints "
				     "through emulation failures, DR0-3 execute breakpoints, "
				     "watchpoints by single-stepping and comparing memory\n");
		return;
	}
	struct kvm_debug_caps k;
	if (kvm_probe_guest_debug(m->kvm_fd, &k) < 0) {
		/* Without an answer, assume nothing: stepping serves everything. */
		*caps = (struct gdb_host_caps){ 0 };
		if (log)
			fprintf(log, "nobios: gdb: probe failed (%s): breakpoints and watchpoints "
				     "by single-stepping\n", nb_errmsg());
		return;
	}
	*caps = (struct gdb_host_caps){ .int3 = k.int3, .hw_exec = k.hw_exec, .hw_data = k.hw_data };
	if (!log)
		return;
	fprintf(log, "nobios: gdb: probed this host's KVM in %.1f ms\n", k.ms);
	if (k.int3)
		fprintf(log, "nobios: gdb: this host's KVM intercepts int3 (KVM_GUESTDBG_USE_SW_BP): "
			     "break patches int3\n");
	else
		fprintf(log, "nobios: gdb: this host's KVM does not intercept int3 "
			     "(KVM_GUESTDBG_USE_SW_BP; %s): break single-steps and compares RIP\n",
			k.int3_seen);
	if (k.hw_exec)
		fprintf(log, "nobios: gdb: this host's KVM fires DR0-3 execute breakpoints: "
			     "hbreak uses them\n");
	else
		fprintf(log, "nobios: gdb: this host's KVM does not fire DR0-3 execute breakpoints "
			     "(%s): hbreak single-steps and compares RIP\n", k.hw_exec_seen);
	if (k.hw_data)
		fprintf(log, "nobios: gdb: this host's KVM fires DR0-3 data breakpoints: "
			     "watch uses them\n");
	else
		fprintf(log, "nobios: gdb: this host's KVM does not fire DR0-3 data breakpoints "
			     "(%s): watch single-steps and compares memory, rwatch refused\n",
			k.hw_data_seen);
	if (!k.step)
		fprintf(log, "nobios: gdb: this host's KVM does not single-step either (%s): "
			     "stepi and the fallbacks above will not stop\n", k.step_seen);
}

int machine_gdb_setup(struct machine *m)
{
	if (!m->cfg.gdb_port)
		return 0;
	struct gdb_target t = {
		.ctx = m, .ncpus = m->nvcpus, .mem = &m->mem, .get_regs = t_get_regs,
		.set_regs = t_set_regs, .set_debug = t_set_debug, .kick = t_kick, .dump = t_dump,
	};
	host_caps(m, &t.caps);
	m->gdb = gdbstub_create(m->cfg.gdb_port, m->cfg.gdb_wait, &t);
	if (!m->gdb)
		return -1;
	if (!m->cfg.gdb_wait)
		fprintf(stderr, "nobios: gdb stub on 127.0.0.1:%d\n", gdbstub_port(m->gdb));
	return 0;
}

/* Called by the run loop: before the first KVM_RUN (VCPU_GDB_START), after
 * an interrupted KVM_RUN (VCPU_GDB_INTR), on KVM_EXIT_DEBUG and on an
 * emulation failure at an int3 byte (VCPU_GDB_INT3).  Returns 1 when the
 * stop was the debugger's and the guest should run on, 0 when it was not
 * (the loop handles the exit as usual), -1 when gdb killed the VM (res
 * filled). */
int vcpu_gdb_hook(struct vcpu *v, enum vcpu_gdb_event ev, struct machine_result *res)
{
	struct machine *m = v->m;
	if (!m->gdb)
		return 0;
	struct gdb_stop st = { 0 };
	switch (ev) {
	case VCPU_GDB_START:
		/* The APs wait for INIT/SIPI anyway: only the BSP stops here. */
		if (!m->cfg.gdb_wait || v->id != 0)
			return 0;
		st.kind = GDB_STOP_START;
		break;
	case VCPU_GDB_INTR:
		if (!gdbstub_interrupt_pending(m->gdb))
			return 0;
		st.kind = GDB_STOP_INTERRUPT;
		break;
	case VCPU_GDB_DEBUG:
		st.kind = GDB_STOP_DEBUG;
		st.exception = v->run->debug.arch.exception;
		st.dr6 = v->run->debug.arch.dr6;
		st.pc = v->run->debug.arch.pc;
		break;
	case VCPU_GDB_INT3: {
		struct cpu_state s;
		if (vcpu_get_state(v, &s) < 0)
			return 0;
		uint64_t lin = ((s.efer & X86_EFER_LMA) && s.cs.l) ? s.rip
								  : ((s.cs.base + s.rip) & 0xFFFFFFFFULL);
		if (!gdbstub_owns_breakpoint(m->gdb, lin))
			return 0;
		st.kind = GDB_STOP_INT3;
		break;
	}
	}
	/* One vCPU talks to gdb at a time; the others run on meanwhile (no
	 * all-stop mode for several vCPUs yet). */
	static pthread_mutex_t one_stop = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&one_stop);
	enum gdb_resume how = gdbstub_stop(m->gdb, (unsigned)v->id, &st);
	pthread_mutex_unlock(&one_stop);
	switch (how) {
	case GDB_KILL:
		res->stop = MACHINE_STOP_POWEROFF;
		res->status = NB_EXIT_OK;
		snprintf(res->cause, sizeof(res->cause), "killed from gdb");
		return -1;
	case GDB_QUIT:
		/* A signal ended the wait for gdb (machine_signal_stop): the run
		 * loop sees m->signal_stop before the guest runs again (KVM_RUN
		 * returns at once, immediate_exit is set) and stops with status
		 * 128 + signal. */
		return 1;
	case GDB_RESUME:
		break;
	}
	return 1;
}
