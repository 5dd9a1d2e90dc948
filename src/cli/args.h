/* args.h - the `nobios` command line as a library function: argv in, a
 * machine_config and what to do out, or one error line (nb_err, class
 * NB_ERR_INPUT) that the front end prints as "nobios: MSG (see nobios
 * --help)" with status 2.  It never prints and never exits, so the fuzzer
 * (tests/fuzz/fuzz_args.c) and the unit tests drive it like main() does. */
#ifndef NOBIOS_CLI_ARGS_H
#define NOBIOS_CLI_ARGS_H

#include "exec/exec.h"
#include "nobios.h"

enum args_action {
	ARGS_RUN,     /* boot cfg */
	ARGS_INSPECT, /* describe inspect_path */
	ARGS_HELP,    /* print the usage text on stdout, status 0 */
	ARGS_USAGE,   /* no arguments: the usage text on stderr, status 2 */
	ARGS_VERSION, /* print the version (with -v: the libraries), status 0 */
	ARGS_EXEC,    /* boot cfg with exec's initramfs, run exec.argv in it */
};

struct args {
	enum args_action action;
	struct machine_config cfg;
	const char *inspect_path; /* ARGS_INSPECT */
	bool version;             /* --version seen (internal) */
	/* ARGS_EXEC: the command after "--" (exec.argv points into argv), and
	 * the exec-only flags. */
	struct exec_config exec;
	bool console;             /* --console: the kernel's console on stderr */
	char kernel_buf[4096];    /* --kernel-from-build DIR's bzImage path */
};

/* Parse argv[1..argc) (argv[0] is the program).  The strings must be
 * writable: FILE,OPTIONS values are split in place, and cfg points into
 * them.  0 with *a filled, or -1 with nb_err(). */
int args_parse(int argc, char **argv, struct args *a);

#endif
