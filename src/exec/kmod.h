/* kmod.h - the kernel modules the guest of `nobios exec` needs to mount the
 * host's files over virtio-9p (kmod.c): found for the kernel's release in
 * a modules directory (modules.order, modules.builtin, each module's own
 * depends=), read into memory in load order for the initramfs. */
#ifndef NOBIOS_EXEC_KMOD_H
#define NOBIOS_EXEC_KMOD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KMOD_NWANT 4
#define KMOD_MAX 32

struct kmod_want {
	const char *name;   /* module name, '_' spelling */
	const char *option; /* the kernel configuration option that builds it */
};
/* virtio_mmio, 9pnet_virtio, 9p, overlay */
extern const struct kmod_want kmod_wanted[KMOD_NWANT];

enum kmod_state { KMOD_UNKNOWN = 0, KMOD_BUILTIN, KMOD_MODULE, KMOD_MISSING };

struct kmod {
	char name[64];
	char path[PATH_MAX]; /* the host file */
	uint8_t *data;       /* decompressed */
	size_t len;
};

struct kmod_set {
	char dir[PATH_MAX];
	bool found;                        /* dir has modules.order */
	enum kmod_state state[KMOD_NWANT]; /* of kmod_wanted[i]; UNKNOWN without a list */
	struct kmod mod[KMOD_MAX];         /* dependencies first */
	unsigned n;
};

/* The release ("6.1.0-57-amd64") of a kernel image: a bzImage's
 * kernel_version, else the "Linux version " string in the file.  0 or -1
 * with nb_err() naming the file. */
int kmod_release(const char *kernel, char *out, size_t outlen);
/* Look up kmod_wanted in dir and read the modules it needs.  A dir
 * without modules.order is no error: k->found stays false.  0 or -1 with
 * nb_err() (a listed module that cannot be read, a missing dependency). */
int kmod_find(const char *dir, FILE *log, struct kmod_set *k);
void kmod_set_free(struct kmod_set *k);

#endif
