/* test_bios_services.c - src/bios/: disk geometry, INT 13h CHS and EDD (DAP)
 * transfers, INT 15h E820/87h/A20, INT 16h keys, INT 10h text, the INT frame's
 * flags, and bad guest pointers, on a fake real-mode cpu_state and a plain
 * guest-memory buffer (no KVM). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/bios.h"
#include "mem/layout.h"
#include "util/err.h"

#define RAM (16u << 20)
#define DISK (8u << 20)
#define MARK 0x5EC70000u
#define FRAME 0x7000u /* SS:SP of the fake INT frame */

struct fx {
	struct guest_mem mem;
	uint8_t *ram, *disk;
	struct bios b;
	struct cpu_state s;
};

static void mark_disk(uint8_t *disk, uint64_t size)
{
	for (uint64_t lba = 0; lba < size / 512; lba++) {
		uint32_t m = MARK + (uint32_t)lba;
		memcpy(disk + lba * 512, &m, 4);
		memset(disk + lba * 512 + 4, (int)(lba & 0xFF), 508);
	}
}

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->ram = calloc(1, RAM);
	f->disk = calloc(1, DISK);
	assert_int_equal(mem_init_buf(&f->mem, f->ram, RAM), 0);
	mark_disk(f->disk, DISK);
	bios_init(&f->b, &f->mem);
	bios_disk_init_buf(&f->b.hd, f->disk, DISK, false, false);
	assert_int_equal(bios_disk_geometry(&f->b.hd), 0);
	assert_int_equal(bios_install(&f->b), 0);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	f->b.hd.present = false; /* the buffer is ours, not a mapping */
	bios_fini(&f->b);
	free(f->disk);
	free(f->ram);
	free(f);
	return 0;
}

static void seg(struct cpu_segment *s, uint16_t sel)
{
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
}

/* Fresh real-mode registers with an INT frame (IP, CS, FLAGS=IF|CF) at
 * 0000:FRAME, as the stub sees it. */
static struct cpu_state *regs(struct fx *f, uint16_t ax)
{
	cpu_setup_real(&f->s, 0, 0x7C00);
	seg(&f->s.ss, 0);
	f->s.gpr[CPU_RSP] = FRAME;
	f->s.gpr[CPU_RAX] = ax;
	mem_write16(&f->mem, FRAME, 0x7C10);
	mem_write16(&f->mem, FRAME + 2, 0x0000);
	mem_write16(&f->mem, FRAME + 4, 0x0203); /* IF, bit 1, CF */
	return &f->s;
}

static bool cf(struct fx *f) { return f->s.rflags & X86_RFLAGS_CF; }
static uint8_t ah(struct fx *f) { return (uint8_t)(f->s.gpr[CPU_RAX] >> 8); }
static uint16_t frame_flags(struct fx *f)
{
	uint16_t v = 0;
	mem_read16(&f->mem, FRAME + 4, &v);
	return v;
}
static uint32_t rd32(struct fx *f, uint64_t gpa)
{
	uint32_t v = 0;
	assert_int_equal(mem_read32(&f->mem, gpa, &v), 0);
	return v;
}

/* ---- geometry */
static void test_geometry(void **st)
{
	static uint8_t buf[2880 * 512];
	struct bios_disk d;
	bios_disk_init_buf(&d, buf, sizeof(buf), false, true);
	assert_int_equal(bios_disk_geometry(&d), 0);
	assert_int_equal(d.cyls, 80);
	assert_int_equal(d.heads, 2);
	assert_int_equal(d.spt, 18);
	assert_int_equal(d.type, 4);
	bios_disk_init_buf(&d, buf, 1000 * 512, false, true);
	assert_int_equal(bios_disk_geometry(&d), -1); /* not a diskette size */

	/* hard disk without a partition table: 16 heads, 63 sectors */
	struct fx *f = *st;
	assert_int_equal(f->b.hd.heads, 16);
	assert_int_equal(f->b.hd.spt, 63);
	assert_int_equal(f->b.hd.cyls, 16); /* 16384 / 1008 */

	/* the MBR's partition ends decide (syslinux image: 48 heads, 44 sectors) */
	uint8_t *mbr = calloc(1, DISK);
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
	uint8_t part[16] = { 0x80, 0x20, 0x21, 0x00, 0x06, 0x2F, 0x2C, 0x03 };
	memcpy(mbr + 446, part, 16);
	bios_disk_init_buf(&d, mbr, DISK, false, false);
	assert_int_equal(bios_disk_geometry(&d), 0);
	assert_int_equal(d.heads, 48);
	assert_int_equal(d.spt, 44);
	assert_int_equal(d.cyls, 16384 / (48 * 44));
	/* inconsistent entries: back to the size rule */
	uint8_t part2[16] = { 0x00, 0, 0, 0, 0x83, 0x0F, 0x3F, 0x00 };
	memcpy(mbr + 462, part2, 16);
	assert_int_equal(bios_disk_geometry(&d), 0);
	assert_int_equal(d.heads, 16);
	free(mbr);

	/* 2 GiB: LBA-assist translation, 1024 cylinders at most */
	bios_disk_init_buf(&d, buf, sizeof(buf), false, false);
	d.size = 2ull << 30; /* geometry reads only sector 0 of the image */
	assert_int_equal(bios_disk_geometry(&d), 0);
	assert_int_equal(d.heads, 128);
	assert_true(d.cyls <= 1024);
	bios_disk_close(&d);
}

