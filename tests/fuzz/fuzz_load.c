/* fuzz_load.c - libFuzzer harness: every registered boot format's probe,
 * inspect and load on arbitrary file contents, against a plain-buffer guest
 * (no KVM), and `nobios inspect` as a whole (boot_inspect_file).  The input
 * is hostile: any crash, hang or sanitizer report is a bug.  The first byte
 * picks the guest RAM size and a forced format.  Inputs run to several MiB
 * (tests/fuzz/fuzz.mk) and each has a time limit: a walk that is quadratic
 * in the file (issue 14 item 5) shows as a timeout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "fuzz.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static const size_t ram_size = 64 << 20;
	static FILE *devnull;
	if (!ram) {
		ram = malloc(ram_size);
		devnull = fopen("/dev/null", "w");
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;

	const struct boot_format *fmts[32];
	unsigned n = boot_formats(fmts, 32);
	/* An exact-size heap copy: ASan sees a read one byte past the file. */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct boot_file f = { .path = "fuzz-input", .data = copy, .size = size };

	nb_err_clear();
	if (size)
		boot_inspect_file(&f, NULL, devnull);
	for (unsigned i = 0; i < n; i++)
		if (fmts[i]->inspect)
			fmts[i]->inspect(&f, devnull);

	/* load: the detected format, or one forced by the selector byte */
	const struct boot_format *fmt = (sel & 0x80) ? fmts[sel % n] : boot_detect(&f, NULL, 0);
	if (fmt && size) {
		memset(ram, 0, 1 << 20); /* low areas; the rest may keep old bytes */
		struct guest_mem m;
		mem_init_buf(&m, ram, (sel & 0x40) ? ram_size : (16 << 20));
		struct cpu_state cpu;
		struct boot_config cfg = { .cmdline = "console=ttyS0", .entry_symbol = "start64" };
		struct boot_ctx ctx = { .mem = &m, .cpu = &cpu, .cfg = &cfg };
		e820_build(&ctx.e820, &m);
		cpu_state_init(&cpu);
		nb_err_clear();
		fmt->load(&ctx, &f);
	}
	free(copy);
	return 0;
}
