/* gdb_regs.c - the target description the stub sends gdb (gdb manual,
 * "Target Descriptions", qXfer:features:read:target.xml) and the register
 * layout it names: which struct cpu_state field each register number is,
 * and how it travels (little-endian hex of the register's width).
 *
 * Why a description of our own instead of gdb's built-in x86 layouts: gdb
 * would then guess the register set from the ELF it was given, which is
 * wrong for a kernel that starts in 32-bit mode and switches to long mode,
 * and it has no place for CR0-CR4/EFER.  We send the x86-64 or i386 core +
 * SSE features (gdb's own feature names, so its x86 code knows them), the
 * segment bases for x86-64, and "org.nobios.x86.system" with the control
 * registers.  The choice follows the guest's mode when gdb reads the
 * description (once per connection).  Registers nobios does not track
 * (x87, SSE) read as zero and ignore writes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "debug/gdbstub_int.h"

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
	unsigned feature;  /* index into feature_names */
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

/* gdb's amd64 register order (gdb/features/i386/64bit-*.xml). */
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

/* gdb's i386 register order (gdb/features/i386/32bit-*.xml). */
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

static const struct gdb_reg *reg_table(bool is64, unsigned *n)
{
	*n = is64 ? NELEM(regs64) : NELEM(regs32);
	return is64 ? regs64 : regs32;
}

unsigned gdb_reg_count(bool is64)
{
	unsigned n;
	reg_table(is64, &n);
	return n;
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

static uint64_t reg_value(const struct cpu_state *s, const struct gdb_reg *r)
{
	const struct cpu_segment *segs[] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	switch (r->src) {
	case RS_GPR: return s->gpr[r->idx];
	case RS_RIP: return s->rip;
	case RS_RFLAGS: return s->rflags;
	case RS_SEL: return segs[r->idx < 6 ? r->idx : 0]->selector;
	case RS_FSBASE: return s->fs.base;
	case RS_GSBASE: return s->gs.base;
	case RS_CR0: return s->cr0;
	case RS_CR2: return s->cr2;
	case RS_CR3: return s->cr3;
	case RS_CR4: return s->cr4;
	case RS_EFER: return s->efer;
	default: return 0;
	}
}

size_t gdb_reg_hex(bool is64, unsigned i, const struct cpu_state *s, char *out)
{
	unsigned n;
	const struct gdb_reg *t = reg_table(is64, &n);
	if (i >= n)
		return 0;
	const struct gdb_reg *r = &t[i];
	uint64_t v = reg_value(s, r);
	unsigned bytes = r->bits / 8;
	for (unsigned k = 0; k < bytes; k++) {
		uint8_t b = k < 8 ? (uint8_t)(v >> (8 * k)) : 0;
		out[2 * k] = gdb_hexd[b >> 4];
		out[2 * k + 1] = gdb_hexd[b & 15];
	}
	return 2 * bytes;
}

size_t gdb_reg_parse(bool is64, unsigned i, struct cpu_state *s, const char *in, size_t avail,
		     bool *dirty)
{
	unsigned n;
	const struct gdb_reg *t = reg_table(is64, &n);
	if (i >= n)
		return 0;
	const struct gdb_reg *r = &t[i];
	unsigned bytes = r->bits / 8;
	if (avail < 2 * bytes)
		return 0;
	uint64_t v = 0;
	for (unsigned k = 0; k < bytes; k++) {
		int h = gdb_hexval(in[2 * k]), l = gdb_hexval(in[2 * k + 1]);
		if (h < 0 || l < 0) {
			if (in[2 * k] == 'x') /* "unavailable" */
				continue;
			return 0;
		}
		if (k < 8)
			v |= (uint64_t)(h << 4 | l) << (8 * k);
	}
	if (r->src == RS_SEL) {
		/* Only the selector is visible to gdb; the hidden part stays
		 * (writing a selector does not reload a descriptor). */
		seg_by_idx(s, r->idx)->selector = (uint16_t)v;
		*dirty = true;
	} else if (r->src != RS_ZERO) {
		uint64_t *p = reg_ptr(s, r);
		if (bytes < 8) /* 32-bit view: keep the upper half */
			v |= *p & ~((1ULL << (8 * bytes)) - 1);
		*p = v;
		*dirty = true;
	}
	return 2 * bytes;
}

/* ---- the XML ---- */

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

char *gdb_target_xml(bool is64)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	unsigned n;
	const struct gdb_reg *t = reg_table(is64, &n);
	xml_append(&b, &len, &cap,
		   "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		   "<target version=\"1.0\"><architecture>%s</architecture>",
		   is64 ? "i386:x86-64" : "i386");
	for (unsigned f = 0; f < NELEM(feature_names); f++) {
		if (f == F_SEGMENTS && !is64)
			continue;
		xml_append(&b, &len, &cap, "<feature name=\"%s\">", feature_names[f]);
		if (f == F_CORE) {
			/* EFLAGS bits, SDM vol 1 3.4.3. */
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
