/* virtio_net.c - virtio-net (virtio 1.2, 5.1), --net tap=NAME: one
 * receiveq/transmitq pair on a host TAP interface (net/tap.h), which
 * machine_create opened.  Linux calls it eth0, eth1, ... in --net order.
 *
 * Offered: VIRTIO_NET_F_MAC (the --net mac=, else one derived from the TAP's
 * name) and VIRTIO_NET_F_STATUS (link always up).  No offloads, no
 * mergeable receive buffers, no control queue: every frame is a whole
 * Ethernet frame of at most VIRTIO_NET_MAX_PACKET bytes, preceded in the
 * guest's buffers by the 12-byte struct virtio_net_hdr (5.1.6: with
 * VIRTIO_F_VERSION_1 the header always has num_buffers).
 *
 * The TAP carries bare frames (no IFF_VNET_HDR, see tap.c): on transmit the
 * guest's header is checked (no offload asked for: flags 0, gso_type
 * VIRTIO_NET_HDR_GSO_NONE, 5.1.6.2.1) and left out; on receive the device
 * writes a zero header with num_buffers 1 (5.1.6.3.1, 5.1.6.4.1).  Frames go
 * straight between the TAP and the guest's buffers (readv/writev over the
 * host mapping of every checked buffer), no bounce buffer.
 *
 * Transmit is served in the vCPU thread that notified the transmit queue,
 * like virtio-blk.  Receive needs a thread of its own, since frames arrive
 * when they like: it polls the TAP only while the guest has receive buffers
 * posted; with none it stops reading the TAP (frames wait in the kernel's
 * queue, which drops on its own when full, as a NIC with a full ring does)
 * and sleeps on a pipe until the guest notifies the receive queue.  Neither
 * a drop on our side nor a busy loop.
 *
 * Nothing from the guest is trusted: chains are checked by the walker
 * (virtqueue.c); a receive chain with device-readable buffers or too short
 * for the header is returned unused, a transmit chain without a whole
 * header, with an offload request, or with a frame under an Ethernet header
 * or over VIRTIO_NET_MAX_PACKET is dropped; each counts, shown by -v, and
 * only that frame is lost.  A frame from the host larger than the posted
 * buffer is dropped and the buffer stays posted for the next one.
 *
 * Locking: the transport's lock covers the rings and the counters; the
 * receive thread takes it to fill buffers, vCPU threads hold it for every
 * register access (and so for transmit).  readv/writev on the non-blocking
 * TAP never wait with it held.  The interrupt line (KVM_IRQ_LINE) may be set
 * from any thread. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "boot/platform.h"
#include "dev/dev.h"
#include "mem/mem.h"
#include "net/tap.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"
#include "virtio/virtio.h"

/* The receive thread waits on the TAP and its wake-up pipe; frames move
 * with readv/writev, the pipe with read/write. */
SANDBOX_NEEDS(virtio_net_needs, "virtio-net: TAP frames, receive thread (src/virtio/virtio_net.c)",
	      0, SB_ALLOW(poll), SB_ALLOW(ppoll), SB_ALLOW(readv), SB_ALLOW(writev),
	      SB_ALLOW(read), SB_ALLOW(write));

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16
/* struct virtio_net_config status (5.1.4) */
#define VIRTIO_NET_S_LINK_UP 1
/* struct virtio_net_hdr (5.1.6) */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_LEN          12 /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers */
#define VIRTIO_NET_HDR_NUM_BUFFERS  10 /* offset of le16 num_buffers */
/* Virtqueues (5.1.2): one pair, no control queue */
#define VIRTIO_NET_RECEIVEQ  0 /* receiveq1 */
#define VIRTIO_NET_TRANSMITQ 1 /* transmitq1 */
/* The largest frame (5.1.6.3.1: buffers of 65562 bytes hold any packet
 * with its 12-byte header). */
#define VIRTIO_NET_MAX_PACKET 65550
#define VIRTIO_NET_CONFIG_LEN 8 /* mac[6], le16 status (max_virtqueue_pairs and on: no feature) */

