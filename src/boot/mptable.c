/* mptable.c - the MP floating pointer and configuration table (see
 * mptable.h), written from the Intel MultiProcessor Specification 1.4,
 * chapter 4 "MP Configuration Table".  Entries appear sorted by type, as
 * 4.3 requires; every checksum makes its bytes sum to zero. */
#include "boot/mptable.h"

#include <string.h>

#include "boot/acpi.h" /* acpi_checksum(): the same byte sum */
#include "util/err.h"

/* The MP spec's signatures and IDs are fixed-width byte fields, space-padded
 * and without a NUL: exactly n bytes of s (whose literal is that long). */
static void put_id(uint8_t *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (uint8_t)s[i];
}

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

int mptable_isa_pin(unsigned irq)
{
	if (irq == 0)
		return 2; /* the PIT: pin 2, as on PCs (ACPI's IRQ 0 override) */
	if (irq == 2)
		return -1; /* the 8259 cascade */
	return irq < 16 ? (int)irq : -1;
}

static uint8_t *io_int(uint8_t *e, unsigned type, unsigned bus_irq, unsigned ioapic_id,
		       unsigned pin)
{
	/* I/O interrupt assignment entry (4.3.4, table 4-9). */
	e[0] = MP_ENTRY_IO_INTERRUPT;
	e[1] = (uint8_t)type;
	le16(e + 2, MP_IRQ_CONFORMS);
	e[4] = MP_BUS_ID_ISA;
	e[5] = (uint8_t)bus_irq;
	e[6] = (uint8_t)ioapic_id;
	e[7] = (uint8_t)pin;
	return e + MP_ENTRY_LENGTH;
}

static uint8_t *local_int(uint8_t *e, unsigned type, unsigned lint)
{
	/* Local interrupt assignment entry (4.3.5, table 4-11): source bus
	 * ISA IRQ 0 as PCs list it, every local APIC. */
	e[0] = MP_ENTRY_LOCAL_INTERRUPT;
	e[1] = (uint8_t)type;
	le16(e + 2, MP_IRQ_CONFORMS);
	e[4] = MP_BUS_ID_ISA;
	e[5] = 0;
	e[6] = MP_ALL_LAPICS;
	e[7] = (uint8_t)lint;
	return e + MP_ENTRY_LENGTH;
}

/* Virtio GSIs that need an entry of their own: those no ISA entry covers. */
static bool virtio_needs_entry(const struct platform *p, unsigned i)
{
	unsigned gsi = p->virtio[i].gsi;
	if (gsi < 16)
		return false; /* an ISA IRQ entry already routes that pin */
	for (unsigned j = 0; j < i; j++)
		if (p->virtio[j].gsi == gsi)
			return false; /* shared: one entry */
	return true;
}

