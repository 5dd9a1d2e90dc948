/* test_pagewalk.c - the guest page-table walker against hand-built tables in
 * a plain buffer: 4-level (4 KiB, 2 MiB, 1 GiB), PAE, 32-bit (4 KiB, 4 MiB),
 * not-present entries, NX, U/S and R/W folding, linear copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/pagewalk.h"
#include "mem/mem.h"
#include "util/err.h"

#define RAM (16u << 20)

struct fx {
	void *buf;
	struct guest_mem m;
	struct cpu_state s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->buf = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&f->m, f->buf, RAM), 0);
	cpu_state_init(&f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->buf);
	free(f);
	return 0;
}

static void w64(struct fx *f, uint64_t gpa, uint64_t v) { assert_int_equal(mem_write64(&f->m, gpa, v), 0); }
static void w32(struct fx *f, uint64_t gpa, uint32_t v) { assert_int_equal(mem_write32(&f->m, gpa, v), 0); }

static void long_mode(struct fx *f)
{
	f->s.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
	f->s.cr4 = X86_CR4_PAE;
	f->s.efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	f->s.cr3 = 0x10000;
}

#define P_RW_US (PTE_P | PTE_RW | PTE_US)

static void test_paging_off(void **state)
{
	struct fx *f = *state;
	uint64_t pa = 0;
	struct cpu_walk w;
	f->s.cr0 = X86_CR0_PE;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x123456789ULL, &pa, &w), 0);
	assert_int_equal(pa, 0x23456789); /* 32-bit linear addresses */
	assert_true(w.flags & CPU_WALK_NOPAGING);
}

static void test_4level_4k(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	uint64_t va = 0xFFFF800000201000ULL + 0x234; /* PML4 256, PDPT 0, PD 1, PT 1 */
	w64(f, 0x10000 + 256 * 8, 0x11000 | P_RW_US);
	w64(f, 0x11000 + 0 * 8, 0x12000 | P_RW_US);
	w64(f, 0x12000 + 1 * 8, 0x13000 | P_RW_US);
	w64(f, 0x13000 + 1 * 8, 0x345000 | P_RW_US | PTE_G);
	uint64_t pa = 0;
	struct cpu_walk w;
	assert_int_equal(cpu_translate(&f->m, &f->s, va, &pa, &w), 0);
	assert_int_equal(pa, 0x345234);
	assert_int_equal(w.page_size, 4096);
	assert_int_equal(w.levels, 4);
	assert_string_equal(w.entry[3].name, "PTE");
	assert_int_equal(w.flags & (CPU_WALK_WRITE | CPU_WALK_USER | CPU_WALK_NX | CPU_WALK_GLOBAL),
			 CPU_WALK_WRITE | CPU_WALK_USER | CPU_WALK_GLOBAL);
	assert_true(cpu_walk_allows(&f->s, &w, CPU_ACCESS_WRITE | CPU_ACCESS_USER | CPU_ACCESS_EXEC));
	/* Non-canonical address. */
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x0000800000000000ULL, &pa, &w), -1);
	assert_int_equal(w.fault, CPU_WALK_NONCANONICAL);
}

static void test_4level_2m(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	w64(f, 0x10000, 0x11000 | P_RW_US);
	w64(f, 0x11000 + 3 * 8, 0x12000 | P_RW_US);          /* PDPT 3: 3 GiB */
	w64(f, 0x12000 + 5 * 8, 0x00A00000 | P_RW_US | PTE_PS); /* PD 5: +10 MiB */
	uint64_t pa = 0;
	struct cpu_walk w;
	uint64_t va = (3ULL << 30) + (5ULL << 21) + 0x12345;
	assert_int_equal(cpu_translate(&f->m, &f->s, va, &pa, &w), 0);
	assert_int_equal(pa, 0xA00000 + 0x12345);
	assert_int_equal(w.page_size, 2u << 20);
	assert_int_equal(w.levels, 3);
}

static void test_4level_1g(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	w64(f, 0x10000 + 1 * 8, 0x11000 | P_RW_US);                /* PML4 1: 512 GiB */
	w64(f, 0x11000 + 2 * 8, 0x40000000ULL | P_RW_US | PTE_PS); /* 1 GiB page at 1 GiB */
	uint64_t pa = 0;
	struct cpu_walk w;
	uint64_t va = (1ULL << 39) + (2ULL << 30) + 0x3456789;
	assert_int_equal(cpu_translate(&f->m, &f->s, va, &pa, &w), 0);
	assert_int_equal(pa, 0x40000000ULL + 0x3456789);
	assert_int_equal(w.page_size, 1u << 30);
	/* PS in a PML4E is reserved. */
	w64(f, 0x10000 + 2 * 8, 0x11000 | P_RW_US | PTE_PS);
	assert_int_equal(cpu_translate(&f->m, &f->s, 2ULL << 39, &pa, &w), -1);
	assert_int_equal(w.fault, CPU_WALK_RESERVED);
}

static void test_not_present(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	w64(f, 0x10000, 0x11000 | P_RW_US);
	w64(f, 0x11000, 0x12000 | P_RW_US);
	/* PD entry 7 left zero. */
	uint64_t pa = 0xdead;
	struct cpu_walk w;
	assert_int_equal(cpu_translate(&f->m, &f->s, 7ULL << 21, &pa, &w), -1);
	assert_int_equal(pa, 0xdead);
	assert_int_equal(w.fault, CPU_WALK_NOT_PRESENT);
	assert_int_equal(w.fault_level, 2);
	assert_string_equal(w.entry[2].name, "PDE");
	assert_int_equal(w.entry[2].addr, 0x12000 + 7 * 8);
	assert_non_null(strstr(nb_errmsg(), "not present"));
	char d[200];
	cpu_walk_describe(&w, 7ULL << 21, 0, d, sizeof(d));
	assert_non_null(strstr(d, "not present: PDE at 0x12038"));
	/* A table outside RAM is reported, not followed. */
	w64(f, 0x12000 + 8 * 8, 0x7FFFF000ULL | P_RW_US);
	assert_int_equal(cpu_translate(&f->m, &f->s, 8ULL << 21, &pa, &w), -1);
	assert_int_equal(w.fault, CPU_WALK_TABLE_NOT_RAM);
	assert_int_equal(cpu_read_linear(&f->m, &f->s, 7ULL << 21, d, 4), 0);
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	w64(f, 0x10000, 0x11000 | P_RW_US);
	w64(f, 0x11000, 0x12000 | PTE_P | PTE_RW);          /* PDPTE: supervisor */
	w64(f, 0x12000, 0x13000 | P_RW_US);
	w64(f, 0x13000 + 0 * 8, 0x100000 | P_RW_US | PTE_NX); /* NX */
	w64(f, 0x13000 + 1 * 8, 0x101000 | PTE_P | PTE_US);   /* read-only */
	struct cpu_walk w;
	uint64_t pa;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x0, &pa, &w), 0);
	assert_true(w.flags & CPU_WALK_NX);
	assert_false(w.flags & CPU_WALK_USER); /* U/S ANDed over levels */
	assert_true(w.flags & CPU_WALK_WRITE);
	assert_false(cpu_walk_allows(&f->s, &w, CPU_ACCESS_EXEC));
	assert_false(cpu_walk_allows(&f->s, &w, CPU_ACCESS_USER));
	assert_true(cpu_walk_allows(&f->s, &w, CPU_ACCESS_WRITE));
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x1000, &pa, &w), 0);
	assert_int_equal(pa, 0x101000);
	assert_false(w.flags & CPU_WALK_WRITE);
	assert_false(w.flags & CPU_WALK_NX);
	assert_false(cpu_walk_allows(&f->s, &w, CPU_ACCESS_WRITE)); /* CR0.WP=1 */
	f->s.cr0 &= ~X86_CR0_WP;
	assert_true(cpu_walk_allows(&f->s, &w, CPU_ACCESS_WRITE));
	/* XD only counts with EFER.NXE. */
	f->s.efer &= ~X86_EFER_NXE;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x0, &pa, &w), 0);
	assert_false(w.flags & CPU_WALK_NX);
}

