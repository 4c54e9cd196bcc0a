/* Syscalls run inside a traced task of the job being built (rebuild.c, threads.c). */
#ifndef CKPTY_THAWER_INJECT_H
#define CKPTY_THAWER_INJECT_H

#include <stdbool.h>

#include "error.h"
#include "infect.h"

/*
 * Run syscall nr in task tr. 0 with *ret its result (a negative errno when the syscall
 * failed), or -1 with e set when it could not be run at all (the task is gone…): the
 * two never mix.
 */
int inject_call(struct infect *tr, struct ck_error *e, long *ret, long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* Is this a syscall's error return? */
bool inject_failed(long ret);

/* A syscall failed in the task: record what, with its errno; returns -1. */
int inject_refused(struct ck_error *e, long ret, const char *stage, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Write len bytes at offset of the task's scratch page. 0, or -1 with e set. */
int inject_put(struct infect *tr, struct ck_error *e, uint64_t at, const void *data, size_t len);

#endif
