/* elf64sym.c - "elf64": an ELF64 kernel entered at a named symbol in 64-bit
 * long mode, the way the 2013 bhyveosvload started OSv's loader.elf at
 * `start64`, made right for kernels built today.
 *
 * OSv now links its code 1 GiB above where it loads (p_vaddr = p_paddr +
 * 0x40000000) and runs SSE code from its first instructions, so the entry
 * state is:
 * - PT_LOADs at their physical addresses, and mapped at their virtual ones
 *   (src/cpu/pagemap.h) on top of the identity map of the first 4 GiB: a
 *   virtual range inside [0, 4 GiB) replaces the identity map there, as
 *   OSv's own start-up tables do (identity below 1 GiB, kernel at 1-2 GiB).
 *   Refused: non-canonical ranges, PT_LOADs overlapping in virtual memory
 *   (or sharing a page they map differently), virtual and physical at
 *   different page offsets, a virtual range that would hide what the loader
 *   placed at its physical address (the boot area below 1 MiB, the kernel's
 *   own image, the modules), more page tables than LAYOUT_MAP_TABLES holds;
 * - cpu_setup_long_elf64: SSE usable (CR0.MP, CR4.OSFXSR|OSXMMEXCPT, XCR0 =
 *   x87|SSE), EFER.NXE, bhyveosvload's GDT (0x08 code64, 0x10 data, 0x18
 *   code32), IF = 0;
 * - RIP = the symbol's virtual address, RBX = Multiboot 1 information at
 *   LAYOUT_MBI (0x1000) with its E820 memory map at LAYOUT_ELF64_MMAP
 *   (0x1100) and the command line at LAYOUT_ELF64_CMDLINE (0x7E00), the
 *   places bhyveosvload used; RAX = MULTIBOOT_BOOTLOADER_MAGIC; RSP =
 *   LAYOUT_STACK_TOP; RBP = the physical address of the ELF header when a
 *   PT_LOAD holds it (bhyveosvload's RBP: OSv's start64 keeps it as
 *   `elf_header` and reads its own program headers through it), else 0.
 *
 * Detection order 50: an ELF64 with a `start64` symbol (OSv's convention);
 * any other symbol with --entry-symbol NAME (the front end then asks for
 * this format by name). */
#include "boot/elf64sym.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "boot/direct.h"
#include "boot/elf.h"
#include "boot/multiboot.h"
#include "cpu/pagemap.h"
#include "mem/layout.h"
#include "util/err.h"

#define EM_X86_64    62
#define EHDR64_SIZE  64
#define PAGE_MASK_4K (CPU_PAGE_4K - 1)

/* One PT_LOAD as the entry's page tables see it. */
struct vmap {
	unsigned seg;                /* PT_LOAD index, for messages */
	uint64_t vaddr, paddr, len;  /* p_vaddr, p_paddr, p_memsz */
	bool identity;               /* p_vaddr == p_paddr: the identity map has it */
};
struct vmap_plan {
	struct vmap m[ELF_MAX_SEGMENTS];
	unsigned n;
};

static uint64_t first_page(uint64_t a) { return a & ~PAGE_MASK_4K; }
static uint64_t last_page(uint64_t a, uint64_t len) { return (a + (len - 1)) & ~PAGE_MASK_4K; }

