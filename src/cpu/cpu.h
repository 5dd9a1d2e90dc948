/* cpu.h - vCPU state in nobios's own types (no KVM types above src/kvm/), and
 * the builders of each entry mode: real, flat 32-bit protected, 64-bit long
 * mode with identity paging.  Loaders fill a struct cpu_state; the kvm layer
 * converts it to KVM_SET_REGS/SREGS. */
#ifndef NOBIOS_CPU_CPU_H
#define NOBIOS_CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct guest_mem;

/* General registers in x86 encoding order. */
enum cpu_gpr {
	CPU_RAX, CPU_RCX, CPU_RDX, CPU_RBX, CPU_RSP, CPU_RBP, CPU_RSI, CPU_RDI,
	CPU_R8, CPU_R9, CPU_R10, CPU_R11, CPU_R12, CPU_R13, CPU_R14, CPU_R15,
	CPU_NGPR
};

struct cpu_segment {
	uint64_t base;
	uint32_t limit;    /* byte granular (already scaled by G) */
	uint16_t selector;
	uint8_t type;      /* 4-bit descriptor type */
	uint8_t present, dpl, db, s, l, g, avl;
	uint8_t unusable;
};

struct cpu_dtable {
	uint64_t base;
	uint16_t limit;
};

struct cpu_state {
	uint64_t gpr[CPU_NGPR];
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	struct cpu_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct cpu_dtable gdt, idt;
	/* XCR0 to enter with, 0 = leave KVM's alone.  Applied by the kvm layer
	 * only where KVM has KVM_CAP_XCRS and the guest's CPUID has XSAVE,
	 * trimmed to the features its CPUID leaf 0Dh lists. */
	uint64_t xcr0;
};

/* Control-register and EFER bits, with the SDM's names. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_MP (1ULL << 1)
#define X86_CR0_EM (1ULL << 2)
#define X86_CR0_TS (1ULL << 3)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_NE (1ULL << 5)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_AM (1ULL << 18)
#define X86_CR0_NW (1ULL << 29)
#define X86_CR0_CD (1ULL << 30)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_VME (1ULL << 0)
#define X86_CR4_PVI (1ULL << 1)
#define X86_CR4_TSD (1ULL << 2)
#define X86_CR4_DE (1ULL << 3)
#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_MCE (1ULL << 6)
#define X86_CR4_PGE (1ULL << 7)
#define X86_CR4_PCE (1ULL << 8)
#define X86_CR4_OSFXSR (1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_CR4_UMIP (1ULL << 11)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_CR4_VMXE (1ULL << 13)
#define X86_CR4_SMXE (1ULL << 14)
#define X86_CR4_FSGSBASE (1ULL << 16)
#define X86_CR4_PCIDE (1ULL << 17)
#define X86_CR4_OSXSAVE (1ULL << 18)
#define X86_CR4_SMEP (1ULL << 20)
#define X86_CR4_SMAP (1ULL << 21)
#define X86_CR4_PKE (1ULL << 22)
#define X86_EFER_SCE (1ULL << 0)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)
/* XCR0 state-component bits (SDM vol 1, 13.3). */
#define X86_XCR0_X87 (1ULL << 0)
#define X86_XCR0_SSE (1ULL << 1)
#define X86_RFLAGS_CF (1ULL << 0)
#define X86_RFLAGS_FIXED (1ULL << 1) /* bit 1 always reads 1 */
#define X86_RFLAGS_ZF (1ULL << 6)
#define X86_RFLAGS_TF (1ULL << 8)
#define X86_RFLAGS_IF (1ULL << 9)
#define X86_RFLAGS_DF (1ULL << 10)
#define X86_RFLAGS_VM (1ULL << 17)

/* Page-table entry bits. */
#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_US  (1ULL << 2)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)
#define PTE_NX  (1ULL << 63)

/* Boot GDT selectors (the Linux boot protocol's __BOOT_CS/__BOOT_DS; every
 * direct entry uses the same table at LAYOUT_GDT). */
#define BOOT_GDT_CS32 0x08 /* flat 32-bit code (used by PVH/multiboot) */
#define BOOT_GDT_CS   0x10 /* __BOOT_CS: 64-bit code in long mode, else flat 32-bit */
#define BOOT_GDT_DS   0x18 /* __BOOT_DS: flat data */
#define BOOT_GDT_TSS  0x20 /* 32-bit available TSS (PVH wants a valid TR) */

