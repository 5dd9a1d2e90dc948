/* gdb_probe.c - measure, once, which guest-debugging mechanisms this host's
 * KVM honours, so the gdb stub uses the real ones and serves the rest by
 * single-stepping.
 *
 * Why measure instead of trusting VMX/SVM: a host that calls itself SVM may
 * still drop them.  QEMU 7.2's TCG, emulating AMD SVM for the SVM test host
 * (tests/svm/run), checks the INTn intercept instead of the #BP exception
 * intercept for int3 (target/i386/tcg/excp_helper.c), so an int3 patched in
 * by the stub reaches the guest even with KVM_GUESTDBG_USE_SW_BP; and its
 * VMRUN assigns DR7 from the VMCB without arming the breakpoints
 * (svm_helper.c), so DR0-3 never fire.  On VMX and SVM hardware all of them
 * work.  Only a measurement tells the two apart.
 *
 * The probe is a throwaway VM: one page of RAM at guest-physical 0, no
 * irqchip (hlt then exits to user space), one vCPU in real mode.  Every
 * interrupt vector points at its own hlt byte, so a probe that the host
 * does not intercept ends in KVM_EXIT_HLT and the RIP says which vector the
 * guest took.  Four tries of a few instructions each:
 *   int3   KVM_GUESTDBG_USE_SW_BP: KVM_EXIT_DEBUG, exception 3 (#BP), PC at
 *          the int3 (KVM api.rst, "KVM_SET_GUEST_DEBUG");
 *   exec   DR0 execute breakpoint, KVM_GUESTDBG_USE_HW_BP: exception 1
 *          (#DB) with DR6.B0, PC at the breakpoint;
 *   write  DR0 one-byte write watchpoint: #DB with DR6.B0 after the mov;
 *   step   KVM_GUESTDBG_SINGLESTEP: #DB with DR6.BS after one instruction.
 * Real mode is what a one-page VM runs without set-up; a host that treated
 * real mode worse than the guest's later modes (VMX without unrestricted
 * guest emulates parts of it) would be judged by real mode, which errs on
 * the safe side: the stepping fallbacks work everywhere.
 * A periodic timer signal bounds each KVM_RUN; the whole probe gives up
 * after PROBE_LIMIT_MS.  In the SVM test host it takes 80-120 ms (most of
 * it creating and destroying the VM under TCG); the tries themselves take
 * a few milliseconds there. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "mem/layout.h"
#include "util/err.h"

#define PROBE_LIMIT_MS 500
#define PROBE_TICK_MS 20

/* The probe page: IVT, one hlt byte per vector, the code of each try, a
 * data byte for the watchpoint, the stack. */
#define PG_IVT 0x000        /* 256 vectors, 4 bytes each (offset, segment) */
#define PG_HANDLERS 0x400   /* vector v: hlt at PG_HANDLERS + v */
#define PG_CODE_INT3 0x600
#define PG_CODE_EXEC 0x610
#define PG_CODE_WRITE 0x620
#define PG_CODE_STEP 0x630
#define PG_DATA 0x800
#define PG_STACK 0xF00

#define X86_OP_INT3 0xCC
#define X86_OP_NOP 0x90
#define X86_OP_HLT 0xF4
#define X86_OP_MOV_MOFFS8_AL 0xA2 /* mov moffs16, al (16-bit address size) */

#define X86_VEC_DB 1
#define X86_VEC_BP 3
/* DR6 (SDM vol 3B 19.2.3): B0 breakpoint 0 matched, BS single step. */
#define X86_DR6_B0 (1ULL << 0)
#define X86_DR6_BS (1ULL << 14)
/* DR7 (SDM vol 3B 19.2.4): L0, GE, bit 10 reserved as 1; R/W0 at 16, LEN0 at 18. */
#define X86_DR7_L0 (1ULL << 0)
#define X86_DR7_GE (1ULL << 9)
#define X86_DR7_FIXED1 (1ULL << 10)
#define X86_DR7_RW0_WRITE (1ULL << 16)

