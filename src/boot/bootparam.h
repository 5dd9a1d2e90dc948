/* bootparam.h - the Linux/x86 boot protocol's data structures: struct
 * setup_header (at offset 0x1F1 of a bzImage and of the zero page) and
 * struct boot_params (the "zero page").  Our own definitions, with the field
 * names and offsets of Linux's arch/x86/include/uapi/asm/bootparam.h and
 * Documentation/arch/x86/zero-page.rst; the offsets are asserted below so a
 * mistake is a compile error, not a kernel that reads garbage. */
#ifndef NOBIOS_BOOT_BOOTPARAM_H
#define NOBIOS_BOOT_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

/* loadflags (boot.rst "Details of header fields") */
#define LOADED_HIGH   (1 << 0) /* protected-mode code loaded at 0x100000 (bzImage) */
#define KASLR_FLAG    (1 << 1)
#define QUIET_FLAG    (1 << 5)
#define KEEP_SEGMENTS (1 << 6)
#define CAN_USE_HEAP  (1 << 7) /* heap_end_ptr is valid */

/* xloadflags (protocol 2.12+) */
#define XLF_KERNEL_64              (1 << 0) /* has the 64-bit entry at +0x200 */
#define XLF_CAN_BE_LOADED_ABOVE_4G (1 << 1)
#define XLF_EFI_HANDOVER_32        (1 << 2)
#define XLF_EFI_HANDOVER_64        (1 << 3)
#define XLF_EFI_KEXEC              (1 << 4)
#define XLF_5LEVEL                 (1 << 5)
#define XLF_5LEVEL_ENABLED         (1 << 6)
#define XLF_MEM_ENCRYPTION         (1 << 7)

#define SETUP_HEADER_OFFSET 0x1F1      /* in the file and in boot_params */
#define SETUP_HDRS_MAGIC    0x53726448 /* "HdrS" */
#define SETUP_BOOT_FLAG     0xAA55
#define SETUP_SECT_SIZE     512
#define SETUP_SECTS_DEFAULT 4          /* setup_sects 0 means 4 */
#define SETUP_ENTRY64_OFFSET 0x200     /* 64-bit entry: load address + 0x200 */
#define SETUP_TYPE_OF_LOADER_UNDEF 0xFF /* "undefined" boot loader id */
#define SETUP_CMDLINE_DEFAULT_SIZE 255 /* before protocol 2.06 */
#define SETUP_DEFAULT_LOAD  0x100000   /* bzImage's traditional load address */

/* Protocol versions whose fields we use (boot.rst, version history). */
#define BOOT_PROTO(maj, min) (((maj) << 8) | (min))
#define BOOT_PROTO_OLDEST    BOOT_PROTO(2, 0)  /* linux16 only (Documentation/arch/x86/boot.rst) */
#define BOOT_PROTO_HEAP      BOOT_PROTO(2, 1)  /* heap_end_ptr */
#define BOOT_PROTO_CMDLINE_PTR BOOT_PROTO(2, 2) /* cmd_line_ptr (before: cmd_line_magic) */
#define BOOT_PROTO_INITRD_MAX BOOT_PROTO(2, 3) /* initrd_addr_max */
#define BOOT_PROTO_RELOC     BOOT_PROTO(2, 5)  /* kernel_alignment, relocatable_kernel */
#define BOOT_PROTO_MIN       BOOT_PROTO(2, 6)  /* cmdline_size; the 32/64-bit entries */
#define BOOT_PROTO_PAYLOAD   BOOT_PROTO(2, 8)  /* payload_offset/length */
#define BOOT_PROTO_PREF      BOOT_PROTO(2, 10) /* pref_address, init_size */
#define BOOT_PROTO_64        BOOT_PROTO(2, 12) /* xloadflags, 64-bit entry */

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX_ENTRIES_ZEROPAGE 128
#define EDD_MBR_SIG_MAX 16
#define EDDMAXNR 6

