/* test_virtio_net.c - src/virtio/virtio_net.c and src/net/tap.c: the
 * device against rings built by hand in a plain guest_mem buffer, with a
 * datagram socket pair standing in for the TAP (one frame per read and
 * write, as a TAP with IFF_NO_PI).  Checked against virtio 1.2 5.1: the
 * 12-byte header (5.1.6), num_buffers 1 on receive without MRG_RXBUF
 * (5.1.6.4.1), no offload flags accepted on transmit (5.1.6.2.1), frames
 * of up to 65550 bytes (5.1.6.3.1: 65562-byte buffers with the header); and
 * every malformed chain costs that frame only.  Also --net's parsing. */
#include "dev_fake.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/args.h"
#include "net/tap.h"
#include "util/err.h"
#include "virtio/virtio.h"

#define RAM  (1u << 20)
#define NUM  16u
#define BASE 0xD0000000ull
#define GSI  16
/* Queue 0 (receiveq1) and 1 (transmitq1) rings */
#define RXQ_DESC  0x1000u
#define RXQ_AVAIL 0x2000u
#define RXQ_USED  0x3000u
#define TXQ_DESC  0x4000u
#define TXQ_AVAIL 0x5000u
#define TXQ_USED  0x6000u
#define BUFS      0x10000u /* buffers from here */
#define HDR       12

struct nfx {
	uint8_t *buf;
	struct guest_mem mem;
	struct fake_host h;
	int sv[2]; /* sv[0]: the device's "TAP"; sv[1]: the host network */
	struct vnet *n;
	struct virtio_mmio *t;
	uint16_t avail[2];
};

static const uint8_t MAC[6] = { 0x02, 0x4e, 0x42, 0x01, 0x02, 0x03 };

static int setup(void **st)
{
	struct nfx *x = calloc(1, sizeof(*x));
	x->buf = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&x->mem, x->buf, RAM), 0);
	fake_host_init(&x->h, &x->mem, -1, -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, x->sv), 0);
	int big = 1 << 20;
	setsockopt(x->sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(x->sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	x->n = virtio_net_new(x->sv[0], MAC, "nbt0", &x->mem, &x->h.host, BASE, GSI);
	assert_non_null(x->n);
	x->t = (struct virtio_mmio *)x->n;
	*st = x;
	return 0;
}

static int teardown(void **st)
{
	struct nfx *x = *st;
	close(x->sv[0]);
	close(x->sv[1]);
	free(x->n);
	free(x->buf);
	free(x);
	return 0;
}

static uint32_t rd(struct virtio_mmio *t, uint32_t off)
{
	uint8_t d[4];
	virtio_mmio_read(t, BASE + off, d, 4);
	return dev_data_get(d, 4);
}

static void wr(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	uint8_t d[4];
	dev_data_put(d, 4, v);
	virtio_mmio_write(t, BASE + off, d, 4);
}

static void queue_setup(struct virtio_mmio *t, unsigned q, uint32_t desc, uint32_t avail,
			uint32_t used)
{
	wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, NUM);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, used);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

#define F_MAC    (1ULL << 5)
#define F_STATUS (1ULL << 16)

/* The driver's side of 3.1.1, up to DRIVER_OK when `ok`. */
static void start(struct nfx *x, uint64_t accept, bool ok)
{
	struct virtio_mmio *t = x->t;
	uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, s);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)accept);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accept >> 32));
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	wr(t, VIRTIO_MMIO_STATUS, s);
	assert_true(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	queue_setup(t, 0, RXQ_DESC, RXQ_AVAIL, RXQ_USED);
	queue_setup(t, 1, TXQ_DESC, TXQ_AVAIL, TXQ_USED);
	if (ok)
		wr(t, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK);
	x->avail[0] = x->avail[1] = 0;
}

static void std_start(struct nfx *x)
{
	start(x, 1ULL << VIRTIO_F_VERSION_1 | F_MAC | F_STATUS, true);
}

