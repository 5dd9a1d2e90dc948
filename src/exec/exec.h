/* exec.h - `nobios exec KERNEL -- CMD`: the initramfs nobios generates for
 * CMD (our static init, its configuration, the --pack'ed files with their
 * shared libraries) and the host end of the exec port channel
 * (exec_port.h), which src/dev/exec_dev.c serves. */
#ifndef NOBIOS_EXEC_EXEC_H
#define NOBIOS_EXEC_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exec/cpio.h"

#define EXEC_MAX_PACK 256
#define EXEC_MAX_ENV  256

struct exec_config {
	char **argv;                  /* CMD and its arguments, argc >= 1 */
	int argc;
	const char *env[EXEC_MAX_ENV]; /* --env NAME=VALUE, in order */
	unsigned nenv;
	const char *pack[EXEC_MAX_PACK]; /* --pack FILE */
	unsigned npack;
	const char *cwd;              /* --cwd DIR, or NULL: the host's (or "/") */
	const char *rw[8];            /* --rw DIR: shared writable (EXEC_MAX_RW) */
	unsigned nrw;
	const char *modules;          /* --modules DIR, or NULL: /lib/modules/RELEASE */
	const char *build_tree;       /* --kernel-from-build DIR: its modules.order */
	const char *kernel;           /* the kernel image (set by the front end) */
	bool no_host_root;            /* --no-host-root: only the initramfs */
	bool root;                    /* --root: uid/gid 0 instead of the caller's */
	bool no_pack_cmd;             /* --no-pack-cmd: CMD is not looked up on the host */
	bool stdin_forwarded;         /* set by the front end: host stdin reaches CMD */
};

/* The embedded init (src/exec/init_blob.S). */
extern const uint8_t exec_init_image[];
extern const uint32_t exec_init_image_size;

struct nb_share;
/* The virtio-9p shares exec asks for, appended to the *n there are: the
 * host's / read-only (unless --no-host-root), then each --rw DIR
 * writable.  0 or -1 with nb_err(). */
int exec_shares(const struct exec_config *cfg, struct nb_share *shares, unsigned max,
		unsigned *n);

/* Build the initramfs for cfg into *c (cpio_init'ed by the caller).  Host
 * paths: `path` resolved against PATH, the host's library directories.
 * uid/gid: who CMD runs as.  log: -v lines or NULL.  0 or -1 with nb_err()
 * naming the file. */
int exec_build_initramfs(const struct exec_config *cfg, unsigned uid, unsigned gid, FILE *log,
			 struct cpio *c);

/* Find an executable CMD on a ':'-separated PATH as execvp(3) would (a name
 * with a '/' is itself).  1 with *out (PATH_MAX bytes), 0 when not found. */
int exec_find_on_path(const char *cmd, const char *path, char *out, size_t outlen);

/* What the guest reported through the exec ports; shared by the device
 * (vCPU thread) and the front end (after machine_run). */
enum exec_report {
	EXEC_REPORT_NONE = 0, /* CMD never reported: the guest failed first */
	EXEC_REPORT_EXIT,     /* status is CMD's */
	EXEC_REPORT_SETUP,    /* init failed: setup_code is EXEC_SETUP_* */
};

struct exec_channel {
	int out_fd, err_fd;          /* CMD's stdout and stderr go here */
	int in_fd;                   /* host stdin to forward, or -1 */
	atomic_bool started;         /* init forked CMD */
	atomic_int report;           /* enum exec_report */
	int status;                  /* EXEC_REPORT_EXIT: 0..255 */
	unsigned setup_code;         /* EXEC_REPORT_SETUP */
};

#endif
