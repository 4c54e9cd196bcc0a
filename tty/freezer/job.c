/*
 * The job: which processes are frozen together, and seizing every one of their
 * threads before any is disturbed.
 *
 * A job is a process group (the terminal's foreground job, for the key) or a process
 * and its descendants still in its group (`ckpty freeze PID`). Processes fork and
 * threads start while we look, so the members are found and seized in rounds until a
 * round finds nothing new: once every thread of a process is stopped it can start
 * nothing more, and a child it started before shows up in the next round. ckpty's
 * own thaw supervisors (ckpty-thawer) are never members; what they thawed is.
 */
#include "freezer.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000

/* What a /proc scan tells about one process; ino (its directory's) tells it from a later one with its number. */
struct seen {
	pid_t pid;
	ino_t ino;
	struct procfs_stat st;
};

struct scan {
	struct seen *procs;
	size_t n, cap;
	bool ahead; /* made before the request came (job_look_ahead) */
};

static void scan_free(struct scan *s)
{
	free(s->procs);
	memset(s, 0, sizeof *s);
}

static struct capture *member_of(const struct job *job, pid_t pid)
{
	for (size_t i = 0; i < job->nmembers; i++)
		if (job->members[i].pid == pid)
			return &job->members[i];
	return NULL;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct seen *)a)->pid, y = ((const struct seen *)b)->pid;
	return (x > y) - (x < y);
}

static const struct seen *find_seen(const struct scan *s, pid_t pid)
{
	struct seen key = { .pid = pid };
	return s->n ? bsearch(&key, s->procs, s->n, sizeof *s->procs, by_pid) : NULL;
}

/*
 * Every process /proc shows us, with its stat line. A scan after an earlier one (before)
 * reads the lines only of processes it did not see (a number in a directory it did not
 * see: a new process), and of the job's members (which may have become zombies): the
 * others cannot have joined the job meanwhile but by setpgid, a race no scan closes (one
 * could join just after the last). A job's freeze reads each stat line about once
 * instead of once per round.
 *
 * The spare's scan made ahead of its request may be minutes old. setpgid moves a process
 * only within its session, and a process never enters a session it was not born in, so
 * from that scan only the lines of processes in other sessions than the job's are kept:
 * most of the machine, which then costs a directory listing instead of a read each. (Their
 * parents are as they were then: a member that is a subreaper and has adopted one of them
 * since is not seen as its parent.)
 */
static int scan_processes(struct scan *s, const struct scan *before, const struct job *job, pid_t session)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 256;
			struct seen *bigger = realloc(s->procs, cap * sizeof *bigger);
			if (!bigger) {
				closedir(dir);
				return -ENOMEM;
			}
			s->procs = bigger;
			s->cap = cap;
		}
		struct seen *p = &s->procs[s->n];
		const struct seen *known = before ? find_seen(before, (pid_t)pid) : NULL;
		if (known && known->ino == de->d_ino && !member_of(job, (pid_t)pid) &&
		    !(before->ahead && known->st.session == session))
			*p = *known;
		else if (procfs_stat_read((pid_t)pid, &p->st) == 0) {
			p->pid = (pid_t)pid;
			p->ino = de->d_ino;
		} else
			continue;
		s->n++;
	}
	closedir(dir);
	qsort(s->procs, s->n, sizeof *s->procs, by_pid);
	return 0;
}

/* Is pid one of ckpty's thaw supervisors? Its executable is the thawer beside us. */
static bool is_thaw_supervisor(pid_t pid)
{
	static char thawer[PATH_MAX];
	if (!thawer[0]) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return false;
		self[n] = 0;
		snprintf(thawer, sizeof thawer, "%s/ckpty-thawer", dirname(self));
	}
	char exe[PATH_MAX];
	return procfs_readlink(pid, "exe", exe, sizeof exe) == 0 && !strcmp(exe, thawer);
}

/* Is pid in the job: in its group, and (for a tree) below the named process? */
static bool in_job(const struct scan *s, const struct seen *p, const struct job_spec *spec, const struct procfs_stat *named)
{
	if (p->st.pgrp != named->pgrp || p->st.session != named->session || p->st.state == 'X')
		return false;
	if (spec->whole_group || p->pid == spec->pid)
		return true;
	/* Below the named process, through ancestors that are themselves in the group. */
	for (const struct seen *at = p; at;) {
		if (at->pid == spec->pid)
			return true;
		const struct seen *parent = find_seen(s, at->st.ppid);
		if (!parent || parent == at || parent->st.pgrp != named->pgrp)
			return false;
		at = parent;
	}
	return false;
}

