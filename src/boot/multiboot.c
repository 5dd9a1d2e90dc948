/* multiboot.c - Multiboot Specification 0.6.96 ("multiboot"): header search,
 * ELF and a.out-kludge loading, page-aligned modules, the information
 * structure, and the entry state of section 3.2 (flat 32-bit protected mode,
 * paging off, A20 on, EAX = 0x2BADB002, EBX = mbi).
 *
 * Also the Multiboot 1 info builder that elf64/osv use (the pieces every
 * direct format shares live in direct.c).
 *
 * Detection order of the direct formats (see boot.h: ascending `order`):
 *   linux (bzImage, ~10)   the setup header is unambiguous and most specific
 *   pvh 20                 an ELF with XEN_ELFNOTE_PHYS32_ENTRY: the kernel
 *                          asked for a VMM's entry, the richest boot info
 *                          (Xen's own binary carries PVH, MB1 and MB2)
 *   multiboot 30           MB1 before MB2: kernels carrying both (tboot,
 *                          Xen) treat MB1 as their primary, best-tested path
 *   multiboot2 40
 *   elf64 50               an ELF64 with a `start64` symbol (OSv's loader);
 *                          --entry-symbol or --boot-protocol elf64 for others
 *   osv 60                 disk images: MBR + loader.elf at sector 128; a
 *                          plain disk is left for the pseudo-BIOS after it
 */
#include "boot/multiboot.h"

#include <inttypes.h>
#include <string.h>

#include "boot/elf.h"
#include "mem/layout.h"
#include "util/err.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

long multiboot_find_header(const uint8_t *data, size_t size, struct multiboot_header *hdr,
			   int *bad_checksum)
{
	size_t lim = size < MULTIBOOT_SEARCH ? size : MULTIBOOT_SEARCH;
	if (bad_checksum)
		*bad_checksum = 0;
	for (size_t off = 0; off + 12 <= lim; off += MULTIBOOT_HEADER_ALIGN) {
		if (rd32(data + off) != MULTIBOOT_HEADER_MAGIC)
			continue;
		uint32_t flags = rd32(data + off + 4), sum = rd32(data + off + 8);
		if ((uint32_t)(MULTIBOOT_HEADER_MAGIC + flags + sum) != 0) {
			if (bad_checksum)
				*bad_checksum = 1;
			continue;
		}
		memset(hdr, 0, sizeof(*hdr));
		/* The optional fields may run past the search window (3.1.1
		 * bounds only where the header starts), not past the file. */
		size_t have = size - off < sizeof(*hdr) ? size - off : sizeof(*hdr);
		memcpy(hdr, data + off, have);
		return (long)off;
	}
	return -1;
}

