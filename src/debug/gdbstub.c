/* gdbstub.c - GDB remote serial protocol stub (gdb manual, appendix E
 * "GDB Remote Serial Protocol"), all-stop mode, one thread per vCPU.
 *
 * Registers follow the target description we send (qXfer:features:read):
 * x86-64 or i386 core + SSE features, the segment bases, and nobios's own
 * "org.nobios.x86.system" feature with CR0/CR2/CR3/CR4/EFER, chosen from the
 * guest's mode when gdb asks for it (once per connection).
 *
 * Breakpoints:
 *   Z0  int3 patched into guest memory through the guest page tables; the
 *       original byte is remembered by physical address and hidden from `m`.
 *       On VMX/SVM hosts KVM_GUESTDBG_USE_SW_BP turns the #BP into a debug
 *       exit; on emulating hosts (kvm_pvm) int3 in ring 0 ends in an
 *       emulation failure instead, which the run loop hands to us when the
 *       byte at RIP is ours (gdbstub_owns_breakpoint).
 *   Z1  DR0-3 execute breakpoints; Z2/Z3/Z4 write/read/access watchpoints.
 *       Some hosts re-report an execute breakpoint at the same RIP forever
 *       (RF is not honoured): resuming from one, we single-step with it
 *       disabled first, then re-arm and continue.
 */
#include "debug/gdbstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/pagewalk.h"
#include "mem/mem.h"
#include "util/err.h"

#define GDB_PACKET_MAX 16384 /* we advertise PacketSize=0x3fff */
#define GDB_MAX_SWBP 64
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

enum gdb_state { GS_RUNNING, GS_STOPPED, GS_QUIT };

struct swbp {
	uint64_t lin, pa;
	uint8_t orig;
	bool used;
};

struct hwbp {
	uint64_t addr;
	unsigned type; /* 1 exec, 2 write, 3 read, 4 access (Z type) */
	unsigned len;
	bool used;
	uint64_t old;  /* soft watch: value before the step */
	bool old_ok;
};

struct gdbstub {
	struct gdb_target t;
	int port;
	int listen_fd, fd;
	bool wait;
	pthread_t monitor;
	bool monitor_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum gdb_state state;
	bool interrupt_req;
	/* Input buffer (vCPU thread, while stopped). */
	uint8_t in[4096];
	size_t in_len, in_pos;
	bool noack;
	/* Current stop. */
	unsigned cpu;          /* vCPU the stop happened on (thread cpu+1) */
	unsigned gcpu;         /* Hg: registers/memory of this vCPU */
	struct cpu_state st;
	bool st_valid, st_dirty;
	bool is64;             /* target description served: x86-64 or i386 */
	int last_sig;
	char last_reason[64];
	/* Breakpoints. */
	struct swbp sw[GDB_MAX_SWBP];
	struct hwbp hw[4];
	/* Resume bookkeeping. */
	bool expect_stop;      /* gdb is waiting for a stop reply */
	bool stepping;         /* gdb asked for a single step */
	bool stepping_over;    /* internal step over a hw breakpoint at RIP */
	bool watch_stepping;   /* soft watchpoints: stepping and comparing */
};

/* ---- socket I/O ---- */

