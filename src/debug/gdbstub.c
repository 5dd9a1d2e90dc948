/* gdbstub.c - the gdb stub's connection and stops: listening on
 * 127.0.0.1, the monitor thread that watches the socket while the guest
 * runs, and gdbstub_stop(), where the vCPU thread talks to gdb while the
 * guest is stopped (GDB Remote Serial Protocol, gdb manual appendix E,
 * all-stop mode, one thread per vCPU).
 *
 * Why two threads touch the socket: while the guest runs, the vCPU thread
 * is inside KVM_RUN and cannot listen, so the monitor accepts connections
 * and turns gdb's Ctrl-C (or any packet) into a kick; while the guest is
 * stopped, the vCPU thread owns the socket and the monitor sleeps on the
 * condition variable.  The state field and the lock hand the socket over.
 *
 * Why every wait here ends on a signal: the process's signal handler
 * (machine_signal_stop, then gdbstub_signal_stop) must be able to end
 * nobios even while gdb holds the guest, or a gdb that stops answering
 * would keep nobios alive until SIGKILL.  gdbstub_stop then returns
 * GDB_QUIT and the run loop stops with status 128 + signal. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "debug/gdbstub_int.h"
#include "util/sandbox.h"

/* With --gdb, while the guest runs: connections, the socket, the self-pipe
 * (util/sandbox.h).  The listening socket exists before the sandbox. */
SANDBOX_NEEDS(gdbstub_needs, "gdb stub: the connection (src/debug/gdbstub.c)", SANDBOX_F_GDB,
	SB_ALLOW(poll), SB_ALLOW(ppoll), SB_ALLOW(accept4), SB_ALLOW(recvfrom), SB_ALLOW(sendto),
	SB_ARG_EQ(setsockopt, 1, IPPROTO_TCP));
#include "util/err.h"

/* How long the exit packet waits for gdb's ack: the guest is gone, so a
 * gdb that does not answer must not keep nobios from reporting it. */
#define GDB_EXIT_ACK_MS 2000

/* ---- the cached state of the current stop ---- */

int gdb_load_state(struct gdbstub *g)
{
	if (g->st_valid)
		return 0;
	if (g->t.get_regs(g->t.ctx, g->gcpu, &g->st) < 0)
		return -1;
	g->st_valid = true;
	g->st_dirty = false;
	return 0;
}

int gdb_flush_state(struct gdbstub *g)
{
	int r = 0;
	if (g->st_valid && g->st_dirty)
		r = g->t.set_regs(g->t.ctx, g->gcpu, &g->st);
	g->st_valid = false;
	g->st_dirty = false;
	return r;
}

/* ---- monitor thread ---- */

static void take_connection(struct gdbstub *g, int c)
{
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->fd = c;
	g->noack = false;
	g->told_stepping = false;
	g->in_len = g->in_pos = 0;
}

