/* acpi.h - the ACPI tables nobios gives every guest (ACPI 6.0, chapter 5.2
 * "ACPI System Description Tables"), built from struct platform:
 *
 *   RSDP (revision 2) -> RSDT and XSDT -> FADT (revision 6)
 *                                        -> DSDT (AML: \_S5, virtio-mmio devices)
 *                                        -> FACS (PC flavour only)
 *                                     -> MADT (one local APIC per vCPU, the
 *                                        IOAPIC, interrupt source overrides,
 *                                        local APIC NMI)
 *
 * Two flavours of FADT.  Direct boots get a hardware-reduced platform
 * (HW_REDUCED_ACPI): no PM1 event/control blocks, no PM timer, no GPEs and
 * no FACS; power-off goes through the FADT's SLEEP_CONTROL_REG.  Boots
 * through the pseudo-BIOS's POST (platform.acpi_pc) get a PC's fixed
 * hardware instead: PM1a event and control blocks, a PM timer and a FACS,
 * so that an OS treats the machine as a PC and reprograms the 8259s POST
 * left at the BIOS's vectors with the timer unmasked (a hardware-reduced
 * FADT tells Linux there is no 8259, and its first interrupt enable then
 * takes IRQ0 on vector 08h, a double fault).  Power-off goes through
 * PM1a_CNT's SLP_TYP/SLP_EN there.  Both flavours reset through RESET_REG.
 * Every register is an I/O port of nobios's acpi_pm device
 * (src/dev/acpi_pm.c, ports in mem/layout.h).  The offsets below are the
 * specification's (tables 5-27 RSDP, 5-29 header, 5-34 FADT, 5-37 FACS,
 * 5-43 MADT and the subtables after it); the unit tests check every one. */
#ifndef NOBIOS_BOOT_ACPI_H
#define NOBIOS_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "boot/platform.h"
#include "mem/mem.h"

/* Identification written into every table. */
#define ACPI_OEM_ID          "NOBIOS"   /* 6 bytes */
#define ACPI_OEM_TABLE_ID    "NOBIOSVM" /* 8 bytes */
#define ACPI_OEM_REVISION    1
#define ACPI_CREATOR_ID      "NBIO"     /* 4 bytes */
#define ACPI_CREATOR_REVISION 1
#define ACPI_HYPERVISOR_ID   "NOBIOS  " /* FADT Hypervisor Vendor Identity */

/* RSDP (5.2.5.3). */
#define ACPI_RSDP_SIGNATURE  "RSD PTR "
#define ACPI_RSDP_REVISION   2          /* ACPI 2.0+: XSDT, Length, extended checksum */
#define ACPI_RSDP_V1_LENGTH  20         /* the part the first checksum covers */
#define ACPI_RSDP_LENGTH     36
#define ACPI_RSDP_CHECKSUM   8
#define ACPI_RSDP_OEMID      9
#define ACPI_RSDP_REV        15
#define ACPI_RSDP_RSDT       16
#define ACPI_RSDP_LEN        20
#define ACPI_RSDP_XSDT       24
#define ACPI_RSDP_EXT_CHECKSUM 32

/* System description table header (5.2.6). */
#define ACPI_HDR_SIGNATURE   0
#define ACPI_HDR_LENGTH      4
#define ACPI_HDR_REVISION    8
#define ACPI_HDR_CHECKSUM    9
#define ACPI_HDR_OEMID       10
#define ACPI_HDR_OEM_TABLE_ID 16
#define ACPI_HDR_OEM_REVISION 24
#define ACPI_HDR_CREATOR_ID  28
#define ACPI_HDR_CREATOR_REVISION 32
#define ACPI_HDR_SIZE        36

/* Revisions of ACPI 6.0. */
#define ACPI_RSDT_REVISION   1
#define ACPI_XSDT_REVISION   1
#define ACPI_FADT_REVISION   6
#define ACPI_FADT_MINOR_VERSION 0
#define ACPI_MADT_REVISION   4
#define ACPI_DSDT_REVISION   2          /* 2: 64-bit AML integers */

