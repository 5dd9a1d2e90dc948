/* direct_probe.c - one probe per direct-boot protocol (built with
 * -DPROTO_MB1, PROTO_MB1_AOUT, PROTO_MB2, PROTO_PVH or PROTO_ELF64, the
 * last also with ELF64_HIGH: linked 1 GiB above its load address).  It
 * checks the exact entry state the specification (and nobios's documented
 * layout) gives, then every field of the boot information against what
 * tests/boot/direct.sh passes: -m 256M, one of the two command lines below,
 * and with "mods=2" an initrd of MOD0_SIZE bytes plus a --module of
 * MOD1_SIZE bytes with the command line MOD1_CMDLINE.  Module files start
 * with "nobios-module-N", are filled with '.', and end in '\n'. */
#include "probe.h"

#define CMDLINE_MODS   "nobios-probe mods=2 a=1 b=two"
#define CMDLINE_NOMODS "nobios-probe mods=0"
#define MOD0_SIZE      5000u
#define MOD1_SIZE      777u
#define MOD1_CMDLINE   "mod1 arg=1"
#define RAM_SIZE       (256ull << 20)
#define PAGE           4096u

#if defined(PROTO_MB1)
#define NAME "direct-mb1"
#elif defined(PROTO_MB1_AOUT)
#define NAME "direct-mb1-aout"
#elif defined(PROTO_MB2)
#define NAME "direct-mb2"
#elif defined(PROTO_PVH)
#define NAME "direct-pvh"
#elif defined(PROTO_ELF64) && defined(ELF64_HIGH)
#define NAME "direct-elf64-high"
#elif defined(PROTO_ELF64)
#define NAME "direct-elf64"
#else
#error "define a PROTO_*"
#endif

/* Saved by entry32.S/entry64.S: eax ebx ecx edx esi edi ebp esp eflags. */
uptr entry_regs[9];
u16 entry_sel[7]; /* cs ds es fs gs ss tr */
extern char _image_start[], _end[];

/* Virtual minus physical for the image: OSv's 1 GiB for direct-elf64-high.
 * PHYS() is where a link-time address lies in guest-physical memory. */
#if defined(ELF64_HIGH)
#define VM_SHIFT 0x40000000ull
extern u8 big_bss[0x200000];
extern char _bss_end[];
#else
#define VM_SHIFT 0ull
#endif
#define PHYS(p) ((u64)(uptr)(p) - VM_SHIFT)

static const struct { u64 addr, size; u32 type; } e820_expect[] = {
	{ 0x0, 0x9FC00, 1 },
	{ 0x9FC00, 0x400, 2 },
	{ 0xE0000, 0x20000, 2 }, /* ACPI/MP tables, pseudo-BIOS */
	{ 0x100000, RAM_SIZE - 0x100000, 1 },
};
#define E820_N 4

