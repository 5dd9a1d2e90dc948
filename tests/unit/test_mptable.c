/* test_mptable.c - the MP tables (src/boot/mptable.c) against the Intel
 * MultiProcessor Specification 1.4, chapter 4: the floating pointer (table
 * 4-1), the configuration table header (4-2), entries sorted by type with
 * the lengths of table 4-3, processor entries with the BSP flag, the ISA
 * bus, the IOAPIC, the I/O interrupt assignments (IRQ 0 on pin 2, no pin
 * for IRQ 2, virtio GSIs), the local interrupts, and checksums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mptable.h"
#include "mem/layout.h"

static uint8_t t[16384];

static uint32_t r32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static struct platform plat(unsigned ncpus)
{
	struct platform p = { .ncpus = ncpus, .lapic_base = 0xFEE00000, .ioapic_base = 0xFEC00000,
			      .ioapic_id = ncpus, .ioapic_pins = 24, .cpu_signature = 0x812,
			      .cpu_features = 0x178BFBFF };
	return p;
}

static void test_isa_pins(void **st)
{
	(void)st;
	assert_int_equal(mptable_isa_pin(0), 2);
	assert_int_equal(mptable_isa_pin(1), 1);
	assert_int_equal(mptable_isa_pin(2), -1);
	for (unsigned i = 3; i < 16; i++)
		assert_int_equal(mptable_isa_pin(i), (int)i);
	assert_int_equal(mptable_isa_pin(16), -1);
}

static void test_config(void **st)
{
	(void)st;
	struct platform p = plat(4);
	p.nvirtio = 3;
	p.virtio[0].gsi = 16;
	p.virtio[1].gsi = 5;  /* an ISA IRQ: its ISA entry already routes pin 5 */
	p.virtio[2].gsi = 16; /* shared: one entry */
	size_t n = mptable_build_config(t, sizeof(t), &p);
	/* 4 processors, bus, IOAPIC, 15 ISA IRQs + GSI 16, 2 local */
	unsigned count = 4 + 1 + 1 + 16 + 2;
	assert_int_equal(n, 44 + 4 * 20 + (count - 4) * 8);
	assert_memory_equal(t, "PCMP", 4);
	assert_int_equal(r16(t + 4), n);
	assert_int_equal(t[6], 4);          /* spec 1.4 */
	assert_int_equal(sum(t, n), 0);
	assert_memory_equal(t + 8, "NOBIOS  ", 8);
	assert_memory_equal(t + 16, "NOBIOS VM   ", 12);
	assert_int_equal(r32(t + 28), 0);   /* no OEM table */
	assert_int_equal(r16(t + 32), 0);
	assert_int_equal(r16(t + 34), count);
	assert_int_equal(r32(t + 36), 0xFEE00000);
	assert_int_equal(r16(t + 40), 0);   /* no extended table */
	assert_int_equal(t[42], 0);
	const uint8_t *e = t + 44;
	for (unsigned i = 0; i < 4; i++, e += 20) {
		uint8_t want[20] = { 0, (uint8_t)i, 0x14, i == 0 ? 3 : 1, 0x12, 0x08, 0, 0,
				     0xFF, 0xFB, 0x8B, 0x17 };
		assert_memory_equal(e, want, 20);
	}
	static const uint8_t bus[8] = { 1, 0, 'I', 'S', 'A', ' ', ' ', ' ' };
	assert_memory_equal(e, bus, 8);
	e += 8;
	static const uint8_t ioapic[8] = { 2, 4, 0x11, 1, 0x00, 0x00, 0xC0, 0xFE };
	assert_memory_equal(e, ioapic, 8);
	e += 8;
	/* INT, conforming, ISA bus IRQ -> IOAPIC 4 pin */
	static const uint8_t irqs[][2] = { { 0, 2 }, { 1, 1 }, { 3, 3 }, { 4, 4 }, { 5, 5 },
					   { 6, 6 }, { 7, 7 }, { 8, 8 }, { 9, 9 }, { 10, 10 },
					   { 11, 11 }, { 12, 12 }, { 13, 13 }, { 14, 14 },
					   { 15, 15 }, { 16, 16 } };
	for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++, e += 8) {
		uint8_t want[8] = { 3, 0, 0, 0, 0, irqs[i][0], 4, irqs[i][1] };
		assert_memory_equal(e, want, 8);
	}
	static const uint8_t extint[8] = { 4, 3, 0, 0, 0, 0, 0xFF, 0 };
	static const uint8_t nmi[8] = { 4, 1, 0, 0, 0, 0, 0xFF, 1 };
	assert_memory_equal(e, extint, 8);
	assert_memory_equal(e + 8, nmi, 8);
	assert_int_equal(e + 16 - t, n);
	/* too small a buffer, no vCPU */
	assert_int_equal(mptable_build_config(t, n - 1, &p), 0);
	p = plat(0);
	assert_int_equal(mptable_build_config(t, sizeof(t), &p), 0);
}

static void test_in_memory(void **st)
{
	(void)st;
	uint8_t *ram = calloc(1, 2 << 20);
	struct guest_mem m;
	assert_int_equal(mem_init_buf(&m, ram, 2 << 20), 0);
	struct platform p = plat(255); /* the largest: 255 processor entries */
	uint64_t end = 0;
	assert_int_equal(mptable_build(&m, &p, LAYOUT_MP_FLOATING, 0xE8000, 0x8000, &end), 0);
	assert_int_equal(p.mp_floating, LAYOUT_MP_FLOATING);
	const uint8_t *f = ram + LAYOUT_MP_FLOATING;
	/* floating pointer: "_MP_", pointer, 1 paragraph, 1.4, checksum,
	 * feature bytes 0 (table present; virtual wire: no IMCR) */
	assert_memory_equal(f, "_MP_", 4);
	assert_int_equal(r32(f + 4), 0xE8000);
	assert_int_equal(f[8], 1);
	assert_int_equal(f[9], 4);
	assert_int_equal(sum(f, 16), 0);
	for (int i = 11; i < 16; i++)
		assert_int_equal(f[i], 0);
	/* in the EBDA's first KiB, where Linux and the spec look (4.1) */
	assert_true(LAYOUT_MP_FLOATING >= LAYOUT_EBDA && LAYOUT_MP_FLOATING + 16 <= LAYOUT_EBDA + 1024);
	const uint8_t *c = ram + 0xE8000;
	uint16_t len = r16(c + 4);
	assert_int_equal(end, 0xE8000 + len);
	assert_int_equal(sum(c, len), 0);
	assert_int_equal(r16(c + 34), 255 + 1 + 1 + 15 + 2);
	assert_int_equal(c[44 + 254 * 20 + 1], 254); /* the last processor: APIC ID 254 */
	/* misaligned floating pointer; too little room */
	assert_int_equal(mptable_build(&m, &p, LAYOUT_MP_FLOATING + 4, 0xE8000, 0x8000, NULL), -1);
	assert_int_equal(mptable_build(&m, &p, LAYOUT_MP_FLOATING, 0xE8000, 1000, NULL), -1);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isa_pins),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_in_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
