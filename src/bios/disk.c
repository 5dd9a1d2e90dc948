/* disk.c - disk and floppy images as BIOS drives: opening (read-only,
 * read-write, or with a copy-on-write overlay) and CHS geometry. */
#include "bios/bios.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

#define SECTOR 512

/* Standard diskette formats: size, cylinders, heads, sectors, CMOS type. */
static const struct {
	uint32_t kib, cyls, heads, spt;
	uint8_t type;
} floppy_formats[] = {
	{ 160, 40, 1, 8, 1 },   { 180, 40, 1, 9, 1 },   { 320, 40, 2, 8, 1 },
	{ 360, 40, 2, 9, 1 },   { 720, 80, 2, 9, 3 },   { 1200, 80, 2, 15, 2 },
	{ 1440, 80, 2, 18, 4 }, { 1680, 80, 2, 21, 4 }, { 2880, 80, 2, 36, 6 },
};

static int floppy_geometry(struct bios_disk *d)
{
	for (size_t i = 0; i < sizeof(floppy_formats) / sizeof(floppy_formats[0]); i++)
		if ((uint64_t)floppy_formats[i].kib * 1024 == d->size) {
			d->cyls = floppy_formats[i].cyls;
			d->heads = floppy_formats[i].heads;
			d->spt = floppy_formats[i].spt;
			d->type = floppy_formats[i].type;
			return 0;
		}
	return nb_err("%s: %llu bytes is not a standard diskette size (160 KiB to 2.88 MB)",
		      d->path ? d->path : "floppy", (unsigned long long)d->size);
}

/* The geometry the partition table was written with: the end head and
 * sector of every used entry must agree (QEMU's guess_disk_lchs does this). */
static bool mbr_geometry(const struct bios_disk *d, uint32_t *heads, uint32_t *spt)
{
	if (d->size < SECTOR || d->data[510] != 0x55 || d->data[511] != 0xAA)
		return false;
	uint32_t h = 0, s = 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = d->data + 446 + 16 * i;
		if (p[4] == 0) /* partition type 0: unused */
			continue;
		uint32_t eh = p[5], es = p[6] & 63;
		if (es == 0)
			return false;
		if (h == 0) {
			h = eh + 1;
			s = es;
		} else if (h != eh + 1 || s != es) {
			return false;
		}
	}
	if (h == 0 || s == 0)
		return false;
	*heads = h;
	*spt = s;
	return true;
}

int bios_disk_geometry(struct bios_disk *d)
{
	d->sectors = d->size / SECTOR;
	if (d->floppy)
		return floppy_geometry(d);
	if (d->sectors == 0)
		return nb_err("%s: smaller than one sector", d->path ? d->path : "disk");
	uint32_t heads = 16, spt = 63;
	if (!mbr_geometry(d, &heads, &spt)) {
		/* LBA-assist translation (the usual BIOS rule): more heads as the
		 * disk grows past what 1024 cylinders of 16 heads reach. */
		uint64_t c16 = d->sectors / (16 * 63);
		heads = c16 <= 1024 ? 16 : c16 <= 2048 ? 32 : c16 <= 4096 ? 64 : c16 <= 8192 ? 128 : 255;
		spt = 63;
	}
	uint64_t cyls = d->sectors / ((uint64_t)heads * spt);
	if (cyls == 0)
		cyls = 1;
	if (cyls > 1024)
		cyls = 1024; /* INT 13h AH=02h reaches no further; EDD does */
	d->cyls = (uint32_t)cyls;
	d->heads = heads;
	d->spt = spt;
	return 0;
}

void bios_disk_init_buf(struct bios_disk *d, void *buf, uint64_t size, bool writable, bool floppy)
{
	memset(d, 0, sizeof(*d));
	d->data = buf;
	d->size = size;
	d->writable = writable;
	d->floppy = floppy;
	d->drive = floppy ? 0x00 : 0x80;
	d->present = true;
}

int bios_disk_open(struct bios_disk *d, const char *path, bool rw, bool snapshot, bool floppy)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		if (rw && (errno == EACCES || errno == EROFS || errno == EPERM))
			return nb_err("%s: cannot open read-write (,rw): %s", path, strerror(errno));
		if (errno == EISDIR)
			return nb_err("%s: is a directory, not a disk image", path);
		return nb_err("%s: cannot open: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return nb_err("%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return nb_err("%s: is a directory, not a disk image", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nb_err("%s: not a regular file", path);
	}
	if (st.st_size < SECTOR) {
		close(fd);
		return nb_err("%s: %s (a disk image holds at least one 512-byte sector)", path,
			      st.st_size == 0 ? "empty file" : "too small");
	}
	d->size = (uint64_t)st.st_size;
	d->floppy = floppy;
	d->drive = floppy ? 0x00 : 0x80;
	/* ,rw: shared mapping, writes reach the file.  ,snapshot: private
	 * mapping, writes stay in an in-memory copy.  Otherwise read-only. */
	int prot = PROT_READ | (rw || snapshot ? PROT_WRITE : 0);
	int flags = rw ? MAP_SHARED : MAP_PRIVATE;
	void *p = mmap(NULL, d->size, prot, flags, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED)
		return nb_err("%s: cannot map: %s", path, strerror(e));
	d->data = p;
	d->mapped = true;
	d->writable = rw || snapshot;
	d->present = true;
	if (bios_disk_geometry(d) < 0) {
		bios_disk_close(d);
		return -1;
	}
	return 0;
}

void bios_disk_close(struct bios_disk *d)
{
	if (d->mapped && d->data) {
		msync(d->data, d->size, MS_SYNC);
		munmap(d->data, d->size);
	}
	memset(d, 0, sizeof(*d));
}
