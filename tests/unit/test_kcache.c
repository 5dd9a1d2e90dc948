/* test_kcache.c - the host-decompression cache: SHA-256 against FIPS 180-2's
 * test vectors, store/lookup round trip, misses on a wrong size or key, and
 * atomic stores (no temporary file left behind). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/kcache.h"

static void hex_of(const uint8_t *data, size_t len, char out[65])
{
	uint8_t d[SHA256_DIGEST_SIZE];
	kcache_sha256(data, len, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256_vectors(void **state)
{
	char h[65];
	hex_of((const uint8_t *)"", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of((const uint8_t *)"abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of((const uint8_t *)two, strlen(two), h); /* 56 bytes: padding spills a block */
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	uint8_t *a = malloc(1000000);
	memset(a, 'a', 1000000);
	hex_of(a, 1000000, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	char key[65];
	kcache_key(a, 1000000, key);
	assert_string_equal(key, h);
	free(a);
}

static void test_store_lookup(void **state)
{
	char dir[] = "/tmp/nobios-kcache-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[64];
	snprintf(sub, sizeof(sub), "%s/cache", dir); /* created by the store */
	static const uint8_t data[] = "\x7f" "ELF pretend kernel";
	const char *key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	struct kcache_entry e;
	assert_int_equal(kcache_lookup(sub, key, 0, &e, NULL), 0);
	assert_int_equal(kcache_store(sub, key, data, sizeof(data), NULL), 0);
	assert_int_equal(kcache_lookup(sub, key, sizeof(data), &e, NULL), 1);
	assert_int_equal(e.size, sizeof(data));
	assert_memory_equal(e.data, data, sizeof(data));
	kcache_release(&e);
	assert_int_equal(kcache_lookup(sub, key, sizeof(data) + 1, &e, NULL), 0); /* wrong size */
	assert_int_equal(kcache_lookup(sub, "ff", 0, &e, NULL), 0);               /* other key */
	/* only the entry itself is left: the temporary was renamed */
	DIR *d = opendir(sub);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			n++;
			assert_int_equal(strncmp(de->d_name, "vmlinux-0011", 12), 0);
			assert_null(strstr(de->d_name, ".elf."));
		}
	closedir(d);
	assert_int_equal(n, 1);
	/* an unwritable place: an error, no crash */
	assert_int_equal(kcache_store("/proc/nobios-no-such-dir", key, data, sizeof(data), NULL), -1);
	char path[256];
	snprintf(path, sizeof(path), "%s/vmlinux-%s.elf", sub, key);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_store_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
