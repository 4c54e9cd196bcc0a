/*
 * ckpty-thawer internals. Stages, in order:
 *   load     read and check the image (common/image_load.c)
 *   prepare  compatibility (vdso), open and verify every file the image needs
 *   spawn    fork; the child arranges fds, cwd, umask, limits and execs the
 *            image's executable under ptrace (so /proc/PID/exe is right
 *            without privileges); we take it over at the execve exit
 *   rebuild  by injected syscalls: drop the exec'd memory, move the vdso,
 *            map and fill the image's memory, mm fields, comm, rseq,
 *            sigactions, pending signals, close-on-exec flags
 *            and the registers (FPU/xstate included)
 *   terminal the image's terminal modes
 *   release  detach (loading registers and blocked mask): the program runs
 *   supervise wait for the program and end like it did
 */
#ifndef CKPTY_THAWER_H
#define CKPTY_THAWER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "image_load.h"
#include "infect.h"

/* Where a mapping of the kernel's vdso family sits (kinds CKPT_VMA_VVAR, _VVAR_VCLOCK, _VDSO). */
struct vdso_layout {
	uint64_t start[3], size[3]; /* indexed by kind - CKPT_VMA_VDSO; size 0 if absent */
};

#define VDSO_SLOT(kind) ((kind) - CKPT_VMA_VDSO)

struct procfs_maps;

/* Where /proc/PID/maps (as read by procfs_maps_read) has the vdso family. */
void vdso_layout_of(const struct procfs_maps *maps, struct vdso_layout *out);
/* Is this /proc/PID/maps name one of the vdso family? */
bool is_vdso_name(const char *path);

/* Facts for the report. */
struct thaw_stats {
	uint64_t lazy_bytes; /* mapped from the image */
	uint64_t copied_bytes;
	bool fpu_only; /* the xstate did not fit this CPU: SSE state only */
};

/* Everything prepared before the child exists. */
struct thaw {
	struct ckpt_image img;
	int image_fd; /* moved into the child's helper range by thaw_prepare() */
	const char *image_path;
	pid_t supervisor; /* the thaw itself: the program's parent */

	struct vdso_layout image_vdso; /* where the image had them */
	uint64_t syscall_offset; /* a `syscall` instruction, as an offset into the vdso */

	int *file_fds; /* per NT_CKPT_FILES entry: an fd in the child's helper range, -1 if unused */
	int term_fd; /* our terminal (0-2), -1 if none */
	int term_helper_fd; /* a dup of it in the helper range, -1 if none */
	int helper_base; /* first fd number above every fd of the image */
	struct ckpt_kernel_termios saved_modes; /* the terminal's before thaw_set_terminal() */
	bool modes_set;
	struct thaw_stats stats;
};

/* Compatibility, files and terminal; fills t. */
int thaw_prepare(struct thaw *t, struct ck_error *e);

/* Close and free everything t holds (what thaw_prepare() and image_load() made). */
void thaw_free(struct thaw *t);

/* Fork and exec the child under ptrace; on success *tracee is stopped at its execve exit. */
int thaw_spawn(struct thaw *t, struct infect *tracee, struct ck_error *e);

/* Kill the half-built process and reap it: nothing is left running. */
void thaw_abandon(pid_t pid);

/* Runs in the child after fork: never returns. */
void thaw_child(const struct thaw *t, int go_fd, int fail_fd) __attribute__((noreturn));

/* Rebuild the process image in the stopped child by injected syscalls; sets tracee's registers and mask. */
int thaw_rebuild(struct thaw *t, struct infect *tracee, struct ck_error *e);

/* The image's terminal modes (TCSETS takes the kernel's termios, struct ckpt_kernel_termios). */
int thaw_set_terminal(struct thaw *t, struct ck_error *e);
/* Paint the terminal as it was at the freeze (NT_CKPT_SCREEN), if the image has it and we have a terminal. */
void thaw_repaint(const struct thaw *t);

/* Put back the modes thaw_set_terminal() replaced (error paths). */
void thaw_restore_terminal(struct thaw *t);

/* Detach, which loads the registers and mask: the program runs. */
int thaw_release(struct thaw *t, struct infect *tracee, struct ck_error *e);

/* Wait for the program; returns only if it could not end like the program did. */
int thaw_supervise(pid_t pid);

/* Child -> parent message when the child cannot exec (see child.c). */
enum child_step {
	CHILD_FDS = 1,
	CHILD_CWD,
	CHILD_RLIMIT,
	CHILD_EXEC,
	CHILD_SETUP,
};

struct child_failure {
	int32_t step; /* enum child_step */
	int32_t err;
	int32_t index; /* fd number, rlimit resource */
};

#endif
