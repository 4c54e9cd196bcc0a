/*
 * The descriptors of every member, as the job's open files (NT_CKPT_OFILES).
 *
 * A descriptor names an open file description; several descriptors (a dup, or one
 * inherited across fork by another member) may name the same one, sharing its offset
 * and flags, and the thaw must recreate it once and hand it to each. kcmp(KCMP_FILE)
 * tells a shared description from a merely equal one. Each description seen for the
 * first time is classified by its kind (classify()); what cannot be rebuilt is
 * refused, every such descriptor named in one message, before anything is disturbed.
 */
#include "freezer.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* What /proc tells about one descriptor. */
struct fd_facts {
	int fd;
	struct stat st;
	char link[PATH_MAX];
	uint32_t flags; /* open flags without O_CLOEXEC */
	bool cloexec;
	uint64_t pos;
	char *fdinfo; /* the whole /proc/PID/fdinfo/FD text */
};

/* A description met already, and who holds it (for kcmp). */
struct seen_file {
	pid_t pid;
	int fd;
	dev_t dev;
	ino_t ino;
	int ofile;
};

struct file_walk {
	struct job *job;
	struct seen_file *seen;
	size_t nseen, cap;
	char refused[1024];
	size_t refused_len;
};

static bool is_terminal_device(dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);
	/* pts slaves 136-143, virtual consoles and serial lines 4, /dev/tty and /dev/console (5:0, 5:1). */
	return (maj >= 136 && maj <= 143) || maj == 4 || (maj == 5 && min <= 1);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The words a refusal uses for a kind of descriptor. */
