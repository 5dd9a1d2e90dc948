/* version.c - `nobios --version [-v]`.
 *
 * The version is NOBIOS_VERSION (src/nobios.h).  A build in a git checkout
 * also bakes in `git describe` (the Makefile writes git_describe.h), so a
 * bug report names the exact commit; a build from the release tarball or the
 * Debian package has no git and says nothing more.  With -v, the optional
 * libraries are looked up now, the way their first use would look them up. */
#include "cli/version.h"

#include "boot/decomp_dl.h"
#include "emul/uc_dl.h"
#include "git_describe.h" /* $(BUILD)/gen: NOBIOS_GIT_DESCRIBE, maybe "" */
#include "nobios.h"
#include "util/dlprobe.h"

static void print_lib(FILE *out, const struct dl_probe *p)
{
	if (p->found)
		fprintf(out, "  %-16s found %s at %s (%s)\n", p->soname,
			p->version[0] ? p->version : "(version not reported)", p->path, p->purpose);
	else
		fprintf(out, "  %-16s not found: needed for %s; install Debian's %s (%s)\n",
			p->soname, p->purpose, p->package, p->error);
}

int cli_print_version(FILE *out, bool verbose)
{
	const char *git = NOBIOS_GIT_DESCRIBE;
	if (git[0])
		fprintf(out, "nobios %s (git %s)\n", NOBIOS_VERSION, git);
	else
		fprintf(out, "nobios %s\n", NOBIOS_VERSION);
	if (!verbose)
		return 0;
	fprintf(out, "Run-time libraries (dlopen()ed on first use; none is needed to start):\n");
	struct dl_probe libs[8];
	uc_dl_probe(&libs[0]);
	unsigned n = 1 + decomp_dl_probe(libs + 1, 7);
	for (unsigned i = 0; i < n; i++)
		print_lib(out, &libs[i]);
	fprintf(out, "The pseudo-BIOS firmware is built into the binary.\n");
	return 0;
}
