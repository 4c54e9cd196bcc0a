/*
 * ckpty-freezer: write the image of one process (see image.h), then end it or let it run on.
 *
 *   ckpty-freezer --pid PID --out PATH [--snapshot] [--exit-status N] [--owner UID:GID]
 *
 * --owner gives the image to that user (root freezing someone else's process: the
 * image holds their memory, and the thaw wants images owned by the thawing user).
 * Mechanism only: the caller (src/freezer/) checks policy beforehand and words the messages.
 * On success prints one JSON object on stdout:
 *   {"pid":…,"comm":"…","path":"…","bytes":…,"stored":…,"mappings":…,"loads":…,
 *    "snapshot":false,"was_stopped":false,"restart":0,"exit_status":161,
 *    "duration_ns":…,"seized_ns":…}
 * On failure: {"error":"…","errno":N,"stage":"…","restored":true} and the exit status of
 * its class (enum frz_class): 2 usage, 3 unsupported, 4 permission, 6 I/O, 8 no such
 * process, 9 image path refused, 10 the process could not be put back, 70 internal.
 * Whatever failed, the process was released as seized and no file exists under PATH.
 * Non-ASCII bytes in strings are written as \u00XX (one per byte).
 */
#include "freezer.h"
#include "jsonw.h"
#include "target.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct options {
	pid_t pid;
	const char *out;
	bool snapshot;
	int exit_status;
	int owner_uid, owner_gid; /* -1: the caller's */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int report_error(const struct frz_error *e, bool restored)
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

static int parse_args(int argc, char **argv, struct options *o, struct frz_error *e)
{
	*o = (struct options){ .exit_status = 128 + 33, .owner_uid = -1, .owner_gid = -1 };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(arg, "--snapshot")) {
			o->snapshot = true;
		} else if (!strcmp(arg, "--pid") && val) {
			o->pid = (pid_t)strtol(val, &end, 10);
			if (*end || o->pid <= 0)
				return frz_fail(e, FRZ_USAGE, EINVAL, "usage", "bad pid '%s'", val);
			i++;
		} else if (!strcmp(arg, "--out") && val) {
			o->out = val;
			i++;
		} else if (!strcmp(arg, "--exit-status") && val) {
			o->exit_status = (int)strtol(val, &end, 10);
			if (*end || o->exit_status < 0 || o->exit_status > 255)
				return frz_fail(e, FRZ_USAGE, EINVAL, "usage", "bad exit status '%s'", val);
			i++;
		} else if (!strcmp(arg, "--owner") && val) {
			if (sscanf(val, "%d:%d", &o->owner_uid, &o->owner_gid) != 2 || o->owner_uid < 0 || o->owner_gid < 0)
				return frz_fail(e, FRZ_USAGE, EINVAL, "usage", "bad owner '%s' (UID:GID)", val);
			i++;
		} else {
			return frz_fail(e, FRZ_USAGE, EINVAL, "usage", "unknown or incomplete argument '%s'", arg);
		}
	}
	if (!o->pid || !o->out)
		return frz_fail(e, FRZ_USAGE, EINVAL, "usage",
				"usage: ckpty-freezer --pid PID --out PATH [--snapshot] [--exit-status N] [--owner UID:GID]");
	return 0;
}

static int seize_failure(struct frz_error *e, int err, pid_t pid)
{
	if (err == -EPERM || err == -EACCES)
		return frz_fail(e, FRZ_PERMISSION, -err, "seize", "not allowed to trace process %d", (int)pid);
	if (err == -ESRCH)
		return frz_fail(e, FRZ_NOTFOUND, -err, "seize", "no process %d", (int)pid);
	return frz_fail(e, FRZ_IO, -err, "seize", "cannot stop process %d", (int)pid);
}

