/* pvh.c - the PVH boot ABI (Xen docs/misc/pvh.pandoc) for any ELF kernel that
 * carries XEN_ELFNOTE_PHYS32_ENTRY (Linux's vmlinux, FreeBSD, OSv, Xen):
 * PT_LOADs at their physical addresses, hvm_start_info version 1 at
 * LAYOUT_PVH_START_INFO (cmdline, module list with the initrd as module 0,
 * memory map converted from ctx->e820), and the entry state the ABI fixes:
 * flat 32-bit protected mode, paging off, CR4 = 0, EFLAGS.IF/TF/VM = 0,
 * EBX = start_info, CS/DS/ES/SS flat, TR a valid 32-bit TSS.
 * Detection order 20 (see multiboot.c for the whole order). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/elf.h"
#include "boot/linux_cmdline.h"
#include "boot/multiboot.h"
#include "boot/start_info.h"
#include "mem/layout.h"
#include "util/err.h"

/* The PHYS32_ENTRY note's value: Linux emits it with _ASM_PTR (8 bytes on
 * x86-64), others as a .long (4 bytes). */
static int pvh_entry_of(const struct elf_image *e, uint64_t *entry, const char **why)
{
	const uint8_t *desc;
	size_t len;
	if (elf_find_note(e, XEN_ELFNOTE_OWNER, XEN_ELFNOTE_PHYS32_ENTRY, &desc, &len) != 1) {
		*why = "no Xen note type 18 (XEN_ELFNOTE_PHYS32_ENTRY)";
		return 0;
	}
	if (len != 4 && len != 8) {
		*why = "XEN_ELFNOTE_PHYS32_ENTRY note has a bad length (not 4 or 8 bytes)";
		return -1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v |= (uint64_t)desc[i] << (8 * i);
	if (v >= 0x100000000ULL) {
		*why = "XEN_ELFNOTE_PHYS32_ENTRY is above 4 GiB";
		return -1;
	}
	*entry = v;
	return 1;
}

/* Is this PVH kernel Linux?  Linux's own notes say so: the Xen guest-OS
 * note (XEN_ELFNOTE_GUEST_OS, type 6) reads "linux" in every kernel built
 * with CONFIG_XEN (Debian's), and owner "Linux" notes (LINUX_ELFNOTE_BUILD_SALT,
 * 0x100, init/version.c, Linux 4.19+) cover kernels built with PVH but
 * without Xen.  Only then does the Linux default command line apply: a
 * FreeBSD or OSv kernel must get the user's line unchanged. */
#define XEN_ELFNOTE_GUEST_OS      6
#define LINUX_ELFNOTE_BUILD_SALT  0x100
static bool pvh_is_linux(const struct elf_image *e)
{
	const uint8_t *desc;
	size_t len;
	if (elf_find_note(e, XEN_ELFNOTE_OWNER, XEN_ELFNOTE_GUEST_OS, &desc, &len) == 1 &&
	    len >= 5 && memcmp(desc, "linux", 5) == 0 && (len == 5 || desc[5] == 0))
		return true;
	return elf_find_note(e, "Linux", LINUX_ELFNOTE_BUILD_SALT, &desc, &len) == 1;
}

static int pvh_probe(const struct boot_file *f, char *why, size_t whylen)
{
	struct elf_image e;
	if (!elf_is_elf(f->data, f->size)) {
		snprintf(why, whylen, "not an ELF file");
		return 0;
	}
	if (elf_parse(&e, f->path, f->data, f->size) < 0) {
		snprintf(why, whylen, "ELF file, but unusable: %s", nb_errmsg());
		nb_err_clear();
		return 0;
	}
	uint64_t entry;
	const char *reason = "";
	int r = pvh_entry_of(&e, &entry, &reason);
	if (r != 1) {
		snprintf(why, whylen, "ELF%d, %s", e.is64 ? 64 : 32, reason);
		/* A broken PVH note is still a PVH kernel: say yes, so that
		 * loading reports the note problem. */
		return r < 0;
	}
	snprintf(why, whylen, "ELF%d with XEN_ELFNOTE_PHYS32_ENTRY = 0x%" PRIx64, e.is64 ? 64 : 32,
		 entry);
	return 1;
}

static uint32_t memmap_type(uint32_t e820_type)
{
	/* The E820 numbers and XEN_HVM_MEMMAP_TYPE_* agree for 1..5. */
	return e820_type >= E820_TYPE_RAM && e820_type <= E820_TYPE_UNUSABLE
		       ? e820_type
		       : XEN_HVM_MEMMAP_TYPE_RESERVED;
}

int pvh_build_start_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, uint64_t cmdline_gpa,
			 const struct direct_modules *mods)
{
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.cmdline_paddr = cmdline_gpa,
		/* start_info.h: "Physical address of the RSDP ACPI data
		 * structure"; Linux's PVH entry takes it instead of scanning. */
		.rsdp_paddr = ctx->plat ? ctx->plat->rsdp : 0,
	};
	uint64_t end = gpa + room;
	uint64_t cur = gpa + sizeof(si);
	uint64_t need = sizeof(si) + (uint64_t)ctx->e820.n * sizeof(struct hvm_memmap_table_entry) +
			(mods ? mods->n : 0) * sizeof(struct hvm_modlist_entry);
	if (need > room)
		return nb_err("pvh: start_info, memory map and module list (%" PRIu64 " bytes) do not "
			      "fit in the %" PRIu64 " bytes at 0x%" PRIx64, need, room, gpa);
	si.memmap_paddr = cur;
	si.memmap_entries = ctx->e820.n;
	for (unsigned i = 0; i < ctx->e820.n; i++) {
		struct hvm_memmap_table_entry me = {
			.addr = ctx->e820.e[i].addr,
			.size = ctx->e820.e[i].size,
			.type = memmap_type(ctx->e820.e[i].type),
		};
		if (mem_copy_in(ctx->mem, cur, &me, sizeof(me)) < 0)
			return -1;
		cur += sizeof(me);
	}
	if (mods && mods->n) {
		uint64_t list = cur;
		cur += (uint64_t)mods->n * sizeof(struct hvm_modlist_entry);
		for (unsigned i = 0; i < mods->n; i++) {
			struct hvm_modlist_entry me = { .paddr = mods->m[i].addr,
							.size = mods->m[i].size };
			if (mods->m[i].cmdline &&
			    direct_put_str(ctx->mem, &cur, end, mods->m[i].cmdline, &me.cmdline_paddr))
				return -1;
			if (mem_copy_in(ctx->mem, list + i * sizeof(me), &me, sizeof(me)) < 0)
				return -1;
		}
		si.nr_modules = mods->n;
		si.modlist_paddr = list;
	}
	return mem_copy_in(ctx->mem, gpa, &si, sizeof(si));
}

