/*
 * After the release: waiting for the job, keeping job control working, and ending the
 * way the job ended.
 *
 * The shell's job is the thaw (its process group); the job itself runs in its own
 * process group with the terminal, as it had. When the job stops (^Z), the shell must
 * see its job stop: the thaw stops itself; when the shell continues it (`fg` gives it
 * the terminal, `bg` does not) the thaw hands the terminal back to the job's group if
 * it has it, and continues the job. When the job's processes at its top have all
 * ended, the thaw ends like the one whose status the shell reports (a pipeline's last).
 *
 * In a namespace of its own the job's parent is the reaper, which reports to the thaw
 * over a socket pair (struct event); otherwise the thaw is the job's parent itself.
 * With --new-ids the program is in the thaw's own group and the shell's job control
 * reaches it directly.
 */
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* End the way the job ended: same exit status, or the same signal (without a core of ours). */
static void __attribute__((noreturn)) end_like(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	int sig = WTERMSIG(status);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Signals whose default is to be ignored cannot end us: say it the shell's way. */
	exit(128 + sig);
}

/* Its pid in its innermost pid namespace: the last number of its NSpid line. */
static pid_t innermost_pid(pid_t pid)
{
	char *status;
	if (procfs_read(pid, "status", &status, NULL))
		return 0;
	pid_t inner = (pid_t)procfs_innermost(status, "NSpid");
	free(status);
	return inner;
}

pid_t thaw_outer_pid(const struct thaw *t, pid_t reaper)
{
	if (!reaper)
		return t->members[0].pid;
	char name[64], *children;
	snprintf(name, sizeof name, "task/%d/children", (int)reaper);
	if (procfs_read(reaper, name, &children, NULL))
		return 0;
	pid_t found = 0;
	for (char *at = children, *end; !found && *at; at = end) {
		pid_t child = (pid_t)strtol(at, &end, 10);
		if (end == at)
			break;
		if (innermost_pid(child) == t->img.members[0].pid)
			found = child;
	}
	free(children);
	return found;
}

/* The job's group as we see it. */
static pid_t job_group(const struct thaw *t, pid_t reaper)
{
	if (!reaper)
		return t->img.job->pgid;
	pid_t pgid = getpgid(thaw_outer_pid(t, reaper));
	return pgid > 0 ? pgid : 0;
}

/*
 * Is the job stopped, as a shell counts a job: every process at its top (the children
 * of parent: us, or the reaper) stopped, or ended? Each of a pipeline's processes
 * reports its stop: the first may come before the others have stopped, and once we
 * have stopped with the job and been continued, the others' reports of that same stop
 * are old news (the continue has undone it).
 */
static bool tops_stopped(pid_t parent)
{
	char name[64], *children;
	snprintf(name, sizeof name, "task/%d/children", (int)parent);
	if (procfs_read(parent, name, &children, NULL))
		return false;
	bool stopped = false, running = false;
	for (char *at = children, *end; *at; at = end) {
		pid_t child = (pid_t)strtol(at, &end, 10);
		if (end == at)
			break;
		struct procfs_stat st;
		if (procfs_stat_read(child, &st))
			continue;
		stopped = stopped || st.state == 'T';
		running = running || (st.state != 'T' && st.state != 'Z' && st.state != 'X');
	}
	free(children);
	return stopped && !running;
}

/* The job stopped: stop with it, so the shell sees its job stop; once continued, continue it. */
static void stop_with_job(const struct thaw *t, pid_t job, pid_t parent, int sig)
{
	if (job <= 0 || !tops_stopped(parent))
		return;
	kill(-job, sig);
	/* Stop signals a job may get from the terminal stop us the same way; any other one, SIGSTOP. */
	raise(sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ? sig : SIGSTOP);
	/* `fg` gave us the terminal: the job's group takes it back; `bg` did not. */
	if (t->term_fd >= 0 && tcgetpgrp(t->term_fd) == getpgrp())
		tcsetpgrp(t->term_fd, job);
	kill(-job, SIGCONT);
}

/* Is it the member at the job's top with this pid (the thaw's or the reaper's child)? */
static int top_member(const struct thaw *t, pid_t pid)
{
	for (size_t i = 0; i < t->img.job->nmembers; i++)
		if (t->members[i].pid == pid && t->img.members[i].parent < 0)
			return (int)i;
	return -1;
}

/*
 * Wait for the job's top members; each event goes to on_event (stopped: the signal;
 * ended: the status of the member the shell reports). Returns only for the end.
 */
