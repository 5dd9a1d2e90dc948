/* test_disk_image.c - src/block/disk_image.c: reads and writes at byte
 * offsets, range checks, read-only refusal, a file shrunk under the image,
 * injected host errors (ENOSPC, EIO, EINTR, short transfers, failed
 * fdatasync) and what closing reports about them, locks between openers,
 * the snapshot overlay (copy-on-write across chunk boundaries, write-zeroes,
 * its temporary directory, a 64 GiB sparse image), write-zeroes and discard.
 * Real files in a temporary directory; no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/disk_image.h"
#include <sys/uio.h>
#include "util/err.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/nobios-test-disk-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/img", f->dir);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* An image of `size` bytes where byte i is (i * 7 + i / 4096) & 0xFF. */
static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 4096);
}

static void make_image(const char *path, uint64_t size)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	for (uint64_t i = 0; i < size; i++)
		fputc(pattern(i), fp);
	assert_int_equal(fclose(fp), 0);
}

static void file_bytes(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool has(const char *s, const char *what)
{
	return strstr(s, what) != NULL;
}

/* ---- fake system calls for error injection */
static struct {
	int pwrite_calls, pwrite_fail_at, pwrite_errno;
	int pread_calls, pread_fail_at, pread_errno;
	int pread_eintr_once, pwrite_short_once;
	int sync_calls, sync_errno;
} fake;

static ssize_t fake_pread(int fd, void *buf, size_t len, off_t off)
{
	fake.pread_calls++;
	if (fake.pread_eintr_once) {
		fake.pread_eintr_once = 0;
		errno = EINTR;
		return -1;
	}
	if (fake.pread_fail_at && fake.pread_calls >= fake.pread_fail_at) {
		errno = fake.pread_errno;
		return -1;
	}
	return pread(fd, buf, len, off);
}

static ssize_t fake_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	fake.pwrite_calls++;
	if (fake.pwrite_fail_at && fake.pwrite_calls >= fake.pwrite_fail_at) {
		errno = fake.pwrite_errno;
		return -1;
	}
	if (fake.pwrite_short_once && len > 1) { /* the kernel may write less */
		fake.pwrite_short_once = 0;
		return pwrite(fd, buf, len / 2, off);
	}
	return pwrite(fd, buf, len, off);
}

static int fake_fdatasync(int fd)
{
	fake.sync_calls++;
	if (fake.sync_errno) {
		errno = fake.sync_errno;
		return -1;
	}
	return fdatasync(fd);
}

static const struct disk_io fake_io = {
	.pread = fake_pread,
	.pwrite = fake_pwrite,
	.fdatasync = fake_fdatasync,
	.fallocate = fallocate,
};

/* ---- tests */

static void test_read_write(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 64 * 1024);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	assert_int_equal(disk_image_size(&d), 64 * 1024);
	assert_false(disk_image_read_only(&d));
	uint8_t buf[3000], back[3000];
	assert_int_equal(disk_image_read(&d, 1000, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], pattern(1000 + i));
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(disk_image_write(&d, 5000, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_read(&d, 5000, back, sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	/* ranges: the last byte is in, one past it is not, nor a wrapping offset */
	assert_int_equal(disk_image_read(&d, 64 * 1024 - 1, back, 1), 0);
	assert_int_equal(disk_image_read(&d, 64 * 1024 - 1, back, 2), -EINVAL);
	assert_int_equal(disk_image_write(&d, UINT64_MAX - 10, buf, 100), -EINVAL);
	assert_true(has(disk_image_errmsg(&d), "beyond the image's 65536 bytes"));
	assert_int_equal(disk_image_read(&d, 64 * 1024, back, 0), 0);
	assert_int_equal(disk_image_close(&d), 0);
	/* the write reached the file; a second close does nothing */
	file_bytes(f->path, 5000, back, sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(disk_image_close(&d), 0);
}

/* preadv/pwritev: several buffers, one call; the same checks as the
 * plain paths; a file shrunk under it reports as they do. */
static void test_vectored(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 64 * 1024);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	uint8_t a[100], b[4096], c[1];
	struct iovec v[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	assert_int_equal(disk_image_readv(&d, 700, v, 3), 0);
	assert_int_equal(a[0], pattern(700));
	assert_int_equal(b[0], pattern(800));
	assert_int_equal(b[4095], pattern(800 + 4095));
	assert_int_equal(c[0], pattern(800 + 4096));
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	c[0] = 3;
	assert_int_equal(disk_image_writev(&d, 10000, v, 3), 0);
	uint8_t back[4197];
	file_bytes(f->path, 10000, back, sizeof(back));
	assert_int_equal(back[99], 1);
	assert_int_equal(back[100], 2);
	assert_int_equal(back[4196], 3);
	/* the whole range must be inside the image */
	assert_int_equal(disk_image_readv(&d, 64 * 1024 - 4000, v, 3), -EINVAL);
	assert_int_equal(disk_image_close(&d), 0);
	/* read-only: refused */
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_ONLY), 0);
	assert_int_equal(disk_image_writev(&d, 0, v, 3), -EROFS);
	/* shrunk: the plain path's message */
	assert_int_equal(truncate(f->path, 8192), 0);
	assert_int_equal(disk_image_readv(&d, 8000, v, 3), -ENXIO);
	assert_true(has(disk_image_errmsg(&d), "now ends at byte 8192"));
	assert_int_equal(disk_image_close(&d), 0);
	/* a memory image goes buffer by buffer (the failed read above may
	 * have filled the buffers in part) */
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	c[0] = 3;
	uint8_t mem[8192] = { 0 };
	disk_image_init_mem(&d, "m", mem, sizeof(mem), true);
	assert_int_equal(disk_image_writev(&d, 100, v, 3), 0);
	assert_int_equal(mem[100], 1);
	assert_int_equal(mem[200], 2);
	assert_int_equal(mem[100 + 4196], 3);
}

static void test_read_only(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 8192);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_ONLY), 0);
	assert_true(disk_image_read_only(&d));
	uint8_t buf[512] = { 1 };
	assert_int_equal(disk_image_write(&d, 0, buf, sizeof(buf)), -EROFS);
	assert_int_equal(disk_image_write_zeroes(&d, 0, 512), -EROFS);
	assert_int_equal(disk_image_discard(&d, 0, 512), -EROFS);
	assert_int_equal(disk_image_flush(&d), 0);
	/* a refused write is not a lost one */
	assert_int_equal(disk_image_close(&d), 0);
	file_bytes(f->path, 0, buf, 4);
	assert_int_equal(buf[1], pattern(1));
}

static void test_open_errors(void **st)
{
	struct fx *f = *st;
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_ONLY), -1);
	assert_true(has(nb_errmsg(), "cannot open"));
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	assert_int_equal(disk_image_open(&d, f->dir, DISK_READ_ONLY), -1);
	assert_true(has(nb_errmsg(), "directory"));
	close(open(f->path, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_ONLY), -1);
	assert_true(has(nb_errmsg(), "empty file"));
	assert_int_equal(disk_image_open(&d, "/dev/null", DISK_READ_ONLY), -1);
	assert_true(has(nb_errmsg(), "not a regular file"));
	/* a failed open leaves nothing to close */
	assert_int_equal(disk_image_close(&d), 0);
}

/* Another process truncates the image while it is in use: reads past the
 * new end fail with -ENXIO and say so; nothing faults. */
static void test_shrunk_file(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 256 * 1024);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	assert_int_equal(truncate(f->path, 8192), 0);
	uint8_t buf[512];
	assert_int_equal(disk_image_read(&d, 4096, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_read(&d, 100 * 512, buf, sizeof(buf)), -ENXIO);
	assert_int_equal(disk_image_error(&d), ENXIO);
	assert_true(has(disk_image_errmsg(&d), f->path));
	assert_true(has(disk_image_errmsg(&d), "now ends at byte 8192"));
	/* straddling the new end fails too, not half-filled */
	assert_int_equal(disk_image_read(&d, 8192 - 256, buf, sizeof(buf)), -ENXIO);
	/* reads are not writes: nothing was lost */
	assert_int_equal(disk_image_close(&d), 0);
}

