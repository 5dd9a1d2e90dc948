/* bios.h - the pseudo-BIOS: nobios's real-mode firmware and the host-side
 * services its interrupt stubs trap to.
 *
 * The guest contract (pseudo-bios.asm must match it):
 *   - The 64 KiB firmware image sits at F000:0000 (LAYOUT_BIOS), reset vector
 *     at F000:FFF0: reaching it is a reset request (it writes the ACPI
 *     RESET_REG, as the direct boots' reset vector does).  The vCPU starts
 *     at F000:BIOS_OFF_POST, which programs
 *     the in-kernel 8259A pair (vectors 08h/70h, only IRQ0 unmasked) and the
 *     8254 (channel 0 at 18.2 Hz), then runs INT 19h.
 *   - The host writes the IVT (handler offsets from the image's table at
 *     BIOS_OFF_IVT, segment F000) and the BIOS data area before the first
 *     instruction.
 *   - A serviced vector n points at the stub F000:BIOS_OFF_STUBS + 4n, which
 *     is "out BIOS_TRAP_PORT, al; iret".  The host does not use the byte
 *     written: it takes the vector from the stub's address (CS:IP of the
 *     exit), reads and writes the registers through dev_host's
 *     get_cpu/set_cpu, and puts the result flags (CF, ZF) into the FLAGS word
 *     of the INT frame at SS:SP+4, which iret restores.  No register is used
 *     by the convention itself, so every service sees the caller's registers.
 *   - The timer (INT 08h), IRQ end-of-interrupts, the blocking INT 16h reads
 *     and INT 19h's jump to 0000:7C00 are firmware code: waiting happens in
 *     the guest with interrupts on, never in the host.
 *
 * Results follow Ralf Brown's Interrupt List: CF=1 and an error code in AH on
 * failure; a call nobios does not implement returns CF=1, AH=86h.
 */
#ifndef NOBIOS_BIOS_BIOS_H
#define NOBIOS_BIOS_BIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "block/disk_image.h"
#include "cpu/cpu.h"
#include "mem/mem.h"

#define BIOS_TRAP_PORT   0xEE   /* nobios's own; 8-bit so the stub needs no DX */
#define BIOS_SEG         0xF000
#define BIOS_IMAGE_SIZE  0x10000
#define BIOS_OFF_MAGIC   0x0000 /* "NOBIOS1\0" */
#define BIOS_OFF_HDR_POST 0x0008 /* word: POST entry offset */
#define BIOS_OFF_CONFIG  0x0010 /* INT 15h C0h configuration table */
#define BIOS_OFF_FDPT    0x0020 /* INT 1Eh diskette parameter table */
#define BIOS_OFF_IVT     0x0040 /* 256 words: handler offsets for the IVT */
#define BIOS_OFF_STUBS   0x0300 /* 256 stubs of BIOS_STUB_SIZE bytes */
#define BIOS_STUB_SIZE   4
#define BIOS_OFF_RESET   0xFFF0

/* The firmware image, assembled from pseudo-bios.asm at build time. */
extern const uint8_t bios_image[];
extern const uint32_t bios_image_size;

/* ---- INT 13h status codes (RBIL table 00234) */
#define BIOS_DISK_OK            0x00
#define BIOS_DISK_BAD_PARAM     0x01 /* invalid function, drive or parameter */
#define BIOS_DISK_WRITE_PROTECT 0x03
#define BIOS_DISK_NOT_FOUND     0x04 /* sector not found / out of range */
#define BIOS_DISK_BAD_MEDIA     0x0C
#define BIOS_DISK_CONTROLLER    0x20 /* controller failure */
#define BIOS_DISK_WRITE_FAULT   0xCC /* write fault on selected drive */
#define BIOS_UNSUPPORTED        0x86 /* INT 15h and the rest: function unsupported */

/* A disk image as BIOS drive; src/block/disk_image.h does the I/O (pread/
 * pwrite: read-only, read-write, or with a snapshot overlay). */
struct bios_disk {
	const char *path;
	struct disk_image *img; /* &own, or the machine's shared image (borrowed) */
	struct disk_image own;
	bool borrowed;          /* img is not ours to close */
	uint64_t size;       /* bytes */
	uint64_t sectors;    /* size / 512, rounded down */
	bool present, writable, floppy;
	bool warned_read, warned_write; /* the first I/O error of each kind was reported */
	uint8_t drive;       /* 0x00 floppy, 0x80 hard disk */
	uint8_t type;        /* floppy: CMOS drive type (4 = 1.44 MB) */
	uint32_t cyls, heads, spt; /* CHS geometry */
	uint8_t status;      /* last operation (INT 13h AH=01h) */
};

/* Open a disk image ("--disk FILE[,rw|,snapshot]", "--floppy FILE").  Errors
 * (missing, empty, directory, not writable with rw, locked by another
 * process, unusable floppy size) name the file; 0 or -1 with nb_err(). */
int bios_disk_open(struct bios_disk *d, const char *path, bool rw, bool snapshot, bool floppy);
/* The same for an image the machine already opened (the first --disk, which
 * virtio-blk serves too): used, never closed, by the drive. */
int bios_disk_attach(struct bios_disk *d, struct disk_image *img, const char *path, bool floppy);
/* Use a caller's buffer as the disk (unit tests, `inspect`). */
void bios_disk_init_buf(struct bios_disk *d, void *buf, uint64_t size, bool writable,
			bool floppy);
/* Flush and release the image: 0, or -1 with nb_err() when something the
 * guest wrote may be missing from it (disk_image_close).  Safe twice. */
