/* head.S - a minimal bzImage for nobios's demo kernel: the real-mode
 * sectors carry a Linux boot protocol 2.15 setup header (no real-mode code:
 * nobios enters the 64-bit entry directly), the protected-mode part starts
 * at 0x100000 with the 64-bit entry at +0x200, as the protocol defines. */
	.section .setup, "a"
	.code16
	.org 0x1F1
setup_sects:	.byte 1                 /* real-mode part = 1 + 1 sectors */
root_flags:	.word 0
syssize:	.long demo_syssize      /* protected-mode part, in 16-byte units */
ram_size:	.word 0
vid_mode:	.word 0xFFFF
root_dev:	.word 0
boot_flag:	.word 0xAA55
jump:		.byte 0xEB, 0x6A        /* jmp past the header (0x26C): the byte at 0x201 gives its length */
header:		.ascii "HdrS"
version:	.word 0x020F
realmode_swtch:	.long 0
start_sys_seg:	.word 0x1000
kernel_version:	.word version_str - 0x200
type_of_loader:	.byte 0
loadflags:	.byte 0x01              /* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:	.long 0x100000
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7FFFFFFF
kernel_alignment: .long 0x200000
relocatable_kernel: .byte 0
min_alignment:	.byte 21
xloadflags:	.word 0x0001            /* XLF_KERNEL_64 */
cmdline_size:	.long 2047
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad 0x100000
init_size:	.long demo_init_size
handover_offset: .long 0
kernel_info_offset: .long 0
version_str:	.asciz "nobios-demo"
	.org 1024

	.section .head64, "ax"
	.code64
	.globl entry64
entry64:
	/* RSI = zero page.  Keep the stack nobios gave us only if sane. */
	lea	stack_top(%rip), %rsp
	mov	%rsi, %rdi
	call	demo_main
1:	cli
	hlt
	jmp	1b

	.section .bss.stack, "aw"
	.balign 16
	.space 8192
stack_top:

	.section .note.GNU-stack, "", @progbits
