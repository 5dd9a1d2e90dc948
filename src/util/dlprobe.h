/* dlprobe.h - where the dynamic linker finds a library nobios dlopen()s.
 *
 * nobios links none of its optional libraries (libunicorn, the
 * decompressors): each is dlopen()ed on first use.  `nobios --version -v`
 * asks the dynamic linker the same question up front, so a user sees which
 * ones this machine has, from where, and which package supplies a missing
 * one.  Used only there; the boot path never calls it. */
#ifndef NOBIOS_UTIL_DLPROBE_H
#define NOBIOS_UTIL_DLPROBE_H

#include <stdbool.h>

struct dl_probe {
	const char *soname;   /* what nobios dlopen()s */
	const char *package;  /* the Debian package that ships it */
	const char *purpose;  /* what nobios needs it for */
	bool found;
	char path[256];       /* the file the dynamic linker chose */
	char version[64];     /* the library's own version string, or "" */
	char error[256];      /* dlerror() when not found */
};

/* dlopen(p->soname) and fill found/path (or error).  Returns the handle for
 * the caller to read a version from and dl_probe_close(), or NULL. */
void *dl_probe_open(struct dl_probe *p);
/* Fill p->version from `const char *sym(void)` if the library has it. */
void dl_probe_version_string(struct dl_probe *p, void *handle, const char *sym);
void dl_probe_close(void *handle);

#endif
