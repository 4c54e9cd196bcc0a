/*
 * One error model for the native programs: a failure is a class (which is also the
 * program's exit status, and ckpty's exit code for it: src/base/errors.ts), the errno
 * behind it, the stage it happened in, the file concerned and a message.
 */
#ifndef CKPTY_ERROR_H
#define CKPTY_ERROR_H

#include <limits.h>

enum ck_class {
	CK_OK = 0,
	CK_USAGE = 2, /* we were called wrongly */
	CK_UNSUPPORTED = 3, /* state we cannot checkpoint or rebuild; another kernel */
	CK_PERMISSION = 4, /* not allowed: ptrace, a file, an image not the caller's */
	CK_BAD_IMAGE = 5, /* truncated, corrupt, foreign, other version */
	CK_IO = 6, /* reading or writing failed (ENOSPC, EIO, EROFS…) */
	CK_CHANGED = 7, /* a file the image depends on changed or vanished */
	CK_NOT_FOUND = 8, /* no such process or file, or it ended meanwhile */
	CK_TARGET = 9, /* the freezer's image path is refused (symlink, not a regular file, no directory) */
	CK_NOT_RESTORED = 10, /* the freezer could not put the process back as it was: it may be damaged */
	CK_INTERNAL = 70,
};

struct ck_error {
	enum ck_class cls;
	int err; /* errno, 0 if none */
	const char *stage;
	char path[PATH_MAX]; /* the file concerned, "" if none */
	char message[1024];
};

/* Record a failure in e; returns -1 so callers can `return ck_fail(...)`. */
int ck_fail(struct ck_error *e, enum ck_class cls, int err, const char *stage, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Put words around the message, e.g. the file it concerns before it; cut to fit. */
void ck_reword(struct ck_error *e, const char *before, const char *after);

/* The class of an errno met on a process (/proc, ptrace). */
enum ck_class ck_class_of_errno(int err);

#endif
