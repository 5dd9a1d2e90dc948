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

void probe_main(void)
{
	outb(0x80, 0x11);
	puts_("debug probe: start\n");
	for (unsigned long i = 0; i < 3; i++)
		debug_target(10 + i);
	outb(0x80, 0x22);
	CHECK_EQ(probe_calls, 3);
	CHECK_EQ(probe_value, 12 * 3 + 1);
	puts_("debug probe: value ");
	puthex(probe_value);
	puts_("\n");
	probe_finish("debug probe");
}
