/* test_decompress.c - every decompressor: round trip with data compressed
 * here by the same libraries, trailing size bytes ignored, corrupt and
 * truncated input rejected, output bounded by the limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/decompress.h"
#include "util/err.h"

#define DATA_SIZE (3u << 19) /* > the 1 MiB growth step, two LZ4 blocks */

static uint8_t *data;

/* Compressible but not trivial: words chosen by an LCG. */
static void make_data(void)
{
	static const char *const words[] = { "kernel ", "boot ", "zero page ", "e820 ",
					     "initrd ", "\n", "0x1000000 ", "startup_64 " };
	data = malloc(DATA_SIZE);
	assert_non_null(data);
	uint32_t x = 12345;
	size_t n = 0;
	while (n < DATA_SIZE) {
		x = x * 1103515245u + 12345u;
		const char *w = words[(x >> 16) & 7];
		if ((x >> 8) % 7 == 0) { /* some incompressible bytes */
			data[n++] = (uint8_t)(x >> 24);
			continue;
		}
		for (size_t i = 0; w[i] && n < DATA_SIZE; i++)
			data[n++] = (uint8_t)w[i];
	}
}

struct blob {
	uint8_t *p;
	size_t n;
};

/* Append Linux's size_append trailer (le32 of the uncompressed size). */
static void add_trailer(struct blob *b, uint32_t size)
{
	b->p = realloc(b->p, b->n + 4);
	for (int i = 0; i < 4; i++)
		b->p[b->n + i] = (uint8_t)(size >> (8 * i));
	b->n += 4;
}

static struct blob c_gzip(const uint8_t *in, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	struct blob b = { malloc(deflateBound(&z, n)), 0 };
	z.next_in = (Bytef *)in;
	z.avail_in = n;
	z.next_out = b.p;
	z.avail_out = deflateBound(&z, n);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	b.n = z.total_out;
	deflateEnd(&z);
	return b;
}

static struct blob c_xz(const uint8_t *in, size_t n)
{
	struct blob b = { malloc(lzma_stream_buffer_bound(n)), 0 };
	/* CRC32 like the kernel's xz_wrap.sh */
	assert_int_equal(lzma_easy_buffer_encode(2, LZMA_CHECK_CRC32, NULL, in, n, b.p, &b.n,
						 lzma_stream_buffer_bound(n)), LZMA_OK);
	return b;
}

static struct blob c_lzma(const uint8_t *in, size_t n)
{
	lzma_options_lzma opt;
	lzma_lzma_preset(&opt, 2);
	lzma_stream s = LZMA_STREAM_INIT;
	assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
	size_t cap = n + n / 2 + 4096;
	struct blob b = { malloc(cap), 0 };
	s.next_in = in;
	s.avail_in = n;
	s.next_out = b.p;
	s.avail_out = cap;
	assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	b.n = s.total_out;
	lzma_end(&s);
	return b;
}

static struct blob c_zstd(const uint8_t *in, size_t n)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	/* the zstd CLI (as the kernel build runs it) writes a checksum */
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	struct blob b = { malloc(ZSTD_compressBound(n)), 0 };
	b.n = ZSTD_compress2(c, b.p, ZSTD_compressBound(n), in, n);
	assert_false(ZSTD_isError(b.n));
	ZSTD_freeCCtx(c);
	return b;
}

/* Linux's legacy LZ4 frame with blocks of `block` bytes (<= 8 MiB);
 * repeat_magic inserts a second magic (a concatenated archive) midway. */
static struct blob c_lz4_blocks(const uint8_t *in, size_t n, size_t block, int repeat_magic)
{
	size_t cap = 8 + (n / block + 2) * (LZ4_compressBound((int)block) + 8);
	struct blob b = { malloc(cap), 0 };
	static const uint8_t magic[4] = { 0x02, 0x21, 0x4C, 0x18 };
	memcpy(b.p, magic, 4);
	b.n = 4;
	for (size_t off = 0, k = 0; off < n; off += block, k++) {
		if (repeat_magic && k == 1) {
			memcpy(b.p + b.n, magic, 4);
			b.n += 4;
		}
		size_t len = n - off < block ? n - off : block;
		int c = LZ4_compress_default((const char *)in + off, (char *)b.p + b.n + 4, (int)len,
					     LZ4_compressBound((int)len));
		assert_true(c > 0);
		for (int i = 0; i < 4; i++)
			b.p[b.n + i] = (uint8_t)((unsigned)c >> (8 * i));
		b.n += 4 + (size_t)c;
	}
	return b;
}

static struct blob c_lz4(const uint8_t *in, size_t n) { return c_lz4_blocks(in, n, 1u << 20, 0); }

static struct blob c_bzip2(const uint8_t *in, size_t n)
{
	unsigned cap = n + n / 100 + 600;
	struct blob b = { malloc(cap), 0 };
	assert_int_equal(BZ2_bzBuffToBuffCompress((char *)b.p, &cap, (char *)in, n, 9, 0, 0),
			 BZ_OK);
	b.n = cap;
	return b;
}

typedef struct blob (*compress_fn)(const uint8_t *, size_t);

struct codec {
	const char *name;
	enum decompress_format fmt;
	compress_fn fn;
};

static const struct codec codecs_[] = {
	{ "gzip", DECOMPRESS_GZIP, c_gzip },   { "xz", DECOMPRESS_XZ, c_xz },
	{ "lzma", DECOMPRESS_LZMA, c_lzma },   { "zstd", DECOMPRESS_ZSTD, c_zstd },
	{ "lz4", DECOMPRESS_LZ4, c_lz4 },      { "bzip2", DECOMPRESS_BZIP2, c_bzip2 },
};

#define NCODECS (sizeof(codecs_) / sizeof(codecs_[0]))
/* Each codec's output for data, compressed once (compression is the slow
 * part under ASan); tests work on copies. */
static struct blob cached[NCODECS];
static struct codec codecs[NCODECS];

static struct blob cached_copy(size_t i)
{
	struct blob b = { malloc(cached[i].n), cached[i].n };
	memcpy(b.p, cached[i].p, b.n);
	return b;
}

static int setup(void **state)
{
	make_data();
	for (size_t i = 0; i < NCODECS; i++) {
		codecs[i] = codecs_[i];
		cached[i] = codecs[i].fn(data, DATA_SIZE);
	}
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < NCODECS; i++)
		free(cached[i].p);
	free(data);
	return 0;
}

static void round_trip(size_t ci, size_t hint, int trailer)
{
	const struct codec *c = &codecs[ci];
	struct blob b = cached_copy(ci);
	if (trailer)
		add_trailer(&b, DATA_SIZE);
	assert_int_equal(decompress_detect(b.p, b.n), c->fmt);
	assert_string_equal(decompress_name(decompress_detect(b.p, b.n)), c->name);
	uint8_t *out = NULL;
	size_t outlen = 0;
	double ms = -1;
	int r = decompress_buffer(c->name, b.p, b.n, 64u << 20, hint, &out, &outlen, &ms);
	if (r < 0)
		fail_msg("%s: %s", c->name, nb_errmsg());
	assert_int_equal(outlen, DATA_SIZE);
	assert_memory_equal(out, data, DATA_SIZE);
	assert_true(ms >= 0);
	free(out);
	free(b.p);
}

static void test_round_trip(void **state)
{
	for (size_t i = 0; i < NCODECS; i++) {
		round_trip(i, 0, 0);
		round_trip(i, DATA_SIZE, 1); /* as a bzImage payload */
		round_trip(i, 1000, 1);      /* a wrong hint only costs reallocs */
	}
}

static void expect_fail(const char *name, const uint8_t *p, size_t n, size_t limit,
			const char *msg_part)
{
	uint8_t *out = (uint8_t *)1;
	size_t outlen = 99;
	nb_err_clear();
	int r = decompress_buffer(name, p, n, limit, 0, &out, &outlen, NULL);
	if (r == 0)
		fail_msg("%s: bad input decompressed (%zu bytes) instead of failing", name, outlen);
	assert_int_equal(r, -1);
	assert_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	assert_non_null(strstr(nb_errmsg(), name));
	if (msg_part && !strstr(nb_errmsg(), msg_part))
		fail_msg("%s: message '%s' lacks '%s'", name, nb_errmsg(), msg_part);
}

static void test_truncated(void **state)
{
	for (size_t i = 0; i < NCODECS; i++) {
		struct blob b = cached_copy(i);
		/* cut in the middle, and just before the end */
		expect_fail(codecs[i].name, b.p, b.n / 2, 64u << 20, NULL);
		expect_fail(codecs[i].name, b.p, b.n - 3, 64u << 20, NULL);
		free(b.p);
	}
}

static void test_corrupt(void **state)
{
	for (size_t i = 0; i < NCODECS; i++) {
		struct blob b = cached_copy(i);
		/* overwrite the second half of the stream (past the headers) */
		size_t from = b.n / 2;
		memset(b.p + from, 0xFF, b.n - from);
		expect_fail(codecs[i].name, b.p, b.n, 64u << 20, NULL);
		/* and garbage right after the magic */
		struct blob g = cached_copy(i);
		for (size_t k = 6; k < 64 && k < g.n; k++)
			g.p[k] ^= 0xA5;
		expect_fail(codecs[i].name, g.p, g.n, 64u << 20, NULL);
		free(g.p);
		free(b.p);
	}
}

static void test_limit(void **state)
{
	for (size_t i = 0; i < NCODECS; i++) {
		struct blob b = cached_copy(i);
		expect_fail(codecs[i].name, b.p, b.n, DATA_SIZE / 3, NULL);
		free(b.p);
	}
}

static void test_lz4_linux_frame(void **state)
{
	/* 8 MiB blocks as Linux writes them, a repeated magic, the trailer */
	size_t n = DATA_SIZE;
	struct blob b = c_lz4_blocks(data, n, 1u << 20, 1);
	add_trailer(&b, (uint32_t)n);
	uint8_t *out;
	size_t outlen;
	assert_int_equal(decompress_buffer("lz4", b.p, b.n, 64u << 20, n, &out, &outlen, NULL), 0);
	assert_int_equal(outlen, n);
	assert_memory_equal(out, data, n);
	free(out);
	/* a block header larger than LZ4's bound is corruption, not a read */
	b.p[4] = 0xFF, b.p[5] = 0xFF, b.p[6] = 0xFF, b.p[7] = 0x7F;
	expect_fail("lz4", b.p, b.n, 64u << 20, "block size");
	/* a stray 1-3 bytes after the last block: truncated */
	struct blob c = c_lz4_blocks(data, 1000, 1u << 20, 0);
	c.p = realloc(c.p, c.n + 2);
	c.p[c.n] = 1, c.p[c.n + 1] = 2;
	expect_fail("lz4", c.p, c.n + 2, 64u << 20, "truncated");
	/* magic only: no blocks */
	expect_fail("lz4", c.p, 4, 64u << 20, "no blocks");
	free(c.p);
	free(b.p);
}

/* Issue 14 item 7: a header asking for a huge dictionary or window made
 * the host reserve up to 1 GiB of decoder memory whatever the output limit
 * (the guest's RAM).  Now the decoders' memory is bounded by the limit (at
 * least 64 MiB): such a header is an input error naming the bound. */
static void test_decoder_memory_bounded(void **state)
{
	size_t n = 4096;
	/* .lzma: the dictionary size is a plain le32 at offset 1 */
	struct blob b = c_lzma(data, n);
	b.p[1] = 0, b.p[2] = 0, b.p[3] = 0, b.p[4] = 0x3F; /* 1008 MiB */
	expect_fail("lzma", b.p, b.n, 64u << 20, "decoder memory");
	assert_int_equal(nb_errclass(), NB_ERR_INPUT);
	/* the same stream decodes where the limit allows its dictionary */
	uint8_t *out;
	size_t outlen;
	b.p[4] = 0x01; /* 16 MiB */
	assert_int_equal(decompress_buffer("lzma", b.p, b.n, 64u << 20, 0, &out, &outlen, NULL), 0);
	assert_int_equal(outlen, n);
	free(out);
	free(b.p);

	/* zstd: a frame without a content size carries a window descriptor
	 * right after its header byte; 0xA0 asks for a 2^30-byte window */
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	struct blob z = { malloc(ZSTD_compressBound(n)), 0 };
	z.n = ZSTD_compress2(c, z.p, ZSTD_compressBound(n), data, n);
	assert_false(ZSTD_isError(z.n));
	ZSTD_freeCCtx(c);
	assert_int_equal(z.p[4] & 0x20, 0); /* Single_Segment clear: descriptor present */
	z.p[5] = 0xA0;
	expect_fail("zstd", z.p, z.n, 64u << 20, "2^27");
	free(z.p);
}

static void test_unknown_and_empty(void **state)
{
	static const uint8_t junk[16] = "not compressed!";
	assert_int_equal(decompress_detect(junk, sizeof(junk)), DECOMPRESS_UNKNOWN);
	expect_fail("junk", junk, sizeof(junk), 1 << 20, "not supported");
	expect_fail("empty", junk, 0, 1 << 20, NULL);
	static const uint8_t lzo[8] = { 0x89, 'L', 'Z', 'O', 0, 0x0D, 0x0A, 0x1A };
	assert_int_equal(decompress_detect(lzo, sizeof(lzo)), DECOMPRESS_LZO);
	assert_false(decompress_supported(DECOMPRESS_LZO));
	expect_fail("lzo", lzo, sizeof(lzo), 1 << 20, "lzo");
	/* magics alone: short headers are truncated input */
	static const uint8_t gz[2] = { 0x1F, 0x8B };
	expect_fail("gzmagic", gz, 2, 1 << 20, NULL);
	static const uint8_t zs[4] = { 0x28, 0xB5, 0x2F, 0xFD };
	expect_fail("zstdmagic", zs, 4, 1 << 20, NULL);
	static const uint8_t xz[6] = { 0xFD, '7', 'z', 'X', 'Z', 0 };
	expect_fail("xzmagic", xz, 6, 1 << 20, NULL);
	static const uint8_t bz[4] = { 'B', 'Z', 'h', '9' };
	expect_fail("bzmagic", bz, 4, 1 << 20, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_lz4_linux_frame),
		cmocka_unit_test(test_decoder_memory_bounded),
		cmocka_unit_test(test_unknown_and_empty),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
