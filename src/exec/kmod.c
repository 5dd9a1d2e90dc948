/* kmod.c - the kernel modules `nobios exec` puts into its initramfs so the
 * guest can reach the host's files (kmod.h): virtio-mmio, the 9p virtio
 * transport, the 9p file system and overlayfs, each with what it depends
 * on, when the kernel has them as modules rather than built in.
 *
 * Found without depmod or kmod: the kernel's release comes from the image
 * (a bzImage's kernel_version string, else "Linux version RELEASE" in the
 * file), the module files from modules.order (an installed tree and a
 * build tree both have it; paths are relative to the directory), what is
 * built in from modules.builtin, and each module's dependencies from the
 * "depends=" entry of its own .modinfo.  Compressed modules (.ko.xz,
 * .ko.zst, .ko.gz) are decompressed here: finit_module would need the
 * kernel's own decompressor. */
#include "exec/kmod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/boot.h"
#include "boot/bzimage.h"
#include "boot/decompress.h"
#include "util/err.h"

/* A module file is at most this large (the largest Debian ships is ~10 MiB). */
#define KMOD_FILE_MAX (256u << 20)
#define KMOD_LIST_MAX (64u << 20)

/* What the guest needs, with the kernel option that builds each: */
const struct kmod_want kmod_wanted[KMOD_NWANT] = {
	{ "virtio_mmio", "CONFIG_VIRTIO_MMIO" },
	{ "9pnet_virtio", "CONFIG_NET_9P_VIRTIO" },
	{ "9p", "CONFIG_9P_FS" },
	{ "overlay", "CONFIG_OVERLAY_FS" },
};

int kmod_release(const char *kernel, char *out, size_t outlen)
{
	struct boot_file f;
	if (boot_file_open(&f, kernel, 4ULL << 30) < 0)
		return -1;
	int rc = -1;
	out[0] = 0;
	struct bzimage b;
	if (bzimage_parse(&b, kernel, f.data, f.size) == 0 && b.version_str[0]) {
		size_t n = strcspn(b.version_str, " ");
		if (n && n < outlen) {
			memcpy(out, b.version_str, n);
			out[n] = 0;
			rc = 0;
		}
	} else {
		nb_err_clear();
		static const char key[] = "Linux version ";
		const uint8_t *p = f.data, *end = f.data + f.size;
		while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
			p += sizeof(key) - 1;
			size_t n = 0;
			while (p + n < end && n + 1 < outlen && p[n] > ' ' && p[n] < 0x7f)
				n++;
			/* "Linux version %s" in a format string is not a release */
			if (n && p[0] != '%') {
				memcpy(out, p, n);
				out[n] = 0;
				rc = 0;
				break;
			}
		}
	}
	boot_file_close(&f);
	if (rc < 0)
		nb_err("%s: no kernel release string found", kernel);
	return rc;
}

/* Read DIR/NAME whole (NUL-terminated), or NULL when it is not there. */
static char *read_list(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	struct boot_file f;
	if (boot_file_open(&f, path, KMOD_LIST_MAX) < 0) {
		nb_err_clear();
		return NULL;
	}
	char *s = malloc(f.size + 1);
	if (s) {
		memcpy(s, f.data, f.size);
		s[f.size] = 0;
	}
	boot_file_close(&f);
	return s;
}

/* The module's name from a path: basename without .ko[.xz|.zst|.gz], '-'
 * as '_' (the kernel's own spelling). */
static void mod_name(const char *path, size_t len, char *out, size_t outlen)
{
	const char *b = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			b = path + i + 1;
	size_t n = (size_t)(path + len - b);
	const char *ko = NULL;
	for (const char *q = b; q + 3 <= b + n; q++)
		if (memcmp(q, ".ko", 3) == 0)
			ko = q;
	if (ko)
		n = (size_t)(ko - b);
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = b[i] == '-' ? '_' : b[i];
	out[n] = 0;
}

/* Find the line of `list` whose module name is `name`: its path (copied). */
static bool find_in(const char *list, const char *name, char *path, size_t pathlen)
{
	for (const char *l = list; l && *l;) {
		size_t n = strcspn(l, "\n");
		size_t pn = strcspn(l, ":\n"); /* modules.dep: "path: deps" */
		char m[64];
		mod_name(l, pn, m, sizeof(m));
		if (strcmp(m, name) == 0 && pn < pathlen) {
			memcpy(path, l, pn);
			path[pn] = 0;
			return true;
		}
		l += n;
		if (*l)
			l++;
	}
	return false;
}

/* The module file, decompressed if it is compressed. */
static int load_ko(const char *path, uint8_t **data, size_t *len)
{
	struct boot_file f;
	if (boot_file_open(&f, path, KMOD_FILE_MAX) < 0)
		return -1;
	enum decompress_format fmt = decompress_detect(f.data, f.size);
	int rc = 0;
	if (fmt == DECOMPRESS_UNKNOWN) {
		*data = malloc(f.size ? f.size : 1);
		if (*data) {
			memcpy(*data, f.data, f.size);
			*len = f.size;
		} else {
			rc = nb_err_internal("out of memory");
		}
	} else {
		rc = decompress_buffer(path, f.data, f.size, KMOD_FILE_MAX, 0, data, len, NULL);
	}
	boot_file_close(&f);
	return rc;
}

