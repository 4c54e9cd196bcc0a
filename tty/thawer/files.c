/*
 * The job's open files (NT_CKPT_OFILES) and objects (NT_CKPT_OBJECTS), made again
 * once in the builder and handed to every descriptor that shared them.
 *
 *   files_check    before anything starts: what outside the image is gone or refused
 *                  (a file, a device, a watched path) goes to the problems; a change the
 *                  job copes with (a log that grew) goes to the notes of the report.
 *   files_create   in the builder: objects first (file contents, pipes and socket pairs
 *                  with their bytes), then every open file, then what watches them
 *                  (epoll registrations, inotify watches), each in the helper range.
 *   files_install  in a member's pre-exec copy: its descriptors at their numbers.
 *
 * Regular files and directories are reopened by their recorded paths (the kernel's
 * canonical ones: no symlink followed, no blocking) and must be the same inode; a file
 * that changed meanwhile is reopened at the saved offset. The terminal is ours, opened
 * anew so the job's status flags (O_NONBLOCK…) stay off the shell's description. A
 * deleted file comes back unlinked (O_TMPFILE beside where it was when the directory
 * allows), a memfd as a memfd with its seals; each open description of them is a new
 * open of the one file, with its own offset and flags.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

/* Status flags F_SETFL may change (the access mode and creation flags are the open's). */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

void fd_words(const struct thaw *t, size_t ofile, char *out, size_t size)
{
	snprintf(out, size, "an open file");
	for (size_t i = 0; i < t->img.nprocesses; i++) {
		const struct ckpt_process_image *p = &t->img.processes[i];
		for (size_t k = 0; k < p->nfds; k++) {
			if ((size_t)p->fds[k].ofile != ofile)
				continue;
			/* Which process, once there are several. */
			if (t->img.job->nmembers > 1)
				snprintf(out, size, "fd %d of %.16s[%d]", p->fds[k].fd, p->process->comm, (int)p->process->pid);
			else
				snprintf(out, size, "fd %d", p->fds[k].fd);
			return;
		}
	}
}

void *data_area_read(const struct thaw *t, uint64_t off, uint64_t len)
{
	uint8_t *bytes = malloc(len ? len : 1);
	uint64_t at = t->img.job->data_offset + off;
	for (uint64_t done = 0; bytes && done < len;) {
		ssize_t n = pread(t->image_fd, bytes + done, len - done, (off_t)(at + done));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(bytes);
			errno = n < 0 ? errno : EIO;
			return NULL;
		}
		done += (uint64_t)n;
	}
	return bytes;
}

int set_status_flags(int fd, uint32_t flags)
{
	return fcntl(fd, F_SETFL, (int)(flags & SETFL_FLAGS));
}

int keep(const struct thaw *t, int fd, const char *what, struct ck_error *e)
{
	int moved = to_helper_range(t, fd);
	return moved >= 0 ? moved : ck_fail(e, CK_IO, errno, "fds", "", "cannot keep %s open (RLIMIT_NOFILE?)", what);
}

/* ---- before anything starts ---- */

static bool writes(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY && !(flags & O_PATH);
}

/* What access(2) must allow for an open with these flags. */
static int access_mode(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return R_OK;
	case O_WRONLY:
		return W_OK;
	default:
		return R_OK | W_OK;
	}
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * A file of the proc filesystem is what its path names (/proc/stat, /proc/meminfo):
 * no one can put another file there, and its device and inode numbers do not say
 * which it is. A thaw with the job's own IDs mounts a proc of its own (another device).
 */
static bool on_procfs(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/*
 * Is st the file (REG, DIR) or device (CHR) the image had open? An inode number may
 * come back for another file (one freed, then reused): the type must be the same too.
 */
static bool same_file(const struct ckpt_ofile *o, const struct stat *st, bool procfs)
{
	if (o->kind == CKPT_OF_CHR)
		return S_ISCHR(st->st_mode) && (uint32_t)st->st_rdev == o->rdev;
	bool same_type = (o->flags & O_PATH) || (o->kind == CKPT_OF_DIR ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode));
	return same_type && (procfs || (st->st_dev == o->dev && st->st_ino == o->ino));
}

