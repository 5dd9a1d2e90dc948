/* test_cpio.c - the newc writer (src/exec/cpio.c) against the format's
 * numbers: magic 070701, thirteen 8-digit hex fields (110-byte header),
 * name with NUL padded to 4, data padded to 4, the TRAILER!!! entry; and
 * the archive read back by a parser written here from the same spec
 * (Linux's Documentation/driver-api/early-userspace/buffer-format.rst). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/cpio.h"

static unsigned long field(const uint8_t *h, int i)
{
	char buf[9];
	memcpy(buf, h + 6 + 8 * i, 8);
	buf[8] = 0;
	char *end;
	unsigned long v = strtoul(buf, &end, 16);
	assert_true(end == buf + 8); /* eight hex digits, no more, no less */
	return v;
}

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_SIZE, F_MAJ, F_MIN, F_RMAJ, F_RMIN,
       F_NAMESIZE, F_CHECK };

struct entry {
	char name[256];
	unsigned long mode, size, uid, ino, nlink;
	const uint8_t *data;
};

/* Walk the archive; returns the number of entries before the trailer. */
static int parse(const struct cpio *c, struct entry *e, int max)
{
	size_t off = 0;
	int n = 0;
	for (;;) {
		assert_true(off + 110 <= c->len);
		const uint8_t *h = c->data + off;
		assert_memory_equal(h, "070701", 6);
		assert_int_equal(off % 4, 0);
		unsigned long ns = field(h, F_NAMESIZE), sz = field(h, F_SIZE);
		assert_int_equal(field(h, F_CHECK), 0);
		assert_int_equal(field(h, F_MTIME), 0);
		const char *name = (const char *)h + 110;
		assert_int_equal(name[ns - 1], 0);
		assert_int_equal(strlen(name), ns - 1);
		size_t data = (off + 110 + ns + 3) & ~(size_t)3;
		size_t next = (data + sz + 3) & ~(size_t)3;
		assert_true(next <= c->len);
		/* padding is zero bytes */
		for (size_t i = off + 110 + ns; i < data; i++)
			assert_int_equal(c->data[i], 0);
		for (size_t i = data + sz; i < next; i++)
			assert_int_equal(c->data[i], 0);
		if (strcmp(name, "TRAILER!!!") == 0) {
			assert_int_equal(sz, 0);
			assert_int_equal(next, c->len); /* nothing after the trailer */
			return n;
		}
		assert_true(n < max);
		snprintf(e[n].name, sizeof(e[n].name), "%s", name);
		e[n].mode = field(h, F_MODE);
		e[n].size = sz;
		e[n].uid = field(h, F_UID);
		e[n].ino = field(h, F_INO);
		e[n].nlink = field(h, F_NLINK);
		e[n].data = c->data + data;
		n++;
		off = next;
	}
}

static void test_header_bytes(void **state)
{
	(void)state;
	struct cpio c;
	cpio_init(&c);
	assert_int_equal(cpio_add(&c, "/init", S_IFREG | 0755, 0, 0, "abcde", 5), 0);
	/* Header by hand: ino 1, mode 0100755 = 0x81ED, nlink 1, size 5,
	 * namesize 5 ("init" + NUL). */
	const char *want = "070701" "00000001" "000081ED" "00000000" "00000000" "00000001"
			   "00000000" "00000005" "00000000" "00000000" "00000000" "00000000"
			   "00000005" "00000000";
	assert_int_equal(strlen(want), 110);
	assert_memory_equal(c.data, want, 110);
	/* 110 + 5 = 115, padded to 116; data 5 bytes padded to 8: 124 */
	assert_memory_equal(c.data + 110, "init\0\0", 6);
	assert_memory_equal(c.data + 116, "abcde\0\0\0", 8);
	assert_int_equal(c.len, 124);
	assert_int_equal(cpio_finish(&c), 0);
	/* trailer: 110 + 11 = 121 -> 124, no data */
	assert_int_equal(c.len, 124 + 124);
	assert_memory_equal(c.data + 124 + 110, "TRAILER!!!", 11);
	cpio_free(&c);
}

static void test_tree(void **state)
{
	(void)state;
	struct cpio c;
	cpio_init(&c);
	assert_int_equal(cpio_add_dir(&c, "tmp", 01777), 0);
	assert_int_equal(cpio_add_dir(&c, "/tmp", 0755), 0); /* once only */
	assert_int_equal(cpio_add_parents(&c, "/usr/lib/x86_64/libc.so.6"), 0);
	assert_int_equal(cpio_add(&c, "/usr/lib/x86_64/libc.so.6", S_IFREG | 0644, 0, 0, "x", 1),
			 0);
	assert_int_equal(cpio_add_parents(&c, "/usr/lib/other"), 0); /* usr, usr/lib known */
	assert_int_equal(cpio_add(&c, "lnk", S_IFLNK | 0777, 0, 0, "usr", 3), 0);
	assert_int_equal(cpio_add(&c, "empty", S_IFREG | 0600, 1000, 1000, NULL, 0), 0);
	assert_int_equal(cpio_finish(&c), 0);
	struct entry e[16];
	int n = parse(&c, e, 16);
	assert_int_equal(n, 7);
	const char *names[] = { "tmp", "usr", "usr/lib", "usr/lib/x86_64",
				"usr/lib/x86_64/libc.so.6", "lnk", "empty" };
	for (int i = 0; i < n; i++) {
		assert_string_equal(e[i].name, names[i]);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(e[i].ino, e[j].ino);
	}
	assert_int_equal(e[0].mode, S_IFDIR | 01777);
	assert_int_equal(e[0].nlink, 2);
	assert_int_equal(e[1].mode, S_IFDIR | 0755);
	assert_int_equal(e[4].size, 1);
	assert_memory_equal(e[4].data, "x", 1);
	assert_int_equal(e[5].mode, S_IFLNK | 0777);
	assert_memory_equal(e[5].data, "usr", 3);
	assert_int_equal(e[6].uid, 1000);
	assert_int_equal(e[6].size, 0);
	cpio_free(&c);
}

static void test_bad_names(void **state)
{
	(void)state;
	struct cpio c;
	cpio_init(&c);
	assert_int_equal(cpio_add(&c, "", S_IFREG, 0, 0, NULL, 0), -1);
	assert_int_equal(cpio_add(&c, "///", S_IFREG, 0, 0, NULL, 0), -1);
	char *longname = malloc(5000);
	memset(longname, 'a', 4999);
	longname[4999] = 0;
	assert_int_equal(cpio_add(&c, longname, S_IFREG, 0, 0, NULL, 0), -1);
	assert_int_equal(cpio_add_parents(&c, longname), -1);
	free(longname);
	assert_int_equal(c.len, 0);
	cpio_free(&c);
}

/* A large file keeps its bytes (the buffer grows past its first 64 KiB). */
static void test_large(void **state)
{
	(void)state;
	size_t n = 300001;
	uint8_t *buf = malloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7);
	struct cpio c;
	cpio_init(&c);
	assert_int_equal(cpio_add(&c, "big", S_IFREG | 0644, 0, 0, buf, n), 0);
	assert_int_equal(cpio_finish(&c), 0);
	struct entry e[2];
	assert_int_equal(parse(&c, e, 2), 1);
	assert_int_equal(e[0].size, n);
	assert_memory_equal(e[0].data, buf, n);
	cpio_free(&c);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
