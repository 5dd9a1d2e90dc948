/* test_i8042.c - the i8042 controller and the reset registers (0x92, 0xCF9). */
#include "dev_fake.h"

#define DATA 0x60
#define CMD  0x64

struct kfix {
	struct bus bus;
	struct fake_host fh;
	struct machine_config cfg;
	void *kbd, *reset;
};

static int setup(void **st)
{
	struct kfix *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	bus_init(&t->bus);
	fake_host_init(&t->fh, NULL, -1, -1);
	t->kbd = fake_device_init("i8042", &t->bus, &t->fh, &t->cfg);
	t->reset = fake_device_init("reset", &t->bus, &t->fh, &t->cfg);
	*st = t;
	return 0;
}

static int teardown(void **st)
{
	struct kfix *t = *st;
	fake_device_fini("i8042", t->kbd);
	fake_device_fini("reset", t->reset);
	free(t);
	return 0;
}

/* Linux's __i8042_command: wait for !IBF, write, wait for OBF, read. */
static int command(struct kfix *t, uint8_t cmd, const uint8_t *param, int nparam, uint8_t *res,
		   int nres)
{
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x02, 0);
	fake_outb(&t->bus, CMD, cmd);
	for (int i = 0; i < nparam; i++) {
		assert_int_equal(fake_inb(&t->bus, CMD) & 0x02, 0);
		fake_outb(&t->bus, DATA, param[i]);
	}
	for (int i = 0; i < nres; i++) {
		if (!(fake_inb(&t->bus, CMD) & 0x01))
			return -1;
		res[i] = fake_inb(&t->bus, DATA);
	}
	return 0;
}

static void test_status_and_self_test(void **st)
{
	struct kfix *t = *st;
	uint8_t s = fake_inb(&t->bus, CMD);
	assert_int_not_equal(s, 0xFF); /* Linux: 0xFF means no controller */
	assert_int_equal(s & 0x03, 0);  /* nothing to read, ready for input */
	assert_true(s & 0x04);          /* system flag: POST passed */
	uint8_t r;
	assert_int_equal(command(t, 0xAA, NULL, 0, &r, 1), 0);
	assert_int_equal(r, 0x55);
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x01, 0); /* consumed */
	assert_int_equal(command(t, 0xAB, NULL, 0, &r, 1), 0);
	assert_int_equal(r, 0x00);
	assert_int_equal(command(t, 0xA9, NULL, 0, &r, 1), 0);
	assert_int_equal(r, 0x00);
	/* The status register reflects the last port written (A2). */
	assert_true(fake_inb(&t->bus, CMD) & 0x08);
	assert_int_equal(t->fh.nstop, 0);
}

static void test_command_byte(void **st)
{
	struct kfix *t = *st;
	uint8_t ctr, ctr2;
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr2, 1), 0);
	assert_int_equal(ctr, ctr2); /* Linux wants two equal reads */
	assert_true(ctr & 0x04);
	uint8_t w = 0x45;
	assert_int_equal(command(t, 0x60, &w, 1, NULL, 0), 0);
	assert_false(fake_inb(&t->bus, CMD) & 0x08); /* last write went to data */
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr, 0x45);
	/* Port enable/disable shows in the command byte (Linux's AUX test). */
	assert_int_equal(command(t, 0xA7, NULL, 0, NULL, 0), 0);
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr & 0x20, 0x20);
	assert_int_equal(command(t, 0xA8, NULL, 0, NULL, 0), 0);
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr & 0x20, 0);
	assert_int_equal(command(t, 0xAD, NULL, 0, NULL, 0), 0);
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr & 0x10, 0x10);
	assert_int_equal(command(t, 0xAE, NULL, 0, NULL, 0), 0);
	assert_int_equal(command(t, 0x20, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr & 0x10, 0);
	/* Clearing the system flag in the command byte clears it in status. */
	w = 0x41;
	assert_int_equal(command(t, 0x60, &w, 1, NULL, 0), 0);
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x04, 0);
	/* Other internal RAM bytes: 0x61-0x7F write, 0x21-0x3F read. */
	w = 0x9C;
	assert_int_equal(command(t, 0x65, &w, 1, NULL, 0), 0);
	assert_int_equal(command(t, 0x25, NULL, 0, &ctr, 1), 0);
	assert_int_equal(ctr, 0x9C);
}

static void test_aux_loop_and_irq(void **st)
{
	struct kfix *t = *st;
	uint8_t p = 0x5A, r = 0;
	assert_int_equal(command(t, 0xD3, &p, 1, NULL, 0), 0);
	uint8_t s = fake_inb(&t->bus, CMD);
	assert_int_equal(s & 0x21, 0x21); /* OBF with AUX data */
	r = fake_inb(&t->bus, DATA);
	assert_int_equal(r, 0x5A);
	assert_int_equal(t->fh.level[12], -1); /* AUX interrupt off: no IRQ */
	/* Linux's AUX IRQ delivery test: enable AUXINT, loop 0xA5. */
	uint8_t w = 0x47;
	assert_int_equal(command(t, 0x60, &w, 1, NULL, 0), 0);
	p = 0xA5;
	assert_int_equal(command(t, 0xD3, &p, 1, NULL, 0), 0);
	assert_int_equal(t->fh.level[12], 1);
	assert_int_equal(t->fh.level[1], -1);
	assert_int_equal(fake_inb(&t->bus, DATA), 0xA5);
	assert_int_equal(t->fh.level[12], 0);
	/* Keyboard loopback raises IRQ 1 and is not flagged AUX. */
	p = 0x33;
	assert_int_equal(command(t, 0xD2, &p, 1, NULL, 0), 0);
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x21, 0x01);
	assert_int_equal(t->fh.level[1], 1);
	assert_int_equal(fake_inb(&t->bus, DATA), 0x33);
	assert_int_equal(t->fh.level[1], 0);
	/* An empty buffer reads its last byte again and raises nothing. */
	assert_int_equal(fake_inb(&t->bus, DATA), 0x33);
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x01, 0);
	/* Bytes for absent devices vanish; no reply, no stop. */
	p = 0xF2;
	assert_int_equal(command(t, 0xD4, &p, 1, NULL, 0), 0);
	fake_outb(&t->bus, DATA, 0xFF);
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x01, 0);
	assert_int_equal(t->fh.nstop, 0);
}

static void test_reset_fe(void **st)
{
	struct kfix *t = *st;
	/* Linux's reboot=k: wait for !IBF, then 0xFE to the command port. */
	assert_int_equal(fake_inb(&t->bus, CMD) & 0x02, 0);
	fake_outb(&t->bus, CMD, 0xFE);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->fh.stop_why, DEV_STOP_RESET);
	assert_int_equal(t->fh.stop_status, 0);
	assert_string_equal(t->fh.stop_msg, "guest requested reset (i8042 0xFE)");
	/* 0xFF pulses no line: no reset. */
	fake_outb(&t->bus, CMD, 0xFF);
	assert_int_equal(t->fh.nstop, 1);
}

static void test_reset_output_port(void **st)
{
	struct kfix *t = *st;
	uint8_t r;
	assert_int_equal(command(t, 0xD0, NULL, 0, &r, 1), 0);
	assert_int_equal(r & 0x03, 0x03); /* reset inactive, A20 on */
	uint8_t w = 0xDF; /* A20 enable as setup code writes it: no reset */
	assert_int_equal(command(t, 0xD1, &w, 1, NULL, 0), 0);
	assert_int_equal(t->fh.nstop, 0);
	w = 0xDE;
	assert_int_equal(command(t, 0xD1, &w, 1, NULL, 0), 0);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->fh.stop_why, DEV_STOP_RESET);
	assert_int_equal(t->fh.stop_status, 0);
}

static void test_port92_and_cf9(void **st)
{
	struct kfix *t = *st;
	assert_int_equal(fake_inb(&t->bus, 0x92) & 0x02, 0x02); /* A20 on */
	fake_outb(&t->bus, 0x92, 0x00);
	assert_int_equal(fake_inb(&t->bus, 0x92), 0x00);
	fake_outb(&t->bus, 0x92, 0x02);
	assert_int_equal(t->fh.nstop, 0);
	fake_outb(&t->bus, 0xCF9, 0x02); /* SYS_RST alone: only selects hard reset */
	assert_int_equal(fake_inb(&t->bus, 0xCF9), 0x02);
	assert_int_equal(t->fh.nstop, 0);
	fake_outb(&t->bus, 0xCF9, 0x06);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->fh.stop_why, DEV_STOP_RESET);
	assert_int_equal(t->fh.stop_status, 0);
	fake_outb(&t->bus, 0x92, 0x03);
	assert_int_equal(t->fh.nstop, 2);
	assert_string_equal(t->fh.stop_msg, "guest requested reset (port 0x92 bit 0)");
	/* 0xCF8 stays free for a PCI host bridge. */
	uint8_t v;
	assert_false(bus_pio_in(&t->bus, 0xCF8, &v, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_and_self_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aux_loop_and_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_fe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_output_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port92_and_cf9, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
