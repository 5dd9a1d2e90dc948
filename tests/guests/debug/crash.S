/* crash.S - probe guests that fail on purpose, for the decoded failure
 * dumps (tests/boot/crash.sh).  One variant per -D:
 *   CRASH_GDT   (64-bit, elf64)  lgdt of a 1-entry GDT, then reload DS
 *               -> #GP, no IDT -> triple fault (a POST write just before)
 *   CRASH_GP    (64-bit, elf64)  read a non-canonical address, no IDT
 *               -> #GP -> #DF -> triple fault (a POST write just before)
 *   CRASH_SPIN  (64-bit, elf64)  jmp . forever (--timeout catches it)
 *   CRASH_HLT   (64-bit, elf64)  cli; hlt: asleep for good
 *   CRASH_NOPAE (32-bit, multiboot) EFER.LME=1, CR4.PAE=0, set CR0.PG
 *               -> #GP (SDM: PAE must be on before long-mode paging)
 *               -> triple fault
 *   CRASH_GP32  (32-bit, multiboot) load DS with a selector beyond the GDT
 *               limit -> #GP, no IDT -> triple fault.  The gdb stub's i386
 *               test (tests/boot/gdb.sh) uses it: an ordinary fault on every
 *               host, where CRASH_NOPAE wedges QEMU TCG's SVM (the SVM test
 *               host, tests/boot/host-limits). */
#if defined(CRASH_NOPAE) || defined(CRASH_GP32)
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00000003
	.section .multiboot, "a"
	.align 4
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	lidt empty_idt
#if defined(CRASH_GP32)
	/* The boot GDT (src/cpu/cpu_state.c, at 0x500) has five entries: 0xFFF8 is
	 * far beyond its limit (SDM vol 3A 3.4.2: #GP(selector)). */
	mov $0xFFF8, %eax
	mov %eax, %ds
#else
	mov $0x7000, %eax        /* any page: the #GP comes before it is used */
	mov %eax, %cr3
	mov $0xC0000080, %ecx    /* IA32_EFER */
	rdmsr
	or $0x100, %eax          /* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax     /* PG without CR4.PAE: #GP */
	mov %eax, %cr0
#endif
1:	hlt
	jmp 1b

	.data
	.align 8
empty_idt:
	.word 0
	.long 0
#else
	.text
	.code64
	.globl start64
start64:
	cli
	lidt empty_idt(%rip)
#if defined(CRASH_GDT)
	lgdt tiny_gdt(%rip)
	mov $0x18, %ax
	/* A POST write just before the fault: an exit whose state the dump
	 * can show where KVM resets the vCPU at the triple fault (SVM). */
	out %al, $0x80
	mov %ax, %ds             /* selector 0x18 beyond the GDT limit: #GP */
#elif defined(CRASH_GP)
	movabs $0x8000000000001000, %rax
	out %al, $0x80           /* the last exit before the fault (see above) */
	mov (%rax), %rax         /* non-canonical: #GP */
#elif defined(CRASH_HLT)
	/* Interrupts off, then hlt: nothing can wake the vCPU. */
	cli
	hlt
	jmp .
#elif defined(CRASH_SPIN)
	/* Tell the console we got here, then spin without exits. */
	mov $0x3f8, %dx
	mov $'S', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
2:	jmp 2b
#endif
1:	hlt
	jmp 1b

	.data
	.align 16
empty_idt:
	.word 0
	.quad 0
tiny_gdt:
	.word 7                  /* only the null descriptor */
	.quad gdt0
	.align 8
gdt0:
	.quad 0
#endif
