/* uart16550.c - a 16550A UART on COM1 (ports 0x3F8-0x3FF, IRQ 4).
 *
 * Register model after the National Semiconductor PC16550D data sheet:
 * RBR/THR, IER, IIR/FCR, LCR (DLAB selects DLL/DLM), MCR (loopback), LSR,
 * MSR, SCR.  Output is synchronous: a THR write goes straight to
 * host->console_out, so THRE and TEMT are set again by the time the guest
 * can look, and a THRE interrupt is pending after every write.
 *
 * Input: a reader thread polls host->console_in and appends to a software
 * buffer (UART_SW_BUF bytes); the 16-byte receive FIFO is topped up from it
 * whenever there is room, so pasted text is never overrun.  When the buffer
 * is full the thread stops reading (back-pressure on the fd).  Overrun (OE)
 * happens only where the chip itself loses data: a loopback transmit into a
 * full FIFO (or a full RBR in 16450 mode).
 *
 * Interrupts: the IRQ line level is recomputed from IER/IIR state after
 * every register access and every input arrival, and host->irq_line is
 * called only when it changes, so the edge-triggered ISA line sees one edge
 * per new cause (e.g. reading IIR clears a THRE interrupt, the next THR
 * write raises it again).  As in QEMU, OUT2 does not gate the line: guests
 * tested only there enable IER without OUT2.  The receive-timeout cause
 * (IIR 0xC) is reported at once for a FIFO below its trigger level instead
 * of after four character times; drivers treat both causes alike.
 *
 * Locking: the vCPU thread (register accesses) and the reader thread share
 * the state under u->lock; host->irq_line is called with the lock held, so
 * it must be callable from any thread (KVM_IRQ_LINE is). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/console_tty.h"
#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"

/* The console reader thread waits on the console and the wake-up pipe;
 * reads and writes are the runtime's (util/sandbox.h). */
SANDBOX_NEEDS(uart_needs, "16550A UART: console reader (src/dev/uart16550.c)", 0,
	SB_ALLOW(poll), SB_ALLOW(ppoll));

#define UART_COM1_BASE 0x3F8
#define UART_COM1_IRQ  4
#define UART_NREGS     8
#define UART_FIFO_SIZE 16
#define UART_SW_BUF    4096

/* Register offsets. */
#define UART_RX  0 /* RBR (read), THR (write); DLL with DLAB */
#define UART_IER 1 /* DLM with DLAB */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI  0x01 /* received data available */
#define UART_IER_THRI 0x02 /* THR empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_TIMEOUT 0x0C
#define UART_IIR_FIFO_ENABLED 0xC0

#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR  0x02
#define UART_FCR_CLEAR_XMIT  0x04
#define UART_FCR_DMA_SELECT  0x08
#define UART_FCR_TRIGGER_MASK 0xC0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

struct uart {
	pthread_mutex_t lock;
	struct dev_host *host;
	unsigned irq;

	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t lsr_errors; /* OE/PE/FE/BI latched until LSR is read */
	uint8_t msr_delta;  /* DCTS/DDSR/TERI/DDCD latched until MSR is read */
	bool thr_ipending;  /* THRE interrupt pending (cleared by IIR read / THR write) */
	int irq_level;      /* last level given to irq_line, -1 before the first */

	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t rx_last; /* what RBR reads when empty */

	uint8_t sw[UART_SW_BUF]; /* host input not yet in the FIFO */
	unsigned sw_head, sw_count;

	bool first_byte_done;

	/* Reader thread. */
	pthread_t thread;
	bool thread_running;
	int stop_pipe[2];
	bool escape_pending; /* saw Ctrl-A on a raw terminal */
	bool tty_raw;
};

static unsigned uart_rx_capacity(const struct uart *u)
{
	return (u->fcr & UART_FCR_ENABLE_FIFO) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const struct uart *u)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };
	return levels[(u->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

/* MSR status bits: in loopback the modem outputs feed the inputs
 * (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD); otherwise a modem that is
 * always ready and carrying (so getty with CRTSCTS/CLOCAL off works). */
static uint8_t uart_msr_status(const struct uart *u, uint8_t mcr)
{
	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	uint8_t s = 0;
	if (mcr & UART_MCR_RTS)
		s |= UART_MSR_CTS;
	if (mcr & UART_MCR_DTR)
		s |= UART_MSR_DSR;
	if (mcr & UART_MCR_OUT1)
		s |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		s |= UART_MSR_DCD;
	return s;
}

/* Interrupt identification, highest priority first (data sheet table 4). */
static uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr_errors & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count) {
		if ((u->fcr & UART_FCR_ENABLE_FIFO) && u->rx_count < uart_rx_trigger(u))
			return UART_IIR_TIMEOUT;
		return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	int level = uart_iir_id(u) != UART_IIR_NO_INT;
	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->host->irq_line)
		u->host->irq_line(u->host->vm, u->irq, level);
}

/* Move buffered host input into the FIFO while there is room. */
static void uart_rx_refill(struct uart *u)
{
	unsigned cap = uart_rx_capacity(u);
	while (u->sw_count && u->rx_count < cap) {
		u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = u->sw[u->sw_head];
		u->rx_count++;
		u->sw_head = (u->sw_head + 1) % UART_SW_BUF;
		u->sw_count--;
	}
}

/* A character arriving at the receiver (loopback).  With the FIFO full the
 * character in the shift register is lost; in 16450 mode it overwrites RBR.
 * Either way OE is set (data sheet, LSR bit 1). */
static void uart_rx_receive(struct uart *u, uint8_t c)
{
	unsigned cap = uart_rx_capacity(u);
	if (u->rx_count < cap) {
		u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = c;
		u->rx_count++;
		return;
	}
	u->lsr_errors |= UART_LSR_OE;
	if (cap == 1)
		u->rx_fifo[u->rx_head] = c;
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

static void uart_console_write(struct uart *u, uint8_t c)
{
	int fd = u->host->console_out;
	if (!u->first_byte_done) {
		u->first_byte_done = true;
		if (u->host->milestone)
			u->host->milestone(u->host->vm, "first console byte");
	}
	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = write(fd, &c, 1);
		if (n == 1)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* Non-blocking stdout (a shell left it so): wait, don't drop. */
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, 1000);
			continue;
		}
		return; /* EPIPE, EIO: the reader is gone; output is lost */
	}
}

