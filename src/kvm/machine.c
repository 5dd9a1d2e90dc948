/* machine.c - the VM: KVM set-up, RAM slots, devices, loading through the
 * boot seam, and running the vCPU until the guest exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "boot/linux_cmdline.h"
#include "debug/gdbstub.h"
#include "debug/timeline.h"
#include "cpu/cpuid.h"
#include "kvm/kvm.h"
#include "mem/layout.h"
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
	vcpu_kick(&m->vcpu);
}

void machine_signal_stop(struct machine *m, int sig)
{
	/* Only async-signal-safe work here: the run loop turns the flag into a
	 * stop request when KVM_RUN returns (EINTR through the kick). */
	m->signal_stop = sig;
	gdbstub_signal_stop(m->gdb); /* ends any wait for gdb (async-signal-safe) */
	if (m->vcpu.run)
		m->vcpu.run->immediate_exit = 1;
	if (m->vcpu.started && !pthread_equal(pthread_self(), m->vcpu.thread))
		pthread_kill(m->vcpu.thread, SIGUSR1);
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

/* The pseudo-BIOS trap (src/bios/) serves a call on the vCPU's registers
 * from the vCPU thread, inside the port-I/O exit. */
static int host_get_cpu(void *vm, struct cpu_state *s)
{
	return vcpu_get_state(&((struct machine *)vm)->vcpu, s);
}

static int host_set_cpu(void *vm, const struct cpu_state *s)
{
	return vcpu_set_state(&((struct machine *)vm)->vcpu, s);
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

/* After the RAM slots: a memslot change waits for an SRCU grace period,
 * which costs milliseconds once the irqchip and PIT exist. */
static int setup_irqchip(struct machine *m)
{
	if (ioctl(m->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return nb_err_errno("KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = { .flags = 0 };
	if (ioctl(m->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return nb_err_errno("KVM_CREATE_PIT2");
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
	timeline_mark("memory ready");
	return 0;
}

static int setup_devices(struct machine *m)
{
	bus_init(&m->bus);
	m->dev_host = (struct dev_host){
		.vm = m, .irq_line = host_irq_line, .request_stop = host_request_stop,
		.milestone = host_milestone, .get_cpu = host_get_cpu, .set_cpu = host_set_cpu,
		.warn = host_warn,
		.mem = &m->mem, .console_in = m->cfg.console_in,
		.console_out = m->cfg.console_out, .log = m->cfg.log,
	};
	const struct device *devs[MAX_DEVICES];
	unsigned n = devices(devs, MAX_DEVICES);
	for (unsigned i = 0; i < n; i++) {
		void *state = NULL;
		if (devs[i]->init(&m->bus, &m->dev_host, &m->cfg, &state) < 0) {
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
	p->lapic_base = LAYOUT_LAPIC;
	p->ioapic_base = LAYOUT_IOAPIC;
	p->ioapic_id = p->ncpus;
	p->ioapic_pins = 24; /* KVM's in-kernel IOAPIC (KVM_IOAPIC_NUM_PINS) */
}

int machine_create(struct machine **out, const struct machine_config *cfg)
{
	*out = NULL;
	if (cfg->cpus != 1)
		return nb_err("--cpus %u: only 1 vCPU is supported so far", cfg->cpus);
	if (cpuid_list_check(cfg->cpuid_mask, "--cpuid-mask") < 0 ||
	    cpuid_list_check(cfg->cpuid_keep, "--cpuid-keep") < 0)
		return -1;
	struct machine *m = calloc(1, sizeof(*m));
	if (!m)
		return nb_err_internal("out of memory");
	m->cfg = *cfg;
	m->kvm_fd = m->vm_fd = -1;
	m->vcpu.fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	platform_plan(&m->plat, cfg);
	/* Guest RAM is plain host memory until machine_start hands it to KVM:
	 * every input file is read and checked against it first, so a bad file
	 * is reported the same way whether or not this host has /dev/kvm. */
	if (mem_init(&m->mem, m->cfg.ram_size) < 0) {
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
	if (boot_load(&m->boot) < 0)
		return -1;
	/* --timeline: boot_load reads, decompresses and places the image in
	 * one call; decompression is the host time it reports. */
	if (m->boot.decompress_ms > 0)
		timeline_mark_detail("image decompressed", "%.1f ms on the host", m->boot.decompress_ms);
	timeline_mark_detail("image read", "%s", m->boot.format ? m->boot.format : "?");
	return 0;
}

int machine_start(struct machine *m)
{
	struct sigaction sa = { .sa_handler = sig_kick };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (setup_vm(m) < 0 || setup_memory(m) < 0 || setup_irqchip(m) < 0 ||
	    setup_devices(m) < 0 || vcpu_create(m, &m->vcpu, 0) < 0 || machine_gdb_setup(m) < 0)
		return -1;
	return vcpu_set_state(&m->vcpu, &m->entry);
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
	m->vcpu.thread = pthread_self();
	m->vcpu.started = true;
	machine_hang_watch_start(m); /* ends a guest asleep in hlt with IF=0 */
	int r = machine_sandbox_enter(m, res); /* the last step before the guest runs */
	if (r == 0)
		r = vcpu_run_loop(&m->vcpu, res);
	machine_hang_watch_stop(m);
	if (r == 0)
		machine_check_panic(m, res);
	m->vcpu.started = false;
	finish_devices(m, res);
	timeline_mark_detail("guest exit", "%s", res->cause);
	if (m->gdb) /* tell a connected gdb the guest is gone */
		gdbstub_guest_exited(m->gdb, res->status, res->status == NB_EXIT_GUEST_FAULT);
	if (m->cfg.dump_on_exit)
		vcpu_dump(&m->vcpu, stderr, "state at exit (--dump-state-on-exit)");
	if (m->cfg.log) {
		fprintf(m->cfg.log,
			"nobios: exits: %llu total, %llu port I/O, %llu MMIO; int3 completed: %llu\n",
			(unsigned long long)m->exits_total, (unsigned long long)m->exits_io,
			(unsigned long long)m->exits_mmio, (unsigned long long)m->int3_injected);
		bus_report_unclaimed(&m->bus, m->cfg.log);
		vcpu_complete_report(&m->vcpu, m->cfg.log); /* issue 6: completions per kind */
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
	vcpu_destroy(&m->vcpu);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	mem_free(&m->mem);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
