/* test_acpi.c - nobios's ACPI tables (src/boot/acpi.c) against ACPI 6.0's
 * layouts: RSDP (5.2.5.3), the table header (5.2.6), RSDT/XSDT, FADT (table
 * 5-34 offsets, HW_REDUCED_ACPI, sleep and reset registers as Generic
 * Address Structures; the PC flavour's PM1a blocks, PM timer and FACS,
 * table 5-37), MADT (5.2.12 subtables), the DSDT's AML byte for byte;
 * then the boot tables as each format hands them over (PVH rsdp_paddr, the
 * zero page's acpi_rsdp_addr, Multiboot2's tags 14/15), the reset vector
 * stub and the E820 map that covers them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/acpi.h"
#include "boot/mptable.h"
#include "boot/multiboot2.h"
#include "boot/start_info.h"
#include "direct_fake.h"

static uint8_t t[16384];

static struct platform plat(unsigned ncpus)
{
	struct platform p = { .ncpus = ncpus, .lapic_base = 0xFEE00000, .ioapic_base = 0xFEC00000,
			      .ioapic_id = ncpus, .ioapic_pins = 24 };
	return p;
}

static uint32_t r32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }
static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static void check_header(const uint8_t *h, const char *sig, uint32_t len, uint8_t rev)
{
	assert_memory_equal(h, sig, 4);
	assert_int_equal(r32(h + 4), len);
	assert_int_equal(h[8], rev);
	assert_int_equal(sum(h, len), 0);
	assert_memory_equal(h + 10, "NOBIOS", 6);
	assert_memory_equal(h + 16, "NOBIOSVM", 8);
	assert_int_equal(r32(h + 24), 1);
	assert_memory_equal(h + 28, "NBIO", 4);
	assert_int_equal(r32(h + 32), 1);
}

static void test_checksum(void **st)
{
	(void)st;
	uint8_t b[5] = { 1, 2, 3, 250, 0 };
	b[4] = acpi_checksum(b, 4);
	assert_int_equal(b[4], 0);          /* 1+2+3+250 = 256 */
	b[3] = 1;
	b[4] = acpi_checksum(b, 4);
	assert_int_equal(b[4], 0x100 - 7);
	assert_int_equal(sum(b, 5), 0);
}

static void test_fadt(void **st)
{
	(void)st;
	struct platform p = plat(2);
	size_t n = acpi_build_fadt(t, sizeof(t), &p, 0xE0030, 0);
	assert_int_equal(n, 276); /* FADT revision 6 (ACPI 6.0): 0x114 bytes */
	check_header(t, "FACP", 276, 6);
	assert_int_equal(r32(t + 36), 0);        /* FIRMWARE_CTRL: no FACS */
	assert_int_equal(r32(t + 40), 0xE0030);  /* DSDT */
	assert_int_equal(r64(t + 140), 0xE0030); /* X_DSDT */
	assert_int_equal(r64(t + 132), 0);       /* X_FIRMWARE_CTRL */
	assert_int_equal(r16(t + 46), 9);        /* SCI_INT */
	assert_int_equal(r32(t + 48), 0);        /* SMI_CMD: always in ACPI mode */
	for (unsigned o = 56; o < 96; o++)       /* PM1a..GPE1, their lengths */
		assert_int_equal(t[o], 0);
	assert_int_equal(r16(t + 109), 0x7);     /* legacy devices, 8042, no VGA */
	uint32_t flags = r32(t + 112);
	assert_true(flags & (1u << 20));         /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10));         /* RESET_REG_SUP */
	assert_int_equal(flags, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10) |
				     (1u << 20));
	/* RESET_REG: System I/O, 8 bits at 0, byte access, port 0x602 */
	static const uint8_t reset_gas[12] = { 1, 8, 0, 1, 0x02, 0x06 };
	assert_memory_equal(t + 116, reset_gas, 12);
	assert_int_equal(t[128], 0x01);          /* RESET_VALUE */
	assert_int_equal(r16(t + 129), 0);       /* ARM_BOOT_ARCH */
	assert_int_equal(t[131], 0);             /* FADT minor version: 6.0 */
	for (unsigned o = 148; o < 244; o++)     /* X_PM1a_EVT_BLK..X_GPE1_BLK */
		assert_int_equal(t[o], 0);
	static const uint8_t sleep_ctl[12] = { 1, 8, 0, 1, 0x00, 0x06 };
	static const uint8_t sleep_sts[12] = { 1, 8, 0, 1, 0x01, 0x06 };
	assert_memory_equal(t + 244, sleep_ctl, 12);
	assert_memory_equal(t + 256, sleep_sts, 12);
	assert_memory_equal(t + 268, "NOBIOS  ", 8);
	assert_int_equal(acpi_build_fadt(t, 275, &p, 0, 0), 0);
}

