/* virtio_probe.c - a freestanding guest that drives nobios's virtio-blk (the
 * first --disk, at 0xD0000000) through its MMIO registers, as a hostile
 * driver would: good requests first, then malformed descriptor chains
 * (loops, buffers outside RAM, the wrong direction, absurd lengths, bad
 * indirect tables, a corrupt available index).  Each malformed request must
 * fail with the status virtio 1.2 5.2.6 gives it, or come back with nothing
 * written; nobios must keep running (the probe ends through the debug-exit
 * port); the test script then checks the image did not change.
 *
 * The disk (tests/boot/virtio_probe.sh): 64 sectors, read-write, sector n
 * filled with the byte n, sector 0 beginning with "NOBIOS-VIRTIO-DISK".
 * Guest RAM: 64 MiB. */
#include "probe.h"

#define VBASE 0xD0000000ull
#define RAM_SIZE (64ull << 20)

/* registers (4.2.2) */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4
#define R_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define ST_OK 0
#define ST_IOERR 1
#define ST_UNSUPP 2

#define QN 16

struct desc { u64 addr; u32 len; u16 flags, next; };
struct req_hdr { u32 type, reserved; u64 sector; };

static struct desc ring_desc[QN] __attribute__((aligned(16)));
static volatile u16 ring_avail[3 + QN] __attribute__((aligned(2)));
static volatile u32 ring_used[1 + 2 * QN + 1] __attribute__((aligned(4)));
static struct desc ind[8] __attribute__((aligned(16)));
static struct req_hdr hdr;
static u8 data[4096] __attribute__((aligned(512)));
static volatile u8 status;
static u16 avail_idx, used_seen;

static u32 rd(u32 off) { return *(volatile u32 *)(uptr)(VBASE + off); }
static void wr(u32 off, u32 v) { *(volatile u32 *)(uptr)(VBASE + off) = v; }

static void mem_set(void *p, u8 v, u64 n) { u8 *b = p; while (n--) *b++ = v; }

static void setd(unsigned i, u64 addr, u32 len, u16 flags, u16 next)
{
	ring_desc[i] = (struct desc){ addr, len, flags, next };
}

static u16 used_idx(void) { return (u16)(ring_used[0] >> 16); }

/* Offer head, notify, wait for the used ring to move; returns the used
 * length (or 0xFFFFFFFF when nothing came back). */
static u32 submit(u16 head)
{
	ring_avail[2 + avail_idx % QN] = head;
	__asm__ volatile("" ::: "memory");
	avail_idx++;
	ring_avail[1] = avail_idx;
	__asm__ volatile("mfence" ::: "memory");
	wr(R_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 1000000 && used_idx() == used_seen; i++)
		__asm__ volatile("pause");
	__asm__ volatile("" ::: "memory"); /* the device wrote our buffers */
	if (used_idx() == used_seen)
		return 0xFFFFFFFF;
	unsigned slot = used_seen % QN;
	used_seen++;
	CHECK_EQ(ring_used[1 + 2 * slot], head);
	return ring_used[2 + 2 * slot];
}

static void setup_device(void)
{
	wr(R_STATUS, 0);
	CHECK_EQ(rd(R_STATUS), 0);
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 1);
	u32 hi = rd(R_DEV_FEAT);
	wr(R_DEV_FEAT_SEL, 0);
	u32 lo = rd(R_DEV_FEAT);
	CHECK(hi & 1);                /* VIRTIO_F_VERSION_1 */
	CHECK(lo & (1u << 28));       /* VIRTIO_F_INDIRECT_DESC */
	CHECK(!(lo & (1u << 5)));     /* not VIRTIO_BLK_F_RO: the disk is rw */
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 1u << 28);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	CHECK(rd(R_STATUS) & S_FEATURES_OK);
	wr(R_QUEUE_SEL, 0);
	CHECK(rd(R_QUEUE_NUM_MAX) >= QN);
	CHECK_EQ(rd(R_QUEUE_READY), 0);
	wr(R_QUEUE_NUM, QN);
	wr(R_DESC_LO, (u32)(uptr)ring_desc);
	wr(R_DESC_HI, 0);
	wr(R_AVAIL_LO, (u32)(uptr)ring_avail);
	wr(R_AVAIL_HI, 0);
	wr(R_USED_LO, (u32)(uptr)ring_used);
	wr(R_USED_HI, 0);
	mem_set((void *)ring_avail, 0, sizeof(ring_avail));
	mem_set((void *)ring_used, 0, sizeof(ring_used));
	avail_idx = used_seen = 0;
	wr(R_QUEUE_READY, 1);
	CHECK_EQ(rd(R_QUEUE_READY), 1);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* A three-descriptor request at 0..2: header, data, status. */