int multiboot_aout_layout(const char *path, const struct multiboot_header *h, long hdr_off,
			  size_t file_size, struct multiboot_aout *out)
{
	if (hdr_off < 0 || (size_t)hdr_off + 32 > file_size)
		return nb_err("%s: Multiboot header at 0x%lx is truncated: the a.out kludge "
			      "fields (flag 16) need 32 bytes", path, hdr_off);
	if (h->header_addr < h->load_addr)
		return nb_err("%s: Multiboot header_addr 0x%" PRIx32 " is below load_addr 0x%" PRIx32,
			      path, h->header_addr, h->load_addr);
	uint64_t delta = (uint64_t)h->header_addr - h->load_addr;
	if (delta > (uint64_t)hdr_off)
		return nb_err("%s: Multiboot load_addr 0x%" PRIx32 " would start 0x%" PRIx64
			      " bytes before the file", path, h->load_addr,
			      delta - (uint64_t)hdr_off);
	out->file_off = (uint64_t)hdr_off - delta;
	out->load_addr = h->load_addr;
	uint64_t avail = file_size - out->file_off;
	if (h->load_end_addr == 0) {
		out->load_end = out->load_addr + avail;
	} else {
		if (h->load_end_addr < h->load_addr)
			return nb_err("%s: Multiboot load_end_addr 0x%" PRIx32
				      " is below load_addr 0x%" PRIx32, path, h->load_end_addr,
				      h->load_addr);
		if ((uint64_t)h->load_end_addr - h->load_addr > avail)
			return nb_err("%s: Multiboot load range [0x%" PRIx32 ", 0x%" PRIx32
				      ") is longer than the file (%" PRIu64 " bytes from offset 0x%"
				      PRIx64 ")", path, h->load_addr, h->load_end_addr, avail,
				      out->file_off);
		out->load_end = h->load_end_addr;
	}
	if (h->bss_end_addr == 0) {
		out->bss_end = out->load_end;
	} else {
		if (h->bss_end_addr < out->load_end)
			return nb_err("%s: Multiboot bss_end_addr 0x%" PRIx32
				      " is below the end of the loaded image 0x%" PRIx64, path,
				      h->bss_end_addr, out->load_end);
		out->bss_end = h->bss_end_addr;
	}
	if (out->load_end > 0x100000000ULL)
		return nb_err("%s: Multiboot image [0x%" PRIx64 ", 0x%" PRIx64
			      ") runs past 4 GiB", path, out->load_addr, out->load_end);
	out->entry = h->entry_addr;
	if (out->entry < out->load_addr || out->entry >= out->load_end)
		return nb_err("%s: Multiboot entry_addr 0x%" PRIx32 " lies outside the loaded "
			      "image [0x%" PRIx64 ", 0x%" PRIx64 ")", path, h->entry_addr,
			      out->load_addr, out->load_end);
	return 0;
}

/* Load [file_off, +load_end-load_addr) at load_addr, zero to bss_end. */
static int aout_load(struct boot_ctx *ctx, const struct boot_file *f,
		     const struct multiboot_aout *a)
{
	if (a->load_addr < LAYOUT_HIGH_MEM || !mem_range_ok(ctx->mem, a->load_addr,
							    a->bss_end - a->load_addr))
		return nb_err("%s: Multiboot image [0x%" PRIx64 ", 0x%" PRIx64 ") does not fit in "
			      "guest RAM at or above 0x%llx (RAM below 4 GiB ends at 0x%" PRIx64 ")",
			      f->path, a->load_addr, a->bss_end,
			      (unsigned long long)LAYOUT_HIGH_MEM, mem_low_top(ctx->mem));
	if (mem_copy_in(ctx->mem, a->load_addr, f->data + a->file_off, a->load_end - a->load_addr))
		return -1;
	if (mem_zero(ctx->mem, a->load_end, a->bss_end - a->load_end))
		return -1;
	ctx->kernel_start = a->load_addr;
	ctx->kernel_end = a->bss_end;
	return 0;
}

void multiboot_mem_sizes(const struct e820_map *map, uint32_t *lower, uint32_t *upper)
{
	*lower = *upper = 0;
	for (unsigned i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		if (e->addr == 0) {
			uint64_t kb = e->size / 1024;
			*lower = kb > 640 ? 640 : (uint32_t)kb;
		}
		if (e->addr <= LAYOUT_HIGH_MEM && e->addr + e->size > LAYOUT_HIGH_MEM) {
			uint64_t end = e->addr + e->size;
			if (end > LAYOUT_MMIO_HOLE)
				end = LAYOUT_MMIO_HOLE;
			*upper = (uint32_t)((end - LAYOUT_HIGH_MEM) / 1024);
		}
	}
}

/* The memory map at cur: ctx->e820 converted entry for entry (the same type
 * numbers); *cur moves past it. */
static int put_mmap(struct boot_ctx *ctx, uint64_t *cur, uint64_t lim, struct multiboot_info *mbi)
{
	mbi->mmap_addr = (uint32_t)*cur;
	for (unsigned i = 0; i < ctx->e820.n; i++) {
		struct multiboot_mmap_entry me = {
			.size = sizeof(me) - sizeof(me.size),
			.addr = ctx->e820.e[i].addr,
			.len = ctx->e820.e[i].size,
			.type = ctx->e820.e[i].type,
		};
		if (*cur > lim || lim - *cur < sizeof(me))
			return nb_err("multiboot: no room for the memory map");
		if (mem_copy_in(ctx->mem, *cur, &me, sizeof(me)))
			return -1;
		*cur += sizeof(me);
	}
	mbi->mmap_length = (uint32_t)(*cur - mbi->mmap_addr);
	return 0;
}

int multiboot_build_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, uint64_t cmdline_gpa,
			 const struct direct_modules *mods, uint64_t *end)
{
	return multiboot_build_info_at(ctx, gpa, room, 0, cmdline_gpa, mods, end);
}

int multiboot_build_info_at(struct boot_ctx *ctx, uint64_t gpa, uint64_t room,
			    uint64_t mmap_gpa, uint64_t cmdline_gpa,
			    const struct direct_modules *mods, uint64_t *end)
{
	struct multiboot_info mbi;
	memset(&mbi, 0, sizeof(mbi));
	uint64_t lim = gpa + room;
	uint64_t cur = gpa + sizeof(mbi);
	if (room < sizeof(mbi))
		return nb_err("multiboot: info area of %" PRIu64 " bytes is too small", room);
	if (mmap_gpa && (mmap_gpa < cur || mmap_gpa >= lim || (mmap_gpa & 7)))
		return nb_err_internal("multiboot: memory map at 0x%" PRIx64 " outside [0x%" PRIx64
				       ", 0x%" PRIx64 ") or unaligned", mmap_gpa, cur, lim);

	mbi.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_BOOT_LOADER_NAME;
	uint32_t lower, upper;
	multiboot_mem_sizes(&ctx->e820, &lower, &upper);
	mbi.mem_lower = lower;
	mbi.mem_upper = upper;

	if (cmdline_gpa) {
		mbi.flags |= MULTIBOOT_INFO_CMDLINE;
		mbi.cmdline = (uint32_t)cmdline_gpa;
	}

	if (mmap_gpa) {
		cur = mmap_gpa;
		if (put_mmap(ctx, &cur, lim, &mbi) < 0)
			return -1;
	}

	/* Module list (16-byte aligned for tidiness; the spec asks nothing). */
	if (mods && mods->n) {
		cur = ALIGN_UP(cur, 16);
		uint64_t list = cur;
		uint64_t list_len = (uint64_t)mods->n * sizeof(struct multiboot_mod_list);
		if (cur > lim || lim - cur < list_len)
			return nb_err("multiboot: no room for %u module entries", mods->n);
		cur += list_len;
		for (unsigned i = 0; i < mods->n; i++) {
			struct multiboot_mod_list ml = { 0 };
			if (mods->m[i].addr + mods->m[i].size > 0x100000000ULL)
				return nb_err("%s: module lies above 4 GiB", mods->m[i].path);
			ml.mod_start = (uint32_t)mods->m[i].addr;
			ml.mod_end = (uint32_t)(mods->m[i].addr + mods->m[i].size);
			if (mods->m[i].cmdline) {
				uint64_t s;
				if (direct_put_str(ctx->mem, &cur, lim, mods->m[i].cmdline, &s))
					return -1;
				ml.cmdline = (uint32_t)s;
			}
			if (mem_copy_in(ctx->mem, list + i * sizeof(ml), &ml, sizeof(ml)))
				return -1;
		}
		mbi.flags |= MULTIBOOT_INFO_MODS;
		mbi.mods_count = mods->n;
		mbi.mods_addr = (uint32_t)list;
	}

	if (!mmap_gpa) {
		cur = ALIGN_UP(cur, 8);
		if (put_mmap(ctx, &cur, lim, &mbi) < 0)
			return -1;
	}

	uint64_t name;
	if (direct_put_str(ctx->mem, &cur, lim, NOBIOS_LOADER_NAME, &name))
		return -1;
	mbi.boot_loader_name = (uint32_t)name;

	if (mem_copy_in(ctx->mem, gpa, &mbi, sizeof(mbi)))
		return -1;
	if (end)
		*end = cur;
	return 0;
}

