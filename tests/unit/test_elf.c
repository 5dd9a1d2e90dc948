/* test_elf.c - the ELF reader against ELF32 and ELF64 images built here:
 * headers, PT_LOAD by p_paddr with bss zeroed, notes from PT_NOTE and from
 * SHT_NOTE sections, symbols from .symtab and .dynsym, virtual-to-physical
 * translation, and every malformed field rejected with an error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/elf.h"
#include "mem/mem.h"
#include "util/err.h"
#include "crafted.h"

#define IMG_SIZE 0x940
#define TEXT_PADDR 0x200000ull
#define DATA_PADDR 0x201000ull
#define VBASE 0xffffffff80000000ull
#define RAM_SIZE (4u << 20)

static uint8_t img[IMG_SIZE];
static int is64;

static void w16(size_t o, uint16_t v) { img[o] = (uint8_t)v, img[o + 1] = (uint8_t)(v >> 8); }
static void w32(size_t o, uint32_t v) { w16(o, (uint16_t)v), w16(o + 2, (uint16_t)(v >> 16)); }
static void w64(size_t o, uint64_t v) { w32(o, (uint32_t)v), w32(o + 4, (uint32_t)(v >> 32)); }
static void waddr(size_t o, uint64_t v) { if (is64) w64(o, v); else w32(o, (uint32_t)v); }

static size_t phsz(void) { return is64 ? 56 : 32; }
static size_t shsz(void) { return is64 ? 64 : 40; }
static size_t symsz(void) { return is64 ? 24 : 16; }
#define PHOFF 0x40
#define SHOFF 0x780

static void phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	size_t o = PHOFF + i * phsz();
	if (!is64)
		vaddr &= 0xffffffff;
	w32(o, type);
	if (is64) {
		w32(o + 4, flags);
		w64(o + 8, off);
		w64(o + 16, vaddr);
		w64(o + 24, paddr);
		w64(o + 32, filesz);
		w64(o + 40, memsz);
		w64(o + 48, 4);
	} else {
		w32(o + 4, (uint32_t)off);
		w32(o + 8, (uint32_t)vaddr);
		w32(o + 12, (uint32_t)paddr);
		w32(o + 16, (uint32_t)filesz);
		w32(o + 20, (uint32_t)memsz);
		w32(o + 24, flags);
		w32(o + 28, 4);
	}
}

static void shdr(unsigned i, uint32_t type, uint64_t off, uint64_t size, uint32_t link,
		 uint64_t entsize)
{
	size_t o = SHOFF + i * shsz();
	w32(o, 0);
	w32(o + 4, type);
	if (is64) {
		w64(o + 24, off);
		w64(o + 32, size);
		w32(o + 40, link);
		w64(o + 48, 4);
		w64(o + 56, entsize);
	} else {
		w32(o + 16, (uint32_t)off);
		w32(o + 20, (uint32_t)size);
		w32(o + 24, link);
		w32(o + 32, 4);
		w32(o + 36, (uint32_t)entsize);
	}
}

/* A note at o: returns the offset after it. */
static size_t note(size_t o, const char *name, uint32_t type, const void *desc, uint32_t dlen)
{
	uint32_t nlen = (uint32_t)strlen(name) + 1;
	w32(o, nlen);
	w32(o + 4, dlen);
	w32(o + 8, type);
	memcpy(img + o + 12, name, nlen);
	size_t d = o + 12 + ((nlen + 3) & ~3u);
	memcpy(img + d, desc, dlen);
	return d + ((dlen + 3) & ~3u);
}

static void sym(size_t tab, unsigned i, uint32_t name, uint64_t value, uint16_t shndx)
{
	size_t o = tab + i * symsz();
	w32(o, name);
	if (is64) {
		img[o + 4] = 0x12; /* GLOBAL FUNC */
		w16(o + 6, shndx);
		w64(o + 8, value);
	} else {
		w32(o + 4, (uint32_t)value);
		img[o + 12] = 0x12;
		w16(o + 14, shndx);
	}
}

