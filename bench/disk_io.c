/* disk_io.c - the cost of INT 13h's data path: the old one (memcpy to and
 * from a mapping of the image: MAP_PRIVATE read-only, MAP_SHARED for ,rw)
 * against the new one (disk_image_read/write: pread/pwrite straight into
 * the guest's buffer).  Each pass moves a 64 MiB image once in transfers of
 * one size, as a boot loader reading a kernel does: a fresh mapping per
 * pass (its page faults are part of the old path's cost), the page cache
 * warm for both.  Prints the median of RUNS passes, in MiB/s and µs per
 * transfer, old and new side by side.
 *
 *   build/bench/disk_io [FILE [RUNS]]   (FILE is created: 64 MiB) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "block/disk_image.h"

#define IMG (64u << 20)

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

/* One pass: the whole image in transfers of `xfer` bytes.  Returns µs. */
static double pass_mmap(int fd, uint8_t *buf, size_t xfer, int write)
{
	double t0 = now_us();
	uint8_t *m = mmap(NULL, IMG, PROT_READ | (write ? PROT_WRITE : 0),
			  write ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (size_t off = 0; off + xfer <= IMG; off += xfer)
		if (write)
			memcpy(m + off, buf, xfer);
		else
			memcpy(buf, m + off, xfer);
	munmap(m, IMG);
	return now_us() - t0;
}

static double pass_image(struct disk_image *d, uint8_t *buf, size_t xfer, int write)
{
	double t0 = now_us();
	for (size_t off = 0; off + xfer <= IMG; off += xfer)
		if ((write ? disk_image_write(d, off, buf, xfer) : disk_image_read(d, off, buf, xfer)) <
		    0) {
			fprintf(stderr, "%s\n", disk_image_errmsg(d));
			exit(1);
		}
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/nobios-disk-io.img";
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	if (runs < 1 || runs > 101)
		runs = 7;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, IMG) < 0) {
		perror(path);
		return 1;
	}
	/* real blocks, in the page cache */
	uint8_t *buf = malloc(8u << 20);
	memset(buf, 0x5A, 8u << 20);
	for (size_t off = 0; off < IMG; off += 8u << 20)
		if (pwrite(fd, buf, 8u << 20, (off_t)off) != 8 << 20) {
			perror("pwrite");
			return 1;
		}
	fsync(fd);
	struct disk_image d;
	close(fd);
	if (disk_image_open(&d, path, DISK_READ_WRITE) < 0) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	fd = open(path, O_RDWR);
	static const size_t sizes[] = { 512, 127 * 512, 1u << 20, 8u << 20 };
	printf("%-6s %-9s %12s %12s %14s %14s %7s\n", "", "transfer", "mmap MiB/s", "pread MiB/s",
	       "mmap us/xfer", "pread us/xfer", "ratio");
	for (int write = 0; write <= 1; write++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t x = sizes[i];
			double a[101] = { 0 }, b[101] = { 0 };
			for (int r = 0; r < runs; r++) { /* interleaved */
				a[r] = pass_mmap(fd, buf, x, write);
				b[r] = pass_image(&d, buf, x, write);
			}
			double ma = median(a, runs), mb = median(b, runs), n = (double)(IMG / x);
			printf("%-6s %-9zu %12.0f %12.0f %14.2f %14.2f %6.2fx\n", write ? "write" : "read",
			       x, IMG / ma * 1e6 / (1 << 20), IMG / mb * 1e6 / (1 << 20), ma / n, mb / n,
			       ma / mb);
		}
	printf("(64 MiB image %s, median of %d passes each; ratio > 1: pread/pwrite faster)\n",
	       path, runs);
	disk_image_close(&d);
	close(fd);
	unlink(path);
	return 0;
}
