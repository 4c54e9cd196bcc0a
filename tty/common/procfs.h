/*
 * procfs: read the facts /proc publishes about a process (maps, stat, status).
 * Shared by the freezer and the thawer. Every function returns 0 or -errno.
 */
#ifndef CKPTY_PROCFS_H
#define CKPTY_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read all of /proc/PID/NAME (NUL-terminated; *len excludes the NUL). Free *out with free(). */
int procfs_read(pid_t pid, const char *name, char **out, size_t *len);

/* readlink of /proc/PID/NAME into buf (NUL-terminated). */
int procfs_readlink(pid_t pid, const char *name, char *buf, size_t size);

/* One line of /proc/PID/maps. */
struct procfs_vma {
	uint64_t start, end, pgoff;
	uint32_t prot; /* PROT_* */
	int shared; /* 's' rather than 'p' */
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	char *path; /* "" when anonymous; points into the procfs_maps buffer */
};

struct procfs_maps {
	struct procfs_vma *vmas;
	size_t count;
	char *text; /* the raw file, which the path pointers refer to */
};

int procfs_maps_read(pid_t pid, struct procfs_maps *maps);
void procfs_maps_free(struct procfs_maps *maps);

/* The fields of /proc/PID/stat the freezer and thawer use. */
struct procfs_stat {
	char state; /* R S D T t Z X … */
	char comm[16];
	int32_t ppid, pgrp, session;
	int32_t tty_nr; /* its controlling terminal's device number (the kernel's encoding), 0 if none */
	int32_t tpgid; /* foreground group of its controlling terminal, -1 if none */
	uint32_t flags; /* PF_* (PF_KTHREAD 0x00200000) */
	int32_t num_threads;
	uint64_t start_time; /* clock ticks after boot */
	int32_t exit_code; /* a zombie's status, as waitpid() reports it */
	uint64_t start_code, end_code, start_stack;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
};

int procfs_stat_read(pid_t pid, struct procfs_stat *st);

/*
 * Value of a "Key:\tvalue" line of a /proc status-style text, trimmed; NULL if absent.
 * Points into a static buffer: copy it before the next call.
 */
const char *procfs_field(const char *text, const char *key);

/* The last number of an "NSpid:"-style line (the innermost pid namespace's), 0 if absent. */
int procfs_innermost(const char *text, const char *key);

#endif
