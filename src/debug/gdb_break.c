/* gdb_break.c - breakpoints and watchpoints, armed with what the host
 * honours (struct gdb_host_caps) and served by single-stepping where it
 * does not; and the decision, at every stop, whether gdb hears of it.
 *
 * Why both mechanisms: a host's KVM may accept KVM_SET_GUEST_DEBUG and
 * still drop what it asked for (src/kvm/gdb_probe.c says which hosts and
 * why).  Where a mechanism works it is used, because it is free while the
 * guest runs; where it does not, the stub single-steps the guest and checks
 * after every instruction, which is exact but thousands of times slower.
 *
 *   Z0  host honours int3: an int3 is patched into guest memory through
 *       the guest's page tables; the original byte is kept by physical
 *       address and shown to gdb instead (m), and updated by gdb's writes
 *       (M).  The stop is a debug exit with exception 3 (VMX/SVM,
 *       KVM_GUESTDBG_USE_SW_BP) or, on kvm_pvm, an emulation failure the run
 *       loop hands over (GDB_STOP_INT3); either way RIP is at the int3.
 *       Otherwise: the linear RIP is compared after every single step; the
 *       address need not even be mapped yet.
 *   Z1  DR0-3 execute breakpoints where they fire, else as a stepped Z0.
 *   Z2/Z4  DR0-3 data breakpoints where they fire; else the stub steps and
 *       compares the watched bytes (writes only: Z4 then sees writes, and
 *       Z3, reads, is refused rather than accepted and never reported).
 *
 * Resuming from an address that holds one of our breakpoints, the stub
 * first steps over it with it taken out (the int3 byte restored, the DR
 * slot disabled), then puts it back: hosts differ in whether RF lets an
 * execute breakpoint pass, and an int3 would simply fire again.  A #BP at an
 * int3 that is not ours (the guest's own, e.g. Linux's text_poke) goes back
 * to the guest through KVM_GUESTDBG_INJECT_BP instead of to gdb. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "debug/gdbstub_int.h"
#include "mem/mem.h"

#define X86_OP_INT3 0xCC
#define X86_VEC_BP 3
/* DR6 B0-B3: which breakpoint matched (SDM vol 3B 19.2.3). */
#define X86_DR6_B0_3 0xFULL
/* DR7 (SDM vol 3B 19.2.4): L<i> at 2i, R/W<i> at 16+4i, LEN<i> at 18+4i;
 * GE (exact data breakpoints), bit 10 reserved as 1. */
#define X86_DR7_GE (1ULL << 9)
#define X86_DR7_FIXED1 (1ULL << 10)
#define X86_DR7_RW_EXEC 0u
#define X86_DR7_RW_WRITE 1u
#define X86_DR7_RW_RDWR 3u

uint64_t gdb_rip_linear(const struct cpu_state *s)
{
	bool l = (s->efer & X86_EFER_LMA) && s->cs.l;
	return l ? s->rip : ((s->cs.base + s->rip) & 0xFFFFFFFFULL);
}

/* ---- memory, with our int3 bytes hidden ---- */

static struct gdb_bp *patched_at_pa(struct gdbstub *g, uint64_t pa)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (g->bp[i].used && g->bp[i].patched && g->bp[i].pa == pa)
			return &g->bp[i];
	return NULL;
}

static struct gdb_bp *patched_at_lin(struct gdbstub *g, uint64_t lin)
{
	uint64_t pa;
	if (cpu_translate(g->t.mem, &g->st, lin, &pa, NULL) < 0)
		return NULL;
	return patched_at_pa(g, pa);
}

size_t gdb_mem_read(struct gdbstub *g, uint64_t lin, uint8_t *buf, size_t len)
{
	size_t done = cpu_read_linear(g->t.mem, &g->st, lin, buf, len);
	for (size_t i = 0; i < done; i++) {
		uint64_t pa;
		if (cpu_translate(g->t.mem, &g->st, lin + i, &pa, NULL) < 0)
			break;
		struct gdb_bp *b = patched_at_pa(g, pa);
		if (b)
			buf[i] = b->orig;
	}
	return done;
}