/* A regular file or directory reopened by path: gone, replaced, too short for a writer, or only changed (a note). */
static void check_path_file(struct thaw *t, size_t i, struct problems *p)
{
	const struct ckpt_ofile *o = &t->img.ofiles[i];
	const char *path = image_job_string(&t->img, o->path);
	char who[64];
	fd_words(t, i, who, sizeof who);
	int fd = open_recorded(path, O_PATH);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			problem(p, true, "%s (open as %s) no longer exists", path, who);
		else if (errno == ELOOP)
			problem(p, true, "%s (open as %s) is a symbolic link now", path, who);
		else
			problem(p, errno != EACCES, "%s (open as %s) cannot be checked: %s", path, who, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	bool procfs = on_procfs(fd);
	close(fd);
	if (!same_file(o, &st, procfs)) {
		problem(p, true, "%s (open as %s) is another file than at the freeze", path, who);
		return;
	}
	if (o->kind != CKPT_OF_REG || (o->flags & O_PATH))
		return;
	uint64_t size = (uint64_t)st.st_size;
	/* A writer at an offset past the end would leave a hole; an appending one writes at the end anyway. */
	if (!procfs && writes(o->flags) && !(o->flags & O_APPEND) && size < o->pos) {
		problem(p, true, "%s (open as %s) is now %llu bytes, shorter than the offset %llu it writes at", path, who,
			(unsigned long long)size, (unsigned long long)o->pos);
		return;
	}
	int mode = access_mode(o->flags);
	if (access(path, mode) < 0 && errno == EACCES) {
		problem(p, false, "%s (open as %s) cannot be opened %s", path, who, mode == R_OK ? "for reading" : "for writing");
		return;
	}
	/* The kernel's files change all the time (and say size 0). */
	if (procfs)
		return;
	if (size > o->size)
		problem(&t->notes, true, "%s grew by %llu bytes while frozen", path, (unsigned long long)(size - o->size));
	else if (size < o->size)
		problem(&t->notes, true, "%s shrank by %llu bytes while frozen", path, (unsigned long long)(o->size - size));
	else if (mtime_ns(&st) != o->mtime_ns)
		problem(&t->notes, true, "%s was modified while frozen", path);
}

static void check_device(struct thaw *t, size_t i, struct problems *p)
{
	const struct ckpt_ofile *o = &t->img.ofiles[i];
	const char *path = image_job_string(&t->img, o->path);
	char who[64];
	fd_words(t, i, who, sizeof who);
	struct stat st;
	if (stat(path, &st) < 0)
		problem(p, true, "%s (open as %s) no longer exists", path, who);
	else if (!same_file(o, &st, false))
		problem(p, true, "%s (open as %s) is another device than at the freeze", path, who);
}

/* Alarm clocks need CAP_WAKE_ALARM; the others any process may use. */
static void check_timer(struct thaw *t, size_t i, struct problems *p)
{
	const struct ckpt_ofile *o = &t->img.ofiles[i];
	int fd = timerfd_create((int)o->clock, TFD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return;
	}
	char who[64];
	fd_words(t, i, who, sizeof who);
	problem(p, errno != EPERM, "%s is a timer on clock %u, which %s", who, o->clock,
		errno == EPERM ? "needs CAP_WAKE_ALARM" : "this kernel lacks");
}

int files_check(struct thaw *t, struct problems *p, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	for (size_t i = 0; i < img->nofiles; i++) {
		const struct ckpt_ofile *o = &img->ofiles[i];
		char who[64];
		switch (o->kind) {
		case CKPT_OF_TTY:
			if (t->term_fd < 0) {
				fd_words(t, i, who, sizeof who);
				return ck_fail(e, CK_UNSUPPORTED, 0, "terminal", "", "%s was a terminal: thaw it from a terminal", who);
			}
			break;
		case CKPT_OF_REG:
		case CKPT_OF_DIR:
			check_path_file(t, i, p);
			break;
		case CKPT_OF_CHR:
			check_device(t, i, p);
			break;
		case CKPT_OF_TIMERFD:
			check_timer(t, i, p);
			break;
		case CKPT_OF_CLOSED_SOCKET:
			fd_words(t, i, who, sizeof who);
			problem(&t->notes, false, "%s (connected to %s) is thawed as a closed connection", who,
				image_job_string(img, o->path));
			break;
		default:
			break;
		}
	}
	channels_check(t, &t->notes);
	watches_check(t, p);
	return 0;
}

/* ---- objects: file contents ---- */

/*
 * Copy an object's contents from the data area into fd (from offset 0); runs of
 * zeros are skipped, so a sparse file stays sparse, and the size is set at the end.
 */
static int fill_file(const struct thaw *t, int fd, const struct ckpt_object *o)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *chunk = malloc(CHUNK);
	static const uint8_t zeros[4096];
	int err = chunk ? 0 : -ENOMEM;
	uint64_t at = t->img.job->data_offset + o->data_offset;
	for (uint64_t done = 0; !err && done < o->data_len;) {
		size_t want = o->data_len - done < CHUNK ? (size_t)(o->data_len - done) : CHUNK;
		ssize_t n = pread(t->image_fd, chunk, want, (off_t)(at + done));
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		for (ssize_t k = 0; !err && k < n; k += sizeof zeros) {
			size_t part = (size_t)n - (size_t)k < sizeof zeros ? (size_t)n - (size_t)k : sizeof zeros;
			if (!memcmp(chunk + k, zeros, part))
				continue;
			if (pwrite(fd, chunk + k, part, (off_t)(done + (uint64_t)k)) != (ssize_t)part)
				err = -errno;
		}
		done += (uint64_t)n;
	}
	free(chunk);
	if (!err && ftruncate(fd, (off_t)o->size) < 0)
		err = -errno;
	return err;
}