/* The elf64/osv entry's GDT (the 2013 bhyveosvload's, which OSv's own
 * boot.S also builds): 64-bit code, data, 32-bit code, then our TSS. */
#define ELF64_GDT_CS   0x08 /* 64-bit code (L=1) */
#define ELF64_GDT_DS   0x10 /* flat data */
#define ELF64_GDT_CS32 0x18 /* flat 32-bit code */
#define ELF64_GDT_TSS  0x20 /* 64-bit TSS (16 bytes; TR must be valid) */

enum cpu_mode { CPU_MODE_REAL, CPU_MODE_PROT16, CPU_MODE_PROT32, CPU_MODE_LONG, CPU_MODE_LONG_COMPAT };

/* Reset-like state: everything zero, RFLAGS bit 1, segments real-mode. */
void cpu_state_init(struct cpu_state *s);
/* Real mode at cs:ip, all data segments = cs unless ds given separately. */
void cpu_setup_real(struct cpu_state *s, uint16_t cs, uint16_t ip);
/* Flat 32-bit protected mode, paging off: writes the boot GDT (and a TSS,
 * so TR is valid) to guest memory, CS = cs_sel (BOOT_GDT_CS32 or BOOT_GDT_CS),
 * data = BOOT_GDT_DS, IF = 0. */
int cpu_setup_prot32(struct cpu_state *s, struct guest_mem *m, uint16_t cs_sel);
/* 64-bit long mode with identity paging of the first 4 GiB (2 MiB pages at
 * LAYOUT_PML4..), CS = BOOT_GDT_CS (L=1), data = BOOT_GDT_DS, IF = 0,
 * CR0 = PE|PG|ET|NE, CR4 = PAE, EFER = LME|LMA. */
int cpu_setup_long(struct cpu_state *s, struct guest_mem *m);
/* The elf64/osv entry: 64-bit long mode as an x86-64 ABI program expects it,
 * in the 2013 bhyveosvload's shape: GDT at LAYOUT_GDT with ELF64_GDT_*,
 * CS = ELF64_GDT_CS, data = ELF64_GDT_DS, identity paging of 4 GiB as
 * cpu_setup_long (the caller adds the kernel's own mappings, pagemap.h),
 * CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|PGE|OSFXSR|OSXMMEXCPT,
 * EFER = LME|LMA|NXE (the kvm layer drops NXE where the guest's CPUID has
 * no NX), xcr0 = X87|SSE, IF = 0. */
int cpu_setup_long_elf64(struct cpu_state *s, struct guest_mem *m);
/* Write the boot GDT at LAYOUT_GDT (null, cs32, cs64, ds, tss). */
int cpu_write_boot_gdt(struct guest_mem *m, bool long_mode);
/* Identity-map [0, bytes) with 2 MiB pages; tables at pml4 (PML4, PDPT, PDs). */
int cpu_build_identity_map(struct guest_mem *m, uint64_t pml4, uint64_t bytes);

/* Whether s is the x86 power-on/INIT state (CS:IP = F000:FFF0 with CS.base
 * 0xFFFF0000, protection off; SDM vol 3A 9.1.1): what KVM on SVM leaves in
 * a vCPU after a triple fault, never a state a running guest reaches. */
bool cpu_state_is_reset(const struct cpu_state *s);

enum cpu_mode cpu_mode_of(const struct cpu_state *s);
const char *cpu_mode_name(enum cpu_mode mode);

/* Decoded, human-readable dump of the state (flags named, segments decoded). */
void cpu_state_dump(FILE *out, const struct cpu_state *s);

/* dump.c: the VMX guest-state checks (Intel SDM vol 3C 26.3.1) the values
 * violate, one finding per line in out ("CS.L and CS.D both set").  Returns
 * the number of findings.  Assumes "unrestricted guest" (KVM's default);
 * cpu_check_entry_state_ex with CPU_CHECK_NO_UNRESTRICTED adds the checks a
 * host without it applies (CR0.PE/PG must be 1, SS.RPL == CS.RPL ...). */
#define CPU_CHECK_NO_UNRESTRICTED 0x1u
int cpu_check_entry_state(const struct cpu_state *s, char *out, size_t len);
int cpu_check_entry_state_ex(const struct cpu_state *s, unsigned flags, char *out, size_t len);
/* Name of a segment descriptor type ("code exec/read accessed", "32-bit busy TSS"). */
const char *cpu_segment_type_name(const struct cpu_segment *seg, char *buf, size_t len);

#endif
