/*
 * ckpty-freezer internals. Stages: target (temp file) -> seize -> capture (state,
 * by /proc, ptrace and injected syscalls) -> plan (which pages to store) ->
 * write (ELF core) -> commit (fsync, rename) -> end or resume the process.
 */
#ifndef CKPTY_FREEZER_H
#define CKPTY_FREEZER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "error.h"
#include "image.h"
#include "infect.h"

/* Growable byte buffer. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};

int buf_append(struct buf *b, const void *data, size_t len);
int buf_pad(struct buf *b, size_t align);
void buf_free(struct buf *b);
/* Append what fd gives up to its end; -EFBIG once more than max bytes are in b, else -errno. */
int buf_read_fd(struct buf *b, int fd, size_t max);

/* One run of pages stored in a PT_LOAD. */
struct frz_run {
	uint64_t start, len;
	uint32_t prot;
	uint32_t vma; /* index of its mapping in capture.vmas */
	bool via_mem; /* read through /proc/PID/mem (unreadable protection or special mapping) */
};

/* One thread, seized: its registers and what else the thaw needs of it. */
struct thread_capture {
	struct infect t; /* HELD while we work */
	struct user_regs_struct regs; /* what the thaw loads: the syscall restart applied */
	uint8_t fpregs[512];
	struct buf xstate;
	struct ckpt_thread state;
};

/* One member of the job: a process (or a zombie its parent has not collected). */
struct capture {
	pid_t pid; /* as we see it (our pid namespace) */
	int parent; /* member index of its parent, -1: outside the job */
	bool zombie;
	int32_t wait_status; /* a zombie's */
	uint32_t flags; /* CKPT_PROC_* */
	int32_t pgid; /* as we see it */
	int32_t ns_pid, ns_ppid, ns_pgid, ns_sid; /* as it sees them (its innermost pid namespace) */
	uint64_t start_time; /* /proc/PID/stat starttime: the job's status member is its newest top */

	struct thread_capture *threads; /* threads[0] is the thread-group leader */
	size_t nthreads;
	siginfo_t stop_info; /* for NT_SIGINFO */
	struct ckpt_signals signals;
	struct buf queued; /* struct ckpt_queued */
	struct ckpt_sigaction sigactions[64];
	struct buf timers; /* struct ckpt_timer */
	struct buf auxv, cmdline;
	char comm[16];
	char state;
	int32_t tpgid;
	uint32_t uid, gid, umask, personality;
	struct ckpt_mm mm;
	struct ckpt_rlimit rlimits[CKPT_NRLIMITS];
	struct buf strings; /* NT_CKPT_STRINGS (member 0's holds the job tables' strings too) */
	ckpt_str exe, cwd, kernel_release;
	struct buf vmas; /* struct ckpt_vma */
	struct buf files; /* struct ckpt_file */
	struct buf fds; /* struct ckpt_fd */
	bool has_tty;
	struct ckpt_tty tty;
	uint64_t vdso_size, vdso_hash;
	struct buf runs; /* struct frz_run */
	uint64_t stored_bytes;
	uint64_t core_offset, core_size; /* where its core goes in the image */
};

/* A mapping of an object (shared memory…) by a member: its pages are the object's contents. */
struct object_map {
	int object, member;
	uint64_t start, end, pgoff;
};

/* Policy the caller chose (the key and the command differ). */
struct job_rules {
	bool honour_core_limit; /* a soft RLIMIT_CORE of 0 opts out (the key) */
	bool close_outside_sockets; /* thaw sockets to peers outside the job as closed, instead of refusing */
	uint64_t max_contents; /* bytes of a deleted file or memfd stored at most */
};

/* The whole job: every member, and what they share. */
struct job {
	struct capture *members;
	size_t nmembers, cap;
	pid_t named; /* the process the caller named: messages about it need no "comm[pid]: " */
	struct job_rules rules;
	uint32_t flags; /* CKPT_PROC_* for every member */
	int32_t ns_pgid; /* the job's group, as its members see it */
	int status_member;
	uint64_t freeze_time_ns, monotonic_ns, boottime_ns;
	struct buf objects; /* struct ckpt_object */
	struct buf object_sources; /* where each object's contents come from (objects.c) */
	struct buf object_maps; /* struct object_map: mappings of objects, for their contents */
	struct buf ofiles; /* struct ckpt_ofile */
	struct buf watches; /* struct ckpt_watch */
	struct buf data; /* the data area */
	uint64_t data_size; /* the data area's size in the image: objects' contents, queued bytes */
	struct buf screen; /* NT_CKPT_SCREEN: the session's repaint of the terminal, or empty */
};

