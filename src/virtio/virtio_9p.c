/* virtio_9p.c - the 9P transport over virtio (device ID 9, "9P Transport"
 * in virtio 1.2's list of device types, which gives it no section of its
 * own: the layout is the one Linux's net/9p/trans_virtio.c drives and
 * QEMU's virtio-9p offers): one request queue; each request is a
 * T-message in its device-readable buffers and room for the R-message in
 * its device-writable ones.  The 9P2000.L server itself is src/fs/p9.c; this
 * file only moves messages between the ring and it, one device per
 * machine_config share, named by its mount tag (configuration space:
 * le16 tag_len, then tag_len bytes, no NUL; feature VIRTIO_9P_MOUNT_TAG).
 *
 * Both parts are streams over however many buffers the driver gives: for
 * large reads and writes Linux puts the 11- or 23-byte header in one buffer
 * and the data in the caller's pages ("zero copy"), so a reply is written
 * across the writable buffers in order, never assumed to fit the first.
 * A request is served in the vCPU thread that notified (or, with
 * --virtio-iothread, in the share's I/O thread), under the transport's lock: one at a time per share, which
 * is what 9P's tags allow (Tflush has nothing to cancel). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "boot/platform.h"
#include "dev/dev.h"
#include "fs/p9.h"
#include "mem/mem.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"
#include "virtio/virtio.h"

/* What a file server calls, after the sandbox is in force: reading the
 * exported tree (opening below a directory descriptor, /proc/self/fd
 * reopens) and, for a writable share, changing it. */
#define OPEN_WRITE_BITS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 0x400000 /* O_TMPFILE */)
SANDBOX_NEEDS(virtio_9p_needs, "virtio-9p: file server, reading (src/virtio/virtio_9p.c)",
	      SANDBOX_F_P9, SB_ARG_NONE(openat, 2, OPEN_WRITE_BITS), SB_ALLOW(newfstatat),
	      SB_ALLOW(fstat),
	      SB_ALLOW(fstatfs), SB_ALLOW(readlinkat), SB_ALLOW(getdents64), SB_ALLOW(lseek),
	      SB_ALLOW(pread64), SB_ALLOW(close), SB_ALLOW(fcntl));
SANDBOX_NEEDS(virtio_9p_rw_needs, "virtio-9p: file server, writing (src/virtio/virtio_9p.c)",
	      SANDBOX_F_P9_RW, SB_ALLOW(openat), SB_ALLOW(pwrite64), SB_ALLOW(mkdirat), SB_ALLOW(unlinkat),
	      SB_ALLOW(renameat), SB_ALLOW(renameat2), SB_ALLOW(symlinkat), SB_ALLOW(linkat),
	      SB_ALLOW(chmod), SB_ALLOW(fchmodat), SB_ALLOW(fchownat), SB_ALLOW(truncate),
	      SB_ALLOW(utimensat), SB_ALLOW(fsync), SB_ALLOW(fdatasync));

#define VIRTIO_9P_MOUNT_TAG 0 /* feature bit: the configuration has a mount tag */
#define VIRTIO_9P_REQUESTQ  0
/* A message is at most the server's msize; one more page of slack lets a
 * request that overstates nothing still be read whole. */
#define P9_BUF (P9_MSIZE_MAX + 4096)

struct v9p {
	struct virtio_mmio t;
	struct p9_server *srv;
	char tag[NB_SHARE_TAG_MAX];
	uint16_t tag_len;
	uint8_t *req, *resp;
	uint64_t bad_size; /* requests longer than msize, replies with no room */
	struct virtq_chain chain;
};

static void p9_config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct v9p *v = dev;
	uint8_t cfg[2 + NB_SHARE_TAG_MAX] = { (uint8_t)v->tag_len, (uint8_t)(v->tag_len >> 8) };
	memcpy(cfg + 2, v->tag, v->tag_len);
	for (unsigned i = 0; i < size; i++)
		data[i] = off + i < 2u + v->tag_len ? cfg[off + i] : 0;
}

/* Put an Rlerror for the request's tag (bytes 5-6 of its header) into the
 * writable part, for a request the server cannot be given. */
static uint32_t reply_error(struct v9p *v, struct virtq_chain *c, uint32_t err)
{
	uint8_t hdr[P9_HDR];
	uint8_t e[11] = { 11, 0, 0, 0, P9_RLERROR, 0, 0, (uint8_t)err, (uint8_t)(err >> 8),
			  (uint8_t)(err >> 16), (uint8_t)(err >> 24) };
	if (virtq_chain_read(c, v->t.mem, 0, hdr, sizeof(hdr)) == sizeof(hdr)) {
		e[5] = hdr[5];
		e[6] = hdr[6];
	}
	if (c->in_len < sizeof(e))
		return 0;
	return (uint32_t)virtq_chain_write(c, v->t.mem, 0, e, sizeof(e));
}

