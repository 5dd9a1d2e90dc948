/* gdbstub.h - a GDB remote serial protocol stub (all-stop mode) for the
 * guest, on 127.0.0.1:PORT (`--gdb PORT`, `--gdb-wait`).
 *
 * The stub sees the machine only through struct gdb_target (no KVM types):
 * read/write a vCPU's registers, arm guest debugging for the next run, kick
 * the vCPU out of the guest.  Guest memory is read and written through the
 * guest's own page tables (cpu/pagewalk.h).
 *
 * Threading: the run loop calls gdbstub_stop() on its own thread whenever
 * the guest stops for the debugger; that call talks to gdb until gdb
 * resumes the guest (c, s, D) and then returns.  While the guest runs, a
 * monitor thread owns the socket: it accepts a connection (when not
 * waiting) and turns gdb's interrupt byte (0x03, Ctrl-C) into a kick. */
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
	uint64_t dr[4];
	uint64_t dr7;
};

struct gdb_target {
	void *ctx;
	unsigned ncpus;
	struct guest_mem *mem;
	int (*get_regs)(void *ctx, unsigned cpu, struct cpu_state *s);
	int (*set_regs)(void *ctx, unsigned cpu, const struct cpu_state *s);
	int (*set_debug)(void *ctx, unsigned cpu, const struct gdb_debug *d);
	void (*kick)(void *ctx);
	/* Data breakpoints do not fire in this host's instruction emulator
	 * (kvm_pvm): write watchpoints are then checked by single-stepping
	 * and comparing memory. */
	bool soft_watch;
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
/* The guest is gone: tell gdb (W/X packet) if it is connected. */
void gdbstub_guest_exited(struct gdbstub *g, int status, bool fault);
/* Port actually listened on. */
int gdbstub_port(const struct gdbstub *g);

#endif
