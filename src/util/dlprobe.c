/* dlprobe.c - see dlprobe.h. */
#include "util/dlprobe.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

void *dl_probe_open(struct dl_probe *p)
{
	p->found = false;
	p->path[0] = p->version[0] = p->error[0] = 0;
	/* RTLD_LAZY: only presence and location are asked; no symbol is bound
	 * that the probe does not look up itself. */
	void *h = dlopen(p->soname, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(p->error, sizeof(p->error), "%s", e ? e : "not found");
		return NULL;
	}
	p->found = true;
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && lm->l_name[0])
		snprintf(p->path, sizeof(p->path), "%s", lm->l_name);
	else
		snprintf(p->path, sizeof(p->path), "(location not reported)");
	return h;
}

void dl_probe_version_string(struct dl_probe *p, void *handle, const char *sym)
{
	const char *(*fn)(void);
	*(void **)&fn = dlsym(handle, sym);
	const char *v = fn ? fn() : NULL;
	if (v)
		snprintf(p->version, sizeof(p->version), "%s", v);
}

void dl_probe_close(void *handle)
{
	if (handle)
		dlclose(handle);
}
