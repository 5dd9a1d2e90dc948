/* multiboot2.c - Multiboot2 Specification 1.0 ("multiboot2"): header and tag
 * validation, refusal of required tags nobios cannot honour, ELF or
 * address-tag loading, the information structure (cmdline, loader name,
 * modules, basic meminfo, mmap, end) and the i386 entry state of 3.3
 * (EAX = 0x36D76289, EBX = mbi, flat 32-bit protected mode, paging off).
 * Detection order: 40, after Multiboot 1 (see multiboot.c). */
#include "boot/multiboot2.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "boot/elf.h"
#include "boot/multiboot.h"
#include "mem/layout.h"
#include "util/err.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *tag_name(uint32_t type)
{
	static const char *const n[] = {
		"end", "cmdline", "boot loader name", "module", "basic meminfo", "bootdev",
		"mmap", "VBE", "framebuffer", "ELF sections", "APM", "EFI32", "EFI64",
		"SMBIOS", "ACPI old", "ACPI new", "network", "EFI mmap", "EFI boot services",
		"EFI32 image handle", "EFI64 image handle", "load base address",
	};
	return type < sizeof(n) / sizeof(n[0]) ? n[type] : "unknown";
}

/* Expected size of each header tag type (0: variable, checked apart). */
static uint32_t header_tag_size(uint16_t type)
{
	switch (type) {
	case MULTIBOOT_HEADER_TAG_END: return 8;
	case MULTIBOOT_HEADER_TAG_ADDRESS: return 24;
	case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS:
	case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI32:
	case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI64:
	case MULTIBOOT_HEADER_TAG_CONSOLE_FLAGS: return 12;
	case MULTIBOOT_HEADER_TAG_FRAMEBUFFER: return 20;
	case MULTIBOOT_HEADER_TAG_MODULE_ALIGN:
	case MULTIBOOT_HEADER_TAG_EFI_BS: return 8;
	case MULTIBOOT_HEADER_TAG_RELOCATABLE: return 24;
	default: return 0;
	}
}