static bool sock_send(struct gdbstub *g, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(g->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Next input byte, blocking; -1 when the connection is gone. */
static int sock_getc(struct gdbstub *g)
{
	if (g->in_pos == g->in_len) {
		ssize_t n;
		do {
			n = recv(g->fd, g->in, sizeof(g->in), 0);
		} while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		g->in_len = (size_t)n;
		g->in_pos = 0;
	}
	return g->in[g->in_pos++];
}

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Send one packet $data#cs; wait for '+' unless in no-ack mode. */
static bool put_packet(struct gdbstub *g, const char *data, size_t len)
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
	buf[2 + len] = hexd[cs >> 4];
	buf[3 + len] = hexd[cs & 15];
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

static bool put_str(struct gdbstub *g, const char *s)
{
	return put_packet(g, s, strlen(s));
}

/* Read one packet into buf (NUL-terminated, escapes '}' undone).  Returns
 * its length, -1 when the connection is gone, -2 for a 0x03 byte. */
static int get_packet(struct gdbstub *g, char *buf, size_t max)
{
	for (;;) {
		int c = sock_getc(g);
		if (c < 0)
			return -1;
		if (c == 0x03)
			return -2;
		if (c != '$')
			continue; /* acks, noise */
		size_t n = 0;
		uint8_t cs = 0;
		bool overflow = false;
		for (;;) {
			c = sock_getc(g);
			if (c < 0)
				return -1;
			if (c == '#')
				break;
			cs += (uint8_t)c;
			if (c == '}') { /* escape: next byte xor 0x20 */
				int d = sock_getc(g);
				if (d < 0)
					return -1;
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
			return -1;
		buf[n] = '\0';
		bool good = hexval(h1) >= 0 && hexval(h2) >= 0 &&
			    (uint8_t)(hexval(h1) << 4 | hexval(h2)) == cs && !overflow;
		if (!g->noack && !sock_send(g, good ? "+" : "-", 1))
			return -1;
		if (good)
			return (int)n;
	}
}

/* ---- registers ---- */

enum reg_src {
	RS_GPR, RS_RIP, RS_RFLAGS, RS_SEL, RS_ZERO, RS_FSBASE, RS_GSBASE,
	RS_CR0, RS_CR2, RS_CR3, RS_CR4, RS_EFER,
};

struct gdb_reg {
	const char *name;
	unsigned bits;
	const char *type;
	const char *group; /* NULL = default */
	enum reg_src src;
	unsigned idx;      /* GPR index or segment index (cs ss ds es fs gs) */
	unsigned feature;  /* index into feature names */
};

enum { F_CORE, F_SSE, F_SEGMENTS, F_SYSTEM };
static const char *const feature_names[] = {
	"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
	"org.nobios.x86.system",
};

#define X87(n) { "st" #n, 80, "i387_ext", NULL, RS_ZERO, 0, F_CORE }
#define FPC(n) { n, 32, "int", "float", RS_ZERO, 0, F_CORE }
#define XMM(n) { "xmm" #n, 128, "vec128", NULL, RS_ZERO, 0, F_SSE }
#define SYSREGS                                                               \
	{ "cr0", 64, "int64", "system", RS_CR0, 0, F_SYSTEM },                  \
	{ "cr2", 64, "int64", "system", RS_CR2, 0, F_SYSTEM },                  \
	{ "cr3", 64, "int64", "system", RS_CR3, 0, F_SYSTEM },                  \
	{ "cr4", 64, "int64", "system", RS_CR4, 0, F_SYSTEM },                  \
	{ "efer", 64, "int64", "system", RS_EFER, 0, F_SYSTEM }

static const struct gdb_reg regs64[] = {
	{ "rax", 64, "int64", NULL, RS_GPR, CPU_RAX, F_CORE },
	{ "rbx", 64, "int64", NULL, RS_GPR, CPU_RBX, F_CORE },
	{ "rcx", 64, "int64", NULL, RS_GPR, CPU_RCX, F_CORE },
	{ "rdx", 64, "int64", NULL, RS_GPR, CPU_RDX, F_CORE },
	{ "rsi", 64, "int64", NULL, RS_GPR, CPU_RSI, F_CORE },
	{ "rdi", 64, "int64", NULL, RS_GPR, CPU_RDI, F_CORE },
	{ "rbp", 64, "data_ptr", NULL, RS_GPR, CPU_RBP, F_CORE },
	{ "rsp", 64, "data_ptr", NULL, RS_GPR, CPU_RSP, F_CORE },
	{ "r8", 64, "int64", NULL, RS_GPR, CPU_R8, F_CORE },
	{ "r9", 64, "int64", NULL, RS_GPR, CPU_R9, F_CORE },
	{ "r10", 64, "int64", NULL, RS_GPR, CPU_R10, F_CORE },
	{ "r11", 64, "int64", NULL, RS_GPR, CPU_R11, F_CORE },
	{ "r12", 64, "int64", NULL, RS_GPR, CPU_R12, F_CORE },
	{ "r13", 64, "int64", NULL, RS_GPR, CPU_R13, F_CORE },
	{ "r14", 64, "int64", NULL, RS_GPR, CPU_R14, F_CORE },
	{ "r15", 64, "int64", NULL, RS_GPR, CPU_R15, F_CORE },
	{ "rip", 64, "code_ptr", NULL, RS_RIP, 0, F_CORE },
	{ "eflags", 32, "i386_eflags", NULL, RS_RFLAGS, 0, F_CORE },
	{ "cs", 32, "int32", NULL, RS_SEL, 0, F_CORE },
	{ "ss", 32, "int32", NULL, RS_SEL, 1, F_CORE },
	{ "ds", 32, "int32", NULL, RS_SEL, 2, F_CORE },
	{ "es", 32, "int32", NULL, RS_SEL, 3, F_CORE },
	{ "fs", 32, "int32", NULL, RS_SEL, 4, F_CORE },
	{ "gs", 32, "int32", NULL, RS_SEL, 5, F_CORE },
	X87(0), X87(1), X87(2), X87(3), X87(4), X87(5), X87(6), X87(7),
	FPC("fctrl"), FPC("fstat"), FPC("ftag"), FPC("fiseg"),
	FPC("fioff"), FPC("foseg"), FPC("fooff"), FPC("fop"),
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
	{ "mxcsr", 32, "int", "vector", RS_ZERO, 0, F_SSE },
	{ "fs_base", 64, "int", NULL, RS_FSBASE, 0, F_SEGMENTS },
	{ "gs_base", 64, "int", NULL, RS_GSBASE, 0, F_SEGMENTS },
	SYSREGS,
};

static const struct gdb_reg regs32[] = {
	{ "eax", 32, "int32", NULL, RS_GPR, CPU_RAX, F_CORE },
	{ "ecx", 32, "int32", NULL, RS_GPR, CPU_RCX, F_CORE },
	{ "edx", 32, "int32", NULL, RS_GPR, CPU_RDX, F_CORE },
	{ "ebx", 32, "int32", NULL, RS_GPR, CPU_RBX, F_CORE },
	{ "esp", 32, "data_ptr", NULL, RS_GPR, CPU_RSP, F_CORE },
	{ "ebp", 32, "data_ptr", NULL, RS_GPR, CPU_RBP, F_CORE },
	{ "esi", 32, "int32", NULL, RS_GPR, CPU_RSI, F_CORE },
	{ "edi", 32, "int32", NULL, RS_GPR, CPU_RDI, F_CORE },
	{ "eip", 32, "code_ptr", NULL, RS_RIP, 0, F_CORE },
	{ "eflags", 32, "i386_eflags", NULL, RS_RFLAGS, 0, F_CORE },
	{ "cs", 32, "int32", NULL, RS_SEL, 0, F_CORE },
	{ "ss", 32, "int32", NULL, RS_SEL, 1, F_CORE },
	{ "ds", 32, "int32", NULL, RS_SEL, 2, F_CORE },
	{ "es", 32, "int32", NULL, RS_SEL, 3, F_CORE },
	{ "fs", 32, "int32", NULL, RS_SEL, 4, F_CORE },
	{ "gs", 32, "int32", NULL, RS_SEL, 5, F_CORE },
	X87(0), X87(1), X87(2), X87(3), X87(4), X87(5), X87(6), X87(7),
	FPC("fctrl"), FPC("fstat"), FPC("ftag"), FPC("fiseg"),
	FPC("fioff"), FPC("foseg"), FPC("fooff"), FPC("fop"),
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	{ "mxcsr", 32, "int", "vector", RS_ZERO, 0, F_SSE },
	SYSREGS,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct gdb_reg *reg_table(const struct gdbstub *g, unsigned *n)
{
	*n = g->is64 ? NELEM(regs64) : NELEM(regs32);
	return g->is64 ? regs64 : regs32;
}

static struct cpu_segment *seg_by_idx(struct cpu_state *s, unsigned i)
{
	struct cpu_segment *t[] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	return t[i < 6 ? i : 0];
}

static uint64_t *reg_ptr(struct cpu_state *s, const struct gdb_reg *r)
{
	switch (r->src) {
	case RS_GPR: return &s->gpr[r->idx];
	case RS_RIP: return &s->rip;
	case RS_RFLAGS: return &s->rflags;
	case RS_FSBASE: return &s->fs.base;
	case RS_GSBASE: return &s->gs.base;
	case RS_CR0: return &s->cr0;
	case RS_CR2: return &s->cr2;
	case RS_CR3: return &s->cr3;
	case RS_CR4: return &s->cr4;
	case RS_EFER: return &s->efer;
	default: return NULL;
	}
}

/* Append register r of the cached state as little-endian hex. */
static size_t reg_hex(struct gdbstub *g, const struct gdb_reg *r, char *out)
{
	uint64_t v = 0;
	if (r->src == RS_SEL)
		v = seg_by_idx(&g->st, r->idx)->selector;
	else if (r->src != RS_ZERO)
		v = *reg_ptr(&g->st, r);
	unsigned bytes = r->bits / 8;
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t b = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
		out[2 * i] = hexd[b >> 4];
		out[2 * i + 1] = hexd[b & 15];
	}
	return 2 * bytes;
}

/* Parse a little-endian hex register value; returns chars consumed or 0. */
static size_t reg_parse(struct gdbstub *g, const struct gdb_reg *r, const char *in, size_t avail)
{
	unsigned bytes = r->bits / 8;
	if (avail < 2 * bytes)
		return 0;
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		int h = hexval(in[2 * i]), l = hexval(in[2 * i + 1]);
		if (h < 0 || l < 0) {
			if (in[2 * i] == 'x') /* "unavailable" */
				continue;
			return 0;
		}
		if (i < 8)
			v |= (uint64_t)(h << 4 | l) << (8 * i);
	}
	if (r->src == RS_SEL) {
		/* Only the selector is visible to gdb; the hidden part stays
		 * (writing a selector does not reload a descriptor). */
		seg_by_idx(&g->st, r->idx)->selector = (uint16_t)v;
		g->st_dirty = true;
	} else if (r->src != RS_ZERO) {
		uint64_t *p = reg_ptr(&g->st, r);
		if (bytes < 8) /* 32-bit view: keep the upper half */
			v |= *p & ~((1ULL << (8 * bytes)) - 1);
		*p = v;
		g->st_dirty = true;
	}
	return 2 * bytes;
}

/* ---- target description ---- */

static void xml_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void xml_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*buf && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return;
		}
		size_t ncap = (*cap ? *cap * 2 : 8192) + (size_t)n;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return;
		*buf = nb;
		*cap = ncap;
	}
}

