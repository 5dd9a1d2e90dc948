/* direct_fake.h - shared by test_pvh.c, test_multiboot.c, test_multiboot2.c:
 * a tiny ELF32/ELF64 writer (PT_LOADs, an optional PT_NOTE, an optional
 * .symtab with one symbol), temp files, and a boot_ctx over a plain buffer
 * of guest RAM, so the direct-boot formats run without KVM. */
#ifndef DIRECT_FAKE_H
#define DIRECT_FAKE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "cpu/cpu.h"
#include "mem/layout.h"
#include "mem/mem.h"
#include "util/err.h"

#define FAKE_RAM (64u << 20)

struct fake_seg {
	uint64_t paddr, vaddr;
	const void *data;
	size_t filesz, memsz;
};
struct fake_note {
	const char *name;
	uint32_t type;
	const void *desc;
	size_t desclen;
};

struct fake_buf {
	uint8_t *p;
	size_t n;
};

static inline void fb_put(struct fake_buf *b, size_t off, const void *src, size_t len)
{
	if (off + len > b->n) {
		b->p = realloc(b->p, off + len);
		memset(b->p + b->n, 0, off + len - b->n);
		b->n = off + len;
	}
	memcpy(b->p + off, src, len);
}
static inline void fb_u16(struct fake_buf *b, size_t off, uint16_t v) { fb_put(b, off, &v, 2); }
static inline void fb_u32(struct fake_buf *b, size_t off, uint32_t v) { fb_put(b, off, &v, 4); }
static inline void fb_u64(struct fake_buf *b, size_t off, uint64_t v) { fb_put(b, off, &v, 8); }
static inline void fb_addr(struct fake_buf *b, int is64, size_t off, uint64_t v)
{
	if (is64)
		fb_u64(b, off, v);
	else
		fb_u32(b, off, (uint32_t)v);
}

/* An ELF executable: segments at 0x1000-aligned file offsets after a page
 * of headers; notes in a PT_NOTE; symbol `sym` = symval if sym != NULL.
 * `prefix` (if any) is copied to file offset 0x200 (e.g. a multiboot
 * header, found by its search window). */
static inline struct fake_buf fake_elf(int is64, uint64_t entry, const struct fake_seg *segs,
				unsigned nseg, const struct fake_note *notes, unsigned nnotes,
				const char *sym, uint64_t symval)
{
	struct fake_buf b = { 0 };
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32, shsz = is64 ? 64 : 40;
	unsigned nph = nseg + (nnotes ? 1 : 0);
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 0, 1, 1, 0 };
	fb_put(&b, 0, ident, 16);
	b.p[4] = is64 ? 2 : 1;
	fb_u16(&b, 16, 2);                      /* ET_EXEC */
	fb_u16(&b, 18, is64 ? 62 : 3);          /* EM_X86_64 / EM_386 */
	fb_u32(&b, 20, 1);
	fb_addr(&b, is64, 24, entry);
	size_t o_phoff = is64 ? 32 : 28, o_shoff = is64 ? 40 : 32, o_rest = is64 ? 52 : 40;
	fb_addr(&b, is64, o_phoff, ehsz);
	fb_u16(&b, o_rest, (uint16_t)ehsz);
	fb_u16(&b, o_rest + 2, (uint16_t)phsz);
	fb_u16(&b, o_rest + 4, (uint16_t)nph);
	fb_u16(&b, o_rest + 6, (uint16_t)shsz);
	/* notes at 0x800 */
	size_t noff = 0x800, nlen = 0;
	for (unsigned i = 0; i < nnotes; i++) {
		size_t namesz = strlen(notes[i].name) + 1;
		fb_u32(&b, noff + nlen, (uint32_t)namesz);
		fb_u32(&b, noff + nlen + 4, (uint32_t)notes[i].desclen);
		fb_u32(&b, noff + nlen + 8, notes[i].type);
		fb_put(&b, noff + nlen + 12, notes[i].name, namesz);
		nlen += 12 + ((namesz + 3) & ~3u);
		if (notes[i].desclen)
			fb_put(&b, noff + nlen, notes[i].desc, notes[i].desclen);
		nlen += (notes[i].desclen + 3) & ~3u;
	}
	size_t off = 0x1000;
	for (unsigned i = 0; i < nph; i++) {
		size_t p = ehsz + i * phsz;
		uint32_t type = i < nseg ? 1 : 4;
		uint64_t o = i < nseg ? off : noff, fsz = i < nseg ? segs[i].filesz : nlen;
		uint64_t msz = i < nseg ? segs[i].memsz : nlen;
		uint64_t pa = i < nseg ? segs[i].paddr : 0, va = i < nseg ? segs[i].vaddr : 0;
		if (is64) {
			fb_u32(&b, p, type);
			fb_u32(&b, p + 4, 7);
			fb_u64(&b, p + 8, o);
			fb_u64(&b, p + 16, va);
			fb_u64(&b, p + 24, pa);
			fb_u64(&b, p + 32, fsz);
			fb_u64(&b, p + 40, msz);
			fb_u64(&b, p + 48, 4);
		} else {
			fb_u32(&b, p, type);
			fb_u32(&b, p + 4, (uint32_t)o);
			fb_u32(&b, p + 8, (uint32_t)va);
			fb_u32(&b, p + 12, (uint32_t)pa);
			fb_u32(&b, p + 16, (uint32_t)fsz);
			fb_u32(&b, p + 20, (uint32_t)msz);
			fb_u32(&b, p + 24, 7);
			fb_u32(&b, p + 28, 4);
		}
		if (i < nseg) {
			if (segs[i].filesz)
				fb_put(&b, off, segs[i].data, segs[i].filesz);
			off += (segs[i].filesz + 0xFFF) & ~(size_t)0xFFF;
			if (!segs[i].filesz)
				off += 0x1000;
		}
	}
	if (sym) {
		/* sections: null, .symtab (link 2), .strtab */
		size_t symoff = (b.n + 15) & ~(size_t)15, symsz = is64 ? 24 : 16;
		uint8_t zero[24] = { 0 };
		fb_put(&b, symoff, zero, symsz); /* null symbol */
		size_t s1 = symoff + symsz;
		fb_u32(&b, s1, 1);
		if (is64) {
			fb_u16(&b, s1 + 6, 1);
			fb_u64(&b, s1 + 8, symval);
		} else {
			fb_u32(&b, s1 + 4, (uint32_t)symval);
			fb_u16(&b, s1 + 14, 1);
		}
		size_t stroff = s1 + symsz, strsz = strlen(sym) + 2;
		fb_put(&b, stroff, "", 1);
		fb_put(&b, stroff + 1, sym, strlen(sym) + 1);
		size_t shoff = (stroff + strsz + 15) & ~(size_t)15;
		uint8_t z[3 * 64] = { 0 };
		fb_put(&b, shoff, z, shsz * 3);
		size_t sh1 = shoff + shsz, sh2 = shoff + 2 * shsz;
		if (is64) {
			fb_u32(&b, sh1 + 4, 2);
			fb_u64(&b, sh1 + 24, symoff);
			fb_u64(&b, sh1 + 32, 2 * symsz);
			fb_u32(&b, sh1 + 40, 2);
			fb_u64(&b, sh1 + 56, symsz);
			fb_u32(&b, sh2 + 4, 3);
			fb_u64(&b, sh2 + 24, stroff);
			fb_u64(&b, sh2 + 32, strsz);
		} else {
			fb_u32(&b, sh1 + 4, 2);
			fb_u32(&b, sh1 + 16, (uint32_t)symoff);
			fb_u32(&b, sh1 + 20, (uint32_t)(2 * symsz));
			fb_u32(&b, sh1 + 24, 2);
			fb_u32(&b, sh1 + 36, (uint32_t)symsz);
			fb_u32(&b, sh2 + 4, 3);
			fb_u32(&b, sh2 + 16, (uint32_t)stroff);
			fb_u32(&b, sh2 + 20, (uint32_t)strsz);
		}
		fb_addr(&b, is64, o_shoff, shoff);
		fb_u16(&b, o_rest + 8, 3);
	}
	return b;
}

