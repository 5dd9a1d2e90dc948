/* machine.c - the VM: KVM set-up, RAM slots, devices, loading through the
 * boot seam, and running the vCPUs until the guest exits.
 *
 * Several vCPUs: vCPU i has APIC ID i; vCPU 0, the BSP, starts at the
 * loader's entry state and runs in machine_run's caller, every AP in a
 * thread of its own, parked by KVM's in-kernel LAPIC
 * (KVM_MP_STATE_UNINITIALIZED) until the guest sends it INIT and SIPI.
 * The machine stops as a whole: a device, a signal, the timeout or the
 * hang watcher requests the stop (machine_request_stop), or one vCPU's own
 * exit ends it (machine_vcpu_stop, first one wins); either way every vCPU
 * is kicked out of KVM_RUN and joined before the result is reported. */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bios/bios.h"
#include "boot/linux_cmdline.h"
#include "debug/gdbstub.h"
#include "debug/timeline.h"
#include "cpu/cpuid.h"
#include "boot/mptable.h"
#include "kvm/kvm.h"
#include "mem/layout.h"
#include "net/tap.h"
#include "util/err.h"
#include "util/sandbox.h"

/* Devices raise interrupt lines from the vCPU and console threads. */
SANDBOX_NEEDS(machine_needs, "machine: interrupt lines (src/kvm/machine.c)", 0,
	SB_IOCTL(KVM_IRQ_LINE));

void machine_config_defaults(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_size = 256ULL << 20;
	cfg->cpus = 1;
	cfg->console_in = -1;
	cfg->console_out = STDOUT_FILENO;
	cfg->boot.linux_cmdline_defaults = true;
	cfg->sandbox = true;
	for (unsigned i = 0; i < NET_MAX_DEVICES; i++)
		cfg->net[i].fd = -1;
}

void machine_kick_all(struct machine *m)
{
	for (unsigned i = 0; i < m->nvcpus; i++)
		vcpu_kick(&m->vcpus[i]);
}

void machine_request_stop(struct machine *m, enum machine_stop kind, int status, const char *msg)
{
	pthread_mutex_lock(&m->lock);
	if (!atomic_load(&m->stop)) {
		m->stop_kind = kind;
		m->stop_status = status;
		snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg ? msg : "");
		atomic_store(&m->stop, true);
	}
	pthread_mutex_unlock(&m->lock);
	machine_kick_all(m);
}

bool machine_vcpu_stop(struct machine *m, struct vcpu *v, const struct machine_result *res)
{
	bool first = false;
	pthread_mutex_lock(&m->lock);
	if (!atomic_load(&m->stop)) {
		m->stop_kind = res->stop;
		m->stop_status = res->status;
		snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", res->cause);
		m->stop_vcpu = v->id;
		atomic_store(&m->stop, true);
		first = true;
	}
	pthread_mutex_unlock(&m->lock);
	machine_kick_all(m);
	return first;
}

void machine_signal_stop(struct machine *m, int sig)
{
	/* Only async-signal-safe work here: the run loops turn the flag into a
	 * stop request when KVM_RUN returns (EINTR through the kick). */
	m->signal_stop = sig;
	gdbstub_signal_stop(m->gdb); /* ends any wait for gdb (async-signal-safe) */
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		if (v->run)
			v->run->immediate_exit = 1;
		if (atomic_load(&v->started) && !pthread_equal(pthread_self(), v->thread))
			pthread_kill(v->thread, SIGUSR1);
	}
}

/* ---- struct dev_host: what devices may ask of the machine. */
static int host_irq_line(void *vm, unsigned irq, int level)
{
	struct machine *m = vm;
	struct kvm_irq_level l = { .irq = irq, .level = level };
	if (ioctl(m->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return nb_err_errno("KVM_IRQ_LINE %u", irq);
	return 0;
}

static int host_ioeventfd(void *vm, uint64_t addr, uint32_t datamatch, int fd)
{
	struct machine *m = vm;
	struct kvm_ioeventfd e = { .datamatch = datamatch, .addr = addr, .len = 4, .fd = fd,
				   .flags = KVM_IOEVENTFD_FLAG_DATAMATCH };
	if (ioctl(m->vm_fd, KVM_IOEVENTFD, &e) < 0)
		return nb_err_errno("KVM_IOEVENTFD at 0x%" PRIx64, addr);
	return 0;
}

static void host_request_stop(void *vm, enum dev_stop_reason why, int status, const char *msg)
{
	static const enum machine_stop kinds[] = {
		[DEV_STOP_EXIT] = MACHINE_STOP_EXIT,
		[DEV_STOP_RESET] = MACHINE_STOP_RESET,
		[DEV_STOP_POWEROFF] = MACHINE_STOP_POWEROFF,
		[DEV_STOP_ERROR] = MACHINE_STOP_ERROR,
	};
	enum machine_stop k = why <= DEV_STOP_ERROR ? kinds[why] : MACHINE_STOP_ERROR;
	machine_request_stop(vm, k, status, msg);
}

static void host_warn(void *vm, const char *msg)
{
	(void)vm;
	fprintf(stderr, "nobios: %s\n", msg);
}

static void host_milestone(void *vm, const char *what)
{
	struct machine *m = vm;
	timeline_mark(what); /* --timeline keeps the first of each name */
	if (m->cfg.log)
		fprintf(m->cfg.log, "nobios: milestone: %s\n", what);
}

/* The pseudo-BIOS trap (src/bios/) serves a call on the registers of the
 * vCPU that made it, from that vCPU's thread, inside the port-I/O exit. */
static struct vcpu *calling_vcpu(struct machine *m)
{
	struct vcpu *v = vcpu_current();
	return v && v->m == m ? v : &m->vcpus[0];
}

static int host_get_cpu(void *vm, struct cpu_state *s)
{
	return vcpu_get_state(calling_vcpu(vm), s);
}

static int host_set_cpu(void *vm, const struct cpu_state *s)
{
	return vcpu_set_state(calling_vcpu(vm), s);
}

static void sig_kick(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static int setup_vm(struct machine *m)
{
	m->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (m->kvm_fd < 0)
		return nb_err_errno("cannot open /dev/kvm");
	int ver = ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return nb_err_internal("/dev/kvm: API version %d, expected %d", ver,
				       KVM_API_VERSION);
	kvm_host_detect(m->kvm_fd, &m->host);
	if (m->cfg.log)
		fprintf(m->cfg.log, "nobios: host: %s\n", m->host.desc);
	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0)
		return nb_err_errno("KVM_CREATE_VM");
	/* Both must be set before any vCPU exists and lie outside RAM. */
	if (ioctl(m->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return nb_err_errno("KVM_SET_TSS_ADDR");
	uint64_t idmap = LAYOUT_KVM_IDENTITY;
	if (ioctl(m->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return nb_err_errno("KVM_SET_IDENTITY_MAP_ADDR");
	timeline_mark("VM created");
	return 0;
}

/* KVM's default GSI routing sends GSI n to IOAPIC pin n; PCs, and the MP
 * table and MADT nobios writes, have the PIT's IRQ 0 on pin 2 (the
 * interrupt source override every x86 kernel expects).  So GSIs 0-15 go to
 * the 8259s as ISA IRQs and to the IOAPIC pin mptable_isa_pin() names
 * (GSI 0 -> pin 2; GSI 2, the cascade, to no pin), GSIs 16.. to their pin. */
static int setup_gsi_routing(struct machine *m)
{
	unsigned pins = m->plat.ioapic_pins;
	struct kvm_irq_routing *r =
		calloc(1, sizeof(*r) + (16 + pins) * sizeof(struct kvm_irq_routing_entry));
	if (!r)
		return nb_err_internal("out of memory");
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 16; gsi++) {
		if (gsi != 2)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								  : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = gsi % 8 } };
		int pin = mptable_isa_pin(gsi);
		if (pin >= 0)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = (unsigned)pin } };
	}
	for (unsigned gsi = 16; gsi < pins; gsi++)
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi } };
	r->nr = n;
	int rc = ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	if (rc < 0)
		return nb_err_errno("KVM_SET_GSI_ROUTING");
	return 0;
}

