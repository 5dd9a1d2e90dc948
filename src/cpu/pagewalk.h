/* pagewalk.h - translate guest linear addresses through the guest's own page
 * tables, as the MMU would (Intel SDM vol 3A ch. 4 "Paging"): 32-bit paging
 * (4 KiB and, with CR4.PSE, 4 MiB pages incl. PSE-36), PAE paging (4 KiB and
 * 2 MiB pages), 4-level and 5-level (CR4.LA57) paging (4 KiB, 2 MiB, 1 GiB).
 *
 * Used by the failure dump (RIP/RSP translation, bytes at RIP), the gdb stub
 * (m/M packets, breakpoints) and instruction completion.  The walk is
 * read-only: it never sets Accessed/Dirty bits, so a debugger that reads
 * memory does not change what the guest sees.  Table reads go through the
 * bounds-checked mem.h accessors; a table outside RAM is reported, not
 * followed.
 *
 * Addresses are linear (segment base already added).  With paging off the
 * linear address is the physical one (truncated to 32 bits outside long mode).
 */
#ifndef NOBIOS_CPU_PAGEWALK_H
#define NOBIOS_CPU_PAGEWALK_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct guest_mem;

/* Effective permissions of a translation (SDM 4.6: R/W and U/S are ANDed
 * over all levels, XD is ORed and only counts with EFER.NXE). */
#define CPU_WALK_WRITE 0x01u /* every level has R/W=1 */
#define CPU_WALK_USER  0x02u /* every level has U/S=1 */
#define CPU_WALK_NX    0x04u /* some level has XD=1 and EFER.NXE=1 */
#define CPU_WALK_GLOBAL 0x08u /* the leaf has G=1 */
#define CPU_WALK_DIRTY 0x10u /* the leaf has D=1 */
#define CPU_WALK_NOPAGING 0x20u /* CR0.PG=0: identity, all access allowed */

/* Why a walk failed. */
enum cpu_walk_fault {
	CPU_WALK_OK = 0,
	CPU_WALK_NOT_PRESENT,    /* an entry has P=0 (fault_level says which) */
	CPU_WALK_RESERVED,       /* a reserved bit is set (e.g. PS in a PML4E) */
	CPU_WALK_NONCANONICAL,   /* 64-bit linear address is not canonical */
	CPU_WALK_TABLE_NOT_RAM,  /* a table lies outside guest RAM */
};

/* Access rights a caller wants checked (cpu_walk_allows). */
#define CPU_ACCESS_WRITE 0x1u
#define CPU_ACCESS_USER  0x2u
#define CPU_ACCESS_EXEC  0x4u

#define CPU_WALK_MAX_LEVELS 5

/* Details of one walk, for dumps and debuggers. */
struct cpu_walk {
	enum cpu_walk_fault fault;
	unsigned flags;              /* CPU_WALK_* permission flags (valid when fault == OK) */
	uint64_t page_size;          /* 4 KiB, 2 MiB, 4 MiB or 1 GiB (0 when paging is off) */
	unsigned levels;             /* entries read */
	int fault_level;             /* index into entry[] of the failing entry, -1 if none */
	struct {
		uint64_t addr;       /* guest-physical address of the entry */
		uint64_t value;
		const char *name;    /* "PML5E", "PML4E", "PDPTE", "PDE", "PTE" */
	} entry[CPU_WALK_MAX_LEVELS];
	const char *mode;            /* "4-level", "5-level", "PAE", "32-bit", "none" */
};

/* Translate linear address va.  Returns 0 with *pa set, or -1 with nb_err()
 * naming the address and the failing entry.  walk (may be NULL) receives the
 * details either way. */
int cpu_translate(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		  uint64_t *pa, struct cpu_walk *walk);

/* Whether a successful walk permits the access (CPU_ACCESS_* bits), ignoring
 * CR0.WP/SMEP/SMAP subtleties: supervisor writes to read-only pages are
 * reported as not allowed only when CR0.WP=1. */
int cpu_walk_allows(const struct cpu_state *s, const struct cpu_walk *w, unsigned access);

/* Copy len bytes at linear address va out of / into guest memory, page by
 * page.  Return the number of bytes done (stops at the first page that does
 * not translate or is not RAM; nb_err() then says why). */
size_t cpu_read_linear(const struct guest_mem *m, const struct cpu_state *s, uint64_t va,
		       void *buf, size_t len);
size_t cpu_write_linear(struct guest_mem *m, const struct cpu_state *s, uint64_t va,
			const void *buf, size_t len);

/* One line describing a walk ("va 0x.. -> pa 0x.. (2 MiB page, 4-level) RW U NX"
 * or "va 0x.. not present: PDE[0x..]=0x.. at 0x..").  Returns out. */
char *cpu_walk_describe(const struct cpu_walk *w, uint64_t va, uint64_t pa, char *out,
			size_t len);

#endif
