/* fuzz_emul.c - libFuzzer harness: instruction completion as far as it is
 * nobios's own code: fetch through the guest's page tables, the decoder
 * (prefixes, REX/VEX, ModRM/SIB/displacement), the classifier, operand
 * addresses, and nobios's own handlers (popcnt, cmpxchg16b, clac/stac,
 * xgetbv/xsetbv, the XSAVE family, int3) against guest memory and page
 * tables the input writes.  Instructions that would go to libunicorn are
 * decoded and classified only (unicorn is QEMU's code, not ours). */
#include <stdlib.h>
#include <string.h>

#include "cpu_fuzz.h"
#include "emul/emul.h"
#include "mem/mem.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct emul_vcpu v;
	if (!ram)
		ram = malloc(FZ_RAM);
	struct fz f = { data, size };
	memset(&v, 0, sizeof(v));
	fz_cpu_state(&f, &v.cpu);
	uint8_t how = fz_u8(&f);
	v.xcr0 = fz_u64(&f);
	v.xcr0_supported = fz_u64(&f);
	v.fpu_valid = how & 1;
	v.has_xsave = how & 2;
	fz_bytes(&f, v.xsave, 1024); /* legacy region, header, some of AVX */
	uint8_t insn[15];
	fz_bytes(&f, insn, sizeof(insn));
	memset(ram, 0, FZ_RAM);
	fz_bytes(&f, ram, fz_left(&f) < FZ_RAM ? fz_left(&f) : FZ_RAM);
	struct guest_mem m;
	mem_init_buf(&m, ram, FZ_RAM);

	struct emul_insn in;
	struct emul_result r;
	memset(&r, 0, sizeof(r));
	if (how & 4) {
		/* from guest memory at CS:RIP, as the completion path does */
		if (emul_fetch(&m, &v, &in, &r) < 0)
			return 0;
	} else {
		static const unsigned bits[] = { 16, 32, 64, 64 };
		if (emul_decode(&in, insn, sizeof(insn), bits[(how >> 3) & 3]) < 0)
			return 0;
	}
	emul_classify(&in);
	emul_insn_needs(&in);
	if (in.has_modrm && in.mod != 3)
		emul_linear_addr(&in, &v.cpu);
	emul_handle_own(&m, &v, &in, &r);
	nb_err_clear();
	return 0;
}
