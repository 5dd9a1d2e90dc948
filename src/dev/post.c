/* post.c - port 0x80, the POST-code port.
 *
 * Firmware and kernels write progress codes here (and Linux writes it as its
 * I/O delay, outb_p), so it must be claimed and cheap.  The first write is a
 * --timeline milestone; with -v the first POST_LOG_MAX codes are logged and
 * fini reports how many writes there were in all.  Reads return the last
 * code written, as the chipsets' POST register does. */
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "nobios.h"
#include "util/err.h"

#define POST_PORT    0x80
#define POST_LOG_MAX 32

struct post {
	struct dev_host *host;
	uint8_t last;
	uint64_t writes;
};

static void post_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct post *p = opaque;
	memset(data, 0xFF, size);
	data[0] = p->last;
}

static void post_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct post *p = opaque;
	p->last = data[0];
	if (p->writes++ == 0 && p->host->milestone)
		p->host->milestone(p->host->vm, "first port 0x80 write");
	if (p->host->log && p->writes <= POST_LOG_MAX)
		fprintf(p->host->log, "nobios: POST code 0x%02x%s\n", p->last,
			p->writes == POST_LOG_MAX ? " (further codes not logged)" : "");
}

static int post_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		     void **state)
{
	struct post *p = calloc(1, sizeof(*p));
	if (!p)
		return nb_err_internal("post: out of memory");
	p->host = host;
	struct pio_handler h = {
		.name = "post", .base = POST_PORT, .len = 1, .opaque = p,
		.in = post_in, .out = post_out,
	};
	if (bus_register_pio(b, &h) < 0) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static void post_fini(void *state)
{
	struct post *p = state;
	if (p && p->host->log && p->writes > POST_LOG_MAX)
		fprintf(p->host->log, "nobios: %llu writes to port 0x80 in all\n",
			(unsigned long long)p->writes);
	free(p);
}

static const struct device post_device = {
	.name = "post",
	.order = 10,
	.init = post_init,
	.fini = post_fini,
};
DEVICE(post_device);
