/* boot_tables.c - the boot information every format shares: the ACPI tables
 * and the MP tables describing struct platform, written once before the
 * format's loader runs so that each format can pass them the way it
 * expects (PVH's rsdp_paddr, the zero page's acpi_rsdp_addr, Multiboot2's
 * ACPI tags) and kernels that search find them where PCs keep them (the
 * RSDP in 0xE0000-0xFFFFF, the MP floating pointer in the EBDA).  The reset
 * vector's stub is written here too: it is as much part of what a kernel
 * finds in the BIOS area as the tables.  Loaders
 * place nothing below 1 MiB besides their own boot information, so the
 * tables cannot be overwritten by a kernel image. */
#include "boot/boot.h"

#include <inttypes.h>

#include "boot/acpi.h"
#include "boot/mptable.h"
#include "mem/layout.h"
#include "util/err.h"

/* A plan the tables cannot describe truthfully is nobios's own bug (the
 * kvm layer plans the platform), not the user's. */
static int platform_check(const struct platform *p)
{
	if (p->ncpus == 0 || p->ncpus > PLATFORM_MAX_CPUS)
		return nb_err_internal("platform: %u vCPUs (1..%d)", p->ncpus, PLATFORM_MAX_CPUS);
	if (p->ioapic_id < p->ncpus || p->ioapic_id > 0xFF)
		return nb_err_internal("platform: IOAPIC ID %u collides with the APIC IDs 0..%u",
				       p->ioapic_id, p->ncpus - 1);
	if (p->nvirtio > PLATFORM_MAX_VIRTIO)
		return nb_err_internal("platform: %u virtio devices (at most %d)", p->nvirtio,
				       PLATFORM_MAX_VIRTIO);
	for (unsigned i = 0; i < p->nvirtio; i++) {
		const struct platform_virtio *v = &p->virtio[i];
		/* GSI 0 is routed to the timer's pin 2 and GSI 2 nowhere
		 * (mptable_isa_pin): a device there could not interrupt. */
		if (v->gsi >= p->ioapic_pins || v->gsi == 0 || v->gsi == 2)
			return nb_err_internal("platform: virtio device %u on GSI %u", i, v->gsi);
		if (v->base < LAYOUT_MMIO_HOLE || v->size == 0 ||
		    v->base + v->size > LAYOUT_IOAPIC)
			return nb_err_internal("platform: virtio device %u window [0x%" PRIx64
					       ", +0x%x) outside the MMIO hole",
					       i, v->base, v->size);
	}
	return 0;
}

/* Real-mode code at the reset vector: mov al, RESET_VALUE; mov dx,
 * RESET_REG; out dx, al; then cli; hlt forever.  The pseudo-BIOS, when a
 * format installs it, overwrites it with its own image (whose reset vector
 * does the same). */
static int reset_vector_install(struct guest_mem *m)
{
	const uint8_t stub[] = {
		0xB0, LAYOUT_ACPI_RESET_VALUE,
		0xBA, LAYOUT_PORT_ACPI_RESET & 0xFF, LAYOUT_PORT_ACPI_RESET >> 8,
		0xEE,
		0xFA, 0xF4, 0xEB, 0xFC, /* 1: cli; hlt; jmp 1b */
	};
	_Static_assert(sizeof(stub) <= LAYOUT_BIOS_END - LAYOUT_RESET_VECTOR, "reset stub");
	return mem_copy_in(m, LAYOUT_RESET_VECTOR, stub, sizeof(stub));
}

/* The ACPI and MP tables, from LAYOUT_BOOT_TABLES: the RSDP always at its
 * start, so an address a loader handed on stays valid when they are built
 * again. */
static int tables_write(struct boot_ctx *ctx)
{
	struct platform *p = ctx->plat;
	uint64_t end = 0;
	if (acpi_build(ctx->mem, p, LAYOUT_BOOT_TABLES, LAYOUT_BOOT_TABLES_END - LAYOUT_BOOT_TABLES,
		       &end) < 0)
		return -1;
	uint64_t mp_cfg = (end + 15) & ~15ULL;
	if (mptable_build(ctx->mem, p, LAYOUT_MP_FLOATING, mp_cfg, LAYOUT_BOOT_TABLES_END - mp_cfg,
			  &end) < 0)
		return -1;
	if (ctx->log)
		fprintf(ctx->log,
			"nobios: boot tables: ACPI RSDP at 0x%" PRIx64 " (FADT: %s; MADT: %u local "
			"APICs, IOAPIC %u; DSDT: %u virtio devices; SCI IRQ %u), MP floating pointer at "
			"0x%" PRIx64 " -> configuration table at 0x%" PRIx64 "; [0x%llx, 0x%" PRIx64
			") used\n",
			p->rsdp,
			p->acpi_pc ? "PC (PM1a blocks, PM timer, FACS) for the pseudo-BIOS's POST"
				   : "hardware-reduced",
			p->ncpus, p->ioapic_id, p->nvirtio, acpi_sci_irq(p), p->mp_floating,
			mp_cfg, (unsigned long long)LAYOUT_BOOT_TABLES, end);
	return 0;
}

int boot_tables_build(struct boot_ctx *ctx)
{
	struct platform *p = ctx->plat;
	if (!p)
		return 0;
	if (platform_check(p) < 0)
		return -1;
	if (!mem_range_ok(ctx->mem, LAYOUT_BOOT_TABLES, LAYOUT_BIOS_END - LAYOUT_BOOT_TABLES) ||
	    !mem_range_ok(ctx->mem, LAYOUT_MP_FLOATING, MP_FLOATING_LENGTH))
		return nb_err("-m: the ACPI and MP tables need guest RAM up to 1 MiB");
	if (reset_vector_install(ctx->mem) < 0)
		return -1;
	p->acpi_pc = false;
	return tables_write(ctx);
}

int boot_tables_post(struct boot_ctx *ctx)
{
	struct platform *p = ctx->plat;
	if (!p || !ctx->needs_bios || p->acpi_pc)
		return 0;
	/* POST will run: the machine is a PC from the guest's point of view
	 * (8259s at the BIOS's vectors, the PIT ticking), and its ACPI tables
	 * must say so (boot/acpi.h).  The pseudo-BIOS image already holds the
	 * reset vector: only the tables are written again. */
	p->acpi_pc = true;
	return tables_write(ctx);
}