/* ---- the "multiboot" format */

static int mb1_probe(const struct boot_file *f, char *why, size_t whylen)
{
	struct multiboot_header h;
	int bad;
	long off = multiboot_find_header(f->data, f->size, &h, &bad);
	if (off < 0) {
		snprintf(why, whylen, bad ? "magic 0x1BADB002 found but its checksum is wrong"
					  : "no Multiboot header (magic 0x1BADB002) in the first "
					    "8192 bytes");
		return 0;
	}
	snprintf(why, whylen, "Multiboot header at file offset 0x%lx, flags 0x%08" PRIx32 "%s", off,
		 h.flags, (h.flags & MULTIBOOT_AOUT_KLUDGE) ? " (a.out kludge)" : "");
	return 1;
}

/* Requirements (flag bits 0-15) we cannot satisfy: refuse, 3.1.2. */
static int mb1_check_flags(const char *path, uint32_t flags)
{
	if (flags & MULTIBOOT_VIDEO_MODE)
		return nb_err("%s: Multiboot header requires a video mode (flag 2): nobios has no "
			      "display", path);
	uint32_t unknown = flags & MULTIBOOT_REQUIRED_MASK &
			   ~(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO);
	if (unknown)
		return nb_err("%s: Multiboot header requires features 0x%04" PRIx32
			      " (flags bits 3-15) that nobios does not know", path, unknown);
	return 0;
}

/* The entry is translated to a physical address when it is a virtual one
 * (higher-half kernels), as GRUB does. */
int multiboot_load_elf(struct boot_ctx *ctx, const struct boot_file *f, uint64_t *entry)
{
	struct elf_image e;
	if (elf_parse(&e, f->path, f->data, f->size) < 0 || direct_check_segments(&e) < 0)
		return -1;
	if (e.hi_paddr > 0x100000000ULL)
		return nb_err("%s: ELF segments end at 0x%" PRIx64 ", above 4 GiB: a 32-bit entry "
			      "cannot reach them", f->path, e.hi_paddr);
	if (elf_load(&e, ctx->mem, LAYOUT_HIGH_MEM) < 0)
		return -1;
	uint64_t pa = e.entry;
	bool in_seg = false;
	for (unsigned i = 0; i < e.nload; i++)
		if (e.entry >= e.load[i].paddr && e.entry < e.load[i].paddr + e.load[i].memsz)
			in_seg = true;
	if (!in_seg && elf_vaddr_to_paddr(&e, e.entry, &pa) != 1)
		return nb_err("%s: ELF entry 0x%" PRIx64 " lies in no loaded segment", f->path,
			      e.entry);
	if (pa >= 0x100000000ULL)
		return nb_err("%s: entry 0x%" PRIx64 " is above 4 GiB", f->path, pa);
	ctx->kernel_start = e.lo_paddr;
	ctx->kernel_end = e.hi_paddr;
	*entry = pa;
	return 0;
}

static int mb1_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct multiboot_header h;
	int bad;
	long off = multiboot_find_header(f->data, f->size, &h, &bad);
	if (off < 0)
		return nb_err(bad ? "%s: Multiboot header checksum is wrong (magic + flags + "
				    "checksum must be 0)"
				  : "%s: no Multiboot header in the first 8192 bytes", f->path);
	if (mb1_check_flags(f->path, h.flags) < 0)
		return -1;
	uint64_t entry;
	if (h.flags & MULTIBOOT_AOUT_KLUDGE) {
		struct multiboot_aout a;
		if (multiboot_aout_layout(f->path, &h, off, f->size, &a) < 0 ||
		    aout_load(ctx, f, &a) < 0)
			return -1;
		entry = a.entry;
	} else {
		if (!elf_is_elf(f->data, f->size))
			return nb_err("%s: Multiboot image is not ELF and its header has no address "
				      "fields (flag 16)", f->path);
		if (multiboot_load_elf(ctx, f, &entry) < 0)
			return -1;
	}
	struct direct_modules mods;
	if (direct_load_modules(ctx, 0x100000000ULL, &mods) < 0)
		return -1;
	uint64_t cmdline;
	if (boot_put_cmdline(ctx, ctx->cfg->cmdline, LAYOUT_CMDLINE_MAX, &cmdline) < 0)
		return -1;
	if (multiboot_build_info(ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, cmdline, &mods, NULL) < 0)
		return -1;
	direct_log_map(ctx, "multiboot mmap");
	/* 3.2: flat 32-bit segments, paging off, IF = 0; ESP is the OS's
	 * business, but a valid stack costs nothing. */
	if (cpu_setup_prot32(ctx->cpu, ctx->mem, BOOT_GDT_CS32) < 0)
		return -1;
	ctx->cpu->gpr[CPU_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	ctx->cpu->gpr[CPU_RBX] = LAYOUT_MBI;
	ctx->cpu->gpr[CPU_RSP] = LAYOUT_STACK_TOP;
	ctx->cpu->rip = entry;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "32-bit protected mode at 0x%" PRIx64 ", EAX=0x%08x EBX=0x%llx (multiboot info)",
		 entry, MULTIBOOT_BOOTLOADER_MAGIC, (unsigned long long)LAYOUT_MBI);
	return 0;
}

static int mb1_inspect(const struct boot_file *f, FILE *out)
{
	struct multiboot_header h;
	int bad;
	long off = multiboot_find_header(f->data, f->size, &h, &bad);
	if (off < 0) {
		fprintf(out, "Multiboot 1: no valid header%s\n", bad ? " (bad checksum)" : "");
		return 0;
	}
	fprintf(out, "Multiboot 1 header at file offset 0x%lx\n", off);
	fprintf(out, "  flags 0x%08" PRIx32 ":%s%s%s%s\n", h.flags,
		(h.flags & MULTIBOOT_PAGE_ALIGN) ? " PAGE_ALIGN" : "",
		(h.flags & MULTIBOOT_MEMORY_INFO) ? " MEMORY_INFO" : "",
		(h.flags & MULTIBOOT_VIDEO_MODE) ? " VIDEO_MODE" : "",
		(h.flags & MULTIBOOT_AOUT_KLUDGE) ? " AOUT_KLUDGE" : "");
	if (h.flags & MULTIBOOT_VIDEO_MODE)
		fprintf(out, "  video mode requested: type %" PRIu32 " %" PRIu32 "x%" PRIu32
			"x%" PRIu32 " (nobios refuses: no display)\n", h.mode_type, h.width,
			h.height, h.depth);
	if (h.flags & MULTIBOOT_AOUT_KLUDGE) {
		struct multiboot_aout a;
		if (multiboot_aout_layout(f->path, &h, off, f->size, &a) < 0) {
			fprintf(out, "  a.out kludge: invalid: %s\n", nb_errmsg());
		} else {
			fprintf(out, "  a.out kludge: file offset 0x%" PRIx64 " -> load [0x%" PRIx64
				", 0x%" PRIx64 "), bss to 0x%" PRIx64 "\n", a.file_off,
				a.load_addr, a.load_end, a.bss_end);
			fprintf(out, "entry: 0x%" PRIx64 " in 32-bit protected mode (paging off), "
				"EAX=0x2BADB002, EBX=multiboot info at 0x%llx\n", a.entry,
				(unsigned long long)LAYOUT_MBI);
		}
		return 0;
	}
	direct_inspect_elf(f, out);
	fprintf(out, "entry: ELF entry in 32-bit protected mode (paging off), EAX=0x2BADB002, "
		"EBX=multiboot info at 0x%llx\n", (unsigned long long)LAYOUT_MBI);
	return 0;
}

static const struct boot_format multiboot_format = {
	.name = "multiboot",
	.order = 30,
	.summary = "Multiboot 0.6.96 kernel (ELF or a.out kludge), 32-bit entry",
	.probe = mb1_probe,
	.load = mb1_load,
	.inspect = mb1_inspect,
};
BOOT_FORMAT(multiboot_format);
