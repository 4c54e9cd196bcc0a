#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int procfs_read(pid_t pid, const char *name, char **out, size_t *len)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (cap - used < 2) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(buf);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = 0;
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

int procfs_readlink(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	ssize_t n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* "start-end perms offset major:minor inode   path" */
static int parse_maps_line(char *line, struct procfs_vma *v)
{
	char perms[5];
	int pathpos = 0;
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %" SCNx32 ":%" SCNx32 " %" SCNu64 " %n",
		   &v->start, &v->end, perms, &v->pgoff, &v->dev_major, &v->dev_minor, &v->ino, &pathpos) < 7)
		return -EPROTO;
	v->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	v->shared = perms[3] == 's';
	v->path = pathpos ? line + pathpos : line + strlen(line);
	return 0;
}

int procfs_maps_read(pid_t pid, struct procfs_maps *maps)
{
	memset(maps, 0, sizeof *maps);
	size_t len;
	int err = procfs_read(pid, "maps", &maps->text, &len);
	if (err)
		return err;
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += maps->text[i] == '\n';
	maps->vmas = calloc(lines + 1, sizeof *maps->vmas);
	if (!maps->vmas) {
		procfs_maps_free(maps);
		return -ENOMEM;
	}
	char *save = NULL;
	for (char *line = strtok_r(maps->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if ((err = parse_maps_line(line, &maps->vmas[maps->count]))) {
			procfs_maps_free(maps);
			return err;
		}
		maps->count++;
	}
	return 0;
}

void procfs_maps_free(struct procfs_maps *maps)
{
	free(maps->vmas);
	free(maps->text);
	memset(maps, 0, sizeof *maps);
}

int procfs_stat_read(pid_t pid, struct procfs_stat *st)
{
	/*
	 * One read of a buffer that holds any stat line (52 numbers and a 15-byte comm): a
	 * job's freeze reads hundreds of them, and the kernel makes the line whole at once.
	 */
	char text[2048], path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, text, sizeof text - 1);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	text[n] = 0;
	memset(st, 0, sizeof *st);
	/* "pid (comm) state …": comm may hold spaces and parentheses; the fields follow the last ')'. */
	char *open_paren = strchr(text, '('), *close_paren = strrchr(text, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EPROTO;
	size_t comm_len = (size_t)(close_paren - open_paren - 1);
	if (comm_len >= sizeof st->comm)
		comm_len = sizeof st->comm - 1;
	memcpy(st->comm, open_paren + 1, comm_len);

	/* Field numbers as in proc(5); field 3 (state) is the first after the comm. */
	uint64_t field[53] = { 0 };
	char *save = NULL;
	int fields = 3;
	for (char *tok = strtok_r(close_paren + 1, " \n", &save); tok && fields < 53;
	     tok = strtok_r(NULL, " \n", &save), fields++) {
		if (fields == 3)
			st->state = tok[0];
		else
			field[fields] = strtoull(tok, NULL, 10);
	}
	if (fields < 52)
		return -EPROTO;
	st->ppid = (int32_t)field[4];
	st->pgrp = (int32_t)field[5];
	st->session = (int32_t)field[6];
	st->tty_nr = (int32_t)field[7];
	st->tpgid = (int32_t)field[8];
	st->flags = (uint32_t)field[9];
	st->num_threads = (int32_t)field[20];
	st->start_time = field[22];
	st->exit_code = (int32_t)field[52];
	st->start_code = field[26];
	st->end_code = field[27];
	st->start_stack = field[28];
	st->start_data = field[45];
	st->end_data = field[46];
	st->start_brk = field[47];
	st->arg_start = field[48];
	st->arg_end = field[49];
	st->env_start = field[50];
	st->env_end = field[51];
	return 0;
}

int procfs_innermost(const char *text, const char *key)
{
	const char *v = procfs_field(text, key);
	if (!v)
		return 0;
	const char *last = strrchr(v, '\t');
	if (!last)
		last = strrchr(v, ' ');
	return atoi(last ? last + 1 : v);
}

const char *procfs_field(const char *text, const char *key)
{
	static char value[256];
	size_t klen = strlen(key);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		const char *v = line + klen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, "\n");
		if (n >= sizeof value)
			n = sizeof value - 1;
		memcpy(value, v, n);
		value[n] = 0;
		return value;
	}
	return NULL;
}
