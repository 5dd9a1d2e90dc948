/* debug_probe.c - the gdb stub's probe guest (tests/boot/gdb.sh): a kernel
 * with symbols that calls debug_target() a few times, so gdb can break on
 * it, read variables, step and detach; the guest then finishes by itself.
 * Also writes a POST code to port 0x80 for the --timeline test. */
#include "probe.h"

void probe_main(void);
void debug_target(unsigned long x);

volatile unsigned long probe_value = 0x1234;
volatile unsigned long probe_calls;
volatile unsigned char probe_buffer[16] = "nobios-gdb";

__attribute__((noinline)) void debug_target(unsigned long x)
{
	probe_value = x * 3 + 1;
	probe_calls++;
}

/* Six functions called in turn, for more breakpoints than the four DR
 * slots (gdb-many-breaks): each appends its digit to probe_stages. */
volatile unsigned long probe_stages;
#define PROBE_STAGE(n) \
	__attribute__((noinline)) void probe_stage##n(void); \
	__attribute__((noinline)) void probe_stage##n(void) { probe_stages = probe_stages * 10 + n; }
PROBE_STAGE(1)
PROBE_STAGE(2)
PROBE_STAGE(3)
PROBE_STAGE(4)
PROBE_STAGE(5)
PROBE_STAGE(6)

void probe_main(void)
{
	outb(0x80, 0x11);
	puts_("debug probe: start\n");
	for (unsigned long i = 0; i < 3; i++)
		debug_target(10 + i);
	outb(0x80, 0x22);
	probe_stage1();
	probe_stage2();
	probe_stage3();
	probe_stage4();
	probe_stage5();
	probe_stage6();
	CHECK_EQ(probe_stages, 123456);
	CHECK_EQ(probe_calls, 3);
	CHECK_EQ(probe_value, 12 * 3 + 1);
	puts_("debug probe: value ");
	puthex(probe_value);
	puts_("\n");
	probe_finish("debug probe");
}
