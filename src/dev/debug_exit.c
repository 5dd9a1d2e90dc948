/* debug_exit.c - QEMU-compatible isa-debug-exit at port 0xF4.
 *
 * A write of value v ends the VM with process status (v << 1) | 1, so the
 * guest's statuses are always odd and never collide with nobios's own (even)
 * ones.  QEMU's device is usually configured as iobase=0xf4,iosize=0x04 and
 * exits on a write of any size anywhere in the window; we do the same.  The
 * full value goes into the message; the status is what exit() will keep
 * (the low 8 bits), computed here so the host sees the same number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"

#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_LEN  4

struct debug_exit {
	struct dev_host *host;
};

static void debug_exit_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	/* QEMU's device has no read side: reads float high. */
	memset(data, 0xFF, size);
}

static void debug_exit_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct debug_exit *d = opaque;
	uint32_t v = dev_data_get(data, size);
	int status = (int)((((uint64_t)v << 1) | 1) & 0xFF);
	char msg[96];
	snprintf(msg, sizeof(msg), "guest wrote 0x%x to debug-exit port 0x%x: status %d", v,
		 port, status);
	d->host->request_stop(d->host->vm, DEV_STOP_EXIT, status, msg);
}

static int debug_exit_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
			   void **state)
{
	struct debug_exit *d = calloc(1, sizeof(*d));
	if (!d)
		return nb_err_internal("debug-exit: out of memory");
	d->host = host;
	struct pio_handler h = {
		.name = "debug-exit",
		.base = DEBUG_EXIT_PORT,
		.len = DEBUG_EXIT_LEN,
		.opaque = d,
		.in = debug_exit_in,
		.out = debug_exit_out,
	};
	if (bus_register_pio(b, &h) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static void debug_exit_fini(void *state)
{
	free(state);
}

static const struct device debug_exit_device = {
	.name = "debug-exit",
	.order = 10,
	.init = debug_exit_init,
	.fini = debug_exit_fini,
};
DEVICE(debug_exit_device);
