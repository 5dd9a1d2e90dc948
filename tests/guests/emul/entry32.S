/* entry32.S - multiboot entry and exception stubs of the 32-bit completion
 * probe (flat protected mode, paging off at entry). */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00000003   /* PAGE_ALIGN | MEMORY_INFO */
	.section .multiboot, "a"
	.align 4
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)

	.text
	.code32
	.globl _start
_start:
	movl $stack_top, %esp
	movl %cr0, %eax
	andl $~(1 << 2), %eax          /* EM off */
	orl $(1 << 1), %eax            /* MP on */
	movl %eax, %cr0
	movl %cr4, %eax
	orl $((1 << 9) | (1 << 10)), %eax /* OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	call probe_main
1:	cli
	hlt
	jmp 1b

.macro ISR_NOERR vec
	.globl isr_\vec
isr_\vec:
	pushl $0
	pushl $\vec
	jmp isr_common
.endm
.macro ISR_ERR vec
	.globl isr_\vec
isr_\vec:
	pushl $\vec
	jmp isr_common
.endm
	ISR_NOERR 3
	ISR_NOERR 6
	ISR_ERR 13
	ISR_ERR 14

isr_common:
	pushal
	pushl %esp
	call exc_handler
	addl $4, %esp
	popal
	addl $8, %esp
	iretl

	.bss
	.align 16
stack:
	.space 16384
stack_top:
