/* uc_dl.c - load libunicorn on first use (see uc_dl.h). */
#include "emul/uc_dl.h"

#include <dlfcn.h>
#include <pthread.h>

#include "util/dlprobe.h"
#include "util/err.h"

struct uc_dl uc_dl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result = -1;
static char load_error[256];

/* Debian's libunicorn2 ships the library under its SONAME. */
#define UC_DL_SONAME "libunicorn.so.2"

static void load(void)
{
	void *h = dlopen(UC_DL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	struct { void **slot; const char *name; } syms[] = {
		{ (void **)&uc_dl.open, "uc_open" },
		{ (void **)&uc_dl.close, "uc_close" },
		{ (void **)&uc_dl.ctl, "uc_ctl" },
		{ (void **)&uc_dl.emu_start, "uc_emu_start" },
		{ (void **)&uc_dl.emu_stop, "uc_emu_stop" },
		{ (void **)&uc_dl.hook_add, "uc_hook_add" },
		{ (void **)&uc_dl.mem_map_ptr, "uc_mem_map_ptr" },
		{ (void **)&uc_dl.mem_unmap, "uc_mem_unmap" },
		{ (void **)&uc_dl.reg_read, "uc_reg_read" },
		{ (void **)&uc_dl.reg_write, "uc_reg_write" },
		{ (void **)&uc_dl.strerror, "uc_strerror" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(load_error, sizeof(load_error), "%s: no symbol %s", UC_DL_SONAME,
				 syms[i].name);
			return;
		}
	}
	load_result = 0;
}

int uc_dl_load(void)
{
	pthread_once(&once, load);
	if (load_result < 0)
		return nb_err_internal("cannot load the instruction-completion engine: %s "
				       "(install Debian's libunicorn2)", load_error);
	return 0;
}

void uc_dl_probe(struct dl_probe *p)
{
	p->soname = UC_DL_SONAME;
	p->package = "libunicorn2";
	p->purpose = "completing instructions an emulating host's KVM refuses";
	void *h = dl_probe_open(p);
	if (!h)
		return;
	/* unicorn 2: (major << 24) | (minor << 16) | (patch << 8) | extra */
	unsigned (*ver)(unsigned *, unsigned *);
	*(void **)&ver = dlsym(h, "uc_version");
	if (ver) {
		unsigned major = 0, minor = 0, v = ver(&major, &minor);
		snprintf(p->version, sizeof(p->version), "%u.%u.%u", v >> 24, (v >> 16) & 0xFF,
			 (v >> 8) & 0xFF);
	}
	dl_probe_close(h);
}
