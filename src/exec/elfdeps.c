/* elfdeps.c - the shared-library resolver of `nobios exec --pack`
 * (elfdeps.h).  The rules are those of the System V ABI's dynamic linking
 * chapter and glibc's ld.so(8): DT_RPATH (only when there is no
 * DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, then the system directories; a
 * name with a '/' is a path; a candidate that is not an x86-64 ELF64 is
 * skipped as ld.so skips it.  Headers are read with memcpy: the file's
 * bytes are not aligned for the structures. */
#include "exec/elfdeps.h"

#include <elf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "util/err.h"

/* A library larger than this is not one (and would not fit a guest). */
#define ELFDEPS_FILE_MAX (1ULL << 30)
/* A dependency chain deeper than this is a loop the set did not catch. */
#define ELFDEPS_MAX_FILES 1024

const char *const elfdeps_default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib", NULL,
};

void elfdeps_normalize(char *path)
{
	char tmp[PATH_MAX];
	size_t o = 0;
	for (const char *s = path; *s && o < sizeof(tmp) - 2;) {
		while (*s == '/')
			s++;
		size_t len = strcspn(s, "/");
		if (len == 0)
			break;
		if (len == 1 && s[0] == '.') {
			/* nothing */
		} else if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && tmp[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + 1 + len >= sizeof(tmp))
				break;
			tmp[o++] = '/';
			memcpy(tmp + o, s, len);
			o += len;
		}
		s += len;
	}
	if (o == 0)
		tmp[o++] = '/';
	tmp[o] = 0;
	memcpy(path, tmp, o + 1); /* never longer than path was */
}

static int in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* The file offset of virtual address va (inside a PT_LOAD's file bytes). */
static int va_to_off(const Elf64_Phdr *ph, unsigned n, uint64_t va, uint64_t *off)
{
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = ph[i].p_offset + (va - ph[i].p_vaddr);
			return 0;
		}
	return -1;
}

/* A string at strtab[idx], NUL-terminated inside [strtab, strtab+strsz). */
static const char *str_at(const uint8_t *data, uint64_t strtab, uint64_t strsz, uint64_t idx)
{
	if (idx >= strsz)
		return NULL;
	const char *s = (const char *)data + strtab + idx;
	return memchr(s, 0, strsz - idx) ? s : NULL;
}

int elfdeps_parse(const uint8_t *data, size_t size, const char *path, struct elfdeps_info *out)
{
	memset(out, 0, sizeof(*out));
	if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
		return 0;
	out->is_elf = 1;
	Elf64_Ehdr eh;
	if (size < sizeof(eh))
		return nb_err("%s: truncated ELF header", path);
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return nb_err("%s: not an x86-64 ELF64 program (--pack runs only those)", path);
	if (eh.e_phnum == 0)
		return 0;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096 ||
	    !in_file(size, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return nb_err("%s: program headers outside the file", path);
	Elf64_Phdr *ph = malloc(eh.e_phnum * sizeof(*ph));
	if (!ph)
		return nb_err_internal("out of memory");
	memcpy(ph, data + eh.e_phoff, eh.e_phnum * sizeof(*ph));
	int rc = -1;
	const Elf64_Phdr *dyn = NULL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			if (!in_file(size, ph[i].p_offset, ph[i].p_filesz) || ph[i].p_filesz == 0 ||
			    data[ph[i].p_offset + ph[i].p_filesz - 1] != 0) {
				nb_err("%s: PT_INTERP is not a string inside the file", path);
				goto out;
			}
			out->interp = (const char *)data + ph[i].p_offset;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = &ph[i];
		}
	}
	if (!dyn) {
		rc = 0;
		goto out;
	}
	if (!in_file(size, dyn->p_offset, dyn->p_filesz)) {
		nb_err("%s: PT_DYNAMIC outside the file", path);
		goto out;
	}
	/* Two passes: DT_STRTAB may follow the DT_NEEDED entries. */
	uint64_t strtab_va = 0, strsz = 0;
	int have_strtab = 0;
	size_t ndyn = dyn->p_filesz / sizeof(Elf64_Dyn);
	for (size_t i = 0; i < ndyn; i++) {
		Elf64_Dyn d;
		memcpy(&d, data + dyn->p_offset + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB) {
			strtab_va = d.d_un.d_ptr;
			have_strtab = 1;
		} else if (d.d_tag == DT_STRSZ) {
			strsz = d.d_un.d_val;
		}
	}
	uint64_t strtab = 0;
	if (have_strtab &&
	    (va_to_off(ph, eh.e_phnum, strtab_va, &strtab) < 0 || !in_file(size, strtab, strsz))) {
		nb_err("%s: DT_STRTAB 0x%llx (size %llu) is not inside the file", path,
		       (unsigned long long)strtab_va, (unsigned long long)strsz);
		goto out;
	}
	for (size_t i = 0; i < ndyn; i++) {
		Elf64_Dyn d;
		memcpy(&d, data + dyn->p_offset + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED && d.d_tag != DT_RPATH && d.d_tag != DT_RUNPATH)
			continue;
		const char *s = have_strtab ? str_at(data, strtab, strsz, d.d_un.d_val) : NULL;
		if (!s) {
			nb_err("%s: dynamic entry %zu names a string outside DT_STRTAB", path, i);
			goto out;
		}
		if (d.d_tag == DT_NEEDED) {
			if (out->nneeded >= ELFDEPS_MAX_NEEDED) {
				nb_err("%s: more than %d DT_NEEDED entries", path,
				       ELFDEPS_MAX_NEEDED);
				goto out;
			}
			out->needed[out->nneeded++] = s;
		} else if (d.d_tag == DT_RPATH) {
			out->rpath = s;
		} else {
			out->runpath = s;
		}
	}
	rc = 0;
