/* trivial.S - the benchmark's trivial guest: a PVH ELF (Xen note
 * XEN_ELFNOTE_PHYS32_ENTRY) that writes 0 to the debug-exit port at once.
 * nobios, QEMU microvm and QEMU pc all boot it with -kernel. */
	.section .note.Xen, "a"
	.balign 4
	.long 4                 /* namesz "Xen\0" */
	.long 4                 /* descsz */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start
	.text
	.code32
	.globl _start
_start:
	xor %eax, %eax
	outb %al, $0xF4
1:	cli
	hlt
	jmp 1b
