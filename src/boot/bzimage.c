/* bzimage.c - the Linux/x86 boot protocol for bzImage files.
 *
 * Written from Documentation/arch/x86/boot.rst and zero-page.rst.  Three
 * formats share the setup-header parser:
 *
 *   "bzimage"  (default for any valid bzImage) decompresses the payload (the
 *              compressed vmlinux ELF, payload_offset/payload_length) in the
 *              host, loads its PT_LOAD segments at their physical addresses
 *              and enters startup_64 in long mode with RSI = zero page, as
 *              Firecracker does for a vmlinux.  On this machine's emulating
 *              KVM the in-guest decompressor alone takes minutes; the host
 *              does it in tens of milliseconds.  A payload nobios cannot
 *              decompress (no payload, LZO) falls back to "linux".
 *   "linux"    the bzImage's own 64-bit entry (load address + 0x200): the
 *              kernel's decompressor runs in the guest.
 *   "linux32"  the 32-bit boot protocol: flat protected mode, paging off,
 *              EIP = code32_start, ESI = zero page.
 */
#include "boot/bzimage.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "boot/decompress.h"
#include "boot/elf.h"
#include "boot/kcache.h"
#include "boot/linux_cmdline.h"
#include "boot/zeropage.h"
#include "mem/layout.h"
#include "util/err.h"

/* Largest vmlinux nobios decompresses (Debian's is ~53 MB with symbols).
 * Loading bounds it by the guest's RAM, where the vmlinux has to fit
 * (bzimage_decompress_limit); `inspect`, which has no guest, by the default
 * guest RAM it describes load addresses for (INSPECT_RAM). */
#define BZIMAGE_DECOMPRESS_LIMIT (1ull << 30)
#define INSPECT_RAM (256ull << 20)

