/* bus.c - port-I/O and MMIO dispatch, and the device registry. */
#include "dev/dev.h"

#include <stdint.h>
#include <string.h>

#include "util/err.h"

extern const struct device *const __start_nb_devices[];
extern const struct device *const __stop_nb_devices[];

unsigned devices(const struct device **out, unsigned max)
{
	unsigned n = 0;
	/* The linker's section bounds delimit one array; count it by address
	 * (comparing the two symbols as pointers looks undefined to checkers). */
	size_t count = ((uintptr_t)__stop_nb_devices - (uintptr_t)__start_nb_devices) /
		       sizeof(__start_nb_devices[0]);
	for (size_t i = 0; i < count && n < max; i++)
		out[n++] = __start_nb_devices[i];
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && out[j - 1]->order > out[j]->order; j--) {
			const struct device *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
}

int bus_register_pio(struct bus *b, const struct pio_handler *h)
{
	if (h->len == 0 || (uint32_t)h->base + h->len > 0x10000)
		return nb_err_internal("%s: bad port range 0x%x+%u", h->name, h->base, h->len);
	for (unsigned i = 0; i < b->npio; i++) {
		const struct pio_handler *o = &b->pio[i];
		if (h->base < o->base + o->len && o->base < h->base + h->len)
			return nb_err_internal("%s: ports 0x%x-0x%x already claimed by %s", h->name,
					       h->base, h->base + h->len - 1, o->name);
	}
	if (b->npio == BUS_MAX_PIO)
		return nb_err_internal("%s: too many port handlers", h->name);
	b->pio[b->npio++] = *h;
	return 0;
}

int bus_register_mmio(struct bus *b, const struct mmio_handler *h)
{
	if (h->len == 0 || h->base + h->len < h->base)
		return nb_err_internal("%s: bad MMIO range", h->name);
	for (unsigned i = 0; i < b->nmmio; i++) {
		const struct mmio_handler *o = &b->mmio[i];
		if (h->base < o->base + o->len && o->base < h->base + h->len)
			return nb_err_internal("%s: MMIO 0x%llx already claimed by %s", h->name,
					       (unsigned long long)h->base, o->name);
	}
	if (b->nmmio == BUS_MAX_MMIO)
		return nb_err_internal("%s: too many MMIO handlers", h->name);
	b->mmio[b->nmmio++] = *h;
	return 0;
}

static void note_unclaimed(struct bus *b, uint64_t addr, bool mmio)
{
	for (unsigned i = 0; i < b->nunclaimed; i++)
		if (b->unclaimed[i].addr == addr && b->unclaimed[i].mmio == mmio) {
			b->unclaimed[i].count++;
			return;
		}
	if (b->nunclaimed < BUS_MAX_UNCLAIMED)
		b->unclaimed[b->nunclaimed++] = (typeof(b->unclaimed[0])){ addr, 1, mmio };
}

static struct pio_handler *find_pio(struct bus *b, uint16_t port)
{
	/* Most exits hit the first handlers (the UART registers first). */
	for (unsigned i = 0; i < b->npio; i++)
		if (port >= b->pio[i].base && port - b->pio[i].base < b->pio[i].len)
			return &b->pio[i];
	return NULL;
}

bool bus_pio_in(struct bus *b, uint16_t port, uint8_t *data, unsigned size)
{
	struct pio_handler *h = find_pio(b, port);
	if (h && h->in) {
		h->in(h->opaque, port, data, size);
		return true;
	}
	memset(data, 0xFF, size);
	note_unclaimed(b, port, false);
	return false;
}

bool bus_pio_out(struct bus *b, uint16_t port, const uint8_t *data, unsigned size)
{
	struct pio_handler *h = find_pio(b, port);
	if (h && h->out) {
		h->out(h->opaque, port, data, size);
		return true;
	}
	note_unclaimed(b, port, false);
	return false;
}

static struct mmio_handler *find_mmio(struct bus *b, uint64_t addr)
{
	for (unsigned i = 0; i < b->nmmio; i++)
		if (addr >= b->mmio[i].base && addr - b->mmio[i].base < b->mmio[i].len)
			return &b->mmio[i];
	return NULL;
}

bool bus_mmio_read(struct bus *b, uint64_t addr, uint8_t *data, unsigned size)
{
	struct mmio_handler *h = find_mmio(b, addr);
	if (h && h->read) {
		h->read(h->opaque, addr, data, size);
		return true;
	}
	memset(data, 0xFF, size);
	note_unclaimed(b, addr, true);
	return false;
}

bool bus_mmio_write(struct bus *b, uint64_t addr, const uint8_t *data, unsigned size)
{
	struct mmio_handler *h = find_mmio(b, addr);
	if (h && h->write) {
		h->write(h->opaque, addr, data, size);
		return true;
	}
	note_unclaimed(b, addr, true);
	return false;
}

void bus_report_unclaimed(const struct bus *b, FILE *out)
{
	for (unsigned i = 0; i < b->nunclaimed; i++)
		fprintf(out, "nobios: unclaimed %s 0x%llx: %llu accesses\n",
			b->unclaimed[i].mmio ? "MMIO" : "port",
			(unsigned long long)b->unclaimed[i].addr,
			(unsigned long long)b->unclaimed[i].count);
}