static char *target_xml(const struct gdbstub *g)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	unsigned n;
	const struct gdb_reg *t = reg_table(g, &n);
	xml_append(&b, &len, &cap,
		   "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		   "<target version=\"1.0\"><architecture>%s</architecture>",
		   g->is64 ? "i386:x86-64" : "i386");
	for (unsigned f = 0; f < NELEM(feature_names); f++) {
		if (f == F_SEGMENTS && !g->is64)
			continue;
		xml_append(&b, &len, &cap, "<feature name=\"%s\">", feature_names[f]);
		if (f == F_CORE) {
			static const char *const fl[][2] = {
				{"CF", "0"}, {"", "1"}, {"PF", "2"}, {"AF", "4"}, {"ZF", "6"},
				{"SF", "7"}, {"TF", "8"}, {"IF", "9"}, {"DF", "10"}, {"OF", "11"},
				{"NT", "14"}, {"RF", "16"}, {"VM", "17"}, {"AC", "18"},
				{"VIF", "19"}, {"VIP", "20"}, {"ID", "21"},
			};
			xml_append(&b, &len, &cap, "<flags id=\"i386_eflags\" size=\"4\">");
			for (unsigned i = 0; i < NELEM(fl); i++)
				xml_append(&b, &len, &cap,
					   "<field name=\"%s\" start=\"%s\" end=\"%s\"/>", fl[i][0],
					   fl[i][1], fl[i][1]);
			xml_append(&b, &len, &cap, "</flags>");
		}
		if (f == F_SSE)
			xml_append(&b, &len, &cap,
				   "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
				   "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
				   "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
				   "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
				   "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
				   "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
				   "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
				   "<field name=\"v2_double\" type=\"v2d\"/>"
				   "<field name=\"v16_int8\" type=\"v16i8\"/>"
				   "<field name=\"v8_int16\" type=\"v8i16\"/>"
				   "<field name=\"v4_int32\" type=\"v4i32\"/>"
				   "<field name=\"v2_int64\" type=\"v2i64\"/>"
				   "<field name=\"uint128\" type=\"uint128\"/></union>");
		for (unsigned i = 0; i < n; i++) {
			if (t[i].feature != f)
				continue;
			xml_append(&b, &len, &cap, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
				   t[i].name, t[i].bits, t[i].type, i);
			if (t[i].group)
				xml_append(&b, &len, &cap, " group=\"%s\"", t[i].group);
			xml_append(&b, &len, &cap, "/>");
		}
		xml_append(&b, &len, &cap, "</feature>");
	}
	xml_append(&b, &len, &cap, "</target>");
	return b;
}