static size_t bzimage_decompress_limit(const struct boot_ctx *ctx)
{
	uint64_t ram = ctx->mem->size;
	return ram < BZIMAGE_DECOMPRESS_LIMIT ? (size_t)ram : (size_t)BZIMAGE_DECOMPRESS_LIMIT;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Header bytes a protocol version defines (offset of the first field it
 * does not have): a header shorter than that is truncated. */
static size_t hdr_need(uint16_t version)
{
	if (version >= BOOT_PROTO(2, 15))
		return offsetof(struct setup_header, kernel_info_offset) + 4;
	if (version >= BOOT_PROTO(2, 11))
		return offsetof(struct setup_header, handover_offset) + 4;
	if (version >= BOOT_PROTO_PREF)
		return offsetof(struct setup_header, init_size) + 4;
	if (version >= BOOT_PROTO(2, 9))
		return offsetof(struct setup_header, setup_data) + 8;
	if (version >= BOOT_PROTO_PAYLOAD)
		return offsetof(struct setup_header, payload_length) + 4;
	if (version >= BOOT_PROTO_MIN)
		return offsetof(struct setup_header, cmdline_size) + 4;
	/* the older protocols, which only linux16 boots */
	if (version >= BOOT_PROTO_RELOC)
		return offsetof(struct setup_header, relocatable_kernel) + 1;
	if (version >= BOOT_PROTO_INITRD_MAX)
		return offsetof(struct setup_header, initrd_addr_max) + 4;
	if (version >= BOOT_PROTO_CMDLINE_PTR)
		return offsetof(struct setup_header, cmd_line_ptr) + 4;
	if (version >= BOOT_PROTO_HEAP)
		return offsetof(struct setup_header, heap_end_ptr) + 2;
	return offsetof(struct setup_header, ramdisk_size) + 4;
}

/* Fields a protocol older than 2.06 does not define hold whatever follows
 * its header (often code): read as boot.rst says a loader must take them. */
static void old_protocol_fields(struct setup_header *h)
{
	if (h->version < BOOT_PROTO_MIN)
		h->cmdline_size = 0; /* boot.rst: 255 characters before 2.06 */
	if (h->version < BOOT_PROTO_RELOC) {
		h->kernel_alignment = 0;
		h->relocatable_kernel = 0;
	}
	if (h->version < BOOT_PROTO_INITRD_MAX)
		h->initrd_addr_max = 0x37FFFFFF; /* boot.rst: the limit of 2.02 and earlier */
	if (h->version < BOOT_PROTO_CMDLINE_PTR)
		h->cmd_line_ptr = 0;
	if (h->version < BOOT_PROTO_HEAP)
		h->heap_end_ptr = 0;
}

int bzimage_parse(struct bzimage *b, const char *path, const uint8_t *data, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->path = path;
	b->data = data;
	b->size = size;
	if (size < SETUP_OFF(header) + 4)
		return nb_err("%s: not a bzImage: file is only %zu bytes (the setup header needs "
			      "0x%zx)", path, size, SETUP_OFF(header) + 4);
	if (rd32(data + SETUP_OFF(header)) != SETUP_HDRS_MAGIC)
		return nb_err("%s: not a bzImage: no \"HdrS\" signature at offset 0x202", path);

	size_t hlen;
	if (zeropage_header_len(path, data, size, &hlen) < 0)
		return -1;
	memcpy(&b->hdr, data + SETUP_HEADER_OFFSET, hlen);
	b->hdr_len = hlen;
	const struct setup_header *h = &b->hdr;

	if (h->boot_flag != SETUP_BOOT_FLAG)
		return nb_err("%s: bad setup header: boot_flag is 0x%04x, expected 0xaa55", path,
			      h->boot_flag);
	if (h->version < BOOT_PROTO_OLDEST)
		return nb_err("%s: boot protocol %u.%02u is older than 2.00: not a bzImage",
			      path, (unsigned)(h->version >> 8), (unsigned)(h->version & 0xFF));
	if (hlen < hdr_need(h->version))
		return nb_err("%s: truncated setup header: %zu bytes, boot protocol %u.%02u "
			      "defines %zu", path, hlen, (unsigned)(h->version >> 8),
			      (unsigned)(h->version & 0xFF),
			      hdr_need(h->version));
	old_protocol_fields(&b->hdr);
	if (!(h->loadflags & LOADED_HIGH))
		return nb_err("%s: zImage (LOADED_HIGH not set) is not supported: only bzImage",
			      path);

	b->setup_sects = h->setup_sects ? h->setup_sects : SETUP_SECTS_DEFAULT;
	b->setup_size = ((size_t)b->setup_sects + 1) * SETUP_SECT_SIZE;
	if (b->setup_size >= size)
		return nb_err("%s: setup_sects %u puts the kernel at 0x%zx, beyond the end of the "
			      "file (%zu bytes)", path, b->setup_sects, b->setup_size, size);
	b->pm = data + b->setup_size;
	b->pm_size = size - b->setup_size;

	if (h->relocatable_kernel &&
	    (h->kernel_alignment == 0 || (h->kernel_alignment & (h->kernel_alignment - 1))))
		return nb_err("%s: bad setup header: kernel_alignment 0x%x is not a power of two",
			      path, h->kernel_alignment);

	if (h->version >= BOOT_PROTO_PAYLOAD && h->payload_length) {
		/* payload_offset is relative to the protected-mode kernel */
		uint64_t end = (uint64_t)h->payload_offset + h->payload_length;
		if (end > b->pm_size)
			return nb_err("%s: payload (offset 0x%x, length 0x%x) lies outside the "
				      "file's %zu-byte kernel", path, h->payload_offset,
				      h->payload_length, b->pm_size);
		b->payload = b->pm + h->payload_offset;
		b->payload_size = h->payload_length;
	}

	/* kernel_version: offset of a NUL-terminated string, minus 0x200,
	 * inside the setup code */
	if (h->kernel_version) {
		size_t off = (size_t)h->kernel_version + 0x200, n = 0;
		while (off + n < b->setup_size && n + 1 < sizeof(b->version_str) &&
		       data[off + n] >= 0x20 && data[off + n] < 0x7F) {
			b->version_str[n] = (char)data[off + n];
			n++;
		}
		b->version_str[n] = 0;
	}
	return 0;
}

int bzimage_check_64(const struct bzimage *b)
{
	if (b->hdr.version < BOOT_PROTO_64)
		return nb_err("%s: boot protocol %u.%02u has no 64-bit entry (needs 2.12 or later)",
			      b->path, (unsigned)(b->hdr.version >> 8),
			      (unsigned)(b->hdr.version & 0xFF));
	if (!(b->hdr.xloadflags & XLF_KERNEL_64))
		return nb_err("%s: not a 64-bit kernel: XLF_KERNEL_64 is not set in xloadflags "
			      "(0x%x); try --boot-protocol linux32", b->path, b->hdr.xloadflags);
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

int bzimage_load_addr(const struct bzimage *b, uint64_t low_top, uint64_t *addr, uint64_t *end)
{
	const struct setup_header *h = &b->hdr;
	uint64_t need = b->pm_size;
	/* init_size (2.10+): the kernel's linear memory needs from its load
	 * address, decompression included */
	if (h->version >= BOOT_PROTO_PREF && h->init_size > need)
		need = h->init_size;
	uint64_t pref = h->version >= BOOT_PROTO_PREF && h->pref_address ? h->pref_address
									: SETUP_DEFAULT_LOAD;
	uint64_t at;
	uint64_t claim_lo, claim_hi;
	if (h->relocatable_kernel) {
		uint64_t align = h->kernel_alignment;
		if (pref >= LAYOUT_HIGH_MEM && (pref & (align - 1)) == 0 && pref <= low_top &&
		    need <= low_top - pref)
			at = pref;
		else
			at = align_up(LAYOUT_HIGH_MEM, align);
		claim_lo = at;
		claim_hi = at + need;
	} else {
		/* a non-relocatable kernel runs at pref_address (or 1 MiB)
		 * whatever the load address: claim both */
		at = SETUP_DEFAULT_LOAD;
		if (pref > low_top || need > low_top - pref)
			return nb_err("%s: the kernel runs at pref_address 0x%" PRIx64 " and needs 0x%"
				      PRIx64 " bytes there, beyond guest RAM (ends at 0x%" PRIx64
				      "); give it more memory with -m", b->path, pref, need, low_top);
		claim_lo = at < pref ? at : pref;
		claim_hi = at + b->pm_size > pref + need ? at + b->pm_size : pref + need;
	}
	if (claim_hi > low_top || claim_hi < claim_lo)
		return nb_err("%s: the kernel needs RAM up to 0x%" PRIx64 " (loaded at 0x%" PRIx64
			      ", init_size 0x%x) but guest RAM below 4 GiB ends at 0x%" PRIx64
			      "; give it more memory with -m", b->path, claim_hi, at, h->init_size,
			      low_top);
	*addr = at;
	*end = claim_hi;
	return 0;
}

int bzimage_initrd_max(const struct bzimage *b, uint64_t *end)
{
	/* The kernel's own limit: a property of the kernel file, which no -m
	 * changes.  initrd_addr_max exists from protocol 2.03 (bzimage_parse
	 * puts boot.rst's 0x37FFFFFF there for older ones), so 0 is what the
	 * header says, not a default. */
	uint64_t kmax = (uint64_t)b->hdr.initrd_addr_max + 1;
	if (kmax < LAYOUT_HIGH_MEM + 4096)
		return nb_err("%s: the setup header's initrd_addr_max is 0x%x: the kernel takes no "
			      "initrd above 1 MiB, where nobios places it (corrupt header?); boot it "
			      "without --initrd", b->path, b->hdr.initrd_addr_max);
	*end = kmax;
	return 0;
}

/* ---- what the three formats share */

/* Load cfg->initrd page-aligned at the highest address below
 * min(initrd_addr_max + 1, top of low RAM) that avoids the kernel. */
static int put_initrd(struct boot_ctx *ctx, const struct bzimage *b)
{
	const char *path = ctx->cfg->initrd;
	ctx->initrd_addr = ctx->initrd_size = 0;
	if (!path)
		return 0;
	uint64_t kmax;
	if (bzimage_initrd_max(b, &kmax) < 0)
		return -1;
	/* Size first (at most guest RAM), then the bytes straight into guest
	 * RAM at their place. */
	struct boot_file f;
	if (boot_file_open_head(&f, path, ctx->mem->size, 0) < 0)
		return -1;
	uint64_t size = boot_file_size(&f);
	uint64_t hi = kmax < mem_low_top(ctx->mem) ? kmax : mem_low_top(ctx->mem);
	bool by_kernel = kmax < mem_low_top(ctx->mem);
	uint64_t gpa;
	if (boot_place_high(ctx, size, LAYOUT_HIGH_MEM, hi, 4096, &gpa) < 0) {
		if (by_kernel)
			nb_err("%s: initrd of %" PRIu64 " bytes does not fit below 0x%" PRIx64
			       ", the limit the kernel sets (initrd_addr_max in %s), beside the kernel",
			       path, size, hi, b->path);
		else
			nb_err("%s: initrd of %" PRIu64 " bytes does not fit in guest RAM below 0x%"
			       PRIx64 " beside the kernel (-m %llu MiB); give the guest more memory "
			       "with -m", path, size, hi, (unsigned long long)(ctx->mem->size >> 20));
		boot_file_close(&f);
		return -1;
	}
	int r = boot_file_to_guest(&f, ctx->mem, gpa);
	if (r == 0) {
		ctx->initrd_addr = gpa;
		ctx->initrd_size = size;
		if (ctx->log)
			fprintf(ctx->log, "nobios: initrd at 0x%" PRIx64 " size 0x%" PRIx64 " (%s)\n",
				gpa, size, path);
	}
	boot_file_close(&f);
	return r;
}

/* Initrd, command line and zero page: everything after the kernel itself. */
static int put_boot_info(struct boot_ctx *ctx, const struct bzimage *b, uint64_t code32_start)
{
	if (put_initrd(ctx, b) < 0)
		return -1;
	/* cmdline_size (2.06+) is the longest command line without its NUL;
	 * nobios's defaults (console=ttyS0 ...) go in front when missing */
	uint64_t cmd;
	size_t max = (size_t)b->hdr.cmdline_size + 1;
	char *line;
	if (boot_linux_cmdline(ctx, max, &line) < 0)
		return -1;
	int r = boot_put_cmdline(ctx, line, max, &cmd);
	free(line);
	if (r < 0)
		return -1;
	struct zeropage_args a = {
		.cmd_line_ptr = cmd,
		.ramdisk_image = ctx->initrd_addr,
		.ramdisk_size = ctx->initrd_size,
		.code32_start = code32_start,
		.acpi_rsdp_addr = ctx->plat ? ctx->plat->rsdp : 0,
	};
	return zeropage_build(ctx->mem, LAYOUT_ZERO_PAGE, b->path, b->data, b->size, &ctx->e820,
			      &a);
}

/* Copy the protected-mode kernel to its load address; *addr gets it. */
static int put_pm_kernel(struct boot_ctx *ctx, const struct bzimage *b, uint64_t *addr)
{
	uint64_t at = 0, end = 0;
	if (bzimage_load_addr(b, mem_low_top(ctx->mem), &at, &end) < 0)
		return -1;
	if (mem_copy_in(ctx->mem, at, b->pm, b->pm_size) < 0)
		return -1;
	ctx->kernel_start = at;
	ctx->kernel_end = align_up(end, 4096);
	*addr = at;
	return 0;
}

static int open_bzimage(struct bzimage *b, const struct boot_file *f)
{
	return bzimage_parse(b, f->path, f->data, f->size);
}

/* ---- "linux": the bzImage's 64-bit entry */

/* The 32- and 64-bit entries take fields protocol 2.06 defined
 * (cmdline_size; relocation from 2.05): older kernels only through their
 * 16-bit setup, which the bzimage format picks for them. */
static int check_direct_protocol(const struct bzimage *b)
{
	if (b->hdr.version < BOOT_PROTO_MIN)
		return nb_err("%s: boot protocol %u.%02u is too old for the 32- and 64-bit entries "
			      "(2.06 or later); its 16-bit setup takes it (--boot-protocol linux16)",
			      b->path, (unsigned)(b->hdr.version >> 8),
			      (unsigned)(b->hdr.version & 0xFF));
	return 0;
}

static int linux64_load_parsed(struct boot_ctx *ctx, const struct bzimage *b)
{
	uint64_t at;
	if (check_direct_protocol(b) < 0 || bzimage_check_64(b) < 0 || put_pm_kernel(ctx, b, &at) < 0 ||
	    put_boot_info(ctx, b, at) < 0)
		return -1;
	if (cpu_setup_long(ctx->cpu, ctx->mem) < 0)
		return -1;
	ctx->cpu->rip = at + SETUP_ENTRY64_OFFSET;
	ctx->cpu->gpr[CPU_RSI] = LAYOUT_ZERO_PAGE;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "64-bit bzImage entry at 0x%" PRIx64 " (kernel loaded at 0x%" PRIx64
		 ", decompresses itself in the guest)", at + SETUP_ENTRY64_OFFSET, at);
	return 0;
}

static int linux64_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct bzimage b;
	if (open_bzimage(&b, f) < 0)
		return -1;
	return linux64_load_parsed(ctx, &b);
}

