; bios_probe.asm - a boot disk that calls the pseudo-BIOS services and checks
; the answers against what the test put on the disk.  Assembled twice: as an
; 8 MiB hard disk (default) and, with -DFLOPPY, as a 1.44 MB diskette.
; Output through INT 10h teletype; the verdict through port 0xF4 (value 0:
; nobios exits 1; 0x40|failures otherwise).
;
; Disk contents: sectors 0-15 the probe, sectors 64-127 and the last sector
; carry markers: dword 5EC70000h + LBA, then the byte LBA & FFh repeated.

	bits 16
	org 0x7C00

BUF_SEG	equ 0x3000		; scratch buffer at 0x30000
MARK	equ 0x5EC70000
%ifdef FLOPPY
DRIVE	equ 0x00
SECTORS	equ 2880
%else
DRIVE	equ 0x80
SECTORS	equ 16384
%endif

%assign ckid 0
%macro EXPECT 1			; %1: condition code meaning "passed"
%assign ckid ckid + 1
	j%1 %%ok
	push word ckid		; "FAIL check N": the Nth EXPECT in this file
	call fail
%%ok:
%endmacro

%macro PRINT 1
	mov si, %1
	call puts
%endmacro

start:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7C00
	sti
	mov bp, dx
	; load the rest of the probe: sectors 1-15 to 0000:7E00 (CHS 0/0/2)
	mov ax, 0x020F
	mov cx, 0x0002
	xor dh, dh
	mov bx, 0x7E00
	int 0x13
	jc .halt
	mov dx, bp
	mov [bootdrv], dl
	jmp main
.halt:	hlt
	jmp .halt

	times 510 - ($ - $$) db 0
	dw 0xAA55

; ---------------------------------------------------------------------------
fail:				; [sp+2] = check number; prints and counts
	push bp
	mov bp, sp
	pusha
	inc word [nfail]
	PRINT s_fail
	mov ax, [bp + 4]
	call putdec
	PRINT s_crlf
	popa
	pop bp
	ret 2

putc:				; al
	push ax
	push bx
	mov ah, 0x0E
	xor bx, bx
	int 0x10
	pop bx
	pop ax
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

; check_marker: es:di -> sector that must carry LBA eax's marker; sets ZF
check_marker:
	push eax
	push ebx
	mov ebx, eax
	add ebx, MARK
	cmp [es:di], ebx
	jne .out
	cmp [es:di + 511], al
.out:	pop ebx
	pop eax
	ret

; ext_read: LBA eax, count cx, to BUF_SEG:0000 via DAP; CF/AH from BIOS
ext_read:
	mov word [dap + 2], cx
	mov word [dap + 4], 0
	mov word [dap + 6], BUF_SEG
	mov [dap + 8], eax
	mov dword [dap + 12], 0
	mov byte [dap], 0x10
	mov si, dap
	mov dl, DRIVE
	mov ah, 0x42
	int 0x13
	ret

main:
	PRINT s_hello
	; entry state: DL = boot drive
	cmp byte [bootdrv], DRIVE
	EXPECT e

	; INT 12h / 11h / BDA
	int 0x12
	cmp ax, 639
	EXPECT e
	int 0x11
	and ax, 0x0E00
	cmp ax, 0x0200			; one serial port
	EXPECT e
	int 0x11
	and ax, 1
%ifdef FLOPPY
	cmp ax, 1
%else
	cmp ax, 0
%endif
	EXPECT e
	cmp word [0x400], 0x3F8
	EXPECT e
	; IVT: INT 08h handler lives in the BIOS segment
	cmp word [8 * 4 + 2], 0xF000
	EXPECT e

	; ---- INT 13h geometry
	mov ah, 0x08
	mov dl, DRIVE
	int 0x13
	EXPECT nc
%ifdef FLOPPY
	cmp bl, 4			; 1.44 MB
	EXPECT e
	cmp cx, (79 << 8) | 18
	EXPECT e
	cmp dh, 1
	EXPECT e
%else
	cmp cx, (15 << 8) | 63		; 16 cylinders, 63 sectors
	EXPECT e
	cmp dx, (15 << 8) | 1		; 16 heads, one disk
	EXPECT e
%endif

	; ---- CHS read of two marker sectors
%ifdef FLOPPY
	; LBA 64 = C/H/S 1/1/11 (18 sectors, 2 heads)
	mov cx, (1 << 8) | 11
	mov dh, 1
%else
	; LBA 64 = C/H/S 0/1/2 (63 sectors)
	mov cx, 2
	mov dh, 1