/* ---- guest state cache ---- */

static int load_state(struct gdbstub *g)
{
	if (g->st_valid)
		return 0;
	if (g->t.get_regs(g->t.ctx, g->gcpu, &g->st) < 0)
		return -1;
	g->st_valid = true;
	g->st_dirty = false;
	return 0;
}

static int flush_state(struct gdbstub *g)
{
	int r = 0;
	if (g->st_valid && g->st_dirty)
		r = g->t.set_regs(g->t.ctx, g->gcpu, &g->st);
	g->st_valid = false;
	g->st_dirty = false;
	return r;
}

static uint64_t rip_linear(const struct cpu_state *s)
{
	bool l = (s->efer & X86_EFER_LMA) && s->cs.l;
	return l ? s->rip : ((s->cs.base + s->rip) & 0xFFFFFFFFULL);
}

/* ---- memory ---- */

static struct swbp *swbp_at_pa(struct gdbstub *g, uint64_t pa)
{
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++)
		if (g->sw[i].used && g->sw[i].pa == pa)
			return &g->sw[i];
	return NULL;
}

/* Read guest memory for gdb, hiding our int3 bytes. */
static size_t mem_read_dbg(struct gdbstub *g, uint64_t lin, uint8_t *buf, size_t len)
{
	size_t done = cpu_read_linear(g->t.mem, &g->st, lin, buf, len);
	for (size_t i = 0; i < done; i++) {
		uint64_t pa;
		if (cpu_translate(g->t.mem, &g->st, lin + i, &pa, NULL) < 0)
			break;
		struct swbp *b = swbp_at_pa(g, pa);
		if (b)
			buf[i] = b->orig;
	}
	return done;
}

/* Write guest memory for gdb; writes over our int3 bytes update the saved
 * byte and keep the breakpoint. */
static size_t mem_write_dbg(struct gdbstub *g, uint64_t lin, const uint8_t *buf, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		uint64_t pa;
		if (cpu_translate(g->t.mem, &g->st, lin + i, &pa, NULL) < 0)
			break;
		struct swbp *b = swbp_at_pa(g, pa);
		if (b) {
			b->orig = buf[i];
			continue;
		}
		if (mem_write8(g->t.mem, pa, buf[i]) < 0)
			break;
	}
	return i;
}

/* ---- breakpoints ---- */

static int swbp_insert(struct gdbstub *g, uint64_t lin)
{
	uint64_t pa;
	if (cpu_translate(g->t.mem, &g->st, lin, &pa, NULL) < 0)
		return -1;
	if (swbp_at_pa(g, pa))
		return 0;
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++) {
		struct swbp *b = &g->sw[i];
		if (b->used)
			continue;
		if (mem_read8(g->t.mem, pa, &b->orig) < 0 || mem_write8(g->t.mem, pa, 0xCC) < 0)
			return -1;
		b->lin = lin;
		b->pa = pa;
		b->used = true;
		return 0;
	}
	return -1;
}

static int swbp_remove(struct gdbstub *g, uint64_t lin)
{
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++) {
		struct swbp *b = &g->sw[i];
		if (b->used && b->lin == lin) {
			uint8_t cur;
			/* Restore only if our byte is still there (the guest may
			 * have rewritten its code meanwhile). */
			if (mem_read8(g->t.mem, b->pa, &cur) == 0 && cur == 0xCC)
				mem_write8(g->t.mem, b->pa, b->orig);
			b->used = false;
			return 0;
		}
	}
	return -1;
}

static void swbp_remove_all(struct gdbstub *g)
{
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++)
		if (g->sw[i].used)
			swbp_remove(g, g->sw[i].lin);
}

static bool any_swbp(const struct gdbstub *g)
{
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++)
		if (g->sw[i].used)
			return true;
	return false;
}

