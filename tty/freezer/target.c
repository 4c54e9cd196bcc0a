#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The filesystem rights of the image's owner, for as long as the returned token lives. */
struct fs_rights {
	int uid, gid; /* what to go back to; -1: nothing was changed */
};

static struct fs_rights act_as_owner(const struct target *tg)
{
	struct fs_rights before = { -1, -1 };
	if (tg->owner_uid < 0 || (uid_t)tg->owner_uid == geteuid())
		return before;
	/* Group first: once the fsuid is not root, changing the fsgid is no longer allowed. */
	before.gid = setfsgid((gid_t)tg->owner_gid);
	before.uid = setfsuid((uid_t)tg->owner_uid);
	return before;
}

static void act_as_self(struct fs_rights before)
{
	if (before.uid < 0)
		return;
	setfsuid((uid_t)before.uid);
	setfsgid((gid_t)before.gid);
}

static enum ck_class class_of_create_errno(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EIO ? CK_IO : CK_TARGET;
}

/* A symlink or anything but a regular file under the final name is refused, never replaced. */
static int check_final_name(struct target *tg, struct ck_error *e)
{
	struct stat st;
	if (fstatat(tg->dirfd, tg->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ck_fail(e, CK_TARGET, errno, "target", "", "cannot inspect %s", tg->path);
	}
	if (S_ISLNK(st.st_mode))
		return ck_fail(e, CK_TARGET, ELOOP, "target", "", "%s is a symbolic link", tg->path);
	if (!S_ISREG(st.st_mode))
		return ck_fail(e, CK_TARGET, EEXIST, "target", "", "%s exists and is not a regular file", tg->path);
	return 0;
}

/* dir/name as one absolute path (for messages), from where the directory descriptor really is. */
static void describe_path(struct target *tg)
{
	char link[64], dir[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", tg->dirfd);
	ssize_t n = readlink(link, dir, sizeof dir - 1);
	dir[n > 0 ? n : 0] = 0;
	snprintf(tg->path, sizeof tg->path, "%s%s%s", dir, n > 1 ? "/" : "", tg->base);
}

/*
 * The directory that will hold the image, and the image's last component. A name in
 * another process's directory may go down into subdirectories, never up or through a
 * symlink; a path of the caller's is resolved as the caller would.
 */
static int open_directory(struct target *tg, const struct target_spec *spec, struct ck_error *e)
{
	const char *name = spec->name;
	size_t len = strlen(name);
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	if (len == 0 || len >= PATH_MAX || !*base || strlen(base) > NAME_MAX || !strcmp(base, ".") || !strcmp(base, ".."))
		return ck_fail(e, CK_TARGET, EINVAL, "target", "", "bad image name '%s'", name);
	strcpy(tg->base, base);
	char dir[PATH_MAX];
	if (!slash)
		strcpy(dir, ".");
	else if (slash == name)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);

	int from = AT_FDCWD;
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	if (spec->in_cwd_of) {
		if (name[0] == '/')
			return ck_fail(e, CK_TARGET, EINVAL, "target", "", "bad image name '%s' (a template names a file in the process's directory)", name);
		char cwd[64];
		snprintf(cwd, sizeof cwd, "/proc/%d/cwd", (int)spec->in_cwd_of);
		from = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (from < 0)
			return ck_fail(e, errno == ENOENT ? CK_NOT_FOUND : CK_TARGET, errno, "target", "", "cannot open the current directory of process %d", (int)spec->in_cwd_of);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	}
	tg->dirfd = (int)syscall(SYS_openat2, from, dir, &how, sizeof how);
	int err = errno;
	if (from >= 0)
		close(from);
	if (tg->dirfd < 0) {
		if (err == ELOOP || err == EXDEV)
			return ck_fail(e, CK_TARGET, err, "target", "", "refusing to follow a symbolic link or leave the directory in '%s'", name);
		return ck_fail(e, CK_TARGET, err, "target", "", "cannot open the directory of %s", name);
	}
	describe_path(tg);
	return 0;
}

/* Is the writer named in a temporary's name ".BASE.PID.N.tmp" gone? */
static bool writer_is_gone(const char *name, size_t prefix_len)
{
	char *end;
	long pid = strtol(name + prefix_len, &end, 10);
	return pid > 0 && *end == '.' && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/*
 * Named temporaries exist only where O_TMPFILE does not, or for an instant before a
 * rename. Remove those of this image whose writer died (a freezer killed meanwhile).
 */
static void remove_stale_temporaries(struct target *tg)
{
	int fd = openat(tg->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char prefix[NAME_MAX + 3];
	size_t prefix_len = (size_t)snprintf(prefix, sizeof prefix, ".%s.", tg->base);
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		if (strncmp(de->d_name, prefix, prefix_len) || n < 4 || strcmp(de->d_name + n - 4, ".tmp") ||
		    !writer_is_gone(de->d_name, prefix_len) ||
		    fstatat(tg->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != (uid_t)setfsuid((uid_t)-1))
			continue;
		unlinkat(tg->dirfd, de->d_name, 0);
	}
	closedir(dir);
}

static int create_named_temporary(struct target *tg)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(tg->tmpname, sizeof tg->tmpname, ".%.200s.%d.%d.tmp", tg->base, (int)getpid(), attempt);
		tg->fd = openat(tg->dirfd, tg->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tg->fd >= 0 || errno != EEXIST)
			break;
	}
	if (tg->fd < 0)
		tg->tmpname[0] = 0;
	return tg->fd < 0 ? -errno : 0;
}

int target_open(struct target *tg, const struct target_spec *spec, struct ck_error *e)
{
	memset(tg, 0, sizeof *tg);
	tg->dirfd = tg->fd = -1;
	tg->owner_uid = spec->owner_uid;
	tg->owner_gid = spec->owner_gid;
	struct fs_rights self = act_as_owner(tg);
	int ret = open_directory(tg, spec, e) || check_final_name(tg, e);
	if (!ret) {
		remove_stale_temporaries(tg);
		/* Unnamed until committed: if we die, the kernel frees it. */
		tg->fd = openat(tg->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		int err = tg->fd < 0 ? errno : 0;
		if (err == EOPNOTSUPP || err == EISDIR || err == EINVAL)
			err = -create_named_temporary(tg);
		if (err)
			ret = ck_fail(e, class_of_create_errno(err), err, "target", "", "cannot create the image in %s", tg->path);
	}
	act_as_self(self);
	return ret;
}

/* Give the unnamed file the name `name` in the directory. */
static int link_unnamed(struct target *tg, const char *name)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", tg->fd);
	return linkat(AT_FDCWD, self, tg->dirfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int name_the_image(struct target *tg, struct ck_error *e)
{
	if (!tg->tmpname[0]) {
		/* Straight to the final name when it is free; over an older image, through a rename. */
		int err = link_unnamed(tg, tg->base);
		if (err == -EEXIST) {
			snprintf(tg->tmpname, sizeof tg->tmpname, ".%.200s.%d.0.tmp", tg->base, (int)getpid());
			unlinkat(tg->dirfd, tg->tmpname, 0);
			err = link_unnamed(tg, tg->tmpname);
			if (err)
				tg->tmpname[0] = 0;
		}
		if (err)
			return ck_fail(e, class_of_create_errno(-err), -err, "rename", "", "cannot name the image %s", tg->path);
		if (!tg->tmpname[0])
			return 0;
	}
	if (renameat(tg->dirfd, tg->tmpname, tg->dirfd, tg->base) < 0)
		return ck_fail(e, CK_IO, errno, "rename", "", "cannot rename the image to %s", tg->path);
	tg->tmpname[0] = 0;
	return 0;
}

int target_commit(struct target *tg, struct ck_error *e)
{
	if (fsync(tg->fd) < 0)
		return ck_fail(e, CK_IO, errno, "sync", "", "cannot sync the image to disk");
	struct fs_rights self = act_as_owner(tg);
	int ret = check_final_name(tg, e) || name_the_image(tg, e);
	act_as_self(self);
	if (!ret)
		tg->committed = true;
	return ret;
}

int target_sync_name(struct target *tg, struct ck_error *e)
{
	/* Some filesystems cannot sync a directory (EINVAL): their names are as durable as they get. */
	if (fsync(tg->dirfd) < 0 && errno != EINVAL) {
		int err = errno;
		target_remove_final(tg);
		return ck_fail(e, CK_IO, err, "rename", "", "cannot sync the directory of %s", tg->path);
	}
	return 0;
}

int target_remove_final(struct target *tg)
{
	if (!tg->committed)
		return 0;
	tg->committed = false;
	return unlinkat(tg->dirfd, tg->base, 0) < 0 ? -errno : 0;
}

void target_close(struct target *tg)
{
	if (tg->fd >= 0)
		close(tg->fd);
	if (tg->dirfd >= 0 && tg->tmpname[0])
		unlinkat(tg->dirfd, tg->tmpname, 0);
	if (tg->dirfd >= 0)
		close(tg->dirfd);
	tg->fd = tg->dirfd = -1;
	tg->tmpname[0] = 0;
}
