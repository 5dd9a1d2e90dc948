/* test_cpu_state.c - the entry-mode builders against the SDM's encodings:
 * boot GDT descriptors, identity page tables, control registers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mem/layout.h"
#include "mem/mem.h"

static uint8_t ram[16 << 20];

static struct guest_mem fresh(void)
{
	struct guest_mem m;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(mem_init_buf(&m, ram, sizeof(ram)), 0);
	return m;
}

static uint64_t rd64(struct guest_mem *m, uint64_t gpa)
{
	uint64_t v;
	assert_int_equal(mem_read64(m, gpa, &v), 0);
	return v;
}

static void test_long_mode(void **st)
{
	(void)st;
	struct guest_mem m = fresh();
	struct cpu_state s;
	cpu_state_init(&s);
	assert_int_equal(cpu_setup_long(&s, &m), 0);
	/* GDT: the well-known encodings of flat descriptors */
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x00), 0);
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x08), 0x00CF9B000000FFFFULL); /* code32 */
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x10), 0x00AF9B000000FFFFULL); /* code64, L=1 */
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x18), 0x00CF93000000FFFFULL); /* data */
	assert_int_equal(s.gdt.base, LAYOUT_GDT);
	assert_int_equal(s.gdt.limit, 5 * 8 - 1);
	assert_int_equal(s.cs.selector, BOOT_GDT_CS);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.ds.selector, BOOT_GDT_DS);
	assert_int_equal(s.ss.selector, BOOT_GDT_DS);
	assert_true(s.cr0 & X86_CR0_PE);
	assert_true(s.cr0 & X86_CR0_PG);
	assert_true(s.cr4 & X86_CR4_PAE);
	assert_int_equal(s.efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
	assert_int_equal(s.cr3, LAYOUT_PML4);
	assert_false(s.rflags & X86_RFLAGS_IF);
	assert_true(s.rflags & X86_RFLAGS_FIXED);
	assert_int_equal(cpu_mode_of(&s), CPU_MODE_LONG);
	/* The Linux 64-bit entry's exact control registers: no SSE, no NX
	 * asked for (the kernel sets its own), XCR0 left alone. */
	assert_int_equal(s.cr0, X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG);
	assert_int_equal(s.cr4, X86_CR4_PAE);
	assert_int_equal(s.efer, X86_EFER_LME | X86_EFER_LMA);
	assert_int_equal(s.xcr0, 0);

	/* Page tables: PML4[0] -> PDPT, PDPT[i] -> PD i, PD entries 2 MiB pages */
	assert_int_equal(rd64(&m, LAYOUT_PML4), LAYOUT_PDPT | PTE_P | PTE_RW);
	assert_int_equal(rd64(&m, LAYOUT_PML4 + 8), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rd64(&m, LAYOUT_PDPT + 8 * i),
				 (LAYOUT_PD + 0x1000 * i) | PTE_P | PTE_RW);
	assert_int_equal(rd64(&m, LAYOUT_PDPT + 8 * 4), 0);
	assert_int_equal(rd64(&m, LAYOUT_PD), PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(rd64(&m, LAYOUT_PD + 8), (2ULL << 20) | PTE_P | PTE_RW | PTE_PS);
	/* last 2 MiB page below 4 GiB */
	assert_int_equal(rd64(&m, LAYOUT_PD + 3 * 0x1000 + 511 * 8),
			 0xFFE00000ULL | PTE_P | PTE_RW | PTE_PS);
	/* the tables end where the layout says */
	assert_true(LAYOUT_PD + 4 * 0x1000 <= LAYOUT_PAGE_TABLES_END);
}

static void test_prot32(void **st)
{
	(void)st;
	struct guest_mem m = fresh();
	struct cpu_state s;
	cpu_state_init(&s);
	assert_int_equal(cpu_setup_prot32(&s, &m, BOOT_GDT_CS), 0);
	/* 32-bit: the __BOOT_CS slot holds a 32-bit code descriptor */
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x10), 0x00CF9B000000FFFFULL);
	assert_int_equal(s.cs.selector, BOOT_GDT_CS);
	assert_int_equal(s.cs.db, 1);
	assert_int_equal(s.cs.l, 0);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.cr0 & X86_CR0_PG, 0);
	assert_true(s.cr0 & X86_CR0_PE);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	/* TR: a busy 32-bit TSS, present, at LAYOUT_TSS (PVH: "TR valid") */
	assert_int_equal(s.tr.selector, BOOT_GDT_TSS);
	assert_int_equal(s.tr.type, 0xB);
	assert_int_equal(s.tr.base, LAYOUT_TSS);
	assert_true(s.tr.present);
	uint64_t tss = rd64(&m, LAYOUT_GDT + BOOT_GDT_TSS);
	assert_int_equal((tss >> 40) & 0xF, 0x9);        /* available TSS in the table */
	assert_int_equal((tss >> 16) & 0xFFFFFF, LAYOUT_TSS);
	assert_int_equal(cpu_mode_of(&s), CPU_MODE_PROT32);
	assert_int_equal(s.xcr0, 0);
}

