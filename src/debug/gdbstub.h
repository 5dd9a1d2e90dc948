/* gdbstub.h - a GDB remote serial protocol stub (all-stop mode) for the
 * guest, on 127.0.0.1:PORT (`--gdb PORT`, `--gdb-wait`).
 *
 * The stub sees the machine only through struct gdb_target (no KVM types):
 * read/write a vCPU's registers, arm guest debugging for the next run, kick
 * the vCPU out of the guest, and what the host honours (struct
 * gdb_host_caps).  Guest memory is read and written through the guest's own
 * page tables (cpu/pagewalk.h).
 *
 * Threading: the run loop calls gdbstub_stop() on its own thread whenever
 * the guest stops for the debugger; that call talks to gdb until gdb
 * resumes the guest (c, s, D) and then returns.  While the guest runs, a
 * monitor thread owns the socket: it accepts a connection (when not
 * waiting) and turns gdb's interrupt byte (0x03, Ctrl-C) into a kick.
 * Every wait for gdb ends at once when gdbstub_signal_stop() is called
 * (async-signal-safe), so a silent gdb never keeps nobios from a signal.
 *
 * The implementation is in five files, one concern each: gdbstub.c (the
 * connection, the monitor thread, stops), gdb_packet.c (framing),
 * gdb_regs.c (target description and register layout), gdb_break.c
 * (breakpoints and watchpoints, real or by single-stepping) and
 * gdb_commands.c (the packets that act on the vCPU). */
#ifndef NOBIOS_DEBUG_GDBSTUB_H
#define NOBIOS_DEBUG_GDBSTUB_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct guest_mem;

/* Guest-debug request for the next run (mirrors what KVM_SET_GUEST_DEBUG
 * takes, in plain types). */
struct gdb_debug {
	bool enable;       /* any debugging at all */
	bool single_step;
	bool sw_bp;        /* int3 breakpoints inserted: intercept #BP */
	bool hw_bp;        /* dr[]/dr7 valid */
	bool inject_bp;    /* hand the #BP just intercepted back to the guest */
	uint64_t dr[4];
	uint64_t dr7;
};

/* Which mechanisms stop the guest on this host (the kvm layer knows:
 * src/kvm/gdb_probe.c measures VMX/SVM hosts).  What is missing, the stub
 * serves by single-stepping: breakpoints by comparing the linear RIP after
 * every step, write watchpoints by comparing memory. */
struct gdb_host_caps {
	bool int3;     /* an int3 byte the stub patches in stops the guest (a
			  debug exit with exception 3, or kvm_pvm's emulation
			  failure, GDB_STOP_INT3) */
	bool hw_exec;  /* DR0-3 execute breakpoints fire */
	bool hw_data;  /* DR0-3 data breakpoints (watchpoints) fire */
};

struct gdb_target {
	void *ctx;
	unsigned ncpus;
	struct guest_mem *mem;
	int (*get_regs)(void *ctx, unsigned cpu, struct cpu_state *s);
	int (*set_regs)(void *ctx, unsigned cpu, const struct cpu_state *s);
	int (*set_debug)(void *ctx, unsigned cpu, const struct gdb_debug *d);
	void (*kick)(void *ctx);
	struct gdb_host_caps caps;
	/* Decoded state dump for `monitor dump` (may be NULL). */
	void (*dump)(void *ctx, unsigned cpu, FILE *out);
};

/* Why the guest stopped. */
enum gdb_stop_kind {
	GDB_STOP_START,      /* before the first instruction (--gdb-wait) */
	GDB_STOP_DEBUG,      /* debug exit: step, hw breakpoint/watchpoint, #BP */
	GDB_STOP_INT3,       /* emulation failure on one of the stub's int3 bytes */
	GDB_STOP_INTERRUPT,  /* kicked by the monitor (Ctrl-C or a new connection) */
};

struct gdb_stop {
	enum gdb_stop_kind kind;
	unsigned exception;  /* GDB_STOP_DEBUG: 1 (#DB) or 3 (#BP) */
	uint64_t dr6;        /* GDB_STOP_DEBUG */
	uint64_t pc;         /* GDB_STOP_DEBUG: linear PC KVM reports */
};

/* What the run loop does next. */
enum gdb_resume {
	GDB_RESUME = 0, /* run the guest (debug state already armed) */
	GDB_KILL,       /* gdb sent `k`: stop the VM */
	GDB_QUIT,       /* gdbstub_signal_stop() ended the wait: stop the VM */
};

struct gdbstub;

/* Listen on 127.0.0.1:port; with wait, gdbstub_stop(GDB_STOP_START) will
 * block until gdb connects.  NULL and nb_err() on failure. */
struct gdbstub *gdbstub_create(int port, bool wait, const struct gdb_target *t);
void gdbstub_destroy(struct gdbstub *g);

/* The guest stopped on cpu; talk to gdb until it resumes the guest. */
enum gdb_resume gdbstub_stop(struct gdbstub *g, unsigned cpu, const struct gdb_stop *why);
/* Whether the monitor asked for a stop (the run loop checks after EINTR). */
bool gdbstub_interrupt_pending(struct gdbstub *g);
/* Whether linear address `lin` holds one of the stub's int3 bytes. */
bool gdbstub_owns_breakpoint(struct gdbstub *g, uint64_t lin);
/* The guest is gone: tell gdb (W/X packet) if it is connected.  Waits for
 * gdb's ack a bounded time only: the guest has nothing left to debug. */
void gdbstub_guest_exited(struct gdbstub *g, int status, bool fault);
/* Async-signal-safe: the process is stopping (SIGTERM, SIGINT, SIGHUP).
 * Every wait for gdb, now and later, ends at once; gdbstub_stop returns
 * GDB_QUIT.  g may be NULL. */
void gdbstub_signal_stop(struct gdbstub *g);
/* Port actually listened on. */
int gdbstub_port(const struct gdbstub *g);

#endif
