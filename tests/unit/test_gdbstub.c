/* test_gdbstub.c - the gdb remote protocol stub against a fake machine (no
 * KVM): a client thread speaks raw packets over TCP while the "vCPU" thread
 * sits in gdbstub_stop().  Registers, memory through page tables with the
 * stub's int3 bytes hidden, breakpoints armed through set_debug, the target
 * description, bad checksums and hostile lengths, kill; on a host that
 * honours nothing, breakpoints and watchpoints served by single-stepping
 * (the fake set_debug records what is armed, the test plays the steps); the
 * #BP path of VMX/SVM hardware (step over our int3, the guest's own int3
 * handed back); and every wait for gdb ended by gdbstub_signal_stop(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "debug/gdbstub.h"
#include "mem/mem.h"

#define RAM (8u << 20)

static struct guest_mem mem;
static struct cpu_state cpu;
static struct gdb_debug last_debug;
static int set_debug_calls, set_regs_calls;

static int f_get(void *ctx, unsigned c, struct cpu_state *s) { *s = cpu; return 0; }
static int f_set(void *ctx, unsigned c, const struct cpu_state *s) { cpu = *s; set_regs_calls++; return 0; }
static int f_dbg(void *ctx, unsigned c, const struct gdb_debug *d) { last_debug = *d; set_debug_calls++; return 0; }
static void f_kick(void *ctx) {}

static int cfd = -1;

static void send_pkt(const char *d)
{
	unsigned cs = 0;
	for (const char *p = d; *p; p++)
		cs += (unsigned char)*p;
	char buf[20000];
	int n = snprintf(buf, sizeof(buf), "$%s#%02x", d, cs & 0xFF);
	assert_int_equal(send(cfd, buf, (size_t)n, 0), n);
}

/* Next packet from the stub, acked unless told not to; NUL-terminated. */
static char *recv_pkt_ack(char *buf, size_t max, bool ack)
{
	char c;
	do {
		assert_int_equal(recv(cfd, &c, 1, 0), 1);
	} while (c != '$');
	size_t n = 0;
	for (;;) {
		assert_int_equal(recv(cfd, &c, 1, 0), 1);
		if (c == '#')
			break;
		if (n + 1 < max)
			buf[n++] = c;
	}
	buf[n] = '\0';
	char cs[2];
	assert_int_equal(recv(cfd, cs, 2, MSG_WAITALL), 2);
	if (ack)
		assert_int_equal(send(cfd, "+", 1, 0), 1);
	return buf;
}

static char *recv_pkt(char *buf, size_t max)
{
	return recv_pkt_ack(buf, max, true);
}

/* Send a packet, expect the stub's '+' then its reply. */
static char *xfer(const char *d, char *buf, size_t max)
{
	send_pkt(d);
	char c;
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '+');
	return recv_pkt(buf, max);
}

struct stop_arg {
	struct gdbstub *g;
	struct gdb_stop why;
	enum gdb_resume r;
};

static void *vcpu_thread(void *p)
{
	struct stop_arg *a = p;
	a->r = gdbstub_stop(a->g, 0, &a->why);
	return NULL;
}

