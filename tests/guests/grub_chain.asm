; grub_chain.asm - a boot sector for GRUB's `chainloader` (tests/boot/grub.sh):
; GRUB loads it at 0000:7C00 and jumps there as a BIOS would, DL = the drive
; it came from.  It prints "CHAIN-OK DL=xx" through INT 10h AH=0Eh (teletype,
; the service every boot sector uses) and leaves through the debug-exit port:
; 0x11 when DL is the first hard disk (80h), 0x12 otherwise.
	bits 16
	org 0x7C00
	cli
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7C00
	mov bl, dl		; keep DL: INT 10h may not, by RBIL
	mov si, msg
	call puts
	mov al, bl
	shr al, 4
	call hexdigit
	mov al, bl
	and al, 0x0F
	call hexdigit
	mov al, 13
	call putc
	mov al, 10
	call putc
	mov al, 0x11
	cmp bl, 0x80
	je .exit
	mov al, 0x12
.exit:
	out 0xF4, al
	hlt
	jmp .exit

hexdigit:
	add al, '0'
	cmp al, '9'
	jbe putc
	add al, 'A' - '9' - 1
putc:
	push bx
	mov ah, 0x0E
	xor bx, bx
	int 0x10
	pop bx
	ret
puts:
	lodsb
	test al, al
	jz .done
	call putc
	jmp puts
.done:
	ret

msg:	db "CHAIN-OK DL=", 0
	times 510 - ($ - $$) db 0
	dw 0xAA55
