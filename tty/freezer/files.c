/*
 * The descriptors of every member, as the job's open files (NT_CKPT_OFILES).
 *
 * A descriptor names an open file description; several descriptors (a dup, or one
 * inherited across fork by another member) may name the same one, sharing its offset
 * and flags, and the thaw must recreate it once and hand it to each. kcmp(KCMP_FILE)
 * tells a shared description from a merely equal one. Each description seen for the
 * first time is classified by its kind (classify()); what cannot be rebuilt is
 * refused, every such descriptor named in one message, before anything is disturbed.
 *
 * This file has the walk and the kinds that stand alone: files, directories,
 * devices, deleted files and memfds (their contents go to the image), eventfd,
 * timerfd and signalfd. Pipes and sockets are channels.c's, epoll and inotify
 * watches.c's: they need the whole job (a pipe's other end, a socket's peer, the
 * files an epoll watches) and are settled after the walk.
 */
#include "files.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

void format_size(uint64_t bytes, char *out, size_t size)
{
	if (bytes < 1024)
		snprintf(out, size, "%llu bytes", (unsigned long long)bytes);
	else if (bytes < (1u << 20))
		snprintf(out, size, "%.1f KiB", (double)bytes / 1024);
	else
		snprintf(out, size, "%.1f MiB", (double)bytes / (1 << 20));
}

/* "comm[pid] " of member m, or "" for the process the caller named (the caller names it). */
static void who(const struct job *job, int member, char *out, size_t size)
{
	const struct capture *c = &job->members[member];
	out[0] = 0;
	if (c->pid != job->named)
		snprintf(out, size, "%s[%d] ", c->comm, (int)c->pid);
}

