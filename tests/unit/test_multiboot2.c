/* test_multiboot2.c - Multiboot2 1.0: the header search window (32768
 * bytes, 8-byte aligned), checksum, architecture, tag sizes (absurd ones
 * rejected), refusal of required tags nobios cannot honour, the information
 * structure walked tag by tag, address-tag and ELF loading, entry state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/multiboot.h"
#include "boot/multiboot2.h"
#include "direct_fake.h"

/* A header builder: tags appended 8-aligned, end tag and checksum last. */
struct hb {
	uint8_t p[512];
	size_t n;
};
static void hb_start(struct hb *h)
{
	memset(h, 0, sizeof(*h));
	h->n = 16;
}
static void hb_tag(struct hb *h, uint16_t type, uint16_t flags, const uint32_t *body,
		   unsigned nbody)
{
	h->n = (h->n + 7) & ~(size_t)7;
	uint32_t size = 8 + 4 * nbody;
	memcpy(h->p + h->n, &type, 2);
	memcpy(h->p + h->n + 2, &flags, 2);
	memcpy(h->p + h->n + 4, &size, 4);
	if (nbody)
		memcpy(h->p + h->n + 8, body, 4 * nbody);
	h->n += size;
}
static void hb_finish(struct hb *h, uint32_t arch)
{
	hb_tag(h, 0, 0, NULL, 0);
	uint32_t w[4] = { MULTIBOOT2_HEADER_MAGIC, arch, (uint32_t)h->n, 0 };
	w[3] = -(w[0] + w[1] + w[2]);
	memcpy(h->p, w, 16);
}

static int parse_at(const struct hb *h, size_t off, size_t size, struct multiboot2_req *req)
{
	static uint8_t img[65536];
	memset(img, 0, sizeof(img));
	memcpy(img + off, h->p, h->n);
	nb_err_clear();
	return multiboot2_parse_header("k", img, size, req);
}

static void test_search_window(void **state)
{
	(void)state;
	struct hb h;
	struct multiboot2_req req;
	hb_start(&h);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 65536, &req), 1);
	assert_int_equal(req.off, 0);
	assert_int_equal(parse_at(&h, 32752, 65536, &req), 1); /* last 8-aligned start */
	assert_int_equal(req.off, 32752);
	assert_int_equal(parse_at(&h, 32760, 65536, &req), 0);
	assert_int_equal(parse_at(&h, 4, 65536, &req), 0);     /* misaligned */
	assert_int_equal(parse_at(&h, 40000, 65536, &req), 0);
}

static void test_checksum_arch_length(void **state)
{
	(void)state;
	struct hb h;
	struct multiboot2_req req;
	hb_start(&h);
	hb_finish(&h, 0);
	h.p[12] ^= 1;
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("checksum");
	hb_start(&h);
	hb_finish(&h, MULTIBOOT_ARCHITECTURE_MIPS32);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("not i386");
	/* header_length past the end of the file */
	hb_start(&h);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 20, &req), -1);
	assert_err_has("past the end");
}

static void test_tags(void **state)
{
	(void)state;
	struct hb h;
	struct multiboot2_req req;
	uint32_t want[] = { 1, 2, 3, 4, 6 };
	uint32_t addr[] = { 0x100000, 0x100000, 0x102000, 0x104000 };
	uint32_t entry[] = { 0x100040 };
	uint32_t fb[] = { 1024, 768, 32 };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST, 0, want, 5);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ADDRESS, 0, addr, 4);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS, 0, entry, 1);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_FRAMEBUFFER, MULTIBOOT_HEADER_TAG_OPTIONAL, fb, 3);
	hb_tag(&h, 42, MULTIBOOT_HEADER_TAG_OPTIONAL, NULL, 0); /* unknown, optional */
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 8, 4096, &req), 1);
	assert_int_equal(req.nrequested, 5);
	assert_int_equal(req.requested[4], 6);
	assert_int_equal(req.requested_req[0], 1);
	assert_int_equal(req.has_address, 1);
	assert_int_equal(req.load_end_addr, 0x102000);
	assert_int_equal(req.entry_addr, 0x100040);
	assert_int_equal(req.module_align, 1);
	assert_int_equal(req.has_framebuffer, 1);
	assert_int_equal(req.ntags, 7);
	assert_int_equal(multiboot2_check_req("k", &req), 0);
}