/* ---- "linux32": the 32-bit boot protocol */

static int linux32_load_parsed(struct boot_ctx *ctx, const struct bzimage *b)
{
	uint64_t at;
	if (check_direct_protocol(b) < 0 || put_pm_kernel(ctx, b, &at) < 0 ||
	    put_boot_info(ctx, b, at) < 0)
		return -1;
	if (cpu_setup_prot32(ctx->cpu, ctx->mem, BOOT_GDT_CS) < 0)
		return -1;
	/* boot.rst "32-bit boot protocol": EIP = code32_start (which we set
	 * to the load address), ESI = boot_params, EBP = EDI = EBX = 0 */
	ctx->cpu->rip = at;
	ctx->cpu->gpr[CPU_RSI] = LAYOUT_ZERO_PAGE;
	ctx->cpu->gpr[CPU_RBP] = ctx->cpu->gpr[CPU_RDI] = ctx->cpu->gpr[CPU_RBX] = 0;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "32-bit protected-mode entry at 0x%" PRIx64 " (code32_start)", at);
	return 0;
}

static int linux32_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct bzimage b;
	if (open_bzimage(&b, f) < 0)
		return -1;
	return linux32_load_parsed(ctx, &b);
}

/* ---- "bzimage": host-decompressed vmlinux at startup_64 */

