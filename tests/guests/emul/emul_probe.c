/* emul_probe.c - probe of instruction completion (issue 6), built twice:
 * 64-bit (ring-0 long mode, entered at start64) and 32-bit (multiboot, flat
 * protected mode).  On an emulating host (kvm_pvm) each instruction kind
 * below ends in KVM's emulation failure and nobios completes it; on a VMX/SVM
 * host the CPU runs them and the same checks hold.  Known inputs, results
 * checked here; the verdict goes to port 0xF4 (probe.h).
 *
 * Compiled with -mgeneral-regs-only: the compiler never touches XMM
 * registers, so only the inline assembly below does. */
#include "probe.h"

#if defined(__x86_64__)
#define NAME "emul64"
#define VA_ALIAS 0x8000000000ULL /* PML4[1]: far from any identity mapping */
#else
#define NAME "emul32"
#define VA_ALIAS 0x80000000u /* PDPTE 2 */
#endif
#define VA_NP (VA_ALIAS + 0x1000)   /* not present */
#define VA_RO (VA_ALIAS + 0x2000)   /* read-only */
/* Where the aliased page is reached: VA_ALIAS once our paging is on; the
 * page's own (identity) address on a host whose KVM refuses 32-bit paging. */
static uptr alias;
static int paging_ok;

struct exc_frame {
#if defined(__x86_64__)
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	u64 vector, error, ip, cs, flags, sp, ss;
#else
	u32 edi, esi, ebp, esp_, ebx, edx, ecx, eax;
	u32 vector, error, ip, cs, flags;
#endif
};

/* What the last exception looked like; resume_ip (when set) is where the
 * handler returns to, skipping a faulting instruction. */
volatile uptr last_vec = ~(uptr)0, last_err, last_ip, last_cr2, nexc;
volatile uptr resume_ip;

void exc_handler(struct exc_frame *f);
void exc_handler(struct exc_frame *f)
{
	uptr cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	nexc++;
	last_vec = f->vector;
	last_err = f->error;
	last_ip = f->ip;
	last_cr2 = cr2;
	if (resume_ip) {
		f->ip = resume_ip;
		resume_ip = 0;
	} else if (f->vector != 3) {
		puts_(NAME ": unexpected exception ");
		puthex(f->vector);
		puts_(" at ");
		puthex(f->ip);
		puts_("\n");
		probe_exit_value(0x7F);
	}
}

extern char isr_3[], isr_6[], isr_13[], isr_14[];

static u8 alias_buf[4096] __attribute__((aligned(4096)));
static u8 ro_buf[4096] __attribute__((aligned(4096)));

#if defined(__x86_64__)
struct gate { u16 off0, sel; u8 ist, attr; u16 off1; u32 off2, rsv; };
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[512] __attribute__((aligned(4096)));
static u64 pdpt2[512] __attribute__((aligned(4096)));
static u64 pd2[512] __attribute__((aligned(4096)));
static u64 pt2[512] __attribute__((aligned(4096)));
#else
struct gate { u16 off0, sel; u8 zero, attr; u16 off1; };
/* PAE paging: this host's KVM (kvm_pvm) refuses CR0.PG with 32-bit
 * (non-PAE) paging with #GP. */
static u64 pdpt32[4] __attribute__((aligned(32)));
static u64 pd_id[512] __attribute__((aligned(4096)));
static u64 pd_alias[512] __attribute__((aligned(4096)));
static u64 pt_alias[512] __attribute__((aligned(4096)));
#endif
static struct gate idt[32] __attribute__((aligned(16)));

static void set_gate(int vec, char *isr)
{
	uptr a = (uptr)isr;
	u16 cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vec].off0 = (u16)a;
	idt[vec].sel = cs;
	idt[vec].attr = 0x8E; /* present, DPL 0, interrupt gate */
	idt[vec].off1 = (u16)(a >> 16);
#if defined(__x86_64__)
	idt[vec].off2 = (u32)(a >> 32);
#endif
}

static void setup_idt(void)
{
	set_gate(3, isr_3);
	set_gate(6, isr_6);
	set_gate(13, isr_13);
	set_gate(14, isr_14);
	struct __attribute__((packed)) { u16 limit; uptr base; } d = { sizeof(idt) - 1, (uptr)idt };
	__asm__ volatile("lidt %0" ::"m"(d));
}

/* Paging of our own: identity for the first 1 GiB, plus VA_ALIAS -> alias_buf
 * (RW), VA_NP not present, VA_RO -> ro_buf (read-only); CR0.WP on. */
static void setup_paging(void)
{
#if defined(__x86_64__)
	for (u64 i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83; /* P RW PS */
	pdpt[0] = (u64)pd | 3;
	pml4[0] = (u64)pdpt | 3;
	pml4[1] = (u64)pdpt2 | 3;
	pdpt2[0] = (u64)pd2 | 3;
	pd2[0] = (u64)pt2 | 3;
	pt2[0] = (u64)alias_buf | 3;
	pt2[1] = 0;
	pt2[2] = (u64)ro_buf | 1;
	__asm__ volatile("mov %0, %%cr3" ::"r"((u64)pml4) : "memory");
	u64 cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | (1ULL << 16)) : "memory");
#else
	for (u64 i = 0; i < 512; i++)
		pd_id[i] = (i << 21) | 0x83; /* 2 MiB pages: the first 1 GiB */
	pdpt32[0] = (u32)pd_id | 1;     /* PAE PDPTEs have no R/W bit */
	pdpt32[VA_ALIAS >> 30] = (u32)pd_alias | 1;
	pd_alias[0] = (u32)pt_alias | 3;
	pt_alias[0] = (u32)alias_buf | 3;
	pt_alias[1] = 0;
	pt_alias[2] = (u32)ro_buf | 1;
	u32 cr4, cr0;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 5)));   /* PAE */
	__asm__ volatile("mov %0, %%cr3" ::"r"((u32)pdpt32) : "memory");
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	/* kvm_pvm answers CR0.PG outside long mode with #GP: then run the
	 * rest with paging off (no #PF tests, the alias is the page itself). */
	uptr n = nexc;
	__asm__ volatile("movl $2f, resume_ip\n\tmov %0, %%cr0\n2:" ::"r"(cr0 | 0x80010000u) : "memory"); /* PG WP */
	if (nexc != n) {
		resume_ip = 0;
		puts_(NAME ": this host's KVM refuses 32-bit paging (#GP on CR0.PG): paging tests skipped\n");
		alias = (uptr)alias_buf;
		return;
	}
#endif
	paging_ok = 1;
	alias = VA_ALIAS;
}

static void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static void expect_exc(uptr vec, uptr err, uptr n_before, const char *what)
{
	CHECK_EQ(nexc, n_before + 1);
	CHECK_EQ(last_vec, vec);
	CHECK_EQ(last_err, err);
	if (last_vec != vec) {
		puts_(NAME ": no expected exception for ");
		puts_(what);
		puts_("\n");
	}
}

/* ---- SSE moves and logic on several XMM registers */
static const u8 pat_a[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
			      0xF0, 0x0F, 0xAA, 0x55, 0x12, 0x34, 0x56, 0x78 };
static const u8 pat_b[16] = { 0xFF, 0x00, 0xF0, 0x0F, 0x33, 0xCC, 0x5A, 0xA5,
			      0x11, 0x22, 0x44, 0x88, 0x99, 0x77, 0x66, 0xEE };
static u8 out[8][16];