int member_fail(const struct file_walk *w, int member, struct ck_error *e, enum ck_class cls, int err, const char *path,
		const char *fmt, ...)
{
	char message[sizeof e->message], name[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	who(w->job, member, name, sizeof name);
	if (name[0])
		name[strlen(name) - 1] = ':';
	return ck_fail(e, cls, err, "fds", path, "%s%s%s", name, name[0] ? " " : "", message);
}

void refuse_fd(struct file_walk *w, int member, int fd, const char *fmt, ...)
{
	char name[64];
	who(w->job, member, name, sizeof name);
	size_t room = sizeof w->refused - w->refused_len;
	int n = snprintf(w->refused + w->refused_len, room, "%s%sfd %d (", w->refused_len ? ", " : "", name, fd);
	if (n > 0 && (size_t)n < room) {
		va_list ap;
		va_start(ap, fmt);
		n += vsnprintf(w->refused + w->refused_len + n, room - (size_t)n, fmt, ap);
		va_end(ap);
		if ((size_t)n < room)
			n += snprintf(w->refused + w->refused_len + n, room - (size_t)n, ")");
	}
	/* A message cut short still names the first ones. */
	w->refused_len += n > 0 && (size_t)n < room ? (size_t)n : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Is this character device the member's controlling terminal, or /dev/tty (which always is)? */
static bool is_own_terminal(const struct capture *c, dev_t rdev)
{
	if (major(rdev) == 5 && minor(rdev) == 0)
		return true;
	struct procfs_stat st;
	if (procfs_stat_read(c->pid, &st) || !st.tty_nr)
		return false;
	/* tty_nr is the kernel's encoding: minor bits 0-7 and 20-31, major bits 8-19. */
	unsigned maj = ((unsigned)st.tty_nr >> 8) & 0xfff, min = ((unsigned)st.tty_nr & 0xff) | (((unsigned)st.tty_nr >> 12) & 0xfff00);
	return major(rdev) == maj && minor(rdev) == min;
}

static bool is_terminal_device(dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);
	/* pts slaves 136-143, virtual consoles and serial lines 4, /dev/tty and /dev/console (5:0, 5:1). */
	return (maj >= 136 && maj <= 143) || maj == 4 || (maj == 5 && min <= 1);
}

static int capture_terminal(struct capture *c, int fd, const char *path)
{
	int dup = grab_fd(c->pid, fd);
	if (dup < 0)
		return dup;
	struct winsize ws = { 0 };
	int err = 0;
	if (ioctl(dup, TCGETS, &c->tty.termios) < 0 || ioctl(dup, TIOCGWINSZ, &ws) < 0)
		err = -errno;
	close(dup);
	if (err)
		return err;
	c->has_tty = true;
	c->tty.fd = fd;
	c->tty.rows = ws.ws_row;
	c->tty.cols = ws.ws_col;
	c->tty.xpixel = ws.ws_xpixel;
	c->tty.ypixel = ws.ws_ypixel;
	c->tty.path = capture_string(c, path);
	return 0;
}

/* Devices a thaw opens again by name: the memory devices (null, zero, full, random, urandom…). */
static int classify_device(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o)
{
	struct capture *c = &w->job->members[member];
	dev_t rdev = f->st.st_rdev;
	o->rdev = (uint32_t)rdev;
	if (is_terminal_device(rdev)) {
		if (!is_own_terminal(c, rdev)) {
			refuse_fd(w, member, f->fd, "terminal %s, not the job's own", f->link);
			return 1;
		}
		o->kind = CKPT_OF_TTY;
		return 0;
	}
	if (major(rdev) == 1) {
		o->kind = CKPT_OF_CHR;
		return 0;
	}
	if (major(rdev) == 5 && minor(rdev) == 2)
		refuse_fd(w, member, f->fd, "pty master %s", f->link);
	else
		refuse_fd(w, member, f->fd, "character device %s", f->link);
	return 1;
}

/*
 * A descriptor to read a deleted file's or memfd's contents from: opened anew for
 * reading through /proc (the process's own may be write-only), else its own if it reads.
 */
static int open_contents(pid_t pid, const struct fd_facts *f)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, f->fd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || (f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return fd >= 0 ? fd : -errno;
	return grab_fd(pid, f->fd);
}

/* A file no directory holds any more, or a memfd: one object with its contents, shared by every description of it. */
static int classify_object_file(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o,
				struct ck_error *e)
{
	struct job *job = w->job;
	const struct capture *c = &job->members[member];
	bool memfd;
	char name[PATH_MAX];
	object_name(f->link, &memfd, name, sizeof name);
	o->kind = CKPT_OF_OBJECT_FILE;
	o->path = job_string(job, name);
	o->object = object_find(job, f->st.st_dev, f->st.st_ino);
	if (o->object >= 0)
		return 0;
	uint64_t size = (uint64_t)f->st.st_size;
	if (size > job->rules.max_contents) {
		char has[32], limit[32];
		format_size(size, has, sizeof has);
		format_size(job->rules.max_contents, limit, sizeof limit);
		refuse_fd(w, member, f->fd, "%s %s of %s, more than --max-contents %s allows", memfd ? "memfd" : "deleted file",
			  name, has, limit);
		return 1;
	}
	int src = open_contents(c->pid, f);
	if (src < 0)
		return member_fail(w, member, e, ck_class_of_errno(-src), -src, name, "cannot read the contents of fd %d (%s)", f->fd, f->link);
	struct ckpt_object obj = {
		.kind = memfd ? CKPT_OBJ_MEMFD : CKPT_OBJ_DELETED,
		.size = size,
		.mode = f->st.st_mode,
		.name = o->path,
	};
	if (memfd) {
		int seals = fcntl(src, F_GET_SEALS);
		obj.seals = seals > 0 ? (uint32_t)seals : 0;
	}
	o->object = object_add(job, &obj, f->st.st_dev, f->st.st_ino, src);
	if (o->object < 0) {
		close(src);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	return 0;
}

/* A value of an fdinfo line, in the base the kernel prints it in. */
static uint64_t fdinfo_number(const char *fdinfo, const char *key, int base)
{
	const char *v = procfs_field(fdinfo, key);
	return v ? strtoull(v, NULL, base) : 0;
}

static uint64_t timespec_ns(struct timespec ts)
{
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A timerfd: clock, settime flags, time left, period and expirations not yet read.
 * fdinfo shows a periodic timer that fired as it_value 0 until someone asks: our
 * timerfd_gettime on a copy moves it on to its next expiry (counting the expirations
 * it passed, as the program's next read or gettime would), then fdinfo is read again.
 */
static int classify_timerfd(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o,
			    struct ck_error *e)
{
	const struct capture *c = &w->job->members[member];
	int dup = grab_fd(c->pid, f->fd);
	struct itimerspec now;
	if (dup < 0 || timerfd_gettime(dup, &now) < 0) {
		int err = dup < 0 ? -dup : errno;
		if (dup >= 0)
			close(dup);
		return member_fail(w, member, e, ck_class_of_errno(err), err, "", "cannot read the timer of fd %d", f->fd);
	}
	close(dup);
	char name[64], *fdinfo;
	snprintf(name, sizeof name, "fdinfo/%d", f->fd);
	int err = procfs_read(c->pid, name, &fdinfo, NULL);
	if (err)
		return member_fail(w, member, e, ck_class_of_errno(-err), -err, "", "cannot inspect fd %d", f->fd);
	o->kind = CKPT_OF_TIMERFD;
	o->clock = (uint32_t)fdinfo_number(fdinfo, "clockid", 10);
	o->count = fdinfo_number(fdinfo, "ticks", 10);
	o->kind_flags = (uint32_t)fdinfo_number(fdinfo, "settime flags", 8);
	o->value_ns = timespec_ns(now.it_value);
	o->interval_ns = timespec_ns(now.it_interval);
	free(fdinfo);
	return 0;
}

/* anon_inode:[eventfd], anon_inode:inotify …: the kind's name. */
static void anon_kind(const char *link, char *out, size_t size)
{
	const char *kind = link + strlen("anon_inode:");
	size_t n = strlen(kind);
	if (*kind == '[' && n >= 2 && kind[n - 1] == ']') {
		kind++;
		n -= 2;
	}
	if (n >= size)
		n = size - 1;
	memcpy(out, kind, n);
	out[n] = 0;
}

static int classify_anon(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e)
{
	char kind[64];
	anon_kind(f->link, kind, sizeof kind);
	if (!strcmp(kind, "eventfd")) {
		o->kind = CKPT_OF_EVENTFD;
		o->count = fdinfo_number(f->fdinfo, "eventfd-count", 16);
		o->kind_flags = fdinfo_number(f->fdinfo, "eventfd-semaphore", 10) ? 1 /* EFD_SEMAPHORE */ : 0;
		return 0;
	}
	if (!strcmp(kind, "signalfd")) {
		o->kind = CKPT_OF_SIGNALFD;
		o->sigmask = fdinfo_number(f->fdinfo, "sigmask", 16);
		return 0;
	}
	if (!strcmp(kind, "timerfd"))
		return classify_timerfd(w, member, f, o, e);
	if (!strcmp(kind, "eventpoll") || !strcmp(kind, "inotify"))
		return classify_watcher(w, member, f, o, !strcmp(kind, "eventpoll"), e);
	refuse_fd(w, member, f->fd, "%s", kind);
	return 1;
}

/*
 * A description seen for the first time: fill in o. Returns 1 when it cannot be
 * rebuilt (named in w->refused), 0 when o is ready, or -1 with e set.
 */
static int classify(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e)
{
	struct job *job = w->job;
	mode_t type = f->st.st_mode & S_IFMT;
	bool deleted = ends_with(f->link, " (deleted)") || (type == S_IFREG && f->st.st_nlink == 0);
	o->object = -1;
	o->flags = f->flags;
	o->pos = f->pos;
	o->dev = f->st.st_dev;
	o->ino = f->st.st_ino;
	if (f->flags & O_PATH) {
		/* Only a place in the file system: opened again by path, whatever is there must be the same inode. */
		if (deleted || f->link[0] != '/' || type == S_IFLNK) {
			refuse_fd(w, member, f->fd, "O_PATH descriptor of %s", f->link);
			return 1;
		}
		o->kind = type == S_IFDIR ? CKPT_OF_DIR : CKPT_OF_REG;
	} else if (type == S_IFREG && (deleted || !strncmp(f->link, "/memfd:", 7))) {
		return classify_object_file(w, member, f, o, e);
	} else if (type == S_IFREG && f->link[0] == '/') {
		o->kind = CKPT_OF_REG;
		o->size = (uint64_t)f->st.st_size;
		o->mtime_ns = (int64_t)f->st.st_mtim.tv_sec * 1000000000 + f->st.st_mtim.tv_nsec;
	} else if (type == S_IFDIR && f->link[0] == '/' && !deleted) {
		o->kind = CKPT_OF_DIR;
	} else if (type == S_IFCHR) {
		if (classify_device(w, member, f, o))
			return 1;
	} else if (type == S_IFIFO) {
		return classify_pipe(w, member, f, o, e);
	} else if (type == S_IFSOCK) {
		return classify_socket(w, member, f, o, e);
	} else if (!strncmp(f->link, "anon_inode:", 11)) {
		return classify_anon(w, member, f, o, e);
	} else {
		const char *what = "file";
		if (type == S_IFBLK)
			what = "block device";
		else if (type == S_IFDIR)
			what = "deleted directory";
		refuse_fd(w, member, f->fd, "%s %s", what, f->link);
		return 1;
	}
	o->path = job_string(job, f->link);
	return 0;
}

/* The open file f names, if another descriptor of the job named it already. */
static int shared_ofile(const struct file_walk *w, pid_t pid, const struct fd_facts *f)
{
	const struct seen_fd *seen = (const struct seen_fd *)w->seen.data;
	for (size_t i = 0; i < w->seen.len / sizeof *seen; i++) {
		const struct seen_fd *s = &seen[i];
		if (s->dev == f->st.st_dev && s->ino == f->st.st_ino &&
		    syscall(SYS_kcmp, w->job->members[s->member].pid, pid, KCMP_FILE, s->fd, f->fd) == 0)
			return s->ofile;
	}
	return -1;
}

static int read_facts(pid_t pid, int fd, struct fd_facts *f)
{
	memset(f, 0, sizeof *f);
	f->fd = fd;
	char name[64], path[96];
	snprintf(name, sizeof name, "fd/%d", fd);
	int err = procfs_readlink(pid, name, f->link, sizeof f->link);
	if (err)
		return err;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(path, &f->st) < 0)
		return -errno;
	snprintf(name, sizeof name, "fdinfo/%d", fd);
	if ((err = procfs_read(pid, name, &f->fdinfo, NULL)))
		return err;
	const char *v;
	if ((v = procfs_field(f->fdinfo, "pos")))
		f->pos = strtoull(v, NULL, 10);
	if ((v = procfs_field(f->fdinfo, "flags"))) {
		uint32_t flags = (uint32_t)strtoul(v, NULL, 8);
		f->cloexec = (flags & O_CLOEXEC) != 0;
		f->flags = flags & ~(uint32_t)O_CLOEXEC;
	}
	return 0;
}

static int compare_ints(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The member's descriptor numbers, in order. */
static int list_fds(pid_t pid, int **out, size_t *count)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	struct buf numbers = { 0 };
	struct dirent *de;
	int err = 0;
	while (!err && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		int n = atoi(de->d_name);
		err = buf_append(&numbers, &n, sizeof n);
	}
	closedir(dir);
	*count = numbers.len / sizeof(int);
	*out = (int *)numbers.data;
	if (*count)
		qsort(*out, *count, sizeof(int), compare_ints);
	return err;
}

/* One descriptor: its open file (classified when new), then its record in the member's NT_CKPT_FDS. */
static int capture_fd(struct file_walk *w, int member, const struct fd_facts *f, struct ck_error *e)
{
	struct job *job = w->job;
	struct capture *c = &job->members[member];
	int ofile = shared_ofile(w, c->pid, f);
	if (ofile < 0) {
		struct ckpt_ofile o = { 0 };
		int verdict = classify(w, member, f, &o, e);
		if (verdict < 0)
			return -1;
		if (verdict > 0)
			return 0;
		ofile = (int)(job->ofiles.len / sizeof o);
		if (buf_append(&job->ofiles, &o, sizeof o))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	struct seen_fd s = { member, f->fd, f->st.st_dev, f->st.st_ino, ofile };
	struct ckpt_fd rec = { .fd = f->fd, .cloexec = f->cloexec, .ofile = ofile };
	if (buf_append(&w->seen, &s, sizeof s) || buf_append(&c->fds, &rec, sizeof rec))
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	int err;
	if (ofile_at(job, ofile)->kind == CKPT_OF_TTY && !c->has_tty && (err = capture_terminal(c, f->fd, f->link)))
		return member_fail(w, member, e, ck_class_of_errno(-err), -err, "", "cannot read the terminal modes of fd %d", f->fd);
	return 0;
}

static int capture_member_fds(struct file_walk *w, int member, struct ck_error *e)
{
	struct capture *c = &w->job->members[member];
	int *fds = NULL;
	size_t count = 0;
	int err = list_fds(c->pid, &fds, &count);
	if (err) {
		free(fds);
		return member_fail(w, member, e, ck_class_of_errno(-err), -err, "", "cannot list its open files");
	}
	int ret = 0;
	for (size_t i = 0; i < count && !ret; i++) {
		struct fd_facts f;
		if ((err = read_facts(c->pid, fds[i], &f))) {
			if (err != -ENOENT) /* ENOENT: closed meanwhile by another process sharing the table */
				ret = member_fail(w, member, e, ck_class_of_errno(-err), -err, "", "cannot inspect fd %d", fds[i]);
		} else {
			ret = capture_fd(w, member, &f, e);
		}
		free(f.fdinfo);
	}
	free(fds);
	return ret;
}

static void walk_free(struct file_walk *w)
{
	struct pending_socket *sockets = (struct pending_socket *)w->sockets.data;
	for (size_t i = 0; i < w->sockets.len / sizeof *sockets; i++)
		if (sockets[i].grabbed >= 0)
			close(sockets[i].grabbed);
	struct pending_watcher *watchers = (struct pending_watcher *)w->watchers.data;
	for (size_t i = 0; i < w->watchers.len / sizeof *watchers; i++)
		free(watchers[i].fdinfo);
	struct buf *bufs[] = { &w->seen, &w->pipes, &w->sockets, &w->watchers };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		buf_free(bufs[i]);
}

int capture_files(struct job *job, struct ck_error *e)
{
	struct file_walk w = { .job = job };
	int ret = 0;
	for (size_t i = 0; i < job->nmembers && !ret; i++)
		if (!job->members[i].zombie)
			ret = capture_member_fds(&w, (int)i, e);
	/* These may refuse more; they read no bytes once anything is refused. */
	if (!ret)
		ret = channels_finish(&w, e);
	if (!ret)
		ret = watches_finish(&w, e);
	walk_free(&w);
	if (!ret && w.refused_len)
		ret = ck_fail(e, CK_UNSUPPORTED, 0, "fds", "", "open files the thaw cannot rebuild: %s", w.refused);
	return ret;
}
