/* exec_dev.c - the host end of `nobios exec`'s port channel (exec/exec_port.h):
 * CMD's stdout and stderr bytes, and the events "CMD started", "CMD exited
 * with status S", "init could not set up".  Present only when the machine
 * runs for `nobios exec` (machine_config.exec).
 *
 * Everything here comes from the guest: a byte written to a data port is
 * passed on as it is (it is CMD's output), an event with an unknown kind is
 * ignored (with -v, a line), an exit status is cut to 8 bits.  A host fd
 * that is closed (a reader that went away) drops the data, as a closed
 * pipe would: CMD's status still ends nobios. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/dev.h"
#include "exec/exec.h"
#include "exec/exec_port.h"
#include "nobios.h"
#include "util/err.h"
#include "util/sandbox.h"

/* A non-blocking stdout is waited for, not dropped (put()); stdin is
 * polled without waiting (stdin_fill()). */
SANDBOX_NEEDS(exec_dev_needs, "exec ports: CMD's output (src/dev/exec_dev.c)", 0,
	SB_ALLOW(poll));

struct exec_dev {
	struct dev_host *host;
	struct exec_channel *ch;
	bool dead[2]; /* stdout, stderr: the host side is gone */
	/* Host stdin: what the last fill read, handed out byte by byte. */
	uint8_t in_buf[EXEC_STDIN_CHUNK];
	unsigned in_len, in_pos;
	bool in_eof;
};

/* Read what stdin has now, without blocking (a terminal in its usual
 * line mode gives whole lines).  The guest asks; it never waits here. */
static uint32_t stdin_fill(struct exec_dev *d)
{
	if (d->in_pos < d->in_len)
		return d->in_len - d->in_pos;
	d->in_len = d->in_pos = 0;
	if (d->in_eof || d->ch->in_fd < 0)
		return EXEC_STDIN_EOF;
	struct pollfd p = { .fd = d->ch->in_fd, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return 0;
	ssize_t n = read(d->ch->in_fd, d->in_buf, sizeof(d->in_buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		d->in_eof = true;
		return EXEC_STDIN_EOF;
	}
	d->in_len = (unsigned)n;
	if (d->host->log)
		fprintf(d->host->log, "nobios: exec: %u bytes of stdin for the guest\n", d->in_len);
	return d->in_len;
}

static void put(struct exec_dev *d, int which, const uint8_t *data, unsigned size)
{
	int fd = which ? d->ch->err_fd : d->ch->out_fd;
	size_t off = 0;
	while (!d->dead[which] && off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, -1); /* a non-blocking stdout: wait, keep the order */
		} else if (!(n < 0 && errno == EINTR)) {
			d->dead[which] = true;
		}
	}
}

static void exec_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct exec_dev *d = opaque;
	uint32_t v = 0xFFFFFFFFu;
	if (port == EXEC_PORT_EVENT && size == 4)
		v = EXEC_MAGIC; /* init checks that it runs in nobios */
	else if (port == EXEC_PORT_STDIN_FILL && size == 4)
		v = stdin_fill(d);
	else if (port == EXEC_PORT_STDIN && size == 1)
		v = d->in_pos < d->in_len ? d->in_buf[d->in_pos++] : 0;
	dev_data_put(data, size, v);
}

static void exec_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct exec_dev *d = opaque;
	struct dev_host *h = d->host;
	if (port == EXEC_PORT_STDOUT || port == EXEC_PORT_STDERR) {
		put(d, port == EXEC_PORT_STDERR, data, size);
		return;
	}
	if (port != EXEC_PORT_EVENT || size != 4)
		return;
	uint32_t v = dev_data_get(data, size);
	unsigned kind = v >> 16, value = v & 0xFFFF;
	char msg[128];
	switch (kind) {
	case EXEC_EV_STARTED:
		atomic_store(&d->ch->started, true);
		if (h->milestone)
			h->milestone(h->vm, "exec: command started");
		break;
	case EXEC_EV_EXIT:
		if (atomic_load(&d->ch->report) != EXEC_REPORT_NONE)
			break; /* the first report counts */
		d->ch->status = (int)(value & 0xFF);
		atomic_store(&d->ch->report, EXEC_REPORT_EXIT);
		snprintf(msg, sizeof(msg), "exec: the command exited with status %d",
			 d->ch->status);
		h->request_stop(h->vm, DEV_STOP_EXIT, d->ch->status, msg);
		break;
	case EXEC_EV_SETUP:
		if (atomic_load(&d->ch->report) != EXEC_REPORT_NONE)
			break;
		d->ch->setup_code = value;
		atomic_store(&d->ch->report, EXEC_REPORT_SETUP);
		snprintf(msg, sizeof(msg), "exec: the guest's init failed to set up the command "
			 "(code %u)", value);
		h->request_stop(h->vm, DEV_STOP_EXIT, NB_EXIT_EXEC_SETUP, msg);
		break;
	default:
		if (h->log)
			fprintf(h->log, "nobios: exec: unknown event 0x%x ignored\n", v);
	}
}

static int exec_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		     void **state)
{
	if (!cfg->exec)
		return 0;
	struct exec_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return nb_err_internal("exec: out of memory");
	d->host = host;
	d->ch = cfg->exec;
	struct pio_handler hd = {
		.name = "exec", .base = EXEC_PORT_BASE, .len = EXEC_PORT_LEN, .opaque = d,
		.in = exec_in, .out = exec_out,
	};
	if (bus_register_pio(b, &hd) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static void exec_fini(void *state)
{
	free(state);
}

static const struct device exec_device = {
	.name = "exec",
	.order = 10,
	.init = exec_init,
	.fini = exec_fini,
};
DEVICE(exec_device);
