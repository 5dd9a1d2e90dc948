/* elfdeps.h - what a dynamically linked x86-64 program needs at run time:
 * its program interpreter (PT_INTERP) and, recursively, the shared
 * libraries its DT_NEEDED entries name, found as the host's dynamic loader
 * would find them (DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH with $ORIGIN, then
 * the system directories).  `nobios exec --pack` copies them into the
 * guest's initramfs at the same paths, so the program runs there as on the
 * host.  Input files are untrusted: every offset is checked. */
#ifndef NOBIOS_EXEC_ELFDEPS_H
#define NOBIOS_EXEC_ELFDEPS_H

#include <stddef.h>
#include <stdint.h>

#define ELFDEPS_MAX_NEEDED 256

/* One object's dynamic section, pointing into the file's bytes. */
struct elfdeps_info {
	int is_elf;      /* 0: not an ELF file (a script, data): no dependencies */
	const char *interp;                   /* PT_INTERP or NULL */
	const char *needed[ELFDEPS_MAX_NEEDED];
	unsigned nneeded;
	const char *rpath, *runpath;          /* or NULL */
};

/* Parse an image of `path` (for messages).  0, or -1 with nb_err() naming
 * the file when it is a malformed or foreign (not x86-64, not 64-bit) ELF. */
int elfdeps_parse(const uint8_t *data, size_t size, const char *path, struct elfdeps_info *out);

/* A set of host paths, in the order found. */
struct elfdeps_set {
	char **paths;
	size_t n;
};
void elfdeps_set_free(struct elfdeps_set *s);
/* Add path (a copy); 1 if it was new, 0 if already there, -1 on error. */
int elfdeps_set_add(struct elfdeps_set *s, const char *path);

/* Normalise an absolute path in place, lexically: drop "." and empty
 * components, fold "..", so one file found two ways is packed once. */
void elfdeps_normalize(char *path);

/* The default system directories (x86-64 Debian multiarch first). */
extern const char *const elfdeps_default_dirs[];

/* Add `path` and everything it needs to *out.  sysdirs: NULL-terminated
 * directory list searched last (elfdeps_default_dirs in nobios; a test
 * directory in unit tests); ld_library_path as the environment variable
 * (may be NULL).  0, or -1 with nb_err() naming the file and the library
 * that was not found. */
int elfdeps_resolve(const char *path, const char *const *sysdirs, const char *ld_library_path,
		    struct elfdeps_set *out);

#endif
