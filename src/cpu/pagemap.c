/* pagemap.c - map virtual ranges onto physical ones in 4-level page tables
 * (SDM vol 3A 4.5: PML4E, PDPTE, PDE and PTE formats, tables 4-15 to 4-20).
 * See pagemap.h for what is built and why. */
#include "cpu/pagemap.h"

#include <inttypes.h>

#include "cpu/cpu.h"
#include "mem/mem.h"
#include "util/err.h"

#define PT_ENTRIES     512
/* Address bits of an entry that points at a table or a 4 KiB page, and of a
 * 2 MiB / 1 GiB leaf (MAXPHYADDR up to 52). */
#define PTE_ADDR_MASK  0x000FFFFFFFFFF000ULL
#define PHYS_LIMIT     (1ULL << 52)
/* Bits of a leaf besides its address: 0-11 (with PS at 7 in a large page),
 * PAT at bit 12 of a large page but bit 7 of a PTE, and 52-63 (protection
 * key, XD). */
#define PTE_LOW_ATTRS  0xFFFULL
#define PTE_HIGH_ATTRS 0xFFF0000000000000ULL
#define PDE_PAT_LARGE  (1ULL << 12)
#define PTE_PAT_4K     (1ULL << 7)

/* Entry index of va at the level whose entries map 1 << shift bytes. */
static uint64_t entry_index(uint64_t va, unsigned shift) { return (va >> shift) & (PT_ENTRIES - 1); }

void cpu_pt_area_init(struct cpu_pt_area *a, uint64_t base, uint64_t end)
{
	a->base = a->next = base;
	a->end = end;
}

unsigned cpu_pt_area_free(const struct cpu_pt_area *a)
{
	return a->next < a->end ? (unsigned)((a->end - a->next) / CPU_PAGE_4K) : 0;
}

bool cpu_va_canonical(uint64_t va)
{
	const unsigned ext = 64 - CPU_VA_BITS;
	return (uint64_t)((int64_t)(va << ext) >> ext) == va;
}

static int take_table(struct guest_mem *m, struct cpu_pt_area *a, struct cpu_map_stats *st,
		      uint64_t *gpa)
{
	if (cpu_pt_area_free(a) == 0)
		return nb_err("the virtual mappings need more page tables than the %" PRIu64
			      " pages at [0x%" PRIx64 ", 0x%" PRIx64 ") hold",
			      (uint64_t)((a->end - a->base) / CPU_PAGE_4K), a->base, a->end);
	if (mem_zero(m, a->next, CPU_PAGE_4K) < 0)
		return -1;
	*gpa = a->next;
	a->next += CPU_PAGE_4K;
	st->tables++;
	return 0;
}

/* The table the entry at entry_gpa (an entry mapping 1 << shift bytes) points
 * at.  A missing one is made empty.  A large page there (1 GiB in a PDPTE,
 * 2 MiB in a PDE) is split: the new table's 512 entries map the same
 * physical range with the same attributes, so only what the caller then
 * overwrites changes translation. */
static int table_of(struct guest_mem *m, struct cpu_pt_area *a, struct cpu_map_stats *st,
		    uint64_t entry_gpa, unsigned shift, uint64_t *table)
{
	uint64_t e;
	if (mem_read64(m, entry_gpa, &e) < 0)
		return -1;
	if ((e & PTE_P) && !(e & PTE_PS)) {
		*table = e & PTE_ADDR_MASK;
		return 0;
	}
	uint64_t t = 0;
	if (take_table(m, a, st, &t) < 0)
		return -1;
	uint64_t pointer = t | PTE_P | PTE_RW;
	if (e & PTE_P) {
		/* PS is reserved in a PML4E (SDM table 4-15): never ours to split. */
		if (shift > 30)
			return nb_err_internal("PML4E at 0x%" PRIx64 " = 0x%" PRIx64 " has PS set",
					       entry_gpa, e);
		uint64_t size = 1ULL << shift, child = size / PT_ENTRIES;
		uint64_t base = e & PTE_ADDR_MASK & ~(size - 1);
		uint64_t attrs = (e & PTE_LOW_ATTRS & ~PTE_PS) | (e & PTE_HIGH_ATTRS);
		if (child == CPU_PAGE_4K) /* PTE: PAT moves from bit 12 to bit 7 */
			attrs |= (e & PDE_PAT_LARGE) ? PTE_PAT_4K : 0;
		else /* 2 MiB leaves keep PS and PAT at bit 12 */
			attrs |= PTE_PS | (e & PDE_PAT_LARGE);
		for (uint64_t i = 0; i < PT_ENTRIES; i++)
			if (mem_write64(m, t + i * 8, (base + i * child) | attrs) < 0)
				return -1;
		pointer = t | (e & (PTE_P | PTE_RW | PTE_US | PTE_NX));
		st->splits++;
	}
	if (mem_write64(m, entry_gpa, pointer) < 0)
		return -1;
	*table = t;
	return 0;
}

