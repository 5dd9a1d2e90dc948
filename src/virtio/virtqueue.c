/* virtqueue.c - split virtqueues (virtio 1.2, 2.7): taking descriptor
 * chains from the available ring, validating them, returning them through
 * the used ring.
 *
 * The guest writes the rings while we read them, possibly from another
 * vCPU, so every field is read once into a local and checked there; nothing
 * read from the ring is trusted twice.  A chain is walked completely before
 * any of it is served: each buffer must lie in guest RAM (mem_range_ok),
 * device-readable buffers must come before device-writable ones, the walk
 * ends after at most `num` descriptors (a longer chain is a loop, 2.7.5.3.1),
 * and an indirect table (2.7.5.3) must be the request's only descriptor,
 * a whole number of descriptors inside guest RAM, and must not itself hold
 * an indirect descriptor.  A chain that breaks a rule fails that request
 * only; a ring that breaks one (an avail index running more than the queue
 * size ahead, a head outside the queue) stops the device until reset.
 *
 * With VIRTIO_F_EVENT_IDX (2.7.7.2, 2.7.10) the driver and the device each
 * publish the index at which they want to hear from the other: the driver
 * its used_event after the available ring, we our avail_event after the
 * used ring.  We publish avail_event only when we find the ring empty, so
 * a driver adding buffers while we serve does not notify again; and we
 * interrupt only when the used index passes used_event.  Both sides write
 * their index and then read the other's, so a full barrier sits between. */
#include <string.h>

#include "mem/mem.h"
#include "virtio/virtio.h"

const char *virtq_chain_strerror(enum virtq_chain_err e)
{
	switch (e) {
	case VIRTQ_CHAIN_OK: return "ok";
	case VIRTQ_CHAIN_RANGE: return "buffer outside guest RAM";
	case VIRTQ_CHAIN_NEXT: return "next index outside the queue";
	case VIRTQ_CHAIN_LOOP: return "chain longer than the queue (loop)";
	case VIRTQ_CHAIN_ORDER: return "device-readable buffer after a device-writable one";
	case VIRTQ_CHAIN_INDIRECT: return "bad indirect descriptor";
	}
	return "?";
}

const char *virtq_check(const struct virtq *q, const struct guest_mem *m, unsigned max)
{
	if (q->num == 0 || q->num > max || (q->num & (q->num - 1)))
		return "queue size is not a power of 2 within QueueNumMax";
	if (q->desc % VIRTQ_DESC_ALIGN || q->avail % VIRTQ_AVAIL_ALIGN ||
	    q->used % VIRTQ_USED_ALIGN)
		return "ring address not aligned";
	/* 2.7: descriptor table 16*num; available ring 6+2*num; used ring
	 * 6+8*num (the event fields included, used or not). */
	if (!mem_range_ok(m, q->desc, (uint64_t)VIRTQ_DESC_SIZE * q->num))
		return "descriptor table outside guest RAM";
	if (!mem_range_ok(m, q->avail, 6 + 2ULL * q->num))
		return "available ring outside guest RAM";
	if (!mem_range_ok(m, q->used, 6 + (uint64_t)VIRTQ_USED_ELEM_SIZE * q->num))
		return "used ring outside guest RAM";
	return NULL;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static int read_desc(const struct guest_mem *m, uint64_t table, unsigned i, struct desc *d)
{
	uint8_t b[VIRTQ_DESC_SIZE];
	if (mem_copy_out(m, b, table + (uint64_t)i * VIRTQ_DESC_SIZE, sizeof(b)) < 0)
		return -1;
	memcpy(&d->addr, b, 8); /* x86 is little-endian, as virtio 1.x rings are */
	memcpy(&d->len, b + 8, 4);
	memcpy(&d->flags, b + 12, 2);
	memcpy(&d->next, b + 14, 2);
	return 0;
}

/* Add one buffer to the chain, enforcing order and RAM bounds. */
static enum virtq_chain_err add_seg(struct virtq_chain *c, const struct guest_mem *m,
				    const struct desc *d)
{
	if (!mem_range_ok(m, d->addr, d->len ? d->len : 1))
		return VIRTQ_CHAIN_RANGE;
	if (c->nout + c->nin >= VIRTQ_NUM_MAX)
		return VIRTQ_CHAIN_LOOP;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	if (!write && c->nin)
		return VIRTQ_CHAIN_ORDER;
	c->seg[c->nout + c->nin] = (struct virtq_seg){ d->addr, d->len };
	if (write) {
		c->nin++;
		c->in_len += d->len;
	} else {
		c->nout++;
		c->out_len += d->len;
	}
	return VIRTQ_CHAIN_OK;
}

/* Walk `count` descriptors of a table from index `first`; at most `limit`
 * of them (a longer walk revisits one: a loop). */
static enum virtq_chain_err walk(struct virtq_chain *c, const struct guest_mem *m,
				 uint64_t table, unsigned count, unsigned first, unsigned limit,
				 bool indirect_ok)
{
	unsigned i = first;
	for (unsigned n = 0;; n++) {
		if (n >= limit)
			return VIRTQ_CHAIN_LOOP;
		struct desc d;
		if (read_desc(m, table, i, &d) < 0)
			return VIRTQ_CHAIN_RANGE;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: not with NEXT, not inside an indirect
			 * table; and only as the request's one descriptor
			 * (what every driver does), so the chain's order and
			 * bound are the table's alone. */
			if (!indirect_ok || n != 0 || (d.flags & VIRTQ_DESC_F_NEXT))
				return VIRTQ_CHAIN_INDIRECT;
			if (d.len == 0 || d.len % VIRTQ_DESC_SIZE)
				return VIRTQ_CHAIN_INDIRECT;
			if (!mem_range_ok(m, d.addr, d.len))
				return VIRTQ_CHAIN_RANGE;
			unsigned entries = d.len / VIRTQ_DESC_SIZE;
			if (d.len / VIRTQ_DESC_SIZE > VIRTQ_NUM_MAX)
				return VIRTQ_CHAIN_INDIRECT;
			return walk(c, m, d.addr, entries, 0, entries, false);
		}
		enum virtq_chain_err e = add_seg(c, m, &d);
		if (e)
			return e;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_CHAIN_OK;
		if (d.next >= count)
			return VIRTQ_CHAIN_NEXT;
		i = d.next;
	}
}

/* 2.7.6/2.7.8: used_event follows the available ring's entries, avail_event
 * the used ring's (inside the ranges virtq_check accepted). */
static uint64_t used_event_addr(const struct virtq *q)
{
	return q->avail + 4 + 2ULL * q->num;
}

static uint64_t avail_event_addr(const struct virtq *q)
{
	return q->used + 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * q->num;
}

bool virtq_arm_notify(struct virtq *q, struct guest_mem *m)
{
	uint16_t avail_idx;
	if (q->event_idx) {
		if (mem_write16(m, avail_event_addr(q), q->last_avail) < 0)
			return false;
		/* avail_event stored before avail idx is loaded (the driver
		 * does the reverse: idx stored, then avail_event loaded) */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (mem_read16(m, q->avail + 2, &avail_idx) < 0)
		return false;
	return avail_idx != q->last_avail;
}

int virtq_pop(struct virtq *q, struct guest_mem *m, struct virtq_chain *c)
{
	uint16_t avail_idx;
	if (mem_read16(m, q->avail + 2, &avail_idx) < 0)
		return -1;
	if (avail_idx == q->last_avail) {
		/* Empty: ask for a notification for the next buffer and look
		 * once more, for one added before the driver could see that. */
		if (!q->event_idx || !virtq_arm_notify(q, m))
			return 0;
		if (mem_read16(m, q->avail + 2, &avail_idx) < 0)
			return -1;
	}
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->num)
		return -1; /* 2.7.13: the driver never gets more than num ahead */
	/* Read the ring entry only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head;
	if (mem_read16(m, q->avail + 4 + 2ULL * (q->last_avail % q->num), &head) < 0)
		return -1;
	if (head >= q->num)
		return -1; /* no id we could return it under */
	q->last_avail++;
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	c->err = walk(c, m, q->desc, q->num, head, q->num, q->indirect);
	return 1;
}

int virtq_push(struct virtq *q, struct guest_mem *m, uint16_t head, uint32_t len)
{
	uint64_t e = q->used + 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * (q->used_idx % q->num);
	if (mem_write32(m, e, head) < 0 || mem_write32(m, e + 4, len) < 0)
		return -1;
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return mem_write16(m, q->used + 2, q->used_idx);
}

bool virtq_should_interrupt(struct virtq *q, const struct guest_mem *m)
{
	uint16_t old = q->signalled_used, now = q->used_idx;
	q->signalled_used = now;
	if (old == now)
		return false; /* nothing pushed since the last decision */
	/* used idx stored before the driver's flags or used_event are loaded
	 * (the driver stores those, then loads used idx) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t event;
		if (mem_read16(m, used_event_addr(q), &event) < 0)
			return true;
		return virtq_need_event(event, now, old);
	}
	uint16_t flags = 0;
	if (mem_read16(m, q->avail, &flags) < 0)
		return true;
	return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between host memory and one part of a chain (readable: segments
 * [0, nout), writable: [nout, nout+nin)), as one byte stream from off. */
static uint64_t chain_copy(const struct virtq_chain *c, struct guest_mem *m, bool writable,
			   uint64_t off, void *rbuf, const void *wbuf, uint64_t len)
{
	unsigned first = writable ? c->nout : 0, end = writable ? c->nout + c->nin : c->nout;
	uint64_t done = 0;
	for (unsigned i = first; i < end && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t n = s->len - off;
		if (n > len - done)
			n = len - done;
		int r = writable ? mem_copy_in(m, s->gpa + off, (const uint8_t *)wbuf + done, n)
				 : mem_copy_out(m, (uint8_t *)rbuf + done, s->gpa + off, n);
		if (r < 0)
			break;
		done += n;
		off = 0;
	}
	return done;
}

uint64_t virtq_chain_read(const struct virtq_chain *c, const struct guest_mem *m, uint64_t off,
			  void *buf, uint64_t len)
{
	/* chain_copy only writes guest memory on the writable side */
	return chain_copy(c, (struct guest_mem *)m, false, off, buf, NULL, len);
}

uint64_t virtq_chain_write(const struct virtq_chain *c, struct guest_mem *m, uint64_t off,
			   const void *buf, uint64_t len)
{
	return chain_copy(c, m, true, off, NULL, buf, len);
}