out:
	free(ph);
	return rc;
}

void elfdeps_set_free(struct elfdeps_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	s->paths = NULL;
	s->n = 0;
}

int elfdeps_set_add(struct elfdeps_set *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->paths[i], path) == 0)
			return 0;
	if (s->n >= ELFDEPS_MAX_FILES)
		return nb_err("--pack: more than %d files", ELFDEPS_MAX_FILES);
	char **p = realloc(s->paths, (s->n + 1) * sizeof(*p));
	if (!p)
		return nb_err_internal("out of memory");
	s->paths = p;
	if (!(p[s->n] = strdup(path)))
		return nb_err_internal("out of memory");
	s->n++;
	return 1;
}

/* Is the file at path an x86-64 ELF64 shared object ld.so would take? */
static int usable_lib(const char *path)
{
	struct boot_file f;
	if (access(path, R_OK) != 0 || boot_file_open_head(&f, path, ELFDEPS_FILE_MAX, 0) < 0)
		return 0;
	Elf64_Ehdr eh;
	int ok = boot_file_size(&f) >= sizeof(eh) && boot_file_pread(&f, 0, &eh, sizeof(eh)) == 0 &&
		 memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
		 eh.e_machine == EM_X86_64;
	boot_file_close(&f);
	return ok;
}

/* Look for name in a ':'-separated list; $ORIGIN is the object's directory.
 * 1 with *found, 0 if not there. */
static int search_list(const char *list, const char *origin, const char *name,
		       char found[PATH_MAX])
{
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ":");
		char dir[PATH_MAX];
		size_t o = 0;
		for (size_t i = 0; i < len && o < sizeof(dir) - 1;) {
			if (strncmp(p + i, "$ORIGIN", 7) == 0 || strncmp(p + i, "${ORIGIN}", 9) == 0) {
				i += p[i + 1] == '{' ? 9 : 7;
				o += (size_t)snprintf(dir + o, sizeof(dir) - o, "%s", origin);
				if (o >= sizeof(dir))
					o = sizeof(dir) - 1;
			} else {
				dir[o++] = p[i++];
			}
		}
		dir[o] = 0;
		/* An empty entry means the current directory to ld.so; not here. */
		if (o > 0 && (size_t)snprintf(found, PATH_MAX, "%s/%s", dir, name) < PATH_MAX &&
		    usable_lib(found))
			return 1;
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

static int resolve_one(const char *path, const char *const *sysdirs, const char *ldpath,
		       struct elfdeps_set *out);

static int find_lib(const char *obj, const struct elfdeps_info *in, const char *name,
		    const char *const *sysdirs, const char *ldpath, char found[PATH_MAX])
{
	if (strchr(name, '/')) {
		snprintf(found, PATH_MAX, "%s", name);
		return 1;
	}
	char origin[PATH_MAX];
	snprintf(origin, sizeof(origin), "%s", obj);
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(origin, sizeof(origin), ".");
	if (!in->runpath && search_list(in->rpath, origin, name, found))
		return 1;
	if (search_list(ldpath, origin, name, found) || search_list(in->runpath, origin, name, found))
		return 1;
	for (unsigned i = 0; sysdirs && sysdirs[i]; i++)
		if ((size_t)snprintf(found, PATH_MAX, "%s/%s", sysdirs[i], name) < PATH_MAX &&
		    usable_lib(found))
			return 1;
	return 0;
}

static int resolve_one(const char *path, const char *const *sysdirs, const char *ldpath,
		       struct elfdeps_set *out)
{
	int added = elfdeps_set_add(out, path);
	if (added <= 0)
		return added; /* seen already (a loop or a shared dependency), or -1 */
	struct boot_file f;
	if (boot_file_open(&f, path, ELFDEPS_FILE_MAX) < 0)
		return -1;
	struct elfdeps_info in;
	int rc = elfdeps_parse(f.data, f.size, path, &in);
	if (rc == 0 && in.interp)
		rc = resolve_one(in.interp, sysdirs, ldpath, out);
	for (unsigned i = 0; rc == 0 && i < in.nneeded; i++) {
		char found[PATH_MAX];
		if (!find_lib(path, &in, in.needed[i], sysdirs, ldpath, found))
			rc = nb_err("%s: needs %s, which is in none of the library directories "
				    "(DT_RUNPATH, LD_LIBRARY_PATH, /lib/x86_64-linux-gnu, ...)",
				    path, in.needed[i]);
		else {
			if (found[0] == '/')
				elfdeps_normalize(found);
			rc = resolve_one(found, sysdirs, ldpath, out);
		}
	}
	boot_file_close(&f); /* in points into f: used up by now */
	return rc;
}

int elfdeps_resolve(const char *path, const char *const *sysdirs, const char *ld_library_path,
		    struct elfdeps_set *out)
{
	return resolve_one(path, sysdirs, ld_library_path, out) < 0 ? -1 : 0;
}
