/* test_acpi_pm.c - the ACPI hardware-reduced registers (src/dev/acpi_pm.c)
 * at the ports the FADT names: SLEEP_CONTROL_REG with \_S5's SLP_TYP and
 * SLP_EN powers off (status 0), other sleep types wake at once (WAK_STS),
 * SLEEP_STATUS_REG's WAK_STS is write-1-to-clear, RESET_REG resets on
 * RESET_VALUE only. */
#include "dev_fake.h"

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
	/* the claim: exactly the three ports */
	assert_false(bus_pio_out(&f->bus, 0x5FF, (const uint8_t *)"\x01", 1));
	assert_false(bus_pio_out(&f->bus, 0x603, (const uint8_t *)"\x01", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poweroff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
