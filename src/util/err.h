/* err.h - error reporting for library code.
 *
 * Library code never exits and never prints errors itself: it records one
 * line of context (which file, which field, which value) with nb_err() and
 * returns -1; the front end prints that line once.  The message is per
 * thread so vCPU and I/O threads do not clobber each other.
 */
#ifndef NOBIOS_UTIL_ERR_H
#define NOBIOS_UTIL_ERR_H

#include <stdarg.h>

/* Error classes decide the process exit status at the front end. */
enum nb_err_class {
	NB_ERR_NONE = 0,
	NB_ERR_INPUT,    /* bad usage or bad input file: exit 2 */
	NB_ERR_INTERNAL, /* host or KVM failure: exit 3 (see README) */
};

/* Record an input error (bad file, bad flag). Always returns -1. */
#define nb_err(...) NB_ERR_RET(nb_err_set(NB_ERR_INPUT, __VA_ARGS__))
/* Record a host/internal error (syscall, KVM). Always returns -1. */
#define nb_err_internal(...) NB_ERR_RET(nb_err_set(NB_ERR_INTERNAL, __VA_ARGS__))
/* Like nb_err_internal, appending ": strerror(errno)". Always returns -1. */
#define nb_err_errno(...) NB_ERR_RET(nb_err_set_errno(__VA_ARGS__))

/* The three above are macros whose value is a visible -1, so that static
 * analysers see `return nb_err(...)` is an error return and stop reporting
 * the out-parameters it leaves unset as used uninitialised. */
#define NB_ERR_RET(call) __extension__({ call; -1; })
void nb_err_set(enum nb_err_class c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nb_err_set_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the current message with "prefix: " (adds context on the way up). */
void nb_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *nb_errmsg(void);
enum nb_err_class nb_errclass(void);
void nb_err_clear(void);

#endif
