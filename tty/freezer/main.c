/*
 * ckpty-freezer: `ckpty freeze` (bin/ckpty runs it directly, no Node in between), and
 * the session host's freezer. Writes the image of a job (see image.h), then ends the
 * job or lets it run on.
 *
 *   ckpty freeze [-j|--job] [-o|--output FILE] [--name-template T] [--snapshot] [--json]
 *                [--close-outside-sockets] [--max-contents SIZE] PID
 * and for ckpty's own callers:
 *   --report             one JSON line on stdout, success or failure (below)
 *   --screen-stdin       the session's repaint of the terminal comes on stdin (NT_CKPT_SCREEN),
 *                        read to its end once the job is captured (the caller may still be making it)
 *   --honour-core-limit  a soft RLIMIT_CORE of 0 opts a process out (the key's rule)
 *   --shell-modes SAVED  the terminal modes (`stty -g` form) the job's shell expects back:
 *                        set as the job ends, instead of just the line-editing modes
 *   --serve              stay: one request per frame on stdin, one --report line each (serve())
 *   --check-template     only check --name-template (a session checks it before it starts)
 *
 * The job is PID and its descendants in its process group, or with --job its whole
 * process group (the terminal's foreground job): every process and every thread,
 * seized before any is disturbed (job.c). -o is a path relative to our directory; the
 * name template (default %N.ckpt) is relative to PID's own current directory
 * (target.h). Root freezing another user's job writes the image as that user: it
 * holds their memory, and the thaw wants images owned by the thawing user.
 *
 * Output: `froze bc[4242] -> /home/u/bc.ckpt (488 KiB, 9.2 ms)` (`snapshot of …`), or
 * with --json / --report one object:
 *   {"pid":…,"comm":"…","processes":…,"threads":…,"members":[{"pid":…,"comm":"…",
 *    "threads":…,"zombie":false},…],"path":"…","bytes":…,"storedBytes":…,"mappings":…,
 *    "snapshot":false,"wasStopped":false,"exitStatus":161,"durationMs":…,"seizedMs":…}
 * (--report adds "loads" and "stagesMs"). pid and comm are the first member's;
 * storedBytes counts every member's memory and the data area. Failure: `ckpty: <why>`
 * on stderr, or with --report {"error":"…","exitCode":N,"errno":N,"errnoText":"…",
 * "stage":"…","restored":true}; the exit status is ckpty's (src/base/errors.ts): 2
 * usage, 3 unsupported, 4 not allowed, 6 the image could not be written, 8 no such
 * process, 1 a process could not be put back as it was, 70 internal. A refusal about
 * a member other than PID names it ("sort[4243]: …"). Whatever failed, every process
 * was released as seized and no file exists under the image's name.
 *
 * Dying (SIGKILL) at any moment leaves the processes as they were, running, and no file:
 * while seized they hold their own registers and masks except during the few syscalls
 * we inject, which run behind a guard (infect.h), and the image has no name until it
 * is durable. Once it has its name, every process is armed to be killed with us
 * (EXITKILL) before any is ended, so there is never an image and the job running on.
 * The window left is the few syscalls between naming the image and arming them.
 */
#include "freeze.h"
#include "jsonw.h"
#include "procfs.h"
#include "words.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FROZEN_EXIT_STATUS (128 + 33) /* DragonFly's SIGCKPT, as a shell reports a death by it */
#define MAX_ARGS_LEN (1u << 16) /* a serve() request's arguments */
#define USAGE "ckpty freeze [-j] [-o FILE] [--name-template T] [--snapshot] [--json] PID (ckpty freeze --help)"

struct command {
	struct freeze_request request;
	const char *output, *template;
	bool json, report, serve, screen_stdin, check_template;
	char name[PATH_MAX]; /* the template's expansion */
	char label[48]; /* "bc[4242]": the process named, for messages */
};

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* ckpty's exit code for a failure class: the freezer's own two are mapped, the rest are shared. */
static int exit_code_of(enum ck_class cls)
{
	return cls == CK_TARGET ? CK_IO : cls == CK_NOT_RESTORED ? 1
								 : (int)cls;
}

static int parse_size(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	double value = strtod(text, &end);
	uint64_t unit = 1;
	if (*end == 'K' || *end == 'k')
		unit = 1ull << 10;
	else if (*end == 'M' || *end == 'm')
		unit = 1ull << 20;
	else if (*end == 'G' || *end == 'g')
		unit = 1ull << 30;
	if (unit > 1)
		end += 1 + (end[1] == 'i' && end[2] == 'B' ? 2 : end[1] == 'B');
	if (end == text || *end || errno || value < 0)
		return -1;
	*out = (uint64_t)(value * (double)unit);
	return 0;
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

static int parse_args(int argc, char **argv, struct command *c, struct ck_error *e)
{
	*c = (struct command){ .request = { .exit_status = FROZEN_EXIT_STATUS, .target = { .owner_uid = -1, .owner_gid = -1 }, .rules = { .max_contents = 64u << 20 } } };
	const char *pid_text = NULL;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = !strcmp(arg, "-o") || !strcmp(arg, "--output") || !strcmp(arg, "--name-template") ||
			     !strcmp(arg, "--max-contents") || !strcmp(arg, "--shell-modes");
		if (takes && !val)
			return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "option '%s' needs a value", arg);
		if (!strcmp(arg, "-j") || !strcmp(arg, "--job"))
			c->request.job.whole_group = true;
		else if (!strcmp(arg, "--snapshot"))
			c->request.snapshot = true;
		else if (!strcmp(arg, "--json"))
			c->json = true;
		else if (!strcmp(arg, "--report"))
			c->report = true;
		else if (!strcmp(arg, "--serve"))
			c->serve = true;
		else if (!strcmp(arg, "--check-template"))
			c->check_template = true;
		else if (!strcmp(arg, "--screen-stdin"))
			c->screen_stdin = true;
		else if (!strcmp(arg, "--honour-core-limit"))
			c->request.rules.honour_core_limit = true;
		else if (!strcmp(arg, "--close-outside-sockets"))
			c->request.rules.close_outside_sockets = true;
		else if (!strcmp(arg, "-o") || !strcmp(arg, "--output"))
			c->output = argv[++i];
		else if (!strcmp(arg, "--name-template"))
			c->template = argv[++i];
		else if (!strcmp(arg, "--max-contents") && parse_size(argv[++i], &c->request.rules.max_contents))
			return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "bad size '%s' (bytes, or with K, M or G)", argv[i]);
		else if (!strcmp(arg, "--max-contents"))
			continue;
		else if (!strcmp(arg, "--shell-modes") && parse_saved_modes(argv[++i], &c->request.shell_modes))
			return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "bad terminal modes '%s' (stty -g form)", argv[i]);
		else if (!strcmp(arg, "--shell-modes"))
			c->request.has_shell_modes = true;
		else if (arg[0] == '-' && arg[1])
			return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "unknown option '%s'", arg);
		else if (pid_text)
			return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "one process id only (have '%s' and '%s')", pid_text, arg);
		else
			pid_text = arg;
	}
	if (c->serve)
		return 0;
	if (c->check_template)
		return target_expand(c->name, sizeof c->name, c->template ? c->template : "%N.ckpt", getpid(), "ckpty", 0, e);
	if (!pid_text)
		return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "which process? (a process id is missing)");
	char *end;
	long pid = strtol(pid_text, &end, 10);
	if (*end || end == pid_text || pid <= 0 || pid > INT32_MAX || !isdigit((unsigned char)pid_text[0]))
		return ck_fail(e, CK_USAGE, EINVAL, "arguments", "", "bad process id '%s'", pid_text);
	c->request.job.pid = (pid_t)pid;
	return 0;
}

