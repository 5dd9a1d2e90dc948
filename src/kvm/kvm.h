/* kvm.h - the KVM layer's internal types: the one place KVM types appear.
 * Everything above src/kvm/ sees struct machine only through src/nobios.h. */
#ifndef NOBIOS_KVM_KVM_H
#define NOBIOS_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/disk_image.h"
#include "boot/boot.h"
#include "cpu/cpu.h"
#include "dev/dev.h"
#include "mem/mem.h"
#include "nobios.h"

struct gdbstub;
struct hang_watch;

/* What this host's KVM can and cannot do, detected once (kvm_host_detect). */
struct kvm_host {
	bool hw_virt;     /* the host CPU has VMX or SVM */
	bool svm;         /* AMD SVM (kvm_amd) */
	bool emulating;   /* ring-0/real-mode guest code runs in KVM's emulator (kvm_pvm) */
	/* KVM reinitialises the vCPU at a triple fault before KVM_EXIT_SHUTDOWN
	 * reaches user space (SVM: the VMCB is undefined after a SHUTDOWN
	 * intercept), so the run loop keeps the state of every exit. */
	bool shutdown_resets;
	bool vmx_no_unrestricted; /* kvm_intel's unrestricted_guest is off */
	char desc[256];   /* one line for -v */
};

/* The vCPU's state as KVM copied it out at an exit (KVM_CAP_SYNC_REGS). */
struct vcpu_snapshot {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	uint32_t exit_reason;
	uint16_t port;        /* KVM_EXIT_IO */
	uint8_t io_out;
	uint64_t mmio_addr;   /* KVM_EXIT_MMIO */
	uint64_t ns;          /* CLOCK_MONOTONIC at the exit */
};

/* One vCPU: its fd, its kvm_run, the thread that runs it (vCPU 0 runs in
 * machine_run's caller, the others each in a thread of their own), and
 * everything only that thread touches while the guest runs. */
struct vcpu {
	struct machine *m;
	int id;                             /* KVM vCPU id = APIC ID */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	atomic_bool started;                /* thread is set: kicks may signal it */
	bool joinable;                      /* a thread of its own to join */
	struct vcpu_completion *completion; /* complete.c: engine and counts, created on first use */
	bool sync_regs;                     /* KVM copies regs/sregs/events out at every exit */
	bool have_last;
	struct vcpu_snapshot last;          /* the state at the last exit (sync_regs only) */
	struct machine_result res;          /* how this vCPU's run loop ended */
	unsigned hang_round;                /* debug.c: the last hang-check round answered */
	/* counters for -v, written by this vCPU's thread only; exits_total is
	 * also read by the hang watcher (atomically: debug.c) */
	uint64_t exits_io, exits_mmio, exits_total, int3_injected;
};

#define MAX_DEVICES 32

struct machine {
	struct machine_config cfg;
	int kvm_fd, vm_fd;
	struct kvm_host host;
	struct guest_mem mem;
	struct bus bus;
	struct dev_host dev_host;
	struct { const struct device *dev; void *state; } devs[MAX_DEVICES];
	unsigned ndevs;
	struct vcpu *vcpus;          /* nvcpus of them; vcpus[0] is the BSP */
	unsigned nvcpus;
	struct platform plat;        /* planned in machine_create (boot/platform.h) */
	/* --disk images, opened in machine_create; served by virtio-blk (which
	 * flushes and closes them in its finish hook) and, the first, by the
	 * pseudo-BIOS.  ndisks_open of them are open. */
	struct disk_image disks[BOOT_MAX_DISKS];
	unsigned ndisks_open;
	/* --net TAPs open (m->cfg.net[i].fd, closed by machine_destroy). */
	unsigned nnets_open;
	struct cpu_state entry;      /* the loader's entry state */
	void *rom;                   /* LAYOUT_ROM_SIZE bytes behind the read-only slot, or NULL */
	struct boot_ctx boot;        /* what the loader reported */
	/* stop requests from devices, timers and signals */
	atomic_bool stop;
	volatile sig_atomic_t signal_stop; /* signal number from machine_signal_stop */
	enum machine_stop stop_kind;
	int stop_status;
	char stop_msg[256];
	int stop_vcpu;               /* the vCPU whose own exit stopped the machine, or -1 */
	pthread_mutex_t lock;
	/* Device handlers are written for one caller at a time: port I/O and
	 * MMIO exits from several vCPU threads take this lock around the bus. */
	pthread_mutex_t io_lock;
	/* One failure dump on stderr at a time. */
	pthread_mutex_t dump_lock;
	/* KVM_GET_SUPPORTED_CPUID, read once for all vCPUs (cpuid.c). */
	struct kvm_cpuid2 *supported_cpuid;
	/* What every vCPU's set-up needs and is the same for all of them, read
	 * once (setup_vcpus, kvm_cpuid_setup): each is an ioctl, and these
	 * were three of a vCPU's six. */
	size_t vcpu_run_size;        /* KVM_GET_VCPU_MMAP_SIZE */
	bool vcpu_sync_regs;         /* have KVM copy regs/sregs/events out at every exit */
	int tsc_khz;                 /* KVM_GET_TSC_KHZ of vCPU 0 (nobios never sets a rate) */
	struct gdbstub *gdb;         /* --gdb stub or NULL (issue 5) */
	struct hang_watch *hang;     /* hlt-with-IF=0 watcher (debug.c) */
};

