/* i8042.c - the PS/2 keyboard controller at ports 0x60 (data) and 0x64
 * (status/command), enough for Linux's i8042 probe and for resets.
 *
 * No keyboard or mouse is attached: bytes sent to the devices are dropped
 * (drivers time out asynchronously, in the serio thread, not at boot).
 * The controller itself is complete enough that Linux's probe finds it
 * quickly and without timeouts: command byte read/write (0x20-0x3F read
 * internal RAM, 0x60-0x7F write it), self-tests 0xAA/0xAB/0xA9, port enable
 * and disable 0xAD/0xAE/0xA7/0xA8 (reflected in the command byte, which
 * Linux checks), AUX loopback 0xD3 (answer flagged as AUX data and raising
 * IRQ 12: Linux's AUX IRQ-delivery test) and keyboard loopback 0xD2.
 *
 * Resets end the VM with status 0: 0xFE (and every 0xF0-0xFF "pulse output
 * lines" command that pulses line 0, the reset line), or writing the output
 * port (0xD1) with bit 0 clear.  That is how Linux's reboot=k and the
 * default reboot fallback leave the machine. */
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_KBD_IRQ      1
#define I8042_AUX_IRQ      12

/* Status register. */
#define I8042_STR_OBF     0x01
#define I8042_STR_IBF     0x02
#define I8042_STR_SYSFLAG 0x04
#define I8042_STR_CMDDAT  0x08 /* last write was to the command port */
#define I8042_STR_KEYLOCK 0x10 /* 1 = keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY  0x80

/* Command byte ("CTR", internal RAM byte 0). */
#define I8042_CTR_KBDINT  0x01
#define I8042_CTR_AUXINT  0x02
#define I8042_CTR_SYSFLAG 0x04
#define I8042_CTR_KBDDIS  0x10
#define I8042_CTR_AUXDIS  0x20
#define I8042_CTR_XLATE   0x40

/* Commands. */
#define I8042_CMD_READ_RAM   0x20 /* 0x20-0x3F */
#define I8042_CMD_WRITE_RAM  0x60 /* 0x60-0x7F */
#define I8042_CMD_PASSWD_TEST 0xA4
#define I8042_CMD_AUX_DISABLE 0xA7
#define I8042_CMD_AUX_ENABLE  0xA8
#define I8042_CMD_AUX_TEST    0xA9
#define I8042_CMD_SELF_TEST   0xAA
#define I8042_CMD_KBD_TEST    0xAB
#define I8042_CMD_KBD_DISABLE 0xAD
#define I8042_CMD_KBD_ENABLE  0xAE
#define I8042_CMD_READ_INPUT  0xC0
#define I8042_CMD_READ_OUTPUT 0xD0
#define I8042_CMD_WRITE_OUTPUT 0xD1
#define I8042_CMD_KBD_LOOP    0xD2
#define I8042_CMD_AUX_LOOP    0xD3
#define I8042_CMD_AUX_SEND    0xD4
#define I8042_CMD_READ_TEST   0xE0
#define I8042_CMD_PULSE       0xF0 /* 0xF0-0xFF: pulse lines whose bit is 0 */

#define I8042_SELF_TEST_OK 0x55
#define I8042_OUT_RESET    0x01 /* output port bit 0: system reset, active low */
#define I8042_OUT_A20      0x02

#define I8042_QUEUE 16

struct i8042 {
	struct dev_host *host;
	uint8_t ram[32]; /* ram[0] is the command byte */
	uint8_t outport;
	uint8_t status_flags; /* CMDDAT */
	uint8_t pending;      /* command waiting for its data byte, 0 if none */
	struct {
		uint8_t data;
		bool aux;
	} q[I8042_QUEUE];
	unsigned qhead, qcount;
	uint8_t last;
	int kbd_level, aux_level;
};

static void i8042_update_irq(struct i8042 *k)
{
	/* The controller drives IRQ 1 / IRQ 12 while its output buffer holds
	 * a byte from that port and the command byte enables the interrupt. */
	bool full = k->qcount > 0;
	bool aux = full && k->q[k->qhead].aux;
	int kl = full && !aux && (k->ram[0] & I8042_CTR_KBDINT);
	int al = full && aux && (k->ram[0] & I8042_CTR_AUXINT);
	if (kl != k->kbd_level) {
		k->kbd_level = kl;
		if (k->host->irq_line)
			k->host->irq_line(k->host->vm, I8042_KBD_IRQ, kl);
	}
	if (al != k->aux_level) {
		k->aux_level = al;
		if (k->host->irq_line)
			k->host->irq_line(k->host->vm, I8042_AUX_IRQ, al);
	}
}

static void i8042_queue(struct i8042 *k, uint8_t v, bool aux)
{
	if (k->qcount == I8042_QUEUE)
		return; /* a real controller holds one byte; never reached by sane guests */
	unsigned i = (k->qhead + k->qcount) % I8042_QUEUE;
	k->q[i].data = v;
	k->q[i].aux = aux;
	k->qcount++;
}

static void i8042_reset_request(struct i8042 *k, const char *why)
{
	k->host->request_stop(k->host->vm, DEV_STOP_RESET, 0, why);
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t s = I8042_STR_KEYLOCK | k->status_flags;
	if (k->ram[0] & I8042_CTR_SYSFLAG)
		s |= I8042_STR_SYSFLAG;
	if (k->qcount) {
		s |= I8042_STR_OBF;
		if (k->q[k->qhead].aux)
			s |= I8042_STR_AUXDATA;
	}
	return s; /* IBF never set: commands complete synchronously */
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	if (cmd >= I8042_CMD_READ_RAM && cmd < I8042_CMD_READ_RAM + 0x20) {
		i8042_queue(k, k->ram[cmd & 0x1F], false);
		return;
	}
	if ((cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + 0x20) ||
	    cmd == I8042_CMD_WRITE_OUTPUT || cmd == I8042_CMD_KBD_LOOP ||
	    cmd == I8042_CMD_AUX_LOOP || cmd == I8042_CMD_AUX_SEND) {
		k->pending = cmd;
		return;
	}
	if (cmd >= I8042_CMD_PULSE) {
		if (!(cmd & I8042_OUT_RESET))
			i8042_reset_request(k, "guest requested reset (i8042 0xFE)");
		return;
	}
	switch (cmd) {
	case I8042_CMD_PASSWD_TEST:
		i8042_queue(k, 0xF1, false); /* no password installed */
		break;
	case I8042_CMD_AUX_DISABLE:
		k->ram[0] |= I8042_CTR_AUXDIS;
		break;
	case I8042_CMD_AUX_ENABLE:
		k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
		break;
	case I8042_CMD_AUX_TEST:
	case I8042_CMD_KBD_TEST:
		i8042_queue(k, 0x00, false); /* interface OK */
		break;
	case I8042_CMD_SELF_TEST:
		k->ram[0] |= I8042_CTR_SYSFLAG;
		i8042_queue(k, I8042_SELF_TEST_OK, false);
		break;
	case I8042_CMD_KBD_DISABLE:
		k->ram[0] |= I8042_CTR_KBDDIS;
		break;
	case I8042_CMD_KBD_ENABLE:
		k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
		break;
	case I8042_CMD_READ_INPUT:
		i8042_queue(k, 0x80, false); /* keyboard not inhibited */
		break;
	case I8042_CMD_READ_OUTPUT:
		i8042_queue(k, k->outport, false);
		break;
	case I8042_CMD_READ_TEST:
		i8042_queue(k, 0x00, false);
		break;
	default:
		/* Vendor commands (0xA1 version, 0xC1-0xC2, ...): ignored, as
		 * controllers that lack them do. */
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	if (cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + 0x20) {
		k->ram[cmd & 0x1F] = v;
		return;
	}
	switch (cmd) {
	case I8042_CMD_WRITE_OUTPUT:
		k->outport = v;
		if (!(v & I8042_OUT_RESET))
			i8042_reset_request(k, "guest requested reset (i8042 output port bit 0)");
		break;
	case I8042_CMD_KBD_LOOP:
		i8042_queue(k, v, false);
		break;
	case I8042_CMD_AUX_LOOP:
		i8042_queue(k, v, true);
		break;
	case I8042_CMD_AUX_SEND:
		break; /* no mouse */
	default:
		break; /* a byte for the keyboard: none attached */
	}
}

static void i8042_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct i8042 *k = opaque;
	memset(data, 0xFF, size);
	if (port == I8042_COMMAND_PORT) {
		data[0] = i8042_status(k);
		return;
	}
	if (k->qcount) {
		k->last = k->q[k->qhead].data;
		k->qhead = (k->qhead + 1) % I8042_QUEUE;
		k->qcount--;
	}
	data[0] = k->last; /* an empty buffer reads its last byte again */
	i8042_update_irq(k);
}

static void i8042_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct i8042 *k = opaque;
	if (port == I8042_COMMAND_PORT) {
		k->status_flags |= I8042_STR_CMDDAT;
		k->pending = 0;
		i8042_command(k, data[0]);
	} else {
		k->status_flags &= (uint8_t)~I8042_STR_CMDDAT;
		i8042_data(k, data[0]);
	}
	i8042_update_irq(k);
}

static int i8042_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		      void **state)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return nb_err_internal("i8042: out of memory");
	k->host = host;
	/* As a BIOS leaves it after POST: keyboard interrupt on, system flag
	 * (self-test passed), scan-code translation; mouse port disabled. */
	k->ram[0] = I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_AUXDIS | I8042_CTR_XLATE;
	k->outport = I8042_OUT_RESET | I8042_OUT_A20;
	struct pio_handler data = {
		.name = "i8042", .base = I8042_DATA_PORT, .len = 1, .opaque = k,
		.in = i8042_in, .out = i8042_out,
	};
	struct pio_handler cmd = data;
	cmd.base = I8042_COMMAND_PORT;
	if (bus_register_pio(b, &data) < 0 || bus_register_pio(b, &cmd) < 0) {
		free(k);
		return -1;
	}
	*state = k;
	return 0;
}

static void i8042_fini(void *state)
{
	free(state);
}

static const struct device i8042_device = {
	.name = "i8042",
	.order = 10,
	.init = i8042_init,
	.fini = i8042_fini,
};
DEVICE(i8042_device);