/*
 * What a freeze of the named process needs before anything is touched: its name and
 * owner (the image's name and owner), and where the image goes.
 */
static int prepare(struct command *c, struct ck_error *e)
{
	struct freeze_request *r = &c->request;
	struct procfs_stat st;
	char *status = NULL;
	if (procfs_stat_read(r->job.pid, &st) || procfs_read(r->job.pid, "status", &status, NULL))
		return ck_fail(e, CK_NOT_FOUND, ESRCH, "find", "", "no process %d", (int)r->job.pid);
	words_process(c->label, sizeof c->label, r->job.pid, st.comm);
	if (job_refuse_early(&r->job, &st, e)) {
		free(status);
		return -1;
	}
	unsigned uid = 0, gid = 0;
	const char *ids = procfs_field(status, "Uid");
	if (ids)
		sscanf(ids, "%u", &uid);
	ids = procfs_field(status, "Gid");
	if (ids)
		sscanf(ids, "%u", &gid);
	free(status);
	if (geteuid() == 0 && uid != 0) {
		r->target.owner_uid = (int)uid;
		r->target.owner_gid = (int)gid;
	}
	if (c->output) {
		r->target.name = c->output;
	} else {
		if (target_expand(c->name, sizeof c->name, c->template ? c->template : "%N.ckpt", r->job.pid, st.comm, uid, e))
			return -1;
		r->target.name = c->name;
		r->target.in_cwd_of = r->job.pid;
	}
	r->screen_on_stdin = c->screen_stdin;
	return 0;
}

static bool is_refusal(enum ck_class cls)
{
	return cls == CK_USAGE || cls == CK_UNSUPPORTED || cls == CK_PERMISSION || cls == CK_NOT_FOUND;
}

/*
 * The whole message: what could not be done (the process named, or the image when the
 * failure was the file's), why, and, once the job was touched, what became of it.
 */
static void compose(const struct command *c, const struct ck_error *e, bool restored, const char *image, char *out, size_t size)
{
	bool bare = !strcmp(e->stage, "arguments") || !strcmp(e->stage, "usage") || !strcmp(e->stage, "find");
	/* Failures of the file name it in their path; writing it (a full disk) is the image's too. */
	const char *about_image = e->path[0] ? e->path : !strcmp(e->stage, "write") && image[0] ? image
												: NULL;
	char subject[sizeof((struct freeze_outcome *)0)->path + 64] = "";
	if (about_image)
		snprintf(subject, sizeof subject, "cannot write the image %s: ", about_image);
	else if (!bare)
		snprintf(subject, sizeof subject, "cannot freeze %s: ", c->label);
	/* A failure's errno in words, unless the message has them already (a refusal says why itself). */
	char cause[160] = "";
	bool failure = e->cls == CK_IO || e->cls == CK_INTERNAL || e->cls == CK_NOT_RESTORED;
	if (e->err && failure) {
		char text[128];
		snprintf(text, sizeof text, "%s", strerror(e->err));
		text[0] = (char)tolower((unsigned char)text[0]);
		if (!strcasestr(e->message, text))
			snprintf(cause, sizeof cause, ": %s", text);
	}
	char fate[128] = "";
	bool touched = !bare && strcmp(e->stage, "target") != 0;
	if (!restored)
		snprintf(fate, sizeof fate, "; %s could not be put back as it was and may misbehave", c->label);
	else if (touched && !is_refusal(e->cls))
		snprintf(fate, sizeof fate, "; %s runs on untouched", c->label);
	snprintf(out, size, "%s%s%s%s", subject, e->message, cause, fate);
}

static void print_failure(const struct command *c, const struct ck_error *e, const struct freeze_outcome *o)
{
	char message[sizeof((struct freeze_outcome *)0)->path + 1536];
	compose(c, e, o->restored, o->path, message, sizeof message);
	if (!c->report) {
		fprintf(stderr, "ckpty: %s\n", message);
		if (!strcmp(e->stage, "arguments"))
			fprintf(stderr, "usage: %s\n", USAGE);
		return;
	}
	fputs("{\"error\":", stdout);
	jsonw_string(stdout, message);
	printf(",\"exitCode\":%d,\"errno\":%d,\"errnoText\":", exit_code_of(e->cls), e->err);
	jsonw_string(stdout, e->err ? strerror(e->err) : "");
	printf(",\"stage\":");
	jsonw_string(stdout, e->stage);
	printf(",\"restored\":%s}\n", o->restored ? "true" : "false");
}

static void print_result(const struct command *c, const struct freeze_outcome *o, double duration_ms)
{
	const struct freeze_request *r = &c->request;
	const struct frozen_member *first = &o->members[0];
	if (!c->json && !c->report) {
		const char *names[64];
		size_t n = o->nmembers < 64 ? o->nmembers : 64;
		for (size_t i = 0; i < n; i++)
			names[i] = o->members[i].comm;
		char label[128], size[32], ms[32];
		words_job(label, sizeof label, first->pid, names, n, o->processes);
		words_bytes(size, sizeof size, o->bytes);
		words_ms(ms, sizeof ms, duration_ms);
		printf("%s %s -> %s (%s, %s)\n", r->snapshot ? "snapshot of" : "froze", label, o->path, size, ms);
		return;
	}
	printf("{\"pid\":%d,\"comm\":", (int)first->pid);
	jsonw_string(stdout, first->comm);
	printf(",\"processes\":%zu,\"threads\":%zu,\"members\":[", o->processes, o->threads);
	for (size_t i = 0; i < o->nmembers; i++) {
		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", (int)o->members[i].pid);
		jsonw_string(stdout, o->members[i].comm);
		printf(",\"threads\":%zu,\"zombie\":%s}", o->members[i].threads, o->members[i].zombie ? "true" : "false");
	}
	printf("],\"path\":");
	jsonw_string(stdout, o->path);
	printf(",\"bytes\":%llu,\"storedBytes\":%llu,\"mappings\":%zu,\"snapshot\":%s,\"wasStopped\":%s,\"exitStatus\":",
	       (unsigned long long)o->bytes, (unsigned long long)o->stored, o->mappings, r->snapshot ? "true" : "false",
	       o->was_stopped ? "true" : "false");
	if (r->snapshot)
		printf("null");
	else
		printf("%d", r->exit_status);
	printf(",\"durationMs\":%.3f,\"seizedMs\":%.3f", duration_ms, (double)o->seized_ns / 1e6);
	if (c->report)
		printf(",\"loads\":%zu,\"stagesMs\":{\"capture\":%.3f,\"copy\":%.3f,\"sync\":%.3f,\"end\":%.3f}", o->loads,
		       (double)o->stage_ns[0] / 1e6, (double)o->stage_ns[1] / 1e6, (double)o->stage_ns[2] / 1e6,
		       (double)o->stage_ns[3] / 1e6);
	printf("}\n");
}

/*
 * One freeze as the arguments ask; returns the exit status. With --screen-stdin the
 * screen comes on stdin (from a serve() frame, or from the caller directly).
 */
static int run(int argc, char **argv, uint64_t started)
{
	struct command c;
	struct ck_error e = { 0 };
	struct freeze_outcome outcome;
	freeze_outcome_init(&outcome);
	int failed = parse_args(argc, argv, &c, &e);
	if (!failed && c.check_template)
		return 0;
	failed = failed || prepare(&c, &e) || freeze_run(&c.request, &outcome, &e);
	if (failed)
		print_failure(&c, &e, &outcome);
	else
		print_result(&c, &outcome, (double)(now_ns() - started) / 1e6);
	fflush(stdout);
	/* After the report: a session's status line does not wait for it (a command's exit does). */
	target_sweep(&outcome.target);
	freeze_outcome_free(&outcome);
	return failed ? exit_code_of(e.cls) : 0;
}