struct vnet {
	struct virtio_mmio t; /* first: tests cast */
	int tap;
	char ifname[TAP_IFNAMSIZ];
	uint8_t mac[TAP_MAC_LEN];
	struct dev_host *host;
	/* The receive thread and what wakes it; rx_waiting and stopping are
	 * under t.lock. */
	pthread_t thread;
	bool thread_running;
	int wake[2];
	bool rx_waiting; /* it sleeps until the guest posts receive buffers */
	bool stopping;
	bool tap_failed; /* a read error other than "empty": stop reading it */
	struct virtio_net_stats st;
	struct virtq_chain tx_chain, rx_chain;
	/* Receive: what does not fit the guest's buffer lands here, so a frame
	 * too big for it is read whole (and dropped) whatever the TAP's MTU. */
	uint8_t spill[VIRTIO_NET_MAX_PACKET + 1];
};

void virtio_net_stats(const struct vnet *n, struct virtio_net_stats *s)
{
	pthread_mutex_lock((pthread_mutex_t *)&n->t.lock);
	*s = n->st;
	pthread_mutex_unlock((pthread_mutex_t *)&n->t.lock);
}

/* Host-mapped iovecs for one part of a chain (the readable part, or the
 * writable one), the first `skip` bytes (the header) left out.  Every
 * segment was checked to lie in RAM by the walker.  Returns the count;
 * *bytes gets their total. */
static int chain_iov(struct vnet *n, const struct virtq_chain *c, bool writable, uint64_t skip,
		     struct iovec *iov, uint64_t *bytes)
{
	unsigned first = writable ? c->nout : 0, end = writable ? c->nout + c->nin : c->nout;
	int niov = 0;
	*bytes = 0;
	for (unsigned i = first; i < end; i++) {
		uint64_t gpa = c->seg[i].gpa, len = c->seg[i].len;
		uint64_t s = skip < len ? skip : len;
		gpa += s;
		len -= s;
		skip -= s;
		if (len == 0)
			continue;
		void *p = mem_ptr(n->t.mem, gpa, len);
		if (!p)
			return -1;
		iov[niov++] = (struct iovec){ p, (size_t)len };
		*bytes += len;
	}
	return niov;
}

/* ---- transmit: in the notifying vCPU's thread */
static uint32_t tx_serve(void *dev, struct virtio_mmio *t, struct virtq_chain *c)
{
	struct vnet *n = dev;
	uint8_t hdr[VIRTIO_NET_HDR_LEN];
	if (c->out_len < VIRTIO_NET_HDR_LEN ||
	    virtq_chain_read(c, t->mem, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		n->st.tx_bad++;
		return 0;
	}
	/* 5.1.6.2.1: without VIRTIO_NET_F_CSUM no NEEDS_CSUM, without a GSO
	 * feature gso_type is GSO_NONE, and DATA_VALID/RSC_INFO are the
	 * device's.  num_buffers is not looked at: Linux leaves it unset on
	 * transmit without MRG_RXBUF. */
	if (hdr[0] != 0 || hdr[1] != VIRTIO_NET_HDR_GSO_NONE) {
		n->st.tx_bad++;
		return 0;
	}
	uint64_t len = c->out_len - VIRTIO_NET_HDR_LEN;
	if (len < ETH_HLEN || len > VIRTIO_NET_MAX_PACKET) {
		n->st.tx_bad_size++;
		return 0;
	}
	struct iovec iov[VIRTQ_NUM_MAX];
	uint64_t bytes;
	int niov = chain_iov(n, c, false, VIRTIO_NET_HDR_LEN, iov, &bytes);
	if (niov <= 0) {
		n->st.tx_bad++;
		return 0;
	}
	ssize_t r;
	do
		r = writev(n->tap, iov, niov);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* EIO: the host's side of the interface is down; the frame is
		 * lost as on a cable nobody listens to. */
		if (n->st.tx_errors++ == 0 && n->host && n->host->log)
			fprintf(n->host->log, "nobios: %s: the TAP refused a frame: %s\n", t->label,
				strerror(errno));
		return 0;
	}
	n->st.tx_packets++;
	n->st.tx_bytes += len;
	return 0; /* nothing written into the guest's buffers */
}

