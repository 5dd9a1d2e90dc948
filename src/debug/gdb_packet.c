/* gdb_packet.c - the remote protocol's framing (gdb manual, appendix E
 * "Overview"): $data#checksum packets, '+'/'-' acknowledgements until
 * QStartNoAckMode, '}' escapes, the 0x03 interrupt byte, and hex.
 *
 * Why every read and write goes through gdb_sock_wait(): the stub talks to
 * gdb on the vCPU thread while the guest is stopped, so a gdb that stops
 * answering (or never connects, or never acks) would otherwise hold that
 * thread in recv() forever, deaf to SIGTERM.  The wait polls the socket
 * together with the stub's self-pipe, which gdbstub_signal_stop() writes
 * from the signal handler: the wait ends at once, whichever thread took
 * the signal and however the signal raced with the poll() call.  An
 * optional deadline bounds waits that must not last (the exit packet). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "debug/gdbstub_int.h"

const char gdb_hexd[16] = "0123456789abcdef";

int gdb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At most 16 digits: longer numbers are malformed, not truncated. */
bool gdb_parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t r = 0;
	int n = 0;
	while (gdb_hexval(*s) >= 0) {
		if (n == 16)
			return false;
		r = r << 4 | (uint64_t)gdb_hexval(*s);
		s++;
		n++;
	}
	if (!n)
		return false;
	*v = r;
	*p = s;
	return true;
}

void gdb_hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = gdb_hexd[in[i] >> 4];
		out[2 * i + 1] = gdb_hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int gdb_sock_wait(struct gdbstub *g, int fd, short events)
{
	for (;;) {
		if (g->quit)
			return -1;
		int timeout = -1;
		if (g->io_deadline_ns) {
			uint64_t now = now_ns();
			if (now >= g->io_deadline_ns)
				return 0;
			timeout = (int)((g->io_deadline_ns - now + 999999) / 1000000);
		}
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = g->wake_rd, .events = POLLIN } };
		int r = poll(p, 2, timeout);
		if (r < 0) {
			if (errno == EINTR) /* a kick or a timer: look again */
				continue;
			return -1;
		}
		if (g->quit)
			return -1;
		if (r > 0 && p[0].revents)
			return 1;
	}
}

static bool sock_send(struct gdbstub *g, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(g->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* A full socket buffer (gdb not reading): wait, interruptibly. */
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    gdb_sock_wait(g, g->fd, POLLOUT) > 0)
			continue;
		return false;
	}
	return true;
}

/* Next input byte; -1 when the connection is gone or the wait was ended
 * (g->quit, or io_deadline passed). */
static int sock_getc(struct gdbstub *g)
{
	if (g->quit)
		return -1;
	while (g->in_pos == g->in_len) {
		ssize_t n = recv(g->fd, g->in, sizeof(g->in), MSG_DONTWAIT);
		if (n > 0) {
			g->in_len = (size_t)n;
			g->in_pos = 0;
			break;
		}
		if (n == 0)
			return -1;
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || gdb_sock_wait(g, g->fd, POLLIN) <= 0)
			return -1;
	}
	return g->in[g->in_pos++];
}

/* Send one packet $data#cs; wait for '+' unless in no-ack mode. */
bool gdb_put_packet(struct gdbstub *g, const char *data, size_t len)
{
	char *buf = malloc(len + 5);
	if (!buf)
		return false;
	uint8_t cs = 0;
	buf[0] = '$';
	for (size_t i = 0; i < len; i++) {
		buf[1 + i] = data[i];
		cs += (uint8_t)data[i];
	}
	buf[1 + len] = '#';
	buf[2 + len] = gdb_hexd[cs >> 4];
	buf[3 + len] = gdb_hexd[cs & 15];
	bool ok = false;
	for (int tries = 0; tries < 5; tries++) {
		if (!sock_send(g, buf, len + 4))
			break;
		if (g->noack) {
			ok = true;
			break;
		}
		int c;
		do {
			c = sock_getc(g);
		} while (c >= 0 && c != '+' && c != '-');
		if (c == '+') {
			ok = true;
			break;
		}
		if (c < 0)
			break;
	}
	free(buf);
	return ok;
}

bool gdb_put_str(struct gdbstub *g, const char *s)
{
	return gdb_put_packet(g, s, strlen(s));
}

/* Read one packet into buf (NUL-terminated, escapes undone).  Returns its
 * length, GDB_PKT_GONE, or GDB_PKT_CTRLC.  An over-long packet is refused
 * with '-' like a bad checksum: it never overruns buf. */
int gdb_get_packet(struct gdbstub *g, char *buf, size_t max)
{
	for (;;) {
		int c = sock_getc(g);
		if (c < 0)
			return GDB_PKT_GONE;
		if (c == 0x03)
			return GDB_PKT_CTRLC;
		if (c != '$')
			continue; /* acks, noise */
		size_t n = 0;
		uint8_t cs = 0;
		bool overflow = false;
		for (;;) {
			c = sock_getc(g);
			if (c < 0)
				return GDB_PKT_GONE;
			if (c == '#')
				break;
			cs += (uint8_t)c;
			if (c == '}') { /* escape: next byte xor 0x20 */
				int d = sock_getc(g);
				if (d < 0)
					return GDB_PKT_GONE;
				cs += (uint8_t)d;
				c = d ^ 0x20;
			}
			if (n + 1 < max)
				buf[n++] = (char)c;
			else
				overflow = true;
		}
		int h1 = sock_getc(g), h2 = sock_getc(g);
		if (h1 < 0 || h2 < 0)
			return GDB_PKT_GONE;
		buf[n] = '\0';
		bool good = gdb_hexval(h1) >= 0 && gdb_hexval(h2) >= 0 &&
			    (uint8_t)(gdb_hexval(h1) << 4 | gdb_hexval(h2)) == cs && !overflow;
		if (!g->noack && !sock_send(g, good ? "+" : "-", 1))
			return GDB_PKT_GONE;
		if (good)
			return (int)n;
	}
}

/* Whether bytes from gdb ask for a stop: Ctrl-C or the start of a packet
 * (acks alone do not). */
bool gdb_wants_stop(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == 0x03 || b[i] == '$')
			return true;
	return false;
}