static uint8_t uart_reg_read(struct uart *u, unsigned reg)
{
	uint8_t v;
	switch (reg) {
	case UART_RX:
		if (u->lcr & UART_LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			u->rx_last = u->rx_fifo[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
			uart_rx_refill(u);
		}
		return u->rx_last;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			return u->dlm;
		return u->ier;
	case UART_IIR:
		v = uart_iir_id(u);
		/* Reading IIR while it reports THRE is what clears that cause. */
		if (v == UART_IIR_THRI)
			u->thr_ipending = false;
		if (u->fcr & UART_FCR_ENABLE_FIFO)
			v |= UART_IIR_FIFO_ENABLED;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_errors;
		if (u->rx_count)
			v |= UART_LSR_DR;
		u->lsr_errors = 0;
		return v;
	case UART_MSR:
		v = uart_msr_status(u, u->mcr) | u->msr_delta;
		u->msr_delta = 0;
		return v;
	default: /* UART_SCR */
		return u->scr;
	}
}

static void uart_reg_write(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_RX:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = v;
			return;
		}
		if (u->mcr & UART_MCR_LOOP)
			uart_rx_receive(u, v);
		else
			uart_console_write(u, v);
		/* The byte left THR at once: THR is empty again. */
		u->thr_ipending = true;
		return;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling ETBEI while THR is empty raises THRE at once: Linux's
		 * 8250 startup tests exactly this (UART_BUG_THRE). */
		if (!(u->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0F; /* bits 4-7 read as zero on a 16550A */
		return;
	case UART_FCR:
		if ((v ^ u->fcr) & UART_FCR_ENABLE_FIFO) {
			/* Switching between FIFO and 16450 mode resets the FIFOs. */
			uart_rx_clear(u);
		} else if ((v & UART_FCR_ENABLE_FIFO) && (v & UART_FCR_CLEAR_RCVR)) {
			uart_rx_clear(u);
		}
		/* FCR bits 3, 6, 7 are only meaningful with the FIFO on. */
		u->fcr = (v & UART_FCR_ENABLE_FIFO) ? (v & (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT |
							     UART_FCR_TRIGGER_MASK))
						  : 0;
		/* Host input waiting in the software buffer was never in the
		 * chip; it moves into the (new) FIFO now. */
		uart_rx_refill(u);
		return;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR: {
		uint8_t nmcr = v & 0x1F;
		uint8_t before = uart_msr_status(u, u->mcr), after = uart_msr_status(u, nmcr);
		uint8_t changed = before ^ after;
		if (changed & UART_MSR_CTS)
			u->msr_delta |= UART_MSR_DCTS;
		if (changed & UART_MSR_DSR)
			u->msr_delta |= UART_MSR_DDSR;
		if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
			u->msr_delta |= UART_MSR_TERI; /* trailing edge only */
		if (changed & UART_MSR_DCD)
			u->msr_delta |= UART_MSR_DDCD;
		u->mcr = nmcr;
		return;
	}
	case UART_LSR: /* factory test only; ignored as QEMU does */
	case UART_MSR:
		return;
	default: /* UART_SCR */
		u->scr = v;
		return;
	}
}

static void uart_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct uart *u = opaque;
	/* Wider accesses act on the first register; the rest float high. */
	memset(data, 0xFF, size);
	pthread_mutex_lock(&u->lock);
	data[0] = uart_reg_read(u, (unsigned)(port - UART_COM1_BASE) % UART_NREGS);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	uart_reg_write(u, (unsigned)(port - UART_COM1_BASE) % UART_NREGS, data[0]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

/* Append host input; returns how many bytes were taken. */
static unsigned uart_sw_push(struct uart *u, const uint8_t *buf, unsigned n)
{
	unsigned taken = 0;
	while (taken < n && u->sw_count < UART_SW_BUF) {
		u->sw[(u->sw_head + u->sw_count) % UART_SW_BUF] = buf[taken++];
		u->sw_count++;
	}
	return taken;
}

static const char uart_escape_help[] =
	"\r\nC-a x    exit nobios\r\nC-a C-a  send C-a\r\nC-a h    this help\r\n";

/* Filter terminal input for the Ctrl-A escape; returns bytes left in buf. */
static unsigned uart_escape_filter(struct uart *u, uint8_t *buf, unsigned n)
{
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (!u->escape_pending) {
			if (c == CONSOLE_ESCAPE_CHAR)
				u->escape_pending = true;
			else
				buf[out++] = c;
			continue;
		}
		u->escape_pending = false;
		if (c == 'x' || c == 'X') {
			console_tty_restore();
			u->host->request_stop(u->host->vm, DEV_STOP_POWEROFF, 0,
					      "quit from the console (Ctrl-A x)");
		} else if (c == CONSOLE_ESCAPE_CHAR || c == 'a') {
			buf[out++] = CONSOLE_ESCAPE_CHAR;
		} else if (c == 'h' || c == '?') {
			if (u->host->console_out >= 0 &&
			    write(u->host->console_out, uart_escape_help, sizeof(uart_escape_help) - 1) < 0) {
				/* nothing to do: the help is best effort */
			}
		}
		/* Anything else after C-a is dropped, as QEMU does. */
	}
	return out;
}

static void *uart_reader(void *arg)
{
	struct uart *u = arg;
	uint8_t buf[256];
	bool eof = false;
	for (;;) {
		pthread_mutex_lock(&u->lock);
		bool room = u->sw_count < UART_SW_BUF;
		pthread_mutex_unlock(&u->lock);

		struct pollfd p[2] = {
			{ .fd = u->stop_pipe[0], .events = POLLIN },
			{ .fd = u->host->console_in, .events = POLLIN },
		};
		/* Buffer full: stop reading (the fd holds the rest) and look again
		 * shortly; the guest drains the FIFO meanwhile. */
		int np = (room && !eof) ? 2 : 1;
		int r = poll(p, (nfds_t)np, (room || eof) ? -1 : 10);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (np < 2 || !p[1].revents)
			continue;
		ssize_t n = read(u->host->console_in, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			eof = true; /* end of input: keep running, stop polling it */
			continue;
		}
		unsigned len = (unsigned)n;
		pthread_mutex_lock(&u->lock);
		if (u->tty_raw)
			len = uart_escape_filter(u, buf, len);
		/* Take what fits; if the buffer fills, wait for the guest to drain
		 * it rather than drop what was already read from the fd. */
		unsigned off = 0;
		for (;;) {
			off += uart_sw_push(u, buf + off, len - off);
			uart_rx_refill(u);
			uart_update_irq(u);
			if (off == len)
				break;
			pthread_mutex_unlock(&u->lock);
			struct pollfd s = { .fd = u->stop_pipe[0], .events = POLLIN };
			if (poll(&s, 1, 10) > 0) {
				pthread_mutex_lock(&u->lock);
				break;
			}
			pthread_mutex_lock(&u->lock);
		}
		pthread_mutex_unlock(&u->lock);
	}
	return NULL;
}

static void uart_reset(struct uart *u)
{
	/* Power-on values (data sheet table 7), with a 9600-baud divisor as a
	 * BIOS would leave it. */
	u->ier = 0;
	u->lcr = 0x03; /* 8N1 */
	u->mcr = UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2;
	u->fcr = 0;
	u->dll = 0x0C;
	u->dlm = 0;
	u->scr = 0;
	u->lsr_errors = 0;
	u->msr_delta = 0;
	u->thr_ipending = false;
	u->irq_level = -1;
	uart_rx_clear(u);
}

static void uart_fini(void *state)
{
	struct uart *u = state;
	if (!u)
		return;
	if (u->thread_running) {
		char c = 1;
		while (write(u->stop_pipe[1], &c, 1) < 0 && errno == EINTR)
			;
		pthread_join(u->thread, NULL);
	}
	if (u->stop_pipe[0] >= 0)
		close(u->stop_pipe[0]);
	if (u->stop_pipe[1] >= 0)
		close(u->stop_pipe[1]);
	if (u->tty_raw)
		console_tty_restore();
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static int uart_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		     void **state)
{
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return nb_err_internal("uart: out of memory");
	u->host = host;
	u->irq = UART_COM1_IRQ;
	u->stop_pipe[0] = u->stop_pipe[1] = -1;
	pthread_mutex_init(&u->lock, NULL);
	uart_reset(u);
	/* Start with the line low so the first raise is an edge. */
	u->irq_level = 0;
	if (host->irq_line)
		host->irq_line(host->vm, u->irq, 0);

	struct pio_handler h = {
		.name = "uart16550",
		.base = UART_COM1_BASE,
		.len = UART_NREGS,
		.opaque = u,
		.in = uart_in,
		.out = uart_out,
	};
	if (bus_register_pio(b, &h) < 0)
		goto fail;

	if (host->console_in >= 0 && console_tty_background(host->console_in)) {
		if (host->log)
			fprintf(host->log, "nobios: uart: stdin is a terminal owned by the foreground "
					   "job: COM1 takes no input\n");
	} else if (host->console_in >= 0) {
		if (pipe2(u->stop_pipe, O_CLOEXEC) < 0) {
			nb_err_errno("uart: pipe");
			goto fail;
		}
		int raw = console_tty_raw(host->console_in);
		if (raw < 0)
			goto fail;
		u->tty_raw = raw == 1;
		int e = pthread_create(&u->thread, NULL, uart_reader, u);
		if (e) {
			errno = e;
			nb_err_errno("uart: cannot start the input thread");
			goto fail;
		}
		u->thread_running = true;
	}
	*state = u;
	return 0;
fail:
	uart_fini(u);
	return -1;
}

static const struct device uart16550_device = {
	.name = "uart16550",
	.order = 0, /* first on the bus: most exits of a booting kernel are here */
	.init = uart_init,
	.fini = uart_fini,
};
DEVICE(uart16550_device);
