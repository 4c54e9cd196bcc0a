/*
 * ckpty-freezer: write the image of one process (see image.h), then end it or let it run on.
 *
 *   ckpty-freezer --pid PID (--out PATH | --name NAME) [--snapshot] [--exit-status N] [--owner UID:GID]
 *                 [--screen-stdin] [--shell-modes SAVED]
 *
 * --out is a path relative to our directory; --name a file name relative to the
 * process's own current directory (a name template's expansion; see target.h).
 * --owner gives the image to that user (root freezing someone else's process: the
 * image holds their memory, and the thaw wants images owned by the thawing user):
 * it is created with that user's rights. --screen-stdin: the session host's repaint of
 * the terminal comes on stdin (read before the process is seized), for NT_CKPT_SCREEN.
 * --shell-modes: the terminal modes (in `stty -g` form) the shell that started the job
 * expects back; they are set as the process ends, instead of just its line-editing modes.
 * Mechanism only: the caller (src/freezer/) checks policy beforehand and words the messages.
 * On success prints one JSON object on stdout:
 *   {"pid":…,"comm":"…","path":"…","bytes":…,"stored":…,"mappings":…,"loads":…,
 *    "snapshot":false,"was_stopped":false,"restart":0,"exit_status":161,
 *    "duration_ns":…,"seized_ns":…}
 * "path" is the image's absolute name.
 * On failure: {"error":"…","errno":N,"errno_text":"…","stage":"…","restored":true} and the exit status of
 * its class (enum ck_class): 2 usage, 3 unsupported, 4 permission, 6 I/O, 8 no such
 * process, 9 image path refused, 10 the process could not be put back, 70 internal.
 * Whatever failed, the process was released as seized and no file exists under PATH.
 *
 * Dying (SIGKILL) at any moment leaves the process as it was, running, and no file:
 * while it is seized it holds its own registers and mask except during the few
 * syscalls we inject (infect.h), and the image has no name until it is durable.
 * Once it has its name, the process is armed to be killed with us (EXITKILL) before
 * it is ended, so there is never an image and the process running on. The window
 * left is the few instructions between naming the image and arming the process.
 * Non-ASCII bytes in strings are written as \u00XX (one per byte).
 */
#include "fault.h"
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
	struct target_spec target;
	bool snapshot;
	bool screen; /* the terminal's repaint on stdin */
	bool has_shell_modes;
	struct ckpt_kernel_termios shell_modes;
	int exit_status;
	int owner_uid, owner_gid; /* -1: the caller's */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/* `stty -g`: iflag:oflag:cflag:lflag:cc0:cc1:… in hex (glibc prints 32 cc, the kernel has 19). */
static int parse_saved_modes(const char *text, struct ckpt_kernel_termios *t)
{
	unsigned long flags[4];
	int used = 0;
	if (sscanf(text, "%lx:%lx:%lx:%lx%n", &flags[0], &flags[1], &flags[2], &flags[3], &used) != 4)
		return -1;
	*t = (struct ckpt_kernel_termios){ .c_iflag = (uint32_t)flags[0], .c_oflag = (uint32_t)flags[1], .c_cflag = (uint32_t)flags[2], .c_lflag = (uint32_t)flags[3] };
	const char *p = text + used;
	for (size_t i = 0; *p; i++) {
		unsigned cc;
		int n = 0;
		if (sscanf(p, ":%x%n", &cc, &n) != 1 || cc > 0xff)
			return -1;
		if (i < sizeof t->c_cc)
			t->c_cc[i] = (uint8_t)cc;
		p += n;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o, struct ck_error *e)
{
	*o = (struct options){ .exit_status = 128 + 33, .target = { .owner_uid = -1, .owner_gid = -1 } };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(arg, "--snapshot")) {
			o->snapshot = true;
		} else if (!strcmp(arg, "--screen-stdin")) {
			o->screen = true;
		} else if (!strcmp(arg, "--shell-modes") && val) {
			if (parse_saved_modes(val, &o->shell_modes))
				return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "bad terminal modes '%s' (stty -g form)", val);
			o->has_shell_modes = true;
			i++;
		} else if (!strcmp(arg, "--pid") && val) {
			o->pid = (pid_t)strtol(val, &end, 10);
			if (*end || o->pid <= 0)
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
			return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "unknown or incomplete argument '%s'", arg);
		}
	}
	if (!o->pid || !o->target.name)
		return ck_fail(e, CK_USAGE, EINVAL, "usage", "", "usage: ckpty-freezer --pid PID (--out PATH | --name NAME) [--snapshot] [--exit-status N] [--owner UID:GID] [--screen-stdin] [--shell-modes SAVED]");
	if (o->target.in_cwd_of)
		o->target.in_cwd_of = o->pid;
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

static int seize_failure(struct ck_error *e, int err, pid_t pid)
{
	if (err == -EPERM || err == -EACCES)
		return ck_fail(e, CK_PERMISSION, -err, "seize", "", "not allowed to trace process %d", (int)pid);
	if (err == -ESRCH)
		return ck_fail(e, CK_NOT_FOUND, -err, "seize", "", "no process %d", (int)pid);
	return ck_fail(e, CK_IO, -err, "seize", "", "cannot stop process %d", (int)pid);
}

/*
 * The process must end now that its image has its name: armed at once, so that from
 * here our death kills it too (then the directory is synced, which can take a while);
 * then exit_group, up to its exit stop, where its terminal is given back its
 * line-editing modes before the shell can see it end.
 */
static int end_process(struct infect *t, const struct capture *c, int status,
		       const struct ckpt_kernel_termios *shell_modes, struct target *tg, struct ck_error *e)
{
	int tty = capture_grab_terminal(c);
	int err = infect_arm_exitkill(t);
	fault_point("armed");
	int ret = err ? ck_fail(e, CK_IO, -err, "exit", "", "cannot end process %d", (int)t->pid) : target_sync_name(tg, e);
	if (!ret && (err = infect_exit_begin(t, status)))
		ret = ck_fail(e, CK_IO, -err, "exit", "", "cannot end process %d", (int)t->pid);
	if (!ret) {
		capture_cook_terminal(c, tty, shell_modes);
		infect_exit_finish(t);
	}
	if (tty >= 0)
		close(tty);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t started = now_ns();
	struct options o;
	struct ck_error e = { 0 };
	if (parse_args(argc, argv, &o, &e))
		return report_error(&e, true);

	struct capture c = { 0 };
	if (o.screen && read_screen(&c.screen, &e))
		return report_error(&e, true);

	struct target tg;
	if (target_open(&tg, &o.target, &e)) {
		capture_free(&c);
		target_close(&tg);
		return report_error(&e, true);
	}

	/* Signals that can be held wait until the process is ended or released (SIGKILL cannot: see above). */
	sigset_t all, before;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &before);

	struct infect t;
	int err = infect_seize(&t, o.pid);
	if (err) {
		target_close(&tg);
		capture_free(&c);
		sigprocmask(SIG_SETMASK, &before, NULL);
		seize_failure(&e, err, o.pid);
		return report_error(&e, true);
	}
	uint64_t seized = now_ns();
	fault_point("seized");

	c.flags = o.snapshot ? CKPT_PROC_SNAPSHOT : 0;
	uint64_t size = 0;
	uint64_t stage_end[4] = { 0 };
	int failed = capture_state(&t, &c, &e) || !(stage_end[0] = now_ns()) || capture_memory(&t, &c, &e) ||
		     !(stage_end[1] = now_ns()) || image_write(&t, &c, tg.fd, &size, &e) || !(stage_end[2] = now_ns()) ||
		     target_commit(&tg, &e) || !(stage_end[3] = now_ns());
	fault_point("named");
	if (!failed) {
		if (o.snapshot) {
			if (!(failed = target_sync_name(&tg, &e)) && (err = infect_resume(&t)))
				/* The image is complete; the process may not have got its registers back. */
				failed = ck_fail(&e, CK_NOT_RESTORED, -err, "resume", "", "cannot resume process %d", (int)o.pid);
		} else if ((failed = end_process(&t, &c, o.exit_status, o.has_shell_modes ? &o.shell_modes : NULL, &tg, &e))) {
			/* It runs on: an image of a live process under the final name would thaw as a twin. */
			target_remove_final(&tg);
		}
	}
	bool restored = true;
	if (failed && (err = infect_release(&t))) {
		restored = false;
		e.cls = CK_NOT_RESTORED;
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
	jsonw_string(stdout, tg.path);
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