static void test_absurd_tags(void **state)
{
	(void)state;
	struct hb h;
	struct multiboot2_req req;
	/* tag size 4 (< its own head) */
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	hb_finish(&h, 0);
	uint32_t four = 4;
	memcpy(h.p + 16 + 4, &four, 4);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("absurd size");
	/* a size that runs past header_length (and past the file) */
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	hb_finish(&h, 0);
	uint32_t huge = 0xFFFFFFF0u;
	memcpy(h.p + 16 + 4, &huge, 4);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("absurd size");
	/* a fixed-size tag with the wrong size */
	hb_start(&h);
	uint32_t e2[2] = { 0x100000, 0 };
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS, 0, e2, 2);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("expected 12");
	/* no end tag: header_length stops before it */
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_MODULE_ALIGN, 0, NULL, 0);
	hb_finish(&h, 0);
	uint32_t w[4] = { MULTIBOOT2_HEADER_MAGIC, 0, 24, 0 };
	w[3] = -(w[0] + w[1] + w[2]);
	memcpy(h.p, w, 16);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("no end tag");
	/* information request with a ragged size */
	hb_start(&h);
	uint32_t one[1] = { 1 };
	hb_tag(&h, MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST, 0, one, 1);
	uint32_t ten = 10;
	memcpy(h.p + 16 + 4, &ten, 4);
	h.n = 16 + 16;
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("8 + 4n");
	/* unknown required tag */
	hb_start(&h);
	hb_tag(&h, 42, 0, NULL, 0);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), -1);
	assert_err_has("type 42");
}

static void test_refusals(void **state)
{
	(void)state;
	struct hb h;
	struct multiboot2_req req;
	uint32_t fb[] = { 1024, 768, 32 };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_FRAMEBUFFER, 0, fb, 3);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), 1);
	assert_int_equal(multiboot2_check_req("k", &req), -1);
	assert_err_has("framebuffer");

	uint32_t want_fb[] = { 1, MULTIBOOT_TAG_TYPE_FRAMEBUFFER };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST, 0, want_fb, 2);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), 1);
	assert_int_equal(multiboot2_check_req("k", &req), -1);
	assert_err_has("information tag 8");
	/* the same request, optional: fine */
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST, MULTIBOOT_HEADER_TAG_OPTIONAL,
	       want_fb, 2);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), 1);
	assert_int_equal(multiboot2_check_req("k", &req), 0);

	uint32_t cons[] = { MULTIBOOT_CONSOLE_FLAGS_CONSOLE_REQUIRED };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_CONSOLE_FLAGS, 0, cons, 1);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), 1);
	assert_int_equal(multiboot2_check_req("k", &req), -1);
	assert_err_has("console");

	uint32_t addr[] = { 0x100000, 0x100000, 0, 0 };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ADDRESS, 0, addr, 4);
	hb_finish(&h, 0);
	assert_int_equal(parse_at(&h, 0, 4096, &req), 1);
	assert_int_equal(multiboot2_check_req("k", &req), -1);
	assert_err_has("entry address");
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
	assert_int_equal(multiboot2_build_info(&m->ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, "hello there",
					       &mods, 0x100000, &end), 0);
	uint64_t b = LAYOUT_MBI;
	uint32_t total = g32(m, b);
	assert_int_equal(end, b + total);
	assert_int_equal(g32(m, b + 4), 0);
	unsigned seen[32] = { 0 }, nmod = 0;
	uint64_t t = b + 8;
	for (;;) {
		assert_int_equal(t & 7, 0);
		uint32_t type = g32(m, t), size = g32(m, t + 4);
		assert_true(size >= 8 && t + size <= b + total);
		assert_true(type < 32);
		seen[type]++;
		if (type == MULTIBOOT_TAG_TYPE_END) {
			assert_int_equal(size, 8);
			assert_int_equal(t + 8, b + total);
			break;
		}
		switch (type) {
		case MULTIBOOT_TAG_TYPE_CMDLINE:
			assert_string_equal(gstr(m, t + 8), "hello there");
			assert_int_equal(size, 8 + 12);
			break;
		case MULTIBOOT_TAG_TYPE_BOOT_LOADER_NAME:
			assert_string_equal(gstr(m, t + 8), NOBIOS_LOADER_NAME);
			break;
		case MULTIBOOT_TAG_TYPE_MODULE:
			assert_int_equal(g32(m, t + 8), mods.m[nmod].addr);
			assert_int_equal(g32(m, t + 12), mods.m[nmod].addr + mods.m[nmod].size);
			assert_string_equal(gstr(m, t + 16), nmod ? "m1 x" : "");
			nmod++;
			break;
		case MULTIBOOT_TAG_TYPE_BASIC_MEMINFO:
			assert_int_equal(size, 16);
			assert_int_equal(g32(m, t + 8), 639);
			assert_int_equal(g32(m, t + 12), (FAKE_RAM >> 10) - 1024);
			break;
		case MULTIBOOT_TAG_TYPE_MMAP:
			assert_int_equal(g32(m, t + 8), 24);
			assert_int_equal(g32(m, t + 12), 0);
			assert_int_equal(size, 16 + 24 * m->ctx.e820.n);
			for (unsigned i = 0; i < m->ctx.e820.n; i++) {
				uint64_t e = t + 16 + 24 * i;
				assert_int_equal(g64(m, e), m->ctx.e820.e[i].addr);
				assert_int_equal(g64(m, e + 8), m->ctx.e820.e[i].size);
				assert_int_equal(g32(m, e + 16), m->ctx.e820.e[i].type);
				assert_int_equal(g32(m, e + 20), 0);
			}
			break;
		case MULTIBOOT_TAG_TYPE_LOAD_BASE_ADDR:
			assert_int_equal(size, 12);
			assert_int_equal(g32(m, t + 8), 0x100000);
			break;
		default:
			fail_msg("unexpected tag %u", type);
		}
		t += (size + 7) & ~7u;
	}
	assert_int_equal(nmod, 2);
	assert_int_equal(seen[1] + seen[2] + seen[4] + seen[6] + seen[21], 5);
	/* too little room; misaligned address */
	assert_int_equal(multiboot2_build_info(&m->ctx, LAYOUT_MBI, 64, "x", &mods, 0, NULL), -1);
	assert_err_has("does not fit");
	assert_int_equal(multiboot2_build_info(&m->ctx, LAYOUT_MBI + 4, 4096, "x", NULL, 0, NULL),
			 -1);
	fake_machine_free(m);
}

