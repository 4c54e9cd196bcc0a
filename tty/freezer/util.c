#include "freezer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int frz_fail(struct frz_error *e, enum frz_class cls, int err, const char *stage, const char *fmt, ...)
{
	e->cls = cls;
	e->err = err;
	e->stage = stage;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

enum frz_class frz_class_of_errno(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return FRZ_PERMISSION;
	case ESRCH:
	case ENOENT:
		return FRZ_NOTFOUND;
	case ENOMEM:
		return FRZ_INTERNAL;
	default:
		return FRZ_IO;
	}
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *bigger = realloc(b->data, cap);
		if (!bigger)
			return -ENOMEM;
		b->data = bigger;
		b->cap = cap;
	}
	if (data)
		memcpy(b->data + b->len, data, len);
	else
		memset(b->data + b->len, 0, len);
	b->len += len;
	return 0;
}

int buf_pad(struct buf *b, size_t align)
{
	size_t pad = (align - b->len % align) % align;
	return buf_append(b, NULL, pad);
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
