/* test_boot_file.c - src/boot/boot.c's input files: read (never mapped), so
 * a file that shrinks or grows between being opened and being read is an
 * error naming it; only the head of a large disk image is read, never of a
 * kernel; reading beyond the head; an initrd straight into guest memory.
 * Real files in a temporary directory; no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "boot/boot.h"
#include "util/err.h"

static char dir[64];

static int setup(void **st)
{
	snprintf(dir, sizeof(dir), "/tmp/nobios-test-bootfile-XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)st;
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	(void)st;
	return 0;
}

/* A file of `size` bytes: byte i is i & 0xFF, then `hdr` bytes at 0 (if any). */
static const char *make_file(const char *name, uint64_t size, const void *hdr, size_t hlen,
			     bool sparse)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	if (sparse) {
		assert_int_equal(ftruncate(fd, (off_t)size), 0);
	} else {
		uint8_t buf[4096];
		for (uint64_t off = 0; off < size; off += sizeof(buf)) {
			size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)(off + i);
			assert_int_equal(write(fd, buf, n), (ssize_t)n);
		}
	}
	if (hlen)
		assert_int_equal(pwrite(fd, hdr, hlen, 0), (ssize_t)hlen);
	close(fd);
	return path;
}

static void test_whole_file(void **st)
{
	const char *p = make_file("k", 3 * 1024 * 1024 + 5, NULL, 0, false);
	struct boot_file f;
	assert_int_equal(boot_file_open(&f, p, 0), 0);
	assert_int_equal(f.size, 3 * 1024 * 1024 + 5);
	assert_int_equal(boot_file_size(&f), f.size);
	assert_int_equal(f.data[3 * 1024 * 1024 + 4], (uint8_t)(3 * 1024 * 1024 + 4));
	boot_file_close(&f);
	boot_file_close(&f); /* twice is harmless */
	assert_int_equal(boot_file_open(&f, p, 1024), -1);
	assert_non_null(strstr(nb_errmsg(), "more than the 0 MiB of guest RAM"));
	assert_int_equal(boot_file_open(&f, dir, 0), -1);
	assert_non_null(strstr(nb_errmsg(), "is a directory"));
	(void)st;
}

/* Shrinks after it was opened: the read ends early; grows: the size at
 * the end is not the size at the start.  Either way one line, no SIGBUS. */
static void test_changed_size(void **st)
{
	const char *p = make_file("initrd", 2 * 1024 * 1024, NULL, 0, false);
	static uint8_t ram[8 << 20];
	struct guest_mem m;
	assert_int_equal(mem_init_buf(&m, ram, sizeof(ram)), 0);
	struct boot_file f;
	assert_int_equal(boot_file_open_head(&f, p, 0, 0), 0);
	assert_int_equal(f.size, 0);
	assert_int_equal(boot_file_size(&f), 2 * 1024 * 1024);
	assert_int_equal(truncate(p, 1024 * 1024), 0);
	assert_int_equal(boot_file_to_guest(&f, &m, 4 << 20), -1);
	assert_non_null(strstr(nb_errmsg(), "changed size while being read"));
	assert_non_null(strstr(nb_errmsg(), p));
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	boot_file_close(&f);

	p = make_file("initrd", 1024 * 1024, NULL, 0, false);
	assert_int_equal(boot_file_open_head(&f, p, 0, 0), 0);
	assert_int_equal(truncate(p, 1024 * 1024 + 4096), 0);
	assert_int_equal(boot_file_to_guest(&f, &m, 4 << 20), -1);
	assert_non_null(strstr(nb_errmsg(), "changed size while being read (1048576 bytes when "
					    "opened, 1052672 now)"));
	boot_file_close(&f);

	/* unchanged: straight into guest memory */
	assert_int_equal(boot_file_open_head(&f, p, 0, 0), 0);
	assert_int_equal(boot_file_to_guest(&f, &m, 4 << 20), 0);
	assert_int_equal(ram[(4 << 20) + 1000], (uint8_t)1000);
	assert_int_equal(boot_file_to_guest(&f, &m, (8 << 20) - 4096), -1); /* not all RAM */
	boot_file_close(&f);
	(void)st;
}

/* A 64 GiB sparse disk image: detection reads its first MiB only. */
static void test_disk_head(void **st)
{
	uint8_t mbr[512] = { 0 };
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
	const char *p = make_file("disk", 64ull << 30, mbr, sizeof(mbr), true);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	struct boot_file f;
	assert_int_equal(boot_file_open_image(&f, p), 0);
	assert_int_equal(f.size, BOOT_DISK_HEAD);
	assert_int_equal(boot_file_size(&f), 64ull << 30);
	uint8_t b[16];
	assert_int_equal(boot_file_pread(&f, (64ull << 30) - 16, b, 16), 0); /* beyond the head */
	assert_int_equal(boot_file_pread(&f, (64ull << 30) - 15, b, 16), -1);
	getrusage(RUSAGE_SELF, &r1);
	assert_true(r1.ru_maxrss - r0.ru_maxrss < 8192); /* KiB */
	/* a format that needs the whole file would read it: not this one */
	boot_file_close(&f);

	/* a bzImage carries 55 AA at 510 too, and "HdrS": read whole */
	uint8_t bz[0x210] = { 0 };
	bz[510] = 0x55;
	bz[511] = 0xAA;
	memcpy(bz + 0x202, "HdrS", 4);
	p = make_file("bz", 3 * 1024 * 1024, bz, sizeof(bz), false);
	assert_int_equal(boot_file_open_image(&f, p), 0);
	assert_int_equal(f.size, 3 * 1024 * 1024);
	boot_file_close(&f);
	/* so is a multiboot kernel with a boot sector (the magic in 8 KiB) */
	uint8_t mb[4096] = { 0 };
	mb[510] = 0x55;
	mb[511] = 0xAA;
	memcpy(mb + 4096 - 12, "\x02\xb0\xad\x1b", 4);
	p = make_file("mb", 3 * 1024 * 1024, mb, sizeof(mb), false);
	assert_int_equal(boot_file_open_image(&f, p), 0);
	assert_int_equal(f.size, 3 * 1024 * 1024);
	/* and a head read completes to the whole file on demand */
	boot_file_close(&f);
	assert_int_equal(boot_file_open_head(&f, p, 0, 4096), 0);
	assert_int_equal(f.size, 4096);
	assert_int_equal(boot_file_read_all(&f), 0);
	assert_int_equal(f.size, 3 * 1024 * 1024);
	assert_int_equal(f.data[3 * 1024 * 1024 - 1], (uint8_t)(3 * 1024 * 1024 - 1));
	boot_file_close(&f);
	(void)st;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_head, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
