/* test_pvh.c - the PVH boot ABI: hvm_start_info version 1 layout (the
 * numbers of Xen's start_info.h), detection by XEN_ELFNOTE_PHYS32_ENTRY (4-
 * and 8-byte notes), the start_info/memmap/modlist nobios builds, the entry
 * state pvh.pandoc fixes, and malformed kernels rejected clearly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/multiboot.h"
#include "boot/start_info.h"
#include "direct_fake.h"

static void test_layout(void **state)
{
	(void)state;
	/* the diagram in start_info.h: version 1 adds memmap at 40/48 */
	assert_int_equal(sizeof(struct hvm_start_info), 56);
	assert_int_equal(offsetof(struct hvm_start_info, modlist_paddr), 16);
	assert_int_equal(offsetof(struct hvm_start_info, cmdline_paddr), 24);
	assert_int_equal(offsetof(struct hvm_start_info, rsdp_paddr), 32);
	assert_int_equal(offsetof(struct hvm_start_info, memmap_paddr), 40);
	assert_int_equal(offsetof(struct hvm_start_info, memmap_entries), 48);
	assert_int_equal(sizeof(struct hvm_modlist_entry), 32);
	assert_int_equal(sizeof(struct hvm_memmap_table_entry), 24);
	assert_int_equal(XEN_HVM_START_MAGIC_VALUE, 0x336ec578);
}

static struct fake_buf pvh_kernel(int is64, uint64_t paddr, size_t len, uint64_t entry,
				  size_t notelen)
{
	uint8_t *code = calloc(1, len);
	memset(code, 0xF4, len);
	uint8_t desc[8] = { 0 };
	memcpy(desc, &entry, sizeof(entry));
	struct fake_note n[2] = { { "Xen", 6, "linux", 6 },
				  { "Xen", XEN_ELFNOTE_PHYS32_ENTRY, desc, notelen } };
	/* a higher-half vaddr, as Linux's vmlinux: PVH uses physical addresses */
	struct fake_seg s = { paddr, 0xffffffff80000000ull + paddr, code, len, len + 0x1000 };
	struct fake_buf b = fake_elf(is64, 0xffffffff80000000ull + paddr, &s, 1, n, 2, NULL, 0);
	free(code);
	return b;
}

static int load_img(struct fake_machine *m, const struct fake_buf *b, const char *proto)
{
	m->cfg.kernel = fake_file(b->p, b->n);
	m->cfg.protocol = proto;
	nb_err_clear();
	return boot_load(&m->ctx);
}

static void check_entry_state(struct fake_machine *m, uint64_t entry)
{
	const struct cpu_state *c = &m->cpu;
	assert_int_equal(c->rip, entry);
	assert_int_equal(c->gpr[CPU_RBX], LAYOUT_PVH_START_INFO);
	assert_int_equal(c->cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	assert_int_equal(c->cr4, 0);
	assert_int_equal(c->efer, 0);
	assert_int_equal(c->rflags & (X86_RFLAGS_IF | X86_RFLAGS_TF | X86_RFLAGS_VM), 0);
	assert_int_equal(c->cs.base, 0);
	assert_int_equal(c->cs.limit, 0xFFFFFFFF);
	assert_int_equal(c->cs.db, 1);
	assert_true(c->cs.type & 0x8); /* code */
	const struct cpu_segment *ds[] = { &c->ds, &c->es, &c->ss };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ds[i]->base, 0);
		assert_int_equal(ds[i]->limit, 0xFFFFFFFF);
		assert_int_equal(ds[i]->type & 0xA, 0x2); /* data, writable */
	}
	assert_true(c->tr.present);
	assert_int_equal(c->tr.type, 0xB); /* busy 32-bit TSS */
	assert_int_equal(c->tr.limit, 0x67);
}

