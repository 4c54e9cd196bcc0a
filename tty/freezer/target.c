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

int target_expand(char *out, size_t size, const char *template, pid_t pid, const char *comm, uid_t uid, struct ck_error *e)
{
	size_t used = 0;
	for (const char *at = template; *at; at++) {
		char piece[32] = { *at, 0 };
		bool is_name = false;
		if (*at == '%') {
			at++;
			if (*at == 'N')
				is_name = true;
			else if (*at == 'P')
				snprintf(piece, sizeof piece, "%d", (int)pid);
			else if (*at == 'U')
				snprintf(piece, sizeof piece, "%u", (unsigned)uid);
			else if (*at == '%')
				strcpy(piece, "%");
			else
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "",
					       "bad name template '%s': unknown '%%%.1s' (use %%N name, %%P pid, %%U uid, %%%% a percent sign)",
					       template, at);
		}
		for (const char *text = is_name ? comm : piece; *text; text++) {
			if (used + 1 >= size)
				return ck_fail(e, CK_USAGE, ENAMETOOLONG, "usage", "", "the name template '%s' gives too long a name", template);
			/* A comm may hold '/' (PR_SET_NAME): it must not turn into a directory. */
			out[used++] = is_name && *text == '/' ? '_' : *text;
		}
	}
	out[used] = 0;
	if (!used)
		return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "the name template gives an empty file name");
	if (out[0] == '/')
		return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad name template: '%s' is not relative to the process's directory", out);
	return 0;
}

/* Where the image is meant to go, as text (before anything is opened): for messages. */
static void intended_path(struct target *tg, const struct target_spec *spec)
{
	char dir[PATH_MAX] = "";
	if (spec->in_cwd_of) {
		char cwd[64];
		snprintf(cwd, sizeof cwd, "/proc/%d/cwd", (int)spec->in_cwd_of);
		ssize_t n = readlink(cwd, dir, sizeof dir - 1);
		dir[n > 0 ? n : 0] = 0;
	} else if (spec->name[0] != '/' && !getcwd(dir, sizeof dir)) {
		dir[0] = 0;
	}
	const char *name = spec->name;
	while (!strncmp(name, "./", 2))
		name += 2;
	snprintf(tg->path, sizeof tg->path, "%s%s%s", dir, dir[0] && name[0] != '/' ? "/" : "", name);
}

