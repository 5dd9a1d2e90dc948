/* linux_cmdline.h - the command line nobios gives a Linux guest (issue 12).
 *
 * A Linux kernel booted without `console=` prints nothing on the serial port
 * (its console is the VGA text screen nobios does not have), so a first run
 * looks like a hang; one that panics without `panic=` waits forever.  Every
 * Linux boot format (bzimage, linux, linux32, linux16, and PVH when the ELF
 * is Linux) passes the user's command line through linux_cmdline_build(),
 * which puts in front of it what it lacks:
 *
 *   console=ttyS0         when there is no console=
 *   earlyprintk=serial    with -v, when there is no console=, earlyprintk=
 *                         or earlycon
 *   panic=-1              when there is no panic=: reboot at once on a panic
 *   reboot=k,panic_warm   when there is no reboot=: reboot through the i8042
 *                         (nobios ends), and on a panic ask for a *warm*
 *                         reboot, which Linux (5.2+) records by writing
 *                         0x1234 to the BIOS warm-boot flag at 0x472: that
 *                         is how nobios tells a panic from a reboot
 *                         (README "Default command line").
 *
 * Parameters are found the way the kernel's parse_args() splits the line
 * (whitespace outside double quotes; the name is what precedes the first
 * '='; '-' and '_' are the same; a bare "--" ends the kernel's parameters).
 * The defaults go in front, so a user's unbalanced quote or "--" cannot
 * swallow them, and a kernel that truncates a long line keeps them.
 */
#ifndef NOBIOS_BOOT_LINUX_CMDLINE_H
#define NOBIOS_BOOT_LINUX_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct boot_ctx;

/* x86 COMMAND_LINE_SIZE (arch/x86/include/asm/setup.h) including the NUL:
 * the most a Linux kernel reads when no setup header says otherwise (PVH). */
#define LINUX_COMMAND_LINE_SIZE 2048

/* What linux_cmdline_build() added (bits of its return value). */
#define LINUX_CMDLINE_CONSOLE     0x01u /* console=ttyS0 */
#define LINUX_CMDLINE_EARLYPRINTK 0x02u /* earlyprintk=serial */
#define LINUX_CMDLINE_PANIC       0x04u /* panic=-1 */
#define LINUX_CMDLINE_REBOOT      0x08u /* reboot=k,panic_warm */
#define LINUX_CMDLINE_DROPPED     0x10u /* a default was left out: no room */

/* The BIOS data area's warm-boot flag (Ralf Brown's memory map, 0040:0072)
 * and the value Linux's emergency restart writes there for a warm reboot. */
#define LINUX_WARM_BOOT_FLAG_GPA  0x472u
#define LINUX_WARM_BOOT_MAGIC     0x1234u

/* Build the command line for a Linux kernel that accepts max bytes
 * (including the NUL, e.g. setup header cmdline_size + 1) into out, which
 * has room for max bytes.  user: the user's command line or NULL.
 * defaults: add what is missing (false: copy user unchanged).  verbose: -v
 * (adds earlyprintk=serial).  Defaults are added in the order of the list
 * above as long as they fit; the user's own line is never shortened.
 * Returns the LINUX_CMDLINE_* bits, or -1 with nb_err() when the user's
 * line alone does not fit. */
int linux_cmdline_build(const char *user, bool defaults, bool verbose, size_t max, char *out);

/* 1 if the command line has kernel parameter name before any "--"; a name
 * ending in '=' ("console=") counts only with a value, as the kernel's
 * __setup("console=") handlers do; "earlycon" counts either way. */
int linux_cmdline_has(const char *cmdline, const char *name);

/* For the Linux loaders: linux_cmdline_build() on ctx->cfg, the result
 * logged with -v and ctx->linux_panic_flag set when nobios asked for the
 * panic marker.  max is clamped to the command-line area.  *out is
 * malloc()ed (free it); 0, or -1 with nb_err(). */
int boot_linux_cmdline(struct boot_ctx *ctx, size_t max, char **out);

/* 1 if the line sets parameter name to exactly value (acpi=off). */
int linux_cmdline_value_is(const char *cmdline, const char *name, const char *value);
/* With acpi=off on the line (a guest that will not read the DSDT), put one
 * virtio_mmio.device=SIZE@BASE:GSI per device of p in front of the line in
 * out (which may be cmdline itself; room for max bytes with the NUL).
 * Returns 1 if added, 0 if not needed or no room. */
struct platform;
int linux_cmdline_virtio(const char *cmdline, const struct platform *p, size_t max, char *out);

#endif
