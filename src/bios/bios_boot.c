/* bios_boot.c - the "bios" boot format: a disk (or diskette) image with a
 * boot sector, started through nobios's pseudo-BIOS as a PC would: POST,
 * INT 19h, sector 0 at 0000:7C00 with DL = boot drive. */
#include "bios/bios.h"

#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "mem/layout.h"
#include "util/err.h"

static struct bios *bios_active;

void bios_set_active(struct bios *b)
{
	if (bios_active && bios_active != b) {
		bios_fini(bios_active);
		free(bios_active);
	}
	bios_active = b;
}

struct bios *bios_get_active(void)
{
	return bios_active;
}

static bool same_path(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The state, the drives and the firmware in guest memory (IVT, BDA, EBDA,
 * the image at 0xF0000); the entry state is the caller's. */
static struct bios *bios_create(struct boot_ctx *ctx, const char *image)
{
	const struct boot_config *cfg = ctx->cfg;
	struct bios *b = calloc(1, sizeof(*b));
	if (!b) {
		nb_err_errno("pseudo-BIOS state");
		return NULL;
	}
	bios_init(b, ctx->mem);
	if (ctx->e820.n)
		b->e820 = ctx->e820; /* exactly the map the loader was given */
	b->log = ctx->log;
	b->wait_sleep = true;
	const char *hd = cfg->disks[0].path;
	bool rw = cfg->disks[0].rw, snapshot = cfg->disks[0].snapshot;
	if (!hd && !cfg->floppy.path && image) /* `--boot-protocol bios IMG` */
		hd = image;
	if (hd && cfg->disks[0].img && hd == cfg->disks[0].path) {
		if (bios_disk_attach(&b->hd, cfg->disks[0].img, hd, false) < 0)
			goto fail;
	} else if (hd && bios_disk_open(&b->hd, hd, rw, snapshot, false) < 0) {
		goto fail;
	}
	if (cfg->floppy.path && bios_disk_open(&b->fd, cfg->floppy.path, cfg->floppy.rw,
					       cfg->floppy.snapshot, true) < 0)
		goto fail;
	b->boot_drive = 0x80;
	if (!b->hd.present || (same_path(image, cfg->floppy.path) && !cfg->disks[0].path))
		b->boot_drive = 0x00;
	if (bios_install(b) < 0)
		goto fail;
	return b;
fail:
	bios_fini(b);
	free(b);
	return NULL;
}

struct bios *bios_setup(struct boot_ctx *ctx, const char *image)
{
	struct bios *b = bios_create(ctx, image);
	if (!b)
		return NULL;
	uint16_t post = (uint16_t)(bios_image[BIOS_OFF_HDR_POST] |
				   bios_image[BIOS_OFF_HDR_POST + 1] << 8);
	cpu_setup_real(ctx->cpu, BIOS_SEG, post);
	ctx->cpu->gpr[CPU_RDX] = b->boot_drive;
	ctx->needs_bios = true;
	ctx->bios_installed = true;
	return b;
}

int bios_install_direct(struct boot_ctx *ctx)
{
	if (ctx->needs_bios || ctx->cfg->no_bios)
		return 0;
	/* Issue 13 item 5: a kernel entered directly may still drop to real
	 * mode and call the BIOS (a hypervisor's trampoline asks INT 15h E820,
	 * INT 13h EDD, INT 10h): it finds the same services a disk boot has.
	 * POST does not run, so the 8259s and the 8254 stay as KVM created
	 * them (masked, stopped): the kernel gets no timer interrupt it did
	 * not ask for, as under a direct boot without the BIOS. */
	struct bios *b = bios_create(ctx, NULL);
	if (!b)
		return -1;
	bios_set_active(b);
	ctx->bios_installed = true;
	if (ctx->log)
		fprintf(ctx->log, "nobios: bios: pseudo-BIOS installed under the %s entry (IVT, BDA, "
			"EBDA, firmware at 0xF0000; --no-bios leaves them out)\n",
			ctx->format ? ctx->format : "direct");
	return 0;
}

static int bios_probe(const struct boot_file *f, char *why, size_t whylen)
{
	if (f->size < 512) {
		snprintf(why, whylen, "smaller than a 512-byte boot sector");
		return 0;
	}
	if (f->data[510] != 0x55 || f->data[511] != 0xAA) {
		snprintf(why, whylen, "no boot signature 55 AA at offset 510");
		return 0;
	}
	snprintf(why, whylen, "boot signature 55 AA at offset 510: a BIOS boot disk");
	return 1;
}

static int bios_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	if (f->size < 512 || f->data[510] != 0x55 || f->data[511] != 0xAA)
		return nb_err("%s: no boot signature 55 AA at offset 510: not a BIOS boot disk",
			      f->path);
	struct bios *b = bios_setup(ctx, f->path);
	if (!b)
		return -1;
	char why[200];
	if (bios_boot_sector(b, why, sizeof(why)) < 0) {
		bios_fini(b);
		free(b);
		return nb_err("%s", why);
	}
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "pseudo-BIOS POST at F000:%04X, boot sector of drive %02Xh at 0000:7C00",
		 (unsigned)ctx->cpu->rip, b->boot_drive);
	if (ctx->log) {
		const struct bios_disk *d = b->boot_drive ? &b->hd : &b->fd;
		fprintf(ctx->log,
			"nobios: bios: drive %02Xh %s: %llu sectors, C/H/S %u/%u/%u, %s; trap port "
			"0x%x\n",
			d->drive, d->path, (unsigned long long)d->sectors, d->cyls, d->heads, d->spt,
			!d->writable ? "read-only" : ctx->cfg->disks[0].snapshot ? "snapshot" : "read-write",
			BIOS_TRAP_PORT);
	}
	bios_set_active(b);
	return 0;
}

static int bios_inspect(const struct boot_file *f, FILE *out)
{
	if (f->size < 512)
		return nb_err("%s: smaller than a boot sector", f->path);
	fprintf(out, "BIOS boot disk: boot signature %02x %02x at offset 510, %llu bytes\n",
		f->data[510], f->data[511], (unsigned long long)boot_file_size(f));
	/* geometry reads sector 0 only: the head of a large image will do */
	struct bios_disk d;
	bios_disk_init_buf(&d, (void *)f->data, f->size, false, false);
	d.path = f->path;
	d.size = boot_file_size(f);
	if (bios_disk_geometry(&d) == 0)
		fprintf(out, "  hard-disk geometry: C/H/S %u/%u/%u, %llu sectors\n", d.cyls, d.heads,
			d.spt, (unsigned long long)d.sectors);
	bios_disk_close(&d);
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = f->data + 446 + 16 * i;
		if (!p[4])
			continue;
		uint32_t start, count;
		memcpy(&start, p + 8, 4);
		memcpy(&count, p + 12, 4);
		fprintf(out, "  partition %d: type %02xh%s, LBA %u, %u sectors\n", i + 1, p[4],
			p[0] == 0x80 ? " (active)" : "", start, count);
	}
	return 0;
}

static const struct boot_format bios_format = {
	.name = "bios",
	.order = 90,
	.summary = "BIOS boot disk (boot sector with 55 AA) through nobios's pseudo-BIOS",
	.probe = bios_probe,
	.load = bios_load,
	.inspect = bios_inspect,
	.disk = true,
	.disk_head = true, /* sector 0 here; the rest through INT 13h */
};
BOOT_FORMAT(bios_format);