/* FADT (5.2.9, table 5-34): offsets of the fields nobios fills. */
#define ACPI_FADT_LENGTH          276
#define ACPI_FADT_FIRMWARE_CTRL   36
#define ACPI_FADT_DSDT            40
#define ACPI_FADT_PREFERRED_PM_PROFILE 45
#define ACPI_FADT_SCI_INT         46
#define ACPI_FADT_SMI_CMD         48
#define ACPI_FADT_ACPI_ENABLE     52
#define ACPI_FADT_PM1A_EVT_BLK    56
#define ACPI_FADT_PM1B_EVT_BLK    60
#define ACPI_FADT_PM1A_CNT_BLK    64
#define ACPI_FADT_PM2_CNT_BLK     72
#define ACPI_FADT_PM_TMR_BLK      76
#define ACPI_FADT_GPE0_BLK        80
#define ACPI_FADT_PM1_EVT_LEN     88
#define ACPI_FADT_PM1_CNT_LEN     89
#define ACPI_FADT_PM2_CNT_LEN     90
#define ACPI_FADT_PM_TMR_LEN      91
#define ACPI_FADT_GPE0_BLK_LEN    92
#define ACPI_FADT_P_LVL2_LAT      96
#define ACPI_FADT_P_LVL3_LAT      98
#define ACPI_FADT_CENTURY         108
#define ACPI_FADT_IAPC_BOOT_ARCH  109
#define ACPI_FADT_FLAGS           112
#define ACPI_FADT_RESET_REG       116
#define ACPI_FADT_RESET_VALUE     128
#define ACPI_FADT_ARM_BOOT_ARCH   129
#define ACPI_FADT_MINOR           131
#define ACPI_FADT_X_FIRMWARE_CTRL 132
#define ACPI_FADT_X_DSDT          140
#define ACPI_FADT_X_PM1A_EVT_BLK  148
#define ACPI_FADT_X_PM1B_EVT_BLK  160
#define ACPI_FADT_X_PM1A_CNT_BLK  172
#define ACPI_FADT_X_PM_TMR_BLK    208
#define ACPI_FADT_X_GPE0_BLK      220
#define ACPI_FADT_SLEEP_CONTROL_REG 244
#define ACPI_FADT_SLEEP_STATUS_REG 256
#define ACPI_FADT_HYPERVISOR_ID   268
/* FADT flags (table 5-35). */
#define ACPI_FADT_WBINVD          (1u << 0)
#define ACPI_FADT_PROC_C1         (1u << 2)
#define ACPI_FADT_PWR_BUTTON      (1u << 4) /* no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON      (1u << 5) /* no fixed-feature sleep button */
#define ACPI_FADT_TMR_VAL_EXT     (1u << 8) /* 32-bit PM timer (else 24-bit) */
#define ACPI_FADT_RESET_REG_SUP   (1u << 10)
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)
/* IA-PC boot architecture flags (table 5-36). */
#define ACPI_IAPC_LEGACY_DEVICES  (1u << 0)
#define ACPI_IAPC_8042            (1u << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT (1u << 2)

/* P_LVL2_LAT above 100 and P_LVL3_LAT above 1000 (microseconds) say the
 * C2 and C3 states are not supported (5.2.9). */
#define ACPI_P_LVL2_LAT_NONE      101
#define ACPI_P_LVL3_LAT_NONE      1001

/* PC flavour: the fixed-hardware register blocks' lengths in bytes (4.8.1):
 * PM1 event = PM1_STS + PM1_EN (2 bytes each), PM1 control 2, PM timer 4. */
#define ACPI_PM1_EVT_LEN          4
#define ACPI_PM1_CNT_LEN          2
#define ACPI_PM_TMR_LEN           4
/* PM1 status/enable bits (4.8.3.1, tables 4-16 and 4-17). */
#define ACPI_PM1_TMR_STS          (1u << 0)
#define ACPI_PM1_PWRBTN_STS       (1u << 8)
#define ACPI_PM1_WAK_STS          (1u << 15)
/* PM1 control bits (4.8.3.2.1, table 4-18). */
#define ACPI_PM1_SCI_EN           (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT    10
#define ACPI_PM1_SLP_TYP_MASK     (7u << 10)
#define ACPI_PM1_SLP_EN           (1u << 13)
/* PM timer (4.8.3.3): 3.579545 MHz, 24 bits (no TMR_VAL_EXT). */
#define ACPI_PM_TIMER_HZ          3579545ULL
#define ACPI_PM_TIMER_MASK        0xFFFFFFu

/* FACS (5.2.10, table 5-37): 64 bytes, 64-byte aligned, no checksum. */
#define ACPI_FACS_SIGNATURE       0
#define ACPI_FACS_LEN             4
#define ACPI_FACS_HW_SIGNATURE    8
#define ACPI_FACS_WAKING_VECTOR   12
#define ACPI_FACS_GLOBAL_LOCK     16
#define ACPI_FACS_FLAGS           20
#define ACPI_FACS_X_WAKING_VECTOR 24
#define ACPI_FACS_VERSION         32
#define ACPI_FACS_OSPM_FLAGS      36
#define ACPI_FACS_LENGTH          64
#define ACPI_FACS_ALIGN           64
#define ACPI_FACS_REVISION        2  /* ACPI 4.0 onwards */

/* CMOS index of the RTC's century byte (src/dev/cmos_rtc.c). */
#define ACPI_CMOS_CENTURY         0x32

/* Generic Address Structure (5.2.3.2): 12 bytes. */
#define ACPI_GAS_SIZE             12
#define ACPI_GAS_SYSTEM_IO        1
#define ACPI_GAS_ACCESS_BYTE      1
#define ACPI_GAS_ACCESS_WORD      2
#define ACPI_GAS_ACCESS_DWORD     3

