/* test_gdbstub.c - the gdb remote protocol stub against a fake machine (no
 * KVM): a client thread speaks raw packets over TCP while the "vCPU" thread
 * sits in gdbstub_stop().  Registers, memory through page tables with the
 * stub's int3 bytes hidden, breakpoints armed through set_debug, the target
 * description, bad checksums and hostile lengths, kill. */
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
#include <sys/socket.h>
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

/* Next packet from the stub (acked); NULL-terminated into buf. */
static char *recv_pkt(char *buf, size_t max)
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
	assert_int_equal(send(cfd, "+", 1, 0), 1);
	return buf;
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

	struct gdb_target t = { .ctx = NULL, .ncpus = 1, .mem = &mem, .get_regs = f_get,
				.set_regs = f_set, .set_debug = f_dbg, .kick = f_kick };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
