/* direct.h - helpers the direct-boot formats share (direct.c): module
 * placement, strings in a boot-information area, PT_LOAD checks, the
 * memory-map log and the ELF description `nobios inspect` prints. */
#ifndef NOBIOS_BOOT_DIRECT_H
#define NOBIOS_BOOT_DIRECT_H

#include <stdint.h>
#include <stdio.h>

#include "boot/boot.h"

struct elf_image;

/* Modules as placed in guest memory. */
struct direct_module {
	uint64_t addr, size;
	const char *cmdline; /* NULL: none */
	const char *path;
};
struct direct_modules {
	struct direct_module m[BOOT_MAX_MODULES + 1];
	unsigned n;
};
/* Load cfg->initrd (module 0, no command line) and cfg->modules[] page
 * aligned, in order, as one block at the top of RAM below `limit` and above
 * the kernel (ctx->kernel_end).  Sets ctx->initrd_addr/size to module 0. */
int direct_load_modules(struct boot_ctx *ctx, uint64_t limit, struct direct_modules *mods);

/* Append a string to the guest at *cur (bounded by end); *gpa its address. */
int direct_put_str(struct guest_mem *m, uint64_t *cur, uint64_t end, const char *s,
		   uint64_t *gpa);

/* Refuse PT_LOAD segments whose physical ranges overlap (a loader would
 * silently let the later one win). 0 or -1 with nb_err. */
int direct_check_segments(const struct elf_image *e);

/* With -v: log the memory map a format hands over (as "start - end (type)",
 * the form tboot and Linux print, so tests can compare them). */
void direct_log_map(const struct boot_ctx *ctx, const char *what);

/* Print an ELF's class, entry, notes and load ranges (`nobios inspect`). */
void direct_inspect_elf(const struct boot_file *f, FILE *out);

#endif
