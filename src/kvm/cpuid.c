/* cpuid.c - host detection and the CPUID policy, in one place.
 *
 * On a VMX/SVM host the guest gets KVM_GET_SUPPORTED_CPUID unchanged.  On an
 * emulating host (kvm_pvm: no VMX/SVM visible, ring-0 guest code runs
 * through KVM's instruction emulator) bits whose instructions the emulator
 * refuses are masked where KVM lets us mask them (only bits that
 * KVM_GET_SUPPORTED_CPUID lists can be masked; the guest sees the host's
 * XSAVE/AVX/SMAP/POPCNT whatever we set).  Every masked bit is reported -v.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "util/err.h"

int kvm_host_detect(int kvm_fd, struct kvm_host *h)
{
	unsigned a, b, c, d;
	bool vmx = false, svm = false;
	(void)kvm_fd;
	if (__get_cpuid(1, &a, &b, &c, &d))
		vmx = c & (1u << 5);
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		svm = c & (1u << 2);
	bool pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
	memset(h, 0, sizeof(*h));
	h->hw_virt = (vmx || svm) && !pvm;
	h->emulating = !h->hw_virt;
	snprintf(h->desc, sizeof(h->desc), "%s%s", h->hw_virt ? (vmx ? "VMX" : "SVM") : "no VMX/SVM",
		 pvm ? ", kvm_pvm loaded: ring-0 guest code is emulated by KVM" : "");
	return 0;
}

struct cpuid_bit {
	const char *name;
	uint32_t leaf, index;
	int reg; /* 0 eax 1 ebx 2 ecx 3 edx */
	int bit;
};

/* Instructions KVM's emulator refuses, by the bit that advertises them.
 * Only those nobios cannot complete in user space (complete.c, issue 6) are
 * masked: cmpxchg16b is completed, so cx16 stays visible.  (SSE, XSAVE,
 * POPCNT and SMAP cannot be masked here anyway; they are completed too.) */
static const struct cpuid_bit emulator_refuses[] = {
	{ "cx16 (cmpxchg16b)", 1, 0, 2, 13 },
};
static const bool emulator_refuses_completed[] = {
	true, /* cx16: lock cmpxchg16b runs in the completion engine */
};

static const struct cpuid_bit named_bits[] = {
	{ "cx16", 1, 0, 2, 13 },     { "popcnt", 1, 0, 2, 23 }, { "xsave", 1, 0, 2, 26 },
	{ "avx", 1, 0, 2, 28 },      { "sse4_2", 1, 0, 2, 20 }, { "x2apic", 1, 0, 2, 21 },
	{ "smap", 7, 0, 1, 20 },     { "smep", 7, 0, 1, 7 },    { "avx2", 7, 0, 1, 5 },
	{ "rdrand", 1, 0, 2, 30 },   { "rdseed", 7, 0, 1, 18 }, { "pdpe1gb", 0x80000001, 0, 3, 26 },
	{ "la57", 7, 0, 2, 16 },     { "fsgsbase", 7, 0, 1, 0 }, { "pku", 7, 0, 2, 3 },
	{ "umip", 7, 0, 2, 2 },      { "shstk", 7, 0, 2, 7 },
};

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, int reg)
{
	switch (reg) {
	case 0: return &e->eax;
	case 1: return &e->ebx;
	case 2: return &e->ecx;
	default: return &e->edx;
	}
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t leaf, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == index))
			return &c->entries[i];
	return NULL;
}

static void set_bit_(struct machine *m, struct kvm_cpuid2 *c, const struct cpuid_bit *b,
		     bool on, const char *why)
{
	struct kvm_cpuid_entry2 *e = find(c, b->leaf, b->index);
	if (!e)
		return;
	uint32_t *r = reg_of(e, b->reg);
	if (on)
		*r |= 1u << b->bit;
	else
		*r &= ~(1u << b->bit);
	if (m->cfg.log)
		fprintf(m->cfg.log, "nobios: cpuid: %s %s (%s)\n", on ? "keeping" : "masking",
			b->name, why);
}

/* Apply a comma-separated list of named bits. */
static int apply_list(struct machine *m, struct kvm_cpuid2 *c, const char *list, bool on,
		      const char *flag)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct cpuid_bit *hit = NULL;
		for (size_t i = 0; i < sizeof(named_bits) / sizeof(named_bits[0]); i++)
			if (strcmp(named_bits[i].name, tok) == 0)
				hit = &named_bits[i];
		if (!hit)
			return nb_err("%s: unknown CPUID feature '%s'", flag, tok);
		set_bit_(m, c, hit, on, flag);
	}
	return 0;
}

int kvm_cpuid_setup(struct machine *m, struct vcpu *v)
{
	int n = 128;
	struct kvm_cpuid2 *c = NULL;
	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return nb_err_internal("out of memory");
		c->nent = n;
		if (ioctl(m->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || n > 4096) {
			free(c);
			return nb_err_errno("KVM_GET_SUPPORTED_CPUID");
		}
		n *= 2;
	}
	if (m->host.emulating)
		for (size_t i = 0; i < sizeof(emulator_refuses) / sizeof(emulator_refuses[0]); i++) {
			if (emulator_refuses_completed[i]) {
				if (m->cfg.log)
					fprintf(m->cfg.log,
						"nobios: cpuid: keeping %s (KVM's emulator refuses "
						"it; nobios completes it)\n",
						emulator_refuses[i].name);
				continue;
			}
			set_bit_(m, c, &emulator_refuses[i], false,
				 "KVM's instruction emulator refuses it on this host");
		}
	if (m->cfg.cpuid_mask && apply_list(m, c, m->cfg.cpuid_mask, false, "--cpuid-mask") < 0)
		goto fail;
	if (m->cfg.cpuid_keep && apply_list(m, c, m->cfg.cpuid_keep, true, "--cpuid-keep") < 0)
		goto fail;
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		nb_err_errno("KVM_SET_CPUID2");
		goto fail;
	}
	free(c);
	return 0;
fail:
	free(c);
	return -1;
}
