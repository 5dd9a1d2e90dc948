/* test_osv.c - "elf64" (an ELF64 entered at a named symbol in long mode, the
 * 2013 bhyveosvload's entry for OSv) and "osv" (an OSv disk image: MBR,
 * command line at sector 1, loader.elf at sector 128). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/elf64sym.h"
#include "boot/multiboot.h"
#include "cpu/pagewalk.h"
#include "direct_fake.h"

#define GIB 0x40000000ULL

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
	m->cfg.disks[0].path = disk;
	m->cfg.protocol = proto;
	memset(&m->cpu, 0, sizeof(m->cpu));
	nb_err_clear();
	return boot_load(&m->ctx);
}

/* The elf64/osv entry state, exactly (cpu_setup_long_elf64 and the
 * places bhyveosvload used). */
static void check_long_entry(struct fake_machine *m, uint64_t rip, const char *cmdline)
{
	const struct cpu_state *c = &m->cpu;
	assert_int_equal(c->rip, rip);
	assert_int_equal(c->gpr[CPU_RBX], LAYOUT_MBI);
	assert_int_equal(c->gpr[CPU_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(c->gpr[CPU_RSP], LAYOUT_STACK_TOP);
	assert_int_equal(c->cr0, X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
					 X86_CR0_PG);
	assert_int_equal(c->cr3, LAYOUT_PML4);
	assert_int_equal(c->cr4, X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	assert_int_equal(c->efer, X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE);
	assert_int_equal(c->xcr0, X86_XCR0_X87 | X86_XCR0_SSE);
	assert_int_equal(c->cs.selector, 0x08);
	assert_int_equal(c->cs.l, 1);
	assert_int_equal(c->ds.selector, 0x10);
	assert_int_equal(c->ss.selector, 0x10);
	assert_int_equal(g64(m, LAYOUT_GDT + 0x18), 0x00CF9B000000FFFFULL); /* code32 at 0x18 */
	assert_int_equal(c->rflags & X86_RFLAGS_IF, 0);
	/* identity map: PML4[0] -> PDPT, PDPT[3] -> the PD for 3-4 GiB */
	assert_int_equal(g64(m, LAYOUT_PML4) & ~0xFFFull, LAYOUT_PDPT);
	uint64_t pd3 = g64(m, LAYOUT_PDPT + 24) & ~0xFFFull;
	assert_int_equal(g64(m, pd3 + 511 * 8) & ~0x1FFFFFull, 0xFFE00000ull);
	/* multiboot info at 0x1000, its memory map at 0x1100 */
	uint32_t flags = g32(m, LAYOUT_MBI);
	assert_true(flags & MULTIBOOT_INFO_MEM_MAP);
	assert_true(flags & MULTIBOOT_INFO_CMDLINE);
	char *cl = malloc(strlen(cmdline) + 1);
	assert_int_equal(mem_copy_out(&m->mem, cl, g32(m, LAYOUT_MBI + 16), strlen(cmdline) + 1), 0);
	assert_string_equal(cl, cmdline);
	free(cl);
	assert_int_equal(g32(m, LAYOUT_MBI + 44), 4 * 24);
	assert_int_equal(g32(m, LAYOUT_MBI + 48), 0x1100);
	assert_int_equal(g32(m, 0x1100), 20);           /* entry size */
	assert_int_equal(g64(m, 0x1100 + 4 + 24), 0x9FC00); /* 2nd entry: the EBDA */
	assert_int_equal(g32(m, LAYOUT_MBI + 8), (FAKE_RAM >> 10) - 1024);
	/* the command line at 0x7E00 when it fits below the stack */
	if (strlen(cmdline) < 0x200)
		assert_int_equal(g32(m, LAYOUT_MBI + 16), 0x7E00);
	else
		assert_int_equal(g32(m, LAYOUT_MBI + 16), LAYOUT_CMDLINE);
}

/* va through the entry's page tables, as the guest's MMU will see it. */
static uint64_t translate(struct fake_machine *m, uint64_t va)
{
	uint64_t pa = 0;
	if (cpu_translate(&m->mem, &m->cpu, va, &pa, NULL) < 0)
		fail_msg("0x%llx does not translate: %s", (unsigned long long)va, nb_errmsg());
	return pa;
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

/* OSv today: linked 1 GiB above its load address.  Text and data share the
 * first 2 MiB region (4 KiB pages), the bss spans a whole 2 MiB region
 * (one 2 MiB page) and ends in a partial one. */
static struct fake_buf high_kernel(void)
{
	static uint8_t text[0x3000], data[0x1000];
	memset(text, 0x90, sizeof(text));
	memset(data, 0xA5, sizeof(data));
	struct fake_seg s[2] = {
		{ 0x200000, GIB + 0x200000, text, sizeof(text), sizeof(text) },
		{ 0x203000, GIB + 0x203000, data, sizeof(data), 0x400000 },
	};
	return fake_elf(1, GIB + 0x200000, s, 2, NULL, 0, "start64", GIB + 0x200010);
}

static void test_elf64_high(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k = high_kernel();
	const char *path = fake_file(k.p, k.n);
	m->cfg.cmdline = "--rootfs=zfs /hello";
	m->cfg.initrd = fake_module(0, 5000);
	assert_int_equal(load_path(m, path, NULL, NULL), 0);
	check_long_entry(m, GIB + 0x200010, "--rootfs=zfs /hello");
	assert_int_equal(m->cpu.gpr[CPU_RBP], 0); /* no PT_LOAD holds the ELF header */
	/* the kernel at its link addresses ... */
	assert_int_equal(translate(m, GIB + 0x200010), 0x200010);
	assert_int_equal(translate(m, GIB + 0x203000), 0x203000);
	assert_int_equal(translate(m, GIB + 0x4FFFF8), 0x4FFFF8);
	assert_int_equal(translate(m, GIB + 0x602FFF), 0x602FFF);
	uint64_t v = 0;
	assert_int_equal(cpu_read_linear(&m->mem, &m->cpu, GIB + 0x203000, &v, 8), 8);
	assert_int_equal(v, 0xA5A5A5A5A5A5A5A5ULL); /* .data */
	assert_int_equal(cpu_read_linear(&m->mem, &m->cpu, GIB + 0x204000, &v, 8), 8);
	assert_int_equal(v, 0); /* .bss */
	struct cpu_walk w;
	uint64_t pa;
	assert_int_equal(cpu_translate(&m->mem, &m->cpu, GIB + 0x400000, &pa, &w), 0);
	assert_int_equal(w.page_size, 0x200000);
	assert_int_equal(cpu_translate(&m->mem, &m->cpu, GIB + 0x200000, &pa, &w), 0);
	assert_int_equal(w.page_size, 0x1000);
	/* ... and the identity map everywhere else */
	assert_int_equal(translate(m, 0x1000), 0x1000);
	assert_int_equal(translate(m, 0x200010), 0x200010);
	assert_int_equal(translate(m, GIB + 0x1FF000), GIB + 0x1FF000);
	assert_int_equal(translate(m, GIB + 0x603000), GIB + 0x603000);
	assert_int_equal(translate(m, 0xFEE00000), 0xFEE00000);
	/* the module list follows the memory map */
	assert_true(g32(m, LAYOUT_MBI) & MULTIBOOT_INFO_MODS);
	assert_true(g32(m, LAYOUT_MBI + 24) >= 0x1100 + 4 * 24);
	assert_int_equal(g32(m, g32(m, LAYOUT_MBI + 24)), m->ctx.initrd_addr);

	/* what `nobios inspect` says: the same tables, built the same way */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	elf64sym_inspect_symbol(path, k.p, k.n, "start64", out);
	fclose(out);
	assert_non_null(strstr(text, "symbol start64 = 0x40200010 (physical 0x200010)"));
	assert_non_null(strstr(text, "PT_LOAD 0: virtual [0x40200000, 0x40203000) -> physical "
				     "0x200000: 0 x 2 MiB + 3 x 4 KiB pages"));
	assert_non_null(strstr(text, "PT_LOAD 1: virtual [0x40203000, 0x40603000) -> physical "
				     "0x203000: 1 x 2 MiB + 512 x 4 KiB pages"));
	assert_non_null(strstr(text, "page tables: 2 of 96 pages"));
	free(text);
	m->cfg.initrd = NULL;
	free(k.p);

	/* a command line too long for 0x7E00-0x7FFF goes to LAYOUT_CMDLINE */
	char big[700];
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	k = osv_loader("start64", 0x200800);
	path = fake_file(k.p, k.n);
	m->cfg.cmdline = big;
	assert_int_equal(load_path(m, path, NULL, NULL), 0);
	check_long_entry(m, 0x200800, big);
	free(k.p);
	fake_machine_free(m);
}

/* A PT_LOAD that holds the ELF header (offset 0): RBP = where it landed,
 * bhyveosvload's contract that OSv's start64 keeps as elf_header. */
static void test_elf64_header_rbp(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k = high_kernel();
	fb_u64(&k, 64 + 8, 0);       /* PT_LOAD 0: p_offset 0 */
	fb_u64(&k, 64 + 32, 0x3000); /* p_filesz */
	const char *path = fake_file(k.p, k.n);
	assert_int_equal(load_path(m, path, NULL, NULL), 0);
	assert_int_equal(m->cpu.gpr[CPU_RBP], 0x200000);
	assert_int_equal(g32(m, 0x200000), 0x464C457F); /* "\x7fELF" */
	free(k.p);
	fake_machine_free(m);
}

/* Load an ELF of these segments with start64 at the first one; -1 expected. */
static void refused(struct fake_machine *m, const struct fake_seg *s, unsigned n, const char *why)
{
	struct fake_buf k = fake_elf(1, s[0].vaddr, s, n, NULL, 0, "start64", s[0].vaddr);
	const char *path = fake_file(k.p, k.n);
	assert_int_equal(load_path(m, path, NULL, "elf64"), -1);
	assert_err_has(why);
	/* inspect refuses the same way, on one line */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	elf64sym_inspect_symbol(path, k.p, k.n, "start64", out);
	fclose(out);
	if (!strstr(text, why) || !strstr(text, "cannot boot"))
		fail_msg("inspect says \"%s\", expected a refusal with \"%s\"", text, why);
	free(text);
	free(k.p);
}

static void test_elf64_refusals(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	static const uint8_t x[0x1000];
	struct fake_seg two[2] = {
		{ 0x200000, GIB + 0x200000, x, 0x1000, 0x2000 },
		{ 0x300000, GIB + 0x201000, x, 0x1000, 0x1000 },
	};
	refused(m, two, 2, "overlap in virtual memory");
	two[0].memsz = two[0].filesz = 0x800;
	two[1].vaddr = GIB + 0x200800;
	two[1].paddr = 0x300800;
	two[1].filesz = two[1].memsz = 0x800;
	refused(m, two, 2, "share the 4 KiB page at virtual 0x40200000");
	struct fake_seg one = { 0x200000, 0x0000800000000000ULL, x, 0x1000, 0x1000 };
	refused(m, &one, 1, "is not canonical");
	one.vaddr = 0xFFFF7FFFFFFFF000ULL;
	refused(m, &one, 1, "is not canonical");
	one.vaddr = GIB + 0x200010;
	refused(m, &one, 1, "differ in their offset within a 4 KiB page");
	one.vaddr = 0x80000;
	refused(m, &one, 1, "would hide the boot area below 1 MiB");
	one.vaddr = 0x201000;
	one.memsz = 0x2000;
	refused(m, &one, 1, "would hide PT_LOAD 0's physical image");
	/* forty segments each in its own 512 GiB: PDPT + PD + PT apiece */
	struct fake_seg many[40];
	for (unsigned i = 0; i < 40; i++)
		many[i] = (struct fake_seg){ 0x200000 + i * 0x1000, ((uint64_t)(i + 1) << 39) + 0x1000,
					     x, 0x10, 0x1000 };
	refused(m, many, 40, "more page tables than the 96 pages");

	/* a module the kernel's virtual range would hide (modules go to the
	 * top of RAM: the 5000-byte initrd at 0x3FFE000 here) */
	one = (struct fake_seg){ 0x200000, 0x3FFD000, x, 0x1000, 0x4000 };
	struct fake_buf k = fake_elf(1, one.vaddr, &one, 1, NULL, 0, "start64", one.vaddr);
	const char *path = fake_file(k.p, k.n);
	m->cfg.initrd = fake_module(0, 5000);
	assert_int_equal(load_path(m, path, NULL, "elf64"), -1);
	assert_err_has("would hide module 0");
	m->cfg.initrd = NULL;
	assert_int_equal(load_path(m, path, NULL, "elf64"), 0); /* fine without it */
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
		cmocka_unit_test(test_elf64_high),
		cmocka_unit_test(test_elf64_header_rbp),
		cmocka_unit_test(test_elf64_refusals),
		cmocka_unit_test(test_osv_disk),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
