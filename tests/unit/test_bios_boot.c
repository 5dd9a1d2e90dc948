/* test_bios_boot.c - the "bios" and "linux16" boot formats against a plain
 * guest-memory buffer: firmware, IVT and BDA installed, boot sector placed,
 * entry state; linux16's setup-header fields, trampoline and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/bios.h"
#include "boot/boot.h"
#include "mem/layout.h"
#include "util/err.h"

#include "bz_fake.h"

#define RAM (64u << 20)

struct fx {
	struct guest_mem mem;
	uint8_t *ram;
	struct cpu_state cpu;
	struct boot_config cfg;
	struct boot_ctx ctx;
	char disk[64];
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->ram = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&f->mem, f->ram, RAM), 0);
	f->ctx.mem = &f->mem;
	f->ctx.cpu = &f->cpu;
	f->ctx.cfg = &f->cfg;
	e820_build(&f->ctx.e820, &f->mem);
	cpu_state_init(&f->cpu);
	snprintf(f->disk, sizeof(f->disk), "/tmp/nobios-test-bios-XXXXXX");
	int fd = mkstemp(f->disk);
	assert_true(fd >= 0);
	uint8_t sec[512];
	for (int lba = 0; lba < 2048; lba++) {
		memset(sec, lba & 0xFF, sizeof(sec));
		if (lba == 0) {
			memcpy(sec, "\xEB\xFEMBR", 5);
			sec[510] = 0x55;
			sec[511] = 0xAA;
		}
		assert_int_equal(write(fd, sec, sizeof(sec)), 512);
	}
	close(fd);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	bios_set_active(NULL);
	unlink(f->disk);
	free(f->ram);
	free(f);
	return 0;
}

static int load(struct fx *f, const char *format, const char *path, const uint8_t *data,
		size_t size)
{
	const struct boot_format *fmt = boot_format_by_name(format);
	assert_non_null(fmt);
	struct boot_file bf = { .path = path, .data = data, .size = size };
	return fmt->load(&f->ctx, &bf);
}

static void test_bios_format(void **st)
{
	struct fx *f = *st;
	f->cfg.disks[0].path = f->disk;
	uint8_t *img = calloc(1, 512);
	FILE *fp = fopen(f->disk, "rb");
	assert_int_equal(fread(img, 1, 512, fp), 512);
	fclose(fp);
	assert_int_equal(load(f, "bios", f->disk, img, 512), 0);
	assert_true(f->ctx.needs_bios);
	/* POST in the firmware segment, DL = 80h, boot sector at 7C00 */
	assert_int_equal(f->cpu.cs.selector, 0xF000);
	assert_int_equal(f->cpu.cs.base, 0xF0000);
	assert_int_equal(f->cpu.gpr[CPU_RDX] & 0xFF, 0x80);
	assert_memory_equal(f->ram + 0x7C00, "\xEB\xFEMBR", 5);
	assert_memory_equal(f->ram + LAYOUT_BIOS, "NOBIOS1", 8);
	assert_int_equal(f->ram[LAYOUT_BIOS + (f->cpu.rip & 0xFFFF)], 0xFA); /* POST: cli */
	struct bios *b = bios_get_active();
	assert_non_null(b);
	assert_int_equal(b->boot_drive, 0x80);
	assert_false(b->hd.writable);
	assert_int_equal(b->hd.sectors, 2048);
	/* the probe's verdicts */
	const struct boot_format *fmt = boot_format_by_name("bios");
	struct boot_file bf = { .path = "x", .data = img, .size = 512 };
	char why[128];
	assert_int_equal(fmt->probe(&bf, why, sizeof(why)), 1);
	img[511] = 0;
	assert_int_equal(fmt->probe(&bf, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "55 AA"));
	/* and the loader's error */
	assert_int_equal(load(f, "bios", f->disk, img, 512), -1);
	assert_non_null(strstr(nb_errmsg(), "no boot signature"));
	free(img);
}

static void test_bios_floppy_and_errors(void **st)
{
	struct fx *f = *st;
	/* a hard disk image is no diskette */
	f->cfg.floppy.path = f->disk;
	uint8_t img[512] = { [510] = 0x55, [511] = 0xAA };
	assert_int_equal(load(f, "bios", f->disk, img, 512), -1);
	assert_non_null(strstr(nb_errmsg(), "diskette"));
	/* a missing disk names the file */
	f->cfg.floppy.path = NULL;
	f->cfg.disks[0].path = "/nonexistent/disk.img";
	assert_int_equal(load(f, "bios", f->cfg.disks[0].path, img, 512), -1);
	assert_non_null(strstr(nb_errmsg(), "/nonexistent/disk.img"));
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
}

