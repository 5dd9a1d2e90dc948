/* test_linux_cmdline.c - the default Linux command line (issue 12): which
 * defaults are added for which user line (parameters found the way the
 * kernel's parse_args() splits them: quotes, "--", '-' == '_', the kernel's
 * whitespace), the fixed order, the length limit against the kernel's
 * cmdline_size, and the loaders that use it: bzImage (64- and 32-bit and
 * host-decompressed share put_boot_info), PVH for a Linux ELF, and PVH for a
 * non-Linux ELF, which must get the user's line unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot/linux_cmdline.h"
#include "boot/platform.h"
#include "boot/start_info.h"
#include "bz_fake.h"
#include "direct_fake.h"

#define ALL "console=ttyS0 panic=-1 reboot=k,panic_warm"
#define ALL_BITS (LINUX_CMDLINE_CONSOLE | LINUX_CMDLINE_PANIC | LINUX_CMDLINE_REBOOT)

static char out[LAYOUT_CMDLINE_MAX];

/* build with a generous limit; returns the bits */
static int build(const char *user, bool verbose)
{
	memset(out, 'Z', sizeof(out));
	nb_err_clear();
	return linux_cmdline_build(user, true, verbose, 2048, out);
}

static void test_nothing_given(void **state)
{
	(void)state;
	assert_int_equal(build(NULL, false), ALL_BITS);
	assert_string_equal(out, ALL);
	/* an empty line is the same, with no trailing space */
	assert_int_equal(build("", false), ALL_BITS);
	assert_string_equal(out, ALL);
	/* -v adds the early console after console= */
	assert_int_equal(build(NULL, true), ALL_BITS | LINUX_CMDLINE_EARLYPRINTK);
	assert_string_equal(out, "console=ttyS0 earlyprintk=serial panic=-1 reboot=k,panic_warm");
}

static void test_user_line_kept_last(void **state)
{
	(void)state;
	assert_int_equal(build("root=/dev/vda ro", false), ALL_BITS);
	assert_string_equal(out, ALL " root=/dev/vda ro");
	/* the user's own spacing is not touched */
	assert_int_equal(build("  a  b ", false), ALL_BITS);
	assert_string_equal(out, ALL "   a  b ");
}

static void test_user_settings_win(void **state)
{
	(void)state;
	assert_int_equal(build("console=hvc0", true), LINUX_CMDLINE_PANIC | LINUX_CMDLINE_REBOOT);
	assert_string_equal(out, "panic=-1 reboot=k,panic_warm console=hvc0"); /* no earlyprintk */
	assert_int_equal(build("panic=10", false), LINUX_CMDLINE_CONSOLE | LINUX_CMDLINE_REBOOT);
	assert_string_equal(out, "console=ttyS0 reboot=k,panic_warm panic=10");
	assert_int_equal(build("reboot=t", false), LINUX_CMDLINE_CONSOLE | LINUX_CMDLINE_PANIC);
	assert_string_equal(out, "console=ttyS0 panic=-1 reboot=t");
	assert_int_equal(build("reboot=t panic=0 console=ttyS1,115200", true), 0);
	assert_string_equal(out, "reboot=t panic=0 console=ttyS1,115200");
	/* an empty value is still the user's choice */
	assert_int_equal(build("console= panic= reboot=", false), 0);
	/* -v: the user's earlyprintk or earlycon replaces ours, console= is still added */
	assert_int_equal(build("earlyprintk=vga", true), ALL_BITS);
	assert_string_equal(out, ALL " earlyprintk=vga");
	assert_int_equal(build("earlycon", true), ALL_BITS);
	assert_int_equal(build("earlycon=uart,io,0x3f8", true), ALL_BITS);
}

static void test_defaults_off(void **state)
{
	(void)state;
	assert_int_equal(linux_cmdline_build("root=/dev/vda", false, true, 2048, out), 0);
	assert_string_equal(out, "root=/dev/vda");
	assert_int_equal(linux_cmdline_build(NULL, false, true, 2048, out), 0);
	assert_string_equal(out, "");
}

