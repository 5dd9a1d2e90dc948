/* osv.c - "osv": an OSv disk image booted without its 16-bit boot code, as
 * the 2013 bhyveosvload did: the MBR (boot signature 0x55AA), the command
 * line from sector 1 (at most 63 sectors, NUL-terminated) and loader.elf
 * from sector 128, entered at `start64` through the elf64 path.  --cmdline
 * replaces the image's command line.  A disk without this layout is not
 * ours: the probe says no and the pseudo-BIOS (detected after us) boots it.
 * Detection order 60 (see multiboot.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/elf.h"
#include "boot/direct.h"
#include "boot/elf64sym.h"
#include "mem/layout.h"
#include "util/err.h"
#include "util/escape.h"

#define OSV_SECTOR          512
#define OSV_CMDLINE_SECTOR  1
#define OSV_CMDLINE_SECTORS 63
#define OSV_LOADER_SECTOR   128
#define OSV_LOADER_OFF      ((uint64_t)OSV_LOADER_SECTOR * OSV_SECTOR)

static int osv_layout(const struct boot_file *f, char *why, size_t whylen)
{
	if (f->size < 512 || f->data[510] != 0x55 || f->data[511] != 0xAA) {
		snprintf(why, whylen, "no MBR boot signature 0x55AA at offset 510");
		return 0;
	}
	if (f->size < OSV_LOADER_OFF + 64 ||
	    !elf_is_elf(f->data + OSV_LOADER_OFF, f->size - OSV_LOADER_OFF)) {
		snprintf(why, whylen, "MBR disk, but no ELF (loader.elf) at sector %d",
			 OSV_LOADER_SECTOR);
		return 0;
	}
	if (f->data[OSV_LOADER_OFF + 4] != 2) {
		snprintf(why, whylen, "MBR disk with an ELF32 at sector %d, not ELF64",
			 OSV_LOADER_SECTOR);
		return 0;
	}
	snprintf(why, whylen, "MBR disk with an ELF64 loader at sector %d (OSv layout)",
		 OSV_LOADER_SECTOR);
	return 1;
}

static int osv_probe(const struct boot_file *f, char *why, size_t whylen)
{
	return osv_layout(f, why, whylen);
}

/* The command line stored at sector 1: NUL-terminated within 63 sectors. */
static int osv_cmdline(const struct boot_file *f, const char **out)
{
	uint64_t off = OSV_CMDLINE_SECTOR * OSV_SECTOR;
	uint64_t max = OSV_CMDLINE_SECTORS * OSV_SECTOR;
	if (f->size < off + max)
		max = f->size > off ? f->size - off : 0;
	const void *nul = memchr(f->data + off, 0, max);
	if (!nul)
		return nb_err("%s: OSv command line at sector %d is not NUL-terminated within %d "
			      "sectors", f->path, OSV_CMDLINE_SECTOR, OSV_CMDLINE_SECTORS);
	*out = (const char *)(f->data + off);
	return 0;
}

#define OSV_LOADER_MAX (1ull << 30)

/* loader.elf: from sector 128 to the first partition that starts after it
 * (OSv's ZFS partition) or the end of the disk.  Format detection read only
 * the disk's head (BOOT_DISK_HEAD); the rest is read here.  *buf is set
 * when memory was allocated (the caller frees it). */
static int osv_loader(const struct boot_file *f, const uint8_t **elf, uint64_t *len,
		      uint8_t **buf)
{
	*buf = NULL;
	if (boot_file_size(f) <= f->size) { /* all of it in memory already */
		*elf = f->data + OSV_LOADER_OFF;
		*len = f->size - OSV_LOADER_OFF;
		return 0;
	}
	uint64_t end = boot_file_size(f);
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = f->data + 446 + 16 * i;
		uint64_t lba = (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 |
			       (uint64_t)p[11] << 24;
		if (p[4] && lba > OSV_LOADER_SECTOR && lba * OSV_SECTOR < end)
			end = lba * OSV_SECTOR;
	}
	*len = end - OSV_LOADER_OFF;
	if (*len > OSV_LOADER_MAX)
		return nb_err("%s: loader.elf region of %llu bytes from sector %d (to the first "
			      "partition or the end of the disk) is larger than %llu MiB", f->path,
			      (unsigned long long)*len, OSV_LOADER_SECTOR, OSV_LOADER_MAX >> 20);
	*buf = malloc((size_t)*len);
	if (!*buf)
		return nb_err_internal("%s: no memory for loader.elf (%llu bytes)", f->path,
				       (unsigned long long)*len);
	if (boot_file_pread(f, OSV_LOADER_OFF, *buf, (size_t)*len) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*elf = *buf;
	return 0;
}

static int osv_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	char why[160];
	if (!osv_layout(f, why, sizeof(why)))
		return nb_err("%s: not an OSv disk image: %s", f->path, why);
	const char *cmdline = ctx->cfg->cmdline;
	if (!cmdline && osv_cmdline(f, &cmdline) < 0)
		return -1;
	const char *sym = ctx->cfg->entry_symbol ? ctx->cfg->entry_symbol : ELF64SYM_DEFAULT_SYMBOL;
	const uint8_t *elf;
	uint64_t len;
	uint8_t *buf;
	if (osv_loader(f, &elf, &len, &buf) < 0)
		return -1;
	int r = elf64sym_boot(ctx, f->path, elf, (size_t)len, sym, cmdline);
	free(buf);
	return r;
}

static int osv_inspect(const struct boot_file *f, FILE *out)
{
	char why[160];
	if (!osv_layout(f, why, sizeof(why))) {
		fprintf(out, "OSv: %s\n", why);
		return 0;
	}
	const char *cl;
	if (osv_cmdline(f, &cl) < 0)
		fprintf(out, "command line (sector %d): invalid: %s\n", OSV_CMDLINE_SECTOR,
			nb_errmsg());
	else {
		/* the image's bytes, not ours: escaped so that control
		 * characters cannot drive the user's terminal */
		fprintf(out, "command line (sector %d): \"", OSV_CMDLINE_SECTOR);
		nb_fput_escaped(out, cl, strlen(cl), 200);
		fprintf(out, "\"\n");
	}
	fprintf(out, "loader.elf at sector %d (file offset 0x%llx)\n", OSV_LOADER_SECTOR,
		(unsigned long long)OSV_LOADER_OFF);
	const uint8_t *elf;
	uint64_t len;
	uint8_t *buf;
	if (osv_loader(f, &elf, &len, &buf) < 0)
		return -1;
	struct boot_file sub = { .path = f->path, .data = elf, .size = (size_t)len };
	direct_inspect_elf(&sub, out);
	elf64sym_inspect_symbol(f->path, sub.data, sub.size, ELF64SYM_DEFAULT_SYMBOL, out);
	free(buf);
	return 0;
}

static const struct boot_format osv_format = {
	.name = "osv",
	.order = 60,
	.summary = "OSv disk image: MBR, cmdline at sector 1, loader.elf at sector 128",
	.probe = osv_probe,
	.load = osv_load,
	.inspect = osv_inspect,
	.disk = true,
	.disk_head = true, /* osv_loader reads the rest */
};
BOOT_FORMAT(osv_format);