struct boot_params {
	uint8_t screen_info[0x40];      /* 0x000 */
	uint8_t apm_bios_info[0x14];    /* 0x040 */
	uint8_t _pad2[4];               /* 0x054 */
	uint64_t tboot_addr;            /* 0x058 */
	uint8_t ist_info[0x10];         /* 0x060 */
	uint64_t acpi_rsdp_addr;        /* 0x070 */
	uint8_t _pad3[8];               /* 0x078 */
	uint8_t hd0_info[16];           /* 0x080 */
	uint8_t hd1_info[16];           /* 0x090 */
	uint8_t sys_desc_table[0x10];   /* 0x0A0 */
	uint8_t olpc_ofw_header[0x10];  /* 0x0B0 */
	uint32_t ext_ramdisk_image;     /* 0x0C0 */
	uint32_t ext_ramdisk_size;      /* 0x0C4 */
	uint32_t ext_cmd_line_ptr;      /* 0x0C8 */
	uint8_t _pad4[112];             /* 0x0CC */
	uint32_t cc_blob_address;       /* 0x13C */
	uint8_t edid_info[0x80];        /* 0x140 */
	uint8_t efi_info[0x20];         /* 0x1C0 */
	uint32_t alt_mem_k;             /* 0x1E0 */
	uint32_t scratch;               /* 0x1E4 */
	uint8_t e820_entries;           /* 0x1E8 */
	uint8_t eddbuf_entries;         /* 0x1E9 */
	uint8_t edd_mbr_sig_buf_entries; /* 0x1EA */
	uint8_t kbd_status;             /* 0x1EB */
	uint8_t secure_boot;            /* 0x1EC */
	uint8_t _pad5[2];               /* 0x1ED */
	uint8_t sentinel;               /* 0x1EF */
	uint8_t _pad6[1];               /* 0x1F0 */
	struct setup_header hdr;        /* 0x1F1 */
	uint8_t _pad7[0x290 - 0x1F1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[EDD_MBR_SIG_MAX];                /* 0x290 */
	struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2D0 */
	uint8_t _pad8[48];              /* 0xCD0 */
	uint8_t eddbuf[EDDMAXNR * 82];  /* 0xD00: struct edd_info[6] */
	uint8_t _pad9[276];             /* 0xEEC */
} __attribute__((packed));

/* File offset of a setup_header field (the header sits at 0x1F1). */
#define SETUP_OFF(field) (SETUP_HEADER_OFFSET + offsetof(struct setup_header, field))

_Static_assert(sizeof(struct boot_e820_entry) == 20, "e820 entry");
_Static_assert(SETUP_OFF(setup_sects) == 0x1F1, "setup_sects");
_Static_assert(SETUP_OFF(boot_flag) == 0x1FE, "boot_flag");
_Static_assert(SETUP_OFF(jump) == 0x200, "jump");
_Static_assert(SETUP_OFF(header) == 0x202, "header");
_Static_assert(SETUP_OFF(version) == 0x206, "version");
_Static_assert(SETUP_OFF(kernel_version) == 0x20E, "kernel_version");
_Static_assert(SETUP_OFF(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(SETUP_OFF(loadflags) == 0x211, "loadflags");
_Static_assert(SETUP_OFF(code32_start) == 0x214, "code32_start");
_Static_assert(SETUP_OFF(ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(SETUP_OFF(ramdisk_size) == 0x21C, "ramdisk_size");
_Static_assert(SETUP_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(SETUP_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(SETUP_OFF(initrd_addr_max) == 0x22C, "initrd_addr_max");
_Static_assert(SETUP_OFF(kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(SETUP_OFF(relocatable_kernel) == 0x234, "relocatable_kernel");
_Static_assert(SETUP_OFF(xloadflags) == 0x236, "xloadflags");
_Static_assert(SETUP_OFF(cmdline_size) == 0x238, "cmdline_size");
_Static_assert(SETUP_OFF(hardware_subarch) == 0x23C, "hardware_subarch");
_Static_assert(SETUP_OFF(payload_offset) == 0x248, "payload_offset");
_Static_assert(SETUP_OFF(payload_length) == 0x24C, "payload_length");
_Static_assert(SETUP_OFF(setup_data) == 0x250, "setup_data");
_Static_assert(SETUP_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(SETUP_OFF(init_size) == 0x260, "init_size");
_Static_assert(SETUP_OFF(handover_offset) == 0x264, "handover_offset");
_Static_assert(SETUP_OFF(kernel_info_offset) == 0x268, "kernel_info_offset");
_Static_assert(sizeof(struct setup_header) == 0x26C - 0x1F1, "setup_header size");

_Static_assert(offsetof(struct boot_params, tboot_addr) == 0x058, "tboot_addr");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_size) == 0x0C4, "ext_ramdisk_size");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, cc_blob_address) == 0x13C, "cc_blob_address");
_Static_assert(offsetof(struct boot_params, edid_info) == 0x140, "edid_info");
_Static_assert(offsetof(struct boot_params, efi_info) == 0x1C0, "efi_info");
_Static_assert(offsetof(struct boot_params, alt_mem_k) == 0x1E0, "alt_mem_k");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct boot_params, sentinel) == 0x1EF, "sentinel");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1F1, "hdr");
_Static_assert(offsetof(struct boot_params, edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig_buffer");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");
_Static_assert(offsetof(struct boot_params, eddbuf) == 0xD00, "eddbuf");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");

#endif
