/* probe.c - the Linux boot-protocol probe: checks the entry state nobios
 * gave it (64-bit or 32-bit protocol, see entry.S) and the zero page,
 * against boot.rst and nobios's memory map for -m 256M, then exits through
 * the debug-exit port (status 1 when everything holds).
 *
 * tests/boot/linux.sh runs it with PROBE_CMDLINE and the initrd built by
 * tests/guests/linux.mk (PROBE_INITRD_SIZE bytes, byte i = (i * 7 + 3) & 0xFF). */
#include "probe.h"

#ifndef PROBE_CMDLINE
#error PROBE_CMDLINE must be defined by the build
#endif
#define PROBE_INITRD_SIZE 12345
#define RAM_TOP 0x10000000ULL /* -m 256M */
#define LOAD_ADDR 0x100000ULL
#define INIT_SIZE 0x100000ULL /* setup.asm */
#define ZERO_PAGE 0x7000ULL

extern u64 saved_rsi, saved_rbx, saved_rbp, saved_rdi, saved_rip, saved_rflags;
extern u64 saved_cr0, saved_cr4, saved_efer;
extern u32 entered_mode;
extern u16 saved_cs, saved_ds, saved_es, saved_ss;
extern char entry64[], entry32[];

static u8 rd8(u64 a) { return *(volatile u8 *)a; }
static u16 rd16(u64 a) { return *(volatile u16 *)a; }
static u32 rd32(u64 a) { return *(volatile u32 *)a; }
static u64 rd64(u64 a) { return *(volatile u64 *)a; }

static void check_e820(unsigned i, u64 addr, u64 size, u32 type)
{
	u64 e = ZERO_PAGE + 0x2D0 + 20 * i;
	CHECK_EQ(rd64(e), addr);
	CHECK_EQ(rd64(e + 8), size);
	CHECK_EQ(rd32(e + 16), type);
}

static void check_zero_page(int mode32)
{
	const u64 zp = ZERO_PAGE;
	/* the setup header copied from our file (setup.asm) */
	CHECK_EQ(rd16(zp + 0x1FE), 0xAA55);      /* boot_flag */
	CHECK_EQ(rd32(zp + 0x202), 0x53726448);  /* "HdrS" */
	CHECK_EQ(rd16(zp + 0x206), 0x020F);      /* version */
	CHECK_EQ(rd8(zp + 0x1F1), 1);            /* setup_sects */
	CHECK_EQ(rd16(zp + 0x200), 0x6AEB);      /* jump */
	CHECK_EQ(rd32(zp + 0x22C), 0x7FFFFFFF);  /* initrd_addr_max */
	CHECK_EQ(rd32(zp + 0x230), 0x200000);    /* kernel_alignment */
	CHECK_EQ(rd16(zp + 0x236), 0x1);         /* xloadflags: XLF_KERNEL_64 */
	CHECK_EQ(rd32(zp + 0x238), 2047);        /* cmdline_size */
	CHECK_EQ(rd64(zp + 0x258), LOAD_ADDR);   /* pref_address */
	CHECK_EQ(rd32(zp + 0x260), INIT_SIZE);   /* init_size */
	/* a fresh page: our boot sector's 0x5A filler was not copied */
	for (u64 i = 0; i < 0x40; i++)
		CHECK_EQ(rd8(zp + i), 0);
	CHECK_EQ(rd8(zp + 0x1EF), 0);            /* sentinel */
	/* the loader's fields */
	CHECK_EQ(rd8(zp + 0x210), 0xFF);         /* type_of_loader */
	CHECK_EQ(rd8(zp + 0x211) & 0x81, 0x81);  /* LOADED_HIGH | CAN_USE_HEAP */
	if (mode32)
		CHECK_EQ(rd32(zp + 0x214), LOAD_ADDR); /* code32_start */
	/* E820: nobios's map for 256 MiB */
	CHECK_EQ(rd8(zp + 0x1E8), 4);
	check_e820(0, 0, 0x9FC00, 1);
	check_e820(1, 0x9FC00, 0x400, 2);
	check_e820(2, 0xE0000, 0x20000, 2); /* ACPI/MP tables, pseudo-BIOS */
	check_e820(3, 0x100000, RAM_TOP - 0x100000, 1);
	/* the command line, exactly */
	u64 cmd = rd32(zp + 0x228) | (u64)rd32(zp + 0x0C8) << 32;
	CHECK(cmd >= 0x500 && cmd < RAM_TOP);
	if (cmd >= 0x500 && cmd < RAM_TOP) {
		CHECK(str_eq((const char *)cmd, PROBE_CMDLINE));
		CHECK_EQ(str_len((const char *)cmd), sizeof(PROBE_CMDLINE) - 1);
	}
	/* the initrd: page-aligned, in RAM, the highest place, our bytes */
	u64 rd = rd32(zp + 0x218) | (u64)rd32(zp + 0x0C0) << 32;
	u64 rs = rd32(zp + 0x21C) | (u64)rd32(zp + 0x0C4) << 32;
	CHECK_EQ(rs, PROBE_INITRD_SIZE);
	CHECK_EQ(rd & 0xFFF, 0);
	CHECK(rd >= LOAD_ADDR + INIT_SIZE);
	CHECK(rd + rs <= RAM_TOP);
	CHECK_EQ(rd, (RAM_TOP - PROBE_INITRD_SIZE) & ~0xFFFULL);
	if (rs == PROBE_INITRD_SIZE && rd >= LOAD_ADDR + INIT_SIZE && rd + rs <= RAM_TOP) {
		u64 bad = 0;
		for (u64 i = 0; i < rs; i++)
			if (rd8(rd + i) != (u8)(i * 7 + 3))
				bad++;
		CHECK_EQ(bad, 0);
	}
}

void probe_main(void);
void probe_main(void)
{
	int mode32 = entered_mode == 32;
	puts_(mode32 ? "linux32 probe: entered by the 32-bit boot protocol\n"
		     : "linux64 probe: entered by the 64-bit boot protocol\n");
	u64 mask = mode32 ? 0xFFFFFFFFULL : ~0ULL;
	CHECK(entered_mode == 32 || entered_mode == 64);
	CHECK_EQ(saved_cs, 0x10);   /* __BOOT_CS */
	CHECK_EQ(saved_ds, 0x18);   /* __BOOT_DS */
	CHECK_EQ(saved_es, 0x18);
	CHECK_EQ(saved_ss, 0x18);
	CHECK_EQ(saved_rsi & mask, ZERO_PAGE);
	CHECK_EQ(saved_rflags & mask & (1 << 9), 0); /* IF = 0 */
	CHECK(saved_cr0 & 1);                         /* PE */
	if (mode32) {
		CHECK_EQ(saved_rip & mask, LOAD_ADDR);     /* code32_start */
		CHECK_EQ((u64)entry32, LOAD_ADDR);
		CHECK_EQ(saved_cr0 & (1ULL << 31), 0);     /* paging off */
		CHECK_EQ(saved_efer & (1 << 10), 0);       /* not LMA */
		CHECK_EQ(saved_rbx & mask, 0);             /* boot.rst: EBX, EBP, EDI zero */
		CHECK_EQ(saved_rbp & mask, 0);
		CHECK_EQ(saved_rdi & mask, 0);
	} else {
		CHECK_EQ(saved_rip, LOAD_ADDR + 0x200);    /* load address + 0x200 */
		CHECK_EQ((u64)entry64, LOAD_ADDR + 0x200);
		CHECK(saved_cr0 & (1ULL << 31));           /* PG */
		CHECK(saved_cr4 & (1 << 5));               /* PAE */
		CHECK(saved_efer & (1 << 10));             /* LMA */
		CHECK(saved_efer & (1 << 8));              /* LME */
	}
	check_zero_page(mode32);
	probe_finish(mode32 ? "linux32" : "linux64");
}