/*
 * An unlinked regular file to hold a deleted file's contents: O_TMPFILE in the
 * directory it was in, else in the temporary directory, else a memfd (then it lives
 * in memory: noted).
 */
static int unlinked_file(struct thaw *t, const char *name)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", name);
	const char *places[] = { dirname(dir), getenv("TMPDIR"), "/tmp" };
	for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
		if (!places[i] || places[i][0] != '/')
			continue;
		int fd = open(places[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (i > 0)
				problem(&t->notes, false, "the deleted file %s is thawed in %s", name, places[i]);
			return fd;
		}
	}
	problem(&t->notes, false, "the deleted file %s is thawed in memory", name);
	return memfd_create("ckpty-deleted", MFD_CLOEXEC);
}

static int create_object_file(struct thaw *t, size_t i, struct ck_error *e)
{
	const struct ckpt_object *o = &t->img.objects[i];
	const char *name = image_job_string(&t->img, o->name);
	int fd;
	if (o->kind == CKPT_OBJ_DELETED)
		fd = unlinked_file(t, name);
	else
		fd = memfd_create(o->kind == CKPT_OBJ_MEMFD ? name : "ckpty-shmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return ck_fail(e, CK_IO, errno, "fds", name, "cannot make %s again", name[0] ? name : "shared memory");
	int err = fill_file(t, fd, o);
	if (err) {
		close(fd);
		return ck_fail(e, CK_IO, -err, "fds", name, "cannot write the contents of %s", name[0] ? name : "shared memory");
	}
	t->object_fds[i] = keep(t, fd, name, e);
	return t->object_fds[i] < 0 ? -1 : 0;
}

/* Mode and seals last: a read-only mode or a seal would stop the opens and writes before. */
static int seal_object_files(struct thaw *t, struct ck_error *e)
{
	for (size_t i = 0; i < t->img.nobjects; i++) {
		const struct ckpt_object *o = &t->img.objects[i];
		int fd = t->object_fds[i];
		const char *name = image_job_string(&t->img, o->name);
		if (fd < 0 || (o->kind != CKPT_OBJ_DELETED && o->kind != CKPT_OBJ_MEMFD))
			continue;
		if (fchmod(fd, o->mode & 07777) < 0)
			return ck_fail(e, CK_IO, errno, "fds", name, "cannot give %s its mode", name);
		/* F_SEAL_SEAL is what a memfd without MFD_ALLOW_SEALING has: added last, as it forbids the others. */
		uint32_t seals = o->kind == CKPT_OBJ_MEMFD ? o->seals : 0;
		if ((seals & ~F_SEAL_SEAL) && fcntl(fd, F_ADD_SEALS, seals & ~F_SEAL_SEAL) < 0)
			return ck_fail(e, CK_IO, errno, "fds", name, "cannot seal %s again", name);
		if ((seals & F_SEAL_SEAL) && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)
			return ck_fail(e, CK_IO, errno, "fds", name, "cannot seal %s again", name);
	}
	return 0;
}

/* ---- open files ---- */

/* A path that no longer opens: gone or replaced by a symlink is a change, else access or I/O. */
static enum ck_class open_failure_class(int err)
{
	if (err == ENOENT || err == ENOTDIR || err == ELOOP)
		return CK_CHANGED;
	return err == EACCES || err == EPERM ? CK_PERMISSION : CK_IO;
}

/* A regular file, directory or memory device by its path, checked to be what the image had. */
static int reopen_path(const struct thaw *t, const struct ckpt_ofile *o, struct ck_error *e)
{
	const char *path = image_job_string(&t->img, o->path);
	int flags = (int)o->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	int fd = open_recorded(path, flags);
	if (fd < 0)
		return ck_fail(e, open_failure_class(errno), errno, "fds", path, "cannot open %s again", path);
	struct stat st;
	bool same = fstat(fd, &st) == 0 && same_file(o, &st, on_procfs(fd));
	int err = 0;
	if (!same)
		err = ESTALE;
	else if (!(o->flags & O_PATH) && set_status_flags(fd, o->flags) < 0)
		err = errno;
	else if (o->kind == CKPT_OF_REG && !(o->flags & O_PATH) && lseek(fd, (off_t)o->pos, SEEK_SET) < 0)
		err = errno;
	else if (o->kind == CKPT_OF_DIR && o->pos)
		lseek(fd, (off_t)o->pos, SEEK_SET); /* a directory position is a hint only */
	if (err) {
		close(fd);
		return err == ESTALE ? ck_fail(e, CK_CHANGED, 0, "fds", path, "%s is another file than at the freeze", path)
				     : ck_fail(e, CK_IO, err, "fds", path, "cannot open %s again", path);
	}
	return fd;
}

/*
 * Our terminal through /dev/tty, if it is our controlling terminal: a user may not be
 * allowed to open their terminal's own node (a pty root opened for them, a terminal
 * after su), but its /dev/tty is everyone's. TIOCGDEV names the terminal behind both.
 */
static int controlling_terminal(const struct thaw *t, int flags)
{
	unsigned int ours, theirs;
	int fd = open("/dev/tty", flags);
	if (fd < 0)
		return -1;
	if (ioctl(t->term_fd, TIOCGDEV, &ours) < 0 || ioctl(fd, TIOCGDEV, &theirs) < 0 || ours != theirs) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Our terminal, opened anew: /dev/tty as /dev/tty, the terminal itself otherwise. */
static int reopen_terminal(const struct thaw *t, const struct ckpt_ofile *o, struct ck_error *e)
{
	char path[64];
	int flags = (int)(o->flags & (O_ACCMODE | SETFL_FLAGS)) | O_NOCTTY | O_CLOEXEC;
	int fd = -1;
	if (major(o->rdev) == 5 && minor(o->rdev) == 0)
		fd = open("/dev/tty", flags);
	if (fd < 0) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", t->term_fd);
		fd = open(path, flags);
	}
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		/*
		 * A terminal we may not open by name (after `su`, it stays its first owner's):
		 * a description of our own through /dev/tty when it is our controlling
		 * terminal, else the job shares ours, as any job shares its shell's.
		 */
		if ((fd = controlling_terminal(t, flags)) < 0)
			fd = fcntl(t->term_fd, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0 && fcntl(fd, F_SETFL, (int)(o->flags & SETFL_FLAGS)) < 0) {
			close(fd);
			fd = -1;
		}
	}
	return fd >= 0 ? fd : ck_fail(e, CK_IO, errno, "terminal", "", "cannot open the terminal again");
}

