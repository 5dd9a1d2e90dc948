/* cpuid_policy.c - the CPUID every VMM gives, over what KVM supports.
 *
 * KVM_GET_SUPPORTED_CPUID is what KVM *can* give; a guest also needs what
 * only the VMM knows.  Without CPUID.1:ECX[31] Linux takes itself for bare
 * metal, never reads KVM's leaves, has no kvm-clock and (on the SVM test
 * host) hangs calibrating the TSC against a PIT that TCG runs unevenly.  The
 * host's own topology (APIC IDs, core counts) leaks through the supported
 * table and must be replaced by the VM's.  QEMU, Firecracker and kvmtool all
 * make these same edits; each is logged with -v.
 */
#include "cpu/cpuid.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

struct cpuid_bit {
	const char *name;
	uint32_t leaf, index;
	int reg; /* 0 eax 1 ebx 2 ecx 3 edx */
	int bit;
};

/* Features --cpuid-mask / --cpuid-keep can name. */
static const struct cpuid_bit named_bits[] = {
	{ "cx16", 1, 0, 2, 13 },     { "popcnt", 1, 0, 2, 23 },  { "xsave", 1, 0, 2, 26 },
	{ "avx", 1, 0, 2, 28 },      { "sse4_2", 1, 0, 2, 20 },  { "x2apic", 1, 0, 2, 21 },
	{ "smap", 7, 0, 1, 20 },     { "smep", 7, 0, 1, 7 },     { "avx2", 7, 0, 1, 5 },
	{ "rdrand", 1, 0, 2, 30 },   { "rdseed", 7, 0, 1, 18 },  { "pdpe1gb", 0x80000001, 0, 3, 26 },
	{ "la57", 7, 0, 2, 16 },     { "fsgsbase", 7, 0, 1, 0 }, { "pku", 7, 0, 2, 3 },
	{ "umip", 7, 0, 2, 2 },      { "shstk", 7, 0, 2, 7 },    { "hypervisor", 1, 0, 2, 31 },
	{ "nx", 0x80000001, 0, 3, 20 },
};

/* Instructions KVM's emulator refuses on an emulating host (kvm_pvm), by the
 * bit that advertises them, and whether nobios completes them in user space
 * (src/kvm/complete.c): completed ones stay visible, the rest are masked. */
static const struct {
	struct cpuid_bit bit;
	bool completed;
} emulator_refuses[] = {
	{ { "cx16 (cmpxchg16b)", 1, 0, 2, 13 }, true },
};

struct cpuid_entry *cpuid_find(const struct cpuid_table *t, uint32_t function, uint32_t index)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].function == function &&
		    (!(t->e[i].flags & CPUID_FLAG_INDEXED) || t->e[i].index == index))
			return &t->e[i];
	return NULL;
}

static uint32_t *reg_of(struct cpuid_entry *e, int reg)
{
	switch (reg) {
	case 0: return &e->eax;
	case 1: return &e->ebx;
	case 2: return &e->ecx;
	default: return &e->edx;
	}
}

static void say(const struct cpuid_policy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct cpuid_policy *p, const char *fmt, ...)
{
	if (!p->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("nobios: cpuid: ", p->log);
	vfprintf(p->log, fmt, ap);
	fputc('\n', p->log);
	va_end(ap);
}

static void set_bit_(struct cpuid_table *t, const struct cpuid_policy *p,
		     const struct cpuid_bit *b, bool on, const char *why)
{
	struct cpuid_entry *e = cpuid_find(t, b->leaf, b->index);
	if (!e)
		return;
	uint32_t *r = reg_of(e, b->reg);
	if (on)
		*r |= 1u << b->bit;
	else
		*r &= ~(1u << b->bit);
	say(p, "%s %s (%s)", on ? "keeping" : "masking", b->name, why);
}

/* A comma-separated list of named bits, of any length; t NULL only checks. */
static int apply_list(struct cpuid_table *t, const struct cpuid_policy *p, const char *list,
		      bool on, const char *flag)
{
	char *buf = strdup(list);
	if (!buf)
		return nb_err_internal("out of memory");
	int r = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct cpuid_bit *hit = NULL;
		for (size_t i = 0; i < sizeof(named_bits) / sizeof(named_bits[0]); i++)
			if (strcmp(named_bits[i].name, tok) == 0)
				hit = &named_bits[i];
		if (!hit) {
			r = nb_err("%s: unknown CPUID feature '%s'", flag, tok);
			break;
		}
		if (t)
			set_bit_(t, p, hit, on, flag);
	}
	free(buf);
	return r;
}