/* cpuid.c: host detection and the CPUID policy (the one place for both). */
int kvm_host_detect(int kvm_fd, struct kvm_host *h);
int kvm_cpuid_setup(struct machine *m, struct vcpu *v);

/* vcpu.c */
/* The per-VM facts vcpu_create uses (m->vcpu_run_size, m->vcpu_sync_regs),
 * once before the first vCPU. */
int vcpu_probe(struct machine *m);
/* Create vCPU id (KVM_CREATE_VCPU, kvm_run, CPUID); v must be zeroed. */
int vcpu_create(struct machine *m, struct vcpu *v, int id);
void vcpu_destroy(struct vcpu *v);
int vcpu_get_state(struct vcpu *v, struct cpu_state *s);
int vcpu_set_state(struct vcpu *v, const struct cpu_state *s);
/* Run until the machine stops or this vCPU ends it; v->res says how. */
int vcpu_run_loop(struct vcpu *v);
/* The vCPU whose thread is calling, or NULL outside vCPU threads. */
struct vcpu *vcpu_current(void);
/* Kick the vCPU out of KVM_RUN (from any thread). */
void vcpu_kick(struct vcpu *v);
/* Print the decoded state, instruction bytes and cause (failure dumps). */
void vcpu_dump(struct vcpu *v, FILE *out, const char *cause);

/* complete.c: finish an instruction KVM's emulator refused (emulation
 * failure) in user space.  0: done (or its exception injected), resume;
 * -1: not completed (reason printed), the caller stops the guest. */
int vcpu_complete_insn(struct vcpu *v);
/* -v: completions per instruction kind. */
void vcpu_complete_report(struct vcpu *v, FILE *out);
void vcpu_complete_free(struct vcpu *v);

/* machine.c */
void machine_request_stop(struct machine *m, enum machine_stop kind, int status, const char *msg);
/* sandbox_enter.c: the seccomp filter before the first guest instruction, unless
 * --no-sandbox; 0, or -1 with res filled. */
int machine_sandbox_enter(struct machine *m, struct machine_result *res);
/* A vCPU's own exit ends the machine (triple fault, entry failure, ...):
 * record res as the machine's result unless a stop came first, and stop
 * the other vCPUs.  Returns true when res became the machine's result. */
bool machine_vcpu_stop(struct machine *m, struct vcpu *v, const struct machine_result *res);
/* Kick every vCPU out of KVM_RUN (any thread). */
void machine_kick_all(struct machine *m);

/* debug.c (issue 5): KVM binary stats, the KVM half of failure dumps, the
 * --timeline report. */
struct nb_stat;
int kvm_stats_read(int fd, struct nb_stat *out, unsigned max);
/* ev: the events that belong to s when s is a snapshot, NULL for the live
 * state (then read from KVM, with the halt state). */
void vcpu_dump_extra(struct vcpu *v, FILE *out, const struct cpu_state *s,
		     const struct kvm_vcpu_events *ev);
void machine_timeline_report(struct machine *m, const struct machine_result *res);
void machine_hang_watch_start(struct machine *m);
void machine_hang_watch_stop(struct machine *m);
/* After an interrupted KVM_RUN: answer the watcher's round, if one is
 * open (a vCPU that cannot run by itself waits for the verdict). */
void vcpu_hang_check(struct vcpu *v);
/* Does this vCPU wait for INIT/SIPI (an AP the guest has not started)? */
bool vcpu_waiting_for_sipi(struct vcpu *v);

/* gdb_probe.c: which guest-debugging mechanisms this host's KVM honours,
 * measured in a throwaway VM (VMX/SVM hosts; kvm_pvm's answers are known). */
struct kvm_debug_caps {
	bool int3;     /* KVM_GUESTDBG_USE_SW_BP: int3 -> KVM_EXIT_DEBUG #BP at the int3 */
	bool hw_exec;  /* DR0-3 execute breakpoints -> KVM_EXIT_DEBUG #DB */
	bool hw_data;  /* DR0-3 write watchpoints -> KVM_EXIT_DEBUG #DB */
	bool step;     /* KVM_GUESTDBG_SINGLESTEP -> KVM_EXIT_DEBUG #DB, DR6.BS */
	char int3_seen[96], hw_exec_seen[96], hw_data_seen[96], step_seen[96]; /* for -v */
	double ms;     /* how long the probe took */
};
int kvm_probe_guest_debug(int kvm_fd, struct kvm_debug_caps *caps);

/* gdb.c (issue 5): the gdb stub's machine side and the run loop's hook. */
enum vcpu_gdb_event { VCPU_GDB_START, VCPU_GDB_INTR, VCPU_GDB_DEBUG, VCPU_GDB_INT3 };
int machine_gdb_setup(struct machine *m);
int vcpu_gdb_hook(struct vcpu *v, enum vcpu_gdb_event ev, struct machine_result *res);

#endif
