/*
 * A member's pre-exec copy of the builder, between its fork and its exec: it makes
 * the member's children (so that they are its children, with their PIDs), joins the
 * job's process group, reports that it exists, waits for the builder to trace it, then
 * puts in place what survives an execve (descriptors, cwd, umask, personality,
 * limits, the blocked mask) and executes the member's executable, so the kernel itself
 * makes it that program's process. A zombie member instead ends the way it had ended.
 * Anything that fails is reported to the builder as a struct child_failure.
 */
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const struct thaw *t, int member, enum child_step step, int err, int index)
{
	struct child_failure f = { member, step, err, index };
	ssize_t n = write(t->fail_fd, &f, sizeof f);
	(void)n;
}

static void __attribute__((noreturn)) fail(const struct thaw *t, int member, enum child_step step, int err, int index)
{
	report(t, member, step, err, index);
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

/*
 * End as the zombie had ended: its parent collects the same status (no core of ours),
 * and under its name (not ours: a freeze of the job now shows the program's).
 */
static void __attribute__((noreturn)) end_like_zombie(const struct ckpt_member *zombie)
{
	prctl(PR_SET_NAME, comm_text(zombie->comm).text);
	int status = zombie->wait_status;
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	struct ckpt_sigaction dfl = { 0 };
	syscall(SYS_rt_sigaction, WTERMSIG(status), &dfl, NULL, sizeof(uint64_t));
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
	syscall(SYS_kill, getpid(), WTERMSIG(status));
	_exit(128 + WTERMSIG(status));
}

/* Our children in the job, each forked with its PID, each its own pre-exec copy. */
static void fork_children(struct thaw *t, int m)
{
	const struct ckpt_image *img = &t->img;
	for (size_t c = 0; c < img->job->nmembers; c++) {
		if (img->members[c].parent != m)
			continue;
		pid_t pid = ids_fork(t, img->members[c].pid);
		if (pid < 0)
			fail(t, m, CHILD_FORK, errno, (int)c);
		if (pid == 0)
			thaw_child(t, (int)c);
	}
}

/* A zombie child of ours has ended: collect the SIGCHLD it sent, which the program would have had long ago. */
static void forget_zombie_signals(const struct thaw *t, int m)
{
	const struct ckpt_image *img = &t->img;
	for (size_t c = 0; c < img->job->nmembers; c++) {
		if (img->members[c].parent != m || img->members[c].state != CKPT_MEMBER_ZOMBIE)
			continue;
		siginfo_t info;
		/* Wait for its end without collecting it: the program's wait() does. */
		while (waitid(P_PID, (id_t)img->members[c].pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
	}
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	struct timespec now = { 0, 0 };
	while (sigtimedwait(&chld, NULL, &now) == SIGCHLD)
		;
}

void thaw_child(struct thaw *t, int m)
{
	const struct ckpt_image *img = &t->img;
	const struct ckpt_member *member = &img->members[m];
	/*
	 * At the top of the job under our own PID namespace, the program dies with the thaw
	 * (in a namespace of its own, the namespace's end takes it down). Checked after
	 * arming: the thaw may have died before.
	 */
	if (member->parent < 0 && t->ids != IDS_NAMESPACE &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != t->supervisor))
		_exit(127);
	/*
	 * Only the builder says go: with no other copy holding a write end, a builder that
	 * died leaves us the end of the file, not a wait forever (a member's child below the
	 * top has no parent-death signal: it would outlive the thaw as the program).
	 */
	for (size_t i = 0; i < img->job->nmembers; i++)
		close(t->members[i].go[1]);
	int err = -quiet_signals();
	if (err)
		fail(t, m, CHILD_SETUP, err, 0);
	bool own_group = t->ids != IDS_NEW;
	if (own_group && member->pid == img->job->pgid && setpgid(0, 0) < 0)
		fail(t, m, CHILD_PGRP, errno, 0);
	fork_children(t, m);
	report(t, m, 0, 0, (int)getpid());
	/* The builder traces us first: from exec on, we must not run a single instruction untraced. */
	char go;
	if (read(t->members[m].go[0], &go, 1) != 1)
		_exit(127);
	if (own_group && member->pid != img->job->pgid && setpgid(0, img->job->pgid) < 0)
		fail(t, m, CHILD_PGRP, errno, 0);
	if (member->state == CKPT_MEMBER_ZOMBIE)
		end_like_zombie(member);
	forget_zombie_signals(t, m);

	const struct ckpt_process_image *pi = t->members[m].image;
	const struct ckpt_process *p = pi->process;
	int at = files_install(t, m, &err);
	if (at >= 0)
		fail(t, m, CHILD_FDS, err, at);
	if (chdir(image_string(pi, p->cwd)) < 0)
		fail(t, m, CHILD_CWD, errno, 0);
	umask(p->umask);
	personality(p->personality);
	if ((at = set_limits(p, &err)) >= 0)
		fail(t, m, CHILD_RLIMIT, err, at);
	/* The image, the member's files and the objects it maps go along through the exec; the rebuild closes them after. */
	fcntl(t->image_fd, F_SETFD, 0);
	for (size_t i = 0; i < pi->nfiles; i++)
		if (t->members[m].file_fds[i] >= 0)
			fcntl(t->members[m].file_fds[i], F_SETFD, 0);
	for (size_t i = 0; i < pi->nvmas; i++)
		if (pi->vmas[i].kind == CKPT_VMA_OBJECT)
			fcntl(t->object_fds[pi->vmas[i].file], F_SETFD, 0);

	struct comm_text comm = comm_text(p->comm);
	char *argv[] = { comm.text, NULL }, *envp[] = { NULL };
	/* Exec the very file prepare checked (an fd, not a path that could be swapped meanwhile). */
	syscall(SYS_execveat, t->members[m].file_fds[0], "", argv, envp, AT_EMPTY_PATH);
	fail(t, m, CHILD_EXEC, errno, 0);
}
