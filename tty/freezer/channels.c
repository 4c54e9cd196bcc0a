/*
 * Pipes, FIFOs and unix sockets: channels whose two ends may sit in different
 * members, with bytes buffered between them.
 *
 * During the walk each new pipe becomes an object (found again by its inode when
 * another end shows up) and each socket is noted. After the walk, channels_finish()
 * settles what needs the whole job:
 *   - who else holds them: /proc of every other process (a pipe to a process outside
 *     the job cannot come back; a named FIFO can, its bytes then stay in the kernel);
 *   - each socket's peer and state, from sock_diag (UNIX_DIAG_PEER): a peer in the
 *     job makes a socket pair, a peer gone leaves one end, a peer outside is refused
 *     (or, opted in, thawed as a closed connection);
 *   - the buffered bytes, read without consuming them while every member is stopped:
 *     a pipe's with tee() into a pipe of ours at least as large, a socket's by walking
 *     its queue with MSG_PEEK from SO_PEEK_OFF 0 (the socket's own offset put back).
 */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_LISTEN 10 /* TCP_LISTEN, as sock_diag reports a listening unix socket */
#define SOCKET_CONNECTED 1 /* TCP_ESTABLISHED */

static struct pending_pipe *pipes(struct file_walk *w)
{
	return (struct pending_pipe *)w->pipes.data;
}

static size_t npipes(const struct file_walk *w)
{
	return w->pipes.len / sizeof(struct pending_pipe);
}

static struct pending_socket *sockets(struct file_walk *w)
{
	return (struct pending_socket *)w->sockets.data;
}

static size_t nsockets(const struct file_walk *w)
{
	return w->sockets.len / sizeof(struct pending_socket);
}

static bool reads(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

int classify_pipe(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e)
{
	struct job *job = w->job;
	const struct capture *c = &job->members[member];
	size_t n = strlen(f->link);
	bool named = f->link[0] == '/' && !(n > 10 && !strcmp(f->link + n - 10, " (deleted)"));
	o->kind = CKPT_OF_PIPE;
	o->end = reads(f->flags) ? 0 : 1; /* a FIFO opened O_RDWR is both: its flags say so */
	o->path = named ? job_string(job, f->link) : 0;
	o->object = object_find(job, f->st.st_dev, f->st.st_ino);
	if (o->object < 0) {
		int dup = grab_fd(c->pid, f->fd);
		int size = dup >= 0 ? fcntl(dup, F_GETPIPE_SZ) : dup;
		if (dup >= 0)
			close(dup);
		if (size < 0)
			return member_fail(w, member, e, CK_IO, dup < 0 ? -dup : errno, "", "cannot inspect the pipe of fd %d", f->fd);
		struct ckpt_object obj = { .kind = CKPT_OBJ_PIPE, .size = (uint64_t)size, .name = o->path };
		struct pending_pipe p = { .member = member, .fd = f->fd, .named = named };
		p.object = o->object = object_add(job, &obj, f->st.st_dev, f->st.st_ino, -1);
		if (o->object < 0 || buf_append(&w->pipes, &p, sizeof p))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	for (size_t i = 0; i < npipes(w); i++) {
		struct pending_pipe *p = &pipes(w)[i];
		if (p->object != o->object)
			continue;
		p->packet = p->packet || (f->flags & O_DIRECT);
		/* Its bytes are read through a read end when the job holds one. */
		if (reads(f->flags)) {
			p->member = member;
			p->fd = f->fd;
		}
	}
	return 0;
}

/* What a refusal calls a socket the thaw cannot rebuild. */
static const char *socket_words(int domain, int type)
{
	switch (domain) {
	case AF_INET:
	case AF_INET6:
		if (type == SOCK_STREAM)
			return "TCP socket";
		return type == SOCK_DGRAM ? "UDP socket" : "internet socket";
	case AF_NETLINK:
		return "netlink socket";
	case AF_PACKET:
		return "packet socket";
	case AF_UNIX:
		return "unix socket of an unknown type";
	default:
		return "socket";
	}
}

int classify_socket(struct file_walk *w, int member, const struct fd_facts *f, struct ckpt_ofile *o, struct ck_error *e)
{
	const struct capture *c = &w->job->members[member];
	int dup = grab_fd(c->pid, f->fd);
	int domain = 0, type = 0;
	socklen_t len = sizeof domain;
	if (dup < 0 || getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || getsockopt(dup, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
		int err = dup < 0 ? -dup : errno;
		if (dup >= 0)
			close(dup);
		return member_fail(w, member, e, ck_class_of_errno(err), err, "", "cannot inspect the socket of fd %d", f->fd);
	}
	if (domain != AF_UNIX || (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
		close(dup);
		refuse_fd(w, member, f->fd, "%s", socket_words(domain, type));
		return 1;
	}
	o->kind = CKPT_OF_SOCKET; /* settled in channels_finish */
	struct pending_socket s = {
		.ofile = (int)(w->job->ofiles.len / sizeof *o),
		.member = member,
		.fd = f->fd,
		.ino = f->st.st_ino,
		.type = type,
		.grabbed = dup,
	};
	if (buf_append(&w->sockets, &s, sizeof s)) {
		close(dup);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	return 0;
}

/* ---- who holds what: /proc ---- */

/* A thing we look for among the descriptors of processes outside the job. */
struct wanted {
	char link[PATH_MAX]; /* what /proc/PID/fd/N reads for it: pipe:[N], socket:[N] or a FIFO's path */
	dev_t dev;
	ino_t ino; /* a path must also be this inode */
	pid_t holder; /* 0: nobody outside the job */
	char holder_comm[16];
};

static bool in_job(const struct job *job, pid_t pid)
{
	for (size_t i = 0; i < job->nmembers; i++)
		if (job->members[i].pid == pid)
			return true;
	return false;
}

static void look_in_process(pid_t pid, struct wanted *want, size_t nwant)
{
	char path[PATH_MAX + 64], link[PATH_MAX], comm_path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return; /* another user's, or gone: what we may not see we cannot name */
	struct dirent *de;
	while ((de = readdir(dir))) {
		snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, de->d_name);
		ssize_t n = readlink(path, link, sizeof link - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		for (size_t i = 0; i < nwant; i++) {
			struct stat st;
			if (want[i].holder || strcmp(link, want[i].link))
				continue;
			if (link[0] == '/' && (stat(path, &st) < 0 || st.st_dev != want[i].dev || st.st_ino != want[i].ino))
				continue;
			want[i].holder = pid;
			snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)pid);
			FILE *comm = fopen(comm_path, "re");
			if (!comm || !fgets(want[i].holder_comm, sizeof want[i].holder_comm, comm))
				snprintf(want[i].holder_comm, sizeof want[i].holder_comm, "?");
			want[i].holder_comm[strcspn(want[i].holder_comm, "\n")] = 0;
			if (comm)
				fclose(comm);
		}
	}
	closedir(dir);
}

/* Fill in want[i].holder: a process outside the job (and not us) holding that file. */
static void find_outside_holders(const struct job *job, struct wanted *want, size_t nwant)
{
	if (!nwant)
		return;
	DIR *proc = opendir("/proc");
	struct dirent *de;
	while (proc && (de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || in_job(job, (pid_t)pid))
			continue;
		look_in_process((pid_t)pid, want, nwant);
	}
	if (proc)
		closedir(proc);
}

/* ---- sockets: sock_diag ---- */

struct unix_entry {
	ino_t ino, peer;
	uint8_t type, state, shutdown;
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 2]; /* "@…" for an abstract name, "" unnamed */
};

static void parse_unix_entry(struct nlmsghdr *h, struct unix_entry *u)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	memset(u, 0, sizeof *u);
	u->ino = m->udiag_ino;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);
		const char *data = RTA_DATA(a);
		if (a->rta_type == UNIX_DIAG_PEER && n >= 4)
			u->peer = *(const uint32_t *)RTA_DATA(a);
		else if (a->rta_type == UNIX_DIAG_SHUTDOWN && n >= 1)
			u->shutdown = *(const uint8_t *)RTA_DATA(a);
		else if (a->rta_type == UNIX_DIAG_NAME && n > 0)
			snprintf(u->name, sizeof u->name, "%s%.*s", data[0] ? "" : "@", (int)(data[0] ? n : n - 1),
				 data[0] ? data : data + 1);
	}
}

