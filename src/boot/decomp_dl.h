/* decomp_dl.h - the decompression libraries, each loaded when a payload of
 * its format is first seen.  Most boots need none of them (or one), and
 * linking all five costs every start their relocations and ~330 KiB of RSS.
 * Include this instead of the libraries' headers; decomp_dl_load(LIB)
 * before the first call. */
#ifndef NOBIOS_BOOT_DECOMP_DL_H
#define NOBIOS_BOOT_DECOMP_DL_H

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

enum decomp_lib { DECOMP_ZLIB, DECOMP_LZMA, DECOMP_ZSTD, DECOMP_LZ4, DECOMP_BZ2, DECOMP_NLIBS };

struct decomp_dl {
	int (*inflateInit2_)(z_streamp, int, const char *, int);
	int (*inflate)(z_streamp, int);
	int (*inflateEnd)(z_streamp);
	lzma_ret (*lzma_stream_decoder)(lzma_stream *, uint64_t, uint32_t);
	lzma_ret (*lzma_alone_decoder)(lzma_stream *, uint64_t);
	lzma_ret (*lzma_code)(lzma_stream *, lzma_action);
	void (*lzma_end)(lzma_stream *);
	ZSTD_DCtx *(*ZSTD_createDCtx)(void);
	size_t (*ZSTD_decompressStream)(ZSTD_DCtx *, ZSTD_outBuffer *, ZSTD_inBuffer *);
	size_t (*ZSTD_freeDCtx)(ZSTD_DCtx *);
	size_t (*ZSTD_DCtx_setParameter)(ZSTD_DCtx *, ZSTD_dParameter, int);
	unsigned (*ZSTD_isError)(size_t);
	const char *(*ZSTD_getErrorName)(size_t);
	int (*LZ4_decompress_safe)(const char *, char *, int, int);
	int (*BZ2_bzDecompressInit)(bz_stream *, int, int);
	int (*BZ2_bzDecompress)(bz_stream *);
	int (*BZ2_bzDecompressEnd)(bz_stream *);
};

extern struct decomp_dl decomp_dl;

/* Load one library and resolve its functions; 0, or -1 with nb_err(). */
int decomp_dl_load(enum decomp_lib lib);

struct dl_probe;
/* For `nobios --version -v`: ask the dynamic linker for each library
 * (found or not, where, its version); fills up to max entries, returns how
 * many.  Independent of decomp_dl_load()'s state. */
unsigned decomp_dl_probe(struct dl_probe *out, unsigned max);

#undef inflateInit2
#define inflateInit2(strm, wb) decomp_dl.inflateInit2_((strm), (wb), ZLIB_VERSION, (int)sizeof(z_stream))
#define inflate(...) decomp_dl.inflate(__VA_ARGS__)
#define inflateEnd(...) decomp_dl.inflateEnd(__VA_ARGS__)
#define lzma_stream_decoder(...) decomp_dl.lzma_stream_decoder(__VA_ARGS__)
#define lzma_alone_decoder(...) decomp_dl.lzma_alone_decoder(__VA_ARGS__)
#define lzma_code(...) decomp_dl.lzma_code(__VA_ARGS__)
#define lzma_end(...) decomp_dl.lzma_end(__VA_ARGS__)
#define ZSTD_createDCtx(...) decomp_dl.ZSTD_createDCtx(__VA_ARGS__)
#define ZSTD_decompressStream(...) decomp_dl.ZSTD_decompressStream(__VA_ARGS__)
#define ZSTD_freeDCtx(...) decomp_dl.ZSTD_freeDCtx(__VA_ARGS__)
#define ZSTD_DCtx_setParameter(...) decomp_dl.ZSTD_DCtx_setParameter(__VA_ARGS__)
#define ZSTD_isError(...) decomp_dl.ZSTD_isError(__VA_ARGS__)
#define ZSTD_getErrorName(...) decomp_dl.ZSTD_getErrorName(__VA_ARGS__)
#define LZ4_decompress_safe(...) decomp_dl.LZ4_decompress_safe(__VA_ARGS__)
#define BZ2_bzDecompressInit(...) decomp_dl.BZ2_bzDecompressInit(__VA_ARGS__)
#define BZ2_bzDecompress(...) decomp_dl.BZ2_bzDecompress(__VA_ARGS__)
#define BZ2_bzDecompressEnd(...) decomp_dl.BZ2_bzDecompressEnd(__VA_ARGS__)

#endif