/* ---- INT 13h CHS */
static void test_chs_read(void **st)
{
	struct fx *f = *st;
	/* LBA 64 = C/H/S 0/1/2 */
	struct cpu_state *s = regs(f, 0x0202);
	s->gpr[CPU_RCX] = 0x0002;
	s->gpr[CPU_RDX] = 0x0180;
	seg(&s->es, 0x3000);
	s->gpr[CPU_RBX] = 0x0010;
	assert_int_equal(bios_call(&f->b, 0x13, s), 0);
	assert_false(cf(f));
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x0002);
	assert_int_equal(rd32(f, 0x30010), MARK + 64);
	assert_int_equal(rd32(f, 0x30010 + 512), MARK + 65);
	assert_int_equal(frame_flags(f) & 1, 0); /* CF cleared in the INT frame */
	assert_int_equal(frame_flags(f) & 0x200, 0x200); /* IF kept */

	/* cylinder 16 does not exist */
	s = regs(f, 0x0201);
	s->gpr[CPU_RCX] = 0x1001;
	s->gpr[CPU_RDX] = 0x0080;
	bios_call(&f->b, 0x13, s);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_NOT_FOUND);
	assert_int_equal(frame_flags(f) & 1, 1);
	/* AH=01h reports it */
	s = regs(f, 0x0100);
	s->gpr[CPU_RDX] = 0x80;
	bios_call(&f->b, 0x13, s);
	assert_int_equal(ah(f), BIOS_DISK_NOT_FOUND);

	/* AH=08h */
	s = regs(f, 0x0800);
	s->gpr[CPU_RDX] = 0x80;
	bios_call(&f->b, 0x13, s);
	assert_false(cf(f));
	assert_int_equal(s->gpr[CPU_RCX] & 0xFFFF, (15 << 8) | 63);
	assert_int_equal(s->gpr[CPU_RDX] & 0xFFFF, (15 << 8) | 1);

	/* no drive 81h; no floppy */
	s = regs(f, 0x0800);
	s->gpr[CPU_RDX] = 0x81;
	bios_call(&f->b, 0x13, s);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_BAD_PARAM);
	s = regs(f, 0x0201);
	s->gpr[CPU_RCX] = 1;
	s->gpr[CPU_RDX] = 0x00;
	bios_call(&f->b, 0x13, s);
	assert_true(cf(f));
}

/* ---- INT 13h EDD */
static void put_dap(struct fx *f, uint64_t at, uint8_t size, uint16_t count, uint32_t segoff,
		    uint64_t lba, uint64_t flat)
{
	uint8_t d[24] = { size, 0 };
	memcpy(d + 2, &count, 2);
	memcpy(d + 4, &segoff, 4);
	memcpy(d + 8, &lba, 8);
	memcpy(d + 16, &flat, 8);
	mem_copy_in(&f->mem, at, d, sizeof(d));
}

static struct cpu_state *ext(struct fx *f, uint16_t ax, uint64_t dap)
{
	struct cpu_state *s = regs(f, ax);
	uint16_t ds = dap > 0xFFFFF ? 0xFFFF : (uint16_t)(dap >> 4);
	seg(&s->ds, ds);
	s->gpr[CPU_RSI] = dap - ((uint64_t)ds << 4);
	s->gpr[CPU_RDX] = 0x80;
	bios_call(&f->b, 0x13, s);
	return s;
}

static void test_dap(void **st)
{
	struct fx *f = *st;
	uint16_t n;
	/* 16-byte DAP, seg:off buffer 3000:0020 */
	put_dap(f, 0x8000, 0x10, 3, 0x30000020, 100, 0);
	ext(f, 0x4200, 0x8000);
	assert_false(cf(f));
	assert_int_equal(rd32(f, 0x30020), MARK + 100);
	assert_int_equal(rd32(f, 0x30020 + 1024), MARK + 102);
	mem_read16(&f->mem, 0x8002, &n);
	assert_int_equal(n, 3);

	/* 24-byte DAP with FFFF:FFFF: the 64-bit flat address, here above 1 MiB */
	put_dap(f, 0x8000, 0x18, 1, 0xFFFFFFFF, 70, 0x200000);
	ext(f, 0x4200, 0x8000);
	assert_false(cf(f));
	assert_int_equal(rd32(f, 0x200000), MARK + 70);

	/* flat buffer beyond guest RAM: AH=01h, nothing transferred */
	put_dap(f, 0x8000, 0x18, 1, 0xFFFFFFFF, 70, RAM - 256);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_BAD_PARAM);
	mem_read16(&f->mem, 0x8002, &n);
	assert_int_equal(n, 0);
	put_dap(f, 0x8000, 0x18, 1, 0xFFFFFFFF, 70, 0xFFFFFFFFFFFFFE00ull);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));

	/* a read over the firmware is refused */
	put_dap(f, 0x8000, 0x10, 1, 0xF0000000, 1, 0);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_BAD_PARAM);
	assert_memory_equal(f->ram + LAYOUT_BIOS, bios_image, 16);

	/* more than 127 blocks, past the end, DAP too short */
	put_dap(f, 0x8000, 0x10, 128, 0x30000000, 0, 0);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	put_dap(f, 0x8000, 0x10, 2, 0x30000000, DISK / 512 - 1, 0);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_NOT_FOUND);
	put_dap(f, 0x8000, 0x0C, 1, 0x30000000, 0, 0);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	/* a DAP pointer at the very top of real-mode reach still inside RAM is
	 * read; one outside RAM would be refused by mem.h */
	put_dap(f, 0x10FFE0, 0x10, 1, 0x30000000, 5, 0);
	ext(f, 0x4200, 0x10FFE0);
	assert_false(cf(f));

	/* write refused on a read-only disk, accepted on a writable one */
	put_dap(f, 0x8000, 0x10, 1, 0x30000000, 200, 0);
	memset(f->ram + 0x30000, 0xAB, 512);
	ext(f, 0x4300, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_WRITE_PROTECT);
	assert_int_equal(f->disk[200 * 512 + 8], 200);
	f->b.hd.writable = true;
	put_dap(f, 0x8000, 0x10, 1, 0x30000000, 200, 0); /* the failure zeroed the count */
	ext(f, 0x4300, 0x8000);
	assert_false(cf(f));
	assert_int_equal(f->disk[200 * 512 + 8], 0xAB);

	/* AH=41h and AH=48h */
	struct cpu_state *s = regs(f, 0x4100);
	s->gpr[CPU_RBX] = 0x55AA;
	s->gpr[CPU_RDX] = 0x80;
	bios_call(&f->b, 0x13, s);
	assert_false(cf(f));
	assert_int_equal(s->gpr[CPU_RBX] & 0xFFFF, 0xAA55);
	assert_int_equal(s->gpr[CPU_RCX] & 1, 1);
	mem_write16(&f->mem, 0x8100, 0x1E);
	ext(f, 0x4800, 0x8100);
	assert_false(cf(f));
	uint64_t total;
	mem_read64(&f->mem, 0x8110, &total);
	assert_int_equal(total, DISK / 512);
	mem_write16(&f->mem, 0x8100, 0x10); /* buffer too small */
	ext(f, 0x4800, 0x8100);
	assert_true(cf(f));
}

/* AH=48h in each size the caller's buffer asks for: EDD 1.1 (1Ah), 2.0
 * (1Eh, DPTE FFFF:FFFF), Phoenix EDD 3.0 (42h) and T13 EDD-3 (4Ah) with the
 * device path information (key BEDDh, its length, "ISA", "ATA", base 1F0h,
 * master) summing to zero; never more than the buffer; bounds checked. */
static void test_edd30(void **st)
{
	struct fx *f = *st;
	static const struct { uint16_t ask, got; uint8_t dpi; } sizes[] = {
		{ 0x1A, 0x1A, 0 }, { 0x1D, 0x1A, 0 }, { 0x1E, 0x1E, 0 }, { 0x41, 0x1E, 0 },
		{ 0x42, 0x42, 36 }, { 0x49, 0x42, 36 }, { 0x4A, 0x4A, 44 }, { 0xFFFF, 0x4A, 44 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(f->ram + 0x8100, 0xCC, 0x100);
		mem_write16(&f->mem, 0x8100, sizes[i].ask);
		ext(f, 0x4800, 0x8100);
		assert_false(cf(f));
		const uint8_t *p = f->ram + 0x8100;
		assert_int_equal(p[0] | p[1] << 8, sizes[i].got);
		assert_int_equal(p[sizes[i].got], 0xCC); /* nothing past the result */
		assert_int_equal(p[2] & 2, 2);           /* CHS valid */
		assert_int_equal(rd32(f, 0x8100 + 4), f->b.hd.cyls);
		assert_int_equal(rd32(f, 0x8100 + 8), f->b.hd.heads);
		assert_int_equal(rd32(f, 0x8100 + 12), f->b.hd.spt);
		assert_int_equal(rd32(f, 0x8100 + 16), DISK / 512);
		assert_int_equal(p[0x18] | p[0x19] << 8, 512);
		if (sizes[i].got >= 0x1E)
			assert_int_equal(rd32(f, 0x8100 + 0x1A), 0xFFFFFFFF);
		if (!sizes[i].dpi)
			continue;
		assert_int_equal(p[0x1E] | p[0x1F] << 8, 0xBEDD);
		assert_int_equal(p[0x20], sizes[i].dpi);
		assert_int_equal(p[0x21] | p[0x22] | p[0x23], 0);
		assert_memory_equal(p + 0x24, "ISA ", 4);
		assert_memory_equal(p + 0x28, "ATA     ", 8);
		assert_int_equal(p[0x30] | p[0x31] << 8, 0x1F0);
		for (unsigned o = 0x32; o < 0x38; o++)
			assert_int_equal(p[o], 0);
		for (unsigned o = 0x38; o < 0x1Eu + sizes[i].dpi - 1; o++)
			assert_int_equal(p[o], 0); /* ATA master; reserved bytes */
		uint8_t sum = 0;
		for (unsigned o = 0x1E; o < 0x1Eu + sizes[i].dpi; o++)
			sum = (uint8_t)(sum + p[o]);
		assert_int_equal(sum, 0);
	}
	/* the diskette has no device path */
	uint8_t out[0x4A];
	struct bios_disk fd = f->b.hd;
	fd.floppy = true;
	assert_int_equal(bios_edd_params(&fd, 0x4A, out, sizeof(out)), 0x1E);
	assert_int_equal(bios_edd_params(&f->b.hd, 0x4A, out, 0x49), 0); /* cap checked */
	assert_int_equal(bios_edd_params(&f->b.hd, 0x19, out, sizeof(out)), 0);
	/* a buffer that ends past RAM (a guest whose RAM ends within real-mode
	 * reach), or over the firmware, is refused whole */
	const uint64_t top = 0x10FFF0;
	assert_int_equal(mem_init_buf(&f->mem, f->ram, top), 0);
	mem_write16(&f->mem, top - 0x40, 0x4A);
	ext(f, 0x4800, top - 0x40);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_BAD_PARAM);
	assert_int_equal(f->ram[top - 0x40 + 2], 0);
	ext(f, 0x4800, top - 1); /* the size word itself out of RAM */
	assert_true(cf(f));
	assert_int_equal(mem_init_buf(&f->mem, f->ram, RAM), 0);
	mem_write16(&f->mem, LAYOUT_BIOS - 0x20, 0x4A);
	ext(f, 0x4800, LAYOUT_BIOS - 0x20);
	assert_true(cf(f));
	assert_memory_equal(f->ram + LAYOUT_BIOS, bios_image, 16);
}

/* ---- INT 15h */
static void test_e820(void **st)
{
	struct fx *f = *st;
	uint32_t ebx = 0;
	unsigned n = 0;
	bool seen_high = false;
	do {
		struct cpu_state *s = regs(f, 0);
		s->gpr[CPU_RAX] = 0xE820;
		s->gpr[CPU_RBX] = ebx;
		s->gpr[CPU_RCX] = 20;
		s->gpr[CPU_RDX] = 0x534D4150;
		seg(&s->es, 0x3000);
		s->gpr[CPU_RDI] = 0;
		mem_write32(&f->mem, 0x30014, 0xDEADBEEF);
		bios_call(&f->b, 0x15, s);
		assert_false(cf(f));
		assert_int_equal((uint32_t)s->gpr[CPU_RAX], 0x534D4150);
		assert_int_equal((uint32_t)s->gpr[CPU_RCX], 20);
		assert_int_equal(rd32(f, 0x30014), 0xDEADBEEF); /* 20 bytes only */
		uint64_t base, len;
		mem_read64(&f->mem, 0x30000, &base);
		mem_read64(&f->mem, 0x30008, &len);
		assert_int_equal(base, f->b.e820.e[n].addr);
		assert_int_equal(len, f->b.e820.e[n].size);
		assert_int_equal(rd32(f, 0x30010), f->b.e820.e[n].type);
		if (base == LAYOUT_HIGH_MEM && rd32(f, 0x30010) == E820_TYPE_RAM)
			seen_high = len == RAM - LAYOUT_HIGH_MEM;
		ebx = (uint32_t)s->gpr[CPU_RBX];
		n++;
	} while (ebx && n < 64);
	assert_int_equal(n, f->b.e820.n);
	assert_true(n >= 4);
	assert_true(seen_high);

	/* bad signature, short buffer, index past the end, buffer in the BIOS */
	uint32_t bad[4][3] = { { 0, 20, 0x12345678 }, { 0, 8, 0x534D4150 },
			       { 99, 20, 0x534D4150 }, { 0, 20, 0x534D4150 } };
	for (int i = 0; i < 4; i++) {
		struct cpu_state *s = regs(f, 0);
		s->gpr[CPU_RAX] = 0xE820;
		s->gpr[CPU_RBX] = bad[i][0];
		s->gpr[CPU_RCX] = bad[i][1];
		s->gpr[CPU_RDX] = bad[i][2];
		seg(&s->es, i == 3 ? 0xF000 : 0x3000);
		bios_call(&f->b, 0x15, s);
		assert_true(cf(f));
	}
	assert_memory_equal(f->ram + LAYOUT_BIOS, bios_image, 16);

	/* E801: 15 MiB below 16 MiB, nothing above (16 MiB guest) */
	struct cpu_state *s = regs(f, 0xE801);
	bios_call(&f->b, 0x15, s);
	assert_false(cf(f));
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x3C00);
	assert_int_equal(s->gpr[CPU_RBX] & 0xFFFF, 0);
	s = regs(f, 0x8800);
	bios_call(&f->b, 0x15, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 15 * 1024);
}