/* The PC flavour (after POST): PM1a event/control blocks and the PM timer
 * in both the ACPI 1.0 fields and the GAS, the FACS, no HW_REDUCED_ACPI. */
static void test_fadt_pc(void **st)
{
	(void)st;
	struct platform p = plat(1);
	p.acpi_pc = true;
	/* the FACS is required, 64-byte aligned, below 4 GiB */
	assert_int_equal(acpi_build_fadt(t, sizeof(t), &p, 0xE0100, 0), 0);
	assert_int_equal(acpi_build_fadt(t, sizeof(t), &p, 0xE0100, 0xE0050), 0);
	assert_int_equal(acpi_build_fadt(t, sizeof(t), &p, 0xE0100, 0x100000000ULL), 0);
	size_t n = acpi_build_fadt(t, sizeof(t), &p, 0xE0100, 0xE0040);
	assert_int_equal(n, 276);
	check_header(t, "FACP", 276, 6);
	assert_int_equal(r32(t + 36), 0xE0040);  /* FIRMWARE_CTRL */
	assert_int_equal(r64(t + 132), 0);       /* X_FIRMWARE_CTRL: 0, so FIRMWARE_CTRL counts */
	assert_int_equal(r32(t + 40), 0xE0100);  /* DSDT */
	assert_int_equal(r16(t + 46), 9);        /* SCI_INT */
	assert_int_equal(r32(t + 48), 0);        /* SMI_CMD: always in ACPI mode */
	assert_int_equal(t[52], 0);              /* ACPI_ENABLE */
	assert_int_equal(t[53], 0);              /* ACPI_DISABLE */
	assert_int_equal(r32(t + 56), 0x604);    /* PM1a_EVT_BLK */
	assert_int_equal(r32(t + 60), 0);        /* PM1b_EVT_BLK */
	assert_int_equal(r32(t + 64), 0x608);    /* PM1a_CNT_BLK */
	assert_int_equal(r32(t + 68), 0);        /* PM1b_CNT_BLK */
	assert_int_equal(r32(t + 72), 0);        /* PM2_CNT_BLK */
	assert_int_equal(r32(t + 76), 0x60C);    /* PM_TMR_BLK */
	assert_int_equal(r32(t + 80), 0);        /* GPE0_BLK */
	assert_int_equal(r32(t + 84), 0);        /* GPE1_BLK */
	assert_int_equal(t[88], 4);              /* PM1_EVT_LEN */
	assert_int_equal(t[89], 2);              /* PM1_CNT_LEN */
	assert_int_equal(t[90], 0);              /* PM2_CNT_LEN */
	assert_int_equal(t[91], 4);              /* PM_TMR_LEN */
	assert_int_equal(t[92], 0);              /* GPE0_BLK_LEN */
	assert_int_equal(t[93], 0);              /* GPE1_BLK_LEN */
	assert_int_equal(r16(t + 96), 101);      /* P_LVL2_LAT > 100: no C2 */
	assert_int_equal(r16(t + 98), 1001);     /* P_LVL3_LAT > 1000: no C3 */
	assert_int_equal(t[108], 0x32);          /* CENTURY: CMOS index */
	assert_int_equal(r16(t + 109), 0x7);     /* legacy devices, 8042, no VGA */
	uint32_t flags = r32(t + 112);
	assert_false(flags & (1u << 20));        /* not HW_REDUCED_ACPI */
	assert_false(flags & (1u << 8));         /* TMR_VAL_EXT clear: 24-bit timer */
	assert_int_equal(flags, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10));
	static const uint8_t reset_gas[12] = { 1, 8, 0, 1, 0x02, 0x06 };
	assert_memory_equal(t + 116, reset_gas, 12);
	assert_int_equal(t[128], 0x01);
	/* X_PM1a_EVT_BLK (148): I/O, 32 bits, word access; X_PM1b (160) none;
	 * X_PM1a_CNT_BLK (172): 16 bits; X_PM_TMR_BLK (208): 32 bits, dword */
	static const uint8_t evt[12] = { 1, 32, 0, 2, 0x04, 0x06 };
	static const uint8_t cnt[12] = { 1, 16, 0, 2, 0x08, 0x06 };
	static const uint8_t tmr[12] = { 1, 32, 0, 3, 0x0C, 0x06 };
	static const uint8_t none[12] = { 0 };
	assert_memory_equal(t + 148, evt, 12);
	assert_memory_equal(t + 160, none, 12);
	assert_memory_equal(t + 172, cnt, 12);
	assert_memory_equal(t + 184, none, 12);  /* X_PM1b_CNT_BLK */
	assert_memory_equal(t + 196, none, 12);  /* X_PM2_CNT_BLK */
	assert_memory_equal(t + 208, tmr, 12);
	assert_memory_equal(t + 220, none, 12);  /* X_GPE0_BLK */
	assert_memory_equal(t + 232, none, 12);  /* X_GPE1_BLK */
	assert_memory_equal(t + 244, none, 12);  /* SLEEP_CONTROL_REG: reduced only */
	assert_memory_equal(t + 256, none, 12);  /* SLEEP_STATUS_REG */
	assert_memory_equal(t + 268, "NOBIOS  ", 8);
}