int multiboot2_parse_header(const char *path, const uint8_t *data, size_t size,
			    struct multiboot2_req *req)
{
	size_t lim = size < MULTIBOOT2_SEARCH ? size : MULTIBOOT2_SEARCH;
	long off = -1;
	int bad_sum = 0;
	memset(req, 0, sizeof(*req));
	for (size_t o = 0; o + 16 <= lim; o += MULTIBOOT2_HEADER_ALIGN) {
		if (rd32(data + o) != MULTIBOOT2_HEADER_MAGIC)
			continue;
		uint32_t sum = rd32(data + o) + rd32(data + o + 4) + rd32(data + o + 8) +
			       rd32(data + o + 12);
		if (sum != 0) {
			bad_sum = 1;
			continue;
		}
		off = (long)o;
		break;
	}
	if (off < 0) {
		if (bad_sum)
			return nb_err("%s: Multiboot2 magic 0xE85250D6 found but the checksum is "
				      "wrong (magic + architecture + header_length + checksum must "
				      "be 0)", path);
		return 0;
	}
	const uint8_t *h = data + off;
	uint32_t arch = rd32(h + 4), hl = rd32(h + 8);
	req->off = off;
	req->header_length = hl;
	if (arch != MULTIBOOT_ARCHITECTURE_I386)
		return nb_err("%s: Multiboot2 architecture %" PRIu32 " is not i386 (0)", path, arch);
	if (hl < 16 + 8 || hl > size - (size_t)off)
		return nb_err("%s: Multiboot2 header_length %" PRIu32 " at offset 0x%lx is %s", path,
			      hl, off, hl < 24 ? "too small for the end tag" : "past the end of the file");
	uint32_t pos = 16;
	int ended = 0;
	while (!ended) {
		if (hl - pos < 8)
			return nb_err("%s: Multiboot2 header has no end tag within its %" PRIu32
				      " bytes", path, hl);
		uint16_t type = rd16(h + pos), flags = rd16(h + pos + 2);
		uint32_t tsize = rd32(h + pos + 4);
		int optional = flags & MULTIBOOT_HEADER_TAG_OPTIONAL;
		if (tsize < 8 || tsize > hl - pos)
			return nb_err("%s: Multiboot2 header tag %u at header offset %" PRIu32
				      " has absurd size %" PRIu32 " (header is %" PRIu32 " bytes)",
				      path, type, pos, tsize, hl);
		uint32_t want = header_tag_size(type);
		if (want && tsize != want && !(type == MULTIBOOT_HEADER_TAG_FRAMEBUFFER && tsize >= want))
			return nb_err("%s: Multiboot2 header tag %u has size %" PRIu32 ", expected %"
				      PRIu32, path, type, tsize, want);
		const uint8_t *t = h + pos;
		req->ntags++;
		switch (type) {
		case MULTIBOOT_HEADER_TAG_END:
			ended = 1;
			break;
		case MULTIBOOT_HEADER_TAG_INFORMATION_REQUEST:
			if ((tsize - 8) % 4)
				return nb_err("%s: Multiboot2 information request tag size %" PRIu32
					      " is not 8 + 4n", path, tsize);
			for (uint32_t i = 8; i < tsize; i += 4) {
				if (req->nrequested >= 32)
					return nb_err("%s: Multiboot2 information request lists more "
						      "than 32 types", path);
				req->requested_req[req->nrequested] = !optional;
				req->requested[req->nrequested++] = rd32(t + i);
			}
			break;
		case MULTIBOOT_HEADER_TAG_ADDRESS:
			req->has_address = 1;
			req->header_addr = rd32(t + 8);
			req->load_addr = rd32(t + 12);
			req->load_end_addr = rd32(t + 16);
			req->bss_end_addr = rd32(t + 20);
			break;
		case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS:
			req->has_entry = 1;
			req->entry_addr = rd32(t + 8);
			break;
		case MULTIBOOT_HEADER_TAG_CONSOLE_FLAGS:
			if (!optional)
				req->console_flags = rd32(t + 8);
			break;
		case MULTIBOOT_HEADER_TAG_FRAMEBUFFER:
			req->has_framebuffer = optional ? 1 : 2;
			break;
		case MULTIBOOT_HEADER_TAG_MODULE_ALIGN:
			req->module_align = 1;
			break;
		case MULTIBOOT_HEADER_TAG_RELOCATABLE:
			req->relocatable = 1;
			break;
		case MULTIBOOT_HEADER_TAG_EFI_BS:
		case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI32:
		case MULTIBOOT_HEADER_TAG_ENTRY_ADDRESS_EFI64:
			/* 3.1.8-3.1.10: meaningful only when booted by EFI with boot
			 * services running; a BIOS-style loader ignores them. */
			break;
		default:
			if (!optional)
				return nb_err("%s: Multiboot2 header tag type %u is required (not "
					      "optional) and unknown to nobios", path, type);
			break;
		}
		pos += ALIGN_UP(tsize, MULTIBOOT_TAG_ALIGN);
		if (!ended && pos > hl)
			return nb_err("%s: Multiboot2 header has no end tag within its %" PRIu32
				      " bytes", path, hl);
	}
	return 1;
}

int multiboot2_provides(uint32_t type)
{
	switch (type) {
	case MULTIBOOT_TAG_TYPE_END:
	case MULTIBOOT_TAG_TYPE_CMDLINE:
	case MULTIBOOT_TAG_TYPE_BOOT_LOADER_NAME:
	case MULTIBOOT_TAG_TYPE_MODULE:
	case MULTIBOOT_TAG_TYPE_BASIC_MEMINFO:
	case MULTIBOOT_TAG_TYPE_MMAP:
	case MULTIBOOT_TAG_TYPE_LOAD_BASE_ADDR:
	case MULTIBOOT_TAG_TYPE_ACPI_OLD:
	case MULTIBOOT_TAG_TYPE_ACPI_NEW:
		return 1;
	default:
		return 0;
	}
}

int multiboot2_check_req(const char *path, const struct multiboot2_req *req)
{
	/* 3.1.4: a loader that cannot provide a requested tag must fail to
	 * load the image unless the request tag is optional. */
	for (unsigned i = 0; i < req->nrequested; i++)
		if (req->requested_req[i] && !multiboot2_provides(req->requested[i]))
			return nb_err("%s: Multiboot2 image requires information tag %" PRIu32
				      " (%s) that nobios cannot provide", path, req->requested[i],
				      tag_name(req->requested[i]));
	if (req->has_framebuffer == 2)
		return nb_err("%s: Multiboot2 image requires a framebuffer (non-optional tag 5): "
			      "nobios has no display", path);
	if (req->console_flags & MULTIBOOT_CONSOLE_FLAGS_CONSOLE_REQUIRED)
		return nb_err("%s: Multiboot2 image requires a console described in the boot "
			      "information (console flags 0x%" PRIx32 "): nobios has no EGA text "
			      "console", path, req->console_flags);
	if (req->has_address && !req->has_entry)
		return nb_err("%s: Multiboot2 address tag without an entry address tag", path);
	return 0;
}

/* RSDP sizes (ACPI 6.0 5.2.5.3): the ACPI 1.0 part and the whole. */
#define MB2_RSDP_V1_LEN 20
#define MB2_RSDP_V2_LEN 36

/* Host-side assembly of the information structure. */
struct mbi2_buf {
	uint8_t *p;
	size_t len, cap;
};

static void *mbi2_tag(struct mbi2_buf *b, uint32_t type, size_t size)
{
	size_t at = ALIGN_UP(b->len, MULTIBOOT_TAG_ALIGN);
	if (at > b->cap || b->cap - at < size)
		return NULL;
	memset(b->p + b->len, 0, at - b->len + size);
	uint8_t *t = b->p + at;
	memcpy(t, &type, 4);
	uint32_t s32 = (uint32_t)size;
	memcpy(t + 4, &s32, 4);
	b->len = at + size;
	return t;
}

static int mbi2_string_tag(struct mbi2_buf *b, uint32_t type, const char *s)
{
	size_t n = strlen(s) + 1;
	uint8_t *t = mbi2_tag(b, type, 8 + n);
	if (!t)
		return -1;
	memcpy(t + 8, s, n);
	return 0;
}

int multiboot2_build_info(struct boot_ctx *ctx, uint64_t gpa, uint64_t room, const char *cmdline,
			  const struct direct_modules *mods, uint64_t load_base, uint64_t *end)
{
	if (gpa & 7)
		return nb_err("multiboot2: info address 0x%" PRIx64 " is not 8-byte aligned", gpa);
	struct mbi2_buf b = { .p = calloc(1, room), .len = 8, .cap = room };
	if (!b.p || room < 16) {
		free(b.p);
		return nb_err_internal("multiboot2: cannot allocate %" PRIu64 " bytes", room);
	}
	int rc = -1;
	if (mbi2_string_tag(&b, MULTIBOOT_TAG_TYPE_CMDLINE, cmdline ? cmdline : "") < 0 ||
	    mbi2_string_tag(&b, MULTIBOOT_TAG_TYPE_BOOT_LOADER_NAME, NOBIOS_LOADER_NAME) < 0)
		goto full;
	for (unsigned i = 0; mods && i < mods->n; i++) {
		const char *s = mods->m[i].cmdline ? mods->m[i].cmdline : "";
		size_t n = strlen(s) + 1;
		if (mods->m[i].addr + mods->m[i].size > 0x100000000ULL) {
			nb_err("%s: module lies above 4 GiB", mods->m[i].path);
			goto out;
		}
		uint8_t *t = mbi2_tag(&b, MULTIBOOT_TAG_TYPE_MODULE, 16 + n);
		if (!t)
			goto full;
		uint32_t start = (uint32_t)mods->m[i].addr;
		uint32_t stop = (uint32_t)(mods->m[i].addr + mods->m[i].size);
		memcpy(t + 8, &start, 4);
		memcpy(t + 12, &stop, 4);
		memcpy(t + 16, s, n);
	}
	struct multiboot_tag_basic_meminfo *mi =
		mbi2_tag(&b, MULTIBOOT_TAG_TYPE_BASIC_MEMINFO, sizeof(*mi));
	if (!mi)
		goto full;
	multiboot_mem_sizes(&ctx->e820, &mi->mem_lower, &mi->mem_upper);
	size_t msize = sizeof(struct multiboot_tag_mmap) +
		       ctx->e820.n * sizeof(struct multiboot2_mmap_entry);
	uint8_t *mt = mbi2_tag(&b, MULTIBOOT_TAG_TYPE_MMAP, msize);
	if (!mt)
		goto full;
	struct multiboot_tag_mmap mh = { MULTIBOOT_TAG_TYPE_MMAP, (uint32_t)msize,
					 sizeof(struct multiboot2_mmap_entry), 0 };
	memcpy(mt, &mh, sizeof(mh));
	for (unsigned i = 0; i < ctx->e820.n; i++) {
		struct multiboot2_mmap_entry me = { ctx->e820.e[i].addr, ctx->e820.e[i].size,
						    ctx->e820.e[i].type, 0 };
		memcpy(mt + sizeof(mh) + i * sizeof(me), &me, sizeof(me));
	}
	/* 3.6.15/3.6.16: copies of the RSDP, version 1 (its first 20 bytes)
	 * and version 2 (all 36); both, as GRUB gives them. */
	if (ctx->plat && ctx->plat->rsdp) {
		uint8_t rsdp[MB2_RSDP_V2_LEN];
		if (mem_copy_out(ctx->mem, rsdp, ctx->plat->rsdp, sizeof(rsdp)) < 0)
			goto out;
		uint8_t *t = mbi2_tag(&b, MULTIBOOT_TAG_TYPE_ACPI_OLD, 8 + MB2_RSDP_V1_LEN);
		if (!t)
			goto full;
		memcpy(t + 8, rsdp, MB2_RSDP_V1_LEN);
		t = mbi2_tag(&b, MULTIBOOT_TAG_TYPE_ACPI_NEW, 8 + MB2_RSDP_V2_LEN);
		if (!t)
			goto full;
		memcpy(t + 8, rsdp, MB2_RSDP_V2_LEN);
	}
	if (load_base) {
		uint8_t *t = mbi2_tag(&b, MULTIBOOT_TAG_TYPE_LOAD_BASE_ADDR, 12);
		if (!t)
			goto full;
		uint32_t lb = (uint32_t)load_base;
		memcpy(t + 8, &lb, 4);
	}
	if (!mbi2_tag(&b, MULTIBOOT_TAG_TYPE_END, 8))
		goto full;
	uint32_t total = (uint32_t)b.len;
	memcpy(b.p, &total, 4);
	if (mem_copy_in(ctx->mem, gpa, b.p, b.len) < 0)
		goto out;
	if (end)
		*end = gpa + b.len;
	rc = 0;
	goto out;
full:
	nb_err("multiboot2: boot information does not fit in %" PRIu64 " bytes at 0x%" PRIx64,
	       room, gpa);
out:
	free(b.p);
	return rc;
}