/* Every unix socket of our network namespace (sock_diag dump). */
static int dump_unix_sockets(struct buf *out)
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { sizeof req, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER },
	};
	int err = send(nl, &req, sizeof req, 0) < 0 ? -errno : 0;
	static char reply[32768] __attribute__((aligned(8)));
	for (bool done = false; !err && !done;) {
		ssize_t n = recv(nl, reply, sizeof reply, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPROTO;
			break;
		}
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)reply; !err && NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				break;
			}
			struct unix_entry u;
			parse_unix_entry(h, &u);
			err = buf_append(out, &u, sizeof u);
		}
	}
	close(nl);
	return err;
}

static const struct unix_entry *unix_entry_of(const struct buf *all, ino_t ino)
{
	const struct unix_entry *u = (const struct unix_entry *)all->data;
	for (size_t i = 0; ino && i < all->len / sizeof *u; i++)
		if (u[i].ino == ino)
			return &u[i];
	return NULL;
}

static int pending_socket_of(struct file_walk *w, ino_t ino)
{
	for (size_t i = 0; ino && i < nsockets(w); i++)
		if (sockets(w)[i].ino == ino)
			return (int)i;
	return -1;
}

static uint32_t pair_kind(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return CKPT_OBJ_STREAM_PAIR;
	case SOCK_DGRAM:
		return CKPT_OBJ_DGRAM_PAIR;
	default:
		return CKPT_OBJ_SEQPACKET_PAIR;
	}
}

/* Who a socket connected outside the job talks to: the address it connected to, else who holds the peer. */
static void peer_words(const struct pending_socket *s, const struct unix_entry *u, const struct wanted *holder, char *out,
		       size_t size)
{
	struct sockaddr_un addr = { 0 };
	socklen_t len = sizeof addr;
	size_t name_len = 0;
	if (getpeername(s->grabbed, (struct sockaddr *)&addr, &len) == 0 && len > offsetof(struct sockaddr_un, sun_path))
		name_len = len - offsetof(struct sockaddr_un, sun_path);
	if (name_len && addr.sun_path[0])
		snprintf(out, size, "%.*s", (int)strnlen(addr.sun_path, name_len), addr.sun_path);
	else if (name_len > 1)
		snprintf(out, size, "@%.*s", (int)(name_len - 1), addr.sun_path + 1);
	else if (holder->holder)
		snprintf(out, size, "%s[%d]", holder->holder_comm, (int)holder->holder);
	else
		snprintf(out, size, "socket:[%lu]", (unsigned long)u->peer);
}

/*
 * Where a connected socket's peer is. sock_diag names the peer by inode; a peer
 * with no inode is either gone (closed: a stream socket is then shut down both ways,
 * a datagram socket's sends are refused) or not accepted yet (still in a listener's
 * queue, outside the job).
 */
enum peer_place { PEER_IN_JOB,
		  PEER_GONE,
		  PEER_OUTSIDE };

static enum peer_place peer_place(struct file_walk *w, const struct pending_socket *s, const struct unix_entry *u)
{
	if (pending_socket_of(w, u->peer) >= 0)
		return PEER_IN_JOB;
	if (u->peer)
		return PEER_OUTSIDE;
	return s->type == SOCK_DGRAM || u->shutdown == 3 ? PEER_GONE : PEER_OUTSIDE;
}

/*
 * What each socket of the job is. A pair's object is made by its first end; the
 * other end, if the job holds it, joins it as end 1. A socket whose peer is gone is a
 * pair of one end. Returns 0 or -1 with e set; refusals go to w.
 */
static int settle_sockets(struct file_walk *w, const struct buf *all, struct wanted *peers, struct ck_error *e)
{
	struct job *job = w->job;
	int *object_of = calloc(nsockets(w) + 1, sizeof *object_of);
	if (!object_of)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	int ret = 0;
	for (size_t i = 0; i < nsockets(w) && !ret; i++) {
		const struct pending_socket *s = &sockets(w)[i];
		const struct unix_entry *u = unix_entry_of(all, s->ino);
		struct ckpt_ofile *o = ofile_at(job, s->ofile);
		object_of[i] = -1;
		if (!u) {
			refuse_fd(w, s->member, s->fd, "unix socket the freezer cannot see (another network namespace?)");
			continue;
		}
		o->kind_flags = u->shutdown;
		if (u->state == SOCKET_LISTEN) {
			refuse_fd(w, s->member, s->fd, "listening unix socket %s", u->name[0] ? u->name : "(unnamed)");
			continue;
		}
		if (u->state != SOCKET_CONNECTED) {
			refuse_fd(w, s->member, s->fd, "unconnected unix socket%s%s", u->name[0] ? " " : "", u->name);
			continue;
		}
		enum peer_place place = peer_place(w, s, u);
		int peer = pending_socket_of(w, u->peer);
		if (place == PEER_OUTSIDE) {
			char peer_name[PATH_MAX + 64];
			peer_words(s, u, &peers[i], peer_name, sizeof peer_name);
			if (!job->rules.close_outside_sockets) {
				refuse_fd(w, s->member, s->fd, "unix socket connected to %s, outside the job; --close-outside-sockets thaws it closed",
					  peer_name);
				continue;
			}
			o->kind = CKPT_OF_CLOSED_SOCKET;
			o->kind_flags = (uint32_t)s->type;
			o->path = job_string(job, peer_name);
		} else if (place == PEER_IN_JOB && peer < (int)i) {
			o->object = object_of[peer];
			o->end = 1;
			object_of[i] = o->object;
		} else {
			struct ckpt_object obj = { .kind = pair_kind(s->type) };
			o->object = object_of[i] = object_add(job, &obj, 0, 0, -1);
			if (o->object < 0)
				ret = ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
		}
	}
	free(object_of);
	return ret;
}

/* ---- buffered bytes ---- */

/* Descriptors a peek handed us with SCM_RIGHTS: not ours to keep. */
static bool drop_rights(struct msghdr *mh)
{
	bool any = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int *fds = (int *)CMSG_DATA(c);
		for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
			close(fds[k]);
		any = true;
	}
	return any || (mh->msg_flags & MSG_CTRUNC);
}

/*
 * Append what is queued for socket fd to out: a stream's bytes, or each message as
 * u32 length, bytes, padding to 4. A datagram's peek is cut at the buffer (and the
 * peek offset moves past the cut), so MSG_TRUNC gives its length and a message larger
 * than the buffer is peeked again from its start. Returns 0, -errno, or 1 when
 * descriptors are in flight in the queue (SCM_RIGHTS).
 */
static int read_socket_queue(int fd, int type, uint8_t shutdown, struct buf *out)
{
	int old = -1, zero = 0;
	socklen_t len = sizeof old;
	if (getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old, &len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0)
		return -errno;
	size_t cap = 64 << 10;
	uint8_t *msg = malloc(cap);
	int ret = msg ? 0 : -ENOMEM;
	for (int at = 0; !ret;) {
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(64 * sizeof(int))];
		} control;
		struct iovec iov = { msg, cap };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control };
		ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (type == SOCK_STREAM ? 0 : MSG_TRUNC));
		if (n < 0) {
			ret = errno == EAGAIN ? 0 : errno == EINTR ? 0
								   : -errno;
			if (errno != EINTR)
				break;
			continue;
		}
		if (drop_rights(&mh)) {
			ret = 1;
			break;
		}
		/* End of a stream, or of a seqpacket socket whose peer stopped sending. */
		if (n == 0 && (type == SOCK_STREAM || (type == SOCK_SEQPACKET && (shutdown & 1))))
			break;
		if ((size_t)n > cap) {
			uint8_t *bigger = realloc(msg, (size_t)n);
			if (!bigger) {
				ret = -ENOMEM;
				break;
			}
			msg = bigger;
			cap = (size_t)n;
			if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &at, sizeof at) < 0)
				ret = -errno;
			continue;
		}
		uint32_t size = (uint32_t)n;
		if ((type != SOCK_STREAM && buf_append(out, &size, sizeof size)) || buf_append(out, msg, size) ||
		    (type != SOCK_STREAM && buf_pad(out, 4)))
			ret = -ENOMEM;
		at += (int)n;
	}
	free(msg);
	/* The program's own peek offset (-1: it does not use one). */
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof old) < 0 && !ret)
		ret = -errno;
	return ret;
}

/*
 * The bytes in a pipe, without taking them: tee() duplicates the buffers into a pipe
 * of ours, which must be at least as large (tee stops where its output is full).
 * src must be open for reading.
 */
static int read_pipe(int src, struct buf *out)
{
	int size = fcntl(src, F_GETPIPE_SZ), queued = 0;
	if (size < 0 || ioctl(src, FIONREAD, &queued) < 0)
		return -errno;
	if (!queued)
		return 0;
	int copy[2];
	if (pipe2(copy, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	int ret = fcntl(copy[1], F_SETPIPE_SZ, size) < size ? -errno : 0;
	ssize_t n = ret ? 0 : tee(src, copy[1], (size_t)queued, SPLICE_F_NONBLOCK);
	if (!ret && n != queued)
		ret = n < 0 ? -errno : -EIO;
	if (!ret && buf_append(out, NULL, (size_t)n))
		ret = -ENOMEM;
	for (ssize_t done = 0; !ret && done < n;) {
		ssize_t got = read(copy[0], out->data + out->len - (size_t)n + (size_t)done, (size_t)(n - done));
		if (got <= 0)
			ret = got < 0 ? -errno : -EIO;
		done += got;
	}
	close(copy[0]);
	close(copy[1]);
	return ret;
}

/* A descriptor of the pipe we may tee from: the member's own read end, or its pipe opened anew for reading. */
static int pipe_reader(const struct capture *c, int fd)
{
	char path[64];
	int dup = grab_fd(c->pid, fd);
	if (dup >= 0 && (fcntl(dup, F_GETFL) & O_ACCMODE) != O_WRONLY)
		return dup;
	if (dup >= 0)
		close(dup);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)c->pid, fd);
	int reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return reader < 0 ? -errno : reader;
}

static int capture_pipe_bytes(struct file_walk *w, const struct pending_pipe *p, struct ck_error *e)
{
	struct job *job = w->job;
	const struct capture *c = &job->members[p->member];
	int src = pipe_reader(c, p->fd);
	size_t before = job->data.len;
	int err = src < 0 ? src : read_pipe(src, &job->data);
	if (src >= 0)
		close(src);
	if (err)
		return member_fail(w, p->member, e, ck_class_of_errno(-err), -err, "", "cannot read the bytes buffered in the pipe of fd %d", p->fd);
	struct ckpt_object *o = object_at(job, p->object);
	o->data_offset = before;
	o->data_len = job->data.len - before;
	if (o->data_len && p->packet)
		refuse_fd(w, p->member, p->fd, "pipe in packet mode (O_DIRECT) holding %llu bytes", (unsigned long long)o->data_len);
	return 0;
}