static int hwbp_insert(struct gdbstub *g, unsigned type, uint64_t addr, unsigned len)
{
	if (type == 1)
		len = 1;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -1;
	if (addr & (len - 1)) /* DR breakpoints cover aligned ranges only */
		return -1;
	for (unsigned i = 0; i < 4; i++)
		if (g->hw[i].used && g->hw[i].addr == addr && g->hw[i].type == type)
			return 0;
	for (unsigned i = 0; i < 4; i++)
		if (!g->hw[i].used) {
			g->hw[i] = (struct hwbp){ .addr = addr, .type = type, .len = len, .used = true };
			return 0;
		}
	return -1;
}

static int hwbp_remove(struct gdbstub *g, unsigned type, uint64_t addr)
{
	for (unsigned i = 0; i < 4; i++)
		if (g->hw[i].used && g->hw[i].addr == addr && g->hw[i].type == type) {
			g->hw[i].used = false;
			return 0;
		}
	return -1;
}

/* Build and arm the debug state.  skip_mask: hw slots left disabled. */
static int arm(struct gdbstub *g, bool step, unsigned skip_mask)
{
	struct gdb_debug d = { 0 };
	d.single_step = step;
	d.sw_bp = any_swbp(g);
	g->watch_stepping = false;
	for (unsigned i = 0; i < 4; i++) {
		if (!g->hw[i].used || (skip_mask & (1u << i)))
			continue;
		if (g->t.soft_watch && g->hw[i].type != 1) {
			/* Checked after every single step instead (soft_watch_hit). */
			uint64_t v = 0;
			g->hw[i].old_ok = cpu_read_linear(g->t.mem, &g->st, g->hw[i].addr, &v,
							  g->hw[i].len) == g->hw[i].len;
			g->hw[i].old = v;
			d.single_step = true;
			g->watch_stepping = true;
			continue;
		}
		/* DR7: L<i> enable, R/W<i> (00 exec, 01 write, 11 read/write),
		 * LEN<i> (00 1, 01 2, 11 4, 10 8 bytes) - SDM vol 3B 19.2.4. */
		unsigned rw = g->hw[i].type == 1 ? 0 : g->hw[i].type == 2 ? 1 : 3;
		unsigned ln = g->hw[i].len == 1 ? 0 : g->hw[i].len == 2 ? 1 : g->hw[i].len == 8 ? 2 : 3;
		d.dr[i] = g->hw[i].addr;
		d.dr7 |= (1ULL << (2 * i)) | ((uint64_t)rw << (16 + 4 * i)) |
			 ((uint64_t)ln << (18 + 4 * i));
		d.hw_bp = true;
	}
	if (d.hw_bp)
		d.dr7 |= 1ULL << 9 | 1ULL << 10; /* GE (exact), bit 10 reads as 1 */
	d.enable = d.single_step || d.sw_bp || d.hw_bp;
	return g->t.set_debug(g->t.ctx, g->cpu, &d);
}

/* Soft watchpoints: the first whose bytes changed since arm(), or -1. */
static int soft_watch_hit(struct gdbstub *g)
{
	for (unsigned i = 0; i < 4; i++) {
		if (!g->hw[i].used || g->hw[i].type == 1 || !g->hw[i].old_ok)
			continue;
		uint64_t v = 0;
		if (cpu_read_linear(g->t.mem, &g->st, g->hw[i].addr, &v, g->hw[i].len) ==
			    g->hw[i].len && v != g->hw[i].old)
			return (int)i;
	}
	return -1;
}

/* Mask of enabled execute breakpoints at linear address lin. */
static unsigned hw_exec_at(const struct gdbstub *g, uint64_t lin)
{
	unsigned m = 0;
	for (unsigned i = 0; i < 4; i++)
		if (g->hw[i].used && g->hw[i].type == 1 && g->hw[i].addr == lin)
			m |= 1u << i;
	return m;
}

/* ---- stop replies ---- */

static void stop_reply(struct gdbstub *g)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "T%02xthread:%x;%s", g->last_sig, g->cpu + 1, g->last_reason);
	put_str(g, buf);
}

/* Classify a stop for gdb: signal and the reason fields of the T packet. */
static void classify(struct gdbstub *g, const struct gdb_stop *why)
{
	g->last_sig = GDB_SIGTRAP;
	g->last_reason[0] = '\0';
	uint64_t lin = rip_linear(&g->st);
	switch (why->kind) {
	case GDB_STOP_START:
		break;
	case GDB_STOP_INTERRUPT:
		g->last_sig = GDB_SIGINT;
		break;
	case GDB_STOP_INT3:
		snprintf(g->last_reason, sizeof(g->last_reason), "swbreak:;");
		break;
	case GDB_STOP_DEBUG:
		if (why->exception == 3) {
			snprintf(g->last_reason, sizeof(g->last_reason), "swbreak:;");
			break;
		}
		if (g->t.soft_watch) {
			int w = soft_watch_hit(g);
			if (w >= 0) {
				const char *k = g->hw[w].type == 2 ? "watch" : "awatch";
				snprintf(g->last_reason, sizeof(g->last_reason), "%s:%" PRIx64 ";", k,
					 g->hw[w].addr);
				return;
			}
		}
		/* #DB: DR6 B0-B3 name the breakpoint; BS a single step. */
		for (unsigned i = 0; i < 4; i++) {
			if (!(why->dr6 & (1u << i)) || !g->hw[i].used)
				continue;
			if (g->hw[i].type == 1) {
				snprintf(g->last_reason, sizeof(g->last_reason), "hwbreak:;");
			} else {
				const char *k = g->hw[i].type == 2 ? "watch" : g->hw[i].type == 3 ? "rwatch" : "awatch";
				snprintf(g->last_reason, sizeof(g->last_reason), "%s:%" PRIx64 ";", k,
					 g->hw[i].addr);
			}
			return;
		}
		/* Hosts that leave DR6 empty: an execute breakpoint at RIP. */
		if (!g->stepping && hw_exec_at(g, lin))
			snprintf(g->last_reason, sizeof(g->last_reason), "hwbreak:;");
		break;
	}
}

