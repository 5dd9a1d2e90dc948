; grub_mb2.asm - a Multiboot 2 kernel for GRUB's `multiboot2` command
; (tests/boot/grub.sh), a flat image placed by its address tag (the a.out
; kludge of Multiboot 2, section 3.1.5), so nasm alone builds it.
; It checks what Multiboot2 1.0 section 3.3 promises at entry (EAX magic,
; an 8-byte aligned info structure in EBX, protected mode without paging),
; walks the tags (section 3.6) and prints on COM1 the boot loader's name
; and whether a memory map (type 6) came, then leaves through the
; debug-exit port: 0x21 when all holds, 0x22 otherwise.
	bits 32
LOAD	equ 0x200000
MB2_MAGIC	equ 0xE85250D6	; header magic (section 3.1.1)
MB2_BOOTED	equ 0x36D76289	; EAX at entry (section 3.2)
MB2_ARCH_I386	equ 0
COM1	equ 0x3F8
	org LOAD
hdr:
	dd MB2_MAGIC, MB2_ARCH_I386, hdr_end - hdr
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (hdr_end - hdr))
	align 8
	dw 2, 0			; address tag
	dd 24
	dd hdr			; header_addr
	dd LOAD			; load_addr
	dd 0			; load_end_addr: the whole file
	dd 0			; bss_end_addr: none
	align 8
	dw 3, 0			; entry address tag
	dd 12
	dd start
	align 8
	dw 0, 0			; end tag
	dd 8
hdr_end:

start:
	cli
	mov esp, stack_top
	xor edi, edi		; failures
	cmp eax, MB2_BOOTED
	je .magic_ok
	inc edi
.magic_ok:
	test bl, 7
	jz .aligned
	inc edi
.aligned:
	mov eax, cr0
	test eax, 0x80000000	; PG must be off
	jz .nopg
	inc edi
.nopg:
	mov esi, msg_start
	call puts
	; walk the tags: total_size at [ebx], tags from ebx+8, each 8-aligned
	mov ecx, [ebx]
	lea ebp, [ebx + ecx]	; end
	lea edx, [ebx + 8]
	xor ecx, ecx		; bit 0: name seen, bit 1: mmap seen
.tag:
	cmp edx, ebp
	jae .walked
	mov eax, [edx]
	test eax, eax
	jz .walked
	cmp eax, 2		; boot loader name
	jne .not_name
	or ecx, 1
	mov esi, msg_name
	call puts
	lea esi, [edx + 8]
	call puts
	mov esi, msg_nl
	call puts
.not_name:
	cmp eax, 6		; memory map
	jne .not_mmap
	or ecx, 2
.not_mmap:
	mov eax, [edx + 4]
	cmp eax, 8
	jb .walked		; malformed: stop
	add eax, 7
	and eax, ~7
	add edx, eax
	jmp .tag
.walked:
	cmp ecx, 3
	je .tags_ok
	inc edi
.tags_ok:
	mov esi, msg_mmap
	test ecx, 2
	jnz .say
	mov esi, msg_nommap
.say:
	call puts
	mov al, 0x21
	test edi, edi
	jz .exit
	mov al, 0x22
	mov esi, msg_fail
	call puts
.exit:
	out 0xF4, al
	hlt
	jmp .exit

; puts: ESI = NUL-terminated string, to COM1 (the UART needs no set-up here)
puts:
	push eax
	push edx
.next:
	lodsb
	test al, al
	jz .done
	mov dx, COM1
	out dx, al
	jmp .next
.done:
	pop edx
	pop eax
	ret

msg_start:	db "MB2-PROBE: entered with the Multiboot 2 magic", 13, 10, 0
msg_name:	db "MB2-PROBE: boot loader: ", 0
msg_nl:		db 13, 10, 0
msg_mmap:	db "MB2-PROBE: memory map tag present", 13, 10, 0
msg_nommap:	db "MB2-PROBE: no memory map tag", 13, 10, 0
msg_fail:	db "MB2-PROBE: FAIL", 13, 10, 0
	align 16
	times 256 db 0
stack_top:
