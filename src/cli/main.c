/* main.c - the `nobios` command line: parse flags into a machine_config, then
 * drive the library (machine_create / _load / _start / _run).  Errors
 * from the library are printed here, once, in one line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/version.h"
#include "dev/console_tty.h"
#include "exec/exec.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"

/* After the guest: the deferred KVM teardown's child (util/sandbox.h). */
SANDBOX_NEEDS(cli_needs, "front end: deferred KVM teardown (src/cli/main.c)", 0,
	SB_ALLOW(pipe), SB_ALLOW(pipe2));

static const char usage_text[] =
	"usage: nobios run [KERNEL] [options]     boot a kernel or disk image\n"
	"       nobios exec KERNEL [options] -- CMD [ARGS...]\n"
	"                                         run CMD in KERNEL, exit with its status\n"
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
	"                             a temporary file in $TMPDIR.  Without a KERNEL the\n"
	"                             image boots as a disk only (OSv layout or boot sector),\n"
	"                             whatever kernel headers its sectors carry (GRUB's do)\n"
	"  --floppy FILE[,rw|,snapshot] floppy image (pseudo-BIOS drive 0x00), a disk only\n"
	"  --boot-protocol NAME       force a format: bzimage linux linux32 linux16 pvh\n"
	"                             multiboot multiboot2 elf64 osv bios\n"
	"  --no-bios                  no pseudo-BIOS under a direct boot (by default every\n"
	"                             format gets IVT, BDA, EBDA and the firmware at 0xF0000\n"
	"                             and 0xFFFF0000, for kernels that call the BIOS)\n"
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
	"  --share DIR[,tag=T][,rw]   DIR over virtio-9p (9P2000.L), read-only unless rw;\n"
	"                             Linux: mount -t 9p -o trans=virtio,version=9p2000.L T MNT\n"
	"  --virtio-iothread          serve virtio-blk and virtio-9p requests in an I/O thread\n"
	"                             each, kicked by KVM_IOEVENTFD (default: in the vCPU thread)\n"
	"  --net tap[=NAME][,mac=MAC] a virtio-net device (eth0, eth1, ...; repeatable, up to\n"
	"                             4) on the host's TAP interface NAME; without a name\n"
	"                             nobios creates one (nbtapN, needs CAP_NET_ADMIN; -v\n"
	"                             names it); MAC XX:XX:XX:XX:XX:XX, default 02:4e:42:...\n"
	"                             derived from the TAP's name\n"
	"  --no-sandbox               run without the seccomp allow-list (to debug nobios)\n"
	"Debugging:\n"
	"  -v, --verbose              trace loading, host quirks, BIOS calls, exits, unclaimed ports\n"
	"  --timeline[=json]          boot milestones with microsecond offsets (to stderr)\n"
	"  --dump-state-on-exit       print the decoded vCPU state when the guest stops\n"
	"  --gdb PORT                 gdb remote stub on 127.0.0.1:PORT\n"
	"  --gdb-wait                 with --gdb: wait for gdb before the first instruction\n"
	"exec (nobios exec KERNEL [options] -- CMD [ARGS...]; also -m, --cpus, --append,\n"
	"      --timeout, --gdb, -v):\n"
	"  --pack FILE                put FILE (and a program's interpreter and shared\n"
	"                             libraries) into the guest at its host path (repeatable);\n"
	"                             CMD itself is packed when it is on the host's PATH\n"
	"  --no-pack-cmd              do not look CMD up on the host\n"
	"  --env NAME=VALUE           set a variable for CMD (repeatable)\n"
	"  --cwd DIR                  CMD's working directory in the guest (default: the\n"
	"                             current one, which the host's / makes the same)\n"
	"  --rw DIR                   share DIR read-write at its own path (repeatable, 7)\n"
	"  --no-host-root             do not share the host's / (read-only, with a tmpfs\n"
	"                             overlay for the guest's writes): the initramfs only\n"
	"  --modules DIR              the kernel's modules (default /lib/modules/RELEASE):\n"
	"                             9p and overlay ones are packed, DIR is /lib/modules\n"
	"                             inside so modprobe works\n"
	"  --user                     run CMD as the calling uid/gid (the default)\n"
	"  --root                     run CMD as root\n"
	"  --kernel-from-build DIR    boot DIR/arch/x86/boot/bzImage (a kernel build tree)\n"
	"  --console                  show the kernel's console on stderr (-v does too)\n"
	"\n"
	"Exit status: 0 clean power-off or reset; (v << 1) | 1 when the guest writes v to\n"
	"port 0xF4; 2 bad usage or bad input file; 4 guest fault (triple fault, entry failure,\n"
	"emulation failure, hang, --timeout); 6 host or KVM error, or a system call the\n"
	"sandbox refused; 8 Linux guest panicked (with the default reboot=k,panic_warm);\n"
	"10 a disk write or the flush at exit failed (data the guest wrote may be lost).\n"
	"exec: CMD's status (128 + N when signal N ended it, 127 not found); 4 --timeout;\n"
	"8 the kernel panicked; 12 the guest stopped before CMD's status; 14 the guest's\n"
	"init could not set CMD up; 2 and 6 as above.\n";

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

/* Boot cfg and run it to the end; the process status as `run` reports it.
 * *res says how the guest stopped (res->stop is MACHINE_STOP_ERROR when
 * it never ran). */
static int boot_and_run(const struct machine_config *cfg_in, struct machine_result *res)
{
	struct machine_config cfg = *cfg_in;
	memset(res, 0, sizeof(*res));
	res->stop = MACHINE_STOP_ERROR;
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
	the_machine = m;
	int r = machine_run(m, res);
	the_machine = NULL;
	defer_kvm_teardown();
	machine_destroy(m);
	if (r < 0) {
		fprintf(stderr, "nobios: %s\n", res->cause[0] ? res->cause : nb_errmsg());
		if (res->data_error[0])
			fprintf(stderr, "nobios: %s\n", res->data_error);
		res->stop = MACHINE_STOP_ERROR;
		return res->data_error[0] ? NB_EXIT_IO : res->status ? res->status : NB_EXIT_INTERNAL;
	}
	/* Guest faults and timeouts already printed their cause with the dump. */
	if (res->stop == MACHINE_STOP_ERROR || res->stop == MACHINE_STOP_SIGNAL ||
	    res->stop == MACHINE_STOP_PANIC)
		fprintf(stderr, "nobios: %s\n", res->cause);
	else if (cfg.verbose)
		fprintf(stderr, "nobios: %s (exit status %d)\n", res->cause, res->status);
	if (res->data_error[0]) /* last: it decides the status */
		fprintf(stderr, "nobios: %s\n", res->data_error);
	return res->status;
}

/* The last lines the hidden kernel console got (exec without -v), on
 * stderr: why a guest never ran the command.  lseek and read only: the
 * sandbox is in force. */
