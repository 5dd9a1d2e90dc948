/* inspect.c - `nobios inspect FILE`: what the file is, every format's probe
 * verdict in detection order (why this format was chosen), then the chosen
 * format's own description: entry point and mode, notes or headers found,
 * load ranges. */
#include <inttypes.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/elf.h"
#include "boot/direct.h"
#include "boot/elf64sym.h"
#include "util/err.h"

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
		snprintf(buf, len, "disk image with an MBR boot signature (0x55AA), %llu sectors",
			 (unsigned long long)(boot_file_size(f) / 512));
	} else {
		snprintf(buf, len, "data (no ELF, bzImage or MBR signature)");
	}
	return buf;
}

int boot_inspect_file(struct boot_file *file, const struct boot_config *cfg, FILE *out)
{
	struct boot_file *fp = file;
	const char *path = fp->path;
	char kind[160];
	fprintf(out, "file: %s (%llu bytes)\n", path, (unsigned long long)boot_file_size(fp));
	fprintf(out, "kind: %s\n", file_kind(fp, kind, sizeof(kind)));
	/* Every format's probe, in detection order: boot_detect stops at the
	 * first yes; here the later ones are shown too, marked "(not reached)",
	 * so a file carrying several headers shows all of them. */
	const struct boot_format *fmts[32], *det = NULL, *disk_det = NULL;
	const char *yes_names[32];
	unsigned n = boot_formats(fmts, 32), nyes = 0;
	fprintf(out, "format detection, in order (the first yes wins; [disk]: a disk format, the "
		     "only kind probed for a --disk/--floppy image):\n");
	for (unsigned i = 0; i < n; i++) {
		char one[256] = "";
		if (!fmts[i]->probe)
			continue;
		int yes = fmts[i]->probe(fp, one, sizeof(one)) == 1;
		fprintf(out, "  %3d %-10s %s: %s%s%s\n", fmts[i]->order, fmts[i]->name,
			yes ? "yes" : "no ", one, yes && det ? " (not reached)" : "",
			fmts[i]->disk ? " [disk]" : "");
		if (yes && !det)
			det = fmts[i];
		if (yes && fmts[i]->disk && !disk_det)
			disk_det = fmts[i];
		if (yes)
			yes_names[nyes++] = fmts[i]->name;
	}
	nb_err_clear();
	/* Several formats claim the file: say which wins in each role, so the
	 * user sees why `run FILE` and `--disk FILE` boot it differently. */
	if (nyes > 1) {
		fprintf(out, "conflict: %u formats match (", nyes);
		for (unsigned i = 0; i < nyes; i++)
			fprintf(out, "%s%s", i ? ", " : "", yes_names[i]);
		fprintf(out, ")\n  as KERNEL: %s (the first in detection order)\n", det->name);
		fprintf(out, "  with --disk/--floppy: %s\n",
			disk_det ? disk_det->name : "not bootable (no disk format matches)");
		fprintf(out, "  --boot-protocol NAME forces one\n");
	} else if (det && !det->disk) {
		fprintf(out, "with --disk/--floppy: not bootable (no disk format matches)\n");
	}
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
	if (fmt && !fmt->disk_head && boot_file_read_all(fp) < 0) /* a forced format */
		return -1;
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
	if (boot_file_open_image(&f, path) < 0)
		return -1;
	int r = boot_inspect_file(&f, cfg, out);
	boot_file_close(&f);
	return r;
}
