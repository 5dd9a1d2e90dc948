/* entry64.S - entry of the elf64 probes: start64 is entered in long mode by
 * nobios's elf64/osv formats; e_entry (_start) is a trap that fails the
 * probe, proving the named symbol was used.
 *
 * direct-elf64 is linked at its load address (link.ld), direct-elf64-high
 * 1 GiB above it as OSv is (link-high.ld, -DELF64_HIGH).  Right after
 * saving the registers start64 does what the issue's kernel failed to do
 * under the old entry state: read .bss (nobios zeroed it) and .data through
 * their link-time addresses, and compute with SSE on what it read (the
 * `movq %rax, %xmm0` that raised #UD with CR4.OSFXSR = 0).  Three SSE
 * instructions only: on an emulating host each one is a completion. */
	.text
	.code64
	.globl _start
_start:
	movb $0x7E, %al
	outb %al, $0xF4
	cli
	hlt

	.globl start64
start64:
	movq %rax, entry_regs + 0
	movq %rbx, entry_regs + 8
	movq %rcx, entry_regs + 16
	movq %rdx, entry_regs + 24
	movq %rsi, entry_regs + 32
	movq %rdi, entry_regs + 40
	movq %rbp, entry_regs + 48
	movq %rsp, entry_regs + 56
	movq $stack_top, %rsp
	pushfq
	popq entry_regs + 64
	movw %cs, entry_sel + 0
	movw %ds, entry_sel + 2
	movw %es, entry_sel + 4
	movw %fs, entry_sel + 6
	movw %gs, entry_sel + 8
	movw %ss, entry_sel + 10
	str entry_sel + 12
	movq entry_bss_zero, %rax
	movq %rax, entry_bss_seen
	movq entry_data_one, %rax
	movq %rax, entry_data_seen
	movq %rax, %xmm0
	addpd %xmm0, %xmm0
	movq %xmm0, entry_sse_seen
	call probe_main
1:	cli
	hlt
	jmp 1b

	.data
	.balign 8
	.globl entry_data_one
entry_data_one:
	.quad 0x3FF0000000000000 /* 1.0 */

	.bss
	.balign 16
	.globl entry_bss_zero, entry_bss_seen, entry_data_seen, entry_sse_seen
entry_bss_zero:
	.quad 0
entry_bss_seen:
	.quad 0
entry_data_seen:
	.quad 0
entry_sse_seen:
	.quad 0
stack:
	.space 16384
stack_top:

#ifdef ELF64_HIGH
/* A whole 2 MiB region of .bss, 2 MiB aligned in both address spaces:
 * nobios maps it with one 2 MiB page; the rest of the image gets 4 KiB
 * pages (it starts at 1 MiB + 1 GiB, not 2 MiB aligned). */
	.section .bss.big, "aw", @nobits
	.balign 0x200000
	.globl big_bss
big_bss:
	.space 0x200000
#endif
