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

/* A file read into host memory.  Read (pread), never mapped: a file that
 * shrinks, grows or fails while nobios reads it is an error naming it
 * ("changed size while being read"), never SIGBUS. */
struct boot_file {
	const char *path;
	const uint8_t *data;
	size_t size;        /* bytes at data */
	/* The file's size: more than size only when just its head was read (a
	 * large disk image, BOOT_DISK_HEAD); 0 means the same as size. */
	uint64_t file_size;
	void *map_;         /* internal: the buffer */
	size_t map_len_;
	int fd_;            /* internal: open while more may be read */
	bool open_;
	bool blockdev_; /* internal: size from lseek, not st_size */
};

/* Read a whole file; errors name the file.  max: the guest RAM the
 * file has to fit in (a kernel, initrd or module is copied there), checked
 * before a byte is read; 0 for files that are not loaded whole (disk
 * images, `inspect`). */
int boot_file_open(struct boot_file *f, const char *path, uint64_t max);
/* Check the file and read only its first `head` bytes (0: none; the rest
 * with boot_file_pread, boot_file_read_all or boot_file_to_guest). */
int boot_file_open_head(struct boot_file *f, const char *path, uint64_t max, size_t head);
/* What format detection reads: the whole file, except the first
 * BOOT_DISK_HEAD bytes only of a larger file that is a disk image (boot
 * signature 55 AA, no ELF, bzImage or multiboot header).  A 64 GiB image is
 * never read whole; detection answers as it would on the whole file, since
 * only formats marked disk_head can claim such a file. */
int boot_file_open_image(struct boot_file *f, const char *path);
#define BOOT_DISK_HEAD (1u << 20)
/* Read the rest of a file opened by its head.  0 or -1 with nb_err(). */
int boot_file_read_all(struct boot_file *f);
/* Read [off, off+len) of the file, from data or from the file. */
int boot_file_pread(const struct boot_file *f, uint64_t off, void *buf, size_t len);
/* Read the whole file straight into guest memory at gpa (an initrd: no
 * copy in between).  The range must be RAM. */
int boot_file_to_guest(const struct boot_file *f, struct guest_mem *m, uint64_t gpa);
void boot_file_close(struct boot_file *f);
/* The file's size (file_size, or size for a file built in memory). */
static inline uint64_t boot_file_size(const struct boot_file *f)
{
	return f->file_size > f->size ? f->file_size : f->size;
}

#define BOOT_MAX_MODULES 32
/* The largest kernel file (an ELF with debug information is far larger
 * than what it loads; initrds and modules are bounded by guest RAM). */
#define BOOT_KERNEL_FILE_MAX (4ULL << 30)

struct boot_module {
	const char *path;
	const char *cmdline; /* may be NULL */
};

struct disk_image;

struct boot_disk {
	const char *path;
	bool rw;       /* writes go to the file */
	bool snapshot; /* writes go to an in-memory overlay */
	/* Opened once by the machine for every device that serves it (the
	 * first disk is both virtio-blk vda and the pseudo-BIOS's drive 0x80:
	 * one open file, one lock); NULL where the caller opens it itself. */
	struct disk_image *img;
};

/* --disk is repeatable: vda, vdb, ... (virtio-blk devices, each with its own
 * window and interrupt line, within PLATFORM_MAX_VIRTIO with the others). */
#define BOOT_MAX_DISKS 8

/* What the user asked for. */
struct boot_config {
	const char *kernel;   /* path, may be NULL with a disk */
	const char *initrd;   /* path or NULL */
	const char *cmdline;  /* NULL = format's default ("") */
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nmodules;
	const char *entry_symbol; /* --entry-symbol */
	const char *protocol;     /* --boot-protocol NAME or NULL = detect */
	struct boot_disk disks[BOOT_MAX_DISKS]; /* --disk, in order; disks[0] is drive 0x80 */
	unsigned ndisks;
	struct boot_disk floppy;  /* --floppy */
	const char *cache_dir;    /* host-decompression cache or NULL */
	bool verbose;
	/* Linux formats add console=ttyS0, panic=-1, reboot=k,panic_warm when
	 * missing (boot/linux_cmdline.h); machine_config_defaults() sets it,
	 * --no-default-cmdline clears it. */
	bool linux_cmdline_defaults;
	/* --no-bios: no pseudo-BIOS under a direct boot (the disk formats and
	 * linux16 need it and install it anyway). */
	bool no_bios;
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
	bool bios_installed;    /* it is (disk formats, linux16, or under a direct entry) */
	/* A loader that finds the file is better started by another format
	 * names it here and returns 0; boot_load then loads the file with that
	 * one (a bzImage that is not Linux: its 16-bit setup, "linux16"). */
	const char *redirect;
	/* The image is not Linux (no default Linux command line for it). */
	bool not_linux;
	double decompress_ms;   /* host decompression time, if any */
	/* The loader added reboot=k,panic_warm: a reset with the warm-boot
	 * flag set is a Linux panic (boot/linux_cmdline.h). */
	bool linux_panic_flag;
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
	/* probe, load and inspect need only the first BOOT_DISK_HEAD bytes of
	 * a disk image and read anything further themselves (boot_file_pread):
	 * the disk formats, so a large image is never read whole. */
	bool disk_head;
	/* A disk format: the only ones probed for an image given with --disk
	 * or --floppy (a disk is a disk, whatever headers its sectors carry:
	 * GRUB's core.img behind its boot sector has a Multiboot header). */
	bool disk;
};

#define BOOT_FORMAT(sym)                                                      \
	static const struct boot_format *const boot_format_ptr_##sym             \
		__attribute__((used, section("nb_boot_formats"), aligned(sizeof(void *)))) = &sym

/* Iterate the registered formats in detection order (n returned). */
unsigned boot_formats(const struct boot_format **out, unsigned max);
const struct boot_format *boot_format_by_name(const char *name);

/* Detect (or take cfg->protocol), then load.  Fills ctx->e820 first. */
int boot_load(struct boot_ctx *ctx);
/* The role a file plays, which decides the formats probed for it. */
enum boot_role {
	BOOT_ROLE_KERNEL, /* KERNEL, --kernel: every format, in order */
	BOOT_ROLE_DISK,   /* --disk, --floppy: only formats marked disk */
};
/* Detect the format of a file; why gets the reasoning.  NULL if none. */
const struct boot_format *boot_detect(const struct boot_file *f, char *why, size_t whylen);
const struct boot_format *boot_detect_as(const struct boot_file *f, enum boot_role role,
					 char *why, size_t whylen);
/* `nobios inspect`: describe the file at path (kind, every probe's verdict,
 * the chosen or forced format's entry, headers and load ranges) on out.
 * 0, or -1 with nb_err() when the file cannot be read. */
int boot_inspect(const char *path, const struct boot_config *cfg, FILE *out);
/* The same for a file already in memory (tests, fuzzing). */
int boot_inspect_file(struct boot_file *f, const struct boot_config *cfg, FILE *out);

/* boot_tables.c: the ACPI and MP tables for ctx->plat (nothing when it is
 * NULL), written at their fixed places in mem/layout.h; sets plat->rsdp and
 * plat->mp_floating.  boot_load() calls it before the format loads. */
int boot_tables_build(struct boot_ctx *ctx);
/* After the format loaded: when the pseudo-BIOS's POST will run
 * (ctx->needs_bios), the tables again in their PC flavour (boot/acpi.h).
 * 0 or -1 with nb_err(). */
int boot_tables_post(struct boot_ctx *ctx);

/* Shared helpers for loaders. */
/* Place the command line at LAYOUT_CMDLINE (checked against max incl. NUL). */
int boot_put_cmdline(struct boot_ctx *ctx, const char *cmdline, size_t max, uint64_t *gpa);
/* Highest page-aligned address in [lo, hi) where size bytes of RAM fit and
 * that does not overlap [avoid_lo, avoid_hi).  0 and nb_err() if none. */
int boot_place_high(const struct boot_ctx *ctx, uint64_t size, uint64_t lo, uint64_t hi,
		    uint64_t align, uint64_t *gpa);

#endif