/* [a, a+alen) and [b, b+blen) intersect (lengths > 0, no wrap: elf_parse). */
static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Everything about the mappings that the file alone decides. */
static int plan_mappings(const struct elf_image *e, struct vmap_plan *p)
{
	p->n = 0;
	for (unsigned i = 0; i < e->nload; i++) {
		const struct elf_segment *s = &e->load[i];
		if (s->memsz == 0)
			continue;
		uint64_t last = s->vaddr + (s->memsz - 1);
		if (!cpu_va_canonical(s->vaddr) || !cpu_va_canonical(last) || (s->vaddr ^ last) >> 63)
			return nb_err("%s: PT_LOAD %u: virtual range [0x%" PRIx64 ", 0x%" PRIx64
				      "] is not canonical (4-level paging needs bits 63-47 of every "
				      "address equal)", e->path, i, s->vaddr, last);
		if ((s->vaddr ^ s->paddr) & PAGE_MASK_4K)
			return nb_err("%s: PT_LOAD %u: p_vaddr 0x%" PRIx64 " and p_paddr 0x%" PRIx64
				      " differ in their offset within a 4 KiB page: no page mapping "
				      "joins them", e->path, i, s->vaddr, s->paddr);
		p->m[p->n++] = (struct vmap){ .seg = i, .vaddr = s->vaddr, .paddr = s->paddr,
					      .len = s->memsz,
					      .identity = s->vaddr == s->paddr &&
							  last < LAYOUT_IDENTITY_MAP };
	}
	for (unsigned i = 0; i < p->n; i++)
		for (unsigned j = i + 1; j < p->n; j++) {
			const struct vmap *a = &p->m[i], *b = &p->m[j];
			if (ranges_meet(a->vaddr, a->len, b->vaddr, b->len))
				return nb_err("%s: PT_LOAD %u [0x%" PRIx64 ", 0x%" PRIx64 ") and PT_LOAD %u "
					      "[0x%" PRIx64 ", 0x%" PRIx64 ") overlap in virtual memory",
					      e->path, a->seg, a->vaddr, a->vaddr + a->len, b->seg,
					      b->vaddr, b->vaddr + b->len);
			/* Neighbours may share a page only if they put it at the
			 * same physical page. */
			uint64_t a0 = first_page(a->vaddr), a1 = last_page(a->vaddr, a->len);
			uint64_t b0 = first_page(b->vaddr), b1 = last_page(b->vaddr, b->len);
			if (a0 <= b1 && b0 <= a1 && a->vaddr - a->paddr != b->vaddr - b->paddr)
				return nb_err("%s: PT_LOAD %u and PT_LOAD %u share the 4 KiB page at "
					      "virtual 0x%" PRIx64 " but put it at different physical "
					      "addresses", e->path, a->seg, b->seg, a0 > b0 ? a0 : b0);
		}
	return 0;
}

/* A virtual range in [0, 4 GiB) replaces the identity map there; refuse it
 * where the identity map must keep [lo, lo+len) (something the loader
 * placed) reachable at its physical address. */
static int plan_keep(const struct elf_image *e, const struct vmap_plan *p, uint64_t lo,
		     uint64_t len, const char *what)
{
	if (len == 0)
		return 0;
	for (unsigned i = 0; i < p->n; i++) {
		const struct vmap *v = &p->m[i];
		uint64_t v0 = first_page(v->vaddr), vlen = last_page(v->vaddr, v->len) - v0 +
							   CPU_PAGE_4K;
		if (v->identity || !ranges_meet(v0, vlen, lo, len))
			continue;
		return nb_err("%s: PT_LOAD %u at virtual [0x%" PRIx64 ", 0x%" PRIx64 ") would hide "
			      "%s at [0x%" PRIx64 ", 0x%" PRIx64 "), which the identity map must "
			      "keep at its physical address", e->path, v->seg, v->vaddr,
			      v->vaddr + v->len, what, lo, lo + len);
	}
	return 0;
}

static int plan_keep_image(const struct elf_image *e, const struct vmap_plan *p)
{
	if (plan_keep(e, p, 0, LAYOUT_HIGH_MEM, "the boot area below 1 MiB (GDT, boot "
		      "information, stack, page tables)") < 0)
		return -1;
	for (unsigned i = 0; i < p->n; i++) {
		char what[48];
		snprintf(what, sizeof(what), "PT_LOAD %u's physical image", p->m[i].seg);
		if (plan_keep(e, p, p->m[i].paddr, p->m[i].len, what) < 0)
			return -1;
	}
	return 0;
}

/* Write the mappings into the tables at LAYOUT_PML4 (the identity map must
 * be there already).  per[i] gets mapping i's share; *area what is left. */
static int build_mappings(struct guest_mem *m, const struct elf_image *e,
			  const struct vmap_plan *p, struct cpu_map_stats *per,
			  struct cpu_pt_area *area)
{
	cpu_pt_area_init(area, LAYOUT_MAP_TABLES, LAYOUT_MAP_TABLES_END);
	for (unsigned i = 0; i < p->n; i++) {
		memset(&per[i], 0, sizeof(per[i]));
		if (p->m[i].identity)
			continue;
		if (cpu_map_range(m, LAYOUT_PML4, area, p->m[i].vaddr, p->m[i].paddr, p->m[i].len,
				  &per[i]) < 0) {
			nb_err_prefix("%s: PT_LOAD %u", e->path, p->m[i].seg);
			return -1;
		}
	}
	return 0;
}

/* bhyveosvload's RBP: where the file's first bytes (the ELF header) lie in
 * guest memory, if a PT_LOAD loads them; else 0. */
static uint64_t elf_header_paddr(const struct elf_image *e)
{
	for (unsigned i = 0; i < e->nload; i++)
		if (e->load[i].offset == 0 && e->load[i].filesz >= EHDR64_SIZE)
			return e->load[i].paddr;
	return 0;
}

/* The symbol's (virtual) address; it must lie in a loaded segment. */
static int symbol_entry(const struct elf_image *e, const char *symbol, uint64_t *entry)
{
	uint64_t v;
	int r = elf_find_symbol(e, symbol, &v);
	if (r < 0)
		return -1;
	if (r == 0)
		return nb_err("%s: no symbol '%s' in the ELF symbol table%s", e->path, symbol,
			      " (stripped image? name the entry with --entry-symbol)");
	for (unsigned i = 0; i < e->nload; i++)
		if (v >= e->load[i].vaddr && v - e->load[i].vaddr < e->load[i].memsz) {
			*entry = v;
			return 0;
		}
	return nb_err("%s: symbol '%s' = 0x%" PRIx64 " lies in no loaded segment", e->path, symbol,
		      v);
}

/* Parse and check everything the file decides: 0 or -1 with nb_err. */
static int elf64_image(struct elf_image *e, const char *path, const uint8_t *data, size_t size,
		       struct vmap_plan *plan)
{
	plan->n = 0;
	if (elf_parse(e, path, data, size) < 0 || direct_check_segments(e) < 0)
		return -1;
	if (!e->is64 || e->machine != EM_X86_64)
		return nb_err("%s: elf64 boot needs an ELF64 x86-64 image (this is ELF%d, machine "
			      "%u)", path, e->is64 ? 64 : 32, e->machine);
	if (e->hi_paddr > LAYOUT_IDENTITY_MAP)
		return nb_err("%s: ELF segments end at 0x%" PRIx64 ", beyond the identity-mapped "
			      "4 GiB", path, e->hi_paddr);
	return plan_mappings(e, plan) < 0 || plan_keep_image(e, plan) < 0 ? -1 : 0;
}

/* bhyveosvload's place for the command line is 0x7E00, below the stack;
 * one too long for that goes to LAYOUT_CMDLINE (mbi.cmdline says where). */
static int put_cmdline(struct boot_ctx *ctx, const char *cmdline, uint64_t *gpa)
{
	if (!cmdline)
		cmdline = "";
	size_t len = strlen(cmdline) + 1;
	if (len <= LAYOUT_STACK_BOTTOM - LAYOUT_ELF64_CMDLINE) {
		*gpa = LAYOUT_ELF64_CMDLINE;
		return mem_copy_in(ctx->mem, LAYOUT_ELF64_CMDLINE, cmdline, len);
	}
	if (ctx->log)
		fprintf(ctx->log, "nobios: command line of %zu bytes does not fit at 0x%llx: placed "
			"at 0x%llx\n", len - 1, (unsigned long long)LAYOUT_ELF64_CMDLINE,
			(unsigned long long)LAYOUT_CMDLINE);
	return boot_put_cmdline(ctx, cmdline, LAYOUT_CMDLINE_MAX, gpa);
}

