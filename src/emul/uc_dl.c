/* uc_dl.c - load libunicorn on first use (see uc_dl.h). */
#include "emul/uc_dl.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>

#include "emul/emul.h"
#include "util/dlprobe.h"
#include "util/err.h"
#include "util/sandbox.h"

/* Under the sandbox (util/sandbox.h), on hosts that complete instructions
 * (kvm_pvm): unicorn generates code (executable mappings) for as long as
 * the guest runs; loading the library (opening and mapping its files) is a
 * temporary grant, dropped the moment it is loaded.  nobios starts that
 * load beside the guest (emul_preload_async), so the grant lasts as long as
 * the load does, not until the guest first needs a completion. */
#define UC_DL_LOADING "completion engine: loading libunicorn (src/emul/uc_dl.c)"
/* read-only opens: none of O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND,
 * O_TMPFILE's directory bit */
#define OPEN_WRITE_BITS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 0x400000)
SANDBOX_NEEDS(uc_run_needs, "completion engine: unicorn's generated code (src/emul/uc_dl.c)",
	SANDBOX_F_COMPLETION, SB_ALLOW(mmap), SB_ALLOW(mprotect));
SANDBOX_NEEDS_FLAGS(uc_load_needs, UC_DL_LOADING, SANDBOX_F_COMPLETION, SANDBOX_UNTIL_READY,
	SB_ARG_NONE(openat, 2, OPEN_WRITE_BITS), SB_ALLOW(newfstatat), SB_ALLOW(pread64),
	SB_ALLOW(access), SB_ALLOW(faccessat), SB_ALLOW(faccessat2));

struct uc_dl uc_dl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result = -1;
static char load_error[256];

/* Debian's libunicorn2 ships the library under its SONAME. */
#define UC_DL_SONAME "libunicorn.so.2"

static void load_library(void)
{
	if (sandbox_active() && !sandbox_grants(UC_DL_LOADING)) {
		snprintf(load_error, sizeof(load_error), "it was not loaded before the sandbox, "
			 "because this host was not expected to need it (run with --no-sandbox)");
		return;
	}
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

static void load(void)
{
	load_library();
	/* loaded or not, the grant has done its work */
	sandbox_ready(UC_DL_LOADING);
}

static void *preload_main(void *arg)
{
	(void)arg;
	pthread_once(&once, load);
	return NULL;
}

void emul_preload_async(void)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, preload_main, NULL) != 0)
		pthread_once(&once, load); /* no thread: load now, before the guest */
	pthread_attr_destroy(&a);
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