static void test_a20_and_unsupported(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = regs(f, 0x2402);
	bios_call(&f->b, 0x15, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFF, 1);
	bios_call(&f->b, 0x15, regs(f, 0x2400));
	assert_false(cf(f));
	s = regs(f, 0x2402);
	bios_call(&f->b, 0x15, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x0000);
	bios_call(&f->b, 0x15, regs(f, 0x2401));
	s = regs(f, 0x2402);
	bios_call(&f->b, 0x15, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFF, 1);

	uint16_t calls[][2] = { { 0x15, 0x5300 }, { 0x15, 0x5301 }, { 0x15, 0x5308 },
				{ 0x15, 0xC200 }, { 0x13, 0x9900 }, { 0x14, 0x0000 },
				{ 0x10, 0x7700 } };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		s = regs(f, calls[i][1]);
		s->gpr[CPU_RDX] = 0x80;
		bios_call(&f->b, (uint8_t)calls[i][0], s);
		assert_true(cf(f));
		assert_int_equal(ah(f), 0x86);
		assert_int_equal(frame_flags(f) & 1, 1);
	}
	/* PCI BIOS: no PCI bus.  B101h fails without "PCI " in EDX, the
	 * searches find nothing, the rest is not supported. */
	s = regs(f, 0xB101);
	s->gpr[CPU_RDX] = 0x12345678;
	s->gpr[CPU_RDI] = 0x9ABC;
	bios_call(&f->b, 0x1A, s);
	assert_true(cf(f));
	assert_int_equal(ah(f), 0x81);
	assert_int_equal(frame_flags(f) & 1, 1);
	assert_int_equal(s->gpr[CPU_RDX], 0x12345678);
	assert_int_equal(s->gpr[CPU_RDI], 0x9ABC);
	for (uint16_t ax = 0xB102; ax <= 0xB103; ax++) {
		s = regs(f, ax);
		bios_call(&f->b, 0x1A, s);
		assert_true(cf(f));
		assert_int_equal(ah(f), 0x86);
	}
	s = regs(f, 0xB10A);
	bios_call(&f->b, 0x1A, s);
	assert_true(cf(f));
	assert_int_equal(ah(f), 0x81);
	/* VBE: AX=0100h (AL != 4Fh: not supported), the buffer untouched */
	for (uint16_t ax = 0x4F00; ax <= 0x4F15; ax++) {
		s = regs(f, ax);
		seg(&s->es, 0x3000);
		s->gpr[CPU_RDI] = 0;
		memset(f->ram + 0x30000, 0xEE, 512);
		bios_call(&f->b, 0x10, s);
		assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x0100);
		assert_int_equal(f->ram[0x30000], 0xEE);
		assert_int_equal(f->ram[0x301FF], 0xEE);
	}
	/* C0h points at the firmware's table */
	s = regs(f, 0xC000);
	bios_call(&f->b, 0x15, s);
	assert_false(cf(f));
	assert_int_equal(s->es.selector, BIOS_SEG);
	assert_int_equal(f->ram[LAYOUT_BIOS + (s->gpr[CPU_RBX] & 0xFFFF) + 2], 0xFC);
	/* INT 18h stops the VM with a message */
	bios_call(&f->b, 0x18, regs(f, 0));
	assert_true(f->b.stop);
	assert_non_null(strstr(f->b.stop_msg, "no bootable device"));
	/* protected mode is refused */
	s = regs(f, 0);
	s->cr0 |= X86_CR0_PE;
	assert_int_equal(bios_call(&f->b, 0x13, s), -1);
}

static void put_desc(struct fx *f, uint64_t at, uint16_t limit, uint32_t base)
{
	uint8_t d[8] = { (uint8_t)limit, (uint8_t)(limit >> 8), (uint8_t)base,
			 (uint8_t)(base >> 8), (uint8_t)(base >> 16), 0x93, 0,
			 (uint8_t)(base >> 24) };
	mem_copy_in(&f->mem, at, d, 8);
}

static void test_block_move(void **st)
{
	struct fx *f = *st;
	memset(f->ram + 0x300000, 0x5A, 1024);
	put_desc(f, 0x8010, 0xFFFF, 0x300000);
	put_desc(f, 0x8018, 0xFFFF, 0x40000);
	struct cpu_state *s = regs(f, 0x8700);
	seg(&s->es, 0x800);
	s->gpr[CPU_RSI] = 0;
	s->gpr[CPU_RCX] = 512; /* words */
	bios_call(&f->b, 0x15, s);
	assert_false(cf(f));
	assert_int_equal(f->ram[0x40000], 0x5A);
	assert_int_equal(f->ram[0x40000 + 1023], 0x5A);
	assert_int_equal(f->ram[0x40000 + 1024], 0);

	/* count beyond the descriptor's limit */
	put_desc(f, 0x8010, 0x00FF, 0x300000);
	s = regs(f, 0x8700);
	seg(&s->es, 0x800);
	s->gpr[CPU_RCX] = 512;
	bios_call(&f->b, 0x15, s);
	assert_true(cf(f));
	/* destination beyond RAM (32-bit base byte), destination over the BIOS */
	put_desc(f, 0x8010, 0xFFFF, 0x300000);
	put_desc(f, 0x8018, 0xFFFF, 0xFF000000);
	s = regs(f, 0x8700);
	seg(&s->es, 0x800);
	s->gpr[CPU_RCX] = 16;
	bios_call(&f->b, 0x15, s);
	assert_true(cf(f));
	put_desc(f, 0x8018, 0xFFFF, 0xFFF00);
	s = regs(f, 0x8700);
	seg(&s->es, 0x800);
	s->gpr[CPU_RCX] = 16;
	bios_call(&f->b, 0x15, s);
	assert_true(cf(f));
	assert_memory_equal(f->ram + 0xFFF00, bios_image + 0xFF00, 32);
}

/* ---- INT 16h, INT 10h, install */
static void test_keyboard(void **st)
{
	struct fx *f = *st;
	struct cpu_state *s = regs(f, 0x0100);
	bios_call(&f->b, 0x16, s);
	assert_true(s->rflags & X86_RFLAGS_ZF); /* nothing typed */
	bios_kbd_feed(&f->b, (const uint8_t *)"a\033[A\r", 5);
	s = regs(f, 0x0100);
	bios_call(&f->b, 0x16, s);
	assert_false(s->rflags & X86_RFLAGS_ZF);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x1E61);
	uint16_t want[] = { 0x1E61, 0x4800, 0x1C0D };
	for (int i = 0; i < 3; i++) {
		s = regs(f, 0x1000);
		bios_call(&f->b, 0x16, s);
		assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, want[i]);
	}
	s = regs(f, 0x1100);
	bios_call(&f->b, 0x16, s);
	assert_true(s->rflags & X86_RFLAGS_ZF);
}

static void test_video_text(void **st)
{
	struct fx *f = *st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	f->b.con_out = p[1];
	const char *msg = "hi\r\n";
	for (const char *c = msg; *c; c++)
		bios_call(&f->b, 0x10, regs(f, (uint16_t)(0x0E00 | (uint8_t)*c)));
	/* cursor moved to row 1, column 0 */
	struct cpu_state *s = regs(f, 0x0300);
	bios_call(&f->b, 0x10, s);
	assert_int_equal(s->gpr[CPU_RDX] & 0xFFFF, 0x0100);
	/* a guest that also writes COM1 after each character: INT 10h text dropped */
	bios_call(&f->b, 0x10, regs(f, 0x0E41));
	f->b.uart_tx++;
	bios_call(&f->b, 0x10, regs(f, 0x0E42));
	f->b.uart_tx++;
	bios_call(&f->b, 0x12, regs(f, 0)); /* any other call flushes */
	close(p[1]);
	char out[32] = "";
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	f->b.con_out = -1;
	assert_true(n >= 0);
	out[n < 0 ? 0 : n] = 0;
	assert_string_equal(out, "hi\r\n");
	/* AH=0Fh: mode 3, 80 columns */
	s = regs(f, 0x0F00);
	bios_call(&f->b, 0x10, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 0x5003);
}

/* iPXE colours a character with AH=09h (CX=1, cursor unmoved), then prints
 * it with AH=0Eh at the same cell: one character on the console (issue 13
 * item 2: its banner came out "iiPPXXEE"); an AH=09h not followed so stays. */
static void test_video_colour_then_teletype(void **st)
{
	struct fx *f = *st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	f->b.con_out = p[1];
	for (const char *c = "iPXE"; *c; c++) {
		struct cpu_state *s = regs(f, (uint16_t)(0x0900 | (uint8_t)*c));
		s->gpr[CPU_RBX] = 0x000F; /* page 0, bright white */
		s->gpr[CPU_RCX] = 1;
		bios_call(&f->b, 0x10, s);
		bios_call(&f->b, 0x10, regs(f, (uint16_t)(0x0E00 | (uint8_t)*c)));
	}
	/* syslinux's way: AH=09h, then the cursor moved with AH=02h */
	struct cpu_state *s = regs(f, 0x0921);
	s->gpr[CPU_RCX] = 1;
	bios_call(&f->b, 0x10, s);
	bios_call(&f->b, 0x12, regs(f, 0)); /* any other call flushes */
	close(p[1]);
	char out[32] = "";
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	f->b.con_out = -1;
	assert_true(n >= 0);
	out[n < 0 ? 0 : n] = 0;
	assert_string_equal(out, "iPXE!");
}

static void test_install(void **st)
{
	struct fx *f = *st;
	assert_memory_equal(f->ram + LAYOUT_BIOS, "NOBIOS1", 8);
	assert_int_equal(f->ram[LAYOUT_BIOS + 0xFFF0], 0xEA); /* reset vector: jmp far */
	assert_int_equal(rd32(f, 0x13 * 4), (0xF000u << 16) | (BIOS_OFF_STUBS + 0x13 * 4));
	/* the stub is "out BIOS_TRAP_PORT, al; iret" */
	const uint8_t *stub = f->ram + LAYOUT_BIOS + BIOS_OFF_STUBS + 0x13 * 4;
	assert_int_equal(stub[0], 0xE6);
	assert_int_equal(stub[1], BIOS_TRAP_PORT);
	assert_int_equal(stub[2], 0xCF);
	uint16_t v;
	mem_read16(&f->mem, 0x413, &v);
	assert_int_equal(v, 639);
	mem_read16(&f->mem, 0x400, &v);
	assert_int_equal(v, 0x3F8);
	assert_int_equal(f->ram[0x475], 1);
	struct cpu_state *s = regs(f, 0);
	bios_call(&f->b, 0x12, s);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFFFF, 639);
	/* INT 19h: boot sector to 7C00 needs 55 AA */
	char why[128];
	assert_int_equal(bios_boot_sector(&f->b, why, sizeof(why)), -1);
	f->disk[510] = 0x55;
	f->disk[511] = 0xAA;
	assert_int_equal(bios_boot_sector(&f->b, why, sizeof(why)), 0);
	assert_int_equal(rd32(f, 0x7C00), MARK);
}

/* Hostile registers: every service with random registers and segment bases
 * (including pointers past the end of RAM) must answer, never fault; the
 * firmware stays intact (run under `make SAN=1` to catch overruns). */
static void test_random_calls(void **st)
{
	struct fx *f = *st;
	static const uint8_t vecs[] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x19, 0x1A };
	uint64_t x = 0x9E3779B97F4A7C15ull;
	f->b.hd.writable = true;
	for (int i = 0; i < 200000; i++) {
		struct cpu_state *s = regs(f, 0);
		for (int r = 0; r < 8; r++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (r != CPU_RSP)
				s->gpr[r] = x;
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		seg(&s->ds, (uint16_t)x);
		seg(&s->es, (uint16_t)(x >> 16));
		if ((x >> 32) % 4 == 0) /* unreal-mode style base beyond RAM */
			s->es.base = (x >> 34) << 12;
		/* plausible function numbers half of the time */
		static const uint16_t ax[] = { 0x4200, 0x4300, 0x4800, 0x0201, 0x0301, 0x0800, 0xE820,
					       0x8700, 0x1300, 0xE801, 0x0E41, 0x1000, 0x0000 };
		if ((x >> 40) & 1)
			s->gpr[CPU_RAX] = (s->gpr[CPU_RAX] & ~0xFFFFull) | ax[(x >> 41) % 13];
		if ((x >> 45) & 1)
			s->gpr[CPU_RDX] = (s->gpr[CPU_RDX] & ~0xFFull) | 0x80;
		if ((x >> 46) & 1)
			s->gpr[CPU_RDX] = (s->gpr[CPU_RDX] & ~0xFFFFFFFFull) | 0x534D4150;
		uint8_t vec = vecs[(x >> 50) % sizeof(vecs)];
		assert_int_equal(bios_call(&f->b, vec, s), 0);
	}
	assert_memory_equal(f->ram + LAYOUT_BIOS, bios_image, BIOS_IMAGE_SIZE);
}