static int read_exactly(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* A frame's header: a length and a newline. -1 at the end of fd or for anything else. */
static int read_length(int fd, size_t *len)
{
	char header[32];
	size_t used = 0;
	while (used + 1 < sizeof header && read_exactly(fd, header + used, 1) == 0 && header[used] != '\n')
		used++;
	if (used == 0 || header[used] != '\n')
		return -1;
	header[used] = 0;
	char *end;
	unsigned long long n = strtoull(header, &end, 10);
	if (*end || !isdigit((unsigned char)header[0]))
		return -1;
	*len = (size_t)n;
	return 0;
}

/* -1 when fd takes no more (EPIPE: its reader is gone). */
static int write_all(int fd, const char *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno != EINTR)
			return -1;
		done += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

/* A failure of serve() itself, as a --report line: the freezer for the request could not answer. */
static void report_serve_failure(const char *error, int err)
{
	dprintf(STDOUT_FILENO,
		"{\"error\":\"%s\",\"exitCode\":%d,\"errno\":%d,\"errnoText\":\"%s\",\"stage\":\"serve\",\"restored\":true}\n",
		error, exit_code_of(CK_INTERNAL), err, err ? strerror(err) : "");
}

/*
 * Copy the screen's frame ("SCREEN_LEN\n", the bytes) from stdin to the request's
 * pipe, all of it even when the request no longer reads (it refused early): the next
 * frame starts after it. -1 at the end of stdin or a malformed frame.
 */
static int forward_screen(int to)
{
	size_t len;
	if (read_length(0, &len) || len > CKPT_MAX_SCREEN_SIZE)
		return -1;
	bool reading = true;
	char chunk[16 << 10];
	for (size_t n; len > 0; len -= n) {
		n = len < sizeof chunk ? len : sizeof chunk;
		if (read_exactly(0, chunk, n))
			return -1;
		if (reading && write_all(to, chunk, n))
			reading = false; /* the request ended without it */
	}
	return 0;
}

/*
 * A child of ours waiting for its request: forked while the session is idle, so that a
 * press wakes a sleeping process rather than waiting for a new one to be scheduled
 * (the scheduler runs a fresh child after the busy ones; a woken one at once).
 */
struct spare {
	pid_t pid;
	int args; /* the request's arguments frame, as serve() read it */
	int screen; /* the screen, then EOF (--screen-stdin) */
	int reply; /* its --report line */
};

/*
 * How long a new spare waits before it looks at /proc: it starts as the previous freeze
 * ends, and its look (1-2 ms of CPU) must not compete with the session's status line.
 */
#define LOOK_AHEAD_DELAY_MS 50

/*
 * In the spare: look at /proc once the session has been idle a moment (a request before
 * that is served without), read the arguments, then freeze as they ask. Nothing comes
 * when serve() ends.
 */
static int spare_run(int args_fd)
{
	struct pollfd request = { .fd = args_fd, .events = POLLIN };
	if (poll(&request, 1, LOOK_AHEAD_DELAY_MS) == 0)
		job_look_ahead();
	/* Framed, so the spare starts once it has them, not when serve() closes the pipe. */
	size_t len;
	char *text;
	if (read_length(args_fd, &len) || len == 0 || len > MAX_ARGS_LEN || !(text = malloc(len)) ||
	    read_exactly(args_fd, text, len) || text[len - 1] != 0)
		return 0;
	uint64_t started = now_ns();
	char *argv[64] = { "ckpty-freezer", "--report", "--screen-stdin" };
	int argc = 3;
	for (size_t at = 0; at < len && argc < 63; at += strlen(text + at) + 1)
		argv[argc++] = text + at;
	return run(argc, argv, started);
}

static int spare_start(struct spare *s)
{
	int args[2], screen[2] = { -1, -1 }, reply[2] = { -1, -1 };
	if (pipe(args) < 0)
		return -1;
	if (pipe(screen) < 0 || pipe(reply) < 0 || (s->pid = fork()) < 0) {
		int err = errno, fds[] = { args[0], args[1], screen[0], screen[1], reply[0], reply[1] };
		for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		s->pid = 0;
		errno = err;
		return -1;
	}
	if (s->pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		dup2(screen[0], 0);
		dup2(reply[1], 1);
		close(args[1]);
		close(screen[0]);
		close(screen[1]);
		close(reply[0]);
		close(reply[1]);
		_exit(spare_run(args[0]));
	}
	close(args[0]);
	close(screen[0]);
	close(reply[1]);
	s->args = args[1];
	s->screen = screen[1];
	s->reply = reply[0];
	return 0;
}

/* Whether the spare ended while it waited (it is then reaped, and its pipes closed). */
static bool spare_gone(struct spare *s)
{
	if (waitpid(s->pid, NULL, WNOHANG) != s->pid)
		return false;
	close(s->args);
	close(s->screen);
	close(s->reply);
	s->pid = 0;
	return true;
}

/*
 * One request of serve(), in the spare; its --report line is copied to stdout as it
 * comes (the spare's exit is not waited for first). The spare reads the screen from a
 * pipe we fill from the screen's frame: the session makes the screen while the job is
 * being seized and captured.
 */
static int serve_one(struct spare *s, const char *frame, size_t frame_len)
{
	/* One write: the spare wakes to the whole frame. */
	write_all(s->args, frame, frame_len);
	close(s->args);
	int framed = forward_screen(s->screen);
	close(s->screen);
	size_t replied = 0;
	char chunk[4096];
	for (ssize_t n; (n = read(s->reply, chunk, sizeof chunk)) != 0;)
		if (n > 0) {
			write_all(1, chunk, (size_t)n);
			replied += (size_t)n;
		} else if (errno != EINTR)
			break;
	close(s->reply);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	if (replied == 0)
		report_serve_failure("the freezer ended without an answer", 0);
	return framed;
}

/*
 * The session's resident freezer: ready before the key is pressed, so a press costs
 * waking a spare child, not Node spawning a program. Each request is two frames on stdin:
 *   "ARGS_LEN\n" and the arguments, each ending in NUL; then "SCREEN_LEN\n" and the
 * screen (possibly 0 bytes), which may come a little later. Each gets one --report
 * line on stdout, and runs in a child of ours: a freeze that fails or dies leaves this
 * process as it was. Ends at the end of stdin.
 */
static int serve(void)
{
	signal(SIGPIPE, SIG_IGN); /* a request that ended before its screen came */
	struct spare spare = { 0 };
	for (;;) {
		if (!spare.pid)
			spare_start(&spare); /* if it fails, it is tried again when the request comes */
		size_t args_len;
		if (read_length(0, &args_len))
			return 0;
		if (args_len > MAX_ARGS_LEN)
			return CK_USAGE;
		/* The frame as it came, its header again in front, for serve_one to pass on whole. */
		char header[32];
		size_t header_len = (size_t)snprintf(header, sizeof header, "%zu\n", args_len);
		char *frame = malloc(header_len + args_len);
		if (!frame || read_exactly(0, frame + header_len, args_len)) {
			free(frame);
			return frame ? 0 : CK_INTERNAL;
		}
		memcpy(frame, header, header_len);
		/* A spare that died while it waited (killed, out of memory) is replaced first. */
		int unavailable = (!spare.pid || spare_gone(&spare)) && spare_start(&spare) ? errno : 0;
		int framed;
		if (!unavailable)
			framed = serve_one(&spare, frame, header_len + args_len);
		else {
			framed = forward_screen(-1);
			report_serve_failure("cannot start the freezer", unavailable);
		}
		free(frame);
		if (framed)
			return 0;
	}
}

int main(int argc, char **argv)
{
	uint64_t started = now_ns();
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--serve"))
			return serve();
	return run(argc, argv, started);
}
