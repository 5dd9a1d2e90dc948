/* test_mem.c - guest memory bounds checks, the RAM split around the 32-bit
 * hole, and the E820 builder against nobios's documented map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mem/layout.h"
#include "mem/mem.h"

static void test_bounds(void **st)
{
	(void)st;
	static uint8_t buf[1 << 20];
	struct guest_mem m;
	assert_int_equal(mem_init_buf(&m, buf, sizeof(buf)), 0);
	assert_int_equal(m.low_size, sizeof(buf));
	assert_int_equal(m.high_size, 0);
	assert_non_null(mem_ptr(&m, 0, 1));
	assert_ptr_equal(mem_ptr(&m, 0x1234, 4), buf + 0x1234);
	assert_non_null(mem_ptr(&m, sizeof(buf) - 8, 8));
	assert_null(mem_ptr(&m, sizeof(buf) - 8, 9));      /* runs off the end */
	assert_null(mem_ptr(&m, sizeof(buf), 1));          /* just past */
	assert_null(mem_ptr(&m, UINT64_MAX - 2, 8));       /* wraps */
	assert_null(mem_ptr(&m, 0x100, UINT64_MAX));       /* absurd length */
	assert_null(mem_ptr(&m, LAYOUT_MMIO_HOLE_END, 1)); /* no high RAM */

	uint32_t v = 0xdeadbeef, r = 0;
	assert_int_equal(mem_write32(&m, 0x100, v), 0);
	assert_int_equal(mem_read32(&m, 0x100, &r), 0);
	assert_int_equal(r, 0xdeadbeef);
	assert_int_equal(mem_write32(&m, sizeof(buf) - 2, v), -1);
	assert_int_equal(mem_copy_in(&m, sizeof(buf) - 1, "ab", 2), -1);
	assert_int_equal(mem_zero(&m, sizeof(buf), 1), -1);

	/* strings: terminated, unterminated within max, running off RAM */
	memcpy(buf + 0x200, "hello", 6);
	char s[16];
	assert_int_equal(mem_read_str(&m, 0x200, s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(mem_read_str(&m, 0x200, s, 3), -1);
	memset(buf + sizeof(buf) - 4, 'x', 4);
	assert_int_equal(mem_read_str(&m, sizeof(buf) - 4, s, sizeof(s)), -1);
}

static void test_split_above_3g(void **st)
{
	(void)st;
	struct guest_mem m;
	/* 5 GiB: 3 GiB low, 2 GiB above 4 GiB; NORESERVE mapping costs nothing */
	assert_int_equal(mem_init(&m, 5ULL << 30), 0);
	assert_int_equal(m.low_size, 3ULL << 30);
	assert_int_equal(m.high_size, 2ULL << 30);
	assert_non_null(mem_ptr(&m, (3ULL << 30) - 4096, 4096));
	assert_null(mem_ptr(&m, (3ULL << 30) - 4096, 4097)); /* into the hole */
	assert_null(mem_ptr(&m, LAYOUT_MMIO_HOLE, 1));
	assert_null(mem_ptr(&m, LAYOUT_IOAPIC, 4));
	uint8_t *hi = mem_ptr(&m, LAYOUT_MMIO_HOLE_END, 1);
	assert_ptr_equal(hi, m.host + m.low_size); /* high RAM follows low in host memory */
	assert_non_null(mem_ptr(&m, LAYOUT_MMIO_HOLE_END + (2ULL << 30) - 1, 1));
	assert_null(mem_ptr(&m, LAYOUT_MMIO_HOLE_END + (2ULL << 30), 1));
	assert_int_equal(mem_avail(&m, LAYOUT_MMIO_HOLE_END + 10), (2ULL << 30) - 10);

	struct e820_map e;
	e820_build(&e, &m);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.e[3].addr, 0x100000);
	assert_int_equal(e.e[3].size, (3ULL << 30) - 0x100000);
	assert_int_equal(e.e[4].addr, 0x100000000ULL);
	assert_int_equal(e.e[4].size, 2ULL << 30);
	assert_int_equal(e.e[4].type, E820_TYPE_RAM);
	mem_free(&m);
}

/* Guest RAM starts 2 MiB-aligned in the host (so KVM can map it with huge
 * pages), whatever its size, and every byte of it is there. */
static void test_init_huge_aligned(void **st)
{
	(void)st;
	static const uint64_t sizes[] = { 64ULL << 20, (64ULL << 20) + 4096, 5ULL << 30 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct guest_mem m;
		assert_int_equal(mem_init(&m, sizes[i]), 0);
		assert_int_equal((uintptr_t)m.host % (2u << 20), 0);
		m.host[0] = 1;
		m.host[sizes[i] - 1] = 2;
		assert_int_equal(m.host[0] + m.host[sizes[i] - 1], 3);
		mem_free(&m);
	}
}

static void test_init_rejects(void **st)
{
	(void)st;
	struct guest_mem m;
	assert_int_equal(mem_init(&m, 1 << 20), -1);          /* below LAYOUT_MIN_RAM */
	assert_int_equal(mem_init(&m, (64 << 20) + 5), -1);   /* not page-granular */
}

static void test_e820_256m(void **st)
{
	(void)st;
	static uint8_t buf[1]; /* only sizes matter to the builder */
	struct guest_mem m = { .host = buf, .size = 256 << 20, .low_size = 256 << 20 };
	struct e820_map e;
	e820_build(&e, &m);
	assert_int_equal(e.n, 4);
	const struct e820_entry want[] = {
		{ 0, 0x9FC00, E820_TYPE_RAM },
		{ 0x9FC00, 0x400, E820_TYPE_RESERVED },
		{ 0xE0000, 0x20000, E820_TYPE_RESERVED }, /* ACPI/MP tables, pseudo-BIOS */
		{ 0x100000, (256 << 20) - 0x100000, E820_TYPE_RAM },
	};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(e.e[i].addr, want[i].addr);
		assert_int_equal(e.e[i].size, want[i].size);
		assert_int_equal(e.e[i].type, want[i].type);
	}
	assert_string_equal(e820_type_name(E820_TYPE_RESERVED), "reserved");
}

static void test_e820_full(void **st)
{
	(void)st;
	struct e820_map e = { .n = 0 };
	for (int i = 0; i < E820_MAX_ENTRIES; i++)
		assert_int_equal(e820_add(&e, i * 0x1000ULL, 0x1000, E820_TYPE_RAM), 0);
	assert_int_equal(e820_add(&e, 0, 0x1000, E820_TYPE_RAM), -1);
	assert_int_equal(e820_add(&e, 0, 0, E820_TYPE_RAM), 0); /* empty ranges are dropped */
	assert_int_equal(e.n, E820_MAX_ENTRIES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_split_above_3g),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_init_huge_aligned),
		cmocka_unit_test(test_e820_256m),
		cmocka_unit_test(test_e820_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
