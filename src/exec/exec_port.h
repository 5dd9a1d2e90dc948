/* exec_port.h - the contract between `nobios exec` and the init it puts in
 * the guest (src/exec/init/nobios-init.c), shared by both sides.
 *
 * An I/O-port channel of nobios's own, not a UART: the guest's init owns the
 * ports through ioperm(2), so CMD's output needs no serial driver and no
 * interrupts, a `rep outsb` moves up to a page per exit, and the exit status
 * arrives as a full byte (the debug-exit port 0xF4 can only give odd
 * statuses).  Every value the guest writes here is untrusted (exec_dev.c). */
#ifndef NOBIOS_EXEC_EXEC_PORT_H
#define NOBIOS_EXEC_EXEC_PORT_H

/* 16 ports; clear of the PC's fixed devices and of ACPI PM at 0x600. */
#define EXEC_PORT_BASE    0x5E0
#define EXEC_PORT_LEN     16
#define EXEC_PORT_STDOUT  (EXEC_PORT_BASE + 0) /* out, bytes (rep outsb): CMD's stdout */
#define EXEC_PORT_STDERR  (EXEC_PORT_BASE + 1) /* out, bytes: CMD's stderr (and init's messages) */
/* in, bytes (rep insb): host stdin, after a fill.  Reading consumes: the
 * guest's buffer must be present and writable before the rep insb (a page
 * fault restarts the instruction and the bytes already read are gone). */
#define EXEC_PORT_STDIN   (EXEC_PORT_BASE + 2)
#define EXEC_PORT_EVENT   (EXEC_PORT_BASE + 4) /* out, dword: EXEC_EV_* << 16 | value */
/* in, dword: nobios reads what host stdin has now (never blocking) and
 * answers how many bytes EXEC_PORT_STDIN will give (at most 4096; 0: none
 * yet), or EXEC_STDIN_EOF when stdin has ended (or is not forwarded). */
#define EXEC_PORT_STDIN_FILL (EXEC_PORT_BASE + 8)
#define EXEC_STDIN_EOF    0xFFFFFFFFu
#define EXEC_STDIN_CHUNK  4096
/* The guest reads EXEC_PORT_EVENT as EXEC_MAGIC when the channel is there. */
#define EXEC_MAGIC        0x6E6F6278u /* "xbon" */

#define EXEC_EV_STARTED   1u /* CMD was forked; value unused */
#define EXEC_EV_EXIT      2u /* CMD ended; value = its status 0..255 (128 + signal) */
#define EXEC_EV_SETUP     3u /* init could not prepare CMD's world; value = EXEC_SETUP_* */

#define EXEC_SETUP_CONFIG 1 /* /nobios/exec.conf missing or malformed */
#define EXEC_SETUP_MOUNT  2
#define EXEC_SETUP_PIPE   3
#define EXEC_SETUP_FORK   4
#define EXEC_SETUP_SHARE  5 /* the host's files could not be mounted and nothing was packed */

/* The configuration file init reads: records of a tag byte and a
 * NUL-terminated string, in this order of meaning (repeatable ones: argv,
 * env). */
#define EXEC_CONF_PATH    "/nobios/exec.conf"
#define EXEC_CONF_ARG     'a' /* one argv element, in order */
#define EXEC_CONF_ENV     'e' /* NAME=VALUE */
#define EXEC_CONF_CWD     'c'
#define EXEC_CONF_UID     'u' /* decimal */
#define EXEC_CONF_GID     'g' /* decimal */
#define EXEC_CONF_STDIN   'i' /* "1": host stdin is forwarded (else CMD gets /dev/null) */
#define EXEC_CONF_CWD_SOFT 'C' /* the host's directory: "/" when the guest has no such one */
#define EXEC_CONF_ROOT    'r' /* "1": the host's / is the virtio-9p share EXEC_ROOT_TAG */
#define EXEC_CONF_RW      'w' /* a --rw DIR, the n-th is share EXEC_RW_TAG n (1, 2, ...) */
#define EXEC_CONF_MODULE  'm' /* a module in the initramfs to load, in order */
#define EXEC_CONF_KVER    'k' /* the kernel's release */
#define EXEC_CONF_KMODDIR 'K' /* host directory to show at /lib/modules/RELEASE */
#define EXEC_CONF_PACKED  'p' /* "1": files were packed (CMD or --pack): a world without 9p */
#define EXEC_CONF_MISSING 'x' /* a kernel option the host found missing ("CONFIG_9P_FS") */

/* virtio-9p mount tags (src/virtio/virtio_9p.c). */
#define EXEC_ROOT_TAG     "nobios-root"
#define EXEC_RW_TAG       "nobios-rw%u"
#define EXEC_MODULES_DIR  "/nobios/modules"
#define EXEC_MAX_RW       7 /* with the root: NB_MAX_SHARES */
#define EXEC_CONF_MAX     (1u << 20)

#endif
