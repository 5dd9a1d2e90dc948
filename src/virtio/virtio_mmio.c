/* virtio_mmio.c - the virtio-mmio transport, version 2 register layout
 * (virtio 1.2, 4.2.2): one 4 KiB window per device in the 32-bit hole and
 * one IOAPIC line per device.
 *
 * Only virtio 1.x is offered (VIRTIO_F_VERSION_1 always set; a driver that
 * does not accept it is refused FEATURES_OK, 6.1), with split rings,
 * indirect descriptors and the event index (VIRTIO_F_EVENT_IDX: under
 * nested virtualization each notification is an expensive exit and each
 * interrupt an injection plus two register exits, so the driver's and the
 * device's suppression both pay); no packed rings, no shared memory.
 *
 * The interrupt line follows InterruptStatus: raised while any bit is set,
 * lowered when the driver's InterruptACK clears the last one (4.2.3.4).  That
 * is correct whether the guest programs the IOAPIC pin level-triggered (the
 * line is the level) or edge-triggered as the ACPI and MP tables announce
 * it (each 0->1 is an edge; a completion that arrives before the ACK is seen
 * by a driver that, like Linux's vm_interrupt, acknowledges first and then
 * walks the used ring).
 *
 * Registers must be read and written 32 bits wide (4.2.2.2); other accesses
 * to the register area read 0 and are ignored.  Configuration space takes any
 * width the device's layout needs. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/dev.h"
#include "mem/mem.h"
#include "util/err.h"
#include "util/sandbox.h"
#include "virtio/virtio.h"

SANDBOX_NEEDS(virtio_iothread_needs, "virtio I/O threads: queue kicks (src/virtio/virtio_mmio.c)",
	      0, SB_ALLOW(poll), SB_ALLOW(ppoll), SB_ALLOW(read), SB_ALLOW(write));

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      struct guest_mem *mem, struct dev_host *host, uint64_t base, uint32_t gsi)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->host = host;
	t->base = base;
	t->gsi = gsi;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->kick_fd[i] = -1;
	t->stop_fd = -1;
	t->dev_features = ops->features | 1ULL << VIRTIO_F_VERSION_1 |
			  1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX;
	snprintf(t->label, sizeof(t->label), "%s", ops->name);
}

static void set_line(struct virtio_mmio *t)
{
	bool level = t->isr != 0;
	if (level == t->line)
		return;
	t->line = level;
	if (t->host && t->host->irq_line)
		t->host->irq_line(t->host->vm, t->gsi, level);
}

static void device_reset(struct virtio_mmio *t)
{
	t->status = 0;
	t->isr = 0;
	t->drv_features = 0;
	t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
	memset(t->vq, 0, sizeof(t->vq));
	set_line(t);
	if (t->ops->reset)
		t->ops->reset(t->dev);
}

void virtio_mmio_interrupt(struct virtio_mmio *t)
{
	t->isr |= VIRTIO_MMIO_INT_VRING;
	t->interrupts++;
	set_line(t);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
	if (!(t->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) && t->host && t->host->log)
		fprintf(t->host->log, "nobios: %s: device needs reset: %s\n", t->label, why);
	t->status |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
	t->isr |= VIRTIO_MMIO_INT_CONFIG;
	set_line(t);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q)
{
	uint32_t need = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;
	if (q >= t->ops->nqueues || q >= VIRTIO_MMIO_MAX_QUEUES || !t->vq[q].ready ||
	    (t->status & need) != need || (t->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET))
		return NULL;
	return &t->vq[q];
}

void virtio_mmio_serve(struct virtio_mmio *t, unsigned q, struct virtq_chain *c,
		       uint32_t (*serve)(void *dev, struct virtio_mmio *t, struct virtq_chain *c),
		       void *dev)
{
	struct virtq *vq = virtio_mmio_queue(t, q);
	if (!vq)
		return;
	unsigned pushed = 0;
	/* Bounded: a driver adding buffers as fast as we serve them gets the
	 * rest at its next notification.  Not with VIRTIO_F_EVENT_IDX: that
	 * driver notifies only for the entry avail_event names, which we
	 * publish when we find the ring empty, so buffers left behind would
	 * wait forever.  The loop still ends, when the driver stops adding
	 * (at the latest when its vCPUs stop). */
	for (unsigned n = 0; vq->event_idx || n < 4u * vq->num; n++) {
		int r = virtq_pop(vq, t->mem, c);
		if (r < 0) {
			virtio_mmio_needs_reset(t, "available ring corrupt (index or head out of range)");
			break;
		}
		if (r == 0)
			break;
		uint32_t len = 0;
		t->requests++;
		if (c->err) {
			/* The request fails, the queue goes on: the chain
			 * comes back untouched with nothing written. */
			if (t->bad_chains++ < 8 && t->host && t->host->log)
				fprintf(t->host->log, "nobios: %s: queue %u request %u refused: %s\n",
					t->label, q, c->head, virtq_chain_strerror(c->err));
		} else {
			len = serve(dev, t, c);
		}
		if (virtq_push(vq, t->mem, c->head, len) < 0) {
			virtio_mmio_needs_reset(t, "used ring not writable");
			break;
		}
		pushed++;
	}
	if (pushed && virtq_should_interrupt(vq, t->mem))
		virtio_mmio_interrupt(t);
}

static uint32_t reg_read(struct virtio_mmio *t, uint32_t off)
{
	const struct virtq *vq = t->queue_sel < t->ops->nqueues ? &t->vq[t->queue_sel] : NULL;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID: return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dev_features_sel == 0   ? (uint32_t)t->dev_features
		       : t->dev_features_sel == 1 ? (uint32_t)(t->dev_features >> 32)
						  : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return vq ? VIRTQ_NUM_MAX : 0; /* 0: no such queue */
	case VIRTIO_MMIO_QUEUE_READY: return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return t->isr;
	case VIRTIO_MMIO_STATUS: return t->status;
	/* 4.2.2: no shared memory regions: their length reads as -1 */
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH: return 0xFFFFFFFF;
	case VIRTIO_MMIO_CONFIG_GENERATION: return 0; /* the configuration never changes */
	default: return 0; /* write-only and reserved registers */
	}
}

/* FEATURES_OK only for a subset of what we offer, VERSION_1 included
 * (3.1.1 step 5: the device refuses by leaving the bit clear). */
static bool features_ok(const struct virtio_mmio *t)
{
	return !(t->drv_features & ~t->dev_features) &&
	       (t->drv_features & 1ULL << VIRTIO_F_VERSION_1);
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		device_reset(t);
		return;
	}
	v &= 0xFF;
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(t->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if (!features_ok(t)) {
			v &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
			if (t->host && t->host->log)
				fprintf(t->host->log, "nobios: %s: driver features 0x%" PRIx64
					" refused (offered 0x%" PRIx64 ")\n",
					t->label, t->drv_features, t->dev_features);
		} else {
			bool ind = t->drv_features & 1ULL << VIRTIO_F_INDIRECT_DESC;
			bool evi = t->drv_features & 1ULL << VIRTIO_F_EVENT_IDX;
			for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
				t->vq[i].indirect = ind;
				t->vq[i].event_idx = evi;
			}
		}
	}
	bool now_ok = (v & VIRTIO_CONFIG_S_DRIVER_OK) && !(t->status & VIRTIO_CONFIG_S_DRIVER_OK);
	/* DEVICE_NEEDS_RESET is the device's to set; only a reset clears it. */
	t->status = v | (t->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
	if (now_ok && t->ops->driver_ok)
		t->ops->driver_ok(t->dev, t);
}

static void queue_ready(struct virtio_mmio *t, struct virtq *vq, uint32_t v)
{
	if (!v) {
		vq->ready = false;
		return;
	}
	if (vq->ready)
		return;
	const char *why = virtq_check(vq, t->mem, VIRTQ_NUM_MAX);
	if (why) {
		/* QueueReady stays 0: the driver sees its queue was not
		 * taken (Linux then fails the probe) and nothing is read. */
		if (t->host && t->host->log)
			fprintf(t->host->log, "nobios: %s: queue %u not enabled: %s\n", t->label,
				t->queue_sel, why);
		return;
	}
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->ready = true;
}

static void set_half(uint64_t *r, bool high, uint32_t v)
{
	*r = high ? (*r & 0xFFFFFFFFULL) | (uint64_t)v << 32 : (*r & ~0xFFFFFFFFULL) | v;
}

static void reg_write(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	struct virtq *vq = t->queue_sel < t->ops->nqueues ? &t->vq[t->queue_sel] : NULL;
	/* 4.2.2.3: queue registers change only while the queue is not ready */
	struct virtq *idle = vq && !vq->ready ? vq : NULL;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if ((t->status & VIRTIO_CONFIG_S_DRIVER) &&
		    !(t->status & VIRTIO_CONFIG_S_FEATURES_OK) && t->drv_features_sel < 2)
			set_half(&t->drv_features, t->drv_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_features_sel = v; break;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (idle)
			idle->num = v > 0xFFFF ? 0 : (uint16_t)v; /* checked at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (vq)
			queue_ready(t, vq, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < t->ops->nqueues && virtio_mmio_queue(t, v))
			t->ops->notify(t->dev, t, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~v;
		set_line(t);
		break;
	case VIRTIO_MMIO_STATUS: write_status(t, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (idle)
			set_half(&idle->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (idle)
			set_half(&idle->avail, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (idle)
			set_half(&idle->used, off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
		break;
	default: break; /* read-only and reserved registers */
	}
}