static void test_write_error_reported_at_close(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 64 * 1024);
	memset(&fake, 0, sizeof(fake));
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	disk_image_set_io(&d, &fake_io);
	uint8_t buf[4096];
	memset(buf, 0x5A, sizeof(buf));
	fake.pwrite_fail_at = 3;
	fake.pwrite_errno = ENOSPC;
	assert_int_equal(disk_image_write(&d, 0, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_write(&d, 4096, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_write(&d, 8192, buf, sizeof(buf)), -ENOSPC);
	assert_true(has(disk_image_errmsg(&d), "No space left on device"));
	assert_true(has(disk_image_errmsg(&d), "offset 8192"));
	assert_int_equal(disk_image_write(&d, 12288, buf, sizeof(buf)), -ENOSPC);
	/* reads still work after a failed write */
	assert_int_equal(disk_image_read(&d, 0, buf, 16), 0);
	assert_int_equal(buf[0], 0x5A);
	fake.pwrite_fail_at = 0;
	assert_int_equal(disk_image_close(&d), -1);
	assert_true(has(nb_errmsg(), f->path));
	assert_true(has(nb_errmsg(), "2 writes failed"));
	assert_true(has(nb_errmsg(), "the first: write of 4096 bytes at offset 8192"));
	assert_true(has(nb_errmsg(), "No space left on device"));
	/* the close still synced what did get written */
	assert_int_equal(fake.sync_calls, 1);
}

static void test_sync_error(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 16384);
	memset(&fake, 0, sizeof(fake));
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	disk_image_set_io(&d, &fake_io);
	/* nothing written: nothing to sync, no system call */
	assert_int_equal(disk_image_flush(&d), 0);
	assert_int_equal(fake.sync_calls, 0);
	uint8_t buf[512] = { 7 };
	assert_int_equal(disk_image_write(&d, 512, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_flush(&d), 0);
	assert_int_equal(fake.sync_calls, 1);
	assert_int_equal(disk_image_flush(&d), 0); /* clean again */
	assert_int_equal(fake.sync_calls, 1);
	assert_int_equal(disk_image_write(&d, 1024, buf, sizeof(buf)), 0);
	fake.sync_errno = EIO;
	assert_int_equal(disk_image_flush(&d), -EIO);
	assert_true(has(disk_image_errmsg(&d), "fdatasync"));
	/* a later success does not make the lost write-back good */
	fake.sync_errno = 0;
	assert_int_equal(disk_image_close(&d), -1);
	assert_true(has(nb_errmsg(), "flushing the image to storage failed: Input/output error"));
	assert_true(has(nb_errmsg(), f->path));
}

static void test_io_retries(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 16384);
	memset(&fake, 0, sizeof(fake));
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	disk_image_set_io(&d, &fake_io);
	uint8_t buf[4096], back[4096];
	fake.pread_eintr_once = 1;
	assert_int_equal(disk_image_read(&d, 0, buf, sizeof(buf)), 0);
	assert_int_equal(buf[100], pattern(100));
	memset(buf, 0x33, sizeof(buf));
	fake.pwrite_short_once = 1;
	assert_int_equal(disk_image_write(&d, 4096, buf, sizeof(buf)), 0);
	assert_int_equal(fake.pwrite_calls, 2); /* the rest in a second call */
	file_bytes(f->path, 4096, back, sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	fake.pread_fail_at = fake.pread_calls + 1;
	fake.pread_errno = EIO;
	assert_int_equal(disk_image_read(&d, 0, buf, 512), -EIO);
	assert_true(has(disk_image_errmsg(&d), "Input/output error"));
	fake.pread_fail_at = 0;
	assert_int_equal(disk_image_close(&d), 0); /* a read error loses nothing */
}

static void test_locks(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 8192);
	struct disk_image a, b, c;
	assert_int_equal(disk_image_open(&a, f->path, DISK_READ_WRITE), 0);
	assert_true(a.locked);
	/* flock is per open file: a second open in this process conflicts as
	 * another process's would */
	assert_int_equal(disk_image_open(&b, f->path, DISK_READ_WRITE), -1);
	assert_true(has(nb_errmsg(), "in use by another process (locked)"));
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	assert_int_equal(disk_image_open(&b, f->path, DISK_READ_ONLY), -1);
	assert_true(has(nb_errmsg(), "in use by another process (locked)"));
	assert_int_equal(disk_image_open(&b, f->path, DISK_SNAPSHOT), -1);
	assert_int_equal(disk_image_close(&a), 0);
	/* readers share */
	assert_int_equal(disk_image_open(&a, f->path, DISK_READ_ONLY), 0);
	assert_int_equal(disk_image_open(&b, f->path, DISK_SNAPSHOT), 0);
	assert_int_equal(disk_image_open(&c, f->path, DISK_READ_WRITE), -1);
	assert_true(has(nb_errmsg(), ",rw needs the image to itself"));
	assert_int_equal(disk_image_close(&a), 0);
	assert_int_equal(disk_image_close(&b), 0);
	assert_int_equal(disk_image_open(&c, f->path, DISK_READ_WRITE), 0);
	assert_int_equal(disk_image_close(&c), 0);
}

