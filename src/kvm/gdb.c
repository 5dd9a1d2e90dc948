/* gdb.c - the kvm layer's side of the gdb stub (src/debug/gdbstub.c): the
 * struct gdb_target callbacks (registers, KVM_SET_GUEST_DEBUG, kick) and
 * the hook the run loop calls when the guest stops for the debugger.
 *
 * What differs between hosts:
 *  - VMX/SVM: int3 breakpoints use KVM_GUESTDBG_USE_SW_BP; KVM reports them
 *    as KVM_EXIT_DEBUG with exception 3 and RIP at the int3.
 *  - emulating hosts (kvm_pvm): ring-0 code runs in KVM's instruction
 *    emulator, which cannot execute int3 and ends in an emulation-failure
 *    exit with RIP at the int3; the run loop hands that exit to the stub
 *    when the byte is one of the stub's.  KVM_CAP_GUEST_DEBUG_HW_BPS is not
 *    reported, but DR0-3 breakpoints work; an execute breakpoint fires
 *    again at the same RIP when resumed, so the stub steps over it with it
 *    disabled.  Single-step gives one KVM_EXIT_DEBUG per instruction. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "debug/gdbstub.h"
#include "kvm/kvm.h"
#include "util/err.h"

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

int machine_gdb_setup(struct machine *m)
{
	if (!m->cfg.gdb_port)
		return 0;
	struct gdb_target t = {
		.ctx = m, .ncpus = m->nvcpus, .mem = &m->mem, .get_regs = t_get_regs,
		.set_regs = t_set_regs, .set_debug = t_set_debug, .kick = t_kick, .dump = t_dump,
		.soft_watch = m->host.emulating,
	};
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
	if (how == GDB_KILL) {
		res->stop = MACHINE_STOP_POWEROFF;
		res->status = NB_EXIT_OK;
		snprintf(res->cause, sizeof(res->cause), "killed from gdb");
		return -1;
	}
	return 1;
}
