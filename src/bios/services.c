/* services.c - the host side of the pseudo-BIOS: the dispatch of every
 * call (bios_call) and INT 11h, 12h, 15h, 16h, 18h, 19h and 1Ah, served on
 * the caller's registers (bios.h has the trap convention; INT 10h is in
 * video.c, INT 13h in disk.c).  Every guest pointer goes through mem.h with its
 * length; a bad pointer or count is a BIOS error (CF=1, code in AH), never a
 * host fault.  References: Ralf Brown's Interrupt List, Phoenix EDD 3.0. */
#include "bios/bios.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bios/regs.h"
#include "mem/layout.h"
#include "util/err.h"
#include "util/sandbox.h"

/* INT 16h polls the console for keys when COM1 does not own it. */
SANDBOX_NEEDS(bios_needs, "pseudo-BIOS services (src/bios/services.c)", 0,
	SB_ALLOW(poll), SB_ALLOW(ppoll));

/* ---- INT 15h: system services */
static void e820_call(struct bios *b, struct cpu_state *s)
{
	uint32_t idx = r32(s, CPU_RBX), len = r32(s, CPU_RCX);
	if (r32(s, CPU_RDX) != SMAP || len < 20 || idx >= b->e820.n) {
		snprintf(b->note, sizeof(b->note), "bad request (index %u, size %u)", idx, len);
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	const struct e820_entry *e = &b->e820.e[idx];
	uint8_t out[24];
	memcpy(out, &e->addr, 8);
	memcpy(out + 8, &e->size, 8);
	memcpy(out + 16, &e->type, 4);
	uint32_t n = len >= 24 ? 24 : 20;
	uint32_t attr = 1; /* ACPI 3.0 extended attributes: enabled */
	memcpy(out + 20, &attr, 4);
	uint64_t gpa = bios_linear(&s->es, r16(s, CPU_RDI));
	if (!guest_buf(b, gpa, n, true)) {
		snprintf(b->note, sizeof(b->note), "bad buffer 0x%llx", (unsigned long long)gpa);
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	mem_copy_in(b->mem, gpa, out, n);
	set32(s, CPU_RAX, SMAP);
	set32(s, CPU_RCX, n);
	set32(s, CPU_RBX, idx + 1 < b->e820.n ? idx + 1 : 0);
	set_cf(s, false);
	snprintf(b->note, sizeof(b->note), "#%u [0x%llx-0x%llx] %s", idx,
		 (unsigned long long)e->addr, (unsigned long long)(e->addr + e->size - 1),
		 e820_type_name(e->type));
}

/* RAM above 1 MiB below the 32-bit hole, in bytes. */
static uint64_t ext_mem(const struct bios *b)
{
	uint64_t low = mem_low_top(b->mem);
	return low > LAYOUT_HIGH_MEM ? low - LAYOUT_HIGH_MEM : 0;
}

/* AH=87h: copy CX words between the 24-bit (or 32-bit) bases of the
 * descriptors at ES:SI+10h (source) and +18h (destination). */
static void block_move(struct bios *b, struct cpu_state *s)
{
	uint64_t gdt = bios_linear(&s->es, r16(s, CPU_RSI));
	uint8_t g[0x20];
	uint32_t words = r16(s, CPU_RCX);
	if (mem_copy_out(b->mem, g, gdt, sizeof(g)) < 0 || words > 0x8000) {
		snprintf(b->note, sizeof(b->note), "bad descriptor table or count");
		fail(s, 0x01);
		return;
	}
	uint64_t len = (uint64_t)words * 2;
	uint64_t base[2];
	for (int i = 0; i < 2; i++) {
		const uint8_t *d = g + 0x10 + 8 * i;
		uint32_t limit = (uint32_t)(d[0] | d[1] << 8);
		base[i] = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
			  (uint64_t)d[7] << 24;
		if (len && len - 1 > limit) {
			snprintf(b->note, sizeof(b->note), "count beyond descriptor limit");
			fail(s, 0x01);
			return;
		}
	}
	uint8_t *src = len ? mem_ptr(b->mem, base[0], len) : NULL;
	uint8_t *dst = len ? guest_buf(b, base[1], len, true) : NULL;
	if (len && (!src || !dst)) {
		snprintf(b->note, sizeof(b->note), "bad range 0x%llx -> 0x%llx, %llu bytes",
			 (unsigned long long)base[0], (unsigned long long)base[1],
			 (unsigned long long)len);
		fail(s, 0x01);
		return;
	}
	if (len)
		memmove(dst, src, len);
	snprintf(b->note, sizeof(b->note), "0x%llx -> 0x%llx, %llu bytes",
		 (unsigned long long)base[0], (unsigned long long)base[1], (unsigned long long)len);
	ok(s);
}

static void int15(struct bios *b, struct cpu_state *s)
{
	uint16_t ax = r16(s, CPU_RAX);
	if (ax == 0xE820) {
		e820_call(b, s);
		return;
	}
	if (ax == 0xE801 || ax == 0xE881) {
		uint64_t ext = ext_mem(b);
		uint64_t below16 = ext > (15ull << 20) ? (15ull << 20) : ext;
		uint64_t above16 = ext > (15ull << 20) ? ext - (15ull << 20) : 0;
		uint32_t k = (uint32_t)(below16 >> 10), blk = (uint32_t)(above16 >> 16);
		if (ax == 0xE881) {
			set32(s, CPU_RAX, k);
			set32(s, CPU_RCX, k);
			set32(s, CPU_RBX, blk);
			set32(s, CPU_RDX, blk);
		} else {
			set16(s, CPU_RAX, (uint16_t)k);
			set16(s, CPU_RCX, (uint16_t)k);
			set16(s, CPU_RBX, (uint16_t)(blk > 0xFFFF ? 0xFFFF : blk));
			set16(s, CPU_RDX, (uint16_t)(blk > 0xFFFF ? 0xFFFF : blk));
		}
		set_cf(s, false);
		snprintf(b->note, sizeof(b->note), "%u KiB + %u x 64 KiB", k, blk);
		return;
	}
	switch (AH(s)) {
	case 0x24:
		switch (AL(s)) {
		case 0x00: b->a20 = false; ok(s); break;
		case 0x01: b->a20 = true; ok(s); break;
		case 0x02: set_lo8(s, CPU_RAX, b->a20); ok(s); break;
		case 0x03: set16(s, CPU_RBX, 0x0003); ok(s); break; /* KBC and port 92h */
		default: unsupported(b, s);
		}
		return;
	case 0x88: {
		uint64_t k = ext_mem(b) >> 10;
		set16(s, CPU_RAX, (uint16_t)(k > 0xFFFF ? 0xFFFF : k));
		set_cf(s, false);
		return;
	}
	case 0xC0:
		set_seg(&s->es, BIOS_SEG);
		set16(s, CPU_RBX, BIOS_OFF_CONFIG);
		ok(s);
		return;
	case 0xC1:
		set_seg(&s->es, (uint16_t)(LAYOUT_EBDA >> 4));
		set_cf(s, false);
		return;
	case 0x86: { /* wait CX:DX microseconds */
		uint64_t us = (uint64_t)r16(s, CPU_RCX) << 16 | r16(s, CPU_RDX);
		if (us > 10000000)
			us = 10000000; /* a stuck guest gets at most 10 s per call */
		if (b->wait_sleep) {
			struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		snprintf(b->note, sizeof(b->note), "%llu us", (unsigned long long)us);
		ok(s);
		return;
	}
	case 0x87: block_move(b, s); return;
	case 0x90: case 0x91: ok(s); return;
	case 0xEC: /* AMD: target operating mode (Linux says "long mode") */
		if (AL(s) == 0x00) {
			ok(s);
			return;
		}
		break;
	case 0x4F: /* keyboard intercept: process the key as usual */
		set_cf(s, true);
		return;
	case 0x53:
		/* APM (APM 1.2, 4.1): no power management BIOS.  Every function,
		 * the installation check 5300h first, fails with CF=1 and
		 * AH=86h "APM not present", as a BIOS without APM answers. */
		snprintf(b->note, sizeof(b->note), "APM function %02Xh: APM not present", AL(s));
		fail(s, BIOS_UNSUPPORTED);
		return;
	}
	unsupported(b, s); /* C2h mouse, E980h IST, 89h, ... */
}

/* ---- INT 16h: keyboard, from the console input */
static const char kbd_row1[] = "1234567890-=";
static const char kbd_row1s[] = "!@#$%^&*()_+";
static const char kbd_row2[] = "qwertyuiop[]";
static const char kbd_row2s[] = "QWERTYUIOP{}";
static const char kbd_row3[] = "asdfghjkl;'`";
static const char kbd_row3s[] = "ASDFGHJKL:\"~";
static const char kbd_row4[] = "\\zxcvbnm,./";
static const char kbd_row4s[] = "|ZXCVBNM<>?";

static uint8_t kbd_scan(uint8_t c)
{
	const char *p;
	if (c >= 1 && c <= 26 && c != '\b' && c != '\t' && c != '\r') /* Ctrl-letter */
		c = (uint8_t)('a' + c - 1);
	if (c == '\r' || c == '\n') return 0x1C;
	if (c == '\t') return 0x0F;
	if (c == '\b' || c == 0x7F) return 0x0E;
	if (c == 0x1B) return 0x01;
	if (c == ' ') return 0x39;
	if (c && ((p = strchr(kbd_row1, c)) || (p = strchr(kbd_row1s, c))))
		return (uint8_t)(0x02 + (p - (strchr(kbd_row1, c) ? kbd_row1 : kbd_row1s)));
	if (c && ((p = strchr(kbd_row2, c)) || (p = strchr(kbd_row2s, c))))
		return (uint8_t)(0x10 + (p - (strchr(kbd_row2, c) ? kbd_row2 : kbd_row2s)));
	if (c && ((p = strchr(kbd_row3, c)) || (p = strchr(kbd_row3s, c))))
		return (uint8_t)(0x1E + (p - (strchr(kbd_row3, c) ? kbd_row3 : kbd_row3s)));
	if (c && ((p = strchr(kbd_row4, c)) || (p = strchr(kbd_row4s, c))))
		return (uint8_t)(0x2B + (p - (strchr(kbd_row4, c) ? kbd_row4 : kbd_row4s)));
	return 0;
}

static void kbd_push(struct bios *b, uint16_t key)
{
	if (b->kbd_n < BIOS_KBD_QUEUE)
		b->kbd[(b->kbd_head + b->kbd_n++) % BIOS_KBD_QUEUE] = key;
}

/* Terminal escape sequences for the keys boot menus use. */
static bool kbd_escape(struct bios *b)
{
	static const struct { const char *seq; uint16_t key; } map[] = {
		{ "\033[A", 0x4800 }, { "\033[B", 0x5000 }, { "\033[C", 0x4D00 },
		{ "\033[D", 0x4B00 }, { "\033[H", 0x4700 }, { "\033[F", 0x4F00 },
		{ "\033[5~", 0x4900 }, { "\033[6~", 0x5100 }, { "\033OP", 0x3B00 },
		{ "\033OQ", 0x3C00 }, { "\033OR", 0x3D00 }, { "\033OS", 0x3E00 },
	};
	bool prefix = false;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t l = strlen(map[i].seq);
		if (l == b->nesc && memcmp(map[i].seq, b->esc, l) == 0) {
			kbd_push(b, map[i].key);
			b->nesc = 0;
			return true;
		}
		if (l > b->nesc && memcmp(map[i].seq, b->esc, b->nesc) == 0)
			prefix = true;
	}
	return prefix;
}

void bios_kbd_feed(struct bios *b, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (b->nesc || c == 0x1B) {
			b->esc[b->nesc++] = (char)c;
			if (!kbd_escape(b) || b->nesc == sizeof(b->esc)) {
				/* not a known sequence: deliver the bytes as keys */
				for (unsigned j = 0; j < b->nesc; j++)
					kbd_push(b, (uint16_t)(kbd_scan((uint8_t)b->esc[j]) << 8 |
							       (uint8_t)b->esc[j]));
				b->nesc = 0;
			}
			continue;
		}
		if (c == '\n')
			c = '\r';
		kbd_push(b, (uint16_t)(kbd_scan(c) << 8 | c));
	}
	/* A lone ESC at the end of the input is the Escape key. */
	if (b->nesc == 1) {
		kbd_push(b, 0x011B);
		b->nesc = 0;
	}
}

static void kbd_poll(struct bios *b)
{
	if (b->kbd_n)
		return;
	if (b->kbd_source) {
		uint8_t buf[16];
		size_t n = b->kbd_source(b->kbd_opaque, buf, sizeof(buf));
		if (n)
			bios_kbd_feed(b, buf, n);
		return;
	}
	if (b->con_in < 0)
		return;
	struct pollfd p = { .fd = b->con_in, .events = POLLIN };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return;
	uint8_t buf[16];
	ssize_t n = read(b->con_in, buf, sizeof(buf));
	if (n > 0)
		bios_kbd_feed(b, buf, (size_t)n);
	else if (n == 0)
		b->con_in = -1; /* end of input */
}

static void int16(struct bios *b, struct cpu_state *s)
{
	switch (AH(s)) {
	case 0x00: case 0x10:
	case 0x01: case 0x11: {
		bool take = AH(s) == 0x00 || AH(s) == 0x10;
		kbd_poll(b);
		if (!b->kbd_n) {
			set_zf(s, true);
			if (take)
				set16(s, CPU_RAX, 0);
			return;
		}
		set16(s, CPU_RAX, b->kbd[b->kbd_head]);
		set_zf(s, false);
		if (take) {
			b->kbd_head = (b->kbd_head + 1) % BIOS_KBD_QUEUE;
			b->kbd_n--;
		}
		snprintf(b->note, sizeof(b->note), "key %04xh", r16(s, CPU_RAX));
		return;
	}
	case 0x02: set_lo8(s, CPU_RAX, bda8(b, BDA_KBD_FLAGS)); set_cf(s, false); return;
	case 0x12:
		set_lo8(s, CPU_RAX, bda8(b, BDA_KBD_FLAGS));
		set_hi8(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	case 0x03: set_cf(s, false); return; /* typematic rate: nothing to set */
	case 0x05:
		kbd_push(b, r16(s, CPU_RCX));
		set_lo8(s, CPU_RAX, 0);
		set_cf(s, false);
		return;
	case 0x09: set_lo8(s, CPU_RAX, 0x30); return; /* capabilities: 10h-12h */
	}
	unsupported(b, s);
}

/* ---- INT 1Ah AH=B1h: PCI BIOS (PCI BIOS Specification 2.1).  nobios's
 * machine has no PCI bus (its devices are ISA and virtio-mmio), so there is
 * no PCI BIOS: the installation check B101h fails (CF=1, AH nonzero, EDX
 * never "PCI "), which is how callers (iPXE's pcibios, Linux's setup) tell
 * "not present"; the device searches say "device not found" and every other
 * function "not supported".  The registers a present BIOS would fill (EDX,
 * EDI, BX, CX) are left as the caller had them. */
#define PCIBIOS_FUNC_NOT_SUPPORTED 0x81
#define PCIBIOS_DEVICE_NOT_FOUND   0x86

static void pci_bios(struct bios *b, struct cpu_state *s)
{
	switch (AL(s)) {
	case 0x01:
		snprintf(b->note, sizeof(b->note), "PCI BIOS installation check: not present "
			 "(no PCI bus)");
		fail(s, PCIBIOS_FUNC_NOT_SUPPORTED);
		return;
	case 0x02: case 0x03: /* find device, find class code */
		snprintf(b->note, sizeof(b->note), "PCI BIOS: device not found (no PCI bus)");
		fail(s, PCIBIOS_DEVICE_NOT_FOUND);
		return;
	default:
		snprintf(b->note, sizeof(b->note), "PCI BIOS function %02Xh: not supported "
			 "(no PCI bus)", AL(s));
		fail(s, PCIBIOS_FUNC_NOT_SUPPORTED);
		return;
	}
}

/* ---- INT 1Ah: time */
static uint8_t bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }

static void int1a(struct bios *b, struct cpu_state *s)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	switch (AH(s)) {
	case 0x00:
		set16(s, CPU_RCX, bda16(b, BDA_TICKS + 2));
		set16(s, CPU_RDX, bda16(b, BDA_TICKS));
		set_lo8(s, CPU_RAX, bda8(b, BDA_MIDNIGHT));
		bda_set8(b, BDA_MIDNIGHT, 0);
		set_cf(s, false);
		return;
	case 0x01:
		bda_set16(b, BDA_TICKS + 2, r16(s, CPU_RCX));
		bda_set16(b, BDA_TICKS, r16(s, CPU_RDX));
		bda_set8(b, BDA_MIDNIGHT, 0);
		set_cf(s, false);
		return;
	case 0x02:
		set_hi8(s, CPU_RCX, bcd((unsigned)tm.tm_hour));
		set_lo8(s, CPU_RCX, bcd((unsigned)tm.tm_min));
		set_hi8(s, CPU_RDX, bcd((unsigned)tm.tm_sec));
		set_lo8(s, CPU_RDX, 0);
		set_cf(s, false);
		return;
	case 0x04:
		set_hi8(s, CPU_RCX, bcd((unsigned)(tm.tm_year + 1900) / 100));
		set_lo8(s, CPU_RCX, bcd((unsigned)(tm.tm_year + 1900) % 100));
		set_hi8(s, CPU_RDX, bcd((unsigned)tm.tm_mon + 1));
		set_lo8(s, CPU_RDX, bcd((unsigned)tm.tm_mday));
		set_cf(s, false);
		return;
	case 0x03: case 0x05: /* set RTC: the host's clock stays authoritative */
		set_cf(s, false);
		return;
	case 0xB1:
		pci_bios(b, s);
		return;
	}
	unsupported(b, s);
}

