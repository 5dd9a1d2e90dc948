/* test_inspect.c - `nobios inspect` (boot_inspect_file) on hostile files,
 * the regressions of issue 14:
 *   - item 6: a 0x207-byte file with "HdrS" at 0x202 made file_kind read
 *     byte 0x207; the bytes here end at a PROT_NONE page, so the over-read
 *     faults in every build;
 *   - item 5: crafted note and symbol-table files cost headers x entries
 *     per walk, and inspect walked twenty times (13 s for 4.7 MB); here a
 *     4 MiB file of each must be inspected in well under a second of CPU
 *     (milliseconds after the fix, minutes before);
 *   - item 7: an OSv image's command line is printed escaped, so that
 *     terminal control sequences in it reach the terminal as text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "crafted.h"
#include "direct_fake.h"

/* Inspect data[0..len) (placed against a guard page); the output, malloc'ed. */
static char *inspect_buf(const uint8_t *data, size_t len, int *rc)
{
	struct guarded g = guarded_copy(data, len);
	assert_non_null(g.data);
	struct boot_file f = { .path = "crafted", .data = g.data, .size = len };
	char *out = NULL;
	size_t outlen = 0;
	FILE *o = open_memstream(&out, &outlen);
	assert_non_null(o);
	nb_err_clear();
	*rc = boot_inspect_file(&f, NULL, o);
	fclose(o);
	guarded_free(&g);
	return out;
}

static void test_kind_bzimage_header_at_the_end(void **state)
{
	(void)state;
	uint8_t b[0x208];
	memset(b, 0, sizeof(b));
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0F;
	b[0x207] = 0x02;
	int rc;
	/* 0x207 bytes: the version's high byte is missing; no read past it */
	char *out = inspect_buf(b, 0x207, &rc);
	assert_non_null(strstr(out, "kind: data"));
	free(out);
	/* 0x208 bytes: the whole version is there */
	out = inspect_buf(b, 0x208, &rc);
	assert_non_null(strstr(out, "protocol 2.15"));
	free(out);
}

static void test_inspect_crafted_notes(void **state)
{
	(void)state;
	const size_t size = 4 << 20;
	uint8_t *b = crafted_notes_elf(size, 10000);
	assert_non_null(b);
	double t0 = cpu_seconds();
	int rc;
	char *out = inspect_buf(b, size, &rc);
	double t = cpu_seconds() - t0;
	/* before the fix: 20 lookups x 10000 headers x 340000 notes, minutes */
	printf("inspect of a 4 MiB crafted note file: %.3f s of CPU\n", t);
	assert_true(t < 1.0);
	assert_non_null(strstr(out, "format: pvh"));
	assert_non_null(strstr(out, "note Xen 18 PHYS32_ENTRY"));
	free(out);
	free(b);
}

static void test_inspect_crafted_symtab(void **state)
{
	(void)state;
	const size_t size = 4 << 20;
	uint8_t *b = crafted_symtab_elf(size, 30000);
	assert_non_null(b);
	double t0 = cpu_seconds();
	int rc;
	char *out = inspect_buf(b, size, &rc);
	double t = cpu_seconds() - t0;
	/* before the fix: 30000 tables x 94000 symbols per lookup, seconds */
	printf("inspect of a 4 MiB crafted symbol-table file: %.3f s of CPU\n", t);
	assert_true(t < 1.0);
	/* the elf64 probe looked for start64 and found none */
	assert_non_null(strstr(out, "without a 'start64' symbol"));
	free(out);
	free(b);
}

static void test_osv_cmdline_escaped(void **state)
{
	(void)state;
	static uint8_t code[0x1000];
	struct fake_seg s = { 0x200000, 0x200000, code, sizeof(code), sizeof(code) };
	struct fake_buf k = fake_elf(1, 0x200000, &s, 1, NULL, 0, "start64", 0x200000);
	struct fake_buf d = { 0 };
	/* OSC 0 (set the window title), a bell, clear screen, a quote */
	const char cl[] = "--verbose\x1b]0;pwned\x07\x1b[2J \"q\" \\ end";
	uint8_t sig[2] = { 0x55, 0xAA };
	fb_put(&d, 510, sig, 2);
	fb_put(&d, 512, cl, sizeof(cl));
	fb_put(&d, 128 * 512, k.p, k.n);
	int rc;
	char *out = inspect_buf(d.p, d.n, &rc);
	assert_int_equal(rc, 0);
	assert_null(strchr(out, 0x1b));
	assert_null(strchr(out, 0x07));
	assert_non_null(strstr(out, "\"--verbose\\x1b]0;pwned\\x07\\x1b[2J \\\"q\\\" \\\\ end\""));
	free(out);
	free(d.p);
	free(k.p);
}

/* A GRUB 2 disk as grub-mkimage and grub-bios-setup make it: a boot sector
 * (55 AA), and in core.img behind it a Multiboot 1 header with the a.out
 * kludge (GRUB's own kernel).  64 KiB, as the head of an image. */
static uint8_t *grub_like_disk(size_t *len)
{
	*len = 64 << 10;
	uint8_t *d = calloc(1, *len);
	assert_non_null(d);
	d[510] = 0x55;
	d[511] = 0xAA;
	/* Multiboot 1 header at 0xb5c (where GRUB 2.06 puts it): magic,
	 * flags AOUT_KLUDGE, checksum, then header/load/end/bss/entry */
	uint32_t h[8] = { 0x1BADB002, 0x00010000, 0, 0x100b5c, 0x100000, 0, 0, 0x100100 };
	h[2] = (uint32_t)-(h[0] + h[1]);
	memcpy(d + 0xb5c, h, sizeof(h));
	return d;
}

/* Issue 13 item 1: the flag that names a file decides what it is. */
static void test_detect_disk_role_ignores_kernel_headers(void **state)
{
	(void)state;
	size_t len;
	uint8_t *d = grub_like_disk(&len);
	struct boot_file f = { .path = "grub.img", .data = d, .size = len };
	char why[2048];
	const struct boot_format *k = boot_detect_as(&f, BOOT_ROLE_KERNEL, why, sizeof(why));
	assert_non_null(k);
	assert_string_equal(k->name, "multiboot"); /* as KERNEL: QEMU's -kernel rule */
	const struct boot_format *disk = boot_detect_as(&f, BOOT_ROLE_DISK, why, sizeof(why));
	assert_non_null(disk);
	assert_string_equal(disk->name, "bios");
	/* the disk role never even asked the kernel formats */
	assert_null(strstr(why, "multiboot"));
	assert_non_null(strstr(why, "osv"));
	free(d);
}

static void test_detect_disk_role_rejects_a_kernel(void **state)
{
	(void)state;
	/* an ELF's first bytes and no boot signature: not a disk, whatever
	 * it is as KERNEL */
	static uint8_t k[0x1000] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	struct boot_file f = { .path = "k.elf", .data = k, .size = sizeof(k) };
	char why[2048];
	assert_null(boot_detect_as(&f, BOOT_ROLE_DISK, why, sizeof(why)));
	assert_non_null(strstr(why, "no boot signature"));
}

static void test_inspect_shows_the_conflict(void **state)
{
	(void)state;
	size_t len;
	uint8_t *d = grub_like_disk(&len);
	int rc;
	char *out = inspect_buf(d, len, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "conflict: 2 formats match (multiboot, bios)"));
	assert_non_null(strstr(out, "as KERNEL: multiboot"));
	assert_non_null(strstr(out, "with --disk/--floppy: bios"));
	free(out);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_bzimage_header_at_the_end),
		cmocka_unit_test(test_inspect_crafted_notes),
		cmocka_unit_test(test_inspect_crafted_symtab),
		cmocka_unit_test(test_osv_cmdline_escaped),
		cmocka_unit_test(test_detect_disk_role_ignores_kernel_headers),
		cmocka_unit_test(test_detect_disk_role_rejects_a_kernel),
		cmocka_unit_test(test_inspect_shows_the_conflict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