static void test_load(void **state)
{
	(void)state;
	for (int is64 = 0; is64 <= 1; is64++) {
		struct fake_machine *m = fake_machine_new(FAKE_RAM);
		struct fake_buf k = pvh_kernel(is64, 0x1000000, 0x3000, 0x1000100, is64 ? 8 : 4);
		m->cfg.cmdline = "console=ttyS0 root=/dev/vda";
		m->cfg.initrd = fake_module(0, 5000);
		m->cfg.modules[0] = (struct boot_module){ fake_module(1, 777), "mod1 arg=1" };
		m->cfg.nmodules = 1;
		assert_int_equal(load_img(m, &k, NULL), 0);
		assert_string_equal(m->ctx.format, "pvh");
		check_entry_state(m, 0x1000100);
		assert_int_equal(g32(m, 0x1000000), 0xF4F4F4F4);
		assert_int_equal(g32(m, 0x1003000), 0); /* bss */
		uint64_t si = LAYOUT_PVH_START_INFO;
		assert_int_equal(g32(m, si), XEN_HVM_START_MAGIC_VALUE);
		assert_int_equal(g32(m, si + 4), 1);
		assert_int_equal(g32(m, si + 8), 0);
		assert_int_equal(g32(m, si + 12), 2);
		assert_int_equal(g64(m, si + 32), 0); /* no ACPI tables: no RSDP */
		assert_int_equal(g32(m, si + 52), 0);
		assert_string_equal(gstr(m, g64(m, si + 24)), "console=ttyS0 root=/dev/vda");
		/* memmap: ctx->e820 entry for entry */
		uint64_t mm = g64(m, si + 40);
		assert_int_equal(g32(m, si + 48), m->ctx.e820.n);
		assert_int_equal(m->ctx.e820.n, 4);
		for (unsigned i = 0; i < m->ctx.e820.n; i++) {
			assert_int_equal(g64(m, mm + 24 * i), m->ctx.e820.e[i].addr);
			assert_int_equal(g64(m, mm + 24 * i + 8), m->ctx.e820.e[i].size);
			assert_int_equal(g32(m, mm + 24 * i + 16), m->ctx.e820.e[i].type);
			assert_int_equal(g32(m, mm + 24 * i + 20), 0);
		}
		assert_int_equal(g64(m, mm + 24 * 3 + 8), FAKE_RAM - 0x100000);
		/* modules: the initrd first, page aligned above the kernel */
		uint64_t ml = g64(m, si + 16);
		uint64_t a0 = g64(m, ml), a1 = g64(m, ml + 32);
		assert_int_equal(a0 & 0xFFF, 0);
		assert_true(a0 >= 0x1004000);
		assert_int_equal(g64(m, ml + 8), 5000);
		assert_int_equal(g64(m, ml + 16), 0);
		assert_int_equal(a1, (a0 + 5000 + 0xFFF) & ~0xFFFull);
		assert_int_equal(g64(m, ml + 40), 777);
		assert_string_equal(gstr(m, g64(m, ml + 48)), "mod1 arg=1");
		assert_true(a1 + 777 <= FAKE_RAM);
		assert_memory_equal(mem_ptr(&m->mem, a0, 15), "nobios-module-0", 15);
		assert_int_equal(m->ctx.initrd_addr, a0);
		assert_int_equal(m->ctx.initrd_size, 5000);
		/* everything the start_info points at lies in its page */
		assert_true(mm > si && mm < si + LAYOUT_PVH_SIZE);
		assert_true(ml > si && ml < si + LAYOUT_PVH_SIZE);
		free(k.p);
		fake_machine_free(m);
	}
}

static void test_probe(void **state)
{
	(void)state;
	const struct boot_format *pvh = boot_format_by_name("pvh");
	assert_non_null(pvh);
	char why[256];
	struct fake_buf k = pvh_kernel(1, 0x1000000, 0x1000, 0x1000010, 8);
	struct boot_file f = { .path = "k", .data = k.p, .size = k.n };
	assert_int_equal(pvh->probe(&f, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "0x1000010"));
	/* without the note: no */
	struct fake_seg s = { 0x100000, 0x100000, "x", 1, 1 };
	struct fake_buf plain = fake_elf(0, 0x100000, &s, 1, NULL, 0, NULL, 0);
	f.data = plain.p;
	f.size = plain.n;
	assert_int_equal(pvh->probe(&f, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "type 18"));
	/* not an ELF */
	f.data = (const uint8_t *)"MZ this is not an elf file at all";
	f.size = 33;
	assert_int_equal(pvh->probe(&f, why, sizeof(why)), 0);
	free(k.p);
	free(plain.p);
}

static void test_malformed(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct fake_buf k;

	/* a 2-byte PHYS32_ENTRY note */
	k = pvh_kernel(1, 0x1000000, 0x1000, 0x1000010, 2);
	assert_int_equal(load_img(m, &k, NULL), -1);
	assert_err_has("bad length");
	free(k.p);

	/* entry outside the loaded data */
	k = pvh_kernel(1, 0x1000000, 0x1000, 0x2000000, 8);
	assert_int_equal(load_img(m, &k, NULL), -1);
	assert_err_has("no loaded segment");
	free(k.p);

	/* a segment beyond RAM */
	k = pvh_kernel(1, FAKE_RAM - 0x1000, 0x1000, FAKE_RAM - 0x1000, 8);
	assert_int_equal(load_img(m, &k, NULL), -1);
	assert_err_has("does not fit in guest RAM");
	free(k.p);

	/* a segment in the low reserved areas */
	k = pvh_kernel(0, 0x6000, 0x1000, 0x6000, 4);
	assert_int_equal(load_img(m, &k, NULL), -1);
	assert_err_has("does not fit in guest RAM");
	free(k.p);

	/* truncated: program headers cut off */
	k = pvh_kernel(1, 0x1000000, 0x1000, 0x1000010, 8);
	k.n = 80;
	assert_int_equal(load_img(m, &k, "pvh"), -1);
	assert_err_has("outside");
	free(k.p);

	/* a forced PVH boot of an ELF without the note */
	struct fake_seg s = { 0x100000, 0x100000, "x", 1, 1 };
	k = fake_elf(0, 0x100000, &s, 1, NULL, 0, NULL, 0);
	assert_int_equal(load_img(m, &k, "pvh"), -1);
	assert_err_has("not bootable by PVH");
	free(k.p);

	/* a command line too long for the area */
	k = pvh_kernel(1, 0x1000000, 0x1000, 0x1000010, 8);
	char *big = malloc(LAYOUT_CMDLINE_MAX + 10);
	memset(big, 'a', LAYOUT_CMDLINE_MAX + 9);
	big[LAYOUT_CMDLINE_MAX + 9] = 0;
	m->cfg.cmdline = big;
	assert_int_equal(load_img(m, &k, NULL), -1);
	assert_err_has("command line");
	m->cfg.cmdline = NULL;
	free(big);
	free(k.p);
	fake_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_malformed),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
