/* test_pagemap.c - the virtual-range mapper (src/cpu/pagemap.c) against the
 * SDM's 4-level formats (vol 3A tables 4-15 to 4-20): entries read back
 * field by field, and every translation checked by walking the tables with
 * src/cpu/pagewalk.c as the MMU would.  Starts from the identity map the
 * long-mode entries build (2 MiB pages over 4 GiB at LAYOUT_PML4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/pagemap.h"
#include "cpu/pagewalk.h"
#include "mem/layout.h"
#include "mem/mem.h"
#include "util/err.h"

#define RAM (4u << 20)
#define AREA LAYOUT_MAP_TABLES
#define AREA_END LAYOUT_MAP_TABLES_END
#define ADDR(e) ((e) & 0x000FFFFFFFFFF000ULL)

struct fx {
	void *buf;
	struct guest_mem m;
	struct cpu_state s;
	struct cpu_pt_area a;
	struct cpu_map_stats st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->buf = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&f->m, f->buf, RAM), 0);
	cpu_state_init(&f->s);
	assert_int_equal(cpu_setup_long_elf64(&f->s, &f->m), 0);
	cpu_pt_area_init(&f->a, AREA, AREA_END);
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

static uint64_t r64(struct fx *f, uint64_t gpa)
{
	uint64_t v = 0;
	assert_int_equal(mem_read64(&f->m, gpa, &v), 0);
	return v;
}

/* Walk va through the tables as the MMU would; returns the page size. */
static uint64_t walk(struct fx *f, uint64_t va, uint64_t want_pa)
{
	uint64_t pa = 0;
	struct cpu_walk w;
	if (cpu_translate(&f->m, &f->s, va, &pa, &w) < 0)
		fail_msg("walk of 0x%llx: %s", (unsigned long long)va, nb_errmsg());
	if (pa != want_pa)
		fail_msg("0x%llx -> 0x%llx, expected 0x%llx", (unsigned long long)va,
			 (unsigned long long)pa, (unsigned long long)want_pa);
	/* supervisor, writable, executable */
	assert_true(w.flags & CPU_WALK_WRITE);
	assert_false(w.flags & (CPU_WALK_USER | CPU_WALK_NX));
	return w.page_size;
}

/* The PDE that maps va (the PML4E and PDPTE must point at tables). */
static uint64_t pde_addr(struct fx *f, uint64_t va)
{
	uint64_t pml4e = r64(f, LAYOUT_PML4 + ((va >> 39) & 511) * 8);
	assert_true((pml4e & PTE_P) && !(pml4e & PTE_PS));
	uint64_t pdpte = r64(f, ADDR(pml4e) + ((va >> 30) & 511) * 8);
	assert_true((pdpte & PTE_P) && !(pdpte & PTE_PS));
	return ADDR(pdpte) + ((va >> 21) & 511) * 8;
}

/* OSv's shape at its smallest: a few pages 1 GiB above their frames, inside
 * the identity map's range, not 2 MiB aligned: the identity 2 MiB page there
 * is split and only the kernel's pages change. */
static void test_4k_inside_identity(void **state)
{
	struct fx *f = *state;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40100123, 0x100123, 0x2EDD,
				       &f->st), 0);
	assert_int_equal(f->st.tables, 1);
	assert_int_equal(f->st.splits, 1);
	assert_int_equal(f->st.pages_4k, 3); /* [0x40100123, 0x40103000): 3 pages */
	assert_int_equal(f->st.pages_2m, 0);
	uint64_t pde = r64(f, pde_addr(f, 0x40100000));
	assert_int_equal(pde, AREA | PTE_P | PTE_RW); /* now a table: PS clear (table 4-19) */
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t pte = r64(f, AREA + i * 8);
		uint64_t want = i >= 256 && i < 259 ? 0x100000 + (i - 256) * 0x1000
						    : 0x40000000 + i * 0x1000; /* identity kept */
		assert_int_equal(pte, want | PTE_P | PTE_RW);
	}
	assert_int_equal(walk(f, 0x40100123, 0x100123), 0x1000);
	assert_int_equal(walk(f, 0x40102FFF, 0x102FFF), 0x1000);
	assert_int_equal(walk(f, 0x40103000, 0x40103000), 0x1000); /* next page: identity */
	assert_int_equal(walk(f, 0x400FFFFF, 0x400FFFFF), 0x1000);
	assert_int_equal(walk(f, 0x40200000, 0x40200000), 0x200000); /* neighbours untouched */
	assert_int_equal(walk(f, 0x1000, 0x1000), 0x200000);
	assert_int_equal(cpu_pt_area_free(&f->a), (AREA_END - AREA) / 0x1000 - 1);
}

