/* test_aml.c - the AML encoder (src/boot/aml.c) against the byte encodings
 * of ACPI 6.x chapter 20: PkgLength in all four sizes at their boundaries
 * (20.2.4), integer prefixes, NameStrings (root, dual and multi name
 * prefixes, padding), strings, EISA IDs, packages, buffers, devices, the
 * resource descriptors of 6.4, and errors reported instead of bad AML. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "boot/aml.h"
#include "util/err.h"

static uint8_t buf[2 << 20];

#define EXPECT(a, ...)                                                      \
	do {                                                                \
		static const uint8_t want_[] = { __VA_ARGS__ };             \
		size_t len_ = 0;                                            \
		assert_int_equal(aml_finish(a, &len_), 0);                  \
		assert_int_equal(len_, sizeof(want_));                      \
		assert_memory_equal(buf, want_, sizeof(want_));             \
	} while (0)

static void test_integers(void **st)
{
	(void)st;
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xFF);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0xFFFF);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0xFFFFFFFF);
	aml_integer(&a, 0x100000000ULL);
	EXPECT(&a, 0x00, 0x01, 0x0A, 0x02, 0x0A, 0xFF, 0x0B, 0x00, 0x01, 0x0B, 0xFF, 0xFF, 0x0C,
	       0x00, 0x00, 0x01, 0x00, 0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E, 0x00, 0x00, 0x00, 0x00,
	       0x01, 0x00, 0x00, 0x00);
}

static void test_names(void **st)
{
	(void)st;
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "_HID");         /* one NameSeg */
	aml_namestring(&a, "\\_SB");        /* root, padded with '_' */
	aml_namestring(&a, "\\_SB_.VR00");  /* DualNamePrefix */
	aml_namestring(&a, "A.B.C");        /* MultiNamePrefix, count 3 */
	aml_namestring(&a, "^^X1");         /* parent prefixes */
	EXPECT(&a, '_', 'H', 'I', 'D', 0x5C, '_', 'S', 'B', '_', 0x5C, 0x2E, '_', 'S', 'B', '_',
	       'V', 'R', '0', '0', 0x2F, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_',
	       '_', 0x5E, 0x5E, 'X', '1', '_', '_');
	/* a lead digit, lower case, five characters, an empty segment */
	const char *bad[] = { "1ABC", "abcd", "ABCDE", "A..B", "A." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_namestring(&a, bad[i]);
		size_t n;
		assert_int_equal(aml_finish(&a, &n), -1);
		assert_non_null(strstr(nb_errmsg(), "name"));
	}
}

static void test_strings_eisaid(void **st)
{
	(void)st;
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "LNRO0005");
	aml_eisaid(&a, "PNP0501"); /* ASL EISAID("PNP0501") = 0x0105D041 */
	aml_eisaid(&a, "PNP0B00");
	EXPECT(&a, 0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00, 0x0C, 0x41, 0xD0, 0x05,
	       0x01, 0x0C, 0x41, 0xD0, 0x0B, 0x00);
	const char *bad[] = { "PNP050", "pnp0501", "PNP05G1", "PNP05011" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_eisaid(&a, bad[i]);
		size_t n;
		assert_int_equal(aml_finish(&a, &n), -1);
	}
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "\xC3\xA9");
	size_t n;
	assert_int_equal(aml_finish(&a, &n), -1);
	assert_non_null(strstr(nb_errmsg(), "ASCII"));
}

/* A Package of k ZeroOps: content = NumElements + k, so PkgLength counts
 * k + 2 bytes once it is one byte long. */
static size_t package_of(unsigned k)
{
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, k > 255 ? 255 : k);
	for (unsigned i = 0; i < k; i++)
		aml_integer(&a, 0);
	aml_close(&a);
	size_t n = 0;
	assert_int_equal(aml_finish(&a, &n), 0);
	return n;
}

static void test_pkglength(void **st)
{
	(void)st;
	/* 61 elements: content 62, PkgLength 63 = 0x3F, the largest 1-byte */
	size_t n = package_of(61);
	assert_int_equal(n, 1 + 1 + 62);
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(buf[1], 0x3F);
	assert_int_equal(buf[2], 61);
	/* 62: content 63, 63 + 1 = 64 no longer fits: 2 bytes, 65 = 0x41:
	 * lead 0x40 | (65 & 0xF) = 0x41, then 65 >> 4 = 0x04 */
	n = package_of(62);
	assert_int_equal(n, 1 + 2 + 63);
	assert_int_equal(buf[1], 0x41);
	assert_int_equal(buf[2], 0x04);
	assert_int_equal(buf[3], 62);
	/* the largest 2-byte PkgLength is 0xFFF: content 0xFFD */
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	static uint8_t filler[0x100000];
	aml_scope_open(&a, "X");
	aml_bytes(&a, filler, 0xFFD - 4); /* the NameString counts too */
	aml_close(&a);
	assert_int_equal(aml_finish(&a, &n), 0);
	assert_int_equal(buf[1], 0x4F);
	assert_int_equal(buf[2], 0xFF);
	assert_int_equal(n, 1 + 2 + 0xFFD);
	/* one more: 3 bytes, 0xFFE + 3 = 0x1001 -> 0x81 0x00 0x01 */
	aml_init(&a, buf, sizeof(buf));
	aml_scope_open(&a, "X");
	aml_bytes(&a, filler, 0xFFE - 4);
	aml_close(&a);
	assert_int_equal(aml_finish(&a, &n), 0);
	assert_int_equal(buf[1], 0x81);
	assert_int_equal(buf[2], 0x00);
	assert_int_equal(buf[3], 0x01);
	assert_int_equal(n, 1 + 3 + 0xFFE);
	/* content 0xFFFFC still fits 3 bytes (0xFFFFF); 0xFFFFD needs 4:
	 * 0x100001 -> 0xC1 0x00 0x00 0x01 */
	aml_init(&a, buf, sizeof(buf));
	aml_scope_open(&a, "X");
	aml_bytes(&a, filler, 0xFFFFC - 4);
	aml_close(&a);
	assert_int_equal(aml_finish(&a, &n), 0);
	assert_int_equal(buf[1], 0x8F); /* 2 bytes follow, low nibble 0xF */
	assert_int_equal(n, 1 + 3 + 0xFFFFC);
	aml_init(&a, buf, sizeof(buf));
	aml_scope_open(&a, "X");
	aml_bytes(&a, filler, 0xFFFFD - 4);
	aml_close(&a);
	assert_int_equal(aml_finish(&a, &n), 0);
	assert_int_equal(buf[1], 0xC1);
	assert_int_equal(buf[2], 0x00);
	assert_int_equal(buf[3], 0x00);
	assert_int_equal(buf[4], 0x01);
	assert_int_equal(n, 1 + 4 + 0xFFFFD);
}