static void test_pae(void **state)
{
	struct fx *f = *state;
	f->s.cr0 = X86_CR0_PE | X86_CR0_PG;
	f->s.cr4 = X86_CR4_PAE;
	f->s.cr3 = 0x10020; /* PDPT 32-byte aligned */
	w64(f, 0x10020 + 3 * 8, 0x11000 | PTE_P);            /* PDPTE 3: 3 GiB */
	w64(f, 0x11000 + 0 * 8, 0x00400000 | P_RW_US | PTE_PS); /* 2 MiB */
	w64(f, 0x11000 + 1 * 8, 0x12000 | P_RW_US);
	w64(f, 0x12000 + 2 * 8, 0x00777000 | PTE_P);
	uint64_t pa;
	struct cpu_walk w;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0xC0012345, &pa, &w), 0);
	assert_int_equal(pa, 0x412345);
	assert_int_equal(w.page_size, 2u << 20);
	assert_string_equal(w.mode, "PAE");
	assert_int_equal(cpu_translate(&f->m, &f->s, 0xC0202ABC, &pa, &w), 0);
	assert_int_equal(pa, 0x777ABC);
	assert_false(w.flags & CPU_WALK_WRITE);
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x00000000, &pa, &w), -1);
	assert_int_equal(w.fault, CPU_WALK_NOT_PRESENT);
	assert_string_equal(w.entry[0].name, "PDPTE");
}

static void test_32bit(void **state)
{
	struct fx *f = *state;
	f->s.cr0 = X86_CR0_PE | X86_CR0_PG;
	f->s.cr4 = X86_CR4_PSE;
	f->s.cr3 = 0x10000;
	w32(f, 0x10000 + 0x300 * 4, 0x00800000 | P_RW_US | PTE_PS); /* 0xC0000000: 4 MiB page */
	w32(f, 0x10000 + 1 * 4, 0x11000 | P_RW_US);
	w32(f, 0x11000 + 5 * 4, 0x00234000 | PTE_P | PTE_RW);
	uint64_t pa;
	struct cpu_walk w;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0xC0123456, &pa, &w), 0);
	assert_int_equal(pa, 0x923456);
	assert_int_equal(w.page_size, 4u << 20);
	assert_int_equal(cpu_translate(&f->m, &f->s, 0x00405678, &pa, &w), 0);
	assert_int_equal(pa, 0x234678);
	assert_false(w.flags & CPU_WALK_USER);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
	f->s.cr4 = 0;
	assert_int_equal(cpu_translate(&f->m, &f->s, 0xC0123456, &pa, &w), -1);
	assert_int_equal(w.fault, CPU_WALK_NOT_PRESENT);
	assert_string_equal(w.entry[1].name, "PTE");
}

static void test_linear_copy(void **state)
{
	struct fx *f = *state;
	long_mode(f);
	w64(f, 0x10000, 0x11000 | P_RW_US);
	w64(f, 0x11000, 0x12000 | P_RW_US);
	w64(f, 0x12000, 0x13000 | P_RW_US);
	/* Two virtually adjacent pages mapped to non-adjacent frames. */
	w64(f, 0x13000 + 0 * 8, 0x200000 | P_RW_US);
	w64(f, 0x13000 + 1 * 8, 0x100000 | P_RW_US);
	const char msg[] = "crossing a page boundary";
	assert_int_equal(cpu_write_linear(&f->m, &f->s, 0xFF8, msg, sizeof(msg)), sizeof(msg));
	char back[sizeof(msg)];
	assert_int_equal(cpu_read_linear(&f->m, &f->s, 0xFF8, back, sizeof(back)), sizeof(msg));
	assert_string_equal(back, msg);
	uint8_t b;
	assert_int_equal(mem_read8(&f->m, 0x100000, &b), 0);
	assert_int_equal(b, msg[8]);
	/* Third page not mapped: a short copy. */
	assert_int_equal(cpu_read_linear(&f->m, &f->s, 0x1FFC, back, 8), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paging_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4level_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4level_2m, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4level_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linear_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
