/*
 * Where the job gets its original PIDs and TIDs.
 *
 * A PID can only be asked for by someone with CAP_CHECKPOINT_RESTORE (or
 * CAP_SYS_ADMIN) over the pid namespace (clone3's set_tid, or ns_last_pid then a
 * fork). Root has it here, and uses it when every ID the job needs is free. Anyone
 * else, and root when an ID is taken, thaws in a new pid namespace, created inside a
 * new user namespace of its own (a one-id uid/gid map of the caller's ids): there
 * the namespace's first process, the reaper, holds every capability, every number is
 * free, and it builds the job, then stays its PID 1 — reaping, and dying with us
 * (parent-death signal), which takes the whole namespace down. Both create a time
 * namespace too, whose CLOCK_MONOTONIC and CLOCK_BOOTTIME continue from where the
 * job's stood at the freeze: deadlines and timers it holds stay right.
 *
 * The price of the user namespace (docs/native.md): files of users other than the
 * caller show as nobody, set-uid programs started inside gain nothing, and processes
 * outside see the job's processes under other numbers.
 */
#include "thawer.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Who holds a number the job needs: nobody, only what may let it go soon, or a live task. */
enum holder { HELD_BY_NONE,
	      HELD_FOR_NOW,
	      HELD_BY_LIVE };

/*
 * Who holds the number `id` here? A process or a thread (/proc/ID exists for both;
 * kill(2) does not see threads), or a process group: a zombie of the job's previous
 * life that nobody has reaped yet keeps its own number and its group's, and clone3
 * then refuses that number as a PID. A zombie goes once reaped; a live task stays.
 */
static enum holder id_holder(pid_t id)
{
	if (id <= 1)
		return HELD_BY_LIVE; /* never the job's; and kill(-1) is everyone */
	struct procfs_stat st;
	if (procfs_stat_read(id, &st) == 0)
		return st.state == 'Z' || st.state == 'X' ? HELD_FOR_NOW : HELD_BY_LIVE;
	char path[32];
	snprintf(path, sizeof path, "/proc/%d", (int)id);
	if (access(path, F_OK) == 0)
		return HELD_FOR_NOW; /* going as we look */
	return kill(-id, 0) == 0 || errno != ESRCH ? HELD_FOR_NOW : HELD_BY_NONE;
}

/* The worse of `so_far` and the holder of `id` (a live holder ends the search: nothing is worse). */
static enum holder worse_holder(enum holder so_far, pid_t id)
{
	if (so_far == HELD_BY_LIVE)
		return so_far;
	enum holder h = id_holder(id);
	return h > so_far ? h : so_far;
}

/* Every ID the job needs here: each member's PID, each thread's TID, its group's; the worst holder. */
static enum holder ids_holder(const struct thaw *t)
{
	const struct ckpt_image *img = &t->img;
	enum holder worst = id_holder(img->job->pgid);
	for (size_t i = 0; i < img->job->nmembers; i++)
		worst = worse_holder(worst, img->members[i].pid);
	for (size_t i = 0; i < img->nprocesses; i++)
		for (size_t k = 0; k < img->processes[i].process->nthreads; k++)
			worst = worse_holder(worst, img->processes[i].threads[k].state->tid);
	return worst;
}

/*
 * The job's IDs, free now or in a moment: a job frozen or ended a moment ago may still
 * have zombies waiting for init to reap them, holding its numbers (an init reaps within
 * milliseconds; one that reaps in batches, as on these test machines, takes a second
 * or more, and the thaw goes to a namespace instead). A live holder is not waited for.
 */
static bool ids_free_soon(const struct thaw *t)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	for (int tries = 0; tries < 10; tries++) {
		enum holder h = ids_holder(t);
		if (h != HELD_FOR_NOW)
			return h == HELD_BY_NONE;
		nanosleep(&pause, NULL);
	}
	return false;
}

int ids_choose(struct thaw *t, bool new_ids, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	if (new_ids) {
		if (img->job->nmembers != 1 || img->processes[0].process->nthreads != 1)
			return ck_fail(e, CK_USAGE, EINVAL, "ids", "",
				       "--new-ids thaws a single process with a single thread; this image holds %u process%s with %u thread%s",
				       img->job->nmembers, img->job->nmembers == 1 ? "" : "es", img->processes[0].process->nthreads,
				       img->processes[0].process->nthreads == 1 ? "" : "s");
		t->ids = IDS_NEW;
		return 0;
	}
	t->ids = geteuid() == 0 && ids_free_soon(t) ? IDS_HERE : IDS_NAMESPACE;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int err = 0;
	if (n < 0)
		err = -errno;
	else if (n != (ssize_t)strlen(text))
		err = -EIO;
	close(fd);
	return err;
}

