/*
 * The descriptor walk's internals, shared by files.c (the walk, files and
 * counters), channels.c (pipes, FIFOs, unix sockets) and watches.c (epoll,
 * inotify). Every descriptor of every member is looked at once while the whole job
 * is seized; what needs the whole job (a pipe's other end, a socket's peer, an
 * epoll's targets) is settled after the walk, in channels_finish() and
 * watches_finish().
 */
#ifndef CKPTY_FREEZER_FILES_H
#define CKPTY_FREEZER_FILES_H

#include "freezer.h"

#include <sys/stat.h>

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

/* One descriptor of the job and the open file it names. */
struct seen_fd {
	int member;
	int fd;
	dev_t dev;
	ino_t ino;
	int ofile;
};

/* A pipe or FIFO of the job, settled after the walk. */
struct pending_pipe {
	int object;
	int member, fd; /* a descriptor of it, for naming and for reading its buffer */
	bool named; /* a FIFO still in its directory */
	bool packet; /* some end writes packets (O_DIRECT) */
};

/* A socket of the job, settled after the walk (sock_diag tells its peer). */
struct pending_socket {
	int ofile;
	int member, fd;
	ino_t ino;
	int type; /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int grabbed; /* our copy of it, to read its queue */
};

/* An epoll or inotify instance, settled after the walk. */
struct pending_watcher {
	int ofile;
	int member, fd;
	char *fdinfo; /* owned */
};

struct file_walk {
	struct job *job;
	struct buf seen; /* struct seen_fd: every descriptor of the job so far */
	struct buf pipes; /* struct pending_pipe */
	struct buf sockets; /* struct pending_socket */
	struct buf watchers; /* struct pending_watcher */
	char refused[2048]; /* what cannot be rebuilt, one entry per descriptor */
	size_t refused_len;
};

/* e (just failed) concerns member m: its message gets "comm[pid]: " unless m is the process named. Returns -1. */
int blame(const struct file_walk *w, int member, struct ck_error *e);

/* A failure concerning member m: its message starts "comm[pid]: " unless m is the process named. Returns -1. */
int member_fail(const struct file_walk *w, int member, struct ck_error *e, enum ck_class cls, int err, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Name a descriptor the thaw cannot rebuild, with the reason (printf-style). */
void refuse_fd(struct file_walk *w, int member, int fd, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline struct ckpt_ofile *ofile_at(struct job *job, int i)
{
	return &((struct ckpt_ofile *)job->ofiles.data)[i];
}

static inline struct ckpt_object *object_at(struct job *job, int i)
{
	return &((struct ckpt_object *)job->objects.data)[i];
}

/* "12 KiB", "3.5 MiB": a size for messages. */
void format_size(uint64_t bytes, char *out, size_t size);

/* ---- channels.c ---- */

/* A pipe or FIFO descriptor seen first: its open file (o filled), its pipe object found or added. 0, 1 refused, -1 e set. */
int classify_pipe(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e);
/* A socket descriptor seen first. 0, 1 refused, -1 e set. */
int classify_socket(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e);
/* Once every descriptor is known: who else holds each pipe, each socket's peer, and the bytes buffered in them. */
int channels_finish(struct file_walk *w, struct ck_error *e);

/* ---- watches.c ---- */

/* An epoll or inotify instance seen first (o filled; its watches come in watches_finish). 0, 1 refused, -1 e set. */
int classify_watcher(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, bool epoll,
		     struct ck_error *e);
/* Once every open file is known: what each epoll and inotify instance watches. */
int watches_finish(struct file_walk *w, struct ck_error *e);

#endif