static const uint8_t xen_desc[4] = { 0x34, 0x12, 0x20, 0x00 };
static const uint8_t sec_desc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
#define NOTE_OFF 0x400
#define SECNOTE_OFF 0x480
#define SYMTAB_OFF 0x500
#define STRTAB_OFF 0x600
#define DYNSYM_OFF 0x680
#define DYNSTR_OFF 0x700
static size_t note_len, secnote_len;

static void build(int want64)
{
	is64 = want64;
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	w16(16, 2);               /* ET_EXEC */
	w16(18, is64 ? 62 : 3);   /* EM_X86_64 / EM_386 */
	w32(20, 1);
	waddr(24, TEXT_PADDR + 0x10);
	if (is64) {
		w64(32, PHOFF);
		w64(40, SHOFF);
		w16(52, 64);
		w16(54, 56);
		w16(56, 3);
		w16(58, 64);
		w16(60, 7);
		w16(62, 0);
	} else {
		w32(28, PHOFF);
		w32(32, SHOFF);
		w16(40, 52);
		w16(42, 32);
		w16(44, 3);
		w16(46, 40);
		w16(48, 7);
		w16(50, 0);
	}
	for (int i = 0; i < 0x100; i++)
		img[0x200 + i] = (uint8_t)(i ^ 0x5A);
	for (int i = 0; i < 0x80; i++)
		img[0x300 + i] = (uint8_t)(0x80 + i);
	size_t e = note(NOTE_OFF, "Xen", 18, xen_desc, sizeof(xen_desc));
	e = note(e, "GNU", 3, "0123456789abcdefghij", 20);
	note_len = e - NOTE_OFF;
	secnote_len = note(SECNOTE_OFF, "nobios", 7, sec_desc, sizeof(sec_desc)) - SECNOTE_OFF;

	phdr(0, 1, 5, 0x200, VBASE + TEXT_PADDR, TEXT_PADDR, 0x100, 0x100);
	phdr(1, 1, 6, 0x300, VBASE + DATA_PADDR, DATA_PADDR, 0x80, 0x1000); /* bss */
	phdr(2, 4, 4, NOTE_OFF, 0, 0, note_len, note_len);

	static const char str[] = "\0start64\0undef_sym\0data_sym";
	memcpy(img + STRTAB_OFF, str, sizeof(str));
	sym(SYMTAB_OFF, 0, 0, 0, 0);
	sym(SYMTAB_OFF, 1, 1, TEXT_PADDR + 0x10, 1);
	sym(SYMTAB_OFF, 2, 9, 0x1234, 0); /* undefined: never found */
	sym(SYMTAB_OFF, 3, 19, DATA_PADDR + 8, 1);
	static const char dstr[] = "\0dyn_only";
	memcpy(img + DYNSTR_OFF, dstr, sizeof(dstr));
	sym(DYNSYM_OFF, 0, 0, 0, 0);
	sym(DYNSYM_OFF, 1, 1, 0xabcdef, 1);

	shdr(0, 0, 0, 0, 0, 0);
	shdr(1, 1, 0x200, 0x100, 0, 0);
	shdr(2, 7, SECNOTE_OFF, secnote_len, 0, 0);
	shdr(3, 2, SYMTAB_OFF, 4 * symsz(), 4, symsz());
	shdr(4, 3, STRTAB_OFF, sizeof(str), 0, 0);
	shdr(5, 11, DYNSYM_OFF, 2 * symsz(), 6, symsz());
	shdr(6, 3, DYNSTR_OFF, sizeof(dstr), 0, 0);
}

static uint8_t *ram;
static struct guest_mem mem;

