#include "freezer.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

int grab_fd(pid_t pid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	int err = dup < 0 ? -errno : 0;
	close(pidfd);
	return dup < 0 ? err : dup;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *bigger = realloc(b->data, cap);
		if (!bigger)
			return -ENOMEM;
		b->data = bigger;
		b->cap = cap;
	}
	if (data)
		memcpy(b->data + b->len, data, len);
	else
		memset(b->data + b->len, 0, len);
	b->len += len;
	return 0;
}

int buf_pad(struct buf *b, size_t align)
{
	size_t pad = (align - b->len % align) % align;
	return buf_append(b, NULL, pad);
}

int buf_read_fd(struct buf *b, int fd, size_t max)
{
	for (;;) {
		if (b->len > max)
			return -EFBIG;
		if (buf_append(b, NULL, 64 << 10))
			return -ENOMEM;
		b->len -= 64 << 10;
		ssize_t n = read(fd, b->data + b->len, 64 << 10);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		b->len += (size_t)n;
	}
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