static struct capture *add_member(struct job *job, pid_t pid)
{
	if (job->nmembers == job->cap) {
		size_t cap = job->cap ? job->cap * 2 : 8;
		struct capture *bigger = realloc(job->members, cap * sizeof *bigger);
		if (!bigger)
			return NULL;
		job->members = bigger;
		job->cap = cap;
	}
	struct capture *c = &job->members[job->nmembers++];
	memset(c, 0, sizeof *c);
	c->pid = pid;
	c->parent = -1;
	return c;
}

static bool has_thread(const struct capture *c, pid_t tid)
{
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].t.pid == tid)
			return true;
	return false;
}

void job_blame(const struct job *job, pid_t pid, const char *comm, struct ck_error *e)
{
	if (pid == job->named)
		return;
	char who[64];
	snprintf(who, sizeof who, "%s[%d]: ", comm, (int)pid);
	ck_reword(e, who, "");
}

int job_untraceable(pid_t pid, int err, const char *stage, struct ck_error *e)
{
	char *status = NULL;
	int tracer = 0;
	unsigned owner = 0;
	bool owner_known = false;
	if (procfs_read(pid, "status", &status, NULL) == 0) {
		/* Each value is read before the next lookup reuses procfs_field's buffer. */
		const char *v = procfs_field(status, "TracerPid");
		tracer = v ? atoi(v) : 0;
		v = procfs_field(status, "Uid");
		owner_known = v && sscanf(v, "%u", &owner) == 1;
	}
	free(status);
	if (tracer != 0)
		return ck_fail(e, CK_UNSUPPORTED, err, stage, "", "it is being traced by process %d (a debugger?)", tracer);
	if (owner_known && owner != getuid())
		return ck_fail(e, CK_PERMISSION, err, stage, "", "it belongs to another user (uid %u); only root may freeze it", owner);
	/* Ours, but not dumpable: the files in its /proc directory are then shown as root's. */
	char file[32];
	struct stat st;
	snprintf(file, sizeof file, "/proc/%d/status", (int)pid);
	if (owner_known && stat(file, &st) == 0 && st.st_uid != owner)
		return ck_fail(e, CK_PERMISSION, err, stage, "", "it is not dumpable (it asked not to be traced, as ssh-agent does, or it changed its IDs); only root may freeze it");
	return ck_fail(e, CK_PERMISSION, err, stage, "", "not allowed to trace it");
}

/* Why ptrace refused us a task (job_untraceable), or that it is gone. */
static int seize_failure(struct job *job, int err, pid_t pid, const char *comm, struct ck_error *e)
{
	if (err == -EPERM || err == -EACCES)
		job_untraceable(pid, -err, "seize", e);
	else
		ck_fail(e, err == -ESRCH ? CK_NOT_FOUND : CK_IO, -err, "seize", "", "cannot stop it");
	job_blame(job, pid, comm, e);
	return -1;
}

/* Has this task ended (gone, or a zombie)? Then ptrace's refusal of it means nothing. */
static bool task_ended(pid_t pid, pid_t tid)
{
	char name[64];
	char *stat;
	snprintf(name, sizeof name, "task/%d/stat", (int)tid);
	if (procfs_read(pid, name, &stat, NULL))
		return true;
	const char *close = strrchr(stat, ')');
	bool ended = !close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X';
	free(stat);
	return ended;
}

/*
 * Seize the threads of c that are not seized yet; *added counts them. The thread-group
 * leader comes first in c->threads. A thread that ended meanwhile is no thread of it
 * (ptrace says ESRCH, or EPERM for a zombie).
 */
