/* elf64sym.h - the elf64 entry (an ELF64 entered at a symbol in long mode,
 * the 2013 bhyveosvload's entry for OSv's start64), shared by the "elf64"
 * and "osv" formats and `nobios inspect`. */
#ifndef NOBIOS_BOOT_ELF64SYM_H
#define NOBIOS_BOOT_ELF64SYM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "boot/boot.h"

#define ELF64SYM_DEFAULT_SYMBOL "start64"

/* Boot an ELF64 image (data, size) at symbol `symbol`: PT_LOADs at their
 * physical addresses and mapped at their virtual ones besides the identity
 * map of 4 GiB, the entry state of cpu_setup_long_elf64, RIP = the symbol's
 * (virtual) address, RBX = multiboot info at LAYOUT_MBI (mmap at
 * LAYOUT_ELF64_MMAP, cmdline at LAYOUT_ELF64_CMDLINE, modules), RSP =
 * LAYOUT_STACK_TOP, RBP = the ELF header's physical address (0 when no
 * PT_LOAD holds it), RAX = 0x2BADB002. */
int elf64sym_boot(struct boot_ctx *ctx, const char *path, const uint8_t *data, size_t size,
		  const char *symbol, const char *cmdline);
/* `inspect`: the symbol, the entry it gives and the virtual mappings the
 * boot would make (or why it would refuse). */
void elf64sym_inspect_symbol(const char *path, const uint8_t *data, size_t size,
			     const char *symbol, FILE *out);

#endif
