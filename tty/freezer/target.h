/*
 * The image file's name and how it comes to exist: written unnamed (O_TMPFILE) in
 * its directory, made durable, then given its final name in one step, so there is
 * never half an image under any name, and a killed freezer leaves nothing behind.
 *
 * The directory is opened once, as a descriptor, and everything else is done
 * relative to it:
 *   - a name template is relative to the frozen process's own current directory,
 *     opened through /proc/PID/cwd (the directory it is in, not a path someone can
 *     swap meanwhile); directories inside the name are followed without symlinks
 *     and without leaving that directory;
 *   - an explicit path is relative to the caller's.
 * When root writes the image of another user's process, every filesystem access
 * is made with that user's rights (setfsuid): the image is theirs, and it can only
 * land where they could have written it themselves.
 */
#ifndef CKPTY_TARGET_H
#define CKPTY_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "freezer.h"

struct target_spec {
	const char *name; /* the image's name: relative to in_cwd_of's directory, or a path */
	pid_t in_cwd_of; /* 0: name is a path relative to the caller's directory */
	int owner_uid, owner_gid; /* -1: the caller's */
};

struct target {
	char path[PATH_MAX + NAME_MAX + 2]; /* the final name, absolute, for messages */
	char base[NAME_MAX + 1]; /* its last component */
	char tmpname[NAME_MAX + 1]; /* a named temporary, where O_TMPFILE is not supported; "" otherwise */
	int dirfd;
	int fd; /* the image being written */
	int owner_uid, owner_gid;
	bool committed;
	bool swept; /* the dead writers' temporaries are gone already (target_sweep) */
};

/*
 * DragonFly's image name template for a process: %N its name (a '/' in it becomes '_'),
 * %P its pid, %U its uid, %% a percent sign. Usage errors for anything else, an empty
 * or an absolute result.
 */
int target_expand(char *out, size_t size, const char *template, pid_t pid, const char *comm, uid_t uid, struct ck_error *e);

/*
 * Open the directory, refuse a symlink or non-regular file at the name, create the
 * (unnamed) file. tg->path names the image from the start, for messages; failures
 * about the image carry it as their path.
 */
int target_open(struct target *tg, const struct target_spec *spec, struct ck_error *e);

/* Sync the data, check the final name again, give the file its name. */
int target_commit(struct target *tg, struct ck_error *e);

/* Make the name durable (sync the directory); on failure the name is removed again. */
int target_sync_name(struct target *tg, struct ck_error *e);

/* Undo a commit (the process could not be ended: its image must not exist twice). */
int target_remove_final(struct target *tg);

/* Close the image file; an uncommitted image disappears. The directory stays open. */
void target_close_file(struct target *tg);

/*
 * Remove this image's named temporaries whose writer is dead (.NAME.PID.N.tmp: a
 * freezer killed while one existed). It reads the whole directory (6 ms for 30,000
 * names), so it runs once per freeze, after the freeze has been reported, not before
 * the seize; target_open has done it already (and this does nothing) where O_TMPFILE
 * is missing (every image is a named temporary there at first) or the image's file
 * could not be created for want of room.
 */
void target_sweep(struct target *tg);

/* Close everything; an uncommitted image disappears. */
void target_close(struct target *tg);

#endif
