/* bzimage.h - the Linux/x86 bzImage: setup-header parsing and validation
 * (Documentation/arch/x86/boot.rst), shared by the three boot formats in
 * bzimage.c ("bzimage": host-decompressed vmlinux at startup_64; "linux":
 * the bzImage's own 64-bit entry; "linux32": its 32-bit entry). */
#ifndef NOBIOS_BOOT_BZIMAGE_H
#define NOBIOS_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/bootparam.h"

struct bzimage {
	const char *path;
	const uint8_t *data;
	size_t size;
	struct setup_header hdr; /* the file's header; fields past its end read 0 */
	size_t hdr_len;          /* bytes of header in the file (from 0x1F1) */
	unsigned setup_sects;    /* effective: 0 in the file means 4 */
	size_t setup_size;       /* (setup_sects + 1) * 512: where the kernel starts */
	const uint8_t *pm;       /* protected-mode kernel: data + setup_size */
	size_t pm_size;
	const uint8_t *payload;  /* compressed vmlinux, NULL if the header has none */
	size_t payload_size;
	char version_str[128];   /* kernel version string, "" if none */
};

/* Parse and validate the setup header: 0, or -1 with nb_err() naming the
 * file and the problem ("HdrS", boot_flag, protocol >= 2.06, truncated
 * header, LOADED_HIGH, setup_sects beyond the file, payload outside the
 * kernel, kernel_alignment). */
int bzimage_parse(struct bzimage *b, const char *path, const uint8_t *data, size_t size);

/* The 64-bit entry needs protocol 2.12+ and XLF_KERNEL_64: 0 or -1. */
int bzimage_check_64(const struct bzimage *b);

/* The end of where the kernel takes an initrd (initrd_addr_max + 1); -1
 * with nb_err() naming the kernel file when its header allows none above
 * 1 MiB (initrd_addr_max 0 is a bad header, not a small -m). */
int bzimage_initrd_max(const struct bzimage *b, uint64_t *end);
/* Where the protected-mode kernel goes in RAM of low_top bytes below 4 GiB
 * (boot.rst: pref_address when relocatable and aligned to kernel_alignment,
 * else the lowest aligned address from 1 MiB; non-relocatable at 1 MiB),
 * and the bytes it needs there (init_size or the kernel's size).  *end gets
 * the end of all memory the kernel claims.  0 or -1 (too large for RAM). */
int bzimage_load_addr(const struct bzimage *b, uint64_t low_top, uint64_t *addr, uint64_t *end);

#endif
