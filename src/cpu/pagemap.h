/* pagemap.h - build 4-level page tables that map a virtual range onto a
 * physical one (Intel SDM vol 3A 4.5 "4-level paging and 5-level paging",
 * tables 4-15 to 4-20), on top of the identity map cpu_state.c builds.
 *
 * An ELF64 kernel linked at a virtual address other than its load address
 * (OSv: p_vaddr = p_paddr + 1 GiB) needs its PT_LOADs mapped where it was
 * linked before its first instruction runs; the builder makes exactly those
 * entries: 2 MiB pages where a whole 2 MiB virtual region maps onto a
 * 2 MiB-aligned physical one, 4 KiB pages elsewhere.  What it replaces keeps
 * its translation for the rest of the region: a 2 MiB page split to make room
 * for 4 KiB ones becomes 512 4 KiB entries with the same targets.  Table
 * pages come from one area (struct cpu_pt_area) in order; running out is an
 * error, never a write outside it.  Entries are P|RW (supervisor, executable):
 * the entry state's job is to make the image reachable; the kernel sets its
 * own permissions in its own tables. */
#ifndef NOBIOS_CPU_PAGEMAP_H
#define NOBIOS_CPU_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define CPU_PAGE_4K 0x1000ULL
#define CPU_PAGE_2M 0x200000ULL
/* 4-level paging: linear addresses have 48 bits, sign-extended from bit 47
 * (SDM 3.3.7.1 "canonical addressing"). */
#define CPU_VA_BITS 48

/* Where table pages come from: [base, end), 4 KiB aligned, handed out in
 * order from next. */
struct cpu_pt_area {
	uint64_t base, end, next;
};

/* What a mapping used, for -v and `nobios inspect`. */
struct cpu_map_stats {
	uint64_t pages_2m, pages_4k; /* leaf entries written */
	unsigned tables;             /* table pages taken from the area */
	unsigned splits;             /* 2 MiB pages split into 4 KiB ones */
};

void cpu_pt_area_init(struct cpu_pt_area *a, uint64_t base, uint64_t end);
/* Table pages the area still has. */
unsigned cpu_pt_area_free(const struct cpu_pt_area *a);

/* true if va is canonical for 4-level paging. */
bool cpu_va_canonical(uint64_t va);

/* Map [va, va+len) onto [pa, pa+len) in the 4-level tables rooted at pml4
 * (a guest-physical page), taking new tables from a.  The range is widened
 * to whole 4 KiB pages, so va and pa must have the same offset within a
 * page.  Refused (nb_err, nothing promised about entries already written):
 * len 0 or a wrapping range, a range that is not canonical or crosses the
 * non-canonical hole, va and pa at different page offsets, pa beyond
 * 52 bits, an area too small for the tables needed, a 1 GiB page in the way.
 * stats (may be NULL) is added to. */
int cpu_map_range(struct guest_mem *m, uint64_t pml4, struct cpu_pt_area *a, uint64_t va,
		  uint64_t pa, uint64_t len, struct cpu_map_stats *stats);

#endif
