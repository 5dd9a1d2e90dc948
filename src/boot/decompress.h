/* decompress.h - host-side decompression of kernel payloads (a bzImage's
 * compressed vmlinux, compressed initrds) with Debian's libraries: zlib,
 * liblzma (xz and legacy .lzma), libzstd, liblz4 (Linux's legacy LZ4 frame)
 * and libbz2.  The format is detected by its magic; the output size is
 * bounded by the caller; corrupt or truncated input is an error (nb_err),
 * never a crash. */
#ifndef NOBIOS_BOOT_DECOMPRESS_H
#define NOBIOS_BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum decompress_format {
	DECOMPRESS_UNKNOWN = 0,
	DECOMPRESS_GZIP,  /* 1F 8B */
	DECOMPRESS_XZ,    /* FD 37 7A 58 5A 00 */
	DECOMPRESS_LZMA,  /* legacy .lzma (lzma_alone): 5D 00 00 ... */
	DECOMPRESS_ZSTD,  /* 28 B5 2F FD */
	DECOMPRESS_LZ4,   /* legacy frame 02 21 4C 18 (lz4 -l, Linux's format) */
	DECOMPRESS_BZIP2, /* "BZh" */
	DECOMPRESS_LZO,   /* 89 4C 5A 4F: detected, not supported */
};

/* The format of data by its magic (DECOMPRESS_UNKNOWN if none). */
enum decompress_format decompress_detect(const uint8_t *data, size_t size);
const char *decompress_name(enum decompress_format fmt);
/* 1 if nobios can decompress this format. */
int decompress_supported(enum decompress_format fmt);

/* Decompress one stream of in[0..inlen) (trailing bytes after the stream,
 * such as the 4-byte size Linux appends, are ignored).  *out is malloc'ed
 * (caller frees), *outlen its length; at most `limit` bytes are produced,
 * more is an error; the decoders' own memory (LZMA dictionary, zstd window)
 * is bounded by the limit too (at least 64 MiB, at most 1 GiB), so a hostile
 * header cannot make the host allocate more than the caller allows.
 * size_hint (0 = unknown; at most limit is used) presizes the buffer.  what
 * names the input in errors ("vmlinuz: payload").  ms (may be NULL) gets
 * the wall time spent.  0 or -1 with nb_err(). */
int decompress_buffer(const char *what, const uint8_t *in, size_t inlen, size_t limit,
		      size_t size_hint, uint8_t **out, size_t *outlen, double *ms);

#endif