int bios_disk_close(struct bios_disk *d);
/* Geometry: floppies from the standard sizes; hard disks from the MBR's
 * partition ends when consistent (as QEMU/SeaBIOS guess), else 16 heads and
 * 63 sectors (LBA-assist translation for larger disks).  Uses d->size and
 * sector 0 of the image.  0 or -1. */
int bios_disk_geometry(struct bios_disk *d);

/* The INT 13h AH=48h result for drive d and a caller's buffer of bufsize
 * bytes (EDD 1.1, 2.0, Phoenix EDD 3.0 or T13 EDD-3 form) into p: its
 * length, 0 when bufsize or cap is too small. */
size_t bios_edd_params(const struct bios_disk *d, uint16_t bufsize, uint8_t *p, size_t cap);

#define BIOS_KBD_QUEUE 32

/* Host state of the pseudo-BIOS. */
struct bios {
	struct guest_mem *mem;
	struct bios_disk hd, fd;
	uint8_t boot_drive;
	bool a20;
	int con_in, con_out;   /* console fds (-1 for none) */
	FILE *log;             /* -v trace or NULL */
	struct e820_map e820;
	uint16_t kbd[BIOS_KBD_QUEUE]; /* scan << 8 | ascii */
	unsigned kbd_head, kbd_n;
	char esc[8];           /* pending terminal escape sequence */
	/* Where keys come from when set (the machine's COM1 receiver, which
	 * owns the console input): returns bytes read, 0 if none.  Otherwise
	 * con_in is polled directly. */
	size_t (*kbd_source)(void *opaque, uint8_t *buf, size_t max);
	void *kbd_opaque;
	unsigned nesc;
	/* Host-side failures the guest was told about (a disk I/O error): one
	 * line each, the first per drive and kind only.  NULL: the -v log. */
	void (*warn)(void *opaque, const char *msg);
	void *warn_opaque;
	/* A service that ends the VM (INT 18h, a CPU exception) sets these. */
	bool stop;
	int stop_status;
	char stop_msg[160];
	/* -v trace: what the service did, and de-duplication of polling. */
	char note[192];
	uint32_t last_call;
	unsigned repeats;
	bool wait_sleep;       /* INT 15h AH=86h really sleeps (off in unit tests) */
	/* Boot loaders that print through both INT 10h and COM1 (syslinux with
	 * SERIAL, Linux's setup with earlyprintk) would show everything twice
	 * on the serial console: INT 10h text is held in tbuf and dropped when
	 * the guest wrote COM1 meanwhile (services.c).  uart_tx counts the
	 * guest's COM1 transmissions (bios_dev.c). */
	uint64_t uart_tx, ttx;
	char tbuf[1024];
	size_t tlen;
	bool drawn;            /* AH=09h/0Ah text on the current line */
	/* The last INT 10h call wrote one character with AH=09h: tlen after it
	 * and the cursor it was written at (row << 8 | column); 0 otherwise. */
	size_t at09;
	uint16_t cur09;
	uint64_t calls;        /* services served */
	/* INT 19h copies this to 0000:7C00 instead of the boot drive's sector 0
	 * when set (linux16's trampoline into the kernel's setup code). */
	bool has_boot_code;
	uint8_t boot_code[512];
};

/* Prepare the state for guest memory m (memory map from e820_build). */
void bios_init(struct bios *b, struct guest_mem *m);
void bios_fini(struct bios *b);
/* The guest has stopped: flush and release the disk images (their locks
 * too).  0, or -1 with nb_err() naming the image when data the guest wrote
 * may be missing from it. */
int bios_disks_finish(struct bios *b);

/* Write the firmware image, the IVT and the BIOS data area to guest memory.
 * 0 or -1 with nb_err(). */
int bios_install(struct bios *b);

/* Serve INT `vec` on the caller's registers s.  The caller's INT frame is at
 * SS:SP (IP, CS, FLAGS); the result flags are written both to s->rflags and
 * to the frame's FLAGS.  Returns 0; -1 only if the state cannot be served at
 * all (not real mode), with nb_err(). */
int bios_call(struct bios *b, uint8_t vec, struct cpu_state *s);

/* Read sector 0 of the boot drive to 0000:7C00 and check 0x55AA. */
int bios_boot_sector(struct bios *b, char *why, size_t whylen);

/* Linear address of seg:off from the cached segment base (real mode). */
static inline uint64_t bios_linear(const struct cpu_segment *seg, uint32_t off)
{
	return seg->base + off;
}

/* The machine's pseudo-BIOS: the boot format that installs it hands it to
 * the trap device (bios_dev.c), which owns it from then on.  One machine per
 * process, as for the console.  bios_set_active frees a previous one. */
void bios_set_active(struct bios *b);
struct bios *bios_get_active(void);

/* Allocate and install a pseudo-BIOS for a boot: disks from cfg (--disk,
 * --floppy; `image` is the hard disk when neither is given), firmware, IVT
 * and BDA.  The vCPU is set to enter the firmware's POST.  Used by the
 * "bios" and "linux16" boot formats.  NULL with nb_err() on failure. */
struct boot_ctx;
struct bios *bios_setup(struct boot_ctx *ctx, const char *image);
/* Install the pseudo-BIOS (state, drives, IVT, BDA, EBDA, firmware image)
 * under a format that entered the kernel directly, leaving its entry state
 * alone, unless the format already did (needs_bios) or --no-bios.  Makes it
 * the active one.  0 or -1 with nb_err(). */
int bios_install_direct(struct boot_ctx *ctx);

/* Feed console input bytes (terminal keys) to the keyboard queue. */
void bios_kbd_feed(struct bios *b, const uint8_t *buf, size_t n);

#endif