static inline uptr read_cr0(void) { uptr v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uptr read_cr3(void) { uptr v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uptr read_cr4(void) { uptr v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (u64)hi << 32 | lo;
}
/* Segment limit and access rights (in LAR's bit positions) decoded from the
 * GDT descriptor the selector names (LSL and LAR themselves are not
 * emulated by kvm_pvm); 0 if the selector lies outside the GDT. */
static inline u64 gdt_desc(u16 sel)
{
	struct __attribute__((packed)) { u16 limit; uptr base; } g;
	__asm__ volatile("sgdt %0" : "=m"(g));
	if ((sel & ~7u) == 0 || (u32)(sel & ~7u) + 7 > g.limit)
		return 0;
	return *(volatile u64 *)(g.base + (sel & ~7u));
}
static inline u32 seg_access(u16 sel) { return (u32)(gdt_desc(sel) >> 32) & 0x00F0FF00u; }
static inline u32 seg_limit(u16 sel)
{
	u64 d = gdt_desc(sel);
	if (!d)
		return 0;
	u32 lim = (u32)(d & 0xFFFF) | (u32)((d >> 32) & 0xF0000);
	return ((d >> 55) & 1) ? lim << 12 | 0xFFF : lim;
}
#define AR_TYPE(ar) (((ar) >> 8) & 0xF)
#define AR_S(ar)    (((ar) >> 12) & 1)
#define AR_P(ar)    (((ar) >> 15) & 1)
#define AR_L(ar)    (((ar) >> 21) & 1)
#define AR_DB(ar)   (((ar) >> 22) & 1)
#define AR_G(ar)    (((ar) >> 23) & 1)

static inline u8 rd8(u64 a) { return *(volatile u8 *)(uptr)a; }
static inline u16 rd16(u64 a) { return *(volatile u16 *)(uptr)a; }
static inline u32 rd32(u64 a) { return *(volatile u32 *)(uptr)a; }
static inline u64 rd64(u64 a) { return *(volatile u64 *)(uptr)a; }
static inline const char *str_at(u64 a) { return (const char *)(uptr)a; }

static int starts_with(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }

/* Both module files: size, first bytes, filler and last byte; page aligned,
 * above our image, inside RAM; module 1 follows module 0. */
static void check_module(int i, u64 start, u64 end)
{
	u32 size = i == 0 ? MOD0_SIZE : MOD1_SIZE;
	CHECK_EQ(start & (PAGE - 1), 0);
	CHECK(start >= align_up(PHYS(_end), PAGE));
	CHECK(end <= RAM_SIZE);
	CHECK_EQ(end - start, size);
	if (end - start != size || end > RAM_SIZE)
		return;
	CHECK(starts_with(str_at(start), i == 0 ? "nobios-module-0" : "nobios-module-1"));
	CHECK_EQ(rd8(start + size - 2), '.');
	CHECK_EQ(rd8(start + size - 1), '\n');
}

static int check_cmdline(const char *s)
{
	int mods = str_eq(s, CMDLINE_MODS);
	CHECK(mods || str_eq(s, CMDLINE_NOMODS));
	puts_("cmdline: ");
	puts_(s);
	puts_("\n");
	return mods;
}

#if !defined(PROTO_MB2) && !defined(PROTO_PVH)
/* Multiboot 0.6.96 section 3.3 information structure. */
static void check_mbi1(u64 mbi)
{
	u32 flags = rd32(mbi);
	CHECK(flags & 0x001);  /* MULTIBOOT_INFO_MEMORY */
	CHECK(flags & 0x004);  /* MULTIBOOT_INFO_CMDLINE */
	CHECK(flags & 0x040);  /* MULTIBOOT_INFO_MEM_MAP */
	CHECK(flags & 0x200);  /* MULTIBOOT_INFO_BOOT_LOADER_NAME */
	CHECK_EQ(flags & 0x1000, 0); /* no framebuffer */
	CHECK_EQ(rd32(mbi + 4), 0x9FC00 / 1024);          /* mem_lower */
	CHECK_EQ(rd32(mbi + 8), (RAM_SIZE - 0x100000) / 1024); /* mem_upper */
#if defined(PROTO_ELF64)
	/* the 2013 bhyveosvload's places: mmap right after the mbi, the
	 * command line at 0x7E00 */
	CHECK_EQ(rd32(mbi + 48), 0x1100);
	CHECK_EQ(rd32(mbi + 16), 0x7E00);
#endif
	int mods = check_cmdline(str_at(rd32(mbi + 16)));
	if (mods) {
		CHECK(flags & 0x008);
		CHECK_EQ(rd32(mbi + 20), 2);
		u64 ml = rd32(mbi + 24);
		CHECK(ml != 0);
		if (ml && rd32(mbi + 20) == 2) {
			check_module(0, rd32(ml), rd32(ml + 4));
			CHECK_EQ(rd32(ml + 8), 0); /* the initrd has no string */
			check_module(1, rd32(ml + 16), rd32(ml + 20));
			CHECK_EQ(rd32(ml + 16), align_up(rd32(ml + 4), PAGE));
			CHECK(rd32(ml + 24) && str_eq(str_at(rd32(ml + 24)), MOD1_CMDLINE));
		}
	} else {
		CHECK((flags & 0x008) == 0 || rd32(mbi + 20) == 0);
	}
	/* mmap: entries of size 20 (+4), the E820 nobios builds for 256 MiB */
	u32 len = rd32(mbi + 44);
	u64 mm = rd32(mbi + 48);
	CHECK_EQ(len, E820_N * 24);
	for (int i = 0; i < E820_N && (u32)(i * 24) < len; i++) {
		u64 e = mm + (u64)i * 24;
		CHECK_EQ(rd32(e), 20);
		CHECK_EQ(rd64(e + 4), e820_expect[i].addr);
		CHECK_EQ(rd64(e + 12), e820_expect[i].size);
		CHECK_EQ(rd32(e + 20), e820_expect[i].type);
	}
	CHECK(starts_with(str_at(rd32(mbi + 64)), "nobios"));
}
#endif

#if defined(PROTO_MB2)
/* Multiboot2 1.0 section 3.6 information tags. */
static void check_mbi2(u64 mbi)
{
	CHECK_EQ(mbi & 7, 0);
	u32 total = rd32(mbi);
	CHECK_EQ(rd32(mbi + 4), 0);
	CHECK(total >= 16 && total < 0x5000);
	int seen[32] = { 0 };
	int mods_seen = 0, mods = -1, ended = 0;
	u64 prev_end = 0;
	for (u64 t = mbi + 8; t + 8 <= mbi + total;) {
		u32 type = rd32(t), size = rd32(t + 4);
		CHECK_EQ(t & 7, 0);
		CHECK(size >= 8 && t + size <= mbi + total);
		if (size < 8 || t + size > mbi + total)
			break;
		if (type < 32)
			seen[type]++;
		switch (type) {
		case 0:
			CHECK_EQ(size, 8);
			CHECK_EQ(t + 8, mbi + total);
			ended = 1;
			break;
		case 1:
			mods = check_cmdline(str_at(t + 8));
			CHECK_EQ(size, 8 + str_len(str_at(t + 8)) + 1);
			break;
		case 2:
			CHECK(starts_with(str_at(t + 8), "nobios"));
			break;
		case 3: {
			u64 s = rd32(t + 8), e = rd32(t + 12);
			check_module(mods_seen, s, e);
			if (mods_seen == 0) {
				CHECK(str_eq(str_at(t + 16), ""));
			} else {
				CHECK(str_eq(str_at(t + 16), MOD1_CMDLINE));
				CHECK_EQ(s, align_up(prev_end, PAGE));
			}
			prev_end = e;
			mods_seen++;
			break;
		}
		case 4:
			CHECK_EQ(size, 16);
			CHECK_EQ(rd32(t + 8), 0x9FC00 / 1024);
			CHECK_EQ(rd32(t + 12), (RAM_SIZE - 0x100000) / 1024);
			break;
		case 6:
			CHECK_EQ(rd32(t + 8), 24); /* entry_size */
			CHECK_EQ(rd32(t + 12), 0); /* entry_version */
			CHECK_EQ(size, 16 + E820_N * 24);
			for (int i = 0; i < E820_N && 16 + (u32)(i + 1) * 24 <= size; i++) {
				u64 e = t + 16 + (u64)i * 24;
				CHECK_EQ(rd64(e), e820_expect[i].addr);
				CHECK_EQ(rd64(e + 8), e820_expect[i].size);
				CHECK_EQ(rd32(e + 16), e820_expect[i].type);
				CHECK_EQ(rd32(e + 20), 0);
			}
			break;
		case 14: /* ACPI old RSDP: the 20-byte ACPI 1.0 part */
		case 15: /* ACPI new RSDP: all 36 bytes (revision 2) */
			CHECK_EQ(size, type == 14 ? 8 + 20 : 8 + 36);
			CHECK(starts_with(str_at(t + 8), "RSD PTR "));
			CHECK_EQ(rd8(t + 8 + 15), 2); /* revision */
			/* the copy is nobios's RSDP at 0xE0000, byte for byte */
			for (u32 i = 0; i + 8 < size && i < 36; i++)
				CHECK_EQ(rd8(t + 8 + i), rd8(0xE0000 + i));
			break;
		default:
			puts_("unexpected mbi2 tag ");
			putdec(type);
			puts_("\n");
			CHECK(0);
		}
		if (ended)
			break;
		t += align_up(size, 8);
	}
	CHECK(ended);
	CHECK_EQ(seen[1], 1);
	CHECK_EQ(seen[2], 1);
	CHECK_EQ(seen[4], 1);
	CHECK_EQ(seen[6], 1);
	CHECK_EQ(seen[14], 1);
	CHECK_EQ(seen[15], 1);
	CHECK_EQ(mods_seen, mods == 1 ? 2 : 0);
}
#endif

#if defined(PROTO_PVH)
/* hvm_start_info version 1 (xen/include/public/arch-x86/hvm/start_info.h) */
static void check_start_info(u64 si)
{
	CHECK_EQ(rd32(si + 0), 0x336ec578);
	CHECK_EQ(rd32(si + 4), 1);      /* version */
	CHECK_EQ(rd32(si + 8), 0);      /* flags */
	CHECK_EQ(rd32(si + 52), 0);     /* reserved */
	u64 rsdp = rd64(si + 32);
	CHECK_EQ(rsdp, 0xE0000); /* nobios's RSDP (mem/layout.h LAYOUT_BOOT_TABLES) */
	CHECK(starts_with(str_at(rsdp), "RSD PTR "));
	u64 cl = rd64(si + 24);
	CHECK(cl != 0);
	int mods = cl ? check_cmdline(str_at(cl)) : 0;
	u32 n = rd32(si + 12);
	u64 ml = rd64(si + 16);
	CHECK_EQ(n, mods ? 2 : 0);
	if (mods && n == 2 && ml) {
		CHECK_EQ(ml & 7, 0);
		check_module(0, rd64(ml), rd64(ml) + rd64(ml + 8));
		CHECK_EQ(rd64(ml + 16), 0); /* initrd: no command line */
		CHECK_EQ(rd64(ml + 24), 0);
		check_module(1, rd64(ml + 32), rd64(ml + 32) + rd64(ml + 40));
		CHECK_EQ(rd64(ml + 32), align_up(rd64(ml) + rd64(ml + 8), PAGE));
		u64 c1 = rd64(ml + 48);
		CHECK(c1 && str_eq(str_at(c1), MOD1_CMDLINE));
		CHECK_EQ(rd64(ml + 56), 0);
	}
	u64 mm = rd64(si + 40);
	CHECK_EQ(rd32(si + 48), E820_N);
	CHECK(mm != 0);
	for (int i = 0; mm && i < E820_N && (u32)i < rd32(si + 48); i++) {
		u64 e = mm + (u64)i * 24;
		CHECK_EQ(rd64(e), e820_expect[i].addr);
		CHECK_EQ(rd64(e + 8), e820_expect[i].size);
		CHECK_EQ(rd32(e + 16), e820_expect[i].type);
		CHECK_EQ(rd32(e + 20), 0);
	}
}
#endif

#if defined(PROTO_ELF64)
extern u64 entry_bss_zero, entry_bss_seen, entry_data_one, entry_data_seen, entry_sse_seen;

#define PTE_ADDR 0x000FFFFFFFFFF000ull
/* Translate va through CR3's 4-level tables (Intel SDM vol 3A 4.5) as the
 * MMU does; ~0 if not present.  *size gets the page size. */
static u64 walk(u64 va, u64 *size)
{
	u64 e = rd64((read_cr3() & PTE_ADDR) + ((va >> 39) & 511) * 8);
	if (!(e & 1))
		return ~0ull;
	e = rd64((e & PTE_ADDR) + ((va >> 30) & 511) * 8);
	if (!(e & 1))
		return ~0ull;
	if (e & 0x80) {
		*size = 1ull << 30;
		return (e & PTE_ADDR & ~(*size - 1)) | (va & (*size - 1));
	}
	e = rd64((e & PTE_ADDR) + ((va >> 21) & 511) * 8);
	if (!(e & 1))
		return ~0ull;
	if (e & 0x80) {
		*size = 2ull << 20;
		return (e & PTE_ADDR & ~(*size - 1)) | (va & (*size - 1));
	}
	e = rd64((e & PTE_ADDR) + ((va >> 12) & 511) * 8);
	if (!(e & 1))
		return ~0ull;
	*size = 4096;
	return (e & PTE_ADDR) | (va & 0xFFF);
}

/* Whether virtual page p lies in one of the image's PT_LOADs: text+data
 * from _image_start to _bss_end, and the .bss-only one (big_bss). */
static int in_image(u64 p)
{
#if defined(ELF64_HIGH)
	return (p >= (uptr)_image_start && p < align_up((uptr)_bss_end, PAGE)) ||
	       (p >= (uptr)big_bss && p < (uptr)_end);
#else
	(void)p;
	return 0;
#endif
}

/* The page tables: identity 2 MiB pages over [0, 4 GiB) except where the
 * image is linked away from its load address; there, the image's pages go
 * to their physical frames (4 KiB pages in a region shared with the
 * identity map, 2 MiB where a whole region is the image's) and the rest of
 * a split region stays identity. */
static void check_page_tables(void)
{
	const u64 kv_lo = (uptr)_image_start, kv_hi = align_up((uptr)_end, PAGE);
	u64 bad = 0, split = 0, size;
	for (u64 va = 0; va < (4ull << 30); va += 2ull << 20) {
		int mine = VM_SHIFT && va + (2ull << 20) > kv_lo && va < kv_hi;
		u64 pa = walk(va, &size);
		if (!mine) {
			bad += pa != va || size != (2ull << 20);
			continue;
		}
		if (size == (2ull << 20)) {
			bad += !in_image(va) || !in_image(va + size - PAGE) || pa != va - VM_SHIFT;
			continue;
		}
		split++;
		for (u64 p = va; p < va + (2ull << 20); p += PAGE) {
			u64 want = in_image(p) ? p - VM_SHIFT : p;
			bad += walk(p, &size) != want || size != PAGE;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(split, VM_SHIFT ? 1 : 0); /* only [1 GiB, 1 GiB + 2 MiB) is shared */
}

/* The elf64/osv entry state (nobios's cpu_setup_long_elf64), exactly. */
static void check_elf64_entry(u16 cs, u32 car, uptr cr0, u64 efer)
{
	u32 a, b, c, d;
	CHECK_EQ(cs, 0x08);                 /* bhyveosvload's 64-bit code selector */
	CHECK(AR_L(car) && !AR_DB(car));
	CHECK_EQ(entry_sel[6], 0x20);       /* TR: the TSS after the three segments */
	struct __attribute__((packed)) { u16 limit; uptr base; } g;
	__asm__ volatile("sgdt %0" : "=m"(g));
	CHECK_EQ(g.base, 0x500);
	CHECK_EQ(g.limit, 0x2F);
	CHECK_EQ(rd64(g.base + 0x08), 0x00AF9B000000FFFFull); /* 64-bit code */
	CHECK_EQ(rd64(g.base + 0x10), 0x00CF93000000FFFFull); /* data */
	CHECK_EQ(rd64(g.base + 0x18), 0x00CF9B000000FFFFull); /* 32-bit code */
	/* CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|PGE|OSFXSR|OSXMMEXCPT */
	CHECK_EQ(cr0, 0x80010033u);
	CHECK_EQ(read_cr4(), 0x6A0);
	/* EFER = LME|LMA, and NXE exactly where CPUID says NX exists */
	cpuid(0x80000001, &a, &b, &c, &d);
	CHECK_EQ(efer, 0x500 | ((d >> 20) & 1 ? 0x800 : 0));
	puts_(NAME ": EFER ");
	puthex(efer);
	/* XCR0 = x87|SSE where XSAVE exists; XGETBV needs CR4.OSXSAVE, which
	 * the entry leaves to the kernel: set it for the read only. */
	cpuid(1, &a, &b, &c, &d);
	if (c & (1u << 26)) {
		uptr cr4 = read_cr4();
		u32 lo, hi;
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 18)));
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
		CHECK_EQ((u64)hi << 32 | lo, 3);
		puts_(", XCR0 ");
		puthex((u64)hi << 32 | lo);
	}
	puts_("\n");
	CHECK_EQ(entry_regs[0], 0x2BADB002);
	CHECK_EQ(entry_regs[1], 0x1000);    /* RBX: mbi at LAYOUT_MBI */
	CHECK_EQ(entry_regs[7], 0x9000);    /* RSP: LAYOUT_STACK_TOP */
	/* RBP: the ELF header's physical address when a PT_LOAD holds it
	 * (link-high.ld loads the headers, link.ld does not) */
#if defined(ELF64_HIGH)
	CHECK_EQ(entry_regs[6], PHYS(_image_start));
	CHECK_EQ(rd32(entry_regs[6]), 0x464C457F);                /* "\x7fELF" */
	CHECK_EQ(rd32(entry_regs[6] + VM_SHIFT), 0x464C457F);     /* and virtually */
#else
	CHECK_EQ(entry_regs[6], 0);
#endif
	/* what start64 read through virtual addresses, and SSE on it */
	CHECK_EQ(entry_bss_seen, 0);
	CHECK_EQ(entry_data_seen, 0x3FF0000000000000ull);   /* 1.0 */
	CHECK_EQ(entry_sse_seen, 0x4000000000000000ull);    /* 1.0 + 1.0 */
	/* virtual and physical name the same bytes (volatile: the compiler
	 * cannot know the two addresses alias) */
	*(volatile u64 *)&entry_bss_zero = 0x1122334455667788ull;
	CHECK_EQ(rd64(PHYS(&entry_bss_zero)), 0x1122334455667788ull);
	CHECK_EQ(rd64(PHYS(&entry_data_one)), 0x3FF0000000000000ull);
#if defined(ELF64_HIGH)
	CHECK_EQ(rd8((uptr)&big_bss[0x123456]), 0);
	*(volatile u8 *)&big_bss[0x123456] = 0x5A;
	CHECK_EQ(rd8(PHYS(&big_bss[0x123456])), 0x5A);
#endif
	check_page_tables();
}
#endif

/* A20 enabled: 1 MiB + x does not alias x. */
static void check_a20(void)
{
	volatile u32 *lo = (volatile u32 *)(uptr)0x9FB00;
	volatile u32 *hi = (volatile u32 *)(uptr)0x19FB00;
	*lo = 0x11223344;
	*hi = 0x55667788;
	CHECK_EQ(*lo, 0x11223344);
}

void probe_main(void);
void probe_main(void)
{
	puts_(NAME ": entered\n");
	u16 cs = entry_sel[0];
	u32 flags = (u32)entry_regs[8];
	CHECK_EQ(flags & (1u << 9), 0);  /* IF */
	CHECK_EQ(flags & (1u << 8), 0);  /* TF */
	CHECK_EQ(flags & (1u << 17), 0); /* VM */
	for (int i = 1; i <= 5; i++) {
		u16 s = entry_sel[i];
		u32 ar = seg_access(s);
#if defined(PROTO_ELF64)
		CHECK_EQ(s, 0x10); /* bhyveosvload's data selector */
#else
		CHECK_EQ(s, 0x18); /* BOOT_GDT_DS */
#endif
		CHECK(AR_P(ar) && AR_S(ar) && !(AR_TYPE(ar) & 8) && (AR_TYPE(ar) & 2));
#if !defined(PROTO_ELF64)
		CHECK_EQ(seg_limit(s), 0xFFFFFFFF);
		CHECK(AR_DB(ar) && AR_G(ar));
#endif
	}
	u32 car = seg_access(cs);
	CHECK(AR_P(car) && AR_S(car) && (AR_TYPE(car) & 8));
	u64 efer = rdmsr(0xC0000080);
	uptr cr0 = read_cr0();
	check_a20();
#if defined(PROTO_ELF64)
	check_elf64_entry(cs, car, cr0, efer);
	check_mbi1(entry_regs[1]);
#else
	CHECK_EQ(cs, 0x08);                 /* BOOT_GDT_CS32 */
	CHECK_EQ(seg_limit(cs), 0xFFFFFFFF);
	CHECK(AR_DB(car) && AR_G(car) && !AR_L(car));
	CHECK_EQ(cr0 & 0x80000001u, 1);     /* PE, no PG */
	CHECK_EQ(efer & 0x500, 0);
#if defined(PROTO_PVH)
	CHECK_EQ(read_cr4(), 0);            /* PVH: CR4 = 0 */
	CHECK(entry_sel[6] != 0);           /* TR: a valid 32-bit TSS */
	CHECK_EQ(seg_limit(entry_sel[6]), 0x67);
	CHECK_EQ(entry_regs[1], 0x6000);    /* EBX: LAYOUT_PVH_START_INFO */
	check_start_info(entry_regs[1]);
#elif defined(PROTO_MB2)
	CHECK_EQ(entry_regs[0], 0x36D76289);
	CHECK_EQ(entry_regs[1], 0x1000);
	check_mbi2(entry_regs[1]);
#else
	CHECK_EQ(entry_regs[0], 0x2BADB002);
	CHECK_EQ(entry_regs[1], 0x1000);
	check_mbi1(entry_regs[1]);
#endif
#endif
	probe_finish(NAME);
}