/* "depends=a,b" in the module's .modinfo (NUL-separated key=value strings). */
static void depends_of(const uint8_t *ko, size_t len, char *out, size_t outlen)
{
	static const char key[] = "depends=";
	out[0] = 0;
	for (const uint8_t *p = ko; (p = memmem(p, len - (size_t)(p - ko), key, sizeof(key) - 1));
	     p++) {
		if (p != ko && p[-1] != 0)
			continue;
		p += sizeof(key) - 1;
		size_t n = strnlen((const char *)p, len - (size_t)(p - ko));
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, p, n);
		out[n] = 0;
		return;
	}
}

struct walk {
	struct kmod_set *set;
	const char *dir, *order, *builtin;
	FILE *log;
};

static int add_module(struct walk *w, const char *name, unsigned depth)
{
	struct kmod_set *k = w->set;
	for (unsigned i = 0; i < k->n; i++)
		if (strcmp(k->mod[i].name, name) == 0)
			return 1;
	char rel[PATH_MAX];
	if (w->builtin && find_in(w->builtin, name, rel, sizeof(rel)))
		return 1;
	if (!find_in(w->order, name, rel, sizeof(rel)))
		return 0;
	if (depth > 16 || k->n >= KMOD_MAX)
		return nb_err("%s: the dependencies of %s go too deep", w->dir, name);
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->dir, rel) >= sizeof(path))
		return nb_err("%s/%s: path too long", w->dir, rel);
	uint8_t *ko;
	size_t len;
	struct stat st;
	if (stat(path, &st) < 0) {
		/* modules.order names the .ko; an installed tree may have
		 * compressed it */
		static const char *const ext[] = { ".xz", ".zst", ".gz" };
		bool found = false;
		size_t pl = strlen(path);
		for (unsigned i = 0; i < 3 && !found; i++) {
			if ((size_t)snprintf(path + pl, sizeof(path) - pl, "%s", ext[i]) >=
			    sizeof(path) - pl)
				break;
			found = stat(path, &st) == 0;
		}
		if (!found)
			return 0;
	}
	if (load_ko(path, &ko, &len) < 0)
		return -1;
	char deps[1024];
	depends_of(ko, len, deps, sizeof(deps));
	for (char *d = deps, *next; d && *d; d = next) {
		next = strchr(d, ',');
		if (next)
			*next++ = 0;
		for (char *c = d; *c; c++)
			if (*c == '-')
				*c = '_';
		int r = add_module(w, d, depth + 1);
		if (r < 0) {
			free(ko);
			return -1;
		}
		if (r == 0) {
			free(ko);
			return nb_err("%s: %s needs %s, which is not in modules.order", w->dir, name, d);
		}
	}
	/* after its dependencies: the load order (they may have filled the set) */
	if (k->n >= KMOD_MAX) {
		free(ko);
		return nb_err("%s: more than %d modules needed for %s", w->dir, KMOD_MAX, name);
	}
	struct kmod *m = &k->mod[k->n++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->data = ko;
	m->len = len;
	return 1;
}

int kmod_find(const char *dir, FILE *log, struct kmod_set *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	struct walk w = { .set = k, .dir = dir, .log = log };
	char *order = read_list(dir, "modules.order");
	char *builtin = read_list(dir, "modules.builtin");
	if (!order) {
		free(builtin);
		return 0; /* no modules here: what is built in is all there is */
	}
	k->found = true;
	w.order = order;
	w.builtin = builtin;
	int rc = 0;
	for (unsigned i = 0; i < KMOD_NWANT && rc == 0; i++) {
		char rel[PATH_MAX];
		if (builtin && find_in(builtin, kmod_wanted[i].name, rel, sizeof(rel))) {
			k->state[i] = KMOD_BUILTIN;
			continue;
		}
		int r = add_module(&w, kmod_wanted[i].name, 0);
		if (r < 0)
			rc = -1;
		k->state[i] = r > 0 ? KMOD_MODULE : KMOD_MISSING;
	}
	if (rc == 0 && log)
		for (unsigned i = 0; i < KMOD_NWANT; i++)
			fprintf(log, "nobios: exec: %s (%s): %s\n", kmod_wanted[i].name,
				kmod_wanted[i].option,
				k->state[i] == KMOD_BUILTIN  ? "built in"
				: k->state[i] == KMOD_MODULE ? "a module, packed"
							     : "neither built in nor a module here");
	free(order);
	free(builtin);
	if (rc < 0)
		kmod_set_free(k);
	return rc;
}

void kmod_set_free(struct kmod_set *k)
{
	for (unsigned i = 0; i < k->n; i++)
		free(k->mod[i].data);
	k->n = 0;
}
