/* Fork the child, trace it from before its exec, and stop it right after the exec. */
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const rlimit_names[CKPT_NRLIMITS] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static int describe_failure(const struct thaw *t, const struct child_failure *f, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	const char *cwd = image_string(img, img->process->cwd);
	const char *exe = image_string(img, img->process->exe);
	switch (f->step) {
	case CHILD_FDS: {
		const char *path = "";
		for (size_t i = 0; i < img->nfds; i++)
			if (img->fds[i].fd == f->index)
				path = image_string(img, img->fds[i].path);
		if (f->err == ESTALE)
			return ck_fail(e, CK_CHANGED, 0, "fds", path, "%s (open as fd %d) is another file than at the freeze",
				       path, f->index);
		if (f->err == ENOENT || f->err == ENOTDIR)
			return ck_fail(e, CK_CHANGED, f->err, "fds", path, "%s (open as fd %d) no longer exists", path, f->index);
		return ck_fail(e, f->err == EACCES || f->err == EPERM ? CK_PERMISSION : CK_IO, f->err, "fds", path,
				 "cannot open %s again as fd %d", path, f->index);
	}
	case CHILD_CWD:
		if (f->err == ENOENT || f->err == ENOTDIR)
			return ck_fail(e, CK_CHANGED, f->err, "cwd", cwd, "the working directory %s no longer exists", cwd);
		return ck_fail(e, CK_PERMISSION, f->err, "cwd", cwd, "cannot enter the working directory %s", cwd);
	case CHILD_RLIMIT: {
		const char *name = f->index >= 0 && f->index < CKPT_NRLIMITS ? rlimit_names[f->index] : "a resource limit";
		return ck_fail(e, f->err == EPERM ? CK_PERMISSION : CK_UNSUPPORTED, f->err, "rlimits", "",
				 "cannot set %s as the image has it (a hard limit above this shell's?)", name);
	}
	case CHILD_EXEC:
		return ck_fail(e, f->err == EACCES || f->err == EPERM ? CK_PERMISSION : CK_IO, f->err, "exec", exe,
				 "cannot execute %s", exe);
	default:
		return ck_fail(e, CK_INTERNAL, f->err, "spawn", "", "the child could not be set up");
	}
}

/* Wait for the next stop of pid; -ESRCH if it ended instead. */
static int next_stop(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSTOPPED(status) ? status : -ESRCH;
}

/* Parent side: from the exec event to the execve's syscall-exit stop, where registers may be set freely. */
static int reach_exec_exit(pid_t pid)
{
	for (;;) {
		int status = next_stop(pid);
		if (status < 0)
			return status;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			break;
		/* Every signal is blocked: only a group-stop can come first. Go on past it. */
		if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
			return -errno;
	}
	/*
	 * At the exec event we are still inside execve: its return value would overwrite
	 * rax after we resume, so the first injected syscall would run as read(). At the
	 * syscall-exit stop the return value is already in place.
	 */
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
			return -errno;
		int status = next_stop(pid);
		if (status < 0)
			return status;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
	}
}

static int high_pipe(const struct thaw *t, int fds[2])
{
	int raw[2];
	if (pipe2(raw, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, t->helper_base);
		close(raw[i]);
	}
	return fds[0] < 0 || fds[1] < 0 ? -1 : 0;
}

int thaw_spawn(struct thaw *t, struct infect *tracee, struct ck_error *e)
{
	int go[2], failed[2];
	if (high_pipe(t, go) < 0 || high_pipe(t, failed) < 0)
		return ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot create a pipe");
	pid_t pid = fork();
	if (pid < 0)
		return ck_fail(e, CK_IO, errno, "spawn", "", "cannot fork");
	if (pid == 0) {
		close(go[1]);
		close(failed[0]);
		thaw_child(t, go[0], failed[1]);
	}
	close(go[0]);
	close(failed[1]);
	/* EXITKILL: if we die before the program is whole, the half-built process dies with us. */
	long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	int ret = 0;
	if (ptrace(PTRACE_SEIZE, pid, 0, options) < 0)
		ret = ck_fail(e, CK_PERMISSION, errno, "spawn", "", "cannot trace the new process");
	else if (write(go[1], "g", 1) != 1)
		ret = ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot start the new process");
	close(go[1]);

	struct child_failure f;
	ssize_t n = 0;
	while (!ret && (n = read(failed[0], &f, sizeof f)) < 0 && errno == EINTR)
		;
	close(failed[0]);
	if (!ret && n == sizeof f)
		ret = describe_failure(t, &f, e);
	else if (!ret && n != 0)
		ret = ck_fail(e, CK_INTERNAL, n < 0 ? errno : EIO, "spawn", "", "lost the new process");

	int err;
	if (!ret && (err = reach_exec_exit(pid)))
		ret = ck_fail(e, CK_INTERNAL, -err, "spawn", "", "the new process did not stop after exec");
	if (!ret && (err = infect_adopt(tracee, pid)))
		ret = ck_fail(e, CK_INTERNAL, -err, "spawn", "", "cannot take over the new process");
	if (ret)
		thaw_abandon(pid);
	return ret;
}

void thaw_abandon(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}
