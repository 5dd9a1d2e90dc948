/* probe.h - freestanding helpers for nobios's probe guests (32- and 64-bit).
 * Output goes to COM1 by polling; the verdict goes to the debug-exit port:
 * PROBE_PASS (value 0, nobios status 1) or 0x40|failures (status >= 129). */
#ifndef PROBE_H
#define PROBE_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
#if defined(__x86_64__)
typedef unsigned long uptr;
#else
typedef unsigned int uptr;
#endif

#define COM1 0x3F8
#define DEBUG_EXIT_PORT 0xF4

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void putc_(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (u8)c);
}
static inline void puts_(const char *s) { while (*s) putc_(*s++); }
static inline void puthex(u64 v)
{
	puts_("0x");
	int started = 0;
	for (int i = 60; i >= 0; i -= 4) {
		int d = (v >> i) & 0xF;
		if (d || started || i == 0) {
			putc_("0123456789abcdef"[d]);
			started = 1;
		}
	}
}
static inline void putdec(u64 v)
{
	char b[24];
	int i = 0;
	do { b[i++] = '0' + v % 10; v /= 10; } while (v);
	while (i) putc_(b[--i]);
}

static int probe_failures;
static int probe_checks;

#define CHECK(cond)                                                      \
	do {                                                             \
		probe_checks++;                                          \
		if (!(cond)) {                                           \
			probe_failures++;                                \
			puts_("FAIL " __FILE__ ":");                     \
			putdec(__LINE__);                                \
			puts_(": " #cond "\n");                          \
		}                                                        \
	} while (0)
#define CHECK_EQ(a, b)                                                   \
	do {                                                             \
		u64 a_ = (u64)(a), b_ = (u64)(b);                        \
		probe_checks++;                                          \
		if (a_ != b_) {                                          \
			probe_failures++;                                \
			puts_("FAIL " __FILE__ ":");                     \
			putdec(__LINE__);                                \
			puts_(": " #a " == " #b ": ");                  \
			puthex(a_); puts_(" != "); puthex(b_); puts_("\n"); \
		}                                                        \
	} while (0)

static inline __attribute__((noreturn)) void probe_exit_value(u8 v)
{
	for (;;) {
		outb(DEBUG_EXIT_PORT, v);
		__asm__ volatile("cli; hlt");
	}
}

/* Print the verdict and exit: status 1 on success. */
static inline __attribute__((noreturn)) void probe_finish(const char *name)
{
	puts_(name);
	puts_(": ");
	putdec(probe_checks);
	puts_(" checks, ");
	putdec(probe_failures);
	puts_(" failed\n");
	if (probe_failures == 0) {
		puts_("PROBE-PASS\n");
		probe_exit_value(0);
	}
	puts_("PROBE-FAIL\n");
	probe_exit_value(0x40 | (probe_failures > 63 ? 63 : probe_failures));
}

static inline int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) { a++; b++; }
	return *a == *b;
}
static inline uptr str_len(const char *s) { uptr n = 0; while (s[n]) n++; return n; }

#endif
