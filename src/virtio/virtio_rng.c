/* virtio_rng.c - virtio entropy device (virtio 1.2, 5.4), --virtio-rng: one
 * request queue whose device-writable buffers are filled from the host's
 * getrandom(2) (the kernel's CSPRNG, non-blocking once it is seeded, which
 * it is long before a VMM runs).  Linux shows it as /dev/hwrng and feeds its
 * own pool from it.
 *
 * Device-readable buffers in a request carry nothing for this device and
 * are ignored.  A request is filled up to RNG_MAX_REQUEST bytes (what it got
 * is the used length, as 5.4.6.1 allows), so one guest request cannot keep
 * a vCPU thread in the host for long. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "boot/platform.h"
#include "dev/dev.h"
#include "mem/mem.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"
#include "virtio/virtio.h"

SANDBOX_NEEDS(virtio_rng_needs, "virtio-rng (src/virtio/virtio_rng.c)", SANDBOX_F_VIRTIO_RNG,
	      SB_ALLOW(getrandom));

#define RNG_MAX_REQUEST (64u << 10)

struct vrng {
	struct virtio_mmio t;
	struct virtq_chain chain;
};

static uint32_t rng_serve(void *dev, struct virtio_mmio *t, struct virtq_chain *c)
{
	(void)dev;
	uint64_t done = 0;
	for (unsigned i = c->nout; i < c->nout + c->nin && done < RNG_MAX_REQUEST; i++) {
		uint64_t n = c->seg[i].len;
		if (n > RNG_MAX_REQUEST - done)
			n = RNG_MAX_REQUEST - done;
		uint8_t *p = mem_ptr(t->mem, c->seg[i].gpa, n ? n : 1); /* checked by the walker */
		for (uint64_t got = 0; p && got < n;) {
			ssize_t r = getrandom(p + got, n - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return (uint32_t)(done + got); /* what we have */
			got += (uint64_t)r;
		}
		done += n;
	}
	return (uint32_t)done;
}

static void rng_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct vrng *r = dev;
	virtio_mmio_serve(t, q, &r->chain, rng_serve, r);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.notify = rng_notify,
};

struct vrng *virtio_rng_new(struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi)
{
	struct vrng *r = calloc(1, sizeof(*r));
	if (r)
		virtio_mmio_init(&r->t, &rng_ops, r, mem, host, base, gsi);
	return r;
}

static int rng_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
		    void **state)
{
	(void)cfg;
	const struct platform *p = host->plat;
	for (unsigned i = 0; p && i < p->nvirtio; i++) {
		const struct platform_virtio *v = &p->virtio[i];
		if (v->device_id != VIRTIO_ID_RNG)
			continue;
		struct vrng *r = virtio_rng_new(host->mem, host, v->base, v->gsi);
		if (!r)
			return nb_err_internal("out of memory for virtio-rng");
		*state = r;
		if (virtio_mmio_register(&r->t, bus) < 0)
			return -1;
		if (host->log)
			virtio_mmio_describe(&r->t, host->log, "host getrandom");
		break; /* one is enough */
	}
	return 0;
}

static const struct device virtio_rng_device = {
	.name = "virtio-rng",
	.order = 510,
	.init = rng_init,
	.fini = free,
};
DEVICE(virtio_rng_device);
