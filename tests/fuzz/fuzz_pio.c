/* fuzz_pio.c - libFuzzer harness: every registered port-I/O device (the
 * 16550A UART, i8042, CMOS/RTC, reset control, debug console, debug exit,
 * POST, the pseudo-BIOS trap) through the bus, as a guest drives them: a
 * sequence of in/out of 1, 2 or 4 bytes at any port (mostly the claimed
 * ones), with a pseudo-BIOS active and the trapping vCPU's registers from
 * the input.  Devices run fresh for each input, with a fake machine behind
 * struct dev_host; console output goes to /dev/null. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/bios.h"
#include "dev/dev.h"
#include "fuzz.h"
#include "mem/layout.h"
#include "nobios.h"
#include "util/err.h"

#define RAM (2u << 20)
#define MAX_OPS 4096

struct fake {
	struct dev_host host;
	struct cpu_state cpu;
	unsigned stops;
};

static int f_irq(void *vm, unsigned irq, int level) { return irq < 24 && level >= 0 ? 0 : -1; }
static void f_stop(void *vm, enum dev_stop_reason why, int status, const char *msg)
{
	((struct fake *)vm)->stops++;
}
static void f_milestone(void *vm, const char *what) {}
static int f_get(void *vm, struct cpu_state *s) { *s = ((struct fake *)vm)->cpu; return 0; }
static int f_set(void *vm, const struct cpu_state *s) { ((struct fake *)vm)->cpu = *s; return 0; }

/* The ports the devices claim, so that most accesses hit one. */
static const uint16_t ports[] = { 0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF,
				  0x60,  0x64,  0x70,  0x71,  0x92,  0xCF9, 0xE9,  0xF4,
				  0x80,  BIOS_TRAP_PORT };
#define NPORTS (sizeof(ports) / sizeof(ports[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static int devnull = -1;
	if (!ram) {
		ram = calloc(1, RAM);
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	struct fz f = { data, size };
	memset(ram, 0, 1 << 20);
	struct guest_mem m;
	mem_init_buf(&m, ram, RAM);
	struct fake fk;
	memset(&fk, 0, sizeof(fk));
	fk.host = (struct dev_host){ .vm = &fk, .irq_line = f_irq, .request_stop = f_stop,
				     .milestone = f_milestone, .get_cpu = f_get, .set_cpu = f_set,
				     .mem = &m, .console_in = -1, .console_out = devnull };
	/* The trap port serves a BIOS call when CS:IP is in the stub area. */
	struct bios *b = calloc(1, sizeof(*b));
	bios_init(b, &m);
	if (bios_install(b) < 0)
		abort();
	bios_set_active(b);
	cpu_setup_real(&fk.cpu, BIOS_SEG, BIOS_OFF_STUBS);

	struct machine_config cfg;
	machine_config_defaults(&cfg);
	struct bus bus;
	bus_init(&bus);
	const struct device *devs[64];
	void *state[64];
	unsigned n = devices(devs, 64);
	for (unsigned i = 0; i < n; i++) {
		state[i] = NULL;
		if (devs[i]->init(&bus, &fk.host, &cfg, &state[i]) < 0)
			abort(); /* ours, not the input's */
	}
	for (unsigned op = 0; op < MAX_OPS && fz_left(&f) > 0; op++) {
		/* k: bit 7 any port (else an index into ports[]), bit 4 out,
		 * bits 5-6 the size */
		uint8_t k = fz_u8(&f);
		uint16_t port = (k & 0x80) ? fz_u16(&f) : ports[fz_u8(&f) % NPORTS];
		unsigned sz = 1u << ((k >> 5) & 3);
		if (sz > 4)
			sz = 1;
		uint8_t d[4];
		if (k & 0x10) {
			fz_bytes(&f, d, sz);
			if (port == BIOS_TRAP_PORT) { /* a call: the registers first */
				fk.cpu.gpr[CPU_RAX] = fz_u32(&f);
				fk.cpu.gpr[CPU_RBX] = fz_u32(&f);
				fk.cpu.gpr[CPU_RCX] = fz_u32(&f);
				fk.cpu.gpr[CPU_RDX] = fz_u32(&f);
				fk.cpu.rip = BIOS_OFF_STUBS + fz_u16(&f) % (256 * BIOS_STUB_SIZE + 8);
				fk.cpu.gpr[CPU_RSP] = fz_u16(&f);
			}
			bus_pio_out(&bus, port, d, sz);
		} else {
			bus_pio_in(&bus, port, d, sz);
		}
		nb_err_clear();
	}
	for (unsigned i = n; i-- > 0;)
		if (devs[i]->fini)
			devs[i]->fini(state[i]);
	bios_set_active(NULL); /* frees b */
	return 0;
}
