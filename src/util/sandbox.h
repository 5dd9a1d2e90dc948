/* sandbox.h - the seccomp-bpf allow-list nobios runs the guest under.
 *
 * Once every file is open and the VM is built (machine_run, just before the
 * first KVM_RUN), the process may make only the system calls its running
 * parts declared: a guest that takes over a device model, the gdb stub or
 * the completion engine cannot open files, execute programs, make network
 * connections or signal other processes.  A refused call ends nobios with
 * one line naming the call (and the terminal restored); `--no-sandbox` runs
 * without the filter, for debugging.
 *
 * Each module declares what it needs next to its code, as devices declare
 * themselves with DEVICE():
 *
 *     SANDBOX_NEEDS(uart_needs, "16550A UART (src/dev/uart16550.c)", 0,
 *                   SB_ALLOW(poll), SB_ALLOW(read), SB_ALLOW(write));
 *
 * so a new device, thread or backend adds its calls in its own file and no
 * central list is edited.  A need can be conditional (`when`: the features
 * the machine passes to sandbox_enter, e.g. only with a gdb stub) and can
 * be temporary (SANDBOX_UNTIL_READY: allowed until its module calls
 * sandbox_ready(), then a stricter filter is stacked on top).  Rules may
 * compare one argument (an ioctl request, mmap's protection bits, clone's
 * flags).  Only this file's .c knows libseccomp.
 */
#ifndef NOBIOS_UTIL_SANDBOX_H
#define NOBIOS_UTIL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

enum sandbox_cmp {
	SB_ANY = 0,   /* any arguments */
	SB_EQ,        /* arg == value */
	SB_MASKED_EQ, /* (arg & mask) == value */
	SB_SELF,      /* arg == this process's pid (tgkill, kill: only ourselves) */
};

struct sandbox_rule {
	int nr;       /* __NR_... */
	int err;      /* 0: allow; else fail the call with this errno */
	enum sandbox_cmp cmp;
	unsigned arg; /* argument index for cmp */
	uint64_t mask, value;
};

/* Features of this run that conditional needs name in `when`. */
#define SANDBOX_F_GDB        0x1u /* a gdb stub listens (--gdb) */
#define SANDBOX_F_COMPLETION 0x2u /* the host emulates ring 0: instruction completion (kvm_pvm) */
#define SANDBOX_F_VIRTIO_RNG 0x4u /* a virtio-rng device (--virtio-rng): getrandom */
#define SANDBOX_F_P9         0x8u /* a virtio-9p share: the file calls of a file server */
#define SANDBOX_F_P9_RW      0x10u /* a writable virtio-9p share: the calls that change files */

/* flags */
#define SANDBOX_UNTIL_READY 0x1u /* dropped once sandbox_ready(name) is called */

struct sandbox_need {
	const char *who;      /* for -v and for the refusal message */
	unsigned when;        /* SANDBOX_F_* all required, 0 = always */
	unsigned flags;
	const struct sandbox_rule *rules;
	size_t nrules;
};

#define SB_ALLOW(name) { .nr = __NR_##name }
/* Allowed when argument `argn` equals v. */
#define SB_ARG_EQ(name, argn, v) { .nr = __NR_##name, .cmp = SB_EQ, .arg = (argn), .value = (v) }
/* Allowed when argument `argn` has none of the bits in m. */
#define SB_ARG_NONE(name, argn, m) \
	{ .nr = __NR_##name, .cmp = SB_MASKED_EQ, .arg = (argn), .mask = (m), .value = 0 }
/* Allowed when argument `argn` has all of the bits in m. */
#define SB_ARG_ALL(name, argn, m) \
	{ .nr = __NR_##name, .cmp = SB_MASKED_EQ, .arg = (argn), .mask = (m), .value = (m) }
/* ioctl with this request (compared as the kernel does: 32 bits). */
#define SB_IOCTL(req) \
	{ .nr = __NR_ioctl, .cmp = SB_MASKED_EQ, .arg = 1, .mask = 0xFFFFFFFFu, .value = (uint32_t)(req) }
/* Fails with errno e instead of running (e.g. clone3 -> ENOSYS: glibc then
 * uses clone, whose flags a filter can see). */
#define SB_ERRNO(name, e) { .nr = __NR_##name, .err = (e) }
/* Allowed with argument `argn` equal to this process's pid. */
#define SB_SELF_PID(name, argn) { .nr = __NR_##name, .cmp = SB_SELF, .arg = (argn) }

#define SANDBOX_NEEDS_FLAGS(sym, who_, when_, flags_, ...)                          \
	static const struct sandbox_rule sym##_rules[] = { __VA_ARGS__ };            \
	static const struct sandbox_need sym = {                                     \
		.who = (who_), .when = (when_), .flags = (flags_), .rules = sym##_rules, \
		.nrules = sizeof(sym##_rules) / sizeof(sym##_rules[0]) };                \
	static const struct sandbox_need *const sandbox_need_ptr_##sym                  \
		__attribute__((used, section("nb_sandbox"), aligned(sizeof(void *)))) = &sym
#define SANDBOX_NEEDS(sym, who_, when_, ...) SANDBOX_NEEDS_FLAGS(sym, who_, when_, 0, __VA_ARGS__)

/* The registered needs (for tests and -v). */
size_t sandbox_needs(const struct sandbox_need **out, size_t max);

/* Install the filter for the given features on every thread of the
 * process (threads started later inherit it).  A refused call ends the
 * process: one line on stderr, the cleanup hooks, then _exit(exit_status).
 * log (may be NULL) gets what was allowed and for whom.  0, or -1 with
 * nb_err() (no seccomp in this kernel, a thread that cannot be synced). */
int sandbox_enter(unsigned features, int exit_status, FILE *log);
/* The module whose temporary need is `who` no longer needs it: once every
 * temporary need in force is ready, a filter without them is stacked on
 * top (filters only ever get stricter).  Safe to call without a sandbox. */
void sandbox_ready(const char *who);
/* Whether a filter is in force (a module may then refuse, with a clear
 * error, work it would need a forbidden call for). */
bool sandbox_active(void);
/* Whether the temporary need `who` is in force (applicable and not ready). */
bool sandbox_grants(const char *who);
/* An async-signal-safe function to run before nobios exits on a refused
 * call (the console restores the terminal).  Up to 4. */
void sandbox_on_refusal(void (*fn)(void));

#endif