struct probe_vm {
	int vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *page;
	struct timespec t0;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void page_build(uint8_t *p)
{
	memset(p, 0, 4096);
	for (unsigned v = 0; v < 256; v++) {
		uint16_t off = (uint16_t)(PG_HANDLERS + v);
		p[PG_IVT + 4 * v] = (uint8_t)off;
		p[PG_IVT + 4 * v + 1] = (uint8_t)(off >> 8);
		/* segment 0 (already zero) */
		p[PG_HANDLERS + v] = X86_OP_HLT;
	}
	const uint8_t int3[] = { X86_OP_INT3, X86_OP_HLT };
	const uint8_t exec[] = { X86_OP_NOP, X86_OP_NOP, X86_OP_HLT };
	const uint8_t write[] = { X86_OP_MOV_MOFFS8_AL, PG_DATA & 0xFF, PG_DATA >> 8, X86_OP_NOP,
				  X86_OP_HLT };
	const uint8_t step[] = { X86_OP_NOP, X86_OP_NOP, X86_OP_HLT };
	memcpy(p + PG_CODE_INT3, int3, sizeof(int3));
	memcpy(p + PG_CODE_EXEC, exec, sizeof(exec));
	memcpy(p + PG_CODE_WRITE, write, sizeof(write));
	memcpy(p + PG_CODE_STEP, step, sizeof(step));
}

static int probe_vm_create(int kvm_fd, struct probe_vm *pv)
{
	pv->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (pv->vm_fd < 0)
		return nb_err_errno("gdb probe: KVM_CREATE_VM");
	/* VMX without unrestricted guest runs real mode through vm86, which
	 * needs these; both lie far outside the probe's one page. */
	if (ioctl(pv->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return nb_err_errno("gdb probe: KVM_SET_TSS_ADDR");
	uint64_t idmap = LAYOUT_KVM_IDENTITY;
	if (ioctl(pv->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return nb_err_errno("gdb probe: KVM_SET_IDENTITY_MAP_ADDR");
	pv->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pv->page == MAP_FAILED) {
		pv->page = NULL;
		return nb_err_errno("gdb probe: mmap");
	}
	page_build(pv->page);
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
						 .memory_size = 4096,
						 .userspace_addr = (uintptr_t)pv->page };
	if (ioctl(pv->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return nb_err_errno("gdb probe: KVM_SET_USER_MEMORY_REGION");
	pv->vcpu_fd = ioctl(pv->vm_fd, KVM_CREATE_VCPU, 0);
	if (pv->vcpu_fd < 0)
		return nb_err_errno("gdb probe: KVM_CREATE_VCPU");
	int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return nb_err_errno("gdb probe: KVM_GET_VCPU_MMAP_SIZE");
	pv->run_size = (size_t)sz;
	pv->run = mmap(NULL, pv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, pv->vcpu_fd, 0);
	if (pv->run == MAP_FAILED) {
		pv->run = NULL;
		return nb_err_errno("gdb probe: mmap kvm_run");
	}
	/* Real mode at 0000:xxxx: the reset state with CS moved from F000 to 0. */
	struct kvm_sregs sr;
	if (ioctl(pv->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return nb_err_errno("gdb probe: KVM_GET_SREGS");
	sr.cs.selector = 0;
	sr.cs.base = 0;
	if (ioctl(pv->vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		return nb_err_errno("gdb probe: KVM_SET_SREGS");
	return 0;
}

static void probe_vm_destroy(struct probe_vm *pv)
{
	if (pv->run)
		munmap(pv->run, pv->run_size);
	if (pv->vcpu_fd >= 0)
		close(pv->vcpu_fd);
	if (pv->vm_fd >= 0)
		close(pv->vm_fd);
	if (pv->page)
		munmap(pv->page, 4096);
}

/* What one try ended in. */
struct probe_exit {
	bool debug;         /* KVM_EXIT_DEBUG */
	unsigned exception;
	uint64_t dr6, pc;
	int guest_vector;   /* KVM_EXIT_HLT in a vector's handler: the vector, else -1 */
	uint32_t reason;
};

/* Run from rip with the given guest-debug control; -1 with nb_err when KVM
 * failed or the time ran out. */
static int probe_try(struct probe_vm *pv, uint64_t rip, const struct kvm_guest_debug *dbg,
		     struct probe_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->guest_vector = -1;
	struct kvm_regs r = { .rip = rip, .rflags = 0x2, .rsp = PG_STACK };
	if (ioctl(pv->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return nb_err_errno("gdb probe: KVM_SET_REGS");
	if (ioctl(pv->vcpu_fd, KVM_SET_GUEST_DEBUG, dbg) < 0)
		return nb_err_errno("gdb probe: KVM_SET_GUEST_DEBUG");
	for (;;) {
		if (ms_since(&pv->t0) > PROBE_LIMIT_MS)
			return nb_err_internal("gdb probe: no answer from KVM within %d ms",
					       PROBE_LIMIT_MS);
		if (ioctl(pv->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* the timer tick: check the limit */
			return nb_err_errno("gdb probe: KVM_RUN");
		}
		e->reason = pv->run->exit_reason;
		if (e->reason == KVM_EXIT_INTR)
			continue;
		if (e->reason == KVM_EXIT_DEBUG) {
			e->debug = true;
			e->exception = pv->run->debug.arch.exception;
			e->dr6 = pv->run->debug.arch.dr6;
			e->pc = pv->run->debug.arch.pc;
		} else if (e->reason == KVM_EXIT_HLT) {
			struct kvm_regs now;
			if (ioctl(pv->vcpu_fd, KVM_GET_REGS, &now) == 0 && now.rip > PG_HANDLERS &&
			    now.rip <= PG_HANDLERS + 256)
				e->guest_vector = (int)(now.rip - PG_HANDLERS - 1);
		}
		return 0;
	}
}

/* One line for -v: what a try that was not intercepted ended in. */
static void probe_explain(const struct probe_exit *e, char *buf, size_t n)
{
	if (e->debug)
		snprintf(buf, n, "debug exit with exception %u, DR6 %#llx, PC %#llx", e->exception,
			 (unsigned long long)e->dr6, (unsigned long long)e->pc);
	else if (e->guest_vector >= 0)
		snprintf(buf, n, "the guest took vector %d", e->guest_vector);
	else if (e->reason == KVM_EXIT_HLT)
		snprintf(buf, n, "the guest ran on to its hlt");
	else
		snprintf(buf, n, "exit reason %u", e->reason);
}

int kvm_probe_guest_debug(int kvm_fd, struct kvm_debug_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	struct probe_vm pv = { .vm_fd = -1, .vcpu_fd = -1 };
	clock_gettime(CLOCK_MONOTONIC, &pv.t0);
	/* The run loop's kick signal (SIGUSR1, installed by machine_start)
	 * interrupts a KVM_RUN that does not return by itself. */
	timer_t timer;
	bool have_timer = false;
	struct sigaction cur;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	sev._sigev_un._tid = gettid();
	if (sigaction(SIGUSR1, NULL, &cur) == 0 && cur.sa_handler != SIG_DFL &&
	    cur.sa_handler != SIG_IGN && timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0) {
		struct itimerspec its = { .it_value = { 0, PROBE_TICK_MS * 1000000L },
					  .it_interval = { 0, PROBE_TICK_MS * 1000000L } };
		timer_settime(timer, 0, &its, NULL);
		have_timer = true;
	}
	int rc = -1;
	struct probe_exit e;
	if (probe_vm_create(kvm_fd, &pv) < 0)
		goto out;

	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP };
	if (probe_try(&pv, PG_CODE_INT3, &dbg, &e) < 0)
		goto out;
	caps->int3 = e.debug && e.exception == X86_VEC_BP && e.pc == PG_CODE_INT3;
	probe_explain(&e, caps->int3_seen, sizeof(caps->int3_seen));

	memset(&dbg, 0, sizeof(dbg));
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	dbg.arch.debugreg[0] = PG_CODE_EXEC + 1;
	dbg.arch.debugreg[7] = X86_DR7_L0 | X86_DR7_GE | X86_DR7_FIXED1; /* R/W0 00: execute */
	if (probe_try(&pv, PG_CODE_EXEC, &dbg, &e) < 0)
		goto out;
	caps->hw_exec = e.debug && e.exception == X86_VEC_DB && (e.dr6 & X86_DR6_B0) &&
			e.pc == PG_CODE_EXEC + 1;
	probe_explain(&e, caps->hw_exec_seen, sizeof(caps->hw_exec_seen));

	dbg.arch.debugreg[0] = PG_DATA;
	dbg.arch.debugreg[7] = X86_DR7_L0 | X86_DR7_GE | X86_DR7_FIXED1 | X86_DR7_RW0_WRITE;
	if (probe_try(&pv, PG_CODE_WRITE, &dbg, &e) < 0)
		goto out;
	caps->hw_data = e.debug && e.exception == X86_VEC_DB && (e.dr6 & X86_DR6_B0);
	probe_explain(&e, caps->hw_data_seen, sizeof(caps->hw_data_seen));

	memset(&dbg, 0, sizeof(dbg));
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (probe_try(&pv, PG_CODE_STEP, &dbg, &e) < 0)
		goto out;
	caps->step = e.debug && e.exception == X86_VEC_DB && (e.dr6 & X86_DR6_BS) &&
		     e.pc == PG_CODE_STEP + 1;
	probe_explain(&e, caps->step_seen, sizeof(caps->step_seen));
	rc = 0;
out:
	if (have_timer)
		timer_delete(timer);
	probe_vm_destroy(&pv);
	caps->ms = ms_since(&pv.t0);
	return rc;
}
