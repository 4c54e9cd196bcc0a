/*
 * `ckpty thaw`: rebuild a process from its image (see image.h) in this terminal, as
 * this process's child, and end the way it ends. The `ckpty` command (bin/ckpty)
 * runs this program for `ckpty thaw`; `ckpty thaw --help` is the TypeScript CLI's.
 *
 *   ckpty-thawer [--json] [-q|--quiet] [--check] FILE
 *
 * The image is opened once (O_NOFOLLOW): its owner and mode, its format and
 * everything else are checked on that descriptor, and the memory is read and mapped
 * from it, so nothing can be swapped in between.
 *
 * Output: once the program is rebuilt, still stopped, with the terminal in its
 * modes: `ckpty: thawed bc[4242] from /home/u/bc.ckpt (488 KiB, 15 ms)` on stderr (the
 * size is the image file's, as the freeze reports it),
 * or with --json one object on stdout:
 *   {"pid":…,"comm":"…","image":"…","mappings":…,"storedBytes":…,"lazyBytes":…,
 *    "copiedBytes":…,"fpuOnly":false,"durationMs":…,"rebuildMs":…}
 * (lines end with \r\n: the terminal may be raw by then). Inside a ckpty session the
 * host is told first ($CKPTY_SOCKET, see src/host/control-protocol.ts).
 * --check stops after every check and says whether the image can be thawed here.
 *
 * Exit status: a refusal before anything ran is `ckpty: <why>` and its class
 * (error.h: 3 unsupported or another kernel, 4 not allowed, 5 bad image, 6 I/O,
 * 7 a file changed or vanished, 8 no image, 70 internal); nothing was started.
 * Once the program runs, the status is the program's; if a signal ended it, the
 * thaw ends by the same signal. The program is our only child; the session host
 * recognises us by our executable and freezes the child instead.
 */
#include "fault.h"
#include "jsonw.h"
#include "thawer.h"
#include "words.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct options {
	bool json, quiet, check, new_ids;
	const char *file;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const struct ck_error *e)
{
	fprintf(stderr, "ckpty: %s\n", e->message);
	return e->cls;
}

static int usage(const char *why)
{
	fprintf(stderr, "ckpty: thaw: %s\nusage: ckpty thaw [--json] [--quiet] [--check] [--new-ids] FILE (ckpty thaw --help)\n", why);
	return CK_USAGE;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	char why[256];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json"))
			o->json = true;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			o->quiet = true;
		else if (!strcmp(a, "--check"))
			o->check = true;
		else if (!strcmp(a, "--new-ids"))
			o->new_ids = true;
		else if (!strcmp(a, "--") && i + 1 == argc - 1 && !o->file)
			o->file = argv[++i];
		else if (a[0] == '-' && a[1])
			return snprintf(why, sizeof why, "unknown option '%s'", a), usage(why);
		else if (o->file)
			return snprintf(why, sizeof why, "too many arguments ('%s')", a), usage(why);
		else
			o->file = a;
	}
	return o->file ? 0 : usage("missing the image file");
}

/* FILE as an absolute path, lexically (as path.resolve does): for messages and the host. */
static void absolute(const char *file, char *out, size_t size)
{
	char joined[PATH_MAX * 2];
	char cwd[PATH_MAX] = "/";
	if (file[0] != '/' && !getcwd(cwd, sizeof cwd))
		strcpy(cwd, "/");
	snprintf(joined, sizeof joined, "%s/%s", file[0] == '/' ? "" : cwd, file);
	/* Drop empty and "." components, let ".." remove the one before. */
	size_t len = 0;
	for (char *part = strtok(joined, "/"); part; part = strtok(NULL, "/")) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			while (len > 0 && out[--len] != '/')
				;
			continue;
		}
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "/%s", part);
		if (len >= size)
			len = size - 1;
	}
	if (len == 0)
		strcpy(out, "/");
	else
		out[len] = 0;
}

/* The image file, opened once: every later check and read goes through this descriptor. */
static int open_image(const char *path, struct ck_error *e)
{
	/* O_NONBLOCK: a FIFO under the image's name must not hang the open. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT || err == ENOTDIR)
			return ck_fail(e, CK_NOT_FOUND, err, "open", path, "%s: no such file", path);
		if (err == EACCES || err == EPERM)
			return ck_fail(e, CK_PERMISSION, err, "open", path, "%s: permission denied", path);
		if (err == ELOOP)
			return ck_fail(e, CK_PERMISSION, err, "open", path, "refusing to thaw %s: it is a symbolic link", path);
		return ck_fail(e, CK_IO, err, "open", path, "%s: %s", path, strerror(err));
	}
	return fd;
}

/* The image becomes a process of the user who thaws it: it must be theirs, and no one else's to write. */
static int check_ownership(int fd, const char *path, struct ck_error *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ck_fail(e, CK_IO, errno, "open", path, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0; /* the loader names what it is */
	uid_t uid = geteuid();
	if (st.st_uid != uid)
		return ck_fail(e, CK_PERMISSION, 0, "owner", path, "refusing to thaw %s: %s is owned by uid %u, not by uid %u",
			       path, path, (unsigned)st.st_uid, (unsigned)uid);
	if (st.st_mode & 022)
		return ck_fail(e, CK_PERMISSION, 0, "owner", path, "refusing to thaw %s: %s is writable by %s (mode %04o)", path,
			       path, st.st_mode & 002 ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	return 0;
}

/* A failure of a later stage, worded as `ckpty thaw` words them. */
static int stage_failure(struct ck_error *e, const char *path, const struct thaw *t)
{
	char cause[160] = "";
	const char *errno_text = e->err ? strerror(e->err) : "";
	if (e->err && !strstr(e->message, errno_text)) {
		snprintf(cause, sizeof cause, ": %s", errno_text);
		cause[2] = (char)tolower((unsigned char)cause[2]);
	}
	char kernels[160] = "";
	if (!strcmp(e->stage, "compat")) {
		struct utsname uts;
		uname(&uts);
		snprintf(kernels, sizeof kernels, " (frozen on Linux %s, this is Linux %s)",
			 image_string(&t->img.processes[0], t->img.processes[0].process->kernel_release), uts.release);
	}
	char before[PATH_MAX + 32], after[sizeof cause + sizeof kernels];
	snprintf(before, sizeof before, "cannot thaw %s: ", path);
	snprintf(after, sizeof after, "%s%s", cause, kernels);
	ck_reword(e, before, after);
	return fail(e);
}

/*
 * Inside a ckpty session, let its host know (recordings mark the thaw). Best effort
 * and bounded: a thaw outside a session, or whose host is gone, goes on regardless.
 */
static void tell_session_host(pid_t pid, const char *comm, const char *image)
{
	const char *socket_path = getenv("CKPTY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!socket_path || strlen(socket_path) >= sizeof addr.sun_path)
		return;
	strcpy(addr.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	char *line = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&line, &len);
	if (out && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
		fprintf(out, "{\"op\":\"thawed\",\"pid\":%d,\"comm\":", (int)pid);
		jsonw_string(out, comm);
		fputs(",\"image\":", out);
		jsonw_string(out, image);
		fputs("}\n", out);
		fclose(out);
		out = NULL;
		if (write(fd, line, len) == (ssize_t)len) {
			shutdown(fd, SHUT_WR);
			/* Its reply says it has seen the notice: wait for it, a second at most. */
			char reply[256];
			struct pollfd p = { fd, POLLIN, 0 };
			double deadline = now_ms() + 1000;
			while (poll(&p, 1, (int)(deadline - now_ms())) > 0 && read(fd, reply, sizeof reply) > 0)
				;
		}
	}
	if (out)
		fclose(out);
	free(line);
	close(fd);
}

static const char *const id_modes[] = { [IDS_HERE] = "here", [IDS_NAMESPACE] = "namespace", [IDS_NEW] = "new" };

static void print_thawed(const struct options *o, const struct thaw *t, pid_t pid, pid_t outer_pid, const char *path,
			 double started, double spawned)
{
	double now = now_ms();
	const struct ckpt_image *img = &t->img;
	size_t n = img->job->nmembers, live = img->nprocesses;
	struct comm_text *comms = calloc(n, sizeof *comms);
	const char **names = calloc(n, sizeof *names);
	for (size_t i = 0; comms && names && i < n; i++) {
		comms[i] = comm_text(img->members[i].comm);
		names[i] = comms[i].text;
	}
	const char *comm = comms ? comms[0].text : "?";
	/* The job as its parent's pid namespace (the session host's, the user's shell's) knows it. */
	pid_t seen_pid = outer_pid > 0 ? outer_pid : pid;
	tell_session_host(seen_pid, comm, path);
	if (o->json) {
		printf("{\"pid\":%d,\"outerPid\":%d,\"ids\":\"%s\",\"comm\":", (int)pid, (int)outer_pid, id_modes[t->ids]);
		jsonw_string(stdout, comm);
		printf(",\"image\":");
		jsonw_string(stdout, path);
		size_t mappings = 0, threads = 0;
		uint64_t stored = 0;
		for (size_t i = 0; i < t->img.nprocesses; i++) {
			mappings += t->img.processes[i].nvmas;
			threads += t->img.processes[i].process->nthreads;
			stored += t->img.processes[i].process->stored_bytes;
		}
		printf(",\"processes\":%zu,\"threads\":%zu,\"mappings\":%zu,\"storedBytes\":%llu,\"lazyBytes\":%llu,"
		       "\"copiedBytes\":%llu,\"fpuOnly\":%s,\"durationMs\":%.3f,\"rebuildMs\":%.3f,\"changes\":",
		       t->img.nprocesses, threads, mappings, (unsigned long long)stored, (unsigned long long)t->stats.lazy_bytes,
		       (unsigned long long)t->stats.copied_bytes, t->stats.fpu_only ? "true" : "false", now - started,
		       now - spawned);
		jsonw_string(stdout, t->notes.text);
		printf("}\r\n");
		fflush(stdout);
	} else if (!o->quiet) {
		char label[128], size[32], ms[32];
		words_job(label, sizeof label, pid, names, comms && names ? n : 1, live);
		words_bytes(size, sizeof size, t->img.file_size);
		words_ms(ms, sizeof ms, now - started);
		/* The image's PID is kept inside a namespace; the user's shell and kill know the outer one. */
		char outside[160] = "";
		if (seen_pid != pid)
			snprintf(outside, sizeof outside, "; %s is PID %d outside its pid namespace", comm, (int)seen_pid);
		fprintf(stderr, "ckpty: thawed %s from %s (%s, %s)%s%s\r\n", label, path, size, ms, outside,
			t->stats.fpu_only ? "; its AVX registers did not fit this CPU, only x87/SSE came back" : "");
		/* What changed outside the image while frozen, and what the job comes back with instead. */
		if (t->notes.count)
			fprintf(stderr, "ckpty: while frozen: %s%s\r\n", t->notes.text, t->notes.count > 3 ? "; and more" : "");
	}
	free(comms);
	free(names);
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

/* Everything up to the program's end; returns only if the program never ran. */
/* A refusal or failure before the job ran: nothing of it is left. */
static int not_built(struct thaw *t, struct ck_error *e)
{
	thaw_abandon(t);
	thaw_restore_terminal(t);
	return stage_failure(e, t->image_path, t);
}

/* The pid a message names: the first member's own (its original one, unless --new-ids). */
static pid_t shown_pid(const struct thaw *t)
{
	return t->ids == IDS_NEW ? t->members[0].pid : t->img.members[0].pid;
}

/* Everything up to the job's end; returns only if the job never ran. */
static int thaw(const struct options *o, struct thaw *t, struct ck_error *e, double started)
{
	const char *path = t->image_path;
	if ((t->image_fd = open_image(path, e)) < 0 || check_ownership(t->image_fd, path, e))
		return fail(e);
	if (image_load(t->image_fd, &t->img, e)) {
		char before[PATH_MAX + 2];
		snprintf(before, sizeof before, "%s: ", path);
		ck_reword(e, before, "");
		return fail(e);
	}
	if (thaw_prepare(t, e))
		return !strcmp(e->stage, "outside") ? fail(e) : stage_failure(e, path, t);
	if (ids_choose(t, o->new_ids, e))
		return fail(e);
	if (o->check) {
		if (!o->quiet)
			fprintf(stderr, "ckpty: %s can be thawed here\n", path);
		return 0;
	}

	ignore_job_signals();
	double spawned = now_ms();
	int channel[2] = { -1, -1 };
	if (t->ids == IDS_NAMESPACE && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) < 0)
		return fail(e);
	for (int i = 0; i < 2; i++)
		if (channel[i] >= 0)
			channel[i] = to_helper_range(t, channel[i]);
	pid_t reaper;
	if (ids_enter(t, &reaper, e))
		return stage_failure(e, path, t);
	if (t->ids == IDS_NAMESPACE && !reaper) {
		/* We are the reaper, PID 1 of the job's namespace: unless the thaw is gone already. */
		close(channel[0]);
		struct pollfd hangup = { .fd = channel[1], .events = POLLIN };
		if (poll(&hangup, 1, 0) != 0)
			_exit(127);
		_exit(reaper_main(t, channel[1]));
	}
	if (t->ids == IDS_NAMESPACE) {
		close(channel[1]);
		if (reaper_wait_ready(t, channel[0], e))
			return stage_failure(e, path, t);
	} else if (thaw_build(t, e)) {
		return not_built(t, e);
	}
	if (thaw_set_terminal(t, e))
		return not_built(t, e);
	print_thawed(o, t, shown_pid(t), thaw_outer_pid(t, reaper), path, started, spawned);
	thaw_repaint(t);
	fault_point("ready");
	int ret;
	if (t->ids == IDS_NAMESPACE) {
		fault_point("running");
		ret = reaper_supervise(t, reaper, channel[0]);
	} else {
		if (thaw_release(t, thaw_in_foreground(t), e))
			return not_built(t, e);
		fault_point("running");
		ret = thaw_supervise(t);
	}
	fprintf(stderr, "ckpty: lost the thawed job: %s\n", strerror(-ret));
	return CK_INTERNAL;
}

int main(int argc, char **argv)
{
	double started = now_ms();
	struct options o = { 0 };
	int status = parse_args(argc, argv, &o);
	if (status)
		return status;
	char path[PATH_MAX];
	absolute(o.file, path, sizeof path);

	struct thaw t = { .image_path = path, .supervisor = getpid(), .image_fd = -1, .term_fd = -1 };
	struct ck_error e = { 0 };
	status = thaw(&o, &t, &e, started);
	thaw_free(&t);
	return status;
}
