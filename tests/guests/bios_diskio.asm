; bios_diskio.asm - a boot disk that drives INT 13h EDD transfers until the
; host fails, and tells what the BIOS answered (tests/boot/disk.sh).  The
; test puts it at the start of a larger image (sparse, on a small tmpfs, or
; 64 GiB); it reads the disk's size with AH=48h.  Output through INT 10h
; teletype; the verdict through port 0xF4.
;
; Default (write): write 127-sector chunks (the most one EDD call moves)
; from LBA 16 on, each stamped with its LBA, up to CHUNKS chunks or the end
; of the disk.  On an error: "DISKIO: write error AH=xx after N chunks",
; exit value AH.  Else read the first and the last chunk back, check their
; stamps: "DISKIO: wrote N chunks, read back ok", exit value 0 (status 1).
;
; -DREADLOOP: print "DISKIO: reading", then read LBA 100 once per timer
; tick until it fails: "DISKIO: read error AH=xx", exit value AH.  The test
; truncates the image under it meanwhile (or just holds the image open).

	bits 16
	org 0x7C00

BUF_SEG	equ 0x1000		; what is written, 127 sectors at 0x10000
RD_SEG	equ 0x2000		; what is read back, at 0x20000
FIRST	equ 16
CHUNK	equ 127
%ifndef CHUNKS
CHUNKS	equ 64
%endif

start:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7C00
	sti
	mov bp, dx
	; the rest of the probe: sectors 1-3 to 0000:7E00 (CHS 0/0/2)
	mov ax, 0x0203
	mov cx, 0x0002
	xor dh, dh
	mov bx, 0x7E00
	int 0x13
	jc halt
	mov dx, bp
	mov [drive], dl		; only now: the load just overwrote it
	jmp main
halt:	hlt
	jmp halt

	times 510 - ($ - $$) db 0
	dw 0xAA55

; ---------------------------------------------------------------------------
%macro PRINT 1
	mov si, %1
	call puts
%endmacro

putc:				; al
	pusha
	mov ah, 0x0E
	xor bx, bx
	int 0x10
	popa
	ret

puts:				; ds:si
	push ax
.l:	lodsb
	test al, al
	jz .d
	call putc
	jmp .l
.d:	pop ax
	ret

puthex8:			; al
	push ax
	shr al, 4
	call .nib
	pop ax
	push ax
	and al, 0x0F
	call .nib
	pop ax
	ret
.nib:	add al, '0'
	cmp al, '9'
	jbe .p
	add al, 'A' - '9' - 1
.p:	jmp putc

putdec:				; ax
	pusha
	xor cx, cx
	mov bx, 10
.d:	xor dx, dx
	div bx
	push dx
	inc cx
	test ax, ax
	jnz .d
.p:	pop ax
	add al, '0'
	call putc
	loop .p
	popa
	ret

; xfer: EDD transfer.  eax = LBA, cx = sectors, bx = buffer segment,
; dl = 42h (read) or 43h (write).  Returns CF and AH as the BIOS left them.
xfer:
	mov byte [dap], 0x10
	mov byte [dap + 1], 0
	mov [dap + 2], cx
	mov word [dap + 4], 0
	mov [dap + 6], bx
	mov [dap + 8], eax
	mov dword [dap + 12], 0
	mov ah, dl
	mov al, 0
	mov dl, [drive]
	mov si, dap
	int 0x13
	ret

; exit with the value in al (port 0xF4: status (al << 1) | 1)
done:
	out 0xF4, al
	cli
.h:	hlt
	jmp .h

main:
%ifdef READLOOP
	PRINT s_reading
.again:
	mov eax, 100
	mov cx, 1
	mov bx, RD_SEG
	mov dl, 0x42
	call xfer
	jc .err
	hlt				; one timer tick
	jmp .again
.err:
	push ax
	PRINT s_rerr
	pop ax
	mov al, ah
	push ax
	call puthex8
	PRINT s_crlf
	pop ax
	jmp done
%else
	; the disk's size
	mov word [edd48], 0x1A
	mov si, edd48
	mov ah, 0x48
	mov dl, [drive]
	int 0x13
	jc .bad48
	; a pattern to write: 0xA5 everywhere, the LBA stamped in front
	mov ax, BUF_SEG
	mov es, ax
	xor di, di
	mov cx, CHUNK * 512
	mov al, 0xA5
	rep stosb
	mov dword [lba], FIRST
	mov word [chunks], 0
.w:
	cmp word [chunks], CHUNKS
	jae .wdone
	mov eax, [lba]
	add eax, CHUNK
	cmp dword [edd48 + 0x14], 0	; more than 2^32 sectors: room enough
	jne .room
	cmp eax, [edd48 + 0x10]
	ja .wdone
.room:
	mov eax, [lba]
	mov [es:0], eax
	mov cx, CHUNK
	mov bx, BUF_SEG
	mov dl, 0x43
	call xfer
	jc .werr
	inc word [chunks]
	add dword [lba], CHUNK
	jmp .w
.werr:
	push ax
	PRINT s_werr
	pop ax
	mov al, ah
	push ax
	call puthex8
	PRINT s_after
	mov ax, [chunks]
	call putdec
	PRINT s_chunks
	pop ax
	jmp done
.wdone:
	; read back the first and the last chunk written
	cmp word [chunks], 0
	je .bad48
	mov eax, FIRST
	call check
	jc .verr
	mov eax, [lba]
	sub eax, CHUNK
	call check
	jc .verr
	PRINT s_wrote
	mov ax, [chunks]
	call putdec
	PRINT s_ok
	xor al, al
	jmp done
.verr:
	PRINT s_verr
	mov al, 0x7F
	jmp done
.bad48:
	PRINT s_bad48
	mov al, 0x7E
	jmp done

; check: read the chunk at LBA eax to RD_SEG; CF set unless it carries its
; stamp and the pattern
check:
	push eax
	mov cx, CHUNK
	mov bx, RD_SEG
	mov dl, 0x42
	call xfer
	pop eax
	jc .bad
	push es
	mov bx, RD_SEG
	mov es, bx
	cmp [es:0], eax
	jne .bad2
	cmp byte [es:CHUNK * 512 - 1], 0xA5
	jne .bad2
	pop es
	clc
	ret
.bad2:	pop es
.bad:	stc
	ret
%endif

s_reading:	db "DISKIO: reading", 13, 10, 0
s_rerr:		db "DISKIO: read error AH=", 0
s_werr:		db "DISKIO: write error AH=", 0
s_after:	db " after ", 0
s_chunks:	db " chunks", 13, 10, 0
s_wrote:	db "DISKIO: wrote ", 0
s_ok:		db " chunks, read back ok", 13, 10, 0
s_verr:		db "DISKIO: read-back mismatch", 13, 10, 0
s_bad48:	db "DISKIO: no disk size (AH=48h)", 13, 10, 0
s_crlf:		db 13, 10, 0

	align 4
drive:		db 0
		db 0
chunks:		dw 0
lba:		dd 0
dap:		times 16 db 0
edd48:		times 32 db 0

	times 4 * 512 - ($ - $$) db 0