size_t mptable_build_config(uint8_t *t, size_t cap, const struct platform *p)
{
	if (p->ncpus == 0 || p->ncpus > PLATFORM_MAX_CPUS || p->nvirtio > PLATFORM_MAX_VIRTIO)
		return 0;
	unsigned nio = 0;
	for (unsigned irq = 0; irq < 16; irq++)
		nio += mptable_isa_pin(irq) >= 0;
	for (unsigned i = 0; i < p->nvirtio; i++)
		nio += virtio_needs_entry(p, i);
	unsigned count = p->ncpus + 1 /* bus */ + 1 /* IOAPIC */ + nio + 2 /* local */;
	size_t len = MP_CONFIG_HEADER_LENGTH + (size_t)p->ncpus * MP_PROCESSOR_LENGTH +
		     (size_t)(count - p->ncpus) * MP_ENTRY_LENGTH;
	if (cap < len || len > 0xFFFF)
		return 0;
	memset(t, 0, len);
	put_id(t, MP_CONFIG_SIGNATURE, 4);
	le16(t + MP_CONFIG_BASE_LENGTH, (uint16_t)len);
	t[MP_CONFIG_SPEC_REV] = MP_SPEC_REV_1_4;
	put_id(t + MP_CONFIG_OEM_ID, MP_OEM_ID, 8);
	put_id(t + MP_CONFIG_PRODUCT_ID, MP_PRODUCT_ID, 12);
	le16(t + MP_CONFIG_ENTRY_COUNT, (uint16_t)count);
	le32(t + MP_CONFIG_LAPIC_ADDR, (uint32_t)p->lapic_base);
	/* No OEM table, no extended table: their pointers, lengths and
	 * checksum stay 0. */
	uint8_t *e = t + MP_CONFIG_HEADER_LENGTH;
	for (unsigned i = 0; i < p->ncpus; i++) {
		/* Processor entry (4.3.1, table 4-4). */
		e[0] = MP_ENTRY_PROCESSOR;
		e[1] = (uint8_t)i; /* local APIC ID */
		e[2] = MP_LAPIC_VERSION;
		e[3] = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BOOTPROCESSOR : 0);
		le32(e + 4, p->cpu_signature);
		le32(e + 8, p->cpu_features);
		e += MP_PROCESSOR_LENGTH;
	}
	/* Bus entry (4.3.2). */
	e[0] = MP_ENTRY_BUS;
	e[1] = MP_BUS_ID_ISA;
	put_id(e + 2, MP_BUS_ISA, 6);
	e += MP_ENTRY_LENGTH;
	/* I/O APIC entry (4.3.3). */
	e[0] = MP_ENTRY_IOAPIC;
	e[1] = (uint8_t)p->ioapic_id;
	e[2] = MP_IOAPIC_VERSION;
	e[3] = MP_IOAPIC_ENABLED;
	le32(e + 4, (uint32_t)p->ioapic_base);
	e += MP_ENTRY_LENGTH;
	for (unsigned irq = 0; irq < 16; irq++) {
		int pin = mptable_isa_pin(irq);
		if (pin >= 0)
			e = io_int(e, MP_INT_INT, irq, p->ioapic_id, (unsigned)pin);
	}
	for (unsigned i = 0; i < p->nvirtio; i++)
		if (virtio_needs_entry(p, i))
			e = io_int(e, MP_INT_INT, p->virtio[i].gsi, p->ioapic_id, p->virtio[i].gsi);
	e = local_int(e, MP_INT_EXTINT, 0); /* the 8259s on LINT0 */
	local_int(e, MP_INT_NMI, 1);
	t[MP_CONFIG_CHECKSUM] = acpi_checksum(t, len);
	return len;
}

int mptable_build(struct guest_mem *m, struct platform *p, uint64_t fp_gpa, uint64_t cfg_gpa,
		  uint64_t room, uint64_t *end)
{
	static __thread uint8_t buf[8192];
	if (fp_gpa & 15)
		return nb_err_internal("MP floating pointer at 0x%llx is not 16-byte aligned",
				       (unsigned long long)fp_gpa);
	if (cfg_gpa + room > 0x100000000ULL)
		return nb_err_internal("MP configuration table above 4 GiB");
	size_t n = mptable_build_config(buf, sizeof(buf) < room ? sizeof(buf) : room, p);
	if (n == 0)
		return nb_err_internal("MP configuration table for %u vCPUs and %u virtio devices "
				       "does not fit in %llu bytes",
				       p->ncpus, p->nvirtio, (unsigned long long)room);
	if (mem_copy_in(m, cfg_gpa, buf, n) < 0)
		return -1;
	uint8_t f[MP_FLOATING_LENGTH];
	memset(f, 0, sizeof(f));
	put_id(f, MP_FLOATING_SIGNATURE, 4);
	le32(f + MP_FLOATING_PHYSPTR, (uint32_t)cfg_gpa);
	f[MP_FLOATING_LEN] = 1;
	f[MP_FLOATING_SPEC_REV] = MP_SPEC_REV_1_4;
	f[MP_FLOATING_FEATURE1] = 0;
	f[MP_FLOATING_FEATURE2] = 0; /* virtual-wire mode: KVM has no IMCR */
	f[MP_FLOATING_CHECKSUM] = acpi_checksum(f, sizeof(f));
	if (mem_copy_in(m, fp_gpa, f, sizeof(f)) < 0)
		return -1;
	p->mp_floating = fp_gpa;
	if (end)
		*end = cfg_gpa + n;
	return 0;
}