/* Sleep control/status register bits (4.8.3.7, 4.8.3.8). */
#define ACPI_SLEEP_SLP_TYP_SHIFT  2
#define ACPI_SLEEP_SLP_TYP_MASK   0x1C
#define ACPI_SLEEP_SLP_EN         0x20
#define ACPI_SLEEP_WAK_STS        0x80
/* The SLP_TYP value \_S5 gives (nobios's choice: the sleep state number). */
#define ACPI_SLP_TYP_S5           5

/* The SCI: a hardware-reduced platform raises none, but Linux still
 * programs FADT.SCI_INT's IOAPIC pin (as an ISA IRQ, level/active-low
 * unless overridden), and SCI_INT 0 would make it reprogram the timer's
 * IRQ 0.  IRQ 9 with an override to level/active-high is the PC
 * convention QEMU follows; a virtio device on GSI 9 moves it (acpi_sci_irq). */
#define ACPI_SCI_IRQ_DEFAULT      9

/* MADT (5.2.12). */
#define ACPI_MADT_LAPIC_ADDR      36
#define ACPI_MADT_FLAGS           40
#define ACPI_MADT_ENTRIES         44
#define ACPI_MADT_PCAT_COMPAT     (1u << 0) /* 8259 PICs present */
#define ACPI_MADT_TYPE_LOCAL_APIC 0
#define ACPI_MADT_TYPE_IO_APIC    1
#define ACPI_MADT_TYPE_INT_SRC_OVERRIDE 2
#define ACPI_MADT_TYPE_LOCAL_APIC_NMI 4
#define ACPI_MADT_LOCAL_APIC_LEN  8
#define ACPI_MADT_IO_APIC_LEN     12
#define ACPI_MADT_INT_SRC_OVERRIDE_LEN 10
#define ACPI_MADT_LOCAL_APIC_NMI_LEN 6
#define ACPI_MADT_LAPIC_ENABLED   (1u << 0)
/* MPS INTI flags (table 5-50). */
#define ACPI_MPS_INTI_CONFORMS    0x0
#define ACPI_MPS_INTI_ACTIVE_HIGH 0x1
#define ACPI_MPS_INTI_ACTIVE_LOW  0x3
#define ACPI_MPS_INTI_EDGE        (0x1 << 2)
#define ACPI_MPS_INTI_LEVEL       (0x3 << 2)
#define ACPI_MADT_ALL_PROCESSORS  0xFF /* Local APIC NMI: every processor */

/* The ISA devices in the DSDT (nobios's uart16550.c, i8042.c, cmos_rtc.c at
 * the PC's fixed ports) and their PNP IDs. */
#define ACPI_PNP_UART_16550A      "PNP0501"
#define ACPI_PNP_I8042_KBD        "PNP0303"
#define ACPI_PNP_RTC              "PNP0B00"
#define ACPI_ISA_COM1_PORT        0x3F8
#define ACPI_ISA_COM1_IRQ         4
#define ACPI_ISA_I8042_DATA_PORT  0x60
#define ACPI_ISA_I8042_CMD_PORT   0x64
#define ACPI_ISA_I8042_KBD_IRQ    1
#define ACPI_ISA_RTC_PORT         0x70

/* Virtio-mmio devices in the DSDT: Linux's virtio_mmio driver matches this
 * _HID (drivers/virtio/virtio_mmio.c, virtio_mmio_acpi_match). */
#define ACPI_VIRTIO_MMIO_HID      "LNRO0005"

/* Largest table set nobios writes (255 vCPUs, 16 virtio devices) fits in
 * LAYOUT_BOOT_TABLES's 64 KiB with room to spare; the builder checks. */

/* One checksum byte so that the bytes sum to zero (5.2.5.3, 5.2.6). */
uint8_t acpi_checksum(const uint8_t *p, size_t n);

/* The SCI's ISA IRQ: ACPI_SCI_IRQ_DEFAULT unless a virtio device uses that
 * GSI, then the next free one among 10, 11, 5, 7, 3. */
unsigned acpi_sci_irq(const struct platform *p);

/* Table builders into a plain buffer (unit tests); each returns the table's
 * length, or 0 when cap is too small.  Addresses are guest-physical. */
size_t acpi_build_madt(uint8_t *buf, size_t cap, const struct platform *p);
size_t acpi_build_dsdt(uint8_t *buf, size_t cap, const struct platform *p);
/* The FADT: hardware-reduced, or a PC's when p->acpi_pc (then facs is the
 * FACS's address, which must be below 4 GiB). */
size_t acpi_build_fadt(uint8_t *buf, size_t cap, const struct platform *p, uint64_t dsdt,
		       uint64_t facs);
size_t acpi_build_facs(uint8_t *buf, size_t cap);

/* All the tables, placed from gpa (16-byte aligned) to at most gpa + room,
 * RSDP first.  Sets p->rsdp; *end gets the first byte after them.  0, or -1
 * with nb_err(). */
int acpi_build(struct guest_mem *m, struct platform *p, uint64_t gpa, uint64_t room,
	       uint64_t *end);

#endif