void virtio_mmio_read(void *opaque, uint64_t addr, uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = opaque;
	uint64_t off = addr - t->base;
	memset(data, 0, size);
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (c < t->ops->config_len && size <= t->ops->config_len - c && t->ops->config_read)
			t->ops->config_read(t->dev, (uint32_t)c, data, size);
	} else if (size == 4 && off % 4 == 0) {
		dev_data_put(data, 4, reg_read(t, (uint32_t)off));
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(void *opaque, uint64_t addr, const uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = opaque;
	uint64_t off = addr - t->base;
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (c < t->ops->config_len && size <= t->ops->config_len - c && t->ops->config_write)
			t->ops->config_write(t->dev, (uint32_t)c, data, size);
	} else if (size == 4 && off % 4 == 0) {
		reg_write(t, (uint32_t)off, dev_data_get(data, 4));
	}
	pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_register(struct virtio_mmio *t, struct bus *b)
{
	struct mmio_handler h = {
		.name = t->label,
		.base = t->base,
		.len = VIRTIO_MMIO_WINDOW,
		.opaque = t,
		.read = virtio_mmio_read,
		.write = virtio_mmio_write,
	};
	return bus_register_mmio(b, &h);
}

void virtio_mmio_describe(const struct virtio_mmio *t, FILE *out, const char *what)
{
	fprintf(out, "nobios: %s at [0x%" PRIx64 ", 0x%" PRIx64 "), GSI %u%s%s\n", t->label,
		t->base, t->base + VIRTIO_MMIO_WINDOW, t->gsi, what && *what ? ": " : "",
		what ? what : "");
}

/* ---- the I/O thread */
static void *iothread_main(void *arg)
{
	struct virtio_mmio *t = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the vCPUs' and main's */
	unsigned nq = t->ops->nqueues;
	struct pollfd p[VIRTIO_MMIO_MAX_QUEUES + 1];
	for (unsigned q = 0; q < nq; q++)
		p[q] = (struct pollfd){ .fd = t->kick_fd[q], .events = POLLIN };
	p[nq] = (struct pollfd){ .fd = t->stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(p, nq + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[nq].revents)
			break;
		for (unsigned q = 0; q < nq; q++) {
			uint64_t n;
			if (!(p[q].revents & POLLIN) || read(t->kick_fd[q], &n, sizeof(n)) != sizeof(n))
				continue;
			pthread_mutex_lock(&t->lock);
			t->kicks++;
			if (virtio_mmio_queue(t, q))
				t->ops->notify(t->dev, t, q);
			pthread_mutex_unlock(&t->lock);
		}
	}
	return NULL;
}

int virtio_mmio_start_iothread(struct virtio_mmio *t)
{
	if (!t->host || !t->host->ioeventfd || t->iothread_on)
		return 0;
	unsigned nq = t->ops->nqueues;
	for (unsigned q = 0; q < nq; q++) {
		t->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->kick_fd[q] < 0)
			return nb_err_errno("%s: eventfd", t->label);
		if (t->host->ioeventfd(t->host->vm, t->base + VIRTIO_MMIO_QUEUE_NOTIFY, q,
				       t->kick_fd[q]) < 0) {
			/* Queues before this one are registered already and
			 * would swallow their notifications: an error then. */
			if (q > 0)
				return -1;
			/* e.g. a KVM without MMIO ioeventfds: stay synchronous */
			if (t->host->log)
				fprintf(t->host->log, "nobios: %s: %s; notifications are served "
					"in the vCPU thread\n", t->label, nb_errmsg());
			nb_err_clear();
			for (unsigned i = 0; i <= q; i++) {
				close(t->kick_fd[i]);
				t->kick_fd[i] = -1;
			}
			return 0;
		}
	}
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_fd < 0)
		return nb_err_errno("%s: eventfd", t->label);
	int e = pthread_create(&t->iothread, NULL, iothread_main, t);
	if (e) {
		errno = e;
		return nb_err_errno("%s: I/O thread", t->label);
	}
	t->iothread_on = true;
	return 0;
}

void virtio_mmio_stop_iothread(struct virtio_mmio *t)
{
	if (t->iothread_on) {
		uint64_t one = 1;
		if (write(t->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(t->iothread);
		pthread_join(t->iothread, NULL);
		t->iothread_on = false;
	}
	/* The ioeventfds stay with the VM, which ends with nobios: their
	 * descriptors close here. */
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (t->kick_fd[q] >= 0) {
			close(t->kick_fd[q]);
			t->kick_fd[q] = -1;
		}
	if (t->stop_fd >= 0) {
		close(t->stop_fd);
		t->stop_fd = -1;
	}
}
