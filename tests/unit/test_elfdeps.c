/* test_elfdeps.c - the --pack resolver (src/exec/elfdeps.c): DT_NEEDED,
 * PT_INTERP, DT_RUNPATH/DT_RPATH read from crafted ELF64 images, every
 * out-of-bounds offset refused with the file's name; resolution through a
 * temporary library directory (search order, $ORIGIN, a dependency loop,
 * a wrong-machine candidate skipped, a missing library named); and this
 * test program itself, a real dynamic executable of the host. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/elfdeps.h"
#include "util/err.h"

#define VBASE 0x400000
#define STRTAB 0x200
#define DYN 0x400
#define IMG 0x600

struct spec {
	uint16_t machine;
	uint8_t cls;
	const char *interp;
	const char *needed[4];
	const char *runpath, *rpath;
};

/* ehdr | 3 phdrs (PT_LOAD of the whole file, PT_INTERP, PT_DYNAMIC) |
 * strtab at 0x200 | dynamic at 0x400. */
static size_t make_elf(uint8_t *img, const struct spec *s)
{
	memset(img, 0, IMG);
	Elf64_Ehdr eh = { 0 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = s->cls ? s->cls : ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_DYN;
	eh.e_machine = s->machine ? s->machine : EM_X86_64;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	memcpy(img, &eh, sizeof(eh));
	size_t str = 1; /* strtab[0] = "" */
	uint64_t interp_off = 0, interp_len = 0;
	if (s->interp) {
		interp_off = STRTAB + str;
		interp_len = strlen(s->interp) + 1;
		memcpy(img + interp_off, s->interp, interp_len);
		str += interp_len;
	}
	Elf64_Dyn dyn[12];
	int nd = 0;
	for (int i = 0; i < 4 && s->needed[i]; i++) {
		dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = str };
		strcpy((char *)img + STRTAB + str, s->needed[i]);
		str += strlen(s->needed[i]) + 1;
	}
	if (s->runpath) {
		dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_RUNPATH, .d_un.d_val = str };
		strcpy((char *)img + STRTAB + str, s->runpath);
		str += strlen(s->runpath) + 1;
	}
	if (s->rpath) {
		dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_RPATH, .d_un.d_val = str };
		strcpy((char *)img + STRTAB + str, s->rpath);
		str += strlen(s->rpath) + 1;
	}
	assert_true(str < DYN - STRTAB);
	dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_STRTAB, .d_un.d_ptr = VBASE + STRTAB };
	dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_STRSZ, .d_un.d_val = str };
	dyn[nd++] = (Elf64_Dyn){ .d_tag = DT_NULL };
	memcpy(img + DYN, dyn, nd * sizeof(Elf64_Dyn));
	Elf64_Phdr ph[3] = {
		{ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = VBASE, .p_filesz = IMG,
		  .p_memsz = IMG },
		{ .p_type = s->interp ? PT_INTERP : PT_NOTE, .p_offset = interp_off,
		  .p_filesz = interp_len },
		{ .p_type = PT_DYNAMIC, .p_offset = DYN, .p_vaddr = VBASE + DYN,
		  .p_filesz = nd * sizeof(Elf64_Dyn) },
	};
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	return IMG;
}

static void test_parse(void **state)
{
	(void)state;
	uint8_t img[IMG];
	struct elfdeps_info in;
	struct spec s = { .interp = "/lib64/ld.so", .needed = { "liba.so", "libb.so.2" },
			  .runpath = "$ORIGIN/../lib" };
	size_t n = make_elf(img, &s);
	assert_int_equal(elfdeps_parse(img, n, "prog", &in), 0);
	assert_true(in.is_elf);
	assert_string_equal(in.interp, "/lib64/ld.so");
	assert_int_equal(in.nneeded, 2);
	assert_string_equal(in.needed[0], "liba.so");
	assert_string_equal(in.needed[1], "libb.so.2");
	assert_string_equal(in.runpath, "$ORIGIN/../lib");
	assert_null(in.rpath);
	/* not ELF: a script has no dependencies */
	assert_int_equal(elfdeps_parse((const uint8_t *)"#!/bin/sh\n", 10, "s", &in), 0);
	assert_false(in.is_elf);
	/* a static program: no PT_DYNAMIC, no PT_INTERP */
	struct spec st = { 0 };
	make_elf(img, &st);
	Elf64_Phdr ph;
	memcpy(&ph, img + sizeof(Elf64_Ehdr) + 2 * sizeof(ph), sizeof(ph));
	ph.p_type = PT_NULL;
	memcpy(img + sizeof(Elf64_Ehdr) + 2 * sizeof(ph), &ph, sizeof(ph));
	assert_int_equal(elfdeps_parse(img, n, "static", &in), 0);
	assert_true(in.is_elf);
	assert_null(in.interp);
	assert_int_equal(in.nneeded, 0);
}

#define BAD(mutate, want)                                                        \
	do {                                                                     \
		uint8_t img[IMG];                                                \
		struct spec s = { .interp = "/lib64/ld.so", .needed = { "liba.so" } }; \
		size_t n = make_elf(img, &s);                                    \
		mutate;                                                          \
		struct elfdeps_info in;                                          \
		nb_err_clear();                                                  \
		assert_int_equal(elfdeps_parse(img, n, "bad.elf", &in), -1);     \
		if (!strstr(nb_errmsg(), "bad.elf") || !strstr(nb_errmsg(), want)) \
			fail_msg("'%s' lacks bad.elf or '%s'", nb_errmsg(), want);  \
	} while (0)

static void set_phdr(uint8_t *img, int i, size_t field_off, uint64_t v)
{
	memcpy(img + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr) + field_off, &v, sizeof(v));
}

