/* decompress.c - host-side decompression with Debian's libraries.
 *
 * Each decoder runs over the whole input in memory and writes into one
 * growing buffer that never exceeds the caller's limit.  A decoder that
 * stops before its end-of-stream with the input used up means truncated
 * input; a library error means corrupt input.  Both are nb_err().
 *
 * Linux's LZ4 format (lib/decompress_unlz4.c, the `lz4 -l` legacy frame):
 * magic 0x184C2102, then blocks of [le32 compressed size][data], each at most
 * 8 MiB once decompressed; the magic may repeat (concatenated archives), and
 * the kernel's build appends a le32 of the uncompressed size (size_append),
 * which a decoder must tell apart from a block header.
 */
#include "boot/decompress.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/decomp_dl.h" /* the libraries, loaded on first use */
#include "util/err.h"

#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20) /* LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE */
/* Decoder memory follows the caller's output limit (for a kernel: the
 * guest's RAM), so a hostile header cannot make the host allocate more than
 * the guest could ever hold: a dictionary or window larger than all of the
 * output is never needed.  The floor keeps what real kernels use whatever
 * the limit: xz/lzma -9 dictionaries (64 MiB), zstd -22 windows (2^27). */
#define DECODER_MEM_FLOOR (64ull << 20)
#define DECODER_MEM_MAX (1ull << 30)
#define ZSTD_WINDOWLOG_FLOOR 27
#define ZSTD_WINDOWLOG_MAX 30

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum decompress_format decompress_detect(const uint8_t *d, size_t n)
{
	if (!d)
		return DECOMPRESS_UNKNOWN;
	if (n >= 2 && d[0] == 0x1F && (d[1] == 0x8B || d[1] == 0x9E))
		return DECOMPRESS_GZIP;
	if (n >= 6 && memcmp(d, "\xFD" "7zXZ\0", 6) == 0)
		return DECOMPRESS_XZ;
	if (n >= 4 && rd32(d) == 0xFD2FB528u)
		return DECOMPRESS_ZSTD;
	if (n >= 4 && rd32(d) == LZ4_LEGACY_MAGIC)
		return DECOMPRESS_LZ4;
	if (n >= 3 && d[0] == 'B' && d[1] == 'Z' && d[2] == 'h')
		return DECOMPRESS_BZIP2;
	if (n >= 4 && memcmp(d, "\x89LZO", 4) == 0)
		return DECOMPRESS_LZO;
	/* lzma_alone: properties byte 0x5D (lc=3 lp=0 pb=2) and a dictionary
	 * size whose low byte is 0, as lib/decompress.c matches it */
	if (n >= 13 && d[0] == 0x5D && d[1] == 0x00)
		return DECOMPRESS_LZMA;
	return DECOMPRESS_UNKNOWN;
}

const char *decompress_name(enum decompress_format fmt)
{
	switch (fmt) {
	case DECOMPRESS_GZIP: return "gzip";
	case DECOMPRESS_XZ: return "xz";
	case DECOMPRESS_LZMA: return "lzma";
	case DECOMPRESS_ZSTD: return "zstd";
	case DECOMPRESS_LZ4: return "lz4";
	case DECOMPRESS_BZIP2: return "bzip2";
	case DECOMPRESS_LZO: return "lzo";
	default: return "unknown";
	}
}

int decompress_supported(enum decompress_format fmt)
{
	return fmt != DECOMPRESS_UNKNOWN && fmt != DECOMPRESS_LZO;
}

/* The output buffer: p[0..len) filled, cap allocated, never above limit. */
struct outbuf {
	const char *what;
	uint8_t *p;
	size_t len, cap, limit;
};

/* Make room for at least one more byte (want: bytes we would like); 0 or
 * -1 when the limit is reached (the output would exceed it). */