static int pvh_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct elf_image e;
	if (elf_parse(&e, f->path, f->data, f->size) < 0 || direct_check_segments(&e) < 0)
		return -1;
	uint64_t entry;
	const char *why = "";
	int r = pvh_entry_of(&e, &entry, &why);
	if (r != 1)
		return nb_err("%s: %s: not bootable by PVH", f->path, why);
	bool in_seg = false;
	for (unsigned i = 0; i < e.nload; i++)
		if (entry >= e.load[i].paddr && entry < e.load[i].paddr + e.load[i].filesz)
			in_seg = true;
	if (!in_seg)
		return nb_err("%s: PVH entry 0x%" PRIx64 " lies in no loaded segment's file data",
			      f->path, entry);
	if (elf_load(&e, ctx->mem, LAYOUT_HIGH_MEM) < 0)
		return -1;
	ctx->kernel_start = e.lo_paddr;
	ctx->kernel_end = e.hi_paddr;

	struct direct_modules mods;
	if (direct_load_modules(ctx, 0x100000000ULL, &mods) < 0)
		return -1;
	uint64_t cmdline;
	if (pvh_is_linux(&e)) {
		/* Linux copies at most COMMAND_LINE_SIZE bytes and drops the rest
		 * silently: refuse a longer line instead of losing its tail. */
		char *line;
		if (boot_linux_cmdline(ctx, LINUX_COMMAND_LINE_SIZE, &line) < 0)
			return -1;
		r = boot_put_cmdline(ctx, line, LINUX_COMMAND_LINE_SIZE, &cmdline);
		free(line);
		if (r < 0)
			return -1;
	} else if (boot_put_cmdline(ctx, ctx->cfg->cmdline, LAYOUT_CMDLINE_MAX, &cmdline) < 0) {
		return -1;
	}
	if (pvh_build_start_info(ctx, LAYOUT_PVH_START_INFO, LAYOUT_PVH_SIZE, cmdline, &mods) < 0)
		return -1;
	direct_log_map(ctx, "pvh memmap");
	/* The ABI's TR is "a 32-bit TSS (active) with base 0, limit 0x67";
	 * cpu_setup_prot32 gives a valid busy 32-bit TSS of that limit at
	 * LAYOUT_TSS, which is what a kernel can observe and rely on. */
	if (cpu_setup_prot32(ctx->cpu, ctx->mem, BOOT_GDT_CS32) < 0)
		return -1;
	ctx->cpu->gpr[CPU_RBX] = LAYOUT_PVH_START_INFO;
	ctx->cpu->rip = entry;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "PVH: 32-bit protected mode at 0x%" PRIx64 ", EBX=0x%llx (hvm_start_info)", entry,
		 (unsigned long long)LAYOUT_PVH_START_INFO);
	return 0;
}

static int pvh_inspect(const struct boot_file *f, FILE *out)
{
	struct elf_image e;
	if (elf_parse(&e, f->path, f->data, f->size) < 0) {
		fprintf(out, "PVH: %s\n", nb_errmsg());
		return 0;
	}
	uint64_t entry;
	const char *why = "";
	if (pvh_entry_of(&e, &entry, &why) != 1) {
		fprintf(out, "PVH: %s\n", why);
		return 0;
	}
	fprintf(out, "PVH note: XEN_ELFNOTE_PHYS32_ENTRY (owner \"Xen\", type 18) = 0x%" PRIx64 "\n",
		entry);
	if (pvh_is_linux(&e))
		fprintf(out, "Linux: yes (its ELF notes say so): the default Linux command line "
			"applies, at most %d bytes\n", LINUX_COMMAND_LINE_SIZE - 1);
	direct_inspect_elf(f, out);
	fprintf(out, "entry: 0x%" PRIx64 " in 32-bit protected mode (paging off, CR4=0), "
		"EBX=hvm_start_info v1 at 0x%llx\n", entry,
		(unsigned long long)LAYOUT_PVH_START_INFO);
	return 0;
}

static const struct boot_format pvh_format = {
	.name = "pvh",
	.order = 20,
	.summary = "ELF kernel with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
	.probe = pvh_probe,
	.load = pvh_load,
	.inspect = pvh_inspect,
};
BOOT_FORMAT(pvh_format);
