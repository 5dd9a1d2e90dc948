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

#include "nobios.h"
#include "util/err.h"

static const char usage_text[] =
	"usage: nobios run [KERNEL] [options]     boot a kernel or disk image\n"
	"       nobios inspect FILE [options]     say what FILE is and how it would boot\n"
	"       nobios --help | --version\n"
	"\n"
	"Guest:\n"
	"  KERNEL, --kernel FILE      kernel image (bzImage, PVH/multiboot ELF, ELF64)\n"
	"  --initrd FILE              initial ramdisk (Linux, PVH module 0, multiboot module)\n"
	"  --cmdline S, --append S    kernel command line\n"
	"  --module FILE[,CMDLINE]    extra multiboot/PVH module (repeatable)\n"
	"  --entry-symbol NAME        enter an ELF64 at symbol NAME in long mode (e.g. start64)\n"
	"  --disk FILE[,rw|,snapshot] hard disk image (pseudo-BIOS INT 13h 0x80; OSv layout)\n"
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
	"Debugging:\n"
	"  -v, --verbose              trace loading, host quirks, BIOS calls, exits, unclaimed ports\n"
	"  --timeline[=json]          boot milestones with microsecond offsets (to stderr)\n"
	"  --dump-state-on-exit       print the decoded vCPU state when the guest stops\n"
	"  --gdb PORT                 gdb remote stub on 127.0.0.1:PORT\n"
	"  --gdb-wait                 with --gdb: wait for gdb before the first instruction\n"
	"\n"
	"Exit status: 0 clean power-off or reset; (v << 1) | 1 when the guest writes v to\n"
	"port 0xF4; 2 bad usage or bad input file; 4 guest fault (triple fault, entry failure,\n"
	"emulation failure, hang, --timeout); 6 host or KVM error.\n";

static void usage_exit(FILE *out, int status)
{
	fputs(usage_text, out);
	exit(status);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nobios: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see nobios --help)\n", stderr);
	va_end(ap);
	exit(NB_EXIT_USAGE);
}

/* SIZE: a number with an optional K/M/G/T suffix; no suffix means MiB (QEMU). */
static uint64_t parse_size(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		bad("%s: '%s' is not a size", flag, s);
	int shift = 20;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: bad("%s: '%s' is not a size", flag, s);
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		bad("%s: '%s' is not a size", flag, s);
	if (v == 0 || v > (1ULL << (63 - shift)))
		bad("%s: '%s' is out of range", flag, s);
	if (v << shift > (1ULL << 40))
		bad("%s: '%s' is larger than 1 TiB", flag, s);
	return v << shift;
}

static unsigned long parse_uint(const char *flag, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		bad("%s: '%s' is not a number in 0..%lu", flag, s, max);
	return v;
}

static double parse_seconds(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		bad("%s: '%s' is not a positive number of seconds", flag, s);
	return v;
}

/* FILE[,rw|,snapshot] */
static void parse_disk(const char *flag, char *arg, struct boot_disk *d)
{
	char *save = NULL;
	d->path = strtok_r(arg, ",", &save);
	if (!d->path || arg[0] == ',')
		bad("%s: empty file name", flag);
	for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
		if (strcmp(opt, "rw") == 0)
			d->rw = true;
		else if (strcmp(opt, "snapshot") == 0)
			d->snapshot = true;
		else
			bad("%s: unknown option '%s' (rw or snapshot)", flag, opt);
	}
	if (d->rw && d->snapshot)
		bad("%s: rw and snapshot exclude each other", flag);
}

enum opt_id {
	O_KERNEL, O_INITRD, O_CMDLINE, O_MODULE, O_ENTRY_SYMBOL, O_DISK, O_FLOPPY, O_PROTOCOL,
	O_CACHE_DIR, O_MEMORY, O_CPUS, O_CPUID_MASK, O_CPUID_KEEP, O_TIMEOUT, O_VERBOSE,
	O_TIMELINE, O_TIMELINE_JSON, O_DUMP, O_GDB, O_GDB_WAIT, O_HELP, O_VERSION,
};

struct opt {
	const char *names[4]; /* spellings, with leading dashes */
	enum opt_id id;
	bool arg;
};

static const struct opt opts[] = {
	{ { "--kernel", "-kernel" }, O_KERNEL, true },
	{ { "--initrd", "-initrd" }, O_INITRD, true },
	{ { "--cmdline", "--append", "-append" }, O_CMDLINE, true },
	{ { "--module" }, O_MODULE, true },
	{ { "--entry-symbol" }, O_ENTRY_SYMBOL, true },
	{ { "--disk", "-hda" }, O_DISK, true },
	{ { "--floppy", "-fda" }, O_FLOPPY, true },
	{ { "--boot-protocol" }, O_PROTOCOL, true },
	{ { "--cache-dir" }, O_CACHE_DIR, true },
	{ { "-m", "--memory" }, O_MEMORY, true },
	{ { "--cpus", "-smp" }, O_CPUS, true },
	{ { "--cpuid-mask" }, O_CPUID_MASK, true },
	{ { "--cpuid-keep" }, O_CPUID_KEEP, true },
	{ { "--timeout" }, O_TIMEOUT, true },
	{ { "-v", "--verbose" }, O_VERBOSE, false },
	{ { "--timeline" }, O_TIMELINE, false },
	{ { "--timeline=json" }, O_TIMELINE_JSON, false },
	{ { "--dump-state-on-exit" }, O_DUMP, false },
	{ { "--gdb" }, O_GDB, true },
	{ { "--gdb-wait" }, O_GDB_WAIT, false },
	{ { "-h", "--help" }, O_HELP, false },
	{ { "--version" }, O_VERSION, false },
};

static const struct opt *find_opt(const char *a, const char **inline_val)
{
	*inline_val = NULL;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		for (int j = 0; j < 4 && opts[i].names[j]; j++) {
			const char *n = opts[i].names[j];
			size_t l = strlen(n);
			if (strcmp(a, n) == 0)
				return &opts[i];
			if (opts[i].arg && strncmp(a, n, l) == 0 && a[l] == '=') {
				*inline_val = a + l + 1;
				return &opts[i];
			}
		}
	return NULL;
}

