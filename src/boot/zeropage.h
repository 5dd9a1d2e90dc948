/* zeropage.h - the Linux boot protocol's "zero page" (struct boot_params),
 * built fresh for every boot: the kernel file's setup header is copied in
 * (never the file's own page reused), then the loader's fields are filled:
 * E820 from the one memory-map builder, command line, initrd, loader id. */
#ifndef NOBIOS_BOOT_ZEROPAGE_H
#define NOBIOS_BOOT_ZEROPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/bootparam.h"
#include "mem/mem.h"

struct zeropage_args {
	uint64_t cmd_line_ptr;   /* guest address of the NUL-terminated command line */
	uint64_t ramdisk_image;  /* initrd address, 0 if none */
	uint64_t ramdisk_size;
	uint64_t code32_start;   /* 0: keep the file's value */
	uint64_t acpi_rsdp_addr; /* ACPI RSDP (boot protocol 2.14+), 0 if none */
};

/* Heap end the loader reports with CAN_USE_HEAP (boot.rst: offset from the
 * start of the real-mode code, minus 0x200); no real-mode code of the kernel
 * runs under nobios, so the conventional value is used. */
#define ZEROPAGE_HEAP_END_PTR (0xFE00 - 0x200)

/* Length of the setup header in image (0x202 + byte at 0x201, from 0x1F1),
 * clamped to struct setup_header; -1 with nb_err() if image is too short. */
int zeropage_header_len(const char *path, const uint8_t *image, size_t size, size_t *len);

/* Fill *bp: zeroed, setup header copied from image (path names it in
 * errors), E820 table converted from map, and the args.  0 or -1. */
int zeropage_fill(struct boot_params *bp, const char *path, const uint8_t *image, size_t size,
		  const struct e820_map *map, const struct zeropage_args *a);

/* zeropage_fill, then copy the page into guest memory at gpa. */
int zeropage_build(struct guest_mem *m, uint64_t gpa, const char *path, const uint8_t *image,
		   size_t size, const struct e820_map *map, const struct zeropage_args *a);

#endif