static void *monitor_main(void *arg)
{
	struct gdbstub *g = arg;
	pthread_mutex_lock(&g->lock);
	while (g->state != GS_QUIT) {
		/* Stopped, or a stop already requested: the vCPU thread owns
		 * the connection (or soon will). */
		if (g->state == GS_STOPPED || g->interrupt_req) {
			pthread_cond_wait(&g->cond, &g->lock);
			continue;
		}
		int fd = g->fd >= 0 ? g->fd : g->listen_fd;
		pthread_mutex_unlock(&g->lock);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 100);
		pthread_mutex_lock(&g->lock);
		/* The vCPU thread may have closed (or replaced) the connection
		 * while we polled it: act only on the fd still current. */
		if (r <= 0 || !(p.revents & (POLLIN | POLLHUP)) || g->state != GS_RUNNING ||
		    g->interrupt_req || fd != (g->fd >= 0 ? g->fd : g->listen_fd))
			continue;
		if (g->fd < 0) {
			int c = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			take_connection(g, c);
			/* gdb expects a stopped target once connected. */
			g->interrupt_req = true;
			g->t.kick(g->t.ctx);
			continue;
		}
		/* Keep what gdb sends for the vCPU thread; any byte while the
		 * guest runs (0x03 = Ctrl-C, a packet, or EOF) asks for a stop. */
		if (g->in_pos == g->in_len)
			g->in_pos = g->in_len = 0;
		if (g->in_len == sizeof(g->in))
			continue;
		ssize_t n = recv(g->fd, g->in + g->in_len, sizeof(g->in) - g->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n > 0 && !gdb_wants_stop(g->in + g->in_len, (size_t)n))
			continue; /* stray acks */
		if (n > 0)
			g->in_len += (size_t)n;
		g->interrupt_req = true;
		g->t.kick(g->t.ctx);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* ---- public ---- */

struct gdbstub *gdbstub_create(int port, bool wait, const struct gdb_target *t)
{
	struct gdbstub *g = calloc(1, sizeof(*g));
	if (!g) {
		nb_err_internal("out of memory");
		return NULL;
	}
	g->t = *t;
	g->fd = -1;
	g->wake_rd = g->wake_wr = -1;
	g->wait = wait;
	g->state = GS_RUNNING;
	g->is64 = true;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	/* Non-blocking write end: the signal handler must never block on it
	 * (one byte is enough; a full pipe is as good as a written one). */
	int wake[2];
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		nb_err_errno("--gdb: pipe");
		goto fail;
	}
	g->wake_rd = wake[0];
	g->wake_wr = wake[1];
	/* Non-blocking: the monitor must never sleep in accept() holding the
	 * lock when a poll wake-up was not a connection. */
	g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (g->listen_fd < 0) {
		nb_err_errno("--gdb: socket");
		goto fail;
	}
	int one = 1;
	setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(g->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		nb_err_errno("--gdb %d: cannot listen on 127.0.0.1:%d", port, port);
		goto fail;
	}
	if (listen(g->listen_fd, 1) < 0) {
		nb_err_errno("--gdb %d: listen", port);
		goto fail;
	}
	socklen_t al = sizeof(a);
	getsockname(g->listen_fd, (struct sockaddr *)&a, &al);
	g->port = ntohs(a.sin_port);
	/* With --gdb-wait the vCPU thread accepts at the first stop; the
	 * monitor starts then, so nothing races for the first connection. */
	if (!wait) {
		if (pthread_create(&g->monitor, NULL, monitor_main, g) != 0) {
			nb_err_internal("--gdb: cannot start the monitor thread");
			goto fail;
		}
		g->monitor_started = true;
	}
	return g;
fail:
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->wake_rd >= 0) {
		close(g->wake_rd);
		close(g->wake_wr);
	}
	free(g);
	return NULL;
}

int gdbstub_port(const struct gdbstub *g)
{
	return g->port;
}

void gdbstub_destroy(struct gdbstub *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->state = GS_QUIT;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	if (g->monitor_started)
		pthread_join(g->monitor, NULL);
	if (g->fd >= 0)
		close(g->fd);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	close(g->wake_rd);
	close(g->wake_wr);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
}

void gdbstub_signal_stop(struct gdbstub *g)
{
	if (!g)
		return;
	int saved = errno; /* a signal handler must leave errno as it was */
	g->quit = 1;
	char c = 1;
	if (write(g->wake_wr, &c, 1) < 0) {
		/* full (already woken) or closed: the latch is what counts */
	}
	errno = saved;
}

bool gdbstub_interrupt_pending(struct gdbstub *g)
{
	pthread_mutex_lock(&g->lock);
	bool r = g->interrupt_req;
	pthread_mutex_unlock(&g->lock);
	return r;
}

bool gdbstub_owns_breakpoint(struct gdbstub *g, uint64_t lin)
{
	return gdb_bp_owns(g, lin);
}

void gdbstub_guest_exited(struct gdbstub *g, int status, bool fault)
{
	if (!g || g->fd < 0)
		return;
	pthread_mutex_lock(&g->lock);
	g->state = GS_STOPPED;
	pthread_mutex_unlock(&g->lock);
	char buf[16];
	/* W: exited with status; X: terminated by a signal (SIGSEGV for a
	 * guest fault, the closest gdb has to "triple fault"). */
	if (fault)
		snprintf(buf, sizeof(buf), "X0b");
	else
		snprintf(buf, sizeof(buf), "W%02x", status & 0xFF);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	g->io_deadline_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
			    GDB_EXIT_ACK_MS * 1000000ULL;
	gdb_put_str(g, buf);
	g->io_deadline_ns = 0;
}