/* ---- INT 13h when the host fails: a disk image file whose writes hit a
 * full file system and which another process truncates.  The guest gets
 * RBIL's codes (CCh write fault, 04h sector not found), each kind of
 * failure is reported once, and closing says writes were lost. */
static struct {
	int n;
	char first[512];
} warned;

static void capture_warn(void *opaque, const char *msg)
{
	if (warned.n++ == 0)
		snprintf(warned.first, sizeof(warned.first), "%s", msg);
	(void)opaque;
}

static ssize_t full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	(void)fd, (void)buf, (void)len, (void)off;
	errno = ENOSPC;
	return -1;
}

static const struct disk_io full_fs = {
	.pread = pread, .pwrite = full_pwrite, .fdatasync = fdatasync, .fallocate = fallocate,
};

static void test_host_errors(void **st)
{
	struct fx *f = *st;
	char path[] = "/tmp/nobios-test-int13-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->disk, DISK), (ssize_t)DISK);
	close(fd);
	bios_disk_close(&f->b.hd);
	assert_int_equal(bios_disk_open(&f->b.hd, path, true, false, false), 0);
	assert_true(f->b.hd.writable);
	memset(&warned, 0, sizeof(warned));
	f->b.warn = capture_warn;
	disk_image_set_io(f->b.hd.img, &full_fs);

	/* EDD write of 127 sectors: write fault, nothing transferred */
	put_dap(f, 0x8000, 0x10, 127, 0x30000000, 64, 0);
	ext(f, 0x4300, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_WRITE_FAULT);
	uint16_t count = 0xFFFF;
	mem_read16(&f->mem, 0x8002, &count);
	assert_int_equal(count, 0);
	assert_int_equal(warned.n, 1);
	assert_non_null(strstr(warned.first, path));
	assert_non_null(strstr(warned.first, "No space left on device"));
	assert_non_null(strstr(warned.first, "status CCh"));
	/* AH=01h: the last status */
	struct cpu_state *s = regs(f, 0x0100);
	s->gpr[CPU_RDX] = 0x80;
	bios_call(&f->b, 0x13, s);
	assert_int_equal(ah(f), BIOS_DISK_WRITE_FAULT);
	/* a CHS write fails the same way; no second report */
	s = regs(f, 0x0301);
	s->gpr[CPU_RCX] = 2;
	s->gpr[CPU_RDX] = 0x0180;
	seg(&s->es, 0x3000);
	s->gpr[CPU_RBX] = 0;
	bios_call(&f->b, 0x13, s);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_WRITE_FAULT);
	assert_int_equal(s->gpr[CPU_RAX] & 0xFF, 0);
	assert_int_equal(warned.n, 1);
	/* reads still work */
	put_dap(f, 0x8000, 0x10, 3, 0x30000000, 100, 0);
	ext(f, 0x4200, 0x8000);
	assert_false(cf(f));
	assert_int_equal(rd32(f, 0x30000), MARK + 100);

	/* another process truncates the image to 64 sectors: LBA 100 is gone */
	assert_int_equal(truncate(path, 64 * 512), 0);
	put_dap(f, 0x8000, 0x10, 1, 0x30000000, 100, 0);
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_NOT_FOUND);
	assert_int_equal(warned.n, 2);
	put_dap(f, 0x8000, 0x10, 1, 0x30000000, 100, 0); /* the failure zeroed the count */
	ext(f, 0x4200, 0x8000);
	assert_true(cf(f));
	assert_int_equal(ah(f), BIOS_DISK_NOT_FOUND);
	assert_int_equal(warned.n, 2); /* once per kind */
	put_dap(f, 0x8000, 0x10, 1, 0x30000000, 10, 0);
	ext(f, 0x4200, 0x8000);
	assert_false(cf(f));

	/* the writes the guest was refused are reported at the end */
	assert_int_equal(bios_disks_finish(&f->b), -1);
	assert_non_null(strstr(nb_errmsg(), "2 writes failed"));
	assert_non_null(strstr(nb_errmsg(), path));
	assert_false(f->b.hd.present);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chs_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edd30, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e820, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a20_and_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_video_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_video_colour_then_teletype, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
