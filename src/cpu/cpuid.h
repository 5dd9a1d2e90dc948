/* cpuid.h - the CPUID a guest sees: nobios's policy over what KVM supports.
 *
 * The kvm layer fetches KVM_GET_SUPPORTED_CPUID into a struct cpuid_table,
 * cpuid_policy_apply() edits it as every VMM does (hypervisor-present bit,
 * KVM's signature and feature leaves, the TSC frequency leaf, each vCPU's
 * APIC ID and the topology around it, host-kind masks, --cpuid-mask/-keep),
 * and the kvm layer hands it to KVM_SET_CPUID2.  No KVM type here, so the
 * policy is unit-tested against tables written by hand. */
#ifndef NOBIOS_CPU_CPUID_H
#define NOBIOS_CPU_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One leaf/subleaf, as KVM's struct kvm_cpuid_entry2 carries it. */
struct cpuid_entry {
	uint32_t function, index;
	uint32_t flags; /* CPUID_FLAG_* */
	uint32_t eax, ebx, ecx, edx;
};
#define CPUID_FLAG_INDEXED 1u /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX: index selects */

struct cpuid_table {
	struct cpuid_entry *e;
	unsigned n, cap;
};

/* Leaves and bits with the names the SDM, AMD's APM and KVM's cpuid.rst give. */
#define CPUID_LEAF_FEATURES        0x00000001u
#define CPUID_1_ECX_HYPERVISOR     (1u << 31) /* "not a real CPU": read 0x40000000 */
#define CPUID_1_EDX_HTT            (1u << 28)
#define CPUID_LEAF_CACHE_PARAMS    0x00000004u /* Intel: EAX[31:26] cores - 1 */
#define CPUID_LEAF_EXT_TOPOLOGY    0x0000000Bu /* x2APIC topology, EDX = x2APIC ID */
#define CPUID_LEAF_V2_EXT_TOPOLOGY 0x0000001Fu
#define CPUID_TOPO_LEVEL_SMT       1u
#define CPUID_TOPO_LEVEL_CORE      2u
#define KVM_CPUID_SIGNATURE        0x40000000u /* EAX max leaf, "KVMKVMKVM\0\0\0" */
#define KVM_CPUID_FEATURES         0x40000001u /* EAX: KVM_FEATURE_* bits */
#define CPUID_LEAF_HV_TIMING       0x40000010u /* EAX TSC kHz, EBX APIC bus kHz (as QEMU) */
#define CPUID_LEAF_AMD_ADDR_SIZES  0x80000008u /* ECX[7:0] NC: cores - 1 */
/* KVM_FEATURE_* (Documentation/virt/kvm/x86/cpuid.rst) named in -v */
#define KVM_FEATURE_CLOCKSOURCE    0
#define KVM_FEATURE_CLOCKSOURCE2   3
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24
/* KVM's local APIC timer counts at 1 GHz (APIC_BUS_CYCLE_NS = 1). */
#define KVM_APIC_BUS_KHZ           1000000u

struct cpuid_policy {
	unsigned apic_id;  /* this vCPU's (x2)APIC ID */
	unsigned ncpus;    /* vCPUs in the VM: one package, one thread per core */
	uint32_t tsc_khz;  /* KVM_GET_TSC_KHZ, 0 when KVM does not say */
	bool emulating;    /* kvm_pvm: KVM's instruction emulator runs ring 0 */
	const char *mask;  /* --cpuid-mask LIST or NULL */
	const char *keep;  /* --cpuid-keep LIST or NULL */
	FILE *log;         /* -v: one line per decision */
};

/* Edit t in place.  0, or -1 with nb_err() (an unknown feature name in a
 * list, or no room to add a leaf). */
int cpuid_policy_apply(struct cpuid_table *t, const struct cpuid_policy *p);
/* Check the names in a --cpuid-mask/--cpuid-keep list before any KVM exists:
 * 0, or -1 with nb_err() naming flag and the unknown feature. */
int cpuid_list_check(const char *list, const char *flag);
/* The entry for leaf/subleaf (index ignored for leaves without
 * CPUID_FLAG_INDEXED), or NULL. */
struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t function, uint32_t index);

#endif
