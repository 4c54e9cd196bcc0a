#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ck_fail(struct ck_error *e, enum ck_class cls, int err, const char *stage, const char *path, const char *fmt, ...)
{
	e->cls = cls;
	e->err = err;
	e->stage = stage;
	snprintf(e->path, sizeof e->path, "%s", path ? path : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

enum ck_class ck_class_of_errno(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return CK_PERMISSION;
	case ESRCH:
	case ENOENT:
		return CK_NOT_FOUND;
	case ENOMEM:
		return CK_INTERNAL;
	default:
		return CK_IO;
	}
}

void ck_reword(struct ck_error *e, const char *before, const char *after)
{
	char old[sizeof e->message];
	memcpy(old, e->message, sizeof old);
	const char *parts[3] = { before, old, after };
	size_t n = 0, room = sizeof e->message - 1;
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(parts[i]);
		if (len > room - n)
			len = room - n;
		memcpy(e->message + n, parts[i], len);
		n += len;
	}
	e->message[n] = 0;
}