/* ---- the "multiboot2" format */

static int mb2_probe(const struct boot_file *f, char *why, size_t whylen)
{
	struct multiboot2_req req;
	int r = multiboot2_parse_header(f->path, f->data, f->size, &req);
	if (r == 0) {
		snprintf(why, whylen, "no Multiboot2 header (magic 0xE85250D6) in the first 32768 "
			 "bytes");
		return 0;
	}
	if (r < 0) {
		/* A header is there but broken: still ours, so that loading
		 * reports the problem instead of another format guessing. */
		if (req.off == 0 && strstr(nb_errmsg(), "checksum")) {
			snprintf(why, whylen, "magic 0xE85250D6 found but its checksum is wrong");
			nb_err_clear();
			return 0;
		}
		snprintf(why, whylen, "Multiboot2 header at 0x%lx, malformed", req.off);
		nb_err_clear();
		return 1;
	}
	snprintf(why, whylen, "Multiboot2 header at file offset 0x%lx, %u tags%s", req.off,
		 req.ntags, req.has_address ? " (address tag)" : "");
	return 1;
}

static int mb2_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct multiboot2_req req;
	int r = multiboot2_parse_header(f->path, f->data, f->size, &req);
	if (r == 0)
		return nb_err("%s: no Multiboot2 header in the first 32768 bytes", f->path);
	if (r < 0 || multiboot2_check_req(f->path, &req) < 0)
		return -1;
	uint64_t entry;
	if (req.has_address) {
		struct multiboot_header h = {
			.magic = MULTIBOOT2_HEADER_MAGIC,
			.header_addr = req.header_addr,
			/* 3.1.5: load_addr -1: load the file from its beginning */
			.load_addr = req.load_addr == 0xFFFFFFFFu ? req.header_addr - (uint32_t)req.off
								  : req.load_addr,
			.load_end_addr = req.load_end_addr,
			.bss_end_addr = req.bss_end_addr,
			.entry_addr = req.entry_addr,
		};
		struct multiboot_aout a;
		if (multiboot_aout_layout(f->path, &h, req.off, f->size, &a) < 0)
			return -1;
		if (a.load_addr < LAYOUT_HIGH_MEM ||
		    !mem_range_ok(ctx->mem, a.load_addr, a.bss_end - a.load_addr))
			return nb_err("%s: Multiboot2 image [0x%" PRIx64 ", 0x%" PRIx64 ") does not fit "
				      "in guest RAM at or above 1 MiB (RAM below 4 GiB ends at 0x%"
				      PRIx64 ")", f->path, a.load_addr, a.bss_end,
				      mem_low_top(ctx->mem));
		if (mem_copy_in(ctx->mem, a.load_addr, f->data + a.file_off, a.load_end - a.load_addr) ||
		    mem_zero(ctx->mem, a.load_end, a.bss_end - a.load_end))
			return -1;
		ctx->kernel_start = a.load_addr;
		ctx->kernel_end = a.bss_end;
		entry = a.entry;
	} else {
		if (!elf_is_elf(f->data, f->size))
			return nb_err("%s: Multiboot2 image is not ELF and has no address tag", f->path);
		if (multiboot_load_elf(ctx, f, &entry) < 0)
			return -1;
		if (req.has_entry)
			entry = req.entry_addr;
	}
	if (entry < ctx->kernel_start || entry >= ctx->kernel_end)
		return nb_err("%s: Multiboot2 entry 0x%" PRIx64 " lies outside the loaded image "
			      "[0x%" PRIx64 ", 0x%" PRIx64 ")", f->path, entry, ctx->kernel_start,
			      ctx->kernel_end);
	struct direct_modules mods;
	if (direct_load_modules(ctx, 0x100000000ULL, &mods) < 0)
		return -1;
	int want_base = req.relocatable;
	for (unsigned i = 0; i < req.nrequested; i++)
		if (req.requested[i] == MULTIBOOT_TAG_TYPE_LOAD_BASE_ADDR)
			want_base = 1;
	if (multiboot2_build_info(ctx, LAYOUT_MBI, LAYOUT_MBI_SIZE, ctx->cfg->cmdline, &mods,
				  want_base ? ctx->kernel_start : 0, NULL) < 0)
		return -1;
	direct_log_map(ctx, "multiboot2 mmap tag");
	if (cpu_setup_prot32(ctx->cpu, ctx->mem, BOOT_GDT_CS32) < 0)
		return -1;
	ctx->cpu->gpr[CPU_RAX] = MULTIBOOT2_BOOTLOADER_MAGIC;
	ctx->cpu->gpr[CPU_RBX] = LAYOUT_MBI;
	ctx->cpu->gpr[CPU_RSP] = LAYOUT_STACK_TOP;
	ctx->cpu->rip = entry;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "32-bit protected mode at 0x%" PRIx64 ", EAX=0x%08x EBX=0x%llx (multiboot2 info)",
		 entry, MULTIBOOT2_BOOTLOADER_MAGIC, (unsigned long long)LAYOUT_MBI);
	return 0;
}

static int mb2_inspect(const struct boot_file *f, FILE *out)
{
	struct multiboot2_req req;
	int r = multiboot2_parse_header(f->path, f->data, f->size, &req);
	if (r <= 0) {
		fprintf(out, "Multiboot2: %s\n", r == 0 ? "no header" : nb_errmsg());
		return 0;
	}
	fprintf(out, "Multiboot2 header at file offset 0x%lx, %" PRIu32 " bytes, %u tags\n",
		req.off, req.header_length, req.ntags);
	for (unsigned i = 0; i < req.nrequested; i++)
		fprintf(out, "  information request: %" PRIu32 " (%s)%s%s\n", req.requested[i],
			tag_name(req.requested[i]), req.requested_req[i] ? ", required" : "",
			multiboot2_provides(req.requested[i]) ? "" : ", not provided by nobios");
	if (req.has_address)
		fprintf(out, "  address tag: header 0x%" PRIx32 " load [0x%" PRIx32 ", 0x%" PRIx32
			") bss end 0x%" PRIx32 "\n", req.header_addr, req.load_addr,
			req.load_end_addr, req.bss_end_addr);
	if (req.has_entry)
		fprintf(out, "  entry address tag: 0x%" PRIx32 "\n", req.entry_addr);
	if (req.has_framebuffer)
		fprintf(out, "  framebuffer tag (%s)\n",
			req.has_framebuffer == 2 ? "required: nobios refuses" : "optional: ignored");
	if (req.module_align)
		fprintf(out, "  module alignment tag (modules are page aligned)\n");
	if (req.relocatable)
		fprintf(out, "  relocatable tag (loaded at its linked address)\n");
	if (multiboot2_check_req(f->path, &req) < 0)
		fprintf(out, "  cannot boot: %s\n", nb_errmsg());
	if (!req.has_address)
		direct_inspect_elf(f, out);
	fprintf(out, "entry: %s in 32-bit protected mode (paging off), EAX=0x36D76289, "
		"EBX=multiboot2 info at 0x%llx\n", req.has_entry ? "entry address tag" : "ELF entry",
		(unsigned long long)LAYOUT_MBI);
	return 0;
}

static const struct boot_format multiboot2_format = {
	.name = "multiboot2",
	.order = 40,
	.summary = "Multiboot2 1.0 kernel (ELF or address tag), 32-bit entry",
	.probe = mb2_probe,
	.load = mb2_load,
	.inspect = mb2_inspect,
};
BOOT_FORMAT(multiboot2_format);