static void test_snapshot(void **st)
{
	struct fx *f = *st;
	uint64_t size = 10 * 4096 + 1000; /* the last chunk is partial */
	make_image(f->path, size);
	setenv("TMPDIR", f->dir, 1);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_SNAPSHOT), 0);
	assert_false(disk_image_read_only(&d));
	uint8_t *img = malloc(size), *back = malloc(size);
	for (uint64_t i = 0; i < size; i++)
		img[i] = pattern(i);
	/* a write across a chunk boundary, one of whole chunks, one into the
	 * partial last chunk, one overwriting an overlay chunk again */
	uint8_t w[9000];
	memset(w, 0x11, 100);
	assert_int_equal(disk_image_write(&d, 4096 - 50, w, 100), 0);
	memcpy(img + 4096 - 50, w, 100);
	memset(w, 0x22, 8192);
	assert_int_equal(disk_image_write(&d, 3 * 4096, w, 8192), 0);
	memcpy(img + 3 * 4096, w, 8192);
	memset(w, 0x33, 500);
	assert_int_equal(disk_image_write(&d, size - 600, w, 500), 0);
	memcpy(img + size - 600, w, 500);
	memset(w, 0x44, 9000);
	assert_int_equal(disk_image_write(&d, 4000, w, 9000), 0);
	memcpy(img + 4000, w, 9000);
	assert_int_equal(disk_image_write_zeroes(&d, 20000, 3000), 0);
	memset(img + 20000, 0, 3000);
	assert_int_equal(disk_image_discard(&d, 0, 4096), 0); /* a hint: kept */
	/* every byte reads as written, in one read and in odd pieces */
	assert_int_equal(disk_image_read(&d, 0, back, size), 0);
	assert_memory_equal(img, back, size);
	for (uint64_t off = 0; off < size; off += 777) {
		size_t n = off + 1234 <= size ? 1234 : (size_t)(size - off);
		assert_int_equal(disk_image_read(&d, off, back, n), 0);
		assert_memory_equal(img + off, back, n);
	}
	assert_int_equal(disk_image_flush(&d), 0);
	/* the image file is untouched; the overlay file has no name */
	assert_int_equal(disk_image_close(&d), 0);
	file_bytes(f->path, 0, back, size);
	for (uint64_t i = 0; i < size; i++)
		if (back[i] != pattern(i))
			fail_msg("image byte %llu changed by a snapshot write", (unsigned long long)i);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 1", f->dir);
	assert_int_equal(system(cmd), 0);
	free(img);
	free(back);
	unsetenv("TMPDIR");
}

static void test_snapshot_errors(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 32768);
	struct disk_image d;
	/* an overlay directory that does not exist: a clear error at open */
	setenv("TMPDIR", "/nonexistent-nobios-dir", 1);
	assert_int_equal(disk_image_open(&d, f->path, DISK_SNAPSHOT), -1);
	assert_true(has(nb_errmsg(), "cannot create the overlay file in /nonexistent-nobios-dir"));
	setenv("TMPDIR", f->dir, 1);
	memset(&fake, 0, sizeof(fake));
	assert_int_equal(disk_image_open(&d, f->path, DISK_SNAPSHOT), 0);
	disk_image_set_io(&d, &fake_io);
	/* the overlay's file system is full */
	uint8_t buf[4096] = { 9 };
	fake.pwrite_fail_at = 1;
	fake.pwrite_errno = ENOSPC;
	assert_int_equal(disk_image_write(&d, 0, buf, 512), -ENOSPC);
	/* the message says where: a full $TMPDIR is the usual cause */
	char where[128];
	snprintf(where, sizeof(where), "snapshot overlay (in %s) write of 4096 bytes", f->dir);
	assert_true(has(disk_image_errmsg(&d), where));
	fake.pwrite_fail_at = 0;
	/* the chunk stayed the image's */
	assert_int_equal(disk_image_read(&d, 0, buf, 16), 0);
	assert_int_equal(buf[1], pattern(1));
	/* the image shrank: a partial write's copy-on-write read fails */
	assert_int_equal(truncate(f->path, 4096), 0);
	assert_int_equal(disk_image_write(&d, 8192 + 10, buf, 10), -ENXIO);
	assert_int_equal(disk_image_close(&d), -1);
	assert_true(has(nb_errmsg(), "2 writes failed"));
	unsetenv("TMPDIR");
}

