/* entry.S - entry of the devices probe: an ELF64 entered at `start64` in
 * long mode (nobios's elf64 format: identity paging, RBX = Multiboot 1 info,
 * RSP = boot stack, IF = 0).  Switch to our own stack and call
 * probe_main(magic, mbi). */
	.text
	.code64
	.globl start64
start64:
	cli
	lea stack_top(%rip), %rsp
	mov %eax, %edi
	mov %rbx, %rsi
	call probe_main
1:	cli
	hlt
	jmp 1b

/* Interrupt entry for the PIC vectors: save the caller-saved registers,
 * call irq_handler() (which sends the EOI), return.  Alignment: the CPU
 * aligns RSP to 16 and pushes 40 bytes; 9 pushes more make 112, so the call
 * sees the ABI's alignment. */
	.globl irq_stub
irq_stub:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
	call irq_handler
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq

	.bss
	.align 16
	.space 16384
stack_top:
