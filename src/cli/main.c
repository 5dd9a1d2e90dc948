/* main.c - the `nobios` command line: parse flags into a machine_config, then
 * drive the library (machine_create / _load / _start / _run).  Errors
 * from the library are printed here, once, in one line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/version.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"

/* After the guest: the deferred KVM teardown's child (util/sandbox.h). */
SANDBOX_NEEDS(cli_needs, "front end: deferred KVM teardown (src/cli/main.c)", 0,
	SB_ALLOW(pipe), SB_ALLOW(pipe2));

static const char usage_text[] =
	"usage: nobios run [KERNEL] [options]     boot a kernel or disk image\n"
	"       nobios inspect FILE [options]     say what FILE is and how it would boot\n"
	"       nobios --help | --version [-v]\n"
	"\n"
	"Guest:\n"
	"  KERNEL, --kernel FILE      kernel image (bzImage, PVH/multiboot ELF, ELF64)\n"
	"  --initrd FILE              initial ramdisk (Linux, PVH module 0, multiboot module)\n"
	"  --cmdline S, --append S    kernel command line; for Linux nobios adds console=ttyS0,\n"
	"                             panic=-1 and reboot=k,panic_warm when missing (-v: and\n"
	"                             earlyprintk=serial) and shows the result with -v\n"
	"  --no-default-cmdline       pass the command line to Linux exactly as given\n"
	"  --module FILE[,CMDLINE]    extra multiboot/PVH module (repeatable)\n"
	"  --entry-symbol NAME        enter an ELF64 at symbol NAME in long mode (e.g. start64)\n"
	"  --disk FILE[,rw|,snapshot] hard disk image, repeatable (up to 8): each a virtio-blk\n"
	"                             device (vda, vdb, ...); the first is also pseudo-BIOS\n"
	"                             drive 0x80 (INT 13h; OSv layout); read-only unless rw\n"
	"                             (exclusive lock, flushed at exit); snapshot: writes to\n"
	"                             a temporary file in $TMPDIR\n"
	"  --floppy FILE[,rw|,snapshot] floppy image (pseudo-BIOS drive 0x00)\n"
	"  --boot-protocol NAME       force a format: bzimage linux linux32 linux16 pvh\n"
	"                             multiboot multiboot2 elf64 osv bios\n"
	"  --cache-dir DIR            cache host-decompressed kernels in DIR\n"
	"Machine:\n"
	"  -m, --memory SIZE          RAM, e.g. 256M, 1G, 4096 (MiB when no suffix); default 256M\n"
	"  --cpus N, -smp N           vCPUs, 1..255 (default 1); APIC IDs 0..N-1, the guest\n"
	"                             starts the APs (INIT/SIPI); ACPI MADT and MP table list them\n"
	"  --cpuid-mask LIST          hide CPUID features (comma-separated names, e.g. avx,xsave)\n"
	"  --cpuid-keep LIST          keep CPUID features nobios would mask on this host\n"
	"  --timeout SECS             stop the guest after SECS seconds (exit status 4)\n"
	"  --virtio-rng               a virtio-rng device fed by the host's getrandom\n"
	"  --virtio-console           a virtio-console device (Linux hvc0) writing to stdout\n"
	"  --no-sandbox               run without the seccomp allow-list (to debug nobios)\n"
	"Debugging:\n"
	"  -v, --verbose              trace loading, host quirks, BIOS calls, exits, unclaimed ports\n"
	"  --timeline[=json]          boot milestones with microsecond offsets (to stderr)\n"
	"  --dump-state-on-exit       print the decoded vCPU state when the guest stops\n"
	"  --gdb PORT                 gdb remote stub on 127.0.0.1:PORT\n"
	"  --gdb-wait                 with --gdb: wait for gdb before the first instruction\n"
	"\n"
	"Exit status: 0 clean power-off or reset; (v << 1) | 1 when the guest writes v to\n"
	"port 0xF4; 2 bad usage or bad input file; 4 guest fault (triple fault, entry failure,\n"
	"emulation failure, hang, --timeout); 6 host or KVM error, or a system call the\n"
	"sandbox refused; 8 Linux guest panicked (with the default reboot=k,panic_warm);\n"
	"10 a disk write or the flush at exit failed (data the guest wrote may be lost).\n";

static void usage_exit(FILE *out, int status)
{
	fputs(usage_text, out);
	exit(status);
}

static struct machine *volatile the_machine;

