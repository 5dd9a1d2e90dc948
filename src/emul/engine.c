/* engine.c - run one guest instruction in libunicorn 2.0.1 (QEMU's TCG).
 *
 * Set-up dominates the cost of a completion (opening an engine takes about
 * as long as hundreds of instructions), so one unicorn instance per CPU mode
 * is opened once and reused; each completion only loads registers and maps
 * the pages the instruction touches that are not mapped yet.  What was
 * measured with 2.0.1 here and shaped this file:
 *  - unicorn does not walk page tables (it runs with paging off: virtual =
 *    physical), so the engine walks the guest's tables itself and, from an
 *    unmapped-memory hook, maps each 4 KiB virtual page the instruction
 *    touches onto the host memory of its guest-physical page;
 *  - without an end address unicorn translates a whole block after the
 *    instruction (hundreds of microseconds); "exits" at RIP+1..RIP+15 end the
 *    block after one instruction whatever its length (about 15 us);
 *  - mapping and unmapping pages costs ~150 us per completion (TLB flushes,
 *    retranslation), so pages stay mapped between completions and are
 *    re-walked first (a changed translation or permission drops the page);
 *  - unmapping a range invalidates the translations made from it, which is
 *    how code that changed at the same address is retranslated
 *    (uc_ctl_remove_cache and uc_mem_write do not invalidate in 2.0.1); a
 *    full TB flush would cost 25 ms and is never used;
 *  - segment hidden parts load only from a descriptor table in memory, so for
 *    32-bit code the engine writes descriptors equal to the guest's hidden
 *    parts into a scratch GDT page mapped only while the selectors load. */
#include <stdlib.h>
#include <string.h>
#include "emul/uc_dl.h" /* libunicorn, loaded on first use */

#include "cpu/pagewalk.h"
#include "emul/emul.h"
#include "mem/mem.h"
#include "util/err.h"

#define EMUL_MAX_PAGES 64  /* virtual pages kept mapped between completions */
#define EMUL_CODE_CACHE 4096
#define EMUL_MAX_STEPS (1u << 20) /* rep-string iterations before giving up */
#define SCRATCH_GDT_VA 0x0ULL

enum { UCM_32, UCM_64, UCM_N };

struct emul_page {
	uint64_t va, pa;
	uint64_t leaf;  /* guest-physical address of the leaf entry, 0 without paging */
	uint32_t prot;
	bool writable, dirty;
};

struct uc_inst {
	uc_engine *uc;
	/* Pages stay mapped between completions (mapping and unmapping cost
	 * ~150 us each time); every completion first re-walks them and drops
	 * the ones whose translation or permissions changed. */
	struct emul_page pages[EMUL_MAX_PAGES];
	unsigned npages;
	uint64_t ctx;  /* permission context the pages were mapped under */
	/* Bytes each RIP was translated from: unicorn does not see the guest
	 * rewrite its code, so a changed instruction drops its translation. */
	struct { uint64_t rip; uint8_t n, b[15]; } code[EMUL_CODE_CACHE];
	uint64_t cr0, cr4;      /* what was last written */
	uint64_t cr0_reset;     /* CR0 as unicorn opened it (PE, ET) */
	bool segs_valid;
	struct cpu_segment segs[6]; /* hidden parts last loaded (32-bit) */
	uint16_t sel[6];            /* the selectors they were loaded with */
};

struct emul_engine {
	struct uc_inst inst[UCM_N];
	bool fresh;
	uint8_t *gdt;   /* scratch GDT page */
	/* the completion in progress */
	struct guest_mem *mem;
	struct emul_vcpu *v;
	struct emul_result *r;
	struct uc_inst *cur;
	uint64_t start;
	unsigned steps;
	int intno;
	bool bits32;
};