/* ---- receive: in the receive thread, t.lock held */

/* Has the guest posted a receive buffer we have not used?  When it has
 * not, the thread sleeps until the driver notifies the receive queue: with
 * VIRTIO_F_EVENT_IDX, ask for that notification (avail_event) first. */
static bool rx_posted(struct vnet *n)
{
	struct virtq *vq = virtio_mmio_queue(&n->t, VIRTIO_NET_RECEIVEQ);
	return vq && virtq_arm_notify(vq, n->t.mem);
}

/* Take the next usable receive chain into n->rx_chain, returning unusable
 * ones to the driver with nothing written.  1: got one, 0: none posted. */
static int rx_take(struct vnet *n, struct virtq *vq, bool *pushed)
{
	struct virtq_chain *c = &n->rx_chain;
	for (;;) {
		int r = virtq_pop(vq, n->t.mem, c);
		if (r < 0) {
			virtio_mmio_needs_reset(&n->t, "available ring corrupt (index or head out of range)");
			return 0;
		}
		if (r == 0)
			return 0;
		n->t.requests++;
		if (!c->err && c->nout == 0 && c->in_len >= VIRTIO_NET_HDR_LEN)
			return 1;
		if (c->err) {
			if (n->t.bad_chains++ < 8 && n->host && n->host->log)
				fprintf(n->host->log, "nobios: %s: receive buffer %u refused: %s\n",
					n->t.label, c->head, virtq_chain_strerror(c->err));
		} else {
			n->st.rx_bad_chain++; /* receive buffers are device-writable (5.1.6.3) */
		}
		if (virtq_push(vq, n->t.mem, c->head, 0) < 0) {
			virtio_mmio_needs_reset(&n->t, "used ring not writable");
			return 0;
		}
		*pushed = true;
	}
}

/* One frame from the TAP into the next receive buffer.  1: a frame was
 * taken (delivered or dropped), 0: nothing more to do now (the TAP is empty
 * or no buffer is posted). */
static int rx_one(struct vnet *n, struct virtq *vq, bool *pushed)
{
	if (n->tap_failed || !rx_take(n, vq, pushed))
		return 0;
	struct virtq_chain *c = &n->rx_chain;
	struct iovec iov[VIRTQ_NUM_MAX + 1];
	uint64_t cap;
	int niov = chain_iov(n, c, true, VIRTIO_NET_HDR_LEN, iov, &cap);
	if (niov < 0) {
		vq->last_avail--; /* cannot happen: the walker checked every buffer */
		return 0;
	}
	iov[niov++] = (struct iovec){ n->spill, sizeof(n->spill) };
	ssize_t r;
	do
		r = readv(n->tap, iov, niov);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		/* Nothing read: the buffer goes back to the head of the ring
		 * (the driver cannot touch an entry we have not consumed). */
		vq->last_avail--;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			n->tap_failed = true;
			if (n->host && n->host->log)
				fprintf(n->host->log, "nobios: %s: reading the TAP failed, the guest "
					"receives nothing more: %s\n", n->t.label, strerror(errno));
		}
		return 0;
	}
	if ((uint64_t)r > cap || r > VIRTIO_NET_MAX_PACKET) {
		/* The frame is gone (read whole); the buffer stays posted. */
		vq->last_avail--;
		n->st.rx_too_big++;
		return 1;
	}
	/* 5.1.6.4.1: no GUEST_CSUM, no GSO: flags 0, gso_type GSO_NONE, and
	 * num_buffers 1 without MRG_RXBUF. */
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 };
	hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	virtq_chain_write(c, n->t.mem, 0, hdr, sizeof(hdr));
	if (virtq_push(vq, n->t.mem, c->head, (uint32_t)(VIRTIO_NET_HDR_LEN + r)) < 0) {
		virtio_mmio_needs_reset(&n->t, "used ring not writable");
		return 0;
	}
	*pushed = true;
	n->st.rx_packets++;
	n->st.rx_bytes += (uint64_t)r;
	return 1;
}

