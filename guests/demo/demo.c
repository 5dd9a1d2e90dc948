/* demo.c - nobios's demo kernel: prints the boot information it received
 * through the Linux 64-bit boot protocol, then asks for a reset (i8042
 * 0xFE), which nobios turns into exit status 0. */
#include "probe.h"

/* Offsets in struct boot_params (Documentation/arch/x86/zero-page.rst). */
#define ZP_E820_ENTRIES 0x1E8
#define ZP_HDR_VERSION 0x206
#define ZP_TYPE_OF_LOADER 0x210
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21C
#define ZP_CMD_LINE_PTR 0x228
#define ZP_E820_TABLE 0x2D0

struct e820 {
	u64 addr, size;
	u32 type;
} __attribute__((packed));

static u64 rd(const u8 *zp, int off, int size)
{
	u64 v = 0;
	for (int i = 0; i < size; i++)
		v |= (u64)zp[off + i] << (8 * i);
	return v;
}

static const char *type_name(u32 t)
{
	switch (t) {
	case 1: return "usable";
	case 2: return "reserved";
	case 3: return "ACPI data";
	case 4: return "ACPI NVS";
	default: return "other";
	}
}

void demo_main(const u8 *zp);
void demo_main(const u8 *zp)
{
	u64 cr0, cr4, efer_lo, efer_hi;
	u16 cs;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("rdmsr" : "=a"(efer_lo), "=d"(efer_hi) : "c"(0xC0000080));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));

	puts_("\nHello from the nobios demo kernel: no BIOS ran before me.\n");
	puts_("  entered in 64-bit mode: CS="); puthex(cs);
	puts_(" CR0="); puthex(cr0); puts_(" CR4="); puthex(cr4);
	puts_(" EFER="); puthex(efer_lo | efer_hi << 32); puts_("\n");
	puts_("  zero page at "); puthex((u64)zp);
	puts_(", boot protocol "); puthex(rd(zp, ZP_HDR_VERSION, 2));
	puts_(", type_of_loader "); puthex(rd(zp, ZP_TYPE_OF_LOADER, 1)); puts_("\n");
	const char *cmd = (const char *)rd(zp, ZP_CMD_LINE_PTR, 4);
	puts_("  command line: \"");
	puts_(cmd ? cmd : "");
	puts_("\"\n");
	u64 rd_img = rd(zp, ZP_RAMDISK_IMAGE, 4), rd_size = rd(zp, ZP_RAMDISK_SIZE, 4);
	if (rd_size) {
		puts_("  initrd: "); putdec(rd_size); puts_(" bytes at "); puthex(rd_img); puts_("\n");
	} else {
		puts_("  initrd: none\n");
	}
	u64 n = rd(zp, ZP_E820_ENTRIES, 1), total = 0;
	const struct e820 *e = (const struct e820 *)(zp + ZP_E820_TABLE);
	puts_("  memory map (E820), "); putdec(n); puts_(" entries:\n");
	for (u64 i = 0; i < n && i < 128; i++) {
		puts_("    [mem "); puthex(e[i].addr); puts_("-"); puthex(e[i].addr + e[i].size - 1);
		puts_("] "); puts_(type_name(e[i].type)); puts_("\n");
		if (e[i].type == 1)
			total += e[i].size;
	}
	puts_("  usable RAM: "); putdec(total >> 10); puts_(" KiB\n");
	puts_("Demo done: asking for a reset through the keyboard controller.\n");
	while (inb(0x64) & 0x02)
		;
	outb(0x64, 0xFE);
	for (;;)
		__asm__ volatile("cli; hlt");
}