static int setup(void **state)
{
	ram = malloc(RAM_SIZE);
	assert_non_null(ram);
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

static void check_image(int want64)
{
	build(want64);
	struct elf_image e;
	assert_int_equal(elf_is_elf(img, sizeof(img)), 1);
	if (elf_parse(&e, "test.elf", img, sizeof(img)) < 0)
		fail_msg("%s", nb_errmsg());
	assert_int_equal(e.is64, want64);
	assert_int_equal(e.machine, want64 ? 62 : 3);
	assert_int_equal(e.entry, TEXT_PADDR + 0x10);
	assert_int_equal(e.nload, 2);
	assert_int_equal(e.load[0].paddr, TEXT_PADDR);
	assert_int_equal(e.load[0].filesz, 0x100);
	assert_int_equal(e.load[0].flags, 5);
	assert_int_equal(e.load[1].memsz, 0x1000);
	assert_int_equal(e.lo_paddr, TEXT_PADDR);
	assert_int_equal(e.hi_paddr, DATA_PADDR + 0x1000);

	/* load by p_paddr, bss zeroed over pre-filled RAM */
	memset(ram, 0xCC, RAM_SIZE);
	assert_int_equal(mem_init_buf(&mem, ram, RAM_SIZE), 0);
	assert_int_equal(elf_load(&e, &mem, 0x100000), 0);
	assert_memory_equal(ram + TEXT_PADDR, img + 0x200, 0x100);
	assert_memory_equal(ram + DATA_PADDR, img + 0x300, 0x80);
	for (size_t i = 0x80; i < 0x1000; i++)
		assert_int_equal(ram[DATA_PADDR + i], 0);
	assert_int_equal(ram[DATA_PADDR + 0x1000], 0xCC); /* nothing past memsz */
	assert_int_equal(ram[TEXT_PADDR - 1], 0xCC);

	/* notes: from PT_NOTE, and one only in a SHT_NOTE section */
	const uint8_t *d;
	size_t dl;
	assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &dl), 1);
	assert_int_equal(dl, 4);
	assert_memory_equal(d, xen_desc, 4);
	assert_int_equal(elf_find_note(&e, "GNU", 3, &d, &dl), 1);
	assert_int_equal(dl, 20);
	assert_memory_equal(d, "0123456789abcdefghij", 20);
	assert_int_equal(elf_find_note(&e, "nobios", 7, &d, &dl), 1);
	assert_memory_equal(d, sec_desc, 8);
	assert_int_equal(elf_find_note(&e, "Xen", 17, &d, &dl), 0);
	assert_int_equal(elf_find_note(&e, "Xe", 18, &d, &dl), 0);

	/* symbols: .symtab, then .dynsym; undefined ones are not found */
	uint64_t v = 0;
	assert_int_equal(elf_find_symbol(&e, "start64", &v), 1);
	assert_int_equal(v, TEXT_PADDR + 0x10);
	assert_int_equal(elf_find_symbol(&e, "data_sym", &v), 1);
	assert_int_equal(v, DATA_PADDR + 8);
	assert_int_equal(elf_find_symbol(&e, "dyn_only", &v), 1);
	assert_int_equal(v, 0xabcdef);
	assert_int_equal(elf_find_symbol(&e, "undef_sym", &v), 0);
	assert_int_equal(elf_find_symbol(&e, "start6", &v), 0);
	assert_int_equal(elf_find_symbol(&e, "start644", &v), 0);

	/* virtual to physical */
	uint64_t vb = want64 ? VBASE : (uint32_t)VBASE;
	uint64_t pa = 0;
	assert_int_equal(elf_vaddr_to_paddr(&e, vb + DATA_PADDR + 0x800, &pa), 1); /* in bss */
	assert_int_equal(pa, DATA_PADDR + 0x800);
	assert_int_equal(elf_vaddr_to_paddr(&e, vb + DATA_PADDR + 0x1000, &pa), 0);
}

static void test_elf64(void **state) { check_image(1); }
static void test_elf32(void **state) { check_image(0); }

/* Parse must fail and the message must name the file and contain part. */
static void parse_fails(size_t size, const char *part)
{
	struct elf_image e;
	nb_err_clear();
	assert_int_equal(elf_parse(&e, "bad.elf", img, size), -1);
	assert_non_null(strstr(nb_errmsg(), "bad.elf"));
	if (!strstr(nb_errmsg(), part))
		fail_msg("message '%s' lacks '%s'", nb_errmsg(), part);
}

static void test_malformed_headers(void **state)
{
	for (int c = 0; c < 2; c++) {
		build(c);
		parse_fails(3, "not an ELF");
		parse_fails(10, "truncated");
		parse_fails(40, "truncated ELF header");
		build(c), img[4] = 3, parse_fails(sizeof(img), "class");
		build(c), img[5] = 2, parse_fails(sizeof(img), "big-endian");
		build(c), img[6] = 0, parse_fails(sizeof(img), "version");
		build(c), w16(16, 1), parse_fails(sizeof(img), "not an executable");
		build(c), w16(18, 40), parse_fails(sizeof(img), "not x86");
		build(c), w16(c ? 54 : 42, 20), parse_fails(sizeof(img), "e_phentsize");
		build(c), w16(c ? 56 : 44, 0), parse_fails(sizeof(img), "no program headers");
		build(c), w16(c ? 56 : 44, 0xFFFF), parse_fails(sizeof(img), "extended");
		build(c), waddr(c ? 32 : 28, 0x930), parse_fails(sizeof(img), "outside");
		build(c), w16(c ? 56 : 44, 200), parse_fails(sizeof(img), "outside");
		if (c) { /* 64-bit offsets that wrap around */
			build(c), w64(32, UINT64_MAX - 8), parse_fails(sizeof(img), "outside");
		}
	}
}

static void test_malformed_segments(void **state)
{
	for (int c = 0; c < 2; c++) {
		/* file range beyond the file */
		build(c);
		phdr(0, 1, 5, 0x900, VBASE, TEXT_PADDR, 0x100, 0x100);
		parse_fails(sizeof(img), "outside the file");
		build(c);
		phdr(0, 1, 5, UINT64_MAX - 0x10, VBASE, TEXT_PADDR, 0x100, 0x100);
		parse_fails(sizeof(img), "outside the file");
		/* filesz > memsz */
		build(c);
		phdr(0, 1, 5, 0x200, VBASE, TEXT_PADDR, 0x100, 0x80);
		parse_fails(sizeof(img), "p_filesz");
		/* address wraps */
		build(c);
		phdr(1, 1, 6, 0x300, 0, c ? UINT64_MAX - 0x100 : 0xFFFFFF00u, 0x80,
		     c ? 0x1000 : 0x1000);
		if (c)
			parse_fails(sizeof(img), "wraps");
		/* PT_NOTE beyond the file */
		build(c);
		phdr(2, 4, 4, 0x900, 0, 0, 0x100, 0x100);
		parse_fails(sizeof(img), "PT_NOTE");
		/* no PT_LOAD at all */
		build(c);
		phdr(0, 6, 0, 0, 0, 0, 0, 0);
		phdr(1, 6, 0, 0, 0, 0, 0, 0);
		parse_fails(sizeof(img), "no loadable");
	}
}

