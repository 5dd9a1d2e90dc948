/* test_cpuid.c - the CPUID policy (src/cpu/cpuid_policy.c) against tables
 * shaped like KVM_GET_SUPPORTED_CPUID's, with the numbers the SDM, AMD's APM
 * and KVM's cpuid.rst give. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "util/err.h"

static struct cpuid_entry ents[64];
static struct cpuid_table tab;

/* A small Intel-like host table: max basic leaf 0xB, leaf 1 with the host's
 * APIC ID 0x23 and 16 logical IDs, HTT, two 0xB levels of a 2x8 host, two
 * cache leaves, KVM's signature/feature leaves, AMD's 0x80000008. */
static void host_table(void)
{
	memset(ents, 0, sizeof(ents));
	unsigned n = 0;
	ents[n++] = (struct cpuid_entry){ 0, 0, 0, 0xB, 0x756e6547, 0x6c65746e, 0x49656e69 };
	ents[n++] = (struct cpuid_entry){ 1, 0, 0, 0x906ea, 0x23100800, 0x7ffafbff, 0xbfebfbff };
	ents[n++] = (struct cpuid_entry){ 4, 0, CPUID_FLAG_INDEXED, 0x1c004121, 0x1c0003f, 0x3f, 0 };
	ents[n++] = (struct cpuid_entry){ 4, 3, CPUID_FLAG_INDEXED, 0x1c03c163, 0x3c0003f, 0x3fff, 6 };
	ents[n++] = (struct cpuid_entry){ 0xB, 0, CPUID_FLAG_INDEXED, 1, 2, 0x100, 0x23 };
	ents[n++] = (struct cpuid_entry){ 0xB, 1, CPUID_FLAG_INDEXED, 4, 16, 0x201, 0x23 };
	ents[n++] = (struct cpuid_entry){ KVM_CPUID_SIGNATURE, 0, 0, KVM_CPUID_FEATURES, 0x4b4d564b,
					  0x564b4d56, 0x4d };
	ents[n++] = (struct cpuid_entry){ KVM_CPUID_FEATURES, 0, 0, 0x01007afb, 0, 0, 0 };
	ents[n++] = (struct cpuid_entry){ 0x80000008, 0, 0, 0x3027, 0, 0x400f, 0 };
	tab = (struct cpuid_table){ .e = ents, .n = n, .cap = 64 };
}

static struct cpuid_entry *leaf(uint32_t f, uint32_t i)
{
	struct cpuid_entry *e = cpuid_find(&tab, f, i);
	assert_non_null(e);
	return e;
}

static unsigned count(uint32_t f)
{
	unsigned c = 0;
	for (unsigned i = 0; i < tab.n; i++)
		c += tab.e[i].function == f;
	return c;
}

static void test_hypervisor_bit_and_kvm_leaves(void **st)
{
	(void)st;
	host_table();
	struct cpuid_policy p = { .ncpus = 1 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_true(leaf(1, 0)->ecx & (1u << 31)); /* CPUID.1:ECX[31] */
	struct cpuid_entry *s = leaf(KVM_CPUID_SIGNATURE, 0);
	char sig[13] = { 0 };
	memcpy(sig, &s->ebx, 4);
	memcpy(sig + 4, &s->ecx, 4);
	memcpy(sig + 8, &s->edx, 4);
	assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
	assert_int_equal(s->eax, KVM_CPUID_FEATURES); /* no TSC leaf without a rate */
	/* KVM's paravirtual features pass through untouched */
	assert_int_equal(leaf(KVM_CPUID_FEATURES, 0)->eax, 0x01007afb);
	assert_null(cpuid_find(&tab, CPUID_LEAF_HV_TIMING, 0));
}

static void test_missing_signature_is_added(void **st)
{
	(void)st;
	host_table();
	/* drop 0x40000000 */
	for (unsigned i = 0; i < tab.n; i++)
		if (tab.e[i].function == KVM_CPUID_SIGNATURE)
			tab.e[i] = tab.e[--tab.n];
	struct cpuid_policy p = { .ncpus = 1 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_int_equal(leaf(KVM_CPUID_SIGNATURE, 0)->ebx, 0x4b4d564b);
	assert_int_equal(leaf(KVM_CPUID_SIGNATURE, 0)->eax, KVM_CPUID_FEATURES);
}

static void test_tsc_leaf(void **st)
{
	(void)st;
	host_table();
	struct cpuid_policy p = { .ncpus = 1, .tsc_khz = 2995200 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_int_equal(leaf(CPUID_LEAF_HV_TIMING, 0)->eax, 2995200);
	assert_int_equal(leaf(CPUID_LEAF_HV_TIMING, 0)->ebx, 1000000); /* KVM's 1 GHz APIC bus */
	assert_int_equal(leaf(KVM_CPUID_SIGNATURE, 0)->eax, 0x40000010);
}

static void test_topology_one_cpu(void **st)
{
	(void)st;
	host_table();
	struct cpuid_policy p = { .apic_id = 0, .ncpus = 1 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	struct cpuid_entry *l1 = leaf(1, 0);
	assert_int_equal(l1->ebx >> 24, 0);          /* the host's APIC ID 0x23 is gone */
	assert_int_equal((l1->ebx >> 16) & 0xFF, 0); /* no HTT: field not used */
	assert_int_equal(l1->ebx & 0xFFFF, 0x0800);  /* CLFLUSH size, brand: kept */
	assert_false(l1->edx & (1u << 28));
	assert_int_equal(count(0xB), 3);
	assert_int_equal(leaf(0xB, 0)->ebx, 1);
	assert_int_equal(leaf(0xB, 0)->ecx, 0x100);  /* level 0, type SMT */
	assert_int_equal(leaf(0xB, 1)->eax, 0);
	assert_int_equal(leaf(0xB, 1)->ebx, 1);
	assert_int_equal(leaf(0xB, 1)->ecx, 0x201);  /* level 1, type core */
	assert_int_equal(leaf(0xB, 2)->ecx, 0x002);  /* type 0: the end */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(leaf(0xB, i)->edx, 0);
	/* leaf 4: no cores beside this one, nothing shared */
	assert_int_equal(leaf(4, 0)->eax >> 26, 0);
	assert_int_equal((leaf(4, 3)->eax >> 14) & 0xFFF, 0);
	assert_int_equal(leaf(4, 0)->eax & 0x3FFF, 0x0121); /* type and level kept */
	assert_int_equal(leaf(0x80000008, 0)->ecx & 0xFF, 0);
}

static void test_topology_six_cpus(void **st)
{
	(void)st;
	host_table();
	struct cpuid_policy p = { .apic_id = 5, .ncpus = 6 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	struct cpuid_entry *l1 = leaf(1, 0);
	assert_int_equal(l1->ebx >> 24, 5);
	assert_int_equal((l1->ebx >> 16) & 0xFF, 8); /* next power of two */
	assert_true(l1->edx & (1u << 28));
	assert_int_equal(leaf(0xB, 1)->eax, 3);      /* 3 bits number 6 cores */
	assert_int_equal(leaf(0xB, 1)->ebx, 6);
	assert_int_equal(leaf(0xB, 2)->edx, 5);
	assert_int_equal(leaf(4, 0)->eax >> 26, 5);
	assert_int_equal((leaf(4, 3)->eax >> 14) & 0xFFF, 5); /* L3 shared by all */
	assert_int_equal((leaf(4, 0)->eax >> 14) & 0xFFF, 0); /* L1 per core */
	assert_int_equal(leaf(0x80000008, 0)->ecx & 0xFF, 5);
	assert_int_equal((leaf(0x80000008, 0)->ecx >> 12) & 0xF, 3);
}

static void test_masks(void **st)
{
	(void)st;
	host_table();
	struct cpuid_policy p = { .ncpus = 1, .mask = "cx16,popcnt", .keep = NULL };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_false(leaf(1, 0)->ecx & (1u << 13));
	assert_false(leaf(1, 0)->ecx & (1u << 23));
	assert_true(leaf(1, 0)->ecx & (1u << 26)); /* xsave untouched */

	host_table();
	p = (struct cpuid_policy){ .ncpus = 1, .mask = "hypervisor" };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_false(leaf(1, 0)->ecx & (1u << 31)); /* the user's word wins */

	/* emulating host: cx16 is completed by nobios, so it stays */
	host_table();
	p = (struct cpuid_policy){ .ncpus = 1, .emulating = true };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_true(leaf(1, 0)->ecx & (1u << 13));
}

static void test_long_and_bad_lists(void **st)
{
	(void)st;
	/* a list longer than any fixed buffer: every name is applied */
	char list[2048] = "";
	for (int i = 0; i < 150; i++)
		strcat(list, i % 2 ? "avx," : "smep,");
	strcat(list, "popcnt");
	host_table();
	struct cpuid_policy p = { .ncpus = 1, .mask = list };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	assert_false(leaf(1, 0)->ecx & (1u << 23));

	host_table();
	p = (struct cpuid_policy){ .ncpus = 1, .mask = "cx16,warp-drive" };
	assert_int_equal(cpuid_policy_apply(&tab, &p), -1);
	assert_non_null(strstr(nb_errmsg(), "unknown CPUID feature 'warp-drive'"));
}

static void test_log_lists_policy(void **st)
{
	(void)st;
	host_table();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct cpuid_policy p = { .ncpus = 2, .apic_id = 1, .tsc_khz = 1000, .log = f };
	assert_int_equal(cpuid_policy_apply(&tab, &p), 0);
	fclose(f);
	assert_non_null(strstr(buf, "hypervisor-present bit"));
	assert_non_null(strstr(buf, "kvm-clock yes"));
	assert_non_null(strstr(buf, "TSC 1000 kHz"));
	assert_non_null(strstr(buf, "APIC ID 1 of 2 vCPUs"));
	free(buf);
}

static void test_table_full(void **st)
{
	(void)st;
	host_table();
	tab.cap = tab.n; /* no room for the extra 0xB level */
	struct cpuid_policy p = { .ncpus = 1, .tsc_khz = 1 };
	assert_int_equal(cpuid_policy_apply(&tab, &p), -1);
	assert_non_null(strstr(nb_errmsg(), "CPUID table full"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypervisor_bit_and_kvm_leaves),
		cmocka_unit_test(test_missing_signature_is_added),
		cmocka_unit_test(test_tsc_leaf),
		cmocka_unit_test(test_topology_one_cpu),
		cmocka_unit_test(test_topology_six_cpus),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_long_and_bad_lists),
		cmocka_unit_test(test_log_lists_policy),
		cmocka_unit_test(test_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
