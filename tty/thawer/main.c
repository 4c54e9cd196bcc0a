/*
 * ckpty-thawer: rebuild a process from its image (see image.h) in this
 * terminal, as this process's child, and end the way it ends.
 *
 *   ckpty-thawer [--report-fd N] IMAGE
 *
 * Mechanism only: the caller (src/thawer/) checks the image's owner, mode and
 * files first and words the messages. Reports are JSON lines on fd N (stderr
 * without --report-fd); the program owns stdin/stdout/stderr once it runs:
 *   {"event":"ready","pid":…,"comm":"…","mappings":…,"stored":…,"lazy":…,
 *    "copied":…,"fpu_only":false,"duration_ns":…}
 *     the program is rebuilt and still stopped, the terminal in its modes
 *     (print "\r\n", not "\n": it may be raw now). When fd N is a socket the
 *     thawer then waits for one byte (or EOF) from it before letting the
 *     program run, so the caller can print first.
 *   {"error":"…","class":N,"errno":N,"errno_text":"…","stage":"…","path":"…"}
 *     nothing was started (a half-built process is killed); the exit status
 *     is the class (enum thaw_class: 3 unsupported, 4 permission, 5 bad image,
 *     6 I/O, 7 a file changed or vanished, 8 no image, 70 internal).
 * After "ready" the exit status is the program's; if a signal ended it, the
 * thawer ends by the same signal. The thawer keeps argv[0] "ckpty-thawer" and
 * the program is its only child: that is how the session host recognises a
 * thaw supervisor in a foreground job (and freezes the child instead).
 */
#include "jsonw.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int thaw_fail(struct thaw_error *e, enum thaw_class cls, int err, const char *stage, const char *path,
	      const char *fmt, ...)
{
	e->cls = cls;
	e->err = err;
	e->stage = stage;
	snprintf(e->path, sizeof e->path, "%s", path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One JSON line, written with a single write() so it never interleaves. */
static void report(int fd, char *line, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(line);
}

static int report_error(int fd, const struct thaw_error *e)
{
	char *line;
	size_t len;
	FILE *out = open_memstream(&line, &len);
	if (!out)
		return e->cls;
	fputs("{\"error\":", out);
	jsonw_string(out, e->message);
	fprintf(out, ",\"class\":%d,\"errno\":%d,\"errno_text\":", e->cls, e->err);
	jsonw_string(out, e->err ? strerror(e->err) : "");
	fputs(",\"stage\":", out);
	jsonw_string(out, e->stage);
	fputs(",\"path\":", out);
	jsonw_string(out, e->path);
	fputs("}\n", out);
	fclose(out);
	report(fd, line, len);
	return e->cls;
}

static void report_ready(int fd, const struct thaw *t, pid_t pid, uint64_t duration_ns)
{
	char *line;
	size_t len;
	FILE *out = open_memstream(&line, &len);
	if (!out)
		return;
	char comm[sizeof t->img.process->comm + 1] = { 0 };
	memcpy(comm, t->img.process->comm, sizeof t->img.process->comm);
	fprintf(out, "{\"event\":\"ready\",\"pid\":%d,\"comm\":", (int)pid);
	jsonw_string(out, comm);
	fprintf(out, ",\"mappings\":%zu,\"stored\":%llu,\"lazy\":%llu,\"copied\":%llu,\"fpu_only\":%s,\"duration_ns\":%llu}\n",
		t->img.nvmas, (unsigned long long)t->img.process->stored_bytes, (unsigned long long)t->stats.lazy_bytes,
		(unsigned long long)t->stats.copied_bytes, t->stats.fpu_only ? "true" : "false",
		(unsigned long long)duration_ns);
	fclose(out);
	report(fd, line, len);
}

/* Let the caller print before the program owns the terminal: wait for its byte (or EOF) on a socket. */
static void wait_for_caller(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	char ack;
	while (read(fd, &ack, 1) < 0 && errno == EINTR)
		;
}

/*
 * Signals a whole job receives (^C, ^\, kill %1, a hangup) are the program's to
 * decide on: we stay to report how it ended. Job control (^Z, fg), SIGCHLD and
 * faults keep their default.
 */
static void ignore_job_signals(void)
{
	static const int keep[] = { SIGCHLD, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGURG, SIGSEGV,
				    SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT, SIGKILL, SIGSTOP };
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		bool keeps = false;
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
			keeps = keeps || keep[i] == sig;
		if (!keeps)
			signal(sig, SIG_IGN);
	}
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		signal(sig, SIG_IGN);
}

static int usage(int fd)
{
	struct thaw_error e;
	thaw_fail(&e, THAW_USAGE, EINVAL, "usage", "", "usage: ckpty-thawer [--report-fd N] IMAGE");
	return report_error(fd, &e);
}

int main(int argc, char **argv)
{
	int report_fd = 2;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--report-fd") && i + 1 < argc) {
			char *end;
			report_fd = (int)strtol(argv[++i], &end, 10);
			if (*end || report_fd < 0 || fcntl(report_fd, F_GETFD) < 0)
				return usage(2);
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			return usage(report_fd);
		}
	}
	if (!path)
		return usage(report_fd);
	/* The program must not inherit our report channel. */
	fcntl(report_fd, F_SETFD, FD_CLOEXEC);
	ignore_job_signals();

	uint64_t started = now_ns();
	struct thaw t = { .image_path = path };
	struct thaw_error e = { 0 };
	t.image_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t.image_fd < 0) {
		thaw_fail(&e, errno == ENOENT ? THAW_NOT_FOUND : errno == EACCES ? THAW_PERMISSION : THAW_IO, errno, "load",
			  path, "cannot open %s", path);
		return report_error(report_fd, &e);
	}
	char why[512];
	int err = image_load(t.image_fd, &t.img, why, sizeof why);
	if (err) {
		if (err == -EINVAL)
			thaw_fail(&e, THAW_BAD_IMAGE, 0, "load", path, "%s: %s", path, why);
		else
			thaw_fail(&e, err == -EIO ? THAW_BAD_IMAGE : THAW_IO, -err, "load", path, "cannot read %s", path);
		return report_error(report_fd, &e);
	}
	if (thaw_prepare(&t, &e))
		return report_error(report_fd, &e);

	struct infect tracee;
	if (thaw_spawn(&t, &tracee, &e))
		return report_error(report_fd, &e);
	pid_t pid = tracee.pid;
	if (thaw_rebuild(&t, &tracee, &e)) {
		thaw_abandon(pid);
		return report_error(report_fd, &e);
	}
	if (thaw_set_terminal(&t, &e)) {
		thaw_abandon(pid);
		return report_error(report_fd, &e);
	}
	report_ready(report_fd, &t, pid, now_ns() - started);
	wait_for_caller(report_fd);
	if (thaw_release(&t, &tracee, &e)) {
		thaw_abandon(pid);
		thaw_restore_terminal(&t);
		return report_error(report_fd, &e);
	}
	if (report_fd > 2)
		close(report_fd);
	image_free(&t.img);
	int ret = thaw_supervise(pid);
	fprintf(stderr, "ckpty-thawer: lost the program (pid %d): %s\n", (int)pid, strerror(-ret));
	return THAW_INTERNAL;
}