/* Writes over our int3 bytes update the saved byte and keep the int3. */
size_t gdb_mem_write(struct gdbstub *g, uint64_t lin, const uint8_t *buf, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		uint64_t pa;
		if (cpu_translate(g->t.mem, &g->st, lin + i, &pa, NULL) < 0)
			break;
		struct gdb_bp *b = patched_at_pa(g, pa);
		if (b) {
			b->orig = buf[i];
			continue;
		}
		if (mem_write8(g->t.mem, pa, buf[i]) < 0)
			break;
	}
	return i;
}

/* ---- the breakpoint table ---- */

static struct gdb_bp *bp_find(struct gdbstub *g, unsigned type, uint64_t lin)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (g->bp[i].used && g->bp[i].type == type && g->bp[i].lin == lin)
			return &g->bp[i];
	return NULL;
}

static struct gdb_bp *bp_free_slot(struct gdbstub *g)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (!g->bp[i].used)
			return &g->bp[i];
	return NULL;
}

static int bp_insert(struct gdbstub *g, unsigned type, uint64_t lin, bool patch)
{
	if (bp_find(g, type, lin))
		return 0;
	struct gdb_bp *b = bp_free_slot(g);
	if (!b)
		return -1;
	*b = (struct gdb_bp){ .lin = lin, .type = type };
	if (patch) {
		uint64_t pa;
		if (cpu_translate(g->t.mem, &g->st, lin, &pa, NULL) < 0)
			return -1;
		if (patched_at_pa(g, pa)) /* another alias of the same byte */
			return 0;
		if (mem_read8(g->t.mem, pa, &b->orig) < 0 || mem_write8(g->t.mem, pa, X86_OP_INT3) < 0)
			return -1;
		b->pa = pa;
		b->patched = true;
	}
	b->used = true;
	return 0;
}

static void bp_remove(struct gdbstub *g, struct gdb_bp *b)
{
	uint8_t cur;
	/* Restore only if our byte is still there (the guest may have
	 * rewritten its code meanwhile). */
	if (b->patched && mem_read8(g->t.mem, b->pa, &cur) == 0 && cur == X86_OP_INT3)
		mem_write8(g->t.mem, b->pa, b->orig);
	b->used = false;
	if (g->lifted == b)
		g->lifted = NULL;
}

static int dr_insert(struct gdbstub *g, unsigned type, uint64_t addr, unsigned len, bool soft)
{
	if (type == GDB_Z_HW)
		len = 1;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -1;
	if (addr & (len - 1)) /* DR breakpoints cover aligned ranges only */
		return -1;
	for (unsigned i = 0; i < GDB_NUM_DR; i++)
		if (g->dr[i].used && g->dr[i].addr == addr && g->dr[i].type == type)
			return 0;
	for (unsigned i = 0; i < GDB_NUM_DR; i++)
		if (!g->dr[i].used) {
			g->dr[i] = (struct gdb_dr){ .addr = addr, .type = type, .len = len,
						    .used = true, .soft = soft };
			return 0;
		}
	return -1; /* all four in use: gdb says it cannot insert one more */
}

static int dr_remove(struct gdbstub *g, unsigned type, uint64_t addr)
{
	for (unsigned i = 0; i < GDB_NUM_DR; i++)
		if (g->dr[i].used && g->dr[i].addr == addr && g->dr[i].type == type) {
			g->dr[i].used = false;
			return 0;
		}
	return -1;
}

int gdb_bp_insert(struct gdbstub *g, unsigned type, uint64_t addr, unsigned kind)
{
	const struct gdb_host_caps *c = &g->t.caps;
	switch (type) {
	case GDB_Z_SW:
		return bp_insert(g, GDB_Z_SW, addr, c->int3);
	case GDB_Z_HW:
		return c->hw_exec ? dr_insert(g, GDB_Z_HW, addr, 1, false)
				  : bp_insert(g, GDB_Z_HW, addr, false);
	case GDB_Z_READ:
		if (!c->hw_data)
			return -1; /* comparing memory cannot see a read */
		return dr_insert(g, type, addr, kind, false);
	case GDB_Z_WRITE:
	case GDB_Z_ACCESS:
		return dr_insert(g, type, addr, kind, !c->hw_data);
	default:
		return 1;
	}
}

int gdb_bp_remove(struct gdbstub *g, unsigned type, uint64_t addr)
{
	if (type > GDB_Z_ACCESS)
		return 1;
	if (type == GDB_Z_SW || (type == GDB_Z_HW && !g->t.caps.hw_exec)) {
		struct gdb_bp *b = bp_find(g, type, addr);
		if (!b)
			return -1;
		bp_remove(g, b);
		return 0;
	}
	return dr_remove(g, type, addr);
}

void gdb_bp_remove_all(struct gdbstub *g)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (g->bp[i].used)
			bp_remove(g, &g->bp[i]);
	memset(g->dr, 0, sizeof(g->dr));
	g->lifted = NULL;
}

bool gdb_bp_owns(const struct gdbstub *g, uint64_t lin)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (g->bp[i].used && g->bp[i].patched && g->bp[i].lin == lin)
			return true;
	return false;
}

/* A breakpoint served by stepping at linear address lin, or NULL. */
static const struct gdb_bp *stepped_at(const struct gdbstub *g, uint64_t lin)
{
	for (unsigned i = 0; i < GDB_MAX_BP; i++)
		if (g->bp[i].used && !g->bp[i].patched && g->bp[i].lin == lin)
			return &g->bp[i];
	return NULL;
}

/* Mask of DR execute breakpoints at linear address lin. */
static unsigned dr_exec_at(const struct gdbstub *g, uint64_t lin)
{
	unsigned m = 0;
	for (unsigned i = 0; i < GDB_NUM_DR; i++)
		if (g->dr[i].used && g->dr[i].type == GDB_Z_HW && g->dr[i].addr == lin)
			m |= 1u << i;
	return m;
}

/* Soft watchpoints: the first whose bytes changed since the last arm(). */
static int soft_watch_hit(struct gdbstub *g)
{
	for (unsigned i = 0; i < GDB_NUM_DR; i++) {
		struct gdb_dr *d = &g->dr[i];
		if (!d->used || !d->soft || !d->old_ok)
			continue;
		uint64_t v = 0;
		if (cpu_read_linear(g->t.mem, &g->st, d->addr, &v, d->len) == d->len && v != d->old)
			return (int)i;
	}
	return -1;
}

/* ---- arming ---- */

/* Build and arm the debug state for the next run.  step: one instruction
 * only (gdb's step or ours); skip_mask: DR slots left disabled for it. */
static int arm(struct gdbstub *g, bool step, unsigned skip_mask, bool inject_bp)
{
	struct gdb_debug d = { .single_step = step, .inject_bp = inject_bp };
	g->soft_stepping = false;
	for (unsigned i = 0; i < GDB_MAX_BP; i++) {
		if (!g->bp[i].used)
			continue;
		if (g->bp[i].patched)
			d.sw_bp = true;
		else
			g->soft_stepping = true;
	}
	for (unsigned i = 0; i < GDB_NUM_DR; i++) {
		struct gdb_dr *r = &g->dr[i];
		if (!r->used || (skip_mask & (1u << i)))
			continue;
		if (r->soft) {
			/* Compared after every step (soft_watch_hit). */
			uint64_t v = 0;
			r->old_ok = cpu_read_linear(g->t.mem, &g->st, r->addr, &v, r->len) == r->len;
			r->old = v;
			g->soft_stepping = true;
			continue;
		}
		unsigned rw = r->type == GDB_Z_HW      ? X86_DR7_RW_EXEC
			      : r->type == GDB_Z_WRITE ? X86_DR7_RW_WRITE
						       : X86_DR7_RW_RDWR;
		/* LEN: 00 1 byte, 01 2, 11 4, 10 8 bytes. */
		unsigned ln = r->len == 1 ? 0 : r->len == 2 ? 1 : r->len == 8 ? 2 : 3;
		d.dr[i] = r->addr;
		d.dr7 |= (1ULL << (2 * i)) | ((uint64_t)rw << (16 + 4 * i)) |
			 ((uint64_t)ln << (18 + 4 * i));
		d.hw_bp = true;
	}
	if (d.hw_bp)
		d.dr7 |= X86_DR7_GE | X86_DR7_FIXED1;
	if (g->soft_stepping)
		d.single_step = true;
	d.enable = d.single_step || d.sw_bp || d.hw_bp || d.inject_bp;
	return g->t.set_debug(g->t.ctx, g->cpu, &d);
}