static u32 request(u32 type, u64 sector, u32 len, u16 data_flags)
{
	hdr = (struct req_hdr){ type, 0, sector };
	status = 0xEE;
	setd(0, (uptr)&hdr, sizeof(hdr), F_NEXT, 1);
	setd(1, (uptr)data, len, F_NEXT | data_flags, 2);
	setd(2, (uptr)&status, 1, F_WRITE, 0);
	return submit(0);
}

void probe_main(void);
void probe_main(void)
{
	puts_("virtio probe\n");
	CHECK_EQ(rd(R_MAGIC), 0x74726976);
	CHECK_EQ(rd(R_VERSION), 2);
	CHECK_EQ(rd(R_DEVICE_ID), 2);
	CHECK_EQ(rd(R_CONFIG), 64); /* capacity: 64 sectors */
	setup_device();

	/* good: read sector 0 and 3 */
	mem_set(data, 0, sizeof(data));
	CHECK_EQ(request(T_IN, 0, 512, F_WRITE), 513);
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 'N' && data[7] == 'V' && data[17] == 'K');
	CHECK_EQ(request(T_IN, 3, 1024, F_WRITE), 1025);
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 3 && data[1023] == 4);
	/* the used-buffer interrupt is pending until acknowledged */
	CHECK(rd(R_INT_STATUS) & 1);
	wr(R_INT_ACK, 1);
	CHECK_EQ(rd(R_INT_STATUS), 0);
	/* get-id */
	mem_set(data, 0, 64);
	CHECK_EQ(request(T_GET_ID, 0, 20, F_WRITE), 21);
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 'v' && data[1] == 'p'); /* "vprobe.img" */
	/* flush */
	hdr = (struct req_hdr){ T_FLUSH, 0, 0 };
	status = 0xEE;
	setd(0, (uptr)&hdr, sizeof(hdr), F_NEXT, 2);
	setd(2, (uptr)&status, 1, F_WRITE, 0);
	CHECK_EQ(submit(0), 1);
	CHECK_EQ(status, ST_OK);
	puts_("good requests done\n");

	/* past the end: IOERR, for reads and writes */
	CHECK_EQ(request(T_IN, 63, 1024, F_WRITE), 1);
	CHECK_EQ(status, ST_IOERR);
	mem_set(data, 0xAB, sizeof(data));
	CHECK_EQ(request(T_OUT, 64, 512, 0), 1);
	CHECK_EQ(status, ST_IOERR);
	CHECK_EQ(request(T_OUT, 0xFFFFFFFFFFFFFFFFull, 512, 0), 1);
	CHECK_EQ(status, ST_IOERR);
	/* unknown type: UNSUPP */
	CHECK_EQ(request(99, 0, 512, F_WRITE), 1);
	CHECK_EQ(status, ST_UNSUPP);
	/* wrong direction: IN into a device-readable buffer; OUT from a
	 * device-writable one (that would have written sector 1) */
	CHECK_EQ(request(T_IN, 0, 512, 0), 1);
	CHECK_EQ(status, ST_IOERR);
	CHECK_EQ(request(T_OUT, 1, 512, F_WRITE), 1);
	CHECK_EQ(status, ST_IOERR);
	/* data not a whole sector */
	CHECK_EQ(request(T_OUT, 1, 100, 0), 1);
	CHECK_EQ(status, ST_IOERR);
	puts_("bad requests done\n");

	/* malformed chains: back with nothing written, status untouched */
	hdr = (struct req_hdr){ T_OUT, 0, 2 };
	status = 0xEE;
	setd(0, (uptr)&hdr, sizeof(hdr), F_NEXT, 1);
	setd(1, (uptr)data, 512, F_NEXT, 0); /* loop back to the head */
	CHECK_EQ(submit(0), 0);
	CHECK_EQ(status, 0xEE);
	setd(1, (uptr)data, 512, F_NEXT, 1); /* self loop */
	CHECK_EQ(submit(0), 0);
	setd(1, RAM_SIZE - 256, 512, F_NEXT, 2); /* straddles the end of RAM */
	setd(2, (uptr)&status, 1, F_WRITE, 0);
	CHECK_EQ(submit(0), 0);
	CHECK_EQ(status, 0xEE);
	setd(1, 0xFFFFFFFFFFFFF000ull, 0x2000, F_NEXT, 2); /* wraps around */
	CHECK_EQ(submit(0), 0);
	setd(1, 0xC0000000ull, 512, F_NEXT, 2); /* the MMIO hole */
	CHECK_EQ(submit(0), 0);
	setd(1, (uptr)data, 0xFFFFFFF0u, F_NEXT, 2); /* absurd length */
	CHECK_EQ(submit(0), 0);
	setd(1, (uptr)data, 512, F_NEXT, QN + 5); /* next outside the queue */
	CHECK_EQ(submit(0), 0);
	/* status before data: device-readable after device-writable */
	setd(0, (uptr)&hdr, sizeof(hdr), F_NEXT, 2);
	setd(2, (uptr)&status, 1, F_WRITE | F_NEXT, 1);
	setd(1, (uptr)data, 512, 0, 0);
	CHECK_EQ(submit(0), 0);
	CHECK_EQ(status, 0xEE);
	/* no status byte at all: nowhere to report, nothing done */
	setd(0, (uptr)&hdr, sizeof(hdr), F_NEXT, 1);
	setd(1, (uptr)data, 512, 0, 0);
	CHECK_EQ(submit(0), 0);
	puts_("malformed chains done\n");

	/* indirect tables */
	ind[0] = (struct desc){ (uptr)&hdr, sizeof(hdr), F_NEXT, 1 };
	ind[1] = (struct desc){ (uptr)data, 512, F_NEXT | F_WRITE, 2 };
	ind[2] = (struct desc){ (uptr)&status, 1, F_WRITE, 0 };
	hdr = (struct req_hdr){ T_IN, 0, 5 };
	status = 0xEE;
	setd(0, (uptr)ind, 3 * sizeof(struct desc), F_INDIRECT, 0);
	CHECK_EQ(submit(0), 513); /* a good one */
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 5);
	status = 0xEE;
	setd(0, (uptr)ind, 20, F_INDIRECT, 0); /* not a whole descriptor */
	CHECK_EQ(submit(0), 0);
	setd(0, RAM_SIZE - 16, 48, F_INDIRECT, 0); /* table outside RAM */
	CHECK_EQ(submit(0), 0);
	setd(0, 0, 0x100000, F_INDIRECT, 0); /* 65536 entries */
	CHECK_EQ(submit(0), 0);
	setd(0, (uptr)ind, 48, F_INDIRECT | F_NEXT, 1); /* with NEXT */
	CHECK_EQ(submit(0), 0);
	ind[1] = (struct desc){ (uptr)ind, 48, F_INDIRECT, 0 }; /* nested */
	hdr = (struct req_hdr){ T_OUT, 0, 6 };
	setd(0, (uptr)ind, 48, F_INDIRECT, 0);
	CHECK_EQ(submit(0), 0);
	ind[1] = (struct desc){ (uptr)data, 512, F_NEXT, 0 }; /* loop in the table */
	CHECK_EQ(submit(0), 0);
	ind[1] = (struct desc){ (uptr)data, 512, F_NEXT, 7 }; /* next beyond the table */
	CHECK_EQ(submit(0), 0);
	CHECK_EQ(status, 0xEE);
	puts_("indirect done\n");

	/* still serving after all that */
	CHECK(!(rd(R_STATUS) & S_NEEDS_RESET));
	CHECK_EQ(request(T_IN, 7, 512, F_WRITE), 513);
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 7 && data[511] == 7);

	/* a corrupt available index: the device needs a reset, and works
	 * again after one */
	ring_avail[1] = (u16)(avail_idx + 1000);
	wr(R_QUEUE_NOTIFY, 0);
	/* the device may serve its queue in another thread (nobios's I/O
	 * thread): wait for it, as a driver waits for the interrupt */
	for (int i = 0; i < 1000000 && !(rd(R_STATUS) & S_NEEDS_RESET); i++)
		__asm__ volatile("pause");
	CHECK(rd(R_STATUS) & S_NEEDS_RESET);
	CHECK(rd(R_INT_STATUS) & 2);
	setup_device();
	CHECK(!(rd(R_STATUS) & S_NEEDS_RESET));
	CHECK_EQ(request(T_IN, 9, 512, F_WRITE), 513);
	CHECK_EQ(status, ST_OK);
	CHECK(data[0] == 9);
	/* a queue of a size that is not a power of 2 is not enabled */
	wr(R_STATUS, 0);
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_NUM, 12);
	wr(R_QUEUE_READY, 1);
	CHECK_EQ(rd(R_QUEUE_READY), 0);
	probe_finish("virtio probe");
}
