/*
 * The job's objects (NT_CKPT_OBJECTS): what exists apart from any one process and
 * may be shared by several — pipes, socket pairs, shared memory, memfds, deleted
 * files — and where their bytes come from for the data area:
 *   in job->data already (buffered pipe and socket data, captured while seized);
 *   from mappings (shared memory: the pages of whoever maps them);
 *   from a descriptor (a memfd's or a deleted file's contents, read at write time).
 */
#include "freezer.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Where one object's contents come from; parallel to job->objects. */
struct object_source {
	dev_t dev;
	ino_t ino; /* identity, to find the object again (0: none, never shared by identity) */
	int fd; /* contents read from this descriptor (-1: none) */
	bool from_mappings; /* contents read from the mappings of it in job->object_maps */
};

static struct object_source *sources(struct job *job)
{
	return (struct object_source *)job->object_sources.data;
}

static struct ckpt_object *objects(struct job *job)
{
	return (struct ckpt_object *)job->objects.data;
}

size_t job_nobjects(const struct job *job)
{
	return job->objects.len / sizeof(struct ckpt_object);
}

int object_find(struct job *job, dev_t dev, ino_t ino)
{
	size_t n = job_nobjects(job);
	for (size_t i = 0; i < n; i++)
		if (sources(job)[i].ino && sources(job)[i].dev == dev && sources(job)[i].ino == ino)
			return (int)i;
	return -1;
}

int object_add(struct job *job, const struct ckpt_object *o, dev_t dev, ino_t ino, int fd)
{
	struct object_source s = { .dev = dev, .ino = ino, .fd = fd };
	int index = (int)job_nobjects(job);
	if (buf_append(&job->objects, o, sizeof *o) || buf_append(&job->object_sources, &s, sizeof s))
		return -ENOMEM;
	return index;
}

int object_add_mapping(struct job *job, int object, int member, uint64_t start, uint64_t end, uint64_t pgoff)
{
	struct object_map m = { object, member, start, end, pgoff };
	if (sources(job)[object].fd >= 0)
		return 0; /* the whole file is read from its descriptor */
	sources(job)[object].from_mappings = true;
	struct ckpt_object *o = &objects(job)[object];
	if (pgoff + (end - start) > o->size)
		o->size = pgoff + (end - start);
	return buf_append(&job->object_maps, &m, sizeof m) ? -ENOMEM : 0;
}

void object_name(const char *path, bool *memfd, char *name, size_t size)
{
	*memfd = !strncmp(path, "/memfd:", 7);
	const char *from = path + (*memfd ? 7 : 0);
	size_t n = strlen(from);
	if (n >= 10 && !strcmp(from + n - 10, " (deleted)"))
		n -= 10;
	if (n >= size)
		n = size - 1;
	memcpy(name, from, n);
	name[n] = 0;
}

int object_of_mapping(struct job *job, int member, const struct procfs_vma *v)
{
	dev_t dev = makedev(v->dev_major, v->dev_minor);
	int object = object_find(job, dev, (ino_t)v->ino);
	if (object >= 0 && sources(job)[object].fd < 0 && !v->shared)
		return -1; /* known only from shared mappings, which need not cover this one */
	if (object < 0) {
		bool memfd;
		char name[PATH_MAX], path[96];
		object_name(v->path, &memfd, name, sizeof name);
		struct ckpt_object o = { .kind = memfd ? CKPT_OBJ_MEMFD : CKPT_OBJ_DELETED, .mode = S_IFREG | 0600 };
		/* map_files opens the mapped file itself (CAP_SYS_ADMIN): then all of it is stored, as for a descriptor. */
		snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", (int)job->members[member].pid,
			 (unsigned long long)v->start, (unsigned long long)v->end);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0) {
			if ((uint64_t)st.st_size > job->rules.max_contents) {
				close(fd);
				return -E2BIG;
			}
			o.size = (uint64_t)st.st_size;
			o.mode = st.st_mode;
			int seals = memfd ? fcntl(fd, F_GET_SEALS) : 0;
			o.seals = seals > 0 ? (uint32_t)seals : 0;
		} else if (fd >= 0) {
			close(fd);
			fd = -1;
		}
		if (fd < 0 && !v->shared)
			return -1;
		o.name = job_string(job, name);
		if ((object = object_add(job, &o, dev, (ino_t)v->ino, fd)) < 0) {
			if (fd >= 0)
				close(fd);
			return object;
		}
	}
	return object_add_mapping(job, object, member, v->start, v->end, v->pgoff) ? -ENOMEM : object;
}

uint64_t objects_plan(struct job *job, uint64_t at)
{
	size_t n = job_nobjects(job);
	for (size_t i = 0; i < n; i++) {
		struct ckpt_object *o = &objects(job)[i];
		const struct object_source *s = &sources(job)[i];
		if (s->fd < 0 && !s->from_mappings)
			continue; /* its bytes are in job->data already */
		o->data_offset = at;
		o->data_len = o->size;
		at += (o->size + CKPT_PAGE_SIZE - 1) / CKPT_PAGE_SIZE * CKPT_PAGE_SIZE;
	}
	return at;
}

int objects_read(struct job *job, size_t object, uint64_t off, void *dst, size_t len)
{
	const struct object_source *s = &sources(job)[object];
	if (s->fd >= 0) {
		ssize_t n = pread(s->fd, dst, len, (off_t)off);
		if (n < 0)
			return -errno;
		memset((char *)dst + n, 0, len - (size_t)n); /* the file shrank: what is missing reads as zeros */
		return 0;
	}
	memset(dst, 0, len);
	const struct object_map *maps = (const struct object_map *)job->object_maps.data;
	size_t nmaps = job->object_maps.len / sizeof *maps;
	/* Each page from a mapping that has it; pages no one maps read as zeros, as in a fresh object. */
	for (size_t i = 0; i < nmaps; i++) {
		const struct object_map *m = &maps[i];
		uint64_t from = m->pgoff > off ? m->pgoff : off;
		uint64_t to = m->pgoff + (m->end - m->start) < off + len ? m->pgoff + (m->end - m->start) : off + len;
		if ((size_t)m->object != object || from >= to)
			continue;
		struct capture *c = &job->members[m->member];
		int err = infect_read(&c->threads[0].t, m->start + (from - m->pgoff), (char *)dst + (from - off), to - from);
		if (err)
			return err;
	}
	return 0;
}

void objects_free(struct job *job)
{
	size_t n = job_nobjects(job);
	for (size_t i = 0; i < n; i++)
		if (sources(job)[i].fd >= 0)
			close(sources(job)[i].fd);
	buf_free(&job->object_sources);
	buf_free(&job->object_maps);
}
