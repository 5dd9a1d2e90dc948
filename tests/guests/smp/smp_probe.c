/* smp_probe.c - several vCPUs seen from inside a guest.
 *
 * The probe finds nobios's ACPI tables through the RSDP (as its boot format
 * passes it: PVH's rsdp_paddr, Multiboot2's ACPI tags, else the legacy scan
 * of 0xE0000-0xFFFFF) and the MP tables through the floating pointer (the
 * EBDA scan), checks every checksum, length and entry against what nobios
 * promises (README "ACPI and MP tables": ACPI 6.0 hardware-reduced, Intel MP
 * spec 1.4), checks that the PIT's IRQ 0 really arrives on IOAPIC pin 2 as
 * both tables say, then starts each AP the tables list with INIT-SIPI-SIPI
 * through its own local APIC (MP spec B.4).  Each AP reports its APIC ID on
 * the console and in a shared counter.  Verdict through port 0xF4.
 *
 * Command line: cpus=N (the --cpus given: how many processors the tables
 * must list), action=poweroff (after the checks, power off through the
 * FADT's SLEEP_CONTROL_REG: nobios must end with status 0), action=halt
 * (after the checks, the BSP halts with interrupts off like the parked
 * APs: nothing can wake the guest, and nobios must say so), action=spin
 * (the BSP spins forever: for --timeout and signals), action=ap-fault (the
 * AP with APIC ID 1 triple-faults: nobios must name and dump that vCPU). */
#include "probe.h"

#define RSDP_ADDR       0xE0000u    /* nobios's layout: LAYOUT_BOOT_TABLES */
#define MP_FLOAT_ADDR   0x9FC10u    /* LAYOUT_MP_FLOATING */
#define LAPIC_BASE      0xFEE00000u
#define IOAPIC_BASE     0xFEC00000u
#define SMP_TRAMPOLINE  0x10000u    /* AP start page: SIPI vector 0x10 */
#define AP_MAX          63
#define IRQ_VECTOR      0x30

/* LAPIC registers (SDM vol 3A table 10-1). */
#define LAPIC_ID        0x020
#define LAPIC_EOI       0x0B0
#define LAPIC_SVR       0x0F0
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define ICR_INIT        0x00000500u
#define ICR_STARTUP     0x00000600u
#define ICR_ASSERT      0x00004000u
#define ICR_PENDING     0x00001000u

/* Physical addresses as integers the compiler cannot see through (GCC
 * flags reads near address 0, such as the BDA's 40:0E, as out of bounds). */
static inline uptr phys(uptr a)
{
	__asm__("" : "+r"(a));
	return a;
}
static inline u8 rd8(uptr a) { return *(volatile u8 *)phys(a); }
static inline u16 rd16(uptr a) { return *(volatile u16 *)phys(a); }
static inline u32 rd32(uptr a) { return *(volatile u32 *)phys(a); }
static inline u64 rd64(uptr a) { return rd32(a) | (u64)rd32(a + 4) << 32; }
static inline void wr32(uptr a, u32 v) { *(volatile u32 *)a = v; }

static const char *cmdline = "";

static long arg_num(const char *key)
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
			long v = 0;
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

static int mem_eq(uptr a, const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (rd8(a + i) != (u8)s[i])
			return 0;
	return 1;
}

static u8 sum8(uptr a, u32 n)
{
	u8 s = 0;
	for (u32 i = 0; i < n; i++)
		s = (u8)(s + rd8(a + i));
	return s;
}

/* ---- time: the TSC at the rate nobios's CPUID leaf 0x40000010 gives */
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (u64)hi << 32;
}
static u32 tsc_khz = 1000000; /* 1 GHz until CPUID says */

static void delay_us(u32 us)
{
	/* 32-bit division only: no libgcc in a freestanding 32-bit guest */
	u64 end = rdtsc() + (u64)us * (tsc_khz / 1000);
	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* ---- console shared by the BSP and the APs */
static volatile u32 console_lock;
static void lock(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}
static void unlock(void) { __atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE); }

/* ---- what the APs report */
static volatile int ap_fault; /* action=ap-fault */
static volatile u32 ap_count;
static volatile u8 ap_seen[256];
static volatile u8 ap_cpuid_id[256];

void ap_main(void);
void ap_main(void)
{
	u32 id = rd32(LAPIC_BASE + LAPIC_ID) >> 24;
	u32 a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	lock();
	puts_("AP up: APIC ID ");
	putdec(id);
	puts_(", CPUID.1 APIC ID ");
	putdec(b >> 24);
	puts_("\n");
	unlock();
	ap_cpuid_id[id] = (u8)(b >> 24);
	__atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ap_seen[id], 1, __ATOMIC_RELEASE);
	if (ap_fault && id == 1) {
		/* an empty IDT: int3 -> #GP -> #DF -> triple fault */
		struct { u16 limit; u32 base; } __attribute__((packed)) none = { 0, 0 };
		__asm__ volatile("lidt %0; int3" ::"m"(none));
	}
	/* parked: nobios's hang watcher must not mistake this for a dead
	 * guest while the BSP runs */
}

/* ---- ACPI (ACPI 6.0 chapter 5.2) */
static u8 madt_ids[256];
static unsigned madt_ncpus;

static uptr find_rsdp_scan(void)
{
	for (uptr a = 0xE0000; a < 0x100000; a += 16)
		if (mem_eq(a, "RSD PTR ", 8) && sum8(a, 20) == 0)
			return a;
	return 0;
}

static void check_header(uptr t, const char *sig, u8 rev)
{
	CHECK(mem_eq(t, sig, 4));
	u32 len = rd32(t + 4);
	CHECK(len >= 36 && len < 0x10000);
	CHECK_EQ(sum8(t, len), 0);
	CHECK_EQ(rd8(t + 8), rev);
	CHECK(mem_eq(t + 10, "NOBIOS", 6));
}

static void check_dsdt(uptr t)
{
	check_header(t, "DSDT", 2);
	u32 len = rd32(t + 4);
	/* Name(\_S5_, Package(4) {5, ...}): NameOp '\' "_S5_" PackageOp */
	int s5 = 0, com1 = 0;
	for (u32 i = 36; i + 12 <= len; i++) {
		if (rd8(t + i) == 0x08 && mem_eq(t + i + 1, "\\_S5_", 5) && rd8(t + i + 6) == 0x12) {
			s5 = 1;
			/* PkgLength (one byte), NumElements 4, BytePrefix 5 */
			CHECK_EQ(rd8(t + i + 8), 4);
			CHECK_EQ(rd8(t + i + 9), 0x0A);
			CHECK_EQ(rd8(t + i + 10), 5);
		}
		if (mem_eq(t + i, "COM1", 4))
			com1 = 1;
	}
	CHECK(s5);
	CHECK(com1);
}

static void check_fadt(uptr t)
{
	check_header(t, "FACP", 6);
	CHECK_EQ(rd32(t + 4), 276);
	u32 flags = rd32(t + 112);
	CHECK(flags & (1u << 20)); /* HW_REDUCED_ACPI */
	CHECK(flags & (1u << 10)); /* RESET_REG_SUP */
	CHECK_EQ(rd16(t + 46), 9);  /* SCI_INT */
	CHECK_EQ(rd32(t + 36), 0);  /* no FACS */
	CHECK_EQ(rd64(t + 132), 0);
	/* every PM1/PM2/PM timer/GPE block absent */
	for (u32 o = 56; o < 88; o += 4)
		CHECK_EQ(rd32(t + o), 0);
	uptr dsdt = (uptr)rd64(t + 140);
	CHECK_EQ(rd32(t + 40), dsdt);
	check_dsdt(dsdt);
	/* GAS: System I/O, 8 bits, offset 0, byte access, port */
	static const struct { u32 off, port; } regs[] = { { 116, 0x602 }, { 244, 0x600 },
							    { 256, 0x601 } };
	for (unsigned i = 0; i < 3; i++) {
		uptr g = t + regs[i].off;
		CHECK_EQ(rd8(g), 1);
		CHECK_EQ(rd8(g + 1), 8);
		CHECK_EQ(rd8(g + 2), 0);
		CHECK_EQ(rd8(g + 3), 1);
		CHECK_EQ(rd64(g + 4), regs[i].port);
	}
	CHECK_EQ(rd8(t + 128), 1);  /* RESET_VALUE */
	CHECK_EQ(rd8(t + 131), 0);  /* FADT minor version: ACPI 6.0 */
}