static int fallback(struct boot_ctx *ctx, const struct bzimage *b, const char *why)
{
	bool k64 = b->hdr.version >= BOOT_PROTO_64 && (b->hdr.xloadflags & XLF_KERNEL_64);
	if (ctx->log)
		fprintf(ctx->log, "nobios: %s: %s; falling back to the %s boot protocol (the "
			"kernel decompresses itself in the guest: slow on emulating hosts)\n",
			b->path, why, k64 ? "linux" : "linux32");
	ctx->format = k64 ? "linux" : "linux32";
	return k64 ? linux64_load_parsed(ctx, b) : linux32_load_parsed(ctx, b);
}

static int vmlinux_load(struct boot_ctx *ctx, const struct bzimage *b, const uint8_t *elf,
			size_t elfsize, double ms, const char *comp)
{
	struct elf_image e;
	if (elf_parse(&e, b->path, elf, elfsize) < 0) {
		nb_err_prefix("payload");
		return -1;
	}
	if (!e.is64)
		return fallback(ctx, b, "the payload is a 32-bit vmlinux");
	if (e.hi_paddr > mem_low_top(ctx->mem) || e.lo_paddr < LAYOUT_HIGH_MEM)
		return nb_err("%s: the kernel needs RAM at [0x%" PRIx64 ", 0x%" PRIx64 ") but guest "
			      "RAM below 4 GiB ends at 0x%" PRIx64 "; give it more memory with -m",
			      b->path, e.lo_paddr, e.hi_paddr, mem_low_top(ctx->mem));
	if (elf_load(&e, ctx->mem, LAYOUT_HIGH_MEM) < 0)
		return -1;
	ctx->kernel_start = e.lo_paddr & ~4095ull;
	ctx->kernel_end = align_up(e.hi_paddr, 4096);

	/* vmlinux's e_entry is phys_startup_64 (a physical address); translate
	 * a virtual one in case another kernel differs */
	uint64_t entry = e.entry;
	if (!(entry >= e.lo_paddr && entry < e.hi_paddr) &&
	    !elf_vaddr_to_paddr(&e, e.entry, &entry))
		return nb_err("%s: payload's entry point 0x%" PRIx64 " is in no loaded segment",
			      b->path, e.entry);
	if (put_boot_info(ctx, b, 0) < 0)
		return -1;
	if (cpu_setup_long(ctx->cpu, ctx->mem) < 0)
		return -1;
	ctx->cpu->rip = entry;
	ctx->cpu->gpr[CPU_RSI] = LAYOUT_ZERO_PAGE;
	ctx->decompress_ms = ms;
	snprintf(ctx->entry_desc, sizeof(ctx->entry_desc),
		 "64-bit startup_64 at 0x%" PRIx64 " (vmlinux host-decompressed from %.24s, "
		 "%u ms)", entry, comp, (unsigned)(ms + 0.5));
	return 0;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The decompressed vmlinux: from the cache (mapped) or decompressed now. */
struct vmlinux_buf {
	const uint8_t *data;
	size_t size;
	uint8_t *owned;           /* malloc'ed by the decompressor */
	struct kcache_entry cached;
	double ms;                /* decompression (or hash + cache lookup) time */
	char how[24];             /* "lz4", "zstd, from the cache" */
};

static void vmlinux_release(struct vmlinux_buf *v)
{
	free(v->owned);
	kcache_release(&v->cached);
}

/* Hashing the image costs about what decompressing LZ4 does (tens of ms
 * for Debian's kernel, measured), so the cache only serves the slower
 * formats. */
static bool cache_worth_it(enum decompress_format fmt) { return fmt != DECOMPRESS_LZ4; }

static int vmlinux_get(struct boot_ctx *ctx, const struct bzimage *b, enum decompress_format fmt,
		       uint32_t trailer, struct vmlinux_buf *v)
{
	const char *dir = ctx->cfg->cache_dir;
	char key[2 * SHA256_DIGEST_SIZE + 1] = "";
	memset(v, 0, sizeof(*v));
	snprintf(v->how, sizeof(v->how), "%s", decompress_name(fmt));
	if (dir && !cache_worth_it(fmt) && ctx->log)
		fprintf(ctx->log, "nobios: cache: not used for %s payloads (decompressing is as "
			"fast as hashing the image)\n", decompress_name(fmt));
	if (dir && cache_worth_it(fmt)) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		kcache_key(b->data, b->size, key);
		if (kcache_lookup(dir, key, trailer, &v->cached, ctx->log) &&
		    elf_is_elf(v->cached.data, v->cached.size)) {
			v->data = v->cached.data;
			v->size = v->cached.size;
			v->ms = ms_since(&t0);
			snprintf(v->how, sizeof(v->how), "%s, from the cache", decompress_name(fmt));
			if (ctx->log)
				fprintf(ctx->log, "nobios: cache: hit %s/vmlinux-%s.elf (%.1f ms "
					"with the image's SHA-256)\n", dir, key, v->ms);
			return 0;
		}
		kcache_release(&v->cached);
	}

	/* At most guest RAM, where the vmlinux has to fit: a payload that
	 * decompresses to more (a bomb) stops there, and a size trailer that
	 * claims more (hostile, or the random last bytes of a truncated file)
	 * does not presize the buffer. */
	size_t limit = bzimage_decompress_limit(ctx);
	char what[512];
	snprintf(what, sizeof(what), "%s: payload", b->path);
	if (decompress_buffer(what, b->payload, b->payload_size, limit,
			      trailer <= limit ? trailer : 0, &v->owned, &v->size, &v->ms) < 0) {
		/* Stopped at guest RAM by a kernel whose size trailer says it is
		 * that large: a real kernel, too big for this -m. */
		if (limit < BZIMAGE_DECOMPRESS_LIMIT && trailer > limit &&
		    strstr(nb_errmsg(), "decompressed data exceeds")) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", nb_errmsg());
			return nb_err("%s; the kernel says it decompresses to %u bytes: give it more "
				      "memory with -m", msg, trailer);
		}
		return -1;
	}
	v->data = v->owned;
	if (ctx->log)
		fprintf(ctx->log, "nobios: %s: %s payload of %zu bytes decompressed to %zu bytes "
			"in %.1f ms\n", b->path, decompress_name(fmt), b->payload_size, v->size,
			v->ms);
	/* Linux appends the uncompressed size (le32) to every payload */
	if (v->size != trailer)
		return nb_err("%s: bad payload: decompressed to %zu bytes, but its size trailer "
			      "says %u (truncated or corrupt)", b->path, v->size, trailer);
	if (!elf_is_elf(v->data, v->size))
		return nb_err("%s: bad payload: the decompressed kernel is not an ELF file",
			      b->path);
	if (key[0] && kcache_store(dir, key, v->data, v->size, ctx->log) == 0 && ctx->log)
		fprintf(ctx->log, "nobios: cache: stored %s/vmlinux-%s.elf\n", dir, key);
	return 0;
}