static int out_grow(struct outbuf *o, size_t want)
{
	if (o->cap - o->len >= want && o->cap > o->len)
		return 0;
	if (o->len >= o->limit)
		return nb_err("%s: decompressed data exceeds %zu bytes (the limit: %zu MiB)",
			      o->what, o->limit, o->limit >> 20);
	size_t cap = o->cap ? o->cap : 65536;
	while (cap - o->len < want && cap < o->limit)
		cap = cap > o->limit / 2 ? o->limit : cap * 2;
	if (cap <= o->len)
		cap = o->len + 1;
	if (cap > o->limit)
		cap = o->limit;
	uint8_t *p = realloc(o->p, cap);
	if (!p)
		return nb_err_internal("%s: out of memory for %zu decompressed bytes", o->what, cap);
	o->p = p;
	o->cap = cap;
	return 0;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static int dec_gzip(struct outbuf *o, const uint8_t *in, size_t inlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inlen > UINT_MAX)
		return nb_err("%s: gzip input too large", o->what);
	/* 16 + MAX_WBITS: gzip wrapper (header and CRC32/ISIZE trailer) */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return nb_err_internal("%s: zlib initialisation failed", o->what);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	int rc = -1;
	for (;;) {
		if (out_grow(o, 1 << 20) < 0)
			break;
		size_t room = min_sz(o->cap - o->len, UINT_MAX);
		z.next_out = o->p + o->len;
		z.avail_out = (uInt)room;
		int r = inflate(&z, Z_NO_FLUSH);
		o->len += room - z.avail_out;
		if (r == Z_STREAM_END) {
			rc = 0;
			break;
		}
		if (r == Z_OK)
			continue;
		if (r == Z_BUF_ERROR && z.avail_out == 0)
			continue; /* needs more room */
		if (r == Z_BUF_ERROR)
			nb_err("%s: gzip data is truncated (%zu bytes in, %zu out)", o->what, inlen,
			       o->len);
		else if (r == Z_MEM_ERROR)
			nb_err_internal("%s: zlib out of memory", o->what);
		else
			nb_err("%s: corrupt gzip data: %s", o->what, z.msg ? z.msg : "inflate error");
		break;
	}
	inflateEnd(&z);
	return rc;
}

/* Decoder memory allowed for an output limit (see DECODER_MEM_FLOOR). */
static uint64_t decoder_mem(size_t limit)
{
	uint64_t m = limit < DECODER_MEM_FLOOR ? DECODER_MEM_FLOOR : limit;
	return m > DECODER_MEM_MAX ? DECODER_MEM_MAX : m;
}

static int dec_lzma(struct outbuf *o, const uint8_t *in, size_t inlen, bool alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	const char *name = alone ? "lzma" : "xz";
	uint64_t memlimit = decoder_mem(o->limit);
	lzma_ret r = alone ? lzma_alone_decoder(&s, memlimit)
			   : lzma_stream_decoder(&s, memlimit, 0);
	if (r != LZMA_OK)
		return nb_err_internal("%s: liblzma initialisation failed (%d)", o->what, r);
	s.next_in = in;
	s.avail_in = inlen;
	int rc = -1;
	for (;;) {
		if (out_grow(o, 1 << 20) < 0)
			break;
		size_t room = o->cap - o->len;
		s.next_out = o->p + o->len;
		s.avail_out = room;
		r = lzma_code(&s, LZMA_FINISH);
		o->len += room - s.avail_out;
		if (r == LZMA_STREAM_END) {
			rc = 0;
			break;
		}
		if (r == LZMA_OK)
			continue;
		if (r == LZMA_BUF_ERROR && s.avail_out == 0)
			continue;
		switch (r) {
		case LZMA_BUF_ERROR:
			nb_err("%s: %s data is truncated (%zu bytes in, %zu out)", o->what, name,
			       inlen, o->len);
			break;
		case LZMA_MEM_ERROR:
			nb_err_internal("%s: liblzma out of memory", o->what);
			break;
		case LZMA_MEMLIMIT_ERROR:
			nb_err("%s: %s data needs more than %llu MiB of decoder memory (at most "
			       "the output limit of %zu MiB, at least %llu MiB)", o->what, name,
			       (unsigned long long)(memlimit >> 20), o->limit >> 20,
			       DECODER_MEM_FLOOR >> 20);
			break;
		case LZMA_FORMAT_ERROR:
			nb_err("%s: not valid %s data (bad header)", o->what, name);
			break;
		case LZMA_OPTIONS_ERROR:
			nb_err("%s: unsupported %s options", o->what, name);
			break;
		default:
			nb_err("%s: corrupt %s data (liblzma error %d)", o->what, name, r);
			break;
		}
		break;
	}
	lzma_end(&s);
	return rc;
}

static int dec_zstd(struct outbuf *o, const uint8_t *in, size_t inlen)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return nb_err_internal("%s: libzstd initialisation failed", o->what);
	/* Linux builds with zstd -22 --ultra: window up to 2^27; allow up to
	 * the output limit (see DECODER_MEM_FLOOR), never the 2^31 a hostile
	 * header could ask for */
	int wlog = ZSTD_WINDOWLOG_FLOOR;
	while (wlog < ZSTD_WINDOWLOG_MAX && (1ull << wlog) < decoder_mem(o->limit))
		wlog++;
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, wlog);
	ZSTD_inBuffer ib = { in, inlen, 0 };
	int rc = -1;
	for (;;) {
		if (out_grow(o, 1 << 20) < 0)
			break;
		ZSTD_outBuffer ob = { o->p + o->len, o->cap - o->len, 0 };
		size_t r = ZSTD_decompressStream(d, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(r)) {
			nb_err("%s: corrupt zstd data: %s (windows up to 2^%d bytes are accepted "
			       "here)", o->what, ZSTD_getErrorName(r), wlog);
			break;
		}
		if (r == 0) { /* frame complete and flushed */
			rc = 0;
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size) {
			nb_err("%s: zstd data is truncated (%zu bytes in, %zu out)", o->what, inlen,
			       o->len);
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return rc;
}

static int dec_lz4(struct outbuf *o, const uint8_t *in, size_t inlen)
{
	size_t pos = 4; /* magic checked by detect */
	size_t max_block = (size_t)LZ4_COMPRESSBOUND(LZ4_LEGACY_BLOCK);
	bool any = false;
	for (;;) {
		size_t left = inlen - pos;
		if (left == 0)
			break;
		if (left < 4)
			return nb_err("%s: lz4 data is truncated (%zu stray bytes at the end)",
				      o->what, left);
		uint32_t csize = rd32(in + pos);
		if (csize == LZ4_LEGACY_MAGIC) { /* concatenated archive */
			pos += 4;
			continue;
		}
		/* four bytes that cannot start a block: the kernel's size trailer */
		if (left == 4 && any)
			break;
		if (csize == 0 || csize > max_block)
			return nb_err("%s: corrupt lz4 data: block size %u at offset %zu", o->what,
				      csize, pos);
		if (csize > left - 4)
			return nb_err("%s: lz4 data is truncated (block of %u bytes at offset %zu, "
				      "%zu bytes left)", o->what, csize, pos, left - 4);
		pos += 4;
		if (out_grow(o, LZ4_LEGACY_BLOCK) < 0)
			return -1;
		size_t room = min_sz(o->cap - o->len, LZ4_LEGACY_BLOCK);
		int n = LZ4_decompress_safe((const char *)in + pos, (char *)o->p + o->len,
					    (int)csize, (int)room);
		if (n < 0)
			return nb_err("%s: corrupt lz4 block at offset %zu (or its output exceeds "
				      "%zu bytes)", o->what, pos - 4, o->len + room);
		o->len += (size_t)n;
		pos += csize;
		any = true;
	}
	if (!any)
		return nb_err("%s: lz4 data has no blocks", o->what);
	return 0;
}

static int dec_bzip2(struct outbuf *o, const uint8_t *in, size_t inlen)
{
	bz_stream b;
	memset(&b, 0, sizeof(b));
	if (inlen > UINT_MAX)
		return nb_err("%s: bzip2 input too large", o->what);
	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return nb_err_internal("%s: libbz2 initialisation failed", o->what);
	b.next_in = (char *)in;
	b.avail_in = (unsigned)inlen;
	int rc = -1;
	for (;;) {
		if (out_grow(o, 1 << 20) < 0)
			break;
		size_t room = min_sz(o->cap - o->len, UINT_MAX);
		b.next_out = (char *)o->p + o->len;
		b.avail_out = (unsigned)room;
		int r = BZ2_bzDecompress(&b);
		o->len += room - b.avail_out;
		if (r == BZ_STREAM_END) {
			rc = 0;
			break;
		}
		if (r == BZ_OK) {
			if (b.avail_in == 0 && b.avail_out > 0) {
				nb_err("%s: bzip2 data is truncated (%zu bytes in, %zu out)", o->what,
				       inlen, o->len);
				break;
			}
			continue;
		}
		if (r == BZ_MEM_ERROR)
			nb_err_internal("%s: libbz2 out of memory", o->what);
		else
			nb_err("%s: corrupt bzip2 data (libbz2 error %d)", o->what, r);
		break;
	}
	BZ2_bzDecompressEnd(&b);
	return rc;
}

int decompress_buffer(const char *what, const uint8_t *in, size_t inlen, size_t limit,
		      size_t size_hint, uint8_t **out, size_t *outlen, double *ms)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*out = NULL;
	*outlen = 0;
	if (!what)
		what = "input";
	enum decompress_format fmt = decompress_detect(in, inlen);
	if (!decompress_supported(fmt))
		return nb_err("%s: %s compression is not supported", what,
			      fmt == DECOMPRESS_UNKNOWN ? "unknown" : decompress_name(fmt));
	if (limit == 0)
		return nb_err("%s: no room for decompressed data", what);
	static const enum decomp_lib lib_of[] = {
		[DECOMPRESS_GZIP] = DECOMP_ZLIB, [DECOMPRESS_XZ] = DECOMP_LZMA,
		[DECOMPRESS_LZMA] = DECOMP_LZMA, [DECOMPRESS_ZSTD] = DECOMP_ZSTD,
		[DECOMPRESS_LZ4] = DECOMP_LZ4,   [DECOMPRESS_BZIP2] = DECOMP_BZ2,
	};
	if ((size_t)fmt < sizeof(lib_of) / sizeof(lib_of[0]) && decomp_dl_load(lib_of[fmt]) < 0) {
		nb_err_prefix("%s", what);
		return -1;
	}

	struct outbuf o = { .what = what, .limit = limit };
	if (size_hint) {
		/* presize to the expected size; one spare byte lets the decoder
		 * show it has nothing more without a reallocation */
		o.cap = min_sz(size_hint < SIZE_MAX ? size_hint + 1 : size_hint, limit);
		o.p = malloc(o.cap);
		if (!o.p)
			return nb_err_internal("%s: out of memory for %zu bytes", what, o.cap);
	}
	int r;
	switch (fmt) {
	case DECOMPRESS_GZIP: r = dec_gzip(&o, in, inlen); break;
	case DECOMPRESS_XZ: r = dec_lzma(&o, in, inlen, false); break;
	case DECOMPRESS_LZMA: r = dec_lzma(&o, in, inlen, true); break;
	case DECOMPRESS_ZSTD: r = dec_zstd(&o, in, inlen); break;
	case DECOMPRESS_LZ4: r = dec_lz4(&o, in, inlen); break;
	case DECOMPRESS_BZIP2: r = dec_bzip2(&o, in, inlen); break;
	default: r = nb_err("%s: unsupported compression", what); break;
	}
	if (r < 0) {
		free(o.p);
		return -1;
	}
	if (o.len == 0) {
		free(o.p);
		return nb_err("%s: %s data decompresses to nothing", what, decompress_name(fmt));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ms)
		*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	*out = o.p;
	*outlen = o.len;
	return 0;
}