/* After the RAM slots: a memslot change waits for an SRCU grace period,
 * which costs milliseconds once the irqchip and PIT exist. */
static int setup_irqchip(struct machine *m)
{
	if (ioctl(m->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return nb_err_errno("KVM_CREATE_IRQCHIP");
	if (setup_gsi_routing(m) < 0)
		return -1;
	struct kvm_pit_config pit = { .flags = 0 };
	if (ioctl(m->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return nb_err_errno("KVM_CREATE_PIT2");
	return 0;
}

/* A PC's firmware ROM is decoded at the top of the 4 GiB space too: the
 * CPU's first fetch is at 0xFFFFFFF0, and probes (a hypervisor looking for
 * the reset vector, ROM scanners) read there.  With the pseudo-BIOS
 * installed, its 64 KiB image, as loaded at 0xF0000, is mapped again at
 * LAYOUT_ROM_HIGH through a read-only slot: a guest write there exits to
 * nobios as MMIO and changes nothing, as on a PC.  Hosts without
 * KVM_CAP_READONLY_MEM get no mapping (said with -v). */
static int setup_rom(struct machine *m)
{
	if (!m->boot.bios_installed)
		return 0;
	if (ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
		if (m->cfg.log)
			fprintf(m->cfg.log, "nobios: bios: this KVM has no read-only memory slots: "
				"nothing mapped at 0x%llx\n", (unsigned long long)LAYOUT_ROM_HIGH);
		return 0;
	}
	const uint8_t *img = mem_ptr(&m->mem, LAYOUT_BIOS, LAYOUT_ROM_SIZE);
	if (!img)
		return nb_err_internal("pseudo-BIOS image not in guest RAM");
	void *rom = mmap(NULL, LAYOUT_ROM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom == MAP_FAILED)
		return nb_err_errno("mmap (firmware ROM)");
	memcpy(rom, img, LAYOUT_ROM_SIZE);
	m->rom = rom;
	struct kvm_userspace_memory_region r = {
		.slot = 2, .flags = KVM_MEM_READONLY, .guest_phys_addr = LAYOUT_ROM_HIGH,
		.memory_size = LAYOUT_ROM_SIZE, .userspace_addr = (uintptr_t)rom,
	};
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return nb_err_errno("KVM_SET_USER_MEMORY_REGION (firmware ROM at 0xFFFF0000)");
	if (m->cfg.log)
		fprintf(m->cfg.log, "nobios: bios: firmware image also at [0x%llx, 0x%llx), "
			"read-only\n", (unsigned long long)LAYOUT_ROM_HIGH,
			(unsigned long long)(LAYOUT_ROM_HIGH + LAYOUT_ROM_SIZE));
	return 0;
}

static int setup_memory(struct machine *m)
{
	struct kvm_userspace_memory_region low = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = m->mem.low_size,
		.userspace_addr = (uintptr_t)m->mem.host,
	};
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &low) < 0)
		return nb_err_errno("KVM_SET_USER_MEMORY_REGION (low RAM)");
	if (m->mem.high_size) {
		struct kvm_userspace_memory_region high = {
			.slot = 1, .guest_phys_addr = LAYOUT_MMIO_HOLE_END,
			.memory_size = m->mem.high_size,
			.userspace_addr = (uintptr_t)(m->mem.host + m->mem.low_size),
		};
		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &high) < 0)
			return nb_err_errno("KVM_SET_USER_MEMORY_REGION (high RAM)");
	}
	if (setup_rom(m) < 0)
		return -1;
	timeline_mark("memory ready");
	return 0;
}