static int bzimage_load(struct boot_ctx *ctx, const struct boot_file *f)
{
	struct bzimage b;
	if (open_bzimage(&b, f) < 0)
		return -1;
	bool k64 = b.hdr.version >= BOOT_PROTO_64 && (b.hdr.xloadflags & XLF_KERNEL_64);
	if (!k64 && !b.payload) {
		/* Issue 13 item 2: no 64-bit entry and no compressed kernel is
		 * not Linux but a program in bzImage form (iPXE's .lkrn, GRUB's
		 * lnxboot.img, memtest86+): only its 16-bit setup code knows
		 * how to start it, as QEMU's -kernel and boot loaders do. */
		if (ctx->log)
			fprintf(ctx->log, "nobios: %s: no XLF_KERNEL_64 and no payload: not Linux; "
				"entering its 16-bit setup code through the pseudo-BIOS (linux16)\n",
				b.path);
		ctx->redirect = "linux16";
		ctx->not_linux = true;
		return 0;
	}
	if (!k64)
		return fallback(ctx, &b, "not a 64-bit kernel");
	if (!b.payload)
		return fallback(ctx, &b, "no payload in the setup header");
	enum decompress_format fmt = decompress_detect(b.payload, b.payload_size);
	if (!decompress_supported(fmt)) {
		char why[96];
		snprintf(why, sizeof(why), "cannot decompress a payload of %s format in the host",
			 fmt == DECOMPRESS_UNKNOWN ? "unknown" : decompress_name(fmt));
		return fallback(ctx, &b, why);
	}
	uint32_t trailer = b.payload_size >= 4 ? rd32(b.payload + b.payload_size - 4) : 0;
	struct vmlinux_buf v;
	int r = vmlinux_get(ctx, &b, fmt, trailer, &v);
	if (r == 0)
		r = vmlinux_load(ctx, &b, v.data, v.size, v.ms, v.how);
	vmlinux_release(&v);
	return r;
}

