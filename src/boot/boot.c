/* boot.c - format registry, detection and the helpers loaders share. */
#include "boot/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/layout.h"
#include "util/err.h"

extern const struct boot_format *const __start_nb_boot_formats[];
extern const struct boot_format *const __stop_nb_boot_formats[];

/* The linker's section bounds delimit one array; it is counted by address,
 * as bus.c counts the devices: comparing the two symbols as pointers
 * compares pointers to different objects, which C leaves undefined
 * (cppcheck's comparePointers). */
static size_t nformats(void)
{
	return ((uintptr_t)__stop_nb_boot_formats - (uintptr_t)__start_nb_boot_formats) /
	       sizeof(__start_nb_boot_formats[0]);
}

unsigned boot_formats(const struct boot_format **out, unsigned max)
{
	unsigned n = 0;
	for (size_t i = 0; i < nformats() && n < max; i++)
		out[n++] = __start_nb_boot_formats[i];
	/* insertion sort by order: the table is tiny */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && out[j - 1]->order > out[j]->order; j--) {
			const struct boot_format *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

const struct boot_format *boot_format_by_name(const char *name)
{
	for (size_t i = 0; i < nformats(); i++)
		if (strcmp(__start_nb_boot_formats[i]->name, name) == 0)
			return __start_nb_boot_formats[i];
	return NULL;
}

/* ---- reading input files */

#define HUGE_PAGE (2u << 20)

/* Anonymous memory for a file's bytes, 2 MiB aligned and advised for huge
 * pages: faulting in 4 KiB pages costs more than the copy itself (51 MB
 * vmlinux on kvm_pvm: 215 ms with 4 KiB pages, 37 ms with 2 MiB ones, 32 ms
 * through a mapping of the file; README "Disk images and input files").
 * NULL on failure. */
static void *buf_alloc(size_t len, size_t *maplen)
{
	size_t want = (len + 4095) & ~(size_t)4095;
	if (want < HUGE_PAGE) {
		void *p = mmap(NULL, want, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		*maplen = want;
		return p == MAP_FAILED ? NULL : p;
	}
	size_t big = want + HUGE_PAGE;
	uint8_t *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + big > a + want)
		munmap(a + want, (size_t)(p + big - (a + want)));
	madvise(a, want, MADV_HUGEPAGE);
	*maplen = want;
	return a;
}

/* pread all of [off, off+len); the file ending early means it shrank. */
static int read_range(const struct boot_file *f, uint64_t off, uint8_t *dst, size_t len)
{
	uint64_t at = off;
	while (len) {
		size_t n1 = len > (1u << 30) ? (1u << 30) : len;
		ssize_t n = pread(f->fd_, dst, n1, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nb_err("%s: read error at offset %llu: %s", f->path,
				      (unsigned long long)at, strerror(errno));
		if (n == 0)
			return nb_err("%s: changed size while being read (%llu bytes when opened, "
				      "it ended at %llu)", f->path,
				      (unsigned long long)boot_file_size(f), (unsigned long long)at);
		dst += n;
		at += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* After the last byte was read: the file must still have the size it had
 * (it grew, or shrank and grew again: what was read is not one file). */
static int same_size(const struct boot_file *f)
{
	struct stat st;
	if (f->blockdev_) /* a block device's size is not in st_size */
		return 0;
	if (fstat(f->fd_, &st) < 0)
		return nb_err("%s: cannot stat: %s", f->path, strerror(errno));
	if ((uint64_t)st.st_size != f->file_size)
		return nb_err("%s: changed size while being read (%llu bytes when opened, %llu now)",
			      f->path, (unsigned long long)f->file_size,
			      (unsigned long long)st.st_size);
	return 0;
}

static void drop_fd(struct boot_file *f)
{
	if (f->fd_ >= 0)
		close(f->fd_);
	f->fd_ = -1;
}

int boot_file_open_head(struct boot_file *f, const char *path, uint64_t max, size_t head)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->fd_ = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nb_err("%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return nb_err("%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return nb_err("%s: is a directory", path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return nb_err("%s: not a regular file", path);
	}
	/* A block device's st_size is 0: its size is where its end is. */
	off_t size = st.st_size;
	if (S_ISBLK(st.st_mode) && (size = lseek(fd, 0, SEEK_END)) < 0) {
		int e = errno;
		close(fd);
		return nb_err("%s: cannot find the size of the block device: %s", path, strerror(e));
	}
	if (size == 0) {
		close(fd);
		return nb_err("%s: empty %s", path, S_ISBLK(st.st_mode) ? "block device" : "file");
	}
	if (max && (uint64_t)size > max) {
		close(fd);
		return nb_err("%s: %lld bytes, more than the %llu MiB of guest RAM it has to fit in; "
			      "give the guest more memory with -m", path, (long long)size,
			      (unsigned long long)(max >> 20));
	}
	f->fd_ = fd;
	f->file_size = (uint64_t)size;
	f->blockdev_ = S_ISBLK(st.st_mode);
	f->open_ = true;
	size_t n = f->file_size < head ? (size_t)f->file_size : head;
	if (n) {
		f->map_ = buf_alloc(n, &f->map_len_);
		if (!f->map_) {
			boot_file_close(f);
			return nb_err("%s: no memory to read %zu bytes", path, n);
		}
		if (read_range(f, 0, f->map_, n) < 0) {
			boot_file_close(f);
			return -1;
		}
		f->data = f->map_;
		f->size = n;
	}
	if (f->size == f->file_size) {
		if (same_size(f) < 0) {
			boot_file_close(f);
			return -1;
		}
		drop_fd(f); /* all of it is in memory */
	}
	return 0;
}

int boot_file_open(struct boot_file *f, const char *path, uint64_t max)
{
	return boot_file_open_head(f, path, max, SIZE_MAX);
}

int boot_file_read_all(struct boot_file *f)
{
	if (f->size >= boot_file_size(f))
		return 0;
	if (f->fd_ < 0)
		return nb_err_internal("%s: read_all on a closed file", f->path);
	size_t len, n = (size_t)f->file_size;
	void *p = buf_alloc(n, &len);
	if (!p)
		return nb_err("%s: no memory to read %zu bytes", f->path, n);
	if (read_range(f, 0, p, n) < 0 || same_size(f) < 0) {
		munmap(p, len);
		return -1;
	}
	if (f->map_)
		munmap(f->map_, f->map_len_);
	f->map_ = p;
	f->map_len_ = len;
	f->data = p;
	f->size = n;
	drop_fd(f);
	return 0;
}

/* A disk image, not a kernel that happens to carry 55 AA at 510 (a bzImage
 * does): none of the headers the kernel formats probe for is there. */
static bool looks_like_disk(const struct boot_file *f)
{
	const uint8_t *d = f->data;
	if (f->size < 0x8000 || d[510] != 0x55 || d[511] != 0xAA)
		return false;
	if (memcmp(d, "\x7f" "ELF", 4) == 0 || memcmp(d + 0x202, "HdrS", 4) == 0)
		return false;
	for (size_t i = 0; i + 4 <= 8192; i += 4) /* Multiboot 1: magic in the first 8 KiB */
		if (memcmp(d + i, "\x02\xb0\xad\x1b", 4) == 0)
			return false;
	for (size_t i = 0; i + 4 <= 32768; i += 8) /* Multiboot 2: first 32 KiB */
		if (memcmp(d + i, "\xd6\x50\x52\xe8", 4) == 0)
			return false;
	return true;
}

/* Read the rest of a file that is to be read whole as a kernel.  Not
 * bounded by guest RAM: an ELF kernel's file holds sections that are never
 * loaded (symbols, debug info), so only what it loads has to fit.  Checked
 * before a byte more is read. */
static int read_all_kernel(struct boot_file *f)
{
	if (boot_file_size(f) > BOOT_KERNEL_FILE_MAX)
		return nb_err("%s: %llu bytes, more than nobios takes as a kernel file (%llu GiB)",
			      f->path, (unsigned long long)boot_file_size(f),
			      BOOT_KERNEL_FILE_MAX >> 30);
	return boot_file_read_all(f);
}

int boot_file_open_image(struct boot_file *f, const char *path)
{
	if (boot_file_open_head(f, path, 0, BOOT_DISK_HEAD) < 0)
		return -1;
	/* A disk image is read sector by sector, whatever its size. */
	if (f->size == f->file_size || looks_like_disk(f))
		return 0;
	if (read_all_kernel(f) < 0) {
		boot_file_close(f);
		return -1;
	}
	return 0;
}

int boot_file_pread(const struct boot_file *f, uint64_t off, void *buf, size_t len)
{
	uint64_t size = boot_file_size(f);
	if (off > size || len > size - off)
		return nb_err("%s: %zu bytes at offset %llu lie beyond the end of the file (%llu "
			      "bytes)", f->path, len, (unsigned long long)off,
			      (unsigned long long)size);
	if (off + len <= f->size) {
		memcpy(buf, f->data + off, len);
		return 0;
	}
	if (!f->open_ || f->fd_ < 0)
		return nb_err_internal("%s: no file to read beyond the first %zu bytes", f->path,
				       f->size);
	return read_range(f, off, buf, len);
}

int boot_file_to_guest(const struct boot_file *f, struct guest_mem *m, uint64_t gpa)
{
	uint64_t size = boot_file_size(f);
	if (f->size == size) /* already in memory */
		return mem_copy_in(m, gpa, f->data, size);
	uint8_t *p = mem_ptr(m, gpa, size);
	if (!p)
		return nb_err("%s: %llu bytes at guest 0x%llx are not all RAM", f->path,
			      (unsigned long long)size, (unsigned long long)gpa);
	if (!f->open_ || f->fd_ < 0)
		return nb_err_internal("%s: file not open", f->path);
	if (read_range(f, 0, p, (size_t)size) < 0 || same_size(f) < 0)
		return -1;
	return 0;
}

void boot_file_close(struct boot_file *f)
{
	if (!f->open_)
		return; /* built in memory by its owner (tests) */
	if (f->map_)
		munmap(f->map_, f->map_len_);
	drop_fd(f);
	memset(f, 0, sizeof(*f));
	f->fd_ = -1;
}

const struct boot_format *boot_detect_as(const struct boot_file *f, enum boot_role role,
					 char *why, size_t whylen)
{
	const struct boot_format *fmts[32];
	unsigned n = boot_formats(fmts, 32);
	size_t used = 0;
	if (whylen)
		why[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		char one[256] = "";
		if (!fmts[i]->probe || (role == BOOT_ROLE_DISK && !fmts[i]->disk))
			continue;
		int r = fmts[i]->probe(f, one, sizeof(one));
		if (whylen > used)
			used += snprintf(why + used, whylen - used, "  %-10s %s: %s\n", fmts[i]->name,
					 r == 1 ? "yes" : "no ", one);
		if (used >= whylen)
			used = whylen;
		if (r == 1)
			return fmts[i];
	}
	return NULL;
}

const struct boot_format *boot_detect(const struct boot_file *f, char *why, size_t whylen)
{
	return boot_detect_as(f, BOOT_ROLE_KERNEL, why, whylen);
}

int boot_load(struct boot_ctx *ctx)
{
	const struct boot_config *cfg = ctx->cfg;
	e820_build(&ctx->e820, ctx->mem);
	cpu_state_init(ctx->cpu);

	const struct boot_format *fmt = NULL;
	if (cfg->protocol) {
		fmt = boot_format_by_name(cfg->protocol);
		if (!fmt)
			return nb_err("--boot-protocol: unknown protocol '%s'", cfg->protocol);
	}
	const char *path = cfg->kernel;
	/* The flag that named the file says what it is: a --disk or --floppy
	 * image is probed only by the disk formats and never read whole as a
	 * kernel (README "Boot formats": which format wins). */
	enum boot_role role = BOOT_ROLE_KERNEL;
	if (!path) {
		path = cfg->disks[0].path ? cfg->disks[0].path : cfg->floppy.path;
		role = BOOT_ROLE_DISK;
	}
	if (!path)
		return nb_err("no kernel or disk image given");
	if (fmt && role == BOOT_ROLE_DISK && !fmt->disk)
		return nb_err("--boot-protocol %s boots a kernel file, not a disk image: give %s as "
			      "KERNEL, not with --%s", fmt->name, path,
			      cfg->disks[0].path ? "disk" : "floppy");

	struct boot_file f;
	if ((role == BOOT_ROLE_DISK ? boot_file_open_head(&f, path, 0, BOOT_DISK_HEAD)
				    : boot_file_open_image(&f, path)) < 0)
		return -1;
	char why[2048];
	if (!fmt) {
		fmt = boot_detect_as(&f, role, why, sizeof(why));
		if (!fmt) {
			boot_file_close(&f);
			if (role == BOOT_ROLE_DISK)
				return nb_err("%s: not a bootable disk image (no OSv layout, no boot "
					      "signature 55 AA at offset 510; try `nobios inspect %s`)",
					      path, path);
			return nb_err("%s: not a bootable image of any known format "
				      "(try `nobios inspect %s`)", path, path);
		}
		if (ctx->log)
			fprintf(ctx->log, "nobios: %s: format detection as %s:\n%s", path,
				role == BOOT_ROLE_DISK ? "a disk image (only disk formats)" : "a kernel",
				why);
	}
	/* a forced format may need more of a disk image than its head */
	if (!fmt->disk_head && read_all_kernel(&f) < 0) {
		boot_file_close(&f);
		return -1;
	}
	ctx->format = fmt->name;
	/* The tables first: loaders hand their addresses to the kernel. */
	if (boot_tables_build(ctx) < 0) {
		boot_file_close(&f);
		return -1;
	}
	int r = fmt->load(ctx, &f);
	const struct boot_format *to = r == 0 && ctx->redirect ? boot_format_by_name(ctx->redirect)
							       : NULL;
	if (r == 0 && ctx->redirect && !to)
		r = nb_err_internal("format %s redirects to unknown %s", fmt->name, ctx->redirect);
	if (to) {
		ctx->format = to->name;
		r = to->load(ctx, &f);
	}
	/* Only the loader knows whether POST runs (a bzImage may hand over to
	 * its 16-bit setup): the tables follow it. */
	if (r == 0)
		r = boot_tables_post(ctx);
	boot_file_close(&f);
	if (r == 0 && ctx->log)
		fprintf(ctx->log, "nobios: %s: loaded as %s; entry: %s\n", path, ctx->format,
			ctx->entry_desc);
	return r;
}

int boot_put_cmdline(struct boot_ctx *ctx, const char *cmdline, size_t max, uint64_t *gpa)
{
	if (!cmdline)
		cmdline = "";
	size_t len = strlen(cmdline) + 1;
	if (max > LAYOUT_CMDLINE_MAX)
		max = LAYOUT_CMDLINE_MAX;
	if (len > max)
		return nb_err("--cmdline: command line is %zu bytes, the kernel allows at most %zu",
			      len - 1, max - 1);
	if (mem_copy_in(ctx->mem, LAYOUT_CMDLINE, cmdline, len) < 0)
		return -1;
	*gpa = LAYOUT_CMDLINE;
	return 0;
}

int boot_place_high(const struct boot_ctx *ctx, uint64_t size, uint64_t lo, uint64_t hi,
		    uint64_t align, uint64_t *gpa)
{
	/* Search usable E820 ranges from the top, below hi and above lo, and
	 * above the kernel image (or below it when it fits there only). */
	if (align == 0)
		align = 4096;
	uint64_t best = 0;
	for (unsigned i = 0; i < ctx->e820.n; i++) {
		const struct e820_entry *e = &ctx->e820.e[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t s = e->addr, t = e->addr + e->size;
		if (s < lo)
			s = lo;
		if (t > hi)
			t = hi;
		if (t <= s || t - s < size)
			continue;
		uint64_t cand = (t - size) & ~(align - 1);
		/* step below the kernel if overlapping it */
		if (ctx->kernel_end && cand < ctx->kernel_end && cand + size > ctx->kernel_start) {
			if (ctx->kernel_start < size)
				continue;
			cand = (ctx->kernel_start - size) & ~(align - 1);
		}
		/* stay out of the low areas below 1 MiB */
		if (cand < s || cand < LAYOUT_HIGH_MEM)
			continue;
		if (cand > best)
			best = cand;
	}
	if (!best)
		return nb_err("no room for %llu bytes in guest RAM below 0x%llx",
			      (unsigned long long)size, (unsigned long long)hi);
	*gpa = best;
	return 0;
}