/* ---- boot */
int bios_boot_sector(struct bios *b, char *why, size_t whylen)
{
	if (b->has_boot_code)
		return mem_copy_in(b->mem, LAYOUT_BOOT_SECTOR, b->boot_code, SECTOR) < 0 ? -1 : 0;
	struct bios_disk *d = disk_of(b, b->boot_drive);
	if (!d) {
		snprintf(why, whylen, "no boot drive %02xh", b->boot_drive);
		return -1;
	}
	uint8_t sec[SECTOR];
	if (d->sectors == 0 || disk_image_read(d->img, 0, sec, SECTOR) < 0) {
		snprintf(why, whylen, "%s: cannot read the boot sector: %s",
			 d->path ? d->path : "boot drive", disk_image_errmsg(d->img));
		return -1;
	}
	if (sec[510] != 0x55 || sec[511] != 0xAA) {
		snprintf(why, whylen, "%s: no boot signature 55 AA at offset 510",
			 d->path ? d->path : "boot drive");
		return -1;
	}
	if (mem_copy_in(b->mem, LAYOUT_BOOT_SECTOR, sec, SECTOR) < 0) {
		snprintf(why, whylen, "no RAM for the boot sector");
		return -1;
	}
	return 0;
}

static void stop_vm(struct bios *b, int status, const char *msg)
{
	b->stop = true;
	b->stop_status = status;
	snprintf(b->stop_msg, sizeof(b->stop_msg), "%s", msg);
}