/* ---- probe and inspect */

static int bz_probe(const struct boot_file *f, char *why, size_t whylen)
{
	struct bzimage b;
	if (bzimage_parse(&b, f->path, f->data, f->size) < 0) {
		snprintf(why, whylen, "%s", nb_errmsg());
		nb_err_clear();
		/* "HdrS" makes it a Linux kernel: claim it so that loading
		 * reports what is wrong with it, not "unknown format" */
		return f->size >= SETUP_OFF(header) + 4 &&
		       rd32(f->data + SETUP_OFF(header)) == SETUP_HDRS_MAGIC;
	}
	enum decompress_format fmt = decompress_detect(b.payload, b.payload_size);
	bool k64 = b.hdr.version >= BOOT_PROTO_64 && (b.hdr.xloadflags & XLF_KERNEL_64);
	if (!k64 && !b.payload) {
		snprintf(why, whylen, "bzImage, boot protocol %u.%02u, no XLF_KERNEL_64 and no "
			 "payload: not Linux, entered through its 16-bit setup (linux16)",
			 (unsigned)(b.hdr.version >> 8), (unsigned)(b.hdr.version & 0xFF));
		return 1;
	}
	snprintf(why, whylen, "Linux bzImage, boot protocol %u.%02u, %s payload%s",
		 (unsigned)(b.hdr.version >> 8), (unsigned)(b.hdr.version & 0xFF),
		 b.payload ? decompress_name(fmt) : "no",
		 decompress_supported(fmt) ? " (host-decompressed)" : " (in-guest decompressor)");
	return 1;
}

