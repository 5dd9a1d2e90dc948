; setup.asm - the real-mode part of the Linux probe bzImage: one setup
; sector after the boot sector, a setup header at 0x1F1 with the field
; offsets of Documentation/arch/x86/boot.rst, and the protected-mode part
; (PM_BIN) appended.  nobios never runs this real-mode code; the boot
; sector is filled with 0x5A so the probe can tell a fresh zero page from
; a copy of the file's.
	bits 16
	org 0
SETUP_SECTS equ 1
	times 0x1F1 - ($ - $$) db 0x5A
	db SETUP_SECTS              ; 0x1F1 setup_sects
	dw 0                        ; 0x1F2 root_flags
	dd (pm_end - pm_start + 15) / 16 ; 0x1F4 syssize
	dw 0                        ; 0x1F8 ram_size
	dw 0xFFFF                   ; 0x1FA vid_mode
	dw 0                        ; 0x1FC root_dev
	dw 0xAA55                   ; 0x1FE boot_flag
	jmp short hdr_end           ; 0x200 jump (EB 6A: the header ends at 0x26C)
	db "HdrS"                   ; 0x202 header
	dw 0x020F                   ; 0x206 version 2.15
	dd 0                        ; 0x208 realmode_swtch
	dw 0x1000                   ; 0x20C start_sys_seg
	dw version_str - 0x200      ; 0x20E kernel_version
	db 0                        ; 0x210 type_of_loader
	db 0x01                     ; 0x211 loadflags: LOADED_HIGH
	dw 0x8000                   ; 0x212 setup_move_size
	dd 0x100000                 ; 0x214 code32_start
	dd 0                        ; 0x218 ramdisk_image
	dd 0                        ; 0x21C ramdisk_size
	dd 0                        ; 0x220 bootsect_kludge
	dw 0                        ; 0x224 heap_end_ptr
	db 0                        ; 0x226 ext_loader_ver
	db 0                        ; 0x227 ext_loader_type
	dd 0                        ; 0x228 cmd_line_ptr
	dd 0x7FFFFFFF               ; 0x22C initrd_addr_max
	dd 0x200000                 ; 0x230 kernel_alignment
	db 0                        ; 0x234 relocatable_kernel: no, load at 1 MiB
	db 21                       ; 0x235 min_alignment
	dw 0x0001                   ; 0x236 xloadflags: XLF_KERNEL_64
	dd 2047                     ; 0x238 cmdline_size
	dd 0                        ; 0x23C hardware_subarch
	dq 0                        ; 0x240 hardware_subarch_data
	dd 0                        ; 0x248 payload_offset
	dd 0                        ; 0x24C payload_length: none
	dq 0                        ; 0x250 setup_data
	dq 0x100000                 ; 0x258 pref_address
	dd 0x100000                 ; 0x260 init_size
	dd 0                        ; 0x264 handover_offset
	dd 0                        ; 0x268 kernel_info_offset
hdr_end:
	; (the jump above encodes EB 6A only if the header ends at 0x26C; the
	; probe checks those bytes in the zero page)
	cli
	hlt
version_str:
	db "nobios-linux-probe 1.0", 0
	times (SETUP_SECTS + 1) * 512 - ($ - $$) db 0
pm_start:
	incbin PM_BIN
pm_end:
