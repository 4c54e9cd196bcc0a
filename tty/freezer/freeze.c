/*
 * The freeze itself (freeze.h): target, seize and check, capture, write, commit, then
 * end the job or let it run on. Every failure releases every task as it was seized.
 */
#include "fault.h"
#include "freeze.h"
#include "procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The job's clocks as it sees them: ours, moved by the time namespace offsets of its own. */
static void read_job_clocks(struct job *job)
{
	job->freeze_time_ns = clock_ns(CLOCK_REALTIME);
	job->monotonic_ns = clock_ns(CLOCK_MONOTONIC);
	job->boottime_ns = clock_ns(CLOCK_BOOTTIME);
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/timens_offsets", (int)job->members[0].pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof line, f)) {
		char clock[32];
		long long sec, nsec;
		if (sscanf(line, "%31s %lld %lld", clock, &sec, &nsec) != 3)
			continue;
		int64_t offset = sec * 1000000000ll + nsec;
		if (!strcmp(clock, "monotonic"))
			job->monotonic_ns = (uint64_t)((int64_t)job->monotonic_ns + offset);
		else if (!strcmp(clock, "boottime"))
			job->boottime_ns = (uint64_t)((int64_t)job->boottime_ns + offset);
	}
	if (f)
		fclose(f);
}

/* POSIX timers name their thread as we see it; the image keeps what the process sees. */
static void localise_timer_threads(struct capture *c)
{
	struct ckpt_timer *timers = (struct ckpt_timer *)c->timers.data;
	for (size_t i = 0; i < c->timers.len / sizeof *timers; i++)
		for (size_t k = 0; k < c->nthreads; k++)
			if (timers[i].notify_tid && timers[i].notify_tid == c->threads[k].t.pid)
				timers[i].notify_tid = c->threads[k].state.tid;
}

static int capture_job(struct job *job, struct ck_error *e)
{
	read_job_clocks(job);
	int ret = 0;
	for (size_t i = 0; i < job->nmembers && !ret; i++) {
		struct capture *c = &job->members[i];
		if (!c->zombie && (ret = capture_state(job, c, e)))
			job_blame(job, c->pid, c->comm, e);
		localise_timer_threads(c);
	}
	if (!ret)
		ret = capture_files(job, e);
	for (size_t i = 0; i < job->nmembers && !ret; i++) {
		struct capture *c = &job->members[i];
		if (!c->zombie && (ret = capture_memory(job, c, e)))
			job_blame(job, c->pid, c->comm, e);
	}
	return ret;
}

/* Every live member's tasks: e.g. to arm them all. */
static int for_each_task(struct job *job, int (*act)(struct infect *))
{
	for (size_t i = 0; i < job->nmembers; i++)
		for (size_t k = 0; k < job->members[i].nthreads; k++) {
			int err = act(&job->members[i].threads[k].t);
			if (err)
				return err;
		}
	return 0;
}

/* The other threads of a process we ended: the kernel killed them; collect them (they are traced by us). */
static void collect_threads(struct capture *c)
{
	for (size_t k = 1; k < c->nthreads; k++) {
		int status;
		while (waitpid(c->threads[k].t.pid, &status, __WALL) >= 0 && !WIFEXITED(status) && !WIFSIGNALED(status))
			ptrace(PTRACE_CONT, c->threads[k].t.pid, 0, 0);
		c->threads[k].t.state = INFECT_DETACHED;
	}
}

/*
 * ptrace said ESRCH for a task we held: SIGKILL wakes a tracee (the kernel kills what is
 * left of a pid namespace whose init ended). Still our tracee, it reports its end to us;
 * then there is nothing left to end.
 */
static bool killed_meanwhile(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return errno == ECHILD; /* collected already: an injection's wait saw it end */
	return WIFEXITED(status) || WIFSIGNALED(status);
}

/* Is c a child of member p in p's own pid namespace, where p knows it by its ns_pid? */
static bool collectable_child(const struct job *job, const struct capture *c, size_t p)
{
	int32_t parent = job->members[p].ns_pid;
	return c->parent == (int)p && parent && c->ns_ppid == parent;
}

/*
 * Before member p's children in the job end (children first, in end_job), p has the
 * kernel collect them as they end (SIGCHLD ignored), and collects those that had ended
 * already. Left to init once p ends, they would keep their PIDs and their group's until
 * init reaps them, which some inits do in batches a second apart (these machines' does),
 * and a thaw straight after would wait for them, then give the job new IDs. p ends next:
 * nothing depends on its SIGCHLD any more (the image has the disposition it had). A
 * courtesy to the next thaw: whatever fails here, p ends as it would have.
 */
static void collect_children_as_they_end(struct job *job, size_t p)
{
	struct infect *t = &job->members[p].threads[0].t;
	bool children = false;
	for (size_t i = 0; i < job->nmembers; i++)
		children |= collectable_child(job, &job->members[i], p);
	if (!children)
		return;
	/* The kernel's struct sigaction, put below the red zone of p's stack: free stack. */
	const struct {
		uint64_t handler, flags, restorer, mask;
	} ignore = { (uint64_t)(uintptr_t)SIG_IGN, 0, 0, 0 };
	uint64_t at = (t->regs.rsp - 128 - sizeof ignore) & ~15ull;
	long ret, args[6] = { SIGCHLD, (long)at, 0, sizeof ignore.mask, 0, 0 };
	int err = infect_write(t, at, &ignore, sizeof ignore);
	if (!err)
		err = infect_syscall(t, SYS_rt_sigaction, args, &ret);
	for (size_t i = 0; i < job->nmembers && !err; i++) {
		const struct capture *c = &job->members[i];
		if (c->zombie && collectable_child(job, c, p)) {
			long collect[6] = { c->ns_pid, 0, __WALL | WNOHANG, 0, 0, 0 };
			err = infect_syscall(t, SYS_wait4, collect, &ret);
		}
	}
	infect_hold(t);
}

/*
 * Until member p's children in the job are gone (collected as they ended, above), up to
 * CHILDREN_GONE_MS: a parent that ended first would hand a child still ending to init
 * all the same. A child ends in well under a millisecond unless it frees much memory (a
 * tenth of a second for a GiB); one still there after that is left to init.
 */
#define CHILDREN_GONE_MS 50
static void await_children_gone(const struct job *job, size_t p)
{
	const struct timespec pause = { 0, 100 * 1000 };
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + CHILDREN_GONE_MS * 1000000ull;
	for (size_t i = 0; i < job->nmembers; i++) {
		const struct capture *c = &job->members[i];
		if (!collectable_child(job, c, p))
			continue;
		struct procfs_stat st;
		while (procfs_stat_read(c->pid, &st) == 0 && st.state != 'Z' && clock_ns(CLOCK_MONOTONIC) < deadline)
			nanosleep(&pause, NULL);
	}
}

/*
 * The job must end now that its image has its name: every task armed at once, so that
 * from here our death kills them too (then the directory is synced, which can take a
 * while); then exit_group in each process, up to its exit stop, where its terminal is
 * given back its line-editing modes (or the shell's, when the caller knows them) before
 * the shell can see it end.
 *
 * Children before parents (members are in parent-first order), the job's top last: a
 * job thawed in a namespace of its own has the reaper as its top's parent, which ends
 * when the top has ended, and the kernel then kills what is left of the namespace.
 */
static int end_job(struct job *job, const struct freeze_request *r, struct target *tg, struct ck_error *e)
{
	int err = for_each_task(job, infect_arm_exitkill);
	fault_point("armed");
	int ret = err ? ck_fail(e, CK_IO, -err, "exit", "", "cannot arm the job to end") : target_sync_name(tg, e);
	for (size_t i = 0; i < job->nmembers && !ret; i++)
		if (!job->members[i].zombie)
			collect_children_as_they_end(job, i);
	for (size_t i = job->nmembers; i-- > 0 && !ret;) {
		struct capture *c = &job->members[i];
		if (c->zombie)
			continue;
		int tty = capture_grab_terminal(c);
		await_children_gone(job, i);
		if ((err = infect_exit_begin(&c->threads[0].t, r->exit_status)) == -ESRCH && killed_meanwhile(c->pid)) {
			c->threads[0].t.state = INFECT_DETACHED;
			collect_threads(c);
		} else if (err) {
			/* Armed and seized, it cannot run on: our exit takes it down with the rest. */
			ret = ck_fail(e, CK_IO, -err, "exit", "", "cannot end it");
			job_blame(job, c->pid, c->comm, e);
		} else {
			capture_cook_terminal(c, tty, r->has_shell_modes ? &r->shell_modes : NULL);
			infect_exit_finish(&c->threads[0].t);
			collect_threads(c);
		}
		if (tty >= 0)
			close(tty);
	}
	return ret;
}

static int resume_job(struct job *job)
{
	return for_each_task(job, infect_resume);
}

/* What the caller reports of a job it froze. */
static int describe_job(const struct job *job, struct freeze_outcome *out)
{
	out->stored = job->data_size;
	out->members = calloc(job->nmembers, sizeof *out->members);
	if (!out->members)
		return -1;
	out->nmembers = job->nmembers;
	for (size_t i = 0; i < job->nmembers; i++) {
		const struct capture *c = &job->members[i];
		out->processes += !c->zombie;
		out->threads += c->nthreads;
		out->mappings += c->vmas.len / sizeof(struct ckpt_vma);
		out->loads += c->runs.len / sizeof(struct frz_run);
		out->stored += c->stored_bytes;
		out->members[i] = (struct frozen_member){ .pid = c->pid, .threads = c->nthreads, .zombie = c->zombie };
		memcpy(out->members[i].comm, c->comm, sizeof c->comm);
	}
	out->was_stopped = job->members[0].flags & CKPT_PROC_WAS_STOPPED;
	return 0;
}

/*
 * The screen, to the end of stdin, up to the format's bound. Read once member 0's
 * pages are written: the session makes it (reads the job's last output, repaints) meanwhile.
 */
static int read_screen(struct buf *screen, struct ck_error *e)
{
	int err = buf_read_fd(screen, STDIN_FILENO, CKPT_MAX_SCREEN_SIZE);
	if (err == -EFBIG)
		return ck_fail(e, CK_USAGE, EFBIG, "usage", "", "the screen on stdin is larger than %u bytes",
			       CKPT_MAX_SCREEN_SIZE);
	if (err == -ENOMEM)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "usage", "", "out of memory");
	if (err)
		return ck_fail(e, CK_IO, -err, "usage", "", "cannot read the screen on stdin");
	return 0;
}

int freeze_run(struct freeze_request *r, struct freeze_outcome *out, struct ck_error *e)
{
	freeze_outcome_init(out);
	struct job job = { .rules = r->rules, .flags = r->snapshot ? CKPT_PROC_SNAPSHOT : 0 };
	struct target *tg = &out->target;
	if (target_open(tg, &r->target, e)) {
		snprintf(out->path, sizeof out->path, "%s", tg->path);
		target_close(tg);
		job_free(&job);
		return -1;
	}
	snprintf(out->path, sizeof out->path, "%s", tg->path);

	/* Signals that can be held wait until the job is ended or released (SIGKILL cannot: main.c). */
	sigset_t all, before;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &before);

	fault_point("seizing"); /* the tests start the seize at a moment of their choosing */

	int failed = job_seize(&job, &r->job, e);
	uint64_t seized = clock_ns(CLOCK_MONOTONIC), at = seized;
	fault_point("seized");
	uint64_t *stage = out->stage_ns;
	failed = failed || capture_job(&job, e);
	stage[0] = clock_ns(CLOCK_MONOTONIC) - at;
	at += stage[0];
	failed = failed || image_write(&job, tg->fd, r->screen_on_stdin ? read_screen : NULL, &out->bytes, e);
	stage[1] = clock_ns(CLOCK_MONOTONIC) - at;
	at += stage[1];
	failed = failed || target_commit(tg, e);
	stage[2] = clock_ns(CLOCK_MONOTONIC) - at;
	at += stage[2];
	fault_point("named");
	int err;
	if (!failed) {
		if (r->snapshot) {
			if (!(failed = target_sync_name(tg, e)) && (err = resume_job(&job)))
				/* The image is complete; a process may not have got its registers back. */
				failed = ck_fail(e, CK_NOT_RESTORED, -err, "resume", "", "cannot resume the job");
		} else if ((failed = end_job(&job, r, tg, e))) {
			/* Some run on: an image of a live job under the final name would thaw as a twin. */
			target_remove_final(tg);
		}
	}
	if (failed && (err = job_release(&job))) {
		out->restored = false;
		e->cls = CK_NOT_RESTORED;
	}
	uint64_t finished = clock_ns(CLOCK_MONOTONIC);
	stage[3] = finished - at;
	out->seized_ns = finished - seized;
	target_close_file(tg);
	/* A signal held back may end us now: the processes and the files are in their final state. */
	sigprocmask(SIG_SETMASK, &before, NULL);
	if (!failed && describe_job(&job, out))
		failed = ck_fail(e, CK_INTERNAL, ENOMEM, "report", "", "out of memory");
	job_free(&job);
	return failed ? -1 : 0;
}

void freeze_outcome_init(struct freeze_outcome *out)
{
	*out = (struct freeze_outcome){ .restored = true, .target = { .dirfd = -1, .fd = -1 } };
}

void freeze_outcome_free(struct freeze_outcome *out)
{
	free(out->members);
	out->members = NULL;
	target_close(&out->target);
}
