/* cpu_state.c - entry-mode builders: the boot GDT, identity page tables and
 * the register state of real, flat 32-bit protected and 64-bit long mode
 * (the Linux boot protocol's, and the elf64/osv entry's). */
#include "cpu/cpu.h"

#include <string.h>

#include "mem/layout.h"
#include "mem/mem.h"
#include "util/err.h"

/* Descriptor type values (SDM vol 3, 3.4.5.1). */
#define SEG_TYPE_DATA_RW_A  0x3 /* read/write, accessed */
#define SEG_TYPE_CODE_RX_A  0xB /* execute/read, accessed */
#define SEG_TYPE_TSS32_BUSY 0xB /* 32-bit TSS (busy), as TR requires */
#define SEG_TYPE_TSS32_AVL  0x9
#define SEG_TYPE_LDT        0x2
#define TSS_SIZE            104

void cpu_state_init(struct cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->rflags = X86_RFLAGS_FIXED;
	s->cr0 = X86_CR0_ET | X86_CR0_NE;
	cpu_setup_real(s, 0, 0);
}

bool cpu_state_is_reset(const struct cpu_state *s)
{
	return s->cs.selector == 0xF000 && s->cs.base == 0xFFFF0000ULL && s->rip == 0xFFF0 &&
	       !(s->cr0 & X86_CR0_PE);
}

static struct cpu_segment real_seg(uint16_t sel, uint8_t type)
{
	return (struct cpu_segment){ .base = (uint64_t)sel << 4, .limit = 0xFFFF, .selector = sel,
				     .type = type, .present = 1, .s = 1 };
}

void cpu_setup_real(struct cpu_state *s, uint16_t cs, uint16_t ip)
{
	s->cs = real_seg(cs, SEG_TYPE_CODE_RX_A);
	s->ds = s->es = s->fs = s->gs = s->ss = real_seg(0, SEG_TYPE_DATA_RW_A);
	s->tr = (struct cpu_segment){ .limit = 0xFFFF, .type = SEG_TYPE_TSS32_BUSY, .present = 1 };
	s->ldt = (struct cpu_segment){ .limit = 0xFFFF, .type = SEG_TYPE_LDT, .present = 1 };
	s->gdt = (struct cpu_dtable){ 0, 0xFFFF };
	s->idt = (struct cpu_dtable){ 0, 0x3FF };
	s->cr0 &= ~(X86_CR0_PE | X86_CR0_PG);
	s->cr4 = 0;
	s->efer = 0;
	s->rip = ip;
	s->rflags = X86_RFLAGS_FIXED;
}

/* Encode a segment descriptor (SDM vol 3, figure 3-8). */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t type, int s, int dpl, int l,
			  int db, int g)
{
	uint32_t lim = g ? limit >> 12 : limit;
	return (uint64_t)(lim & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) |
	       ((uint64_t)type << 40) | ((uint64_t)s << 44) | ((uint64_t)dpl << 45) |
	       (1ULL << 47) | ((uint64_t)((lim >> 16) & 0xF) << 48) | ((uint64_t)l << 53) |
	       ((uint64_t)db << 54) | ((uint64_t)g << 55) | ((uint64_t)(base >> 24) << 56);
}

int cpu_write_boot_gdt(struct guest_mem *m, bool long_mode)
{
	uint64_t gdt[5] = {
		0,
		/* 0x08: flat 32-bit code */
		gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_CODE_RX_A, 1, 0, 0, 1, 1),
		/* 0x10: __BOOT_CS, 64-bit code in long mode, else flat 32-bit */
		long_mode ? gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_CODE_RX_A, 1, 0, 1, 0, 1)
			  : gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_CODE_RX_A, 1, 0, 0, 1, 1),
		/* 0x18: __BOOT_DS, flat data */
		gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_DATA_RW_A, 1, 0, 0, 1, 1),
		/* 0x20: 32-bit TSS (available in the table; TR caches it busy) */
		gdt_entry(LAYOUT_TSS, TSS_SIZE - 1, SEG_TYPE_TSS32_AVL, 0, 0, 0, 0, 0),
	};
	if (mem_copy_in(m, LAYOUT_GDT, gdt, sizeof(gdt)) < 0)
		return -1;
	return mem_zero(m, LAYOUT_TSS, TSS_SIZE);
}

