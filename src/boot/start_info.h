/* start_info.h - the PVH boot ABI's start-of-day structures, our own
 * definitions of Xen's public xen/include/public/arch-x86/hvm/start_info.h
 * (version 1).  The layout is an ABI: every size and offset is asserted
 * against the numbers in that header's diagram.  All fields little endian;
 * a 0 address means "not present" (nothing is loaded at physical 0). */
#ifndef NOBIOS_BOOT_START_INFO_H
#define NOBIOS_BOOT_START_INFO_H

#include <stddef.h>
#include <stdint.h>

/* "xEn3" with the 0x80 bit of the "E" set. */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

/* xen/include/public/elfnote.h: the 32-bit physical entry point of a PVH
 * kernel, in a note owned by "Xen". */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_ELFNOTE_OWNER "Xen"

/* hvm_memmap_table_entry.type: the E820 numbering, plus two more. */
#define XEN_HVM_MEMMAP_TYPE_RAM      1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_ACPI     3
#define XEN_HVM_MEMMAP_TYPE_NVS      4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE 5
#define XEN_HVM_MEMMAP_TYPE_DISABLED 6
#define XEN_HVM_MEMMAP_TYPE_PMEM     7

struct hvm_start_info {
	uint32_t magic;          /* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;        /* 1: the memmap fields are valid */
	uint32_t flags;          /* SIF_xxx; 0 for a non-Xen host */
	uint32_t nr_modules;
	uint64_t modlist_paddr;  /* array of hvm_modlist_entry */
	uint64_t cmdline_paddr;  /* NUL-terminated ASCII */
	uint64_t rsdp_paddr;     /* ACPI RSDP, 0 if none */
	/* version 1 and newer */
	uint64_t memmap_paddr;   /* array of hvm_memmap_table_entry */
	uint32_t memmap_entries;
	uint32_t reserved;       /* must be zero */
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;           /* XEN_HVM_MEMMAP_TYPE_* */
	uint32_t reserved;       /* must be zero in version 1 */
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info size");
_Static_assert(offsetof(struct hvm_start_info, nr_modules) == 12, "nr_modules");
_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "modlist_paddr");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 24, "cmdline_paddr");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "rsdp_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "memmap_entries");
_Static_assert(offsetof(struct hvm_start_info, reserved) == 52, "reserved");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry size");
_Static_assert(offsetof(struct hvm_modlist_entry, cmdline_paddr) == 16, "mod cmdline");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry size");
_Static_assert(offsetof(struct hvm_memmap_table_entry, type) == 16, "memmap type");

struct boot_ctx;
struct direct_modules;
/* pvh.c: build hvm_start_info at gpa, then the memory map (from ctx->e820),
 * the module list and module command lines, all within room bytes. */
int pvh_build_start_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, uint64_t cmdline_gpa,
			 const struct direct_modules *mods);

#endif