static void test_session(void **state)
{
	(void)state;
	void *ram = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&mem, ram, RAM), 0);
	cpu_state_init(&cpu);
	assert_int_equal(cpu_setup_long(&cpu, &mem), 0);
	cpu.rip = 0x100000;
	cpu.gpr[CPU_RAX] = 0x1122334455667788ULL;
	const uint8_t code[] = { 0x90, 0x90, 0xf4, 0xeb, 0xfd };
	assert_int_equal(mem_copy_in(&mem, 0x100000, code, sizeof(code)), 0);

	/* A VMX/SVM hardware host: int3 and DR0-3 honoured. */
	struct gdb_target t = { .ctx = NULL, .ncpus = 1, .mem = &mem, .get_regs = f_get,
				.set_regs = f_set, .set_debug = f_dbg, .kick = f_kick,
				.caps = { .int3 = true, .hw_exec = true, .hw_data = true } };
	struct gdbstub *g = gdbstub_create(0, true, &t);
	assert_non_null(g);
	int port = gdbstub_port(g);
	assert_true(port > 0);

	struct stop_arg a = { .g = g, .why = { .kind = GDB_STOP_START } };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, vcpu_thread, &a), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	static char b[20000];
	assert_non_null(strstr(xfer("qSupported:swbreak+", b, sizeof(b)), "qXfer:features:read+"));
	assert_string_equal(xfer("?", b, sizeof(b)), "T05thread:1;");
	assert_string_equal(xfer("qfThreadInfo", b, sizeof(b)), "m1");
	assert_string_equal(xfer("qC", b, sizeof(b)), "QC1");
	xfer("qXfer:features:read:target.xml:0,3fff", b, sizeof(b));
	assert_int_equal(b[0], 'l');
	assert_non_null(strstr(b, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(b, "<reg name=\"cr3\" bitsize=\"64\""));
	/* rax is register 0, rip 16, cr0 is after fs_base/gs_base. */
	assert_string_equal(xfer("p0", b, sizeof(b)), "8877665544332211");
	assert_string_equal(xfer("p10", b, sizeof(b)), "0000100000000000");
	xfer("g", b, sizeof(b));
	assert_int_equal(strncmp(b, "8877665544332211", 16), 0);
	assert_int_equal(strlen(b), 2 * (16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 2 * 8 + 5 * 8));
	assert_string_equal(xfer("P3=efbeadde00000000", b, sizeof(b)), "OK"); /* rdx */
	assert_string_equal(xfer("p999", b, sizeof(b)), "E01");
	/* Memory through the page tables; int3 bytes hidden from reads. */
	assert_string_equal(xfer("m100000,5", b, sizeof(b)), "9090f4ebfd");
	assert_string_equal(xfer("Z0,100001,1", b, sizeof(b)), "OK");
	uint8_t byte;
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0xCC);
	assert_string_equal(xfer("m100000,3", b, sizeof(b)), "9090f4");
	/* Writing over a breakpoint updates the saved byte, keeps the int3. */
	assert_string_equal(xfer("M100001,1:cc", b, sizeof(b)), "OK");
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0xCC);
	assert_string_equal(xfer("M100001,1:91", b, sizeof(b)), "OK");
	assert_string_equal(xfer("m100001,1", b, sizeof(b)), "91");
	/* Non-canonical / unmapped addresses and hostile lengths. */
	assert_string_equal(xfer("m800000000000,4", b, sizeof(b)), "E14");
	assert_string_equal(xfer("M100000,ffffffff:00", b, sizeof(b)), "E01");
	xfer("m100000,ffffffffffffffff", b, sizeof(b));
	assert_true(strlen(b) > 0 && strlen(b) <= 16384);
	assert_string_equal(xfer("Z1,100003,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("Z2,200001,4", b, sizeof(b)), "E01"); /* unaligned */
	assert_string_equal(xfer("Z9,0,1", b, sizeof(b)), "");
	assert_string_equal(xfer("vMustReplyEmpty", b, sizeof(b)), "");
	/* A bad checksum is refused with '-'. */
	assert_int_equal(send(cfd, "$g#00", 5, 0), 5);
	char c;
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '-');
	/* Continue: registers written back, int3 and DR0 armed. */
	send_pkt("c");
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '+');
	pthread_join(th, NULL);
	assert_int_equal(a.r, GDB_RESUME);
	assert_int_equal(cpu.gpr[CPU_RDX], 0xdeadbeef);
	assert_true(last_debug.enable && last_debug.sw_bp && last_debug.hw_bp);
	assert_false(last_debug.single_step);
	assert_int_equal(last_debug.dr[0], 0x100003);
	assert_int_equal(last_debug.dr7 & 3, 1); /* L0 */

	/* The guest hits our int3: the stub says swbreak, then gdb kills. */
	cpu.rip = 0x100001;
	assert_true(gdbstub_owns_breakpoint(g, 0x100001));
	assert_false(gdbstub_owns_breakpoint(g, 0x100002));
	a.why = (struct gdb_stop){ .kind = GDB_STOP_INT3 };
	assert_int_equal(pthread_create(&th, NULL, vcpu_thread, &a), 0);
	assert_string_equal(recv_pkt(b, sizeof(b)), "T05thread:1;swbreak:;");
	send_pkt("k");
	pthread_join(th, NULL);
	assert_int_equal(a.r, GDB_KILL);
	/* Killing removed the int3 and restored the (updated) byte. */
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0x91);
	close(cfd);
	gdbstub_destroy(g);
	free(ram);
}

/* ---- a fresh stub on a fake long-mode guest, gdb connected at --gdb-wait ---- */

static void *ram;
static pthread_t th;
static struct stop_arg sa_;

