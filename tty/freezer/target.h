#ifndef CKPTY_TARGET_H
#define CKPTY_TARGET_H

#include <limits.h>

#include "freezer.h"

struct target {
	const char *path; /* the final name, as given */
	const char *base; /* its last component */
	char dir[PATH_MAX];
	char tmpname[NAME_MAX + 1]; /* "" once renamed or removed */
	int dirfd;
	int fd; /* the temporary file, open for writing */
};

/*
 * Refuse a symlink or non-regular file at path, then create the temporary file
 * (0600, O_EXCL, O_NOFOLLOW), owned by uid:gid unless uid is -1.
 */
int target_open(struct target *tg, const char *path, int uid, int gid, struct frz_error *e);

/* Sync the data, check the final name again, rename, sync the directory. */
int target_commit(struct target *tg, struct frz_error *e);

/* Remove the temporary file, if any. */
void target_abort(struct target *tg);
void target_close(struct target *tg);

/* Undo a commit (the process could not be ended: its image must not exist twice). */
int target_remove_final(struct target *tg);

#endif