/* ---- monitor thread ---- */

/* Whether bytes from gdb ask for a stop: Ctrl-C or the start of a packet
 * (acks alone do not). */
static bool wants_stop(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == 0x03 || b[i] == '$')
			return true;
	return false;
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
			int one = 1;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			g->fd = c;
			g->noack = false;
			g->in_len = g->in_pos = 0;
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
		if (n > 0 && !wants_stop(g->in + g->in_len, (size_t)n))
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
	g->wait = wait;
	g->state = GS_RUNNING;
	g->is64 = true;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
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
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
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
	for (unsigned i = 0; i < GDB_MAX_SWBP; i++)
		if (g->sw[i].used && g->sw[i].lin == lin)
			return true;
	return false;
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
	put_str(g, buf);
}

static void set_running(struct gdbstub *g)
{
	pthread_mutex_lock(&g->lock);
	g->state = GS_RUNNING;
	g->interrupt_req = false;
	/* Input already buffered (a Ctrl-C right behind the resume packet)
	 * stops the guest again at once. */
	if (g->fd >= 0 && wants_stop(g->in + g->in_pos, g->in_len - g->in_pos)) {
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
	swbp_remove_all(g);
	memset(g->hw, 0, sizeof(g->hw));
	pthread_mutex_lock(&g->lock);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->noack = false;
	g->in_pos = g->in_len = 0;
	pthread_mutex_unlock(&g->lock);
}

static bool parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t r = 0;
	int n = 0;
	while (hexval(*s) >= 0 && n < 16) {
		r = r << 4 | (uint64_t)hexval(*s);
		s++;
		n++;
	}
	if (!n)
		return false;
	*v = r;
	*p = s;
	return true;
}

static void hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[in[i] >> 4];
		out[2 * i + 1] = hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Send text to gdb's console (O packets), for `monitor` commands. */
static void console_out(struct gdbstub *g, const char *text, size_t len)
{
	char pkt[1 + 2 * 512 + 1];
	for (size_t off = 0; off < len; off += 512) {
		size_t n = len - off < 512 ? len - off : 512;
		pkt[0] = 'O';
		hex_encode(pkt + 1, (const uint8_t *)text + off, n);
		put_str(g, pkt);
	}
}

static void handle_rcmd(struct gdbstub *g, const char *hex)
{
	char cmd[128];
	size_t n = 0;
	while (hex[0] && hex[1] && n + 1 < sizeof(cmd)) {
		int h = hexval(hex[0]), l = hexval(hex[1]);
		if (h < 0 || l < 0)
			break;
		cmd[n++] = (char)(h << 4 | l);
		hex += 2;
	}
	cmd[n] = '\0';
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (!f) {
		put_str(g, "E01");
		return;
	}
	if (strcmp(cmd, "dump") == 0 || strcmp(cmd, "regs") == 0) {
		if (g->t.dump)
			g->t.dump(g->t.ctx, g->gcpu, f);
		else
			cpu_state_dump(f, &g->st);
	} else if (strncmp(cmd, "translate ", 10) == 0) {
		uint64_t va = strtoull(cmd + 10, NULL, 0), pa = 0;
		struct cpu_walk w;
		char d[256];
		cpu_translate(g->t.mem, &g->st, va, &pa, &w);
		fprintf(f, "%s\n", cpu_walk_describe(&w, va, pa, d, sizeof(d)));
	} else if (strcmp(cmd, "checks") == 0) {
		char c[2048];
		int k = cpu_check_entry_state(&g->st, c, sizeof(c));
		fprintf(f, "%d VMX guest-state check(s) violated\n%s", k, c);
	} else {
		fprintf(f, "nobios monitor commands: dump (decoded registers), translate VA "
			   "(page walk), checks (VMX guest-state checks)\n");
	}
	fclose(f);
	console_out(g, text, tlen);
	free(text);
	put_str(g, "OK");
}

/* Handle one packet.  Returns 1 to resume the guest, 2 to kill, 0 to
 * keep talking. */
