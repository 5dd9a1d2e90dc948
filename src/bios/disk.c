/* disk.c - disk and floppy images as BIOS drives: opening (read-only,
 * read-write, or with a copy-on-write overlay, all through the block layer's
 * disk_image), CHS geometry, and the INT 13h services on them (RBIL INT 13h,
 * Phoenix EDD 3.0), including what the guest hears when the host fails. */
#include "bios/bios.h"

#include <errno.h>
#include <string.h>

#include "bios/regs.h"
#include "util/err.h"

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
static bool mbr_geometry(struct bios_disk *d, uint32_t *heads, uint32_t *spt)
{
	uint8_t mbr[SECTOR];
	if (d->size < SECTOR || d->img->size < SECTOR || disk_image_read(d->img, 0, mbr, SECTOR) < 0 ||
	    mbr[510] != 0x55 || mbr[511] != 0xAA)
		return false;
	uint32_t h = 0, s = 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = mbr + 446 + 16 * i;
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
	d->img = &d->own;
	/* the image itself takes writes; d->writable is the drive's switch */
	disk_image_init_mem(d->img, "memory", buf, size, true);
	d->size = size;
	d->writable = writable;
	d->floppy = floppy;
	d->drive = floppy ? 0x00 : 0x80;
	d->present = true;
}

/* Size and geometry of an open image; closes it on failure unless borrowed. */
static int disk_setup(struct bios_disk *d, const char *path, bool floppy)
{
	d->size = disk_image_size(d->img);
	if (d->size < SECTOR) {
		bios_disk_close(d);
		return nb_err("%s: too small (a disk image holds at least one 512-byte sector)", path);
	}
	d->floppy = floppy;
	d->drive = floppy ? 0x00 : 0x80;
	d->writable = !disk_image_read_only(d->img);
	d->present = true;
	if (bios_disk_geometry(d) < 0) {
		bios_disk_close(d);
		return -1;
	}
	return 0;
}

int bios_disk_open(struct bios_disk *d, const char *path, bool rw, bool snapshot, bool floppy)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->img = &d->own;
	enum disk_mode mode = rw ? DISK_READ_WRITE : snapshot ? DISK_SNAPSHOT : DISK_READ_ONLY;
	if (disk_image_open(d->img, path, mode) < 0) {
		d->img = NULL;
		return -1;
	}
	return disk_setup(d, path, floppy);
}

int bios_disk_attach(struct bios_disk *d, struct disk_image *img, const char *path, bool floppy)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->img = img;
	d->borrowed = true;
	return disk_setup(d, path, floppy);
}

int bios_disk_close(struct bios_disk *d)
{
	/* a borrowed image is flushed and closed by its owner (the machine) */
	int r = d->img && !d->borrowed ? disk_image_close(d->img) : 0;
	d->present = false;
	return r;
}

/* ---- INT 13h: disks */

/* RBIL has no status for "the host failed": the guest gets what a disk
 * would say for the same loss.  A read past the end of a file that shrank
 * finds no sector (04h); a write that did not reach storage (ENOSPC, EIO,
 * EDQUOT) is a write fault (CCh, RBIL's own code for it, which DOS reports
 * as "Write fault"); any other read failure is the controller's (20h), not a
 * media defect we could name. */
static uint8_t disk_io_status(int err, bool write)
{
	if (err == -ENXIO)
		return BIOS_DISK_NOT_FOUND;
	return write ? BIOS_DISK_WRITE_FAULT : BIOS_DISK_CONTROLLER;
}

/* One line per drive and kind, the first time only: a guest retrying a
 * failed transfer sector by sector must not flood the console. */
static void disk_io_report(struct bios *b, struct bios_disk *d, bool write, uint8_t st)
{
	bool *warned = write ? &d->warned_write : &d->warned_read;
	if (*warned)
		return;
	*warned = true;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "%s (the guest got INT 13h status %02Xh; further %s errors on drive %02Xh are "
		 "not reported)", disk_image_errmsg(d->img), st, write ? "write" : "read", d->drive);
	if (b->warn)
		b->warn(b->warn_opaque, msg);
	else if (b->log)
		fprintf(b->log, "nobios: bios: %s\n", msg);
}

