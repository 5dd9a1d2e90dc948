/* elf64sym.c - "elf64": an ELF64 kernel entered at a named symbol in 64-bit
 * long mode, the way the 2013 bhyveosvload started OSv's loader.elf at
 * `start64`: PT_LOADs at their physical addresses, identity paging of the
 * first 4 GiB (cpu_setup_long), RBX = Multiboot 1 information at
 * LAYOUT_MBI (0x1000: mem_lower/upper, cmdline, mmap from ctx->e820,
 * modules), RSP = LAYOUT_STACK_TOP, IF = 0.  RAX carries
 * MULTIBOOT_BOOTLOADER_MAGIC so the info is recognisable as multiboot.
 *
 * Detection order 50: an ELF64 with a `start64` symbol (OSv's convention);
 * any other symbol with --entry-symbol NAME (the front end then asks for
 * this format by name). */
#include <inttypes.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/elf.h"
#include "boot/multiboot.h"
#include "mem/layout.h"
#include "util/err.h"

#define EM_X86_64 62

/* The symbol's physical address: symbols are virtual; OSv links vaddr ==
 * paddr, a higher-half image is translated through its PT_LOADs. */
static int symbol_entry(const struct elf_image *e, const char *symbol, uint64_t *entry)
{
	uint64_t v;
	int r = elf_find_symbol(e, symbol, &v);
	if (r < 0)
		return -1;
	if (r == 0)
		return nb_err("%s: no symbol '%s' in the ELF symbol table%s", e->path, symbol,
			      " (stripped image? name the entry with --entry-symbol)");
	uint64_t pa = v;
	bool in_seg = false;
	for (unsigned i = 0; i < e->nload; i++)
		if (v >= e->load[i].vaddr && v < e->load[i].vaddr + e->load[i].memsz) {
			pa = v - e->load[i].vaddr + e->load[i].paddr;
			in_seg = true;
			break;
		}
	if (!in_seg)
		return nb_err("%s: symbol '%s' = 0x%" PRIx64 " lies in no loaded segment", e->path,
			      symbol, v);
	if (pa >= LAYOUT_IDENTITY_MAP)
		return nb_err("%s: symbol '%s' at physical 0x%" PRIx64 " is beyond the identity-"
			      "mapped 4 GiB", e->path, symbol, pa);
	*entry = pa;
	return 0;
}

int elf64sym_boot(struct boot_ctx *ctx, const char *path, const uint8_t *data, size_t size,
		  const char *symbol, const char *cmdline)
{
	struct elf_image e;
	if (elf_parse(&e, path, data, size) < 0 || direct_check_segments(&e) < 0)
		return -1;
	if (!e.is64 || e.machine != EM_X86_64)
		return nb_err("%s: elf64 boot needs an ELF64 x86-64 image (this is ELF%d, machine "
			      "%u)", path, e.is64 ? 64 : 32, e.machine);
	if (e.hi_paddr > LAYOUT_IDENTITY_MAP)
		return nb_err("%s: ELF segments end at 0x%" PRIx64 ", beyond the identity-mapped "
			      "4 GiB", path, e.hi_paddr);
	uint64_t entry;
	if (symbol_entry(&e, symbol, &entry) < 0)
		return -1;
	if (elf_load(&e, ctx->mem, LAYOUT_HIGH_MEM) < 0)
		return -1;
	ctx->kernel_start = e.lo_paddr;
	ctx->kernel_end = e.hi_paddr;
	struct direct_modules mods;
	if (direct_load_modules(ctx, 0x100000000ULL, &mods) < 0)
		return -1;
	uint64_t cl;
	if (boot_put_cmdline(ctx, cmdline, LAYOUT_CMDLINE_MAX, &cl) < 0)
		return -1;
	if (multiboot_build_info(ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, cl, &mods, NULL) < 0)
		return -1;
	direct_log_map(ctx, "multiboot mmap at 0x1000");
	if (cpu_setup_long(ctx->cpu, ctx->mem) < 0)
		return -1;
	ctx->cpu->gpr[CPU_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	ctx->cpu->gpr[CPU_RBX] = LAYOUT_MBI;
	ctx->cpu->gpr[CPU_RSP] = LAYOUT_STACK_TOP;
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
	uint64_t entry;
	if (elf_parse(&e, path, data, size) < 0 || symbol_entry(&e, symbol, &entry) < 0) {
		fprintf(out, "entry: cannot boot: %s\n", nb_errmsg());
		return;
	}
	fprintf(out, "entry: symbol %s = physical 0x%" PRIx64 " in 64-bit long mode (identity "
		"paging of 4 GiB), RBX=multiboot info at 0x%llx, RSP=0x%llx\n", symbol, entry,
		(unsigned long long)LAYOUT_MBI, (unsigned long long)LAYOUT_STACK_TOP);
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