static unsigned rx_locked(struct vnet *n)
{
	struct virtq *vq = virtio_mmio_queue(&n->t, VIRTIO_NET_RECEIVEQ);
	if (!vq)
		return 0;
	bool pushed = false;
	unsigned got = 0;
	/* Bounded, so that vCPUs waiting for the lock get it between batches. */
	for (unsigned i = 0; i < vq->num && rx_one(n, vq, &pushed); i++)
		got++;
	if (pushed && virtq_should_interrupt(vq, n->t.mem))
		virtio_mmio_interrupt(&n->t);
	return got;
}

unsigned virtio_net_rx(struct vnet *n)
{
	pthread_mutex_lock(&n->t.lock);
	uint64_t before = n->st.rx_packets;
	rx_locked(n);
	unsigned got = (unsigned)(n->st.rx_packets - before);
	pthread_mutex_unlock(&n->t.lock);
	return got;
}

/* t.lock held: the receive thread waits for buffers: wake it up. */
static void rx_wake(struct vnet *n)
{
	if (!n->rx_waiting || !n->thread_running)
		return;
	n->rx_waiting = false;
	char b = 1;
	/* Non-blocking: a full pipe already holds a wake-up. */
	if (write(n->wake[1], &b, 1) < 0) {
		/* EAGAIN: one is pending, which is all we need */
	}
}

