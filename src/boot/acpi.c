/* acpi.c - nobios's ACPI tables (see acpi.h), written from the ACPI 6.0
 * specification: a hardware-reduced platform (5.2.9 FADT flag
 * HW_REDUCED_ACPI; 4.1 "Hardware-Reduced ACPI") whose only fixed hardware is
 * the sleep control/status pair and the reset register, or, after the
 * pseudo-BIOS's POST, a PC's (PM1a event/control blocks, PM timer, FACS;
 * 4.8 "ACPI Hardware Model"); one processor local APIC per vCPU, KVM's
 * in-kernel IOAPIC and 8259 PICs, and the virtio-mmio devices described in
 * the DSDT so that an ACPI kernel finds them without a command line. */
#include "boot/acpi.h"

#include <string.h>

#include "boot/aml.h"
#include "mem/layout.h"
#include "util/err.h"

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0x100 - sum);
}

/* The 36-byte header (5.2.6); length and checksum are set by finish(). */
static void header(uint8_t *t, const char *sig, uint8_t revision)
{
	memcpy(t + ACPI_HDR_SIGNATURE, sig, 4);
	t[ACPI_HDR_REVISION] = revision;
	memcpy(t + ACPI_HDR_OEMID, ACPI_OEM_ID, 6);
	memcpy(t + ACPI_HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	le32(t + ACPI_HDR_OEM_REVISION, ACPI_OEM_REVISION);
	memcpy(t + ACPI_HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	le32(t + ACPI_HDR_CREATOR_REVISION, ACPI_CREATOR_REVISION);
}

static size_t finish(uint8_t *t, size_t len)
{
	le32(t + ACPI_HDR_LENGTH, (uint32_t)len);
	t[ACPI_HDR_CHECKSUM] = 0;
	t[ACPI_HDR_CHECKSUM] = acpi_checksum(t, len);
	return len;
}

/* Generic Address Structure for an I/O port block (5.2.3.2). */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	g[0] = ACPI_GAS_SYSTEM_IO;
	g[1] = bits; /* register bit width */
	g[2] = 0;    /* bit offset */
	g[3] = access;
	le64(g + 4, port);
}

static void gas_io8(uint8_t *g, uint16_t port)
{
	gas_io(g, port, 8, ACPI_GAS_ACCESS_BYTE);
}

static bool gsi_used_by_virtio(const struct platform *p, unsigned gsi)
{
	for (unsigned i = 0; i < p->nvirtio && i < PLATFORM_MAX_VIRTIO; i++)
		if (p->virtio[i].gsi == gsi)
			return true;
	return false;
}

unsigned acpi_sci_irq(const struct platform *p)
{
	/* ISA IRQs no nobios device uses (0 timer, 1 keyboard, 2 cascade, 4
	 * COM1, 8 RTC, 12 mouse, 13 FPU, 14/15 IDE stay out). */
	static const unsigned candidates[] = { ACPI_SCI_IRQ_DEFAULT, 10, 11, 5, 7, 3 };
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!gsi_used_by_virtio(p, candidates[i]))
			return candidates[i];
	return ACPI_SCI_IRQ_DEFAULT; /* sixteen virtio devices all on ISA IRQs: share */
}

/* The PC flavour's fixed hardware: each block in both the ACPI 1.0 field
 * (port, length) and the extended GAS, consistent as ACPICA checks (5.2.9:
 * X_ fields supersede, the lengths must agree). */
static void fadt_pc_blocks(uint8_t *t, uint64_t facs)
{
	/* FIRMWARE_CTRL only: the FACS is below 1 MiB, and the field must be 0
	 * when X_FIRMWARE_CTRL is used (table 5-34). */
	le32(t + ACPI_FADT_FIRMWARE_CTRL, (uint32_t)facs);
	le32(t + ACPI_FADT_PM1A_EVT_BLK, LAYOUT_PORT_ACPI_PM1A_EVT);
	le32(t + ACPI_FADT_PM1A_CNT_BLK, LAYOUT_PORT_ACPI_PM1A_CNT);
	le32(t + ACPI_FADT_PM_TMR_BLK, LAYOUT_PORT_ACPI_PM_TMR);
	t[ACPI_FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
	t[ACPI_FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
	t[ACPI_FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
	/* No C2/C3 (nothing to enter them through: no P_BLK). */
	le16(t + ACPI_FADT_P_LVL2_LAT, ACPI_P_LVL2_LAT_NONE);
	le16(t + ACPI_FADT_P_LVL3_LAT, ACPI_P_LVL3_LAT_NONE);
	t[ACPI_FADT_CENTURY] = ACPI_CMOS_CENTURY;
	gas_io(t + ACPI_FADT_X_PM1A_EVT_BLK, LAYOUT_PORT_ACPI_PM1A_EVT, 8 * ACPI_PM1_EVT_LEN,
	       ACPI_GAS_ACCESS_WORD);
	gas_io(t + ACPI_FADT_X_PM1A_CNT_BLK, LAYOUT_PORT_ACPI_PM1A_CNT, 8 * ACPI_PM1_CNT_LEN,
	       ACPI_GAS_ACCESS_WORD);
	gas_io(t + ACPI_FADT_X_PM_TMR_BLK, LAYOUT_PORT_ACPI_PM_TMR, 8 * ACPI_PM_TMR_LEN,
	       ACPI_GAS_ACCESS_DWORD);
}

size_t acpi_build_fadt(uint8_t *t, size_t cap, const struct platform *p, uint64_t dsdt,
		       uint64_t facs)
{
	if (cap < ACPI_FADT_LENGTH || (p->acpi_pc && (facs == 0 || facs >= 0x100000000ULL ||
						      facs % ACPI_FACS_ALIGN)))
		return 0;
	memset(t, 0, ACPI_FADT_LENGTH);
	header(t, "FACP", ACPI_FADT_REVISION);
	if (dsdt < 0x100000000ULL)
		le32(t + ACPI_FADT_DSDT, (uint32_t)dsdt);
	le64(t + ACPI_FADT_X_DSDT, dsdt);
	t[ACPI_FADT_PREFERRED_PM_PROFILE] = 0; /* unspecified */
	le16(t + ACPI_FADT_SCI_INT, (uint16_t)acpi_sci_irq(p));
	/* SMI_CMD 0: no legacy/ACPI mode switch, the platform is always in
	 * ACPI mode (4.8.2.1: OSPM then finds SCI_EN set); every PM2 and GPE
	 * block is absent (0). */
	le16(t + ACPI_FADT_IAPC_BOOT_ARCH,
	     ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_8042 | ACPI_IAPC_VGA_NOT_PRESENT);
	uint32_t flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON |
			 ACPI_FADT_SLP_BUTTON | ACPI_FADT_RESET_REG_SUP;
	if (p->acpi_pc) {
		fadt_pc_blocks(t, facs);
	} else {
		/* No FACS: FIRMWARE_CTRL and X_FIRMWARE_CTRL stay 0, which a
		 * hardware-reduced platform may do (5.2.9, FIRMWARE_CTRL). */
		flags |= ACPI_FADT_HW_REDUCED_ACPI;
		gas_io8(t + ACPI_FADT_SLEEP_CONTROL_REG, LAYOUT_PORT_ACPI_SLEEP_CONTROL);
		gas_io8(t + ACPI_FADT_SLEEP_STATUS_REG, LAYOUT_PORT_ACPI_SLEEP_STATUS);
	}
	le32(t + ACPI_FADT_FLAGS, flags);
	gas_io8(t + ACPI_FADT_RESET_REG, LAYOUT_PORT_ACPI_RESET);
	t[ACPI_FADT_RESET_VALUE] = LAYOUT_ACPI_RESET_VALUE;
	t[ACPI_FADT_MINOR] = ACPI_FADT_MINOR_VERSION;
	memcpy(t + ACPI_FADT_HYPERVISOR_ID, ACPI_HYPERVISOR_ID, 8);
	return finish(t, ACPI_FADT_LENGTH);
}

size_t acpi_build_facs(uint8_t *t, size_t cap)
{
	if (cap < ACPI_FACS_LENGTH)
		return 0;
	/* Hardware signature 0 (nothing changes across a sleep: there is no
	 * S1-S4), no waking vector, the global lock free, no S4BIOS and no
	 * 64-bit wake: everything but the identity is zero. */
	memset(t, 0, ACPI_FACS_LENGTH);
	memcpy(t + ACPI_FACS_SIGNATURE, "FACS", 4);
	le32(t + ACPI_FACS_LEN, ACPI_FACS_LENGTH);
	t[ACPI_FACS_VERSION] = ACPI_FACS_REVISION;
	return ACPI_FACS_LENGTH;
}

size_t acpi_build_madt(uint8_t *t, size_t cap, const struct platform *p)
{
	unsigned sci = acpi_sci_irq(p);
	size_t need = ACPI_MADT_ENTRIES + (size_t)p->ncpus * ACPI_MADT_LOCAL_APIC_LEN +
		      ACPI_MADT_IO_APIC_LEN + 2 * ACPI_MADT_INT_SRC_OVERRIDE_LEN +
		      ACPI_MADT_LOCAL_APIC_NMI_LEN;
	if (cap < need || p->ncpus == 0 || p->ncpus > PLATFORM_MAX_CPUS)
		return 0;
	memset(t, 0, need);
	header(t, "APIC", ACPI_MADT_REVISION);
	le32(t + ACPI_MADT_LAPIC_ADDR, (uint32_t)p->lapic_base);
	/* KVM's in-kernel irqchip has the two 8259s: Linux must mask them
	 * when it switches to the IOAPIC. */
	le32(t + ACPI_MADT_FLAGS, ACPI_MADT_PCAT_COMPAT);
	uint8_t *e = t + ACPI_MADT_ENTRIES;
	/* Processor Local APIC (5.2.12.2): ACPI processor UID = APIC ID =
	 * vCPU index; the BSP first, as Linux takes the first entry's order. */
	for (unsigned i = 0; i < p->ncpus; i++) {
		e[0] = ACPI_MADT_TYPE_LOCAL_APIC;
		e[1] = ACPI_MADT_LOCAL_APIC_LEN;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		le32(e + 4, ACPI_MADT_LAPIC_ENABLED);
		e += ACPI_MADT_LOCAL_APIC_LEN;
	}
	/* I/O APIC (5.2.12.3): GSIs 0..pins-1. */
	e[0] = ACPI_MADT_TYPE_IO_APIC;
	e[1] = ACPI_MADT_IO_APIC_LEN;
	e[2] = (uint8_t)p->ioapic_id;
	e[3] = 0;
	le32(e + 4, (uint32_t)p->ioapic_base);
	le32(e + 8, 0);
	e += ACPI_MADT_IO_APIC_LEN;
	/* Interrupt Source Overrides (5.2.12.5): the PIT's IRQ 0 is wired to
	 * IOAPIC pin 2 (as on PCs and in KVM's irq routing), edge/high as the
	 * ISA bus conforms; the SCI is level, active high (KVM's IOAPIC does
	 * not invert polarity, so active low would read as asserted). */
	e[0] = ACPI_MADT_TYPE_INT_SRC_OVERRIDE;
	e[1] = ACPI_MADT_INT_SRC_OVERRIDE_LEN;
	e[2] = 0; /* bus: ISA */
	e[3] = 0; /* source: IRQ 0 */
	le32(e + 4, 2);
	le16(e + 8, ACPI_MPS_INTI_CONFORMS);
	e += ACPI_MADT_INT_SRC_OVERRIDE_LEN;
	e[0] = ACPI_MADT_TYPE_INT_SRC_OVERRIDE;
	e[1] = ACPI_MADT_INT_SRC_OVERRIDE_LEN;
	e[2] = 0;
	e[3] = (uint8_t)sci;
	le32(e + 4, sci);
	le16(e + 8, ACPI_MPS_INTI_ACTIVE_HIGH | ACPI_MPS_INTI_LEVEL);
	e += ACPI_MADT_INT_SRC_OVERRIDE_LEN;
	/* Local APIC NMI (5.2.12.7): LINT1 of every processor, as PCs wire it
	 * (Linux warns when NMI is not on LINT1). */
	e[0] = ACPI_MADT_TYPE_LOCAL_APIC_NMI;
	e[1] = ACPI_MADT_LOCAL_APIC_NMI_LEN;
	e[2] = ACPI_MADT_ALL_PROCESSORS;
	le16(e + 3, ACPI_MPS_INTI_CONFORMS);
	e[5] = 1; /* LINT1 */
	e += ACPI_MADT_LOCAL_APIC_NMI_LEN;
	return finish(t, (size_t)(e - t));
}

/* The ISA devices every nobios machine has, at the PC's fixed ports.  A
 * hardware-reduced platform tells Linux there is no 8259 (it then
 * preallocates no ISA IRQs and never probes legacy ports' interrupts by
 * number), so the devices that interrupt must be enumerated here, as PNP
 * devices with their IRQ, or their drivers cannot request it: COM1 (IRQ 4,
 * the console's interrupt-driven output), the i8042 (IRQ 1) and the RTC,
 * which raises no interrupt in nobios and so lists none. */
static void legacy_device(struct aml *a, const char *name, const char *hid, unsigned uid,
			  const uint8_t *crs, size_t n)
{
	aml_device_open(a, name);
	aml_name(a, "_HID");
	aml_eisaid(a, hid);
	aml_name(a, "_UID");
	aml_integer(a, uid);
	aml_name(a, "_CRS");
	aml_buffer(a, crs, n);
	aml_close(a);
}

static void legacy_devices(struct aml *a)
{
	uint8_t crs[32];
	size_t n = acpi_res_io(crs, sizeof(crs), ACPI_ISA_COM1_PORT, 8);
	n += acpi_res_irq_noflags(crs + n, sizeof(crs) - n, ACPI_ISA_COM1_IRQ);
	n += acpi_res_end(crs + n, sizeof(crs) - n);
	legacy_device(a, "COM1", ACPI_PNP_UART_16550A, 1, crs, n);

	n = acpi_res_io(crs, sizeof(crs), ACPI_ISA_I8042_DATA_PORT, 1);
	n += acpi_res_io(crs + n, sizeof(crs) - n, ACPI_ISA_I8042_CMD_PORT, 1);
	n += acpi_res_irq_noflags(crs + n, sizeof(crs) - n, ACPI_ISA_I8042_KBD_IRQ);
	n += acpi_res_end(crs + n, sizeof(crs) - n);
	legacy_device(a, "PS2K", ACPI_PNP_I8042_KBD, 0, crs, n);

	n = acpi_res_io(crs, sizeof(crs), ACPI_ISA_RTC_PORT, 2);
	n += acpi_res_end(crs + n, sizeof(crs) - n);
	legacy_device(a, "RTC_", ACPI_PNP_RTC, 0, crs, n);
}

size_t acpi_build_dsdt(uint8_t *t, size_t cap, const struct platform *p)
{
	if (cap < ACPI_HDR_SIZE)
		return 0;
	memset(t, 0, ACPI_HDR_SIZE);
	header(t, "DSDT", ACPI_DSDT_REVISION);
	struct aml a;
	aml_init(&a, t + ACPI_HDR_SIZE, cap - ACPI_HDR_SIZE);
	/* \_S5 (7.4.2.5): SLP_TYP for the sleep control register, then the
	 * PM1b value and two reserved integers.  OSPM writes SLP_TYP with
	 * SLP_EN to SLEEP_CONTROL_REG to power off. */
	aml_name(&a, "\\_S5");
	aml_package_open(&a, 4);
	aml_integer(&a, ACPI_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	aml_scope_open(&a, "\\_SB");
	legacy_devices(&a);
	for (unsigned i = 0; i < p->nvirtio && i < PLATFORM_MAX_VIRTIO; i++) {
		const struct platform_virtio *v = &p->virtio[i];
		char name[5] = { 'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0 };
		uint8_t crs[32];
		size_t n = acpi_res_memory32_fixed(crs, sizeof(crs), true, (uint32_t)v->base,
						   v->size);
		/* Edge, active high, exclusive: as the MP table's ISA-bus
		 * entries describe it too. */
		n += acpi_res_extended_irq(crs + n, sizeof(crs) - n,
					   ACPI_RES_IRQ_CONSUMER | ACPI_RES_IRQ_EDGE, v->gsi);
		n += acpi_res_end(crs + n, sizeof(crs) - n);
		aml_device_open(&a, name);
		aml_name(&a, "_HID");
		aml_string(&a, ACPI_VIRTIO_MMIO_HID);
		aml_name(&a, "_UID");
		aml_integer(&a, i);
		aml_name(&a, "_CRS");
		aml_buffer(&a, crs, n);
		aml_close(&a);
	}
	aml_close(&a);
	size_t len;
	if (aml_finish(&a, &len) < 0)
		return 0;
	return finish(t, ACPI_HDR_SIZE + len);
}

/* Bump allocator over the table area: 16-byte aligned, bounded. */
struct area {
	uint64_t gpa, end, cur;
};

static int area_take_aligned(struct area *ar, size_t n, uint64_t align, const char *what,
			     uint64_t *at)
{
	uint64_t a = (ar->cur + align - 1) & ~(align - 1);
	if (a > ar->end || n > ar->end - a)
		return nb_err_internal("ACPI: no room for the %s (%zu bytes) in [0x%llx, 0x%llx)",
				       what, n, (unsigned long long)ar->gpa,
				       (unsigned long long)ar->end);
	*at = a;
	ar->cur = a + n;
	return 0;
}

static int area_take(struct area *ar, size_t n, const char *what, uint64_t *at)
{
	return area_take_aligned(ar, n, 16, what, at);
}

int acpi_build(struct guest_mem *m, struct platform *p, uint64_t gpa, uint64_t room,
	       uint64_t *end)
{
	/* Large enough for 255 vCPUs and 16 virtio devices (MADT ~2.1 KiB,
	 * DSDT ~1.6 KiB). */
	static __thread uint8_t buf[8192];
	struct area ar = { gpa, gpa + room, gpa };
	uint64_t rsdp = 0, rsdt = 0, xsdt = 0, fadt = 0, madt = 0, dsdt = 0, facs = 0;
	if (p->ncpus == 0 || p->ncpus > PLATFORM_MAX_CPUS)
		return nb_err_internal("ACPI: %u vCPUs (1..%d)", p->ncpus, PLATFORM_MAX_CPUS);
	if (area_take(&ar, ACPI_RSDP_LENGTH, "RSDP", &rsdp) < 0)
		return -1;

	size_t n;
	if (p->acpi_pc) {
		n = acpi_build_facs(buf, sizeof(buf));
		if (area_take_aligned(&ar, n, ACPI_FACS_ALIGN, "FACS", &facs) < 0 ||
		    mem_copy_in(m, facs, buf, n) < 0)
			return -1;
	}

	n = acpi_build_dsdt(buf, sizeof(buf), p);
	if (n == 0)
		return nb_err_internal("ACPI: DSDT does not fit in %zu bytes", sizeof(buf));
	if (area_take(&ar, n, "DSDT", &dsdt) < 0 || mem_copy_in(m, dsdt, buf, n) < 0)
		return -1;

	n = acpi_build_fadt(buf, sizeof(buf), p, dsdt, facs);
	if (n == 0 || area_take(&ar, n, "FADT", &fadt) < 0 || mem_copy_in(m, fadt, buf, n) < 0)
		return -1;

	n = acpi_build_madt(buf, sizeof(buf), p);
	if (n == 0)
		return nb_err_internal("ACPI: MADT does not fit in %zu bytes", sizeof(buf));
	if (area_take(&ar, n, "MADT", &madt) < 0 || mem_copy_in(m, madt, buf, n) < 0)
		return -1;

	/* RSDT (5.2.7, 32-bit entries) for ACPI 1.0 readers and XSDT (5.2.8,
	 * 64-bit entries), listing the same tables.  The DSDT is reached
	 * through the FADT only. */
	const uint64_t tables[] = { fadt, madt };
	const unsigned nt = sizeof(tables) / sizeof(tables[0]);
	memset(buf, 0, ACPI_HDR_SIZE + 4 * nt);
	header(buf, "RSDT", ACPI_RSDT_REVISION);
	for (unsigned i = 0; i < nt; i++)
		le32(buf + ACPI_HDR_SIZE + 4 * i, (uint32_t)tables[i]);
	n = finish(buf, ACPI_HDR_SIZE + 4 * nt);
	if (area_take(&ar, n, "RSDT", &rsdt) < 0 || mem_copy_in(m, rsdt, buf, n) < 0)
		return -1;
	memset(buf, 0, ACPI_HDR_SIZE + 8 * nt);
	header(buf, "XSDT", ACPI_XSDT_REVISION);
	for (unsigned i = 0; i < nt; i++)
		le64(buf + ACPI_HDR_SIZE + 8 * i, tables[i]);
	n = finish(buf, ACPI_HDR_SIZE + 8 * nt);
	if (area_take(&ar, n, "XSDT", &xsdt) < 0 || mem_copy_in(m, xsdt, buf, n) < 0)
		return -1;

	/* RSDP (5.2.5.3): the first checksum covers the ACPI 1.0 part (20
	 * bytes), the extended one all 36. */
	uint8_t r[ACPI_RSDP_LENGTH];
	memset(r, 0, sizeof(r));
	memcpy(r, ACPI_RSDP_SIGNATURE, 8);
	memcpy(r + ACPI_RSDP_OEMID, ACPI_OEM_ID, 6);
	r[ACPI_RSDP_REV] = ACPI_RSDP_REVISION;
	le32(r + ACPI_RSDP_RSDT, (uint32_t)rsdt);
	le32(r + ACPI_RSDP_LEN, ACPI_RSDP_LENGTH);
	le64(r + ACPI_RSDP_XSDT, xsdt);
	r[ACPI_RSDP_CHECKSUM] = acpi_checksum(r, ACPI_RSDP_V1_LENGTH);
	r[ACPI_RSDP_EXT_CHECKSUM] = acpi_checksum(r, ACPI_RSDP_LENGTH);
	if (mem_copy_in(m, rsdp, r, sizeof(r)) < 0)
		return -1;
	p->rsdp = rsdp;
	if (end)
		*end = ar.cur;
	return 0;
}