static uint32_t p9_serve(void *dev, struct virtio_mmio *t, struct virtq_chain *c)
{
	struct v9p *v = dev;
	(void)t;
	if (c->out_len < P9_HDR || c->out_len > P9_BUF) {
		v->bad_size++;
		return reply_error(v, c, EMSGSIZE);
	}
	size_t n = (size_t)virtq_chain_read(c, v->t.mem, 0, v->req, c->out_len);
	/* The reply may use what the driver gave and no more; the server needs
	 * room for its largest fixed reply, so it writes into our buffer and
	 * an overlong reply becomes an error (the client's count was a lie). */
	size_t room = c->in_len < P9_BUF ? (size_t)c->in_len : P9_BUF;
	size_t len = p9_handle(v->srv, v->req, n, v->resp, room < P9_MSIZE_MIN ? P9_MSIZE_MIN : room);
	if (len == 0)
		return 0;
	if (len > c->in_len) {
		v->bad_size++;
		return reply_error(v, c, EMSGSIZE);
	}
	return (uint32_t)virtq_chain_write(c, v->t.mem, 0, v->resp, len);
}

static void p9_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct v9p *v = dev;
	if (q == VIRTIO_9P_REQUESTQ)
		virtio_mmio_serve(t, q, &v->chain, p9_serve, v);
}

static const struct virtio_dev_ops p9_ops = {
	.name = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.nqueues = 1,
	.features = 1ull << VIRTIO_9P_MOUNT_TAG,
	.config_len = 2 + NB_SHARE_TAG_MAX,
	.config_read = p9_config_read,
	.notify = p9_notify,
};

void virtio_9p_free(struct v9p *v)
{
	if (!v)
		return;
	p9_server_free(v->srv);
	free(v->req);
	free(v->resp);
	free(v);
}

struct v9p *virtio_9p_new(const struct nb_share *sh, struct guest_mem *mem,
			  struct dev_host *host, uint64_t base, uint32_t gsi)
{
	size_t tl = strnlen(sh->tag, NB_SHARE_TAG_MAX);
	if (tl == 0 || tl >= NB_SHARE_TAG_MAX) {
		nb_err("9p share %s: the mount tag must be 1 to %d bytes", sh->path,
		       NB_SHARE_TAG_MAX - 1);
		return NULL;
	}
	struct v9p *v = calloc(1, sizeof(*v));
	if (!v) {
		nb_err_internal("out of memory for virtio-9p");
		return NULL;
	}
	v->req = malloc(P9_BUF);
	v->resp = malloc(P9_BUF);
	if (!v->req || !v->resp) {
		nb_err_internal("out of memory for virtio-9p");
		virtio_9p_free(v);
		return NULL;
	}
	v->srv = p9_server_new(sh->path, sh->writable ? P9_EXPORT_WRITABLE : 0);
	if (!v->srv) {
		virtio_9p_free(v);
		return NULL;
	}
	memcpy(v->tag, sh->tag, tl);
	v->tag_len = (uint16_t)tl;
	virtio_mmio_init(&v->t, &p9_ops, v, mem, host, base, gsi);
	snprintf(v->t.label, sizeof(v->t.label), "virtio-9p %s", v->tag);
	return v;
}

/* All shares are one device kind: their states are kept in one list. */
struct v9p_set {
	unsigned n;
	struct v9p *dev[NB_MAX_SHARES];
};

static void set_free(void *state)
{
	struct v9p_set *s = state;
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		virtio_mmio_stop_iothread(&s->dev[i]->t);
		virtio_9p_free(s->dev[i]);
	}
	free(s);
}

static int p9_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
		   void **state)
{
	const struct platform *p = host->plat;
	if (!cfg->nshares || !p)
		return 0;
	struct v9p_set *set = calloc(1, sizeof(*set));
	if (!set)
		return nb_err_internal("out of memory for virtio-9p");
	*state = set;
	for (unsigned i = 0; i < p->nvirtio; i++) {
		const struct platform_virtio *pv = &p->virtio[i];
		if (pv->device_id != VIRTIO_ID_9P || pv->index >= cfg->nshares)
			continue;
		const struct nb_share *sh = &cfg->shares[pv->index];
		struct v9p *v = virtio_9p_new(sh, host->mem, host, pv->base, pv->gsi);
		if (!v)
			return -1;
		set->dev[set->n++] = v;
		if (virtio_mmio_register(&v->t, bus) < 0 ||
		    (cfg->virtio_iothread && virtio_mmio_start_iothread(&v->t) < 0))
			return -1;
		if (host->log) {
			char what[512];
			snprintf(what, sizeof(what), "%s %s", sh->path,
				 sh->writable ? "read-write" : "read-only");
			virtio_mmio_describe(&v->t, host->log, what);
		}
	}
	return 0;
}

static const struct device virtio_9p_device = {
	.name = "virtio-9p",
	.order = 530,
	.init = p9_init,
	.fini = set_free,
};
DEVICE(virtio_9p_device);
