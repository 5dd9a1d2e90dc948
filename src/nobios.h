/* nobios.h - the library API the front end, the tests and embedders drive.
 *
 *   machine_create()  guest RAM (plain host memory; no KVM yet)
 *   machine_load()    boot format detection and loading through the seam:
 *                     every input file is opened and checked here
 *   machine_start()   the KVM VM: RAM slots, irqchip, devices, vCPU, entry state
 *   machine_run()     run until the guest exits, stops or fails
 *   machine_destroy()
 */
#ifndef NOBIOS_H
#define NOBIOS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boot/boot.h"

struct exec_channel;

#define NOBIOS_VERSION "0.1.0"

/* Exit statuses of the nobios command (README "Exit status"). */
#define NB_EXIT_OK        0   /* clean power-off or reset request */
#define NB_EXIT_USAGE     2   /* bad usage or bad input file */
#define NB_EXIT_INTERNAL  6   /* host/KVM failure */
#define NB_EXIT_GUEST_FAULT 4 /* triple fault, entry failure, emulation failure, hang, timeout */
/* A Linux guest panicked: it reset with the warm-boot flag that nobios's
 * default reboot=k,panic_warm makes Linux set on a panic only
 * (boot/linux_cmdline.h). */
#define NB_EXIT_GUEST_PANIC 8
#define NB_EXIT_IO        10   /* a disk write or the flush at exit failed: data may be lost */
/* `nobios exec` (README "nobios exec"): the guest stopped before its init
 * reported the command's status (init never ran, the guest powered off or
 * reset), and: the guest's init could not set the command up (mount, pipe,
 * fork, its configuration).  A command's own status is passed on as it is. */
#define NB_EXIT_EXEC_NO_STATUS 12
#define NB_EXIT_EXEC_SETUP 14
/* nobios's own statuses are even; odd statuses belong to the guest: */
/* Debug-exit port 0xF4: value v gives status (v << 1) | 1 (odd statuses). */

#define NB_MAX_SHARES 8
#define NB_SHARE_TAG_MAX 32 /* the longest mount tag, NUL included */
struct nb_share {
	const char *path;            /* the host directory */
	char tag[NB_SHARE_TAG_MAX];  /* what the guest mounts */
	bool writable;               /* else every change answers EROFS */
};

/* One --net device (a virtio-net on a TAP interface; net/tap.h). */
#define NET_MAX_DEVICES 4
struct net_config {
	const char *tap;       /* interface name; NULL: create one (the kernel names it nbtapN) */
	uint8_t mac[6];        /* the guest's address when mac_set, else derived from the name */
	bool mac_set;
	/* Filled by machine_create, which opens every TAP before anything
	 * else (the sandbox later forbids open): */
	int fd;                /* -1 until opened */
	char ifname[16];       /* the interface's name as the kernel has it */
	bool created;          /* nobios made it (it goes away when nobios exits) */
};

struct machine_config {
	uint64_t ram_size;     /* bytes */
	unsigned cpus;         /* vCPUs, 1..PLATFORM_MAX_CPUS */
	struct boot_config boot;
	int console_in;        /* fd for COM1 input, -1 for none */
	int console_out;       /* fd for COM1 output */
	FILE *log;             /* -v output (stderr) or NULL */
	bool verbose;
	bool timeline;         /* --timeline */
	bool timeline_json;    /* --timeline=json */
	bool dump_on_exit;     /* --dump-state-on-exit */
	double timeout_s;      /* stop the guest after this long (0 = never) */
	const char *cpuid_mask; /* --cpuid-mask LIST or NULL */
	const char *cpuid_keep; /* --cpuid-keep LIST or NULL */
	int gdb_port;          /* --gdb PORT, 0 = off */
	bool gdb_wait;
	/* seccomp allow-list from machine_run on (util/sandbox.h); on by
	 * default, --no-sandbox turns it off.  It covers the whole process:
	 * an embedder that must keep its own system calls sets it false. */
	bool sandbox;
	bool virtio_rng;       /* --virtio-rng: a virtio-rng device (host getrandom) */
	bool virtio_console;   /* --virtio-console: a virtio-console device (hvc0) on console_out */
	/* --virtio-iothread: serve virtio-blk and virtio-9p requests in an I/O
	 * thread per device (virtio_mmio_start_iothread) instead of the vCPU
	 * thread that notified */
	bool virtio_iothread;
	/* Host directories served to the guest over virtio-9p (9P2000.L), each
	 * a device the guest mounts by its tag:
	 * `mount -t 9p -o trans=virtio,version=9p2000.L TAG DIR`. */
	struct nb_share shares[NB_MAX_SHARES];
	unsigned nshares;
	struct net_config net[NET_MAX_DEVICES]; /* --net, in order: eth0, eth1, ... */
	unsigned nnets;
	/* `nobios exec`: the port channel of exec/exec.h, or NULL (no device). */
	struct exec_channel *exec;
};

/* Why machine_run returned. */
enum machine_stop {
	MACHINE_STOP_EXIT,       /* debug-exit port */
	MACHINE_STOP_RESET,      /* reset request (i8042 0xFE, 0xCF9, ...) */
	MACHINE_STOP_POWEROFF,
	MACHINE_STOP_HLT,        /* hlt with interrupts off: nothing can wake it */
	MACHINE_STOP_SHUTDOWN,   /* triple fault */
	MACHINE_STOP_FAIL_ENTRY,
	MACHINE_STOP_INTERNAL,   /* KVM internal error / emulation failure */
	MACHINE_STOP_TIMEOUT,
	MACHINE_STOP_ERROR,      /* host-side error */
	MACHINE_STOP_SIGNAL,     /* nobios got SIGTERM/SIGINT/SIGHUP: status 128 + signal */
	MACHINE_STOP_PANIC,      /* a reset that was a Linux panic (NB_EXIT_GUEST_PANIC) */
};

struct machine_result {
	enum machine_stop stop;
	int status;           /* suggested process exit status */
	char cause[256];      /* one line */
	/* One line when a device could not keep what the guest wrote (a disk
	 * write or the final flush failed); status is then NB_EXIT_IO, whatever
	 * the guest's own status was: the image is not what the guest left. */
	char data_error[512];
};

struct machine;

void machine_config_defaults(struct machine_config *cfg);
int machine_create(struct machine **out, const struct machine_config *cfg);
int machine_load(struct machine *m);
int machine_start(struct machine *m);
int machine_run(struct machine *m, struct machine_result *res);
void machine_destroy(struct machine *m);
/* Async-signal-safe: stop the guest at once and let machine_run return
 * normally (timeline, counters, terminal restored), status 128 + sig. */
void machine_signal_stop(struct machine *m, int sig);

#endif