static void guest_init(void)
{
	ram = calloc(1, RAM);
	assert_non_null(ram);
	assert_int_equal(mem_init_buf(&mem, ram, RAM), 0);
	cpu_state_init(&cpu);
	assert_int_equal(cpu_setup_long(&cpu, &mem), 0);
	cpu.rip = 0x100000;
	/* nop x5, hlt, jmp .-2 */
	const uint8_t code[] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xf4, 0xeb, 0xfd };
	assert_int_equal(mem_copy_in(&mem, 0x100000, code, sizeof(code)), 0);
	set_debug_calls = 0;
	memset(&last_debug, 0, sizeof(last_debug));
}

static int connect_to(struct gdbstub *g)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)gdbstub_port(g)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static struct gdbstub *session_start(struct gdb_host_caps caps)
{
	guest_init();
	struct gdb_target t = { .ctx = NULL, .ncpus = 1, .mem = &mem, .get_regs = f_get,
				.set_regs = f_set, .set_debug = f_dbg, .kick = f_kick, .caps = caps };
	struct gdbstub *g = gdbstub_create(0, true, &t);
	assert_non_null(g);
	sa_ = (struct stop_arg){ .g = g, .why = { .kind = GDB_STOP_START } };
	assert_int_equal(pthread_create(&th, NULL, vcpu_thread, &sa_), 0);
	cfd = connect_to(g);
	return g;
}

static void session_end(struct gdbstub *g)
{
	close(cfd);
	cfd = -1;
	gdbstub_destroy(g);
	free(ram);
}

/* gdb resumes (c or s): the stub acks and returns GDB_RESUME. */
static void resume(const char *pkt)
{
	char c;
	send_pkt(pkt);
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '+');
	pthread_join(th, NULL);
	assert_int_equal(sa_.r, GDB_RESUME);
}

/* The first stepped continue of a connection: gdb's console hears why it
 * is slow (an O packet, hex text) before the stub lets the guest run. */
static void resume_stepping_note(const char *pkt)
{
	static char b[1024];
	char c;
	send_pkt(pkt);
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '+');
	recv_pkt(b, sizeof(b));
	assert_int_equal(b[0], 'O');
	/* "nobios: this host's KVM ..." in hex */
	assert_int_equal(strncmp(b + 1, "6e6f62696f733a", 14), 0);
	pthread_join(th, NULL);
	assert_int_equal(sa_.r, GDB_RESUME);
}

/* The guest stops and gdb must hear of it: returns the stop reply. */
static char *stop_reported(struct gdbstub *g, struct gdb_stop why, char *b, size_t n)
{
	sa_ = (struct stop_arg){ .g = g, .why = why };
	assert_int_equal(pthread_create(&th, NULL, vcpu_thread, &sa_), 0);
	return recv_pkt(b, n);
}

/* The guest stops for the stub's own reasons: it runs on without a word
 * to gdb (nothing on the socket once gdbstub_stop has returned). */
