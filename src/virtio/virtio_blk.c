/* virtio_blk.c - virtio-blk (virtio 1.2, 5.2): every --disk a device, vda,
 * vdb, ... in order, served from the disk image backend (block/disk_image.h)
 * opened once by the machine.
 *
 * Requests are served synchronously in the notifying vCPU's thread, straight
 * between the image and the guest's buffers (one preadv/pwritev over the
 * host mapping of the request's guest buffers, every one checked by the
 * virtqueue walker): no bounce buffer and no I/O thread, which keeps the
 * device simple and the latency that of one system call.
 *
 * Offered: VIRTIO_BLK_F_SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH (fdatasync: writes
 * are durable once the guest's flush completes), DISCARD and WRITE_ZEROES on
 * writable images, RO on read-only ones (the guest then refuses writes
 * itself; any that arrive fail with VIRTIO_BLK_S_IOERR).  A request that
 * breaks the protocol (no header, no status byte, data of the wrong
 * direction or not a whole number of sectors, a range past the end) fails
 * with VIRTIO_BLK_S_IOERR, an unknown type with VIRTIO_BLK_S_UNSUPP (5.2.6.1). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "block/disk_image.h"
#include "boot/boot.h"
#include "boot/platform.h"
#include "dev/dev.h"
#include "mem/mem.h"
#include "nobios.h"
#include "util/err.h"
#include "virtio/virtio.h"

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and statuses (5.2.6) */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_HDR_LEN 16          /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_DWZ_SEG_LEN 16      /* le64 sector, le32 num_sectors, le32 flags */
/* struct virtio_blk_config up to write_zeroes_may_unmap and its padding. */
#define VIRTIO_BLK_CONFIG_LEN 60
#define BLK_SIZE_MAX  (1u << 20)       /* per buffer: Linux's default max segment size is less */
#define BLK_SEG_MAX   (VIRTQ_NUM_MAX - 2) /* a chain also holds the header and the status */
#define BLK_DWZ_MAX_SECTORS (1u << 22) /* 2 GiB per discard/write-zeroes segment */

struct vblk {
	struct virtio_mmio t;
	struct disk_image *img;
	const char *path;
	uint64_t capacity;     /* sectors */
	bool ro;
	char name[8];          /* vda */
	uint8_t config[VIRTIO_BLK_CONFIG_LEN];
	struct virtq_chain chain;
	unsigned io_warnings;
};

struct vblk_set {
	struct vblk *dev[BOOT_MAX_DISKS];
	unsigned n;
	struct dev_host *host;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct vblk *b = dev;
	memcpy(data, b->config + off, size); /* off/size bounded by the transport */
}

/* A host-side failure the guest is told about as VIRTIO_BLK_S_IOERR: one
 * line on stderr for the first few (the run's status reports lost writes at
 * exit, disk_image's error accounting). */
static uint8_t io_error(struct vblk *b, int r)
{
	(void)r;
	if (b->io_warnings++ < 4 && b->t.host && b->t.host->warn) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s: %s (the guest got an I/O error)", b->name,
			 disk_image_errmsg(b->img));
		b->t.host->warn(b->t.host->vm, msg);
	}
	return VIRTIO_BLK_S_IOERR;
}

/* Reads into, or writes from, the data buffers: for IN the writable
 * buffers less the status byte at the end, for OUT the readable ones after
 * the header.  Each buffer is one pread/pwrite at its host address. */
