/* boot.h - boot formats and the seam they load through.
 *
 * A loader sees the machine only through struct boot_ctx: guest memory (the
 * bounds-checked accessors of mem.h), the entry register state (cpu.h) and
 * the memory map.  No KVM type is visible here, so every loader also runs
 * against a plain buffer in unit tests.  (The same shape as bhyve's
 * userboot callbacks: copy into guest memory, set registers/CRs/GDT.)
 *
 * Formats register themselves with BOOT_FORMAT(); detection iterates the
 * table in ascending `order`, so nothing else changes when a format is added.
 */
#ifndef NOBIOS_BOOT_BOOT_H
#define NOBIOS_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "boot/platform.h"
#include "cpu/cpu.h"
#include "mem/mem.h"

/* A file loaded read-only into host memory. */
struct boot_file {
	const char *path;
	const uint8_t *data;
	size_t size;
	void *map_; /* internal */
};

/* Open and map a whole file; errors name the file.  max: refuse larger. */
int boot_file_open(struct boot_file *f, const char *path, uint64_t max);
void boot_file_close(struct boot_file *f);

#define BOOT_MAX_MODULES 32

struct boot_module {
	const char *path;
	const char *cmdline; /* may be NULL */
};

struct boot_disk {
	const char *path;
	bool rw;       /* writes go to the file */
	bool snapshot; /* writes go to an in-memory overlay */
};

/* What the user asked for. */
struct boot_config {
	const char *kernel;   /* path, may be NULL with a disk */
	const char *initrd;   /* path or NULL */
	const char *cmdline;  /* NULL = format's default ("") */
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nmodules;
	const char *entry_symbol; /* --entry-symbol */
	const char *protocol;     /* --boot-protocol NAME or NULL = detect */
	struct boot_disk disk;    /* --disk */
	struct boot_disk floppy;  /* --floppy */
	const char *cache_dir;    /* host-decompression cache or NULL */
	bool verbose;
};

/* The seam.  A loader writes guest memory through `mem`, the entry state into
 * `cpu`, and may read `e820`.  `log` is non-NULL with -v. */
struct boot_ctx {
	struct guest_mem *mem;
	struct cpu_state *cpu;
	const struct boot_config *cfg;
	/* vCPUs, interrupt controllers, virtio devices (NULL in tests that do
	 * not need one); table builders record rsdp/mp_floating in it. */
	struct platform *plat;
	struct e820_map e820;
	FILE *log;
	/* Filled by the loader, for -v, --timeline and `inspect`. */
	const char *format;     /* name of the format that loaded */
	char entry_desc[128];   /* e.g. "64-bit startup_64 at 0x1000000" */
	uint64_t kernel_start, kernel_end; /* guest range of the kernel image */
	uint64_t initrd_addr, initrd_size;
	bool needs_bios;        /* pseudo-BIOS must be installed */
	double decompress_ms;   /* host decompression time, if any */
};

struct boot_format {
	const char *name;   /* --boot-protocol name, e.g. "linux", "pvh" */
	int order;          /* detection order, ascending */
	const char *summary;
	/* 1 if the file is this format (why: one line saying what matched),
	 * 0 if not (why: what was missing).  Never fails otherwise. */
	int (*probe)(const struct boot_file *f, char *why, size_t whylen);
	/* Load and fill the entry state.  0 or -1 with nb_err(). */
	int (*load)(struct boot_ctx *ctx, const struct boot_file *f);
	/* Describe the file (entry, mode, headers, load ranges); 0 or -1. */
	int (*inspect)(const struct boot_file *f, FILE *out);
};

#define BOOT_FORMAT(sym)                                                      \
	static const struct boot_format *const boot_format_ptr_##sym             \
		__attribute__((used, section("nb_boot_formats"), aligned(sizeof(void *)))) = &sym

/* Iterate the registered formats in detection order (n returned). */
unsigned boot_formats(const struct boot_format **out, unsigned max);
const struct boot_format *boot_format_by_name(const char *name);

/* Detect (or take cfg->protocol), then load.  Fills ctx->e820 first. */
int boot_load(struct boot_ctx *ctx);
/* Detect the format of a file; why gets the reasoning.  NULL if none. */
const struct boot_format *boot_detect(const struct boot_file *f, char *why, size_t whylen);
/* `nobios inspect`: describe the file at path (kind, every probe's verdict,
 * the chosen or forced format's entry, headers and load ranges) on out.
 * 0, or -1 with nb_err() when the file cannot be read. */
int boot_inspect(const char *path, const struct boot_config *cfg, FILE *out);

/* boot_tables.c: the ACPI and MP tables for ctx->plat (nothing when it is
 * NULL), written at their fixed places in mem/layout.h; sets plat->rsdp and
 * plat->mp_floating.  boot_load() calls it before the format loads. */
int boot_tables_build(struct boot_ctx *ctx);

/* Shared helpers for loaders. */
/* Place the command line at LAYOUT_CMDLINE (checked against max incl. NUL). */
int boot_put_cmdline(struct boot_ctx *ctx, const char *cmdline, size_t max, uint64_t *gpa);
/* Highest page-aligned address in [lo, hi) where size bytes of RAM fit and
 * that does not overlap [avoid_lo, avoid_hi).  0 and nb_err() if none. */
int boot_place_high(const struct boot_ctx *ctx, uint64_t size, uint64_t lo, uint64_t hi,
		    uint64_t align, uint64_t *gpa);

#endif