static int handle_packet(struct gdbstub *g, char *p, int len, char *out)
{
	unsigned nregs;
	const struct gdb_reg *regs = reg_table(g, &nregs);
	switch (p[0]) {
	case '?':
		stop_reply(g);
		return 0;
	case 'g': {
		size_t o = 0;
		if (load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		for (unsigned i = 0; i < nregs; i++)
			o += reg_hex(g, &regs[i], out + o);
		out[o] = '\0';
		put_str(g, out);
		return 0;
	}
	case 'G': {
		if (load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		const char *s = p + 1;
		size_t avail = (size_t)len - 1;
		for (unsigned i = 0; i < nregs && avail; i++) {
			size_t k = reg_parse(g, &regs[i], s, avail);
			if (!k)
				break;
			s += k;
			avail -= k;
		}
		put_str(g, "OK");
		return 0;
	}
	case 'p': {
		const char *s = p + 1;
		uint64_t n;
		if (!parse_hex(&s, &n) || n >= nregs || load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		size_t o = reg_hex(g, &regs[n], out);
		out[o] = '\0';
		put_str(g, out);
		return 0;
	}
	case 'P': {
		const char *s = p + 1;
		uint64_t n;
		if (!parse_hex(&s, &n) || *s != '=' || n >= nregs || load_state(g) < 0 ||
		    !reg_parse(g, &regs[n], s + 1, strlen(s + 1))) {
			put_str(g, "E01");
			return 0;
		}
		put_str(g, "OK");
		return 0;
	}
	case 'm': {
		const char *s = p + 1;
		uint64_t addr, n;
		if (!parse_hex(&s, &addr) || *s++ != ',' || !parse_hex(&s, &n) ||
		    load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		if (n > (GDB_PACKET_MAX - 16) / 2)
			n = (GDB_PACKET_MAX - 16) / 2;
		uint8_t buf[GDB_PACKET_MAX / 2];
		size_t got = mem_read_dbg(g, addr, buf, n);
		if (!got && n) {
			put_str(g, "E14"); /* EFAULT */
			return 0;
		}
		hex_encode(out, buf, got);
		put_str(g, out);
		return 0;
	}
	case 'M': {
		const char *s = p + 1;
		uint64_t addr, n;
		if (!parse_hex(&s, &addr) || *s++ != ',' || !parse_hex(&s, &n) || *s++ != ':' ||
		    strlen(s) < 2 * n || n > GDB_PACKET_MAX / 2 || load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		uint8_t buf[GDB_PACKET_MAX / 2];
		for (uint64_t i = 0; i < n; i++) {
			int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
			if (h < 0 || l < 0) {
				put_str(g, "E01");
				return 0;
			}
			buf[i] = (uint8_t)(h << 4 | l);
		}
		put_str(g, mem_write_dbg(g, addr, buf, n) == n ? "OK" : "E14");
		return 0;
	}
	case 'Z':
	case 'z': {
		const char *s = p + 1;
		uint64_t type, addr, kind;
		if (!parse_hex(&s, &type) || *s++ != ',' || !parse_hex(&s, &addr) || *s++ != ',' ||
		    !parse_hex(&s, &kind) || load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		int r;
		if (type == 0)
			r = p[0] == 'Z' ? swbp_insert(g, addr) : swbp_remove(g, addr);
		else if (type <= 4)
			r = p[0] == 'Z' ? hwbp_insert(g, (unsigned)type, addr, (unsigned)kind)
					: hwbp_remove(g, (unsigned)type, addr);
		else {
			put_str(g, "");
			return 0;
		}
		put_str(g, r == 0 ? "OK" : "E01");
		return 0;
	}
	case 'c':
	case 's': {
		if (load_state(g) < 0) {
			put_str(g, "E01");
			return 0;
		}
		const char *s = p + 1;
		uint64_t addr;
		if (parse_hex(&s, &addr)) { /* resume at addr */
			g->st.rip = addr;
			g->st_dirty = true;
		}
		g->stepping = p[0] == 's';
		return 1;
	}
	case 'H':
		/* Hg/Hc: select a vCPU (0 / -1 = any). */
		if (p[1] == 'g') {
			const char *s = p + 2;
			uint64_t t;
			if (*s != '-' && parse_hex(&s, &t) && t >= 1 && t <= g->t.ncpus &&
			    t - 1 != g->gcpu) {
				flush_state(g);
				g->gcpu = (unsigned)t - 1;
			}
		}
		put_str(g, "OK");
		return 0;
	case 'T': {
		const char *s = p + 1;
		uint64_t t;
		put_str(g, parse_hex(&s, &t) && t >= 1 && t <= g->t.ncpus ? "OK" : "E01");
		return 0;
	}
	case 'D':
		put_str(g, "OK");
		return 3;
	case 'k':
		return 2;
	case 'q':
		if (strncmp(p, "qSupported", 10) == 0) {
			snprintf(out, 256, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
				 "QStartNoAckMode+", GDB_PACKET_MAX - 1);
			put_str(g, out);
		} else if (strncmp(p, "qXfer:features:read:target.xml:", 31) == 0) {
			const char *s = p + 31;
			uint64_t off, n;
			if (!parse_hex(&s, &off) || *s++ != ',' || !parse_hex(&s, &n) ||
			    load_state(g) < 0) {
				put_str(g, "E01");
				return 0;
			}
			/* The description follows the guest's mode at the time gdb
			 * reads it (at connection). */
			if (off == 0)
				g->is64 = (g->st.efer & X86_EFER_LMA) != 0;
			char *xml = target_xml(g);
			size_t xl = xml ? strlen(xml) : 0;
			if (n > GDB_PACKET_MAX - 16)
				n = GDB_PACKET_MAX - 16;
			if (off >= xl) {
				put_str(g, "l");
			} else {
				size_t k = xl - off < n ? xl - off : n;
				out[0] = off + k >= xl ? 'l' : 'm';
				memcpy(out + 1, xml + off, k);
				put_packet(g, out, k + 1);
			}
			free(xml);
		} else if (strncmp(p, "qXfer:", 6) == 0) {
			put_str(g, "E00");
		} else if (strcmp(p, "qC") == 0) {
			snprintf(out, 32, "QC%x", g->cpu + 1);
			put_str(g, out);
		} else if (strcmp(p, "qfThreadInfo") == 0) {
			size_t o = 0;
			out[o++] = 'm';
			for (unsigned i = 0; i < g->t.ncpus; i++)
				o += (size_t)sprintf(out + o, "%s%x", i ? "," : "", i + 1);
			out[o] = '\0';
			put_str(g, out);
		} else if (strcmp(p, "qsThreadInfo") == 0) {
			put_str(g, "l");
		} else if (strncmp(p, "qThreadExtraInfo,", 17) == 0) {
			const char *s = p + 17;
			uint64_t t = 0;
			parse_hex(&s, &t);
			char txt[32];
			snprintf(txt, sizeof(txt), "vCPU %u", (unsigned)(t ? t - 1 : 0));
			hex_encode(out, (const uint8_t *)txt, strlen(txt));
			put_str(g, out);
		} else if (strcmp(p, "qAttached") == 0) {
			put_str(g, "1");
		} else if (strncmp(p, "qSymbol", 7) == 0) {
			put_str(g, "OK");
		} else if (strncmp(p, "qRcmd,", 6) == 0) {
			if (load_state(g) < 0)
				put_str(g, "E01");
			else
				handle_rcmd(g, p + 6);
		} else {
			put_str(g, "");
		}
		return 0;
	case 'Q':
		if (strcmp(p, "QStartNoAckMode") == 0) {
			put_str(g, "OK");
			g->noack = true;
		} else {
			put_str(g, "");
		}
		return 0;
	default:
		put_str(g, ""); /* unsupported: gdb falls back (X -> M, vCont -> c/s) */
		return 0;
	}
}

enum gdb_resume gdbstub_stop(struct gdbstub *g, unsigned cpu, const struct gdb_stop *why)
{
	pthread_mutex_lock(&g->lock);
	g->state = GS_STOPPED;
	g->interrupt_req = false;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	g->cpu = g->gcpu = cpu;
	g->st_valid = false;
	if (load_state(g) < 0)
		goto resume_plain;

	/* Our own step over a hardware breakpoint: re-arm and go on. */
	if (g->stepping_over && why->kind == GDB_STOP_DEBUG) {
		g->stepping_over = false;
		if (!g->stepping) {
			arm(g, false, 0);
			set_running(g);
			return GDB_RESUME;
		}
	}
	g->stepping_over = false;

	/* Soft watchpoints: keep stepping while nothing changed and nothing
	 * else (a breakpoint, gdb's own step, Ctrl-C) stopped us. */
	if (g->watch_stepping && !g->stepping && why->kind == GDB_STOP_DEBUG &&
	    why->exception != 3 && soft_watch_hit(g) < 0 &&
	    !hw_exec_at(g, rip_linear(&g->st)) && !(why->dr6 & 0xF)) {
		arm(g, true, 0);
		set_running(g);
		return GDB_RESUME;
	}

	if (g->fd < 0) {
		if (why->kind != GDB_STOP_START || !g->wait)
			goto resume_plain; /* nobody to talk to */
		fprintf(stderr, "nobios: waiting for gdb on 127.0.0.1:%d\n", g->port);
		int c;
		for (;;) {
			struct pollfd p = { .fd = g->listen_fd, .events = POLLIN };
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				break;
			c = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
				break;
		}
		if (c < 0)
			goto resume_plain;
		int one = 1;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_mutex_lock(&g->lock);
		g->fd = c;
		pthread_mutex_unlock(&g->lock);
		if (!g->monitor_started && pthread_create(&g->monitor, NULL, monitor_main, g) == 0)
			g->monitor_started = true;
	}

	classify(g, why);
	if (g->expect_stop) {
		stop_reply(g);
		g->expect_stop = false;
	}

	static char pkt[GDB_PACKET_MAX + 1];
	static char out[GDB_PACKET_MAX + 64];
	for (;;) {
		int n = get_packet(g, pkt, sizeof(pkt));
		if (n == -2)
			continue; /* Ctrl-C while already stopped */
		if (n < 0) { /* gdb went away: detach */
			flush_state(g);
			drop_client(g);
			goto resume_plain;
		}
		int r = handle_packet(g, pkt, n, out);
		if (r == 0)
			continue;
		if (r == 2) { /* kill */
			flush_state(g);
			drop_client(g);
			return GDB_KILL;
		}
		if (r == 3) { /* detach */
			flush_state(g);
			drop_client(g);
			goto resume_plain;
		}
		/* c / s */
		uint64_t lin = rip_linear(&g->st);
		if (flush_state(g) < 0) {
			put_str(g, "E01");
			continue;
		}
		unsigned at = hw_exec_at(g, lin);
		if (g->stepping) {
			arm(g, true, at);
		} else if (at) {
			g->stepping_over = true;
			arm(g, true, at);
		} else {
			arm(g, false, 0);
		}
		g->expect_stop = true;
		set_running(g);
		return GDB_RESUME;
	}

resume_plain:
	flush_state(g);
	g->expect_stop = false;
	g->stepping = g->stepping_over = false;
	arm(g, false, 0);
	set_running(g);
	return GDB_RESUME;
}