/* The elf64/osv entry (bhyveosvload's shape, SSE-ready), field by field. */
static void test_long_elf64(void **st)
{
	(void)st;
	struct guest_mem m = fresh();
	struct cpu_state s;
	cpu_state_init(&s);
	assert_int_equal(cpu_setup_long_elf64(&s, &m), 0);
	/* GDT: null, 64-bit code, data, 32-bit code, then a 16-byte 64-bit
	 * TSS descriptor (SDM vol 3 figure 8-4): limit 0x67, base 0x800,
	 * type 9 (available), P, base 63-32 zero. */
	assert_int_equal(rd64(&m, LAYOUT_GDT + 0x00), 0);
	assert_int_equal(rd64(&m, LAYOUT_GDT + ELF64_GDT_CS), 0x00AF9B000000FFFFULL);
	assert_int_equal(rd64(&m, LAYOUT_GDT + ELF64_GDT_DS), 0x00CF93000000FFFFULL);
	assert_int_equal(rd64(&m, LAYOUT_GDT + ELF64_GDT_CS32), 0x00CF9B000000FFFFULL);
	assert_int_equal(rd64(&m, LAYOUT_GDT + ELF64_GDT_TSS), 0x0000890008000067ULL);
	assert_int_equal(rd64(&m, LAYOUT_GDT + ELF64_GDT_TSS + 8), 0);
	assert_int_equal(s.gdt.base, LAYOUT_GDT);
	assert_int_equal(s.gdt.limit, 0x2F);
	assert_int_equal(s.cs.selector, 0x08);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	const struct cpu_segment *data[] = { &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(data[i]->selector, 0x10);
		assert_int_equal(data[i]->type, 0x3);
		assert_int_equal(data[i]->limit, 0xFFFFFFFF);
	}
	assert_int_equal(s.tr.selector, ELF64_GDT_TSS);
	assert_int_equal(s.tr.type, 0xB); /* busy 64-bit TSS */
	assert_int_equal(s.tr.base, LAYOUT_TSS);
	assert_int_equal(s.tr.limit, 0x67);
	/* CR0 = PE|MP|ET|NE|WP|PG: EM and TS clear, so SSE runs */
	assert_int_equal(s.cr0, 0x80010033ULL);
	assert_int_equal(s.cr0 & (X86_CR0_EM | X86_CR0_TS), 0);
	/* CR4 = PAE|PGE|OSFXSR|OSXMMEXCPT */
	assert_int_equal(s.cr4, 0x6A0);
	assert_int_equal(s.efer, X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE);
	assert_int_equal(s.xcr0, X86_XCR0_X87 | X86_XCR0_SSE);
	assert_int_equal(s.cr3, LAYOUT_PML4);
	assert_int_equal(s.rflags, X86_RFLAGS_FIXED);
	assert_int_equal(s.gpr[CPU_RSP], LAYOUT_STACK_TOP);
	assert_int_equal(cpu_mode_of(&s), CPU_MODE_LONG);
	/* the identity map as the Linux entry has it */
	assert_int_equal(rd64(&m, LAYOUT_PML4), LAYOUT_PDPT | PTE_P | PTE_RW);
	assert_int_equal(rd64(&m, LAYOUT_PD + 3 * 0x1000 + 511 * 8),
			 0xFFE00000ULL | PTE_P | PTE_RW | PTE_PS);
	/* and a state VM entry accepts (SDM vol 3C 26.3.1) */
	char why[512];
	assert_int_equal(cpu_check_entry_state_ex(&s, CPU_CHECK_NO_UNRESTRICTED, why, sizeof(why)), 0);
}

static void test_real(void **st)
{
	(void)st;
	struct cpu_state s;
	cpu_state_init(&s);
	cpu_setup_real(&s, 0x9020, 0);
	assert_int_equal(s.cs.selector, 0x9020);
	assert_int_equal(s.cs.base, 0x90200);
	assert_int_equal(s.cs.limit, 0xFFFF);
	assert_int_equal(s.rip, 0);
	assert_int_equal(s.cr0 & X86_CR0_PE, 0);
	assert_int_equal(cpu_mode_of(&s), CPU_MODE_REAL);
	assert_string_equal(cpu_mode_name(CPU_MODE_REAL), "real mode");
}

static void test_too_small(void **st)
{
	(void)st;
	static uint8_t small[0x8000];
	struct guest_mem m;
	assert_int_equal(mem_init_buf(&m, small, sizeof(small)), 0);
	struct cpu_state s;
	cpu_state_init(&s);
	assert_int_equal(cpu_setup_long(&s, &m), -1); /* tables at 0x9000 do not fit */
}

/* The power-on state (SDM vol 3A table 9-1): CS selector F000h, base
 * FFFF0000h, EIP 0000FFF0h, CR0 60000010h.  cpu_state_init's real-mode
 * state at 0:0 is not it, nor is any entry state a loader makes. */
static void test_reset_state(void **st)
{
	(void)st;
	struct cpu_state s;
	cpu_state_init(&s);
	assert_false(cpu_state_is_reset(&s));
	s.cs.selector = 0xF000;
	s.cs.base = 0xFFFF0000ULL;
	s.rip = 0xFFF0;
	s.cr0 = 0x60000010;
	assert_true(cpu_state_is_reset(&s));
	s.cr0 |= X86_CR0_PE; /* a protected-mode guest at that address is a guest */
	assert_false(cpu_state_is_reset(&s));
	s.cr0 &= ~X86_CR0_PE;
	s.cs.base = 0xF0000; /* real-mode F000:FFF0 after a far jump: base F0000h */
	assert_false(cpu_state_is_reset(&s));
	struct guest_mem m = fresh();
	assert_int_equal(cpu_setup_long(&s, &m), 0);
	assert_false(cpu_state_is_reset(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_long_mode),
		cmocka_unit_test(test_prot32),
		cmocka_unit_test(test_long_elf64),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
