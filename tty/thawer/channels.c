/*
 * Pipes, FIFOs and unix socket pairs again, with the bytes that were buffered in
 * them, before any member exists.
 *
 * A pipe is made with pipe2(); a FIFO still in its directory is opened by path, first
 * by an anchor of ours opened read-write (on Linux that never blocks, and it keeps the
 * FIFO open while each end is opened without blocking and its bytes go in). A FIFO
 * that is gone comes back as a pipe. Its first reading and first writing descriptions
 * are the pipe's two ends; any other one is opened anew through /proc/self/fd, a
 * separate description as it was. Socket pairs are socketpair()s: each end's queue is
 * sent again from the other end, then what was shut down is shut down. Ends no open
 * file holds (a pipe whose writer had closed, a pair whose peer had gone) are closed
 * once every open file exists: the reader then meets the end of the data, as it would
 * have.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEND_SHUTDOWN 2 /* sock_diag's UNIX_DIAG_SHUTDOWN bit for "no more sending" */

/* One object's ends while the open files are made; -1 where there is none. */
struct object_ends {
	int end[2]; /* pipe: read, write; pair: end 0, end 1 */
	int anchor; /* a FIFO opened read-write by us */
	bool taken[2]; /* an open file holds that end already (another gets a new description) */
	bool named; /* a FIFO opened by path */
};

struct channel_ends {
	size_t n;
	struct object_ends o[];
};

static const char *fifo_path(const struct thaw *t, const struct ckpt_object *o)
{
	return o->kind == CKPT_OBJ_PIPE ? image_job_string(&t->img, o->name) : "";
}

void channels_check(struct thaw *t, struct problems *notes)
{
	for (size_t i = 0; i < t->img.nobjects; i++) {
		const char *path = fifo_path(t, &t->img.objects[i]);
		struct stat st;
		if (path[0] && (stat(path, &st) < 0 || !S_ISFIFO(st.st_mode)))
			problem(notes, true, "the FIFO %s is gone: thawed as a pipe", path);
	}
}

