#include "inject.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int inject_call(struct infect *tr, struct ck_error *e, long *ret, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long args[6] = { a0, a1, a2, a3, a4, a5 };
	int err = infect_syscall(tr, nr, args, ret);
	return err ? ck_fail(e, CK_INTERNAL, -err, "inject", "", "cannot run a syscall in the new process") : 0;
}

bool inject_failed(long ret)
{
	return (unsigned long)ret > -4096ul;
}

int inject_refused(struct ck_error *e, long ret, const char *stage, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	int err = (int)-ret;
	return ck_fail(e, CK_UNSUPPORTED, err, stage, "", "%s: %s", what, strerror(err));
}

int inject_put(struct infect *tr, struct ck_error *e, uint64_t at, const void *data, size_t len)
{
	int err = infect_write(tr, at, data, len);
	return err ? ck_fail(e, CK_INTERNAL, -err, "inject", "", "cannot write into the new process") : 0;
}
