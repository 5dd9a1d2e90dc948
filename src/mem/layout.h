/* layout.h - nobios's guest-physical memory map: the one place it lives.
 * See README "Memory map" and ../shared/DESIGN.md. */
#ifndef NOBIOS_MEM_LAYOUT_H
#define NOBIOS_MEM_LAYOUT_H

#define LAYOUT_IVT             0x00000000ULL /* real-mode IVT (pseudo-BIOS) */
#define LAYOUT_BDA             0x00000400ULL /* BIOS data area */
#define LAYOUT_GDT             0x00000500ULL /* boot GDT for direct entries */
#define LAYOUT_GDT_SIZE        0x00000100ULL
#define LAYOUT_IDT             0x00000600ULL /* empty IDT (limit 0) if needed */
#define LAYOUT_TSS             0x00000800ULL /* 104-byte TSS for PVH's valid TR */
#define LAYOUT_MBI             0x00001000ULL /* multiboot info (OSv & seed expect 0x1000) */
#define LAYOUT_MBI_SIZE        0x00005000ULL /* up to 0x5FFF: mbi, mmap, modules, strings */
#define LAYOUT_PVH_START_INFO  0x00006000ULL /* hvm_start_info, modlist, memmap */
#define LAYOUT_PVH_SIZE        0x00001000ULL
#define LAYOUT_ZERO_PAGE       0x00007000ULL /* Linux struct boot_params */
#define LAYOUT_BOOT_SECTOR     0x00007C00ULL /* pseudo-BIOS boot sector */
#define LAYOUT_STACK_BOTTOM    0x00008000ULL /* initial stack: 0x8000-0x8FFF */
#define LAYOUT_STACK_TOP       0x00009000ULL
#define LAYOUT_PML4            0x00009000ULL /* identity page tables: PML4 */
#define LAYOUT_PDPT            0x0000A000ULL /*   PDPT */
#define LAYOUT_PD              0x0000B000ULL /*   4 PDs, 2 MiB pages: 0xB000-0xEFFF */
#define LAYOUT_PAGE_TABLES_END 0x0000F000ULL
#define LAYOUT_IDENTITY_MAP    0x100000000ULL /* bytes identity-mapped (4 GiB) */
#define LAYOUT_CMDLINE         0x00020000ULL /* kernel command line */
#define LAYOUT_CMDLINE_MAX     0x00010000ULL /* 64 KiB incl. NUL */
/* The elf64/osv entry keeps the 2013 bhyveosvload's places: the mbi at
 * LAYOUT_MBI, its memory map right after it, the command line just below the
 * stack (one that does not fit there goes to LAYOUT_CMDLINE instead). */
#define LAYOUT_ELF64_MMAP      0x00001100ULL /* multiboot mmap (the E820 map) */
#define LAYOUT_ELF64_CMDLINE   0x00007E00ULL /* up to LAYOUT_STACK_BOTTOM */
/* Page tables (PDPTs, PDs, PTs) for an ELF64's PT_LOADs mapped at their
 * p_vaddr besides the identity map (src/cpu/pagemap.h): 96 pages, enough
 * for 4 KiB pages over 180 MiB of kernel, 2 MiB pages over much more. */
#define LAYOUT_MAP_TABLES      0x00030000ULL
#define LAYOUT_MAP_TABLES_END  0x00090000ULL
#define LAYOUT_EBDA            0x0009FC00ULL /* EBDA: first word its size in KiB (pseudo-BIOS) */
/* MP floating pointer structure (Intel MP spec 1.4, 4.1): in the first KiB of
 * the EBDA, where Linux and every MP OS search, after the EBDA's size word. */
#define LAYOUT_MP_FLOATING     0x0009FC10ULL
#define LAYOUT_LOW_RAM_END     0x0009FC00ULL /* usable conventional memory ends here */
#define LAYOUT_LEGACY_HOLE     0x000A0000ULL /* VGA/ROM hole */
/* ACPI tables (RSDP first, so the legacy scan of 0xE0000-0xFFFFF finds it)
 * and the MP configuration table: the 64 KiB below the pseudo-BIOS image,
 * reserved in the E820 map with it (src/boot/boot_tables.c). */
#define LAYOUT_BOOT_TABLES     0x000E0000ULL
#define LAYOUT_BOOT_TABLES_END 0x000F0000ULL
#define LAYOUT_BIOS            0x000F0000ULL /* pseudo-BIOS image */
/* The reset vector (F000:FFF0).  nobios never starts a vCPU there, so a guest
 * that gets there asked for a reset (Linux's BIOS reboot method, the one it
 * falls back to on a hardware-reduced ACPI platform; an INIT to the BSP):
 * direct boots get a stub there that writes the ACPI RESET_REG
 * (boot_tables.c), the pseudo-BIOS image one that does the same. */
#define LAYOUT_RESET_VECTOR    0x000FFFF0ULL
#define LAYOUT_BIOS_END        0x00100000ULL
#define LAYOUT_HIGH_MEM        0x00100000ULL /* 1 MiB: kernels */
#define LAYOUT_MMIO_HOLE       0xC0000000ULL /* 32-bit hole: MMIO from 3 GiB */
#define LAYOUT_MMIO_HOLE_END   0x100000000ULL
#define LAYOUT_VIRTIO_MMIO     0xD0000000ULL /* virtio-mmio windows */
#define LAYOUT_IOAPIC          0xFEC00000ULL
#define LAYOUT_LAPIC           0xFEE00000ULL
#define LAYOUT_KVM_IDENTITY    0xFFFBC000ULL /* KVM_SET_IDENTITY_MAP_ADDR (1 page) */
#define LAYOUT_KVM_TSS         0xFFFBD000ULL /* KVM_SET_TSS_ADDR (3 pages) */
/* The pseudo-BIOS image again at the top of 4 GiB, read-only, as a PC's
 * firmware ROM is decoded there (the reset vector at 0xFFFFFFF0). */
#define LAYOUT_ROM_HIGH        0xFFFF0000ULL
#define LAYOUT_ROM_SIZE        0x00010000ULL

/* I/O ports of the ACPI hardware-reduced registers (src/dev/acpi_pm.c), as
 * the FADT names them: SLEEP_CONTROL_REG, SLEEP_STATUS_REG and RESET_REG
 * with RESET_VALUE.  0x600-0x602: no legacy PC device decodes them and no
 * other nobios device claims them; byte registers, one port each. */
#define LAYOUT_PORT_ACPI_SLEEP_CONTROL 0x600
#define LAYOUT_PORT_ACPI_SLEEP_STATUS  0x601
#define LAYOUT_PORT_ACPI_RESET         0x602
#define LAYOUT_ACPI_RESET_VALUE        0x01
/* The PC flavour's fixed hardware (boot/acpi.h), after them: the PM1a
 * event block (PM1_STS at 0x604, PM1_EN at 0x606), the PM1a control block
 * and the PM timer, each aligned to its length. */
#define LAYOUT_PORT_ACPI_PM1A_EVT      0x604
#define LAYOUT_PORT_ACPI_PM1A_CNT      0x608
#define LAYOUT_PORT_ACPI_PM_TMR        0x60C
#define LAYOUT_PORT_ACPI_END           0x610

/* Smallest RAM nobios accepts: room for the low areas and a small kernel. */
#define LAYOUT_MIN_RAM         (2ULL << 20)

#endif