static void parse_args(int argc, char **argv, struct machine_config *cfg, const char **positional)
{
	struct boot_config *b = &cfg->boot;
	*positional = NULL;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (a[0] != '-' || a[1] == 0) {
			if (*positional)
				bad("unexpected argument '%s'", a);
			*positional = a;
			continue;
		}
		const char *val;
		const struct opt *o = find_opt(a, &val);
		if (!o)
			bad("unknown option '%s'", a);
		if (o->arg && !val) {
			if (i + 1 >= argc)
				bad("%s needs a value", a);
			val = argv[++i];
		}
		const char *flag = o->names[0];
		switch (o->id) {
		case O_KERNEL: b->kernel = val; break;
		case O_INITRD: b->initrd = val; break;
		case O_CMDLINE: b->cmdline = val; break;
		case O_MODULE: {
			if (b->nmodules >= BOOT_MAX_MODULES)
				bad("--module: at most %d modules", BOOT_MAX_MODULES);
			/* argv strings are writable: split FILE,CMDLINE in place */
			char *copy = (char *)val;
			char *comma = strchr(copy, ',');
			if (comma)
				*comma = 0;
			if (!*copy)
				bad("--module: empty file name");
			b->modules[b->nmodules].path = copy;
			b->modules[b->nmodules].cmdline = comma ? comma + 1 : NULL;
			b->nmodules++;
			break;
		}
		case O_ENTRY_SYMBOL: b->entry_symbol = val; break;
		case O_DISK: parse_disk(flag, (char *)val, &b->disk); break;
		case O_FLOPPY: parse_disk(flag, (char *)val, &b->floppy); break;
		case O_PROTOCOL:
			if (!boot_format_by_name(val))
				bad("--boot-protocol: unknown protocol '%s'", val);
			b->protocol = val;
			break;
		case O_CACHE_DIR: b->cache_dir = val; break;
		case O_MEMORY: cfg->ram_size = parse_size(flag, val); break;
		case O_CPUS: cfg->cpus = parse_uint(flag, val, 255); break;
		case O_CPUID_MASK: cfg->cpuid_mask = val; break;
		case O_CPUID_KEEP: cfg->cpuid_keep = val; break;
		case O_TIMEOUT: cfg->timeout_s = parse_seconds(flag, val); break;
		case O_VERBOSE: cfg->verbose = b->verbose = true; cfg->log = stderr; break;
		case O_TIMELINE: cfg->timeline = true; break;
		case O_TIMELINE_JSON: cfg->timeline = cfg->timeline_json = true; break;
		case O_DUMP: cfg->dump_on_exit = true; break;
		case O_GDB: cfg->gdb_port = (int)parse_uint(flag, val, 65535); break;
		case O_GDB_WAIT: cfg->gdb_wait = true; break;
		case O_HELP: usage_exit(stdout, 0); break;
		case O_VERSION: printf("nobios %s\n", NOBIOS_VERSION); exit(0);
		}
	}
	if (cfg->gdb_wait && !cfg->gdb_port)
		bad("--gdb-wait needs --gdb PORT");
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
		int devnull = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(devnull, fd);
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

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_exit(stderr, NB_EXIT_USAGE);
	const char *cmd = argv[1];
	int first = 2;
	if (cmd[0] == '-') { /* `nobios --kernel X ...` means run */
		if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
			usage_exit(stdout, 0);
		if (strcmp(cmd, "--version") == 0) {
			printf("nobios %s\n", NOBIOS_VERSION);
			return 0;
		}
		cmd = "run";
		first = 1;
	} else if (strcmp(cmd, "help") == 0) {
		usage_exit(stdout, 0);
	} else if (strcmp(cmd, "run") != 0 && strcmp(cmd, "inspect") != 0) {
		bad("unknown command '%s'", cmd);
	}

	struct machine_config cfg;
	machine_config_defaults(&cfg);
	const char *positional;
	parse_args(argc - first, argv + first, &cfg, &positional);

	/* --entry-symbol names an ELF64 entry: the elf64 format (an OSv --disk
	 * image keeps its own format, which honours the symbol too). */
	if (cfg.boot.entry_symbol && !cfg.boot.protocol &&
	    (cfg.boot.kernel || (positional && strcmp(cmd, "run") == 0)))
		cfg.boot.protocol = "elf64";

	if (strcmp(cmd, "inspect") == 0) {
		const char *path = positional ? positional : cfg.boot.kernel;
		if (!path)
			bad("inspect needs a FILE");
		return cmd_inspect(path, &cfg);
	}

	if (positional) {
		if (cfg.boot.kernel)
			bad("kernel given twice ('%s' and --kernel %s)", positional, cfg.boot.kernel);
		cfg.boot.kernel = positional;
	}
	if (!cfg.boot.kernel && !cfg.boot.disk.path && !cfg.boot.floppy.path)
		bad("nothing to boot: give a KERNEL, --disk or --floppy");
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
		return res.status ? res.status : NB_EXIT_INTERNAL;
	}
	/* Guest faults and timeouts already printed their cause with the dump. */
	if (res.stop == MACHINE_STOP_ERROR || res.stop == MACHINE_STOP_SIGNAL)
		fprintf(stderr, "nobios: %s\n", res.cause);
	else if (cfg.verbose)
		fprintf(stderr, "nobios: %s (exit status %d)\n", res.cause, res.status);
	return res.status;
}