static int load_img(struct fake_machine *m, const void *p, size_t n, const char *proto)
{
	m->cfg.kernel = fake_file(p, n);
	m->cfg.protocol = proto;
	nb_err_clear();
	return boot_load(&m->ctx);
}

static void test_load_address_tag(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct hb h;
	/* flat image at 0x200000, header at file offset 0x40 */
	uint32_t addr[] = { 0x200040, 0x200000, 0x201000, 0x203000 };
	uint32_t entry[] = { 0x200800 };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ADDRESS, 0, addr, 4);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS, 0, entry, 1);
	hb_finish(&h, 0);
	static uint8_t img[0x1800];
	memset(img, 0xCC, sizeof(img));
	memcpy(img + 0x40, h.p, h.n);
	m->cfg.cmdline = "a b c";
	m->cfg.initrd = fake_module(0, 5000);
	assert_int_equal(load_img(m, img, sizeof(img), NULL), 0);
	assert_string_equal(m->ctx.format, "multiboot2");
	assert_int_equal(m->cpu.rip, 0x200800);
	assert_int_equal(m->cpu.gpr[CPU_RAX], MULTIBOOT2_BOOTLOADER_MAGIC);
	assert_int_equal(m->cpu.gpr[CPU_RBX], LAYOUT_MBI);
	assert_int_equal(m->cpu.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	assert_int_equal(m->cpu.rflags & X86_RFLAGS_IF, 0);
	assert_int_equal(m->cpu.cs.db, 1);
	assert_int_equal(g32(m, 0x200ffc), 0xCCCCCCCC);
	assert_int_equal(g32(m, 0x201000), 0); /* past load_end_addr: bss */
	assert_int_equal(m->ctx.kernel_end, 0x203000);
	assert_true(m->ctx.initrd_addr >= 0x203000 && (m->ctx.initrd_addr & 0xFFF) == 0);
	m->cfg.initrd = NULL;

	/* the same image cut short: load_end_addr past the file */
	assert_int_equal(load_img(m, img, 0x800, "multiboot2"), -1);
	assert_err_has("longer than the file");
	/* an image out of RAM */
	uint32_t far[] = { 0x7000040, 0x7000000, 0x7001000, 0x7003000 };
	uint32_t fentry[] = { 0x7000800 };
	hb_start(&h);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ADDRESS, 0, far, 4);
	hb_tag(&h, MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS, 0, fentry, 1);
	hb_finish(&h, 0);
	memcpy(img + 0x40, h.p, h.n);
	assert_int_equal(load_img(m, img, sizeof(img), NULL), -1);
	assert_err_has("does not fit");
	fake_machine_free(m);
}

static void test_load_elf(void **state)
{
	(void)state;
	struct fake_machine *m = fake_machine_new(FAKE_RAM);
	struct hb h;
	hb_start(&h);
	uint32_t want[] = { 1, 6 };
	hb_tag(&h, MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST, 0, want, 2);
	hb_finish(&h, 0);
	uint8_t code[0x1000] = { 0 };
	memcpy(code, h.p, h.n);
	struct fake_seg s = { 0x100000, 0x100000, code, sizeof(code), 0x2000 };
	struct fake_buf k = fake_elf(1, 0x100100, &s, 1, NULL, 0, NULL, 0);
	assert_int_equal(load_img(m, k.p, k.n, NULL), 0);
	assert_string_equal(m->ctx.format, "multiboot2");
	assert_int_equal(m->cpu.rip, 0x100100);
	/* truncated ELF */
	assert_int_equal(load_img(m, k.p, 0x30, "multiboot2"), -1);
	assert_err_has("no Multiboot2 header");
	assert_int_equal(load_img(m, k.p, 0x1100, "multiboot2"), -1);
	assert_err_has("outside");
	free(k.p);
	fake_machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_window),  cmocka_unit_test(test_checksum_arch_length),
		cmocka_unit_test(test_tags),           cmocka_unit_test(test_absurd_tags),
		cmocka_unit_test(test_refusals),       cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_load_address_tag), cmocka_unit_test(test_load_elf),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	fake_cleanup();
	return r;
}