static int seize_threads(struct job *job, struct capture *c, size_t *added, struct ck_error *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)c->pid);
	DIR *dir = opendir(path);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		ck_fail(e, CK_IO, errno, "seize", "", "cannot list its threads");
		job_blame(job, c->pid, c->comm, e);
		return -1;
	}
	int ret = 0;
	struct dirent *de;
	while (!ret && (de = readdir(dir))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || has_thread(c, tid))
			continue;
		if (c->nthreads >= CKPT_MAX_THREADS) {
			ret = ck_fail(e, CK_UNSUPPORTED, 0, "threads", "", "it has more than %d threads", CKPT_MAX_THREADS);
			job_blame(job, c->pid, c->comm, e);
			break;
		}
		struct thread_capture *bigger = realloc(c->threads, (c->nthreads + 1) * sizeof *bigger);
		if (!bigger) {
			ret = ck_fail(e, CK_INTERNAL, ENOMEM, "seize", "", "out of memory");
			break;
		}
		c->threads = bigger;
		struct thread_capture *th = &c->threads[c->nthreads];
		memset(th, 0, sizeof *th);
		int err = infect_seize(&th->t, tid);
		if (err == -ESRCH || (err && task_ended(c->pid, tid)))
			continue; /* it ended before we got to it */
		if (err) {
			ret = seize_failure(job, err, c->pid, c->comm, e);
			break;
		}
		/* The leader first: its registers are the process's for gdb. */
		if (tid == c->pid && c->nthreads) {
			struct thread_capture leader = *th;
			memmove(&c->threads[1], &c->threads[0], c->nthreads * sizeof *th);
			c->threads[0] = leader;
		}
		c->nthreads++;
		(*added)++;
	}
	closedir(dir);
	return ret;
}

static int read_ns_ids(struct capture *c)
{
	char *status;
	int err = procfs_read(c->pid, "status", &status, NULL);
	if (err)
		return err;
	c->ns_pid = procfs_innermost(status, "NSpid");
	c->ns_pgid = procfs_innermost(status, "NSpgid");
	c->ns_sid = procfs_innermost(status, "NSsid");
	free(status);
	for (size_t i = 0; i < c->nthreads; i++) {
		char name[64];
		snprintf(name, sizeof name, "task/%d/status", (int)c->threads[i].t.pid);
		if ((err = procfs_read(c->pid, name, &status, NULL)))
			return err;
		c->threads[i].state.tid = procfs_innermost(status, "NSpid");
		free(status);
	}
	return 0;
}

/* Parents, innermost IDs, and whose end the shell reports (the newest process at the job's top). */
static int link_members(struct job *job, const struct scan *s, struct ck_error *e)
{
	uint64_t newest = 0;
	for (size_t i = 0; i < job->nmembers; i++) {
		struct capture *c = &job->members[i];
		const struct seen *p = find_seen(s, c->pid);
		struct capture *parent = p ? member_of(job, p->st.ppid) : NULL;
		c->parent = parent ? (int)(parent - job->members) : -1;
		/*
		 * A zombie's IDs are read as a live member's: in a job thawed in a namespace of
		 * its own, its parent waits for it by the number it has there, not by ours.
		 */
		if (read_ns_ids(c) && !c->zombie) {
			ck_fail(e, CK_NOT_FOUND, ESRCH, "seize", "", "it ended during the freeze");
			job_blame(job, c->pid, c->comm, e);
			return -1;
		}
		if (!c->ns_pid)
			c->ns_pid = c->pid; /* a kernel without NSpid lines: there is only one namespace */
		if (c->parent < 0 && !c->zombie && c->start_time >= newest) {
			newest = c->start_time;
			job->status_member = (int)i;
		}
	}
	for (size_t i = 0; i < job->nmembers; i++) {
		struct capture *c = &job->members[i];
		c->ns_ppid = c->parent >= 0 ? job->members[c->parent].ns_pid : 0;
	}
	job->ns_pgid = job->members[0].ns_pgid;
	return 0;
}

/*
 * Put the members in the order they are written and rebuilt: the named process (or
 * the group's leader) first, for gdb; every parent before its children.
 */
static void order_members(struct job *job, pid_t first)
{
	struct capture *sorted = malloc(job->nmembers * sizeof *sorted);
	bool *done = calloc(job->nmembers, sizeof *done);
	int *index = malloc(job->nmembers * sizeof *index);
	if (!sorted || !done || !index) {
		free(sorted);
		free(done);
		free(index);
		return; /* the order stays as found: correct, only less convenient */
	}
	size_t n = 0;
	/* Roots (the named one first), then breadth-first through the children. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < job->nmembers; i++)
			if (!done[i] && job->members[i].parent < 0 && (pass == 1 || job->members[i].pid == first)) {
				done[i] = true;
				index[n++] = (int)i;
			}
	for (size_t at = 0; at < n; at++)
		for (size_t i = 0; i < job->nmembers; i++)
			if (!done[i] && job->members[i].parent == index[at]) {
				done[i] = true;
				index[n++] = (int)i;
			}
	for (size_t i = 0; i < job->nmembers; i++)
		if (!done[i])
			index[n++] = (int)i; /* a parent cycle cannot happen; kept anyway */
	int *new_index = malloc(job->nmembers * sizeof *new_index);
	if (new_index) {
		for (size_t k = 0; k < n; k++)
			new_index[index[k]] = (int)k;
		for (size_t k = 0; k < n; k++) {
			sorted[k] = job->members[index[k]];
			if (sorted[k].parent >= 0)
				sorted[k].parent = new_index[sorted[k].parent];
		}
		job->status_member = new_index[job->status_member];
		memcpy(job->members, sorted, n * sizeof *sorted);
		free(new_index);
	}
	free(sorted);
	free(done);
	free(index);
}

