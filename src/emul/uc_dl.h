/* uc_dl.h - libunicorn, loaded on first use.
 *
 * Unicorn is 19 MB of shared library whose relocations cost ~6 ms and ~6 MiB
 * of RSS at every start, while most guests never need an instruction
 * completed.  So nobios does not link it: uc_dl_load() dlopen()s it the first
 * time the completion engine starts, and these macros route the engine's uc_*
 * calls through the resolved table.  Include this instead of
 * <unicorn/unicorn.h>. */
#ifndef NOBIOS_EMUL_UC_DL_H
#define NOBIOS_EMUL_UC_DL_H

#include <unicorn/unicorn.h>

struct uc_dl {
	uc_err (*open)(uc_arch, uc_mode, uc_engine **);
	uc_err (*close)(uc_engine *);
	uc_err (*ctl)(uc_engine *, uc_control_type, ...);
	uc_err (*emu_start)(uc_engine *, uint64_t, uint64_t, uint64_t, size_t);
	uc_err (*emu_stop)(uc_engine *);
	uc_err (*hook_add)(uc_engine *, uc_hook *, int, void *, void *, uint64_t, uint64_t, ...);
	uc_err (*mem_map_ptr)(uc_engine *, uint64_t, size_t, uint32_t, void *);
	uc_err (*mem_unmap)(uc_engine *, uint64_t, size_t);
	uc_err (*reg_read)(uc_engine *, int, void *);
	uc_err (*reg_write)(uc_engine *, int, const void *);
	const char *(*strerror)(uc_err);
};

extern struct uc_dl uc_dl;

/* Load libunicorn and resolve the table; 0, or -1 with nb_err_internal().
 * Cheap after the first call. */
int uc_dl_load(void);

struct dl_probe;
/* For `nobios --version -v`: is libunicorn there, where, which version. */
void uc_dl_probe(struct dl_probe *p);

#define uc_open(...) uc_dl.open(__VA_ARGS__)
#define uc_close(...) uc_dl.close(__VA_ARGS__)
#define uc_ctl(...) uc_dl.ctl(__VA_ARGS__)
#define uc_emu_start(...) uc_dl.emu_start(__VA_ARGS__)
#define uc_emu_stop(...) uc_dl.emu_stop(__VA_ARGS__)
#define uc_hook_add(...) uc_dl.hook_add(__VA_ARGS__)
#define uc_mem_map_ptr(...) uc_dl.mem_map_ptr(__VA_ARGS__)
#define uc_mem_unmap(...) uc_dl.mem_unmap(__VA_ARGS__)
#define uc_reg_read(...) uc_dl.reg_read(__VA_ARGS__)
#define uc_reg_write(...) uc_dl.reg_write(__VA_ARGS__)
#define uc_strerror(...) uc_dl.strerror(__VA_ARGS__)

#endif
