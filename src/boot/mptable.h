/* mptable.h - the Intel MultiProcessor Specification 1.4 tables nobios
 * gives every guest: the MP floating pointer structure (4.1, in the EBDA)
 * and the MP configuration table (4.2, 4.3) it points to, built from
 * struct platform.  Kernels without ACPI (or booted with acpi=off) find
 * the vCPUs and the interrupt routing here.
 *
 * What the table describes is what nobios sets up: one processor per vCPU
 * (APIC IDs 0..n-1, the BSP flagged), the ISA bus, KVM's in-kernel IOAPIC
 * with the ISA IRQs routed as on PCs (IRQ 0, the PIT, on pin 2; IRQ 2, the
 * PIC cascade, on no pin; the others identity) plus each virtio device's
 * GSI, the 8259 PIC's ExtINT on every local APIC's LINT0 and NMI on LINT1.
 * Virtual-wire mode: KVM has no IMCR. */
#ifndef NOBIOS_BOOT_MPTABLE_H
#define NOBIOS_BOOT_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/platform.h"
#include "mem/mem.h"

#define MP_FLOATING_SIGNATURE "_MP_"
#define MP_CONFIG_SIGNATURE   "PCMP"
#define MP_SPEC_REV_1_4       0x04
#define MP_OEM_ID             "NOBIOS  "     /* 8 bytes */
#define MP_PRODUCT_ID         "NOBIOS VM   " /* 12 bytes */

/* Floating pointer structure (table 4-1): 16 bytes. */
#define MP_FLOATING_LENGTH    16
#define MP_FLOATING_PHYSPTR   4
#define MP_FLOATING_LEN       8  /* in 16-byte paragraphs: 1 */
#define MP_FLOATING_SPEC_REV  9
#define MP_FLOATING_CHECKSUM  10
#define MP_FLOATING_FEATURE1  11 /* 0: a configuration table is present */
#define MP_FLOATING_FEATURE2  12 /* bit 7 IMCRP: 0 = virtual-wire mode */
#define MP_FEATURE2_IMCRP     0x80

/* Configuration table header (table 4-2): 44 bytes. */
#define MP_CONFIG_HEADER_LENGTH 44
#define MP_CONFIG_BASE_LENGTH 4
#define MP_CONFIG_SPEC_REV    6
#define MP_CONFIG_CHECKSUM    7
#define MP_CONFIG_OEM_ID      8
#define MP_CONFIG_PRODUCT_ID  16
#define MP_CONFIG_OEM_TABLE   28
#define MP_CONFIG_OEM_TABLE_SIZE 32
#define MP_CONFIG_ENTRY_COUNT 34
#define MP_CONFIG_LAPIC_ADDR  36
#define MP_CONFIG_EXT_LENGTH  40
#define MP_CONFIG_EXT_CHECKSUM 42

/* Base table entries (table 4-3), in this order. */
#define MP_ENTRY_PROCESSOR    0 /* 20 bytes */
#define MP_ENTRY_BUS          1 /* 8 bytes */
#define MP_ENTRY_IOAPIC       2 /* 8 bytes */
#define MP_ENTRY_IO_INTERRUPT 3 /* 8 bytes */
#define MP_ENTRY_LOCAL_INTERRUPT 4 /* 8 bytes */
#define MP_PROCESSOR_LENGTH   20
#define MP_ENTRY_LENGTH       8

#define MP_CPU_ENABLED        0x01 /* CPU flags: EN */
#define MP_CPU_BOOTPROCESSOR  0x02 /* CPU flags: BP */
#define MP_IOAPIC_ENABLED     0x01
#define MP_BUS_ISA            "ISA   " /* bus type string (table 4-8) */
#define MP_BUS_ID_ISA         0
/* Interrupt types (table 4-10). */
#define MP_INT_INT            0
#define MP_INT_NMI            1
#define MP_INT_SMI            2
#define MP_INT_EXTINT         3
#define MP_IRQ_CONFORMS       0x0000 /* polarity and trigger of the bus */
#define MP_ALL_LAPICS         0xFF

/* KVM's in-kernel interrupt controllers report these versions (local APIC
 * version register 0x14: integrated APIC; IOAPIC version register 0x11). */
#define MP_LAPIC_VERSION      0x14
#define MP_IOAPIC_VERSION     0x11

/* The ISA IRQ -> IOAPIC pin map the table (and the MADT's override) gives:
 * -1 for IRQ 2, the cascade, which reaches no pin.  The kvm layer programs
 * KVM's GSI routing to match. */
int mptable_isa_pin(unsigned irq);

/* The configuration table into a plain buffer (unit tests): its length, or
 * 0 when cap is too small or the platform is not describable. */
size_t mptable_build_config(uint8_t *buf, size_t cap, const struct platform *p);

/* The floating pointer at fp_gpa (16-byte aligned, in the EBDA) and the
 * configuration table at cfg_gpa (at most room bytes).  Sets
 * p->mp_floating; *end gets the first byte after the configuration table.
 * 0, or -1 with nb_err(). */
int mptable_build(struct guest_mem *m, struct platform *p, uint64_t fp_gpa, uint64_t cfg_gpa,
		  uint64_t room, uint64_t *end);

#endif
