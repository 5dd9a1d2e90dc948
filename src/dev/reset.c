/* reset.c - the chipset's reset registers: System Control Port A (0x92)
 * and the PIIX/ICH Reset Control Register (0xCF9).
 *
 * Port 0x92: bit 1 is the A20 gate (A20 is always on here; the bit is
 * stored so the guest reads back what it wrote), bit 0 the "fast reset"
 * (INIT) - writing 1 resets.  Port 0xCF9: writing with bit 2 (RST_CPU) set
 * resets, as QEMU's PIIX does; bit 1 (SYS_RST, hard vs soft) is stored only.
 * 0xCF9 is claimed alone so a PCI host bridge can still take 0xCF8 (4
 * bytes, CONFIG_ADDRESS) and 0xCFC-0xCFF (CONFIG_DATA) around it.
 * A reset ends the VM with status 0 (README "Exit status"). */
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"

#define PORT_A          0x92
#define PORT_A_RESET    0x01
#define PORT_A_A20      0x02
#define RESET_CONTROL   0xCF9
#define RCR_SYS_RST     0x02
#define RCR_RST_CPU     0x04

struct reset {
	struct dev_host *host;
	uint8_t port_a;
	uint8_t rcr;
};

static void reset_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct reset *r = opaque;
	memset(data, 0xFF, size);
	data[0] = port == PORT_A ? r->port_a : r->rcr;
}

static void reset_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct reset *r = opaque;
	uint8_t v = data[0];
	if (port == PORT_A) {
		r->port_a = v & PORT_A_A20; /* bit 0 self-clears after the pulse */
		if (v & PORT_A_RESET)
			r->host->request_stop(r->host->vm, DEV_STOP_RESET, 0,
					      "guest requested reset (port 0x92 bit 0)");
		return;
	}
	r->rcr = v & RCR_SYS_RST;
	if (v & RCR_RST_CPU)
		r->host->request_stop(r->host->vm, DEV_STOP_RESET, 0,
				      "guest requested reset (port 0xCF9)");
}

static int reset_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		      void **state)
{
	struct reset *r = calloc(1, sizeof(*r));
	if (!r)
		return nb_err_internal("reset: out of memory");
	r->host = host;
	r->port_a = PORT_A_A20;
	struct pio_handler a = {
		.name = "port-a", .base = PORT_A, .len = 1, .opaque = r,
		.in = reset_in, .out = reset_out,
	};
	struct pio_handler c = a;
	c.name = "reset-control";
	c.base = RESET_CONTROL;
	if (bus_register_pio(b, &a) < 0 || bus_register_pio(b, &c) < 0) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static void reset_fini(void *state)
{
	free(state);
}

static const struct device reset_device = {
	.name = "reset",
	.order = 10,
	.init = reset_init,
	.fini = reset_fini,
};
DEVICE(reset_device);
