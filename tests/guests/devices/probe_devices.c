/* probe_devices.c - the legacy devices seen from inside a guest.
 *
 * Command line (Multiboot 1 info, from --cmdline):
 *   ram_mib=N   RAM given with -m: the CMOS memory bytes must match it
 *   now=SECS    host time (Unix seconds) when nobios started: the RTC must
 *               agree within two minutes
 *   action=reboot-kbd|reboot-cf9|reboot-92|exit-21
 *               instead of the checks: reset through that port (nobios
 *               must end with status 0), or debug-exit with value 21.
 *   action=echo     polled input: print each byte received on COM1 until 'q'
 *   action=irq-echo the same driven by IRQ 4 through the 8259 PIC, with
 *                   interrupt-driven (THRE) output, as Linux's 8250 does
 * Default: check RTC, CMOS, 0xE9, UART scratch/loopback/FIFO, i8042, then
 * finish through port 0xF4 (status 1 on success). */
#include "probe.h"

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};
#define MB_INFO_CMDLINE 0x04
#define MB_BOOTLOADER_MAGIC 0x2BADB002

static const char *cmdline = "";

/* Value of "key=" in the command line, or -1. */
static long long arg_num(const char *key)
{
	const char *p = cmdline;
	uptr kl = str_len(key);
	while (*p) {
		while (*p == ' ')
			p++;
		uptr i = 0;
		while (i < kl && p[i] == key[i])
			i++;
		if (i == kl && p[kl] == '=') {
			long long v = 0;
			for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (*p - '0');
			return v;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

static int arg_is(const char *key, const char *val)
{
	const char *p = cmdline;
	uptr kl = str_len(key), vl = str_len(val);
	while (*p) {
		while (*p == ' ')
			p++;
		uptr i = 0;
		while (i < kl && p[i] == key[i])
			i++;
		if (i == kl && p[kl] == '=') {
			const char *v = p + kl + 1;
			uptr j = 0;
			while (j < vl && v[j] == val[j])
				j++;
			if (j == vl && (v[vl] == ' ' || v[vl] == 0))
				return 1;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

static u8 cmos(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static int bcd_ok(u8 v) { return (v & 0x0F) <= 9 && (v >> 4) <= 9; }
static int bcd(u8 v) { return (v >> 4) * 10 + (v & 0x0F); }

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void check_rtc(void)
{
	CHECK_EQ(cmos(0x0B), 0x02); /* 24 h, BCD */
	CHECK_EQ(cmos(0x0D), 0x80);
	/* The usual BIOS/Linux sequence: wait for UIP clear, then read. */
	int spins = 0;
	while ((cmos(0x0A) & 0x80) && spins < 100000)
		spins++;
	CHECK(spins < 100000);
	u8 s = cmos(0x00), mi = cmos(0x02), h = cmos(0x04), d = cmos(0x07), mo = cmos(0x08),
	   y = cmos(0x09), c = cmos(0x32);
	CHECK(bcd_ok(s) && bcd_ok(mi) && bcd_ok(h) && bcd_ok(d) && bcd_ok(mo) && bcd_ok(y) &&
	      bcd_ok(c));
	CHECK(bcd(s) <= 59 && bcd(mi) <= 59 && bcd(h) <= 23);
	CHECK(bcd(d) >= 1 && bcd(d) <= 31 && bcd(mo) >= 1 && bcd(mo) <= 12);
	CHECK_EQ(c, 0x20);
	CHECK(y >= 0x24);
	puts_("rtc: 20");
	putc_('0' + (y >> 4)); putc_('0' + (y & 15)); putc_('-');
	putc_('0' + (mo >> 4)); putc_('0' + (mo & 15)); putc_('-');
	putc_('0' + (d >> 4)); putc_('0' + (d & 15)); putc_(' ');
	putc_('0' + (h >> 4)); putc_('0' + (h & 15)); putc_(':');
	putc_('0' + (mi >> 4)); putc_('0' + (mi & 15)); putc_(':');
	putc_('0' + (s >> 4)); putc_('0' + (s & 15)); puts_(" UTC\n");
	long long now = arg_num("now");
	if (now >= 0) {
		long long t = days_from_civil(bcd(c) * 100 + bcd(y), (unsigned)bcd(mo),
					      (unsigned)bcd(d)) * 86400 +
			      bcd(h) * 3600 + bcd(mi) * 60 + bcd(s);
		long long diff = t - now;
		CHECK(diff >= -5 && diff <= 120);
	}
	/* Binary mode shows the same seconds (give or take a tick). */
	outb(0x70, 0x0B);
	outb(0x71, 0x06);
	u8 sb = cmos(0x00), s2 = cmos(0x00);
	outb(0x70, 0x0B);
	outb(0x71, 0x02);
	CHECK(sb <= 59);
	CHECK(sb == s2 || sb + 1 == s2 || (sb == 59 && s2 == 0));
}

static u32 cmos16(u8 lo) { return cmos(lo) | (u32)cmos(lo + 1) << 8; }

static void check_cmos_memory(void)
{
	CHECK_EQ(cmos16(0x15), 640);
	long long mib = arg_num("ram_mib");
	if (mib < 0) {
		puts_("cmos: no ram_mib= on the command line\n");
		CHECK(0);
		return;
	}
	u64 ext = mib > 1 ? (u64)(mib - 1) * 1024 : 0;
	if (ext > 0xFFFF)
		ext = 0xFFFF;
	u64 above16 = mib > 16 ? (u64)(mib - 16) * 16 : 0;
	if (above16 > 0xFFFF)
		above16 = 0xFFFF;
	CHECK_EQ(cmos16(0x17), ext);
	CHECK_EQ(cmos16(0x30), ext);
	CHECK_EQ(cmos16(0x34), above16);
	CHECK_EQ(cmos(0x5B) | cmos(0x5C) | cmos(0x5D), 0);
}

static void check_debugcon(void)
{
	CHECK_EQ(inb(0xE9), 0xE9);
	for (const char *p = "DEBUGCON-OK\n"; *p; p++)
		outb(0xE9, (u8)*p);
}

static void check_uart(void)
{
	CHECK_EQ(inb(COM1 + 5) & 0x60, 0x60);
	outb(COM1 + 7, 0x5A);
	CHECK_EQ(inb(COM1 + 7), 0x5A);
	outb(COM1 + 7, 0xA5);
	CHECK_EQ(inb(COM1 + 7), 0xA5);
	/* DLAB: divisor latch readable, and IER back untouched. */
	u8 lcr = inb(COM1 + 3);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, lcr | 0x80);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	u8 dll = inb(COM1 + 0), dlm = inb(COM1 + 1);
	outb(COM1 + 3, lcr & 0x7F);
	CHECK_EQ(dll, 0x01);
	CHECK_EQ(dlm, 0x00);
	CHECK_EQ(inb(COM1 + 1), 0x00);
	/* FIFO: IIR reports it enabled. */
	outb(COM1 + 2, 0x07);
	CHECK_EQ(inb(COM1 + 2) & 0xC0, 0xC0);
	/* Loopback (no printing until MCR is restored). */
	u8 mcr = inb(COM1 + 4);
	outb(COM1 + 4, 0x1A);
	u8 msr = inb(COM1 + 6);
	outb(COM1 + 0, 'Q');
	u8 lsr = inb(COM1 + 5);
	u8 rbr = inb(COM1 + 0);
	u8 lsr2 = inb(COM1 + 5);
	outb(COM1 + 4, mcr);
	CHECK_EQ(msr & 0xF0, 0x90);
	CHECK_EQ(lsr & 0x01, 0x01);
	CHECK_EQ(rbr, 'Q');
	CHECK_EQ(lsr2 & 0x01, 0x00);
}

static void check_i8042(void)
{
	CHECK(inb(0x64) != 0xFF);
	while (inb(0x64) & 0x01) /* flush */
		inb(0x60);
	outb(0x64, 0xAA);
	int spins = 0;
	while (!(inb(0x64) & 0x01) && spins < 1000)
		spins++;
	CHECK(spins < 1000);
	CHECK_EQ(inb(0x60), 0x55);
}

static void __attribute__((noreturn)) still_running(const char *how)
{
	puts_("STILL-RUNNING after ");
	puts_(how);
	puts_("\n");
	probe_exit_value(0x7E);
}

/* ---- polled and interrupt-driven console input */

static void echo_byte(u8 c)
{
	puts_("got ");
	puthex(c);
	puts_("\n");
}

static void __attribute__((noreturn)) echo_polled(void)
{
	puts_("ECHO-READY\n");
	for (;;) {
		while (!(inb(COM1 + 5) & 0x01))
			;
		u8 c = inb(COM1);
		if (c == 'q')
			break;
		echo_byte(c);
	}
	probe_finish("echo");
}

struct idt_gate {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, zero;
} __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));

extern char irq_stub[];
void irq_handler(void);

static volatile u8 rx_ring[256];
static volatile unsigned rx_n, irq_count, tx_pos, thre_irqs;
static const char tx_text[] = "IRQ-TX-OK\n";

void irq_handler(void)
{
	irq_count++;
	for (int guard = 0; guard < 64; guard++) {
		u8 iir = inb(COM1 + 2);
		if (iir & 0x01)
			break;
		switch (iir & 0x0E) {
		case 0x04:
		case 0x0C:
			while (inb(COM1 + 5) & 0x01)
				rx_ring[rx_n++ & 255] = inb(COM1);
			break;
		case 0x02:
			thre_irqs++;
			if (tx_text[tx_pos])
				outb(COM1, (u8)tx_text[tx_pos++]);
			else
				outb(COM1 + 1, inb(COM1 + 1) & (u8)~0x02);
			break;
		case 0x06:
			inb(COM1 + 5);
			break;
		default:
			inb(COM1 + 6);
			break;
		}
	}
	outb(0x20, 0x20); /* non-specific EOI */
}

static void pic_init(void)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0xA0, 0x11);
	outb(0x21, 0x20); /* ICW2: vectors 0x20-0x27 */
	outb(0xA1, 0x28);
	outb(0x21, 0x04); /* ICW3 */
	outb(0xA1, 0x02);
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xA1, 0x01);
	outb(0x21, 0xEF); /* only IRQ 4 */
	outb(0xA1, 0xFF);
}

static void idt_init(void)
{
	u16 cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	u64 a = (u64)(uptr)irq_stub;
	for (int v = 0x20; v < 0x30; v++) {
		idt[v].off0 = (u16)a;
		idt[v].sel = cs;
		idt[v].ist = 0;
		idt[v].type = 0x8E; /* present, DPL 0, 64-bit interrupt gate */
		idt[v].off1 = (u16)(a >> 16);
		idt[v].off2 = (u32)(a >> 32);
		idt[v].zero = 0;
	}
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (u64)(uptr)idt };
	__asm__ volatile("lidt %0" ::"m"(d));
}

static void __attribute__((noreturn)) echo_irq(void)
{
	pic_init();
	idt_init();
	outb(COM1 + 2, 0x07); /* FIFO on, cleared, trigger 1 */
	outb(COM1 + 4, 0x0B); /* DTR, RTS, OUT2 (the PC's IRQ enable) */
	puts_("IRQ-READY\n");
	/* Output by THRE interrupts: enabling ETBEI with THR empty fires. */
	outb(COM1 + 1, 0x03);
	int done = 0;
	while (!done) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (tx_text[tx_pos] == 0)
			for (unsigned i = 0; i < rx_n && i < 256; i++)
				if (rx_ring[i] == 'q')
					done = 1;
	}
	outb(COM1 + 1, 0x00);
	puts_("IRQ-RX: ");
	for (unsigned i = 0; i < rx_n && i < 256 && rx_ring[i] != 'q'; i++) {
		if (rx_ring[i] >= 0x20 && rx_ring[i] < 0x7F)
			putc_((char)rx_ring[i]);
		else {
			putc_('<');
			puthex(rx_ring[i]);
			putc_('>');
		}
	}
	puts_("\ninterrupts: ");
	putdec(irq_count);
	puts_(", THRE: ");
	putdec(thre_irqs);
	puts_("\n");
	CHECK(irq_count > 0);
	CHECK(thre_irqs >= sizeof(tx_text) - 1);
	probe_finish("irq-echo");
}

