/* debugcon.c - the Bochs/QEMU debug console at port 0xE9.
 *
 * Writes put one character on the console output (only the low byte of
 * wider writes, as QEMU does).  Reads return 0xE9: Bochs's convention that
 * lets a guest detect the port before using it (Linux's earlyprintk=bochs
 * style consoles and many hobby kernels check it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"

#define DEBUGCON_PORT  0xE9
#define DEBUGCON_MAGIC 0xE9

struct debugcon {
	struct dev_host *host;
	bool first_done;
};

static void debugcon_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	data[0] = DEBUGCON_MAGIC;
}

static void debugcon_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct debugcon *d = opaque;
	if (d->host->console_out < 0)
		return;
	if (!d->first_done) {
		d->first_done = true;
		if (d->host->milestone)
			d->host->milestone(d->host->vm, "first 0xE9 byte");
	}
	/* A failed or interrupted write loses one debug character; the guest
	 * cannot be told, so retry only on EINTR. */
	while (write(d->host->console_out, data, 1) < 0 && errno == EINTR)
		;
}

static int debugcon_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
			 void **state)
{
	struct debugcon *d = calloc(1, sizeof(*d));
	if (!d)
		return nb_err_internal("debugcon: out of memory");
	d->host = host;
	struct pio_handler h = {
		.name = "debugcon",
		.base = DEBUGCON_PORT,
		.len = 1,
		.opaque = d,
		.in = debugcon_in,
		.out = debugcon_out,
	};
	if (bus_register_pio(b, &h) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static void debugcon_fini(void *state)
{
	free(state);
}

static const struct device debugcon_device = {
	.name = "debugcon",
	.order = 10,
	.init = debugcon_init,
	.fini = debugcon_fini,
};
DEVICE(debugcon_device);
