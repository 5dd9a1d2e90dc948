/* multiboot.h - Multiboot Specification version 0.6.96: header, information
 * structure and entry contract, with the specification's names.  Our own
 * definitions; sizes and offsets asserted against the spec's tables. */
#ifndef NOBIOS_BOOT_MULTIBOOT_H
#define NOBIOS_BOOT_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"
#include "boot/direct.h"

/* 3.1.1: the header lies 4-byte aligned within the first 8192 bytes. */
#define MULTIBOOT_SEARCH        8192
#define MULTIBOOT_HEADER_ALIGN  4
#define MULTIBOOT_HEADER_MAGIC  0x1BADB002u
/* 3.2: EAX on entry. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* 3.1.2 header flags.  Bits 0-15 are requirements: a loader that does not
 * understand one must refuse the image; bits 16-31 are optional. */
#define MULTIBOOT_PAGE_ALIGN    0x00000001u /* modules page aligned */
#define MULTIBOOT_MEMORY_INFO   0x00000002u /* mem_* (and mmap_*) required */
#define MULTIBOOT_VIDEO_MODE    0x00000004u /* video mode table required */
#define MULTIBOOT_AOUT_KLUDGE   0x00010000u /* header address fields valid */
#define MULTIBOOT_REQUIRED_MASK 0x0000FFFFu

struct multiboot_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;      /* magic + flags + checksum == 0 (mod 2^32) */
	/* valid if MULTIBOOT_AOUT_KLUDGE */
	uint32_t header_addr;   /* physical address of this header */
	uint32_t load_addr;     /* start of the text segment */
	uint32_t load_end_addr; /* end of data; 0: the whole rest of the file */
	uint32_t bss_end_addr;  /* 0: no bss */
	uint32_t entry_addr;
	/* valid if MULTIBOOT_VIDEO_MODE */
	uint32_t mode_type;
	uint32_t width;
	uint32_t height;
	uint32_t depth;
};
_Static_assert(sizeof(struct multiboot_header) == 48, "multiboot_header");
_Static_assert(offsetof(struct multiboot_header, header_addr) == 12, "header_addr");
_Static_assert(offsetof(struct multiboot_header, entry_addr) == 28, "entry_addr");

/* 3.3 multiboot_info.flags */
#define MULTIBOOT_INFO_MEMORY           0x00000001u
#define MULTIBOOT_INFO_BOOTDEV          0x00000002u
#define MULTIBOOT_INFO_CMDLINE          0x00000004u
#define MULTIBOOT_INFO_MODS             0x00000008u
#define MULTIBOOT_INFO_AOUT_SYMS        0x00000010u
#define MULTIBOOT_INFO_ELF_SHDR         0x00000020u
#define MULTIBOOT_INFO_MEM_MAP          0x00000040u
#define MULTIBOOT_INFO_DRIVE_INFO       0x00000080u
#define MULTIBOOT_INFO_CONFIG_TABLE     0x00000100u
#define MULTIBOOT_INFO_BOOT_LOADER_NAME 0x00000200u
#define MULTIBOOT_INFO_APM_TABLE        0x00000400u
#define MULTIBOOT_INFO_VBE_INFO         0x00000800u
#define MULTIBOOT_INFO_FRAMEBUFFER_INFO 0x00001000u

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;        /* KiB from 0 (at most 640) */
	uint32_t mem_upper;        /* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];          /* a.out symbols or ELF section headers */
	uint32_t mmap_length;      /* bytes */
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch;
	uint32_t framebuffer_width;
	uint32_t framebuffer_height;
	uint8_t framebuffer_bpp;
	uint8_t framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_info) == 116, "multiboot_info");
_Static_assert(offsetof(struct multiboot_info, cmdline) == 16, "cmdline");
_Static_assert(offsetof(struct multiboot_info, mods_count) == 20, "mods_count");
_Static_assert(offsetof(struct multiboot_info, mmap_length) == 44, "mmap_length");
_Static_assert(offsetof(struct multiboot_info, boot_loader_name) == 64, "boot_loader_name");
_Static_assert(offsetof(struct multiboot_info, vbe_mode) == 80, "vbe_mode");
_Static_assert(offsetof(struct multiboot_info, framebuffer_addr) == 88, "framebuffer_addr");

/* mmap entries: `size` counts the bytes after itself (20), so an entry is
 * size + 4 bytes long; the next one starts there. */
#define MULTIBOOT_MEMORY_AVAILABLE        1
#define MULTIBOOT_MEMORY_RESERVED         2
#define MULTIBOOT_MEMORY_ACPI_RECLAIMABLE 3
#define MULTIBOOT_MEMORY_NVS              4
#define MULTIBOOT_MEMORY_BADRAM           5
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot_mmap_entry");

struct multiboot_mod_list {
	uint32_t mod_start;
	uint32_t mod_end;  /* exclusive */
	uint32_t cmdline;  /* 0: no string */
	uint32_t pad;
};
_Static_assert(sizeof(struct multiboot_mod_list) == 16, "multiboot_mod_list");

#define NOBIOS_LOADER_NAME "nobios " NOBIOS_LOADER_VERSION
#define NOBIOS_LOADER_VERSION "0.1.0"

/* ---- parsers and builders shared by multiboot.c, elf64sym.c and the unit
 * tests (they run on plain buffers). */

/* Find the Multiboot header in the first MULTIBOOT_SEARCH bytes: returns its
 * file offset, or -1 (no magic with a valid checksum).  *bad_checksum is set
 * when a magic was found whose checksum does not add up. */
long multiboot_find_header(const uint8_t *data, size_t size, struct multiboot_header *hdr,
			   int *bad_checksum);

/* Where an a.out-kludge image goes: [load_addr, load_end) from the file at
 * file_off, zeroed up to bss_end; entry.  Checked against the file. */
struct multiboot_aout {
	uint64_t file_off, load_addr, load_end, bss_end, entry;
};
int multiboot_aout_layout(const char *path, const struct multiboot_header *h, long hdr_off,
			  size_t file_size, struct multiboot_aout *out);

/* mem_lower/mem_upper in KiB from the E820 map (3.3: mem_upper is the RAM
 * contiguous from 1 MiB). */
void multiboot_mem_sizes(const struct e820_map *map, uint32_t *lower, uint32_t *upper);

/* Build a Multiboot 1 information structure at gpa (in [gpa, gpa+room)):
 * mem_lower/upper, cmdline (at cmdline_gpa if nonzero), mods, mmap from
 * ctx->e820, boot_loader_name.  *end gets the first free byte. */
int multiboot_build_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, uint64_t cmdline_gpa,
			 const struct direct_modules *mods, uint64_t *end);
/* The same with the memory map at mmap_gpa (8-aligned, after the 116-byte
 * info and inside the area), the module list and strings after the map: the
 * 2013 bhyveosvload's layout (mbi at 0x1000, E820 entries at 0x1100) that
 * elf64/osv keep.  mmap_gpa 0: multiboot_build_info's order. */
int multiboot_build_info_at(struct boot_ctx *ctx, uint64_t gpa, uint64_t room,
			    uint64_t mmap_gpa, uint64_t cmdline_gpa,
			    const struct direct_modules *mods, uint64_t *end);

/* Load an ELF kernel for the multiboot formats: PT_LOADs at their physical
 * addresses, at or above 1 MiB and below 4 GiB; sets ctx->kernel_start/end;
 * *entry the physical entry (a virtual e_entry is translated). */
int multiboot_load_elf(struct boot_ctx *ctx, const struct boot_file *f, uint64_t *entry);

#endif