void probe_main(u32 magic, u64 mbi_addr);
void probe_main(u32 magic, u64 mbi_addr)
{
	const struct mb_info *mbi = (const struct mb_info *)(uptr)mbi_addr;
	if (magic == MB_BOOTLOADER_MAGIC && mbi && (mbi->flags & MB_INFO_CMDLINE) && mbi->cmdline)
		cmdline = (const char *)(uptr)mbi->cmdline;
	puts_("devices probe: cmdline '");
	puts_(cmdline);
	puts_("'\n");

	if (arg_is("action", "reboot-kbd")) {
		while (inb(0x64) & 0x02) /* Linux's kb_wait */
			;
		outb(0x64, 0xFE);
		still_running("i8042 0xFE");
	}
	if (arg_is("action", "reboot-cf9")) {
		outb(0xCF9, 0x02);
		outb(0xCF9, 0x06);
		still_running("0xCF9");
	}
	if (arg_is("action", "reboot-92")) {
		outb(0x92, inb(0x92) | 0x01);
		still_running("port 0x92");
	}
	if (arg_is("action", "exit-21"))
		probe_exit_value(21);
	if (arg_is("action", "echo"))
		echo_polled();
	if (arg_is("action", "irq-echo"))
		echo_irq();

	check_rtc();
	check_cmos_memory();
	check_debugcon();
	check_uart();
	check_i8042();
	probe_finish("devices");
}
