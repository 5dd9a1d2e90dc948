; bios_direct.asm - a Multiboot 1 kernel (a.out kludge, flat) that checks
; the pseudo-BIOS nobios installs under a direct boot (issue 13 item 5):
;   1. in protected mode, the firmware ROM at the top of 4 GiB: the 16 bytes
;      at the reset vector 0xFFFFFFF0 equal those at 0xFFFF0 (the image at
;      F000:FFF0), are not the all-ones of an unmapped read, and a write
;      there does not change them (read-only);
;   2. it drops to real mode as a hypervisor's trampoline does (16-bit
;      protected mode, PE off, the real-mode IVT) and calls INT 15h E820
;      (RBIL: EAX=E820h, EDX='SMAP', continuation in EBX) until EBX=0,
;      checking the first entry is [0, 9FC00h) usable, then INT 10h AH=0Fh
;      (video mode 03h) and AH=0Eh (teletype) to print its verdict.
; It leaves through the debug-exit port 0xF4: 0x31 all held, 0x32 a check
; failed, 0x33 no BIOS (the IVT's INT 15h vector is 0000:0000: --no-bios).
; Progress goes to COM1 from protected mode, the verdict through INT 10h.
	bits 32
LOAD		equ 0x100000
MB_MAGIC	equ 0x1BADB002
MB_AOUT_KLUDGE	equ 1 << 16
MB_BOOTED	equ 0x2BADB002
COM1		equ 0x3F8
RM_BASE		equ 0x7C00	; where the real-mode part runs
RM_BUF		equ 0x7E00	; E820 entry buffer (20 bytes)
RM_STACK	equ 0x7000

	section .text start=0 vstart=LOAD
mbhdr:
	dd MB_MAGIC, MB_AOUT_KLUDGE, -(MB_MAGIC + MB_AOUT_KLUDGE)
	dd mbhdr		; header_addr
	dd LOAD			; load_addr
	dd 0			; load_end_addr: the whole file
	dd 0			; bss_end_addr: none
	dd start		; entry_addr

start:
	cli
	mov esp, 0x90000
	cmp eax, MB_BOOTED
	jne fail32
	; the real-mode part to RM_BASE (below 1 MiB, where real mode reaches)
	mov esi, section..rm.start + LOAD
	mov edi, RM_BASE
	mov ecx, rm_end - rm_start
	rep movsb
	; 1. the ROM at the top of 4 GiB against the image at 0xF0000
	mov esi, 0xFFFFFFF0
	mov edi, 0xFFFF0
	mov ecx, 4
	repe cmpsd
	jne rom_bad
	cmp dword [0xFFFFFFF0], 0xFFFFFFFF
	je rom_bad
	; read-only, as a ROM: a write there changes nothing
	mov eax, [0xFFFFFFF0]
	mov dword [0xFFFFFFF0], 0x5EC7ABCD
	cmp eax, [0xFFFFFFF0]
	jne rom_bad
	mov esi, msg_rom_ok
	call puts
	jmp to_real
rom_bad:
	mov esi, msg_rom_bad
	call puts
	mov byte [rm_fail_flag], 1
to_real:
	lgdt [gdt_desc]
	jmp 0x08:RM_BASE	; 16-bit protected mode, base 0

fail32:
	mov esi, msg_magic
	call puts
	mov al, 0x32
	out 0xF4, al
	hlt

; puts: ESI = NUL-terminated string to COM1 (polled; nobios's UART needs no
; set-up to transmit)
puts:
	push eax
	push edx
	mov dx, COM1
.next:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	pop edx
	pop eax
	ret

	align 8
gdt:
	dq 0
	dq 0x00009A000000FFFF	; 0x08: 16-bit code, base 0, limit 64 KiB
	dq 0x000092000000FFFF	; 0x10: 16-bit data
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt
msg_rom_ok:	db "BIOS-DIRECT: reset vector at 0xFFFFFFF0 reads the firmware, read-only", 13, 10, 0
msg_rom_bad:	db "BIOS-DIRECT: FAIL: 0xFFFFFFF0 does not read the firmware", 13, 10, 0
msg_magic:	db "BIOS-DIRECT: FAIL: not entered by Multiboot 1", 13, 10, 0
rm_fail_flag	equ RM_BASE + (fail_flag - rm_start)

	section .rm vstart=RM_BASE follows=.text
	bits 16
rm_start:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr0
	and eax, ~1
	mov cr0, eax
	jmp 0:real
real:
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, RM_STACK
	lidt [rm_idt]
	; no BIOS: the vector is empty (a jump there would run the IVT as code)
	cmp dword [0x15 * 4], 0
	jne .bios
	mov al, 0x33
	out 0xF4, al
	hlt
.bios:
	xor ebx, ebx
	xor bp, bp		; entries
.e820:
	mov eax, 0xE820
	mov edx, 0x534D4150	; 'SMAP'
	mov ecx, 20
	mov di, RM_BUF
	int 0x15
	jc .bad
	cmp eax, 0x534D4150
	jne .bad
	test bp, bp
	jnz .not_first
	; the first entry: [0, 9FC00h) usable (type 1)
	cmp dword [RM_BUF], 0
	jne .bad
	cmp dword [RM_BUF + 8], 0x9FC00
	jne .bad
	cmp dword [RM_BUF + 16], 1
	jne .bad
.not_first:
	inc bp
	cmp bp, 64
	ja .bad
	test ebx, ebx
	jnz .e820
	cmp bp, 3
	jb .bad
	; INT 10h AH=0Fh: current video mode, 80x25 text (03h)
	mov ah, 0x0F
	int 0x10
	cmp al, 0x03
	jne .bad
	cmp byte [fail_flag], 0
	jne .bad
	mov si, msg_ok
	call rm_puts
	mov al, 0x31
	out 0xF4, al
	hlt
.bad:
	mov si, msg_bad
	call rm_puts
	mov al, 0x32
	out 0xF4, al
	hlt

rm_puts:
	lodsb
	test al, al
	jz .done
	mov ah, 0x0E
	xor bx, bx
	int 0x10
	jmp rm_puts
.done:
	ret

rm_idt:
	dw 0x3FF
	dd 0
fail_flag:	db 0
msg_ok:		db "BIOS-DIRECT: INT 15h E820 and INT 10h answered in real mode", 13, 10, 0
msg_bad:	db "BIOS-DIRECT: FAIL: INT 15h E820 or INT 10h", 13, 10, 0
rm_end:
