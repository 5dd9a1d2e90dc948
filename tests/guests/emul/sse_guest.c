/* sse_guest.c - a small freestanding C "kernel" compiled WITH SSE (no
 * -mgeneral-regs-only, vectorised loops, double arithmetic), as OSv's C code
 * is.  On an emulating host every SSE instruction it executes in ring 0 is
 * completed by nobios.  It prints a checksum of its memcpy/memset/float work;
 * the same file built for the host (-DSSE_GUEST_HOST) prints the checksum
 * the guest must reach (tests/boot/emul.sh compares them). */
#if defined(SSE_GUEST_HOST)
#include <stdio.h>
typedef unsigned char u8;
typedef unsigned long long u64;
#else
#include "probe.h"
#endif

#define N 512

static u8 src[N] __attribute__((aligned(16)));
static u8 dst[N] __attribute__((aligned(16)));
static double vals[64];
static float fv[64];

/* Loops the compiler vectorises into SSE moves (and, with the loop-idiom
 * patterns off, keeps as loops rather than calls to memcpy/memset). */
static void __attribute__((noinline)) fill(u8 *p, u8 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = v;
}

static void __attribute__((noinline)) copy(u8 *d, const u8 *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		d[i] = s[i];
}

static void __attribute__((noinline)) mix(u8 *d, const u8 *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		d[i] = (u8)(d[i] ^ (s[i] + (u8)i));
}

static u64 checksum(void)
{
	fill(src, 0x5A, N);
	for (unsigned i = 0; i < N; i += 7)
		src[i] = (u8)(i * 13 + 1);
	fill(dst, 0, N);
	copy(dst, src, N);
	mix(dst, src, N);
	double sum = 0.0;
	float fs = 0.0f;
	for (int i = 0; i < 64; i++) {
		vals[i] = (double)i * 1.5 + 0.25;
		fv[i] = (float)i / 3.0f;
	}
	for (int i = 0; i < 64; i++) {
		sum += vals[i] * vals[i] / (double)(i + 1);
		fs += fv[i] * 0.5f;
	}
	u64 h = 1469598103934665603ULL; /* FNV-1a */
	for (unsigned i = 0; i < N; i++)
		h = (h ^ dst[i]) * 1099511628211ULL;
	h ^= (u64)(sum * 1000.0);
	h = h * 31 + (u64)(fs * 100.0f);
	return h;
}

#if defined(SSE_GUEST_HOST)
int main(void)
{
	printf("sse-guest checksum: %016llx\n", checksum());
	return 0;
}
#else
static void puthex16(u64 v)
{
	for (int i = 60; i >= 0; i -= 4)
		putc_("0123456789abcdef"[(v >> i) & 0xF]);
}

void exc_handler(void *frame);
void exc_handler(void *frame)
{
	(void)frame;
	puts_("sse-guest: unexpected exception\n");
	probe_exit_value(0x7F);
}

void probe_main(void);
void probe_main(void)
{
	puts_("sse-guest: start\n");
	u64 h = checksum();
	puts_("sse-guest checksum: ");
	puthex16(h);
	puts_("\n");
	probe_exit_value(0);
}
#endif