static void test_objects(void **st)
{
	(void)st;
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	/* Name(\_S5, Package(4) {5, 0, 0, 0}) */
	aml_name(&a, "\\_S5");
	aml_package_open(&a, 4);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	/* Device(D0) { Name(_UID, 7) }, Buffer(3) {1, 2, 3} */
	aml_device_open(&a, "D0");
	aml_name(&a, "_UID");
	aml_integer(&a, 7);
	aml_close(&a);
	aml_buffer(&a, "\x01\x02\x03", 3);
	EXPECT(&a, 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0A, 0x05, 0x00, 0x00, 0x00,
	       0x5B, 0x82, 0x0C, 'D', '0', '_', '_', 0x08, '_', 'U', 'I', 'D', 0x0A, 0x07, 0x11,
	       0x06, 0x0A, 0x03, 0x01, 0x02, 0x03);
	/* unbalanced and overflowing use is an error, never bad AML */
	aml_init(&a, buf, sizeof(buf));
	aml_scope_open(&a, "X");
	size_t n;
	assert_int_equal(aml_finish(&a, &n), -1);
	assert_non_null(strstr(nb_errmsg(), "open"));
	aml_init(&a, buf, sizeof(buf));
	aml_close(&a);
	assert_int_equal(aml_finish(&a, &n), -1);
	aml_init(&a, buf, 8);
	aml_string(&a, "too long for 8 bytes");
	assert_int_equal(aml_finish(&a, &n), -1);
	assert_non_null(strstr(nb_errmsg(), "full"));
	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 256);
	assert_int_equal(aml_finish(&a, &n), -1);
}

static void test_resources(void **st)
{
	(void)st;
	uint8_t r[64];
	size_t n = acpi_res_memory32_fixed(r, sizeof(r), true, 0xD0000000, 0x200);
	/* 6.4.3.4: 86h, length 9, information bit 0 = read/write, base, length */
	static const uint8_t m32[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xD0,
				       0x00, 0x02, 0x00, 0x00 };
	assert_int_equal(n, sizeof(m32));
	assert_memory_equal(r, m32, n);
	/* 6.4.3.6: 89h, length 6, flags (consumer, edge), one interrupt */
	n = acpi_res_extended_irq(r, sizeof(r), ACPI_RES_IRQ_CONSUMER | ACPI_RES_IRQ_EDGE, 16);
	static const uint8_t xirq[] = { 0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00 };
	assert_int_equal(n, sizeof(xirq));
	assert_memory_equal(r, xirq, n);
	/* 6.4.2.5: 47h, decode16, min, max, alignment, length */
	n = acpi_res_io(r, sizeof(r), 0x3F8, 8);
	static const uint8_t io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08 };
	assert_int_equal(n, sizeof(io));
	assert_memory_equal(r, io, n);
	/* 6.4.2.1: 22h, IRQ mask */
	n = acpi_res_irq_noflags(r, sizeof(r), 12);
	static const uint8_t irq[] = { 0x22, 0x00, 0x10 };
	assert_int_equal(n, sizeof(irq));
	assert_memory_equal(r, irq, n);
	assert_int_equal(acpi_res_irq_noflags(r, sizeof(r), 16), 0);
	/* 6.4.2.9: 79h, checksum 0 */
	n = acpi_res_end(r, sizeof(r));
	assert_int_equal(n, 2);
	assert_int_equal(r[0], 0x79);
	assert_int_equal(r[1], 0x00);
	/* too small a buffer writes nothing */
	assert_int_equal(acpi_res_memory32_fixed(r, 11, true, 0, 0), 0);
	assert_int_equal(acpi_res_extended_irq(r, 8, 0, 0), 0);
	assert_int_equal(acpi_res_io(r, 7, 0, 0), 0);
	assert_int_equal(acpi_res_end(r, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_strings_eisaid),
		cmocka_unit_test(test_pkglength),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_resources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
