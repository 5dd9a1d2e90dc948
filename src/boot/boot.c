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

unsigned boot_formats(const struct boot_format **out, unsigned max)
{
	unsigned n = 0;
	for (const struct boot_format *const *p = __start_nb_boot_formats;
	     p < __stop_nb_boot_formats && n < max; p++)
		out[n++] = *p;
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
	for (const struct boot_format *const *p = __start_nb_boot_formats;
	     p < __stop_nb_boot_formats; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

int boot_file_open(struct boot_file *f, const char *path, uint64_t max)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nb_err("%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return nb_err("%s: cannot stat: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return nb_err("%s: is a directory", path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return nb_err("%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return nb_err("%s: empty file", path);
	}
	if (max && (uint64_t)st.st_size > max) {
		close(fd);
		return nb_err("%s: too large (%lld bytes, at most %llu)", path,
			      (long long)st.st_size, (unsigned long long)max);
	}
	void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return nb_err("%s: cannot map: %s", path, strerror(errno));
	f->data = p;
	f->size = st.st_size;
	f->map_ = p;
	return 0;
}

void boot_file_close(struct boot_file *f)
{
	if (f->map_)
		munmap(f->map_, f->size);
	memset(f, 0, sizeof(*f));
}

const struct boot_format *boot_detect(const struct boot_file *f, char *why, size_t whylen)
{
	const struct boot_format *fmts[32];
	unsigned n = boot_formats(fmts, 32);
	size_t used = 0;
	if (whylen)
		why[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		char one[256] = "";
		if (!fmts[i]->probe)
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
	if (!path)
		path = cfg->disk.path ? cfg->disk.path : cfg->floppy.path;
	if (!path)
		return nb_err("no kernel or disk image given");

	struct boot_file f;
	if (boot_file_open(&f, path, 0) < 0)
		return -1;
	char why[2048];
	if (!fmt) {
		fmt = boot_detect(&f, why, sizeof(why));
		if (!fmt) {
			boot_file_close(&f);
			return nb_err("%s: not a bootable image of any known format "
				      "(try `nobios inspect %s`)", path, path);
		}
		if (ctx->log)
			fprintf(ctx->log, "nobios: %s: format detection:\n%s", path, why);
	}
	ctx->format = fmt->name;
	/* The tables first: loaders hand their addresses to the kernel. */
	if (boot_tables_build(ctx) < 0) {
		boot_file_close(&f);
		return -1;
	}
	int r = fmt->load(ctx, &f);
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
