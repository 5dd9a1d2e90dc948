/* entry64.S - entry of the elf64 probe: start64 is entered in long mode by
 * nobios's elf64/osv formats; e_entry (_start) is a trap that fails the
 * probe, proving the named symbol was used. */
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
	call probe_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
stack:
	.space 16384
stack_top:
