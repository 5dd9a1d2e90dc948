/* multiboot2.h - Multiboot2 Specification version 1.0: header tags,
 * information tags and the entry contract, with the specification's names.
 * Our own definitions; sizes asserted against the spec's tables. */
#ifndef NOBIOS_BOOT_MULTIBOOT2_H
#define NOBIOS_BOOT_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"

/* 3.1.1: the header lies 8-byte aligned within the first 32768 bytes. */
#define MULTIBOOT2_SEARCH              32768
#define MULTIBOOT2_HEADER_ALIGN        8
#define MULTIBOOT2_HEADER_MAGIC        0xE85250D6u
#define MULTIBOOT2_BOOTLOADER_MAGIC    0x36D76289u
#define MULTIBOOT_TAG_ALIGN            8
#define MULTIBOOT_ARCHITECTURE_I386    0
#define MULTIBOOT_ARCHITECTURE_MIPS32  4

/* 3.1.3 header tags */
#define MULTIBOOT_HEADER_TAG_END                 0
#define MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST 1
#define MULTIBOOT_HEADER_TAG_ADDRESS             2
#define MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS       3
#define MULTIBOOT_HEADER_TAG_CONSOLE_FLAGS       4
#define MULTIBOOT_HEADER_TAG_FRAMEBUFFER         5
#define MULTIBOOT_HEADER_TAG_MODULE_ALIGN        6
#define MULTIBOOT_HEADER_TAG_EFI_BS              7
#define MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI32 8
#define MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI64 9
#define MULTIBOOT_HEADER_TAG_RELOCATABLE         10
#define MULTIBOOT_HEADER_TAG_OPTIONAL            1 /* flags bit 0 */

#define MULTIBOOT_CONSOLE_FLAGS_CONSOLE_REQUIRED   1
#define MULTIBOOT_CONSOLE_FLAGS_EGA_TEXT_SUPPORTED 2

struct multiboot2_header {
	uint32_t magic;
	uint32_t architecture;
	uint32_t header_length; /* including every tag */
	uint32_t checksum;      /* magic + architecture + header_length + checksum == 0 */
};
_Static_assert(sizeof(struct multiboot2_header) == 16, "multiboot2_header");

struct multiboot_header_tag {
	uint16_t type;
	uint16_t flags;
	uint32_t size; /* including this 8-byte head; tags are padded to 8 */
};
_Static_assert(sizeof(struct multiboot_header_tag) == 8, "multiboot_header_tag");

struct multiboot_header_tag_address {
	uint16_t type, flags;
	uint32_t size;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
};
_Static_assert(sizeof(struct multiboot_header_tag_address) == 24, "tag_address");

/* 3.6 information tags */
#define MULTIBOOT_TAG_TYPE_END              0
#define MULTIBOOT_TAG_TYPE_CMDLINE          1
#define MULTIBOOT_TAG_TYPE_BOOT_LOADER_NAME 2
#define MULTIBOOT_TAG_TYPE_MODULE           3
#define MULTIBOOT_TAG_TYPE_BASIC_MEMINFO    4
#define MULTIBOOT_TAG_TYPE_BOOTDEV          5
#define MULTIBOOT_TAG_TYPE_MMAP             6
#define MULTIBOOT_TAG_TYPE_VBE              7
#define MULTIBOOT_TAG_TYPE_FRAMEBUFFER      8
#define MULTIBOOT_TAG_TYPE_ELF_SECTIONS     9
#define MULTIBOOT_TAG_TYPE_APM              10
#define MULTIBOOT_TAG_TYPE_EFI32            11
#define MULTIBOOT_TAG_TYPE_EFI64            12
#define MULTIBOOT_TAG_TYPE_SMBIOS           13
#define MULTIBOOT_TAG_TYPE_ACPI_OLD         14
#define MULTIBOOT_TAG_TYPE_ACPI_NEW         15
#define MULTIBOOT_TAG_TYPE_NETWORK          16
#define MULTIBOOT_TAG_TYPE_EFI_MMAP         17
#define MULTIBOOT_TAG_TYPE_EFI_BS           18
#define MULTIBOOT_TAG_TYPE_EFI32_IH         19
#define MULTIBOOT_TAG_TYPE_EFI64_IH         20
#define MULTIBOOT_TAG_TYPE_LOAD_BASE_ADDR   21

struct multiboot_tag {
	uint32_t type;
	uint32_t size;
};
struct multiboot_tag_basic_meminfo {
	uint32_t type, size; /* 4, 16 */
	uint32_t mem_lower, mem_upper;
};
_Static_assert(sizeof(struct multiboot_tag_basic_meminfo) == 16, "basic_meminfo");
struct multiboot_tag_module {
	uint32_t type, size; /* 3, 16 + strlen + 1 */
	uint32_t mod_start, mod_end;
	/* char cmdline[] */
};
_Static_assert(sizeof(struct multiboot_tag_module) == 16, "tag_module");
struct multiboot_tag_mmap {
	uint32_t type, size; /* 6 */
	uint32_t entry_size; /* 24 */
	uint32_t entry_version; /* 0 */
	/* struct multiboot2_mmap_entry entries[] */
};
_Static_assert(sizeof(struct multiboot_tag_mmap) == 16, "tag_mmap");
struct multiboot2_mmap_entry {
	uint64_t addr, len;
	uint32_t type, zero;
};
_Static_assert(sizeof(struct multiboot2_mmap_entry) == 24, "mmap2 entry");

/* What a Multiboot2 header asks for, after validation. */
struct multiboot2_req {
	long off;                /* header offset in the file */
	uint32_t header_length;
	int has_address;         /* address tag: a.out-style loading */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	int has_entry;
	uint32_t entry_addr;
	int module_align;        /* module alignment tag present */
	uint32_t requested[32];  /* information request tag(s): types */
	uint8_t requested_req[32]; /* 1: that request tag was not optional */
	unsigned nrequested;
	int has_framebuffer;     /* framebuffer tag (optional or not) */
	uint32_t console_flags;
	int relocatable;
	unsigned ntags;
};

/* Find the header in the first MULTIBOOT2_SEARCH bytes and validate its
 * structure (checksum, architecture, length, every tag's size).
 * 1 found and valid (*req filled), 0 no magic, -1 present but malformed
 * (nb_err names the file and the problem). */
int multiboot2_parse_header(const char *path, const uint8_t *data, size_t size,
			    struct multiboot2_req *req);
/* Refuse (-1, nb_err) a header whose required tags nobios cannot honour. */
int multiboot2_check_req(const char *path, const struct multiboot2_req *req);
/* Whether nobios provides information tag `type`. */
int multiboot2_provides(uint32_t type);

struct direct_modules;
/* Build the information structure at gpa (8-aligned) within room bytes;
 * *end: first free byte.  cmdline may be NULL (empty); load_base != 0 adds
 * the LOAD_BASE_ADDR tag. */
int multiboot2_build_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, const char *cmdline,
			  const struct direct_modules *mods, uint64_t load_base, uint64_t *end);

#endif
