/* fuzz_gdb.c - libFuzzer harness: the gdb stub's protocol side as gdb (or
 * anyone who reaches 127.0.0.1:PORT) drives it: the framing ($...#cs, acks,
 * '}' escapes, Ctrl-C; src/debug/gdb_packet.c) and every packet
 * (registers, memory through the guest's page tables, breakpoints and
 * watchpoints, resume, threads, qXfer, monitor; gdb_commands.c and
 * gdb_break.c), on a fake machine.  The input after a small header is the
 * byte stream from "gdb", fed through a socketpair; after a resume the
 * guest stops again at once, so breakpoint stepping logic runs too.
 *
 * The stub's state is set up here as gdbstub_stop() sets it for a stopped
 * vCPU with a connected gdb (gdbstub_create() would listen on TCP and start
 * a monitor thread, which a fuzzer does not want). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu_fuzz.h"
#include "debug/gdbstub_int.h"
#include "mem/mem.h"
#include "util/err.h"

#define RAM (8u << 20)
#define STREAM_MAX 200000 /* what one socket buffer holds */

static struct cpu_state cpus[4];

static int t_get(void *ctx, unsigned c, struct cpu_state *s) { *s = cpus[c & 3]; return c < 4 ? 0 : -1; }
static int t_set(void *ctx, unsigned c, const struct cpu_state *s)
{
	if (c >= 4)
		return -1;
	cpus[c] = *s;
	return 0;
}
static int t_debug(void *ctx, unsigned c, const struct gdb_debug *d) { return c < 4 ? 0 : -1; }
static void t_kick(void *ctx) {}

static void drain(int fd)
{
	char buf[65536];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct guest_mem m;
	if (!ram) {
		ram = calloc(1, RAM);
		mem_init_buf(&m, ram, RAM);
	}
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f);
	memset(ram, 0, 1 << 20);
	if (flags & 1) {
		fz_cpu_state(&f, &cpus[0]);
	} else {
		cpu_state_init(&cpus[0]);
		if (cpu_setup_long(&cpus[0], &m) < 0) /* identity paging of RAM */
			abort();
		cpus[0].rip = 0x100000;
	}
	for (int i = 1; i < 4; i++)
		cpus[i] = cpus[0];

	int sv[2], wake[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	size_t len = fz_left(&f) < STREAM_MAX ? fz_left(&f) : STREAM_MAX;
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(sv[1], f.p + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the buffer is full: the rest is not sent */
		off += (size_t)w;
	}
	shutdown(sv[1], SHUT_WR); /* gdb has said all it will say */

	struct gdbstub *g = calloc(1, sizeof(*g));
	g->t = (struct gdb_target){ .ncpus = 1 + ((flags >> 1) & 3), .mem = &m, .get_regs = t_get,
				    .set_regs = t_set, .set_debug = t_debug, .kick = t_kick,
				    .caps = { .int3 = flags & 8, .hw_exec = flags & 16,
					      .hw_data = flags & 32 } };
	g->listen_fd = -1;
	g->fd = sv[0];
	g->wake_rd = wake[0];
	g->wake_wr = wake[1];
	g->is64 = !(flags & 64);
	g->noack = flags & 128;
	g->state = GS_STOPPED;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	gdb_load_state(g);

	static char pkt[GDB_PACKET_MAX + 1];
	static char out[GDB_PACKET_MAX + 64];
	for (unsigned rounds = 0; rounds < 10000; rounds++) {
		int n = gdb_get_packet(g, pkt, sizeof(pkt));
		if (n == GDB_PKT_GONE)
			break;
		if (n == GDB_PKT_CTRLC)
			continue;
		enum gdb_cmd_result r = gdb_handle_packet(g, pkt, n, out);
		drain(sv[1]);
		if (r == GDB_CMD_KILL || r == GDB_CMD_DETACH)
			break;
		if (r == GDB_CMD_RESUME) {
			/* run, then stop again at once, as a step would */
			uint64_t lin = gdb_rip_linear(&g->st);
			if (gdb_flush_state(g) < 0)
				continue;
			gdb_arm_resume(g, lin);
			g->st_valid = false;
			struct gdb_stop why = { .kind = GDB_STOP_DEBUG, .exception = (rounds & 1) ? 1 : 3,
						.dr6 = 1u << (rounds & 3), .pc = lin };
			if (gdb_load_state(g) == 0)
				gdb_stop_filter(g, &why);
		}
		nb_err_clear();
	}
	gdb_flush_state(g);
	gdb_bp_remove_all(g);
	close(sv[0]);
	close(sv[1]);
	close(wake[0]);
	close(wake[1]);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
	return 0;
}
