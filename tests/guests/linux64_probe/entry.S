/* entry.S - the Linux probe's two entry points.
 *
 * entry64 (load address + 0x200) is the 64-bit boot protocol's entry:
 * long mode, identity paging, RSI = boot_params.  entry32 (offset 0, as
 * code32_start) is the 32-bit protocol's: flat protected mode, paging off,
 * ESI = boot_params.  Each records the state it was entered with before
 * touching anything, then runs the same C checker in long mode (entry32
 * builds its own page tables and GDT to get there). */
#define MSR_EFER 0xC0000080

	.section .entry32, "ax"
	.code32
	.globl entry32
entry32:
	mov %esi, saved_rsi
	mov %ebx, saved_rbx
	mov %ebp, saved_rbp
	mov %edi, saved_rdi
	mov %cs, %ax
	mov %ax, saved_cs
	mov %ds, %ax
	mov %ax, saved_ds
	mov %es, %ax
	mov %ax, saved_es
	mov %ss, %ax
	mov %ax, saved_ss
	mov %cr0, %eax
	mov %eax, saved_cr0
	mov %cr4, %eax
	mov %eax, saved_cr4
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, saved_efer
	mov %edx, saved_efer + 4
	mov $stack_top, %esp
	pushf
	pop %eax
	mov %eax, saved_rflags
	call 1f
1:	pop %eax
	sub $(1b - entry32), %eax
	mov %eax, saved_rip
	movl $32, entered_mode

	/* to long mode: 1 GiB identity map with 2 MiB pages (RAM is 256 MiB) */
	mov $pd, %edi
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax          /* P | RW | PS */
	mov %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jb 2b
	movl $pd + 3, pdpt
	movl $pdpt + 3, pml4
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax          /* PAE */
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	rdmsr
	or $0x100, %eax         /* LME */
	wrmsr
	lgdt gdt_desc
	mov %cr0, %eax
	or $0x80000001, %eax    /* PG | PE */
	mov %eax, %cr0
	ljmp $0x08, $from32
	.code64
from32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	jmp common64
	/* the 64-bit entry must stay at +0x200: the linker checks the size */

	.section .entry64, "ax"
	.code64
	.globl entry64
entry64:
	mov %rsi, saved_rsi(%rip)
	mov %rbx, saved_rbx(%rip)
	mov %rbp, saved_rbp(%rip)
	mov %rdi, saved_rdi(%rip)
	mov %cs, %ax
	mov %ax, saved_cs(%rip)
	mov %ds, %ax
	mov %ax, saved_ds(%rip)
	mov %es, %ax
	mov %ax, saved_es(%rip)
	mov %ss, %ax
	mov %ax, saved_ss(%rip)
	mov %cr0, %rax
	mov %rax, saved_cr0(%rip)
	mov %cr4, %rax
	mov %rax, saved_cr4(%rip)
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, saved_efer(%rip)
	mov %edx, saved_efer + 4(%rip)
	lea entry64(%rip), %rax
	mov %rax, saved_rip(%rip)
	lea stack_top(%rip), %rsp
	pushfq
	pop %rax
	mov %rax, saved_rflags(%rip)
	movl $64, entered_mode(%rip)
common64:
	lea stack_top(%rip), %rsp
	call probe_main
3:	cli
	hlt
	jmp 3b

	.data
	.align 8
	/* sentinels: a value the entry code never stored stays visible */
	.globl saved_rsi, saved_rbx, saved_rbp, saved_rdi, saved_rip, saved_rflags
	.globl saved_cr0, saved_cr4, saved_efer, entered_mode
	.globl saved_cs, saved_ds, saved_es, saved_ss
saved_rsi:	.quad 0xdeadbeefdeadbeef
saved_rbx:	.quad 0xdeadbeefdeadbeef
saved_rbp:	.quad 0xdeadbeefdeadbeef
saved_rdi:	.quad 0xdeadbeefdeadbeef
saved_rip:	.quad 0xdeadbeefdeadbeef
saved_rflags:	.quad 0xdeadbeefdeadbeef
saved_cr0:	.quad 0xdeadbeefdeadbeef
saved_cr4:	.quad 0xdeadbeefdeadbeef
saved_efer:	.quad 0xdeadbeefdeadbeef
entered_mode:	.long 0
saved_cs:	.word 0xdead
saved_ds:	.word 0xdead
saved_es:	.word 0xdead
saved_ss:	.word 0xdead
	.align 8
gdt:	.quad 0
	.quad 0x00af9a000000ffff   /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff   /* 0x10: flat data */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.bss
	.align 4096
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4096
	.align 16
	.space 16384
stack_top:
