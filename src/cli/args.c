/* args.c - the `nobios` command line (args.h).  Moved out of main.c so that
 * it returns its errors instead of exiting (the fuzzer and the unit tests
 * call it); the flags, their spellings and every message are main.c's. */
#include "cli/args.h"
#include "exec/exec_port.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/tap.h"
#include "util/err.h"

/* SIZE: a number with an optional K/M/G/T suffix; no suffix means MiB (QEMU). */
static int parse_size(const char *flag, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return nb_err("%s: '%s' is not a size", flag, s);
	int shift = 20;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return nb_err("%s: '%s' is not a size", flag, s);
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return nb_err("%s: '%s' is not a size", flag, s);
	if (v == 0 || v > (1ULL << (63 - shift)))
		return nb_err("%s: '%s' is out of range", flag, s);
	if (v << shift > (1ULL << 40))
		return nb_err("%s: '%s' is larger than 1 TiB", flag, s);
	*out = v << shift;
	return 0;
}

static int parse_uint(const char *flag, const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return nb_err("%s: '%s' is not a number in 0..%lu", flag, s, max);
	*out = v;
	return 0;
}

static int parse_seconds(const char *flag, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return nb_err("%s: '%s' is not a positive number of seconds", flag, s);
	*out = v;
	return 0;
}

/* FILE[,rw|,snapshot] */
static int parse_disk(const char *flag, char *arg, struct boot_disk *d)
{
	char *save = NULL;
	d->path = strtok_r(arg, ",", &save);
	if (!d->path || arg[0] == ',')
		return nb_err("%s: empty file name", flag);
	for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
		if (strcmp(opt, "rw") == 0)
			d->rw = true;
		else if (strcmp(opt, "snapshot") == 0)
			d->snapshot = true;
		else
			return nb_err("%s: unknown option '%s' (rw or snapshot)", flag, opt);
	}
	if (d->rw && d->snapshot)
		return nb_err("%s: rw and snapshot exclude each other", flag);
	return 0;
}

/* tap[=NAME][,mac=XX:XX:XX:XX:XX:XX]: argv strings are writable, split in
 * place.  A TAP without a name is created with one the kernel picks. */
static int parse_net(const char *flag, char *arg, struct net_config *n)
{
	char *save = NULL;
	const char *kind = strtok_r(arg, ",", &save);
	if (!kind || arg[0] == ',')
		return nb_err("%s: empty; give tap=NAME or tap", flag);
	if (strcmp(kind, "tap") == 0) {
		n->tap = NULL;
	} else if (strncmp(kind, "tap=", 4) == 0) {
		const char *why = tap_name_check(kind + 4);
		if (why)
			return nb_err("%s %s: %s", flag, kind, why);
		n->tap = kind + 4;
	} else {
		return nb_err("%s: '%s': the only backend is tap=NAME (or tap to create one)", flag,
			      kind);
	}
	for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
		if (strncmp(opt, "mac=", 4) != 0)
			return nb_err("%s: unknown option '%s' (mac=XX:XX:XX:XX:XX:XX)", flag, opt);
		const char *why = tap_parse_mac(opt + 4, n->mac);
		if (why)
			return nb_err("%s: mac '%s': %s", flag, opt + 4, why);
		n->mac_set = true;
	}
	return 0;
}

enum opt_id {
	O_KERNEL, O_INITRD, O_CMDLINE, O_MODULE, O_ENTRY_SYMBOL, O_DISK, O_FLOPPY, O_PROTOCOL,
	O_CACHE_DIR, O_MEMORY, O_CPUS, O_CPUID_MASK, O_CPUID_KEEP, O_TIMEOUT, O_VERBOSE,
	O_TIMELINE, O_TIMELINE_JSON, O_DUMP, O_GDB, O_GDB_WAIT, O_HELP, O_VERSION,
	O_NO_SANDBOX, O_NO_DEFAULT_CMDLINE, O_NO_BIOS, O_VIRTIO_RNG, O_VIRTIO_CONSOLE, O_NET,
	/* exec only */
	O_PACK, O_ENV, O_CWD, O_USER, O_ROOT, O_KERNEL_FROM_BUILD, O_CONSOLE, O_NO_PACK_CMD,
	O_RW, O_MODULES, O_NO_HOST_ROOT, O_SHARE, O_VIRTIO_IOTHREAD,
};