static struct cpu_segment flat(uint16_t sel, uint8_t type, int l, int db)
{
	return (struct cpu_segment){ .base = 0, .limit = 0xFFFFFFFF, .selector = sel, .type = type,
				     .present = 1, .s = 1, .l = (uint8_t)l, .db = (uint8_t)db,
				     .g = 1 };
}

static void set_protected_common(struct cpu_state *s, bool long_mode)
{
	struct cpu_segment ds = flat(BOOT_GDT_DS, SEG_TYPE_DATA_RW_A, 0, 1);
	s->ds = s->es = s->fs = s->gs = s->ss = ds;
	s->tr = (struct cpu_segment){ .base = LAYOUT_TSS, .limit = TSS_SIZE - 1,
				      .selector = BOOT_GDT_TSS, .type = SEG_TYPE_TSS32_BUSY,
				      .present = 1 };
	s->ldt = (struct cpu_segment){ .type = SEG_TYPE_LDT, .unusable = 1 };
	s->gdt = (struct cpu_dtable){ LAYOUT_GDT, 5 * 8 - 1 };
	s->idt = (struct cpu_dtable){ 0, 0 };
	s->rflags = X86_RFLAGS_FIXED; /* IF = 0 */
	s->gpr[CPU_RSP] = LAYOUT_STACK_TOP;
	(void)long_mode;
}

int cpu_setup_prot32(struct cpu_state *s, struct guest_mem *m, uint16_t cs_sel)
{
	if (cpu_write_boot_gdt(m, false) < 0)
		return -1;
	set_protected_common(s, false);
	s->cs = flat(cs_sel, SEG_TYPE_CODE_RX_A, 0, 1);
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	s->cr3 = 0;
	s->cr4 = 0;
	s->efer = 0;
	return 0;
}

int cpu_build_identity_map(struct guest_mem *m, uint64_t pml4, uint64_t bytes)
{
	uint64_t npd = (bytes + (1ULL << 30) - 1) >> 30; /* one PD per GiB */
	if (npd == 0 || npd > 512)
		return nb_err_internal("identity map of %llu bytes unsupported",
				       (unsigned long long)bytes);
	uint64_t pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
	if (!mem_range_ok(m, pml4, 0x2000 + npd * 0x1000))
		return nb_err("guest RAM too small for page tables at 0x%llx",
			      (unsigned long long)pml4);
	if (mem_zero(m, pml4, 0x2000 + npd * 0x1000) < 0)
		return -1;
	mem_write64(m, pml4, pdpt | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < npd; i++) {
		mem_write64(m, pdpt + i * 8, (pd + i * 0x1000) | PTE_P | PTE_RW);
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t pa = (i << 30) | (j << 21);
			mem_write64(m, pd + i * 0x1000 + j * 8, pa | PTE_P | PTE_RW | PTE_PS);
		}
	}
	return 0;
}

int cpu_setup_long(struct cpu_state *s, struct guest_mem *m)
{
	if (cpu_write_boot_gdt(m, true) < 0)
		return -1;
	if (cpu_build_identity_map(m, LAYOUT_PML4, LAYOUT_IDENTITY_MAP) < 0)
		return -1;
	set_protected_common(s, true);
	s->cs = flat(BOOT_GDT_CS, SEG_TYPE_CODE_RX_A, 1, 0);
	s->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE;
	s->cr3 = LAYOUT_PML4;
	s->cr4 = X86_CR4_PAE;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
	return 0;
}

/* The elf64/osv GDT (selectors ELF64_GDT_*).  The TSS descriptor is the
 * 16-byte system descriptor of IA-32e mode (SDM vol 3, 8.2.3): the second
 * half holds base bits 63-32, zero here. */
static int write_elf64_gdt(struct guest_mem *m)
{
	uint64_t gdt[6] = {
		0,
		gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_CODE_RX_A, 1, 0, 1, 0, 1), /* 0x08 code64 */
		gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_DATA_RW_A, 1, 0, 0, 1, 1), /* 0x10 data */
		gdt_entry(0, 0xFFFFFFFF, SEG_TYPE_CODE_RX_A, 1, 0, 0, 1, 1), /* 0x18 code32 */
		gdt_entry(LAYOUT_TSS, TSS_SIZE - 1, SEG_TYPE_TSS32_AVL, 0, 0, 0, 0, 0), /* 0x20 */
		0,
	};
	if (mem_copy_in(m, LAYOUT_GDT, gdt, sizeof(gdt)) < 0)
		return -1;
	return mem_zero(m, LAYOUT_TSS, TSS_SIZE);
}

/* Why these bits (OSv's start64 and every x86-64 ABI program run SSE code
 * and may set XD in their page tables from their first instructions):
 * - CR0.MP=1, EM=0, TS=0 and CR4.OSFXSR|OSXMMEXCPT: SSE instructions run
 *   (EM=1 or OSFXSR=0 makes them #UD, SDM vol 3, 13.1.4) and SIMD
 *   floating-point exceptions are #XM, not #UD; MP=1 is what the SDM asks
 *   of an OS with an x87 (table 9-2).  ET reads 1 on every x86-64 CPU; NE=1
 *   reports x87 errors natively, not through the PIC's IRQ 13.
 * - CR0.WP=1: supervisor writes honour read-only pages (our tables map
 *   everything writable, so only the kernel's own tables are affected).
 * - CR4.PGE: global pages work as a kernel marking them global expects
 *   (OSv's own boot tables set G); every x86-64 CPU has it.
 * - not CR4.PSE: ignored with PAE paging (SDM 4.1.1; 2 MiB pages exist
 *   regardless), not CR4.DE: it only changes what DR4/DR5 mean, not PCE:
 *   it only lets CPL>0 run RDPMC, which a loader has no business granting.
 *   bhyveosvload set all three (CR4 0x7b8); none changes what the kernel
 *   can do at CPL 0.
 * - EFER.NXE: XD bits in the kernel's tables mean no-execute instead of a
 *   reserved-bit #PF; the kvm layer drops it where the guest's CPUID has no
 *   NX, so EFER and CPUID agree (a WRMSR setting it there would #GP).
 * - XCR0 = X87|SSE: the state XSAVE then manages (KVM resets XCR0 to X87). */
int cpu_setup_long_elf64(struct cpu_state *s, struct guest_mem *m)
{
	if (write_elf64_gdt(m) < 0)
		return -1;
	if (cpu_build_identity_map(m, LAYOUT_PML4, LAYOUT_IDENTITY_MAP) < 0)
		return -1;
	set_protected_common(s, true);
	struct cpu_segment ds = flat(ELF64_GDT_DS, SEG_TYPE_DATA_RW_A, 0, 1);
	s->ds = s->es = s->fs = s->gs = s->ss = ds;
	s->cs = flat(ELF64_GDT_CS, SEG_TYPE_CODE_RX_A, 1, 0);
	s->tr.selector = ELF64_GDT_TSS; /* busy 64-bit TSS: type 11 as in 32-bit */
	s->gdt = (struct cpu_dtable){ LAYOUT_GDT, 6 * 8 - 1 };
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	s->cr3 = LAYOUT_PML4;
	s->cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	s->xcr0 = X86_XCR0_X87 | X86_XCR0_SSE;
	return 0;
}

enum cpu_mode cpu_mode_of(const struct cpu_state *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return CPU_MODE_REAL;
	if (s->efer & X86_EFER_LMA)
		return s->cs.l ? CPU_MODE_LONG : CPU_MODE_LONG_COMPAT;
	return s->cs.db ? CPU_MODE_PROT32 : CPU_MODE_PROT16;
}

const char *cpu_mode_name(enum cpu_mode mode)
{
	switch (mode) {
	case CPU_MODE_REAL: return "real mode";
	case CPU_MODE_PROT16: return "16-bit protected mode";
	case CPU_MODE_PROT32: return "32-bit protected mode";
	case CPU_MODE_LONG: return "64-bit long mode";
	case CPU_MODE_LONG_COMPAT: return "compatibility mode";
	}
	return "?";
}
