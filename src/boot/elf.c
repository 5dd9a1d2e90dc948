/* elf.c - a hand-written ELF32/ELF64 reader for the boot formats.
 *
 * Written from the System V ABI (gABI) "Object Files" chapter.  The file is
 * hostile: every offset, size and count is checked against the file before it
 * is used, with overflow-safe arithmetic, and fields are read byte by byte
 * (little-endian, no unaligned struct casts) so a bad file can only produce an
 * error.  Only little-endian x86 files are accepted: nobios boots x86 guests.
 */
#include "boot/elf.h"

#include <string.h>

#include "mem/mem.h"
#include "util/err.h"

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xFFFF
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_NOTE 7
#define SHT_NOBITS 8
#define SHT_DYNSYM 11
#define SHN_UNDEF 0

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56
#define SHDR32_SIZE 40
#define SHDR64_SIZE 64
#define SYM32_SIZE 16
#define SYM64_SIZE 24

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off+len) inside a buffer of size bytes, without overflow. */
static bool in_file(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

int elf_is_elf(const uint8_t *data, size_t size)
{
	return data && size >= 4 && data[0] == 0x7F && data[1] == 'E' && data[2] == 'L' &&
	       data[3] == 'F';
}

/* Header fields parse() and the section readers share. */
struct elf_hdr {
	uint64_t phoff, shoff;
	uint16_t phentsize, phnum, shentsize, shnum, shstrndx;
};

static void read_ehdr(const struct elf_image *e, struct elf_hdr *h)
{
	const uint8_t *d = e->data;
	if (e->is64) {
		h->phoff = rd64(d + 32);
		h->shoff = rd64(d + 40);
		h->phentsize = rd16(d + 54);
		h->phnum = rd16(d + 56);
		h->shentsize = rd16(d + 58);
		h->shnum = rd16(d + 60);
		h->shstrndx = rd16(d + 62);
	} else {
		h->phoff = rd32(d + 28);
		h->shoff = rd32(d + 32);
		h->phentsize = rd16(d + 42);
		h->phnum = rd16(d + 44);
		h->shentsize = rd16(d + 46);
		h->shnum = rd16(d + 48);
		h->shstrndx = rd16(d + 50);
	}
}

struct elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static void read_phdr(const struct elf_image *e, const uint8_t *p, struct elf_phdr *ph)
{
	if (e->is64) {
		ph->type = rd32(p);
		ph->flags = rd32(p + 4);
		ph->offset = rd64(p + 8);
		ph->vaddr = rd64(p + 16);
		ph->paddr = rd64(p + 24);
		ph->filesz = rd64(p + 32);
		ph->memsz = rd64(p + 40);
		ph->align = rd64(p + 48);
	} else {
		ph->type = rd32(p);
		ph->offset = rd32(p + 4);
		ph->vaddr = rd32(p + 8);
		ph->paddr = rd32(p + 12);
		ph->filesz = rd32(p + 16);
		ph->memsz = rd32(p + 20);
		ph->flags = rd32(p + 24);
		ph->align = rd32(p + 28);
	}
}

struct elf_shdr {
	uint32_t name, type, link, info;
	uint64_t offset, size, entsize, addralign;
};

static void read_shdr(const struct elf_image *e, const uint8_t *p, struct elf_shdr *sh)
{
	sh->name = rd32(p);
	sh->type = rd32(p + 4);
	if (e->is64) {
		sh->offset = rd64(p + 24);
		sh->size = rd64(p + 32);
		sh->link = rd32(p + 40);
		sh->info = rd32(p + 44);
		sh->addralign = rd64(p + 48);
		sh->entsize = rd64(p + 56);
	} else {
		sh->offset = rd32(p + 16);
		sh->size = rd32(p + 20);
		sh->link = rd32(p + 24);
		sh->info = rd32(p + 28);
		sh->addralign = rd32(p + 32);
		sh->entsize = rd32(p + 36);
	}
}

int elf_parse(struct elf_image *e, const char *path, const uint8_t *data, size_t size)
{
	memset(e, 0, sizeof(*e));
	e->path = path ? path : "ELF image";
	e->data = data;
	e->size = size;
	path = e->path;

	if (!elf_is_elf(data, size))
		return nb_err("%s: not an ELF file (no \\x7fELF magic)", path);
	if (size < EI_NIDENT)
		return nb_err("%s: truncated ELF identification (%zu bytes)", path, size);
	if (data[EI_CLASS] != ELFCLASS32 && data[EI_CLASS] != ELFCLASS64)
		return nb_err("%s: bad ELF class %u", path, data[EI_CLASS]);
	e->is64 = data[EI_CLASS] == ELFCLASS64;
	if (data[EI_DATA] != ELFDATA2LSB)
		return nb_err("%s: big-endian ELF (EI_DATA %u): not an x86 image", path,
			      data[EI_DATA]);
	if (data[EI_VERSION] != EV_CURRENT)
		return nb_err("%s: unknown ELF version %u", path, data[EI_VERSION]);
	size_t ehsize = e->is64 ? EHDR64_SIZE : EHDR32_SIZE;
	if (size < ehsize)
		return nb_err("%s: truncated ELF header (%zu of %zu bytes)", path, size, ehsize);

	uint16_t type = rd16(data + 16);
	if (type != ET_EXEC && type != ET_DYN)
		return nb_err("%s: ELF type %u is not an executable", path, type);
	e->machine = rd16(data + 18);
	if (e->machine != EM_X86_64 && e->machine != EM_386)
		return nb_err("%s: ELF machine %u is not x86 (EM_386 or EM_X86_64)", path,
			      e->machine);
	e->entry = e->is64 ? rd64(data + 24) : rd32(data + 24);

	struct elf_hdr h;
	read_ehdr(e, &h);
	if (h.phnum == 0)
		return nb_err("%s: ELF file has no program headers", path);
	if (h.phnum == PN_XNUM)
		return nb_err("%s: ELF extended program header numbering is not supported", path);
	size_t phsize = e->is64 ? PHDR64_SIZE : PHDR32_SIZE;
	if (h.phentsize != phsize)
		return nb_err("%s: e_phentsize %u, expected %zu", path, h.phentsize, phsize);
	if (!in_file(size, h.phoff, (uint64_t)h.phnum * phsize))
		return nb_err("%s: program headers (offset 0x%llx, %u entries) lie outside the "
			      "file (%zu bytes)", path, (unsigned long long)h.phoff, h.phnum, size);

	e->lo_paddr = UINT64_MAX;
	e->hi_paddr = 0;
	for (unsigned i = 0; i < h.phnum; i++) {
		struct elf_phdr ph;
		read_phdr(e, data + h.phoff + (uint64_t)i * phsize, &ph);
		if (ph.type == PT_NOTE) {
			if (!in_file(size, ph.offset, ph.filesz))
				return nb_err("%s: PT_NOTE %u (offset 0x%llx, size 0x%llx) lies "
					      "outside the file", path, i,
					      (unsigned long long)ph.offset,
					      (unsigned long long)ph.filesz);
			continue;
		}
		if (ph.type != PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz)
			return nb_err("%s: PT_LOAD %u: p_filesz 0x%llx > p_memsz 0x%llx", path, i,
				      (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
		if (!in_file(size, ph.offset, ph.filesz))
			return nb_err("%s: PT_LOAD %u (offset 0x%llx, size 0x%llx) lies outside "
				      "the file (%zu bytes)", path, i,
				      (unsigned long long)ph.offset,
				      (unsigned long long)ph.filesz, size);
		if (ph.paddr + ph.memsz < ph.paddr || ph.vaddr + ph.memsz < ph.vaddr)
			return nb_err("%s: PT_LOAD %u: address 0x%llx + size 0x%llx wraps around",
				      path, i, (unsigned long long)ph.paddr,
				      (unsigned long long)ph.memsz);
		if (e->nload >= ELF_MAX_SEGMENTS)
			return nb_err("%s: more than %d PT_LOAD segments", path, ELF_MAX_SEGMENTS);
		struct elf_segment *s = &e->load[e->nload++];
		s->offset = ph.offset;
		s->filesz = ph.filesz;
		s->paddr = ph.paddr;
		s->vaddr = ph.vaddr;
		s->memsz = ph.memsz;
		s->flags = ph.flags;
		if (ph.memsz == 0)
			continue;
		if (ph.paddr < e->lo_paddr)
			e->lo_paddr = ph.paddr;
		if (ph.paddr + ph.memsz > e->hi_paddr)
			e->hi_paddr = ph.paddr + ph.memsz;
	}
	if (e->nload == 0 || e->hi_paddr == 0)
		return nb_err("%s: ELF file has no loadable (PT_LOAD) segment", path);
	return 0;
}

int elf_load(const struct elf_image *e, struct guest_mem *m, uint64_t min_paddr)
{
	for (unsigned i = 0; i < e->nload; i++) {
		const struct elf_segment *s = &e->load[i];
		if (s->memsz == 0)
			continue;
		if (s->paddr < min_paddr || !mem_range_ok(m, s->paddr, s->memsz))
			return nb_err("%s: segment %u [0x%llx, 0x%llx) does not fit in guest RAM "
				      "(usable from 0x%llx, %llu MiB of RAM; try a larger -m)",
				      e->path, i, (unsigned long long)s->paddr,
				      (unsigned long long)(s->paddr + s->memsz),
				      (unsigned long long)min_paddr,
				      (unsigned long long)(m->size >> 20));
		/* parse() checked [offset, offset+filesz) is in the file */
		if (s->filesz && mem_copy_in(m, s->paddr, e->data + s->offset, s->filesz) < 0)
			return -1;
		if (s->memsz > s->filesz &&
		    mem_zero(m, s->paddr + s->filesz, s->memsz - s->filesz) < 0)
			return -1;
	}
	return 0;
}

/* Section header i, if the section table is sane; 0 or -1 (no nb_err). */
static int section(const struct elf_image *e, const struct elf_hdr *h, unsigned i,
		   struct elf_shdr *sh)
{
	size_t shsize = e->is64 ? SHDR64_SIZE : SHDR32_SIZE;
	if (h->shentsize != shsize || i >= h->shnum ||
	    !in_file(e->size, h->shoff, (uint64_t)h->shnum * shsize))
		return -1;
	read_shdr(e, e->data + h->shoff + (uint64_t)i * shsize, sh);
	return 0;
}

/* Walk every note in [p, p+len); fn returns nonzero to stop, which is
 * passed on.  align is the note alignment: 4, or 8 for 8-aligned note
 * segments, where (as glibc reads them) header+name and desc are each
 * padded to 8. */
static int notes_walk(const uint8_t *p, uint64_t len, uint64_t align, elf_note_fn fn, void *arg)
{
	if (align != 8)
		align = 4;
	uint64_t off = 0;
	while (len - off >= 12) {
		uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4);
		uint32_t ntype = rd32(p + off + 8);
		uint64_t name_off = off + 12;
		if (!in_file(len, name_off, namesz))
			return 0;
		uint64_t desc_off = (name_off + namesz + align - 1) & ~(align - 1);
		if (!in_file(len, desc_off, descsz))
			return 0;
		int r = fn(arg, p + name_off, namesz, ntype, p + desc_off, descsz);
		if (r)
			return r;
		uint64_t next = (desc_off + descsz + align - 1) & ~(align - 1);
		if (next > len)
			return 0; /* last note without padding */
		off = next;
	}
	return 0;
}

int elf_notes_each(const struct elf_image *e, elf_note_fn fn, void *arg)
{
	struct elf_hdr h;
	read_ehdr(e, &h);
	size_t phsize = e->is64 ? PHDR64_SIZE : PHDR32_SIZE;
	/* Each kind of note container is walked for at most the file's size in
	 * total.  In a real file the PT_NOTE segments are disjoint and so are
	 * the SHT_NOTE sections (the two kinds cover the same notes), so this
	 * never cuts one short; a crafted file whose 65535 headers all name the
	 * same megabytes of notes would otherwise cost headers x notes
	 * (issue 14: minutes for `nobios inspect` on a 5 MB file). */
	uint64_t budget = e->size;
	/* elf_parse checked the program header table */
	for (unsigned i = 0; i < h.phnum; i++) {
		struct elf_phdr ph;
		read_phdr(e, e->data + h.phoff + (uint64_t)i * phsize, &ph);
		if (ph.type != PT_NOTE || !in_file(e->size, ph.offset, ph.filesz))
			continue;
		if (ph.filesz > budget)
			break;
		budget -= ph.filesz;
		int r = notes_walk(e->data + ph.offset, ph.filesz, ph.align, fn, arg);
		if (r)
			return r;
	}
	budget = e->size;
	for (unsigned i = 0; i < h.shnum; i++) {
		struct elf_shdr sh;
		if (section(e, &h, i, &sh) < 0)
			break;
		if (sh.type != SHT_NOTE || !in_file(e->size, sh.offset, sh.size))
			continue;
		if (sh.size > budget)
			break;
		budget -= sh.size;
		int r = notes_walk(e->data + sh.offset, sh.size, sh.addralign, fn, arg);
		if (r)
			return r;
	}
	return 0;
}

struct note_want {
	const char *name;
	size_t namesz; /* counts the NUL */
	uint32_t type;
	const uint8_t **desc;
	size_t *desclen;
};

static int note_match(void *arg, const uint8_t *name, uint32_t namesz, uint32_t type,
		      const uint8_t *desc, uint32_t descsz)
{
	struct note_want *w = arg;
	if (type != w->type || namesz != w->namesz || memcmp(name, w->name, namesz) != 0)
		return 0;
	*w->desc = desc;
	*w->desclen = descsz;
	return 1;
}

int elf_find_note(const struct elf_image *e, const char *name, uint32_t type,
		  const uint8_t **desc, size_t *desclen)
{
	struct note_want w = { name, strlen(name) + 1, type, desc, desclen };
	return elf_notes_each(e, note_match, &w) == 1;
}

/* Look name up in the symbol table section sym; 1, 0, or -1 with nb_err. */
static int symtab_find(const struct elf_image *e, const struct elf_hdr *h,
		       const struct elf_shdr *sym, const char *name, uint64_t *value)
{
	size_t entsize = e->is64 ? SYM64_SIZE : SYM32_SIZE;
	struct elf_shdr str;
	if (!in_file(e->size, sym->offset, sym->size))
		return nb_err("%s: symbol table (offset 0x%llx, size 0x%llx) lies outside the file",
			      e->path, (unsigned long long)sym->offset,
			      (unsigned long long)sym->size);
	if (sym->entsize != entsize)
		return nb_err("%s: symbol table entry size %llu, expected %zu", e->path,
			      (unsigned long long)sym->entsize, entsize);
	if (section(e, h, sym->link, &str) < 0 || str.type != SHT_STRTAB)
		return nb_err("%s: symbol table's string table (section %u) is missing or bad",
			      e->path, sym->link);
	if (!in_file(e->size, str.offset, str.size))
		return nb_err("%s: string table lies outside the file", e->path);
	const char *strs = (const char *)e->data + str.offset;
	size_t want = strlen(name);
	uint64_t n = sym->size / entsize;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = e->data + sym->offset + i * entsize;
		uint32_t st_name = rd32(p);
		uint16_t shndx = e->is64 ? rd16(p + 6) : rd16(p + 14);
		if (shndx == SHN_UNDEF || st_name >= str.size)
			continue;
		/* the name plus its NUL must lie inside the string table */
		if (str.size - st_name < want + 1)
			continue;
		if (memcmp(strs + st_name, name, want) == 0 && strs[st_name + want] == 0) {
			*value = e->is64 ? rd64(p + 8) : rd32(p + 4);
			return 1;
		}
	}
	return 0;
}

int elf_find_symbol(const struct elf_image *e, const char *name, uint64_t *value)
{
	struct elf_hdr h;
	read_ehdr(e, &h);
	if (h.shnum == 0)
		return 0;
	size_t shsize = e->is64 ? SHDR64_SIZE : SHDR32_SIZE;
	if (h.shentsize != shsize)
		return nb_err("%s: e_shentsize %u, expected %zu", e->path, h.shentsize, shsize);
	if (!in_file(e->size, h.shoff, (uint64_t)h.shnum * shsize))
		return nb_err("%s: section headers (offset 0x%llx, %u entries) lie outside the file",
			      e->path, (unsigned long long)h.shoff, h.shnum);
	/* The gABI allows one section of each type ("currently, an object file
	 * may have only one section of each type"): the first .symtab, then the
	 * first .dynsym.  Searching every such section would let a crafted file
	 * with 65535 headers naming one big table cost headers x symbols. */
	static const uint32_t order[] = { SHT_SYMTAB, SHT_DYNSYM };
	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < h.shnum; i++) {
			struct elf_shdr sh;
			if (section(e, &h, i, &sh) < 0 || sh.type != order[k])
				continue;
			int r = symtab_find(e, &h, &sh, name, value);
			if (r != 0)
				return r;
			break;
		}
	return 0;
}

int elf_vaddr_to_paddr(const struct elf_image *e, uint64_t vaddr, uint64_t *paddr)
{
	for (unsigned i = 0; i < e->nload; i++) {
		const struct elf_segment *s = &e->load[i];
		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->memsz) {
			*paddr = s->paddr + (vaddr - s->vaddr);
			return 1;
		}
	}
	return 0;
}