static void *rx_thread(void *arg)
{
	struct vnet *n = arg;
	for (;;) {
		pthread_mutex_lock(&n->t.lock);
		if (n->stopping) {
			pthread_mutex_unlock(&n->t.lock);
			break;
		}
		bool can = !n->tap_failed && rx_posted(n);
		if (!can && !n->rx_waiting)
			n->st.rx_waits++;
		n->rx_waiting = !can;
		pthread_mutex_unlock(&n->t.lock);

		struct pollfd p[2] = {
			{ .fd = n->wake[0], .events = POLLIN },
			{ .fd = n->tap, .events = POLLIN },
		};
		int r = poll(p, can ? 2 : 1, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			char buf[64];
			while (read(n->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (can && p[1].revents) {
			pthread_mutex_lock(&n->t.lock);
			rx_locked(n);
			pthread_mutex_unlock(&n->t.lock);
		}
	}
	return NULL;
}

/* ---- the transport's callbacks (t.lock held) */
static void net_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct vnet *n = dev;
	if (q == VIRTIO_NET_TRANSMITQ)
		virtio_mmio_serve(t, q, &n->tx_chain, tx_serve, n);
	else if (q == VIRTIO_NET_RECEIVEQ)
		rx_wake(n); /* new receive buffers */
}

static void net_driver_ok(void *dev, struct virtio_mmio *t)
{
	(void)t;
	rx_wake(dev); /* buffers posted before DRIVER_OK count from now on */
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	const struct vnet *n = dev;
	uint8_t cfg[VIRTIO_NET_CONFIG_LEN];
	memcpy(cfg, n->mac, TAP_MAC_LEN);
	cfg[6] = VIRTIO_NET_S_LINK_UP; /* le16 status */
	cfg[7] = 0;
	memcpy(data, cfg + off, size); /* the transport bounds off + size */
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS,
	.config_len = VIRTIO_NET_CONFIG_LEN,
	.config_read = net_config_read,
	.notify = net_notify,
	.driver_ok = net_driver_ok,
};

struct vnet *virtio_net_new(int tap, const uint8_t mac[6], const char *ifname,
			    struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi)
{
	struct vnet *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	virtio_mmio_init(&n->t, &net_ops, n, mem, host, base, gsi);
	n->tap = tap;
	n->host = host;
	n->wake[0] = n->wake[1] = -1;
	memcpy(n->mac, mac, TAP_MAC_LEN);
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifname ? ifname : "?");
	snprintf(n->t.label, sizeof(n->t.label), "virtio-net %s", n->ifname);
	return n;
}

static void net_stop(struct vnet *n)
{
	if (n->thread_running) {
		pthread_mutex_lock(&n->t.lock);
		n->stopping = true;
		n->rx_waiting = true; /* so that rx_wake writes */
		rx_wake(n);
		pthread_mutex_unlock(&n->t.lock);
		pthread_join(n->thread, NULL);
		n->thread_running = false;
	}
	for (int i = 0; i < 2; i++)
		if (n->wake[i] >= 0) {
			close(n->wake[i]);
			n->wake[i] = -1;
		}
}

static int net_start(struct vnet *n)
{
	if (pipe2(n->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return nb_err_errno("%s: pipe", n->t.label);
	int e = pthread_create(&n->thread, NULL, rx_thread, n);
	if (e) {
		errno = e;
		return nb_err_errno("%s: cannot start the receive thread", n->t.label);
	}
	n->thread_running = true;
	return 0;
}

struct vnet_set {
	struct vnet *dev[NET_MAX_DEVICES];
	unsigned n;
	FILE *log;
};

static void net_fini(void *state)
{
	struct vnet_set *s = state;
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		net_stop(s->dev[i]); /* the TAP itself is the machine's to close */
		pthread_mutex_destroy(&s->dev[i]->t.lock);
		free(s->dev[i]);
	}
	free(s);
}

static void mac_str(const uint8_t *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int net_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
		    void **state)
{
	const struct platform *p = host->plat;
	if (!p || !cfg->nnets)
		return 0;
	struct vnet_set *s = calloc(1, sizeof(*s));
	if (!s)
		return nb_err_internal("out of memory for virtio-net");
	s->log = host->log;
	*state = s;
	for (unsigned i = 0; i < p->nvirtio; i++) {
		const struct platform_virtio *v = &p->virtio[i];
		if (v->device_id != VIRTIO_ID_NET)
			continue;
		const struct net_config *nc = &cfg->net[v->index];
		if (v->index >= cfg->nnets || v->index >= NET_MAX_DEVICES || nc->fd < 0)
			return nb_err_internal("virtio-net %u: no open TAP", v->index);
		struct vnet *n = virtio_net_new(nc->fd, nc->mac, nc->ifname, host->mem, host,
						v->base, v->gsi);
		if (!n)
			return nb_err_internal("out of memory for virtio-net");
		s->dev[s->n++] = n;
		if (virtio_mmio_register(&n->t, bus) < 0 || net_start(n) < 0)
			return -1;
		if (host->log) {
			char what[160], mac[18];
			mac_str(n->mac, mac);
			snprintf(what, sizeof(what), "TAP %s%s, MAC %s%s", nc->ifname,
				 nc->created ? " (created; gone when nobios exits)" : "", mac,
				 nc->mac_set ? "" : " (derived from the TAP's name)");
			virtio_mmio_describe(&n->t, host->log, what);
		}
	}
	return 0;
}

/* The guest has stopped: end the receive thread (nothing touches guest
 * memory after this) and, with -v, say what went through. */
static int net_finish(void *state)
{
	struct vnet_set *s = state;
	for (unsigned i = 0; s && i < s->n; i++) {
		struct vnet *n = s->dev[i];
		net_stop(n);
		if (!s->log)
			continue;
		const struct virtio_net_stats *st = &n->st;
		fprintf(s->log, "nobios: %s: received %" PRIu64 " frames (%" PRIu64 " bytes), sent %"
			PRIu64 " (%" PRIu64 " bytes); dropped: %" PRIu64 " received frames larger "
			"than the guest's buffer or %d bytes, %" PRIu64 " bad receive buffers, %"
			PRIu64 " sent with a bad header, %" PRIu64 " of a bad size, %" PRIu64
			" refused by the TAP; %" PRIu64 " refused chains, %" PRIu64 " interrupts, %"
			PRIu64 " waits for receive buffers\n", n->t.label, st->rx_packets,
			st->rx_bytes, st->tx_packets, st->tx_bytes, st->rx_too_big,
			VIRTIO_NET_MAX_PACKET, st->rx_bad_chain, st->tx_bad, st->tx_bad_size,
			st->tx_errors, n->t.bad_chains, n->t.interrupts, st->rx_waits);
	}
	return 0;
}

static const struct device virtio_net_device = {
	.name = "virtio-net",
	.order = 530,
	.init = net_init,
	.fini = net_fini,
	.finish = net_finish,
};
DEVICE(virtio_net_device);