/* Whole 2 MiB regions onto 2 MiB frames: PDEs with PS (table 4-18), no table. */
static void test_2m_pages(void **state)
{
	struct fx *f = *state;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40200000, 0x200000, 0x400000,
				       &f->st), 0);
	assert_int_equal(f->st.tables, 0);
	assert_int_equal(f->st.pages_2m, 2);
	assert_int_equal(f->st.pages_4k, 0);
	assert_int_equal(r64(f, pde_addr(f, 0x40200000)), 0x200000 | PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(r64(f, pde_addr(f, 0x40400000)), 0x400000 | PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(walk(f, 0x40212345, 0x212345), 0x200000);
	assert_int_equal(walk(f, 0x405FFFFF, 0x5FFFFF), 0x200000);
	assert_int_equal(walk(f, 0x40600000, 0x40600000), 0x200000);
}

/* A range with a ragged head and tail: 4 KiB pages at the ends, 2 MiB pages
 * in between, one table per partial region. */
static void test_mixed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40100000, 0x100000, 0x500800,
				       &f->st), 0);
	/* head [0x40100000, 0x40200000): 256 pages; [0x40200000, 0x40600000): 2 x
	 * 2 MiB; tail [0x40600000, 0x40601000): 1 page */
	assert_int_equal(f->st.pages_4k, 257);
	assert_int_equal(f->st.pages_2m, 2);
	assert_int_equal(f->st.tables, 2);
	assert_int_equal(walk(f, 0x401FF000, 0x1FF000), 0x1000);
	assert_int_equal(walk(f, 0x40300000, 0x300000), 0x200000);
	assert_int_equal(walk(f, 0x406007FF, 0x6007FF), 0x1000);
	assert_int_equal(walk(f, 0x40601000, 0x40601000), 0x1000); /* split tail: identity */
}

/* A frame offset that is not a multiple of 2 MiB: 4 KiB pages even across a
 * whole region. */
static void test_unaligned_frame(void **state)
{
	struct fx *f = *state;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40200000, 0x101000, 0x200000,
				       &f->st), 0);
	assert_int_equal(f->st.pages_2m, 0);
	assert_int_equal(f->st.pages_4k, 512);
	assert_int_equal(walk(f, 0x40200000, 0x101000), 0x1000);
	assert_int_equal(walk(f, 0x403FFABC, 0x300ABC), 0x1000);
}

/* A higher-half kernel (-2 GiB, as Linux and many unikernels link): new
 * PDPT and PD from the area under PML4 entry 511, nothing in the identity
 * map's tables changes. */
static void test_higher_half(void **state)
{
	struct fx *f = *state;
	uint64_t before[4];
	for (int i = 0; i < 4; i++)
		before[i] = r64(f, LAYOUT_PDPT + i * 8);
	const uint64_t va = 0xFFFFFFFF80000000ULL;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, va, 0x200000, 0x201000, &f->st),
			 0);
	assert_int_equal(f->st.tables, 3); /* PDPT, PD, one PT for the tail page */
	assert_int_equal(r64(f, LAYOUT_PML4 + 511 * 8), AREA | PTE_P | PTE_RW);
	assert_int_equal(r64(f, AREA + 510 * 8), (AREA + 0x1000) | PTE_P | PTE_RW);
	assert_int_equal(r64(f, AREA + 0x1000), 0x200000 | PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(r64(f, AREA + 0x1000 + 8), (AREA + 0x2000) | PTE_P | PTE_RW);
	assert_int_equal(r64(f, AREA + 0x2000), 0x400000 | PTE_P | PTE_RW);
	assert_int_equal(r64(f, AREA + 0x2000 + 8), 0); /* the rest not present */
	assert_int_equal(walk(f, va + 0x1234, 0x201234), 0x200000);
	assert_int_equal(walk(f, va + 0x200FFF, 0x400FFF), 0x1000);
	uint64_t pa;
	assert_int_equal(cpu_translate(&f->m, &f->s, va + 0x201000, &pa, NULL), -1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r64(f, LAYOUT_PDPT + i * 8), before[i]);
	assert_int_equal(r64(f, LAYOUT_PML4 + 8), 0);
}

/* A split keeps every attribute of the large page, with PAT moved from bit
 * 12 (PDE, table 4-18) to bit 7 (PTE, table 4-20); a 1 GiB page splits into
 * 2 MiB ones (table 4-16 -> 4-18). */