static char fake_paths[64][64];
static unsigned fake_npaths;
/* Remove every temp file fake_file made. */
static inline void fake_cleanup(void)
{
	for (unsigned i = 0; i < fake_npaths && i < 64; i++)
		unlink(fake_paths[i]);
	fake_npaths = 0;
}

/* Write len bytes to a fresh temp file; returns its path (static slots). */
static inline const char *fake_file(const void *data, size_t len)
{
	char *p = fake_paths[fake_npaths++ % 64];
	snprintf(p, 64, "/tmp/nobios-direct-XXXXXX");
	int fd = mkstemp(p);
	if (fd < 0)
		return NULL;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return p;
}

/* A module file: "nobios-module-N" then '.' up to size-1, then '\n'. */
static inline const char *fake_module(int n, size_t size)
{
	char *d = malloc(size);
	memset(d, '.', size);
	char head[32];
	int l = snprintf(head, sizeof(head), "nobios-module-%d", n);
	memcpy(d, head, (size_t)l < size ? (size_t)l : size);
	d[size - 1] = '\n';
	const char *p = fake_file(d, size);
	free(d);
	return p;
}

struct fake_machine {
	void *ram;
	struct guest_mem mem;
	struct cpu_state cpu;
	struct boot_config cfg;
	struct boot_ctx ctx;
};

static inline struct fake_machine *fake_machine_new(uint64_t ram)
{
	struct fake_machine *m = calloc(1, sizeof(*m));
	m->ram = calloc(1, ram);
	if (mem_init_buf(&m->mem, m->ram, ram) < 0)
		return NULL;
	m->ctx.mem = &m->mem;
	m->ctx.cpu = &m->cpu;
	m->ctx.cfg = &m->cfg;
	e820_build(&m->ctx.e820, &m->mem);
	return m;
}

static inline void fake_machine_free(struct fake_machine *m)
{
	free(m->ram);
	free(m);
}

static inline uint32_t g32(struct fake_machine *m, uint64_t gpa)
{
	uint32_t v = 0xDEADBEEF;
	mem_read32(&m->mem, gpa, &v);
	return v;
}
static inline uint64_t g64(struct fake_machine *m, uint64_t gpa)
{
	uint64_t v = 0xDEADBEEFDEADBEEFull;
	mem_read64(&m->mem, gpa, &v);
	return v;
}
static inline const char *gstr(struct fake_machine *m, uint64_t gpa)
{
	static char s[256];
	if (mem_read_str(&m->mem, gpa, s, sizeof(s)) < 0)
		return "<bad>";
	return s;
}

/* Expect the last error to mention `what` (and be an input error). */
#define assert_err_has(what)                                                   \
	do {                                                                   \
		if (!strstr(nb_errmsg(), (what)))                              \
			fail_msg("error \"%s\" lacks \"%s\"", nb_errmsg(), (what)); \
		assert_int_equal(nb_errclass(), NB_ERR_INPUT);                 \
	} while (0)

#endif