static void test_facs(void **st)
{
	(void)st;
	memset(t, 0xAA, 128);
	assert_int_equal(acpi_build_facs(t, 63), 0);
	assert_int_equal(acpi_build_facs(t, sizeof(t)), 64);
	assert_memory_equal(t, "FACS", 4);
	assert_int_equal(r32(t + 4), 64);        /* Length */
	assert_int_equal(r32(t + 8), 0);         /* Hardware Signature */
	assert_int_equal(r32(t + 12), 0);        /* Firmware Waking Vector */
	assert_int_equal(r32(t + 16), 0);        /* Global Lock: free */
	assert_int_equal(r32(t + 20), 0);        /* Flags: no S4BIOS, no 64-bit wake */
	assert_int_equal(r64(t + 24), 0);        /* X Firmware Waking Vector */
	assert_int_equal(t[32], 2);              /* Version */
	assert_int_equal(r32(t + 36), 0);        /* OSPM Flags */
	for (unsigned o = 40; o < 64; o++)
		assert_int_equal(t[o], 0);
	assert_int_equal(t[64], 0xAA);           /* nothing past 64 bytes */
}

static void test_madt(void **st)
{
	(void)st;
	for (unsigned ncpus = 1; ncpus <= PLATFORM_MAX_CPUS; ncpus += ncpus < 4 ? 1 : 251) {
		struct platform p = plat(ncpus);
		size_t n = acpi_build_madt(t, sizeof(t), &p);
		size_t want = 44 + 8 * ncpus + 12 + 2 * 10 + 6;
		assert_int_equal(n, want);
		check_header(t, "APIC", (uint32_t)want, 4);
		assert_int_equal(r32(t + 36), 0xFEE00000);
		assert_int_equal(r32(t + 40), 1); /* PCAT_COMPAT */
		const uint8_t *e = t + 44;
		for (unsigned i = 0; i < ncpus; i++, e += 8) {
			static uint8_t lapic[8] = { 0, 8, 0, 0, 1, 0, 0, 0 };
			lapic[2] = lapic[3] = (uint8_t)i; /* UID = APIC ID = i */
			assert_memory_equal(e, lapic, 8);
		}
		const uint8_t ioapic[12] = { 1, 12, (uint8_t)ncpus, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0 };
		assert_memory_equal(e, ioapic, 12);
		e += 12;
		static const uint8_t iso0[10] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
		static const uint8_t iso9[10] = { 2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0 };
		assert_memory_equal(e, iso0, 10);
		assert_memory_equal(e + 10, iso9, 10);
		e += 20;
		static const uint8_t nmi[6] = { 4, 6, 0xFF, 0, 0, 1 };
		assert_memory_equal(e, nmi, 6);
	}
	struct platform p = plat(0);
	assert_int_equal(acpi_build_madt(t, sizeof(t), &p), 0);
	p = plat(4);
	assert_int_equal(acpi_build_madt(t, 44 + 32 + 37, &p), 0);
}

/* The DSDT's AML, written out by hand from chapter 20 and 6.4. */
static const uint8_t s5[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0A, 0x05,
			      0x00, 0x00, 0x00 };