static void unsupported(struct emul_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void unsupported(struct emul_result *r, const char *fmt, ...)
{
	if (r->status == EMUL_UNSUPPORTED && r->why[0])
		return; /* keep the first reason */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->status = EMUL_UNSUPPORTED;
}

static struct emul_page *page_find(struct emul_engine *e, uint64_t va)
{
	struct uc_inst *in = e->cur;
	for (unsigned i = 0; i < in->npages; i++)
		if (in->pages[i].va == va)
			return &in->pages[i];
	return NULL;
}

/* Unicorn permissions of the page at va as the guest's tables give them
 * (UC_PROT_NONE when it does not translate); *pa gets the physical page. */
static uint32_t page_prot(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
			  uint64_t *pa)
{
	struct cpu_walk w;
	*pa = ~0ULL;
	if (cpu_translate(m, s, va, pa, &w) < 0)
		return UC_PROT_NONE;
	*pa &= ~0xFFFULL;
	if (w.flags & CPU_WALK_NOPAGING)
		return UC_PROT_ALL;
	unsigned user = emul_cpl(s) == 3 ? CPU_ACCESS_USER : 0;
	uint32_t prot = UC_PROT_READ;
	if (cpu_walk_allows(s, &w, CPU_ACCESS_WRITE | user))
		prot |= UC_PROT_WRITE;
	if (!(w.flags & CPU_WALK_NX))
		prot |= UC_PROT_EXEC;
	return prot;
}

static void pages_drop(struct uc_inst *in, unsigned i)
{
	uc_mem_unmap(in->uc, in->pages[i].va, 0x1000);
	in->pages[i] = in->pages[--in->npages];
}

static void pages_flush(struct uc_inst *in)
{
	while (in->npages)
		pages_drop(in, in->npages - 1);
}

/* The permission context pages were mapped under: when it changes, every
 * mapping's rights may have (CPL, RFLAGS.AC with SMAP, CR0.WP, SMEP, NX). */
static uint64_t perm_ctx(const struct cpu_state *s)
{
	return emul_cpl(s) | (s->rflags & (1ULL << 18)) | (s->cr0 & X86_CR0_WP) |
	       (s->cr4 & (X86_CR4_SMAP | X86_CR4_SMEP | X86_CR4_PAE | X86_CR4_LA57)) |
	       (s->efer & X86_EFER_NXE) | (s->cr0 & X86_CR0_PG) | 1ULL << 63;
}

/* Keep the mappings the guest's tables still give; forget the rest. */
static void pages_revalidate(struct emul_engine *e, struct uc_inst *in)
{
	const struct cpu_state *s = &e->v->cpu;
	uint64_t ctx = perm_ctx(s);
	if (ctx != in->ctx || in->npages > EMUL_MAX_PAGES - 16) {
		pages_flush(in);
		in->ctx = ctx;
		return;
	}
	for (unsigned i = in->npages; i-- > 0;) {
		struct emul_page *pg = &in->pages[i];
		uint64_t pa;
		if (page_prot(e->mem, s, pg->va, &pa) != pg->prot || pa != pg->pa) {
			pages_drop(in, i);
			continue;
		}
		pg->dirty = pg->leaf == 0 || !pg->writable;
	}
}

/* Map the virtual page va for an access of the given kind; false after
 * recording the fault or the reason it cannot be done. */
static bool page_map(struct emul_engine *e, uc_engine *uc, uint64_t va, unsigned access)
{
	struct emul_result *r = e->r;
	const struct cpu_state *s = &e->v->cpu;
	struct uc_inst *in = e->cur;
	if (in->npages >= EMUL_MAX_PAGES) {
		unsupported(r, "instruction touches more than %d pages", EMUL_MAX_PAGES);
		return false;
	}
	uint64_t pa, leaf;
	if (emul_translate(e->mem, e->v, va, access, &pa, &leaf, r) < 0)
		return false;
	void *host = mem_ptr(e->mem, pa & ~0xFFFULL, 0x1000);
	if (!host) {
		unsupported(r, "linear 0x%llx is guest-physical 0x%llx, which is not RAM",
			    (unsigned long long)va, (unsigned long long)pa);
		return false;
	}
	/* The page's permissions for the rest of the instruction; a later
	 * access they refuse comes back through the protection hook. */
	uint64_t pa2;
	uint32_t prot = page_prot(e->mem, s, va, &pa2);
	uc_err err = uc_mem_map_ptr(uc, va, 0x1000, prot, host);
	if (err != UC_ERR_OK) {
		unsupported(r, "unicorn cannot map linear 0x%llx: %s", (unsigned long long)va,
			    uc_strerror(err));
		return false;
	}
	in->pages[in->npages++] = (struct emul_page){
		.va = va, .pa = pa & ~0xFFFULL, .leaf = leaf, .prot = prot,
		.writable = (prot & UC_PROT_WRITE) != 0,
		.dirty = leaf == 0 || (access & CPU_ACCESS_WRITE),
	};
	return true;
}

static unsigned access_of(uc_mem_type type)
{
	switch (type) {
	case UC_MEM_WRITE:
	case UC_MEM_WRITE_UNMAPPED:
	case UC_MEM_WRITE_PROT:
		return CPU_ACCESS_WRITE;
	case UC_MEM_FETCH:
	case UC_MEM_FETCH_UNMAPPED:
	case UC_MEM_FETCH_PROT:
		return CPU_ACCESS_EXEC;
	default:
		return 0;
	}
}

static bool hook_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
			 int64_t value, void *ud)
{
	struct emul_engine *e = ud;
	unsigned access = access_of(type);
	if (e->r->status != EMUL_DONE)
		return false;
	if (type == UC_MEM_WRITE_PROT || type == UC_MEM_READ_PROT || type == UC_MEM_FETCH_PROT) {
		/* Mapped, but the walk refused this kind of access: let the walk
		 * produce the #PF (P=1) with its error code. */
		uint64_t pa;
		if (emul_translate(e->mem, e->v, addr, access, &pa, NULL, e->r) == 0)
			unsupported(e->r, "unicorn refused an access the page tables allow");
		return false;
	}
	uint64_t last = addr + (uint64_t)(size > 0 ? size - 1 : 0);
	if (e->bits32)
		last &= 0xFFFFFFFFULL;
	for (uint64_t p = addr & ~0xFFFULL;; p += 0x1000) {
		if (e->bits32)
			p &= 0xFFFFFFFFULL;
		/* The first byte of the access in this page is where a #PF
		 * would report CR2. */
		uint64_t at = p < addr ? addr : p;
		if (!page_find(e, p) && !page_map(e, uc, p, access)) {
			if (e->r->status == EMUL_EXCEPTION && e->r->exc.vector == X86_VEC_PF)
				e->r->exc.cr2 = at;
			return false;
		}
		if (p == (last & ~0xFFFULL))
			break;
	}
	return true;
}

