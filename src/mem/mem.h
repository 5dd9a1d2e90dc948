/* mem.h - guest memory: the one place that turns guest-physical addresses into
 * host pointers, with bounds checks.  Nothing else does pointer arithmetic on
 * guest memory.
 *
 * RAM below LAYOUT_MMIO_HOLE sits at guest-physical 0; RAM beyond that sits at
 * 4 GiB.  Host memory is one contiguous mapping: low RAM first, high RAM after.
 */
#ifndef NOBIOS_MEM_MEM_H
#define NOBIOS_MEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;      /* low RAM, then high RAM */
	uint64_t size;      /* total RAM in bytes */
	uint64_t low_size;  /* RAM at [0, low_size) */
	uint64_t high_size; /* RAM at [4 GiB, 4 GiB + high_size) */
	bool owned;         /* host was mmap'ed by mem_init */
};

/* Allocate `size` bytes of zeroed guest RAM (anonymous mmap). */
int mem_init(struct guest_mem *m, uint64_t size);
/* Use a caller's zeroed buffer of `size` bytes as guest RAM (unit tests). */
int mem_init_buf(struct guest_mem *m, void *buf, uint64_t size);
void mem_free(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len) if it lies entirely in one RAM region,
 * else NULL.  len 0 is treated as 1. */
void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
bool mem_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Bytes of RAM contiguous from gpa (0 if gpa is not RAM). */
uint64_t mem_avail(const struct guest_mem *m, uint64_t gpa);
/* End of RAM below 4 GiB. */
static inline uint64_t mem_low_top(const struct guest_mem *m) { return m->low_size; }

/* Checked copies: return 0, or -1 with nb_err() naming the range. */
int mem_copy_in(struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int mem_copy_out(const struct guest_mem *m, void *dst, uint64_t gpa, uint64_t len);
int mem_zero(struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copy a NUL-terminated string of at most max bytes (incl. NUL) from gpa. */
int mem_read_str(const struct guest_mem *m, uint64_t gpa, char *dst, size_t max);

int mem_read8(const struct guest_mem *m, uint64_t gpa, uint8_t *v);
int mem_read16(const struct guest_mem *m, uint64_t gpa, uint16_t *v);
int mem_read32(const struct guest_mem *m, uint64_t gpa, uint32_t *v);
int mem_read64(const struct guest_mem *m, uint64_t gpa, uint64_t *v);
int mem_write8(struct guest_mem *m, uint64_t gpa, uint8_t v);
int mem_write16(struct guest_mem *m, uint64_t gpa, uint16_t v);
int mem_write32(struct guest_mem *m, uint64_t gpa, uint32_t v);
int mem_write64(struct guest_mem *m, uint64_t gpa, uint64_t v);

/* ---- E820: the one memory-map builder; every format converts its output. */
#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI     3
#define E820_TYPE_NVS      4
#define E820_TYPE_UNUSABLE 5
#define E820_MAX_ENTRIES   128 /* E820_MAX_ENTRIES_ZEROPAGE in bootparam.h */

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_map {
	struct e820_entry e[E820_MAX_ENTRIES];
	unsigned n;
};

/* The map of nobios's layout for this RAM size: usable [0, 0x9FC00),
 * reserved EBDA [0x9FC00, 0xA0000) and system BIOS area [0xE0000,
 * 0x100000) (ACPI/MP tables, pseudo-BIOS), usable
 * [1 MiB, low top), usable [4 GiB, 4 GiB + high). */
void e820_build(struct e820_map *map, const struct guest_mem *m);
int e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type);
const char *e820_type_name(uint32_t type);

#endif
