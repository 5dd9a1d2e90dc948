/* test_args.c - the command-line parser as a library (src/cli/args.c): the
 * flags main.c has always taken, the same one-line errors, and no exit()
 * on any input (it used to exit from inside the parser). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "util/err.h"

/* Parse a NULL-terminated list of words (copied: the parser writes). */
static int parse(struct args *a, char **store, const char *first, ...)
{
	static char *argv[64]; /* exec.argv points into it after the call */
	int argc = 0;
	store[0] = strdup("nobios");
	argv[argc++] = store[0];
	va_list ap;
	va_start(ap, first);
	for (const char *w = first; w && argc < 63; w = va_arg(ap, const char *)) {
		store[argc] = strdup(w);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	store[argc] = NULL;
	argv[argc] = NULL;
	nb_err_clear();
	return args_parse(argc, argv, a);
}

static void freeall(char **store)
{
	for (int i = 0; store[i]; i++)
		free(store[i]);
}

#define FAILS(want, ...)                                                          \
	do {                                                                      \
		char *st[64];                                                     \
		struct args a;                                                    \
		assert_int_equal(parse(&a, st, __VA_ARGS__, NULL), -1);          \
		assert_int_equal(nb_errclass(), NB_ERR_INPUT);                    \
		if (!strstr(nb_errmsg(), want))                                   \
			fail_msg("'%s' lacks '%s'", nb_errmsg(), want);          \
		freeall(st);                                                      \
	} while (0)

static void test_errors(void **state)
{
	(void)state;
	FAILS("unknown option '--bogus'", "run", "k", "--bogus");
	FAILS("--initrd needs a value", "run", "k", "--initrd");
	FAILS("-m: '12Q' is not a size", "run", "k", "-m", "12Q");
	FAILS("-m: '0' is out of range", "run", "k", "-m", "0");
	FAILS("larger than 1 TiB", "run", "k", "-m", "2T");
	FAILS("nothing to boot", "run");
	FAILS("unknown command 'frob'", "frob");
	FAILS("unknown protocol 'nope'", "run", "k", "--boot-protocol", "nope");
	FAILS("is not a positive number of seconds", "run", "k", "--timeout", "-1");
	FAILS("--gdb-wait needs --gdb PORT", "run", "k", "--gdb-wait");
	FAILS("--gdb: '70000' is not a number in 0..65535", "run", "k", "--gdb", "70000");
	FAILS("--disk: unknown option 'rx'", "run", "--disk", "x.img,rx");
	FAILS("rw and snapshot exclude each other", "run", "--disk", "x,rw,snapshot");
	FAILS("--disk: empty file name", "run", "--disk", ",rw");
	FAILS("--disk i: at most 8 disks", "run", "--disk", "a", "--disk", "b", "--disk", "c",
	      "--disk", "d", "--disk", "e", "--disk", "f", "--disk", "g", "--disk", "h", "--disk", "i");
	FAILS("--module: empty file name", "run", "k", "--module", ",cmd");
	FAILS("kernel given twice", "run", "a", "--kernel", "b");
	FAILS("unexpected argument 'b'", "run", "a", "b");
	FAILS("inspect needs a FILE", "inspect");
}

static void test_run(void **state)
{
	(void)state;
	char *st[64];
	struct args a;
	assert_int_equal(parse(&a, st, "run", "vmlinuz", "-m", "1G", "--append=console=ttyS0",
			       "--module", "m1,arg one", "--disk", "d.img,snapshot", "--cpus", "1",
			       "--timeline=json", "--no-sandbox", NULL), 0);
	assert_int_equal(a.action, ARGS_RUN);
	assert_string_equal(a.cfg.boot.kernel, "vmlinuz");
	assert_int_equal(a.cfg.ram_size, 1ull << 30);
	assert_string_equal(a.cfg.boot.cmdline, "console=ttyS0");
	assert_int_equal(a.cfg.boot.nmodules, 1);
	assert_string_equal(a.cfg.boot.modules[0].path, "m1");
	assert_string_equal(a.cfg.boot.modules[0].cmdline, "arg one");
	assert_string_equal(a.cfg.boot.disks[0].path, "d.img");
	assert_true(a.cfg.boot.disks[0].snapshot);
	assert_int_equal(a.cfg.boot.ndisks, 1);
	assert_true(a.cfg.timeline && a.cfg.timeline_json);
	assert_false(a.cfg.sandbox);
	assert_false(a.cfg.virtio_rng || a.cfg.virtio_console);
	freeall(st);
	/* --disk repeats: vda, vdb in order; the virtio flags */
	assert_int_equal(parse(&a, st, "run", "k", "--disk", "a.img,rw", "-hda", "b.img",
			       "--virtio-rng", "--virtio-console", NULL), 0);
	assert_int_equal(a.cfg.boot.ndisks, 2);
	assert_string_equal(a.cfg.boot.disks[0].path, "a.img");
	assert_true(a.cfg.boot.disks[0].rw);
	assert_string_equal(a.cfg.boot.disks[1].path, "b.img");
	assert_false(a.cfg.boot.disks[1].rw);
	assert_true(a.cfg.virtio_rng && a.cfg.virtio_console);
	freeall(st);
	/* defaults: 256 MiB, the sandbox on; `nobios --kernel X` means run */
	assert_int_equal(parse(&a, st, "--kernel", "k", NULL), 0);
	assert_int_equal(a.action, ARGS_RUN);
	assert_int_equal(a.cfg.ram_size, 256ull << 20);
	assert_true(a.cfg.sandbox);
	freeall(st);
	/* --entry-symbol asks for the elf64 format */
	assert_int_equal(parse(&a, st, "run", "k.elf", "--entry-symbol", "start64", NULL), 0);
	assert_string_equal(a.cfg.boot.protocol, "elf64");
	freeall(st);
}

static void test_actions(void **state)
{
	(void)state;
	char *st[64];
	struct args a;
	char prog[] = "nobios";
	char *argv0[] = { prog, NULL };
	assert_int_equal(args_parse(1, argv0, &a), 0);
	assert_int_equal(a.action, ARGS_USAGE);
	assert_int_equal(parse(&a, st, "--help", NULL), 0);
	assert_int_equal(a.action, ARGS_HELP);
	freeall(st);
	assert_int_equal(parse(&a, st, "help", NULL), 0);
	assert_int_equal(a.action, ARGS_HELP);
	freeall(st);
	/* --help ends parsing where it stands; --version is acted on after the
	 * flags, so `--version -v` and `-v --version` agree (and a bad flag
	 * after it is still an error) */
	assert_int_equal(parse(&a, st, "run", "k", "--help", "--bogus", NULL), 0);
	assert_int_equal(a.action, ARGS_HELP);
	freeall(st);
	assert_int_equal(parse(&a, st, "--version", "-v", NULL), 0);
	assert_int_equal(a.action, ARGS_VERSION);
	assert_true(a.cfg.verbose);
	freeall(st);
	assert_int_equal(parse(&a, st, "-v", "--version", NULL), 0);
	assert_int_equal(a.action, ARGS_VERSION);
	assert_true(a.cfg.verbose);
	freeall(st);
	assert_int_equal(parse(&a, st, "run", "k", "--version", "--bogus", NULL), -1);
	freeall(st);
	assert_int_equal(parse(&a, st, "--no-default-cmdline", "k", NULL), 0);
	assert_false(a.cfg.boot.linux_cmdline_defaults);
	freeall(st);
	assert_int_equal(parse(&a, st, "inspect", "--kernel", "f", NULL), 0);
	assert_int_equal(a.action, ARGS_INSPECT);
	assert_string_equal(a.inspect_path, "f");
	freeall(st);
}

/* nobios exec: the command after "--" (flags there are CMD's), the
 * exec-only flags refused elsewhere, their checks. */
static void test_exec(void **state)
{
	(void)state;
	char *st[64];
	struct args a;
	assert_int_equal(parse(&a, st, "exec", "bz", "--pack", "/bin/x", "--pack", "y", "--env",
			       "A_1=b=c", "--cwd", "/tmp", "--root", "-m", "1G", "--append",
			       "loglevel=7", "--console", "--", "sh", "-c", "--pack", NULL), 0);
	assert_int_equal(a.action, ARGS_EXEC);
	assert_string_equal(a.cfg.boot.kernel, "bz");
	assert_int_equal(a.exec.npack, 2);
	assert_string_equal(a.exec.pack[0], "/bin/x");
	assert_string_equal(a.exec.pack[1], "y");
	assert_int_equal(a.exec.nenv, 1);
	assert_string_equal(a.exec.env[0], "A_1=b=c");
	assert_string_equal(a.exec.cwd, "/tmp");
	assert_true(a.exec.root);
	assert_true(a.console);
	assert_int_equal(a.cfg.ram_size, 1ull << 30);
	assert_string_equal(a.cfg.boot.cmdline, "loglevel=7");
	assert_int_equal(a.exec.argc, 3);
	assert_string_equal(a.exec.argv[0], "sh");
	assert_string_equal(a.exec.argv[2], "--pack");
	freeall(st);
	/* the host's files: --rw (repeatable), --modules, --no-host-root */
	assert_int_equal(parse(&a, st, "exec", "bz", "--rw", "/a", "--rw=/b", "--modules", "/m",
			       "--no-host-root", "--", "true", NULL), 0);
	assert_int_equal(a.exec.nrw, 2);
	assert_string_equal(a.exec.rw[1], "/b");
	assert_string_equal(a.exec.modules, "/m");
	assert_true(a.exec.no_host_root);
	freeall(st);
	/* --user undoes --root; the tree's bzImage */
	assert_int_equal(parse(&a, st, "exec", "--root", "--user", "--kernel-from-build",
			       "/src/linux/", "--", "true", NULL), 0);
	assert_false(a.exec.root);
	assert_string_equal(a.cfg.boot.kernel, "/src/linux/arch/x86/boot/bzImage");
	assert_string_equal(a.exec.build_tree, "/src/linux/");
	freeall(st);
}

static void test_share(void **state)
{
	(void)state;
	char *st[64];
	struct args a;
	assert_int_equal(parse(&a, st, "run", "k", "--share", "/srv/data,rw", "--share",
			       "/,tag=hostroot", "--share", "/tmp/x/", "--virtio-iothread", NULL), 0);
	assert_true(a.cfg.virtio_iothread);
	assert_int_equal(a.cfg.nshares, 3);
	assert_string_equal(a.cfg.shares[0].path, "/srv/data");
	assert_string_equal(a.cfg.shares[0].tag, "data");
	assert_true(a.cfg.shares[0].writable);
	assert_string_equal(a.cfg.shares[1].tag, "hostroot");
	assert_false(a.cfg.shares[1].writable);
	assert_string_equal(a.cfg.shares[2].tag, "share"); /* nothing after the last '/' */
	freeall(st);
}

static void test_share_errors(void **state)
{
	(void)state;
	FAILS("--share: empty directory name", "run", "k", "--share", ",rw");
	FAILS("unknown option 'ro'", "run", "k", "--share", "/d,ro");
	FAILS("tag 'd' given twice", "run", "k", "--share", "/a/d", "--share", "/b/d");
	FAILS("longer than 31 bytes", "run", "k", "--share",
	      "/d,tag=0123456789012345678901234567890123456789");
}

static void test_exec_errors(void **state)
{
	(void)state;
	FAILS("exec needs a command", "exec", "bz");
	FAILS("exec needs a command", "exec", "bz", "--");
	FAILS("exec needs a KERNEL", "exec", "--", "true");
	FAILS("--pack is a flag of nobios exec", "run", "bz", "--pack", "x");
	FAILS("--root is a flag of nobios exec", "run", "bz", "--root");
	FAILS("unknown option '--'", "run", "bz", "--", "x");
	FAILS("--env: '=x' is not NAME=VALUE", "exec", "bz", "--env", "=x", "--", "true");
	FAILS("--env: 'A' is not NAME=VALUE", "exec", "bz", "--env", "A", "--", "true");
	FAILS("--env: 'A-B=1' is not NAME=VALUE", "exec", "bz", "--env", "A-B=1", "--", "t");
	FAILS("--env: '1A=1' is not NAME=VALUE", "exec", "bz", "--env", "1A=1", "--", "t");
	FAILS("--cwd: 'tmp' is not an absolute path", "exec", "bz", "--cwd", "tmp", "--", "t");
	FAILS("--pack: empty file name", "exec", "bz", "--pack", "", "--", "t");
	FAILS("--rw: empty directory name", "exec", "bz", "--rw", "", "--", "t");
	FAILS("--rw: at most 7 directories", "exec", "bz", "--rw", "1", "--rw", "2", "--rw", "3",
	      "--rw", "4", "--rw", "5", "--rw", "6", "--rw", "7", "--rw", "8", "--", "t");
	FAILS("--rw is a flag of nobios exec", "run", "bz", "--rw", "/x");
	FAILS("exec builds its own initramfs", "exec", "bz", "--initrd", "i", "--", "t");
	FAILS("exec builds its own initramfs", "exec", "bz", "--disk", "d", "--", "t");
	FAILS("kernel given twice", "exec", "bz", "--kernel-from-build", "/l", "--", "t");
	FAILS("--kernel-from-build: empty directory name", "exec", "--kernel-from-build", "",
	      "--", "t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_share_errors),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
