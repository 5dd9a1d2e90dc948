/* entry32.S - entry of the SMP probe (built with -DPROTO_PVH, PROTO_MB2 or
 * PROTO_MB1), the AP trampoline and the interrupt stub.
 *
 * BSP: 32-bit flat protected mode, paging off, from nobios's PVH, Multiboot2
 * or Multiboot loader; loads the probe's own GDT and calls
 * probe_main(eax, ebx).
 * APs: started by the BSP with INIT-SIPI-SIPI at the page the trampoline is
 * copied to (SMP_TRAMPOLINE in smp_probe.c), in real mode with CS = that
 * page's segment; load the GDT, enter protected mode, take a stack of their
 * own and call ap_main(). */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00000003 /* PAGE_ALIGN | MEMORY_INFO */
#define MB2_MAGIC 0xE85250D6
#define AP_STACK_SIZE 2048
#define AP_MAX 63

	.section .multiboot, "a"
#if defined(PROTO_MB1)
	.align 4
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
#elif defined(PROTO_MB2)
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0                      /* architecture: i386 */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + (mb2_header_end - mb2_header))
	/* information request: command line and both ACPI RSDP tags (14, 15);
	 * a loader that cannot give them must refuse the image (3.1.4) */
	.align 8
	.short 1, 0
	.long 8 + 3 * 4
	.long 1, 14, 15
	.align 8
	.short 0, 0                  /* end */
	.long 8
mb2_header_end:
#elif defined(PROTO_PVH)
	/* XEN_ELFNOTE_PHYS32_ENTRY: owner "Xen", type 18, a 32-bit address */
	.section .note.Xen, "a", @note
	.align 4
	.long 4, 4, 18
	.asciz "Xen"
	.align 4
	.long _start
	.align 4
#endif

	.text
	.code32
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %ss
	movw %cx, %fs
	movw %cx, %gs
	call probe_main
2:	cli
	hlt
	jmp 2b

/* ---- AP trampoline: copied below 1 MiB, entered in real mode at offset 0
 * with CS = its segment.  Only CS-relative data, so it runs wherever it is
 * copied; the GDT descriptor holds the GDT's absolute address. */
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $ap_entry32
	.align 4
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:

	.code32
ap_entry32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	/* a stack of its own: the next slot, or none when all are taken */
	movl $1, %eax
	lock xaddl %eax, ap_next_stack
	cmpl $AP_MAX, %eax
	jae 3f
	incl %eax
	imull $AP_STACK_SIZE, %eax
	leal ap_stacks(%eax), %esp
	call ap_main
3:	cli
	hlt
	jmp 3b

/* ---- interrupt stub for the IRQ 0 routing check: count and EOI in C */
	.globl irq_stub
irq_stub:
	pushal
	cld
	call irq_handler
	popal
	iret

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF /* 0x08: flat 32-bit code */
	.quad 0x00CF92000000FFFF /* 0x10: flat 32-bit data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.globl ap_next_stack
ap_next_stack:
	.long 0

	.bss
	.align 16
	.space 16384
stack_top:
	.align 16
ap_stacks:
	.space AP_STACK_SIZE * (AP_MAX + 1)
