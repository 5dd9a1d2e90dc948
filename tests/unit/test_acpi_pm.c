/* test_acpi_pm.c - the ACPI fixed registers (src/dev/acpi_pm.c) at the
 * ports the FADT names: SLEEP_CONTROL_REG with \_S5's SLP_TYP and SLP_EN
 * powers off (status 0), other sleep types wake at once (WAK_STS),
 * SLEEP_STATUS_REG's WAK_STS is write-1-to-clear, RESET_REG resets on
 * RESET_VALUE only; the PC flavour's PM1a_CNT powers off the same way (as a
 * word, or byte by byte), PM1_STS is write-1-to-clear, PM1_EN keeps what is
 * written, SCI_EN reads 1, and the PM timer counts at 3.58 MHz. */
#include "dev_fake.h"

#include <time.h>

#include "boot/acpi.h"
#include "mem/layout.h"

struct fx {
	struct bus bus;
	struct fake_host host;
	void *dev;
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	bus_init(&f->bus);
	fake_host_init(&f->host, NULL, -1, -1);
	struct machine_config cfg;
	machine_config_defaults(&cfg);
	f->dev = fake_device_init("acpi-pm", &f->bus, &f->host, &cfg);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	fake_device_fini("acpi-pm", f->dev);
	free(f);
	return 0;
}

static void test_poweroff(void **st)
{
	struct fx *f = *st;
	assert_int_equal(fake_inb(&f->bus, 0x601), 0);
	/* SLP_TYP 5 without SLP_EN: stored, nothing happens */
	fake_outb(&f->bus, 0x600, 5 << 2);
	assert_int_equal(f->host.nstop, 0);
	assert_int_equal(fake_inb(&f->bus, 0x600), 5 << 2); /* SLP_EN reads 0 */
	/* what Linux's acpi_hw_extended_sleep writes for S5 */
	fake_outb(&f->bus, 0x601, ACPI_SLEEP_WAK_STS);
	fake_outb(&f->bus, 0x600, (ACPI_SLP_TYP_S5 << 2) | ACPI_SLEEP_SLP_EN);
	assert_int_equal(f->host.nstop, 1);
	assert_int_equal(f->host.stop_why, DEV_STOP_POWEROFF);
	assert_int_equal(f->host.stop_status, 0);
	assert_non_null(strstr(f->host.stop_msg, "SLEEP_CONTROL_REG"));
}

static void test_other_sleep_types(void **st)
{
	struct fx *f = *st;
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		fake_outb(&f->bus, 0x600, (uint8_t)((typ << 2) | ACPI_SLEEP_SLP_EN));
		assert_int_equal(f->host.nstop, 0);
		assert_int_equal(fake_inb(&f->bus, 0x601), ACPI_SLEEP_WAK_STS); /* woken */
		fake_outb(&f->bus, 0x601, 0x7F);                                 /* 0 bits: no effect */
		assert_int_equal(fake_inb(&f->bus, 0x601), ACPI_SLEEP_WAK_STS);
		fake_outb(&f->bus, 0x601, ACPI_SLEEP_WAK_STS);                    /* write 1 clears */
		assert_int_equal(fake_inb(&f->bus, 0x601), 0);
	}
}

static void test_reset(void **st)
{
	struct fx *f = *st;
	for (unsigned v = 0; v < 256; v++) {
		if (v == LAYOUT_ACPI_RESET_VALUE)
			continue;
		fake_outb(&f->bus, 0x602, (uint8_t)v);
	}
	assert_int_equal(f->host.nstop, 0);
	fake_outb(&f->bus, 0x602, LAYOUT_ACPI_RESET_VALUE);
	assert_int_equal(f->host.nstop, 1);
	assert_int_equal(f->host.stop_why, DEV_STOP_RESET);
	assert_int_equal(f->host.stop_status, 0);
	assert_non_null(strstr(f->host.stop_msg, "RESET_REG"));
	/* the claim: 0x600-0x60F, both flavours' registers */
	assert_false(bus_pio_out(&f->bus, 0x5FF, (const uint8_t *)"\x01", 1));
	assert_true(bus_pio_out(&f->bus, 0x603, (const uint8_t *)"\x01", 1));
	assert_false(bus_pio_out(&f->bus, 0x610, (const uint8_t *)"\x01", 1));
	assert_int_equal(f->host.nstop, 1);
}

static uint32_t in_n(struct bus *b, uint16_t port, unsigned size)
{
	uint8_t d[4] = { 0 };
	assert_true(bus_pio_in(b, port, d, size));
	return dev_data_get(d, size);
}

static void out_n(struct bus *b, uint16_t port, unsigned size, uint32_t v)
{
	uint8_t d[4];
	dev_data_put(d, size, v);
	assert_true(bus_pio_out(b, port, d, size));
}

/* What Linux's acpi_hw_legacy_sleep does for S5: clear the PM1 status, write
 * SLP_TYP, then SLP_TYP with SLP_EN, as 16-bit accesses. */
static void test_pm1_poweroff(void **st)
{
	struct fx *f = *st;
	assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2), ACPI_PM1_SCI_EN);
	out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2, 0xFFFF);
	assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2), 0);
	uint16_t cnt = (uint16_t)in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2);
	cnt = (uint16_t)((cnt & ~ACPI_PM1_SLP_TYP_MASK) | (ACPI_SLP_TYP_S5 << 10));
	out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2, cnt);
	assert_int_equal(f->host.nstop, 0);
	assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2), cnt);
	out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2, cnt | ACPI_PM1_SLP_EN);
	assert_int_equal(f->host.nstop, 1);
	assert_int_equal(f->host.stop_why, DEV_STOP_POWEROFF);
	assert_int_equal(f->host.stop_status, 0);
	assert_non_null(strstr(f->host.stop_msg, "PM1a_CNT"));
	/* SLP_EN is write-only */
	assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2) & ACPI_PM1_SLP_EN, 0);
}

/* Byte accesses: SLP_TYP and SLP_EN are both in the high byte. */
static void test_pm1_poweroff_bytes(void **st)
{
	struct fx *f = *st;
	fake_outb(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT + 1, ACPI_SLP_TYP_S5 << 2);
	assert_int_equal(f->host.nstop, 0);
	fake_outb(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT + 1, (ACPI_SLP_TYP_S5 << 2) | 0x20);
	assert_int_equal(f->host.nstop, 1);
	assert_int_equal(f->host.stop_why, DEV_STOP_POWEROFF);
	/* a dword write at the event block reaches PM1_STS and PM1_EN only */
	out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 4, 0x01000000 | ACPI_PM1_WAK_STS);
	assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT + 2, 2), 0x0100); /* PWRBTN_EN */
	assert_int_equal(f->host.nstop, 1);
}

static void test_pm1_other_sleep_types(void **st)
{
	struct fx *f = *st;
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_CNT, 2, (typ << 10) | ACPI_PM1_SLP_EN);
		assert_int_equal(f->host.nstop, 0);
		assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2), ACPI_PM1_WAK_STS);
		out_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2, 0x7FFF); /* 0 bits: no effect */
		assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2), ACPI_PM1_WAK_STS);
		fake_outb(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT + 1, 0x80); /* write 1 clears */
		assert_int_equal(in_n(&f->bus, LAYOUT_PORT_ACPI_PM1A_EVT, 2), 0);
	}
	/* the reduced flavour's status is another register */
	assert_int_equal(fake_inb(&f->bus, LAYOUT_PORT_ACPI_SLEEP_STATUS), 0);
}

static void test_pm_timer(void **st)
{
	struct fx *f = *st;
	uint32_t a = in_n(&f->bus, LAYOUT_PORT_ACPI_PM_TMR, 4);
	assert_int_equal(a & ~ACPI_PM_TIMER_MASK, 0); /* 24 bits */
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	uint32_t b = in_n(&f->bus, LAYOUT_PORT_ACPI_PM_TMR, 4);
	uint32_t ticks = (b - a) & ACPI_PM_TIMER_MASK;
	/* 20 ms = 71591 ticks; allow a loaded machine up to 2 s */
	assert_true(ticks >= 71000 && ticks < 7159090);
	out_n(&f->bus, LAYOUT_PORT_ACPI_PM_TMR, 4, 0); /* read-only: ignored */
	assert_int_equal(f->host.nstop, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm1_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm1_poweroff_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm1_other_sleep_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm_timer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
