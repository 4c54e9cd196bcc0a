/*
 * epoll and inotify instances, and what they watch (NT_CKPT_WATCHES).
 *
 * An epoll registration is keyed by (file, descriptor number) and fdinfo lists it
 * by the number it was added as (tfd). That number may no longer name the file (the
 * program closed it, or reused it, while another descriptor keeps the file open), so
 * the file is found among the job's descriptors with kcmp(KCMP_EPOLL_TFD), which
 * compares a descriptor with the file behind a registration. Every epoll is settled
 * after the walk: its targets may belong to any member.
 *
 * An inotify watch is an inode; the thaw adds it again by path. fdinfo gives the
 * inode and a file handle, which only CAP_DAC_READ_SEARCH may open, so the path is
 * looked for among the paths the job knows: its open files, its mappings, its
 * working directories, the words of its command lines (and their values: --file=/x),
 * every directory above them, and the entries of those directories. A watch no path
 * is found for is refused, named.
 */
#include "files.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static struct pending_watcher *watchers(struct file_walk *w)
{
	return (struct pending_watcher *)w->watchers.data;
}

int classify_watcher(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, bool epoll,
		     struct ck_error *e)
{
	const struct capture *c = &w->job->members[member];
	o->kind = epoll ? CKPT_OF_EPOLL : CKPT_OF_INOTIFY;
	if (!epoll) {
		/* Events already queued cannot be put back into a new instance. */
		int dup = grab_fd(c->pid, f->fd), queued = 0;
		if (dup >= 0 && ioctl(dup, FIONREAD, &queued) < 0)
			queued = 0;
		if (dup >= 0)
			close(dup);
		if (queued > 0) {
			refuse_fd(w, member, f->fd, "inotify with %d bytes of events not read yet; try again", queued);
			return 1;
		}
	}
	struct pending_watcher p = { .ofile = (int)(w->job->ofiles.len / sizeof *o), .member = member, .fd = f->fd };
	if (!(p.fdinfo = strdup(f->fdinfo)) || buf_append(&w->watchers, &p, sizeof p)) {
		free(p.fdinfo);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	return 0;
}

/* The kernel's dev_t encoding in fdinfo (MAJOR << 20 | MINOR) as ours. */
static dev_t kernel_dev(unsigned long sdev)
{
	return makedev((unsigned)(sdev >> 20), (unsigned)(sdev & 0xfffff));
}

/* The open file registered in an epoll (owner's fd epfd) as tfd, the toff-th such registration; -1 if none of the job's. */
static int epoll_target(const struct file_walk *w, pid_t owner, int epfd, int tfd, int toff, dev_t dev, ino_t ino)
{
	const struct seen_fd *seen = (const struct seen_fd *)w->seen.data;
	struct kcmp_epoll_slot slot = { (uint32_t)epfd, (uint32_t)tfd, (uint32_t)toff };
	for (size_t i = 0; i < w->seen.len / sizeof *seen; i++) {
		const struct seen_fd *s = &seen[i];
		pid_t pid = w->job->members[s->member].pid;
		if (s->dev == dev && s->ino == ino && syscall(SYS_kcmp, pid, owner, KCMP_EPOLL_TFD, s->fd, &slot) == 0)
			return s->ofile;
	}
	return -1;
}

static int add_watch(struct job *job, const struct ckpt_watch *watch)
{
	return buf_append(&job->watches, watch, sizeof *watch) ? -ENOMEM : 0;
}

/* "tfd: N events: X data: Y pos:P ino:I sdev:D" per registration. */
static int settle_epoll(struct file_walk *w, const struct pending_watcher *p, struct ck_error *e)
{
	struct job *job = w->job;
	const struct capture *c = &job->members[p->member];
	for (const char *line = strstr(p->fdinfo, "tfd:"); line; line = strstr(line + 1, "\ntfd:")) {
		int tfd;
		unsigned events;
		unsigned long long data;
		unsigned long ino, sdev;
		if (*line == '\n')
			line++;
		if (sscanf(line, "tfd: %d events: %x data: %llx pos:%*u ino:%lx sdev:%lx", &tfd, &events, &data, &ino, &sdev) != 5)
			return member_fail(w, p->member, e, CK_INTERNAL, EPROTO, "", "cannot read the epoll of fd %d", p->fd);
		/* Registrations under one number (of different files) are told apart by their rank. */
		int toff = 0, earlier;
		for (const char *at = strstr(p->fdinfo, "tfd:"); at && at + (*at == '\n') < line; at = strstr(at + 1, "\ntfd:"))
			toff += sscanf(at + (*at == '\n'), "tfd: %d", &earlier) == 1 && earlier == tfd;
		int target = epoll_target(w, c->pid, p->fd, tfd, toff, kernel_dev(sdev), (ino_t)ino);
		if (target < 0) {
			refuse_fd(w, p->member, p->fd, "epoll watching a file as fd %d that no descriptor of the job holds", tfd);
			continue;
		}
		struct ckpt_watch watch = { .owner = p->ofile, .target = target, .tfd = tfd, .events = events, .data = data };
		if (add_watch(job, &watch))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	return 0;
}

/* Paths the job knows, to find an inotify watch's inode among (with every directory above each). */
struct known_paths {
	struct buf text; /* NUL-terminated paths, one after another */
};

static int know(struct known_paths *k, const char *path)
{
	char copy[PATH_MAX];
	if (path[0] != '/' || strlen(path) >= sizeof copy)
		return 0;
	snprintf(copy, sizeof copy, "%s", path);
	/* The path, then each directory above it. */
	for (;;) {
		if (buf_append(&k->text, copy, strlen(copy) + 1))
			return -ENOMEM;
		char *slash = strrchr(copy, '/');
		if (!slash || slash == copy) {
			if (strcmp(copy, "/"))
				return buf_append(&k->text, "/", 2) ? -ENOMEM : 0;
			return 0;
		}
		*slash = 0;
	}
}

static int know_member(struct known_paths *k, const struct capture *c)
{
	const char *strings = (const char *)c->strings.data;
	const char *cwd = strings + c->cwd;
	int err = know(k, cwd);
	/* Its descriptors' paths, as /proc names them. */
	const struct ckpt_fd *fds = (const struct ckpt_fd *)c->fds.data;
	for (size_t i = 0; !err && i < c->fds.len / sizeof *fds; i++) {
		char name[32], link[PATH_MAX];
		snprintf(name, sizeof name, "fd/%d", fds[i].fd);
		if (procfs_readlink(c->pid, name, link, sizeof link) == 0)
			err = know(k, link);
	}
	struct procfs_maps maps;
	if (!err && procfs_maps_read(c->pid, &maps) == 0) {
		for (size_t i = 0; !err && i < maps.count; i++)
			err = know(k, maps.vmas[i].path);
		procfs_maps_free(&maps);
	}
	/* Its command line's words, absolute or relative to its working directory, and what follows a '=' or ':' in them (--file=/x). */
	for (size_t at = 0; !err && at < c->cmdline.len;) {
		const char *word = (const char *)c->cmdline.data + at;
		size_t n = strnlen(word, c->cmdline.len - at), value = strcspn(word, "=:");
		char path[PATH_MAX];
		if (n && n < sizeof path - strlen(cwd) - 2) {
			if (word[0] == '/')
				snprintf(path, sizeof path, "%.*s", (int)n, word);
			else
				snprintf(path, sizeof path, "%s/%.*s", cwd, (int)n, word);
			err = know(k, path);
		}
		if (!err && value + 1 < n && word[value + 1] == '/') {
			snprintf(path, sizeof path, "%.*s", (int)(n - value - 1), word + value + 1);
			err = know(k, path);
		}
		at += n + 1;
	}
	return err;
}

/* Does path name the inode (dev, ino)? Then its canonical form (no symlink, no ..) goes to out. */
static bool canonical_if(const char *path, dev_t dev, ino_t ino, char *out, size_t size)
{
	struct stat st;
	if (stat(path, &st) < 0 || st.st_dev != dev || st.st_ino != ino)
		return false;
	int fd = open(path, O_PATH | O_CLOEXEC);
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = fd >= 0 ? readlink(link, out, size - 1) : -1;
	bool same = n > 0 && fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
	if (fd >= 0)
		close(fd);
	if (same)
		out[n] = 0;
	return same;
}

/* The path of an inode: a known path, else an entry of a known directory (a file the program watches but has not open). */
static bool find_path(const struct known_paths *k, dev_t dev, ino_t ino, char *out, size_t size)
{
	for (size_t at = 0; at < k->text.len; at += strlen((const char *)k->text.data + at) + 1)
		if (canonical_if((const char *)k->text.data + at, dev, ino, out, size))
			return true;
	for (size_t at = 0; at < k->text.len; at += strlen((const char *)k->text.data + at) + 1) {
		const char *dir_path = (const char *)k->text.data + at;
		DIR *dir = opendir(dir_path);
		struct dirent *de;
		bool found = false;
		while (dir && !found && (de = readdir(dir))) {
			char path[PATH_MAX];
			if (de->d_ino == ino && snprintf(path, sizeof path, "%s/%s", dir_path, de->d_name) < (int)sizeof path)
				found = canonical_if(path, dev, ino, out, size);
		}
		if (dir)
			closedir(dir);
		if (found)
			return true;
	}
	return false;
}

/* "inotify wd:W ino:I sdev:D mask:M ignored_mask:0 fhandle-bytes:…" per watch; wd, ino, sdev and mask in hex. */
static int settle_inotify(struct file_walk *w, const struct pending_watcher *p, const struct known_paths *k,
			  struct ck_error *e)
{
	struct job *job = w->job;
	for (const char *line = strstr(p->fdinfo, "inotify wd:"); line; line = strstr(line + 1, "inotify wd:")) {
		unsigned wd, mask;
		unsigned long ino, sdev;
		if (sscanf(line, "inotify wd:%x ino:%lx sdev:%lx mask:%x", &wd, &ino, &sdev, &mask) != 4)
			return member_fail(w, p->member, e, CK_INTERNAL, EPROTO, "", "cannot read the inotify of fd %d", p->fd);
		char path[PATH_MAX];
		if (!find_path(k, kernel_dev(sdev), (ino_t)ino, path, sizeof path)) {
			refuse_fd(w, p->member, p->fd, "inotify watch %u of inode %lu on device %u:%u: no path to it found", wd, ino,
				  major(kernel_dev(sdev)), minor(kernel_dev(sdev)));
			continue;
		}
		struct ckpt_watch watch = { .owner = p->ofile, .target = -1, .tfd = (int32_t)wd, .events = mask, .path = job_string(job, path) };
		if (add_watch(job, &watch))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	return 0;
}

int watches_finish(struct file_walk *w, struct ck_error *e)
{
	size_t n = w->watchers.len / sizeof(struct pending_watcher);
	struct known_paths k = { 0 };
	bool inotify = false;
	for (size_t i = 0; i < n; i++)
		inotify = inotify || ofile_at(w->job, watchers(w)[i].ofile)->kind == CKPT_OF_INOTIFY;
	int err = 0;
	for (size_t i = 0; inotify && !err && i < w->job->nmembers; i++)
		if (!w->job->members[i].zombie)
			err = know_member(&k, &w->job->members[i]);
	int ret = err ? ck_fail(e, CK_INTERNAL, -err, "fds", "", "out of memory") : 0;
	for (size_t i = 0; i < n && !ret; i++) {
		const struct pending_watcher *p = &watchers(w)[i];
		ret = ofile_at(w->job, p->ofile)->kind == CKPT_OF_EPOLL ? settle_epoll(w, p, e) : settle_inotify(w, p, &k, e);
	}
	buf_free(&k.text);
	return ret;
}