static int watch_job(struct thaw *t, void (*on_stop)(struct thaw *, int sig), int *status)
{
	size_t left = 0;
	for (size_t i = 0; i < t->img.job->nmembers; i++)
		left += t->img.members[i].parent < 0;
	int reported = 0;
	while (left) {
		int st;
		pid_t pid = waitpid(-1, &st, WUNTRACED);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int m = top_member(t, pid);
		if (m < 0)
			continue; /* an orphan of the namespace, collected */
		if (WIFSTOPPED(st)) {
			on_stop(t, WSTOPSIG(st));
			continue;
		}
		if (m == t->img.job->status_member)
			reported = st;
		left--;
	}
	*status = reported;
	return 0;
}

/* --new-ids: the program stopped by itself (not with its whole job from the terminal): stop the job too. */
static void stop_new_ids_job(struct thaw *t, int sig)
{
	struct procfs_stat st;
	if (procfs_stat_read(t->members[0].pid, &st) == 0 && st.state == 'T')
		kill(0, sig);
}

static void stop_own_job(struct thaw *t, int sig)
{
	stop_with_job(t, job_group(t, 0), getpid(), sig);
}

int thaw_supervise(struct thaw *t)
{
	int status;
	int err = watch_job(t, t->ids == IDS_NEW ? stop_new_ids_job : stop_own_job, &status);
	if (err)
		return err;
	end_like(status);
}

/* ---- a job in a namespace of its own: the reaper and the thaw talk ---- */

enum event_kind {
	EVENT_READY = 1, /* built, stopped: the thaw may print */
	EVENT_FAILED, /* nothing runs: error says why */
	EVENT_STOPPED, /* value: the signal */
	EVENT_ENDED, /* value: the status the shell reports */
};

struct event {
	int32_t kind, value;
	struct thaw_stats stats;
	int32_t cls, err;
	char stage[16];
	char message[1024];
};

static int channel = -1; /* the reaper's end, for its on_stop */

static void send_event(int fd, const struct event *ev)
{
	ssize_t n = write(fd, ev, sizeof *ev);
	(void)n;
}

static void report_stop(struct thaw *t, int sig)
{
	(void)t;
	send_event(channel, &(struct event){ .kind = EVENT_STOPPED, .value = sig });
}

int reaper_main(struct thaw *t, int fd)
{
	channel = fd;
	struct ck_error e = { 0 };
	struct event ev = { .kind = EVENT_READY };
	if (ids_mount_proc(&e) || thaw_build(t, &e)) {
		thaw_abandon(t);
		ev = (struct event){ .kind = EVENT_FAILED, .cls = e.cls, .err = e.err };
		snprintf(ev.stage, sizeof ev.stage, "%s", e.stage);
		snprintf(ev.message, sizeof ev.message, "%s", e.message);
		send_event(fd, &ev);
		return e.cls;
	}
	ev.stats = t->stats;
	send_event(fd, &ev);
	char go;
	if (read(fd, &go, 1) != 1 || thaw_release(t, go == 'f', &e)) {
		thaw_abandon(t);
		return CK_INTERNAL;
	}
	int status;
	if (watch_job(t, report_stop, &status))
		return CK_INTERNAL;
	send_event(fd, &(struct event){ .kind = EVENT_ENDED, .value = status });
	return 0;
}

int reaper_wait_ready(struct thaw *t, int fd, struct ck_error *e)
{
	struct event ev;
	if (read(fd, &ev, sizeof ev) != sizeof ev)
		return ck_fail(e, CK_INTERNAL, EIO, "spawn", "", "the job's namespace ended before the job was built");
	if (ev.kind == EVENT_FAILED) {
		static char stage[16];
		snprintf(stage, sizeof stage, "%s", ev.stage);
		return ck_fail(e, (enum ck_class)ev.cls, ev.err, stage, "", "%s", ev.message);
	}
	t->stats = ev.stats;
	return 0;
}

int reaper_supervise(struct thaw *t, pid_t reaper, int fd)
{
	/* Whether we hold the terminal to give: the reaper cannot tell our group from inside its namespace. */
	if (write(fd, thaw_in_foreground(t) ? "f" : "b", 1) != 1)
		return -EIO;
	for (;;) {
		struct event ev;
		ssize_t n = read(fd, &ev, sizeof ev);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof ev)
			return -EIO; /* the reaper died: its namespace, and the job, with it */
		if (ev.kind == EVENT_STOPPED)
			stop_with_job(t, job_group(t, reaper), reaper, ev.value);
		else if (ev.kind == EVENT_ENDED)
			end_like(ev.value);
	}
}