static void test_kernel_parsing(void **state)
{
	(void)state;
	/* names, not prefixes or suffixes */
	assert_int_equal(linux_cmdline_has("consoleblank=0", "console="), 0);
	assert_int_equal(linux_cmdline_has("xconsole=ttyS0", "console="), 0);
	assert_int_equal(linux_cmdline_has("a console=ttyS0 b", "console="), 1);
	/* a bare "console" is not console= (the kernel's __setup("console=")) */
	assert_int_equal(linux_cmdline_has("console", "console="), 0);
	assert_int_equal(linux_cmdline_has("earlycon", "earlycon"), 1);
	/* '-' and '_' are the same in names */
	assert_int_equal(linux_cmdline_has("foo-bar=1", "foo_bar="), 1);
	assert_int_equal(linux_cmdline_has("foo_bar=1", "foo-bar="), 1);
	/* a quoted value hides what is inside it */
	assert_int_equal(linux_cmdline_has("init=/bin/sh foo=\"console=ttyS1 x\"", "console="), 0);
	/* a quoted parameter is still a parameter; quoted spaces do not split */
	assert_int_equal(linux_cmdline_has("\"console=ttyS1 x\" y", "console="), 1);
	assert_int_equal(linux_cmdline_has("dyndbg=\"file a.c +p\" panic=5", "panic="), 1);
	/* an unbalanced quote swallows the rest of the line */
	assert_int_equal(linux_cmdline_has("foo=\"bar console=ttyS1", "console="), 0);
	/* after a bare "--" the words are init's, not the kernel's */
	assert_int_equal(linux_cmdline_has("ro -- console=ttyS1", "console="), 0);
	assert_int_equal(linux_cmdline_has("ro \"--\" console=ttyS1", "console="), 0);
	assert_int_equal(linux_cmdline_has("ro --=1 console=ttyS1", "console="), 1);
	assert_int_equal(linux_cmdline_has("ro --x console=ttyS1", "console="), 1);
	/* the kernel's whitespace: tabs, newlines, and Latin-1 0xA0 */
	assert_int_equal(linux_cmdline_has("ro\tconsole=ttyS1", "console="), 1);
	assert_int_equal(linux_cmdline_has("ro\nconsole=ttyS1", "console="), 1);
	assert_int_equal(linux_cmdline_has("ro\xA0" "console=ttyS1", "console="), 1);
	assert_int_equal(linux_cmdline_has(NULL, "console="), 0);
	assert_int_equal(linux_cmdline_has("", "console="), 0);
	/* so the build sees the same: console= after "--" gets ours in front */
	assert_int_equal(build("init=/bin/sh -- console=ttyS1", false), ALL_BITS);
	assert_string_equal(out, ALL " init=/bin/sh -- console=ttyS1");
	/* and a line with an open quote still gets its defaults, in front */
	assert_int_equal(build("x=\"open", false), ALL_BITS);
	assert_string_equal(out, ALL " x=\"open");
}

static void test_length_limits(void **state)
{
	(void)state;
	const char *u = "root=/dev/vda";
	size_t ul = strlen(u);
	/* exactly room for everything */
	size_t full = strlen(ALL) + 1 + ul + 1;
	assert_int_equal(linux_cmdline_build(u, true, false, full, out), ALL_BITS);
	assert_int_equal(strlen(out), full - 1);
	/* one byte less: reboot= (last in priority that fits) is left out,
	 * never the user's text */
	assert_int_equal(linux_cmdline_build(u, true, false, full - 1, out),
			 LINUX_CMDLINE_CONSOLE | LINUX_CMDLINE_PANIC | LINUX_CMDLINE_DROPPED);
	assert_string_equal(out, "console=ttyS0 panic=-1 root=/dev/vda");
	/* room for console= only */
	size_t one = strlen("console=ttyS0 ") + ul + 1;
	assert_int_equal(linux_cmdline_build(u, true, false, one, out),
			 LINUX_CMDLINE_CONSOLE | LINUX_CMDLINE_DROPPED);
	assert_string_equal(out, "console=ttyS0 root=/dev/vda");
	/* room for the user's line only */
	assert_int_equal(linux_cmdline_build(u, true, false, ul + 1, out), LINUX_CMDLINE_DROPPED);
	assert_string_equal(out, u);
	/* priority: when console= does not fit, shorter later ones still may */
	assert_int_equal(linux_cmdline_build(u, true, false, ul + 1 + strlen("panic=-1 "), out),
			 LINUX_CMDLINE_PANIC | LINUX_CMDLINE_DROPPED);
	assert_string_equal(out, "panic=-1 root=/dev/vda");
	/* the user's line alone too long: an input error naming the limit */
	nb_err_clear();
	assert_int_equal(linux_cmdline_build(u, true, false, ul, out), -1);
	assert_err_has("command line is 13 bytes, the kernel allows at most 12");
	assert_int_equal(linux_cmdline_build(u, false, false, ul, out), -1);
	/* a kernel that allows no command line at all (cmdline_size 0) */
	assert_int_equal(linux_cmdline_build("", true, false, 1, out), LINUX_CMDLINE_DROPPED);
	assert_string_equal(out, "");
	assert_int_equal(linux_cmdline_build("", true, false, 0, out), -1);
}

