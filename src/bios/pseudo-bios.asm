; pseudo-bios.asm - nobios's real-mode firmware (64 KiB image at F000:0000).
;
; The firmware does only what must run inside the guest: the reset vector,
; programming the in-kernel PIC and PIT, the hardware-interrupt handlers (the
; timer tick at 0040:006C, end-of-interrupt for the rest) and the waiting
; loops (INT 16h read key, INT 19h boot).  Every BIOS service is a 4-byte
; stub "out BIOS_TRAP_PORT, al; iret": the host sees the port write, finds the
; vector from the stub's address, serves the call on the vCPU's registers and
; the INT frame's FLAGS, and the stub returns.  The contract is in bios.h;
; the offsets below must match it.
;
; Build: nasm -f bin -o pseudo-bios.bin pseudo-bios.asm

	bits 16
	org 0

BIOS_TRAP_PORT	equ 0xEE
OFF_CONFIG	equ 0x0010	; INT 15h C0h system configuration table
OFF_FDPT	equ 0x0020	; INT 1Eh diskette parameter table
OFF_IVT		equ 0x0040	; 256 handler offsets (segment F000) for the IVT
OFF_STUBS	equ 0x0300	; 256 trap stubs of 4 bytes
OFF_CODE	equ 0x0700
BDA_SEG		equ 0x0040

%define STUB(v) (OFF_STUBS + (v) * 4)

; ---- header: the host checks the magic and reads the entry offsets
magic:		db "NOBIOS1", 0
		dw post			; 0x08: POST entry (F000:post)
		dw OFF_STUBS		; 0x0A
		dw OFF_IVT		; 0x0C
		dw 0

; ---- INT 15h AH=C0h: system configuration parameters (RBIL table 00509)
		times OFF_CONFIG - ($ - $$) db 0
		dw 8			; bytes following
		db 0xFC, 0x00, 0x01	; model (AT), submodel, BIOS revision
		db 0x70			; 2nd PIC, RTC, INT 15h/4Fh called by INT 09h
		db 0x40, 0x00, 0x00, 0x00 ; feature byte 2: INT 16h/09h supported

; ---- INT 1Eh: diskette parameter table for 1.44 MB drives
		times OFF_FDPT - ($ - $$) db 0
		db 0xAF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

; ---- handler offsets copied into the IVT by the host (segment F000)
		times OFF_IVT - ($ - $$) db 0
%assign v 0
%rep 256
 %if v <= 0x07
		dw STUB(v)		; CPU exceptions: the host reports them
 %elif v == 0x08
		dw int08
 %elif v == 0x09
		dw int09
 %elif v <= 0x0F
		dw irq_master
 %elif v == 0x16
		dw int16
 %elif v == 0x19
		dw int19
 %elif v <= 0x1A
		dw STUB(v)		; 10h-15h, 17h, 18h, 1Ah: host services
 %elif v == 0x1E
		dw OFF_FDPT
 %elif v >= 0x70 && v <= 0x77
		dw irq_slave
 %else
		dw iret_only
 %endif
 %assign v v + 1
%endrep

; ---- trap stubs: the host finds the vector as (ip - OFF_STUBS) / 4
		times OFF_STUBS - ($ - $$) db 0
%rep 256
		out BIOS_TRAP_PORT, al
		iret
		nop
%endrep

		times OFF_CODE - ($ - $$) db 0

; ---- POST: the vCPU starts here
post:
		cli
		cld
		xor ax, ax
		mov ss, ax
		mov sp, 0x7C00
		mov ds, ax
		; 8259A pair: ICW1 edge/cascade/ICW4, vectors 08h and 70h, slave on
		; IRQ2, 8086 mode; then only the timer (and the cascade) unmasked.
		mov al, 0x11
		out 0x20, al
		out 0xA0, al
		mov al, 0x08
		out 0x21, al
		mov al, 0x70
		out 0xA1, al
		mov al, 0x04
		out 0x21, al
		mov al, 0x02
		out 0xA1, al
		mov al, 0x01
		out 0x21, al
		out 0xA1, al
		mov al, 0xFA
		out 0x21, al
		mov al, 0xFF
		out 0xA1, al
		; 8254 channel 0: lobyte/hibyte, mode 3, count 65536 -> 18.2 Hz
		mov al, 0x36
		out 0x43, al
		xor al, al
		out 0x40, al
		out 0x40, al
		int 0x19
.halt:		cli
		hlt
		jmp .halt

; ---- INT 08h: timer tick (IRQ0)
int08:
		push ds
		push ax
		mov ax, BDA_SEG
		mov ds, ax
		add word [0x6C], 1
		adc word [0x6E], 0
		; midnight: 1800B0h ticks a day (RBIL INT 1Ah AH=00h)
		cmp word [0x6E], 0x18
		jb .chain
		cmp word [0x6C], 0xB0
		jb .chain
		mov word [0x6C], 0
		mov word [0x6E], 0
		mov byte [0x70], 1
.chain:
		int 0x1C
		mov al, 0x20
		out 0x20, al
		pop ax
		pop ds
		iret

; ---- INT 09h: keyboard (IRQ1): keys come from the host's console through
; INT 16h, so the scan code is only consumed.
int09:
		push ax
		in al, 0x60
		mov al, 0x20
		out 0x20, al
		pop ax
		iret

irq_master:
		push ax
		mov al, 0x20
		out 0x20, al
		pop ax
		iret

irq_slave:
		push ax
		mov al, 0x20
		out 0xA0, al
		out 0x20, al
		pop ax
		iret

; ---- INT 16h: the blocking reads (AH=00h/10h) wait here with interrupts
; on, polling the host's peek (AH=01h/11h), so timer ticks keep running.
int16:
		cmp ah, 0x00
		je .wait
		cmp ah, 0x10
		je .wait
		jmp STUB(0x16)
.wait:
		sti
		push ax
.poll:
		pop ax
		push ax
		inc ah
		pushf
		call 0xF000:STUB(0x16)
		jnz .ready
		hlt
		jmp .poll
.ready:
		pop ax
		jmp STUB(0x16)

; ---- INT 19h: bootstrap: the host reads the boot sector to 0000:7C00 and
; returns DL = boot drive, or CF=1 when there is none (then INT 18h).
int19:
		cli
		xor ax, ax
		mov ss, ax
		mov sp, 0x7C00
		pushf
		call 0xF000:STUB(0x19)
		jc .fail
		xor ax, ax
		mov ds, ax
		mov es, ax
		xor bx, bx
		xor cx, cx
		xor si, si
		xor di, di
		xor bp, bp
		xor dh, dh
		sti
		jmp 0x0000:0x7C00
.fail:
		int 0x18
.halt:		cli
		hlt
		jmp .halt

iret_only:
		iret

; ---- reset: nobios starts the vCPU at POST, never at the reset vector, so
; reaching the vector means a guest asked for a reset (a far jump there, as
; DOS and Linux's BIOS reboot method do, or an INIT to the BSP): write the
; ACPI RESET_REG (src/mem/layout.h), which ends nobios with status 0.
ACPI_RESET_PORT	equ 0x602
ACPI_RESET_VALUE equ 0x01
reset:
		mov al, ACPI_RESET_VALUE
		mov dx, ACPI_RESET_PORT
		out dx, al
.halt:		cli
		hlt
		jmp .halt

; ---- reset vector, BIOS date, model byte
		times 0xFFF0 - ($ - $$) db 0
		jmp 0xF000:reset
		db "11/22/26"
		db 0
		db 0xFC			; model: AT
		db 0
