/* crafted.h - hostile inputs for the regression tests of issue 14, built in
 * memory so that no test depends on a file someone has to keep around:
 *
 *   crafted_notes_elf   an ELF64 whose program headers are nearly all
 *                       PT_NOTEs naming the same megabytes of empty notes
 *                       (headers x notes work for a naive note walk);
 *   crafted_symtab_elf  an ELF64 whose section headers are nearly all
 *                       SHT_SYMTABs naming the same big symbol table;
 *   guarded_copy        bytes placed so that they end exactly at a
 *                       PROT_NONE page: reading one byte past them faults
 *                       in every build, with or without ASan.
 */
#ifndef TESTS_UNIT_CRAFTED_H
#define TESTS_UNIT_CRAFTED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static inline void cr_w16(uint8_t *b, size_t o, uint16_t v) { b[o] = (uint8_t)v, b[o + 1] = (uint8_t)(v >> 8); }
static inline void cr_w32(uint8_t *b, size_t o, uint32_t v) { cr_w16(b, o, (uint16_t)v), cr_w16(b, o + 2, (uint16_t)(v >> 16)); }
static inline void cr_w64(uint8_t *b, size_t o, uint64_t v) { cr_w32(b, o, (uint32_t)v), cr_w32(b, o + 4, (uint32_t)(v >> 32)); }

/* ELF64 header for an x86-64 executable. */
static inline void cr_ehdr(uint8_t *b, uint16_t phnum, uint64_t shoff, uint16_t shnum)
{
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	cr_w16(b, 16, 2);          /* ET_EXEC */
	cr_w16(b, 18, 62);         /* EM_X86_64 */
	cr_w32(b, 20, 1);
	cr_w64(b, 24, 0x100000);   /* e_entry */
	cr_w64(b, 32, 64);         /* e_phoff */
	cr_w64(b, 40, shoff);
	cr_w16(b, 52, 64);
	cr_w16(b, 54, 56);
	cr_w16(b, 56, phnum);
	cr_w16(b, 58, 64);
	cr_w16(b, 60, shnum);
}

static inline void cr_phdr(uint8_t *b, unsigned i, uint32_t type, uint64_t off, uint64_t paddr,
			   uint64_t filesz, uint64_t memsz)
{
	size_t o = 64 + (size_t)i * 56;
	cr_w32(b, o, type);
	cr_w32(b, o + 4, 5);
	cr_w64(b, o + 8, off);
	cr_w64(b, o + 16, paddr);
	cr_w64(b, o + 24, paddr);
	cr_w64(b, o + 32, filesz);
	cr_w64(b, o + 40, memsz);
	cr_w64(b, o + 48, 4);
}

/* size bytes: one PT_LOAD, then nph - 1 PT_NOTE headers that all cover the
 * same run of 12-byte empty notes filling the rest of the file, ended by a
 * Xen PHYS32_ENTRY note (so the file is a PVH kernel, and inspect describes
 * it: every note lookup for another type walks every header). */
static inline uint8_t *crafted_notes_elf(size_t size, unsigned nph)
{
	size = size / 4 * 4;
	uint8_t *b = calloc(1, size);
	if (!b)
		return NULL;
	size_t notes = (64 + (size_t)nph * 56 + 15) & ~(size_t)15;
	cr_ehdr(b, (uint16_t)nph, 0, 0);
	cr_phdr(b, 0, 1 /* PT_LOAD */, 0, 0x100000, 0x1000, 0x1000);
	for (unsigned i = 1; i < nph; i++)
		cr_phdr(b, i, 4 /* PT_NOTE */, notes, 0, size - notes, 0);
	size_t xen = size - 20;
	for (size_t o = notes; o + 12 <= xen; o += 12)
		cr_w32(b, o + 8, 0x4242); /* namesz 0, descsz 0, type 0x4242 */
	/* the gap before the Xen note: one note whose desc fills it */
	size_t left = (xen - notes) % 12;
	if (left) {
		size_t o = xen - left - 12;
		cr_w32(b, o + 4, (uint32_t)left);
	}
	cr_w32(b, xen, 4);
	cr_w32(b, xen + 4, 4);
	cr_w32(b, xen + 8, 18);    /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(b + xen + 12, "Xen", 4);
	cr_w32(b, xen + 16, 0x100000);
	return b;
}

/* size bytes: one PT_LOAD; section 0 a string table "\0x\0"; sections
 * 1..nsh-1 SHT_SYMTABs that all name the same table of symbols "x" filling
 * the rest of the file. */
static inline uint8_t *crafted_symtab_elf(size_t size, unsigned nsh)
{
	uint8_t *b = calloc(1, size);
	if (!b)
		return NULL;
	size_t shoff = 64 + 56, str = shoff + (size_t)nsh * 64;
	size_t syms = (str + 3 + 7) & ~(size_t)7;
	size_t nsyms = (size - syms) / 24;
	cr_ehdr(b, 1, shoff, (uint16_t)nsh);
	cr_phdr(b, 0, 1, 0, 0x100000, 0x1000, 0x1000);
	size_t o = shoff;
	cr_w32(b, o + 4, 3);       /* SHT_STRTAB */
	cr_w64(b, o + 24, str);
	cr_w64(b, o + 32, 3);
	memcpy(b + str, "\0x\0", 3);
	for (unsigned i = 1; i < nsh; i++) {
		o = shoff + (size_t)i * 64;
		cr_w32(b, o + 4, 2);   /* SHT_SYMTAB */
		cr_w64(b, o + 24, syms);
		cr_w64(b, o + 32, nsyms * 24);
		cr_w32(b, o + 40, 0);  /* sh_link: the string table */
		cr_w64(b, o + 56, 24);
	}
	for (size_t k = 0; k < nsyms; k++) {
		cr_w32(b, syms + k * 24, 1);         /* st_name "x" */
		cr_w16(b, syms + k * 24 + 6, 1);     /* st_shndx: defined */
	}
	return b;
}

/* A copy of data[0..len) whose last byte is the last byte before a
 * PROT_NONE page.  guarded_free releases it. */
struct guarded {
	uint8_t *data;
	void *map;
	size_t maplen;
};

static inline struct guarded guarded_copy(const void *data, size_t len)
{
	struct guarded g = { 0 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + page - 1) / page * page;
	g.maplen = body + page;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED) {
		g.map = NULL;
		return g;
	}
	mprotect((uint8_t *)g.map + body, page, PROT_NONE);
	g.data = (uint8_t *)g.map + body - len;
	memcpy(g.data, data, len);
	return g;
}

static inline void guarded_free(struct guarded *g)
{
	if (g->map)
		munmap(g->map, g->maplen);
	memset(g, 0, sizeof(*g));
}

/* CPU seconds this process has used: load from other processes on a shared
 * machine does not count, so a bound on it is not flaky. */
static inline double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