%endif
	mov dl, DRIVE
	mov ax, BUF_SEG
	mov es, ax
	xor bx, bx
	mov ax, 0x0202
	int 0x13
	EXPECT nc
	cmp al, 2
	EXPECT e
	xor di, di
	mov eax, 64
	call check_marker
	EXPECT e
	mov di, 512
	mov eax, 65
	call check_marker
	EXPECT e
	; CHS sector 0 is invalid
	mov cx, 0
	xor dh, dh
	mov dl, DRIVE
	mov ax, 0x0201
	int 0x13
	EXPECT c
	cmp ah, 0x04
	EXPECT e
	; reset and status
	mov ah, 0x00
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	mov ah, 0x01
	mov dl, DRIVE
	int 0x13
	cmp ah, 0
	EXPECT e

%ifndef FLOPPY
	; ---- EDD
	mov ah, 0x41
	mov bx, 0x55AA
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	cmp bx, 0xAA55
	EXPECT e
	test cx, 1
	EXPECT nz
	mov eax, 100
	mov cx, 3
	call ext_read
	EXPECT nc
	cmp word [dap + 2], 3
	EXPECT e
	xor di, di
	mov eax, 100
	call check_marker
	EXPECT e
	mov di, 1024
	mov eax, 102
	call check_marker
	EXPECT e
	; the last sector, and one past it
	mov eax, SECTORS - 1
	mov cx, 1
	call ext_read
	EXPECT nc
	xor di, di
	cmp dword [es:di], MARK + SECTORS - 1
	EXPECT e
	mov eax, SECTORS
	mov cx, 1
	call ext_read
	EXPECT c
	cmp ah, 0x04
	EXPECT e
	; too many sectors in one call
	mov eax, 64
	mov cx, 200
	call ext_read
	EXPECT c
	; 64-bit flat buffer form: LBA 70 to 2 MiB ...
	mov byte [dap], 0x18
	mov word [dap + 2], 1
	mov dword [dap + 4], 0xFFFFFFFF
	mov dword [dap + 8], 70
	mov dword [dap + 12], 0
	mov dword [dap + 16], 0x200000
	mov dword [dap + 20], 0
	mov si, dap
	mov ah, 0x42
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	; ... copied back below 1 MiB with INT 15h AH=87h
	mov word [gdt87 + 0x10], 0xFFFF		; source limit
	mov word [gdt87 + 0x18], 0xFFFF		; destination limit
	mov dword [gdt87 + 0x12], 0x200000	; source base (24 bits) + access
	mov byte [gdt87 + 0x15], 0x93
	mov dword [gdt87 + 0x1A], BUF_SEG * 16 + 0x1000
	mov byte [gdt87 + 0x1D], 0x93
	push es
	xor ax, ax
	mov es, ax
	mov si, gdt87
	mov cx, 256
	mov ah, 0x87
	int 0x15
	pop es
	EXPECT nc
	mov di, 0x1000
	mov eax, 70
	call check_marker
	EXPECT e
	; a flat buffer outside guest RAM is refused
	mov byte [dap], 0x18
	mov word [dap + 2], 1
	mov dword [dap + 4], 0xFFFFFFFF
	mov dword [dap + 16], 0
	mov dword [dap + 20], 0xFFFF0000
	mov si, dap
	mov ah, 0x42
	mov dl, DRIVE
	int 0x13
	EXPECT c
	cmp ah, 0x01
	EXPECT e
	; AH=48h
	mov word [edd48], 0x1E
	mov si, edd48
	mov ah, 0x48
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	cmp dword [edd48 + 0x10], SECTORS
	EXPECT e
	cmp word [edd48 + 0x18], 512
	EXPECT e
	; AH=15h
	mov ah, 0x15
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	cmp ah, 3
	EXPECT e
	cmp dx, SECTORS
	EXPECT e
	; no second disk
	mov ah, 0x08
	mov dl, 0x81
	int 0x13
	EXPECT c
	mov ah, 0x41
	mov bx, 0x55AA
	mov dl, 0x81
	int 0x13
	EXPECT c

	; ---- writes: refused on a read-only disk; else written and read back
	mov ax, BUF_SEG
	mov es, ax
	xor di, di
	mov eax, MARK + 0xABCD
	mov [es:di], eax
	mov byte [dap], 0x10
	mov word [dap + 2], 1
	mov word [dap + 4], 0
	mov word [dap + 6], BUF_SEG
	mov dword [dap + 8], 200
	mov dword [dap + 12], 0
	mov si, dap
	mov ax, 0x4300
	mov dl, DRIVE
	int 0x13
	jnc .written
	cmp ah, 0x03
	EXPECT e
	PRINT s_wr_refused
	jmp .wdone
.written:
	mov dword [es:0], 0
	mov eax, 200
	mov cx, 1
	call ext_read
	EXPECT nc
	cmp dword [es:0], MARK + 0xABCD
	EXPECT e
	PRINT s_wr_ok
.wdone:
%endif

	; ---- INT 15h: E820
	xor ebx, ebx
	xor bp, bp			; entries
	mov byte [seen_1m], 0
.e820:
	mov ax, BUF_SEG
	mov es, ax
	xor di, di
	mov eax, 0xE820
	mov ecx, 24
	mov edx, 0x534D4150
	int 0x15
	jc .e820_done
	cmp eax, 0x534D4150
	EXPECT e
	inc bp
	cmp bp, 1
	jne .not_first
	cmp dword [es:0], 0		; first: [0, 9FC00h) usable
	EXPECT e
	cmp dword [es:8], 0x9FC00
	EXPECT e
	cmp dword [es:16], 1
	EXPECT e
.not_first:
	cmp dword [es:0], 0x100000
	jne .next
	cmp dword [es:16], 1
	jne .next
	mov byte [seen_1m], 1
.next:
	test ebx, ebx
	jz .e820_done
	cmp bp, 32
	jb .e820
.e820_done:
	cmp bp, 4
	EXPECT ae
	cmp byte [seen_1m], 1
	EXPECT e
	; a buffer too small is refused
	xor ebx, ebx
	mov eax, 0xE820
	mov ecx, 8
	mov edx, 0x534D4150
	int 0x15
	EXPECT c
	; E801 and 88h (256 MiB guest: 15 MiB + 240 MiB)
	mov ax, 0xE801
	int 0x15
	EXPECT nc
	cmp ax, 0x3C00
	EXPECT e
	cmp bx, (256 - 16) * 16
	EXPECT e
	mov ah, 0x88
	int 0x15
	EXPECT nc
	cmp ax, 0
	EXPECT ne
	; A20
	mov ax, 0x2402
	int 0x15
	EXPECT nc
	cmp al, 1
	EXPECT e
	mov ax, 0x2400
	int 0x15
	mov ax, 0x2402
	int 0x15
	cmp al, 0
	EXPECT e
	mov ax, 0x2401
	int 0x15
	EXPECT nc
	mov ax, 0x2402
	int 0x15
	cmp al, 1
	EXPECT e
	mov ax, 0x2403
	int 0x15
	EXPECT nc
	; C0h configuration table
	mov ah, 0xC0
	int 0x15
	EXPECT nc
	cmp byte [es:bx + 2], 0xFC
	EXPECT e
	; unsupported: APM
	mov ax, 0x5300
	xor bx, bx
	int 0x15
	EXPECT c
	cmp ah, 0x86
	EXPECT e

	; ---- timer: the tick count advances by itself (INT 08h in firmware)
	xor ax, ax
	mov es, ax
	mov eax, [es:0x46C]
	mov cx, 200
	sti
.tick:	hlt
	cmp eax, [es:0x46C]
	jne .ticked
	loop .tick
.ticked:
	cmp eax, [es:0x46C]
	EXPECT ne
	mov ebx, eax
	mov ah, 0x00
	int 0x1A
	shl ecx, 16
	mov cx, dx
	cmp ecx, ebx
	EXPECT a
	; RTC time in BCD
	mov ah, 0x02
	int 0x1A
	EXPECT nc
	cmp ch, 0x23
	EXPECT be
	mov al, cl
	and al, 0x0F
	cmp al, 9
	EXPECT be
	mov ah, 0x04
	int 0x1A
	EXPECT nc
	cmp ch, 0x20
	EXPECT e
	; PCI BIOS: not present
	mov ax, 0xB101
	int 0x1A
	EXPECT c

	; ---- keyboard: no input in the test
	mov ah, 0x01
	int 0x16
	EXPECT z
	mov ah, 0x02
	int 0x16
	; ---- video state
	mov ah, 0x0F
	int 0x10
	cmp ax, 0x5003
	EXPECT e
	mov ah, 0x02
	xor bh, bh
	mov dx, 0x0510
	int 0x10
	mov ah, 0x03
	xor bh, bh
	int 0x10
	cmp dx, 0x0510
	EXPECT e
	mov ax, 0x4F00
	int 0x10
	cmp ax, 0x004F
	EXPECT ne

%ifndef FLOPPY
	; ---- EDD 3.0 (T13 EDD-3 size): device path information, checksummed
	mov word [edd48], 0x4A
	mov si, edd48
	mov ah, 0x48
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	cmp word [edd48], 0x4A
	EXPECT e
	cmp word [edd48 + 0x1E], 0xBEDD
	EXPECT e
	cmp byte [edd48 + 0x20], 44
	EXPECT e
	cmp dword [edd48 + 0x24], 'ISA '
	EXPECT e
	cmp dword [edd48 + 0x28], 'ATA '
	EXPECT e
	mov si, edd48 + 0x1E
	mov cx, 44
	xor al, al