/* A dup of the task's fd (pidfd_getfd): reopening /proc/PID/fd/N would give /dev/tty as *our* terminal. */
int grab_fd(pid_t pid, int fd);

void capture_free(struct capture *c);
void job_free(struct job *job);
ckpt_str capture_string(struct capture *c, const char *s);
/* A string of the job tables (member 0's string table). */
ckpt_str job_string(struct job *job, const char *s);

/* The job's objects (objects.c). */
size_t job_nobjects(const struct job *job);
/* The object with this identity, or -1. */
int object_find(struct job *job, dev_t dev, ino_t ino);
/* Add an object; its contents are in job->data (fd -1 and no mappings), or read from fd at write time (we own it). */
int object_add(struct job *job, const struct ckpt_object *o, dev_t dev, ino_t ino, int fd);
/* Its contents include what this mapping of it shows (pgoff into the object). */
int object_add_mapping(struct job *job, int object, int member, uint64_t start, uint64_t end, uint64_t pgoff);
/* A memfd's or deleted file's name from its /proc path ("/memfd:NAME (deleted)", "/tmp/x (deleted)"). */
void object_name(const char *path, bool *memfd, char *name, size_t size);
struct procfs_vma;
/*
 * The object a mapping of a deleted file or memfd shows (found by its inode): the one
 * a descriptor of the job made, or a new one (its contents the file itself where we
 * may open it through map_files, else what the shared mappings of it show). -1: a
 * private mapping of a file we cannot read whole, to be stored as anonymous memory;
 * -E2BIG: larger than rules.max_contents; -ENOMEM.
 */
int object_of_mapping(struct job *job, int member, const struct procfs_vma *v);
/* Give the objects whose contents are read at write time their place in the data area, from `at`; returns the end. */
uint64_t objects_plan(struct job *job, uint64_t at);
/* len bytes of an object's contents at off. */
int objects_read(struct job *job, size_t object, uint64_t off, void *dst, size_t len);
void objects_free(struct job *job);

/*
 * What the job is (see job.c): find every member and seize every thread, until no more
 * appear; then the refusals that need it seized, each naming the member and the reason.
 */
struct job_spec {
	pid_t pid; /* the process named */
	bool whole_group; /* its whole process group; otherwise it and its descendants in its group */
};
int job_seize(struct job *job, const struct job_spec *spec, struct ck_error *e);

/* Scan /proc now for the next job_seize (the spare, while it waits for a request). */
void job_look_ahead(void);

/*
 * Why we may not trace process pid (ptrace or /proc refused it with err): a debugger
 * holds it, it is another user's, or it is not dumpable. Fails e at stage; returns -1.
 */
int job_untraceable(pid_t pid, int err, const char *stage, struct ck_error *e);

/* Put "comm[pid]: " before e's message unless pid is the process named (whose name the caller gives). */
void job_blame(const struct job *job, pid_t pid, const char *comm, struct ck_error *e);

/* The refusals of the named process (st: its stat) that need no seizing: a zombie, init, a kernel thread, ckpty itself. */
struct procfs_stat;
int job_refuse_early(const struct job_spec *spec, const struct procfs_stat *st, struct ck_error *e);

/* Let every task go as it was seized (error paths); returns -errno if one could not be. */
int job_release(struct job *job);

/* Registers, signals, sigactions and timers (injected), mm, limits, ids and terminal of every member. */
int capture_state(struct job *job, struct capture *c, struct ck_error *e);

/* The descriptors of every member: the job's open files, objects and watches (files.c). */
int capture_files(struct job *job, struct ck_error *e);

/* A descriptor of the process's terminal if its job holds it (to cook at its end), else -1. */
int capture_grab_terminal(const struct capture *c);

/*
 * As a freeze ends the process: put back on its terminal (tty, from
 * capture_grab_terminal) the shell's modes when the caller knows them (shell, else
 * NULL), else the line-editing modes (ICANON, ECHO…, ISIG, ICRNL, OPOST) it may have
 * turned off.
 */
void capture_cook_terminal(const struct capture *c, int tty, const struct ckpt_kernel_termios *shell);

/* Mappings, mapped files' identities, and the runs of pages to store (pagemap). */
int capture_memory(struct job *job, struct capture *c, struct ck_error *e);

/* Fills the screen (NT_CKPT_SCREEN) once it is ready; 0 or -1 with e set. */
typedef int image_screen_fn(struct buf *screen, struct ck_error *e);

/*
 * Write the job's image to fd (an empty regular file); *size gets the file's size.
 * read_screen, if not NULL, is called once member 0's pages are written.
 */
int image_write(struct job *job, int fd, image_screen_fn *read_screen, uint64_t *size, struct ck_error *e);

#endif
