/* fuzz_bios.c - libFuzzer harness: the pseudo-BIOS services (INT 10h, 11h,
 * 12h, 13h, 15h, 16h, 18h, 19h, 1Ah) as a guest calls them, on a sequence of
 * calls with random registers, segment bases and guest memory, a hard disk
 * and a floppy that may be writable.  Every pointer and count in the
 * registers is the guest's: a crash, a sanitizer report or a hang is a bug.
 *
 * Input: a header (disk sizes and flags), then calls of
 *   vector, EAX..EDI, ES/DS/SS selector + base, SP, FLAGS, and a patch of
 *   guest memory (address, length, bytes) applied before the call. */
#include <stdlib.h>
#include <string.h>

#include "bios/bios.h"
#include "fuzz.h"
#include "mem/layout.h"
#include "util/err.h"

#define RAM (4u << 20)
#define MAX_DISK (2u << 20)
#define MAX_CALLS 64

static const uint8_t vectors[] = { 0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x18, 0x19, 0x1A };
/* floppy sizes the geometry accepts (360K .. 2.88M), and odd ones */
static const uint32_t fd_sizes[] = { 368640, 737280, 1228800, 1474560, 2949120, 512, 1000000 };

static void seg_load(struct fz *f, struct cpu_segment *s)
{
	s->selector = fz_u16(f);
	/* mostly real-mode bases, sometimes anything (a guest in unreal mode
	 * or a stale cache) */
	s->base = (fz_u8(f) & 1) ? fz_u32(f) : (uint64_t)s->selector << 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram, *hd, *fd;
	if (!ram) {
		ram = calloc(1, RAM);
		hd = calloc(1, MAX_DISK);
		fd = calloc(1, 2949120);
	}
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f);
	uint32_t hd_size = (fz_u32(&f) % (MAX_DISK / 512)) * 512 + (flags & 0x10 ? 0 : 512);
	uint32_t fd_size = fd_sizes[fz_u8(&f) % (sizeof(fd_sizes) / sizeof(fd_sizes[0]))];

	memset(ram, 0, 1 << 20);
	struct guest_mem m;
	mem_init_buf(&m, ram, RAM);
	struct bios b;
	bios_init(&b, &m);
	b.wait_sleep = false; /* INT 15h AH=86h: do not really sleep */
	if (flags & 1) {
		/* sector contents: a marker per sector, not all zeros */
		for (uint32_t s = 0; s < hd_size / 512; s += 7)
			memcpy(hd + (size_t)s * 512, &s, 4);
		bios_disk_init_buf(&b.hd, hd, hd_size, flags & 2, false);
		bios_disk_geometry(&b.hd);
	}
	if (flags & 4) {
		bios_disk_init_buf(&b.fd, fd, fd_size, flags & 8, true);
		if (bios_disk_geometry(&b.fd) < 0)
			b.fd.present = false;
	}
	b.boot_drive = (flags & 0x20) ? 0x00 : 0x80;
	nb_err_clear();
	if (bios_install(&b) < 0)
		abort(); /* ours, not the input's: the firmware must install */

	for (unsigned call = 0; call < MAX_CALLS && fz_left(&f) > 0 && !b.stop; call++) {
		uint8_t v = fz_u8(&f);
		uint8_t vec = (v & 0x80) ? v : vectors[v % sizeof(vectors)];
		struct cpu_state s;
		cpu_setup_real(&s, 0, 0x7C00);
		for (int r = CPU_RAX; r <= CPU_RDI; r++)
			s.gpr[r] = fz_u32(&f);
		seg_load(&f, &s.es);
		seg_load(&f, &s.ds);
		seg_load(&f, &s.ss);
		s.gpr[CPU_RSP] = fz_u16(&f);
		s.rflags = 0x2 | (fz_u16(&f) & 0x0CD5);
		uint32_t at = fz_u32(&f) % RAM;
		uint8_t len = fz_u8(&f);
		uint8_t patch[255];
		size_t got = fz_bytes(&f, patch, len);
		if (at + got <= RAM)
			memcpy(ram + at, patch, got);
		bios_call(&b, vec, &s);
		nb_err_clear();
	}
	/* the disks are buffers here, not mappings: nothing to unmap */
	b.hd.present = b.fd.present = false;
	bios_fini(&b);
	return 0;
}
