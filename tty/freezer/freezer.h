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

/* One run of pages stored in a PT_LOAD. */
struct frz_run {
	uint64_t start, len;
	uint32_t prot;
	uint32_t vma; /* index of its mapping in capture.vmas */
	bool via_mem; /* read through /proc/PID/mem (unreadable protection or special mapping) */
};

/* Everything the image holds, gathered while the process is seized. */
struct capture {
	pid_t pid;
	uint32_t flags; /* CKPT_PROC_* */
	struct user_regs_struct seized_regs; /* as seized */
	struct user_regs_struct regs; /* with the syscall restart applied: what the thaw loads */
	uint32_t restart; /* enum ckpt_restart */
	uint8_t fpregs[512];
	struct buf xstate;
	siginfo_t stop_info; /* for NT_SIGINFO */
	struct ckpt_signals signals;
	struct buf queued; /* siginfo_t records */
	struct ckpt_sigaction sigactions[64];
	uint64_t rseq_addr;
	uint32_t rseq_len, rseq_sig;
	struct buf auxv, cmdline;
	char comm[16];
	char state;
	int32_t ppid, pgid, sid;
	int32_t tpgid;
	uint32_t uid, gid, umask, personality;
	struct ckpt_mm mm;
	struct ckpt_rlimit rlimits[CKPT_NRLIMITS];
	uint64_t freeze_time_ns;
	struct buf strings; /* NT_CKPT_STRINGS */
	ckpt_str exe, cwd, kernel_release;
	struct buf vmas; /* struct ckpt_vma */
	struct buf files; /* struct ckpt_file */
	struct buf fds; /* struct ckpt_fd */
	bool has_tty;
	struct ckpt_tty tty;
	uint64_t vdso_size, vdso_hash;
	struct buf runs; /* struct frz_run */
	uint64_t stored_bytes;
	struct buf screen; /* NT_CKPT_SCREEN: the session's repaint of the terminal, or empty */
};

void capture_free(struct capture *c);
ckpt_str capture_string(struct capture *c, const char *s);

/* Registers, signals, sigactions (injected), mm, limits, ids, fds and terminal. */
int capture_state(struct infect *t, struct capture *c, struct ck_error *e);

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
int capture_memory(struct infect *t, struct capture *c, struct ck_error *e);

/* Write the image to fd (an empty regular file); *size gets the file's size. */
int image_write(struct infect *t, struct capture *c, int fd, uint64_t *size, struct ck_error *e);

#endif