static void stop_silent(struct gdbstub *g, struct gdb_stop why)
{
	int calls = set_debug_calls;
	assert_int_equal(gdbstub_stop(g, 0, &why), GDB_RESUME);
	assert_int_equal(set_debug_calls, calls + 1);
	char c;
	assert_int_equal(recv(cfd, &c, 1, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void kill_session(void)
{
	send_pkt("k");
	pthread_join(th, NULL);
	assert_int_equal(sa_.r, GDB_KILL);
}

static const struct gdb_stop step_done = { .kind = GDB_STOP_DEBUG, .exception = 1, .dr6 = 1u << 14 };

/* A host that honours neither int3 nor DR0-3 (the SVM test host): the stub
 * single-steps and compares RIP and memory. */
static void test_stepping_fallbacks(void **state)
{
	(void)state;
	alarm(30); /* a stub that never returns fails the test, not hangs it */
	static char b[20000];
	struct gdbstub *g = session_start((struct gdb_host_caps){ 0 });
	assert_string_equal(xfer("Z0,100003,1", b, sizeof(b)), "OK");
	uint8_t byte;
	assert_int_equal(mem_read8(&mem, 0x100003, &byte), 0);
	assert_int_equal(byte, 0x90); /* nothing patched */
	assert_false(gdbstub_owns_breakpoint(g, 0x100003));
	/* Not even mapped: a stepped breakpoint needs no translation. */
	assert_string_equal(xfer("Z0,ffff800000000000,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("Z1,100004,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("Z3,200000,4", b, sizeof(b)), "E01"); /* reads are invisible */
	assert_string_equal(xfer("Z2,200000,4", b, sizeof(b)), "OK");
	resume_stepping_note("c");
	assert_true(last_debug.enable && last_debug.single_step);
	assert_false(last_debug.sw_bp || last_debug.hw_bp);

	/* A step that hits nothing: on, still stepping. */
	cpu.rip = 0x100001;
	stop_silent(g, step_done);
	assert_true(last_debug.single_step);
	/* A step that changed the watched bytes. */
	assert_int_equal(mem_write32(&mem, 0x200000, 7), 0);
	cpu.rip = 0x100002;
	assert_string_equal(stop_reported(g, step_done, b, sizeof(b)), "T05thread:1;watch:200000;");
	assert_string_equal(xfer("z2,200000,4", b, sizeof(b)), "OK");
	resume("c");
	/* RIP reaches the Z0 address, then (resuming from it) the Z1 one. */
	cpu.rip = 0x100003;
	assert_string_equal(stop_reported(g, step_done, b, sizeof(b)), "T05thread:1;swbreak:;");
	resume("c");
	assert_true(last_debug.single_step);
	cpu.rip = 0x100004;
	assert_string_equal(stop_reported(g, step_done, b, sizeof(b)), "T05thread:1;hwbreak:;");
	/* gdb's own step landing on a breakpoint is a step, not a hit. */
	resume("s");
	cpu.rip = 0x100003;
	assert_string_equal(stop_reported(g, step_done, b, sizeof(b)), "T05thread:1;");
	/* A Ctrl-C while stepping is reported as such. */
	resume("c");
	struct gdb_stop intr = { .kind = GDB_STOP_INTERRUPT };
	assert_string_equal(stop_reported(g, intr, b, sizeof(b)), "T02thread:1;");
	/* Nothing left: the guest runs free. */
	assert_string_equal(xfer("z0,100003,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("z0,ffff800000000000,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("z1,100004,1", b, sizeof(b)), "OK");
	assert_string_equal(xfer("z1,100004,1", b, sizeof(b)), "E01"); /* already gone */
	resume("c");
	assert_false(last_debug.enable);
	cpu.rip = 0x100007;
	assert_string_equal(stop_reported(g, intr, b, sizeof(b)), "T02thread:1;");
	kill_session();
	session_end(g);
	alarm(0);
}

/* VMX/SVM hardware: KVM_EXIT_DEBUG with exception 3 at our int3; resuming
 * there steps over it with the original byte, then patches it back; a #BP
 * that is not ours goes back to the guest. */
static void test_int3_debug_exit(void **state)
{
	(void)state;
	alarm(30);
	static char b[20000];
	struct gdbstub *g = session_start((struct gdb_host_caps){ .int3 = true, .hw_exec = true,
								   .hw_data = true });
	uint8_t byte;
	assert_string_equal(xfer("Z0,100001,1", b, sizeof(b)), "OK");
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0xCC);
	resume("c");
	assert_true(last_debug.sw_bp);
	assert_false(last_debug.single_step);

	cpu.rip = 0x100001;
	struct gdb_stop bp = { .kind = GDB_STOP_DEBUG, .exception = 3, .pc = 0x100001 };
	assert_string_equal(stop_reported(g, bp, b, sizeof(b)), "T05thread:1;swbreak:;");
	assert_string_equal(xfer("m100001,1", b, sizeof(b)), "90"); /* the original byte */
	/* Resume at the int3: one step with the byte restored. */
	resume("c");
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0x90);
	assert_true(last_debug.single_step && last_debug.sw_bp);
	cpu.rip = 0x100002;
	stop_silent(g, step_done);
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0xCC); /* back */
	assert_false(last_debug.single_step);
	assert_true(last_debug.sw_bp);
	/* The guest's own int3 elsewhere: injected, not reported. */
	cpu.rip = 0x100005;
	bp.pc = 0x100005;
	assert_false(gdbstub_owns_breakpoint(g, 0x100005));
	stop_silent(g, bp);
	assert_true(last_debug.inject_bp && last_debug.sw_bp);
	assert_false(last_debug.single_step);
	/* DR0 execute breakpoint at RIP: stepped over with DR0 disabled. */
	struct gdb_stop intr = { .kind = GDB_STOP_INTERRUPT };
	assert_string_equal(stop_reported(g, intr, b, sizeof(b)), "T02thread:1;");
	assert_string_equal(xfer("Z1,100005,1", b, sizeof(b)), "OK");
	resume("c");
	assert_true(last_debug.single_step);
	assert_false(last_debug.dr7 & 3);
	assert_false(last_debug.inject_bp);
	cpu.rip = 0x100006;
	stop_silent(g, step_done);
	assert_false(last_debug.single_step);
	assert_int_equal(last_debug.dr7 & 3, 1);
	assert_int_equal(last_debug.dr[0], 0x100005);
	/* The DR hit is reported from DR6. */
	cpu.rip = 0x100005;
	struct gdb_stop db = { .kind = GDB_STOP_DEBUG, .exception = 1, .dr6 = 1 };
	assert_string_equal(stop_reported(g, db, b, sizeof(b)), "T05thread:1;hwbreak:;");
	kill_session();
	assert_int_equal(mem_read8(&mem, 0x100001, &byte), 0);
	assert_int_equal(byte, 0x90); /* kill removed our int3 */
	session_end(g);
	alarm(0);
}

/* ---- issue 14: every wait for gdb ends on gdbstub_signal_stop() ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *signal_later(void *p)
{
	usleep(200000);
	gdbstub_signal_stop(p); /* as the SIGTERM handler does */
	return NULL;
}

/* Ends the wait of sa_'s thread (or the caller's) from another thread
 * after 0.2 s and checks that it returned GDB_QUIT within 5 s. */
static void expect_quit_on_signal(struct gdbstub *g, bool joined_thread)
{
	pthread_t sig;
	double t0 = now_s();
	assert_int_equal(pthread_create(&sig, NULL, signal_later, g), 0);
	if (joined_thread) {
		pthread_join(th, NULL);
	} else {
		struct gdb_stop start = { .kind = GDB_STOP_START };
		sa_.r = gdbstub_stop(g, 0, &start);
	}
	pthread_join(sig, NULL);
	assert_int_equal(sa_.r, GDB_QUIT);
	assert_true(now_s() - t0 < 5.0);
	/* Latched: later stops do not wait either. */
	struct gdb_stop intr = { .kind = GDB_STOP_INTERRUPT };
	assert_int_equal(gdbstub_stop(g, 0, &intr), GDB_QUIT);
}

static void test_signal_ends_accept(void **state)
{
	(void)state;
	alarm(30);
	guest_init();
	struct gdb_target t = { .ncpus = 1, .mem = &mem, .get_regs = f_get, .set_regs = f_set,
				.set_debug = f_dbg, .kick = f_kick };
	struct gdbstub *g = gdbstub_create(0, true, &t); /* --gdb-wait, nobody comes */
	assert_non_null(g);
	expect_quit_on_signal(g, false);
	gdbstub_destroy(g);
	free(ram);
	alarm(0);
}

static void test_signal_ends_silent_client(void **state)
{
	(void)state;
	alarm(30);
	struct gdbstub *g = session_start((struct gdb_host_caps){ 0 });
	/* Connected, and says nothing: the stub waits for a packet. */
	expect_quit_on_signal(g, true);
	session_end(g);
	alarm(0);
}

static void test_signal_ends_ack_wait(void **state)
{
	(void)state;
	alarm(30);
	static char b[256];
	struct gdbstub *g = session_start((struct gdb_host_caps){ 0 });
	send_pkt("?");
	char c;
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, '+');
	assert_string_equal(recv_pkt_ack(b, sizeof(b), false), "T05thread:1;");
	/* ... and never acks it: the stub waits for '+'. */
	expect_quit_on_signal(g, true);
	session_end(g);
	alarm(0);
}

/* The exit packet waits for gdb's ack a bounded time, not forever. */
static void test_exit_packet_bounded(void **state)
{
	(void)state;
	alarm(30);
	static char b[256];
	struct gdbstub *g = session_start((struct gdb_host_caps){ 0 });
	resume("c");
	double t0 = now_s();
	gdbstub_guest_exited(g, 1, false);
	double waited = now_s() - t0;
	assert_string_equal(recv_pkt_ack(b, sizeof(b), false), "W01");
	assert_true(waited >= 1.0 && waited < 5.0);
	session_end(g);
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_stepping_fallbacks),
		cmocka_unit_test(test_int3_debug_exit),
		cmocka_unit_test(test_signal_ends_accept),
		cmocka_unit_test(test_signal_ends_silent_client),
		cmocka_unit_test(test_signal_ends_ack_wait),
		cmocka_unit_test(test_exit_packet_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