/* Put len bytes into a pipe, nonblocking: it was made large enough. */
static int refill_pipe(int fd, const uint8_t *bytes, uint64_t len)
{
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (uint64_t done = 0; done < len;) {
		ssize_t n = write(fd, bytes + done, len - done);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (uint64_t)n;
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

static int make_pipe(struct thaw *t, size_t i, struct object_ends *ends, struct ck_error *e)
{
	const struct ckpt_object *o = &t->img.objects[i];
	const char *path = fifo_path(t, o);
	int fds[2] = { -1, -1 };
	if (path[0]) {
		ends->anchor = open_recorded(path, O_RDWR);
		struct stat st;
		if (ends->anchor >= 0 && fstat(ends->anchor, &st) == 0 && S_ISFIFO(st.st_mode))
			ends->named = true;
		else if (ends->anchor >= 0) {
			close(ends->anchor);
			ends->anchor = -1;
		}
	}
	if (!ends->named && pipe2(fds, O_CLOEXEC) < 0)
		return ck_fail(e, CK_IO, errno, "fds", "", "cannot make a pipe");
	ends->end[0] = fds[0];
	ends->end[1] = fds[1];
	int fd = ends->named ? ends->anchor : fds[1];
	/* As large as it was, where we may; at least large enough for its bytes. */
	if (o->size && fcntl(fd, F_SETPIPE_SZ, (int)o->size) < 0 && (uint64_t)fcntl(fd, F_GETPIPE_SZ) < o->data_len)
		return ck_fail(e, CK_PERMISSION, errno, "fds", path, "cannot make a pipe of %llu bytes again (pipe-max-size?)",
			       (unsigned long long)o->size);
	if (!o->data_len)
		return 0;
	uint8_t *bytes = data_area_read(t, o->data_offset, o->data_len);
	int err = bytes ? refill_pipe(fd, bytes, o->data_len) : -errno;
	free(bytes);
	return err ? ck_fail(e, CK_IO, -err, "fds", path, "cannot put %llu bytes back into a pipe", (unsigned long long)o->data_len)
		   : 0;
}

static int socket_type(uint32_t kind)
{
	switch (kind) {
	case CKPT_OBJ_STREAM_PAIR:
		return SOCK_STREAM;
	case CKPT_OBJ_DGRAM_PAIR:
		return SOCK_DGRAM;
	default:
		return SOCK_SEQPACKET;
	}
}

/*
 * Send from `from` what was queued for its peer: a stream's bytes, or each message
 * (u32 length, bytes, padding to 4). The sender's buffer is raised for it while it is
 * sent (its default may be smaller than what the program had filled), then put back.
 */
static int requeue(int from, int type, const uint8_t *bytes, uint64_t len)
{
	int old = 0, want = (int)(len * 2 + (64 << 10));
	socklen_t optlen = sizeof old;
	getsockopt(from, SOL_SOCKET, SO_SNDBUF, &old, &optlen);
	if (want > old && setsockopt(from, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0)
		setsockopt(from, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
	int err = 0;
	for (uint64_t at = 0; !err && at < len;) {
		const uint8_t *msg = bytes + at;
		uint64_t size = len - at, step = size;
		if (type != SOCK_STREAM) {
			uint32_t n;
			memcpy(&n, bytes + at, sizeof n);
			msg += sizeof n;
			size = n;
			step = sizeof n + ((uint64_t)n + 3) / 4 * 4;
			if (step > len - at)
				return -EPROTO;
		}
		ssize_t sent = send(from, msg, size, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0)
			err = -errno;
		else if (type == SOCK_STREAM)
			step = (uint64_t)sent;
		at += step;
	}
	/* The kernel doubles what it is given: half of what it reported. */
	old /= 2;
	setsockopt(from, SOL_SOCKET, SO_SNDBUF, &old, sizeof old);
	return err;
}

static int make_pair(struct thaw *t, size_t i, struct object_ends *ends, struct ck_error *e)
{
	const struct ckpt_object *o = &t->img.objects[i];
	int type = socket_type(o->kind);
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, ends->end) < 0)
		return ck_fail(e, CK_IO, errno, "fds", "", "cannot make a socket pair");
	/* End 0's queue came from end 1, and the other way round. */
	const uint64_t offset[2] = { o->data_offset, o->data2_offset }, len[2] = { o->data_len, o->data2_len };
	for (int k = 0; k < 2; k++) {
		if (!len[k])
			continue;
		uint8_t *bytes = data_area_read(t, offset[k], len[k]);
		int err = bytes ? requeue(ends->end[1 - k], type, bytes, len[k]) : -errno;
		free(bytes);
		if (err)
			return ck_fail(e, CK_IO, -err, "fds", "", "cannot queue %llu bytes again in a socket pair",
				       (unsigned long long)len[k]);
	}
	return 0;
}

int channels_create(struct thaw *t, struct channel_ends **out, struct ck_error *e)
{
	size_t n = t->img.nobjects;
	struct channel_ends *ends = calloc(1, sizeof *ends + n * sizeof ends->o[0]);
	if (!ends)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	ends->n = n;
	for (size_t i = 0; i < n; i++)
		ends->o[i] = (struct object_ends){ .end = { -1, -1 }, .anchor = -1 };
	*out = ends;
	int ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t kind = t->img.objects[i].kind;
		if (kind == CKPT_OBJ_PIPE)
			ret = make_pipe(t, i, &ends->o[i], e);
		else if (kind == CKPT_OBJ_STREAM_PAIR || kind == CKPT_OBJ_DGRAM_PAIR || kind == CKPT_OBJ_SEQPACKET_PAIR)
			ret = make_pair(t, i, &ends->o[i], e);
	}
	return ret;
}

/* A FIFO end by its path (the anchor keeps a reader there, so even a writer opens without blocking). */
static int open_fifo(const struct thaw *t, const struct ckpt_ofile *o, const struct object_ends *ends)
{
	const char *path = fifo_path(t, &t->img.objects[o->object]);
	int fd = open_recorded(path, (int)(o->flags & O_ACCMODE));
	struct stat mine, anchor;
	if (fd >= 0 && (fstat(fd, &mine) < 0 || fstat(ends->anchor, &anchor) < 0 || mine.st_ino != anchor.st_ino ||
			mine.st_dev != anchor.st_dev)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* A pipe end: the pipe's own the first time, then a new description of it. */
static int open_pipe_end(const struct ckpt_ofile *o, struct object_ends *ends)
{
	int accmode = (int)(o->flags & O_ACCMODE);
	int end = accmode == O_WRONLY ? 1 : 0;
	if (accmode != O_RDWR && !ends->taken[end]) {
		ends->taken[end] = true;
		return fcntl(ends->end[end], F_DUPFD_CLOEXEC, 0);
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", ends->end[end]);
	return open(path, accmode | O_NONBLOCK | O_CLOEXEC);
}

/* A connection to a peer outside the job, thawed closed: one end of a pair whose other end is gone. */
static int closed_socket(const struct ckpt_ofile *o)
{
	int pair[2];
	if (socketpair(AF_UNIX, (int)o->kind_flags | SOCK_CLOEXEC, 0, pair) < 0)
		return -1;
	close(pair[1]);
	return pair[0];
}

int channel_open(struct thaw *t, struct channel_ends *ends, size_t ofile, struct ck_error *e)
{
	const struct ckpt_ofile *o = &t->img.ofiles[ofile];
	struct object_ends *oe = o->object >= 0 ? &ends->o[o->object] : NULL;
	int fd;
	if (o->kind == CKPT_OF_CLOSED_SOCKET)
		fd = closed_socket(o);
	else if (o->kind == CKPT_OF_SOCKET) {
		/* A socket has one description (it cannot be opened again): a second open file of it shares it. */
		oe->taken[o->end] = true;
		fd = fcntl(oe->end[o->end], F_DUPFD_CLOEXEC, 0);
	} else if (oe->named)
		fd = open_fifo(t, o, oe);
	else
		fd = open_pipe_end(o, oe);
	if (fd >= 0 && set_status_flags(fd, o->flags) == 0)
		return fd;
	char who[64];
	fd_words(t, ofile, who, sizeof who);
	int err = errno;
	if (fd >= 0)
		close(fd);
	return ck_fail(e, err == ESTALE ? CK_CHANGED : CK_IO, err == ESTALE ? 0 : err, "fds", "", "cannot make %s again%s", who,
		       err == ESTALE ? ": its FIFO was replaced meanwhile" : "");
}

int channels_finish(struct thaw *t, struct ck_error *e)
{
	for (size_t i = 0; i < t->img.nofiles; i++) {
		const struct ckpt_ofile *o = &t->img.ofiles[i];
		if (o->kind == CKPT_OF_SOCKET && (o->kind_flags & SEND_SHUTDOWN) && shutdown(t->ofile_fds[i], SHUT_WR) < 0) {
			char who[64];
			fd_words(t, i, who, sizeof who);
			return ck_fail(e, CK_IO, errno, "fds", "", "cannot shut down %s again", who);
		}
	}
	return 0;
}

void channels_free(struct channel_ends *ends)
{
	for (size_t i = 0; ends && i < ends->n; i++) {
		struct object_ends *o = &ends->o[i];
		for (int k = 0; k < 2; k++)
			if (o->end[k] >= 0)
				close(o->end[k]);
		if (o->anchor >= 0)
			close(o->anchor);
	}
	free(ends);
}
