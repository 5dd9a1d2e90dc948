/* fuzz_pagewalk.c - libFuzzer harness: the guest page-table walker
 * (cpu/pagewalk.c: 32-bit, PAE, 4- and 5-level paging) on page tables the
 * input writes into guest memory, with the paging mode and CR3 the input
 * chooses.  The tables are the guest's: a walk must never read outside guest
 * RAM, loop, or crash; cpu_read_linear and cpu_write_linear across pages too. */
#include <stdlib.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "cpu_fuzz.h"
#include "mem/mem.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram)
		ram = malloc(FZ_RAM);
	struct fz f = { data, size };
	struct cpu_state s;
	fz_cpu_state(&f, &s);
	uint64_t va[8];
	for (int i = 0; i < 8; i++)
		va[i] = fz_u64(&f);
	uint16_t len = fz_u16(&f);
	/* the rest is guest memory: page tables, data */
	memset(ram, 0, FZ_RAM);
	fz_bytes(&f, ram, fz_left(&f) < FZ_RAM ? fz_left(&f) : FZ_RAM);
	struct guest_mem m;
	mem_init_buf(&m, ram, FZ_RAM);

	uint8_t buf[8192];
	for (int i = 0; i < 8; i++) {
		uint64_t pa;
		struct cpu_walk w;
		if (cpu_translate(&m, &s, va[i], &pa, &w) == 0) {
			cpu_walk_allows(&s, &w, i & 7);
			if (w.levels > CPU_WALK_MAX_LEVELS)
				abort();
		}
		nb_err_clear();
		size_t n = len % sizeof(buf);
		if (cpu_read_linear(&m, &s, va[i], buf, n) > n)
			abort();
		nb_err_clear();
		if ((i & 1) && cpu_write_linear(&m, &s, va[i], buf, n) > n)
			abort();
		nb_err_clear();
	}
	return 0;
}