static const char *const exception_names[8] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM no math coprocessor",
};

int bios_call(struct bios *b, uint8_t vec, struct cpu_state *s)
{
	if (s->cr0 & X86_CR0_PE)
		return nb_err("pseudo-BIOS: INT %02xh stub reached in protected mode", vec);
	b->note[0] = 0;
	b->calls++;
	/* Held INT 10h text goes out (or is dropped) at any call that is not
	 * part of drawing text (mode queries, set mode, other services). */
	static const char drawing[] = { 0x02, 0x03, 0x06, 0x09, 0x0A, 0x0E, 0x13 };
	if (vec != 0x10 || !memchr(drawing, AH(s), sizeof(drawing)))
		bios_text_flush(b);
	struct cpu_state in = *s;
	uint64_t frame = bios_linear(&s->ss, r16(s, CPU_RSP));
	uint16_t ret_ip = 0, ret_cs = 0, fl = 0;
	bool have_frame = mem_read16(b->mem, frame, &ret_ip) == 0 &&
			  mem_read16(b->mem, frame + 2, &ret_cs) == 0 &&
			  mem_read16(b->mem, frame + 4, &fl) == 0;
	/* Results start from the caller's flags. */
	if (have_frame)
		s->rflags = (s->rflags & ~0xFFFFull) | fl;

	switch (vec) {
	case 0x10: bios_int10(b, s); break;
	case 0x11: set16(s, CPU_RAX, bda16(b, BDA_EQUIPMENT)); break;
	case 0x12: set16(s, CPU_RAX, bda16(b, BDA_MEM_KB)); set_cf(s, false); break;
	case 0x13: bios_int13(b, s); break;
	case 0x15: int15(b, s); break;
	case 0x16: int16(b, s); break;
	case 0x18:
		stop_vm(b, 4, "guest called INT 18h: no bootable device");
		break;
	case 0x19: {
		char why[160];
		if (bios_boot_sector(b, why, sizeof(why)) < 0) {
			snprintf(b->note, sizeof(b->note), "%s", why);
			fail(s, 0x01);
			if (b->log)
				fprintf(b->log, "nobios: bios: boot failed: %s\n", why);
			break;
		}
		set_lo8(s, CPU_RDX, b->boot_drive);
		snprintf(b->note, sizeof(b->note), "boot sector of drive %02xh at 0000:7C00",
			 b->boot_drive);
		ok(s);
		break;
	}
	case 0x1A: int1a(b, s); break;
	default:
		if (vec < 8) {
			char msg[160];
			snprintf(msg, sizeof(msg), "guest CPU exception %s in real mode at %04x:%04x",
				 exception_names[vec], ret_cs, ret_ip);
			stop_vm(b, 4, msg);
			break;
		}
		unsupported(b, s); /* 14h serial, 17h printer */
	}

	/* The INT frame's FLAGS carry the result to the caller through iret. */
	if (have_frame) {
		uint16_t mask = (uint16_t)(X86_RFLAGS_CF | X86_RFLAGS_ZF);
		fl = (uint16_t)((fl & ~mask) | (s->rflags & mask));
		mem_write16(b->mem, frame + 4, fl);
	}

	if (b->log) {
		uint32_t key = (uint32_t)vec << 16 | r16(&in, CPU_RAX);
		bool poll_empty = vec == 0x16 && (AH(&in) == 0x01 || AH(&in) == 0x11) &&
				  (s->rflags & X86_RFLAGS_ZF);
		if (poll_empty && key == b->last_call) {
			b->repeats++;
			return 0;
		}
		if (b->repeats)
			fprintf(b->log, "nobios: bios: (previous call repeated %u times)\n", b->repeats);
		b->repeats = 0;
		b->last_call = poll_empty ? key : 0;
		fprintf(b->log,
			"nobios: bios: INT %02Xh AX=%04X BX=%04X CX=%04X DX=%04X SI=%04X DI=%04X "
			"DS=%04X ES=%04X from %04X:%04X -> %s AX=%04X BX=%04X CX=%04X DX=%04X%s%s\n",
			vec, r16(&in, CPU_RAX), r16(&in, CPU_RBX), r16(&in, CPU_RCX),
			r16(&in, CPU_RDX), r16(&in, CPU_RSI), r16(&in, CPU_RDI), in.ds.selector,
			in.es.selector, ret_cs, ret_ip, (s->rflags & X86_RFLAGS_CF) ? "CF=1" : "CF=0",
			r16(s, CPU_RAX), r16(s, CPU_RBX), r16(s, CPU_RCX), r16(s, CPU_RDX),
			b->note[0] ? " ; " : "", b->note);
	}
	return 0;
}

