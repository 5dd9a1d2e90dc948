/* test_kmod.c - the modules `nobios exec` packs for 9p (src/exec/kmod.c):
 * the kernel's release from a bzImage header and from a vmlinux's "Linux
 * version" string; module lookup in a temporary modules directory
 * (modules.order, modules.builtin, depends= in each .ko), dependencies
 * before their users, built-in ones skipped, a compressed module
 * decompressed, what is missing named by its kernel option, a missing
 * dependency and a directory without modules.order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bz_fake.h"
#include "exec/kmod.h"
#include "util/err.h"

static char dir[64];

static void put(const char *rel, const void *data, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	for (char *s = p + strlen(dir) + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A fake module: some bytes, then .modinfo-like strings. */
static void ko(const char *rel, const char *depends)
{
	char b[256];
	size_t n = 0;
	memcpy(b, "\x7f" "ELF junk", 9);
	n = 9;
	b[n++] = 0;
	n += (size_t)sprintf(b + n, "license=GPL") + 1;
	n += (size_t)sprintf(b + n, "depends=%s", depends) + 1;
	put(rel, b, n);
}

static int setup(void **st)
{
	(void)st;
	strcpy(dir, "/tmp/nobios-kmod-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_release(void **st)
{
	(void)st;
	char rel[128], p[128];
	struct bz_fake_opts o = bz_fake_defaults();
	size_t n;
	uint8_t *bz = bz_fake_build(&o, &n);
	put("bzImage", bz, n);
	free(bz);
	snprintf(p, sizeof(p), "%s/bzImage", dir);
	assert_int_equal(kmod_release(p, rel, sizeof(rel)), 0);
	char want[128];
	snprintf(want, sizeof(want), "%s", BZ_FAKE_VERSION_STR);
	want[strcspn(want, " ")] = 0;
	assert_string_equal(rel, want);
	/* a vmlinux: the format string is skipped, the banner taken */
	static const char elf[] = "\x7f" "ELF....Linux version %s (%s)\0...Linux version "
				  "6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1\0";
	put("vmlinux", elf, sizeof(elf));
	snprintf(p, sizeof(p), "%s/vmlinux", dir);
	assert_int_equal(kmod_release(p, rel, sizeof(rel)), 0);
	assert_string_equal(rel, "6.1.0-57-amd64");
	put("none", "no banner here", 14);
	snprintf(p, sizeof(p), "%s/none", dir);
	assert_int_equal(kmod_release(p, rel, sizeof(rel)), -1);
	assert_non_null(strstr(nb_errmsg(), "none: no kernel release"));
}

static void test_find(void **st)
{
	(void)st;
	static const char order[] = "kernel/drivers/virtio/virtio_mmio.ko\n"
				    "kernel/net/9p/9pnet.ko\n"
				    "kernel/net/9p/9pnet_virtio.ko\n"
				    "kernel/fs/netfs/netfs.ko\n"
				    "kernel/fs/9p/9p.ko\n"
				    "kernel/drivers/net/dummy.ko\n";
	static const char builtin[] = "kernel/drivers/virtio/virtio.ko\n"
				      "kernel/fs/overlayfs/overlay.ko\n";
	put("modules.order", order, strlen(order));
	put("modules.builtin", builtin, strlen(builtin));
	ko("kernel/drivers/virtio/virtio_mmio.ko", "virtio");
	ko("kernel/net/9p/9pnet.ko", "");
	ko("kernel/net/9p/9pnet_virtio.ko", "9pnet,virtio");
	ko("kernel/fs/netfs/netfs.ko", "");
	ko("kernel/fs/9p/9p.ko", "9pnet,netfs");
	/* an installed tree may compress: 9p.ko.xz is found and decompressed */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "xz -z '%s/kernel/fs/9p/9p.ko'", dir);
	assert_int_equal(system(cmd), 0);
	struct kmod_set *k = calloc(1, sizeof(*k));
	assert_int_equal(kmod_find(dir, NULL, k), 0);
	assert_true(k->found);
	assert_int_equal(k->state[0], KMOD_MODULE);  /* virtio_mmio */
	assert_int_equal(k->state[1], KMOD_MODULE);  /* 9pnet_virtio */
	assert_int_equal(k->state[2], KMOD_MODULE);  /* 9p */
	assert_int_equal(k->state[3], KMOD_BUILTIN); /* overlay */
	static const char *const want[] = { "virtio_mmio", "9pnet", "9pnet_virtio", "netfs", "9p" };
	assert_int_equal(k->n, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_string_equal(k->mod[i].name, want[i]);
	assert_non_null(strstr(k->mod[4].path, "9p.ko.xz"));
	assert_non_null(memmem(k->mod[4].data, k->mod[4].len, "depends=9pnet,netfs", 19));
	kmod_set_free(k);

	/* overlay neither built in nor listed: missing, named by its option */
	put("modules.builtin", "kernel/drivers/virtio/virtio.ko\n", 32);
	assert_int_equal(kmod_find(dir, NULL, k), 0);
	assert_int_equal(k->state[3], KMOD_MISSING);
	assert_string_equal(kmod_wanted[3].option, "CONFIG_OVERLAY_FS");
	kmod_set_free(k);

	/* a dependency no list has */
	ko("kernel/net/9p/9pnet.ko", "ghost");
	assert_int_equal(kmod_find(dir, NULL, k), -1);
	assert_non_null(strstr(nb_errmsg(), "9pnet needs ghost"));

	/* no modules.order: nothing found, no error */
	snprintf(cmd, sizeof(cmd), "%s/modules.order", dir);
	unlink(cmd);
	assert_int_equal(kmod_find(dir, NULL, k), 0);
	assert_false(k->found);
	assert_int_equal(k->n, 0);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