static void set_running(struct gdbstub *g)
{
	pthread_mutex_lock(&g->lock);
	g->state = GS_RUNNING;
	g->interrupt_req = false;
	/* Input already buffered (a Ctrl-C right behind the resume packet)
	 * stops the guest again at once. */
	if (g->fd >= 0 && gdb_wants_stop(g->in + g->in_pos, g->in_len - g->in_pos)) {
		g->interrupt_req = true;
		g->t.kick(g->t.ctx);
	} else {
		g->in_pos = g->in_len = 0;
	}
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void drop_client(struct gdbstub *g)
{
	gdb_bp_remove_all(g);
	pthread_mutex_lock(&g->lock);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->noack = false;
	g->in_pos = g->in_len = 0;
	pthread_mutex_unlock(&g->lock);
}

/* --gdb-wait: the first connection, before the first instruction.  -1
 * when the wait was ended (signal) or accept failed. */
static int accept_first(struct gdbstub *g)
{
	fprintf(stderr, "nobios: waiting for gdb on 127.0.0.1:%d\n", g->port);
	for (;;) {
		if (gdb_sock_wait(g, g->listen_fd, POLLIN) <= 0)
			return -1;
		int c = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			return c;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED)
			return -1;
	}
}

static void set_stopped(struct gdbstub *g)
{
	pthread_mutex_lock(&g->lock);
	g->state = GS_STOPPED;
	g->interrupt_req = false;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

enum gdb_resume gdbstub_stop(struct gdbstub *g, unsigned cpu, const struct gdb_stop *why)
{
	g->cpu = g->gcpu = cpu;
	g->st_valid = false;
	if (g->quit) {
		set_stopped(g);
		return GDB_QUIT;
	}
	/* The stub's own steps (stepping over a breakpoint, breakpoints and
	 * watchpoints served by stepping, a #BP that is the guest's) run on
	 * without a word to gdb.  They leave the monitor as it is (watching
	 * for Ctrl-C): a stepped continue stops here once per instruction. */
	if (gdb_load_state(g) == 0 && gdb_stop_filter(g, why))
		return GDB_RESUME;
	set_stopped(g);
	if (!g->st_valid)
		goto resume_plain;

	if (g->fd < 0) {
		if (why->kind != GDB_STOP_START || !g->wait)
			goto resume_plain; /* nobody to talk to */
		int c = accept_first(g);
		if (c < 0) {
			if (g->quit)
				return GDB_QUIT;
			goto resume_plain;
		}
		pthread_mutex_lock(&g->lock);
		take_connection(g, c);
		pthread_mutex_unlock(&g->lock);
		if (!g->monitor_started && pthread_create(&g->monitor, NULL, monitor_main, g) == 0)
			g->monitor_started = true;
	}

	if (g->expect_stop) {
		char buf[128];
		snprintf(buf, sizeof(buf), "T%02xthread:%x;%s", g->last_sig, g->cpu + 1,
			 g->last_reason);
		gdb_put_str(g, buf);
		g->expect_stop = false;
	}

	static char pkt[GDB_PACKET_MAX + 1];
	static char out[GDB_PACKET_MAX + 64];
	for (;;) {
		int n = gdb_get_packet(g, pkt, sizeof(pkt));
		if (g->quit)
			return GDB_QUIT;
		if (n == GDB_PKT_CTRLC)
			continue; /* Ctrl-C while already stopped */
		if (n < 0) { /* gdb went away: detach */
			gdb_flush_state(g);
			drop_client(g);
			goto resume_plain;
		}
		enum gdb_cmd_result r = gdb_handle_packet(g, pkt, n, out);
		if (g->quit)
			return GDB_QUIT;
		if (r == GDB_CMD_MORE)
			continue;
		if (r == GDB_CMD_KILL) {
			gdb_flush_state(g);
			drop_client(g);
			return GDB_KILL;
		}
		if (r == GDB_CMD_DETACH) {
			gdb_flush_state(g);
			drop_client(g);
			goto resume_plain;
		}
		/* c / s */
		uint64_t lin = gdb_rip_linear(&g->st);
		if (gdb_flush_state(g) < 0) {
			gdb_put_str(g, "E01");
			continue;
		}
		gdb_arm_resume(g, lin);
		if (g->soft_stepping && !g->stepping && !g->told_stepping) {
			/* gdb prints O packets while it waits for the stop: say once
			 * why this continue crawls, before anyone thinks it hung. */
			static const char note[] =
				"nobios: this host's KVM does not honour some of these breakpoints or "
				"watchpoints: continuing by single steps (slow; `nobios -v` says why)\n";
			char o[1 + 2 * sizeof(note)];
			o[0] = 'O';
			gdb_hex_encode(o + 1, (const uint8_t *)note, sizeof(note) - 1);
			gdb_put_str(g, o);
			g->told_stepping = true;
		}
		g->expect_stop = true;
		set_running(g);
		return GDB_RESUME;
	}

resume_plain:
	gdb_flush_state(g);
	g->expect_stop = false;
	gdb_arm_plain(g);
	set_running(g);
	return GDB_RESUME;
}