/* ---- the loaders */

#define RAM (64u << 20)

static struct fake_machine *load_bz(const struct bz_fake_opts *o, const char *proto,
				    const char *cmdline, bool defaults, int *rc)
{
	size_t n;
	uint8_t *img = bz_fake_build(o, &n);
	struct fake_machine *m = fake_machine_new(RAM);
	m->cfg.kernel = fake_file(img, n);
	free(img);
	m->cfg.protocol = proto;
	m->cfg.cmdline = cmdline;
	m->cfg.linux_cmdline_defaults = defaults;
	nb_err_clear();
	*rc = boot_load(&m->ctx);
	return m;
}

static void test_bzimage_loaders(void **state)
{
	(void)state;
	struct bz_fake_opts o = bz_fake_defaults();
	static const char *const protos[] = { "linux", "linux32" };
	for (int i = 0; i < 2; i++) {
		int rc;
		struct fake_machine *m = load_bz(&o, protos[i], "root=/dev/ram0", true, &rc);
		if (rc < 0)
			fail_msg("%s: %s", protos[i], nb_errmsg());
		assert_string_equal(gstr(m, LAYOUT_CMDLINE), ALL " root=/dev/ram0");
		assert_true(m->ctx.linux_panic_flag);
		fake_machine_free(m);
		/* --no-default-cmdline: exactly the user's line, no panic marker */
		m = load_bz(&o, protos[i], "root=/dev/ram0", false, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(gstr(m, LAYOUT_CMDLINE), "root=/dev/ram0");
		assert_false(m->ctx.linux_panic_flag);
		fake_machine_free(m);
		/* the user's reboot=: no marker (nobios cannot tell a panic) */
		m = load_bz(&o, protos[i], "reboot=k", true, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(gstr(m, LAYOUT_CMDLINE), "console=ttyS0 panic=-1 reboot=k");
		assert_false(m->ctx.linux_panic_flag);
		fake_machine_free(m);
	}
	/* the header's cmdline_size bounds the result: 20 bytes hold console=
	 * and the user's "x" only */
	o.cmdline_size = 20;
	int rc;
	struct fake_machine *m = load_bz(&o, "linux", "x", true, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(gstr(m, LAYOUT_CMDLINE), "console=ttyS0 x");
	assert_false(m->ctx.linux_panic_flag);
	fake_machine_free(m);
	m = load_bz(&o, "linux", "123456789012345678901", true, &rc);
	assert_int_equal(rc, -1);
	assert_err_has("command line is 21 bytes, the kernel allows at most 20");
	fake_machine_free(m);
	fake_cleanup();
}

static struct fake_machine *load_pvh(const struct fake_note *extra, unsigned nextra,
				     const char *cmdline, int *rc)
{
	uint8_t code[0x100];
	memset(code, 0xF4, sizeof(code));
	uint64_t entry = 0x1000010;
	struct fake_note n[3] = { { "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, 8 } };
	for (unsigned i = 0; i < nextra; i++)
		n[1 + i] = extra[i];
	struct fake_seg s = { 0x1000000, 0x1000000, code, sizeof(code), sizeof(code) };
	struct fake_buf b = fake_elf(1, 0x1000000, &s, 1, n, 1 + nextra, NULL, 0);
	struct fake_machine *m = fake_machine_new(RAM);
	m->cfg.kernel = fake_file(b.p, b.n);
	free(b.p);
	m->cfg.cmdline = cmdline;
	m->cfg.linux_cmdline_defaults = true;
	nb_err_clear();
	*rc = boot_load(&m->ctx);
	return m;
}

static const char *pvh_cmdline(struct fake_machine *m)
{
	uint64_t si = LAYOUT_PVH_START_INFO;
	return gstr(m, g64(m, si + 24));
}

static void test_pvh_linux_or_not(void **state)
{
	(void)state;
	int rc;
	/* Debian's vmlinux: Xen guest-OS note "linux" */
	const struct fake_note xen_linux = { "Xen", 6, "linux", 6 };
	struct fake_machine *m = load_pvh(&xen_linux, 1, "ro", &rc);
	if (rc < 0)
		fail_msg("%s", nb_errmsg());
	assert_string_equal(pvh_cmdline(m), ALL " ro");
	assert_true(m->ctx.linux_panic_flag);
	fake_machine_free(m);
	/* a PVH kernel without Xen support: Linux's build-salt note */
	const struct fake_note salt = { "Linux", 0x100, "6.1.0", 6 };
	m = load_pvh(&salt, 1, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(pvh_cmdline(m), ALL);
	fake_machine_free(m);
	/* another OS (FreeBSD says "FreeBSD" in its guest-OS note): unchanged */
	const struct fake_note bsd = { "Xen", 6, "FreeBSD", 8 };
	m = load_pvh(&bsd, 1, "boot_verbose", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(pvh_cmdline(m), "boot_verbose");
	assert_false(m->ctx.linux_panic_flag);
	fake_machine_free(m);
	/* "linuxish" is not "linux" */
	const struct fake_note almost = { "Xen", 6, "linuxish", 9 };
	m = load_pvh(&almost, 1, "a", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(pvh_cmdline(m), "a");
	fake_machine_free(m);
	/* no note at all */
	m = load_pvh(NULL, 0, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(pvh_cmdline(m), "");
	fake_machine_free(m);
	/* Linux copies at most COMMAND_LINE_SIZE: a longer line is refused */
	char big[LINUX_COMMAND_LINE_SIZE + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	m = load_pvh(&xen_linux, 1, big, &rc);
	assert_int_equal(rc, -1);
	assert_err_has("the kernel allows at most 2047");
	fake_machine_free(m);
	/* ... but another OS may take up to the 64 KiB area */
	m = load_pvh(&bsd, 1, big, &rc);
	assert_int_equal(rc, 0);
	fake_machine_free(m);
	fake_cleanup();
}

static void test_virtio_mmio_devices(void **st)
{
	(void)st;
	struct platform p = { .nvirtio = 2 };
	p.virtio[0] = (struct platform_virtio){ VIRTIO_ID_BLOCK, 0, 0xD0000000, 0x1000, 16 };
	p.virtio[1] = (struct platform_virtio){ VIRTIO_ID_RNG, 0, 0xD0001000, 0x1000, 17 };
	char line[256];
	/* with ACPI the DSDT announces them: nothing added */
	strcpy(line, "console=ttyS0 root=/dev/vda");
	assert_int_equal(linux_cmdline_virtio(line, &p, sizeof(line), line), 0);
	assert_string_equal(line, "console=ttyS0 root=/dev/vda");
	/* acpi=off: one virtio_mmio.device= per device, in front */
	strcpy(line, "console=ttyS0 acpi=off");
	assert_int_equal(linux_cmdline_virtio(line, &p, sizeof(line), line), 1);
	assert_string_equal(line, "virtio_mmio.device=4K@0xd0000000:16 "
				 "virtio_mmio.device=4K@0xd0001000:17 console=ttyS0 acpi=off");
	/* acpi=offx, acpi=ht, acpi=off after "--": not off */
	assert_int_equal(linux_cmdline_value_is("acpi=offx", "acpi", "off"), 0);
	assert_int_equal(linux_cmdline_value_is("acpi=ht", "acpi", "off"), 0);
	assert_int_equal(linux_cmdline_value_is("a -- acpi=off", "acpi", "off"), 0);
	assert_int_equal(linux_cmdline_value_is("x acpi=off", "acpi", "off"), 1);
	/* no room: the line is left alone */
	strcpy(line, "acpi=off");
	assert_int_equal(linux_cmdline_virtio(line, &p, 20, line), 0);
	assert_string_equal(line, "acpi=off");
	/* no devices */
	p.nvirtio = 0;
	assert_int_equal(linux_cmdline_virtio(line, &p, sizeof(line), line), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_given),
		cmocka_unit_test(test_user_line_kept_last),
		cmocka_unit_test(test_user_settings_win),
		cmocka_unit_test(test_defaults_off),
		cmocka_unit_test(test_kernel_parsing),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_bzimage_loaders),
		cmocka_unit_test(test_pvh_linux_or_not),
		cmocka_unit_test(test_virtio_mmio_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