static const uint8_t com1[] = {
	0x5B, 0x82, 0x2B, 'C', 'O', 'M', '1',                          /* Device(COM1) */
	0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01,        /* EISAID PNP0501 */
	0x08, '_', 'U', 'I', 'D', 0x01,                                /* _UID 1 */
	0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0A, 0x0D,              /* Buffer(13) */
	0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,                /* IO 3F8, 8 */
	0x22, 0x10, 0x00,                                              /* IRQNoFlags {4} */
	0x79, 0x00,
};
static const uint8_t ps2k[] = {
	0x5B, 0x82, 0x33, 'P', 'S', '2', 'K',
	0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x03, 0x03,        /* EISAID PNP0303 */
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x18, 0x0A, 0x15,
	0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,                /* IO 60 */
	0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,                /* IO 64 */
	0x22, 0x02, 0x00,                                              /* IRQNoFlags {1} */
	0x79, 0x00,
};
static const uint8_t rtc[] = {
	0x5B, 0x82, 0x28, 'R', 'T', 'C', '_',
	0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0B, 0x00,        /* EISAID PNP0B00 */
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0D, 0x0A, 0x0A,
	0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,                /* IO 70, 2: no IRQ */
	0x79, 0x00,
};
static const uint8_t vr01[] = {
	0x5B, 0x82, 0x3A, 'V', 'R', '0', '1',
	0x08, '_', 'H', 'I', 'D', 0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
	0x08, '_', 'U', 'I', 'D', 0x01,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x1A, 0x0A, 0x17,
	0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00, /* Memory32Fixed */
	0x89, 0x06, 0x00, 0x03, 0x01, 0x11, 0x00, 0x00, 0x00,          /* Interrupt {17}, edge */
	0x79, 0x00,
};

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

static void test_dsdt(void **st)
{
	(void)st;
	struct platform p = plat(1);
	size_t n = acpi_build_dsdt(t, sizeof(t), &p);
	check_header(t, "DSDT", (uint32_t)n, 2);
	/* \_S5 first, then Scope(\_SB) holding the three ISA devices */
	assert_memory_equal(t + 36, s5, sizeof(s5));
	const uint8_t *sc = t + 36 + sizeof(s5);
	size_t body = sizeof(com1) + sizeof(ps2k) + sizeof(rtc);
	size_t pkglen = 2 + 5 + body; /* 2-byte PkgLength ("\\_SB_" and the devices) */
	assert_int_equal(sc[0], 0x10);
	assert_int_equal(sc[1], 0x40 | (pkglen & 0xF));
	assert_int_equal(sc[2], pkglen >> 4);
	assert_memory_equal(sc + 3, "\\_SB_", 5);
	assert_memory_equal(sc + 8, com1, sizeof(com1));
	assert_memory_equal(sc + 8 + sizeof(com1), ps2k, sizeof(ps2k));
	assert_memory_equal(sc + 8 + sizeof(com1) + sizeof(ps2k), rtc, sizeof(rtc));
	assert_int_equal(n, 36 + sizeof(s5) + 8 + body);

	/* two virtio-mmio devices: VR00, VR01 after the ISA devices */
	p.nvirtio = 2;
	p.virtio[0] = (struct platform_virtio){ VIRTIO_ID_BLOCK, 0, 0xD0000000, 0x200, 16 };
	p.virtio[1] = (struct platform_virtio){ VIRTIO_ID_NET, 0, 0xD0000200, 0x200, 17 };
	n = acpi_build_dsdt(t, sizeof(t), &p);
	check_header(t, "DSDT", (uint32_t)n, 2);
	assert_non_null(find(t, n, vr01, sizeof(vr01)));
	const uint8_t *v0 = find(t, n, (const uint8_t *)"VR00", 4);
	assert_non_null(v0);
	assert_true(v0 < find(t, n, vr01, sizeof(vr01)));
	assert_int_equal(n, 36 + sizeof(s5) + 8 + body + 2 * sizeof(vr01));
	assert_int_equal(acpi_build_dsdt(t, 100, &p), 0);
}