static void test_load_outside_ram(void **state)
{
	for (int c = 0; c < 2; c++) {
		struct elf_image e;
		build(c);
		phdr(1, 1, 6, 0x300, VBASE, RAM_SIZE - 0x800, 0x80, 0x1000);
		assert_int_equal(elf_parse(&e, "big.elf", img, sizeof(img)), 0);
		assert_int_equal(mem_init_buf(&mem, ram, RAM_SIZE), 0);
		nb_err_clear();
		assert_int_equal(elf_load(&e, &mem, 0x100000), -1);
		assert_non_null(strstr(nb_errmsg(), "big.elf"));
		assert_non_null(strstr(nb_errmsg(), "does not fit"));
		/* below min_paddr */
		build(c);
		assert_int_equal(elf_parse(&e, "low.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_load(&e, &mem, 0x300000), -1);
		assert_non_null(strstr(nb_errmsg(), "low.elf"));
	}
}

static void test_malformed_sections(void **state)
{
	for (int c = 0; c < 2; c++) {
		struct elf_image e;
		uint64_t v;
		const uint8_t *d;
		size_t dl;
		/* symbol table string link to a non-string section */
		build(c);
		shdr(3, 2, SYMTAB_OFF, 4 * symsz(), 1, symsz());
		assert_int_equal(elf_parse(&e, "sym.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), -1);
		assert_non_null(strstr(nb_errmsg(), "string table"));
		/* symbol table past the end of the file */
		build(c);
		shdr(3, 2, 0x900, 0x400, 4, symsz());
		assert_int_equal(elf_parse(&e, "sym.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), -1);
		/* wrong entry size */
		build(c);
		shdr(3, 2, SYMTAB_OFF, 4 * symsz(), 4, 7);
		assert_int_equal(elf_parse(&e, "sym.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), -1);
		/* st_name past the string table: skipped, not read */
		build(c);
		sym(SYMTAB_OFF, 1, 0x7fffffff, 1, 1);
		assert_int_equal(elf_parse(&e, "sym.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), 0);
		/* section table outside the file: error for symbols, no notes */
		build(c);
		waddr(c ? 40 : 32, 0x900);
		assert_int_equal(elf_parse(&e, "sec.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), -1);
		assert_int_equal(elf_find_note(&e, "nobios", 7, &d, &dl), 0);
		/* PT_NOTE still found */
		assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &dl), 1);
		/* a note whose namesz runs past its segment */
		build(c);
		w32(NOTE_OFF, 0x7ffffff0);
		assert_int_equal(elf_parse(&e, "note.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &dl), 0);
		/* descsz past the end */
		build(c);
		w32(NOTE_OFF + 4, 0xfffffff0);
		assert_int_equal(elf_parse(&e, "note.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &dl), 0);
		/* no sections at all: symbols simply absent */
		build(c);
		w16(c ? 60 : 48, 0);
		assert_int_equal(elf_parse(&e, "nosec.elf", img, sizeof(img)), 0);
		assert_int_equal(elf_find_symbol(&e, "start64", &v), 0);
	}
}

/* An 8-aligned PT_NOTE (as GNU property notes are in ELF64): header+name
 * and desc each padded to 8, so desc starts 16 bytes in, not 12 + 8. */
static void test_note_align8(void **state)
{
	build(1);
	size_t o = NOTE_OFF;
	memset(img + o, 0, 0x80);
	w32(o, 4), w32(o + 4, 8), w32(o + 8, 5);
	memcpy(img + o + 12, "GNU", 4);
	w64(o + 16, 0x1122334455667788ull);
	w32(o + 24, 4), w32(o + 28, 4), w32(o + 32, 18); /* next note at 24 */
	memcpy(img + o + 36, "Xen", 4);
	w32(o + 40, 0xabcd);
	phdr(2, 4, 4, NOTE_OFF, 0, 0, 44, 44);
	w64(PHOFF + 2 * 56 + 48, 8); /* p_align 8 */
	struct elf_image e;
	assert_int_equal(elf_parse(&e, "a8.elf", img, sizeof(img)), 0);
	const uint8_t *d;
	size_t dl;
	assert_int_equal(elf_find_note(&e, "GNU", 5, &d, &dl), 1);
	assert_int_equal(dl, 8);
	assert_ptr_equal(d, img + o + 16);
	assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &dl), 1);
	assert_ptr_equal(d, img + o + 40);
}

/* Every truncation of a valid file either parses or fails cleanly, and
 * random corruption never crashes any reader (run under ASan). */
static void test_fuzz(void **state)
{
	uint32_t x = 1;
	for (int c = 0; c < 2; c++) {
		for (size_t n = 0; n <= IMG_SIZE; n += 7) {
			build(c);
			struct elf_image e;
			if (elf_parse(&e, "t.elf", img, n) == 0) {
				uint64_t v;
				const uint8_t *d;
				size_t dl;
				elf_find_symbol(&e, "start64", &v);
				elf_find_note(&e, "nobios", 7, &d, &dl);
			}
		}
		for (int round = 0; round < 3000; round++) {
			build(c);
			for (int k = 0; k < 4; k++) {
				x = x * 1103515245u + 12345u;
				img[(x >> 8) % IMG_SIZE] = (uint8_t)(x >> 24);
			}
			struct elf_image e;
			if (elf_parse(&e, "f.elf", img, sizeof(img)) == 0) {
				uint64_t v;
				const uint8_t *d;
				size_t dl;
				elf_find_symbol(&e, "data_sym", &v);
				elf_find_note(&e, "GNU", 3, &d, &dl);
				elf_vaddr_to_paddr(&e, VBASE + TEXT_PADDR, &v);
				assert_int_equal(mem_init_buf(&mem, ram, RAM_SIZE), 0);
				elf_load(&e, &mem, 0);
			}
		}
	}
}

/* Issue 14 item 5: the note walk is linear in the file however many
 * headers name the same notes (it was headers x notes). */
static int count_note(void *arg, const uint8_t *name, uint32_t namesz, uint32_t type,
		      const uint8_t *desc, uint32_t descsz)
{
	(*(size_t *)arg)++;
	return 0;
}

static void test_notes_linear(void **state)
{
	const size_t size = 4 << 20;
	uint8_t *b = crafted_notes_elf(size, 10000);
	assert_non_null(b);
	struct elf_image e;
	assert_int_equal(elf_parse(&e, "crafted", b, size), 0);
	size_t calls = 0;
	double t0 = cpu_seconds();
	assert_int_equal(elf_notes_each(&e, count_note, &calls), 0);
	/* every note at most once per kind of container (12 bytes each) */
	assert_true(calls > 0 && calls <= size / 12);
	/* a lookup that finds nothing: 20 of them, as inspect once did */
	const uint8_t *d;
	size_t len;
	for (int i = 0; i < 20; i++)
		assert_int_equal(elf_find_note(&e, "GNU", 3, &d, &len), 0);
	assert_int_equal(elf_find_note(&e, "Xen", 18, &d, &len), 1);
	assert_int_equal(len, 4);
	double t = cpu_seconds() - t0;
	printf("21 note lookups in a 4 MiB crafted file: %.3f s of CPU\n", t);
	assert_true(t < 1.0); /* minutes before the fix */
	free(b);
}

static void test_symbols_linear(void **state)
{
	const size_t size = 4 << 20;
	uint8_t *b = crafted_symtab_elf(size, 30000);
	assert_non_null(b);
	struct elf_image e;
	assert_int_equal(elf_parse(&e, "crafted", b, size), 0);
	uint64_t v = 0;
	double t0 = cpu_seconds();
	assert_int_equal(elf_find_symbol(&e, "start64", &v), 0);
	assert_int_equal(elf_find_symbol(&e, "x", &v), 1);
	double t = cpu_seconds() - t0;
	printf("2 symbol lookups in a 4 MiB crafted file: %.3f s of CPU\n", t);
	assert_true(t < 1.0); /* 30000 tables x 170000 symbols before the fix */
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64),
		cmocka_unit_test(test_elf32),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_malformed_segments),
		cmocka_unit_test(test_load_outside_ram),
		cmocka_unit_test(test_malformed_sections),
		cmocka_unit_test(test_note_align8),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_notes_linear),
		cmocka_unit_test(test_symbols_linear),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
