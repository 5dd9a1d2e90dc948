/* test_osv.c - "elf64" (an ELF64 entered at a named symbol in long mode, the
 * 2013 bhyveosvload's entry for OSv) and "osv" (an OSv disk image: MBR,
 * command line at sector 1, loader.elf at sector 128). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/multiboot.h"
#include "direct_fake.h"

static struct fake_buf osv_loader(const char *sym, uint64_t symval)
{
	static uint8_t code[0x2000];
	memset(code, 0x90, sizeof(code));
	struct fake_seg s = { 0x200000, 0x200000, code, sizeof(code), 0x4000 };
	return fake_elf(1, 0x200000, &s, 1, NULL, 0, sym, symval);
}

static int load_path(struct fake_machine *m, const char *kernel, const char *disk,
		     const char *proto)
{
	m->cfg.kernel = kernel;
	m->cfg.disk.path = disk;
	m->cfg.protocol = proto;
	memset(&m->cpu, 0, sizeof(m->cpu));
	nb_err_clear();
	return boot_load(&m->ctx);
}

static void check_long_entry(struct fake_machine *m, uint64_t rip, const char *cmdline)
{
	const struct cpu_state *c = &m->cpu;
	assert_int_equal(c->rip, rip);
	assert_int_equal(c->gpr[CPU_RBX], LAYOUT_MBI);
	assert_int_equal(c->gpr[CPU_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(c->gpr[CPU_RSP], LAYOUT_STACK_TOP);
	assert_int_equal(c->cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE | X86_CR0_PG);
	assert_int_equal(c->cr3, LAYOUT_PML4);
	assert_true(c->cr4 & X86_CR4_PAE);
	assert_int_equal(c->efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
	assert_int_equal(c->cs.l, 1);
	assert_int_equal(c->rflags & X86_RFLAGS_IF, 0);
	/* identity map: PML4[0] -> PDPT, PDPT[3] -> the PD for 3-4 GiB */
	assert_int_equal(g64(m, LAYOUT_PML4) & ~0xFFFull, LAYOUT_PDPT);
	uint64_t pd3 = g64(m, LAYOUT_PDPT + 24) & ~0xFFFull;
	assert_int_equal(g64(m, pd3 + 511 * 8) & ~0x1FFFFFull, 0xFFE00000ull);
	/* multiboot info at 0x1000 */
	uint32_t flags = g32(m, LAYOUT_MBI);
	assert_true(flags & MULTIBOOT_INFO_MEM_MAP);
	assert_true(flags & MULTIBOOT_INFO_CMDLINE);
	assert_string_equal(gstr(m, g32(m, LAYOUT_MBI + 16)), cmdline);
	assert_int_equal(g32(m, LAYOUT_MBI + 44), 4 * 24);
	assert_int_equal(g32(m, LAYOUT_MBI + 8), (FAKE_RAM >> 10) - 1024);
}

static void test_elf64_symbol(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k = osv_loader("start64", 0x200800);
	const char *path = fake_file(k.p, k.n);
	m->cfg.cmdline = "--verbose /hello";
	assert_int_equal(load_path(m, path, NULL, NULL), 0);
	assert_string_equal(m->ctx.format, "elf64");
	check_long_entry(m, 0x200800, "--verbose /hello");
	assert_int_equal(g32(m, 0x200000), 0x90909090);
	free(k.p);

	/* another symbol, named with --entry-symbol */
	k = osv_loader("main_entry", 0x200400);
	path = fake_file(k.p, k.n);
	char why[256];
	struct boot_file f = { .path = path, .data = k.p, .size = k.n };
	assert_int_equal(boot_format_by_name("elf64")->probe(&f, why, sizeof(why)), 0);
	m->cfg.entry_symbol = "main_entry";
	assert_int_equal(load_path(m, path, NULL, "elf64"), 0);
	assert_int_equal(m->cpu.rip, 0x200400);
	m->cfg.entry_symbol = "nope";
	assert_int_equal(load_path(m, path, NULL, "elf64"), -1);
	assert_err_has("no symbol 'nope'");
	m->cfg.entry_symbol = NULL;
	/* a symbol outside every segment */
	free(k.p);
	k = osv_loader("start64", 0x900000);
	path = fake_file(k.p, k.n);
	assert_int_equal(load_path(m, path, NULL, "elf64"), -1);
	assert_err_has("no loaded segment");
	free(k.p);
	/* an ELF32 forced through elf64 */
	struct fake_seg s = { 0x100000, 0x100000, "x", 1, 1 };
	k = fake_elf(0, 0x100000, &s, 1, NULL, 0, "start64", 0x100000);
	path = fake_file(k.p, k.n);
	assert_int_equal(load_path(m, path, NULL, "elf64"), -1);
	assert_err_has("ELF64");
	free(k.p);
	fake_machine_free(m);
}

/* MBR + cmdline at sector 1 + loader at sector 128 */
static struct fake_buf osv_disk(const char *cmdline, size_t cmdlen)
{
	struct fake_buf d = { 0 };
	struct fake_buf k = osv_loader("start64", 0x200800);
	uint8_t sig[2] = { 0x55, 0xAA };
	fb_put(&d, 510, sig, 2);
	fb_put(&d, 512, cmdline, cmdlen);
	fb_put(&d, 128 * 512, k.p, k.n);
	free(k.p);
	return d;
}

static void test_osv_disk(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	const char *cl = "--bootchart /tools/hello.so";
	struct fake_buf d = osv_disk(cl, strlen(cl) + 1);
	const char *path = fake_file(d.p, d.n);
	m->cfg.cmdline = NULL;
	assert_int_equal(load_path(m, NULL, path, NULL), 0);
	assert_string_equal(m->ctx.format, "osv");
	check_long_entry(m, 0x200800, cl);
	/* --cmdline replaces the image's */
	m->cfg.cmdline = "override";
	assert_int_equal(load_path(m, NULL, path, NULL), 0);
	check_long_entry(m, 0x200800, "override");
	m->cfg.cmdline = NULL;
	free(d.p);

	/* a command line without NUL in its 63 sectors */
	char *big = malloc(63 * 512);
	memset(big, 'x', 63 * 512);
	d = osv_disk(big, 63 * 512);
	free(big);
	path = fake_file(d.p, d.n);
	assert_int_equal(load_path(m, NULL, path, NULL), -1);
	assert_err_has("not NUL-terminated");
	free(d.p);

	/* a plain MBR disk is not ours */
	uint8_t mbr[65536] = { 0 };
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
	struct boot_file f = { .path = "d", .data = mbr, .size = sizeof(mbr) };
	char why[256];
	assert_int_equal(boot_format_by_name("osv")->probe(&f, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "sector 128"));
	mbr[510] = 0;
	assert_int_equal(boot_format_by_name("osv")->probe(&f, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "0x55AA"));
	fake_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64_symbol),
		cmocka_unit_test(test_osv_disk),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