static void check_madt(uptr t, unsigned ncpus)
{
	check_header(t, "APIC", 4);
	CHECK_EQ(rd32(t + 36), LAPIC_BASE);
	CHECK_EQ(rd32(t + 40), 1); /* PCAT_COMPAT */
	u32 len = rd32(t + 4);
	int ioapics = 0, iso0 = 0, iso9 = 0, nmi = 0;
	for (uptr e = t + 44; e + 2 <= t + len;) {
		u8 type = rd8(e), l = rd8(e + 1);
		CHECK(l >= 2 && e + l <= t + len);
		if (l < 2 || e + l > t + len)
			break;
		switch (type) {
		case 0: /* Processor Local APIC */
			CHECK_EQ(l, 8);
			CHECK_EQ(rd8(e + 2), madt_ncpus); /* UID = APIC ID = index */
			CHECK_EQ(rd8(e + 3), madt_ncpus);
			CHECK_EQ(rd32(e + 4), 1); /* enabled */
			madt_ids[madt_ncpus & 0xFF] = rd8(e + 3);
			madt_ncpus++;
			break;
		case 1: /* I/O APIC */
			CHECK_EQ(l, 12);
			CHECK_EQ(rd8(e + 2), ncpus);
			CHECK_EQ(rd32(e + 4), IOAPIC_BASE);
			CHECK_EQ(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2: /* Interrupt Source Override */
			CHECK_EQ(l, 10);
			CHECK_EQ(rd8(e + 2), 0);
			if (rd8(e + 3) == 0) {
				CHECK_EQ(rd32(e + 4), 2);
				CHECK_EQ(rd16(e + 8), 0);
				iso0++;
			} else {
				CHECK_EQ(rd8(e + 3), 9);
				CHECK_EQ(rd32(e + 4), 9);
				CHECK_EQ(rd16(e + 8), 0xD); /* level, active high */
				iso9++;
			}
			break;
		case 4: /* Local APIC NMI */
			CHECK_EQ(l, 6);
			CHECK_EQ(rd8(e + 2), 0xFF);
			CHECK_EQ(rd8(e + 5), 1); /* LINT1 */
			nmi++;
			break;
		default:
			puts_("unexpected MADT entry type ");
			putdec(type);
			puts_("\n");
			CHECK(0);
		}
		e += l;
	}
	CHECK_EQ(madt_ncpus, ncpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(iso0, 1);
	CHECK_EQ(iso9, 1);
	CHECK_EQ(nmi, 1);
}

static void check_acpi(uptr rsdp, unsigned ncpus)
{
	puts_("ACPI: RSDP at ");
	puthex(rsdp);
	puts_("\n");
	CHECK_EQ(rsdp, RSDP_ADDR);
	CHECK(mem_eq(rsdp, "RSD PTR ", 8));
	CHECK_EQ(sum8(rsdp, 20), 0);
	CHECK_EQ(rd8(rsdp + 15), 2);
	CHECK_EQ(rd32(rsdp + 20), 36);
	CHECK_EQ(sum8(rsdp, 36), 0);
	CHECK(mem_eq(rsdp + 9, "NOBIOS", 6));
	uptr rsdt = rd32(rsdp + 16), xsdt = (uptr)rd64(rsdp + 24);
	check_header(rsdt, "RSDT", 1);
	check_header(xsdt, "XSDT", 1);
	u32 n = (rd32(xsdt + 4) - 36) / 8;
	CHECK_EQ(n, 2);
	CHECK_EQ((rd32(rsdt + 4) - 36) / 4, n);
	uptr fadt = 0, madt = 0;
	for (u32 i = 0; i < n && i < 8; i++) {
		uptr t = (uptr)rd64(xsdt + 36 + 8 * i);
		CHECK_EQ(rd32(rsdt + 36 + 4 * i), t);
		if (mem_eq(t, "FACP", 4))
			fadt = t;
		if (mem_eq(t, "APIC", 4))
			madt = t;
	}
	CHECK(fadt && madt);
	if (fadt)
		check_fadt(fadt);
	if (madt)
		check_madt(madt, ncpus);
}

/* ---- MP tables (Intel MP spec 1.4 chapter 4) */
static u8 mp_ids[256];
static unsigned mp_ncpus;

static uptr find_mp_floating(void)
{
	/* 4.1: the first KiB of the EBDA (BDA 40:0E when set; 639K else),
	 * then the BIOS ROM 0xF0000-0xFFFFF */
	uptr ebda = (uptr)rd16(0x40E) << 4;
	if (!ebda)
		ebda = 639 * 1024;
	for (uptr a = ebda; a < ebda + 1024; a += 16)
		if (mem_eq(a, "_MP_", 4) && sum8(a, 16) == 0)
			return a;
	for (uptr a = 0xF0000; a < 0x100000; a += 16)
		if (mem_eq(a, "_MP_", 4) && sum8(a, 16) == 0)
			return a;
	return 0;
}

static void check_mp(unsigned ncpus)
{
	uptr f = find_mp_floating();
	puts_("MP: floating pointer at ");
	puthex(f);
	puts_("\n");
	CHECK_EQ(f, MP_FLOAT_ADDR);
	if (!f)
		return;
	CHECK_EQ(rd8(f + 8), 1);      /* length in paragraphs */
	CHECK_EQ(rd8(f + 9), 4);      /* spec 1.4 */
	CHECK_EQ(rd8(f + 11), 0);     /* configuration table present */
	CHECK_EQ(rd8(f + 12) & 0x80, 0); /* virtual wire (no IMCR) */
	uptr c = rd32(f + 4);
	CHECK(mem_eq(c, "PCMP", 4));
	u16 len = rd16(c + 4);
	CHECK_EQ(sum8(c, len), 0);
	CHECK_EQ(rd8(c + 6), 4);
	CHECK_EQ(rd32(c + 36), LAPIC_BASE);
	CHECK_EQ(rd16(c + 40), 0);    /* no extended table */
	u16 count = rd16(c + 34);
	uptr e = c + 44, end = c + len;
	u8 last_type = 0;
	int buses = 0, ioapics = 0, extint = 0, nmi = 0;
	u8 pin_of_irq[16];
	for (int i = 0; i < 16; i++)
		pin_of_irq[i] = 0xFF;
	for (u16 i = 0; i < count && e < end; i++) {
		u8 type = rd8(e);
		CHECK(type >= last_type); /* sorted by type (4.3) */
		last_type = type;
		if (type == 0) {
			CHECK(e + 20 <= end);
			CHECK_EQ(rd8(e + 1), mp_ncpus);
			CHECK_EQ(rd8(e + 2), 0x14);
			CHECK_EQ(rd8(e + 3), mp_ncpus == 0 ? 3 : 1); /* EN, BP on the BSP only */
			mp_ids[mp_ncpus & 0xFF] = rd8(e + 1);
			mp_ncpus++;
			e += 20;
			continue;
		}
		CHECK(e + 8 <= end);
		switch (type) {
		case 1:
			CHECK_EQ(rd8(e + 1), 0);
			CHECK(mem_eq(e + 2, "ISA   ", 6));
			buses++;
			break;
		case 2:
			CHECK_EQ(rd8(e + 1), ncpus);
			CHECK_EQ(rd8(e + 3), 1);
			CHECK_EQ(rd32(e + 4), IOAPIC_BASE);
			ioapics++;
			break;
		case 3:
			CHECK_EQ(rd8(e + 1), 0); /* INT */
			CHECK_EQ(rd8(e + 4), 0); /* ISA bus */
			CHECK_EQ(rd8(e + 6), ncpus);
			if (rd8(e + 5) < 16)
				pin_of_irq[rd8(e + 5)] = rd8(e + 7);
			break;
		case 4:
			CHECK_EQ(rd8(e + 6), 0xFF);
			if (rd8(e + 1) == 3) {
				CHECK_EQ(rd8(e + 7), 0); /* ExtINT on LINT0 */
				extint++;
			} else {
				CHECK_EQ(rd8(e + 1), 1);
				CHECK_EQ(rd8(e + 7), 1); /* NMI on LINT1 */
				nmi++;
			}
			break;
		default:
			CHECK(0);
		}
		e += 8;
	}
	CHECK_EQ(e, end);
	CHECK_EQ(mp_ncpus, ncpus);
	CHECK_EQ(buses, 1);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(extint, 1);
	CHECK_EQ(nmi, 1);
	CHECK_EQ(pin_of_irq[0], 2);    /* the PIT on pin 2 */
	CHECK_EQ(pin_of_irq[2], 0xFF); /* the cascade nowhere */
	for (int i = 1; i < 16; i++)
		if (i != 2)
			CHECK_EQ(pin_of_irq[i], i);
	for (unsigned i = 0; i < mp_ncpus && i < madt_ncpus; i++)
		CHECK_EQ(mp_ids[i], madt_ids[i]);
}

/* ---- IRQ 0 on IOAPIC pin 2: the routing both tables describe */
struct idt_entry {
	u16 off_lo, sel;
	u8 zero, flags;
	u16 off_hi;
} __attribute__((packed));
static struct idt_entry idt[256] __attribute__((aligned(8)));
static volatile u32 irq_count;
void irq_stub(void);
void irq_handler(void);
void irq_handler(void)
{
	irq_count++;
	wr32(LAPIC_BASE + LAPIC_EOI, 0);
}

static void ioapic_write(u32 reg, u32 v)
{
	wr32(IOAPIC_BASE, reg);
	wr32(IOAPIC_BASE + 0x10, v);
}

static void check_irq0_routing(void)
{
	uptr h = (uptr)irq_stub;
	idt[IRQ_VECTOR] = (struct idt_entry){ (u16)h, 0x08, 0, 0x8E, (u16)(h >> 16) };
	struct { u16 limit; u32 base; } __attribute__((packed)) idtr = { sizeof(idt) - 1,
									  (u32)(uptr)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));
	/* the local APIC accepts interrupts only when software-enabled */
	wr32(LAPIC_BASE + LAPIC_SVR, rd32(LAPIC_BASE + LAPIC_SVR) | 0x100 | 0xFF);
	outb(0x21, 0xFF); /* both 8259s masked: only the IOAPIC delivers */
	outb(0xA1, 0xFF);
	/* pin 2: fixed, physical, edge, active high, unmasked, to APIC 0 */
	ioapic_write(0x10 + 2 * 2 + 1, 0);
	ioapic_write(0x10 + 2 * 2, IRQ_VECTOR);
	/* PIT channel 0, mode 2, ~1 ms */
	outb(0x43, 0x34);
	outb(0x40, 0xA9);
	outb(0x40, 0x04);
	__asm__ volatile("sti");
	u64 end = rdtsc() + 200 * (u64)tsc_khz; /* 200 ms */
	while (irq_count < 3 && rdtsc() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	ioapic_write(0x10 + 2 * 2, 0x10000 | IRQ_VECTOR); /* mask */
	outb(0x43, 0x30); /* channel 0 mode 0, no count: stops */
	puts_("IRQ 0 through IOAPIC pin 2: ");
	putdec(irq_count);
	puts_(" interrupts\n");
	CHECK(irq_count >= 3);
}

/* ---- the ACPI sleep registers (FADT SLEEP_CONTROL/STATUS_REG) */
static void check_sleep_regs(void)
{
	CHECK_EQ(inb(0x601) & 0x80, 0);  /* WAK_STS clear */
	outb(0x600, (1 << 2) | 0x20);    /* S1: not offered, wakes at once */
	CHECK_EQ(inb(0x601) & 0x80, 0x80);
	outb(0x601, 0x80);               /* write 1 to clear */
	CHECK_EQ(inb(0x601) & 0x80, 0);
}

/* ---- start the APs (MP spec B.4, SDM vol 3A 8.4.4.1) */
static void icr_send(u32 apic_id, u32 lo)
{
	wr32(LAPIC_BASE + LAPIC_ICR_HI, apic_id << 24);
	wr32(LAPIC_BASE + LAPIC_ICR_LO, lo);
	u64 end = rdtsc() + 10 * (u64)tsc_khz; /* 10 ms */
	while ((rd32(LAPIC_BASE + LAPIC_ICR_LO) & ICR_PENDING) && rdtsc() < end)
		__asm__ volatile("pause");
}

extern char tramp_start[], tramp_end[];

static void start_aps(void)
{
	u32 n = (u32)(tramp_end - tramp_start);
	for (u32 i = 0; i < n; i++)
		*(volatile u8 *)(uptr)(SMP_TRAMPOLINE + i) = (u8)tramp_start[i];
	wr32(LAPIC_BASE + LAPIC_SVR, rd32(LAPIC_BASE + LAPIC_SVR) | 0x100 | 0xFF);
	u32 bsp = rd32(LAPIC_BASE + LAPIC_ID) >> 24;
	CHECK_EQ(bsp, 0);
	CHECK_EQ(madt_ids[0], bsp);
	unsigned expected = 0;
	for (unsigned i = 0; i < madt_ncpus; i++) {
		u32 id = madt_ids[i];
		if (id == bsp)
			continue;
		if (expected >= AP_MAX) {
			puts_("more APs than the probe has stacks for\n");
			CHECK(0);
			break;
		}
		expected++;
		icr_send(id, ICR_INIT | ICR_ASSERT);
		delay_us(10000);
		for (int s = 0; s < 2 && !ap_seen[id]; s++) {
			icr_send(id, ICR_STARTUP | ICR_ASSERT | (SMP_TRAMPOLINE >> 12));
			delay_us(200);
		}
		u64 end = rdtsc() + 1000 * (u64)tsc_khz; /* 1 s */
		while (!__atomic_load_n(&ap_seen[id], __ATOMIC_ACQUIRE) && rdtsc() < end)
			__asm__ volatile("pause");
		if (!ap_seen[id]) {
			lock();
			puts_("AP with APIC ID ");
			putdec(id);
			puts_(" did not report within 1 s\n");
			unlock();
		}
		CHECK(ap_seen[id]);
		CHECK_EQ(ap_cpuid_id[id], id);
	}
	CHECK_EQ(ap_count, expected);
	lock();
	puts_("SMP: ");
	putdec(ap_count + 1);
	puts_(" CPUs up (BSP + ");
	putdec(ap_count);
	puts_(" APs)\n");
	unlock();
}

/* ---- boot information: the command line and the RSDP each format gives */
static uptr boot_info(u32 magic, u32 info)
{
	uptr rsdp = 0;
#if defined(PROTO_PVH)
	(void)magic;
	CHECK_EQ(rd32(info), 0x336ec578);
	u64 cl = rd64(info + 24);
	if (cl)
		cmdline = (const char *)(uptr)cl;
	rsdp = (uptr)rd64(info + 32); /* rsdp_paddr */
	puts_("PVH start_info rsdp_paddr: ");
	puthex(rsdp);
	puts_("\n");
#elif defined(PROTO_MB2)
	CHECK_EQ(magic, 0x36D76289);
	u32 total = rd32(info);
	int old = 0;
	for (uptr t = info + 8; t + 8 <= info + total;) {
		u32 type = rd32(t), size = rd32(t + 4);
		if (size < 8)
			break;
		if (type == 1)
			cmdline = (const char *)(t + 8);
		if (type == 14) { /* the RSDP's ACPI 1.0 part, a copy */
			CHECK_EQ(size, 8 + 20);
			old = 1;
		}
		if (type == 15) { /* the whole RSDP, a copy */
			CHECK_EQ(size, 8 + 36);
			CHECK(mem_eq(t + 8, "RSD PTR ", 8));
			CHECK_EQ(sum8(t + 8, 36), 0);
			rsdp = find_rsdp_scan();
			for (u32 i = 0; i < 36; i++)
				CHECK_EQ(rd8(t + 8 + i), rd8(rsdp + i));
			puts_("Multiboot2 ACPI new RSDP tag: a copy of ");
			puthex(rsdp);
			puts_("\n");
		}
		if (type == 0)
			break;
		t += (size + 7) & ~7u;
	}
	CHECK(old);
	CHECK(rsdp);
#else
	CHECK_EQ(magic, 0x2BADB002);
	if (rd32(info) & 0x04)
		cmdline = (const char *)(uptr)rd32(info + 16);
	rsdp = find_rsdp_scan();
	puts_("RSDP by the legacy scan: ");
	puthex(rsdp);
	puts_("\n");
#endif
	/* whichever way it came, it is the one the legacy scan finds too */
	CHECK_EQ(rsdp, find_rsdp_scan());
	return rsdp;
}

void probe_main(u32 magic, u32 info);
void probe_main(u32 magic, u32 info)
{
	puts_("smp probe\n");
	u32 a, b, c, d;
	cpuid(0x40000000, &a, &b, &c, &d);
	if (a >= 0x40000010) {
		cpuid(0x40000010, &a, &b, &c, &d);
		if (a)
			tsc_khz = a;
	}
	uptr rsdp = boot_info(magic, info);
	long n = arg_num("cpus");
	CHECK(n >= 1 && n <= 255);
	if (n < 1 || n > 255)
		n = 1;
	cpuid(1, &a, &b, &c, &d);
	CHECK_EQ(b >> 24, 0); /* the BSP is APIC ID 0 */
	check_acpi(rsdp, (unsigned)n);
	check_mp((unsigned)n);
	check_sleep_regs();
	check_irq0_routing();
	ap_fault = arg_is("action", "ap-fault");
	start_aps();
	if (arg_is("action", "poweroff")) {
		puts_(probe_failures ? "PROBE-FAIL\n" : "powering off through SLEEP_CONTROL_REG\n");
		if (probe_failures)
			probe_exit_value(0x40 | (probe_failures > 63 ? 63 : probe_failures));
		outb(0x601, 0x80);             /* clear WAK_STS, as OSPM does */
		outb(0x600, (5 << 2) | 0x20);  /* SLP_TYP of \_S5 | SLP_EN */
		puts_("still running after S5\n");
		probe_exit_value(0x7F);
	}
	if (arg_is("action", "spin")) {
		puts_("the BSP spins now\n");
		for (;;)
			__asm__ volatile("pause");
	}
	if (arg_is("action", "halt")) {
		puts_("every CPU halts with interrupts off now\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	probe_finish("smp-probe");
}
