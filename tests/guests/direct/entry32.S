/* entry32.S - entry of the 32-bit direct-boot probes (multiboot, multiboot
 * a.out kludge, multiboot2, PVH).  Saves the registers and flags exactly as
 * the loader left them (before any flag-changing instruction), switches to
 * our own stack, and calls probe_main(). */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS_ELF 0x00000003   /* PAGE_ALIGN | MEMORY_INFO */
#define MB1_FLAGS_AOUT 0x00010003  /* ... | AOUT_KLUDGE */
#define MB2_MAGIC 0xE85250D6

	.section .multiboot, "a"
#if defined(PROTO_MB1)
	.align 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS_ELF
	.long -(MB1_MAGIC + MB1_FLAGS_ELF)
#elif defined(PROTO_MB1_AOUT)
	.align 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS_AOUT
	.long -(MB1_MAGIC + MB1_FLAGS_AOUT)
	.long mb1_header     /* header_addr */
	.long _image_start   /* load_addr */
	.long _edata         /* load_end_addr */
	.long _end           /* bss_end_addr */
	.long _start         /* entry_addr */
#elif defined(PROTO_MB2)
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0                      /* architecture: i386 */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + (mb2_header_end - mb2_header))
	/* information request (required): cmdline, loader name, module,
	 * basic meminfo, mmap */
	.align 8
	.short 1, 0
	.long 8 + 5 * 4
	.long 1, 2, 3, 4, 6
	.align 8
	.short 6, 0                  /* module alignment */
	.long 8
	.align 8
	.short 5, 1                  /* framebuffer, optional: must be ignored */
	.long 20
	.long 1024, 768, 32
	.align 8
	.short 0, 0                  /* end */
	.long 8
mb2_header_end:
#endif

#if defined(PROTO_PVH)
	/* XEN_ELFNOTE_PHYS32_ENTRY: owner "Xen", type 18, a 32-bit address */
	.section .note.Xen, "a", @note
	.align 4
	.long 4                      /* namesz */
	.long 4                      /* descsz */
	.long 18                     /* type */
	.asciz "Xen"
	.align 4
	.long pvh_start
	.align 4
#endif

	.text
	.code32
	.globl _start
#if defined(PROTO_PVH)
	/* e_entry is not the PVH entry: reaching it means the note was ignored */
_start:
	movb $0x7E, %al
	outb %al, $0xF4
	cli
	hlt
	.globl pvh_start
pvh_start:
#else
_start:
#endif
	movl %eax, entry_regs + 0
	movl %ebx, entry_regs + 4
	movl %ecx, entry_regs + 8
	movl %edx, entry_regs + 12
	movl %esi, entry_regs + 16
	movl %edi, entry_regs + 20
	movl %ebp, entry_regs + 24
	movl %esp, entry_regs + 28
	movl $stack_top, %esp
	pushfl
	popl entry_regs + 32
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
	.space 8192
stack_top:
