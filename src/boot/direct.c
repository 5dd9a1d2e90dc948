/* direct.c - what the direct-boot formats (multiboot, multiboot2, pvh, elf64,
 * osv) share: PT_LOAD overlap checks and the ELF description `inspect`
 * prints, module placement, strings in a boot-information area, and the
 * memory-map log line.  One file named for its job, so the formats depend
 * on it and not on each other. */
#include "boot/direct.h"

#include <inttypes.h>
#include <string.h>

#include "boot/elf.h"
#include "mem/layout.h"
#include "util/err.h"

#define PAGE_SIZE 4096ULL
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

int direct_put_str(struct guest_mem *m, uint64_t *cur, uint64_t end, const char *s,
		   uint64_t *gpa)
{
	size_t len = strlen(s) + 1;
	if (*cur > end || end - *cur < len)
		return nb_err("boot information area full at 0x%" PRIx64 " (string of %zu bytes)",
			      *cur, len);
	if (mem_copy_in(m, *cur, s, len))
		return -1;
	*gpa = *cur;
	*cur += len;
	return 0;
}

int direct_load_modules(struct boot_ctx *ctx, uint64_t limit, struct direct_modules *mods)
{
	const struct boot_config *cfg = ctx->cfg;
	struct boot_file files[BOOT_MAX_MODULES + 1];
	unsigned n = 0;
	int rc = -1;
	memset(mods, 0, sizeof(*mods));
	if (cfg->nmodules > BOOT_MAX_MODULES)
		return nb_err("--module: %u modules, at most %d", cfg->nmodules, BOOT_MAX_MODULES);
	if (cfg->initrd) {
		mods->m[n].path = cfg->initrd;
		mods->m[n].cmdline = NULL;
		n++;
	}
	for (unsigned i = 0; i < cfg->nmodules; i++, n++) {
		mods->m[n].path = cfg->modules[i].path;
		mods->m[n].cmdline = cfg->modules[i].cmdline;
	}
	if (n == 0)
		return 0;
	uint64_t total = 0;
	unsigned opened = 0;
	for (unsigned i = 0; i < n; i++, opened++) {
		if (boot_file_open(&files[i], mods->m[i].path, ctx->mem->size) < 0) {
			nb_err_prefix("%s", i == 0 && cfg->initrd ? "--initrd" : "--module");
			goto out;
		}
		mods->m[i].size = files[i].size;
		total += ALIGN_UP(files[i].size, PAGE_SIZE);
	}
	uint64_t lo = ALIGN_UP(ctx->kernel_end > LAYOUT_HIGH_MEM ? ctx->kernel_end : LAYOUT_HIGH_MEM,
			       PAGE_SIZE);
	uint64_t hi = mem_low_top(ctx->mem) < limit ? mem_low_top(ctx->mem) : limit;
	uint64_t base;
	if (boot_place_high(ctx, total, lo, hi, PAGE_SIZE, &base) < 0) {
		nb_err("modules: %u module(s) of %" PRIu64 " bytes (page aligned) do not fit in "
		       "guest RAM between the kernel end 0x%" PRIx64 " and 0x%" PRIx64, n, total, lo,
		       hi);
		goto out;
	}
	/* One block, modules in command-line order: module i+1 follows module i
	 * on the next page boundary. */
	for (unsigned i = 0; i < n; i++) {
		mods->m[i].addr = base;
		if (mem_copy_in(ctx->mem, base, files[i].data, files[i].size) < 0)
			goto out;
		base += ALIGN_UP(files[i].size, PAGE_SIZE);
	}
	mods->n = n;
	if (cfg->initrd) {
		ctx->initrd_addr = mods->m[0].addr;
		ctx->initrd_size = mods->m[0].size;
	}
	rc = 0;
out:
	for (unsigned i = 0; i < opened; i++)
		boot_file_close(&files[i]);
	return rc;
}

int direct_check_segments(const struct elf_image *e)
{
	for (unsigned i = 0; i < e->nload; i++)
		for (unsigned j = i + 1; j < e->nload; j++) {
			const struct elf_segment *a = &e->load[i], *b = &e->load[j];
			if (a->memsz && b->memsz && a->paddr < b->paddr + b->memsz &&
			    b->paddr < a->paddr + a->memsz)
				return nb_err("%s: PT_LOAD segments overlap: [0x%" PRIx64 ", 0x%" PRIx64
					      ") and [0x%" PRIx64 ", 0x%" PRIx64 ")", e->path, a->paddr,
					      a->paddr + a->memsz, b->paddr, b->paddr + b->memsz);
		}
	return 0;
}

void direct_log_map(const struct boot_ctx *ctx, const char *what)
{
	if (!ctx->log)
		return;
	fprintf(ctx->log, "nobios: %s, %u entries (from the E820 map):\n", what, ctx->e820.n);
	for (unsigned i = 0; i < ctx->e820.n; i++)
		fprintf(ctx->log, "nobios:   %016" PRIx64 " - %016" PRIx64 "  (%" PRIu32 ") %s\n",
			ctx->e820.e[i].addr, ctx->e820.e[i].addr + ctx->e820.e[i].size,
			ctx->e820.e[i].type, e820_type_name(ctx->e820.e[i].type));
}