static void test_split_attributes(void **state)
{
	struct fx *f = *state;
	uint64_t pde = pde_addr(f, 0x80000000);
	const uint64_t attrs = PTE_P | PTE_RW | PTE_PCD | PTE_G | PTE_NX;
	assert_int_equal(mem_write64(&f->m, pde, 0x80000000 | attrs | PTE_PS | (1ULL << 12)), 0);
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x80005000, 0x300000, 0x1000,
				       &f->st), 0);
	uint64_t pt = AREA;
	assert_int_equal(r64(f, pde), pt | PTE_P | PTE_RW | PTE_NX);
	assert_int_equal(r64(f, pt + 4 * 8), 0x80004000 | attrs | (1ULL << 7));
	assert_int_equal(r64(f, pt + 5 * 8), 0x300000 | PTE_P | PTE_RW);

	/* a 1 GiB page at PDPT entry 5 (5 GiB), then one 4 KiB page inside */
	assert_int_equal(mem_write64(&f->m, LAYOUT_PDPT + 5 * 8,
				     (5ULL << 30) | PTE_P | PTE_RW | PTE_PS), 0);
	memset(&f->st, 0, sizeof(f->st));
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, (5ULL << 30) + 0x203000, 0x301000,
				       0x1000, &f->st), 0);
	assert_int_equal(f->st.splits, 2);
	uint64_t pd = ADDR(r64(f, LAYOUT_PDPT + 5 * 8));
	assert_int_equal(r64(f, pd), (5ULL << 30) | PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(r64(f, pd + 511 * 8), ((5ULL << 30) + (511ULL << 21)) | PTE_P | PTE_RW |
						       PTE_PS);
	assert_int_equal(walk(f, (5ULL << 30) + 0x203010, 0x301010), 0x1000);
	assert_int_equal(walk(f, (5ULL << 30) + 0x204000, (5ULL << 30) + 0x204000), 0x1000);
	assert_int_equal(walk(f, (5ULL << 30) + 0x400000, (5ULL << 30) + 0x400000), 0x200000);
}

/* Two ranges sharing a 2 MiB region share its table. */
static void test_shared_region(void **state)
{
	struct fx *f = *state;
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40100000, 0x100000, 0x1000,
				       &f->st), 0);
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x40180000, 0x280000, 0x80000,
				       &f->st), 0);
	assert_int_equal(f->st.tables, 1);
	assert_int_equal(walk(f, 0x40100000, 0x100000), 0x1000);
	assert_int_equal(walk(f, 0x401FF000, 0x2FF000), 0x1000);
	assert_int_equal(walk(f, 0x40101000, 0x40101000), 0x1000);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct guest_mem *m = &f->m;
	/* not canonical: the first address past the lower half */
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0x0000800000000000ULL, 0x100000,
				       0x1000, NULL), -1);
	assert_non_null(strstr(nb_errmsg(), "not canonical"));
	/* a range running from the lower half into the hole */
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0x00007FFFFFFFF000ULL, 0x100000,
				       0x2000, NULL), -1);
	assert_non_null(strstr(nb_errmsg(), "not canonical"));
	/* a range wrapping past 2^64 */
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0xFFFFFFFFFFFFF000ULL, 0x100000,
				       0x2000, NULL), -1);
	assert_non_null(strstr(nb_errmsg(), "wraps"));
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0x40000000, 0x100000, 0, NULL), -1);
	/* different offsets within a page */
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0x40000010, 0x100020, 0x10, NULL),
			 -1);
	assert_non_null(strstr(nb_errmsg(), "offset within a 4 KiB page"));
	/* beyond 52 physical bits */
	assert_int_equal(cpu_map_range(m, LAYOUT_PML4, &f->a, 0x40000000, 1ULL << 52, 0x1000, NULL),
			 -1);
	assert_non_null(strstr(nb_errmsg(), "52-bit"));
	assert_int_equal(f->a.next, AREA); /* nothing taken by a refusal */
}

/* An area too small: refused once it is used up, nothing written past it. */
static void test_area_exhausted(void **state)
{
	struct fx *f = *state;
	cpu_pt_area_init(&f->a, AREA, AREA + 2 * 0x1000);
	/* a new PML4 slot needs PDPT + PD + PT: three tables */
	assert_int_equal(cpu_map_range(&f->m, LAYOUT_PML4, &f->a, 0x0000008000001000ULL, 0x100000,
				       0x1000, &f->st), -1);
	assert_non_null(strstr(nb_errmsg(), "more page tables than the 2 pages"));
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	assert_int_equal(f->a.next, AREA + 0x2000);
	for (uint64_t a = AREA + 0x2000; a < AREA + 0x3000; a += 8)
		assert_int_equal(r64(f, a), 0);
	assert_int_equal(cpu_pt_area_free(&f->a), 0);
}

static void test_canonical(void **state)
{
	(void)state;
	assert_true(cpu_va_canonical(0));
	assert_true(cpu_va_canonical(0x00007FFFFFFFFFFFULL));
	assert_false(cpu_va_canonical(0x0000800000000000ULL));
	assert_false(cpu_va_canonical(0xFFFF7FFFFFFFFFFFULL));
	assert_true(cpu_va_canonical(0xFFFF800000000000ULL));
	assert_true(cpu_va_canonical(0xFFFFFFFFFFFFFFFFULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4k_inside_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2m_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_higher_half, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_area_exhausted, setup, teardown),
		cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
