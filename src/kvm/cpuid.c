/* cpuid.c - host detection and the CPUID policy, in one place.
 *
 * The guest's CPUID is KVM_GET_SUPPORTED_CPUID edited by nobios's policy
 * (src/cpu/cpuid_policy.c: hypervisor bit, KVM leaves, TSC frequency,
 * topology, host-kind masks), which knows nothing of KVM's types.  On an
 * emulating host (kvm_pvm: no VMX/SVM visible, ring-0 guest code runs
 * through KVM's instruction emulator) only bits that KVM_GET_SUPPORTED_CPUID
 * lists can be masked; the guest sees the host's XSAVE/AVX/SMAP/POPCNT
 * whatever we set.  Every decision is reported with -v.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpu/cpuid.h"
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
	h->svm = h->hw_virt && svm && !vmx;
	h->emulating = !h->hw_virt;
	/* svm.c shutdown_interception(): "VMCB is undefined after a SHUTDOWN
	 * intercept. INIT the vCPU to put the VMCB in a known good state." */
	h->shutdown_resets = h->svm;
	/* Read now, not in a failure dump: once the guest runs, the sandbox
	 * allows no file to be opened (util/sandbox.h). */
	if (vmx && !pvm) {
		FILE *ug = fopen("/sys/module/kvm_intel/parameters/unrestricted_guest", "r");
		if (ug) {
			h->vmx_no_unrestricted = fgetc(ug) == 'N';
			fclose(ug);
		}
	}
	snprintf(h->desc, sizeof(h->desc), "%s%s%s", h->hw_virt ? (vmx ? "VMX" : "SVM") : "no VMX/SVM",
		 pvm ? ", kvm_pvm loaded: ring-0 guest code is emulated by KVM" : "",
		 h->shutdown_resets ? ", KVM resets a vCPU at a triple fault: the state of every "
				      "exit is kept for the dump" : "");
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID, read once per machine: every vCPU starts from
 * the same table (a system ioctl that costs more than the rest of a vCPU's
 * CPUID set-up). */
static const struct kvm_cpuid2 *supported_cpuid(struct machine *m)
{
	if (m->supported_cpuid)
		return m->supported_cpuid;
	int n = 128;
	struct kvm_cpuid2 *c = NULL;
	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			nb_err_internal("out of memory");
			return NULL;
		}
		c->nent = n;
		if (ioctl(m->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || n > 4096) {
			free(c);
			nb_err_errno("KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
		n *= 2;
	}
	m->supported_cpuid = c;
	return c;
}

/* KVM's table, nobios's policy over it (src/cpu/cpuid_policy.c), back to KVM. */
int kvm_cpuid_setup(struct machine *m, struct vcpu *v)
{
	const struct kvm_cpuid2 *c = supported_cpuid(m);
	if (!c)
		return -1;
	/* Room for the leaves the policy adds (0x40000010, topology subleaves). */
	unsigned cap = c->nent + 16;
	struct cpuid_table t = { .e = calloc(cap, sizeof(struct cpuid_entry)), .cap = cap };
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) + cap * sizeof(out->entries[0]));
	int r = -1;
	if (!t.e || !out) {
		nb_err_internal("out of memory");
		goto done;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *k = &c->entries[i];
		t.e[t.n++] = (struct cpuid_entry){
			.function = k->function, .index = k->index,
			.flags = k->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? CPUID_FLAG_INDEXED : 0,
			.eax = k->eax, .ebx = k->ebx, .ecx = k->ecx, .edx = k->edx };
	}
	/* KVM's TSC rate for this vCPU: each starts at the VM's default (the
	 * host's) and nobios sets none, so vCPU 0's holds for all. */
	if (v->id == 0)
		m->tsc_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	struct cpuid_policy pol = {
		.apic_id = (unsigned)v->id, .ncpus = m->nvcpus,
		.tsc_khz = m->tsc_khz > 0 ? (uint32_t)m->tsc_khz : 0, .emulating = m->host.emulating,
		.mask = m->cfg.cpuid_mask, .keep = m->cfg.cpuid_keep,
		.log = v->id == 0 ? m->cfg.log : NULL,
	};
	if (cpuid_policy_apply(&t, &pol) < 0)
		goto done;
	out->nent = t.n;
	for (unsigned i = 0; i < t.n; i++) {
		const struct cpuid_entry *e = &t.e[i];
		out->entries[i] = (struct kvm_cpuid_entry2){
			.function = e->function, .index = e->index,
			.flags = e->flags & CPUID_FLAG_INDEXED ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx };
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, out) < 0) {
		nb_err_errno("KVM_SET_CPUID2");
		goto done;
	}
	r = 0;
done:
	free(out);
	free(t.e);
	return r;
}