static const char *describe(const struct fd_facts *f)
{
	if (S_ISSOCK(f->st.st_mode))
		return "socket";
	if (S_ISFIFO(f->st.st_mode))
		return "pipe";
	if (S_ISBLK(f->st.st_mode))
		return "block device";
	if (S_ISCHR(f->st.st_mode))
		return "character device";
	if (!strncmp(f->link, "anon_inode:", 11))
		return f->link + 11;
	if (!strncmp(f->link, "/memfd:", 7))
		return "memfd";
	return "deleted file";
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

/*
 * A description seen for the first time: fill in o. Returns 1 when it cannot be
 * rebuilt (the walk names it), 0 when o is ready, or -1 with e set.
 */
static int classify(struct file_walk *w, struct capture *c, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e)
{
	(void)e;
	bool deleted = ends_with(f->link, " (deleted)");
	o->object = -1;
	o->flags = f->flags;
	o->pos = f->pos;
	if (S_ISREG(f->st.st_mode) && f->link[0] == '/' && !deleted) {
		o->kind = CKPT_OF_REG;
		o->dev = f->st.st_dev;
		o->ino = f->st.st_ino;
		o->size = (uint64_t)f->st.st_size;
		o->mtime_ns = (int64_t)f->st.st_mtim.tv_sec * 1000000000 + f->st.st_mtim.tv_nsec;
	} else if (S_ISDIR(f->st.st_mode) && f->link[0] == '/' && !deleted) {
		o->kind = CKPT_OF_DIR;
		o->dev = f->st.st_dev;
		o->ino = f->st.st_ino;
	} else if (S_ISCHR(f->st.st_mode) && is_terminal_device(f->st.st_rdev)) {
		o->kind = CKPT_OF_TTY;
		o->rdev = (uint32_t)f->st.st_rdev;
	} else if (S_ISCHR(f->st.st_mode) && major(f->st.st_rdev) == 1) {
		o->kind = CKPT_OF_CHR; /* the memory devices: null, zero, full, random, urandom */
		o->rdev = (uint32_t)f->st.st_rdev;
	} else {
		return 1;
	}
	o->path = job_string(w->job, f->link);
	(void)c;
	return 0;
}

static void name_refused(struct file_walk *w, const struct capture *c, const struct fd_facts *f)
{
	size_t room = sizeof w->refused - w->refused_len;
	char who[48] = "";
	if (c->pid != w->job->named)
		snprintf(who, sizeof who, "%s[%d] ", c->comm, (int)c->pid);
	int n = snprintf(w->refused + w->refused_len, room, "%s%sfd %d (%s)", w->refused_len ? ", " : "", who, f->fd, describe(f));
	w->refused_len += n > 0 && (size_t)n < room ? (size_t)n : 0;
}

/* The open file f names, if another descriptor of the job named it already. */
static int shared_ofile(const struct file_walk *w, pid_t pid, const struct fd_facts *f)
{
	for (size_t i = 0; i < w->nseen; i++) {
		const struct seen_file *s = &w->seen[i];
		if (s->dev == f->st.st_dev && s->ino == f->st.st_ino &&
		    syscall(SYS_kcmp, s->pid, pid, KCMP_FILE, s->fd, f->fd) == 0)
			return s->ofile;
	}
	return -1;
}

static int remember(struct file_walk *w, pid_t pid, const struct fd_facts *f, int ofile)
{
	if (w->nseen == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct seen_file *bigger = realloc(w->seen, cap * sizeof *bigger);
		if (!bigger)
			return -ENOMEM;
		w->seen = bigger;
		w->cap = cap;
	}
	w->seen[w->nseen++] = (struct seen_file){ pid, f->fd, f->st.st_dev, f->st.st_ino, ofile };
	return 0;
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

static int capture_member_fds(struct file_walk *w, struct capture *c, struct ck_error *e)
{
	int *fds = NULL;
	size_t count = 0;
	int err = list_fds(c->pid, &fds, &count);
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "fds", "", "cannot list its open files");
	int ret = 0;
	for (size_t i = 0; i < count && !ret; i++) {
		struct fd_facts f;
		if ((err = read_facts(c->pid, fds[i], &f))) {
			free(f.fdinfo);
			if (err == -ENOENT)
				continue; /* closed meanwhile by another process sharing the table */
			ret = ck_fail(e, ck_class_of_errno(-err), -err, "fds", "", "cannot inspect fd %d", fds[i]);
			break;
		}
		int ofile = shared_ofile(w, c->pid, &f);
		if (ofile < 0) {
			struct ckpt_ofile o = { 0 };
			int verdict = classify(w, c, &f, &o, e);
			if (verdict < 0) {
				ret = -1;
			} else if (verdict > 0) {
				name_refused(w, c, &f);
			} else {
				ofile = (int)(w->job->ofiles.len / sizeof o);
				if (buf_append(&w->job->ofiles, &o, sizeof o) || remember(w, c->pid, &f, ofile))
					ret = ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
			}
		}
		const struct ckpt_ofile *ofiles = (const struct ckpt_ofile *)w->job->ofiles.data;
		if (!ret && ofile >= 0 && ofiles[ofile].kind == CKPT_OF_TTY && !c->has_tty &&
		    (err = capture_terminal(c, f.fd, f.link)))
			ret = ck_fail(e, ck_class_of_errno(-err), -err, "fds", "", "cannot read the terminal modes of fd %d", f.fd);
		struct ckpt_fd rec = { .fd = f.fd, .cloexec = f.cloexec, .ofile = ofile };
		if (!ret && ofile >= 0 && buf_append(&c->fds, &rec, sizeof rec))
			ret = ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
		free(f.fdinfo);
	}
	free(fds);
	return ret;
}

int capture_files(struct job *job, struct ck_error *e)
{
	struct file_walk w = { .job = job };
	int ret = 0;
	for (size_t i = 0; i < job->nmembers && !ret; i++) {
		struct capture *c = &job->members[i];
		if (!c->zombie && (ret = capture_member_fds(&w, c, e)))
			job_blame(job, c->pid, c->comm, e);
	}
	free(w.seen);
	if (!ret && w.refused_len)
		ret = ck_fail(e, CK_UNSUPPORTED, 0, "fds", "", "open files the thaw cannot rebuild: %s", w.refused);
	return ret;
}
