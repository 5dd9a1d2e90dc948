/* decomp_dl.c - load a decompression library on first use (decomp_dl.h). */
#include "boot/decomp_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "util/dlprobe.h"
#include "util/err.h"

struct decomp_dl decomp_dl;

#define SLOT(f) { offsetof(struct decomp_dl, f), #f }
struct sym { size_t off; const char *name; };

static const struct lib {
	const char *soname;     /* Debian 12's run-time package ships these */
	const char *package;
	const char *version_fn; /* `const char *f(void)`, for --version -v */
	const char *purpose;
	struct sym syms[6];
} libs[DECOMP_NLIBS] = {
	[DECOMP_ZLIB] = { "libz.so.1", "zlib1g", "zlibVersion", "gzip-compressed kernels",
			  { SLOT(inflateInit2_), SLOT(inflate), SLOT(inflateEnd) } },
	[DECOMP_LZMA] = { "liblzma.so.5", "liblzma5", "lzma_version_string",
			  "xz- and lzma-compressed kernels",
			  { SLOT(lzma_stream_decoder), SLOT(lzma_alone_decoder), SLOT(lzma_code),
			    SLOT(lzma_end) } },
	[DECOMP_ZSTD] = { "libzstd.so.1", "libzstd1", "ZSTD_versionString", "zstd-compressed kernels",
			  { SLOT(ZSTD_createDCtx), SLOT(ZSTD_decompressStream), SLOT(ZSTD_freeDCtx),
			    SLOT(ZSTD_DCtx_setParameter), SLOT(ZSTD_isError), SLOT(ZSTD_getErrorName) } },
	[DECOMP_LZ4] = { "liblz4.so.1", "liblz4-1", "LZ4_versionString", "lz4-compressed kernels",
			 { SLOT(LZ4_decompress_safe) } },
	[DECOMP_BZ2] = { "libbz2.so.1.0", "libbz2-1.0", "BZ2_bzlibVersion",
			 "bzip2-compressed kernels",
			 { SLOT(BZ2_bzDecompressInit), SLOT(BZ2_bzDecompress),
			   SLOT(BZ2_bzDecompressEnd) } },
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static signed char loaded[DECOMP_NLIBS]; /* 0 not tried, 1 ok, -1 failed */

int decomp_dl_load(enum decomp_lib lib)
{
	if ((unsigned)lib >= DECOMP_NLIBS)
		return nb_err_internal("decomp_dl_load: bad library %d", (int)lib);
	const struct lib *l = &libs[lib];
	pthread_mutex_lock(&lock);
	if (loaded[lib] == 0) {
		void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
		loaded[lib] = h ? 1 : -1;
		for (size_t i = 0; h && i < sizeof(l->syms) / sizeof(l->syms[0]) && l->syms[i].name; i++) {
			void *p = dlsym(h, l->syms[i].name);
			if (!p) {
				loaded[lib] = -1;
				break;
			}
			*(void **)((char *)&decomp_dl + l->syms[i].off) = p;
		}
	}
	int ok = loaded[lib] == 1;
	pthread_mutex_unlock(&lock);
	if (!ok)
		return nb_err("cannot load %s to decompress the kernel (install Debian's %s)",
			      l->soname, l->package);
	return 0;
}

unsigned decomp_dl_probe(struct dl_probe *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DECOMP_NLIBS && n < max; i++, n++) {
		struct dl_probe *p = &out[n];
		p->soname = libs[i].soname;
		p->package = libs[i].package;
		p->purpose = libs[i].purpose;
		void *h = dl_probe_open(p);
		if (h)
			dl_probe_version_string(p, h, libs[i].version_fn);
		dl_probe_close(h);
	}
	return n;
}