static void test_sse(void)
{
	__asm__ volatile("movdqu (%0), %%xmm1\n\t"
			 "movdqu (%1), %%xmm2\n\t"
			 "movdqa %%xmm1, %%xmm3\n\t"
			 "pxor %%xmm2, %%xmm3\n\t"
			 "movdqa %%xmm1, %%xmm4\n\t"
			 "por %%xmm2, %%xmm4\n\t"
			 "movdqa %%xmm1, %%xmm5\n\t"
			 "pand %%xmm2, %%xmm5\n\t"
			 "movaps %%xmm1, %%xmm6\n\t"
			 "xorps %%xmm2, %%xmm6\n\t"
			 "movaps %%xmm2, %%xmm7\n\t"
			 "andnps %%xmm1, %%xmm7\n\t"
			 "movdqu %%xmm3, 0(%2)\n\t"
			 "movdqu %%xmm4, 16(%2)\n\t"
			 "movdqu %%xmm5, 32(%2)\n\t"
			 "movups %%xmm6, 48(%2)\n\t"
			 "movdqu %%xmm7, 64(%2)\n\t"
#if defined(__x86_64__)
			 "movdqa %%xmm3, %%xmm9\n\t"
			 "pxor %%xmm2, %%xmm9\n\t"     /* (a ^ b) ^ b = a */
			 "movdqa %%xmm9, %%xmm15\n\t"
			 "por %%xmm2, %%xmm15\n\t"     /* a | b */
			 "movdqu %%xmm9, 80(%2)\n\t"
			 "movdqu %%xmm15, 96(%2)\n\t"
#endif
			 ::"r"(pat_a), "r"(pat_b), "r"(out) : "memory");
	for (int i = 0; i < 16; i++) {
		CHECK_EQ(out[0][i], pat_a[i] ^ pat_b[i]);
		CHECK_EQ(out[1][i], pat_a[i] | pat_b[i]);
		CHECK_EQ(out[2][i], pat_a[i] & pat_b[i]);
		CHECK_EQ(out[3][i], pat_a[i] ^ pat_b[i]);
		CHECK_EQ(out[4][i], (u8)(~pat_b[i] & pat_a[i]));
#if defined(__x86_64__)
		CHECK_EQ(out[5][i], pat_a[i]);
		CHECK_EQ(out[6][i], pat_a[i] | pat_b[i]);
#endif
	}
	/* GPR <-> XMM (the moves Linux and OSv use first) */
#if defined(__x86_64__)
	u64 x = 0x0123456789ABCDEFULL, y = 0;
	__asm__ volatile("movq %1, %%xmm0\n\tmovq %%xmm0, %0" : "=r"(y) : "r"(x));
	CHECK_EQ(y, x);
	/* movq to and from memory on a page whose virtual address is not its
	 * physical one */
	*(volatile u64 *)alias = 0x1122334455667788ULL;
	__asm__ volatile("movq (%0), %%xmm8\n\tmovq %%xmm8, 8(%0)" ::"r"(alias) : "memory");
	CHECK_EQ(*(volatile u64 *)(alias_buf + 8), 0x1122334455667788ULL);
#else
	u32 x = 0x89ABCDEFu, y = 0;
	__asm__ volatile("movd %1, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(y) : "r"(x));
	CHECK_EQ(y, x);
	*(volatile u32 *)alias = 0x55667788u;
	__asm__ volatile("movd (%0), %%xmm5\n\tmovd %%xmm5, 8(%0)" ::"r"(alias) : "memory");
	CHECK_EQ(*(volatile u32 *)(alias_buf + 8), 0x55667788u);
#endif
	puts_(NAME ": sse moves and logic done\n");
}

/* ---- cmpxchg16b (64-bit) / cmpxchg8b (32-bit) on the aliased page */
static void test_cmpxchg(void)
{
#if defined(__x86_64__)
	volatile u64 *m = (volatile u64 *)(alias + 0x40);
	m[0] = 0x1111; m[1] = 0x2222;
	u64 lo = 0x1111, hi = 0x2222;
	u8 zf;
	__asm__ volatile("lock cmpxchg16b (%[p])\n\tsetz %[zf]"
			 : "+a"(lo), "+d"(hi), [zf] "=q"(zf)
			 : [p] "r"(m), "b"(0xAAAAULL), "c"(0xBBBBULL) : "memory", "cc");
	CHECK_EQ(zf, 1);
	CHECK_EQ(*(volatile u64 *)(alias_buf + 0x40), 0xAAAA);
	CHECK_EQ(*(volatile u64 *)(alias_buf + 0x48), 0xBBBB);
	lo = 0x1111; hi = 0x2222; /* stale expectation: fails, loads memory */
	__asm__ volatile("lock cmpxchg16b (%[p])\n\tsetz %[zf]"
			 : "+a"(lo), "+d"(hi), [zf] "=q"(zf)
			 : [p] "r"(m), "b"(0xCCCCULL), "c"(0xDDDDULL) : "memory", "cc");
	CHECK_EQ(zf, 0);
	CHECK_EQ(lo, 0xAAAA);
	CHECK_EQ(hi, 0xBBBB);
	CHECK_EQ(*(volatile u64 *)(alias_buf + 0x40), 0xAAAA);
	puts_(NAME ": cmpxchg16b done\n");
#else
	volatile u32 *m = (volatile u32 *)(alias + 0x40);
	m[0] = 0x1111; m[1] = 0x2222;
	u32 lo = 0x1111, hi = 0x2222;
	u8 zf;
	__asm__ volatile("lock cmpxchg8b (%[p])\n\tsetz %[zf]"
			 : "+a"(lo), "+d"(hi), [zf] "=q"(zf)
			 : [p] "S"(m), "b"(0xAAAAu), "c"(0xBBBBu) : "memory", "cc");
	CHECK_EQ(zf, 1);
	CHECK_EQ(*(volatile u32 *)(alias_buf + 0x40), 0xAAAA);
	lo = 0x1111;
	__asm__ volatile("lock cmpxchg8b (%[p])\n\tsetz %[zf]"
			 : "+a"(lo), "+d"(hi), [zf] "=q"(zf)
			 : [p] "S"(m), "b"(0xCCCCu), "c"(0xDDDDu) : "memory", "cc");
	CHECK_EQ(zf, 0);
	CHECK_EQ(lo, 0xAAAA);
	puts_(NAME ": cmpxchg8b done\n");
#endif
}

/* ---- popcnt, register and memory forms */
static void test_popcnt(void)
{
	uptr v = (uptr)0xF0F0F0F0F0F0F0F0ULL, c = 0;
	__asm__ volatile("popcnt %1, %0" : "=r"(c) : "r"(v) : "cc");
	CHECK_EQ(c, sizeof(uptr) * 4);
	*(volatile u32 *)(alias + 0x80) = 0x80000001u;
	u32 c32 = 0;
	__asm__ volatile("popcntl (%1), %0" : "=r"(c32) : "r"(alias + 0x80) : "memory", "cc");
	CHECK_EQ(c32, 2);
	u8 zf;
	__asm__ volatile("popcnt %2, %0\n\tsetz %1" : "=r"(c), "=q"(zf) : "r"((uptr)0) : "cc");
	CHECK_EQ(c, 0);
	CHECK_EQ(zf, 1);
	puts_(NAME ": popcnt done\n");
}

/* ---- int3: the handler sees the RIP past the int3 */
static void test_int3(void)
{
	uptr expect, n = nexc;
#if defined(__x86_64__)
	__asm__ volatile("int3\n1:\n\tlea 1b(%%rip), %0" : "=r"(expect)::"memory");
#else
	__asm__ volatile("int3\n1:\n\tmovl $1b, %0" : "=r"(expect)::"memory");
#endif
	expect_exc(3, 0, n, "int3");
	CHECK_EQ(last_ip, expect);
	puts_(NAME ": int3 done\n");
}

/* ---- a faulting memory operand of a completed instruction: #PF with CR2
 * and the error code; compared with a fault KVM raises itself. */
#if defined(__x86_64__)
#define SET_RESUME "lea 2f(%%rip), %%r11\n\tmov %%r11, resume_ip(%%rip)\n\t"
#define RESUME_CLOBBER "r11"
#else
#define SET_RESUME "movl $2f, resume_ip\n\t"
#define RESUME_CLOBBER "cc"
#endif

static void test_pf(void)
{
	if (!paging_ok)
		return;
	uptr n = nexc;
	uptr np = VA_NP + 0x10;
	/* plain mov: KVM's own #PF, the reference */
	__asm__ volatile(SET_RESUME "movl (%0), %%ecx\n2:" ::"r"(np) : RESUME_CLOBBER, "ecx", "memory");
	expect_exc(14, 0, n, "mov from a not-present page");
	CHECK_EQ(last_cr2, np);
	/* SSE load from the not-present page: completed, #PF injected */
	n = nexc;
	__asm__ volatile(SET_RESUME "movdqu (%0), %%xmm0\n2:" ::"r"(np) : RESUME_CLOBBER, "memory");
	expect_exc(14, 0, n, "movdqu from a not-present page");
	CHECK_EQ(last_cr2, np);
	/* SSE store to the read-only page: P | W */
	n = nexc;
	uptr ro = VA_RO + 8;
	__asm__ volatile(SET_RESUME "movq %%xmm0, (%0)\n2:" ::"r"(ro) : RESUME_CLOBBER, "memory");
	expect_exc(14, 3, n, "movq to a read-only page");
	CHECK_EQ(last_cr2, ro);
	/* a 16-byte load straddling into the not-present page: CR2 = its start */
	n = nexc;
	uptr st = VA_NP - 8;
	__asm__ volatile(SET_RESUME "movdqu (%0), %%xmm0\n2:" ::"r"(st) : RESUME_CLOBBER, "memory");
	expect_exc(14, 0, n, "movdqu across into a not-present page");
	CHECK_EQ(last_cr2, VA_NP);
	puts_(NAME ": page faults done\n");
}

/* ---- xsetbv / xgetbv / xsave / xrstor round trip */
static u8 xarea[4096] __attribute__((aligned(64)));
static u8 xin[8][16], xout[8][16];

static void xmm_load(void)
{
	__asm__ volatile("movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
			 "movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3\n\t"
			 "movdqu 64(%0), %%xmm4\n\tmovdqu 80(%0), %%xmm5\n\t"
			 "movdqu 96(%0), %%xmm6\n\tmovdqu 112(%0), %%xmm7" ::"r"(xin) : "memory");
}

static void xmm_store(void)
{
	__asm__ volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\t"
			 "movdqu %%xmm2, 32(%0)\n\tmovdqu %%xmm3, 48(%0)\n\t"
			 "movdqu %%xmm4, 64(%0)\n\tmovdqu %%xmm5, 80(%0)\n\t"
			 "movdqu %%xmm6, 96(%0)\n\tmovdqu %%xmm7, 112(%0)" ::"r"(xout) : "memory");
}

