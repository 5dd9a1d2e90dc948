/* fuzz.h - what the libFuzzer harnesses share: an input cursor that hands
 * out integers and byte runs and yields zeros once the input is used up, so
 * every harness reads a fixed shape whatever the input's length. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f) { return f->n; }

/* Copy up to len bytes (zeros past the end); returns how many were real. */
static inline size_t fz_bytes(struct fz *f, void *out, size_t len)
{
	size_t k = len < f->n ? len : f->n;
	memcpy(out, f->p, k);
	memset((uint8_t *)out + k, 0, len - k);
	f->p += k;
	f->n -= k;
	return k;
}

static inline uint8_t fz_u8(struct fz *f) { uint8_t v; fz_bytes(f, &v, 1); return v; }
static inline uint16_t fz_u16(struct fz *f) { uint16_t v; fz_bytes(f, &v, 2); return v; }
static inline uint32_t fz_u32(struct fz *f) { uint32_t v; fz_bytes(f, &v, 4); return v; }
static inline uint64_t fz_u64(struct fz *f) { uint64_t v; fz_bytes(f, &v, 8); return v; }

#endif
