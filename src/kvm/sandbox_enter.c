/* sandbox_enter.c - the machine's side of the sandbox (util/sandbox.h): which
 * features this run has, the completion engine's library loaded in the
 * background on hosts that need it, and the filter installed as the last
 * step before the guest's first instruction, after every file was opened
 * and the VM, its devices and threads exist.
 *
 * NOBIOS_SANDBOX_SELFTEST=execve|openat makes nobios attempt that call
 * right after the filter is in force (tests/boot/sandbox.sh): with the
 * sandbox the call is refused and nobios ends with status 6; without it
 * (--no-sandbox) the call fails harmlessly (execve of "" is ENOENT; the
 * opened file is closed) and the guest boots.  It adds nothing a user who
 * can set nobios's environment could not do anyway. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "debug/timeline.h"
#include "emul/emul.h"
#include "kvm/kvm.h"
#include "util/err.h"
#include "util/sandbox.h"

static void selftest(FILE *log)
{
	const char *t = getenv("NOBIOS_SANDBOX_SELFTEST");
	if (!t)
		return;
	long r = -1;
	if (strcmp(t, "execve") == 0) {
		char *none[] = { NULL };
		r = syscall(SYS_execve, "", none, none);
	} else if (strcmp(t, "openat") == 0) {
		r = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_CLOEXEC);
		if (r >= 0)
			close((int)r);
	}
	/* only reached without a sandbox */
	fprintf(log ? log : stderr, "nobios: sandbox self-test: %s returned %ld (%s)\n", t, r,
		r < 0 ? strerror(errno) : "ok");
}

int machine_sandbox_enter(struct machine *m, struct machine_result *res)
{
	if (!m->cfg.sandbox) {
		if (m->cfg.log)
			fprintf(m->cfg.log, "nobios: sandbox: off (--no-sandbox)\n");
		selftest(m->cfg.log);
		return 0;
	}
	unsigned features = (m->gdb ? SANDBOX_F_GDB : 0) |
			    (m->host.emulating ? SANDBOX_F_COMPLETION : 0) |
			    (m->cfg.virtio_rng ? SANDBOX_F_VIRTIO_RNG : 0) |
			    (m->cfg.nshares ? SANDBOX_F_P9 : 0);
	for (unsigned i = 0; i < m->cfg.nshares; i++)
		if (m->cfg.shares[i].writable)
			features |= SANDBOX_F_P9_RW;
	/* The engine is needed only where KVM emulates ring 0, at a moment
	 * the guest chooses: loading it now, beside the guest, bounds the
	 * time its temporary grant (opening library files) is in force. */
	if (m->host.emulating)
		emul_preload_async();
	if (sandbox_enter(features, NB_EXIT_INTERNAL, m->cfg.log) < 0) {
		res->stop = MACHINE_STOP_ERROR;
		res->status = NB_EXIT_INTERNAL;
		snprintf(res->cause, sizeof(res->cause), "%s", nb_errmsg());
		return -1;
	}
	timeline_mark("sandbox in force");
	selftest(m->cfg.log);
	return 0;
}
