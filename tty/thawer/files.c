/*
 * The job's open files (NT_CKPT_OFILES), made again once in the builder and handed to
 * every descriptor that shared them. Regular files and directories are reopened by
 * their recorded paths (the kernel's canonical ones: no symlink followed, no
 * blocking), checked to be the same file; a terminal is ours; the memory devices are
 * opened again by path and checked by device number.
 */
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>


/* A descriptor number that names the open file, for messages ("open as fd 3"). */
static int some_fd_of(const struct thaw *t, size_t ofile)
{
	for (size_t i = 0; i < t->img.nprocesses; i++)
		for (size_t k = 0; k < t->img.processes[i].nfds; k++)
			if ((size_t)t->img.processes[i].fds[k].ofile == ofile)
				return t->img.processes[i].fds[k].fd;
	return -1;
}

static bool same_file(const struct ckpt_ofile *o, const struct stat *st)
{
	switch (o->kind) {
	case CKPT_OF_REG:
		return S_ISREG(st->st_mode) && st->st_dev == o->dev && st->st_ino == o->ino;
	case CKPT_OF_DIR:
		return S_ISDIR(st->st_mode) && st->st_dev == o->dev && st->st_ino == o->ino;
	default:
		return S_ISCHR(st->st_mode) && (uint32_t)st->st_rdev == o->rdev;
	}
}

int files_check(struct thaw *t, struct problems *p, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	for (size_t i = 0; i < img->nofiles; i++) {
		const struct ckpt_ofile *o = &img->ofiles[i];
		int fd = some_fd_of(t, i);
		if (o->kind == CKPT_OF_TTY) {
			if (t->term_fd < 0)
				return ck_fail(e, CK_UNSUPPORTED, 0, "terminal", "",
					       "the job had a terminal open as fd %d: thaw it from a terminal", fd);
			continue;
		}
		if (o->kind != CKPT_OF_REG && o->kind != CKPT_OF_DIR && o->kind != CKPT_OF_CHR)
			return ck_fail(e, CK_UNSUPPORTED, 0, "fds", "", "fd %d is of a kind this thawer cannot make again", fd);
		const char *path = image_job_string(img, o->path);
		struct stat st;
		if (stat(path, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				problem(p, true, "%s (open as fd %d) no longer exists", path, fd);
			else
				problem(p, true, "%s (open as fd %d) cannot be checked: %s", path, fd, strerror(errno));
		} else if (!same_file(o, &st)) {
			problem(p, true, "%s (open as fd %d) is another file than at the freeze", path, fd);
		} else if (o->kind != CKPT_OF_DIR && (o->flags & O_ACCMODE) != O_ACCMODE) {
			int mode = (o->flags & O_ACCMODE) == O_RDONLY ? R_OK : (o->flags & O_ACCMODE) == O_WRONLY ? W_OK : R_OK | W_OK;
			if (access(path, mode) < 0)
				problem(p, false, "%s (open as fd %d) cannot be opened %s", path, fd,
					(o->flags & O_ACCMODE) == O_RDONLY ? "for reading" : "for writing");
		}
	}
	return 0;
}

/* One open file again, at its offset, with its flags. */
static int reopen(const struct thaw *t, const struct ckpt_ofile *o, struct ck_error *e)
{
	const char *path = image_job_string(&t->img, o->path);
	if (o->kind == CKPT_OF_TTY)
		return fcntl(t->term_fd, F_DUPFD_CLOEXEC, t->helper_base);
	int flags = (int)o->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	int fd = open_recorded(path, flags);
	if (fd < 0)
		return ck_fail(e, errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? CK_CHANGED : errno == EACCES ? CK_PERMISSION : CK_IO,
			       errno, "fds", path, "cannot open %s again", path);
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!same_file(o, &st))
		err = ESTALE;
	else if (fcntl(fd, F_SETFL, flags) < 0)
		err = errno;
	else if (o->kind == CKPT_OF_REG && lseek(fd, (off_t)o->pos, SEEK_SET) < 0)
		err = errno;
	else if (o->kind == CKPT_OF_DIR && o->pos)
		lseek(fd, (off_t)o->pos, SEEK_SET); /* a directory position is a hint only */
	if (err) {
		close(fd);
		return err == ESTALE ? ck_fail(e, CK_CHANGED, 0, "fds", path, "%s is another file than at the freeze", path)
				     : ck_fail(e, CK_IO, err, "fds", path, "cannot open %s again", path);
	}
	int moved = to_helper_range(t, fd);
	return moved < 0 ? ck_fail(e, CK_IO, errno, "fds", path, "cannot keep %s open", path) : moved;
}

int files_create(struct thaw *t, struct ck_error *e)
{
	for (size_t i = 0; i < t->img.nofiles; i++)
		if ((t->ofile_fds[i] = reopen(t, &t->img.ofiles[i], e)) < 0)
			return -1;
	return 0;
}

int files_install(const struct thaw *t, int member, int *err)
{
	const struct ckpt_process_image *p = t->members[member].image;
	/* Nothing of ours below the helper range goes along; everything of the member's does. */
	for (int fd = 0; fd < t->helper_base; fd++)
		close(fd);
	for (size_t k = 0; k < p->nfds; k++) {
		const struct ckpt_fd *f = &p->fds[k];
		if (dup2(t->ofile_fds[f->ofile], f->fd) < 0) {
			*err = errno;
			return f->fd;
		}
	}
	return -1;
}