.eddsum:
	add al, [si]
	inc si
	loop .eddsum
	test al, al
	EXPECT z

	; ---- INT 13h hooked by the client, which chains to the BIOS (as iPXE,
	; memdisk and GRUB's drivemap do): its handler is called for every
	; INT 13h, answers for its own drive 9Fh and passes the rest on, by
	; pushf/call far + retf 2 (results come back through it) or by a far
	; jump (the BIOS returns to the caller directly).
	xor ax, ax
	mov es, ax
	mov eax, [es:0x13 * 4]
	mov [old13], eax
	cli
	mov word [es:0x13 * 4], hook13
	mov word [es:0x13 * 4 + 2], 0
	sti
	mov ah, 0x08			; chained by call: geometry as before
	mov dl, DRIVE
	int 0x13
	EXPECT nc
	cmp cx, (15 << 8) | 63
	EXPECT e
	cmp word [hookcount], 1
	EXPECT e
	mov ah, 0x08			; chained by call: the BIOS's error comes back
	mov dl, 0x81
	int 0x13
	EXPECT c
	cmp word [hookcount], 2
	EXPECT e
	mov ah, 0x08			; the hook's own drive
	mov dl, 0x9F
	int 0x13
	EXPECT nc
	cmp cx, 0x1234
	EXPECT e
	cmp word [hookcount], 3
	EXPECT e
	mov ax, BUF_SEG			; chained by jump: CHS read of LBA 64
	mov es, ax
	xor bx, bx
	mov cx, 2
	mov dh, 1
	mov dl, DRIVE
	mov ax, 0x0201
	int 0x13
	EXPECT nc
	xor di, di
	mov eax, 64
	call check_marker
	EXPECT e
	mov eax, 66			; EDD read through the hook
	mov cx, 1
	call ext_read
	EXPECT nc
	xor di, di
	mov eax, 66
	call check_marker
	EXPECT e
	cmp word [hookcount], 5
	EXPECT e
	xor ax, ax
	mov es, ax
	mov eax, [old13]
	cli
	mov [es:0x13 * 4], eax
	sti
	PRINT s_hooked
%endif

	; ---- verdict
	PRINT s_done
	mov ax, ckid
	call putdec
	PRINT s_checks
	mov ax, [nfail]
	call putdec
	PRINT s_failed
	cmp word [nfail], 0
	jne .bad
	PRINT s_pass
	xor al, al
	jmp .exit
.bad:
	PRINT s_fail2
	mov ax, [nfail]
	cmp ax, 63
	jbe .f
	mov ax, 63
.f:	or al, 0x40
.exit:
	out 0xF4, al
	cli
	hlt

%ifndef FLOPPY
hook13:
	inc word [cs:hookcount]
	cmp dl, 0x9F
	jne .chain
	cmp ah, 0x08
	jne .chain
	mov cx, 0x1234
	xor ah, ah
	push bp
	mov bp, sp
	and word [bp + 6], 0xFFFE	; CF clear in the caller's FLAGS
	pop bp
	iret
.chain:
	cmp ah, 0x02
	je .tail
	pushf
	call far [cs:old13]
	retf 2				; the BIOS's flags to the caller
.tail:
	jmp far [cs:old13]
%endif

s_hello:	db "bios-probe: start", 13, 10, 0
s_hooked:	db "INT13-HOOK: chained", 13, 10, 0
s_fail:		db "FAIL check ", 0
s_crlf:		db 13, 10, 0
s_wr_refused:	db "WRITE: refused", 13, 10, 0
s_wr_ok:	db "WRITE: ok", 13, 10, 0
s_done:		db "bios-probe: ", 0
s_checks:	db " checks, ", 0
s_failed:	db " failed", 13, 10, 0
s_pass:		db "PROBE-PASS", 13, 10, 0
s_fail2:	db "PROBE-FAIL", 13, 10, 0

	align 4
bootdrv:	db 0
seen_1m:	db 0
nfail:		dw 0
dap:		times 24 db 0
edd48:		times 80 db 0
old13:		dd 0
hookcount:	dw 0
gdt87:		times 48 db 0

	times 16 * 512 - ($ - $$) db 0
	times 64 * 512 - ($ - $$) db 0
%assign lba 64
%rep 64
	dd MARK + lba
	times 508 db (lba & 0xFF)
%assign lba lba + 1
%endrep
	times (SECTORS - 1) * 512 - ($ - $$) db 0
	dd MARK + SECTORS - 1
	times 508 db ((SECTORS - 1) & 0xFF)