static void xmm_clobber(void)
{
	__asm__ volatile("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
			 "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
			 "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7" ::: "memory");
}

static u64 xgetbv0(void)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

static void test_xsave(void)
{
	int failed_before = probe_failures;
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) {
		puts_(NAME ": no XSAVE in CPUID, xsave tests skipped\n");
		return;
	}
	uptr cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 18))); /* OSXSAVE */
	CHECK(xgetbv0() & 1);
	__asm__ volatile("xsetbv" ::"a"(3), "d"(0), "c"(0));
	CHECK_EQ(xgetbv0(), 3);
	/* XCR0 without x87: #GP, XCR0 unchanged */
	uptr n = nexc;
	__asm__ volatile(SET_RESUME "xsetbv\n2:" ::"a"(2), "d"(0), "c"(0) : RESUME_CLOBBER, "memory");
	expect_exc(13, 0, n, "xsetbv 2");
	CHECK_EQ(xgetbv0(), 3);

	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 16; j++)
			xin[i][j] = (u8)(i * 16 + j + 0x40);
	xmm_load();
	__asm__ volatile("xsave (%0)" ::"r"(xarea), "a"(3), "d"(0) : "memory");
	for (int i = 0; i < 8 * 16; i++)
		CHECK_EQ(xarea[160 + i], ((u8 *)xin)[i]);
	CHECK(xarea[512] & 2); /* XSTATE_BV: SSE in use */
	xmm_clobber();
	__asm__ volatile("xrstor (%0)" ::"r"(xarea), "a"(3), "d"(0) : "memory");
	xmm_store();
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 16; j++)
			CHECK_EQ(xout[i][j], xin[i][j]);
	/* SSE not in XSTATE_BV: xrstor puts the XMM registers in their init
	 * state (zero) */
	xarea[512] &= (u8)~2;
	__asm__ volatile("xrstor (%0)" ::"r"(xarea), "a"(3), "d"(0) : "memory");
	xmm_store();
	CHECK_EQ(xout[0][0] | xout[3][5] | xout[7][15], 0);
	/* misaligned area: #GP */
	n = nexc;
	__asm__ volatile(SET_RESUME "xrstor (%0)\n2:" ::"r"(xarea + 8), "a"(3), "d"(0) : RESUME_CLOBBER, "memory");
	expect_exc(13, 0, n, "misaligned xrstor");
	/* the section's own count: tests/boot/emul.sh judges it apart where
	 * the host's CPU itself gets XSAVE wrong (host-limits) */
	puts_(NAME ": xsetbv/xsave/xrstor done, ");
	putdec((u64)(probe_failures - failed_before));
	puts_(" failed\n");
}

