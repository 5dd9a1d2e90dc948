/* inspect.c - `nobios inspect FILE`: what the file is, every format's probe
 * verdict in detection order (why this format was chosen), then the chosen
 * format's own description: entry point and mode, notes or headers found,
 * load ranges. */
#include <inttypes.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/elf.h"
#include "boot/multiboot.h"
#include "util/err.h"

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

static const char *file_kind(const struct boot_file *f, char *buf, size_t len)
{
	const uint8_t *d = f->data;
	if (elf_is_elf(d, f->size) && f->size > 20) {
		snprintf(buf, len, "ELF%s %s %s", d[4] == 2 ? "64" : "32",
			 d[18] == 62 ? "x86-64" : d[18] == 3 ? "i386" : "(other machine)",
			 d[16] == 2 ? "executable" : d[16] == 3 ? "shared object" : "file");
	} else if (f->size > 0x207 && memcmp(d + 0x202, "HdrS", 4) == 0) {
		/* the protocol version is the 16 bits at 0x206: bytes 0x206 and
		 * 0x207 must both be in the file */
		snprintf(buf, len, "Linux kernel image with a real-mode setup header (bzImage), "
			 "protocol %u.%02u", d[0x207], d[0x206]);
	} else if (f->size >= 512 && d[510] == 0x55 && d[511] == 0xAA) {
		snprintf(buf, len, "disk image with an MBR boot signature (0x55AA), %zu sectors",
			 f->size / 512);
	} else {
		snprintf(buf, len, "data (no ELF, bzImage or MBR signature)");
	}
	return buf;
}

int boot_inspect_file(const struct boot_file *file, const struct boot_config *cfg, FILE *out)
{
	const struct boot_file *fp = file;
	const char *path = fp->path;
	char kind[160];
	fprintf(out, "file: %s (%zu bytes)\n", path, fp->size);
	fprintf(out, "kind: %s\n", file_kind(fp, kind, sizeof(kind)));
	/* Every format's probe, in detection order: boot_detect stops at the
	 * first yes; here the later ones are shown too, marked "(not reached)",
	 * so a file carrying several headers shows all of them. */
	const struct boot_format *fmts[32], *det = NULL;
	unsigned n = boot_formats(fmts, 32);
	fprintf(out, "format detection, in order (the first yes wins):\n");
	for (unsigned i = 0; i < n; i++) {
		char one[256] = "";
		if (!fmts[i]->probe)
			continue;
		int yes = fmts[i]->probe(fp, one, sizeof(one)) == 1;
		fprintf(out, "  %3d %-10s %s: %s%s\n", fmts[i]->order, fmts[i]->name,
			yes ? "yes" : "no ", one, yes && det ? " (not reached)" : "");
		if (yes && !det)
			det = fmts[i];
	}
	nb_err_clear();
	const struct boot_format *fmt = det;
	const char *proto = cfg ? cfg->protocol : NULL;
	if (!proto && cfg && cfg->entry_symbol)
		proto = "elf64"; /* --entry-symbol asks for the elf64 entry */
	if (proto) {
		fmt = boot_format_by_name(proto);
		if (!fmt)
			return nb_err("--boot-protocol: unknown protocol '%s'", proto);
		fprintf(out, "format: %s (forced by --%s; detection says %s)\n", fmt->name,
			cfg->protocol ? "boot-protocol" : "entry-symbol", det ? det->name : "none");
	} else if (fmt) {
		fprintf(out, "format: %s (%s)\n", fmt->name, fmt->summary);
	} else {
		fprintf(out, "format: none: nobios cannot boot this file directly\n");
	}
	int r = 0;
	if (fmt && fmt->inspect) {
		if (cfg && cfg->entry_symbol && strcmp(fmt->name, "elf64") == 0) {
			direct_inspect_elf(fp, out);
			elf64sym_inspect_symbol(path, fp->data, fp->size, cfg->entry_symbol, out);
		} else {
			r = fmt->inspect(fp, out);
		}
	}
	if (r == 0 && !fmt)
		return nb_err("%s: not a bootable image of any known format", path);
	return r;
}

int boot_inspect(const char *path, const struct boot_config *cfg, FILE *out)
{
	struct boot_file f;
	if (boot_file_open(&f, path, 0) < 0)
		return -1;
	int r = boot_inspect_file(&f, cfg, out);
	boot_file_close(&f);
	return r;
}
