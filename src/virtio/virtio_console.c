/* virtio_console.c - virtio console (virtio 1.2, 5.3), --virtio-console: one
 * port without the multiport extension, so Linux names it hvc0.  What the
 * guest transmits goes to nobios's console output beside COM1 (a second
 * console: `console=hvc0` moves the kernel's messages there, a getty can run
 * on it).  Input is not connected: COM1 owns the terminal; the receive queue
 * keeps the buffers the driver posts and returns none.
 *
 * Transmit buffers are device-readable; each is written out as it is (the
 * bytes are the guest's, like COM1's), bounded per request. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "boot/platform.h"
#include "dev/dev.h"
#include "mem/mem.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"
#include "virtio/virtio.h"

SANDBOX_NEEDS(virtio_console_needs, "virtio-console (src/virtio/virtio_console.c)", 0,
	      SB_ALLOW(write));

#define VIRTIO_CONSOLE_RECEIVEQ  0 /* port 0 receiveq (5.3.2) */
#define VIRTIO_CONSOLE_TRANSMITQ 1 /* port 0 transmitq */
#define CONSOLE_MAX_REQUEST (64u << 10)

struct vcon {
	struct virtio_mmio t;
	int out;              /* fd */
	uint64_t bytes;
	struct virtq_chain chain;
};

static uint32_t tx_serve(void *dev, struct virtio_mmio *t, struct virtq_chain *c)
{
	struct vcon *v = dev;
	uint64_t done = 0;
	for (unsigned i = 0; i < c->nout && done < CONSOLE_MAX_REQUEST; i++) {
		uint64_t n = c->seg[i].len;
		if (n > CONSOLE_MAX_REQUEST - done)
			n = CONSOLE_MAX_REQUEST - done;
		const uint8_t *p = mem_ptr(t->mem, c->seg[i].gpa, n ? n : 1);
		for (uint64_t w = 0; p && w < n && v->out >= 0;) {
			ssize_t r = write(v->out, p + w, n - w);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break; /* console gone: the guest's bytes are dropped, as COM1's */
			w += (uint64_t)r;
		}
		done += n;
	}
	v->bytes += done;
	return 0; /* nothing written into the guest's buffers */
}

static void con_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct vcon *v = dev;
	if (q == VIRTIO_CONSOLE_TRANSMITQ)
		virtio_mmio_serve(t, q, &v->chain, tx_serve, v);
	/* receiveq: buffers wait for input that never comes */
}

static void con_config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	(void)dev;
	(void)off;
	for (unsigned i = 0; i < size; i++)
		data[i] = 0; /* cols, rows, max_nr_ports: unused without SIZE/MULTIPORT */
}

static const struct virtio_dev_ops con_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nqueues = 2,
	.config_len = 12, /* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr */
	.config_read = con_config_read,
	.notify = con_notify,
};

struct vcon *virtio_console_new(struct guest_mem *mem, struct dev_host *host, uint64_t base,
				uint32_t gsi, int out)
{
	struct vcon *v = calloc(1, sizeof(*v));
	if (v) {
		virtio_mmio_init(&v->t, &con_ops, v, mem, host, base, gsi);
		v->out = out;
	}
	return v;
}

static int con_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
		    void **state)
{
	(void)cfg;
	const struct platform *p = host->plat;
	for (unsigned i = 0; p && i < p->nvirtio; i++) {
		const struct platform_virtio *pv = &p->virtio[i];
		if (pv->device_id != VIRTIO_ID_CONSOLE)
			continue;
		struct vcon *v = virtio_console_new(host->mem, host, pv->base, pv->gsi,
						    host->console_out);
		if (!v)
			return nb_err_internal("out of memory for virtio-console");
		*state = v;
		if (virtio_mmio_register(&v->t, bus) < 0)
			return -1;
		if (host->log)
			virtio_mmio_describe(&v->t, host->log, "hvc0 on the console output");
		break;
	}
	return 0;
}

static const struct device virtio_console_device = {
	.name = "virtio-console",
	.order = 520,
	.init = con_init,
	.fini = free,
};
DEVICE(virtio_console_device);
