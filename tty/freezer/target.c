/* The image file's name: a temporary file beside it, made durable, then renamed over it. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A symlink or anything but a regular file under the final name is refused, never replaced. */
static int check_final_name(struct target *tg, struct frz_error *e)
{
	struct stat st;
	if (fstatat(tg->dirfd, tg->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return frz_fail(e, FRZ_TARGET, errno, "target", "cannot inspect %s", tg->path);
	}
	if (S_ISLNK(st.st_mode))
		return frz_fail(e, FRZ_TARGET, ELOOP, "target", "%s is a symbolic link", tg->path);
	if (!S_ISREG(st.st_mode))
		return frz_fail(e, FRZ_TARGET, EEXIST, "target", "%s exists and is not a regular file", tg->path);
	return 0;
}

int target_open(struct target *tg, const char *path, int uid, int gid, struct frz_error *e)
{
	memset(tg, 0, sizeof *tg);
	tg->dirfd = tg->fd = -1;
	tg->path = path;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof tg->dir || path[len - 1] == '/')
		return frz_fail(e, FRZ_TARGET, EINVAL, "target", "bad image path '%s'", path);
	const char *slash = strrchr(path, '/');
	tg->base = slash ? slash + 1 : path;
	if (!strcmp(tg->base, ".") || !strcmp(tg->base, ".."))
		return frz_fail(e, FRZ_TARGET, EINVAL, "target", "bad image path '%s'", path);
	if (!slash)
		strcpy(tg->dir, ".");
	else if (slash == path)
		strcpy(tg->dir, "/");
	else
		snprintf(tg->dir, sizeof tg->dir, "%.*s", (int)(slash - path), path);

	tg->dirfd = open(tg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tg->dirfd < 0)
		return frz_fail(e, FRZ_TARGET, errno, "target", "cannot open the directory %s", tg->dir);
	if (check_final_name(tg, e))
		return -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(tg->tmpname, sizeof tg->tmpname, ".%.200s.%d.%d.tmp", tg->base, (int)getpid(), attempt);
		tg->fd = openat(tg->dirfd, tg->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tg->fd >= 0 || errno != EEXIST)
			break;
	}
	if (tg->fd < 0) {
		int err = errno;
		tg->tmpname[0] = 0;
		return frz_fail(e, err == ENOSPC || err == EDQUOT || err == EIO ? FRZ_IO : FRZ_TARGET, err, "target",
				"cannot create a file in %s", tg->dir);
	}
	if (uid >= 0 && fchown(tg->fd, (uid_t)uid, (gid_t)gid) < 0)
		return frz_fail(e, FRZ_PERMISSION, errno, "target", "cannot give the image to uid %d", uid);
	return 0;
}

int target_commit(struct target *tg, struct frz_error *e)
{
	if (fsync(tg->fd) < 0)
		return frz_fail(e, FRZ_IO, errno, "sync", "cannot sync the image to disk");
	if (check_final_name(tg, e))
		return -1;
	if (close(tg->fd) < 0) {
		tg->fd = -1;
		return frz_fail(e, FRZ_IO, errno, "write", "cannot write the image");
	}
	tg->fd = -1;
	if (renameat(tg->dirfd, tg->tmpname, tg->dirfd, tg->base) < 0)
		return frz_fail(e, FRZ_IO, errno, "rename", "cannot rename the image to %s", tg->path);
	tg->tmpname[0] = 0;
	/* The rename is durable only once the directory is synced (some filesystems cannot: EINVAL). */
	if (fsync(tg->dirfd) < 0 && errno != EINVAL) {
		int err = errno;
		unlinkat(tg->dirfd, tg->base, 0);
		return frz_fail(e, FRZ_IO, err, "rename", "cannot sync the directory %s", tg->dir);
	}
	return 0;
}

void target_abort(struct target *tg)
{
	if (tg->fd >= 0)
		close(tg->fd);
	if (tg->dirfd >= 0 && tg->tmpname[0])
		unlinkat(tg->dirfd, tg->tmpname, 0);
	tg->fd = -1;
	tg->tmpname[0] = 0;
}

void target_close(struct target *tg)
{
	target_abort(tg);
	if (tg->dirfd >= 0)
		close(tg->dirfd);
	tg->dirfd = -1;
}

int target_remove_final(struct target *tg)
{
	return unlinkat(tg->dirfd, tg->base, 0) < 0 ? -errno : 0;
}
