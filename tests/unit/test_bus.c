/* test_bus.c - src/dev/bus.c: claims, dispatch, unclaimed accesses. */
#include "dev_fake.h"

#include <fcntl.h>
#include <unistd.h>

struct rec {
	unsigned nin, nout;
	uint16_t last_port;
	uint32_t last_val;
	unsigned last_size;
};

static void rec_in(void *o, uint16_t port, uint8_t *data, unsigned size)
{
	struct rec *r = o;
	r->nin++;
	r->last_port = port;
	r->last_size = size;
	dev_data_put(data, size, 0x11223344);
}

static void rec_out(void *o, uint16_t port, const uint8_t *data, unsigned size)
{
	struct rec *r = o;
	r->nout++;
	r->last_port = port;
	r->last_size = size;
	r->last_val = dev_data_get(data, size);
}

static void rec_read(void *o, uint64_t addr, uint8_t *data, unsigned size)
{
	struct rec *r = o;
	r->nin++;
	dev_data_put(data, size, 0xCAFEF00D);
}

static void test_overlap_refused(void **st)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b);
	struct pio_handler a = { "a", 0x60, 1, &r, rec_in, rec_out };
	struct pio_handler c = { "c", 0x64, 1, &r, rec_in, rec_out };
	assert_int_equal(bus_register_pio(&b, &a), 0);
	assert_int_equal(bus_register_pio(&b, &c), 0);
	struct pio_handler same = { "same", 0x60, 1, &r, rec_in, rec_out };
	struct pio_handler wide = { "wide", 0x5E, 4, &r, rec_in, rec_out }; /* 0x5E-0x61 */
	struct pio_handler tail = { "tail", 0x63, 2, &r, rec_in, rec_out }; /* 0x63-0x64 */
	assert_int_equal(bus_register_pio(&b, &same), -1);
	assert_int_equal(bus_register_pio(&b, &wide), -1);
	assert_int_equal(bus_register_pio(&b, &tail), -1);
	/* Adjacent ranges are fine. */
	struct pio_handler adj = { "adj", 0x61, 3, &r, rec_in, rec_out }; /* 0x61-0x63 */
	assert_int_equal(bus_register_pio(&b, &adj), 0);
	assert_int_equal(b.npio, 3);
	/* Ranges beyond port 0xFFFF and empty ranges are refused. */
	struct pio_handler top = { "top", 0xFFFE, 4, &r, rec_in, rec_out };
	struct pio_handler empty = { "empty", 0x100, 0, &r, rec_in, rec_out };
	assert_int_equal(bus_register_pio(&b, &top), -1);
	assert_int_equal(bus_register_pio(&b, &empty), -1);

	struct mmio_handler m1 = { "m1", 0xD0000000, 0x1000, &r, rec_read, NULL };
	struct mmio_handler m2 = { "m2", 0xD0000FFF, 0x10, &r, rec_read, NULL };
	struct mmio_handler m3 = { "m3", 0xD0001000, 0x10, &r, rec_read, NULL };
	assert_int_equal(bus_register_mmio(&b, &m1), 0);
	assert_int_equal(bus_register_mmio(&b, &m2), -1);
	assert_int_equal(bus_register_mmio(&b, &m3), 0);
	struct mmio_handler wrap = { "wrap", 0xFFFFFFFFFFFFF000ULL, 0x2000, &r, rec_read, NULL };
	assert_int_equal(bus_register_mmio(&b, &wrap), -1);
}

static void test_dispatch(void **st)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b);
	struct pio_handler h = { "h", 0x3F8, 8, &r, rec_in, rec_out };
	assert_int_equal(bus_register_pio(&b, &h), 0);
	uint8_t d[4] = { 0x78, 0x56, 0x34, 0x12 };
	assert_true(bus_pio_out(&b, 0x3FC, d, 2));
	assert_int_equal(r.nout, 1);
	assert_int_equal(r.last_port, 0x3FC);
	assert_int_equal(r.last_size, 2);
	assert_int_equal(r.last_val, 0x5678);
	uint8_t in[4] = { 0 };
	assert_true(bus_pio_in(&b, 0x3FF, in, 4));
	assert_int_equal(dev_data_get(in, 4), 0x11223344);
	assert_int_equal(b.nunclaimed, 0);
}

static void test_unclaimed(void **st)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b);
	struct pio_handler h = { "h", 0x70, 2, &r, rec_in, rec_out };
	assert_int_equal(bus_register_pio(&b, &h), 0);
	uint8_t d[4] = { 0, 0, 0, 0 };
	assert_false(bus_pio_in(&b, 0x72, d, 4));
	assert_int_equal(dev_data_get(d, 4), 0xFFFFFFFF);
	d[0] = 0;
	assert_false(bus_pio_in(&b, 0x72, d, 1));
	assert_int_equal(d[0], 0xFF);
	assert_false(bus_pio_out(&b, 0x72, d, 1));
	assert_false(bus_pio_out(&b, 0x1F0, d, 1));
	uint8_t m[8] = { 0 };
	assert_false(bus_mmio_read(&b, 0xFED00000, m, 8));
	for (int i = 0; i < 8; i++)
		assert_int_equal(m[i], 0xFF);
	assert_int_equal(r.nin + r.nout, 0);
	/* Counted per address, ports and MMIO kept apart. */
	assert_int_equal(b.nunclaimed, 3);
	assert_int_equal(b.unclaimed[0].addr, 0x72);
	assert_int_equal(b.unclaimed[0].count, 3);
	assert_false(b.unclaimed[0].mmio);
	assert_int_equal(b.unclaimed[1].addr, 0x1F0);
	assert_int_equal(b.unclaimed[1].count, 1);
	assert_int_equal(b.unclaimed[2].addr, 0xFED00000);
	assert_true(b.unclaimed[2].mmio);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	bus_report_unclaimed(&b, f);
	fclose(f);
	assert_non_null(strstr(buf, "port 0x72: 3 accesses"));
	assert_non_null(strstr(buf, "MMIO 0xfed00000: 1 accesses"));
	free(buf);
}

static void test_handler_without_in(void **st)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b);
	struct pio_handler h = { "wo", 0x80, 1, &r, NULL, rec_out };
	assert_int_equal(bus_register_pio(&b, &h), 0);
	uint8_t v = 0;
	assert_false(bus_pio_in(&b, 0x80, &v, 1));
	assert_int_equal(v, 0xFF);
	v = 0x12;
	assert_true(bus_pio_out(&b, 0x80, &v, 1));
	assert_int_equal(r.last_val, 0x12);
}

static const char *const legacy[] = { "uart16550", "debug-exit", "debugcon", "i8042",
				     "reset",     "cmos-rtc",   "post" };
#define NLEGACY (sizeof(legacy) / sizeof(legacy[0]))

static void test_registry_has_devices(void **st)
{
	/* Every legacy device registered itself, UART first (bus.c's fast path). */
	const struct device *devs[64];
	unsigned n = devices(devs, 64);
	assert_true(n >= 7);
	for (unsigned i = 1; i < n; i++)
		assert_true(devs[i - 1]->order <= devs[i]->order);
	const struct device *uart = fake_find_device("uart16550");
	assert_non_null(uart);
	assert_int_equal(uart->order, devs[0]->order);
	for (unsigned i = 0; i < NLEGACY; i++)
		assert_non_null(fake_find_device(legacy[i]));
}

static void test_all_devices_coexist(void **st)
{
	/* The legacy devices initialise together on one bus: no port claimed
	 * twice. */
	struct bus b;
	bus_init(&b);
	struct fake_host fh;
	static uint8_t ram[4 << 20];
	struct guest_mem mem;
	assert_int_equal(mem_init_buf(&mem, ram, sizeof(ram)), 0);
	fake_host_init(&fh, &mem, -1, -1);
	struct machine_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = sizeof(ram);
	void *state[NLEGACY];
	for (unsigned i = 0; i < NLEGACY; i++)
		state[i] = fake_device_init(legacy[i], &b, &fh, &cfg);
	assert_int_equal(b.nunclaimed, 0);
	for (unsigned i = NLEGACY; i-- > 0;)
		fake_device_fini(legacy[i], state[i]);
}

static void test_small_devices(void **st)
{
	/* debug-exit, debugcon and POST through the bus with a fake host. */
	struct bus b;
	bus_init(&b);
	int out[2];
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	struct fake_host fh;
	fake_host_init(&fh, NULL, -1, out[1]);
	struct machine_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	void *dx = fake_device_init("debug-exit", &b, &fh, &cfg);
	void *dc = fake_device_init("debugcon", &b, &fh, &cfg);
	void *po = fake_device_init("post", &b, &fh, &cfg);

	/* 0xE9 reads back 0xE9 and writes reach the console. */
	assert_int_equal(fake_inb(&b, 0xE9), 0xE9);
	fake_outb(&b, 0xE9, 'o');
	uint8_t w[2] = { 'k', 'X' }; /* a word write prints its low byte only */
	bus_pio_out(&b, 0xE9, w, 2);
	char buf[8] = { 0 };
	assert_int_equal(read(out[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ok");

	/* POST: the first write is a milestone, later ones are not; reads
	 * give the last code. */
	unsigned m0 = fh.nmilestone;
	fake_outb(&b, 0x80, 0x12);
	fake_outb(&b, 0x80, 0x34);
	assert_int_equal(fh.nmilestone, m0 + 1);
	assert_string_equal(fh.milestone, "first port 0x80 write");
	assert_int_equal(fake_inb(&b, 0x80), 0x34);

	/* debug-exit: (v << 1) | 1, for byte and dword writes. */
	assert_int_equal(fh.nstop, 0);
	fake_outb(&b, 0xF4, 0);
	assert_int_equal(fh.nstop, 1);
	assert_int_equal(fh.stop_why, DEV_STOP_EXIT);
	assert_int_equal(fh.stop_status, 1);
	fake_outb(&b, 0xF4, 0x10);
	assert_int_equal(fh.stop_status, 0x21);
	uint8_t d[4] = { 0x7F, 0, 0, 0 };
	bus_pio_out(&b, 0xF4, d, 4);
	assert_int_equal(fh.stop_status, 0xFF);
	assert_non_null(strstr(fh.stop_msg, "0x7f"));
	/* Only statuses a process can have: the low 8 bits. */
	d[0] = 0x80;
	bus_pio_out(&b, 0xF4, d, 4);
	assert_int_equal(fh.stop_status, 0x01);

	fake_device_fini("post", po);
	fake_device_fini("debugcon", dc);
	fake_device_fini("debug-exit", dx);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap_refused),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_unclaimed),
		cmocka_unit_test(test_handler_without_in),
		cmocka_unit_test(test_registry_has_devices),
		cmocka_unit_test(test_all_devices_coexist),
		cmocka_unit_test(test_small_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