struct opt {
	const char *names[4]; /* spellings, with leading dashes */
	enum opt_id id;
	bool arg;
	bool exec_only; /* a flag of `nobios exec` alone */
};

static const struct opt opts[] = {
	{ { "--kernel", "-kernel" }, O_KERNEL, true, false },
	{ { "--initrd", "-initrd" }, O_INITRD, true, false },
	{ { "--cmdline", "--append", "-append" }, O_CMDLINE, true, false },
	{ { "--module" }, O_MODULE, true, false },
	{ { "--entry-symbol" }, O_ENTRY_SYMBOL, true, false },
	{ { "--disk", "-hda" }, O_DISK, true, false },
	{ { "--floppy", "-fda" }, O_FLOPPY, true, false },
	{ { "--boot-protocol" }, O_PROTOCOL, true, false },
	{ { "--cache-dir" }, O_CACHE_DIR, true, false },
	{ { "-m", "--memory" }, O_MEMORY, true, false },
	{ { "--cpus", "-smp" }, O_CPUS, true, false },
	{ { "--cpuid-mask" }, O_CPUID_MASK, true, false },
	{ { "--cpuid-keep" }, O_CPUID_KEEP, true, false },
	{ { "--timeout" }, O_TIMEOUT, true, false },
	{ { "-v", "--verbose" }, O_VERBOSE, false, false },
	{ { "--timeline" }, O_TIMELINE, false, false },
	{ { "--timeline=json" }, O_TIMELINE_JSON, false, false },
	{ { "--dump-state-on-exit" }, O_DUMP, false, false },
	{ { "--gdb" }, O_GDB, true, false },
	{ { "--gdb-wait" }, O_GDB_WAIT, false, false },
	{ { "-h", "--help" }, O_HELP, false, false },
	{ { "--version" }, O_VERSION, false, false },
	{ { "--no-sandbox" }, O_NO_SANDBOX, false, false },
	{ { "--no-default-cmdline" }, O_NO_DEFAULT_CMDLINE, false, false },
	{ { "--no-bios" }, O_NO_BIOS, false, false },
	{ { "--virtio-rng" }, O_VIRTIO_RNG, false, false },
	{ { "--virtio-console" }, O_VIRTIO_CONSOLE, false, false },
	{ { "--share" }, O_SHARE, true, false },
	{ { "--virtio-iothread" }, O_VIRTIO_IOTHREAD, false, false },
	{ { "--net" }, O_NET, true, false },
	{ { "--pack" }, O_PACK, true, true },
	{ { "--env" }, O_ENV, true, true },
	{ { "--cwd" }, O_CWD, true, true },
	{ { "--user" }, O_USER, false, true },
	{ { "--root" }, O_ROOT, false, true },
	{ { "--kernel-from-build" }, O_KERNEL_FROM_BUILD, true, true },
	{ { "--console" }, O_CONSOLE, false, true },
	{ { "--no-pack-cmd" }, O_NO_PACK_CMD, false, true },
	{ { "--rw" }, O_RW, true, true },
	{ { "--modules" }, O_MODULES, true, true },
	{ { "--no-host-root" }, O_NO_HOST_ROOT, false, true },
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

/* FILE[,CMDLINE]: argv strings are writable: split in place. */
static int parse_module(struct boot_config *b, char *val)
{
	if (b->nmodules >= BOOT_MAX_MODULES)
		return nb_err("--module: at most %d modules", BOOT_MAX_MODULES);
	char *comma = strchr(val, ',');
	if (comma)
		*comma = 0;
	if (!*val)
		return nb_err("--module: empty file name");
	b->modules[b->nmodules].path = val;
	b->modules[b->nmodules].cmdline = comma ? comma + 1 : NULL;
	b->nmodules++;
	return 0;
}

/* --share DIR[,tag=TAG][,rw]: a virtio-9p device (default tag: DIR's last
 * component, "share" for /). */
static int parse_share(struct machine_config *cfg, char *val)
{
	if (cfg->nshares >= NB_MAX_SHARES)
		return nb_err("--share: at most %d directories", NB_MAX_SHARES);
	struct nb_share *sh = &cfg->shares[cfg->nshares];
	*sh = (struct nb_share){ 0 };
	char *opt = strchr(val, ',');
	if (opt)
		*opt++ = 0;
	if (!*val)
		return nb_err("--share: empty directory name");
	sh->path = val;
	const char *tag = NULL;
	while (opt && *opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = 0;
		if (strcmp(opt, "rw") == 0)
			sh->writable = true;
		else if (strncmp(opt, "tag=", 4) == 0 && opt[4])
			tag = opt + 4;
		else
			return nb_err("--share %s: unknown option '%s' (tag=TAG, rw)", val, opt);
		opt = next;
	}
	if (!tag) {
		const char *slash = strrchr(val, '/');
		tag = slash && slash[1] ? slash + 1 : slash ? "share" : val;
	}
	if (strlen(tag) >= sizeof(sh->tag))
		return nb_err("--share %s: tag '%s' longer than %zu bytes", val, tag,
			      sizeof(sh->tag) - 1);
	for (unsigned i = 0; i < cfg->nshares; i++)
		if (strcmp(cfg->shares[i].tag, tag) == 0)
			return nb_err("--share %s: tag '%s' given twice", val, tag);
	memcpy(sh->tag, tag, strlen(tag) + 1);
	cfg->nshares++;
	return 0;
}

/* One flag with its value; 1 when it ends parsing (--help). */
static int apply(struct args *a, const struct opt *o, const char *val)
{
	struct machine_config *cfg = &a->cfg;
	struct boot_config *b = &cfg->boot;
	const char *flag = o->names[0];
	unsigned long n;
	switch (o->id) {
	case O_KERNEL: b->kernel = val; break;
	case O_INITRD: b->initrd = val; break;
	case O_CMDLINE: b->cmdline = val; break;
	case O_MODULE: return parse_module(b, (char *)val);
	case O_ENTRY_SYMBOL: b->entry_symbol = val; break;
	case O_DISK:
		if (b->ndisks == BOOT_MAX_DISKS)
			return nb_err("%s %s: at most %d disks", flag, val, BOOT_MAX_DISKS);
		if (parse_disk(flag, (char *)val, &b->disks[b->ndisks]) < 0)
			return -1;
		b->ndisks++;
		break;
	case O_FLOPPY: return parse_disk(flag, (char *)val, &b->floppy);
	case O_PROTOCOL:
		if (!boot_format_by_name(val))
			return nb_err("--boot-protocol: unknown protocol '%s'", val);
		b->protocol = val;
		break;
	case O_CACHE_DIR: b->cache_dir = val; break;
	case O_MEMORY: return parse_size(flag, val, &cfg->ram_size);
	case O_CPUS:
		if (parse_uint(flag, val, 255, &n) < 0)
			return -1;
		cfg->cpus = (unsigned)n;
		break;
	case O_CPUID_MASK: cfg->cpuid_mask = val; break;
	case O_CPUID_KEEP: cfg->cpuid_keep = val; break;
	case O_TIMEOUT: return parse_seconds(flag, val, &cfg->timeout_s);
	case O_VERBOSE: cfg->verbose = b->verbose = true; cfg->log = stderr; break;
	case O_TIMELINE: cfg->timeline = true; break;
	case O_TIMELINE_JSON: cfg->timeline = cfg->timeline_json = true; break;
	case O_DUMP: cfg->dump_on_exit = true; break;
	case O_GDB:
		if (parse_uint(flag, val, 65535, &n) < 0)
			return -1;
		cfg->gdb_port = (int)n;
		break;
	case O_GDB_WAIT: cfg->gdb_wait = true; break;
	case O_HELP: a->action = ARGS_HELP; return 1;
	case O_VERSION: a->version = true; break; /* after the loop: it may have -v */
	case O_NO_SANDBOX: cfg->sandbox = false; break;
	case O_VIRTIO_RNG: cfg->virtio_rng = true; break;
	case O_VIRTIO_CONSOLE: cfg->virtio_console = true; break;
	case O_SHARE: return parse_share(cfg, (char *)val);
	case O_VIRTIO_IOTHREAD: cfg->virtio_iothread = true; break;
	case O_NET:
		if (cfg->nnets == NET_MAX_DEVICES)
			return nb_err("%s %s: at most %d network devices", flag, val, NET_MAX_DEVICES);
		if (parse_net(flag, (char *)val, &cfg->net[cfg->nnets]) < 0)
			return -1;
		for (unsigned i = 0; cfg->net[cfg->nnets].tap && i < cfg->nnets; i++)
			if (cfg->net[i].tap && strcmp(cfg->net[i].tap, cfg->net[cfg->nnets].tap) == 0)
				return nb_err("%s: TAP %s given twice (one guest NIC per TAP)", flag,
					      cfg->net[i].tap);
		cfg->nnets++;
		break;
	case O_NO_DEFAULT_CMDLINE: b->linux_cmdline_defaults = false; break;
	case O_NO_BIOS: b->no_bios = true; break;
	case O_PACK:
		if (!*val)
			return nb_err("--pack: empty file name");
		if (a->exec.npack >= EXEC_MAX_PACK)
			return nb_err("--pack: at most %d files", EXEC_MAX_PACK);
		a->exec.pack[a->exec.npack++] = val;
		break;
	case O_ENV: {
		/* NAME=VALUE, NAME a shell-style name: init passes it to execve
		 * as it is, and a name with '=' or empty would mean nothing. */
		size_t nl = strcspn(val, "=");
		if (nl == 0 || val[nl] != '=' || strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "abcdefghijklmnopqrstuvwxyz0123456789_") != nl ||
		    (val[0] >= '0' && val[0] <= '9'))
			return nb_err("--env: '%s' is not NAME=VALUE", val);
		if (a->exec.nenv >= EXEC_MAX_ENV)
			return nb_err("--env: at most %d variables", EXEC_MAX_ENV);
		a->exec.env[a->exec.nenv++] = val;
		break;
	}
	case O_CWD:
		if (val[0] != '/')
			return nb_err("--cwd: '%s' is not an absolute path", val);
		a->exec.cwd = val;
		break;
	case O_USER: a->exec.root = false; break;
	case O_ROOT: a->exec.root = true; break;
	case O_KERNEL_FROM_BUILD: {
		if (!*val)
			return nb_err("--kernel-from-build: empty directory name");
		size_t l = strlen(val);
		const char *sep = val[l - 1] == '/' ? "" : "/";
		if ((size_t)snprintf(a->kernel_buf, sizeof(a->kernel_buf),
				     "%s%sarch/x86/boot/bzImage", val, sep) >= sizeof(a->kernel_buf))
			return nb_err("--kernel-from-build: directory name too long");
		if (b->kernel)
			return nb_err("kernel given twice ('%s' and --kernel-from-build %s)",
				      b->kernel, val);
		b->kernel = a->kernel_buf;
		a->exec.build_tree = val;
		break;
	}
	case O_CONSOLE: a->console = true; break;
	case O_NO_PACK_CMD: a->exec.no_pack_cmd = true; break;
	case O_RW:
		if (!*val)
			return nb_err("--rw: empty directory name");
		if (a->exec.nrw >= EXEC_MAX_RW)
			return nb_err("--rw: at most %d directories", EXEC_MAX_RW);
		a->exec.rw[a->exec.nrw++] = val;
		break;
	case O_MODULES:
		if (!*val)
			return nb_err("--modules: empty directory name");
		a->exec.modules = val;
		break;
	case O_NO_HOST_ROOT: a->exec.no_host_root = true; break;
	}
	return 0;
}

static int parse_flags(int argc, char **argv, struct args *a, const char **positional)
{
	*positional = NULL;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (a->action == ARGS_EXEC && strcmp(arg, "--") == 0) {
			/* Everything after is CMD, flags or not. */
			a->exec.argv = argv + i + 1;
			a->exec.argc = argc - i - 1;
			break;
		}
		if (arg[0] != '-' || arg[1] == 0) {
			if (*positional)
				return nb_err("unexpected argument '%s'", arg);
			*positional = arg;
			continue;
		}
		const char *val;
		const struct opt *o = find_opt(arg, &val);
		if (!o)
			return nb_err("unknown option '%s'", arg);
		if (o->exec_only && a->action != ARGS_EXEC)
			return nb_err("%s is a flag of nobios exec", arg);
		if (o->arg && !val) {
			if (i + 1 >= argc)
				return nb_err("%s needs a value", arg);
			val = argv[++i];
		}
		if (!val)
			val = ""; /* a flag without a value: apply() never sees NULL */
		int r = apply(a, o, val);
		if (r != 0)
			return r < 0 ? -1 : 0; /* --help: nothing after counts */
	}
	/* after the loop, so `--version -v` and `-v --version` agree */
	if (a->version) {
		a->action = ARGS_VERSION;
		return 0;
	}
	if (a->cfg.gdb_wait && !a->cfg.gdb_port)
		return nb_err("--gdb-wait needs --gdb PORT");
	return 0;
}

int args_parse(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	machine_config_defaults(&a->cfg);
	if (argc < 2) {
		a->action = ARGS_USAGE;
		return 0;
	}
	const char *cmd = argv[1];
	int first = 2;
	if (cmd[0] == '-') { /* `nobios --kernel X ...` means run */
		if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
			a->action = ARGS_HELP;
			return 0;
		}
		cmd = "run"; /* --version is parsed with the flags: it may have -v */
		first = 1;
	} else if (strcmp(cmd, "help") == 0) {
		a->action = ARGS_HELP;
		return 0;
	} else if (strcmp(cmd, "run") != 0 && strcmp(cmd, "inspect") != 0 &&
		   strcmp(cmd, "exec") != 0) {
		return nb_err("unknown command '%s'", cmd);
	}
	a->action = strcmp(cmd, "inspect") == 0 ? ARGS_INSPECT
		    : strcmp(cmd, "exec") == 0  ? ARGS_EXEC
						: ARGS_RUN;

	const char *positional;
	if (parse_flags(argc - first, argv + first, a, &positional) < 0)
		return -1;
	if (a->action == ARGS_HELP || a->action == ARGS_VERSION)
		return 0;
	struct boot_config *b = &a->cfg.boot;

	/* --entry-symbol names an ELF64 entry: the elf64 format (an OSv --disk
	 * image keeps its own format, which honours the symbol too). */
	if (b->entry_symbol && !b->protocol &&
	    (b->kernel || (positional && a->action == ARGS_RUN)))
		b->protocol = "elf64";

	if (a->action == ARGS_INSPECT) {
		a->inspect_path = positional ? positional : b->kernel;
		if (!a->inspect_path)
			return nb_err("inspect needs a FILE");
		return 0;
	}
	if (positional) {
		if (b->kernel)
			return nb_err("kernel given twice ('%s' and --kernel %s)", positional,
				      b->kernel);
		b->kernel = positional;
	}
	if (a->action == ARGS_EXEC) {
		if (!b->kernel)
			return nb_err("exec needs a KERNEL (or --kernel-from-build DIR)");
		if (!a->exec.argv || a->exec.argc < 1)
			return nb_err("exec needs a command: nobios exec KERNEL [options] -- CMD "
				      "[ARGS...]");
		/* exec makes the initramfs and the guest's devices itself */
		if (b->initrd || b->nmodules || b->ndisks || b->floppy.path)
			return nb_err("exec builds its own initramfs and has no disks: --initrd, "
				      "--module, --disk and --floppy are flags of nobios run");
		if (b->entry_symbol)
			return nb_err("exec boots Linux: --entry-symbol is a flag of nobios run");
		return 0;
	}
	if (!b->kernel && !b->disks[0].path && !b->floppy.path)
		return nb_err("nothing to boot: give a KERNEL, --disk or --floppy");
	return 0;
}