#define EXEC_TAIL_LINES 20
static void exec_console_tail(int fd)
{
	char buf[32768];
	off_t end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		return;
	off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	if (lseek(fd, start, SEEK_SET) < 0)
		return;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	/* An oops's register dump is longer than the tail: the panic's own
	 * line, which says why, goes first. */
	const char *panic = NULL;
	for (const char *p = buf; (p = strstr(p, "Kernel panic - not syncing")); p++)
		panic = p;
	if (panic) {
		char line[256];
		size_t pl = strcspn(panic, "\r\n");
		pl = pl < sizeof(line) - 1 ? pl : sizeof(line) - 1;
		for (size_t i = 0; i < pl; i++) /* the guest's bytes: no escapes */
			line[i] = (unsigned char)panic[i] < 0x20 || panic[i] == 0x7f ? '?' : panic[i];
		line[pl] = 0;
		fprintf(stderr, "nobios: %s\n", line);
	}
	/* Start at the EXEC_TAIL_LINES-th line from the end. */
	size_t pos = len, lines = 0;
	while (pos > 0) {
		if (buf[pos - 1] == '\n' && pos != len && ++lines >= EXEC_TAIL_LINES)
			break;
		pos--;
	}
	fprintf(stderr, "nobios: the guest's last console lines:\n");
	for (char *line = buf + pos, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		/* the console's bytes are the guest's: no control characters */
		for (char *c = line; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				*c = '?';
		size_t l = strlen(line);
		if (l && line[l - 1] == '?') /* a CR before the NL */
			line[l - 1] = 0;
		fprintf(stderr, "  | %s\n", line);
		if (!nl)
			break;
	}
}

/* `nobios exec KERNEL -- CMD`: the initramfs in a memfd handed to the
 * loaders as --initrd /proc/self/fd/N (every format reads it as a file,
 * through the same checks), the kernel console hidden in another memfd
 * unless -v/--console, CMD's output through the exec ports. */
static int cmd_exec(struct args *a)
{
	struct machine_config cfg = a->cfg;
	unsigned uid = a->exec.root ? 0 : (unsigned)getuid();
	unsigned gid = a->exec.root ? 0 : (unsigned)getgid();
	/* stdin reaches CMD when it is a pipe, file, socket or a terminal this
	 * process may read (not from the background: SIGTTIN); a character
	 * device such as /dev/null, or a closed fd, gives CMD /dev/null. */
	struct stat in_st;
	int in_fd = -1;
	if (fstat(STDIN_FILENO, &in_st) == 0 &&
	    (S_ISFIFO(in_st.st_mode) || S_ISREG(in_st.st_mode) || S_ISSOCK(in_st.st_mode) ||
	     (isatty(STDIN_FILENO) && !console_tty_background(STDIN_FILENO))))
		in_fd = STDIN_FILENO;
	a->exec.stdin_forwarded = in_fd >= 0;
	if (cfg.log)
		fprintf(cfg.log, "nobios: exec: stdin %s\n",
			in_fd >= 0 ? "is forwarded to the command" : "is not forwarded: /dev/null");
	/* The host's files over virtio-9p: / read-only, each --rw DIR
	 * writable (the guest's init mounts them; exec.c says how). */
	a->exec.kernel = cfg.boot.kernel;
	if (exec_shares(&a->exec, cfg.shares, NB_MAX_SHARES, &cfg.nshares) < 0) {
		fprintf(stderr, "nobios: %s\n", nb_errmsg());
		return fail_status();
	}
	struct cpio c;
	cpio_init(&c);
	if (exec_build_initramfs(&a->exec, uid, gid, cfg.log, &c) < 0) {
		fprintf(stderr, "nobios: %s\n", nb_errmsg());
		cpio_free(&c);
		return fail_status();
	}
	int ifd = memfd_create("nobios-exec-initramfs", MFD_CLOEXEC);
	size_t off = 0;
	while (ifd >= 0 && off < c.len) {
		ssize_t n = write(ifd, c.data + off, c.len - off);
		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			off += (size_t)n;
	}
	if (ifd < 0 || off < c.len) {
		fprintf(stderr, "nobios: exec: cannot keep the initramfs in memory: %s\n",
			strerror(errno));
		cpio_free(&c);
		return NB_EXIT_INTERNAL;
	}
	if (cfg.log)
		fprintf(cfg.log, "nobios: exec: initramfs of %zu bytes\n", c.len);
	/* bench/run.py boots the very same initramfs in QEMU for comparison
	 * (the init runs CMD on the console there and reboots). */
	const char *save = getenv("NOBIOS_EXEC_SAVE_INITRAMFS");
	if (save && *save) {
		FILE *f = fopen(save, "wb");
		if (!f || fwrite(c.data, 1, c.len, f) != c.len || fclose(f) != 0) {
			fprintf(stderr, "nobios: %s: cannot write the initramfs\n", save);
			cpio_free(&c);
			return NB_EXIT_INTERNAL;
		}
	}
	cpio_free(&c);
	char initrd[64];
	snprintf(initrd, sizeof(initrd), "/proc/self/fd/%d", ifd);
	cfg.boot.initrd = initrd;

	/* quiet: the console is for failures; rdinit: our init (it is /init
	 * anyway, said so that a kernel's built-in initramfs cannot win).
	 * console=, panic=-1 and reboot=k,panic_warm come from the defaults
	 * every Linux gets (boot/linux_cmdline.c), so a panic is status 8. */
	static char cmdline[4096];
	int l = snprintf(cmdline, sizeof(cmdline), "quiet rdinit=/init%s%s",
			 cfg.boot.cmdline ? " " : "", cfg.boot.cmdline ? cfg.boot.cmdline : "");
	if (l < 0 || (size_t)l >= sizeof(cmdline)) {
		fprintf(stderr, "nobios: --append: command line too long\n");
		return NB_EXIT_USAGE;
	}
	cfg.boot.cmdline = cmdline;

	int console = -1;
	cfg.console_in = -1; /* stdin is CMD's (the exec ports), not COM1's */
	if (a->console || cfg.verbose) {
		cfg.console_out = STDERR_FILENO;
	} else {
		console = memfd_create("nobios-exec-console", MFD_CLOEXEC);
		if (console < 0) {
			fprintf(stderr, "nobios: exec: memfd_create: %s\n", strerror(errno));
			return NB_EXIT_INTERNAL;
		}
		cfg.console_out = console;
	}
	struct exec_channel ch = { .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO,
				   .in_fd = in_fd };
	cfg.exec = &ch;

	struct machine_result res;
	int st = boot_and_run(&cfg, &res);
	int report = atomic_load(&ch.report);
	if (report == EXEC_REPORT_EXIT && !res.data_error[0])
		return ch.status;
	if (res.stop == MACHINE_STOP_SIGNAL)
		return st;
	if (report == EXEC_REPORT_SETUP) {
		fprintf(stderr, "nobios: exec: the guest's init could not set the command up "
			"(code %u; its message is above)\n", ch.setup_code);
		st = NB_EXIT_EXEC_SETUP;
	} else if (res.stop == MACHINE_STOP_ERROR && !atomic_load(&ch.started) &&
		   st == NB_EXIT_USAGE) {
		return st; /* a bad KERNEL: its one line was printed */
	} else if (res.stop != MACHINE_STOP_PANIC && res.stop != MACHINE_STOP_TIMEOUT &&
		   res.stop != MACHINE_STOP_SHUTDOWN && res.stop != MACHINE_STOP_FAIL_ENTRY &&
		   res.stop != MACHINE_STOP_INTERNAL && res.stop != MACHINE_STOP_ERROR) {
		fprintf(stderr, "nobios: exec: the guest stopped (%s) before %s\n", res.cause,
			atomic_load(&ch.started) ? "the command's status was reported"
						 : "the command ran");
		st = NB_EXIT_EXEC_NO_STATUS;
	} else if (res.stop == MACHINE_STOP_TIMEOUT || res.stop == MACHINE_STOP_PANIC) {
		fprintf(stderr, "nobios: exec: %s %s\n",
			res.stop == MACHINE_STOP_PANIC ? "the kernel panicked" : "--timeout expired",
			atomic_load(&ch.started) ? "while the command ran" : "before the command ran");
	}
	if (console >= 0)
		exec_console_tail(console);
	return st;
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
	case ARGS_EXEC: return cmd_exec(&args);
	case ARGS_RUN: break;
	}
	struct machine_config cfg = args.cfg;
	cfg.console_in = STDIN_FILENO;
	cfg.console_out = STDOUT_FILENO;
	struct machine_result res;
	return boot_and_run(&cfg, &res);
}