/* ---- set-up */
void bios_init(struct bios *b, struct guest_mem *m)
{
	memset(b, 0, sizeof(*b));
	b->mem = m;
	b->a20 = true; /* KVM has no A20 gate: memory never wraps at 1 MiB */
	b->con_in = -1;
	b->con_out = -1;
	b->boot_drive = 0x80;
	e820_build(&b->e820, m);
}

void bios_fini(struct bios *b)
{
	bios_text_flush(b);
	if (b->log && b->repeats)
		fprintf(b->log, "nobios: bios: (previous call repeated %u times)\n", b->repeats);
	bios_disk_close(&b->hd);
	bios_disk_close(&b->fd);
}

int bios_disks_finish(struct bios *b)
{
	/* both drives, even when the first fails; the first failure is told */
	int r = bios_disk_close(&b->hd);
	char first[512] = "";
	if (r < 0)
		snprintf(first, sizeof(first), "%s", nb_errmsg());
	if (bios_disk_close(&b->fd) < 0 && r == 0)
		return -1;
	if (r < 0)
		nb_err_internal("%s", first);
	return r;
}

int bios_install(struct bios *b)
{
	size_t size = bios_image_size;
	if (size != BIOS_IMAGE_SIZE || memcmp(bios_image, "NOBIOS1", 8) != 0)
		return nb_err_internal("pseudo-BIOS image is corrupt (%zu bytes)", size);
	if (mem_low_top(b->mem) < LAYOUT_BIOS_END)
		return nb_err("the pseudo-BIOS needs at least 1 MiB of guest RAM");
	if (mem_copy_in(b->mem, LAYOUT_BIOS, bios_image, size) < 0)
		return -1;
	/* IVT: every vector F000:offset from the image's table. */
	for (unsigned v = 0; v < 256; v++) {
		uint16_t off = (uint16_t)(bios_image[BIOS_OFF_IVT + 2 * v] |
					  bios_image[BIOS_OFF_IVT + 2 * v + 1] << 8);
		if (mem_write32(b->mem, LAYOUT_IVT + 4 * v, (uint32_t)BIOS_SEG << 16 | off) < 0)
			return -1;
	}
	/* BIOS data area (RBIL MEMORY.LST 0040h:xxxx). */
	if (mem_zero(b->mem, LAYOUT_BDA, 0x100) < 0)
		return -1;
	uint64_t base = mem_low_top(b->mem) < LAYOUT_LOW_RAM_END ? mem_low_top(b->mem)
								  : LAYOUT_LOW_RAM_END;
	bda_set16(b, BDA_COM1, 0x3F8);
	bda_set16(b, BDA_EBDA_SEG, (uint16_t)(LAYOUT_EBDA >> 4));
	/* equipment: 1 serial port, 80x25 colour, FPU, diskette present */
	bda_set16(b, BDA_EQUIPMENT, (1u << 9) | (2u << 4) | 0x2 | (b->fd.present ? 0x1 : 0));
	bda_set16(b, BDA_MEM_KB, (uint16_t)(base >> 10));
	bda_set16(b, BDA_KBD_HEAD, 0x1E);
	bda_set16(b, BDA_KBD_TAIL, 0x1E);
	bda_set16(b, BDA_KBD_START, 0x1E);
	bda_set16(b, BDA_KBD_END, 0x3E);
	bda_set8(b, BDA_VIDEO_MODE, 0x03);
	bda_set16(b, BDA_COLUMNS, 80);
	bda_set16(b, BDA_PAGE_SIZE, 0x1000);
	bda_set16(b, BDA_CURSOR_SHAPE, 0x0607);
	bda_set16(b, BDA_CRTC, 0x3D4);
	bda_set8(b, BDA_ROWS, 24);
	bda_set8(b, BDA_CHAR_HEIGHT, 16);
	bda_set8(b, BDA_HD_COUNT, b->hd.present ? 1 : 0);
	/* Ticks since midnight, as a BIOS reads them from the RTC at POST. */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	uint64_t secs = (uint64_t)tm.tm_hour * 3600 + (uint64_t)tm.tm_min * 60 + (uint64_t)tm.tm_sec;
	uint32_t ticks = (uint32_t)(secs * 1193182 / 65536);
	bda_set16(b, BDA_TICKS, (uint16_t)ticks);
	bda_set16(b, BDA_TICKS + 2, (uint16_t)(ticks >> 16));
	/* EBDA: its first word is its size in KiB. */
	if (mem_low_top(b->mem) >= LAYOUT_LEGACY_HOLE)
		mem_write16(b->mem, LAYOUT_EBDA, (uint16_t)((LAYOUT_LEGACY_HOLE - LAYOUT_EBDA) >> 10));
	return 0;
}