static int explicit_probe(const struct boot_file *f, char *why, size_t whylen)
{
	snprintf(why, whylen, "selected with --boot-protocol only (\"bzimage\" takes bzImages)");
	return 0;
}

static void flag_names(char *buf, size_t len, unsigned v, const char *const *names, unsigned n)
{
	size_t used = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < n; i++)
		if ((v & (1u << i)) && names[i] && used < len)
			used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i]);
	if (!buf[0])
		snprintf(buf, len, "none");
}

static int bz_inspect_common(const struct boot_file *f, FILE *out, const char *mode)
{
	struct bzimage b;
	if (bzimage_parse(&b, f->path, f->data, f->size) < 0)
		return -1;
	const struct setup_header *h = &b.hdr;
	static const char *const lf[8] = { "LOADED_HIGH", "KASLR_FLAG", NULL, NULL, NULL,
					   "QUIET_FLAG", "KEEP_SEGMENTS", "CAN_USE_HEAP" };
	static const char *const xlf[8] = { "XLF_KERNEL_64", "XLF_CAN_BE_LOADED_ABOVE_4G",
					    "XLF_EFI_HANDOVER_32", "XLF_EFI_HANDOVER_64",
					    "XLF_EFI_KEXEC", "XLF_5LEVEL", "XLF_5LEVEL_ENABLED",
					    "XLF_MEM_ENCRYPTION" };
	char lfs[160], xlfs[256];
	flag_names(lfs, sizeof(lfs), h->loadflags, lf, 8);
	flag_names(xlfs, sizeof(xlfs), h->xloadflags, xlf, 8);
	enum decompress_format fmt = decompress_detect(b.payload, b.payload_size);
	fprintf(out, "Linux bzImage: %s\n", f->path);
	fprintf(out, "  kernel version:   %s\n", b.version_str[0] ? b.version_str : "(none)");
	fprintf(out, "  boot protocol:    %u.%02u\n", (unsigned)(h->version >> 8),
		(unsigned)(h->version & 0xFF));
	fprintf(out, "  setup:            %u sectors (%zu bytes); kernel %zu bytes\n",
		b.setup_sects, b.setup_size, b.pm_size);
	fprintf(out, "  loadflags:        0x%02x %s\n", h->loadflags, lfs);
	fprintf(out, "  xloadflags:       0x%04x %s\n", h->xloadflags, xlfs);
	fprintf(out, "  relocatable:      %s, kernel_alignment 0x%x, pref_address 0x%" PRIx64
		"\n", h->relocatable_kernel ? "yes" : "no", h->kernel_alignment,
		h->pref_address);
	fprintf(out, "  init_size:        0x%x (%u MiB)\n", h->init_size, h->init_size >> 20);
	fprintf(out, "  cmdline_size:     %u, initrd_addr_max 0x%x\n", h->cmdline_size,
		h->initrd_addr_max);
	if (b.payload)
		fprintf(out, "  payload:          %s, %zu bytes at 0x%zx, uncompressed %u bytes%s\n",
			decompress_name(fmt), b.payload_size,
			b.setup_size + h->payload_offset,
			b.payload_size >= 4 ? rd32(b.payload + b.payload_size - 4) : 0,
			decompress_supported(fmt) ? "" : " (nobios cannot decompress it)");
	else
		fprintf(out, "  payload:          none\n");
	fprintf(out, "  entry:            %s\n", mode);
	return 0;
}