/* Is pid this freezer or one of its ancestors? Freezing it would stop the freezer's own caller. */
static bool is_self_or_ancestor(pid_t pid)
{
	for (pid_t at = getpid(); at > 0;) {
		if (at == pid)
			return true;
		struct procfs_stat st;
		if (procfs_stat_read(at, &st) || st.ppid == at)
			return false;
		at = st.ppid;
	}
	return false;
}

/* Why a process cannot even be seized, or NULL: checked before we touch it. */
static const char *early_refusal(pid_t pid, const struct procfs_stat *st)
{
	if (pid == 1)
		return "it is the init process";
	if (st->flags & PF_KTHREAD)
		return "it is a kernel thread";
	if (is_self_or_ancestor(pid))
		return "it is ckpty itself or one of its parents";
	return NULL;
}

int job_refuse_early(const struct job_spec *spec, const struct procfs_stat *st, struct ck_error *e)
{
	if (st->state == 'Z' || st->state == 'X')
		return ck_fail(e, CK_UNSUPPORTED, 0, "seize", "", "it has already exited (zombie)");
	const char *refused = early_refusal(spec->pid, st);
	return refused ? ck_fail(e, CK_UNSUPPORTED, 0, "seize", "", "%s", refused) : 0;
}

/* Refuse a live member that is a set-uid program, or (for the key) opted out; checked once it is seized. */
static int check_member(const struct job *job, const struct capture *c, struct ck_error *e)
{
	char *status;
	if (procfs_read(c->pid, "status", &status, NULL))
		return ck_fail(e, CK_NOT_FOUND, ESRCH, "check", "", "it ended during the freeze");
	const char *keys[] = { "Uid", "Gid" };
	bool changed_ids = false;
	for (int k = 0; k < 2; k++) {
		const char *v = procfs_field(status, keys[k]);
		unsigned a = 0, b = 0, s = 0, f = 0;
		if (v && sscanf(v, "%u %u %u %u", &a, &b, &s, &f) == 4 && (a != b || a != s || a != f))
			changed_ids = true;
	}
	free(status);
	if (changed_ids)
		return ck_fail(e, CK_UNSUPPORTED, 0, "check", "", "it runs with changed user or group ids (set-uid/set-gid)");
	char exe_link[64];
	struct stat exe;
	snprintf(exe_link, sizeof exe_link, "/proc/%d/exe", (int)c->pid);
	if (stat(exe_link, &exe) == 0 && (exe.st_mode & (S_ISUID | S_ISGID)))
		return ck_fail(e, CK_UNSUPPORTED, 0, "check", "", "it is a set-uid or set-gid program");
	struct rlimit core;
	if (job->rules.honour_core_limit && prlimit(c->pid, RLIMIT_CORE, NULL, &core) == 0 && core.rlim_cur == 0)
		return ck_fail(e, CK_PERMISSION, 0, "check", "",
			       "its core file size limit (RLIMIT_CORE, ulimit -c) is 0: it opted out of the checkpoint key");
	return 0;
}

/*
 * Refusals before anything is disturbed, each naming the member and the reason; s is
 * the seize's last scan, made once every member was stopped.
 */
static int check_job(const struct job *job, const struct scan *s, struct ck_error *e)
{
	for (size_t i = 0; i < job->nmembers; i++) {
		const struct capture *c = &job->members[i];
		if (!c->zombie && check_member(job, c, e)) {
			job_blame(job, c->pid, c->comm, e);
			return -1;
		}
	}
	/* A member's child outside the job would lose its parent, and not come back. */
	for (size_t i = 0; i < s->n; i++) {
		const struct seen *p = &s->procs[i];
		const struct capture *parent = member_of(job, p->st.ppid);
		if (!parent || member_of(job, p->pid) || p->st.state == 'Z' || is_thaw_supervisor(p->pid))
			continue;
		/* Its line may be a round old: only a child that is still one, and alive, is refused. */
		struct procfs_stat now;
		if (procfs_stat_read(p->pid, &now) || now.ppid != p->st.ppid || now.state == 'Z' || now.state == 'X')
			continue;
		ck_fail(e, CK_UNSUPPORTED, 0, "check", "", "its child %s[%d] is not in the job (process group %d)", now.comm,
			(int)p->pid, (int)now.pgrp);
		job_blame(job, parent->pid, parent->comm, e);
		return -1;
	}
	return 0;
}

