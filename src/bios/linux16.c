/* linux16.c - the "linux16" boot format: a bzImage entered through its
 * 16-bit real-mode setup code with the pseudo-BIOS present, the way a BIOS
 * boot loader starts it (Documentation/arch/x86/boot.rst, "Loading the rest
 * of the kernel", "Sample boot configuration", "Running the kernel"): the
 * setup code does its own BIOS calls (E820, EDD, video) and builds the zero
 * page itself; nobios only places the pieces and patches the loader fields
 * of the setup header. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bios/bios.h"
#include "boot/boot.h"
#include "boot/bootparam.h"
#include "boot/bzimage.h"
#include "boot/linux_cmdline.h"
#include "mem/layout.h"
#include "util/err.h"

#define L16_SEG        0x9000u               /* real-mode code at 0x90000 */
#define L16_BASE       ((uint64_t)L16_SEG << 4)
#define L16_HEAP_END   0xE000u               /* boot.rst: heap/stack end (2.02+ with LOADED_HIGH) */
#define L16_CMDLINE    (L16_BASE + L16_HEAP_END)  /* after the heap, below 0xA0000 */
#define L16_PM_ADDR    0x100000u             /* protected-mode kernel, as boot loaders do */
#define L16_LOADER_ID  0xFF                  /* type_of_loader: undefined boot loader */
/* boot.rst "The kernel command line", protocols before 2.02: the word at
 * setup-segment offset 0x20 is cmd_line_magic, the next one cmd_line_offset. */
#define L16_OLD_CL_MAGIC_OFF  0x20
#define L16_OLD_CL_OFFSET_OFF 0x22
#define L16_OLD_CL_MAGIC      0xA33F

/* The "boot sector" INT 19h starts: segments and stack as boot.rst's
 * "Running the kernel", then a far jump to the setup code at seg+0x20:0. */
static const uint8_t l16_trampoline[] = {
	0xFA,                   /* cli */
	0xB8, 0x00, 0x90,       /* mov ax, 0x9000 */
	0x8E, 0xD8,             /* mov ds, ax */
	0x8E, 0xC0,             /* mov es, ax */
	0x8E, 0xE0,             /* mov fs, ax */
	0x8E, 0xE8,             /* mov gs, ax */
	0x8E, 0xD0,             /* mov ss, ax */
	0xBC, 0x00, 0xE0,       /* mov sp, 0xE000 */
	0xEA, 0x00, 0x00, 0x20, 0x90, /* jmp 0x9020:0x0000 */
};
_Static_assert(L16_SEG == 0x9000 && L16_HEAP_END == 0xE000, "trampoline constants");

static int put16(struct guest_mem *m, size_t field, uint16_t v)
{
	return mem_write16(m, L16_BASE + field, v);
}
static int put32(struct guest_mem *m, size_t field, uint32_t v)
{
	return mem_write32(m, L16_BASE + field, v);
}

static int l16_initrd(struct boot_ctx *ctx, const struct bzimage *bz)
{
	const char *path = ctx->cfg->initrd;
	if (!path)
		return 0;
	uint64_t hi;
	if (bzimage_initrd_max(bz, &hi) < 0)
		return -1;
	struct boot_file f; /* size first (at most guest RAM), then straight into guest RAM */
	if (boot_file_open_head(&f, path, ctx->mem->size, 0) < 0)
		return -1;
	uint64_t size = boot_file_size(&f);
	if (hi > mem_low_top(ctx->mem))
		hi = mem_low_top(ctx->mem);
	uint64_t gpa;
	int r = boot_place_high(ctx, size, LAYOUT_HIGH_MEM, hi, 4096, &gpa);
	if (r < 0)
		nb_err("%s: initrd of %" PRIu64 " bytes does not fit in guest RAM below 0x%" PRIx64
		       " beside the kernel; give the guest more memory with -m", path, size, hi);
	else
		r = boot_file_to_guest(&f, ctx->mem, gpa);
	if (r == 0) {
		ctx->initrd_addr = gpa;
		ctx->initrd_size = size;
	}
	boot_file_close(&f);
	return r;
}