/* A user namespace of our own, where we are still our own uid and gid, with every capability in it. */
static int enter_user_namespace(struct ck_error *e)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER) < 0)
		return ck_fail(e, errno == EPERM || errno == ENOSPC ? CK_PERMISSION : CK_UNSUPPORTED, errno, "ids", "",
			       "cannot create a user namespace for the job's IDs (try --new-ids for a single process)");
	char map[64];
	int err = write_file("/proc/self/setgroups", "deny");
	if (!err) {
		snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
		err = write_file("/proc/self/uid_map", map);
	}
	if (!err) {
		snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
		err = write_file("/proc/self/gid_map", map);
	}
	return err ? ck_fail(e, CK_INTERNAL, -err, "ids", "", "cannot map our ids into the job's user namespace") : 0;
}

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * A time namespace for our children, its clocks where the job's stood when it was
 * frozen (monotonic time then, plus nothing: a stopped-then-continued process sees the
 * same). Not possible (a new boot's clock behind the job's would go below zero: the
 * kernel refuses): the job keeps this machine's clocks.
 */
static void enter_time_namespace(const struct thaw *t)
{
	const struct ckpt_job *job = t->img.job;
	if (unshare(CLONE_NEWTIME) < 0)
		return;
	char text[128];
	int64_t mono = (int64_t)job->monotonic_ns - clock_ns(CLOCK_MONOTONIC);
	int64_t boot = (int64_t)job->boottime_ns - clock_ns(CLOCK_BOOTTIME);
	/* The kernel wants seconds and a non-negative nanosecond part. */
	snprintf(text, sizeof text, "monotonic %lld %lld\nboottime %lld %lld\n", (long long)(mono >= 0 ? mono / 1000000000 : (mono + 1) / 1000000000 - 1),
		 (long long)(((mono % 1000000000) + 1000000000) % 1000000000),
		 (long long)(boot >= 0 ? boot / 1000000000 : (boot + 1) / 1000000000 - 1),
		 (long long)(((boot % 1000000000) + 1000000000) % 1000000000));
	write_file("/proc/self/timens_offsets", text);
}

/*
 * The namespace's own /proc, in a mount namespace of its own: /proc/PID must mean the
 * namespace's PIDs, for the rebuild and for the job (pid files, ps, /proc/self/task).
 * Our mounts must not reach the outside, while the outside's still reach the job.
 */
int ids_mount_proc(struct ck_error *e)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return ck_fail(e, CK_UNSUPPORTED, errno, "ids", "", "cannot create a mount namespace for the job's /proc");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ck_fail(e, CK_UNSUPPORTED, errno, "ids", "", "cannot mount /proc for the job's pid namespace");
	return 0;
}

int ids_enter(struct thaw *t, pid_t *reaper, struct ck_error *e)
{
	*reaper = 0;
	if (t->ids == IDS_NEW)
		return 0;
	if (t->ids == IDS_NAMESPACE && geteuid() != 0 && enter_user_namespace(e))
		return -1;
	int flags = t->ids == IDS_NAMESPACE ? CLONE_NEWPID : 0;
	if (flags && unshare(flags) < 0)
		return ck_fail(e, CK_UNSUPPORTED, errno, "ids", "", "cannot create a pid namespace for the job's IDs");
	enter_time_namespace(t);
	if (t->ids != IDS_NAMESPACE)
		return 0;
	pid_t pid = fork();
	if (pid < 0)
		return ck_fail(e, CK_IO, errno, "ids", "", "cannot start the job's namespace");
	if (pid == 0) {
		/*
		 * The reaper: PID 1 of the job's namespace. With us it dies, and its namespace
		 * with it. (Its parent is outside: getppid() says 0. Whether we died before the
		 * prctl, its end of our channel tells.)
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		return 0;
	}
	*reaper = pid;
	return 0;
}

pid_t ids_fork(const struct thaw *t, pid_t pid)
{
	if (t->ids == IDS_NEW)
		return fork();
	struct clone_args args = { .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&pid, .set_tid_size = 1 };
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int ids_next(const struct thaw *t, pid_t id)
{
	if (t->ids == IDS_NEW)
		return 0;
	char text[32];
	snprintf(text, sizeof text, "%d", (int)id - 1);
	return write_file("/proc/sys/kernel/ns_last_pid", text);
}