/* Writes set the leaf's Dirty bit, as the MMU does on the first write:
 * atomically, since another vCPU's page walk may set Accessed in the same
 * entry meanwhile. */
static void hook_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		       void *ud)
{
	struct emul_engine *e = ud;
	uint64_t last = addr + (uint64_t)(size > 0 ? size - 1 : 0);
	for (uint64_t p = addr & ~0xFFFULL; p <= (last & ~0xFFFULL); p += 0x1000) {
		struct emul_page *pg = page_find(e, p);
		if (!pg || pg->dirty || !pg->writable)
			continue;
		uint32_t *lo = (pg->leaf & 3) ? NULL : mem_ptr(e->mem, pg->leaf, 4);
		if (lo && !(__atomic_load_n(lo, __ATOMIC_RELAXED) & PTE_D))
			__atomic_fetch_or(lo, (uint32_t)PTE_D, __ATOMIC_SEQ_CST);
		pg->dirty = true;
	}
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	struct emul_engine *e = ud;
	e->intno = (int)intno;
	uc_emu_stop(uc);
}

/* Stop before anything but the one instruction runs: a branch target, or
 * the same instruction again after a bounded number of rep iterations. */
static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
	struct emul_engine *e = ud;
	if (addr != e->start || ++e->steps > EMUL_MAX_STEPS)
		uc_emu_stop(uc);
}

static void inst_close(struct uc_inst *in)
{
	if (in->uc)
		uc_close(in->uc);
	memset(in, 0, sizeof(*in));
}

static int inst_open(struct emul_engine *e, struct uc_inst *in, int which)
{
	uc_hook h;
	if (uc_dl_load() < 0)
		return -1;
	uc_err err = uc_open(UC_ARCH_X86, which == UCM_64 ? UC_MODE_64 : UC_MODE_32, &in->uc);
	if (err != UC_ERR_OK) {
		in->uc = NULL;
		return nb_err_internal("unicorn: uc_open: %s", uc_strerror(err));
	}
	if ((err = uc_hook_add(in->uc, &h, UC_HOOK_MEM_INVALID, hook_invalid, e, 1, 0)) ||
	    (err = uc_hook_add(in->uc, &h, UC_HOOK_MEM_WRITE, hook_write, e, 1, 0)) ||
	    (err = uc_hook_add(in->uc, &h, UC_HOOK_INTR, hook_intr, e, 1, 0)) ||
	    (err = uc_hook_add(in->uc, &h, UC_HOOK_CODE, hook_code, e, 1, 0)) ||
	    (err = uc_ctl_exits_enable(in->uc))) {
		inst_close(in);
		return nb_err_internal("unicorn: hooks: %s", uc_strerror(err));
	}
	uc_reg_read(in->uc, UC_X86_REG_CR0, &in->cr0_reset);
	in->cr0 = in->cr0_reset;
	uc_reg_read(in->uc, UC_X86_REG_CR4, &in->cr4);
	return 0;
}

