/* fuzz_virtio.c - libFuzzer harness: virtio-blk, virtio-rng and virtio-net over the
 * virtio-mmio transport, driven as a hostile guest would: register reads and
 * writes of any width at any offset of the window, queue notifications, and
 * guest memory the input writes (descriptor tables, rings, indirect tables,
 * request headers) between them.  A shortcut op runs a correct driver
 * initialisation with the rings at fixed places, so inputs reach the request
 * paths quickly.  The disk is a 64 KiB writable memory image; guest RAM 1 MiB.
 * virtio-net's TAP is a datagram socket pair: what the guest transmits is
 * read and dropped, and an op sends it frames of any size (up to past the
 * 65550-byte limit) that the receive path (virtio_net_rx, the receive
 * thread's work) puts into whatever buffers the input posted. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "block/disk_image.h"
#include "dev/dev.h"
#include "fuzz.h"
#include "mem/mem.h"
#include "virtio/virtio.h"

#define RAM (1u << 20)
#define DISK (64u << 10)
#define BASE 0xD0000000ull
#define MAX_OPS 2048
#define FRAME_MAX 70000 /* past VIRTIO_NET_MAX_PACKET (65550) */

static int f_irq(void *vm, unsigned irq, int level) { return irq < 24 && level >= 0 && level <= 1 ? 0 : -1; }

static void wr(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	uint8_t d[4];
	dev_data_put(d, 4, v);
	virtio_mmio_write(t, BASE + off, d, 4);
}

/* The driver's side of 3.1.1 with the rings in the first pages. */
static void driver_init(struct virtio_mmio *t, uint16_t num, uint32_t feat_lo)
{
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, feat_lo);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x2000);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, 0x3000);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	/* a second queue (virtio-net's transmitq; the others have one) */
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x4000);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x5000);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, 0x6000);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram, *disk, *frame;
	static int sv[2] = { -1, -1 };
	if (!ram) {
		ram = malloc(RAM);
		disk = malloc(DISK);
		frame = malloc(FRAME_MAX);
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
			abort();
		int big = 1 << 20;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	/* nothing carries over from the last input */
	for (int i = 0; i < 2; i++)
		while (recv(sv[i], frame, FRAME_MAX, MSG_DONTWAIT) >= 0)
			;
	memset(ram, 0, RAM);
	memset(disk, 0x5A, DISK);
	struct fz f = { data, size };
	struct guest_mem m;
	mem_init_buf(&m, ram, RAM);
	struct dev_host host = { .vm = NULL, .irq_line = f_irq, .mem = &m, .console_in = -1,
				 .console_out = -1 };
	struct disk_image img;
	disk_image_init_mem(&img, "fuzz.img", disk, DISK, true);
	static const uint8_t mac[6] = { 2, 0x4e, 0x42, 1, 2, 3 };
	struct virtio_mmio *dev[3];
	dev[0] = (struct virtio_mmio *)virtio_blk_new(&img, "fuzz.img", 0, &m, &host, BASE, 16);
	dev[1] = (struct virtio_mmio *)virtio_rng_new(&m, &host, BASE, 17);
	dev[2] = (struct virtio_mmio *)virtio_net_new(sv[0], mac, "fuzz0", &m, &host, BASE, 18);
	if (!dev[0] || !dev[1] || !dev[2])
		abort();
	for (unsigned op = 0; op < MAX_OPS && fz_left(&f); op++) {
		uint8_t k = fz_u8(&f);
		/* bit 7: the rng, with bit 6 too the network device; else the disk */
		struct virtio_mmio *t = dev[(k & 0xC0) == 0xC0 ? 2 : k >> 7];
		if (t == dev[2] && (k & 7) == 6) { /* a frame from the host, then receive */
			size_t len = fz_u16(&f) + (fz_u8(&f) & 1 ? 4465 : 0); /* up to 70000 */
			if (len > FRAME_MAX)
				len = FRAME_MAX;
			memset(frame, 0xA5, len);
			fz_bytes(&f, frame, len < 64 ? len : 64);
			if (send(sv[1], frame, len, MSG_DONTWAIT) < 0) {
				/* the socket is full: receive what is there first */
			}
			virtio_net_rx((struct vnet *)dev[2]);
			continue;
		}
		switch (k & 7) {
		case 0: /* init with a queue size and features from the input */
			driver_init(t, (uint16_t)(1u << (fz_u8(&f) % 10)), fz_u32(&f));
			break;
		case 1: { /* register or config write, any width */
			uint32_t off = fz_u16(&f) & 0xFFF;
			unsigned sz = 1u << (fz_u8(&f) & 3);
			uint8_t d[8];
			fz_bytes(&f, d, sizeof(d));
			virtio_mmio_write(t, BASE + off, d, sz);
			break;
		}
		case 2: { /* register or config read */
			uint32_t off = fz_u16(&f) & 0xFFF;
			uint8_t d[8];
			virtio_mmio_read(t, BASE + off, d, 1u << (fz_u8(&f) & 3));
			break;
		}
		case 3: /* notify a queue */
			wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, fz_u8(&f) & 3);
			break;
		case 4: /* interrupt acknowledge */
			wr(t, VIRTIO_MMIO_INTERRUPT_ACK, fz_u8(&f));
			break;
		default: { /* guest memory: a run of bytes at an address in the rings' pages
			    * or anywhere */
			uint32_t at = (k & 1) ? fz_u16(&f) & 0x7FFF : fz_u32(&f) % RAM;
			uint8_t len = fz_u8(&f);
			uint8_t buf[256];
			size_t got = fz_bytes(&f, buf, len);
			if (at + got > RAM)
				got = RAM - at;
			memcpy(ram + at, buf, got);
			break;
		}
		}
	}
	free(dev[0]);
	free(dev[1]);
	pthread_mutex_destroy(&dev[2]->lock);
	free(dev[2]);
	return 0;
}
