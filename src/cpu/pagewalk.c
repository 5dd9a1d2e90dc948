/* pagewalk.c - the guest page-table walker (Intel SDM vol 3A ch. 4). */
#include "cpu/pagewalk.h"

#include <string.h>

#include "mem/mem.h"
#include "util/err.h"

/* Physical-address bits of an entry (MAXPHYADDR up to 52). */
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

static int fail(struct cpu_walk *w, enum cpu_walk_fault f, int level, uint64_t va)
{
	w->fault = f;
	w->fault_level = level;
	if (f == CPU_WALK_NONCANONICAL)
		return nb_err("linear address 0x%llx is not canonical", (unsigned long long)va);
	const char *why = f == CPU_WALK_NOT_PRESENT ? "not present"
			  : f == CPU_WALK_RESERVED ? "has a reserved bit set"
						    : "lies outside guest RAM";
	return nb_err("linear address 0x%llx: %s at 0x%llx = 0x%llx %s",
		      (unsigned long long)va, w->entry[level].name,
		      (unsigned long long)w->entry[level].addr,
		      (unsigned long long)w->entry[level].value, why);
}

/* Read one entry of `size` bytes (4 or 8) into the walk record. */
static int read_entry(const struct guest_mem *m, struct cpu_walk *w, const char *name,
		      uint64_t addr, unsigned size, uint64_t va)
{
	unsigned lv = w->levels++;
	w->entry[lv].addr = addr;
	w->entry[lv].name = name;
	w->entry[lv].value = 0;
	if (size == 4) {
		uint32_t v;
		if (mem_read32(m, addr, &v) < 0)
			return fail(w, CPU_WALK_TABLE_NOT_RAM, (int)lv, va);
		w->entry[lv].value = v;
	} else {
		if (mem_read64(m, addr, &w->entry[lv].value) < 0)
			return fail(w, CPU_WALK_TABLE_NOT_RAM, (int)lv, va);
	}
	if (!(w->entry[lv].value & PTE_P))
		return fail(w, CPU_WALK_NOT_PRESENT, (int)lv, va);
	return 0;
}

/* Fold an entry's permission bits into the running flags. */
static void fold(const struct cpu_state *s, struct cpu_walk *w, uint64_t e, unsigned *rw,
		 unsigned *us, unsigned *nx)
{
	if (!(e & PTE_RW))
		*rw = 0;
	if (!(e & PTE_US))
		*us = 0;
	if ((e & PTE_NX) && (s->efer & X86_EFER_NXE))
		*nx = 1;
	(void)w;
}

static void finish(struct cpu_walk *w, uint64_t leaf, uint64_t page_size, unsigned rw,
		   unsigned us, unsigned nx)
{
	w->page_size = page_size;
	w->flags = (rw ? CPU_WALK_WRITE : 0) | (us ? CPU_WALK_USER : 0) | (nx ? CPU_WALK_NX : 0) |
		   ((leaf & PTE_G) ? CPU_WALK_GLOBAL : 0) | ((leaf & PTE_D) ? CPU_WALK_DIRTY : 0);
}

static int walk_long(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		     uint64_t *pa, struct cpu_walk *w)
{
	bool la57 = s->cr4 & X86_CR4_LA57;
	unsigned vbits = la57 ? 57 : 48;
	/* Canonical: bits 63:vbits-1 all equal (SDM 3.3.7.1). */
	int64_t sx = (int64_t)(va << (64 - vbits)) >> (64 - vbits);
	if ((uint64_t)sx != va)
		return fail(w, CPU_WALK_NONCANONICAL, -1, va);
	w->mode = la57 ? "5-level" : "4-level";

	static const char *const names[] = {"PML5E", "PML4E", "PDPTE", "PDE", "PTE"};
	unsigned first = la57 ? 0 : 1;
	uint64_t table = s->cr3 & PTE_ADDR_MASK;
	unsigned rw = 1, us = 1, nx = 0;
	for (unsigned lvl = first; lvl < 5; lvl++) {
		unsigned shift = 12 + 9 * (4 - lvl); /* PML5:48 PML4:39 PDPT:30 PD:21 PT:12 */
		uint64_t idx = (va >> shift) & 0x1FF;
		if (read_entry(m, w, names[lvl], table + idx * 8, 8, va) < 0)
			return -1;
		uint64_t e = w->entry[w->levels - 1].value;
		fold(s, w, e, &rw, &us, &nx);
		if (e & PTE_PS) {
			/* PS is reserved in PML5E/PML4E; a leaf in PDPTE (1 GiB)
			 * and PDE (2 MiB) only. */
			if (lvl < 2)
				return fail(w, CPU_WALK_RESERVED, (int)w->levels - 1, va);
			if (lvl == 2 || lvl == 3) {
				uint64_t size = 1ULL << shift;
				*pa = (e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
				finish(w, e, size, rw, us, nx);
				return 0;
			}
			/* In a PTE bit 7 is PAT: not a size bit. */
		}
		if (lvl == 4) {
			*pa = (e & PTE_ADDR_MASK) | (va & 0xFFF);
			finish(w, e, 4096, rw, us, nx);
			return 0;
		}
		table = e & PTE_ADDR_MASK;
	}
	return -1; /* not reached */
}

static int walk_pae(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		    uint64_t *pa, struct cpu_walk *w)
{
	va &= 0xFFFFFFFFULL;
	w->mode = "PAE";
	unsigned rw = 1, us = 1, nx = 0;
	/* CR3[31:5] locates the 4-entry PDPT (SDM 4.4.1); PDPTEs carry no
	 * R/W, U/S or XD bits. */
	uint64_t pdpt = s->cr3 & 0xFFFFFFE0ULL;
	if (read_entry(m, w, "PDPTE", pdpt + ((va >> 30) & 3) * 8, 8, va) < 0)
		return -1;
	uint64_t e = w->entry[0].value;
	if (e & 0x1E6ULL) /* bits 2:1 and 8:5 reserved */
		return fail(w, CPU_WALK_RESERVED, 0, va);
	if (read_entry(m, w, "PDE", (e & PTE_ADDR_MASK) + ((va >> 21) & 0x1FF) * 8, 8, va) < 0)
		return -1;
	e = w->entry[1].value;
	fold(s, w, e, &rw, &us, &nx);
	if (e & PTE_PS) {
		*pa = (e & PTE_ADDR_MASK & ~0x1FFFFFULL) | (va & 0x1FFFFF);
		finish(w, e, 2ULL << 20, rw, us, nx);
		return 0;
	}
	if (read_entry(m, w, "PTE", (e & PTE_ADDR_MASK) + ((va >> 12) & 0x1FF) * 8, 8, va) < 0)
		return -1;
	e = w->entry[2].value;
	fold(s, w, e, &rw, &us, &nx);
	*pa = (e & PTE_ADDR_MASK) | (va & 0xFFF);
	finish(w, e, 4096, rw, us, nx);
	return 0;
}

static int walk_32(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		   uint64_t *pa, struct cpu_walk *w)
{
	va &= 0xFFFFFFFFULL;
	w->mode = "32-bit";
	unsigned rw = 1, us = 1, nx = 0;
	uint64_t pd = s->cr3 & 0xFFFFF000ULL;
	if (read_entry(m, w, "PDE", pd + (va >> 22) * 4, 4, va) < 0)
		return -1;
	uint64_t e = w->entry[0].value;
	fold(s, w, e, &rw, &us, &nx);
	if ((e & PTE_PS) && (s->cr4 & X86_CR4_PSE)) {
		/* 4 MiB page; PSE-36 puts PA bits 39:32 in PDE bits 20:13 (SDM 4.3). */
		uint64_t base = (e & 0xFFC00000ULL) | (((e >> 13) & 0xFF) << 32);
		*pa = base | (va & 0x3FFFFF);
		finish(w, e, 4ULL << 20, rw, us, nx);
		return 0;
	}
	if (read_entry(m, w, "PTE", (e & 0xFFFFF000ULL) + ((va >> 12) & 0x3FF) * 4, 4, va) < 0)
		return -1;
	e = w->entry[1].value;
	fold(s, w, e, &rw, &us, &nx);
	*pa = (e & 0xFFFFF000ULL) | (va & 0xFFF);
	finish(w, e, 4096, rw, us, nx);
	return 0;
}

int cpu_translate(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		  uint64_t *pa, struct cpu_walk *walk)
{
	struct cpu_walk local;
	/* cppcheck-suppress uninitvar ; local is only addressed here, and the
	 * memset below initialises whichever of the two w points to */
	struct cpu_walk *w = walk ? walk : &local;
	memset(w, 0, sizeof(*w));
	w->fault_level = -1;
	uint64_t out = 0;
	int rc;
	if (!(s->cr0 & X86_CR0_PG) || !(s->cr0 & X86_CR0_PE)) {
		w->mode = "none";
		w->flags = CPU_WALK_WRITE | CPU_WALK_USER | CPU_WALK_NOPAGING;
		/* Outside long mode linear addresses are 32 bits wide. */
		out = (s->efer & X86_EFER_LMA) ? va : (va & 0xFFFFFFFFULL);
		rc = 0;
	} else if (s->efer & X86_EFER_LMA) {
		rc = walk_long(m, s, va, &out, w);
	} else if (s->cr4 & X86_CR4_PAE) {
		rc = walk_pae(m, s, va, &out, w);
	} else {
		rc = walk_32(m, s, va, &out, w);
	}
	if (rc == 0 && pa)
		*pa = out;
	return rc;
}

int cpu_walk_allows(const struct cpu_state *s, const struct cpu_walk *w, unsigned access)
{
	if (w->fault != CPU_WALK_OK)
		return 0;
	if (w->flags & CPU_WALK_NOPAGING)
		return 1;
	if ((access & CPU_ACCESS_USER) && !(w->flags & CPU_WALK_USER))
		return 0;
	if ((access & CPU_ACCESS_EXEC) && (w->flags & CPU_WALK_NX))
		return 0;
	if ((access & CPU_ACCESS_WRITE) && !(w->flags & CPU_WALK_WRITE)) {
		/* Supervisor writes ignore R/W unless CR0.WP (SDM 4.6.1). */
		if ((access & CPU_ACCESS_USER) || (s->cr0 & X86_CR0_WP))
			return 0;
	}
	return 1;
}

static size_t copy_linear(struct guest_mem *m, const struct cpu_state *s, uint64_t va,
			  uint8_t *buf, size_t len, bool write)
{
	size_t done = 0;
	while (done < len) {
		uint64_t pa = 0;
		if (cpu_translate(m, s, va + done, &pa, NULL) < 0)
			break;
		/* Never cross a 4 KiB boundary in one copy: the next page may
		 * map elsewhere, and so may the next physical region. */
		uint64_t chunk = 4096 - ((va + done) & 0xFFF);
		if (chunk > len - done)
			chunk = len - done;
		int rc = write ? mem_copy_in(m, pa, buf + done, chunk)
			       : mem_copy_out(m, buf + done, pa, chunk);
		if (rc < 0)
			break;
		done += chunk;
	}
	return done;
}

size_t cpu_read_linear(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		       void *buf, size_t len)
{
	/* copy_linear only writes guest memory when `write` is set. */
	return copy_linear((struct guest_mem *)m, s, va, buf, len, false);
}

size_t cpu_write_linear(struct guest_mem *m, const struct cpu_state *s, uint64_t va,
			const void *buf, size_t len)
{
	return copy_linear(m, s, va, (uint8_t *)buf, len, true);
}

static const char *size_name(uint64_t sz)
{
	switch (sz) {
	case 4096: return "4 KiB";
	case 2ULL << 20: return "2 MiB";
	case 4ULL << 20: return "4 MiB";
	case 1ULL << 30: return "1 GiB";
	}
	return "?";
}

char *cpu_walk_describe(const struct cpu_walk *w, uint64_t va, uint64_t pa, char *out,
			size_t len)
{
	if (w->fault == CPU_WALK_OK && (w->flags & CPU_WALK_NOPAGING)) {
		snprintf(out, len, "0x%llx (paging off)", (unsigned long long)pa);
	} else if (w->fault == CPU_WALK_OK) {
		snprintf(out, len, "0x%llx -> 0x%llx (%s page, %s)%s%s%s", (unsigned long long)va,
			 (unsigned long long)pa, size_name(w->page_size), w->mode,
			 (w->flags & CPU_WALK_WRITE) ? " RW" : " RO",
			 (w->flags & CPU_WALK_USER) ? " U" : " S", (w->flags & CPU_WALK_NX) ? " NX" : "");
	} else if (w->fault == CPU_WALK_NONCANONICAL) {
		snprintf(out, len, "0x%llx not canonical", (unsigned long long)va);
	} else {
		int l = w->fault_level;
		const char *why = w->fault == CPU_WALK_NOT_PRESENT ? "not present"
				  : w->fault == CPU_WALK_RESERVED ? "reserved bit set"
								    : "table outside RAM";
		snprintf(out, len, "0x%llx %s: %s at 0x%llx = 0x%llx (%s)", (unsigned long long)va,
			 why, l >= 0 ? w->entry[l].name : "?",
			 (unsigned long long)(l >= 0 ? w->entry[l].addr : 0),
			 (unsigned long long)(l >= 0 ? w->entry[l].value : 0), w->mode ? w->mode : "?");
	}
	return out;
}
