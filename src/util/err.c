/* err.c - per-thread last-error message (see err.h). */
#include "util/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[512];
static _Thread_local enum nb_err_class cls;

static int vset(enum nb_err_class c, const char *fmt, va_list ap)
{
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cls = c;
	return -1;
}

void nb_err_set(enum nb_err_class c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(c, fmt, ap);
	va_end(ap);
}

void nb_err_set_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vset(NB_ERR_INTERNAL, fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(e));
}

void nb_err_prefix(const char *fmt, ...)
{
	char pre[256], old[sizeof(msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, msg, sizeof(old));
	/* Keep the prefix and as much of the old message as fits. */
	size_t n = strlen(pre);
	if (n > sizeof(msg) - 3)
		n = sizeof(msg) - 3;
	memcpy(msg, pre, n);
	memcpy(msg + n, ": ", 2);
	size_t room = sizeof(msg) - n - 3;
	size_t ol = strnlen(old, room);
	memcpy(msg + n + 2, old, ol);
	msg[n + 2 + ol] = 0;
}

const char *nb_errmsg(void)
{
	return msg[0] ? msg : "unknown error";
}

enum nb_err_class nb_errclass(void)
{
	return cls;
}

void nb_err_clear(void)
{
	msg[0] = 0;
	cls = NB_ERR_NONE;
}