/* Where the "linux"/"linux32" paths would put the kernel with the default
 * RAM size (INSPECT_RAM), so inspect can give concrete addresses. */

static void inspect_load_addr(const struct boot_file *f, FILE *out, uint64_t entry_off)
{
	struct bzimage b;
	uint64_t at = 0, end = 0;
	if (bzimage_parse(&b, f->path, f->data, f->size) < 0)
		return;
	if (bzimage_load_addr(&b, INSPECT_RAM, &at, &end) < 0) {
		fprintf(out, "  load address:     none with -m 256M: %s\n", nb_errmsg());
		nb_err_clear();
		return;
	}
	fprintf(out, "  load address:     0x%" PRIx64 " (claims up to 0x%" PRIx64 " with -m 256M); "
		"entry 0x%" PRIx64 "\n", at, end, at + entry_off);
}

static int bz_inspect(const struct boot_file *f, FILE *out)
{
	if (bz_inspect_common(f, out, "startup_64 of the host-decompressed vmlinux (e_entry), "
			      "64-bit, RSI = zero page at 0x7000") < 0)
		return -1;
	/* decompress to show the vmlinux itself: tens of milliseconds */
	struct bzimage b;
	bzimage_parse(&b, f->path, f->data, f->size);
	if (!decompress_supported(decompress_detect(b.payload, b.payload_size))) {
		fprintf(out, "  (loading falls back to the \"linux\" protocol)\n");
		inspect_load_addr(f, out, SETUP_ENTRY64_OFFSET);
		return 0;
	}
	char what[512];
	snprintf(what, sizeof(what), "%s: payload", b.path);
	uint8_t *elf;
	size_t elfsize;
	double ms;
	uint32_t trailer = b.payload_size >= 4 ? rd32(b.payload + b.payload_size - 4) : 0;
	if (decompress_buffer(what, b.payload, b.payload_size, INSPECT_RAM,
			      trailer <= INSPECT_RAM ? trailer : 0, &elf, &elfsize, &ms) < 0)
		return -1;
	struct elf_image e;
	int r = elf_parse(&e, what, elf, elfsize);
	if (r == 0) {
		fprintf(out, "  vmlinux:          ELF%d, %zu bytes (decompressed in %.1f ms), "
			"e_entry 0x%" PRIx64 "\n", e.is64 ? 64 : 32, elfsize, ms, e.entry);
		for (unsigned i = 0; i < e.nload; i++)
			fprintf(out, "  PT_LOAD:          paddr [0x%" PRIx64 ", 0x%" PRIx64 ") vaddr "
				"0x%" PRIx64 " file 0x%" PRIx64 " bytes\n", e.load[i].paddr,
				e.load[i].paddr + e.load[i].memsz, e.load[i].vaddr,
				e.load[i].filesz);
	}
	free(elf);
	return r;
}

static int linux64_inspect(const struct boot_file *f, FILE *out)
{
	if (bz_inspect_common(f, out, "load address + 0x200, 64-bit, RSI = zero page") < 0)
		return -1;
	inspect_load_addr(f, out, SETUP_ENTRY64_OFFSET);
	return 0;
}

static int linux32_inspect(const struct boot_file *f, FILE *out)
{
	if (bz_inspect_common(f, out, "code32_start (load address), 32-bit flat, paging off, "
			      "ESI = zero page") < 0)
		return -1;
	inspect_load_addr(f, out, 0);
	return 0;
}

static const struct boot_format bzimage_format = {
	.name = "bzimage",
	.order = 10,
	.summary = "Linux bzImage, payload decompressed in the host, vmlinux entered at "
		   "startup_64",
	.probe = bz_probe,
	.load = bzimage_load,
	.inspect = bz_inspect,
};
BOOT_FORMAT(bzimage_format);

static const struct boot_format linux64_format = {
	.name = "linux",
	.order = 11,
	.summary = "Linux bzImage by the 64-bit boot protocol (in-guest decompressor)",
	.probe = explicit_probe,
	.load = linux64_load,
	.inspect = linux64_inspect,
};
BOOT_FORMAT(linux64_format);

static const struct boot_format linux32_format = {
	.name = "linux32",
	.order = 12,
	.summary = "Linux bzImage by the 32-bit boot protocol (flat protected mode)",
	.probe = explicit_probe,
	.load = linux32_load,
	.inspect = linux32_inspect,
};
BOOT_FORMAT(linux32_format);