/* A new open description of a recreated memfd or deleted file, at its offset. */
static int reopen_object_file(const struct thaw *t, const struct ckpt_ofile *o, struct ck_error *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", t->object_fds[o->object]);
	int fd = open(path, (int)(o->flags & (O_ACCMODE | SETFL_FLAGS | O_PATH)) | O_CLOEXEC);
	if (fd < 0 || (!(o->flags & O_PATH) && lseek(fd, (off_t)o->pos, SEEK_SET) < 0)) {
		const char *name = image_job_string(&t->img, o->path);
		if (fd >= 0)
			close(fd);
		return ck_fail(e, CK_IO, errno, "fds", name, "cannot open %s again", name);
	}
	return fd;
}

static uint64_t clock_now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_timespec(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
}

/*
 * A timerfd with the time it had left. On the realtime clocks an absolute timer keeps
 * its date (past dates fire at once, as for a stopped process); every other timer
 * goes on from now with what was left (under the job's time namespace the monotonic
 * clocks continue from the freeze, so this is the same deadline). Then the
 * expirations not yet read (TFD_IOC_SET_TICKS).
 */
static int make_timerfd(const struct thaw *t, const struct ckpt_ofile *o)
{
	int fd = timerfd_create((int)o->clock, TFD_CLOEXEC | (int)(o->flags & O_NONBLOCK));
	if (fd < 0)
		return -1;
	bool realtime = o->clock == CLOCK_REALTIME || o->clock == CLOCK_REALTIME_ALARM;
	struct itimerspec its = { ns_timespec(o->interval_ns), ns_timespec(o->value_ns) };
	int flags = (int)o->kind_flags;
	if (o->value_ns && (flags & TFD_TIMER_ABSTIME)) {
		uint64_t base = realtime ? t->img.processes[0].process->freeze_time_ns : clock_now((clockid_t)o->clock);
		its.it_value = ns_timespec(base + o->value_ns);
	}
	int ret = 0;
	if (o->value_ns && timerfd_settime(fd, flags, &its, NULL) < 0)
		ret = -1;
	if (!ret && o->count && ioctl(fd, TFD_IOC_SET_TICKS, &o->count) < 0)
		ret = -1;
	if (ret) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return ret ? -1 : fd;
}