static void test_sci_irq(void **st)
{
	(void)st;
	struct platform p = plat(1);
	assert_int_equal(acpi_sci_irq(&p), 9);
	p.nvirtio = 2;
	p.virtio[0].gsi = 9;
	p.virtio[1].gsi = 10;
	assert_int_equal(acpi_sci_irq(&p), 11); /* never shares a virtio GSI */
	size_t n = acpi_build_fadt(t, sizeof(t), &p, 0, 0);
	assert_int_equal(n, 276);
	assert_int_equal(r16(t + 46), 11);
	n = acpi_build_madt(t, sizeof(t), &p);
	const uint8_t *iso = t + 44 + 8 + 12 + 10;
	assert_int_equal(iso[3], 11);
	assert_int_equal(r32(iso + 4), 11);
}

/* ---- all tables in guest memory, and the formats that pass them on */
static void check_rsdp_in(struct fake_machine *m, uint64_t rsdp, unsigned ncpus)
{
	uint8_t r[36];
	assert_int_equal(mem_copy_out(&m->mem, r, rsdp, 36), 0);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(r + 9, "NOBIOS", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(r32(r + 20), 36);
	uint64_t rsdt = r32(r + 16), xsdt = r64(r + 24);
	assert_true(rsdt > rsdp && rsdt < 0xF0000);
	uint8_t *ram = m->ram;
	uint8_t *x = ram + xsdt, *rs = ram + rsdt;
	check_header(x, "XSDT", 36 + 16, 1);
	check_header(rs, "RSDT", 36 + 8, 1);
	uint64_t fadt = r64(x + 36), madt = r64(x + 44);
	assert_int_equal(r32(rs + 36), fadt);
	assert_int_equal(r32(rs + 40), madt);
	check_header(ram + fadt, "FACP", 276, 6);
	check_header(ram + madt, "APIC", 44 + 8 * ncpus + 12 + 20 + 6, 4);
	uint64_t dsdt = r64(ram + fadt + 140);
	check_header(ram + dsdt, "DSDT", r32(ram + dsdt + 4), 2);
	uint64_t facs = r32(ram + fadt + 36);
	if (facs) {
		assert_int_equal(facs & 63, 0);
		assert_true(facs > rsdp && facs < 0xF0000);
		assert_memory_equal(ram + facs, "FACS", 4);
		assert_int_equal(r32(ram + facs + 4), 64);
		assert_true(facs + 64 <= dsdt || facs >= dsdt + r32(ram + dsdt + 4));
	}
	/* every table 16-byte aligned, inside [0xE0000, 0xF0000) */
	const uint64_t all[] = { rsdp, rsdt, xsdt, fadt, madt, dsdt };
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(all[i] & 15, 0);
		assert_true(all[i] >= 0xE0000 && all[i] < 0xF0000);
	}
}

static void test_build_in_memory(void **st)
{
	(void)st;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct platform p = plat(255);
	p.nvirtio = PLATFORM_MAX_VIRTIO;
	for (unsigned i = 0; i < PLATFORM_MAX_VIRTIO; i++)
		p.virtio[i] = (struct platform_virtio){ VIRTIO_ID_BLOCK, i, 0xD0000000 + 0x200 * i,
							0x200, 16 + i % 8 };
	m->ctx.plat = &p;
	assert_int_equal(boot_tables_build(&m->ctx), 0);
	assert_int_equal(p.rsdp, 0xE0000);
	assert_int_equal(p.mp_floating, 0x9FC10);
	check_rsdp_in(m, p.rsdp, 255);
	/* the reset vector: mov al, 1; mov dx, 0x602; out dx, al; cli; hlt; jmp */
	static const uint8_t stub[] = { 0xB0, 0x01, 0xBA, 0x02, 0x06, 0xEE, 0xFA, 0xF4, 0xEB, 0xFC };
	assert_memory_equal((uint8_t *)m->ram + 0xFFFF0, stub, sizeof(stub));
	/* a plan the tables cannot describe is refused, not written */
	p.virtio[3].gsi = 2;
	assert_int_equal(boot_tables_build(&m->ctx), -1);
	p.virtio[3].gsi = 19;
	p.ioapic_id = 3;
	assert_int_equal(boot_tables_build(&m->ctx), -1);
	fake_machine_free(m);
}

/* After a loader that runs POST the tables are written again as a PC's, the
 * RSDP where it was, and the pseudo-BIOS's reset vector left alone; a
 * direct boot keeps the hardware-reduced FADT. */