/* The spare's scan of /proc, made while it waited: the first round of its seize reads less. */
static struct scan ahead;

void job_look_ahead(void)
{
	const struct job none = { 0 };
	scan_free(&ahead);
	if (scan_processes(&ahead, NULL, &none, 0))
		scan_free(&ahead);
	else
		ahead.ahead = true;
}

int job_seize(struct job *job, const struct job_spec *spec, struct ck_error *e)
{
	struct procfs_stat named;
	int err = procfs_stat_read(spec->pid, &named);
	if (err)
		return ck_fail(e, CK_NOT_FOUND, -err, "seize", "", "no process %d", (int)spec->pid);
	job->named = spec->pid;
	if (job_refuse_early(spec, &named, e))
		return -1;
	struct scan s = ahead;
	ahead = (struct scan){ 0 };
	int ret = 0;
	for (size_t added = 1; added && !ret;) {
		added = 0;
		struct scan before = s;
		s = (struct scan){ 0 };
		err = scan_processes(&s, &before, job, named.session);
		scan_free(&before);
		if (err) {
			ret = ck_fail(e, CK_IO, -err, "seize", "", "cannot list the processes");
			break;
		}
		for (size_t i = 0; i < s.n && !ret; i++) {
			const struct seen *p = &s.procs[i];
			if (!in_job(&s, p, spec, &named) || is_thaw_supervisor(p->pid))
				continue;
			struct capture *c = member_of(job, p->pid);
			const char *refused = c || p->st.state == 'Z' ? NULL : early_refusal(p->pid, &p->st);
			if (refused) {
				ret = ck_fail(e, CK_UNSUPPORTED, 0, "seize", "", "%s", refused);
				job_blame(job, p->pid, p->st.comm, e);
				break;
			}
			if (!c) {
				if (!(c = add_member(job, p->pid))) {
					ret = ck_fail(e, CK_INTERNAL, ENOMEM, "seize", "", "out of memory");
					break;
				}
				memcpy(c->comm, p->st.comm, sizeof c->comm);
				c->start_time = p->st.start_time;
				added++;
			}
			c->zombie = p->st.state == 'Z';
			c->wait_status = p->st.exit_code;
			if (!c->zombie && !(ret = seize_threads(job, c, &added, e)) && !c->nthreads)
				added++; /* it is ending: the next round sees it a zombie (its parent a member) or gone */
		}
		if (!ret && job->nmembers > CKPT_MAX_MEMBERS)
			ret = ck_fail(e, CK_UNSUPPORTED, 0, "seize", "", "its job has more than %d processes", CKPT_MAX_MEMBERS);
	}
	/*
	 * A zombie is a member only while its parent is one, waiting to collect it. A process
	 * that ended before any of its threads was seized, and was collected (by a parent
	 * outside the job, or by its parent before that stopped), is none.
	 */
	for (size_t i = 0; !ret && i < job->nmembers;) {
		const struct seen *p = find_seen(&s, job->members[i].pid);
		struct capture *c = &job->members[i];
		if ((!c->zombie && !c->nthreads) ||
		    (c->zombie && (!p || !member_of(job, p->st.ppid) || member_of(job, p->st.ppid)->zombie))) {
			capture_free(c);
			*c = job->members[--job->nmembers];
			continue;
		}
		i++;
	}
	if (!ret && (job->nmembers == 0 || !member_of(job, spec->pid) || member_of(job, spec->pid)->zombie))
		ret = ck_fail(e, CK_NOT_FOUND, ESRCH, "seize", "", "no process %d (it ended)", (int)spec->pid);
	if (!ret)
		ret = link_members(job, &s, e);
	if (!ret)
		order_members(job, named.pgrp == spec->pid || !spec->whole_group ? spec->pid : named.pgrp);
	if (!ret)
		ret = check_job(job, &s, e);
	scan_free(&s);
	return ret;
}

int job_release(struct job *job)
{
	int ret = 0;
	for (size_t i = 0; i < job->nmembers; i++)
		for (size_t k = 0; k < job->members[i].nthreads; k++) {
			int err = infect_release(&job->members[i].threads[k].t);
			if (err && !ret)
				ret = err;
		}
	return ret;
}