int gdb_arm_resume(struct gdbstub *g, uint64_t rip_lin)
{
	unsigned at = dr_exec_at(g, rip_lin);
	struct gdb_bp *b = patched_at_lin(g, rip_lin);
	g->stepping_over = false;
	g->lifted = NULL;
	if (b) {
		/* Take our int3 out for one step; gdb_stop_filter puts it back. */
		if (mem_write8(g->t.mem, b->pa, b->orig) == 0)
			g->lifted = b;
	}
	if (g->stepping)
		return arm(g, true, at, false);
	if (at || g->lifted) {
		g->stepping_over = true;
		return arm(g, true, at, false);
	}
	return arm(g, false, 0, false);
}

int gdb_arm_plain(struct gdbstub *g)
{
	g->stepping = g->stepping_over = false;
	return arm(g, false, 0, false);
}

/* ---- stops ---- */

static void reason(struct gdbstub *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct gdbstub *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->last_reason, sizeof(g->last_reason), fmt, ap);
	va_end(ap);
}

static const char *watch_kind(unsigned type)
{
	return type == GDB_Z_WRITE ? "watch" : type == GDB_Z_READ ? "rwatch" : "awatch";
}

/* A #DB stop: what gdb's breakpoints and watchpoints say about it (the T
 * packet's reason; gdb manual "Stop Reply Packets").  True when one of
 * them explains the stop. */
static bool classify_db(struct gdbstub *g, const struct gdb_stop *why, uint64_t lin)
{
	int w = soft_watch_hit(g);
	if (w >= 0) {
		reason(g, "%s:%" PRIx64 ";", watch_kind(g->dr[w].type), g->dr[w].addr);
		return true;
	}
	for (unsigned i = 0; i < GDB_NUM_DR; i++) {
		if (!(why->dr6 & (1ULL << i)) || !g->dr[i].used || g->dr[i].soft)
			continue;
		if (g->dr[i].type == GDB_Z_HW)
			reason(g, "hwbreak:;");
		else
			reason(g, "%s:%" PRIx64 ";", watch_kind(g->dr[i].type), g->dr[i].addr);
		return true;
	}
	/* gdb's own step lands on a breakpoint before executing it: a step. */
	if (g->stepping)
		return false;
	const struct gdb_bp *b = stepped_at(g, lin);
	if (b) {
		reason(g, b->type == GDB_Z_HW ? "hwbreak:;" : "swbreak:;");
		return true;
	}
	/* Hosts that leave DR6 empty: an execute breakpoint at RIP. */
	if (dr_exec_at(g, lin)) {
		reason(g, "hwbreak:;");
		return true;
	}
	return false;
}

bool gdb_stop_filter(struct gdbstub *g, const struct gdb_stop *why)
{
	bool ours = g->stepping_over || g->soft_stepping;
	g->stepping_over = false;
	if (g->lifted) {
		/* The step off it is over (or was cut short): the int3 goes
		 * back.  A byte the guest wrote meanwhile becomes the saved one. */
		struct gdb_bp *b = g->lifted;
		g->lifted = NULL;
		uint8_t cur;
		if (b->used && mem_read8(g->t.mem, b->pa, &cur) == 0) {
			b->orig = cur;
			mem_write8(g->t.mem, b->pa, X86_OP_INT3);
		}
	}
	g->last_sig = GDB_SIGTRAP;
	g->last_reason[0] = '\0';
	uint64_t lin = gdb_rip_linear(&g->st);
	switch (why->kind) {
	case GDB_STOP_START:
		return false;
	case GDB_STOP_INTERRUPT:
		g->last_sig = GDB_SIGINT;
		return false;
	case GDB_STOP_INT3:
		reason(g, "swbreak:;");
		return false;
	case GDB_STOP_DEBUG:
		break;
	}
	if (why->exception == X86_VEC_BP) {
		if (gdb_bp_owns(g, lin)) {
			reason(g, "swbreak:;");
			return false;
		}
		/* Not ours: the guest's own int3 (KVM intercepts every #BP while
		 * USE_SW_BP is on).  Back to the guest, run on as before. */
		arm(g, g->stepping, 0, true);
		return true;
	}
	if (classify_db(g, why, lin))
		return false;
	if (!g->stepping && ours) {
		/* One of our steps, nothing hit: run on. */
		arm(g, false, 0, false);
		return true;
	}
	return false; /* gdb's step, or a #DB nobody explains: SIGTRAP */
}