static void set_dyn_val(uint8_t *img, int i, uint64_t v)
{
	memcpy(img + DYN + i * sizeof(Elf64_Dyn) + 8, &v, sizeof(v));
}

static void test_malformed(void **state)
{
	(void)state;
	BAD(n = 40, "truncated ELF header");
	BAD(img[EI_CLASS] = ELFCLASS32, "not an x86-64 ELF64");
	BAD(img[18] = EM_386, "not an x86-64 ELF64");
}

static void test_malformed2(void **state)
{
	(void)state;
	/* program headers past the end */
	BAD(n = sizeof(Elf64_Ehdr) + 60, "program headers outside the file");
	/* PT_INTERP past the end, or not NUL-terminated */
	BAD(set_phdr(img, 1, offsetof(Elf64_Phdr, p_offset), IMG - 2), "PT_INTERP");
	BAD(set_phdr(img, 1, offsetof(Elf64_Phdr, p_filesz), 5), "PT_INTERP");
	/* PT_DYNAMIC past the end */
	BAD(set_phdr(img, 2, offsetof(Elf64_Phdr, p_filesz), 1ull << 40), "PT_DYNAMIC");
	/* DT_STRTAB outside every PT_LOAD; DT_STRSZ past the file */
	BAD(set_dyn_val(img, 1, 0x1234), "DT_STRTAB");
	BAD(set_dyn_val(img, 2, 1ull << 32), "DT_STRTAB");
	/* DT_NEEDED beyond DT_STRSZ */
	BAD(set_dyn_val(img, 0, 0x1000), "outside DT_STRTAB");
}

/* ---- resolution in a temporary directory */
static char dir[64];

static void put(const char *name, const struct spec *s)
{
	uint8_t img[IMG];
	size_t n = make_elf(img, s);
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, n, f), n);
	fclose(f);
}

static int has(const struct elfdeps_set *s, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->paths[i], path) == 0)
			return 1;
	return 0;
}

static void test_resolve(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/nobios-elfdeps-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char sub[128], sys1[128], sys2[128], interp[128];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(sys1, sizeof(sys1), "%s/sys1", dir);
	snprintf(sys2, sizeof(sys2), "%s/sys2", dir);
	snprintf(interp, sizeof(interp), "%s/ld.so", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkdir(sys1, 0755), 0);
	assert_int_equal(mkdir(sys2, 0755), 0);
	struct spec ld = { 0 };
	put("ld.so", &ld);
	/* prog -> liba (in $ORIGIN/sub) -> libb (system) -> liba: a loop */
	struct spec prog = { .interp = interp, .needed = { "liba.so", "libc.so" },
			     .runpath = "/nonexistent:$ORIGIN/sub" };
	put("prog", &prog);
	struct spec a = { .needed = { "libb.so" } };
	put("sub/liba.so", &a);
	struct spec b = { .needed = { "liba.so" }, .rpath = "$ORIGIN/../sub" };
	put("sys2/libb.so", &b);
	/* a 32-bit-machine libc in the first system directory is skipped */
	struct spec wrong = { .machine = EM_386 };
	put("sys1/libc.so", &wrong);
	struct spec libc = { 0 };
	put("sys2/libc.so", &libc);

	const char *sysdirs[] = { sys1, sys2, NULL };
	char path[256];
	snprintf(path, sizeof(path), "%s/prog", dir);
	struct elfdeps_set set = { 0 };
	assert_int_equal(elfdeps_resolve(path, sysdirs, NULL, &set), 0);
	assert_int_equal(set.n, 5);
	assert_string_equal(set.paths[0], path);
	assert_true(has(&set, "ld.so"));
	assert_true(has(&set, "sub/liba.so"));
	assert_true(has(&set, "sys2/libb.so"));
	assert_true(has(&set, "sys2/libc.so"));
	assert_false(has(&set, "sys1/libc.so"));
	elfdeps_set_free(&set);

	/* LD_LIBRARY_PATH before DT_RUNPATH: a liba.so in sys1 wins */
	put("sys1/liba.so", &libc);
	assert_int_equal(elfdeps_resolve(path, sysdirs, sys1, &set), 0);
	assert_true(has(&set, "sys1/liba.so"));
	assert_false(has(&set, "sub/liba.so"));
	elfdeps_set_free(&set);

	/* a library nowhere: named, with the file that needs it */
	struct spec lost = { .needed = { "libmissing.so.1" } };
	put("lost", &lost);
	snprintf(path, sizeof(path), "%s/lost", dir);
	nb_err_clear();
	assert_int_equal(elfdeps_resolve(path, sysdirs, NULL, &set), -1);
	assert_non_null(strstr(nb_errmsg(), "libmissing.so.1"));
	assert_non_null(strstr(nb_errmsg(), path));
	elfdeps_set_free(&set);

	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* This test program: the host's own dynamic loader and C library. */
static void test_self(void **state)
{
	(void)state;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	struct elfdeps_set set = { 0 };
	assert_int_equal(elfdeps_resolve(self, elfdeps_default_dirs, NULL, &set), 0);
	int libc = 0, cmocka = 0, interp = 0;
	for (size_t i = 0; i < set.n; i++) {
		const char *b = strrchr(set.paths[i], '/') + 1;
		libc |= strcmp(b, "libc.so.6") == 0;
		cmocka |= strncmp(b, "libcmocka.so", 12) == 0;
		interp |= strcmp(set.paths[i], "/lib64/ld-linux-x86-64.so.2") == 0;
	}
	assert_true(libc && cmocka && interp);
	elfdeps_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_malformed2),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