static int capture_socket_bytes(struct file_walk *w, const struct pending_socket *s, const struct buf *all, struct ck_error *e)
{
	struct job *job = w->job;
	struct ckpt_ofile *of = ofile_at(job, s->ofile);
	const struct unix_entry *u = unix_entry_of(all, s->ino);
	size_t before = job->data.len;
	int err = read_socket_queue(s->grabbed, s->type, u ? u->shutdown : 0, &job->data);
	if (err < 0)
		return member_fail(w, s->member, e, ck_class_of_errno(-err), -err, "", "cannot read the queue of the socket of fd %d", s->fd);
	if (err > 0) {
		refuse_fd(w, s->member, s->fd, "unix socket with descriptors in flight (SCM_RIGHTS)");
		return 0;
	}
	uint64_t len = job->data.len - before;
	if (of->kind == CKPT_OF_CLOSED_SOCKET) {
		/* A closed connection keeps nothing; the image says how much was dropped. */
		of->count = len;
		job->data.len = before;
		return 0;
	}
	struct ckpt_object *o = object_at(job, of->object);
	if (of->end == 0) {
		o->data_offset = before;
		o->data_len = len;
	} else {
		o->data2_offset = before;
		o->data2_len = len;
	}
	return 0;
}

int channels_finish(struct file_walk *w, struct ck_error *e)
{
	struct job *job = w->job;
	/* One /proc pass finds every outside holder: of each pipe, and of each socket's peer. */
	size_t nwant = npipes(w) + nsockets(w);
	struct wanted *want = calloc(nwant + 1, sizeof *want);
	struct buf all = { 0 };
	if (!want)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	int err = nsockets(w) ? dump_unix_sockets(&all) : 0;
	int ret = err ? ck_fail(e, ck_class_of_errno(-err), -err, "fds", "", "cannot list the unix sockets (sock_diag)") : 0;
	for (size_t i = 0; i < npipes(w) && !ret; i++) {
		const struct pending_pipe *p = &pipes(w)[i];
		const struct ckpt_object *o = object_at(job, p->object);
		const struct seen_fd *seen = (const struct seen_fd *)w->seen.data;
		for (size_t k = 0; k < w->seen.len / sizeof *seen; k++)
			if (seen[k].member == p->member && seen[k].fd == p->fd) {
				want[i].dev = seen[k].dev;
				want[i].ino = seen[k].ino;
			}
		if (p->named)
			snprintf(want[i].link, sizeof want[i].link, "%s", (const char *)job->members[0].strings.data + o->name);
		else
			snprintf(want[i].link, sizeof want[i].link, "pipe:[%lu]", (unsigned long)want[i].ino);
	}
	for (size_t i = 0; i < nsockets(w) && !ret; i++) {
		const struct unix_entry *u = unix_entry_of(&all, sockets(w)[i].ino);
		if (u && u->peer && pending_socket_of(w, u->peer) < 0)
			snprintf(want[npipes(w) + i].link, sizeof want[0].link, "socket:[%lu]", (unsigned long)u->peer);
	}
	if (!ret)
		find_outside_holders(job, want, nwant);
	for (size_t i = 0; i < npipes(w) && !ret; i++) {
		const struct pending_pipe *p = &pipes(w)[i];
		if (want[i].holder && !p->named)
			refuse_fd(w, p->member, p->fd, "pipe shared with %s[%d], outside the job", want[i].holder_comm,
				  (int)want[i].holder);
	}
	if (!ret)
		ret = settle_sockets(w, &all, want + npipes(w), e);
	/* The bytes, once nothing is refused: a FIFO someone outside holds keeps its own in the kernel. */
	for (size_t i = 0; i < npipes(w) && !ret && !w->refused_len; i++)
		if (!want[i].holder)
			ret = capture_pipe_bytes(w, &pipes(w)[i], e);
	for (size_t i = 0; i < nsockets(w) && !ret && !w->refused_len; i++)
		ret = capture_socket_bytes(w, &sockets(w)[i], &all, e);
	free(want);
	buf_free(&all);
	return ret;
}
