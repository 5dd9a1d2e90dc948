/* test_zeropage.c - the zero page against the numbers of boot.rst and
 * zero-page.rst: offsets read as raw bytes (not through our struct), the
 * E820 conversion of nobios's map, command line, ramdisk fields (with their
 * ext_ halves), the setup header copied from the file and nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/zeropage.h"
#include "bz_fake.h"
#include "mem/layout.h"
#include "util/err.h"

static struct e820_map map_for(uint64_t ram)
{
	struct guest_mem g;
	memset(&g, 0, sizeof(g));
	g.size = ram;
	g.low_size = ram < LAYOUT_MMIO_HOLE ? ram : LAYOUT_MMIO_HOLE;
	g.high_size = ram - g.low_size;
	struct e820_map m;
	e820_build(&m, &g);
	return m;
}

static void check_e820(const uint8_t *zp, unsigned i, uint64_t addr, uint64_t size,
		       uint32_t type)
{
	size_t o = 0x2D0 + 20 * i;
	assert_int_equal(bz_r64(zp, o), addr);
	assert_int_equal(bz_r64(zp, o + 8), size);
	assert_int_equal(bz_r32(zp, o + 16), type);
}

static void test_fields_256m(void **state)
{
	struct bz_fake_opts o = bz_fake_defaults();
	size_t n;
	uint8_t *img = bz_fake_build(&o, &n);
	struct e820_map map = map_for(256u << 20);
	struct zeropage_args a = {
		.cmd_line_ptr = 0x20000,
		.ramdisk_image = 0xFE00000,
		.ramdisk_size = 0x123456,
		.acpi_rsdp_addr = 0xE0000,
	};
	static struct boot_params bp;
	assert_int_equal(zeropage_fill(&bp, "k", img, n, &map, &a), 0);
	const uint8_t *zp = (const uint8_t *)&bp;

	/* setup header copied: bytes 0x1F1 .. 0x202 + byte at 0x201 */
	assert_int_equal(bz_r16(zp, 0x1FE), 0xAA55);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(bz_r16(zp, 0x206), 0x020F);
	assert_int_equal(zp[0x1F1], 2);
	assert_int_equal(bz_r32(zp, 0x230), 0x200000);  /* kernel_alignment */
	assert_int_equal(bz_r16(zp, 0x236), 0x3);       /* xloadflags */
	assert_int_equal(bz_r32(zp, 0x238), 0x7FF);     /* cmdline_size */
	assert_int_equal(bz_r64(zp, 0x258), 0x1000000); /* pref_address */
	assert_int_equal(bz_r32(zp, 0x260), 0x200000);  /* init_size */
	/* fresh page: the file's boot-sector junk is not there */
	for (size_t i = 0; i < 0x1E8; i++)
		if ((i < 0x0C0 || i >= 0x0CC) && (i < 0x070 || i >= 0x078)) /* ours */
			assert_int_equal(zp[i], 0);
	assert_int_equal(bz_r64(zp, 0x070), 0xE0000);   /* acpi_rsdp_addr (2.14+) */
	for (size_t i = 0x26C; i < 0x2D0; i++)
		assert_int_equal(zp[i], 0);

	/* the loader's fields */
	assert_int_equal(zp[0x210], 0xFF);               /* type_of_loader */
	assert_int_equal(zp[0x211] & 0x81, 0x81);        /* LOADED_HIGH|CAN_USE_HEAP */
	assert_int_equal(bz_r16(zp, 0x224), 0xFE00 - 0x200); /* heap_end_ptr */
	assert_int_equal(bz_r32(zp, 0x228), 0x20000);    /* cmd_line_ptr */
	assert_int_equal(bz_r32(zp, 0x0C8), 0);          /* ext_cmd_line_ptr */
	assert_int_equal(bz_r32(zp, 0x218), 0xFE00000);  /* ramdisk_image */
	assert_int_equal(bz_r32(zp, 0x21C), 0x123456);   /* ramdisk_size */
	assert_int_equal(bz_r32(zp, 0x0C0), 0);
	assert_int_equal(bz_r32(zp, 0x0C4), 0);
	assert_int_equal(bz_r32(zp, 0x214), 0x100000);   /* code32_start kept */
	assert_int_equal(bz_r64(zp, 0x250), 0);          /* setup_data */

	/* E820 for 256 MiB, as the brief states it */
	assert_int_equal(zp[0x1E8], 4);
	check_e820(zp, 0, 0, 0x9FC00, 1);
	check_e820(zp, 1, 0x9FC00, 0x400, 2);
	check_e820(zp, 2, 0xE0000, 0x20000, 2); /* ACPI/MP tables, pseudo-BIOS */
	check_e820(zp, 3, 0x100000, 0x10000000 - 0x100000, 1);
	for (size_t i = 0x2D0 + 4 * 20; i < 4096; i++)
		assert_int_equal(zp[i], 0);
	free(img);
}

static void test_high_fields_and_big_ram(void **state)
{
	struct bz_fake_opts o = bz_fake_defaults();
	size_t n;
	uint8_t *img = bz_fake_build(&o, &n);
	struct e820_map map = map_for(5ull << 30); /* 3 GiB low + 2 GiB at 4 GiB */
	struct zeropage_args a = {
		.cmd_line_ptr = 0x123456789ull,
		.ramdisk_image = 0x180001000ull,
		.ramdisk_size = 0x100000002ull,
		.code32_start = 0x2000000,
	};
	static struct boot_params bp;
	assert_int_equal(zeropage_fill(&bp, "k", img, n, &map, &a), 0);
	const uint8_t *zp = (const uint8_t *)&bp;
	assert_int_equal(bz_r32(zp, 0x228), 0x23456789);
	assert_int_equal(bz_r32(zp, 0x0C8), 0x1);
	assert_int_equal(bz_r32(zp, 0x218), 0x80001000);
	assert_int_equal(bz_r32(zp, 0x0C0), 0x1);
	assert_int_equal(bz_r32(zp, 0x21C), 0x2);
	assert_int_equal(bz_r32(zp, 0x0C4), 0x1);
	assert_int_equal(bz_r32(zp, 0x214), 0x2000000);
	assert_int_equal(zp[0x1E8], 5);
	check_e820(zp, 3, 0x100000, 0xC0000000ull - 0x100000, 1);
	check_e820(zp, 4, 0x100000000ull, 2ull << 30, 1);
	free(img);
}

static void test_header_length(void **state)
{
	struct bz_fake_opts o = bz_fake_defaults();
	size_t n, len;
	uint8_t *img = bz_fake_build(&o, &n);
	assert_int_equal(zeropage_header_len("k", img, n, &len), 0);
	assert_int_equal(len, 0x26C - 0x1F1);
	/* an older, shorter header: only its bytes are copied */
	img[0x201] = 0x36; /* ends at 0x238: no cmdline_size and beyond */
	assert_int_equal(zeropage_header_len("k", img, n, &len), 0);
	assert_int_equal(len, 0x238 - 0x1F1);
	struct e820_map map = map_for(64u << 20);
	struct zeropage_args a = { .cmd_line_ptr = 0x20000 };
	static struct boot_params bp;
	assert_int_equal(zeropage_fill(&bp, "k", img, n, &map, &a), 0);
	const uint8_t *zp = (const uint8_t *)&bp;
	assert_int_equal(bz_r32(zp, 0x238), 0); /* cmdline_size not copied */
	assert_int_equal(bz_r64(zp, 0x258), 0); /* pref_address not copied */
	assert_int_equal(bz_r32(zp, 0x230), 0x200000);
	/* a header claiming more than we know: clamped to struct setup_header */
	img[0x201] = 0xFF;
	assert_int_equal(zeropage_header_len("k", img, n, &len), 0);
	assert_int_equal(len, sizeof(struct setup_header));
	/* truncated: the file ends inside the header */
	nb_err_clear();
	assert_int_equal(zeropage_header_len("short.img", img, 0x250, &len), -1);
	assert_non_null(strstr(nb_errmsg(), "short.img"));
	assert_non_null(strstr(nb_errmsg(), "truncated"));
	assert_int_equal(zeropage_header_len("tiny.img", img, 0x100, &len), -1);
	assert_int_equal(zeropage_fill(&bp, "tiny.img", img, 0x100, &map, &a), -1);
	free(img);
}

static void test_build_into_guest(void **state)
{
	struct bz_fake_opts o = bz_fake_defaults();
	size_t n;
	uint8_t *img = bz_fake_build(&o, &n);
	size_t ram = 1u << 20;
	uint8_t *buf = malloc(ram);
	memset(buf, 0xCC, ram); /* stale data the fresh page must overwrite */
	struct guest_mem m;
	assert_int_equal(mem_init_buf(&m, buf, ram), 0);
	struct e820_map map = map_for(ram);
	struct zeropage_args a = { .cmd_line_ptr = 0x20000 };
	assert_int_equal(zeropage_build(&m, LAYOUT_ZERO_PAGE, "k", img, n, &map, &a), 0);
	const uint8_t *zp = buf + LAYOUT_ZERO_PAGE;
	assert_int_equal(zp[0], 0);
	assert_int_equal(zp[0x1EF], 0); /* sentinel clear, or Linux wipes fields */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x1E8], 3); /* 1 MiB: conventional, EBDA, BIOS */
	assert_int_equal(zp[4095], 0);
	assert_int_equal(buf[LAYOUT_ZERO_PAGE + 4096], 0xCC); /* exactly one page */
	/* no room: error, not a write outside RAM */
	assert_int_equal(zeropage_build(&m, ram - 100, "k", img, n, &map, &a), -1);
	free(buf);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_256m),
		cmocka_unit_test(test_high_fields_and_big_ram),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_build_into_guest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
