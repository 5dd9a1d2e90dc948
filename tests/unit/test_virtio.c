/* test_virtio.c - src/virtio/: the split-virtqueue walker against rings built
 * by hand in a plain guest_mem buffer (good chains, loops, out-of-RAM
 * buffers, wrong order, absurd lengths, bad indirect tables), the
 * virtio-mmio register file and feature negotiation, and virtio-blk served
 * from a memory image (statuses, the image unchanged by malformed chains). */
#include "dev_fake.h"

#include <errno.h>

#include "block/disk_image.h"
#include "virtio/virtio.h"
#include "nobios.h"

#define RAM   (1u << 20)
#define DESC  0x1000u
#define AVAIL 0x2000u
#define USED  0x3000u
#define NUM   16u
#define BASE  0xD0000000ull

struct fx {
	uint8_t *buf;
	struct guest_mem mem;
	struct virtq q;
	struct virtq_chain c;
	uint16_t avail_idx;
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->buf = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&f->mem, f->buf, RAM), 0);
	f->q = (struct virtq){ .num = NUM, .ready = true, .desc = DESC, .avail = AVAIL,
			       .used = USED };
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	free(f->buf);
	free(f);
	return 0;
}

static void desc_at(struct fx *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *d = f->buf + table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(f, DESC, i, addr, len, flags, next);
}

static void offer(struct fx *f, uint16_t head)
{
	memcpy(f->buf + AVAIL + 4 + 2 * (f->avail_idx % NUM), &head, 2);
	f->avail_idx++;
	memcpy(f->buf + AVAIL + 2, &f->avail_idx, 2);
}

static uint16_t used_idx(struct fx *f)
{
	uint16_t v;
	memcpy(&v, f->buf + USED + 2, 2);
	return v;
}

static void used_elem(struct fx *f, unsigned i, uint32_t *id, uint32_t *len)
{
	memcpy(id, f->buf + USED + 4 + 8 * (i % NUM), 4);
	memcpy(len, f->buf + USED + 8 + 8 * (i % NUM), 4);
}

static enum virtq_chain_err pop(struct fx *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	return f->c.err;
}

/* ---- the walker */
static void test_empty(void **st)
{
	struct fx *f = *st;
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
}

static void test_good_chain(void **st)
{
	struct fx *f = *st;
	desc(f, 3, 0x10000, 16, VIRTQ_DESC_F_NEXT, 7);
	desc(f, 7, 0x11000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(f, 1, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.nout, 1);
	assert_int_equal(f->c.nin, 2);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 513);
	assert_int_equal(f->c.seg[1].gpa, 0x11000);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 3, 513), 0);
	assert_int_equal(used_idx(f), 1);
	uint32_t id, len;
	used_elem(f, 0, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 513);
}

static void test_loop(void **st)
{
	struct fx *f = *st;
	desc(f, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_LOOP);
	/* a self-loop too; and the next request still works */
	desc(f, 2, 0x10000, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(f, 2);
	assert_int_equal(pop(f), VIRTQ_CHAIN_LOOP);
	desc(f, 4, 0x10000, 16, 0, 0);
	offer(f, 4);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
}

static void test_out_of_ram(void **st)
{
	struct fx *f = *st;
	desc(f, 0, RAM - 8, 16, 0, 0); /* straddles the end */
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_RANGE);
	desc(f, 0, 0xFFFFFFFFFFFFF000ull, 0x2000, 0, 0); /* wraps */
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_RANGE);
	desc(f, 0, 0xC0000000ull, 4, 0, 0); /* the MMIO hole */
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_RANGE);
}

static void test_absurd_length(void **st)
{
	struct fx *f = *st;
	desc(f, 0, 0x10000, 0xFFFFFFFF, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_RANGE);
}

static void test_next_out_of_queue(void **st)
{
	struct fx *f = *st;
	desc(f, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, NUM);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_NEXT);
}

static void test_wrong_order(void **st)
{
	struct fx *f = *st;
	desc(f, 0, 0x10000, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0x11000, 16, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_ORDER);
}

static void test_ring_corrupt(void **st)
{
	struct fx *f = *st;
	/* avail idx more than num ahead: the ring, not a request, is broken */
	uint16_t idx = NUM + 1;
	memcpy(f->buf + AVAIL + 2, &idx, 2);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), -1);
	/* a head outside the queue */
	idx = 1;
	memcpy(f->buf + AVAIL + 2, &idx, 2);
	uint16_t head = NUM;
	memcpy(f->buf + AVAIL + 4, &head, 2);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), -1);
}

#define IND 0x20000u

static void test_indirect(void **st)
{
	struct fx *f = *st;
	f->q.indirect = true;
	desc_at(f, IND, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, IND, 1, 0x11000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc_at(f, IND, 2, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
	/* the WRITE flag on the table's descriptor is ignored (2.7.5.3.2) */
	desc(f, 5, IND, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(f, 5);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	assert_int_equal(f->c.head, 5);
	assert_int_equal(f->c.nout, 1);
	assert_int_equal(f->c.nin, 2);
	assert_int_equal(f->c.in_len, 4097);
}

static void test_indirect_bad(void **st)
{
	struct fx *f = *st;
	desc_at(f, IND, 0, 0x10000, 16, 0, 0);
	/* not negotiated */
	desc(f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	f->q.indirect = true;
	/* length not a multiple of 16, zero */
	desc(f, 0, IND, 20, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	desc(f, 0, IND, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	/* with NEXT */
	desc(f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0x10000, 16, 0, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	/* after a direct descriptor */
	desc(f, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	/* table outside RAM */
	desc(f, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_RANGE);
	/* absurdly long table (in RAM: 64 Ki entries) */
	desc(f, 0, 0, 0x100000, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	/* nested */
	desc_at(f, IND, 0, IND + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_INDIRECT);
	/* a loop inside the table; a next beyond it */
	desc_at(f, IND, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, IND, 1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(f, 0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_LOOP);
	desc_at(f, IND, 1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_NEXT);
}

static void test_check(void **st)
{
	struct fx *f = *st;
	assert_null(virtq_check(&f->q, &f->mem, VIRTQ_NUM_MAX));
	f->q.num = 12;
	assert_non_null(virtq_check(&f->q, &f->mem, VIRTQ_NUM_MAX));
	f->q.num = 512;
	assert_non_null(virtq_check(&f->q, &f->mem, VIRTQ_NUM_MAX));
	f->q.num = NUM;
	f->q.desc = DESC + 8;
	assert_non_null(virtq_check(&f->q, &f->mem, VIRTQ_NUM_MAX));
	f->q.desc = DESC;
	f->q.used = RAM - 8;
	assert_non_null(virtq_check(&f->q, &f->mem, VIRTQ_NUM_MAX));
}

static void test_chain_copy(void **st)
{
	struct fx *f = *st;
	desc(f, 0, 0x10000, 3, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0x10100, 5, VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, 0x11000, 4, VIRTQ_DESC_F_WRITE, 0);
	memcpy(f->buf + 0x10000, "abc", 3);
	memcpy(f->buf + 0x10100, "defgh", 5);
	offer(f, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	char out[16] = { 0 };
	assert_int_equal(virtq_chain_read(&f->c, &f->mem, 1, out, 10), 7);
	assert_string_equal(out, "bcdefgh");
	assert_int_equal(virtq_chain_write(&f->c, &f->mem, 2, "XYZ", 3), 2);
	assert_memory_equal(f->buf + 0x11002, "XY", 2);
}

/* ---- the transport */
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

struct blkfx {
	struct fx f;
	struct fake_host h;
	uint8_t *disk, *orig;
	struct disk_image img;
	struct vblk *b;
	struct virtio_mmio *t;
};

#define DISK (64u * 512)

static int blk_setup(void **st)
{
	struct blkfx *x = calloc(1, sizeof(*x));
	x->f.buf = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&x->f.mem, x->f.buf, RAM), 0);
	fake_host_init(&x->h, &x->f.mem, -1, -1);
	x->disk = malloc(DISK);
	x->orig = malloc(DISK);
	for (unsigned i = 0; i < DISK; i++)
		x->disk[i] = (uint8_t)(i * 7 + i / 512);
	memcpy(x->orig, x->disk, DISK);
	disk_image_init_mem(&x->img, "mem.img", x->disk, DISK, true);
	x->b = virtio_blk_new(&x->img, "/some/dir/mem.img", 0, &x->f.mem, &x->h.host, BASE, 16);
	x->t = (struct virtio_mmio *)x->b;
	*st = x;
	return 0;
}

static int blk_teardown(void **st)
{
	struct blkfx *x = *st;
	free(x->b);
	free(x->disk);
	free(x->orig);
	free(x->f.buf);
	free(x);
	return 0;
}

/* ---- VIRTIO_F_EVENT_IDX (2.7.7.2, 2.7.10) */
#define USED_EVENT  (AVAIL + 4 + 2 * NUM) /* driver-written, after the avail ring */
#define AVAIL_EVENT (USED + 4 + 8 * NUM)  /* device-written, after the used ring */

static uint16_t get16(const uint8_t *buf, uint64_t at)
{
	uint16_t v;
	memcpy(&v, buf + at, 2);
	return v;
}

static void put16(uint8_t *buf, uint64_t at, uint16_t v)
{
	memcpy(buf + at, &v, 2);
}

static void test_need_event(void **st)
{
	(void)st;
	/* event in [old, new): the index moved past it */
	assert_true(virtq_need_event(0, 1, 0));
	assert_true(virtq_need_event(3, 10, 3));
	assert_true(virtq_need_event(9, 10, 3));
	assert_false(virtq_need_event(10, 10, 3)); /* not reached yet */
	assert_false(virtq_need_event(2, 10, 3));  /* passed before old: told already */
	assert_false(virtq_need_event(5, 5, 5));   /* nothing moved */
	/* across the 16-bit wrap */
	assert_true(virtq_need_event(0xFFFF, 2, 0xFFFE));
	assert_true(virtq_need_event(1, 2, 0xFFFE));
	assert_false(virtq_need_event(2, 2, 0xFFFE));
	assert_false(virtq_need_event(0xFFFD, 2, 0xFFFE));
	/* the whole ring's worth at once */
	assert_true(virtq_need_event(0x8000, 0x8000 + 256, 0x8000));
}

static void test_event_idx_interrupt(void **st)
{
	struct fx *f = *st;
	f->q.event_idx = true;
	/* nothing pushed: no interrupt whatever used_event says */
	assert_false(virtq_should_interrupt(&f->q, &f->mem));
	/* used_event 0: the first completion interrupts */
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_true(virtq_should_interrupt(&f->q, &f->mem));
	/* the driver wants to hear only once entry 4 is used (the index
	 * moves past 4); entries 1-3 bring nothing */
	put16(f->buf, USED_EVENT, 4);
	for (unsigned i = 1; i <= 3; i++) {
		assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
		assert_false(virtq_should_interrupt(&f->q, &f->mem));
	}
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0); /* index 5: entry 4 used */
	assert_true(virtq_should_interrupt(&f->q, &f->mem));
	/* a batch crossing it counts once, at its end */
	put16(f->buf, USED_EVENT, 6);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_true(virtq_should_interrupt(&f->q, &f->mem));
	/* a used_event left behind (a hostile or idle driver): no more */
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_false(virtq_should_interrupt(&f->q, &f->mem));
	/* without the feature, the flag decides and used_event is ignored */
	f->q.event_idx = false;
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_true(virtq_should_interrupt(&f->q, &f->mem));
	put16(f->buf, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_false(virtq_should_interrupt(&f->q, &f->mem));
}

static void test_event_idx_wrap(void **st)
{
	struct fx *f = *st;
	f->q.event_idx = true;
	f->q.used_idx = f->q.signalled_used = 0xFFFE;
	put16(f->buf, USED_EVENT, 0xFFFF);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_false(virtq_should_interrupt(&f->q, &f->mem)); /* index 0xFFFF: not past */
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), 0);
	assert_int_equal(get16(f->buf, USED + 2), 1);
	assert_true(virtq_should_interrupt(&f->q, &f->mem));
}

static void test_event_idx_avail_event(void **st)
{
	struct fx *f = *st;
	f->q.event_idx = true;
	put16(f->buf, AVAIL_EVENT, 0xBEEF);
	/* an empty ring asks for a notification at the next entry */
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	assert_int_equal(get16(f->buf, AVAIL_EVENT), 0);
	desc(f, 0, 0x10000, 16, 0, 0);
	offer(f, 0);
	offer(f, 0);
	offer(f, 0);
	/* while buffers are there, avail_event stays put (the driver adds
	 * more without notifying) */
	assert_true(virtq_arm_notify(&f->q, &f->mem));
	put16(f->buf, AVAIL_EVENT, 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	assert_int_equal(get16(f->buf, AVAIL_EVENT), 0);
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	/* drained: the next notification is wanted for entry 3 */
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	assert_int_equal(get16(f->buf, AVAIL_EVENT), 3);
	/* arm_notify says whether buffers wait, and publishes either way */
	assert_false(virtq_arm_notify(&f->q, &f->mem));
	offer(f, 0);
	assert_true(virtq_arm_notify(&f->q, &f->mem));
	assert_int_equal(get16(f->buf, AVAIL_EVENT), 3);
	/* without the feature avail_event is never written */
	f->q.event_idx = false;
	assert_int_equal(pop(f), VIRTQ_CHAIN_OK);
	put16(f->buf, AVAIL_EVENT, 0xBEEF);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	assert_false(virtq_arm_notify(&f->q, &f->mem));
	assert_int_equal(get16(f->buf, AVAIL_EVENT), 0xBEEF);
	/* a hostile avail index still breaks the ring, event index or not */
	f->q.event_idx = true;
	put16(f->buf, AVAIL + 2, (uint16_t)(f->q.last_avail + NUM + 1));
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), -1);
}

/* The driver's side of 3.1.1, with what it accepts. */
static void negotiate(struct virtio_mmio *t, uint64_t accept)
{
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)accept);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accept >> 32));
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK);
}

static void queue_setup(struct virtio_mmio *t)
{
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, NUM);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, USED);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void test_registers(void **st)
{
	struct blkfx *x = *st;
	struct virtio_mmio *t = x->t;
	assert_int_equal(rd(t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(t, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), 2);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & 1, 1); /* VERSION_1 (bit 32) */
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(lo & 1u << VIRTIO_F_INDIRECT_DESC);
	assert_true(lo & 1u << VIRTIO_F_EVENT_IDX);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_NUM_MAX);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* one queue only */
	/* narrow accesses to registers read 0 */
	uint8_t b = 0xAA;
	virtio_mmio_read(t, BASE + VIRTIO_MMIO_MAGIC_VALUE, &b, 1);
	assert_int_equal(b, 0);
	/* configuration: capacity in sectors, byte-wide reads work */
	uint8_t cap[8];
	virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG, cap, 8);
	assert_int_equal(cap[0], 64);
	virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG + 1, &b, 1);
	assert_int_equal(b, 0);
	/* past the configuration: zeros */
	assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG + 0x800), 0);
}

static void test_features(void **st)
{
	struct blkfx *x = *st;
	struct virtio_mmio *t = x->t;
	/* without VERSION_1: FEATURES_OK refused */
	negotiate(t, 0);
	assert_false(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* a feature not offered (RING_PACKED): refused */
	negotiate(t, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_PACKED);
	assert_false(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	negotiate(t, 1ULL << VIRTIO_F_VERSION_1);
	assert_true(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* features are frozen after FEATURES_OK */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0xFFFFFFFF);
	assert_int_equal(t->drv_features, 1ULL << VIRTIO_F_VERSION_1);
	/* a bad queue is not enabled */
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, 3);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, USED);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, NUM);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, RAM - 4);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
	queue_setup(t);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 1);
	/* reset clears everything */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
}

/* A blk request: header at 0x10000, data at 0x11000 (len, writable for IN),
 * status at 0x12000 (0xEE before). */
static void blk_request(struct blkfx *x, uint16_t head, uint32_t type, uint64_t sector,
			uint32_t len, bool data_writable)
{
	uint8_t *h = x->f.buf + 0x10000 + 64 * head;
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	x->f.buf[0x12000 + head] = 0xEE;
	unsigned i = head;
	desc(&x->f, i, 0x10000 + 64 * head, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	if (len) {
		desc(&x->f, i + 1, 0x11000 + 0x1000 * head, len,
		     VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0),
		     (uint16_t)(i + 2));
		i++;
	}
	desc(&x->f, i + 1, 0x12000 + head, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(&x->f, head);
}

static void notify(struct blkfx *x)
{
	wr(x->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void blk_start(struct blkfx *x, bool indirect)
{
	negotiate(x->t, 1ULL << VIRTIO_F_VERSION_1 | (indirect ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0));
	queue_setup(x->t);
	wr(x->t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK |
					     VIRTIO_CONFIG_S_DRIVER_OK);
}

static void test_blk_read_write(void **st)
{
	struct blkfx *x = *st;
	blk_start(x, false);
	blk_request(x, 0, 0 /* IN */, 2, 1024, true);
	notify(x);
	assert_int_equal(used_idx(&x->f), 1);
	uint32_t id, len;
	used_elem(&x->f, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 1025);
	assert_int_equal(x->f.buf[0x12000], 0);
	assert_memory_equal(x->f.buf + 0x11000, x->disk + 1024, 1024);
	/* interrupt raised; ACK lowers it */
	assert_int_equal(x->h.level[16], 1);
	assert_int_equal(rd(x->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(x->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(x->h.level[16], 0);
	/* write sector 5 */
	memset(x->f.buf + 0x14000, 0x5A, 512);
	blk_request(x, 3, 1 /* OUT */, 5, 512, false);
	notify(x);
	assert_int_equal(x->f.buf[0x12003], 0);
	assert_int_equal(x->disk[5 * 512], 0x5A);
	/* GET_ID: the file name */
	blk_request(x, 6, 8, 0, 20, true);
	notify(x);
	assert_int_equal(x->f.buf[0x12006], 0);
	assert_string_equal((char *)x->f.buf + 0x17000, "mem.img");
	/* unknown type: UNSUPP */
	blk_request(x, 9, 77, 0, 0, true);
	notify(x);
	assert_int_equal(x->f.buf[0x12009], 2);
}

static void test_blk_bad_requests(void **st)
{
	struct blkfx *x = *st;
	blk_start(x, false);
	/* past the end: IOERR */
	blk_request(x, 0, 0, 63, 1024, true);
	notify(x);
	assert_int_equal(x->f.buf[0x12000], 1);
	/* sector so large that sector * 512 wraps */
	blk_request(x, 0, 1, 0x0080000000000000ull, 512, false);
	notify(x);
	assert_int_equal(x->f.buf[0x12000], 1);
	/* IN with a device-readable data buffer: wrong direction, IOERR */
	blk_request(x, 3, 0, 0, 512, false);
	notify(x);
	assert_int_equal(x->f.buf[0x12003], 1);
	/* OUT with a writable data buffer: IOERR, nothing written */
	blk_request(x, 6, 1, 0, 512, true);
	notify(x);
	assert_int_equal(x->f.buf[0x12006], 1);
	/* not a whole sector */
	blk_request(x, 9, 1, 0, 100, false);
	notify(x);
	assert_int_equal(x->f.buf[0x12009], 1);
	/* a looping chain: returned with nothing written, status untouched */
	desc(&x->f, 12, 0x10000, 16, VIRTQ_DESC_F_NEXT, 13);
	desc(&x->f, 13, 0x12000, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 12);
	x->f.buf[0x12000] = 0xEE;
	offer(&x->f, 12);
	notify(x);
	uint32_t id, len;
	used_elem(&x->f, used_idx(&x->f) - 1, &id, &len);
	assert_int_equal(id, 12);
	assert_int_equal(len, 0);
	assert_int_equal(x->f.buf[0x12000], 0xEE);
	/* a data buffer outside RAM */
	blk_request(x, 0, 0, 0, 512, true);
	desc(&x->f, 1, RAM - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	notify(x);
	used_elem(&x->f, used_idx(&x->f) - 1, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(x->f.buf[0x12000], 0xEE);
	/* an indirect table without the feature */
	desc(&x->f, 14, 0x20000, 48, VIRTQ_DESC_F_INDIRECT, 0);
	offer(&x->f, 14);
	notify(x);
	used_elem(&x->f, used_idx(&x->f) - 1, &id, &len);
	assert_int_equal(id, 14);
	assert_int_equal(len, 0);
	assert_int_equal(x->t->bad_chains, 3);
	/* the device still works, and the image never changed */
	assert_false(rd(x->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
	blk_request(x, 0, 0, 1, 512, true);
	notify(x);
	assert_int_equal(x->f.buf[0x12000], 0);
	assert_memory_equal(x->disk, x->orig, DISK);
	/* a corrupt avail index: the device needs a reset, nothing else */
	uint16_t idx = (uint16_t)(x->f.avail_idx + 100);
	memcpy(x->f.buf + AVAIL + 2, &idx, 2);
	notify(x);
	assert_true(rd(x->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
	assert_true(rd(x->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_memory_equal(x->disk, x->orig, DISK);
}

static void test_blk_read_only(void **st)
{
	struct blkfx *x = *st;
	struct disk_image ro;
	disk_image_init_mem(&ro, "ro.img", x->disk, DISK, false);
	struct vblk *b = virtio_blk_new(&ro, "ro.img", 1, &x->f.mem, &x->h.host, BASE, 17);
	struct virtio_mmio *t = (struct virtio_mmio *)b;
	assert_true(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & 1u << 5); /* VIRTIO_BLK_F_RO */
	x->t = t;
	blk_start(x, false);
	memset(x->f.buf + 0x11000, 0x77, 512);
	blk_request(x, 0, 1, 0, 512, false);
	notify(x);
	assert_int_equal(x->f.buf[0x12000], 1);
	assert_memory_equal(x->disk, x->orig, DISK);
	free(b);
}

/* virtio-blk with VIRTIO_F_EVENT_IDX negotiated through the registers:
 * avail_event published after each drained notification, the line raised
 * only when used_event is passed. */
static void test_blk_event_idx(void **st)
{
	struct blkfx *x = *st;
	negotiate(x->t, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX);
	assert_true(rd(x->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	queue_setup(x->t);
	wr(x->t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK |
					     VIRTIO_CONFIG_S_DRIVER_OK);
	put16(x->f.buf, USED_EVENT, 0);
	blk_request(x, 0, 0 /* IN */, 2, 512, true);
	notify(x);
	assert_int_equal(used_idx(&x->f), 1);
	assert_int_equal(x->f.buf[0x12000], 0);
	assert_int_equal(get16(x->f.buf, AVAIL_EVENT), 1);
	assert_int_equal(x->h.level[16], 1);
	wr(x->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(x->h.level[16], 0);
	/* the driver asks to hear only after its third next request */
	put16(x->f.buf, USED_EVENT, 3);
	blk_request(x, 3, 0, 4, 512, true);
	blk_request(x, 6, 0, 6, 512, true);
	notify(x);
	assert_int_equal(used_idx(&x->f), 3);
	assert_int_equal(get16(x->f.buf, AVAIL_EVENT), 3);
	assert_int_equal(x->h.level[16], 0);
	assert_int_equal(x->t->interrupts, 1);
	blk_request(x, 9, 0, 8, 512, true);
	notify(x);
	assert_int_equal(used_idx(&x->f), 4);
	assert_int_equal(x->f.buf[0x12009], 0);
	assert_int_equal(x->h.level[16], 1);
	assert_int_equal(x->t->interrupts, 2);
	/* a reset forgets the negotiation */
	wr(x->t, VIRTIO_MMIO_STATUS, 0);
	assert_false(x->t->vq[0].event_idx);
}

static void test_blk_indirect(void **st)
{
	struct blkfx *x = *st;
	blk_start(x, true);
	uint32_t type = 0;
	uint64_t sector = 3;
	memcpy(x->f.buf + 0x10000, &type, 4);
	memcpy(x->f.buf + 0x10008, &sector, 8);
	x->f.buf[0x12000] = 0xEE;
	desc_at(&x->f, IND, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(&x->f, IND, 1, 0x11000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc_at(&x->f, IND, 2, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(&x->f, 0, IND, 48, VIRTQ_DESC_F_INDIRECT, 0);
	offer(&x->f, 0);
	notify(x);
	assert_int_equal(x->f.buf[0x12000], 0);
	assert_memory_equal(x->f.buf + 0x11000, x->disk + 3 * 512, 512);
}

/* ---- virtio-9p: the tag in configuration space, messages in and out of
 * the ring, a reply spread over a header buffer and a data buffer (Linux's
 * zero-copy reads), replies that do not fit, requests too short to be one */
static void p9_msg(struct fx *f, uint64_t at, uint8_t type, uint16_t tag, const void *body,
		   uint32_t blen)
{
	uint32_t n = 7 + blen;
	memcpy(f->buf + at, &n, 4);
	f->buf[at + 4] = type;
	memcpy(f->buf + at + 5, &tag, 2);
	memcpy(f->buf + at + 7, body, blen);
}

static uint32_t p9_used(struct blkfx *x, unsigned i)
{
	uint32_t id, len;
	used_elem(&x->f, i, &id, &len);
	return len;
}

static void test_9p(void **st)
{
	struct blkfx *x = *st;
	char dir[] = "/tmp/nobios-v9p-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[64];
	snprintf(p, sizeof(p), "%s/f", dir);
	FILE *fp = fopen(p, "w");
	fputs("0123456789", fp);
	fclose(fp);
	struct nb_share sh = { .path = dir, .tag = "hostshare" };
	struct v9p *v = virtio_9p_new(&sh, &x->f.mem, &x->h.host, BASE, 17);
	assert_non_null(v);
	struct virtio_mmio *t = (struct virtio_mmio *)v;
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), 9);
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & 1, 1); /* VIRTIO_9P_MOUNT_TAG */
	uint8_t cfg[16];
	for (unsigned i = 0; i < 11; i++)
		virtio_mmio_read(t, BASE + VIRTIO_MMIO_CONFIG + i, cfg + i, 1);
	assert_int_equal(cfg[0] | cfg[1] << 8, 9);
	assert_memory_equal(cfg + 2, "hostshare", 9);

	negotiate(t, 1ULL << VIRTIO_F_VERSION_1 | 1);
	queue_setup(t);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	/* Tversion, Tattach (fid 1), Twalk 1 -> 2 "f", Tlopen 2 */
	static const uint8_t ver[] = { 0, 0x20, 0, 0, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L' };
	static const uint8_t att[] = { 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 'u', 0, 0, 0, 0, 0, 0 };
	static const uint8_t walk[] = { 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 'f' };
	static const uint8_t lopen[] = { 2, 0, 0, 0, 0, 0, 0, 0 };
	const struct { uint8_t type; const uint8_t *b; uint32_t n; uint8_t rtype; } seq[] = {
		{ 100, ver, sizeof(ver), 101 }, { 104, att, sizeof(att), 105 },
		{ 110, walk, sizeof(walk), 111 }, { 12, lopen, sizeof(lopen), 13 },
	};
	for (unsigned i = 0; i < 4; i++) {
		p9_msg(&x->f, 0x10000 + 0x100 * i, seq[i].type, (uint16_t)i, seq[i].b, seq[i].n);
		desc(&x->f, 2 * i, 0x10000 + 0x100 * i, 7 + seq[i].n, VIRTQ_DESC_F_NEXT,
		     (uint16_t)(2 * i + 1));
		desc(&x->f, 2 * i + 1, 0x20000 + 0x2000 * i, 0x2000, VIRTQ_DESC_F_WRITE, 0);
		offer(&x->f, (uint16_t)(2 * i));
	}
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(&x->f), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(x->f.buf[0x20000 + 0x2000 * i + 4], seq[i].rtype);
		assert_int_equal(p9_used(x, i), x->f.buf[0x20000 + 0x2000 * i]);
	}
	/* Tread of 10 bytes: header in an 11-byte buffer, data in another */
	static const uint8_t rdb[] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0 };
	p9_msg(&x->f, 0x10800, 116, 7, rdb, sizeof(rdb));
	desc(&x->f, 8, 0x10800, 7 + sizeof(rdb), VIRTQ_DESC_F_NEXT, 9);
	desc(&x->f, 9, 0x30000, 11, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 10);
	desc(&x->f, 10, 0x31000, 10, VIRTQ_DESC_F_WRITE, 0);
	offer(&x->f, 8);
	/* a reply with no room: Rversion needs 21 bytes, 11 given -> Rlerror */
	p9_msg(&x->f, 0x10900, 100, 8, ver, sizeof(ver));
	desc(&x->f, 11, 0x10900, 7 + sizeof(ver), VIRTQ_DESC_F_NEXT, 12);
	desc(&x->f, 12, 0x32000, 11, VIRTQ_DESC_F_WRITE, 0);
	offer(&x->f, 11);
	/* a request of 3 bytes: Rlerror EMSGSIZE */
	desc(&x->f, 13, 0x10a00, 3, VIRTQ_DESC_F_NEXT, 14);
	desc(&x->f, 14, 0x33000, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(&x->f, 13);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(&x->f), 7);
	assert_int_equal(p9_used(x, 4), 21);
	assert_int_equal(x->f.buf[0x30000 + 4], 117);       /* Rread */
	assert_int_equal(x->f.buf[0x30000 + 7], 10);        /* count */
	assert_memory_equal(x->f.buf + 0x31000, "0123456789", 10);
	assert_int_equal(p9_used(x, 5), 11);
	assert_int_equal(x->f.buf[0x32000 + 4], 7);         /* Rlerror */
	assert_int_equal(x->f.buf[0x32000 + 5], 8);         /* its tag */
	assert_int_equal(x->f.buf[0x32000 + 7], EMSGSIZE);
	assert_int_equal(p9_used(x, 6), 11);
	assert_int_equal(x->f.buf[0x33000 + 7], EMSGSIZE);
	virtio_9p_free(v);
	/* a tag that does not fit the configuration */
	struct nb_share bad = { .path = dir };
	memset(bad.tag, 'a', sizeof(bad.tag));
	assert_null(virtio_9p_new(&bad, &x->f.mem, &x->h.host, BASE, 17));
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absurd_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_out_of_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_copy, setup, teardown),
		cmocka_unit_test(test_need_event),
		cmocka_unit_test_setup_teardown(test_event_idx_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_avail_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_features, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_blk_read_write, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_blk_bad_requests, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_blk_read_only, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_blk_indirect, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_blk_event_idx, blk_setup, blk_teardown),
		cmocka_unit_test_setup_teardown(test_9p, blk_setup, blk_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
