/*
 * What the job's epoll and inotify instances watch, once every open file exists.
 *
 * An epoll registration is keyed by (file, descriptor number), and the program's
 * EPOLL_CTL_MOD and _DEL find it by that number: each target is added under the number
 * it had (tfd), by putting the file at that number of ours for the moment of the add
 * (whatever we had there is put back). The instance is shared by whoever holds it, so
 * this is done once, here in the builder, not per member.
 *
 * An inotify watch is added again by path, and must get its old watch descriptor:
 * the program maps them to its files. The kernel hands out wd numbers one above the
 * last it gave, so a gap is skipped by adding and removing a watch on a memfd of ours,
 * whose IN_IGNORED event is read away at once (the job cannot have missed anything in
 * that instant: it missed everything while frozen).
 *
 * Changes to a watched file while the job was frozen produced no event (nothing was
 * watching). A stopped and continued process would have found them queued; so a
 * watched file modified after the freeze gets its modification time set to itself,
 * which the kernel reports as IN_MODIFY to the new watch, and nothing else changes but
 * its ctime.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void watches_check(struct thaw *t, struct problems *p)
{
	const struct ckpt_image *img = &t->img;
	for (size_t i = 0; i < img->nwatches; i++) {
		const struct ckpt_watch *w = &img->watches[i];
		if (img->ofiles[w->owner].kind != CKPT_OF_INOTIFY)
			continue;
		const char *path = image_job_string(img, w->path);
		struct stat st;
		if (stat(path, &st) == 0)
			continue;
		char who[64];
		fd_words(t, (size_t)w->owner, who, sizeof who);
		problem(p, true, "%s, watched by %s (inotify watch %d), no longer exists", path, who, w->tfd);
	}
}

/* Add w's target to its epoll under the number w->tfd, with our own descriptor at that number put back after. */
static int register_epoll(struct thaw *t, const struct ckpt_watch *w, struct ck_error *e)
{
	int epfd = t->ofile_fds[w->owner], target = t->ofile_fds[w->target];
	int saved = fcntl(w->tfd, F_DUPFD_CLOEXEC, t->helper_base);
	int saved_flags = saved >= 0 ? fcntl(w->tfd, F_GETFD) : 0;
	if (w->tfd == epfd)
		epfd = saved;
	int err = 0;
	if (target != w->tfd && dup2(target, w->tfd) < 0)
		err = errno;
	struct epoll_event ev = { .events = w->events, .data.u64 = w->data };
	if (!err && epoll_ctl(epfd, EPOLL_CTL_ADD, w->tfd, &ev) < 0)
		err = errno;
	if (saved >= 0) {
		dup2(saved, w->tfd);
		fcntl(w->tfd, F_SETFD, saved_flags);
		close(saved);
	} else if (target != w->tfd) {
		close(w->tfd);
	}
	if (!err)
		return 0;
	char who[64];
	fd_words(t, (size_t)w->owner, who, sizeof who);
	return ck_fail(e, CK_IO, err, "fds", "", "cannot register fd %d in the epoll of %s again", w->tfd, who);
}

/* Read away whatever the instance has queued (our own IN_IGNORED), whatever its blocking mode. */
static void drain(int fd)
{
	int queued = 0;
	char buf[4096];
	while (ioctl(fd, FIONREAD, &queued) == 0 && queued > 0)
		if (read(fd, buf, (size_t)queued < sizeof buf ? (size_t)queued : sizeof buf) <= 0)
			break;
}

static int compare_wd(const void *a, const void *b)
{
	const struct ckpt_watch *x = *(const struct ckpt_watch *const *)a, *y = *(const struct ckpt_watch *const *)b;
	return (x->tfd > y->tfd) - (x->tfd < y->tfd);
}

/*
 * A watched file modified after the freeze: its mtime set to itself, for the IN_MODIFY the
 * job missed. The kernel stamps files from its coarse clock, up to a tick behind the
 * freeze time (CLOCK_REALTIME): a change made within a tick after the freeze can carry an
 * mtime before it (0.2-0.6 ms before, in 4 of 12 runs of the `tail -f` test). So a change in the
 * tick before the freeze counts too: at worst the job looks again and finds nothing new.
 */
static void announce_change(struct thaw *t, const struct ckpt_watch *w, const char *path)
{
	struct stat st;
	struct timespec tick = { 0, 0 };
	clock_getres(CLOCK_REALTIME_COARSE, &tick);
	int64_t since = (int64_t)t->img.processes[0].process->freeze_time_ns - (tick.tv_sec * 1000000000 + tick.tv_nsec);
	if (!(w->events & IN_MODIFY) || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec <= since)
		return;
	struct timespec times[2] = { { 0, UTIME_OMIT }, st.st_mtim };
	if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) < 0)
		problem(&t->notes, false, "%s changed while frozen; the job's inotify watch is not told (%s)", path, strerror(errno));
}

/* One inotify instance's watches, each under its old watch descriptor. */
static int restore_inotify(struct thaw *t, size_t owner, const struct ckpt_watch **watches, size_t n, struct ck_error *e)
{
	int fd = t->ofile_fds[owner];
	char who[64], gap_path[64];
	fd_words(t, owner, who, sizeof who);
	qsort(watches, n, sizeof *watches, compare_wd);
	int gap = -1, last = 0, ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		const struct ckpt_watch *w = watches[i];
		while (last + 1 < w->tfd) {
			if (gap < 0 && (gap = memfd_create("ckpty-inotify-gap", MFD_CLOEXEC)) < 0)
				return ck_fail(e, CK_IO, errno, "fds", "", "cannot make the inotify watches of %s again", who);
			snprintf(gap_path, sizeof gap_path, "/proc/self/fd/%d", gap);
			int wd = inotify_add_watch(fd, gap_path, IN_ATTRIB);
			if (wd < 0 || inotify_rm_watch(fd, wd) < 0) {
				ret = ck_fail(e, CK_IO, errno, "fds", "", "cannot make the inotify watches of %s again", who);
				break;
			}
			drain(fd);
			last = wd;
		}
		const char *path = image_job_string(&t->img, w->path);
		int wd = ret ? -1 : inotify_add_watch(fd, path, w->events);
		if (!ret && wd != w->tfd)
			ret = ck_fail(e, wd < 0 && errno == ENOENT ? CK_CHANGED : CK_IO, wd < 0 ? errno : 0, "fds", path,
				      "cannot watch %s again for %s (inotify watch %d%s)", path, who, w->tfd,
				      wd >= 0 ? ": the kernel gave another number" : "");
		last = wd;
	}
	if (gap >= 0)
		close(gap);
	/* After the gaps' events are read away, not to be read away with them. */
	for (size_t i = 0; i < n && !ret; i++)
		announce_change(t, watches[i], image_job_string(&t->img, watches[i]->path));
	return ret;
}

int watches_create(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	const struct ckpt_watch **mine = malloc((img->nwatches + 1) * sizeof *mine);
	if (!mine)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	int ret = 0;
	for (size_t i = 0; i < img->nwatches && !ret; i++)
		if (img->ofiles[img->watches[i].owner].kind == CKPT_OF_EPOLL)
			ret = register_epoll(t, &img->watches[i], e);
	for (size_t owner = 0; owner < img->nofiles && !ret; owner++) {
		if (img->ofiles[owner].kind != CKPT_OF_INOTIFY)
			continue;
		size_t n = 0;
		for (size_t i = 0; i < img->nwatches; i++)
			if ((size_t)img->watches[i].owner == owner)
				mine[n++] = &img->watches[i];
		ret = restore_inotify(t, owner, mine, n, e);
	}
	free(mine);
	return ret;
}
