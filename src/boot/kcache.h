/* kcache.h - on-disk cache of host-decompressed kernels (--cache-dir).
 *
 * A bzImage's decompressed vmlinux is stored as DIR/vmlinux-<sha256>.elf,
 * keyed by the SHA-256 of the whole image file, written atomically (a
 * temporary file renamed into place).  The cache is an optimisation only:
 * every failure is reported to the log and the caller decompresses. */
#ifndef NOBIOS_BOOT_KCACHE_H
#define NOBIOS_BOOT_KCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SHA256_DIGEST_SIZE 32

/* FIPS 180-4 SHA-256 of data[0..len). */
void kcache_sha256(const uint8_t *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

struct kcache_entry {
	const uint8_t *data; /* the cached kernel, read-only */
	size_t size;
	void *map_;          /* internal */
};

/* Key for image (hex SHA-256 into key, 65 bytes). */
void kcache_key(const uint8_t *image, size_t size, char key[2 * SHA256_DIGEST_SIZE + 1]);
/* 1 and *e filled if DIR holds key with exactly want_size bytes (0 = any
 * size), 0 if not (log says why when it is not a plain miss). */
int kcache_lookup(const char *dir, const char *key, size_t want_size, struct kcache_entry *e,
		  FILE *log);
void kcache_release(struct kcache_entry *e);
/* Store data under key, atomically; 0, or -1 with the reason in log. */
int kcache_store(const char *dir, const char *key, const uint8_t *data, size_t size, FILE *log);

#endif