static void test_tables_after_post(void **st)
{
	(void)st;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct platform p = plat(2);
	m->ctx.plat = &p;
	assert_int_equal(boot_tables_build(&m->ctx), 0);
	uint8_t *ram = m->ram;
	uint64_t fadt = r32(ram + r32(ram + 0xE0000 + 16) + 36);
	assert_true(r32(ram + fadt + 112) & (1u << 20));
	assert_int_equal(boot_tables_post(&m->ctx), 0); /* no POST: nothing changes */
	assert_false(p.acpi_pc);
	ram[0xFFFF5] = 0x5A; /* stands for the BIOS image's bytes after its jump */
	m->ctx.needs_bios = true;
	assert_int_equal(boot_tables_post(&m->ctx), 0);
	assert_true(p.acpi_pc);
	assert_int_equal(p.rsdp, 0xE0000);
	check_rsdp_in(m, p.rsdp, 2);
	fadt = r32(ram + r32(ram + 0xE0000 + 16) + 36);
	assert_false(r32(ram + fadt + 112) & (1u << 20));
	assert_int_equal(r32(ram + fadt + 64), 0x608);
	assert_int_not_equal(r32(ram + fadt + 36), 0);
	assert_int_equal(ram[0xFFFF5], 0x5A);
	/* the MP floating pointer still finds its configuration table */
	uint32_t cfg = r32(ram + p.mp_floating + 4);
	assert_memory_equal(ram + cfg, "PCMP", 4);
	fake_machine_free(m);
}

/* The E820 map reserves what the tables occupy. */
static void test_e820_covers(void **st)
{
	(void)st;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	int ebda = 0, bios = 0;
	for (unsigned i = 0; i < m->ctx.e820.n; i++) {
		const struct e820_entry *e = &m->ctx.e820.e[i];
		if (e->type == E820_TYPE_RESERVED && e->addr <= 0x9FC10 && e->addr + e->size >= 0x9FC20)
			ebda = 1;
		if (e->type == E820_TYPE_RESERVED && e->addr <= 0xE0000 && e->addr + e->size >= 0x100000)
			bios = 1;
		if (e->type == E820_TYPE_RAM)
			assert_true(e->addr + e->size <= 0x9FC00 || e->addr >= 0x100000);
	}
	assert_true(ebda);
	assert_true(bios);
	fake_machine_free(m);
}

/* PVH: hvm_start_info.rsdp_paddr; Multiboot2: tags 14 and 15 with copies. */
static void test_formats_pass_rsdp(void **st)
{
	(void)st;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct platform p = plat(4);
	m->ctx.plat = &p;
	assert_int_equal(boot_tables_build(&m->ctx), 0);
	assert_int_equal(pvh_build_start_info(&m->ctx, LAYOUT_PVH_START_INFO, LAYOUT_PVH_SIZE,
					      LAYOUT_CMDLINE, NULL),
			 0);
	assert_int_equal(g64(m, LAYOUT_PVH_START_INFO + 32), 0xE0000);

	assert_true(multiboot2_provides(MULTIBOOT_TAG_TYPE_ACPI_OLD));
	assert_true(multiboot2_provides(MULTIBOOT_TAG_TYPE_ACPI_NEW));
	uint64_t end = 0;
	assert_int_equal(multiboot2_build_info(&m->ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, "x", NULL, 0,
					       &end),
			 0);
	int old = 0, new = 0;
	for (uint64_t a = LAYOUT_MBI + 8; a < end;) {
		uint32_t type = g32(m, a), size = g32(m, a + 4);
		if (type == MULTIBOOT_TAG_TYPE_ACPI_OLD) {
			assert_int_equal(size, 8 + 20);
			assert_memory_equal((uint8_t *)m->ram + a + 8, (uint8_t *)m->ram + 0xE0000, 20);
			old++;
		}
		if (type == MULTIBOOT_TAG_TYPE_ACPI_NEW) {
			assert_int_equal(size, 8 + 36);
			assert_memory_equal((uint8_t *)m->ram + a + 8, (uint8_t *)m->ram + 0xE0000, 36);
			new++;
		}
		if (type == 0)
			break;
		a += (size + 7) & ~7u;
	}
	assert_int_equal(old, 1);
	assert_int_equal(new, 1);
	fake_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_fadt_pc),
		cmocka_unit_test(test_facs),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_sci_irq),
		cmocka_unit_test(test_build_in_memory),
		cmocka_unit_test(test_tables_after_post),
		cmocka_unit_test(test_e820_covers),
		cmocka_unit_test(test_formats_pass_rsdp),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