static void log_mappings(FILE *out, const char *indent, const struct vmap_plan *p,
			 const struct cpu_map_stats *per, const struct cpu_pt_area *area)
{
	unsigned tables = 0;
	for (unsigned i = 0; i < p->n; i++) {
		const struct vmap *v = &p->m[i];
		if (v->identity) {
			fprintf(out, "%sPT_LOAD %u: virtual = physical [0x%" PRIx64 ", 0x%" PRIx64
				"): in the identity map\n", indent, v->seg, v->vaddr, v->vaddr + v->len);
			continue;
		}
		tables += per[i].tables;
		fprintf(out, "%sPT_LOAD %u: virtual [0x%" PRIx64 ", 0x%" PRIx64 ") -> physical 0x%"
			PRIx64 ": %" PRIu64 " x 2 MiB + %" PRIu64 " x 4 KiB pages%s\n", indent, v->seg,
			v->vaddr, v->vaddr + v->len, v->paddr, per[i].pages_2m, per[i].pages_4k,
			v->vaddr < LAYOUT_IDENTITY_MAP ? " (replacing the identity map there)" : "");
	}
	fprintf(out, "%spage tables: %u of %llu pages at [0x%llx, 0x%llx)\n", indent, tables,
		(unsigned long long)((area->end - area->base) / CPU_PAGE_4K),
		(unsigned long long)area->base, (unsigned long long)area->end);
}

int elf64sym_boot(struct boot_ctx *ctx, const char *path, const uint8_t *data, size_t size,
		  const char *symbol, const char *cmdline)
{
	struct elf_image e;
	struct vmap_plan plan;
	uint64_t entry;
	if (elf64_image(&e, path, data, size, &plan) < 0 || symbol_entry(&e, symbol, &entry) < 0)
		return -1;
	if (elf_load(&e, ctx->mem, LAYOUT_HIGH_MEM) < 0)
		return -1;
	ctx->kernel_start = e.lo_paddr;
	ctx->kernel_end = e.hi_paddr;
	struct direct_modules mods;
	if (direct_load_modules(ctx, 0x100000000ULL, &mods) < 0)
		return -1;
	for (unsigned i = 0; i < mods.n; i++) {
		char what[300];
		snprintf(what, sizeof(what), "module %u (%s)", i, mods.m[i].path);
		if (plan_keep(&e, &plan, mods.m[i].addr, mods.m[i].size, what) < 0)
			return -1;
	}
	uint64_t cl;
	if (put_cmdline(ctx, cmdline, &cl) < 0)
		return -1;
	if (multiboot_build_info_at(ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, LAYOUT_ELF64_MMAP, cl, &mods,
				    NULL) < 0)
		return -1;
	direct_log_map(ctx, "multiboot mmap at 0x1100");
	if (cpu_setup_long_elf64(ctx->cpu, ctx->mem) < 0)
		return -1;
	struct cpu_map_stats per[ELF_MAX_SEGMENTS];
	struct cpu_pt_area area;
	if (build_mappings(ctx->mem, &e, &plan, per, &area) < 0)
		return -1;
	if (ctx->log) {
		fprintf(ctx->log, "nobios: %s: page tables: identity map of 4 GiB at 0x%llx, and:\n",
			path, (unsigned long long)LAYOUT_PML4);
		log_mappings(ctx->log, "nobios:   ", &plan, per, &area);
	}
	ctx->cpu->gpr[CPU_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	ctx->cpu->gpr[CPU_RBX] = LAYOUT_MBI;
	ctx->cpu->gpr[CPU_RSP] = LAYOUT_STACK_TOP;
	ctx->cpu->gpr[CPU_RBP] = elf_header_paddr(&e);
	ctx->cpu->rip = entry;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "64-bit long mode at %s = 0x%" PRIx64 ", RBX=0x%llx (multiboot info)", symbol,
		 entry, (unsigned long long)LAYOUT_MBI);
	return 0;
}

void elf64sym_inspect_symbol(const char *path, const uint8_t *data, size_t size,
			     const char *symbol, FILE *out)
{
	struct elf_image e;
	struct vmap_plan plan;
	uint64_t entry, pa = 0;
	if (elf64_image(&e, path, data, size, &plan) < 0 || symbol_entry(&e, symbol, &entry) < 0) {
		fprintf(out, "entry: cannot boot: %s\n", nb_errmsg());
		return;
	}
	elf_vaddr_to_paddr(&e, entry, &pa);
	fprintf(out, "entry: symbol %s = 0x%" PRIx64 " (physical 0x%" PRIx64 ") in 64-bit long "
		"mode, SSE on, RBX=multiboot info at 0x%llx (mmap 0x%llx, cmdline 0x%llx), "
		"RSP=0x%llx, RBP=0x%" PRIx64 " (ELF header)\n", symbol, entry, pa,
		(unsigned long long)LAYOUT_MBI, (unsigned long long)LAYOUT_ELF64_MMAP,
		(unsigned long long)LAYOUT_ELF64_CMDLINE, (unsigned long long)LAYOUT_STACK_TOP,
		elf_header_paddr(&e));
	/* Build the tables for real, in a scratch copy of low memory, so what
	 * is shown (and refused) is what a boot would do. */
	struct guest_mem scratch;
	void *buf = calloc(1, LAYOUT_HIGH_MEM);
	if (!buf || mem_init_buf(&scratch, buf, LAYOUT_HIGH_MEM) < 0) {
		free(buf);
		fprintf(out, "page tables: cannot build (out of memory)\n");
		return;
	}
	struct cpu_map_stats per[ELF_MAX_SEGMENTS];
	struct cpu_pt_area area;
	if (cpu_build_identity_map(&scratch, LAYOUT_PML4, LAYOUT_IDENTITY_MAP) < 0 ||
	    build_mappings(&scratch, &e, &plan, per, &area) < 0) {
		fprintf(out, "page tables: cannot boot: %s\n", nb_errmsg());
	} else {
		fprintf(out, "page tables: identity map of [0, 4 GiB) at 0x%llx, and:\n",
			(unsigned long long)LAYOUT_PML4);
		log_mappings(out, "  ", &plan, per, &area);
	}
	nb_err_clear();
	free(buf);
}

static int elf64sym_probe(const struct boot_file *f, char *why, size_t whylen)
{
	struct elf_image e;
	if (!elf_is_elf(f->data, f->size)) {
		snprintf(why, whylen, "not an ELF file");
		return 0;
	}
	if (elf_parse(&e, f->path, f->data, f->size) < 0) {
		snprintf(why, whylen, "ELF file, but unusable: %s", nb_errmsg());
		nb_err_clear();
		return 0;
	}
	if (!e.is64) {
		snprintf(why, whylen, "ELF32, not ELF64");
		return 0;
	}
	uint64_t v;
	int r = elf_find_symbol(&e, ELF64SYM_DEFAULT_SYMBOL, &v);
	nb_err_clear();
	if (r != 1) {
		snprintf(why, whylen, "ELF64 without a '%s' symbol (name another entry with "
			 "--entry-symbol)", ELF64SYM_DEFAULT_SYMBOL);
		return 0;
	}
	snprintf(why, whylen, "ELF64 with symbol %s = 0x%" PRIx64 " (OSv-style entry)",
		 ELF64SYM_DEFAULT_SYMBOL, v);
	return 1;
}

static int elf64sym_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	const char *sym = ctx->cfg->entry_symbol ? ctx->cfg->entry_symbol : ELF64SYM_DEFAULT_SYMBOL;
	return elf64sym_boot(ctx, f->path, f->data, f->size, sym, ctx->cfg->cmdline);
}

static int elf64sym_inspect(const struct boot_file *f, FILE *out)
{
	direct_inspect_elf(f, out);
	elf64sym_inspect_symbol(f->path, f->data, f->size, ELF64SYM_DEFAULT_SYMBOL, out);
	return 0;
}

static const struct boot_format elf64sym_format = {
	.name = "elf64",
	.order = 50,
	.summary = "ELF64 entered at a named symbol in long mode (OSv start64), mbi in RBX",
	.probe = elf64sym_probe,
	.load = elf64sym_load,
	.inspect = elf64sym_inspect,
};
BOOT_FORMAT(elf64sym_format);