static int make_eventfd(const struct ckpt_ofile *o)
{
	int fd = eventfd(0, EFD_CLOEXEC | (o->kind_flags & EFD_SEMAPHORE) | (int)(o->flags & O_NONBLOCK));
	/* eventfd() takes 32 bits; the counter has 64. */
	if (fd >= 0 && o->count && write(fd, &o->count, sizeof o->count) != sizeof o->count) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int make_signalfd(const struct ckpt_ofile *o)
{
	/* The kernel's 64-bit mask as is (glibc's sigset_t would drop its signals 32 and 33). */
	uint64_t mask = o->sigmask;
	return (int)syscall(SYS_signalfd4, -1, &mask, sizeof mask, SFD_CLOEXEC | (int)(o->flags & O_NONBLOCK));
}

/* Open file i as a descriptor of ours (not yet in the helper range); -1 with e filled. */
static int make_ofile(struct thaw *t, struct channel_ends *ends, size_t i, struct ck_error *e)
{
	const struct ckpt_ofile *o = &t->img.ofiles[i];
	int fd;
	switch (o->kind) {
	case CKPT_OF_REG:
	case CKPT_OF_DIR:
	case CKPT_OF_CHR:
		return reopen_path(t, o, e);
	case CKPT_OF_TTY:
		return reopen_terminal(t, o, e);
	case CKPT_OF_OBJECT_FILE:
		return reopen_object_file(t, o, e);
	case CKPT_OF_PIPE:
	case CKPT_OF_SOCKET:
	case CKPT_OF_CLOSED_SOCKET:
		return channel_open(t, ends, i, e);
	case CKPT_OF_EVENTFD:
		fd = make_eventfd(o);
		break;
	case CKPT_OF_TIMERFD:
		fd = make_timerfd(t, o);
		break;
	case CKPT_OF_SIGNALFD:
		fd = make_signalfd(o);
		break;
	case CKPT_OF_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		break;
	case CKPT_OF_INOTIFY:
		fd = inotify_init1(IN_CLOEXEC | (int)(o->flags & O_NONBLOCK));
		break;
	default:
		return ck_fail(e, CK_BAD_IMAGE, 0, "fds", "", "open file %zu has an unknown kind %u", i, o->kind);
	}
	if (fd < 0) {
		char who[64];
		fd_words(t, i, who, sizeof who);
		return ck_fail(e, CK_IO, errno, "fds", "", "cannot make %s again", who);
	}
	return fd;
}

int files_create(struct thaw *t, struct ck_error *e)
{
	struct channel_ends *ends = NULL;
	int ret = 0;
	for (size_t i = 0; i < t->img.nobjects && !ret; i++) {
		uint32_t kind = t->img.objects[i].kind;
		if (kind == CKPT_OBJ_MEMFD || kind == CKPT_OBJ_DELETED || kind == CKPT_OBJ_SHMEM)
			ret = create_object_file(t, i, e);
	}
	if (!ret)
		ret = channels_create(t, &ends, e);
	for (size_t i = 0; i < t->img.nofiles && !ret; i++) {
		int fd = make_ofile(t, ends, i, e);
		if (fd < 0 || (t->ofile_fds[i] = keep(t, fd, "an open file", e)) < 0)
			ret = -1;
	}
	channels_free(ends);
	if (!ret)
		ret = channels_finish(t, e);
	if (!ret)
		ret = watches_create(t, e) || seal_object_files(t, e);
	return ret;
}

void files_close(struct thaw *t)
{
	for (size_t i = 0; t->ofile_fds && i < t->img.nofiles; i++)
		if (t->ofile_fds[i] >= 0) {
			close(t->ofile_fds[i]);
			t->ofile_fds[i] = -1;
		}
	for (size_t i = 0; t->object_fds && i < t->img.nobjects; i++)
		if (t->object_fds[i] >= 0) {
			close(t->object_fds[i]);
			t->object_fds[i] = -1;
		}
}

int files_install(const struct thaw *t, int member, int *err)
{
	const struct ckpt_process_image *p = t->members[member].image;
	/* Nothing of ours below the helper range goes along; everything of the member's does. */
	for (int fd = 0; fd < t->helper_base; fd++)
		close(fd);
	for (size_t k = 0; k < p->nfds; k++) {
		const struct ckpt_fd *f = &p->fds[k];
		/* dup2 leaves the new descriptor without FD_CLOEXEC: the exec keeps it; rebuild.c sets the flag. */
		if (dup2(t->ofile_fds[f->ofile], f->fd) < 0) {
			*err = errno;
			return f->fd;
		}
	}
	return -1;
}