int main(int argc, char **argv)
{
	uint64_t started = now_ns();
	struct options o;
	struct frz_error e = { 0 };
	if (parse_args(argc, argv, &o, &e))
		return report_error(&e, true);

	struct target tg;
	if (target_open(&tg, o.out, o.owner_uid, o.owner_gid, &e)) {
		target_close(&tg);
		return report_error(&e, true);
	}

	/*
	 * Dying while the process is seized would leave it with injected registers: hold
	 * back every signal that can be held until it is ended or released (SIGKILL cannot).
	 */
	sigset_t all, before;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &before);

	struct infect t;
	int err = infect_seize(&t, o.pid);
	if (err) {
		target_close(&tg);
		sigprocmask(SIG_SETMASK, &before, NULL);
		seize_failure(&e, err, o.pid);
		return report_error(&e, true);
	}
	uint64_t seized = now_ns();

	struct capture c = { 0 };
	c.flags = o.snapshot ? CKPT_PROC_SNAPSHOT : 0;
	uint64_t size = 0;
	uint64_t stage_end[4] = { 0 };
	int failed = capture_state(&t, &c, &e) || !(stage_end[0] = now_ns()) || capture_memory(&t, &c, &e) ||
		     !(stage_end[1] = now_ns()) || image_write(&t, &c, tg.fd, &size, &e) || !(stage_end[2] = now_ns()) ||
		     target_commit(&tg, &e) || !(stage_end[3] = now_ns());
	if (!failed) {
		if (o.snapshot) {
			if ((err = infect_resume(&t)))
				/* The image is complete; the process may not have got its registers back. */
				failed = frz_fail(&e, FRZ_NOT_RESTORED, -err, "resume", "cannot resume process %d", (int)o.pid);
		} else {
			capture_cook_terminal(&c);
			if ((err = infect_exit(&t, o.exit_status))) {
				/* It runs on: an image of a live process under the final name would thaw as a twin. */
				target_remove_final(&tg);
				failed = frz_fail(&e, FRZ_IO, -err, "exit", "cannot end process %d", (int)o.pid);
			}
		}
	}
	bool restored = true;
	if (failed && t.pid) {
		if ((err = infect_release(&t))) {
			restored = false;
			e.cls = FRZ_NOT_RESTORED;
		}
	}
	uint64_t finished = now_ns();
	target_close(&tg);
	/* A signal held back may end us now: the process and the files are in their final state. */
	sigprocmask(SIG_SETMASK, &before, NULL);
	if (failed) {
		capture_free(&c);
		return report_error(&e, restored);
	}

	printf("{\"pid\":%d,\"comm\":", (int)o.pid);
	jsonw_string(stdout, c.comm);
	printf(",\"path\":");
	jsonw_string(stdout, o.out);
	printf(",\"bytes\":%llu,\"stored\":%llu,\"mappings\":%zu,\"loads\":%zu,\"snapshot\":%s,\"was_stopped\":%s,"
	       "\"restart\":%u,\"exit_status\":",
	       (unsigned long long)size, (unsigned long long)c.stored_bytes, c.vmas.len / sizeof(struct ckpt_vma),
	       c.runs.len / sizeof(struct frz_run), o.snapshot ? "true" : "false",
	       c.flags & CKPT_PROC_WAS_STOPPED ? "true" : "false", c.restart);
	if (o.snapshot)
		printf("null");
	else
		printf("%d", o.exit_status);
	printf(",\"duration_ns\":%llu,\"seized_ns\":%llu,\"stages_ns\":{\"state\":%llu,\"plan\":%llu,\"copy\":%llu,"
	       "\"sync\":%llu,\"end\":%llu}}\n",
	       (unsigned long long)(finished - started), (unsigned long long)(finished - seized),
	       (unsigned long long)(stage_end[0] - seized), (unsigned long long)(stage_end[1] - stage_end[0]),
	       (unsigned long long)(stage_end[2] - stage_end[1]), (unsigned long long)(stage_end[3] - stage_end[2]),
	       (unsigned long long)(finished - stage_end[3]));
	capture_free(&c);
	return 0;
}