/* ---- clac/stac, fwait, rdsspq */
static void test_misc(void)
{
	u32 a, b, c, d;
	cpuid(7, 0, &a, &b, &c, &d);
	if (b & (1u << 20)) {
		uptr fl;
		__asm__ volatile("stac\n\tpushf\n\tpop %0" : "=r"(fl)::"memory");
		CHECK(fl & (1u << 18));
		__asm__ volatile("clac\n\tpushf\n\tpop %0" : "=r"(fl)::"memory");
		CHECK(!(fl & (1u << 18)));
	} else {
		puts_(NAME ": no SMAP in CPUID, clac/stac skipped\n");
	}
	__asm__ volatile("fninit\n\tfwait" ::: "memory");
	/* x87 arithmetic: (1 + pi) * 1000000, rounded to nearest */
	static volatile u32 million = 1000000;
	static volatile u64 result;
	__asm__ volatile("fldpi\n\tfld1\n\tfaddp\n\tfimull %0\n\tfistpll %1"
			 : "+m"(million), "=m"(result)::"memory");
	CHECK_EQ(result, 4141593);
#if defined(__x86_64__)
	/* rdsspq with CET off is a NOP: the register keeps its value */
	u64 r = 0x1234;
	__asm__ volatile(".byte 0xF3, 0x48, 0x0F, 0x1E, 0xC8" : "+a"(r));
	CHECK_EQ(r, 0x1234);
#endif
	puts_(NAME ": clac/stac/fwait/x87 done\n");
}

void probe_main(void);
void probe_main(void)
{
#if defined(EMUL_REFUSE)
	/* AVX (VEX) in ring 0: KVM's emulator refuses it on kvm_pvm and unicorn
	 * 2.0.1 runs VEX as legacy SSE (wrong results), so nobios refuses it and
	 * the guest must stop with the decoded dump (tests/boot/emul.sh); a CPU
	 * that runs it reaches the line below. */
	setup_idt();
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if ((c & (1u << 26)) && (c & (1u << 28))) {
		uptr cr4;
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 18)));
		__asm__ volatile("xsetbv" ::"a"(7), "d"(0), "c"(0));
		puts_(NAME ": avx next\n");
		__asm__ volatile(".byte 0xC5, 0xF9, 0xEF, 0xC0" ::: "memory"); /* vpxor xmm0,xmm0,xmm0 */
		puts_(NAME ": avx ran\n");
	} else {
		puts_(NAME ": no AVX\n");
	}
	probe_finish(NAME);
#endif
	puts_(NAME ": start\n");
	setup_idt();
	setup_paging();
	test_sse();
	test_cmpxchg();
	test_popcnt();
	test_int3();
	test_pf();
	test_xsave();
	test_misc();
	probe_finish(NAME);
}
