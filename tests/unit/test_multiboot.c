/* test_multiboot.c - Multiboot 0.6.96: the header search window (8192 bytes,
 * 4-byte aligned), checksums, the a.out kludge, the information structure
 * against the spec's numbers, module placement, the entry state, and every
 * malformed input rejected with a clear error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/multiboot.h"
#include "direct_fake.h"

#define MB_FLAGS 0x00000003u

static void put_header(uint8_t *p, uint32_t flags)
{
	uint32_t h[3] = { MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags) };
	memcpy(p, h, sizeof(h));
}

static void test_search_window(void **state)
{
	(void)state;
	static uint8_t img[16384];
	struct multiboot_header h;
	int bad;
	memset(img, 0, sizeof(img));
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), -1);
	assert_int_equal(bad, 0);
	/* the last 4-aligned place where all 12 bytes lie in 8192 */
	put_header(img + 8180, MB_FLAGS);
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), 8180);
	assert_int_equal(h.flags, MB_FLAGS);
	memset(img, 0, sizeof(img));
	put_header(img + 8184, MB_FLAGS);
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), -1);
	memset(img, 0, sizeof(img));
	put_header(img + 102, MB_FLAGS); /* not 4-byte aligned */
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), -1);
	/* a file shorter than the window */
	memset(img, 0, sizeof(img));
	put_header(img + 16, MB_FLAGS);
	assert_int_equal(multiboot_find_header(img, 28, &h, &bad), 16);
	assert_int_equal(multiboot_find_header(img, 27, &h, &bad), -1);
}

static void test_checksum(void **state)
{
	(void)state;
	uint8_t img[64] = { 0 };
	struct multiboot_header h;
	int bad;
	put_header(img, MB_FLAGS);
	img[8] ^= 1;
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), -1);
	assert_int_equal(bad, 1);
	/* a good header after a bad one is found */
	put_header(img + 32, MB_FLAGS);
	assert_int_equal(multiboot_find_header(img, sizeof(img), &h, &bad), 32);
}

static void test_aout_layout(void **state)
{
	(void)state;
	struct multiboot_header h = { .magic = MULTIBOOT_HEADER_MAGIC,
				      .flags = MULTIBOOT_AOUT_KLUDGE,
				      .header_addr = 0x100040, .load_addr = 0x100000,
				      .load_end_addr = 0, .bss_end_addr = 0x110000,
				      .entry_addr = 0x100060 };
	struct multiboot_aout a;
	assert_int_equal(multiboot_aout_layout("k", &h, 0x40, 0x3000, &a), 0);
	assert_int_equal(a.file_off, 0);
	assert_int_equal(a.load_addr, 0x100000);
	assert_int_equal(a.load_end, 0x103000); /* load_end 0: the rest of the file */
	assert_int_equal(a.bss_end, 0x110000);
	assert_int_equal(a.entry, 0x100060);
	/* header 0x1040 into the file, load_addr 0x40 before it: file_off 0x1000 */
	h.header_addr = 0x100040;
	assert_int_equal(multiboot_aout_layout("k", &h, 0x1040, 0x3000, &a), 0);
	assert_int_equal(a.file_off, 0x1000);
	assert_int_equal(a.load_end, 0x102000);

	struct multiboot_header b = h;
	b.header_addr = 0xFFFF0;
	assert_int_equal(multiboot_aout_layout("k", &b, 0x40, 0x3000, &a), -1);
	assert_err_has("below load_addr");
	b = h;
	b.load_addr = 0x100000 - 0x1000; /* would start before the file */
	assert_int_equal(multiboot_aout_layout("k", &b, 0x40, 0x3000, &a), -1);
	assert_err_has("before the file");
	b = h;
	b.load_end_addr = 0x200000;
	assert_int_equal(multiboot_aout_layout("k", &b, 0x40, 0x3000, &a), -1);
	assert_err_has("longer than the file");
	b = h;
	b.load_end_addr = 0x102000;
	b.bss_end_addr = 0x101000;
	assert_int_equal(multiboot_aout_layout("k", &b, 0x40, 0x3000, &a), -1);
	assert_err_has("bss_end_addr");
	b = h;
	b.entry_addr = 0x200000;
	assert_int_equal(multiboot_aout_layout("k", &b, 0x40, 0x3000, &a), -1);
	assert_err_has("entry_addr");
	assert_int_equal(multiboot_aout_layout("k", &h, 0x40, 0x50, &a), -1);
	assert_err_has("truncated");
}