int cpuid_list_check(const char *list, const char *flag)
{
	return list ? apply_list(NULL, NULL, list, false, flag) : 0;
}

static struct cpuid_entry *add(struct cpuid_table *t, uint32_t function, uint32_t index,
			       uint32_t flags)
{
	if (t->n >= t->cap) {
		nb_err_internal("CPUID table full (%u entries)", t->cap);
		return NULL;
	}
	struct cpuid_entry *e = &t->e[t->n++];
	*e = (struct cpuid_entry){ .function = function, .index = index, .flags = flags };
	return e;
}

static void drop_leaf(struct cpuid_table *t, uint32_t function)
{
	unsigned j = 0;
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].function != function)
			t->e[j++] = t->e[i];
	t->n = j;
}

/* Bits needed to number n items (0 for 1). */
static unsigned id_bits(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* 0xB / 0x1F: SMT level (one thread per core), core level (ncpus cores),
 * then the terminating invalid level; EDX is the x2APIC ID at every level. */
static int set_ext_topology(struct cpuid_table *t, const struct cpuid_policy *p, uint32_t leaf)
{
	drop_leaf(t, leaf);
	unsigned cbits = id_bits(p->ncpus);
	struct cpuid_entry *smt = add(t, leaf, 0, CPUID_FLAG_INDEXED);
	struct cpuid_entry *core = smt ? add(t, leaf, 1, CPUID_FLAG_INDEXED) : NULL;
	struct cpuid_entry *end = core ? add(t, leaf, 2, CPUID_FLAG_INDEXED) : NULL;
	if (!end)
		return -1;
	*smt = (struct cpuid_entry){ leaf, 0, CPUID_FLAG_INDEXED, 0, 1,
				     0 | CPUID_TOPO_LEVEL_SMT << 8, p->apic_id };
	*core = (struct cpuid_entry){ leaf, 1, CPUID_FLAG_INDEXED, cbits, p->ncpus,
				      1 | CPUID_TOPO_LEVEL_CORE << 8, p->apic_id };
	*end = (struct cpuid_entry){ leaf, 2, CPUID_FLAG_INDEXED, 0, 0, 2, p->apic_id };
	return 0;
}

static int set_topology(struct cpuid_table *t, const struct cpuid_policy *p)
{
	unsigned n = p->ncpus ? p->ncpus : 1;
	struct cpuid_entry *e = cpuid_find(t, CPUID_LEAF_FEATURES, 0);
	if (e) {
		/* EBX[31:24] initial APIC ID, [23:16] addressable logical IDs */
		e->ebx = (e->ebx & 0xFFFFu) | (p->apic_id & 0xFF) << 24 |
			 (n > 1 ? (1u << id_bits(n)) & 0xFF : 0) << 16;
		if (n > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
	}
	struct cpuid_entry *base = cpuid_find(t, 0, 0);
	uint32_t max_basic = base ? base->eax : 0;
	if (max_basic >= CPUID_LEAF_EXT_TOPOLOGY && set_ext_topology(t, p, CPUID_LEAF_EXT_TOPOLOGY) < 0)
		return -1;
	if (max_basic >= CPUID_LEAF_V2_EXT_TOPOLOGY &&
	    set_ext_topology(t, p, CPUID_LEAF_V2_EXT_TOPOLOGY) < 0)
		return -1;
	/* Intel's deterministic cache leaf: cores per package and sharing. */
	for (unsigned i = 0; i < t->n; i++) {
		struct cpuid_entry *c = &t->e[i];
		if (c->function != CPUID_LEAF_CACHE_PARAMS || (c->eax & 0x1F) == 0)
			continue;
		unsigned level = (c->eax >> 5) & 7;
		uint32_t sharing = level == 3 ? n - 1 : 0;
		c->eax = (c->eax & 0x3FFF) | (sharing & 0xFFF) << 14 | ((n - 1) & 0x3F) << 26;
	}
	/* AMD: NC (cores - 1) and ApicIdCoreIdSize. */
	struct cpuid_entry *a = cpuid_find(t, CPUID_LEAF_AMD_ADDR_SIZES, 0);
	if (a)
		a->ecx = (a->ecx & ~0xF0FFu) | ((n - 1) & 0xFF) | (id_bits(n) & 0xF) << 12;
	say(p, "APIC ID %u of %u vCPU%s (leaves 1, 0xB/0x1F, 4, 0x80000008)", p->apic_id, n,
	    n == 1 ? "" : "s");
	return 0;
}

static int set_hypervisor_leaves(struct cpuid_table *t, const struct cpuid_policy *p)
{
	struct cpuid_entry *e = cpuid_find(t, CPUID_LEAF_FEATURES, 0);
	if (e) {
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		say(p, "setting the hypervisor-present bit (CPUID.1:ECX[31])");
	}
	struct cpuid_entry *sig = cpuid_find(t, KVM_CPUID_SIGNATURE, 0);
	if (!sig) {
		/* KVM lists its signature leaf; a KVM that did not still is KVM. */
		if (!(sig = add(t, KVM_CPUID_SIGNATURE, 0, 0)))
			return -1;
		sig->eax = KVM_CPUID_FEATURES;
	}
	sig->ebx = 0x4b4d564b; /* "KVMK" */
	sig->ecx = 0x564b4d56; /* "VMKV" */
	sig->edx = 0x0000004d; /* "M\0\0\0" */
	struct cpuid_entry *f = cpuid_find(t, KVM_CPUID_FEATURES, 0);
	if (f)
		say(p, "KVM signature leaf 0x40000000, features 0x40000001 EAX=0x%08x "
		    "(kvm-clock %s)", f->eax,
		    f->eax & (1u << KVM_FEATURE_CLOCKSOURCE2 | 1u << KVM_FEATURE_CLOCKSOURCE)
			    ? "yes" : "no");
	else
		say(p, "KVM signature leaf 0x40000000; KVM lists no feature leaf");
	if (p->tsc_khz) {
		struct cpuid_entry *tl = cpuid_find(t, CPUID_LEAF_HV_TIMING, 0);
		if (!tl && !(tl = add(t, CPUID_LEAF_HV_TIMING, 0, 0)))
			return -1;
		tl->eax = p->tsc_khz;
		tl->ebx = KVM_APIC_BUS_KHZ;
		tl->ecx = tl->edx = 0;
		if (sig->eax < CPUID_LEAF_HV_TIMING)
			sig->eax = CPUID_LEAF_HV_TIMING;
		say(p, "TSC %u kHz, APIC bus %u kHz in leaf 0x40000010", p->tsc_khz,
		    KVM_APIC_BUS_KHZ);
	}
	return 0;
}

int cpuid_policy_apply(struct cpuid_table *t, const struct cpuid_policy *p)
{
	if (set_hypervisor_leaves(t, p) < 0 || set_topology(t, p) < 0)
		return -1;
	if (p->emulating)
		for (size_t i = 0; i < sizeof(emulator_refuses) / sizeof(emulator_refuses[0]); i++) {
			if (emulator_refuses[i].completed)
				say(p, "keeping %s (KVM's emulator refuses it; nobios completes it)",
				    emulator_refuses[i].bit.name);
			else
				set_bit_(t, p, &emulator_refuses[i].bit, false,
					 "KVM's instruction emulator refuses it on this host");
		}
	if (p->mask && apply_list(t, p, p->mask, false, "--cpuid-mask") < 0)
		return -1;
	if (p->keep && apply_list(t, p, p->keep, true, "--cpuid-keep") < 0)
		return -1;
	return 0;
}
