/* gdbstub_int.h - what the gdb stub's files share (src/debug/ only): the
 * stub's state and the functions one file offers the others.  The stub is
 * split by concern (see gdbstub.h); this header is the seam between them,
 * so a reader of one file sees exactly what it uses of the others. */
#ifndef NOBIOS_DEBUG_GDBSTUB_INT_H
#define NOBIOS_DEBUG_GDBSTUB_INT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "debug/gdbstub.h"

#define GDB_PACKET_MAX 16384 /* we advertise PacketSize=0x3fff */
#define GDB_MAX_BP 64        /* Z0 (and Z1 served by stepping) */
#define GDB_NUM_DR 4         /* DR0-DR3 */
#define GDB_SIGINT 2         /* gdb's signal numbers (include/gdb/signals.def) */
#define GDB_SIGTRAP 5

/* Z/z packet types (gdb manual, "Packets": Z0-Z4). */
enum gdb_z_type {
	GDB_Z_SW = 0,      /* software breakpoint */
	GDB_Z_HW = 1,      /* hardware breakpoint */
	GDB_Z_WRITE = 2,   /* write watchpoint */
	GDB_Z_READ = 3,    /* read watchpoint */
	GDB_Z_ACCESS = 4,  /* access watchpoint */
};

enum gdb_state { GS_RUNNING, GS_STOPPED, GS_QUIT };

/* A breakpoint by linear address: an int3 patched into guest memory where
 * the host honours int3, else caught by single-stepping (also Z1 where DR0-3
 * do not fire). */
struct gdb_bp {
	uint64_t lin;
	uint64_t pa;         /* patched: where the int3 is */
	unsigned type;       /* GDB_Z_SW or GDB_Z_HW */
	uint8_t orig;        /* patched: the guest's byte under the int3 */
	bool used;
	bool patched;
};

/* A DR0-3 slot: Z1 where execute breakpoints fire, Z2-Z4.  A watchpoint
 * the host does not honour keeps the slot (gdb's count of hardware
 * watchpoints stays true) but is checked by stepping and comparing. */
struct gdb_dr {
	uint64_t addr;
	unsigned type;       /* GDB_Z_HW .. GDB_Z_ACCESS */
	unsigned len;
	bool used;
	bool soft;
	uint64_t old;        /* soft: value before the step */
	bool old_ok;
};

struct gdbstub {
	struct gdb_target t;
	int port;
	int listen_fd, fd;
	bool wait;
	pthread_t monitor;
	bool monitor_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum gdb_state state;
	bool interrupt_req;
	/* The signal path (gdbstub_signal_stop): a latch, and a self-pipe that
	 * every wait polls so a signal between the latch check and poll() is
	 * not lost. */
	volatile sig_atomic_t quit;
	int wake_rd, wake_wr;
	uint64_t io_deadline_ns;  /* CLOCK_MONOTONIC; 0: waits end only by quit */
	/* Input buffer (vCPU thread while stopped, monitor while running). */
	uint8_t in[4096];
	size_t in_len, in_pos;
	bool noack;
	/* Current stop. */
	unsigned cpu;          /* vCPU the stop happened on (thread cpu+1) */
	unsigned gcpu;         /* Hg: registers/memory of this vCPU */
	struct cpu_state st;
	bool st_valid, st_dirty;
	bool is64;             /* target description served: x86-64 or i386 */
	int last_sig;
	char last_reason[64];
	/* Breakpoints and watchpoints (gdb_break.c). */
	struct gdb_bp bp[GDB_MAX_BP];
	struct gdb_dr dr[GDB_NUM_DR];
	/* Resume bookkeeping. */
	bool expect_stop;      /* gdb is waiting for a stop reply */
	bool stepping;         /* gdb asked for a single step */
	bool stepping_over;    /* our own step off a breakpoint at RIP */
	struct gdb_bp *lifted; /* int3 taken out for that step */
	bool soft_stepping;    /* the run single-steps for breakpoints/watchpoints */
	bool told_stepping;    /* gdb's console heard why a continue is slow */
};

/* gdbstub.c: the cached vCPU state of the current stop. */
int gdb_load_state(struct gdbstub *g);
int gdb_flush_state(struct gdbstub *g);

/* gdb_packet.c: framing ($data#cs, acks, escapes) over the socket, and
 * the waits every read and write does (bounded by quit and io_deadline). */
#define GDB_PKT_GONE (-1)    /* connection closed, or quit */
#define GDB_PKT_CTRLC (-2)   /* a 0x03 byte */
extern const char gdb_hexd[16];
int gdb_hexval(int c);
bool gdb_parse_hex(const char **p, uint64_t *v);
void gdb_hex_encode(char *out, const uint8_t *in, size_t n);
int gdb_sock_wait(struct gdbstub *g, int fd, short events);
bool gdb_put_packet(struct gdbstub *g, const char *data, size_t len);
bool gdb_put_str(struct gdbstub *g, const char *s);
int gdb_get_packet(struct gdbstub *g, char *buf, size_t max);
bool gdb_wants_stop(const uint8_t *b, size_t n);

/* gdb_regs.c: the target description and the register layout it names. */
unsigned gdb_reg_count(bool is64);
/* Register i as little-endian hex (no NUL); returns the characters written. */
size_t gdb_reg_hex(bool is64, unsigned i, const struct cpu_state *s, char *out);
/* Parse register i; returns characters consumed, 0 when malformed. */
size_t gdb_reg_parse(bool is64, unsigned i, struct cpu_state *s, const char *in, size_t avail,
		     bool *dirty);
/* The description as one malloc()ed string (NULL when out of memory). */
char *gdb_target_xml(bool is64);

/* gdb_break.c: breakpoints, watchpoints, arming for the next run, and
 * deciding whether a stop is gdb's or the stub's own step. */
uint64_t gdb_rip_linear(const struct cpu_state *s);
size_t gdb_mem_read(struct gdbstub *g, uint64_t lin, uint8_t *buf, size_t len);
size_t gdb_mem_write(struct gdbstub *g, uint64_t lin, const uint8_t *buf, size_t len);
/* 0 done, -1 refused (E01), 1 type not supported (empty reply). */
int gdb_bp_insert(struct gdbstub *g, unsigned type, uint64_t addr, unsigned kind);
int gdb_bp_remove(struct gdbstub *g, unsigned type, uint64_t addr);
void gdb_bp_remove_all(struct gdbstub *g);
bool gdb_bp_owns(const struct gdbstub *g, uint64_t lin);
/* gdb resumes (c/s, g->stepping set): registers already flushed from st. */
int gdb_arm_resume(struct gdbstub *g, uint64_t rip_lin);
/* Run without the debugger (no client, detach). */
int gdb_arm_plain(struct gdbstub *g);
/* At a stop, state loaded: true when the stop was the stub's own (a step
 * of a stepped continue, a step off a breakpoint, a #BP that is not ours)
 * and the guest is armed to run on; false when gdb must hear of it
 * (last_sig/last_reason filled). */
bool gdb_stop_filter(struct gdbstub *g, const struct gdb_stop *why);

/* gdb_commands.c: one packet from gdb. */
enum gdb_cmd_result { GDB_CMD_MORE, GDB_CMD_RESUME, GDB_CMD_KILL, GDB_CMD_DETACH };
enum gdb_cmd_result gdb_handle_packet(struct gdbstub *g, char *p, int len, char *out);

#endif
