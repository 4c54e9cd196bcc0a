/*
 * The child between fork and exec: it puts in place what survives an execve
 * (fds, cwd, umask, personality, limits, the blocked mask) and then execs the
 * image's executable, so the kernel itself makes it that program's process.
 * Anything that fails is reported to the parent as a struct child_failure.
 */
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void __attribute__((noreturn)) fail(int fail_fd, enum child_step step, int err, int index)
{
	struct child_failure f = { step, err, index };
	ssize_t n = write(fail_fd, &f, sizeof f);
	(void)n;
	_exit(127);
}

/* Every signal blocked until the program's own mask is loaded; every disposition SIG_DFL. */
static int quiet_signals(void)
{
	uint64_t all = ~0ull;
	/* Raw syscalls: glibc refuses its internal signals 32 and 33, the program may have used them. */
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all) < 0)
		return -errno;
	struct ckpt_sigaction dfl = { 0 };
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
	return 0;
}

static bool inherited(const struct thaw *t, int fd)
{
	for (size_t i = 0; i < t->img.nfds; i++)
		if (t->img.fds[i].fd == fd)
			return fd <= 2 && t->img.fds[i].kind == CKPT_FD_TTY;
	return false;
}

/*
 * An fd placed before f that most likely shared f's open file: the image does not
 * say which descriptors shared one, but same file, flags and offset is what
 * `>out 2>&1` leaves, and sharing keeps their writes from overwriting each other.
 */
static int shared_with(const struct thaw *t, const struct ckpt_fd *f)
{
	for (const struct ckpt_fd *g = t->img.fds; g < f; g++)
		if (g->kind == CKPT_FD_REG && f->kind == CKPT_FD_REG && g->dev == f->dev && g->ino == f->ino &&
		    g->flags == f->flags && g->pos == f->pos && !inherited(t, g->fd))
			return g->fd;
	return -1;
}

/* Does what we opened have the kind of file the image recorded? */
static bool same_kind(const struct ckpt_fd *f, const struct stat *st)
{
	switch (f->kind) {
	case CKPT_FD_REG:
		return S_ISREG(st->st_mode) && st->st_dev == f->dev && st->st_ino == f->ino;
	case CKPT_FD_DIR:
		return S_ISDIR(st->st_mode) && st->st_dev == f->dev && st->st_ino == f->ino;
	default:
		return S_ISCHR(st->st_mode) && (uint32_t)st->st_rdev == f->rdev;
	}
}

/*
 * Open f's file again as f->fd, at f->pos; ESTALE when the path now names another
 * file. The path is the kernel's canonical one: no symlink is followed, and the open
 * does not block (a FIFO swapped in would), then the flags become the image's.
 */
static int reopen(const struct thaw *t, const struct ckpt_fd *f)
{
	if (f->kind == CKPT_FD_TTY)
		return dup2(t->term_helper_fd, f->fd) < 0 ? -errno : 0;
	int twin = shared_with(t, f);
	if (twin >= 0)
		return dup2(twin, f->fd) < 0 ? -errno : 0;
	int flags = (int)f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NONBLOCK),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, image_string(&t->img, f->path), &how, sizeof how);
	if (fd < 0)
		return errno == ELOOP ? -ESTALE : -errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!same_kind(f, &st))
		err = -ESTALE;
	else if (fcntl(fd, F_SETFL, flags) < 0)
		err = -errno;
	else if (f->kind == CKPT_FD_REG && lseek(fd, (off_t)f->pos, SEEK_SET) < 0)
		err = -errno;
	else if (f->kind == CKPT_FD_DIR && f->pos)
		lseek(fd, (off_t)f->pos, SEEK_SET); /* a directory position is a hint only */
	if (!err && fd != f->fd && dup2(fd, f->fd) < 0)
		err = -errno;
	if (fd != f->fd)
		close(fd);
	return err;
}

/* Returns the failing fd number, with *err set; -1 when all went well. */
static int arrange_fds(const struct thaw *t, int *err)
{
	/* Whatever else we hold up there stays behind at exec; the helpers the rebuild needs go along. */
	syscall(SYS_close_range, (unsigned)t->helper_base, ~0u, CLOSE_RANGE_CLOEXEC);
	fcntl(t->image_fd, F_SETFD, 0);
	for (size_t i = 0; i < t->img.nfiles; i++)
		if (t->file_fds[i] >= 0)
			fcntl(t->file_fds[i], F_SETFD, 0);

	for (int fd = 0; fd < t->helper_base; fd++)
		if (!inherited(t, fd))
			close(fd);
	for (size_t i = 0; i < t->img.nfds; i++) {
		const struct ckpt_fd *f = &t->img.fds[i];
		if (inherited(t, f->fd))
			continue;
		if ((*err = -reopen(t, f)))
			return f->fd;
	}
	return -1;
}

static int set_limits(const struct ckpt_process *p, int *err)
{
	for (int r = 0; r < CKPT_NRLIMITS; r++) {
		struct rlimit want = { p->rlimits[r].cur, p->rlimits[r].max }, now;
		if (getrlimit(r, &now) == 0 && now.rlim_cur == want.rlim_cur && now.rlim_max == want.rlim_max)
			continue;
		if (setrlimit(r, &want) < 0) {
			*err = errno;
			return r;
		}
	}
	return -1;
}

void thaw_child(const struct thaw *t, int go_fd, int fail_fd)
{
	const struct ckpt_process *p = t->img.process;
	char go;
	/*
	 * If the thaw dies, the program dies with it: once it runs, nothing else would
	 * take it down (until then, the tracer's EXITKILL does). Checked after arming:
	 * the thaw may have died before.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != t->supervisor)
		_exit(127);
	/* The parent seizes us first: from exec on, we must not run a single instruction untraced. */
	if (read(go_fd, &go, 1) != 1)
		_exit(127);
	int err = -quiet_signals();
	if (err)
		fail(fail_fd, CHILD_SETUP, err, 0);
	int at = arrange_fds(t, &err);
	if (at >= 0)
		fail(fail_fd, CHILD_FDS, err, at);
	if (chdir(image_string(&t->img, p->cwd)) < 0)
		fail(fail_fd, CHILD_CWD, errno, 0);
	umask(p->umask);
	personality(p->personality);
	if ((at = set_limits(p, &err)) >= 0)
		fail(fail_fd, CHILD_RLIMIT, err, at);

	char comm[sizeof p->comm + 1] = { 0 };
	memcpy(comm, p->comm, sizeof p->comm);
	char *argv[] = { comm, NULL }, *envp[] = { NULL };
	/* Exec the very file prepare checked (an fd, not a path that could be swapped meanwhile). */
	syscall(SYS_execveat, t->file_fds[0], "", argv, envp, AT_EMPTY_PATH);
	fail(fail_fd, CHILD_EXEC, errno, 0);
}