static int l16_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct bzimage bz;
	if (bzimage_parse(&bz, f->path, f->data, f->size) < 0)
		return -1;
	/* boot.rst: the real-mode code (boot sector + setup) is at most 32 KiB
	 * and heap_end at 0xE000 needs protocol 2.02+ with LOADED_HIGH. */
	if (bz.setup_size > 0x8000)
		return nb_err("%s: setup code of %zu bytes exceeds the 32 KiB real-mode limit",
			      f->path, bz.setup_size);
	/* bzimage_parse refused zImages (no LOADED_HIGH: the kernel would go
	 * to 0x10000, under the setup code's own place) and protocols before
	 * 2.00, and read the fields an older header lacks as boot.rst says. */
	if (mem_low_top(ctx->mem) < (uint64_t)L16_PM_ADDR + bz.pm_size)
		return nb_err("%s: kernel of %zu bytes does not fit in guest RAM", f->path,
			      bz.pm_size);
	struct bios *b = bios_setup(ctx, NULL);
	if (!b)
		return -1;

	struct guest_mem *m = ctx->mem;
	uint64_t at = 0, end = 0;
	ctx->kernel_start = L16_PM_ADDR;
	ctx->kernel_end = L16_PM_ADDR + bz.pm_size;
	/* The decompressor works at the aligned preferred address up to
	 * init_size: keep the initrd out of that too. */
	if (bzimage_load_addr(&bz, mem_low_top(m), &at, &end) == 0 && end > ctx->kernel_end)
		ctx->kernel_end = (end + 4095) & ~4095ull;
	nb_err_clear();

	size_t cmax = bz.hdr.cmdline_size ? (size_t)bz.hdr.cmdline_size + 1 : 256;
	if (cmax > LAYOUT_EBDA - L16_CMDLINE)
		cmax = LAYOUT_EBDA - L16_CMDLINE;
	char *cmdline = NULL;
	int r = -1;
	if (boot_linux_cmdline(ctx, cmax, &cmdline) < 0)
		goto fail;
	size_t clen = strlen(cmdline) + 1;
	if (mem_copy_in(m, L16_BASE, bz.data, bz.setup_size) < 0 ||
	    mem_copy_in(m, L16_PM_ADDR, bz.pm, bz.pm_size) < 0 ||
	    mem_copy_in(m, L16_CMDLINE, cmdline, clen) < 0 || l16_initrd(ctx, &bz) < 0)
		goto fail;
	/* boot.rst by protocol: the heap from 2.01 (heap_end_ptr, CAN_USE_HEAP);
	 * cmd_line_ptr from 2.02, before it the command line is found by
	 * cmd_line_magic at 0x20 and cmd_line_offset at 0x22 from the setup
	 * segment (it is inside it: L16_CMDLINE is 0x9000:E000). */
	bool heap = bz.hdr.version >= BOOT_PROTO_HEAP;
	uint8_t loadflags = (uint8_t)(bz.hdr.loadflags | (heap ? CAN_USE_HEAP : 0));
	if (mem_write8(m, L16_BASE + SETUP_OFF(type_of_loader), L16_LOADER_ID) < 0 ||
	    mem_write8(m, L16_BASE + SETUP_OFF(loadflags), loadflags) < 0 ||
	    (heap && put16(m, SETUP_OFF(heap_end_ptr), L16_HEAP_END - 0x200) < 0) ||
	    (bz.hdr.version >= BOOT_PROTO_CMDLINE_PTR
		     ? put32(m, SETUP_OFF(cmd_line_ptr), (uint32_t)L16_CMDLINE) < 0
		     : (put16(m, L16_OLD_CL_MAGIC_OFF, L16_OLD_CL_MAGIC) < 0 ||
			put16(m, L16_OLD_CL_OFFSET_OFF, (uint16_t)(L16_CMDLINE - L16_BASE)) < 0)) ||
	    put32(m, SETUP_OFF(code32_start), L16_PM_ADDR) < 0 ||
	    put32(m, SETUP_OFF(ramdisk_image), (uint32_t)ctx->initrd_addr) < 0 ||
	    put32(m, SETUP_OFF(ramdisk_size), (uint32_t)ctx->initrd_size) < 0)
		goto fail;
	memset(b->boot_code, 0, sizeof(b->boot_code));
	memcpy(b->boot_code, l16_trampoline, sizeof(l16_trampoline));
	b->boot_code[510] = 0x55;
	b->boot_code[511] = 0xAA;
	b->has_boot_code = true;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "pseudo-BIOS POST, then the 16-bit setup at %04X:0000 (kernel at 0x%X)",
		 L16_SEG + 0x20, L16_PM_ADDR);
	if (ctx->log)
		fprintf(ctx->log,
			"nobios: linux16: setup %zu bytes at 0x%" PRIx64 ", kernel %zu bytes at 0x%x, "
			"command line at 0x%" PRIx64 ", initrd 0x%" PRIx64 "+0x%" PRIx64 "\n",
			bz.setup_size, L16_BASE, bz.pm_size, L16_PM_ADDR, (uint64_t)L16_CMDLINE,
			ctx->initrd_addr, ctx->initrd_size);
	bios_set_active(b);
	free(cmdline);
	return 0;
fail:
	free(cmdline);
	bios_fini(b);
	free(b);
	return r;
}

static int l16_probe(const struct boot_file *f, char *why, size_t whylen)
{
	snprintf(why, whylen, "selected with --boot-protocol only (bzImage through its 16-bit "
		 "setup and the pseudo-BIOS)");
	return 0;
}

static const struct boot_format linux16_format = {
	.name = "linux16",
	.order = 95,
	.summary = "Linux bzImage through its 16-bit setup code and the pseudo-BIOS",
	.probe = l16_probe,
	.load = l16_load,
};
BOOT_FORMAT(linux16_format);