static uint8_t blk_rw(struct vblk *b, struct virtq_chain *c, bool write, uint64_t sector,
		      uint32_t *written)
{
	struct guest_mem *m = b->t.mem;
	uint64_t len = write ? c->out_len - VIRTIO_BLK_HDR_LEN : c->in_len - 1;
	/* IN: only the header is device-readable; the data must be writable */
	if ((!write && c->out_len != VIRTIO_BLK_HDR_LEN) || len % VIRTIO_BLK_SECTOR ||
	    len > UINT32_MAX - 1)
		return VIRTIO_BLK_S_IOERR;
	if (sector > b->capacity || len / VIRTIO_BLK_SECTOR > b->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	uint64_t off = sector * VIRTIO_BLK_SECTOR, done = 0;
	unsigned first = write ? 0 : c->nout, end = write ? c->nout : c->nout + c->nin;
	uint64_t skip = write ? VIRTIO_BLK_HDR_LEN : 0;
	struct iovec iov[VIRTQ_NUM_MAX];
	int niov = 0;
	for (unsigned i = first; i < end && done < len; i++) {
		uint64_t gpa = c->seg[i].gpa, n = c->seg[i].len;
		if (skip) {
			uint64_t s = skip < n ? skip : n;
			gpa += s;
			n -= s;
			skip -= s;
		}
		if (n > len - done)
			n = len - done; /* IN: the status byte is not data */
		if (n == 0)
			continue;
		void *p = mem_ptr(m, gpa, n); /* inside RAM: checked by the walker */
		if (!p)
			return VIRTIO_BLK_S_IOERR;
		iov[niov++] = (struct iovec){ p, (size_t)n };
		done += n;
	}
	/* one system call for the whole request, whatever its buffers */
	int r = write ? disk_image_writev(b->img, off, iov, niov)
		      : disk_image_readv(b->img, off, iov, niov);
	if (r < 0)
		return io_error(b, r);
	if (!write)
		*written = (uint32_t)done;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: an array of segments in the readable part. */
static uint8_t blk_dwz(struct vblk *b, struct virtq_chain *c, bool zeroes)
{
	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	uint64_t len = c->out_len - VIRTIO_BLK_HDR_LEN;
	if (len == 0 || len % VIRTIO_BLK_DWZ_SEG_LEN || len / VIRTIO_BLK_DWZ_SEG_LEN > 1)
		return VIRTIO_BLK_S_UNSUPP; /* max_discard_seg = max_write_zeroes_seg = 1 */
	uint8_t s[VIRTIO_BLK_DWZ_SEG_LEN];
	if (virtq_chain_read(c, b->t.mem, VIRTIO_BLK_HDR_LEN, s, sizeof(s)) != sizeof(s))
		return VIRTIO_BLK_S_IOERR;
	uint64_t sector;
	uint32_t num, flags;
	memcpy(&sector, s, 8);
	memcpy(&num, s + 8, 4);
	memcpy(&flags, s + 12, 4);
	/* 5.2.6.2: flags other than UNMAP (write zeroes only) are an error */
	if (flags & ~(uint32_t)(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0))
		return VIRTIO_BLK_S_UNSUPP;
	if (num > BLK_DWZ_MAX_SECTORS || sector > b->capacity || num > b->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	uint64_t off = sector * VIRTIO_BLK_SECTOR, n = (uint64_t)num * VIRTIO_BLK_SECTOR;
	int r = zeroes ? disk_image_write_zeroes(b->img, off, n) : disk_image_discard(b->img, off, n);
	return r < 0 ? io_error(b, r) : VIRTIO_BLK_S_OK;
}

static uint32_t blk_serve(void *dev, struct virtio_mmio *t, struct virtq_chain *c)
{
	struct vblk *b = dev;
	/* The header is device-readable, the status byte the last
	 * device-writable byte (5.2.6); without both there is nowhere to say
	 * that the request failed: it comes back with nothing written. */
	uint8_t hdr[VIRTIO_BLK_HDR_LEN];
	if (c->in_len == 0)
		return 0;
	uint8_t st;
	uint32_t written = 0;
	if (virtq_chain_read(c, t->mem, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		st = VIRTIO_BLK_S_IOERR;
	} else {
		uint32_t type;
		uint64_t sector;
		memcpy(&type, hdr, 4);
		memcpy(&sector, hdr + 8, 8);
		switch (type) {
		case VIRTIO_BLK_T_IN: st = blk_rw(b, c, false, sector, &written); break;
		case VIRTIO_BLK_T_OUT:
			/* data buffers of an OUT request are device-readable */
			st = c->in_len == 1 ? blk_rw(b, c, true, sector, &written)
					    : VIRTIO_BLK_S_IOERR;
			break;
		case VIRTIO_BLK_T_FLUSH:
			st = disk_image_flush(b->img) < 0 ? io_error(b, -EIO) : VIRTIO_BLK_S_OK;
			break;
		case VIRTIO_BLK_T_GET_ID: {
			/* 5.2.6: 20 bytes, NUL-padded when shorter */
			char id[VIRTIO_BLK_ID_BYTES] = { 0 };
			const char *base = strrchr(b->path, '/');
			base = base ? base + 1 : b->path;
			size_t n = strlen(base);
			memcpy(id, n > sizeof(id) ? base + n - sizeof(id) : base,
			       n > sizeof(id) ? sizeof(id) : n);
			if (c->in_len - 1 < sizeof(id)) {
				st = VIRTIO_BLK_S_IOERR;
				break;
			}
			written = (uint32_t)virtq_chain_write(c, t->mem, 0, id, sizeof(id));
			st = VIRTIO_BLK_S_OK;
			break;
		}
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES:
			st = b->ro ? VIRTIO_BLK_S_UNSUPP
				   : blk_dwz(b, c, type == VIRTIO_BLK_T_WRITE_ZEROES);
			break;
		default: st = VIRTIO_BLK_S_UNSUPP; break;
		}
	}
	virtq_chain_write(c, t->mem, c->in_len - 1, &st, 1);
	return written + 1;
}

static void blk_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct vblk *b = dev;
	virtio_mmio_serve(t, q, &b->chain, blk_serve, b);
}

static const struct virtio_dev_ops blk_ops_rw = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		    1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
		    1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES,
	.config_len = VIRTIO_BLK_CONFIG_LEN,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

static const struct virtio_dev_ops blk_ops_ro = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		    1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
		    1ULL << VIRTIO_BLK_F_RO,
	.config_len = VIRTIO_BLK_CONFIG_LEN,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

/* struct virtio_blk_config (5.2.4), little-endian. */
static void blk_config_build(struct vblk *b)
{
	uint8_t *c = b->config;
	memset(c, 0, sizeof(b->config));
	put_le(c + 0, b->capacity, 8);             /* capacity */
	put_le(c + 8, BLK_SIZE_MAX, 4);            /* size_max */
	put_le(c + 12, BLK_SEG_MAX, 4);            /* seg_max */
	put_le(c + 20, VIRTIO_BLK_SECTOR, 4);      /* blk_size */
	put_le(c + 36, BLK_DWZ_MAX_SECTORS, 4);    /* max_discard_sectors */
	put_le(c + 40, 1, 4);                      /* max_discard_seg */
	put_le(c + 44, 1, 4);                      /* discard_sector_alignment */
	put_le(c + 48, BLK_DWZ_MAX_SECTORS, 4);    /* max_write_zeroes_sectors */
	put_le(c + 52, 1, 4);                      /* max_write_zeroes_seg */
	c[56] = 0;                                 /* write_zeroes_may_unmap */
}

/* One device on an open image (unit tests build it on a memory image). */
struct vblk *virtio_blk_new(struct disk_image *img, const char *path, unsigned index,
			    struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi)
{
	struct vblk *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->img = img;
	b->path = path;
	b->ro = disk_image_read_only(img);
	b->capacity = disk_image_size(img) / VIRTIO_BLK_SECTOR;
	snprintf(b->name, sizeof(b->name), "vd%c", 'a' + (char)(index % 26));
	blk_config_build(b);
	virtio_mmio_init(&b->t, b->ro ? &blk_ops_ro : &blk_ops_rw, b, mem, host, base, gsi);
	snprintf(b->t.label, sizeof(b->t.label), "virtio-blk %s", b->name);
	return b;
}

static void blk_fini(void *state)
{
	struct vblk_set *s = state;
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		virtio_mmio_stop_iothread(&s->dev[i]->t);
		free(s->dev[i]);
	}
	free(s);
}

static int blk_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
		    void **state)
{
	const struct platform *p = host->plat;
	if (!p)
		return 0;
	struct vblk_set *s = calloc(1, sizeof(*s));
	if (!s)
		return nb_err_internal("out of memory for virtio-blk");
	s->host = host;
	*state = s;
	for (unsigned i = 0; i < p->nvirtio; i++) {
		const struct platform_virtio *v = &p->virtio[i];
		if (v->device_id != VIRTIO_ID_BLOCK)
			continue;
		const struct boot_disk *d = &cfg->boot.disks[v->index];
		if (v->index >= cfg->boot.ndisks || !d->img)
			return nb_err_internal("virtio-blk %u: no open image", v->index);
		struct vblk *b = virtio_blk_new(d->img, d->path, v->index, host->mem, host, v->base,
						v->gsi);
		if (!b)
			return nb_err_internal("out of memory for virtio-blk");
		s->dev[s->n++] = b;
		if (virtio_mmio_register(&b->t, bus) < 0 ||
		    (cfg->virtio_iothread && virtio_mmio_start_iothread(&b->t) < 0))
			return -1;
		if (host->log) {
			char what[400];
			snprintf(what, sizeof(what), "%s, %" PRIu64 " sectors, %s", d->path,
				 b->capacity,
				 d->rw ? "read-write" : d->snapshot ? "snapshot" : "read-only");
			virtio_mmio_describe(&b->t, host->log, what);
		}
	}
	return 0;
}

/* The guest has stopped: flush and close every image (the first one's
 * pseudo-BIOS drive only borrowed it).  Lost writes make the run's status
 * NB_EXIT_IO. */
static int blk_finish(void *state)
{
	struct vblk_set *s = state;
	int r = 0;
	char first[512] = "";
	for (unsigned i = 0; s && i < s->n; i++) {
		struct vblk *b = s->dev[i];
		virtio_mmio_stop_iothread(&b->t); /* nothing is served after this */
		if (s->host && s->host->log)
			fprintf(s->host->log, "nobios: %s: %" PRIu64 " requests, %" PRIu64
				" refused chains, %" PRIu64 " interrupts, %" PRIu64
				" kicks through the I/O thread\n", b->t.label, b->t.requests,
				b->t.bad_chains, b->t.interrupts, b->t.kicks);
		if (disk_image_close(b->img) < 0 && r == 0) {
			r = -1;
			snprintf(first, sizeof(first), "%s", nb_errmsg());
		}
	}
	if (r < 0)
		nb_err_internal("%s", first);
	return r;
}

static const struct device virtio_blk_device = {
	.name = "virtio-blk",
	.order = 500,
	.init = blk_init,
	.fini = blk_fini,
	.finish = blk_finish,
};
DEVICE(virtio_blk_device);
