/* linux_cmdline.c - the default Linux command line (linux_cmdline.h).
 *
 * linux_cmdline_build() and linux_cmdline_has() are pure (strings in,
 * string out) so the unit tests pin every case; boot_linux_cmdline() is the
 * thin part the loaders call, which reads the boot configuration and logs. */
#include "boot/linux_cmdline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/platform.h"
#include "mem/layout.h"
#include "util/err.h"

/* The kernel's isspace() (lib/ctype.c): the C locale's six, and 0xA0, which
 * its Latin-1 table also marks as space.  Splitting differently from the
 * kernel would let a parameter hide from us, or a phantom one appear. */
static bool k_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0;
}

/* parameq(): '-' and '_' are interchangeable in parameter names. */
static bool name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return true;
}

/* The next parameter at or after p, as the kernel's next_arg() splits them:
 * a leading '"' is dropped and starts a quote; '"' toggles quoting; quoted
 * whitespace does not end the parameter; the name ends at the first '='
 * (or, without one, at the end, less a closing quote).  Returns the position
 * after the parameter, or NULL at the end of the line; *has_val: it had '='. */
static const char *next_param(const char *p, const char **name, size_t *namelen, bool *has_val)
{
	while (*p && k_isspace((unsigned char)*p))
		p++;
	if (!*p)
		return NULL;
	bool quoted = false, in_quote = false;
	if (*p == '"') {
		p++;
		quoted = in_quote = true;
	}
	const char *start = p, *eq = NULL;
	for (; *p && (in_quote || !k_isspace((unsigned char)*p)); p++) {
		if (*p == '=' && !eq)
			eq = p;
		if (*p == '"')
			in_quote = !in_quote;
	}
	size_t len = (size_t)((eq ? eq : p) - start);
	if (!eq && quoted && len && start[len - 1] == '"')
		len--;
	*name = start;
	*namelen = len;
	*has_val = eq != NULL;
	return p;
}

int linux_cmdline_has(const char *cmdline, const char *name)
{
	/* "console=": only with a value (a bare `console` matches no
	 * __setup("console=") handler and sets nothing) */
	size_t want = strlen(name);
	bool need_val = want && name[want - 1] == '=';
	if (need_val)
		want--;
	const char *n;
	size_t nl;
	bool val;
	for (const char *p = cmdline ? cmdline : ""; (p = next_param(p, &n, &nl, &val));) {
		/* parse_args(): a bare "--" ends the kernel's parameters; what
		 * follows is init's argv, which the kernel never reads */
		if (!val && nl == 2 && n[0] == '-' && n[1] == '-')
			return 0;
		if ((val || !need_val) && name_eq(n, nl, name, want))
			return 1;
	}
	return 0;
}

int linux_cmdline_build(const char *user, bool defaults, bool verbose, size_t max, char *out)
{
	if (!user)
		user = "";
	size_t ulen = strlen(user);
	if (max == 0 || ulen + 1 > max)
		return nb_err("--cmdline: command line is %zu bytes, the kernel allows at most %zu",
			      ulen, max ? max - 1 : 0);
	if (!defaults) {
		memcpy(out, user, ulen + 1);
		return 0;
	}
	bool console = linux_cmdline_has(user, "console=");
	/* In priority order: a visible console first, then ending on a
	 * panic, then the panic marker, then the early console. */
	const struct { const char *text; unsigned bit; bool want; } cand[] = {
		{ "console=ttyS0", LINUX_CMDLINE_CONSOLE, !console },
		{ "panic=-1", LINUX_CMDLINE_PANIC, !linux_cmdline_has(user, "panic=") },
		{ "reboot=k,panic_warm", LINUX_CMDLINE_REBOOT, !linux_cmdline_has(user, "reboot=") },
		{ "earlyprintk=serial", LINUX_CMDLINE_EARLYPRINTK,
		  verbose && !console && !linux_cmdline_has(user, "earlyprintk=") &&
			  !linux_cmdline_has(user, "earlycon") },
	};
	/* Choose greedily, then write in the fixed order console, earlyprintk,
	 * panic, reboot (the order a reader expects), the user's line last. */
	static const unsigned order[] = { LINUX_CMDLINE_CONSOLE, LINUX_CMDLINE_EARLYPRINTK,
					  LINUX_CMDLINE_PANIC, LINUX_CMDLINE_REBOOT };
	unsigned added = 0;
	size_t len = ulen; /* joined length without the NUL */
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (!cand[i].want)
			continue;
		size_t more = strlen(cand[i].text) + (len ? 1 : 0);
		if (len + more + 1 > max) {
			added |= LINUX_CMDLINE_DROPPED;
			continue;
		}
		len += more;
		added |= cand[i].bit;
	}
	size_t at = 0;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (!(added & order[k]))
			continue;
		for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
			if (cand[i].bit != order[k])
				continue;
			size_t tl = strlen(cand[i].text);
			if (at)
				out[at++] = ' ';
			memcpy(out + at, cand[i].text, tl);
			at += tl;
		}
	}
	if (at && ulen)
		out[at++] = ' ';
	memcpy(out + at, user, ulen + 1);
	return (int)added;
}

int linux_cmdline_value_is(const char *cmdline, const char *name, const char *value)
{
	const char *n;
	size_t nl, want = strlen(name), vl = strlen(value);
	bool val;
	for (const char *p = cmdline ? cmdline : ""; ;) {
		const char *end = next_param(p, &n, &nl, &val);
		if (!end)
			return 0;
		if (!val && nl == 2 && n[0] == '-' && n[1] == '-')
			return 0;
		const char *v = n + nl + 1;
		/* the kernel's last occurrence wins; any one is enough here */
		if (val && name_eq(n, nl, name, want) && (size_t)(end - v) >= vl &&
		    strncmp(v, value, vl) == 0 && (size_t)(end - v) == vl)
			return 1;
		p = end;
	}
}

int linux_cmdline_virtio(const char *cmdline, const struct platform *p, size_t max, char *out)
{
	/* Linux finds virtio-mmio devices in the DSDT (LNRO0005); the command
	 * line form is for kernels without ACPI tables to read (acpi=off), and
	 * would probe every device a second time (-EBUSY) beside the DSDT. */
	size_t len = strlen(cmdline);
	if (!p || !p->nvirtio || !linux_cmdline_value_is(cmdline, "acpi", "off"))
		return 0;
	char add[PLATFORM_MAX_VIRTIO * 48] = "";
	size_t at = 0;
	for (unsigned i = 0; i < p->nvirtio && i < PLATFORM_MAX_VIRTIO; i++)
		at += (size_t)snprintf(add + at, sizeof(add) - at, "%svirtio_mmio.device=%uK@0x%llx:%u",
				       at ? " " : "", p->virtio[i].size >> 10,
				       (unsigned long long)p->virtio[i].base, p->virtio[i].gsi);
	if (len + at + 2 > max)
		return 0; /* no room: the user's line is never shortened */
	memmove(out + at + 1, cmdline, len + 1);
	memcpy(out, add, at);
	out[at] = ' ';
	if (!len)
		out[at] = 0;
	return 1;
}

int boot_linux_cmdline(struct boot_ctx *ctx, size_t max, char **out)
{
	const struct boot_config *cfg = ctx->cfg;
	if (max > LAYOUT_CMDLINE_MAX)
		max = LAYOUT_CMDLINE_MAX;
	char *s = malloc(max ? max : 1);
	if (!s)
		return nb_err_internal("out of memory for the command line");
	/* not Linux (a bzImage-form program, boot.h): its line as given */
	bool defaults = cfg->linux_cmdline_defaults && !ctx->not_linux;
	int added = linux_cmdline_build(cfg->cmdline, defaults, cfg->verbose, max, s);
	if (added < 0) {
		free(s);
		return -1;
	}
	ctx->linux_panic_flag = (added & LINUX_CMDLINE_REBOOT) != 0;
	if (defaults && linux_cmdline_virtio(s, ctx->plat, max, s) && ctx->log)
		fprintf(ctx->log, "nobios: acpi=off: virtio-mmio devices on the command line\n");
	if (ctx->log) {
		fprintf(ctx->log, "nobios: Linux command line (%zu of at most %zu bytes): \"%s\"\n",
			strlen(s), max - 1, s);
		if (!defaults)
			fprintf(ctx->log, "nobios: no defaults added (%s)\n",
				ctx->not_linux ? "not Linux" : "--no-default-cmdline");
		else if (added & ~LINUX_CMDLINE_DROPPED)
			fprintf(ctx->log, "nobios: added in front:%s%s%s%s (missing from --cmdline; "
				"--no-default-cmdline turns this off)\n",
				added & LINUX_CMDLINE_CONSOLE ? " console=ttyS0" : "",
				added & LINUX_CMDLINE_EARLYPRINTK ? " earlyprintk=serial" : "",
				added & LINUX_CMDLINE_PANIC ? " panic=-1" : "",
				added & LINUX_CMDLINE_REBOOT ? " reboot=k,panic_warm" : "");
		if (added & LINUX_CMDLINE_DROPPED)
			fprintf(ctx->log, "nobios: some defaults left out: no room within the "
				"kernel's %zu bytes\n", max - 1);
	}
	*out = s;
	return 0;
}
