/*
 * ckpty-thawer internals: a job image (image.h) back as processes, with their own IDs.
 *
 * Stages, in order:
 *   load      read and check the image (common/image_load.c), on the one descriptor
 *   prepare   compatibility (vdso), every file the job needs opened and checked
 *             (prepare.c), every descriptor and object it needs checked (files.c)
 *   ids       where the job gets its original PIDs (ids.c): in this pid namespace
 *             when we may and they are free (root), else in a new user + pid +
 *             time namespace whose PID 1 (the reaper) builds and supervises the job;
 *             --new-ids keeps a single-threaded single process in ours, new PID
 *   build     (build.c, in the builder: the reaper, or us) the job's open files and
 *             objects (files.c), then the process tree: each member forked by its
 *             parent's copy of us with its PID (clone3 set_tid), its process group,
 *             its descriptors, cwd, limits, then executing its executable under our
 *             ptrace (child.c); then each member's memory, mm, signals, timers and
 *             registers by injected syscalls (rebuild.c) and its other threads with
 *             their TIDs (threads.c)
 *   terminal  the image's terminal modes, the screen painted again (finish.c)
 *   release   every thread of every member let go together
 *   supervise wait for the job, keep job control working across the namespace,
 *             and end like the job did (supervise.c)
 */
#ifndef CKPTY_THAWER_H
#define CKPTY_THAWER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"
#include "image_load.h"
#include "infect.h"

/* Where a mapping of the kernel's vdso family sits (kinds CKPT_VMA_VVAR, _VVAR_VCLOCK, _VDSO). */
struct vdso_layout {
	uint64_t start[3], size[3]; /* indexed by kind - CKPT_VMA_VDSO; size 0 if absent */
};

#define VDSO_SLOT(kind) ((kind)-CKPT_VMA_VDSO)

/* A comm as the image stores it (16 bytes, NUL-terminated only when shorter), as a string. */
struct comm_text {
	char text[17];
};

static inline struct comm_text comm_text(const char comm[16])
{
	struct comm_text c = { { 0 } };
	memcpy(c.text, comm, 16);
	return c;
}

struct procfs_maps;

/* Where /proc/PID/maps (as read by procfs_maps_read) has the vdso family. */
void vdso_layout_of(const struct procfs_maps *maps, struct vdso_layout *out);
/* Where a member's image had the vdso family: each process has it at an address of its own. */
void image_vdso_layout(const struct ckpt_process_image *p, struct vdso_layout *out);
/* Is this /proc/PID/maps name one of the vdso family? */
bool is_vdso_name(const char *path);

/* How the job gets its IDs (ids.c). */
enum id_mode {
	IDS_HERE, /* root, and every PID free here: this pid namespace */
	IDS_NAMESPACE, /* a new pid (and, unprivileged, user) namespace, with the reaper as its PID 1 */
	IDS_NEW, /* --new-ids: a single-threaded single process under a new PID, no namespace */
};

/* Facts for the report. */
struct thaw_stats {
	uint64_t lazy_bytes; /* mapped from the image */
	uint64_t copied_bytes;
	bool fpu_only; /* an xstate did not fit this CPU: SSE state only */
};

/* One member being rebuilt. */
struct member_thaw {
	const struct ckpt_process_image *image; /* NULL for a zombie */
	const struct ckpt_member *member;
	int *file_fds; /* per NT_CKPT_FILES entry of its own: a descriptor in the helper range, -1 if unused */
	pid_t pid; /* once it exists: as the builder sees it */
	struct infect *threads; /* once it exists: its threads, seized (threads[0] from its exec on) */
	size_t nthreads;
	int go[2]; /* the builder's word to its pre-exec copy: start (one byte) */
	uint64_t scratch; /* a page of its own the rebuild writes syscall arguments to (0: none) */
};

/*
 * Problems outside the image (changed or missing files…), gathered to be named in one
 * message: `cannot thaw IMAGE: a; b; c; and N more`. changed: something changed or
 * vanished (exit 7); otherwise access was refused (exit 4).
 */
struct problems {
	int count;
	bool changed;
	char text[1536];
	size_t len;
};

/* Everything prepared before the first process exists, then the job as it is built. */
struct thaw {
	struct ckpt_image img;
	int image_fd; /* moved into the helper range by thaw_prepare() */
	const char *image_path;
	pid_t supervisor; /* the thaw itself */
	enum id_mode ids;

	struct vdso_layout image_vdso; /* where member 0 had them: the layout every member shares (one kernel) */
	uint64_t syscall_offset; /* a `syscall` instruction, as an offset into the vdso */

	struct member_thaw *members; /* img.job->nmembers */
	int term_fd; /* our terminal (0-2), -1 if none */
	int helper_base; /* first fd number above every fd of every member */
	struct ckpt_kernel_termios saved_modes; /* the terminal's before thaw_set_terminal() */
	bool modes_set;
	struct thaw_stats stats;

	/* The job's open files and objects, as descriptors of the builder in the helper range (files.c). */
	int *ofile_fds; /* per NT_CKPT_OFILES entry, -1 until created */
	int *object_fds; /* per NT_CKPT_OBJECTS entry: memfd/deleted file/shmem contents, pipe ends…; -1 if none */
	int fail_fd; /* a pre-exec copy's report of what went wrong (struct child_failure) */
	struct problems notes; /* changes the job copes with (a log that grew…), for the report (files.c) */
};

/* ---- prepare.c ---- */

/* Compatibility, the files the job depends on, the terminal; fills t. */
int thaw_prepare(struct thaw *t, struct ck_error *e);
/* Close and free everything t holds. */
void thaw_free(struct thaw *t);