int emul_engine_create(struct emul_engine **out)
{
	struct emul_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return nb_err_internal("emul: out of memory");
	e->gdt = aligned_alloc(0x1000, 0x1000);
	if (!e->gdt) {
		free(e);
		return nb_err_internal("emul: out of memory");
	}
	memset(e->gdt, 0, 0x1000);
	*out = e;
	return 0;
}

void emul_engine_destroy(struct emul_engine *e)
{
	if (!e)
		return;
	for (int i = 0; i < UCM_N; i++)
		inst_close(&e->inst[i]);
	free(e->gdt);
	free(e);
}

void emul_engine_set_fresh(struct emul_engine *e, bool fresh)
{
	e->fresh = fresh;
}

static uint64_t desc_of(const struct cpu_segment *s)
{
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t base = s->base & 0xFFFFFFFFULL;
	uint64_t access = (uint64_t)(s->type & 0xF) | (uint64_t)(s->s & 1) << 4 |
			  (uint64_t)(s->dpl & 3) << 5 | (uint64_t)(s->present & 1) << 7;
	uint64_t flags = (uint64_t)(s->avl & 1) | (uint64_t)(s->l & 1) << 1 |
			 (uint64_t)(s->db & 1) << 2 | (uint64_t)(s->g & 1) << 3;
	return (limit & 0xFFFFULL) | (base & 0xFFFFFFULL) << 16 | access << 40 |
	       (uint64_t)((limit >> 16) & 0xF) << 48 | flags << 52 | (base >> 24) << 56;
}

/* Load the guest's segment hidden parts into a 32-bit instance through a
 * scratch GDT holding descriptors equal to them, at the guest's own selector
 * values where those do not collide (so that a selector the instruction
 * changes can be told apart afterwards); then point GDTR at the guest's own
 * GDT, from which an instruction that loads a segment (iret, far jmp, mov to
 * a segment register) reads, as on the CPU. */
#define SCRATCH_OWN_SLOT 500 /* slots 500..505: for segments that collide */
static const int seg_regs[6] = { UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS,
				 UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS };

static void segs_of(const struct cpu_state *s, const struct cpu_segment *segs[6])
{
	segs[0] = &s->cs; segs[1] = &s->ss; segs[2] = &s->ds;
	segs[3] = &s->es; segs[4] = &s->fs; segs[5] = &s->gs;
}

static int load_segs32(struct emul_engine *e, struct uc_inst *in, const struct cpu_state *s)
{
	const struct cpu_segment *segs[6];
	segs_of(s, segs);
	uc_err err = UC_ERR_OK;
	bool same = in->segs_valid;
	for (int i = 0; i < 6 && same; i++)
		same = memcmp(&in->segs[i], segs[i], sizeof(struct cpu_segment)) == 0;
	if (!same) {
		uint64_t *gdt = (uint64_t *)e->gdt;
		memset(e->gdt, 0, 0x1000);
		for (int i = 0; i < 6; i++) {
			bool null = segs[i]->unusable || !segs[i]->present;
			uint16_t sel = segs[i]->selector;
			unsigned slot = sel >> 3;
			uint64_t d = desc_of(segs[i]);
			if (null && i >= 2) {
				in->sel[i] = 0; /* a null data selector is legal */
				continue;
			}
			if (slot == 0 || slot >= SCRATCH_OWN_SLOT || (sel & 4) ||
			    (gdt[slot] && gdt[slot] != d)) {
				slot = SCRATCH_OWN_SLOT + (unsigned)i;
				sel = (uint16_t)(slot << 3);
			}
			gdt[slot] = d;
			in->sel[i] = sel;
		}
		for (unsigned i = in->npages; i-- > 0;)
			if (in->pages[i].va == SCRATCH_GDT_VA)
				pages_drop(in, i);
		err = uc_mem_map_ptr(in->uc, SCRATCH_GDT_VA, 0x1000, UC_PROT_ALL, e->gdt);
		if (err)
			return -1;
		uc_x86_mmr gdtr = { .base = SCRATCH_GDT_VA, .limit = 0xFFF };
		err = uc_reg_write(in->uc, UC_X86_REG_GDTR, &gdtr);
		/* Data segments first while unicorn's CPL is 0, then SS and CS. */
		static const int order[6] = { 2, 3, 4, 5, 1, 0 };
		for (int k = 0; k < 6 && !err; k++) {
			uint32_t sel = in->sel[order[k]];
			err = uc_reg_write(in->uc, seg_regs[order[k]], &sel);
		}
		uc_mem_unmap(in->uc, SCRATCH_GDT_VA, 0x1000);
		if (err)
			return -1;
		for (int i = 0; i < 6; i++)
			in->segs[i] = *segs[i];
		in->segs_valid = true;
	}
	uc_x86_mmr gdtr = { .base = s->gdt.base & 0xFFFFFFFFULL, .limit = s->gdt.limit };
	err = uc_reg_write(in->uc, UC_X86_REG_GDTR, &gdtr);
	return err ? -1 : 0;
}

