/* acpi_pm.c - the ACPI hardware-reduced platform's fixed registers (ACPI
 * 6.0 4.8.3.7 "Sleep Control Register", 4.8.3.8 "Sleep Status Register",
 * 4.8.3.6 "Reset Register"), at the I/O ports the FADT names
 * (mem/layout.h): how an ACPI kernel powers the machine off or resets it.
 *
 *   SLEEP_CONTROL_REG  write SLP_TYP (bits 2-4) with SLP_EN (bit 5): enter
 *                      that sleep state.  \_S5's SLP_TYP (boot/acpi.h) is
 *                      power-off: nobios ends with status 0.  nobios offers
 *                      no other sleep state, so any other type wakes the
 *                      guest at once (WAK_STS set) rather than leave it
 *                      polling forever.
 *   SLEEP_STATUS_REG   bit 7 WAK_STS, cleared by writing 1 (the OS clears
 *                      it before sleeping and polls it after).
 *   RESET_REG          writing RESET_VALUE resets: nobios ends with status
 *                      0, as for the i8042 and 0xCF9 resets.
 *
 * Linux powers off through SLEEP_CONTROL_REG (acpi_power_off ->
 * acpi_hw_extended_sleep).  For a reboot on a hardware-reduced platform it
 * tries EFI and then the BIOS method (arch/x86/kernel/reboot.c: jump to the
 * reset vector in real mode), unless reboot=acpi/kbd/pci asks otherwise;
 * nobios's reset vector writes RESET_REG, and -v says which way a reset
 * came. */
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "cpu/cpu.h"
#include "dev/dev.h"
#include "mem/layout.h"
#include "nobios.h"
#include "util/err.h"

struct acpi_pm {
	struct dev_host *host;
	uint8_t status; /* SLEEP_STATUS_REG */
	uint8_t control;
};

/* Did the write come from the reset vector's stub (real mode, CS base
 * 0xF0000) rather than from an OS writing RESET_REG itself? */
static bool from_reset_vector(struct acpi_pm *p)
{
	struct cpu_state s;
	if (!p->host->get_cpu || p->host->get_cpu(p->host->vm, &s) < 0)
		return false;
	return !(s.cr0 & X86_CR0_PE) && s.cs.base == LAYOUT_BIOS;
}

static void acpi_pm_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct acpi_pm *p = opaque;
	memset(data, 0xFF, size);
	switch (port) {
	case LAYOUT_PORT_ACPI_SLEEP_CONTROL:
		/* SLP_EN is write-only and reads as 0 (4.8.3.7). */
		data[0] = p->control & ACPI_SLEEP_SLP_TYP_MASK;
		break;
	case LAYOUT_PORT_ACPI_SLEEP_STATUS:
		data[0] = p->status;
		break;
	default: /* RESET_REG is write-only */
		data[0] = 0;
		break;
	}
}

static void acpi_pm_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct acpi_pm *p = opaque;
	uint8_t v = data[0];
	(void)size; /* byte registers: wider writes act on the first byte */
	switch (port) {
	case LAYOUT_PORT_ACPI_SLEEP_CONTROL: {
		p->control = v & ACPI_SLEEP_SLP_TYP_MASK;
		if (!(v & ACPI_SLEEP_SLP_EN))
			return;
		unsigned typ = (v & ACPI_SLEEP_SLP_TYP_MASK) >> ACPI_SLEEP_SLP_TYP_SHIFT;
		if (typ == ACPI_SLP_TYP_S5) {
			p->host->request_stop(p->host->vm, DEV_STOP_POWEROFF, NB_EXIT_OK,
					      "guest requested power-off (ACPI SLEEP_CONTROL_REG, "
					      "SLP_TYP 5 = S5)");
			return;
		}
		if (p->host->log)
			fprintf(p->host->log,
				"nobios: acpi: sleep type %u requested through SLEEP_CONTROL_REG: "
				"not offered (only S5), waking the guest at once\n",
				typ);
		p->status |= ACPI_SLEEP_WAK_STS;
		return;
	}
	case LAYOUT_PORT_ACPI_SLEEP_STATUS:
		p->status &= (uint8_t)~(v & ACPI_SLEEP_WAK_STS); /* write 1 to clear */
		return;
	default:
		if (v == LAYOUT_ACPI_RESET_VALUE)
			p->host->request_stop(p->host->vm, DEV_STOP_RESET, NB_EXIT_OK,
					      from_reset_vector(p)
						      ? "guest requested reset (jump to the reset "
							"vector F000:FFF0, whose stub writes the ACPI "
							"RESET_REG)"
						      : "guest requested reset (ACPI RESET_REG)");
		return;
	}
}

static int acpi_pm_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
			void **state)
{
	(void)cfg;
	struct acpi_pm *p = calloc(1, sizeof(*p));
	if (!p)
		return nb_err_internal("acpi_pm: out of memory");
	p->host = host;
	struct pio_handler h = {
		.name = "acpi-pm", .base = LAYOUT_PORT_ACPI_SLEEP_CONTROL,
		.len = LAYOUT_PORT_ACPI_RESET - LAYOUT_PORT_ACPI_SLEEP_CONTROL + 1, .opaque = p,
		.in = acpi_pm_in, .out = acpi_pm_out,
	};
	if (bus_register_pio(b, &h) < 0) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static void acpi_pm_fini(void *state)
{
	free(state);
}

static const struct device acpi_pm_device = {
	.name = "acpi-pm",
	.order = 10,
	.init = acpi_pm_init,
	.fini = acpi_pm_fini,
};
DEVICE(acpi_pm_device);