static uint8_t disk_xfer(struct bios *b, struct bios_disk *d, uint64_t lba, uint32_t count,
			 uint64_t gpa, bool write, uint32_t *done)
{
	*done = 0;
	if (count == 0)
		return BIOS_DISK_OK;
	if (lba >= d->sectors || count > d->sectors - lba)
		return BIOS_DISK_NOT_FOUND;
	if (write && !d->writable)
		return BIOS_DISK_WRITE_PROTECT;
	uint64_t len = (uint64_t)count * SECTOR;
	uint8_t *buf = guest_buf(b, gpa, len, !write);
	if (!buf)
		return BIOS_DISK_BAD_PARAM;
	/* straight between the image and guest RAM, no bounce buffer */
	int r = write ? disk_image_write(d->img, lba * SECTOR, buf, (size_t)len)
		      : disk_image_read(d->img, lba * SECTOR, buf, (size_t)len);
	if (r < 0) {
		uint8_t st = disk_io_status(r, write);
		disk_io_report(b, d, write, st);
		return st;
	}
	*done = count;
	return BIOS_DISK_OK;
}

static void disk_status(struct bios *b, struct bios_disk *d, struct cpu_state *s, uint8_t st)
{
	d->status = st;
	bda_set8(b, d->floppy ? BDA_FD_STATUS : BDA_HD_STATUS, st);
	if (st)
		fail(s, st);
	else
		ok(s);
}

/* AH=02h/03h/04h: CHS transfer of AL sectors at ES:BX. */
static void disk_chs(struct bios *b, struct bios_disk *d, struct cpu_state *s, bool write,
		     bool verify)
{
	uint32_t count = AL(s);
	uint32_t cyl = hi8(s, CPU_RCX) | ((uint32_t)(lo8(s, CPU_RCX) & 0xC0) << 2);
	uint32_t sec = lo8(s, CPU_RCX) & 0x3F;
	uint32_t head = hi8(s, CPU_RDX);
	uint64_t gpa = bios_linear(&s->es, r16(s, CPU_RBX));
	uint8_t st;
	uint32_t done = 0;
	if (count == 0 || count > 128)
		st = BIOS_DISK_BAD_PARAM;
	else if (sec == 0 || sec > d->spt || head >= d->heads || cyl >= d->cyls)
		st = BIOS_DISK_NOT_FOUND;
	else {
		uint64_t lba = ((uint64_t)cyl * d->heads + head) * d->spt + sec - 1;
		if (verify) {
			st = lba + count <= d->sectors ? BIOS_DISK_OK : BIOS_DISK_NOT_FOUND;
			done = st ? 0 : count;
		} else {
			st = disk_xfer(b, d, lba, count, gpa, write, &done);
		}
		snprintf(b->note, sizeof(b->note), "%s C/H/S %u/%u/%u = LBA %llu, %u sectors %s 0x%llx",
			 verify ? "verify" : write ? "write" : "read", cyl, head, sec,
			 (unsigned long long)lba, count, write ? "from" : "to",
			 (unsigned long long)gpa);
	}
	set_lo8(s, CPU_RAX, (uint8_t)done);
	disk_status(b, d, s, st);
}

