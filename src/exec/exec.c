/* exec.c - the initramfs of `nobios exec` (exec.h), built in host memory:
 *
 *   /init                the static init (src/exec/init/), rdinit=/init
 *   /nobios/exec.conf    CMD, its environment, directory and uid/gid
 *   /dev /proc /sys /tmp /run   mount points init fills
 *   every --pack'ed file, and CMD itself when it is found on the host's
 *   PATH, at its host path, with the interpreter and shared libraries it
 *   needs (elfdeps.h), so the same PATH finds it inside.
 *
 * Files are read whole (boot_file_open: a file that changes while read is
 * an error naming it) and stored as regular files with their host owner
 * and permission bits (a 0700 program of the user's stays runnable by
 * CMD, which runs as that user): the guest sees a copy, not the host's
 * file, so symlinks are followed.  Directories nobios adds are root's,
 * 0755. */
#include "exec/exec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "exec/elfdeps.h"
#include "exec/exec_port.h"
#include "exec/kmod.h"
#include "nobios.h"
#include "util/err.h"

/* A packed file must fit the guest's RAM with room to spare; the
 * initramfs as a whole is checked against RAM by the loader. */
#define EXEC_FILE_MAX (4ULL << 30)
#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int exec_find_on_path(const char *cmd, const char *path, char *out, size_t outlen)
{
	if (!*cmd)
		return 0;
	if (strchr(cmd, '/')) {
		if ((size_t)snprintf(out, outlen, "%s", cmd) >= outlen)
			return 0;
		return access(out, X_OK) == 0;
	}
	const char *p = path && *path ? path : EXEC_DEFAULT_PATH;
	while (*p) {
		size_t len = strcspn(p, ":");
		if (len > 0 && (size_t)snprintf(out, outlen, "%.*s/%s", (int)len, p, cmd) < outlen) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 1;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* An absolute, '.'/'..'-free spelling of path (the file need not be a
 * regular one yet: errors come when it is read). */
static int absolute(const char *path, char out[PATH_MAX])
{
	if (path[0] == '/') {
		if (strlen(path) >= PATH_MAX)
			return nb_err("%s: path too long", path);
		memcpy(out, path, strlen(path) + 1);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return nb_err_errno("getcwd");
		if ((size_t)snprintf(out, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
			return nb_err("%s: path too long", path);
	}
	elfdeps_normalize(out);
	return 0;
}

static int pack_file(struct cpio *c, const char *path, FILE *log)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return nb_err_errno("--pack %s", path);
	if (!S_ISREG(st.st_mode))
		return nb_err("--pack %s: not a regular file", path);
	struct boot_file f;
	if (boot_file_open(&f, path, EXEC_FILE_MAX) < 0)
		return -1;
	int r = cpio_add_parents(c, path);
	if (r == 0)
		r = cpio_add(c, path, S_IFREG | (st.st_mode & 07777), st.st_uid, st.st_gid, f.data,
			     f.size);
	if (r == 0 && log)
		fprintf(log, "nobios: exec: packed %s (%zu bytes)\n", path, f.size);
	boot_file_close(&f);
	return r;
}

/* One configuration record: tag, string, NUL. */
static int conf_put(char **buf, size_t *len, char tag, const char *s)
{
	size_t l = strlen(s);
	if (*len + l + 2 > EXEC_CONF_MAX)
		return nb_err("exec: command, environment and directory exceed %u bytes",
			      EXEC_CONF_MAX);
	char *b = realloc(*buf, *len + l + 2);
	if (!b)
		return nb_err_internal("out of memory");
	b[*len] = tag;
	memcpy(b + *len + 1, s, l + 1);
	*buf = b;
	*len += l + 2;
	return 0;
}

/* Is NAME (up to '=') set by one of the user's --env? */
static bool user_sets(const struct exec_config *cfg, const char *kv)
{
	size_t n = strcspn(kv, "=");
	for (unsigned i = 0; i < cfg->nenv; i++)
		if (strncmp(cfg->env[i], kv, n) == 0 && cfg->env[i][n] == '=')
			return true;
	return false;
}

int exec_shares(const struct exec_config *cfg, struct nb_share *shares, unsigned max,
		unsigned *n)
{
	/* after the user's own --share devices, if any, whose tags must not be
	 * the ones the guest's init mounts */
	for (unsigned i = 0; i < *n; i++)
		if (strncmp(shares[i].tag, "nobios-", 7) == 0)
			return nb_err("--share %s: tag '%s' is nobios exec's own (nobios-*)",
				      shares[i].path, shares[i].tag);
	if (!cfg->no_host_root) {
		if (*n >= max)
			return nb_err("exec: at most %u shares in all", max);
		shares[*n] = (struct nb_share){ .path = "/", .writable = false };
		snprintf(shares[*n].tag, sizeof(shares[*n].tag), "%s", EXEC_ROOT_TAG);
		(*n)++;
	}
	for (unsigned i = 0; i < cfg->nrw; i++) {
		if (*n >= max)
			return nb_err("--rw: at most %u shares in all", max);
		char *real = realpath(cfg->rw[i], NULL);
		struct stat st;
		if (!real || stat(real, &st) < 0) {
			free(real);
			return nb_err_errno("--rw %s", cfg->rw[i]);
		}
		if (!S_ISDIR(st.st_mode)) {
			free(real);
			return nb_err("--rw %s: not a directory", cfg->rw[i]);
		}
		/* lives as long as the machine: the front end exits after it */
		shares[*n] = (struct nb_share){ .path = real, .writable = true };
		snprintf(shares[*n].tag, sizeof(shares[*n].tag), EXEC_RW_TAG, i + 1);
		(*n)++;
	}
	return 0;
}

/* The modules the guest needs to mount the shares (kmod.h), packed under
 * EXEC_MODULES_DIR with a record for each in load order; the options the
 * host found missing, for init's error; the modules directory to show at
 * /lib/modules/RELEASE when it is not there already. */
static int pack_kmods(const struct exec_config *cfg, struct cpio *c, FILE *log, char **buf,
		      size_t *len)
{
	char rel[128], dir[PATH_MAX];
	if (!cfg->kernel || kmod_release(cfg->kernel, rel, sizeof(rel)) < 0) {
		if (log)
			fprintf(log, "nobios: exec: %s; no modules packed\n",
				cfg->kernel ? nb_errmsg() : "no kernel path");
		nb_err_clear();
		return 0;
	}
	const char *d = cfg->modules ? cfg->modules : cfg->build_tree;
	if (d) {
		if (absolute(d, dir) < 0)
			return -1;
	} else {
		snprintf(dir, sizeof(dir), "/lib/modules/%s", rel);
	}
	struct kmod_set *k = calloc(1, sizeof(*k));
	if (!k)
		return nb_err_internal("out of memory");
	int r = kmod_find(dir, log, k);
	if (r == 0 && log && !k->found)
		fprintf(log, "nobios: exec: no modules.order in %s: only what %s has built in\n",
			dir, rel);
	if (r == 0)
		r = conf_put(buf, len, EXEC_CONF_KVER, rel);
	if (r == 0 && cfg->modules && k->found)
		r = conf_put(buf, len, EXEC_CONF_KMODDIR, dir);
	if (r == 0 && k->n && cpio_add_dir(c, EXEC_MODULES_DIR, 0755) < 0)
		r = -1;
	for (unsigned i = 0; r == 0 && i < k->n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), EXEC_MODULES_DIR "/%s.ko", k->mod[i].name);
		r = cpio_add(c, path, S_IFREG | 0644, 0, 0, k->mod[i].data, k->mod[i].len);
		if (r == 0)
			r = conf_put(buf, len, EXEC_CONF_MODULE, path);
		if (r == 0 && log)
			fprintf(log, "nobios: exec: packed module %s (%zu bytes)\n", k->mod[i].path,
				k->mod[i].len);
	}
	for (unsigned i = 0; r == 0 && i < KMOD_NWANT; i++)
		if (k->state[i] == KMOD_MISSING)
			r = conf_put(buf, len, EXEC_CONF_MISSING, kmod_wanted[i].option);
	kmod_set_free(k);
	free(k);
	return r;
}

static int build_conf(const struct exec_config *cfg, unsigned uid, unsigned gid, char **buf,
		      size_t *len)
{
	char num[32];
	int r = 0;
	for (int i = 0; r == 0 && i < cfg->argc; i++)
		r = conf_put(buf, len, EXEC_CONF_ARG, cfg->argv[i]);
	/* The host's PATH, so CMD and what it runs are found at the paths
	 * they were packed at; HOME on the guest's tmpfs. */
	const char *path = getenv("PATH");
	char pathkv[PATH_MAX + 8];
	snprintf(pathkv, sizeof(pathkv), "PATH=%s", path && *path ? path : EXEC_DEFAULT_PATH);
	const char *term = getenv("TERM");
	char termkv[128];
	snprintf(termkv, sizeof(termkv), "TERM=%s", term && *term ? term : "dumb");
	const char *defaults[] = { pathkv, "HOME=/tmp", termkv, NULL };
	for (unsigned i = 0; r == 0 && defaults[i]; i++)
		if (!user_sets(cfg, defaults[i]))
			r = conf_put(buf, len, EXEC_CONF_ENV, defaults[i]);
	for (unsigned i = 0; r == 0 && i < cfg->nenv; i++)
		r = conf_put(buf, len, EXEC_CONF_ENV, cfg->env[i]);
	/* The directory: --cwd's, else the host's own when the host's files
	 * are there (the same path inside), else "/". */
	char here[PATH_MAX];
	if (r == 0 && cfg->cwd)
		r = conf_put(buf, len, EXEC_CONF_CWD, cfg->cwd);
	else if (r == 0 && !cfg->no_host_root && getcwd(here, sizeof(here)))
		r = conf_put(buf, len, EXEC_CONF_CWD_SOFT, here);
	else if (r == 0)
		r = conf_put(buf, len, EXEC_CONF_CWD, "/");
	if (r == 0 && !cfg->no_host_root)
		r = conf_put(buf, len, EXEC_CONF_ROOT, "1");
	for (unsigned i = 0; r == 0 && i < cfg->nrw; i++) {
		char *real = realpath(cfg->rw[i], NULL);
		r = real ? conf_put(buf, len, EXEC_CONF_RW, real) : nb_err_errno("--rw %s", cfg->rw[i]);
		free(real);
	}
	if (r == 0 && cfg->stdin_forwarded)
		r = conf_put(buf, len, EXEC_CONF_STDIN, "1");
	snprintf(num, sizeof(num), "%u", uid);
	if (r == 0)
		r = conf_put(buf, len, EXEC_CONF_UID, num);
	snprintf(num, sizeof(num), "%u", gid);
	if (r == 0)
		r = conf_put(buf, len, EXEC_CONF_GID, num);
	return r;
}

int exec_build_initramfs(const struct exec_config *cfg, unsigned uid, unsigned gid, FILE *log,
			 struct cpio *c)
{
	if (cfg->argc < 1)
		return nb_err("exec: no command after --");
	int rc = -1;
	char *conf = NULL;
	size_t conflen = 0;
	struct elfdeps_set files = { 0 };
	static const char *const dirs[] = { "dev", "proc", "sys", "tmp", "run", "nobios", NULL };
	for (unsigned i = 0; dirs[i]; i++)
		if (cpio_add_dir(c, dirs[i], strcmp(dirs[i], "tmp") == 0 ? 01777 : 0755) < 0)
			goto out;
	if (cpio_add(c, "init", S_IFREG | 0755, 0, 0, exec_init_image, exec_init_image_size) < 0)
		goto out;
	if (build_conf(cfg, uid, gid, &conf, &conflen) < 0)
		goto out;
	if ((!cfg->no_host_root || cfg->nrw) && pack_kmods(cfg, c, log, &conf, &conflen) < 0)
		goto out;

	/* CMD itself, when the host has it: a kernel without 9p can run it. */
	const char *ldpath = getenv("LD_LIBRARY_PATH");
	char found[PATH_MAX], abs[PATH_MAX];
	if (!cfg->no_pack_cmd && exec_find_on_path(cfg->argv[0], getenv("PATH"), found,
						   sizeof(found))) {
		if (absolute(found, abs) < 0 ||
		    elfdeps_resolve(abs, elfdeps_default_dirs, ldpath, &files) < 0) {
			nb_err_prefix("exec: %s", cfg->argv[0]);
			goto out;
		}
	}
	for (unsigned i = 0; i < cfg->npack; i++) {
		if (absolute(cfg->pack[i], abs) < 0 ||
		    elfdeps_resolve(abs, elfdeps_default_dirs, ldpath, &files) < 0) {
			nb_err_prefix("--pack");
			goto out;
		}
	}
	for (size_t i = 0; i < files.n; i++)
		if (pack_file(c, files.paths[i], log) < 0)
			goto out;
	if (files.n && conf_put(&conf, &conflen, EXEC_CONF_PACKED, "1") < 0)
		goto out;
	/* last: the records above all belong in it */
	if (cpio_add(c, EXEC_CONF_PATH, S_IFREG | 0644, 0, 0, conf, conflen) < 0)
		goto out;
	rc = cpio_finish(c);
out:
	elfdeps_set_free(&files);
	free(conf);
	return rc;
}