/* The directory part of tg->path, for messages about it. */
static const char *directory_of_path(const struct target *tg, char *dir, size_t size)
{
	snprintf(dir, size, "%.*s", (int)size - 1, tg->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(slash[1] = 0) : (void)(*slash = 0);
	return dir;
}

/* Why the directory does not take the image, in the words of the errno. */
static int refuse_directory(struct target *tg, int err, struct ck_error *e)
{
	char dir[sizeof tg->path];
	directory_of_path(tg, dir, sizeof dir);
	if (err == ENOENT)
		return ck_fail(e, CK_TARGET, err, "target", tg->path, "the directory %s does not exist", dir);
	if (err == ENOTDIR)
		return ck_fail(e, CK_TARGET, err, "target", tg->path, "%s is not a directory", dir);
	if (err == EACCES || err == EPERM || err == EROFS)
		return ck_fail(e, CK_TARGET, err, "target", tg->path, "the directory %s is not writable (%s)", dir,
			       err == EROFS ? "read-only file system" : "permission denied");
	return ck_fail(e, CK_IO, err, "target", tg->path, "cannot create it in %s", dir);
}

/* A symlink or anything but a regular file under the final name is refused, never replaced. */
static int check_final_name(struct target *tg, struct ck_error *e)
{
	struct stat st;
	if (fstatat(tg->dirfd, tg->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ck_fail(e, CK_TARGET, errno, "target", tg->path, "cannot inspect what is there");
	}
	if (S_ISLNK(st.st_mode))
		return ck_fail(e, CK_TARGET, 0, "target", tg->path, "it is a symbolic link, and ckpty never writes through one");
	if (!S_ISREG(st.st_mode))
		return ck_fail(e, CK_TARGET, 0, "target", tg->path, "it exists and is not a regular file");
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
		return ck_fail(e, CK_TARGET, EINVAL, "target", tg->path, "it is not a file name");
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
			return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad name template: '%s' is not relative to the process's directory", name);
		char cwd[64];
		snprintf(cwd, sizeof cwd, "/proc/%d/cwd", (int)spec->in_cwd_of);
		if (strstr(tg->path, " (deleted)"))
			return ck_fail(e, CK_TARGET, ENOENT, "target", tg->path,
				       "the current directory of process %d was deleted: give the image a path with `ckpty freeze %d -o FILE`",
				       (int)spec->in_cwd_of, (int)spec->in_cwd_of);
		from = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (from < 0 && (errno == EACCES || errno == EPERM))
			return job_untraceable(spec->in_cwd_of, errno, "target", e);
		if (from < 0)
			return ck_fail(e, errno == ENOENT ? CK_NOT_FOUND : CK_PERMISSION, errno, "target", tg->path,
				       "cannot open the current directory of process %d", (int)spec->in_cwd_of);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	}
	tg->dirfd = (int)syscall(SYS_openat2, from, dir, &how, sizeof how);
	int err = errno;
	if (from >= 0)
		close(from);
	if (tg->dirfd < 0) {
		if (err == ELOOP || err == EXDEV)
			return ck_fail(e, CK_TARGET, err, "target", tg->path,
				       "refusing to follow a symbolic link or leave the process's directory in '%s'", name);
		return refuse_directory(tg, err, e);
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
 * rename. Remove those of this image whose writer died (a freezer killed meanwhile);
 * returns how many.
 */
static int remove_stale_temporaries(struct target *tg)
{
	int fd = openat(tg->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int removed = 0;
	tg->swept = true;
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
		removed += unlinkat(tg->dirfd, de->d_name, 0) == 0;
	}
	closedir(dir);
	return removed;
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

/* The image's file, unnamed until committed (if we die, the kernel frees it); an errno. */
static int create_image_file(struct target *tg)
{
	tg->fd = openat(tg->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	int err = tg->fd < 0 ? errno : 0;
	if (err == EOPNOTSUPP || err == EISDIR || err == EINVAL) {
		/* Named temporaries here, so a killed writer's may be whole images: they go first. */
		remove_stale_temporaries(tg);
		err = -create_named_temporary(tg);
	}
	return err;
}

int target_open(struct target *tg, const struct target_spec *spec, struct ck_error *e)
{
	memset(tg, 0, sizeof *tg);
	tg->dirfd = tg->fd = -1;
	tg->owner_uid = spec->owner_uid;
	tg->owner_gid = spec->owner_gid;
	struct fs_rights self = act_as_owner(tg);
	intended_path(tg, spec);
	int ret = open_directory(tg, spec, e) || check_final_name(tg, e);
	if (!ret) {
		int err = create_image_file(tg);
		/* Out of room: a dead writer's whole image may be what fills it. */
		if ((err == ENOSPC || err == EDQUOT) && !tg->swept && remove_stale_temporaries(tg) > 0)
			err = create_image_file(tg);
		if (err)
			ret = refuse_directory(tg, err, e);
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
			return ck_fail(e, class_of_create_errno(-err), -err, "rename", tg->path, "cannot give it its name");
		if (!tg->tmpname[0])
			return 0;
	}
	if (renameat(tg->dirfd, tg->tmpname, tg->dirfd, tg->base) < 0)
		return ck_fail(e, CK_IO, errno, "rename", tg->path, "cannot give it its name");
	tg->tmpname[0] = 0;
	return 0;
}

int target_commit(struct target *tg, struct ck_error *e)
{
	if (fsync(tg->fd) < 0)
		return ck_fail(e, CK_IO, errno, "sync", tg->path, "cannot sync it to disk");
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
		return ck_fail(e, CK_IO, err, "rename", tg->path, "cannot sync its directory");
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

void target_close_file(struct target *tg)
{
	if (tg->fd >= 0)
		close(tg->fd);
	if (tg->dirfd >= 0 && tg->tmpname[0])
		unlinkat(tg->dirfd, tg->tmpname, 0);
	tg->fd = -1;
	tg->tmpname[0] = 0;
}

void target_sweep(struct target *tg)
{
	if (tg->dirfd < 0 || tg->swept)
		return;
	struct fs_rights self = act_as_owner(tg);
	remove_stale_temporaries(tg);
	act_as_self(self);
}

void target_close(struct target *tg)
{
	target_close_file(tg);
	if (tg->dirfd >= 0)
		close(tg->dirfd);
	tg->dirfd = -1;
}