static int setup_devices(struct machine *m)
{
	bus_init(&m->bus);
	m->dev_host = (struct dev_host){
		.vm = m, .irq_line = host_irq_line, .request_stop = host_request_stop,
		.milestone = host_milestone, .get_cpu = host_get_cpu, .set_cpu = host_set_cpu,
		.warn = host_warn, .ioeventfd = host_ioeventfd,
		.mem = &m->mem, .plat = &m->plat, .console_in = m->cfg.console_in,
		.console_out = m->cfg.console_out, .log = m->cfg.log,
	};
	const struct device *devs[MAX_DEVICES];
	unsigned n = devices(devs, MAX_DEVICES);
	for (unsigned i = 0; i < n; i++) {
		void *state = NULL;
		if (devs[i]->init(&m->bus, &m->dev_host, &m->cfg, &state) < 0) {
			/* What a failed init made (threads of the devices before
			 * the one that failed, their descriptors) goes now, before
			 * machine_destroy frees the memory those threads use. */
			if (state && devs[i]->fini)
				devs[i]->fini(state);
			nb_err_prefix("device %s", devs[i]->name);
			return -1;
		}
		m->devs[m->ndevs].dev = devs[i];
		m->devs[m->ndevs].state = state;
		m->ndevs++;
	}
	return 0;
}

/* What the guest will find besides RAM, decided from the configuration
 * alone so the loaders can describe it before any device exists. */
static void platform_plan(struct platform *p, const struct machine_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->ncpus = cfg->cpus ? cfg->cpus : 1;
	/* KVM passes the host's family/model/stepping and (masked) feature
	 * bits through CPUID leaf 1: the MP table's processor entries repeat
	 * them (informational; kernels read CPUID themselves). */
	unsigned a = 0, b = 0, c = 0, d = 0;
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		p->cpu_signature = a & 0xFFF; /* stepping, model, family (MP spec 4.3.1) */
		p->cpu_features = d;
	}
	p->lapic_base = LAYOUT_LAPIC;
	p->ioapic_base = LAYOUT_IOAPIC;
	p->ioapic_id = p->ncpus;
	p->ioapic_pins = 24; /* KVM's in-kernel IOAPIC (KVM_IOAPIC_NUM_PINS) */
	/* Virtio-mmio devices: the disks (vda, vdb, ... in --disk order), then
	 * the entropy and console devices, then the network devices (eth0,
	 * eth1, ... in --net order), then the 9p shares; 4 KiB windows one
	 * after the other from LAYOUT_VIRTIO_MMIO.  Interrupts: IOAPIC pins 16-23 first (no
	 * ISA device or the SCI can be there; the MP table gives each its
	 * own entry), then ISA IRQs no nobios device uses. */
	static const uint32_t gsis[PLATFORM_VIRTIO_GSIS] = { 16, 17, 18, 19, 20, 21,
							     22, 23, 5,  10, 11, 7 };
	struct { uint32_t id; unsigned n; } want[] = {
		{ VIRTIO_ID_BLOCK, cfg->boot.ndisks },
		{ VIRTIO_ID_RNG, cfg->virtio_rng },
		{ VIRTIO_ID_CONSOLE, cfg->virtio_console },
		{ VIRTIO_ID_NET, cfg->nnets },
		{ VIRTIO_ID_9P, cfg->nshares },
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		for (unsigned i = 0; i < want[k].n && p->nvirtio < sizeof(gsis) / sizeof(gsis[0]);
		     i++) {
			struct platform_virtio *v = &p->virtio[p->nvirtio];
			v->device_id = want[k].id;
			v->index = i;
			v->base = LAYOUT_VIRTIO_MMIO + (uint64_t)p->nvirtio * 0x1000;
			v->size = 0x1000;
			v->gsi = gsis[p->nvirtio];
			p->nvirtio++;
		}
}

/* Every virtio device needs an interrupt line of its own (platform_plan):
 * more than there are is a usage error, not a device silently left out. */
static int check_virtio_count(const struct machine_config *cfg)
{
	unsigned want = cfg->boot.ndisks + cfg->virtio_rng + cfg->virtio_console + cfg->nnets +
			cfg->nshares;
	if (want > PLATFORM_VIRTIO_GSIS)
		return nb_err("%u virtio devices (--disk, --virtio-rng, --virtio-console, --net, "
			      "shares): at most %d, one interrupt line each", want,
			      PLATFORM_VIRTIO_GSIS);
	return 0;
}

/* Attach every --net TAP (creating those that do not exist) before any
 * loader or device, as the disks are opened: a missing /dev/net/tun or a
 * refused TAP is reported the same way with or without /dev/kvm, and the
 * sandbox entered later forbids open(2). */
static int open_nets(struct machine *m)
{
	for (unsigned i = 0; i < m->cfg.nnets && i < NET_MAX_DEVICES; i++) {
		struct net_config *n = &m->cfg.net[i];
		if (tap_open(n->tap, n->ifname, &n->fd, &n->created) < 0)
			return -1;
		m->nnets_open = i + 1;
		if (!n->mac_set)
			tap_default_mac(n->ifname, n->mac);
	}
	return 0;
}

/* Open every --disk once, before any loader or device: the pseudo-BIOS and
 * virtio-blk share the first (one file, one lock). */
static int open_disks(struct machine *m)
{
	struct boot_config *b = &m->cfg.boot;
	for (unsigned i = 0; i < b->ndisks && i < BOOT_MAX_DISKS; i++) {
		struct boot_disk *d = &b->disks[i];
		enum disk_mode mode = d->rw         ? DISK_READ_WRITE
				      : d->snapshot ? DISK_SNAPSHOT
						    : DISK_READ_ONLY;
		if (disk_image_open(&m->disks[i], d->path, mode) < 0)
			return -1;
		m->ndisks_open = i + 1;
		d->img = &m->disks[i];
	}
	return 0;
}

int machine_create(struct machine **out, const struct machine_config *cfg)
{
	*out = NULL;
	if (cfg->cpus < 1 || cfg->cpus > PLATFORM_MAX_CPUS)
		return nb_err("--cpus %u: between 1 and %d (xAPIC IDs)", cfg->cpus, PLATFORM_MAX_CPUS);
	if (cpuid_list_check(cfg->cpuid_mask, "--cpuid-mask") < 0 ||
	    cpuid_list_check(cfg->cpuid_keep, "--cpuid-keep") < 0)
		return -1;
	for (unsigned i = 0; i < cfg->nshares; i++) {
		struct stat st;
		if (stat(cfg->shares[i].path, &st) < 0)
			return nb_err_errno("%s: cannot share", cfg->shares[i].path);
		if (!S_ISDIR(st.st_mode))
			return nb_err("%s: cannot share: not a directory", cfg->shares[i].path);
	}
	struct machine *m = calloc(1, sizeof(*m));
	if (!m)
		return nb_err_internal("out of memory");
	m->cfg = *cfg;
	m->kvm_fd = m->vm_fd = -1;
	m->stop_vcpu = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->io_lock, NULL);
	pthread_mutex_init(&m->dump_lock, NULL);
	platform_plan(&m->plat, cfg);
	m->vcpus = calloc(m->plat.ncpus, sizeof(*m->vcpus));
	if (!m->vcpus) {
		machine_destroy(m);
		return nb_err_internal("out of memory");
	}
	m->nvcpus = m->plat.ncpus;
	for (unsigned i = 0; i < m->nvcpus; i++)
		m->vcpus[i].fd = -1;
	/* Guest RAM is plain host memory until machine_start hands it to KVM:
	 * every input file is read and checked against it first, so a bad file
	 * is reported the same way whether or not this host has /dev/kvm. */
	if (check_virtio_count(cfg) < 0 || mem_init(&m->mem, m->cfg.ram_size) < 0 ||
	    open_disks(m) < 0 || open_nets(m) < 0) {
		machine_destroy(m);
		return -1;
	}
	*out = m;
	return 0;
}

int machine_load(struct machine *m)
{
	m->boot = (struct boot_ctx){ .mem = &m->mem, .cpu = &m->entry, .cfg = &m->cfg.boot,
				     .plat = &m->plat, .log = m->cfg.log };
	if (boot_load(&m->boot) < 0 || bios_install_direct(&m->boot) < 0)
		return -1;
	/* --timeline: boot_load reads, decompresses and places the image in
	 * one call; decompression is the host time it reports. */
	if (m->boot.decompress_ms > 0)
		timeline_mark_detail("image decompressed", "%.1f ms on the host", m->boot.decompress_ms);
	timeline_mark_detail("image read", "%s", m->boot.format ? m->boot.format : "?");
	return 0;
}

/* KVM's limit (api.rst 4.8 KVM_CREATE_VCPU: KVM_CAP_MAX_VCPUS, else
 * KVM_CAP_NR_VCPUS, else 4), checked before the first vCPU. */
static int check_vcpu_limit(struct machine *m)
{
	int max = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (m->nvcpus > (unsigned)max)
		return nb_err("--cpus %u: this host's KVM allows at most %d vCPUs", m->nvcpus, max);
	return 0;
}

/* Serially, in this thread.  Creating each AP's vCPU in that AP's own
 * thread (KVM runs kvm_arch_vcpu_create outside kvm->lock, so creations
 * can overlap) was tried and measured slower in the SVM test host: 16 vCPUs
 * in 174 ms against 65 ms serially, 8 in 300 against 44 (one run each,
 * 2 test-host CPUs): starting the threads first costs more than the
 * overlap saves there. */
static int setup_vcpus(struct machine *m)
{
	if (check_vcpu_limit(m) < 0)
		return -1;
	uint64_t t0 = timeline_now_us();
	if (vcpu_probe(m) < 0)
		return -1;
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (vcpu_create(m, &m->vcpus[i], (int)i) < 0) {
			nb_err_prefix("vCPU %u", i);
			return -1;
		}
	timeline_mark_detail("vCPUs created", "%u in %.3f ms", m->nvcpus,
			     (double)(timeline_now_us() - t0) / 1e3);
	return 0;
}

int machine_start(struct machine *m)
{
	struct sigaction sa = { .sa_handler = sig_kick };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (setup_vm(m) < 0 || setup_memory(m) < 0 || setup_irqchip(m) < 0 ||
	    setup_devices(m) < 0 || setup_vcpus(m) < 0 || machine_gdb_setup(m) < 0)
		return -1;
	/* The BSP starts where the loader said; KVM keeps every AP waiting
	 * for INIT/SIPI (KVM_MP_STATE_UNINITIALIZED) with the in-kernel LAPIC. */
	return vcpu_set_state(&m->vcpus[0], &m->entry);
}

static void *ap_thread(void *arg)
{
	vcpu_run_loop(arg);
	return NULL;
}

/* One thread per AP.  A stop requested while they start must still reach
 * each: `started` is published before the stop flag is read again, and
 * machine_request_stop sets the flag before it reads `started`. */
static void start_aps(struct machine *m)
{
	uint64_t t0 = timeline_now_us();
	for (unsigned i = 1; i < m->nvcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		int e = pthread_create(&v->thread, NULL, ap_thread, v);
		if (e != 0) {
			char msg[96];
			snprintf(msg, sizeof(msg), "cannot start the thread of vCPU %u: %s", i,
				 strerror(e));
			machine_request_stop(m, MACHINE_STOP_ERROR, NB_EXIT_INTERNAL, msg);
			return;
		}
		v->joinable = true;
		atomic_store(&v->started, true);
		if (atomic_load(&m->stop))
			vcpu_kick(v);
	}
	if (m->nvcpus > 1)
		timeline_mark_detail("AP threads started", "%u in %.3f ms", m->nvcpus - 1,
				     (double)(timeline_now_us() - t0) / 1e3);
}

static void join_aps(struct machine *m)
{
	for (unsigned i = 1; i < m->nvcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		if (!v->joinable)
			continue;
		pthread_join(v->thread, NULL);
		v->joinable = false;
		atomic_store(&v->started, false);
	}
}

/* Dumps for stops that belong to no one vCPU (timeout, every vCPU asleep,
 * --dump-state-on-exit): every vCPU in order, once all have left KVM_RUN. */
static void dump_all(struct machine *m, const char *cause)
{
	if (m->nvcpus == 1) {
		vcpu_dump(&m->vcpus[0], stderr, cause);
		return;
	}
	fprintf(stderr, "nobios: %s\n", cause);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		char what[64];
		if (vcpu_waiting_for_sipi(v)) {
			fprintf(stderr, "nobios: vCPU %u (APIC ID %u): not started: waiting for "
					"INIT/SIPI\n", i, i);
			continue;
		}
		snprintf(what, sizeof(what), "vCPU %u (APIC ID %u):", i, i);
		vcpu_dump(v, stderr, what);
	}
}

static void report_counters(struct machine *m, FILE *log)
{
	uint64_t io = 0, mmio = 0, total = 0, int3 = 0;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		io += m->vcpus[i].exits_io;
		mmio += m->vcpus[i].exits_mmio;
		total += m->vcpus[i].exits_total;
		int3 += m->vcpus[i].int3_injected;
	}
	fprintf(log, "nobios: exits: %llu total, %llu port I/O, %llu MMIO; int3 completed: %llu\n",
		(unsigned long long)total, (unsigned long long)io, (unsigned long long)mmio,
		(unsigned long long)int3);
	if (m->nvcpus > 1)
		for (unsigned i = 0; i < m->nvcpus; i++)
			fprintf(log, "nobios: vCPU %u: %llu exits, %llu port I/O, %llu MMIO%s\n", i,
				(unsigned long long)m->vcpus[i].exits_total,
				(unsigned long long)m->vcpus[i].exits_io,
				(unsigned long long)m->vcpus[i].exits_mmio,
				vcpu_waiting_for_sipi(&m->vcpus[i]) ? " (never started)" : "");
}

/* A reset of a Linux guest whose command line nobios gave
 * reboot=k,panic_warm: Linux's emergency restart wrote its reboot mode to
 * the BIOS warm-boot flag just before the i8042 reset, 0x1234 (warm) only on
 * a panic, 0 (cold) on every other reboot.  Nothing else can tell the two
 * apart, so any other guest's reset stays status 0. */
static void machine_check_panic(struct machine *m, struct machine_result *res)
{
	uint16_t flag;
	if (res->stop != MACHINE_STOP_RESET || !m->boot.linux_panic_flag ||
	    mem_read16(&m->mem, LINUX_WARM_BOOT_FLAG_GPA, &flag) < 0 ||
	    flag != LINUX_WARM_BOOT_MAGIC)
		return;
	res->stop = MACHINE_STOP_PANIC;
	res->status = NB_EXIT_GUEST_PANIC;
	snprintf(res->cause, sizeof(res->cause),
		 "the guest kernel panicked (Linux reset with the warm-boot flag 0x%x at 0x%x "
		 "that reboot=k,panic_warm sets on a panic)", LINUX_WARM_BOOT_MAGIC,
		 LINUX_WARM_BOOT_FLAG_GPA);
}

/* The guest has stopped: each device's finish hook (disk flush and
 * release).  A failure overrides the status (see struct machine_result). */
static void finish_devices(struct machine *m, struct machine_result *res)
{
	for (unsigned i = 0; i < m->ndevs; i++) {
		const struct device *d = m->devs[i].dev;
		if (!d->finish || d->finish(m->devs[i].state) == 0)
			continue;
		if (!res->data_error[0])
			snprintf(res->data_error, sizeof(res->data_error), "%s", nb_errmsg());
		res->status = NB_EXIT_IO;
	}
	if (res->data_error[0])
		timeline_mark_detail("disk data lost", "%s", res->data_error);
}

