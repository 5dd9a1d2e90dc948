/* acpi_pm.c - the ACPI fixed hardware the FADT names (boot/acpi.h), at the
 * I/O ports in mem/layout.h: how an ACPI kernel powers the machine off or
 * resets it.  Both FADT flavours' registers are always decoded; the FADT
 * tells the guest which ones it has.
 *
 * Hardware-reduced (direct boots; ACPI 6.0 4.8.3.7 "Sleep Control
 * Register", 4.8.3.8 "Sleep Status Register"):
 *   SLEEP_CONTROL_REG  write SLP_TYP (bits 2-4) with SLP_EN (bit 5): enter
 *                      that sleep state.  \_S5's SLP_TYP (boot/acpi.h) is
 *                      power-off: nobios ends with status 0.  nobios offers
 *                      no other sleep state, so any other type wakes the
 *                      guest at once (WAK_STS set) rather than leave it
 *                      polling forever.
 *   SLEEP_STATUS_REG   bit 7 WAK_STS, cleared by writing 1 (the OS clears
 *                      it before sleeping and polls it after).
 * PC (after the pseudo-BIOS's POST; 4.8.3.1-4.8.3.3):
 *   PM1_STS, PM1_EN    the PM1a event block: status bits write-1-to-clear
 *                      (WAK_STS as above); enables are kept but no event
 *                      raises the SCI: there is no power button, and the
 *                      timer's TMR_STS is never set.
 *   PM1_CNT            SCI_EN reads 1 (SMI_CMD 0: always in ACPI mode);
 *                      SLP_TYP (bits 10-12) with SLP_EN (bit 13) as
 *                      SLEEP_CONTROL_REG: S5 powers off, others wake.
 *   PM_TMR             24-bit counter at 3.579545 MHz from the host's
 *                      monotonic clock.
 * Both:
 *   RESET_REG          writing RESET_VALUE resets: nobios ends with status
 *                      0, as for the i8042 and 0xCF9 resets.
 *
 * Every register takes byte, word and dword accesses at any offset, as
 * ACPICA picks the access width from the FADT's GAS or the block length.
 * Linux powers off through SLEEP_CONTROL_REG (acpi_hw_extended_sleep) or
 * PM1a_CNT (acpi_hw_legacy_sleep).  For a reboot on a hardware-reduced
 * platform it tries EFI and then the BIOS method (arch/x86/kernel/reboot.c:
 * jump to the reset vector in real mode), unless reboot=acpi/kbd/pci asks
 * otherwise; nobios's reset vector writes RESET_REG, and -v says which way
 * a reset came. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	struct timespec t0; /* PM timer epoch */
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

static uint32_t pm_timer(const struct acpi_pm *p)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	uint64_t ns = (uint64_t)(t.tv_sec - p->t0.tv_sec) * 1000000000ULL +
		      (uint64_t)t.tv_nsec - (uint64_t)p->t0.tv_nsec;
	/* ns * 3579545 / 1e9 without overflow for centuries of uptime */
	uint64_t ticks = (ns / 1000000000ULL) * ACPI_PM_TIMER_HZ +
			 (ns % 1000000000ULL) * ACPI_PM_TIMER_HZ / 1000000000ULL;
	return (uint32_t)ticks & ACPI_PM_TIMER_MASK;
}

/* A sleep request with SLP_EN: S5 powers off; nobios has no other sleep
 * state, so the guest wakes at once (WAK_STS in the status register of the
 * flavour it used). */
static void sleep_request(struct acpi_pm *p, unsigned typ, bool pm1)
{
	if (typ == ACPI_SLP_TYP_S5) {
		p->host->request_stop(p->host->vm, DEV_STOP_POWEROFF, NB_EXIT_OK,
				      pm1 ? "guest requested power-off (ACPI PM1a_CNT, SLP_TYP 5 = S5)"
					  : "guest requested power-off (ACPI SLEEP_CONTROL_REG, "
					    "SLP_TYP 5 = S5)");
		return;
	}
	if (p->host->log)
		fprintf(p->host->log,
			"nobios: acpi: sleep type %u requested through %s: not offered (only S5), "
			"waking the guest at once\n",
			typ, pm1 ? "PM1a_CNT" : "SLEEP_CONTROL_REG");
	if (pm1)
		p->pm1_sts |= ACPI_PM1_WAK_STS;
	else
		p->status |= ACPI_SLEEP_WAK_STS;
}

/* One byte of the register file at port q; tmr is the PM timer as sampled
 * once for the whole access. */
static uint8_t reg_read(const struct acpi_pm *p, uint16_t q, uint32_t tmr)
{
	switch (q) {
	case LAYOUT_PORT_ACPI_SLEEP_CONTROL:
		/* SLP_EN is write-only and reads as 0 (4.8.3.7). */
		return p->control & ACPI_SLEEP_SLP_TYP_MASK;
	case LAYOUT_PORT_ACPI_SLEEP_STATUS:
		return p->status;
	case LAYOUT_PORT_ACPI_RESET: /* write-only */
		return 0;
	case LAYOUT_PORT_ACPI_PM1A_EVT:
	case LAYOUT_PORT_ACPI_PM1A_EVT + 1:
		return (uint8_t)(p->pm1_sts >> (8 * (q - LAYOUT_PORT_ACPI_PM1A_EVT)));
	case LAYOUT_PORT_ACPI_PM1A_EVT + 2:
	case LAYOUT_PORT_ACPI_PM1A_EVT + 3:
		return (uint8_t)(p->pm1_en >> (8 * (q - LAYOUT_PORT_ACPI_PM1A_EVT - 2)));
	case LAYOUT_PORT_ACPI_PM1A_CNT:
	case LAYOUT_PORT_ACPI_PM1A_CNT + 1: {
		/* SLP_EN reads as 0 (table 4-18). */
		uint16_t v = (uint16_t)((p->pm1_cnt & ~ACPI_PM1_SLP_EN) | ACPI_PM1_SCI_EN);
		return (uint8_t)(v >> (8 * (q - LAYOUT_PORT_ACPI_PM1A_CNT)));
	}
	case LAYOUT_PORT_ACPI_PM_TMR:
	case LAYOUT_PORT_ACPI_PM_TMR + 1:
	case LAYOUT_PORT_ACPI_PM_TMR + 2:
	case LAYOUT_PORT_ACPI_PM_TMR + 3:
		return (uint8_t)(tmr >> (8 * (q - LAYOUT_PORT_ACPI_PM_TMR)));
	default: /* holes between the blocks */
		return 0xFF;
	}
}

static void acpi_pm_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct acpi_pm *p = opaque;
	uint32_t tmr = pm_timer(p);
	for (unsigned i = 0; i < size; i++)
		data[i] = reg_read(p, (uint16_t)(port + i), tmr);
}

/* Byte lane of a 16-bit register at base that the access [port, port+size)
 * covers: its value and which bits it wrote. */
static void lanes16(uint16_t base, uint16_t port, const uint8_t *data, unsigned size,
		    uint16_t *val, uint16_t *mask)
{
	*val = 0;
	*mask = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned q = port + i;
		if (q < base || q > base + 1u)
			continue;
		*val |= (uint16_t)(data[i] << (8 * (q - base)));
		*mask |= (uint16_t)(0xFF << (8 * (q - base)));
	}
}

static void acpi_pm_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct acpi_pm *p = opaque;
	uint16_t v, m;
	/* The hardware-reduced registers are single bytes: each lane alone. */
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = data[i];
		switch (port + i) {
		case LAYOUT_PORT_ACPI_SLEEP_CONTROL:
			p->control = b & ACPI_SLEEP_SLP_TYP_MASK;
			if (b & ACPI_SLEEP_SLP_EN)
				sleep_request(p, (b & ACPI_SLEEP_SLP_TYP_MASK) >>
							 ACPI_SLEEP_SLP_TYP_SHIFT, false);
			break;
		case LAYOUT_PORT_ACPI_SLEEP_STATUS:
			p->status &= (uint8_t)~(b & ACPI_SLEEP_WAK_STS); /* write 1 to clear */
			break;
		case LAYOUT_PORT_ACPI_RESET:
			if (b == LAYOUT_ACPI_RESET_VALUE)
				p->host->request_stop(
					p->host->vm, DEV_STOP_RESET, NB_EXIT_OK,
					from_reset_vector(p)
						? "guest requested reset (jump to the reset vector "
						  "F000:FFF0, whose stub writes the ACPI RESET_REG)"
						: "guest requested reset (ACPI RESET_REG)");
			break;
		default:
			break;
		}
	}
	lanes16(LAYOUT_PORT_ACPI_PM1A_EVT, port, data, size, &v, &m);
	p->pm1_sts &= (uint16_t)~(v & m); /* write 1 to clear (4.8.3.1) */
	lanes16(LAYOUT_PORT_ACPI_PM1A_EVT + 2, port, data, size, &v, &m);
	p->pm1_en = (uint16_t)((p->pm1_en & ~m) | (v & m));
	lanes16(LAYOUT_PORT_ACPI_PM1A_CNT, port, data, size, &v, &m);
	if (m) {
		p->pm1_cnt = (uint16_t)((p->pm1_cnt & ~m) | (v & m));
		if (p->pm1_cnt & ACPI_PM1_SLP_EN) {
			p->pm1_cnt &= (uint16_t)~ACPI_PM1_SLP_EN; /* write-only */
			sleep_request(p, (p->pm1_cnt & ACPI_PM1_SLP_TYP_MASK) >>
						 ACPI_PM1_SLP_TYP_SHIFT, true);
		}
	}
	/* PM_TMR is read-only. */
}

static int acpi_pm_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
			void **state)
{
	(void)cfg;
	struct acpi_pm *p = calloc(1, sizeof(*p));
	if (!p)
		return nb_err_internal("acpi_pm: out of memory");
	p->host = host;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	struct pio_handler h = {
		.name = "acpi-pm", .base = LAYOUT_PORT_ACPI_SLEEP_CONTROL,
		.len = LAYOUT_PORT_ACPI_END - LAYOUT_PORT_ACPI_SLEEP_CONTROL, .opaque = p,
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
