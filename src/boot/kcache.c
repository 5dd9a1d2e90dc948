/* kcache.c - on-disk cache of host-decompressed kernels (see kcache.h).
 *
 * SHA-256 is written from FIPS 180-4 (section 6.2) so nobios needs no
 * crypto library for a cache key. */
#include "boot/kcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SHA-256 (FIPS 180-4) */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
		uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] +
			      w[t];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void kcache_sha256(const uint8_t *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	size_t full = len & ~(size_t)63;
	for (size_t i = 0; i < full; i += 64)
		sha256_block(h, data + i);
	/* padding: 0x80, zeros, 64-bit big-endian bit length */
	uint8_t tail[128];
	size_t rest = len - full;
	memset(tail, 0, sizeof(tail));
	memcpy(tail, data + full, rest);
	tail[rest] = 0x80;
	size_t tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (size_t i = 0; i < tlen; i += 64)
		sha256_block(h, tail + i);
	for (int i = 0; i < 8; i++) {
		digest[4 * i] = (uint8_t)(h[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
		digest[4 * i + 3] = (uint8_t)h[i];
	}
}

void kcache_key(const uint8_t *image, size_t size, char key[2 * SHA256_DIGEST_SIZE + 1])
{
	uint8_t d[SHA256_DIGEST_SIZE];
	kcache_sha256(image, size, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(key + 2 * i, 3, "%02x", d[i]);
}

/* ---- the cache directory */

static int entry_path(char *buf, size_t len, const char *dir, const char *key)
{
	int n = snprintf(buf, len, "%s/vmlinux-%s.elf", dir, key);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int kcache_lookup(const char *dir, const char *key, size_t want_size, struct kcache_entry *e,
		  FILE *log)
{
	char path[4096];
	memset(e, 0, sizeof(*e));
	if (entry_path(path, sizeof(path), dir, key) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && log)
			fprintf(log, "nobios: cache: %s: %s\n", path, strerror(errno));
		return 0;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (want_size && (size_t)st.st_size != want_size)) {
		if (log)
			fprintf(log, "nobios: cache: %s has the wrong size; ignoring it\n", path);
		close(fd);
		return 0;
	}
	void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		if (log)
			fprintf(log, "nobios: cache: cannot map %s: %s\n", path, strerror(errno));
		return 0;
	}
	e->data = p;
	e->size = st.st_size;
	e->map_ = p;
	return 1;
}

void kcache_release(struct kcache_entry *e)
{
	if (e->map_)
		munmap(e->map_, e->size);
	memset(e, 0, sizeof(*e));
}

int kcache_store(const char *dir, const char *key, const uint8_t *data, size_t size, FILE *log)
{
	char path[4096], tmp[4096 + 16];
	if (entry_path(path, sizeof(path), dir, key) < 0)
		return -1;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		if (log)
			fprintf(log, "nobios: cache: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		if (log)
			fprintf(log, "nobios: cache: cannot write in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* readers only ever see a complete file: rename() is atomic */
	int ok = done == size && fchmod(fd, 0644) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		if (log)
			fprintf(log, "nobios: cache: cannot store %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