static void test_mem_sizes(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	uint32_t lo, up;
	multiboot_mem_sizes(&m->ctx.e820, &lo, &up);
	assert_int_equal(lo, 639); /* 0x9FC00 / 1024 */
	assert_int_equal(up, (FAKE_RAM - 0x100000) / 1024);
	fake_machine_free(m);
}

static void test_build_info(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct direct_modules mods = { .n = 2 };
	mods.m[0] = (struct direct_module){ .addr = 0x3000000, .size = 5000, .path = "a" };
	mods.m[1] = (struct direct_module){ .addr = 0x3002000, .size = 777, .cmdline = "m1 x",
					    .path = "b" };
	uint64_t end;
	mem_copy_in(&m->mem, LAYOUT_CMDLINE, "hello", 6);
	assert_int_equal(multiboot_build_info(&m->ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, LAYOUT_CMDLINE,
					      &mods, &end), 0);
	uint64_t b = LAYOUT_MBI;
	uint32_t flags = g32(m, b);
	assert_int_equal(flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
					MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP |
					MULTIBOOT_INFO_BOOT_LOADER_NAME);
	assert_int_equal(g32(m, b + 4), 639);
	assert_int_equal(g32(m, b + 8), (FAKE_RAM >> 10) - 1024);
	assert_int_equal(g32(m, b + 16), LAYOUT_CMDLINE);
	assert_int_equal(g32(m, b + 20), 2);
	uint64_t ml = g32(m, b + 24);
	assert_int_equal(g32(m, ml), 0x3000000);
	assert_int_equal(g32(m, ml + 4), 0x3000000 + 5000);
	assert_int_equal(g32(m, ml + 8), 0);
	assert_int_equal(g32(m, ml + 16), 0x3002000);
	assert_int_equal(g32(m, ml + 20), 0x3002000 + 777);
	assert_string_equal(gstr(m, g32(m, ml + 24)), "m1 x");
	/* mmap: 24-byte entries whose size field says 20, equal to the e820 */
	uint32_t len = g32(m, b + 44);
	uint64_t mm = g32(m, b + 48);
	assert_int_equal(len, m->ctx.e820.n * 24);
	for (unsigned i = 0; i < m->ctx.e820.n; i++) {
		assert_int_equal(g32(m, mm + i * 24), 20);
		assert_int_equal(g64(m, mm + i * 24 + 4), m->ctx.e820.e[i].addr);
		assert_int_equal(g64(m, mm + i * 24 + 12), m->ctx.e820.e[i].size);
		assert_int_equal(g32(m, mm + i * 24 + 20), m->ctx.e820.e[i].type);
	}
	assert_int_equal(m->ctx.e820.n, 4);
	assert_int_equal(g64(m, mm + 3 * 24 + 4), 0x100000);
	assert_string_equal(gstr(m, g32(m, b + 64)), NOBIOS_LOADER_NAME);
	assert_true(end > b && end <= b + LAYOUT_MBI_SIZE);
	/* too small an area */
	assert_int_equal(multiboot_build_info(&m->ctx, LAYOUT_MBI, 200, 0, &mods, NULL), -1);
	fake_machine_free(m);
}

/* A multiboot ELF32 kernel: header at file offset 0x1000 (start of .text). */
static struct fake_buf mb_kernel(uint32_t flags, uint64_t paddr, size_t text, size_t bss)
{
	uint8_t *code = calloc(1, text);
	put_header(code, flags);
	struct fake_seg s = { paddr, paddr, code, text, text + bss };
	struct fake_buf b = fake_elf(0, paddr + 0x20, &s, 1, NULL, 0, NULL, 0);
	free(code);
	return b;
}

static int load_file(struct fake_machine *m, const struct fake_buf *b, const char *proto)
{
	m->cfg.kernel = fake_file(b->p, b->n);
	m->cfg.protocol = proto;
	nb_err_clear();
	return boot_load(&m->ctx);
}

static void test_load_elf(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k = mb_kernel(MB_FLAGS, 0x100000, 0x2000, 0x3000);
	m->cfg.cmdline = "console=ttyS0 x=1";
	m->cfg.initrd = fake_module(0, 5000);
	m->cfg.modules[0] = (struct boot_module){ fake_module(1, 777), "mod1 arg=1" };
	m->cfg.nmodules = 1;
	assert_int_equal(load_file(m, &k, NULL), 0);
	assert_string_equal(m->ctx.format, "multiboot");
	/* 3.2 machine state */
	assert_int_equal(m->cpu.gpr[CPU_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(m->cpu.gpr[CPU_RBX], LAYOUT_MBI);
	assert_int_equal(m->cpu.rip, 0x100020);
	assert_int_equal(m->cpu.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	assert_int_equal(m->cpu.rflags & (X86_RFLAGS_IF | X86_RFLAGS_VM), 0);
	assert_int_equal(m->cpu.cs.selector, BOOT_GDT_CS32);
	assert_int_equal(m->cpu.cs.limit, 0xFFFFFFFF);
	assert_int_equal(m->cpu.cs.db, 1);
	assert_int_equal(m->cpu.ds.limit, 0xFFFFFFFF);
	assert_int_equal(m->cpu.efer, 0);
	/* kernel loaded, bss zeroed */
	assert_int_equal(g32(m, 0x100000), MULTIBOOT_HEADER_MAGIC);
	assert_int_equal(m->ctx.kernel_end, 0x105000);
	/* modules: page aligned, in order, above the kernel, inside RAM */
	uint64_t ml = g32(m, LAYOUT_MBI + 24);
	uint32_t s0 = g32(m, ml), e0 = g32(m, ml + 4), s1 = g32(m, ml + 16), e1 = g32(m, ml + 20);
	assert_int_equal(s0 & 0xFFF, 0);
	assert_true(s0 >= 0x105000);
	assert_int_equal(e0 - s0, 5000);
	assert_int_equal(s1, (e0 + 0xFFF) & ~0xFFFu);
	assert_int_equal(e1 - s1, 777);
	assert_true(e1 <= FAKE_RAM);
	assert_int_equal(g32(m, ml + 8), 0);
	assert_string_equal(gstr(m, g32(m, ml + 24)), "mod1 arg=1");
	assert_memory_equal(mem_ptr(&m->mem, s1, 15), "nobios-module-1", 15);
	assert_int_equal(m->ctx.initrd_addr, s0);
	assert_string_equal(gstr(m, g32(m, LAYOUT_MBI + 16)), "console=ttyS0 x=1");
	free(k.p);
	fake_machine_free(m);
}

static void test_load_aout(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	/* flat image: 0x100 bytes of padding, header at 0x100, 0x3000 bytes */
	static uint8_t img[0x3000];
	memset(img, 0x90, sizeof(img));
	uint32_t flags = MB_FLAGS | MULTIBOOT_AOUT_KLUDGE;
	uint32_t h[8] = { MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags),
			  0x200100, 0x200000, 0x202000, 0x208000, 0x200180 };
	memcpy(img + 0x100, h, sizeof(h));
	mem_write32(&m->mem, 0x203000, 0xFFFFFFFF); /* must be zeroed as bss */
	m->cfg.cmdline = NULL;
	struct fake_buf b = { img, sizeof(img) };
	assert_int_equal(load_file(m, &b, NULL), 0);
	assert_int_equal(m->cpu.rip, 0x200180);
	assert_int_equal(g32(m, 0x200100), MULTIBOOT_HEADER_MAGIC);
	assert_int_equal(g32(m, 0x201FFC), 0x90909090);
	assert_int_equal(g32(m, 0x202000), 0); /* load_end: rest not copied */
	assert_int_equal(g32(m, 0x203000), 0);
	assert_int_equal(m->ctx.kernel_end, 0x208000);
	assert_string_equal(gstr(m, g32(m, LAYOUT_MBI + 16)), "");
	fake_machine_free(m);
}

static void test_malformed(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k;

	k = mb_kernel(MB_FLAGS | MULTIBOOT_VIDEO_MODE, 0x100000, 0x1000, 0);
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("video mode");
	free(k.p);

	k = mb_kernel(MB_FLAGS | 0x8, 0x100000, 0x1000, 0);
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("does not know");
	free(k.p);

	/* optional bits 16-31 (other than the kludge) are fine */
	k = mb_kernel(MB_FLAGS | 0x00020000, 0x100000, 0x1000, 0);
	assert_int_equal(load_file(m, &k, NULL), 0);
	free(k.p);

	/* out of RAM */
	k = mb_kernel(MB_FLAGS, FAKE_RAM - 0x1000, 0x2000, 0);
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("does not fit in guest RAM");
	free(k.p);

	/* below 1 MiB: the low reserved areas */
	k = mb_kernel(MB_FLAGS, 0x7000, 0x1000, 0);
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("does not fit in guest RAM");
	free(k.p);

	/* truncated: the segment's file data cut off */
	k = mb_kernel(MB_FLAGS, 0x100000, 0x2000, 0);
	k.n = 0x1800;
	assert_int_equal(load_file(m, &k, "multiboot"), -1);
	assert_err_has("outside");
	free(k.p);

	/* overlapping segments */
	{
		uint8_t code[0x1000] = { 0 };
		put_header(code, MB_FLAGS);
		struct fake_seg s[2] = { { 0x100000, 0x100000, code, 0x1000, 0x3000 },
					 { 0x102000, 0x102000, code, 0x1000, 0x1000 } };
		k = fake_elf(0, 0x100000, s, 2, NULL, 0, NULL, 0);
		assert_int_equal(load_file(m, &k, NULL), -1);
		assert_err_has("overlap");
		free(k.p);
	}

	/* bad checksum: not detected; forced, a clear error */
	k = mb_kernel(MB_FLAGS, 0x100000, 0x1000, 0);
	k.p[0x1000 + 8] ^= 0x40;
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("not a bootable image");
	assert_int_equal(load_file(m, &k, "multiboot"), -1);
	assert_err_has("checksum");
	free(k.p);

	/* a module that does not exist / does not fit */
	k = mb_kernel(MB_FLAGS, 0x100000, 0x1000, 0);
	m->cfg.initrd = "/nonexistent/initrd";
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("/nonexistent/initrd");
	m->cfg.initrd = NULL;
	free(k.p);
	fake_machine_free(m);

	m = fake_machine_new(4u << 20);
	k = mb_kernel(MB_FLAGS, 0x100000, 0x1000, 0);
	static uint8_t big[3u << 20];
	m->cfg.initrd = fake_file(big, sizeof(big));
	assert_int_equal(load_file(m, &k, NULL), -1);
	assert_err_has("do not fit");
	free(k.p);
	fake_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_window), cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_aout_layout),   cmocka_unit_test(test_mem_sizes),
		cmocka_unit_test(test_build_info),    cmocka_unit_test(test_load_elf),
		cmocka_unit_test(test_load_aout),     cmocka_unit_test(test_malformed),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
