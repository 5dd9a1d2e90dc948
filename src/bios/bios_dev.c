/* bios_dev.c - the pseudo-BIOS trap port: the firmware's stubs write
 * BIOS_TRAP_PORT; this handler, running in the vCPU thread, fetches the
 * registers, serves the call (services.c) and writes them back.  See bios.h
 * for the convention. */
#include "bios/bios.h"

#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "mem/layout.h"
#include "util/err.h"

#define COM1_BASE 0x3F8
#define UART_LCR_DLAB 0x80

struct bios_dev {
	struct dev_host *host;
	/* COM1's handler, wrapped to count the guest's own transmissions. */
	struct pio_handler uart;
	bool tapped;
	uint8_t lcr;
	uint64_t stray;
};

static void trap_stop(struct bios_dev *d, const char *msg)
{
	if (d->host->request_stop)
		d->host->request_stop(d->host->vm, DEV_STOP_ERROR, 4, msg);
}

/* INT 16h keys: what COM1 received from the console (its reader thread
 * owns the console input), read as the guest would: RBR while LSR.DR. */
static size_t uart_keys(void *opaque, uint8_t *buf, size_t max)
{
	struct bios_dev *d = opaque;
	size_t n = 0;
	if (!d->uart.in || (d->lcr & UART_LCR_DLAB))
		return 0;
	while (n < max) {
		uint8_t lsr = 0;
		d->uart.in(d->uart.opaque, COM1_BASE + 5, &lsr, 1);
		if (!(lsr & 0x01)) /* LSR.DR: data ready */
			break;
		d->uart.in(d->uart.opaque, COM1_BASE, &buf[n++], 1);
	}
	return n;
}

static void trap_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct bios_dev *d = opaque;
	struct dev_host *h = d->host;
	struct bios *b = bios_get_active();
	struct cpu_state s;
	if (!b) {
		d->stray++;
		return;
	}
	if (!h->get_cpu || !h->set_cpu) {
		trap_stop(d, "pseudo-BIOS: the VM gives no access to the vCPU registers");
		return;
	}
	if (h->get_cpu(h->vm, &s) < 0) {
		trap_stop(d, "pseudo-BIOS: cannot read the vCPU registers");
		return;
	}
	/* The exit's IP is at the stub's out or just past it (KVM advances IP
	 * before or after the exit depending on the path); both lie in it. */
	uint64_t ip = s.rip & 0xFFFF;
	if ((s.cr0 & X86_CR0_PE) || s.cs.base != LAYOUT_BIOS || ip < BIOS_OFF_STUBS ||
	    ip >= BIOS_OFF_STUBS + 256 * BIOS_STUB_SIZE) {
		if (h->log && d->stray++ < 8)
			fprintf(h->log, "nobios: bios: write to port 0x%x from %04x:%04llx is no "
				"BIOS stub; ignored\n", port, s.cs.selector,
				(unsigned long long)s.rip);
		return;
	}
	uint8_t vec = (uint8_t)((ip - BIOS_OFF_STUBS) / BIOS_STUB_SIZE);
	b->con_out = h->console_out;
	if (d->tapped) {
		b->kbd_source = uart_keys;
		b->kbd_opaque = d;
	} else if (b->con_in < 0 && h->console_in >= 0 && b->calls == 0) {
		b->con_in = h->console_in;
	}
	if (!b->log)
		b->log = h->log;
	if (!b->warn && h->warn) {
		b->warn = h->warn;
		b->warn_opaque = h->vm;
	}
	if (bios_call(b, vec, &s) < 0) {
		trap_stop(d, nb_errmsg());
		return;
	}
	if (h->set_cpu(h->vm, &s) < 0) {
		trap_stop(d, "pseudo-BIOS: cannot write the vCPU registers");
		return;
	}
	if (b->stop) {
		b->stop = false;
		if (h->request_stop)
			h->request_stop(h->vm, DEV_STOP_ERROR, b->stop_status, b->stop_msg);
	}
	(void)data;
	(void)size;
}

static void uart_tap_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct bios_dev *d = opaque;
	if (port == COM1_BASE + 3)
		d->lcr = data[0];
	else if (port == COM1_BASE && !(d->lcr & UART_LCR_DLAB) && bios_get_active())
		bios_get_active()->uart_tx++;
	d->uart.out(d->uart.opaque, port, data, size);
}

static void uart_tap_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct bios_dev *d = opaque;
	if (d->uart.in)
		d->uart.in(d->uart.opaque, port, data, size);
	else
		memset(data, 0xFF, size);
}

static int bios_dev_init(struct bus *bus, struct dev_host *host, const struct machine_config *cfg,
			 void **state)
{
	struct bios_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return nb_err_errno("pseudo-BIOS device");
	d->host = host;
	struct pio_handler h = {
		.name = "pseudo-BIOS trap",
		.base = BIOS_TRAP_PORT,
		.len = 1,
		.opaque = d,
		.out = trap_out,
	};
	if (bus_register_pio(bus, &h) < 0) {
		free(d);
		return -1;
	}
	/* Interpose on COM1 (registered earlier: this device inits last). */
	for (unsigned i = 0; i < bus->npio; i++) {
		struct pio_handler *p = &bus->pio[i];
		if (p->out && COM1_BASE >= p->base && COM1_BASE - p->base < p->len &&
		    p->base + p->len >= COM1_BASE + 4) {
			d->uart = *p;
			p->opaque = d;
			p->out = uart_tap_out;
			p->in = uart_tap_in;
			d->tapped = true;
			break;
		}
	}
	*state = d;
	(void)cfg;
	return 0;
}

static void bios_dev_fini(void *state)
{
	bios_set_active(NULL);
	free(state);
}

/* The disks' images are flushed and closed here, not in fini: their locks
 * must be free when nobios's status reaches its caller, and the VM's
 * teardown may outlive that (cli/main.c defers it to a child). */
static int bios_dev_finish(void *state)
{
	struct bios *b = bios_get_active();
	(void)state;
	return b ? bios_disks_finish(b) : 0;
}

static const struct device bios_device = {
	.name = "pseudo-BIOS",
	.order = 1000,
	.init = bios_dev_init,
	.fini = bios_dev_fini,
	.finish = bios_dev_finish,
};
DEVICE(bios_device);