int cpu_map_range(struct guest_mem *m, uint64_t pml4, struct cpu_pt_area *a, uint64_t va,
		  uint64_t pa, uint64_t len, struct cpu_map_stats *stats)
{
	struct cpu_map_stats dummy = { 0 };
	struct cpu_map_stats *st = stats ? stats : &dummy;
	if (len == 0 || len - 1 > UINT64_MAX - va || len - 1 > UINT64_MAX - pa)
		return nb_err("mapping of 0x%" PRIx64 " bytes at virtual 0x%" PRIx64
			      " is empty or wraps around", len, va);
	uint64_t last = va + (len - 1);
	if (!cpu_va_canonical(va) || !cpu_va_canonical(last) || (va ^ last) >> 63)
		return nb_err("virtual range [0x%" PRIx64 ", 0x%" PRIx64 "] is not canonical "
			      "(4-level paging needs bits 63-47 of every address equal)", va, last);
	if ((va ^ pa) & (CPU_PAGE_4K - 1))
		return nb_err("virtual 0x%" PRIx64 " and physical 0x%" PRIx64 " differ in their "
			      "offset within a 4 KiB page: no page mapping joins them", va, pa);
	if (pa + (len - 1) >= PHYS_LIMIT)
		return nb_err("physical range [0x%" PRIx64 ", 0x%" PRIx64 "] lies beyond the "
			      "52-bit physical address space", pa, pa + (len - 1));
	uint64_t v = va & ~(CPU_PAGE_4K - 1), p = pa & ~(CPU_PAGE_4K - 1);
	uint64_t npages = (last >> 12) - (va >> 12) + 1;
	const uint64_t per_pd_entry = CPU_PAGE_2M / CPU_PAGE_4K;
	while (npages) {
		uint64_t pdpt, pd, pt, pde_val;
		if (table_of(m, a, st, pml4 + entry_index(v, 39) * 8, 39, &pdpt) < 0 ||
		    table_of(m, a, st, pdpt + entry_index(v, 30) * 8, 30, &pd) < 0)
			return -1;
		uint64_t pde = pd + entry_index(v, 21) * 8;
		if (mem_read64(m, pde, &pde_val) < 0)
			return -1;
		bool pde_is_table = (pde_val & PTE_P) && !(pde_val & PTE_PS);
		/* A whole 2 MiB region onto a 2 MiB-aligned frame: one PDE
		 * (table 4-18).  A table already there holds another range's
		 * 4 KiB pages in this region: add to it instead. */
		if (!(v & (CPU_PAGE_2M - 1)) && !(p & (CPU_PAGE_2M - 1)) && npages >= per_pd_entry &&
		    !pde_is_table) {
			if (mem_write64(m, pde, p | PTE_P | PTE_RW | PTE_PS) < 0)
				return -1;
			st->pages_2m++;
			v += CPU_PAGE_2M;
			p += CPU_PAGE_2M;
			npages -= per_pd_entry;
			continue;
		}
		if (table_of(m, a, st, pde, 21, &pt) < 0)
			return -1;
		uint64_t n = per_pd_entry - entry_index(v, 12); /* pages left in this region */
		if (n > npages)
			n = npages;
		for (uint64_t i = 0; i < n; i++, v += CPU_PAGE_4K, p += CPU_PAGE_4K)
			if (mem_write64(m, pt + entry_index(v, 12) * 8, p | PTE_P | PTE_RW) < 0)
				return -1;
		st->pages_4k += n;
		npages -= n;
	}
	return 0;
}
