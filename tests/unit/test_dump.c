/* test_dump.c - decoded register dumps and the VMX guest-state checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "mem/mem.h"

#define RAM (8u << 20)

static char *dump(const struct cpu_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cpu_state_dump(f, s);
	fclose(f);
	return buf;
}

static void long_state(struct cpu_state *s, void **ram, struct guest_mem *m)
{
	*ram = calloc(1, RAM);
	assert_int_equal(mem_init_buf(m, *ram, RAM), 0);
	cpu_state_init(s);
	assert_int_equal(cpu_setup_long(s, m), 0);
	s->rip = 0x100200;
}

static void test_dump_long_names(void **state)
{
	(void)state;
	struct cpu_state s;
	struct guest_mem m;
	void *ram;
	long_state(&s, &ram, &m);
	s.gpr[CPU_RBX] = 0x1122334455667788ULL;
	s.rflags |= X86_RFLAGS_IF | X86_RFLAGS_ZF;
	char *d = dump(&s);
	assert_non_null(strstr(d, "RIP=0000000000100200 (64-bit long mode, CPL 0)"));
	assert_non_null(strstr(d, "RBX=1122334455667788"));
	assert_non_null(strstr(d, "[ZF IF]"));
	assert_non_null(strstr(d, "[PE ET NE PG]"));
	assert_non_null(strstr(d, "CR4=0000000000000020 [PAE]"));
	assert_non_null(strstr(d, "[LME LMA]"));
	assert_non_null(strstr(d, "CS  0010 base=0000000000000000 limit=ffffffff type=b code exec/read accessed P DPL=0 L G"));
	assert_non_null(strstr(d, "SS  0018"));
	assert_non_null(strstr(d, "data read/write accessed"));
	assert_non_null(strstr(d, "TR  0020"));
	assert_non_null(strstr(d, "32/64-bit busy TSS"));
	assert_non_null(strstr(d, "LDT 0000 base=0000000000000000 limit=00000000 unusable"));
	assert_non_null(strstr(d, "GDTR base=0000000000000500 limit=0027 (5 entries)"));
	assert_non_null(strstr(d, "IDTR base=0000000000000000 limit=0000"));
	assert_non_null(strstr(d, "hint: IDTR.limit is 0"));
	free(d);
	/* The builder's own state passes every check. */
	char out[1024];
	assert_int_equal(cpu_check_entry_state(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	free(ram);
}

static void test_dump_real_and_prot(void **state)
{
	(void)state;
	struct cpu_state s;
	cpu_state_init(&s);
	cpu_setup_real(&s, 0x07C0, 0x0010);
	char *d = dump(&s);
	assert_non_null(strstr(d, "CS:IP=07c0:0010 linear=00007c10 (real mode, CPL 0, paging off)"));
	free(d);
	char out[512];
	assert_int_equal(cpu_check_entry_state(&s, out, sizeof(out)), 0);
	/* Without unrestricted guest real mode itself is the problem. */
	assert_true(cpu_check_entry_state_ex(&s, CPU_CHECK_NO_UNRESTRICTED, out, sizeof(out)) >= 1);
	assert_non_null(strstr(out, "real mode with CR0.PE=0 but unrestricted guest off"));

	struct guest_mem m;
	void *ram = calloc(1, RAM);
	assert_int_equal(mem_init_buf(&m, ram, RAM), 0);
	cpu_state_init(&s);
	assert_int_equal(cpu_setup_prot32(&s, &m, BOOT_GDT_CS32), 0);
	s.ds.selector = 0x48; /* beyond the 5-entry GDT */
	d = dump(&s);
	assert_non_null(strstr(d, "(32-bit protected mode, CPL 0, paging off)"));
	assert_non_null(strstr(d, "D/B G"));
	assert_non_null(strstr(d, "hint: selectors beyond GDTR.limit 0x0027 (reloading one raises #GP): DS=0x0048\n"));
	free(d);
	assert_int_equal(cpu_check_entry_state(&s, out, sizeof(out)), 0);
	free(ram);
}

static void test_dump_lme_without_pae_hint(void **state)
{
	(void)state;
	struct cpu_state s;
	cpu_state_init(&s);
	s.cr0 |= X86_CR0_PE;
	s.efer = X86_EFER_LME;
	char *d = dump(&s);
	assert_non_null(strstr(d, "hint: EFER.LME=1 without CR4.PAE"));
	free(d);
}

/* Each mutation of a valid long-mode state must produce its finding. */
static const char *mutate(struct cpu_state *x, int i)
{
	switch (i) {
	case 0: x->cr0 &= ~X86_CR0_PE; x->efer = 0; x->cr4 = 0; return "CR0.PG=1 with CR0.PE=0";
	case 1: x->cs.db = 1; return "CS.L and CS.D both set";
	case 2: x->efer = X86_EFER_LME; return "EFER.LME=1 with CR0.PG=1 but EFER.LMA=0";
	case 3: x->cr4 = 0; return "long mode without CR4.PAE";
	case 4: x->tr.unusable = 1; return "TR unusable";
	case 5: x->ss.dpl = 3; return "SS.DPL != CS.DPL";
	case 6: x->cs.type = 1; return "CS type 1 is not an accessed code segment";
	case 7: x->cs.type = 0xA; return "CS type 10 is not an accessed code segment";
	case 8: x->ss.type = 0xB; return "SS type 11 is not read/write accessed data";
	case 9: x->ds.present = 0; return "DS not present";
	case 10: x->cs.present = 0; return "CS not present";
	case 11: x->tr.type = 9; return "TR type 9 is not a busy TSS";
	case 12: x->tr.s = 1; return "TR.S=1";
	case 13: x->ds.g = 0; return "DS.G=0 but limit 0xffffffff exceeds 1 MiB";
	case 14: x->es.limit = 0x1000; return "ES.G=1 but limit 0x1000 is not 4 KiB-granular";
	case 15: x->rip = 0x0000900000000000ULL; return "RIP 0x900000000000 not canonical";
	case 16: x->cs.l = 0; x->rip = 0x100000000ULL; return "RIP 0x100000000 has bits 63:32 set";
	case 17: x->rflags = 0; return "RFLAGS bit 1 is 0";
	case 18: x->fs.base = 0x0000800000000000ULL; return "FS base 0x800000000000 not canonical";
	case 19: x->gdt.base = 0x8000000000000000ULL; return "GDTR base";
	case 20: x->ldt.unusable = 0; x->ldt.type = 3; return "LDTR type 3 is not LDT";
	case 21: x->cr4 |= X86_CR4_PCIDE; x->efer = 0; x->cr0 &= ~X86_CR0_PG; return "CR4.PCIDE=1 outside IA-32e mode";
	case 22: x->cr0 |= X86_CR0_NW; return "CR0.NW=1 with CR0.CD=0";
	case 23: x->rflags |= X86_RFLAGS_VM; return "RFLAGS.VM=1 in IA-32e mode";
	}
	return NULL;
}

static void test_entry_checks(void **state)
{
	(void)state;
	struct cpu_state base, s;
	struct guest_mem m;
	void *ram;
	long_state(&base, &ram, &m);
	char out[2048];
	const char *expect;
	for (int i = 0; (s = base, expect = mutate(&s, i)) != NULL; i++) {
		int n = cpu_check_entry_state(&s, out, sizeof(out));
		if (n < 1 || !strstr(out, expect))
			fail_msg("case %d: expected \"%s\", got %d finding(s): %s", i, expect, n, out);
	}
	/* CS type 3 is fine with unrestricted guest only. */
	s = base;
	s.cs.type = 3;
	s.cs.l = 0;
	s.efer = 0; s.cr0 &= ~X86_CR0_PG;
	assert_int_equal(cpu_check_entry_state(&s, out, sizeof(out)), 0);
	assert_true(cpu_check_entry_state_ex(&s, CPU_CHECK_NO_UNRESTRICTED, out, sizeof(out)) >= 1);
	assert_non_null(strstr(out, "CS type 3 is not an accessed code segment"));
	/* A small buffer truncates the text but still counts every finding. */
	s = base;
	s.cs.db = 1;
	s.tr.unusable = 1;
	char tiny[8];
	assert_int_equal(cpu_check_entry_state(&s, tiny, sizeof(tiny)), 2);
	assert_int_equal(strlen(tiny), 7);
	assert_int_equal(cpu_check_entry_state(&s, NULL, 0), 2);
	free(ram);
}

static void test_segment_type_names(void **state)
{
	(void)state;
	char b[64];
	struct cpu_segment g = {.s = 1, .type = 0xF};
	assert_string_equal(cpu_segment_type_name(&g, b, sizeof(b)),
			    "code exec/read conforming accessed");
	g.type = 0x6;
	assert_string_equal(cpu_segment_type_name(&g, b, sizeof(b)), "data read/write expand-down");
	g = (struct cpu_segment){.s = 0, .type = 0x2};
	assert_string_equal(cpu_segment_type_name(&g, b, sizeof(b)), "LDT");
	g.type = 0xE;
	assert_string_equal(cpu_segment_type_name(&g, b, sizeof(b)), "32/64-bit interrupt gate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_long_names),
		cmocka_unit_test(test_dump_real_and_prot),
		cmocka_unit_test(test_dump_lme_without_pae_hint),
		cmocka_unit_test(test_entry_checks),
		cmocka_unit_test(test_segment_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
