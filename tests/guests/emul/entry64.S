/* entry64.S - entry and exception stubs of the 64-bit completion probes.
 * nobios's elf64 format enters start64 in ring-0 long mode with identity
 * paging; e_entry (_start) is never used.  SSE is enabled here, before any C
 * runs, because the SSE guest (sse_guest.c) is compiled with SSE. */
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
	movq $stack_top, %rsp
	movq %cr0, %rax
	andq $~(1 << 2), %rax          /* EM off */
	orq $(1 << 1), %rax            /* MP on */
	movq %rax, %cr0
	movq %cr4, %rax
	orq $((1 << 9) | (1 << 10)), %rax /* OSFXSR, OSXMMEXCPT */
	movq %rax, %cr4
	call probe_main
1:	cli
	hlt
	jmp 1b

/* Exception stubs: vector and (for vectors without one) a zero error code,
 * the general registers, then exc_handler(struct exc_frame *). */
.macro ISR_NOERR vec
	.globl isr_\vec
isr_\vec:
	pushq $0
	pushq $\vec
	jmp isr_common
.endm
.macro ISR_ERR vec
	.globl isr_\vec
isr_\vec:
	pushq $\vec
	jmp isr_common
.endm
	ISR_NOERR 3
	ISR_NOERR 6
	ISR_ERR 13
	ISR_ERR 14

isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call exc_handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq

	.bss
	.align 16
stack:
	.space 16384
stack_top:
