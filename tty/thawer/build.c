/*
 * Building the job, in the builder (the reaper in a namespace of its own, else the
 * thaw itself): the job's open files, then the process tree, each member traced from
 * before its exec and rebuilt from its exec on, its threads last. Nothing runs until
 * thaw_release(); anything that fails takes down what was built.
 */
#include "thawer.h"
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const rlimit_names[CKPT_NRLIMITS] = {
	"RLIMIT_CPU",
	"RLIMIT_FSIZE",
	"RLIMIT_DATA",
	"RLIMIT_STACK",
	"RLIMIT_CORE",
	"RLIMIT_RSS",
	"RLIMIT_NPROC",
	"RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK",
	"RLIMIT_AS",
	"RLIMIT_LOCKS",
	"RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE",
	"RLIMIT_NICE",
	"RLIMIT_RTPRIO",
	"RLIMIT_RTTIME",
};

/* The words for what a member's pre-exec copy reported. */
static int describe_failure(const struct thaw *t, const struct child_failure *f, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	const struct ckpt_member *member = &img->members[f->member];
	char who[64];
	snprintf(who, sizeof who, "%.16s[%d]", member->comm, (int)member->pid);
	const struct ckpt_process_image *p = t->members[f->member].image;
	switch (f->step) {
	case CHILD_FDS:
		return ck_fail(e, f->err == EACCES || f->err == EPERM ? CK_PERMISSION : f->err == ESTALE || f->err == ENOENT ? CK_CHANGED
															     : CK_IO,
			       f->err == ESTALE ? 0 : f->err, "fds", "", "%s: cannot open fd %d again%s", who, f->index,
			       f->err == ESTALE ? ": it is another file than at the freeze" : "");
	case CHILD_CWD: {
		const char *cwd = image_string(p, p->process->cwd);
		if (f->err == ENOENT || f->err == ENOTDIR)
			return ck_fail(e, CK_CHANGED, f->err, "cwd", cwd, "the working directory %s no longer exists", cwd);
		return ck_fail(e, CK_PERMISSION, f->err, "cwd", cwd, "cannot enter the working directory %s", cwd);
	}
	case CHILD_RLIMIT: {
		const char *name = f->index >= 0 && f->index < CKPT_NRLIMITS ? rlimit_names[f->index] : "a resource limit";
		return ck_fail(e, f->err == EPERM ? CK_PERMISSION : CK_UNSUPPORTED, f->err, "rlimits", "",
			       "%s: cannot set %s as the image has it (a hard limit above this shell's?)", who, name);
	}
	case CHILD_EXEC: {
		const char *exe = image_string(p, p->process->exe);
		return ck_fail(e, f->err == EACCES || f->err == EPERM ? CK_PERMISSION : CK_IO, f->err, "exec", exe,
			       "cannot execute %s", exe);
	}
	case CHILD_FORK: {
		const struct ckpt_member *child = &img->members[f->index];
		return ck_fail(e, f->err == EEXIST ? CK_UNSUPPORTED : CK_INTERNAL, f->err, "ids", "",
			       "cannot give %.16s its process id %d%s", child->comm, (int)child->pid,
			       f->err == EEXIST ? ": another process has it" : "");
	}
	case CHILD_PGRP:
		return ck_fail(e, CK_INTERNAL, f->err, "ids", "", "%s: cannot join the job's process group %d", who, (int)img->job->pgid);
	default:
		return ck_fail(e, CK_INTERNAL, f->err, "spawn", "", "%s could not be set up", who);
	}
}

/* The next stop of pid; -ESRCH if it ended instead. */
static int next_stop(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSTOPPED(status) ? status : -ESRCH;
}

/* From the exec event to the execve's syscall-exit stop, where registers may be set freely. */
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

/* A pipe in the helper range, close-on-exec: what the pre-exec copies talk to us and wait on. */
static int helper_pipe(const struct thaw *t, int fds[2])
{
	int raw[2];
	if (pipe2(raw, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		fds[i] = to_helper_range(t, raw[i]);
	return fds[0] < 0 || fds[1] < 0 ? -1 : 0;
}

/*
 * The group's leader, when it is not a live member (a pipeline's first process that had
 * ended): a placeholder with its PID makes the group, and goes once the members joined.
 */
static pid_t make_group(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	if (t->ids == IDS_NEW)
		return 0;
	for (size_t i = 0; i < img->job->nmembers; i++)
		if (img->members[i].pid == img->job->pgid)
			return 0;
	pid_t pid = ids_fork(t, img->job->pgid);
	if (pid < 0)
		return ck_fail(e, errno == EEXIST ? CK_UNSUPPORTED : CK_INTERNAL, errno, "ids", "",
			       "cannot make the job's process group %d", (int)img->job->pgid);
	if (pid == 0) {
		fault_point("placeholder"); /* the tests hold it here, as a busy machine may */
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	/* As a shell does, both of us: the members join the group as soon as they are told to go. */
	if (setpgid(pid, pid) < 0) {
		int err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return ck_fail(e, CK_INTERNAL, err, "ids", "", "cannot make the job's process group %d", (int)img->job->pgid);
	}
	return pid;
}

/*
 * Trace member m's copy from before its exec, let it go, rebuild it from its exec on.
 * reports: the read end of the pipe a copy says on what failed before its exec.
 */
static int take_member(struct thaw *t, int m, pid_t pid, int reports, struct ck_error *e)
{
	struct member_thaw *mt = &t->members[m];
	mt->pid = pid;
	if (!mt->image) {
		/* A zombie: it ends at once, for its parent to collect. */
		return write(mt->go[1], "g", 1) == 1 ? 0 : ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot start a process");
	}
	/* EXITKILL: if we die before the program is whole, the half-built process dies with us. */
	long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, pid, 0, options) < 0)
		return ck_fail(e, CK_PERMISSION, errno, "spawn", "", "cannot trace the new process");
	if (write(mt->go[1], "g", 1) != 1)
		return ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot start the new process");
	int err = reach_exec_exit(pid);
	if (err == -ESRCH) {
		/*
		 * It could not exec: its report says why, written before it ended (a copy killed
		 * by a signal said nothing), after other copies' "here" in any order.
		 */
		struct child_failure f;
		struct pollfd said = { .fd = reports, .events = POLLIN };
		while (poll(&said, 1, 0) == 1 && read(reports, &f, sizeof f) == sizeof f)
			if (f.step)
				return describe_failure(t, &f, e);
	}
	mt->threads = calloc(mt->image->process->nthreads, sizeof *mt->threads);
	if (!mt->threads)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "spawn", "", "out of memory");
	mt->nthreads = 1;
	if (err || (err = infect_adopt(&mt->threads[0], pid)))
		return ck_fail(e, CK_INTERNAL, -err, "spawn", "", "the new process did not stop after exec");
	return thaw_rebuild(t, mt, e) || thaw_threads(t, mt, e);
}

/*
 * Before its exec, a live member's copy waits for its zombie children to end (child.c,
 * forget_zombie_signals), and they end only once told to go: the builder, which waits
 * for that exec, must have told them first.
 */
static bool zombie_children_gone(const struct thaw *t, size_t m)
{
	const struct ckpt_image *img = &t->img;
	for (size_t c = 0; c < img->job->nmembers; c++)
		if (img->members[c].parent == (int32_t)m && img->members[c].state == CKPT_MEMBER_ZOMBIE && !t->members[c].pid)
			return false;
	return true;
}

int thaw_build(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	size_t n = img->job->nmembers;
	int report[2];
	if (files_create(t, e))
		return -1;
	if (helper_pipe(t, report) < 0)
		return ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot create a pipe");
	t->fail_fd = report[1];
	for (size_t i = 0; i < n; i++)
		if (helper_pipe(t, t->members[i].go) < 0)
			return ck_fail(e, CK_INTERNAL, errno, "spawn", "", "cannot create a pipe");
	pid_t group = make_group(t, e);
	if (group < 0)
		return -1;

	for (size_t i = 0; i < n; i++) {
		if (img->members[i].parent >= 0)
			continue; /* its parent's copy makes it */
		pid_t pid = ids_fork(t, img->members[i].pid);
		if (pid < 0) {
			struct child_failure f = { 0, CHILD_FORK, errno, (int)i };
			return describe_failure(t, &f, e);
		}
		if (pid == 0) {
			close(report[0]);
			thaw_child(t, (int)i);
		}
	}
	/*
	 * Each copy says it exists (or what failed) on the report pipe, in whatever order
	 * they come; the group's leader joins first, so the others wait for it.
	 */
	int ret = 0;
	size_t seen = 0;
	pid_t *pids = calloc(n, sizeof *pids);
	int leader = -1;
	for (size_t i = 0; i < n && t->ids != IDS_NEW; i++)
		if (img->members[i].pid == img->job->pgid)
			leader = (int)i;
	bool leader_ready = leader < 0;
	for (size_t taken = 0; !ret && taken < n;) {
		struct child_failure f;
		if (seen < n) {
			ssize_t got = read(report[0], &f, sizeof f);
			if (got != sizeof f) {
				ret = ck_fail(e, CK_INTERNAL, got < 0 ? errno : EIO, "spawn", "", "lost a new process");
				break;
			}
			if (f.step) {
				ret = describe_failure(t, &f, e);
				break;
			}
			pids[f.member] = f.index;
			seen++;
			leader_ready = leader_ready || f.member == leader;
		}
		/* Take every member that is ready and may go now: the leader first, zombies before live members. */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n && !ret; i++) {
				bool zombie = t->members[i].image == NULL;
				if (!pids[i] || t->members[i].pid || (!leader_ready && (int)i != leader) ||
				    zombie != (pass == 0) || !zombie_children_gone(t, i))
					continue;
				ret = take_member(t, (int)i, pids[i], report[0], e);
				taken++;
			}
		if (!ret && seen == n && taken < n && !leader_ready)
			ret = ck_fail(e, CK_INTERNAL, 0, "spawn", "", "the job's group leader never came");
	}
	free(pids);
	close(report[0]);
	/* Every member holds its descriptors now: ours would keep pipes from ever reaching their end. */
	files_close(t);
	if (group > 0) {
		kill(group, SIGKILL);
		waitpid(group, NULL, 0);
	}
	return ret;
}

void thaw_abandon(struct thaw *t)
{
	if (!t->members)
		return;
	for (size_t i = 0; i < t->img.job->nmembers; i++) {
		struct member_thaw *m = &t->members[i];
		if (m->pid > 0)
			kill(m->pid, SIGKILL);
	}
	/* Ours to collect, and orphans of the namespace: none is left. */
	while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
		;
}