/* A 64 GiB sparse image opens at once and costs no memory in proportion:
 * the overlay's bitmap is untouched until written. */
static void test_snapshot_huge(void **st)
{
	struct fx *f = *st;
	int fd = open(f->path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	if (ftruncate(fd, 64ll << 30) < 0) {
		close(fd);
		skip(); /* cmocka prints SKIPPED: a file system without 64 GiB files */
	}
	close(fd);
	setenv("TMPDIR", f->dir, 1);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_SNAPSHOT), 0);
	uint8_t buf[4096];
	memset(buf, 0xEE, sizeof(buf));
	uint64_t last = (64ull << 30) - 4096;
	assert_int_equal(disk_image_write(&d, last, buf, sizeof(buf)), 0);
	assert_int_equal(disk_image_write(&d, 0, buf, 512), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(disk_image_read(&d, last, buf, sizeof(buf)), 0);
	assert_int_equal(buf[4095], 0xEE);
	assert_int_equal(disk_image_read(&d, 1ull << 35, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 0);
	getrusage(RUSAGE_SELF, &r1);
	assert_true(r1.ru_maxrss - r0.ru_maxrss < 4096); /* KiB */
	assert_int_equal(disk_image_close(&d), 0);
	unsetenv("TMPDIR");
}

static void test_zeroes_discard(void **st)
{
	struct fx *f = *st;
	make_image(f->path, 64 * 1024);
	struct disk_image d;
	assert_int_equal(disk_image_open(&d, f->path, DISK_READ_WRITE), 0);
	uint8_t buf[20000];
	assert_int_equal(disk_image_write_zeroes(&d, 1000, 20000), 0);
	assert_int_equal(disk_image_read(&d, 1000, buf, 20000), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(disk_image_read(&d, 999, buf, 1), 0);
	assert_int_equal(buf[0], pattern(999));
	assert_int_equal(disk_image_read(&d, 21000, buf, 1), 0);
	assert_int_equal(buf[0], pattern(21000));
	/* discard: the range reads as zeros or as before, nothing else */
	assert_int_equal(disk_image_discard(&d, 32768, 8192), 0);
	assert_int_equal(disk_image_read(&d, 32768, buf, 8192), 0);
	for (int i = 0; i < 8192; i++)
		assert_true(buf[i] == 0 || buf[i] == pattern(32768 + (uint64_t)i));
	assert_int_equal(disk_image_discard(&d, 60000, 10000), -EINVAL);
	assert_int_equal(disk_image_close(&d), 0);
	struct stat s;
	assert_int_equal(stat(f->path, &s), 0);
	assert_int_equal(s.st_size, 64 * 1024); /* neither grew nor shrank */
}

static void test_memory_image(void **st)
{
	uint8_t mem[4096] = { 0 };
	struct disk_image d;
	disk_image_init_mem(&d, "buf", mem, sizeof(mem), false);
	assert_true(disk_image_read_only(&d));
	uint8_t b[8] = { 1, 2, 3 };
	assert_int_equal(disk_image_write(&d, 0, b, 3), -EROFS);
	assert_int_equal(disk_image_close(&d), 0);
	disk_image_init_mem(&d, "buf", mem, sizeof(mem), true);
	assert_int_equal(disk_image_write(&d, 4093, b, 3), 0);
	assert_int_equal(mem[4095], 3);
	assert_int_equal(disk_image_write(&d, 4094, b, 3), -EINVAL);
	assert_int_equal(disk_image_write_zeroes(&d, 4093, 3), 0);
	assert_int_equal(mem[4095], 0);
	assert_int_equal(disk_image_close(&d), 0);
	(void)st;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vectored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrunk_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_reported_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroes_discard, setup, teardown),
		cmocka_unit_test(test_memory_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