void problem(struct problems *p, bool changed, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Open a path the image recorded (the kernel's canonical one): no symlink followed, no blocking. */
int open_recorded(const char *path, int flags);

/* A descriptor moved into the helper range (close-on-exec); -1 with errno. */
int to_helper_range(const struct thaw *t, int fd);

/* ---- files.c: descriptors and objects ---- */

/*
 * Before anything starts: can every open file and object of the job be made again
 * here? Files that are gone, or shorter than a writer's offset, and watched paths that
 * are gone go to p; a change a program copes with (a log that grew) is only noted.
 */
int files_check(struct thaw *t, struct problems *p, struct ck_error *e);

/*
 * In the builder, before any member is forked: every object and open file of the job
 * as a descriptor in the helper range (t->object_fds, t->ofile_fds), pipes and socket
 * pairs holding their buffered bytes, memfds and deleted files their contents.
 */
int files_create(struct thaw *t, struct ck_error *e);

/* Close the builder's copies of the open files and objects: once every member holds its own (after the build). */
void files_close(struct thaw *t);

/*
 * In member m's pre-exec copy: its descriptors at their numbers (dup2 from the
 * builder's, all without close-on-exec: the exec must keep them; rebuild.c sets the
 * flags afterwards). Everything else below the helper range is closed. (Epoll
 * registrations, which need the numbers, are files_create's: an instance is shared.)
 * Returns the failing fd number with *err set (an errno), or -1.
 */
int files_install(const struct thaw *t, int member, int *err);

/* ---- ids.c ---- */

/* Choose how the job gets its IDs (after prepare); refuses --new-ids for a job it cannot serve. */
int ids_choose(struct thaw *t, bool new_ids, struct ck_error *e);
/*
 * Enter the namespaces the mode needs (user, pid, time with the job's clocks) and
 * fork the reaper there. Returns in the builder: the reaper (*reaper 0), or, in this
 * process, with *reaper its pid (IDS_NAMESPACE) or 0 (the other modes: we build).
 */
int ids_enter(struct thaw *t, pid_t *reaper, struct ck_error *e);
/* In the reaper: a mount namespace of the job's own, with a /proc of its pid namespace. */
int ids_mount_proc(struct ck_error *e);
/* Fork a process with this PID (clone3 set_tid; any PID in IDS_NEW). Like fork(): 0 in the child. */
pid_t ids_fork(const struct thaw *t, pid_t pid);
/* The next task created in our pid namespace gets this id (ns_last_pid; IDS_NEW: a no-op). */
int ids_next(const struct thaw *t, pid_t id);

/* ---- build.c, child.c, rebuild.c, threads.c ---- */

/* Build the whole job, stopped and traced, ready to run. */
int thaw_build(struct thaw *t, struct ck_error *e);
/* Kill whatever of the job exists and collect it: nothing is left running. */
void thaw_abandon(struct thaw *t);

/* Runs in member m's pre-exec copy after it is forked: never returns. */
void thaw_child(struct thaw *t, int member) __attribute__((noreturn));

/* The scratch page a member's rebuild writes syscall arguments to. */
#define THAW_SCRATCH_SIZE (2 * CKPT_PAGE_SIZE)

/* Rebuild member m's process image by injected syscalls; its threads[0] is HELD at its exec exit. */
int thaw_rebuild(struct thaw *t, struct member_thaw *m, struct ck_error *e);
/* Member m's other threads, each with its TID and state; then every thread's registers and mask. */
int thaw_threads(struct thaw *t, struct member_thaw *m, struct ck_error *e);

/* ---- finish.c, supervise.c ---- */

/* The image's terminal modes (TCSETS takes the kernel's termios, struct ckpt_kernel_termios). */
int thaw_set_terminal(struct thaw *t, struct ck_error *e);
/* Put back the modes thaw_set_terminal() replaced (error paths). */
void thaw_restore_terminal(struct thaw *t);
/* Paint the terminal as it was at the freeze (NT_CKPT_SCREEN), if the image has it and we have a terminal. */
void thaw_repaint(const struct thaw *t);
/* The first member's pid as the thaw sees it (reaper: the namespace's PID 1 as we see it, or 0). */
pid_t thaw_outer_pid(const struct thaw *t, pid_t reaper);
/* Is the thaw's process group the terminal's foreground (a thaw started with `&` is not)? */
bool thaw_in_foreground(const struct thaw *t);
/* Let every thread of every member go (registers and masks loaded): the job runs, in the foreground if we have it to give. */
int thaw_release(struct thaw *t, bool foreground, struct ck_error *e);

/* Wait for the job; returns only if it could not end like the job did (-errno). */
int thaw_supervise(struct thaw *t);

/* The reaper (PID 1 of the job's namespace): build, report to the thaw on fd, release, supervise. Its exit status. */
int reaper_main(struct thaw *t, int fd);
/* The thaw: the reaper's news of the build; 0 when the job is ready to run, or -1 with e. */
int reaper_wait_ready(struct thaw *t, int fd, struct ck_error *e);
/* The thaw: let the reaper release the job, then keep job control working; returns only if the reaper is lost. */
int reaper_supervise(struct thaw *t, pid_t reaper, int fd);

/* Pre-exec copy -> builder, when something cannot be set up (see child.c). */
enum child_step {
	CHILD_FDS = 1,
	CHILD_CWD,
	CHILD_RLIMIT,
	CHILD_EXEC,
	CHILD_SETUP,
	CHILD_FORK, /* a child member could not be forked with its PID */
	CHILD_PGRP,
};

struct child_failure {
	int32_t member;
	int32_t step; /* enum child_step */
	int32_t err;
	int32_t index; /* fd number, rlimit resource, member */
};

#endif