int machine_run(struct machine *m, struct machine_result *res)
{
	memset(res, 0, sizeof(*res));
	struct vcpu *bsp = &m->vcpus[0];
	bsp->thread = pthread_self();
	atomic_store(&bsp->started, true);
	machine_hang_watch_start(m); /* ends a guest every vCPU of which sleeps for good */
	/* The sandbox is the last step before the guest runs; the AP threads
	 * started after it inherit it. */
	if (machine_sandbox_enter(m, res) < 0) {
		machine_hang_watch_stop(m);
		atomic_store(&bsp->started, false);
		return -1;
	}
	start_aps(m);
	vcpu_run_loop(bsp);
	/* The BSP's loop ends only once the machine is stopping. */
	if (!atomic_load(&m->stop))
		machine_request_stop(m, MACHINE_STOP_ERROR, NB_EXIT_INTERNAL,
				     "vCPU 0 stopped without a cause");
	machine_hang_watch_stop(m); /* releases vCPUs waiting for its verdict */
	join_aps(m);
	atomic_store(&bsp->started, false);
	pthread_mutex_lock(&m->lock);
	res->stop = m->stop_kind;
	res->status = m->stop_status;
	snprintf(res->cause, sizeof(res->cause), "%s", m->stop_msg);
	int r = m->stop_vcpu >= 0 && m->vcpus[m->stop_vcpu].res.stop == MACHINE_STOP_ERROR ? -1 : 0;
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		machine_check_panic(m, res);
	finish_devices(m, res);
	timeline_mark_detail("guest exit", "%s", res->cause);
	if (res->stop == MACHINE_STOP_TIMEOUT || res->stop == MACHINE_STOP_HLT)
		dump_all(m, res->cause);
	if (m->gdb) /* tell a connected gdb the guest is gone */
		gdbstub_guest_exited(m->gdb, res->status, res->status == NB_EXIT_GUEST_FAULT);
	if (m->cfg.dump_on_exit)
		dump_all(m, "state at exit (--dump-state-on-exit)");
	if (m->cfg.log) {
		report_counters(m, m->cfg.log);
		bus_report_unclaimed(&m->bus, m->cfg.log);
		/* completions per kind: each vCPU that had any (every one with
		 * a single vCPU, so "completions: 0" is said too) */
		unsigned with = 0;
		for (unsigned i = 0; i < m->nvcpus; i++)
			if (m->nvcpus == 1 || m->vcpus[i].completion) {
				vcpu_complete_report(&m->vcpus[i], m->cfg.log);
				with++;
			}
		if (!with)
			fprintf(m->cfg.log, "nobios: completions: 0\n");
	}
	if (m->cfg.timeline)
		machine_timeline_report(m, res);
	return r;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	for (unsigned i = m->ndevs; i-- > 0;)
		if (m->devs[i].dev->fini)
			m->devs[i].dev->fini(m->devs[i].state);
	gdbstub_destroy(m->gdb);
	for (unsigned i = 0; i < m->nvcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	free(m->supported_cpuid);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	mem_free(&m->mem);
	if (m->rom)
		munmap(m->rom, LAYOUT_ROM_SIZE);
	/* Normally closed (and flushed, with errors told) by virtio-blk's
	 * finish; this is for runs that never got that far.  Safe twice. */
	for (unsigned i = 0; i < m->ndisks_open; i++)
		disk_image_close(&m->disks[i]);
	/* After the devices' fini: virtio-net's receive thread has ended. */
	for (unsigned i = 0; i < m->nnets_open; i++)
		close(m->cfg.net[i].fd);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->io_lock);
	pthread_mutex_destroy(&m->dump_lock);
	free(m);
}