static void test_linux16(void **st)
{
	struct fx *f = *st;
	struct bz_fake_opts o = bz_fake_defaults();
	size_t size;
	uint8_t *bz = bz_fake_build(&o, &size);
	f->cfg.cmdline = "console=ttyS0 debug";
	assert_int_equal(load(f, "linux16", "bzImage", bz, size), 0);
	assert_true(f->ctx.needs_bios);
	/* real-mode code at 0x90000 with the loader fields of boot.rst */
	size_t setup = (o.setup_sects + 1) * 512u;
	assert_memory_equal(f->ram + 0x90000, bz, 0x1F1);
	assert_memory_equal(f->ram + 0x90202, "HdrS", 4);
	assert_int_equal(f->ram[0x90000 + 0x210], 0xFF);             /* type_of_loader */
	assert_int_equal(f->ram[0x90000 + 0x211] & 0x81, 0x81);      /* LOADED_HIGH|CAN_USE_HEAP */
	assert_int_equal(bz_r16(f->ram, 0x90000 + 0x224), 0xDE00);   /* heap_end_ptr */
	assert_int_equal(bz_r32(f->ram, 0x90000 + 0x228), 0x9E000);  /* cmd_line_ptr */
	assert_string_equal((char *)f->ram + 0x9E000, "console=ttyS0 debug");
	assert_int_equal(bz_r32(f->ram, 0x90000 + 0x214), 0x100000); /* code32_start */
	/* protected-mode part at 1 MiB */
	assert_memory_equal(f->ram + 0x100000, bz + setup, o.pm_size);
	/* INT 19h starts the trampoline: segments 9000h, sp E000h, jmp 9020:0000 */
	struct bios *b = bios_get_active();
	assert_true(b->has_boot_code);
	assert_int_equal(b->boot_code[510], 0x55);
	assert_memory_equal(b->boot_code + 17, "\xEA\x00\x00\x20\x90", 5);
	assert_int_equal(f->cpu.cs.selector, 0xF000);
	char why[64];
	assert_int_equal(bios_boot_sector(b, why, sizeof(why)), 0);
	assert_memory_equal(f->ram + 0x7C00, b->boot_code, 512);
	free(bz);
}

static void test_linux16_errors(void **st)
{
	struct fx *f = *st;
	struct bz_fake_opts o = bz_fake_defaults();
	size_t size;
	/* protocol 2.01 (issue 13 item 3): no cmd_line_ptr, so the command
	 * line is found by cmd_line_magic A33Fh at 9000:0020 and its offset
	 * at 9000:0022; the heap is there (2.01) */
	o.version = 0x0201;
	uint8_t *bz = bz_fake_build(&o, &size);
	f->cfg.cmdline = "old=1";
	assert_int_equal(load(f, "linux16", "old", bz, size), 0);
	uint16_t magic, off;
	memcpy(&magic, f->ram + 0x90020, 2);
	memcpy(&off, f->ram + 0x90022, 2);
	assert_int_equal(magic, 0xA33F);
	assert_string_equal((const char *)f->ram + 0x90000 + off, "old=1");
	assert_true(f->ram[0x90000 + 0x211] & 0x80); /* CAN_USE_HEAP */
	bios_set_active(NULL);
	f->cfg.cmdline = NULL;
	free(bz);
	/* protocol 1.xx: not a bzImage */
	o.version = 0x0105;
	bz = bz_fake_build(&o, &size);
	assert_int_equal(load(f, "linux16", "older", bz, size), -1);
	assert_non_null(strstr(nb_errmsg(), "older than 2.00"));
	free(bz);
	/* setup beyond 32 KiB */
	o = bz_fake_defaults();
	o.setup_sects = 70;
	bz = bz_fake_build(&o, &size);
	assert_int_equal(load(f, "linux16", "big", bz, size), -1);
	assert_non_null(strstr(nb_errmsg(), "32 KiB"));
	free(bz);
	/* a command line longer than cmdline_size */
	o = bz_fake_defaults();
	o.cmdline_size = 8;
	bz = bz_fake_build(&o, &size);
	f->cfg.cmdline = "console=ttyS0";
	assert_int_equal(load(f, "linux16", "short", bz, size), -1);
	assert_non_null(strstr(nb_errmsg(), "at most 8"));
	free(bz);
	/* not a bzImage */
	uint8_t junk[4096] = { 0 };
	assert_int_equal(load(f, "linux16", "junk", junk, sizeof(junk)), -1);
}

/* Issue 13 item 5: the pseudo-BIOS under a direct entry leaves the entry
 * state alone and installs IVT, BDA, EBDA and the image; --no-bios and a
 * format that installed it already leave memory untouched. */
static void test_bios_under_direct_entry(void **st)
{
	struct fx *f = *st;
	f->cpu.rip = 0x100020; /* a Multiboot entry, as a loader left it */
	f->ctx.format = "multiboot";
	f->cfg.no_bios = true;
	assert_int_equal(bios_install_direct(&f->ctx), 0);
	assert_false(f->ctx.bios_installed);
	assert_int_equal(memcmp(f->ram + LAYOUT_BIOS, "\0\0\0\0\0\0\0\0", 8), 0);
	assert_int_equal(f->ram[0x15 * 4 + 3], 0);

	f->cfg.no_bios = false;
	assert_int_equal(bios_install_direct(&f->ctx), 0);
	assert_true(f->ctx.bios_installed);
	assert_non_null(bios_get_active());
	assert_int_equal(memcmp(f->ram + LAYOUT_BIOS, "NOBIOS1", 8), 0);
	/* INT 15h: F000:stub, the stub an "out 0xEE, al; iret" */
	uint32_t v15;
	memcpy(&v15, f->ram + 0x15 * 4, 4);
	assert_int_equal(v15 >> 16, BIOS_SEG);
	assert_int_equal(f->ram[LAYOUT_BDA + 0x0E], (LAYOUT_EBDA >> 4) & 0xFF); /* 0040:000E */
	assert_int_equal(f->ram[LAYOUT_BDA + 0x0F], LAYOUT_EBDA >> 12);
	assert_int_equal(f->ram[LAYOUT_EBDA], 1); /* EBDA size: 1 KiB */
	assert_int_equal(f->cpu.rip, 0x100020);  /* the entry is the loader's */
	assert_false(f->ctx.needs_bios);
	bios_set_active(NULL);

	/* a format that installed it (bios, linux16) is not installed twice */
	memset(f->ram + LAYOUT_BIOS, 0, 8);
	f->ctx.needs_bios = true;
	assert_int_equal(bios_install_direct(&f->ctx), 0);
	assert_int_equal(f->ram[LAYOUT_BIOS], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bios_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bios_floppy_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux16, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux16_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bios_under_direct_entry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