static const char *xen_note_name(uint32_t type)
{
	/* xen/include/public/elfnote.h */
	static const char *const n[] = {
		"INFO", "ENTRY", "HYPERCALL_PAGE", "VIRT_BASE", "PADDR_OFFSET", "XEN_VERSION",
		"GUEST_OS", "GUEST_VERSION", "LOADER", "PAE_MODE", "FEATURES", "BSD_SYMTAB",
		"HV_START_LOW", "L1_MFN_VALID", "SUSPEND_CANCEL", "INIT_P2M", "MOD_START_PFN",
		"SUPPORTED_FEATURES", "PHYS32_ENTRY",
	};
	return type < sizeof(n) / sizeof(n[0]) ? n[type] : "?";
}

static void print_desc(FILE *out, const uint8_t *d, size_t len)
{
	/* text: printable, optionally NUL-terminated (Xen's FEATURES is not) */
	size_t tl = len > 0 && d[len - 1] == 0 ? len - 1 : len;
	bool text = tl > 0 && len > 8;
	if (len > 0 && d[len - 1] == 0)
		text = tl > 0;
	for (size_t i = 0; text && i < tl; i++)
		if (d[i] < 0x20 || d[i] > 0x7E)
			text = false;
	if (text) {
		fprintf(out, "\"%.*s\"", (int)(tl > 60 ? 60 : tl), (const char *)d);
	} else if (len == 4 || len == 8) {
		uint64_t v = 0;
		for (size_t i = 0; i < len; i++)
			v |= (uint64_t)d[i] << (8 * i);
		fprintf(out, "0x%" PRIx64, v);
	} else {
		for (size_t i = 0; i < len && i < 20; i++)
			fprintf(out, "%02x", d[i]);
		if (len > 20)
			fprintf(out, "...");
	}
}

#define XEN_NOTE_LAST 18 /* XEN_ELFNOTE_PHYS32_ENTRY */
#define NT_GNU_BUILD_ID 3

struct one_note {
	bool found;
	const uint8_t *desc;
	size_t len;
};

struct seen_notes {
	struct one_note xen[XEN_NOTE_LAST + 1];
	struct one_note build_id;
};

static void note_keep(struct one_note *n, const uint8_t *desc, uint32_t len)
{
	if (n->found)
		return; /* the first of each, as elf_find_note finds it */
	n->found = true;
	n->desc = desc;
	n->len = len;
}

static int note_collect(void *arg, const uint8_t *name, uint32_t namesz, uint32_t type,
			const uint8_t *desc, uint32_t descsz)
{
	struct seen_notes *s = arg;
	if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type <= XEN_NOTE_LAST)
		note_keep(&s->xen[type], desc, descsz);
	else if (namesz == 4 && memcmp(name, "GNU", 4) == 0 && type == NT_GNU_BUILD_ID)
		note_keep(&s->build_id, desc, descsz);
	return 0;
}

void direct_inspect_elf(const struct boot_file *f, FILE *out)
{
	struct elf_image e;
	if (elf_parse(&e, f->path, f->data, f->size) < 0) {
		fprintf(out, "ELF: %s\n", nb_errmsg());
		return;
	}
	fprintf(out, "ELF%d %s, e_entry 0x%" PRIx64 ", %u PT_LOAD segment(s), physical [0x%" PRIx64
		", 0x%" PRIx64 ")\n", e.is64 ? 64 : 32,
		e.machine == 62 ? "x86-64" : e.machine == 3 ? "i386" : "?", e.entry, e.nload,
		e.lo_paddr, e.hi_paddr);
	for (unsigned i = 0; i < e.nload; i++) {
		const struct elf_segment *s = &e.load[i];
		fprintf(out, "  load [0x%08" PRIx64 ", 0x%08" PRIx64 ") %c%c%c file 0x%" PRIx64
			"+0x%" PRIx64 " vaddr 0x%" PRIx64 "%s\n", s->paddr, s->paddr + s->memsz,
			(s->flags & 4) ? 'r' : '-', (s->flags & 2) ? 'w' : '-',
			(s->flags & 1) ? 'x' : '-', s->offset, s->filesz, s->vaddr,
			s->memsz > s->filesz ? " (+bss)" : "");
	}
	/* One walk collects the first Xen note of each type and the GNU
	 * build-id: inspect used to walk the notes twenty times. */
	struct seen_notes seen;
	memset(&seen, 0, sizeof(seen));
	elf_notes_each(&e, note_collect, &seen);
	for (uint32_t t = 0; t <= XEN_NOTE_LAST; t++) {
		if (!seen.xen[t].found)
			continue;
		fprintf(out, "  note Xen %2" PRIu32 " %-18s ", t, xen_note_name(t));
		print_desc(out, seen.xen[t].desc, seen.xen[t].len);
		fputc('\n', out);
	}
	if (seen.build_id.found) {
		fprintf(out, "  note GNU build-id ");
		print_desc(out, seen.build_id.desc, seen.build_id.len);
		fputc('\n', out);
	}
	nb_err_clear();
}
