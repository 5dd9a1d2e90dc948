/* dev.h - the device bus: port-I/O and MMIO handlers, and how devices
 * register themselves.
 *
 * A device is one file that declares itself with DEVICE(); at machine
 * creation every registered device's init runs (in ascending `order`) and
 * claims its ports or MMIO ranges on the bus.  Devices talk back to the
 * machine only through struct dev_host (raise an IRQ line, stop the VM). */
#ifndef NOBIOS_DEV_DEV_H
#define NOBIOS_DEV_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct guest_mem;
struct machine_config;
struct cpu_state;
struct platform;

/* How the VM ended when a device asked it to stop. */
enum dev_stop_reason {
	DEV_STOP_EXIT = 1, /* debug-exit port: status (v << 1) | 1 */
	DEV_STOP_RESET,    /* guest asked for a reset (i8042 0xFE, 0xCF9) */
	DEV_STOP_POWEROFF, /* guest asked for power-off */
	DEV_STOP_ERROR,    /* device saw something fatal */
};

struct dev_host {
	void *vm;
	/* Set an interrupt line (ISA IRQ / GSI) level. */
	int (*irq_line)(void *vm, unsigned irq, int level);
	/* Stop the VM at the next exit with the given process status. */
	void (*request_stop)(void *vm, enum dev_stop_reason why, int status, const char *msg);
	/* Milestone for --timeline (e.g. "first console byte"); may be NULL. */
	void (*milestone)(void *vm, const char *what);
	/* The calling vCPU's full register state, for handlers that serve a
	 * trap in the vCPU thread (the pseudo-BIOS); may be NULL.  0 or -1. */
	int (*get_cpu)(void *vm, struct cpu_state *s);
	int (*set_cpu)(void *vm, const struct cpu_state *s);
	/* Report a host-side failure the guest was told about and survives
	 * (e.g. a disk I/O error): one line, without "nobios: "; may be NULL. */
	void (*warn)(void *vm, const char *msg);
	/* Have KVM signal the eventfd fd, without an exit to nobios, when the
	 * guest writes the 32-bit value datamatch at guest-physical addr
	 * (KVM_IOEVENTFD); NULL in tests and where there is no KVM.  0 or -1. */
	int (*ioeventfd)(void *vm, uint64_t addr, uint32_t datamatch, int fd);
	struct guest_mem *mem;
	/* What the loaders announced (virtio windows and GSIs): devices are
	 * created exactly there.  NULL in tests that need none. */
	const struct platform *plat;
	int console_in;  /* fd or -1 */
	int console_out; /* fd */
	FILE *log;       /* non-NULL with -v */
};

/* A port-I/O handler.  size is 1, 2 or 4; data is little-endian. */
struct pio_handler {
	const char *name;
	uint16_t base, len;
	void *opaque;
	void (*in)(void *opaque, uint16_t port, uint8_t *data, unsigned size);
	void (*out)(void *opaque, uint16_t port, const uint8_t *data, unsigned size);
};

struct mmio_handler {
	const char *name;
	uint64_t base, len;
	void *opaque;
	void (*read)(void *opaque, uint64_t addr, uint8_t *data, unsigned size);
	void (*write)(void *opaque, uint64_t addr, const uint8_t *data, unsigned size);
};

#define BUS_MAX_PIO 64
#define BUS_MAX_MMIO 32
#define BUS_MAX_UNCLAIMED 64

struct bus {
	struct pio_handler pio[BUS_MAX_PIO];
	unsigned npio;
	struct mmio_handler mmio[BUS_MAX_MMIO];
	unsigned nmmio;
	/* Unclaimed accesses, for -v: port/address and count. */
	struct { uint64_t addr; uint64_t count; bool mmio; } unclaimed[BUS_MAX_UNCLAIMED];
	unsigned nunclaimed;
};

void bus_init(struct bus *b);
/* Claim a range; overlapping an existing claim is an error. */
int bus_register_pio(struct bus *b, const struct pio_handler *h);
int bus_register_mmio(struct bus *b, const struct mmio_handler *h);
/* Dispatch.  Unclaimed reads return all ones; unclaimed writes are dropped;
 * both are counted for -v.  Return true if a handler claimed it. */
bool bus_pio_in(struct bus *b, uint16_t port, uint8_t *data, unsigned size);
bool bus_pio_out(struct bus *b, uint16_t port, const uint8_t *data, unsigned size);
bool bus_mmio_read(struct bus *b, uint64_t addr, uint8_t *data, unsigned size);
bool bus_mmio_write(struct bus *b, uint64_t addr, const uint8_t *data, unsigned size);
void bus_report_unclaimed(const struct bus *b, FILE *out);

/* Device registration. */
struct device {
	const char *name;
	int order; /* init order, ascending */
	/* Claim ports/MMIO; state may be stored in *state (freed by fini). */
	int (*init)(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		    void **state);
	void (*fini)(void *state);
	/* Optional: the guest has stopped for good.  Make what the device
	 * wrote for it durable and release what other processes may wait for
	 * (disk image locks), before the VM's teardown.  0, or -1 with nb_err()
	 * when data the guest wrote may be lost (exit status NB_EXIT_IO). */
	int (*finish)(void *state);
};

#define DEVICE(sym)                                                           \
	static const struct device *const device_ptr_##sym                      \
		__attribute__((used, section("nb_devices"), aligned(sizeof(void *)))) = &sym

unsigned devices(const struct device **out, unsigned max);

/* Little-endian helpers for handlers. */
static inline uint32_t dev_data_get(const uint8_t *d, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}
static inline void dev_data_put(uint8_t *d, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size && i < 4; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

#endif
