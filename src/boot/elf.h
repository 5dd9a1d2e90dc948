/* elf.h - ELF32/ELF64 parsing and loading for the boot formats (vmlinux,
 * PVH, multiboot ELF, ELF64 at a symbol).  Every offset, size and count read
 * from the file is checked against the file before use; malformed input gets
 * nb_err() naming the file and the problem. */
#ifndef NOBIOS_BOOT_ELF_H
#define NOBIOS_BOOT_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;

#define ELF_MAX_SEGMENTS 64

struct elf_segment {
	uint64_t offset, filesz; /* in the file */
	uint64_t paddr, vaddr, memsz;
	uint32_t flags;          /* PF_X/PF_W/PF_R */
};

struct elf_image {
	const char *path;        /* for messages */
	const uint8_t *data;
	size_t size;
	bool is64;
	uint16_t machine;        /* EM_X86_64 or EM_386 */
	uint64_t entry;          /* e_entry */
	struct elf_segment load[ELF_MAX_SEGMENTS]; /* PT_LOAD only, file order */
	unsigned nload;
	uint64_t lo_paddr, hi_paddr; /* [lowest paddr, highest paddr+memsz) */
};

/* 1 if data starts with an ELF identification, else 0. */
int elf_is_elf(const uint8_t *data, size_t size);
/* Parse headers and PT_LOAD segments; 0 or -1 with nb_err(). */
int elf_parse(struct elf_image *e, const char *path, const uint8_t *data, size_t size);
/* Copy every PT_LOAD to its physical address (bss zeroed).  Each segment must
 * lie in guest RAM at or above min_paddr; 0 or -1 with nb_err(). */
int elf_load(const struct elf_image *e, struct guest_mem *m, uint64_t min_paddr);
/* Find a note (PT_NOTE segments, then SHT_NOTE sections) by owner name and
 * type.  On success *desc points into the file; returns 1 found, 0 not. */
int elf_find_note(const struct elf_image *e, const char *name, uint32_t type,
		  const uint8_t **desc, size_t *desclen);
/* Call fn on every note (PT_NOTE segments, then SHT_NOTE sections) until it
 * returns nonzero, which elf_notes_each returns (0 when it never did).  The
 * walk reads at most the file's size of notes per kind of container, so it
 * is linear in the file whatever its headers claim. */
typedef int (*elf_note_fn)(void *arg, const uint8_t *name, uint32_t namesz, uint32_t type,
			   const uint8_t *desc, uint32_t descsz);
int elf_notes_each(const struct elf_image *e, elf_note_fn fn, void *arg);
/* Look a symbol up in .symtab (then .dynsym); 1 found, 0 not, -1 malformed. */
int elf_find_symbol(const struct elf_image *e, const char *name, uint64_t *value);
/* Translate a virtual address to physical through the PT_LOAD segments;
 * 1 if some segment covers it. */
int elf_vaddr_to_paddr(const struct elf_image *e, uint64_t vaddr, uint64_t *paddr);

#endif