static void desc(struct nfx *x, unsigned q, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t *d = x->buf + (q ? TXQ_DESC : RXQ_DESC) + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(struct nfx *x, unsigned q, uint16_t head)
{
	uint32_t avail = q ? TXQ_AVAIL : RXQ_AVAIL;
	memcpy(x->buf + avail + 4 + 2 * (x->avail[q] % NUM), &head, 2);
	x->avail[q]++;
	memcpy(x->buf + avail + 2, &x->avail[q], 2);
}

static uint16_t used_idx(struct nfx *x, unsigned q)
{
	uint16_t v;
	memcpy(&v, x->buf + (q ? TXQ_USED : RXQ_USED) + 2, 2);
	return v;
}

static void used_elem(struct nfx *x, unsigned q, unsigned i, uint32_t *id, uint32_t *len)
{
	uint32_t used = q ? TXQ_USED : RXQ_USED;
	memcpy(id, x->buf + used + 4 + 8 * (i % NUM), 4);
	memcpy(len, x->buf + used + 8 + 8 * (i % NUM), 4);
}

static struct virtio_net_stats stats(struct nfx *x)
{
	struct virtio_net_stats s;
	virtio_net_stats(x->n, &s);
	return s;
}

/* A frame of len bytes with a recognisable pattern. */
static void frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + i / 256);
}

static ssize_t host_recv(struct nfx *x, uint8_t *buf, size_t max)
{
	return recv(x->sv[1], buf, max, MSG_DONTWAIT);
}

/* ---- registers and configuration */
static void test_config(void **st)
{
	struct nfx *x = *st;
	struct virtio_mmio *t = x->t;
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), 1); /* VIRTIO_ID_NET */
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(lo & F_MAC);
	assert_true(lo & F_STATUS);
	/* no offloads, no mergeable buffers, no control queue */
	assert_false(lo & (1u << 0 | 1u << 1 | 1u << 7 | 1u << 11 | 1u << 15 | 1u << 17));
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & 1, 1); /* VERSION_1 */
	/* receiveq1, transmitq1, nothing else */
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_NUM_MAX);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* struct virtio_net_config: mac[6], le16 status = VIRTIO_NET_S_LINK_UP */
	uint8_t cfg[8];
	for (unsigned i = 0; i < 8; i++)
		virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG + i, &cfg[i], 1);
	assert_memory_equal(cfg, MAC, 6);
	assert_int_equal(cfg[6], 1);
	assert_int_equal(cfg[7], 0);
	uint8_t w[2];
	virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG + 6, w, 2);
	assert_int_equal(w[0] | w[1] << 8, 1);
	/* past the configuration (max_virtqueue_pairs: no MQ): zeros */
	virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG + 8, w, 2);
	assert_int_equal(w[0] | w[1], 0);
	/* an offload the device does not offer is refused */
	start(x, 1ULL << VIRTIO_F_VERSION_1 | F_MAC, false);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 0); /* VIRTIO_NET_F_CSUM */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
}

/* ---- transmit */
static void tx_hdr(struct nfx *x, uint64_t at, uint8_t flags, uint8_t gso, uint16_t numbuf)
{
	memset(x->buf + at, 0, HDR);
	x->buf[at] = flags;
	x->buf[at + 1] = gso;
	memcpy(x->buf + at + 10, &numbuf, 2);
}

static void test_tx(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	uint8_t got[2048], want[1514];
	/* header and frame in one buffer (Linux's can_push); num_buffers left
	 * as whatever was there: Linux does not set it on transmit */
	tx_hdr(x, BUFS, 0, 0, 0xBEEF);
	frame(x->buf + BUFS + HDR, 60, 1);
	desc(x, 1, 0, BUFS, HDR + 60, 0, 0);
	offer(x, 1, 0);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(host_recv(x, got, sizeof(got)), 60);
	frame(want, 60, 1);
	assert_memory_equal(got, want, 60);
	assert_int_equal(used_idx(x, 1), 1);
	uint32_t id, len;
	used_elem(x, 1, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0); /* nothing written for the driver */
	assert_int_equal(x->h.level[GSI], 1);
	/* header alone, then the frame in three pieces */
	tx_hdr(x, BUFS + 0x1000, 0, 0, 0);
	frame(x->buf + BUFS + 0x2000, 1514, 7);
	desc(x, 1, 3, BUFS + 0x1000, HDR, VIRTQ_DESC_F_NEXT, 4);
	desc(x, 1, 4, BUFS + 0x2000, 14, VIRTQ_DESC_F_NEXT, 5);
	desc(x, 1, 5, BUFS + 0x2000 + 14, 1000, VIRTQ_DESC_F_NEXT, 6);
	desc(x, 1, 6, BUFS + 0x2000 + 1014, 500, 0, 0);
	offer(x, 1, 3);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(host_recv(x, got, sizeof(got)), 1514);
	frame(want, 1514, 7);
	assert_memory_equal(got, want, 1514);
	struct virtio_net_stats s = stats(x);
	assert_int_equal(s.tx_packets, 2);
	assert_int_equal(s.tx_bytes, 1574);
	assert_int_equal(s.tx_bad + s.tx_bad_size + s.tx_errors, 0);
}

static void test_tx_malformed(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	uint8_t got[70000];
	/* 1: a header of 11 bytes */
	tx_hdr(x, BUFS, 0, 0, 0);
	desc(x, 1, 0, BUFS, HDR - 1, 0, 0);
	offer(x, 1, 0);
	/* 2: VIRTIO_NET_HDR_F_NEEDS_CSUM without VIRTIO_NET_F_CSUM */
	tx_hdr(x, BUFS + 0x100, 1, 0, 0);
	desc(x, 1, 1, BUFS + 0x100, HDR + 60, 0, 0);
	offer(x, 1, 1);
	/* 3: gso_type VIRTIO_NET_HDR_GSO_TCPV4 without a GSO feature */
	tx_hdr(x, BUFS + 0x200, 0, 1, 0);
	desc(x, 1, 2, BUFS + 0x200, HDR + 60, 0, 0);
	offer(x, 1, 2);
	/* 4: VIRTIO_NET_HDR_F_DATA_VALID is the device's to set */
	tx_hdr(x, BUFS + 0x300, 2, 0, 0);
	desc(x, 1, 3, BUFS + 0x300, HDR + 60, 0, 0);
	offer(x, 1, 3);
	/* 5: a frame shorter than an Ethernet header */
	tx_hdr(x, BUFS + 0x400, 0, 0, 0);
	desc(x, 1, 4, BUFS + 0x400, HDR + 13, 0, 0);
	offer(x, 1, 4);
	/* 6: a frame of 65551 bytes */
	tx_hdr(x, BUFS + 0x10000, 0, 0, 0);
	desc(x, 1, 5, BUFS + 0x10000, HDR + 65551, 0, 0);
	offer(x, 1, 5);
	/* 7: device-writable only */
	desc(x, 1, 6, BUFS + 0x500, HDR + 60, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 1, 6);
	/* 8: a loop; 9: outside RAM */
	desc(x, 1, 7, BUFS + 0x600, HDR + 60, VIRTQ_DESC_F_NEXT, 7);
	offer(x, 1, 7);
	desc(x, 1, 8, RAM - 20, HDR + 60, 0, 0);
	offer(x, 1, 8);
	/* 10: good; 11: exactly 65550 bytes, good */
	tx_hdr(x, BUFS + 0x700, 0, 0, 0);
	frame(x->buf + BUFS + 0x700 + HDR, 64, 3);
	desc(x, 1, 9, BUFS + 0x700, HDR + 64, 0, 0);
	offer(x, 1, 9);
	tx_hdr(x, BUFS + 0x30000, 0, 0, 0);
	desc(x, 1, 10, BUFS + 0x30000, HDR + 65550, 0, 0);
	offer(x, 1, 10);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	/* every chain came back, only the good frames went out */
	assert_int_equal(used_idx(x, 1), 11);
	assert_int_equal(host_recv(x, got, sizeof(got)), 64);
	assert_int_equal(host_recv(x, got, sizeof(got)), 65550);
	assert_true(host_recv(x, got, sizeof(got)) < 0);
	struct virtio_net_stats s = stats(x);
	assert_int_equal(s.tx_packets, 2);
	assert_int_equal(s.tx_bad, 5);      /* 1, 2, 3, 4, 7 */
	assert_int_equal(s.tx_bad_size, 2); /* 5, 6 */
	assert_int_equal(x->t->bad_chains, 2); /* 8, 9 */
	assert_int_equal(rd(x->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, 0);
}

static void test_tx_refused(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	close(x->sv[1]); /* nobody on the other side: the write fails */
	x->sv[1] = socket(AF_UNIX, SOCK_DGRAM, 0);
	tx_hdr(x, BUFS, 0, 0, 0);
	desc(x, 1, 0, BUFS, HDR + 60, 0, 0);
	offer(x, 1, 0);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(used_idx(x, 1), 1); /* the chain comes back all the same */
	assert_int_equal(stats(x).tx_errors, 1);
	assert_int_equal(stats(x).tx_packets, 0);
}

/* ---- receive */
static void host_send(struct nfx *x, size_t len, uint8_t seed)
{
	static uint8_t f[70000];
	frame(f, len, seed);
	assert_int_equal(send(x->sv[1], f, len, 0), (ssize_t)len);
}

static void check_rx_hdr(struct nfx *x, uint64_t at)
{
	/* 5.1.6.4.1: flags 0, gso_type GSO_NONE, num_buffers 1 */
	static const uint8_t want[HDR] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	assert_memory_equal(x->buf + at, want, HDR);
}

static void test_rx(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	/* one 1526-byte buffer (5.1.6.3.1's minimum without offloads) */
	memset(x->buf + BUFS, 0xEE, 2048);
	desc(x, 0, 0, BUFS, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 0);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	host_send(x, 100, 9);
	assert_int_equal(virtio_net_rx(x->n), 1);
	assert_int_equal(used_idx(x, 0), 1);
	uint32_t id, len;
	used_elem(x, 0, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, HDR + 100);
	check_rx_hdr(x, BUFS);
	uint8_t want[1514];
	frame(want, 100, 9);
	assert_memory_equal(x->buf + BUFS + HDR, want, 100);
	assert_int_equal(x->h.level[GSI], 1);
	/* header and data in separate buffers, the frame across three */
	desc(x, 0, 5, BUFS + 0x1000, HDR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
	desc(x, 0, 6, BUFS + 0x2000, 1000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
	desc(x, 0, 7, BUFS + 0x3000, 200, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 8);
	desc(x, 0, 8, BUFS + 0x4000, 400, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 5);
	host_send(x, 1514, 4);
	assert_int_equal(virtio_net_rx(x->n), 1);
	used_elem(x, 0, 1, &id, &len);
	assert_int_equal(id, 5);
	assert_int_equal(len, HDR + 1514);
	check_rx_hdr(x, BUFS + 0x1000);
	frame(want, 1514, 4);
	assert_memory_equal(x->buf + BUFS + 0x2000, want, 1000);
	assert_memory_equal(x->buf + BUFS + 0x3000, want + 1000, 200);
	assert_memory_equal(x->buf + BUFS + 0x4000, want + 1200, 314);
	/* the TAP is empty: nothing more */
	assert_int_equal(virtio_net_rx(x->n), 0);
	struct virtio_net_stats s = stats(x);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.rx_bytes, 1614);
}

/* VIRTIO_F_EVENT_IDX (2.7.7.2, 2.7.10): received frames interrupt only when
 * the used index passes used_event; running out of receive buffers asks
 * for the driver's notification of the next one (avail_event). */
#define RXQ_USED_EVENT  (RXQ_AVAIL + 4 + 2 * NUM)
#define RXQ_AVAIL_EVENT (RXQ_USED + 4 + 8 * NUM)
static void test_rx_event_idx(void **st)
{
	struct nfx *x = *st;
	start(x, 1ULL << VIRTIO_F_VERSION_1 | F_MAC | F_STATUS | 1ULL << VIRTIO_F_EVENT_IDX, true);
	uint16_t ue = 1, ae;
	memcpy(x->buf + RXQ_USED_EVENT, &ue, 2); /* interrupt once entry 1 is used */
	for (unsigned i = 0; i < 3; i++) {
		desc(x, 0, i, BUFS + 0x1000 * i, 1526, VIRTQ_DESC_F_WRITE, 0);
		offer(x, 0, (uint16_t)i);
	}
	host_send(x, 100, 1);
	assert_int_equal(virtio_net_rx(x->n), 1);
	assert_int_equal(used_idx(x, 0), 1);
	assert_int_equal(x->t->interrupts, 0); /* entry 0 used: not asked for */
	host_send(x, 100, 2);
	host_send(x, 100, 3);
	host_send(x, 100, 4); /* one more than the buffers */
	assert_int_equal(virtio_net_rx(x->n), 2);
	assert_int_equal(used_idx(x, 0), 3);
	assert_int_equal(x->h.level[GSI], 1);
	assert_int_equal(x->t->interrupts, 1);
	/* out of buffers: the next one posted (entry 3) is to be notified */
	memcpy(&ae, x->buf + RXQ_AVAIL_EVENT, 2);
	assert_int_equal(ae, 3);
	desc(x, 0, 3, BUFS + 0x3000, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 3);
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(virtio_net_rx(x->n), 1); /* the frame that waited */
	assert_int_equal(used_idx(x, 0), 4);
	uint8_t want[100];
	frame(want, 100, 4);
	assert_memory_equal(x->buf + BUFS + 0x3000 + HDR, want, 100);
}

static void test_rx_no_buffers(void **st)
{
	struct nfx *x = *st;
	/* before DRIVER_OK: the queue is not used, the frame waits in the TAP */
	start(x, 1ULL << VIRTIO_F_VERSION_1 | F_MAC, false);
	desc(x, 0, 0, BUFS, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 0);
	host_send(x, 80, 2);
	assert_int_equal(virtio_net_rx(x->n), 0);
	assert_int_equal(used_idx(x, 0), 0);
	/* DRIVER_OK: the buffer posted before counts */
	wr(x->t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK |
					     VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(virtio_net_rx(x->n), 1);
	/* no buffer posted: the next frame is not read (not dropped) */
	host_send(x, 90, 3);
	assert_int_equal(virtio_net_rx(x->n), 0);
	int pending = 0;
	assert_int_equal(ioctl(x->sv[0], FIONREAD, &pending), 0);
	assert_int_equal(pending, 90);
	desc(x, 0, 1, BUFS + 0x1000, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 1);
	assert_int_equal(virtio_net_rx(x->n), 1);
	uint32_t id, len;
	used_elem(x, 0, 1, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, HDR + 90);
	assert_int_equal(stats(x).rx_too_big, 0);
}

static void test_rx_too_big(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	/* a 112-byte buffer: a 101-byte frame does not fit, is dropped, and
	 * the buffer stays posted for the next frame */
	desc(x, 0, 2, BUFS, HDR + 100, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 2);
	host_send(x, 101, 1);
	host_send(x, 100, 2);
	assert_int_equal(virtio_net_rx(x->n), 1);
	assert_int_equal(used_idx(x, 0), 1);
	uint32_t id, len;
	used_elem(x, 0, 0, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, HDR + 100);
	uint8_t want[100];
	frame(want, 100, 2);
	assert_memory_equal(x->buf + BUFS + HDR, want, 100);
	assert_int_equal(stats(x).rx_too_big, 1);
	/* over 65550 bytes: dropped even into a buffer that would hold it */
	desc(x, 0, 3, BUFS + 0x10000, HDR + 70000, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 3);
	host_send(x, 65551, 5);
	host_send(x, 65550, 6);
	assert_int_equal(virtio_net_rx(x->n), 1);
	used_elem(x, 0, 1, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, HDR + 65550);
	assert_int_equal(stats(x).rx_too_big, 2);
}

static void test_rx_malformed(void **st)
{
	struct nfx *x = *st;
	std_start(x);
	/* device-readable buffer in a receive chain */
	desc(x, 0, 0, BUFS, 1526, 0, 0);
	offer(x, 0, 0);
	/* writable, but shorter than the header */
	desc(x, 0, 1, BUFS + 0x1000, HDR - 1, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 1);
	/* a loop */
	desc(x, 0, 2, BUFS + 0x2000, 1526, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	offer(x, 0, 2);
	/* outside RAM */
	desc(x, 0, 3, RAM - 100, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 3);
	/* and a good one */
	desc(x, 0, 4, BUFS + 0x3000, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 4);
	memset(x->buf + BUFS, 0xAA, 0x3000);
	host_send(x, 200, 8);
	assert_int_equal(virtio_net_rx(x->n), 1);
	/* the bad ones came back unused, the frame went to the good one */
	assert_int_equal(used_idx(x, 0), 5);
	for (unsigned i = 0; i < 4; i++) {
		uint32_t id, len;
		used_elem(x, 0, i, &id, &len);
		assert_int_equal(id, i);
		assert_int_equal(len, 0);
	}
	uint32_t id, len;
	used_elem(x, 0, 4, &id, &len);
	assert_int_equal(id, 4);
	assert_int_equal(len, HDR + 200);
	for (unsigned i = 0; i < 0x3000; i++)
		assert_int_equal(x->buf[BUFS + i], 0xAA); /* nothing written there */
	assert_int_equal(stats(x).rx_bad_chain, 2);
	assert_int_equal(x->t->bad_chains, 2);
	/* a corrupt available ring: the device needs a reset, no frame read */
	uint16_t bad = (uint16_t)(x->avail[0] + NUM + 1);
	memcpy(x->buf + RXQ_AVAIL + 2, &bad, 2);
	host_send(x, 60, 1);
	assert_int_equal(virtio_net_rx(x->n), 0);
	assert_true(rd(x->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
	/* reset and start again: it works */
	std_start(x);
	desc(x, 0, 0, BUFS, 1526, VIRTQ_DESC_F_WRITE, 0);
	offer(x, 0, 0);
	assert_int_equal(virtio_net_rx(x->n), 1);
	assert_int_equal(used_idx(x, 0), 1);
}

/* ---- the TAP helpers and --net */
static void test_tap_helpers(void **st)
{
	(void)st;
	uint8_t m[6];
	assert_null(tap_parse_mac("52:54:00:AB:cd:0f", m));
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f };
	assert_memory_equal(m, want, 6);
	assert_non_null(tap_parse_mac("01:00:5e:00:00:01", m)); /* multicast */
	assert_non_null(tap_parse_mac("00:00:00:00:00:00", m));
	assert_non_null(tap_parse_mac("52:54:00:ab:cd", m));
	assert_non_null(tap_parse_mac("52:54:00:ab:cd:0f:", m));
	assert_non_null(tap_parse_mac("52-54-00-ab-cd-0f", m));
	assert_non_null(tap_parse_mac("5:54:00:ab:cd:0f", m));
	assert_non_null(tap_parse_mac("", m));
	uint8_t a[6], b[6], c[6];
	tap_default_mac("nbt0", a);
	tap_default_mac("nbt0", b);
	tap_default_mac("nbt1", c);
	assert_memory_equal(a, b, 6); /* deterministic */
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(a[0], 0x02); /* locally administered, unicast */
	assert_int_equal(a[1], 0x4e);
	assert_int_equal(a[2], 0x42);
	assert_null(tap_name_check("nbtap0"));
	assert_null(tap_name_check("123456789012345"));
	assert_non_null(tap_name_check("1234567890123456"));
	assert_non_null(tap_name_check(""));
	assert_non_null(tap_name_check("a/b"));
	assert_non_null(tap_name_check("a b"));
	assert_non_null(tap_name_check(".."));
}

static int parse(struct args *a, const char *w1, const char *w2, const char *w3,
		 const char *w4)
{
	static char store[8][64];
	static char *argv[8];
	const char *w[] = { "nobios", "run", "k", w1, w2, w3, w4 };
	int argc = 0;
	for (int i = 0; i < 7 && w[i]; i++) {
		snprintf(store[i], sizeof(store[i]), "%s", w[i]);
		argv[argc++] = store[i];
	}
	argv[argc] = NULL;
	nb_err_clear();
	return args_parse(argc, argv, a);
}

static void test_args_net(void **st)
{
	(void)st;
	struct args a;
	assert_int_equal(parse(&a, "--net", "tap=nbt0,mac=52:54:00:12:34:56", "--net", "tap"), 0);
	assert_int_equal(a.cfg.nnets, 2);
	assert_string_equal(a.cfg.net[0].tap, "nbt0");
	assert_true(a.cfg.net[0].mac_set);
	assert_int_equal(a.cfg.net[0].mac[5], 0x56);
	assert_null(a.cfg.net[1].tap); /* created by nobios */
	assert_false(a.cfg.net[1].mac_set);
	assert_int_equal(a.cfg.net[0].fd, -1);
	assert_int_equal(parse(&a, "--net=tap=x", NULL, NULL, NULL), 0);
	assert_string_equal(a.cfg.net[0].tap, "x");
	/* errors: one line, an input error (status 2) */
	const char *bad[] = { "user", "tap=", "tap=a/b", "tap=x,mac=01:00:00:00:00:01",
			      "tap=x,mac=zz", "tap=x,speed=1", ",mac=02:00:00:00:00:01",
			      "tap=waytoolonginterfacename" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&a, "--net", bad[i], NULL, NULL), -1);
		assert_int_equal(nb_errclass(), NB_ERR_INPUT);
		assert_non_null(strstr(nb_errmsg(), "--net"));
	}
	assert_int_equal(parse(&a, "--net", "tap=x", "--net", "tap=x"), -1);
	assert_non_null(strstr(nb_errmsg(), "twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_no_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_malformed, setup, teardown),
		cmocka_unit_test(test_tap_helpers),
		cmocka_unit_test(test_args_net),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
