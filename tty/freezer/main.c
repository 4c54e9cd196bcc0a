/*
 * ckpty-freezer: write the image of a job (see image.h), then end it or let it run on.
 *
 *   ckpty-freezer --pid PID [--job] (--out PATH | --name NAME) [--snapshot] [--exit-status N]
 *                 [--owner UID:GID] [--screen-stdin] [--honour-core-limit]
 *                 [--close-outside-sockets] [--max-contents BYTES]
 *
 * The job is PID and its descendants in its process group, or with --job its whole
 * process group (the terminal's foreground job): every process and every thread,
 * seized before any is disturbed (job.c). --out is a path relative to our directory;
 * --name a file name relative to PID's own current directory (a name template's
 * expansion; see target.h). --owner gives the image to that user (root freezing
 * someone else's process: the image holds their memory, and the thaw wants images
 * owned by the thawing user): it is created with that user's rights. --screen-stdin:
 * the session host's repaint of the terminal comes on stdin (read before anything is
 * seized), for NT_CKPT_SCREEN. --honour-core-limit: a soft RLIMIT_CORE of 0 opts a
 * process out (the key's rule). --close-outside-sockets: sockets connected outside the
 * job are stored to be thawed closed instead of refused. --max-contents: the most
 * bytes of one deleted file or memfd stored (default 64 MiB).
 *
 * On success prints one JSON object on stdout:
 *   {"pid":…,"comm":"…","path":"…","bytes":…,"stored":…,"mappings":…,"loads":…,
 *    "processes":…,"threads":…,"snapshot":false,"was_stopped":false,"exit_status":161,
 *    "duration_ns":…,"seized_ns":…,"stages_ns":{…},"members":[{"pid":…,"comm":"…"},…]}
 * "path" is the image's absolute name; pid and comm are the first member's; "stored" counts
 * the memory of every member and the data area (shared memory, buffered bytes).
 * On failure: {"error":"…","errno":N,"errno_text":"…","stage":"…","restored":true} and the exit
 * status of its class (error.h): 2 usage, 3 unsupported, 4 permission, 6 I/O, 8 no such
 * process, 9 image path refused, 10 a process could not be put back, 70 internal. A
 * refusal about a member other than PID names it ("sort[4243]: …"). Whatever failed, every process was released
 * as seized and no file exists under PATH.
 *
 * Dying (SIGKILL) at any moment leaves the processes as they were, running, and no file:
 * while seized they hold their own registers and masks except during the few syscalls
 * we inject, which run behind a guard (infect.h), and the image has no name until it
 * is durable. Once it has its name, every process is armed to be killed with us
 * (EXITKILL) before any is ended, so there is never an image and the job running on.
 * The window left is the few syscalls between naming the image and arming them.
 */
#include "fault.h"
#include "freezer.h"
#include "jsonw.h"
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct options {
	struct job_spec job;
	struct job_rules rules;
	struct target_spec target;
	bool snapshot;
	bool screen; /* the terminal's repaint on stdin */
	int exit_status;
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int report_error(const struct ck_error *e, bool restored)
{
	fputs("{\"error\":", stdout);
	jsonw_string(stdout, e->message);
	printf(",\"errno\":%d,\"errno_text\":", e->err);
	jsonw_string(stdout, e->err ? strerror(e->err) : "");
	printf(",\"stage\":");
	jsonw_string(stdout, e->stage);
	printf(",\"restored\":%s}\n", restored ? "true" : "false");
	fflush(stdout);
	return e->cls;
}

static int parse_args(int argc, char **argv, struct options *o, struct ck_error *e)
{
	*o = (struct options){
		.exit_status = 128 + 33,
		.target = { .owner_uid = -1, .owner_gid = -1 },
		.rules = { .max_contents = 64u << 20 },
	};
	const char *usage = "usage: ckpty-freezer --pid PID [--job] (--out PATH | --name NAME) [--snapshot] [--exit-status N] "
			    "[--owner UID:GID] [--screen-stdin] [--honour-core-limit] [--close-outside-sockets] "
			    "[--max-contents BYTES]";
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(arg, "--snapshot")) {
			o->snapshot = true;
		} else if (!strcmp(arg, "--job")) {
			o->job.whole_group = true;
		} else if (!strcmp(arg, "--screen-stdin")) {
			o->screen = true;
		} else if (!strcmp(arg, "--honour-core-limit")) {
			o->rules.honour_core_limit = true;
		} else if (!strcmp(arg, "--close-outside-sockets")) {
			o->rules.close_outside_sockets = true;
		} else if (!strcmp(arg, "--max-contents") && val) {
			o->rules.max_contents = strtoull(val, &end, 10);
			if (*end)
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad size '%s'", val);
			i++;
		} else if (!strcmp(arg, "--pid") && val) {
			o->job.pid = (pid_t)strtol(val, &end, 10);
			if (*end || o->job.pid <= 0)
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad pid '%s'", val);
			i++;
		} else if ((!strcmp(arg, "--out") || !strcmp(arg, "--name")) && val && !o->target.name) {
			o->target.name = val;
			o->target.in_cwd_of = !strcmp(arg, "--name");
			i++;
		} else if (!strcmp(arg, "--exit-status") && val) {
			o->exit_status = (int)strtol(val, &end, 10);
			if (*end || o->exit_status < 0 || o->exit_status > 255)
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad exit status '%s'", val);
			i++;
		} else if (!strcmp(arg, "--owner") && val) {
			struct target_spec *t = &o->target;
			if (sscanf(val, "%d:%d", &t->owner_uid, &t->owner_gid) != 2 || t->owner_uid < 0 || t->owner_gid < 0)
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad owner '%s' (UID:GID)", val);
			i++;
		} else {
			return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "unknown or incomplete argument '%s' (%s)", arg, usage);
		}
	}
	if (!o->job.pid || !o->target.name)
		return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "%s", usage);
	if (o->target.in_cwd_of)
		o->target.in_cwd_of = o->job.pid;
	return 0;
}

/* All of stdin, up to the format's bound for a screen. */
static int read_screen(struct buf *screen, struct ck_error *e)
{
	for (;;) {
		if (screen->len > CKPT_MAX_SCREEN_SIZE)
			return ck_fail(e, CK_USAGE, EFBIG, "usage", "", "the screen on stdin is larger than %u bytes",
				       CKPT_MAX_SCREEN_SIZE);
		if (buf_append(screen, NULL, 64 << 10))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "usage", "", "out of memory");
		screen->len -= 64 << 10;
		ssize_t n = read(0, screen->data + screen->len, 64 << 10);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_fail(e, CK_IO, errno, "usage", "", "cannot read the screen on stdin");
		if (n == 0)
			return 0;
		screen->len += (size_t)n;
	}
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
			return false;
	return WIFEXITED(status) || WIFSIGNALED(status);
}

/*
 * The job must end now that its image has its name: every task armed at once, so that
 * from here our death kills them too (then the directory is synced, which can take a
 * while); then exit_group in each process, up to its exit stop, where its terminal is
 * given back its line-editing modes before the shell can see it end.
 *
 * Children before parents (members are in parent-first order), the job's top last: a
 * job thawed in a namespace of its own has the reaper as its top's parent, which ends
 * when the top has ended, and the kernel then kills what is left of the namespace.
 */
static int end_job(struct job *job, int status, struct target *tg, struct ck_error *e)
{
	int err = for_each_task(job, infect_arm_exitkill);
	fault_point("armed");
	int ret = err ? ck_fail(e, CK_IO, -err, "exit", "", "cannot arm the job to end") : target_sync_name(tg, e);
	for (size_t i = job->nmembers; i-- > 0 && !ret;) {
		struct capture *c = &job->members[i];
		if (c->zombie)
			continue;
		int tty = capture_grab_terminal(c);
		if ((err = infect_exit_begin(&c->threads[0].t, status)) == -ESRCH && killed_meanwhile(c->pid)) {
			c->threads[0].t.state = INFECT_DETACHED;
			collect_threads(c);
		} else if (err) {
			/* Armed and seized, it cannot run on: our exit takes it down with the rest. */
			ret = ck_fail(e, CK_IO, -err, "exit", "", "cannot end it");
			job_blame(job, c->pid, c->comm, e);
		} else {
			capture_cook_terminal(c, tty);
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

static void print_report(const struct job *job, const struct target *tg, uint64_t size, bool snapshot, int exit_status,
			 uint64_t started, uint64_t seized, const uint64_t *stage_end, uint64_t finished)
{
	const struct capture *first = &job->members[0];
	size_t threads = 0, mappings = 0, loads = 0, processes = 0;
	uint64_t stored = job->data_size;
	for (size_t i = 0; i < job->nmembers; i++) {
		const struct capture *c = &job->members[i];
		processes += !c->zombie;
		threads += c->nthreads;
		mappings += c->vmas.len / sizeof(struct ckpt_vma);
		loads += c->runs.len / sizeof(struct frz_run);
		stored += c->stored_bytes;
	}
	printf("{\"pid\":%d,\"comm\":", (int)first->pid);
	jsonw_string(stdout, first->comm);
	printf(",\"path\":");
	jsonw_string(stdout, tg->path);
	printf(",\"bytes\":%llu,\"stored\":%llu,\"mappings\":%zu,\"loads\":%zu,\"processes\":%zu,\"threads\":%zu,"
	       "\"snapshot\":%s,\"was_stopped\":%s,\"exit_status\":",
	       (unsigned long long)size, (unsigned long long)stored, mappings, loads, processes, threads,
	       snapshot ? "true" : "false", first->flags & CKPT_PROC_WAS_STOPPED ? "true" : "false");
	if (snapshot)
		printf("null");
	else
		printf("%d", exit_status);
	printf(",\"duration_ns\":%llu,\"seized_ns\":%llu,\"stages_ns\":{\"state\":%llu,\"plan\":%llu,\"copy\":%llu,"
	       "\"sync\":%llu,\"end\":%llu},\"members\":[",
	       (unsigned long long)(finished - started), (unsigned long long)(finished - seized),
	       (unsigned long long)(stage_end[0] - seized), (unsigned long long)(stage_end[1] - stage_end[0]),
	       (unsigned long long)(stage_end[2] - stage_end[1]), (unsigned long long)(stage_end[3] - stage_end[2]),
	       (unsigned long long)(finished - stage_end[3]));
	for (size_t i = 0; i < job->nmembers; i++) {
		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", (int)job->members[i].pid);
		jsonw_string(stdout, job->members[i].comm);
		printf(",\"threads\":%zu,\"zombie\":%s}", job->members[i].nthreads, job->members[i].zombie ? "true" : "false");
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	uint64_t started = now_ns();
	struct options o;
	struct ck_error e = { 0 };
	if (parse_args(argc, argv, &o, &e))
		return report_error(&e, true);
	struct job job = { .rules = o.rules, .flags = o.snapshot ? CKPT_PROC_SNAPSHOT : 0 };
	if (o.screen && read_screen(&job.screen, &e)) {
		job_free(&job);
		return report_error(&e, true);
	}

	struct target tg;
	if (target_open(&tg, &o.target, &e)) {
		target_close(&tg);
		job_free(&job);
		return report_error(&e, true);
	}

	/* Signals that can be held wait until the job is ended or released (SIGKILL cannot: see above). */
	sigset_t all, before;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &before);

	fault_point("seizing"); /* the tests start the seize at a moment of their choosing */
	int failed = job_seize(&job, &o.job, &e) || job_check(&job, &e);
	uint64_t seized = now_ns();
	fault_point("seized");
	uint64_t size = 0;
	uint64_t stage_end[4] = { seized, seized, seized, seized };
	failed = failed || capture_job(&job, &e) || !(stage_end[0] = now_ns()) || !(stage_end[1] = now_ns()) ||
		 image_write(&job, tg.fd, &size, &e) || !(stage_end[2] = now_ns()) || target_commit(&tg, &e) ||
		 !(stage_end[3] = now_ns());
	fault_point("named");
	int err;
	if (!failed) {
		if (o.snapshot) {
			if (!(failed = target_sync_name(&tg, &e)) && (err = resume_job(&job)))
				/* The image is complete; a process may not have got its registers back. */
				failed = ck_fail(&e, CK_NOT_RESTORED, -err, "resume", "", "cannot resume the job");
		} else if ((failed = end_job(&job, o.exit_status, &tg, &e))) {
			/* Some run on: an image of a live job under the final name would thaw as a twin. */
			target_remove_final(&tg);
		}
	}
	bool restored = true;
	if (failed && (err = job_release(&job))) {
		restored = false;
		e.cls = CK_NOT_RESTORED;
	}
	uint64_t finished = now_ns();
	target_close(&tg);
	/* A signal held back may end us now: the processes and the files are in their final state. */
	sigprocmask(SIG_SETMASK, &before, NULL);
	if (!failed)
		print_report(&job, &tg, size, o.snapshot, o.exit_status, started, seized, stage_end, finished);
	job_free(&job);
	return failed ? report_error(&e, restored) : 0;
}