/* AH=42h/43h/44h: EDD transfer described by the DAP at DS:SI. */
static void disk_ext(struct bios *b, struct bios_disk *d, struct cpu_state *s, bool write,
		     bool verify)
{
	uint64_t dap = bios_linear(&s->ds, r16(s, CPU_RSI));
	uint8_t raw[0x18];
	uint32_t done = 0;
	uint8_t st;
	memset(raw, 0, sizeof(raw));
	if (mem_copy_out(b->mem, raw, dap, 0x10) < 0 || raw[0] < 0x10) {
		snprintf(b->note, sizeof(b->note), "bad DAP at 0x%llx", (unsigned long long)dap);
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	uint16_t count = (uint16_t)(raw[2] | raw[3] << 8);
	uint16_t off = (uint16_t)(raw[4] | raw[5] << 8), seg = (uint16_t)(raw[6] | raw[7] << 8);
	uint64_t lba = 0, gpa = ((uint64_t)seg << 4) + off;
	for (int i = 7; i >= 0; i--)
		lba = lba << 8 | raw[8 + i];
	/* EDD 3.0: buffer FFFF:FFFF in a DAP of 18h bytes means the 64-bit flat
	 * address at offset 10h. */
	if (seg == 0xFFFF && off == 0xFFFF && raw[0] >= 0x18) {
		if (mem_copy_out(b->mem, raw + 0x10, dap + 0x10, 8) < 0) {
			disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
			return;
		}
		gpa = 0;
		for (int i = 7; i >= 0; i--)
			gpa = gpa << 8 | raw[0x10 + i];
	}
	if (count > 0x7F) /* EDD's limit per call */
		st = BIOS_DISK_BAD_PARAM;
	else if (verify) {
		st = lba < d->sectors && count <= d->sectors - lba ? BIOS_DISK_OK
								     : BIOS_DISK_NOT_FOUND;
		done = st ? 0 : count;
	} else
		st = disk_xfer(b, d, lba, count, gpa, write, &done);
	snprintf(b->note, sizeof(b->note), "%s LBA %llu, %u sectors %s 0x%llx%s",
		 verify ? "verify" : write ? "write" : "read", (unsigned long long)lba, count,
		 write ? "from" : "to", (unsigned long long)gpa,
		 st == BIOS_DISK_WRITE_FAULT || st == BIOS_DISK_CONTROLLER ? " failed on the host"
		 : st ? " failed" : "");
	if (guest_buf(b, dap + 2, 2, true)) /* blocks transferred, as EDD returns them */
		mem_write16(b->mem, dap + 2, (uint16_t)done);
	disk_status(b, d, s, st);
}

static void disk_params(struct bios *b, struct bios_disk *d, struct cpu_state *s)
{
	uint32_t c = d->cyls - 1;
	set16(s, CPU_RAX, 0);
	set_hi8(s, CPU_RCX, (uint8_t)c);
	set_lo8(s, CPU_RCX, (uint8_t)((d->spt & 0x3F) | ((c >> 2) & 0xC0)));
	set_hi8(s, CPU_RDX, (uint8_t)(d->heads - 1));
	if (d->floppy) {
		set_lo8(s, CPU_RDX, 1);
		set_lo8(s, CPU_RBX, d->type);
		set_hi8(s, CPU_RBX, 0);
		set_seg(&s->es, BIOS_SEG);
		set16(s, CPU_RDI, BIOS_OFF_FDPT);
	} else {
		set_lo8(s, CPU_RDX, 1);
	}
	snprintf(b->note, sizeof(b->note), "C/H/S %u/%u/%u", d->cyls, d->heads, d->spt);
	disk_status(b, d, s, BIOS_DISK_OK);
}

/* AH=48h result buffer (Phoenix EDD 3.0, "Get Drive Parameters"; T13
 * EDD-3 (D1386) for the 0x4A form). */
#define EDD_PARAMS_V1_SIZE   0x1A /* EDD 1.1: through bytes per sector */
#define EDD_PARAMS_V2_SIZE   0x1E /* EDD 2.0: + DPTE pointer */
#define EDD_PARAMS_V3_SIZE   0x42 /* Phoenix EDD 3.0: + device path, 8-byte device path */
#define EDD_PARAMS_T13_SIZE  0x4A /* T13 EDD-3: 16-byte device path */
#define EDD_OFF_FLAGS        0x02
#define EDD_OFF_CYLS         0x04
#define EDD_OFF_SECTORS      0x10
#define EDD_OFF_SECTOR_SIZE  0x18
#define EDD_OFF_DPTE         0x1A
#define EDD_OFF_KEY          0x1E /* device path information starts here */
#define EDD_OFF_DPI_LEN      0x20
#define EDD_OFF_HOST_BUS     0x24
#define EDD_OFF_INTERFACE    0x28
#define EDD_OFF_IFACE_PATH   0x30
#define EDD_OFF_DEVICE_PATH  0x38
#define EDD_DPI_KEY          0xBEDD
#define EDD_FLAG_CHS_VALID   0x0002
/* The drive has no controller: it is served by the host.  EDD 3.0 has no
 * interface type for that, so drive 80h reports what a PC's first hard
 * disk is, the master on the ISA ATA channel at 1F0h.  OSes only record
 * the path (Linux: /sys/firmware/edd) to match BIOS drives to disks. */
#define EDD_ISA_ATA_BASE     0x1F0

/* The buffer AH=48h returns for a drive, sized for the caller's buffer (its
 * first word): 0 if that is smaller than the EDD 1.1 result. */
size_t bios_edd_params(const struct bios_disk *d, uint16_t bufsize, uint8_t *p, size_t cap)
{
	size_t n;
	if (bufsize >= EDD_PARAMS_T13_SIZE && !d->floppy)
		n = EDD_PARAMS_T13_SIZE;
	else if (bufsize >= EDD_PARAMS_V3_SIZE && !d->floppy)
		n = EDD_PARAMS_V3_SIZE;
	else if (bufsize >= EDD_PARAMS_V2_SIZE)
		n = EDD_PARAMS_V2_SIZE;
	else if (bufsize >= EDD_PARAMS_V1_SIZE)
		n = EDD_PARAMS_V1_SIZE;
	else
		return 0;
	if (cap < n)
		return 0;
	memset(p, 0, n);
	p[0] = (uint8_t)n;
	p[EDD_OFF_FLAGS] = EDD_FLAG_CHS_VALID;
	uint32_t geo[3] = { d->cyls, d->heads, d->spt };
	memcpy(p + EDD_OFF_CYLS, geo, sizeof(geo));
	memcpy(p + EDD_OFF_SECTORS, &d->sectors, 8);
	p[EDD_OFF_SECTOR_SIZE] = SECTOR & 0xFF;
	p[EDD_OFF_SECTOR_SIZE + 1] = SECTOR >> 8;
	if (n >= EDD_PARAMS_V2_SIZE)
		memset(p + EDD_OFF_DPTE, 0xFF, 4); /* FFFF:FFFF: no DPTE */
	if (n >= EDD_PARAMS_V3_SIZE) {
		size_t dpi = n - EDD_OFF_KEY; /* 36 (EDD 3.0) or 44 (T13), with the key */
		p[EDD_OFF_KEY] = EDD_DPI_KEY & 0xFF;
		p[EDD_OFF_KEY + 1] = EDD_DPI_KEY >> 8;
		p[EDD_OFF_DPI_LEN] = (uint8_t)dpi;
		memcpy(p + EDD_OFF_HOST_BUS, "ISA ", 4);
		memcpy(p + EDD_OFF_INTERFACE, "ATA     ", 8);
		p[EDD_OFF_IFACE_PATH] = EDD_ISA_ATA_BASE & 0xFF;
		p[EDD_OFF_IFACE_PATH + 1] = EDD_ISA_ATA_BASE >> 8;
		p[EDD_OFF_DEVICE_PATH] = 0; /* ATA: master */
		/* the last byte makes the device path information sum to 0 */
		uint8_t sum = 0;
		for (size_t i = EDD_OFF_KEY; i < n - 1; i++)
			sum = (uint8_t)(sum + p[i]);
		p[n - 1] = (uint8_t)(0x100 - sum);
	}
	return n;
}

/* AH=48h: EDD drive parameters into the buffer at DS:SI, as much as its
 * size word asks for. */
static void disk_ext_params(struct bios *b, struct bios_disk *d, struct cpu_state *s)
{
	uint64_t gpa = bios_linear(&s->ds, r16(s, CPU_RSI));
	uint16_t size;
	uint8_t p[EDD_PARAMS_T13_SIZE];
	if (mem_read16(b->mem, gpa, &size) < 0) {
		snprintf(b->note, sizeof(b->note), "bad buffer 0x%llx", (unsigned long long)gpa);
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	size_t n = bios_edd_params(d, size, p, sizeof(p));
	if (n == 0) {
		snprintf(b->note, sizeof(b->note), "buffer of %u bytes too small", size);
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	if (!guest_buf(b, gpa, n, true)) {
		snprintf(b->note, sizeof(b->note), "bad buffer 0x%llx (%zu bytes)",
			 (unsigned long long)gpa, n);
		disk_status(b, d, s, BIOS_DISK_BAD_PARAM);
		return;
	}
	mem_copy_in(b->mem, gpa, p, n);
	snprintf(b->note, sizeof(b->note), "%llu sectors; %zu-byte result%s",
		 (unsigned long long)d->sectors, n,
		 n >= EDD_PARAMS_V3_SIZE ? ", device path ISA ATA master 1F0h" : "");
	disk_status(b, d, s, BIOS_DISK_OK);
}

void bios_int13(struct bios *b, struct cpu_state *s)
{
	uint8_t fn = AH(s), dl = lo8(s, CPU_RDX);
	struct bios_disk *d = disk_of(b, dl);
	if (fn == 0x15 && !d) { /* "no such drive" is an answer, not an error */
		set16(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	}
	if (!d) {
		snprintf(b->note, sizeof(b->note), "no drive %02xh", dl);
		fail(s, BIOS_DISK_BAD_PARAM);
		return;
	}
	switch (fn) {
	case 0x00: case 0x09: case 0x0C: case 0x0D: case 0x10: case 0x11: case 0x47:
		disk_status(b, d, s, BIOS_DISK_OK);
		break;
	case 0x01:
		set_lo8(s, CPU_RAX, d->status);
		set_hi8(s, CPU_RAX, d->status);
		set_cf(s, d->status != 0);
		break;
	case 0x02: disk_chs(b, d, s, false, false); break;
	case 0x03: disk_chs(b, d, s, true, false); break;
	case 0x04: disk_chs(b, d, s, false, true); break;
	case 0x08: disk_params(b, d, s); break;
	case 0x15:
		if (d->floppy) {
			set_hi8(s, CPU_RAX, 0x01); /* diskette, no change line */
		} else {
			uint64_t n = d->sectors > 0xFFFFFFFFu ? 0xFFFFFFFFu : d->sectors;
			set_hi8(s, CPU_RAX, 0x03);
			set16(s, CPU_RCX, (uint16_t)(n >> 16));
			set16(s, CPU_RDX, (uint16_t)n);
		}
		set_cf(s, false);
		break;
	case 0x16: /* diskette change line: not changed */
		disk_status(b, d, s, BIOS_DISK_OK);
		break;
	case 0x41:
		if (r16(s, CPU_RBX) != 0x55AA || d->floppy) {
			fail(s, BIOS_DISK_BAD_PARAM);
			break;
		}
		set16(s, CPU_RBX, 0xAA55);
		set_hi8(s, CPU_RAX, 0x30); /* EDD 3.0 */
		set16(s, CPU_RCX, 0x0001); /* extended disk access (42h-44h, 47h, 48h) */
		set_cf(s, false);
		break;
	case 0x42: disk_ext(b, d, s, false, false); break;
	case 0x43: disk_ext(b, d, s, true, false); break;
	case 0x44: disk_ext(b, d, s, false, true); break;
	case 0x48: disk_ext_params(b, d, s); break;
	case 0x4B: /* El Torito status/terminate: no drive is emulated */
		snprintf(b->note, sizeof(b->note), "not emulating");
		fail(s, BIOS_DISK_BAD_PARAM);
		break;
	default:
		unsupported(b, s);
	}
}
