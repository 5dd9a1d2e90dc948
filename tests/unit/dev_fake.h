/* dev_fake.h - a fake struct dev_host for device unit tests: records IRQ
 * line changes, stop requests and milestones; devices are found by name in
 * the DEVICE() registry and initialised on a bus the test owns. */
#ifndef TESTS_UNIT_DEV_FAKE_H
#define TESTS_UNIT_DEV_FAKE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "mem/mem.h"
#include "nobios.h"

#define FAKE_MAX_EVENTS 256

struct fake_host {
	struct dev_host host;
	struct { unsigned irq; int level; } irq[FAKE_MAX_EVENTS];
	unsigned nirq;
	int level[32]; /* current level per line, -1 never set */
	unsigned nstop;
	enum dev_stop_reason stop_why;
	int stop_status;
	char stop_msg[256];
	unsigned nmilestone;
	char milestone[256];
};

static int fake_irq_line(void *vm, unsigned irq, int level)
{
	struct fake_host *f = vm;
	if (f->nirq < FAKE_MAX_EVENTS) {
		f->irq[f->nirq].irq = irq;
		f->irq[f->nirq].level = level;
		f->nirq++;
	}
	if (irq < 32)
		f->level[irq] = level;
	return 0;
}

static void fake_request_stop(void *vm, enum dev_stop_reason why, int status, const char *msg)
{
	struct fake_host *f = vm;
	f->nstop++;
	f->stop_why = why;
	f->stop_status = status;
	snprintf(f->stop_msg, sizeof(f->stop_msg), "%s", msg ? msg : "");
}

static void fake_milestone(void *vm, const char *what)
{
	struct fake_host *f = vm;
	f->nmilestone++;
	snprintf(f->milestone, sizeof(f->milestone), "%s", what);
}

static inline void fake_host_init(struct fake_host *f, struct guest_mem *mem, int in, int out)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < 32; i++)
		f->level[i] = -1;
	f->host.vm = f;
	f->host.irq_line = fake_irq_line;
	f->host.request_stop = fake_request_stop;
	f->host.milestone = fake_milestone;
	f->host.mem = mem;
	f->host.console_in = in;
	f->host.console_out = out;
	f->host.log = NULL;
}

static inline const struct device *fake_find_device(const char *name)
{
	const struct device *devs[64];
	unsigned n = devices(devs, 64);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(devs[i]->name, name) == 0)
			return devs[i];
	return NULL;
}

/* Initialise the named device on bus b; returns its state. */
static inline void *fake_device_init(const char *name, struct bus *b, struct fake_host *f,
				     const struct machine_config *cfg)
{
	const struct device *d = fake_find_device(name);
	assert_non_null(d);
	void *state = NULL;
	assert_int_equal(d->init(b, &f->host, cfg, &state), 0);
	return state;
}

static inline void fake_device_fini(const char *name, void *state)
{
	const struct device *d = fake_find_device(name);
	assert_non_null(d);
	if (d->fini)
		d->fini(state);
}

static inline uint8_t fake_inb(struct bus *b, uint16_t port)
{
	uint8_t v = 0;
	bus_pio_in(b, port, &v, 1);
	return v;
}

static inline void fake_outb(struct bus *b, uint16_t port, uint8_t v)
{
	bus_pio_out(b, port, &v, 1);
}

#endif