static void on_signal(int sig)
{
	struct machine *m = the_machine;
	if (m)
		machine_signal_stop(m, sig);
	else
		_exit(128 + sig);
}

/* Destroying a VM with an in-kernel irqchip and PIT costs KVM ~20 ms
 * (SRCU grace periods), 10x what the rest of a short run costs.  The last
 * holder of the VM's fds pays it, so a child that inherited them holds on
 * until this process has exited and pays it instead: nobios's status
 * reaches its caller at once.  The child keeps no stdio (pipes to nobios see
 * EOF when nobios exits) and only blocks on a pipe, then _exits.
 * Sanitizer builds tear down in-process so their exit checks see it all. */
static void defer_kvm_teardown(void)
{
#if !defined(__SANITIZE_ADDRESS__)
	int p[2];
	if (getenv("NOBIOS_SYNC_TEARDOWN") || pipe(p) < 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		/* closed, not /dev/null: the sandbox allows no open() */
		for (int fd = 0; fd < 3; fd++)
			close(fd);
		char c;
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]); /* the write end closes when this process exits */
	if (pid < 0)
		close(p[1]);
#endif
}

static int fail_status(void)
{
	return nb_errclass() == NB_ERR_INPUT ? NB_EXIT_USAGE : NB_EXIT_INTERNAL;
}

static int cmd_inspect(const char *path, const struct machine_config *cfg)
{
	/* src/boot/inspect.c prints the kind, every probe, entry and ranges. */
	if (boot_inspect(path, &cfg->boot, stdout) < 0) {
		fflush(stdout);
		fprintf(stderr, "nobios: %s\n", nb_errmsg());
		return NB_EXIT_USAGE;
	}
	return 0;
}

/* A usage error from args_parse, as the command line has always printed it. */
static int usage_error(void)
{
	fprintf(stderr, "nobios: %s (see nobios --help)\n", nb_errmsg());
	return NB_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct args args;
	if (args_parse(argc, argv, &args) < 0)
		return usage_error();
	switch (args.action) {
	case ARGS_USAGE: usage_exit(stderr, NB_EXIT_USAGE); break;
	case ARGS_HELP: usage_exit(stdout, 0); break;
	case ARGS_VERSION: return cli_print_version(stdout, args.cfg.verbose);
	case ARGS_INSPECT: return cmd_inspect(args.inspect_path, &args.cfg);
	case ARGS_RUN: break;
	}
	struct machine_config cfg = args.cfg;
	cfg.console_in = STDIN_FILENO;
	cfg.console_out = STDOUT_FILENO;
	/* A closed stdout (e.g. `| head`) must not kill nobios mid-write. */
	signal(SIGPIPE, SIG_IGN);

	/* SIGTERM/SIGINT/SIGHUP stop the guest and end nobios normally (the
	 * timeline and counters are printed, the terminal restored).  The
	 * console's raw-tty handlers, installed later, chain to this one. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	struct machine *m;
	if (machine_create(&m, &cfg) < 0) {
		fprintf(stderr, "nobios: %s\n", nb_errmsg());
		return fail_status();
	}
	if (machine_load(m) < 0 || machine_start(m) < 0) {
		fprintf(stderr, "nobios: %s\n", nb_errmsg());
		int st = fail_status();
		machine_destroy(m);
		return st;
	}
	struct machine_result res;
	the_machine = m;
	int r = machine_run(m, &res);
	the_machine = NULL;
	defer_kvm_teardown();
	machine_destroy(m);
	if (r < 0) {
		fprintf(stderr, "nobios: %s\n", res.cause[0] ? res.cause : nb_errmsg());
		if (res.data_error[0])
			fprintf(stderr, "nobios: %s\n", res.data_error);
		return res.data_error[0] ? NB_EXIT_IO : res.status ? res.status : NB_EXIT_INTERNAL;
	}
	/* Guest faults and timeouts already printed their cause with the dump. */
	if (res.stop == MACHINE_STOP_ERROR || res.stop == MACHINE_STOP_SIGNAL ||
	    res.stop == MACHINE_STOP_PANIC)
		fprintf(stderr, "nobios: %s\n", res.cause);
	else if (cfg.verbose)
		fprintf(stderr, "nobios: %s (exit status %d)\n", res.cause, res.status);
	if (res.data_error[0]) /* last: it decides the status */
		fprintf(stderr, "nobios: %s\n", res.data_error);
	return res.status;
}
