/* emul_engine.c - the completion engine alone, without KVM: completions per
 * second of an SSE instruction pair on a buffer-backed guest with 4-level
 * paging, with the unicorn instance reused (nobios's way) and created per
 * completion (the baseline).  bench/emul.sh runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emul/emul.h"
#include "mem/mem.h"

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int n_reuse = argc > 1 ? atoi(argv[1]) : 20000;
	int n_fresh = argc > 2 ? atoi(argv[2]) : 200;
	size_t ram = 8u << 20;
	uint8_t *buf = aligned_alloc(4096, ram);
	struct guest_mem m;
	if (!buf || mem_init_buf(&m, buf, ram) < 0)
		return 1;
	memset(buf, 0, ram);
	/* 2 MiB identity pages through PML4/PDPT/PD at 0x10000.. */
	mem_write64(&m, 0x10000, 0x11000 | 3);
	mem_write64(&m, 0x11000, 0x12000 | 3);
	for (uint64_t i = 0; i < 4; i++)
		mem_write64(&m, 0x12000 + 8 * i, (i << 21) | 0x83);
	static struct emul_vcpu v;
	struct emul_result r;
	struct emul_engine *e;
	if (emul_engine_create(&e) < 0)
		return 1;
	struct cpu_state *s = &v.cpu;
	s->cr0 = X86_CR0_PE | X86_CR0_PG;
	s->cr3 = 0x10000;
	s->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR;
	s->efer = X86_EFER_LMA | X86_EFER_LME;
	s->cs = (struct cpu_segment){ .type = 0xB, .present = 1, .s = 1, .l = 1 };
	s->rflags = 2;
	v.fpu_valid = true;
	/* pxor xmm0, xmm1; movdqa [rdi], xmm0 */
	static const uint8_t code[] = { 0x66, 0x0F, 0xEF, 0xC1, 0x66, 0x0F, 0x7F, 0x07 };
	memcpy(buf + 0x200000, code, sizeof(code));
	s->gpr[CPU_RDI] = 0x300000;
	for (int fresh = 0; fresh < 2; fresh++) {
		int n = fresh ? n_fresh : n_reuse;
		emul_engine_set_fresh(e, fresh);
		double t0 = now_us();
		for (int i = 0; i < n; i++) {
			s->rip = 0x200000 + (uint64_t)(i & 1) * 4;
			emul_complete(e, &m, &v, &r);
			if (r.status != EMUL_DONE) {
				fprintf(stderr, "completion failed: %s\n", r.why);
				return 1;
			}
		}
		double us = (now_us() - t0) / n;
		printf("engine %s: %.1f us per completion, %.0f completions/s\n",
		       fresh ? "created per completion" : "reused", us, 1e6 / us);
	}
	emul_engine_destroy(e);
	free(buf);
	return 0;
}
