; bios_keys.asm - boot sector: three blocking INT 16h reads (the firmware
; waits with hlt between timer ticks) must return 'x', 'y' and Enter with
; their scan codes, typed on the console (COM1 input).  Echoes through INT 10h;
; port 0xF4 gets 0 when all three match, 0x41 otherwise.
	bits 16
	org 0x7C00
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7C00
	sti
	mov si, want
	xor bp, bp		; mismatches
	mov cx, 3
.next:
	xor ah, ah
	int 0x16
	cmp ax, [si]
	je .same
	inc bp
.same:
	add si, 2
	mov ah, 0x0E
	int 0x10
	loop .next
	mov si, msg_ok
	test bp, bp
	jz .print
	mov si, msg_bad
.print:
	lodsb
	test al, al
	jz .done
	mov ah, 0x0E
	int 0x10
	jmp .print
.done:
	xor al, al
	test bp, bp
	jz .exit
	mov al, 0x41
.exit:
	out 0xF4, al
	cli
	hlt
want:	dw 0x2D78, 0x1579, 0x1C0D
msg_ok:	db 10, "KEYS-OK", 13, 10, 0
msg_bad: db 10, "KEYS-BAD", 13, 10, 0
	times 510 - ($ - $$) db 0
	dw 0xAA55