/* A selector the instruction changed: take the descriptor it loaded from the
 * guest's GDT (SDM vol. 3A, 3.4.5) into the guest's segment state. */
static void sync_segs32(struct emul_engine *e, struct uc_inst *in, struct emul_vcpu *v)
{
	struct cpu_state *s = &v->cpu;
	struct cpu_segment *segs[6] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	for (int i = 0; i < 6; i++) {
		uint64_t val = 0;
		if (uc_reg_read(in->uc, seg_regs[i], &val) != UC_ERR_OK)
			continue;
		uint16_t sel = (uint16_t)val;
		if (sel == in->sel[i])
			continue;
		in->segs_valid = false;
		struct cpu_segment *g = segs[i];
		struct emul_result tmp;
		memset(&tmp, 0, sizeof(tmp));
		uint64_t d = 0;
		if ((sel & ~3u) == 0) {
			*g = (struct cpu_segment){ .selector = sel, .unusable = 1 };
		} else if (!(sel & 4) && (sel | 7u) <= s->gdt.limit &&
			   emul_read_linear(e->mem, v, s->gdt.base + (sel & ~7u), &d, 8, 0, &tmp) == 0) {
			uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
			unsigned fl = (unsigned)(d >> 52) & 0xF;
			*g = (struct cpu_segment){
				.base = ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000ULL),
				.limit = (fl & 8) ? (limit << 12) | 0xFFF : limit,
				.selector = sel,
				.type = (uint8_t)((d >> 40) & 0xF), .s = (uint8_t)((d >> 44) & 1),
				.dpl = (uint8_t)((d >> 45) & 3), .present = (uint8_t)((d >> 47) & 1),
				.avl = (uint8_t)(fl & 1), .l = (uint8_t)((fl >> 1) & 1),
				.db = (uint8_t)((fl >> 2) & 1), .g = (uint8_t)((fl >> 3) & 1),
			};
		} else {
			continue; /* LDT selectors: keep what KVM had */
		}
		v->changed |= EMUL_CHANGED_SREGS;
	}
}

static const int gpr64[CPU_NGPR] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int gpr32[8] = {
	UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
	UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};

/* The flags an instruction may change that nobios takes back: status
 * flags, DF and AC (clac/stac).  IF, TF, IOPL and VM stay the guest's. */
#define RFLAGS_TAKEN 0x40CD5ULL
/* Opcodes that are invalid on every x86 CPU (ud0, ud1, ud2): unicorn's "invalid
 * instruction" for anything else may be a gap in unicorn, not in the CPU. */
static bool truly_invalid(const struct emul_insn *in)
{
	return in->map == 1 && (in->op == 0x0B || in->op == 0xB9 || in->op == 0xFF);
}

/* x87 registers between the FXSAVE image (ST(i) relative to TOP, abridged
 * tag byte: SDM vol. 1, 10.5.1) and unicorn (physical registers R0-R7, full
 * tag word).  Only for x87 instructions: every other kind leaves them. */
struct fp80 {
	uint64_t mantissa;
	uint16_t exponent;
} __attribute__((packed));

static uc_err x87_load(uc_engine *uc, const uint8_t *a)
{
	uint16_t fcw, fsw;
	memcpy(&fcw, a + FXSAVE_FCW, 2);
	memcpy(&fsw, a + FXSAVE_FSW, 2);
	uint64_t cw = fcw, sw = fsw, tag = 0;
	unsigned top = (fsw >> 11) & 7;
	for (unsigned i = 0; i < 8; i++)
		if (!(a[FXSAVE_FTW] & (1u << i)))
			tag |= 3ULL << (2 * i); /* empty */
	uc_err err = uc_reg_write(uc, UC_X86_REG_FPCW, &cw);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_FPSW, &sw);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_FPTAG, &tag);
	for (unsigned j = 0; j < 8 && !err; j++) {
		struct fp80 f;
		memcpy(&f, a + FXSAVE_ST0 + 16 * j, sizeof(f));
		err = uc_reg_write(uc, UC_X86_REG_FP0 + (int)((top + j) & 7), &f);
	}
	return err;
}

static bool x87_store(uc_engine *uc, uint8_t *a)
{
	uint64_t cw = 0, sw = 0, tag = 0;
	uc_reg_read(uc, UC_X86_REG_FPCW, &cw);
	uc_reg_read(uc, UC_X86_REG_FPSW, &sw);
	uc_reg_read(uc, UC_X86_REG_FPTAG, &tag);
	uint8_t img[FXSAVE_ST0 + 128];
	memcpy(img, a, sizeof(img));
	uint16_t fcw = (uint16_t)cw, fsw = (uint16_t)sw;
	memcpy(img + FXSAVE_FCW, &fcw, 2);
	memcpy(img + FXSAVE_FSW, &fsw, 2);
	uint8_t ftw = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((tag >> (2 * i)) & 3) != 3)
			ftw |= (uint8_t)(1u << i);
	img[FXSAVE_FTW] = ftw;
	unsigned top = (fsw >> 11) & 7;
	for (unsigned j = 0; j < 8; j++) {
		struct fp80 f = { 0, 0 };
		uc_reg_read(uc, UC_X86_REG_FP0 + (int)((top + j) & 7), &f);
		memcpy(img + FXSAVE_ST0 + 16 * j, &f, sizeof(f));
	}
	if (memcmp(img, a, sizeof(img)) == 0)
		return false;
	memcpy(a, img, sizeof(img));
	return true;
}

static bool is_x87(const struct emul_insn *insn)
{
	enum emul_kind k = emul_classify(insn);
	return k == EMUL_KIND_X87 || k == EMUL_KIND_FWAIT;
}

static int set_state(struct emul_engine *e, struct uc_inst *in, const struct emul_vcpu *v,
		     const struct emul_insn *insn, unsigned nxmm)
{
	const struct cpu_state *s = &v->cpu;
	uc_engine *uc = in->uc;
	uc_err err = UC_ERR_OK;
	if (!e->bits32) {
		for (int i = 0; i < CPU_NGPR && !err; i++)
			err = uc_reg_write(uc, gpr64[i], &s->gpr[i]);
		if (!err)
			err = uc_reg_write(uc, UC_X86_REG_FS_BASE, &s->fs.base);
		if (!err)
			err = uc_reg_write(uc, UC_X86_REG_GS_BASE, &s->gs.base);
	} else {
		if (load_segs32(e, in, s) < 0)
			return -1;
		for (int i = 0; i < 8 && !err; i++) {
			uint32_t r32 = (uint32_t)s->gpr[i];
			err = uc_reg_write(uc, gpr32[i], &r32);
		}
	}
	uint64_t fl = s->rflags & ~X86_RFLAGS_TF;
	if (!err)
		err = uc_reg_write(uc, e->bits32 ? UC_X86_REG_EFLAGS : UC_X86_REG_RFLAGS, &fl);
	/* CR0.TS/EM/MP decide #NM and #UD for SSE and x87; CR4.OSFXSR and
	 * OSXMMEXCPT whether SSE runs and how SIMD exceptions report.  Paging
	 * stays off in unicorn: the engine does the walking. */
	uint64_t cr0 = (in->cr0_reset & ~(X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE)) |
		       (s->cr0 & (X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE));
	if (!err && cr0 != in->cr0) {
		err = uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
		in->cr0 = cr0;
	}
	uint64_t cr4 = s->cr4 & (X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	if (!err && cr4 != in->cr4) {
		err = uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
		in->cr4 = cr4;
	}
	if (!v->fpu_valid)
		return err ? -1 : 0; /* an instruction that touches no SIMD state */
	for (unsigned i = 0; i < nxmm && !err; i++)
		err = uc_reg_write(uc, UC_X86_REG_XMM0 + (int)i, v->xsave + FXSAVE_XMM0 + 16 * i);
	uint32_t mxcsr;
	memcpy(&mxcsr, v->xsave + FXSAVE_MXCSR, 4);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr);
	if (!err && is_x87(insn))
		err = x87_load(uc, v->xsave);
	return err ? -1 : 0;
}

/* iret and popf set every flag the CPU lets them set. */
#define RFLAGS_ALL 0x3F7FD7ULL

static void get_state(struct emul_engine *e, struct uc_inst *in, struct emul_vcpu *v,
		      const struct emul_insn *insn, unsigned nxmm)
{
	struct cpu_state *s = &v->cpu;
	uc_engine *uc = in->uc;
	if (!e->bits32) {
		for (int i = 0; i < CPU_NGPR; i++)
			uc_reg_read(uc, gpr64[i], &s->gpr[i]);
		uc_reg_read(uc, UC_X86_REG_RIP, &s->rip);
	} else {
		for (int i = 0; i < 8; i++) {
			uint32_t r32 = 0;
			uc_reg_read(uc, gpr32[i], &r32);
			s->gpr[i] = r32;
		}
		uint32_t eip = 0;
		uc_reg_read(uc, UC_X86_REG_EIP, &eip);
		s->rip = eip;
	}
	uint64_t fl = 0;
	uc_reg_read(uc, e->bits32 ? UC_X86_REG_EFLAGS : UC_X86_REG_RFLAGS, &fl);
	uint64_t taken = insn->map == 0 && (insn->op == 0xCF || insn->op == 0x9D) ? RFLAGS_ALL
										  : RFLAGS_TAKEN;
	s->rflags = (s->rflags & ~taken) | (fl & taken) | X86_RFLAGS_FIXED;
	v->changed |= EMUL_CHANGED_REGS;
	if (e->bits32)
		sync_segs32(e, in, v);
	if (!v->fpu_valid)
		return;
	for (unsigned i = 0; i < nxmm; i++) {
		uint8_t x[16];
		uc_reg_read(uc, UC_X86_REG_XMM0 + (int)i, x);
		if (memcmp(x, v->xsave + FXSAVE_XMM0 + 16 * i, 16)) {
			memcpy(v->xsave + FXSAVE_XMM0 + 16 * i, x, 16);
			v->changed |= EMUL_CHANGED_FPU;
		}
	}
	uint32_t mxcsr = 0, old;
	uc_reg_read(uc, UC_X86_REG_MXCSR, &mxcsr);
	memcpy(&old, v->xsave + FXSAVE_MXCSR, 4);
	if (mxcsr != old) {
		memcpy(v->xsave + FXSAVE_MXCSR, &mxcsr, 4);
		v->changed |= EMUL_CHANGED_FPU;
	}
	uint64_t inuse = 0;
	if (v->changed & EMUL_CHANGED_FPU)
		inuse |= XCR0_SSE;
	if (is_x87(insn) && x87_store(uc, v->xsave)) {
		v->changed |= EMUL_CHANGED_FPU;
		inuse |= XCR0_X87;
	}
	if (inuse) {
		/* Those components are in use now (XINUSE, SDM 13.6). */
		uint64_t bv;
		memcpy(&bv, v->xsave + XSAVE_HDR_OFF, 8);
		bv |= inuse;
		memcpy(v->xsave + XSAVE_HDR_OFF, &bv, 8);
	}
}

/* Drop unicorn's translation of the instruction at rip when its bytes are
 * not known to be those it was translated from (the guest rewrote its code,
 * or another instruction now lives at that address).  Each translation
 * covers exactly one instruction (the exits end it).  uc_ctl_remove_cache
 * and uc_mem_write do not invalidate translations in 2.0.1 (measured);
 * unmapping the page does, so the code page is dropped and the fetch maps
 * it again. */
static void code_check(struct uc_inst *in, const struct emul_insn *insn, uint64_t rip)
{
	unsigned h = (unsigned)((rip ^ (rip >> 12)) % EMUL_CODE_CACHE);
	unsigned n = insn->n > 15 ? 15 : insn->n;
	if (in->code[h].rip == rip && in->code[h].n == n && memcmp(in->code[h].b, insn->b, n) == 0)
		return;
	for (unsigned i = in->npages; i-- > 0;)
		if (in->pages[i].va == (rip & ~0xFFFULL) ||
		    in->pages[i].va == ((rip + 15) & ~0xFFFULL))
			pages_drop(in, i);
	in->code[h].rip = rip;
	in->code[h].n = (uint8_t)n;
	memcpy(in->code[h].b, insn->b, n);
}

void emul_engine_run(struct emul_engine *e, struct guest_mem *m, struct emul_vcpu *v,
		     const struct emul_insn *insn, struct emul_result *r)
{
	const struct cpu_state *s = &v->cpu;
	enum cpu_mode mode = cpu_mode_of(s);
	int which;
	if (mode == CPU_MODE_LONG)
		which = UCM_64;
	else if (mode == CPU_MODE_PROT32 && s->cs.base == 0 && emul_cpl(s) == 0)
		which = UCM_32;
	else
		return unsupported(r, "%s mode%s is not supported by the completion engine",
				   cpu_mode_name(mode),
				   mode == CPU_MODE_PROT32 ? " with CS.base != 0 or CPL != 0" : "");
	struct uc_inst *in = &e->inst[which];
	if (e->fresh)
		inst_close(in);
	if (!in->uc && inst_open(e, in, which) < 0)
		return unsupported(r, "%s", nb_errmsg());
	e->mem = m;
	e->v = v;
	e->r = r;
	e->cur = in;
	e->intno = -1;
	e->steps = 0;
	e->bits32 = which == UCM_32;
	unsigned nxmm = e->bits32 ? 8 : 16;
	uint64_t start = e->bits32 ? (s->rip & 0xFFFFFFFFULL) : s->rip;
	e->start = start;
	r->status = EMUL_DONE;

	pages_revalidate(e, in);
	code_check(in, insn, start);
	if (set_state(e, in, v, insn, nxmm) < 0) {
		in->segs_valid = false;
		return unsupported(r, "unicorn refused the vCPU state (segments or registers)");
	}
	uint64_t exits[15];
	for (int i = 0; i < 15; i++)
		exits[i] = start + 1 + (uint64_t)i;
	uc_err err = uc_ctl_set_exits(in->uc, exits, 15);
	if (err == UC_ERR_OK)
		err = uc_emu_start(in->uc, start, 0, 0, 0);
	if (r->status != EMUL_DONE || e->intno >= 0 || err != UC_ERR_OK)
		in->segs_valid = false; /* unicorn may hold a half-loaded segment */
	if (r->status != EMUL_DONE)
		return; /* a #PF/#GP from the walk, or unsupported memory */
	if (e->intno >= 0) {
		uint8_t vec = (uint8_t)e->intno;
		bool has_err = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
		r->status = EMUL_EXCEPTION;
		r->exc = (struct emul_exception){ .vector = vec, .has_error = has_err };
		return;
	}
	if (err == UC_ERR_INSN_INVALID) {
		if (truly_invalid(insn)) {
			r->status = EMUL_EXCEPTION;
			r->exc = (struct emul_exception){ .vector = X86_VEC_UD };
			return;
		}
		return unsupported(r, "neither KVM nor unicorn 2.0.1 implements this instruction");
	}
	if (err != UC_ERR_OK)
		return unsupported(r, "unicorn: %s", uc_strerror(err));
	uint64_t rip_before = s->rip, rcx_before = s->gpr[CPU_RCX];
	get_state(e, in, v, insn, nxmm);
	if (v->cpu.rip != rip_before)
		return;
	/* A rep string instruction stopped after EMUL_MAX_STEPS iterations is
	 * in a state the CPU itself leaves on an interrupt (RCX, RSI, RDI
	 * advanced, RIP on the instruction): the guest resumes it. */
	bool rep_string = insn->map == 0 && !insn->vex && (insn->pf3 || insn->pf2) &&
			  ((insn->op >= 0xA4 && insn->op <= 0xA7) ||
			   (insn->op >= 0xAA && insn->op <= 0xAF) ||
			   (insn->op >= 0x6C && insn->op <= 0x6F));
	if (rep_string && v->cpu.gpr[CPU_RCX] != rcx_before)
		return;
	v->changed = 0;
	unsupported(r, "the instruction did not finish (a jump to itself?)");
}
