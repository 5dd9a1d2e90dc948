/* platform.h - what the machine has besides RAM, as boot information
 * describes it: the vCPUs, the interrupt controllers and the virtio-mmio
 * devices (window and interrupt line).
 *
 * The kvm layer plans it from the configuration in machine_create, before
 * any file is read or any KVM object exists, so the loaders can announce
 * exactly what the devices will be (the Linux command line's
 * virtio_mmio.device=, ACPI and MP tables, PVH's rsdp_paddr, the zero page's
 * acpi_rsdp_addr) and the devices are then created at exactly these places.
 * Plain data: no KVM or device types, so loaders and table builders are
 * unit-tested against a struct written by hand. */
#ifndef NOBIOS_BOOT_PLATFORM_H
#define NOBIOS_BOOT_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#define PLATFORM_MAX_CPUS   255 /* xAPIC IDs 0..254 (255 is broadcast) */
#define PLATFORM_MAX_VIRTIO 16
/* Interrupt lines machine_create can give virtio devices (IOAPIC pins
 * 16-23 and four free ISA IRQs): the number of devices it accepts. */
#define PLATFORM_VIRTIO_GSIS 12

/* Virtio device IDs (virtio 1.2, 5 "Device Types"). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_9P      9

struct platform_virtio {
	uint32_t device_id; /* VIRTIO_ID_* */
	unsigned index;     /* n-th device of its kind (vda = block 0) */
	uint64_t base;      /* MMIO window: [base, base + size) in the 32-bit hole */
	uint32_t size;
	uint32_t gsi;       /* IOAPIC input */
};

struct platform {
	unsigned ncpus;             /* vCPUs, APIC IDs 0..ncpus-1 (BSP 0) */
	/* MP table processor entries (MP spec 4.3.1): CPUID.1 EAX (stepping,
	 * model, family) and EDX (features) as the vCPUs report them. */
	uint32_t cpu_signature, cpu_features;
	uint64_t lapic_base;        /* LAYOUT_LAPIC */
	uint64_t ioapic_base;       /* LAYOUT_IOAPIC */
	unsigned ioapic_id;         /* after the LAPIC IDs */
	unsigned ioapic_pins;       /* KVM's in-kernel IOAPIC: 24 */
	struct platform_virtio virtio[PLATFORM_MAX_VIRTIO];
	unsigned nvirtio;
	/* The pseudo-BIOS's POST runs (a PC-style boot): the ACPI tables
	 * describe a PC (PM1 blocks, PM timer, FACS), not a hardware-reduced
	 * platform (boot/acpi.h).  Set by boot_load once the format is known. */
	bool acpi_pc;
	/* Written by the table builders during loading: guest-physical
	 * addresses, 0 where there is no such table. */
	uint64_t rsdp;              /* ACPI RSDP */
	uint64_t mp_floating;       /* MP floating pointer structure */
};

#endif
