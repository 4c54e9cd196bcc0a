/*
 * infect: drive another process through ptrace, after CRIU's compel.
 *
 * Life cycle: infect_seize() -> infect_set_code() -> infect_syscall()… ->
 * infect_resume() (or infect_release() on any error path, which puts the task
 * back exactly as it was seized). The task runs injected syscalls with every
 * signal blocked, so signals that arrive meanwhile stay pending for the
 * program instead of being consumed by us.
 */
#ifndef CKPTY_INFECT_H
#define CKPTY_INFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct infect {
	pid_t pid;
	int mem_fd; /* /proc/PID/mem, for reads and writes that ignore page protection */
	bool group_stopped; /* the task was in a job-control stop when seized */
	struct user_regs_struct regs; /* as seized; infect_resume() writes back whatever is here */
	uint64_t sigmask; /* blocked mask as seized; infect_resume() writes it back */
	uint64_t code_addr; /* where `syscall; int3` is (0: none yet) */
	uint64_t saved_code; /* the word we overwrote at code_addr, if patched */
	bool code_patched;
	bool syscall_stops; /* code_addr is a bare `syscall`: run to its syscall-exit stop instead of an int3 */
};

/* `syscall; int3`: what infect_set_code() writes. */
#define INFECT_CODE_BYTES 3

/* PTRACE_SEIZE + PTRACE_INTERRUPT and wait for the stop. 0 or -errno; on error nothing changed. */
int infect_seize(struct infect *t, pid_t pid);

/*
 * Take over a task the caller already traces (seized with PTRACE_O_TRACESYSGOOD)
 * and that sits in a ptrace-stop, e.g. the thawer's child at its execve exit.
 * 0 or -errno; on error the task stays traced and stopped.
 */
int infect_adopt(struct infect *t, pid_t pid);

/*
 * Run injected syscalls from addr (an executable address in the task).
 * With patch, the word at addr is saved and `syscall; int3` written there;
 * it is put back by infect_restore_code(), infect_resume() and infect_release().
 * Without patch, the caller guarantees the bytes are already there.
 */
int infect_set_code(struct infect *t, uint64_t addr, bool patch);
int infect_restore_code(struct infect *t);

/*
 * Run injected syscalls from addr, which already holds a `syscall` instruction
 * (bytes 0f 05, e.g. rip - 2 of a task stopped in a syscall, or any such pair in
 * the vdso): the task's memory is never written. Each syscall runs to its
 * syscall-exit stop (PTRACE_SYSCALL). That costs two stops instead of one, but
 * raises no signal: an int3 or a single step is a forced SIGTRAP, and a forced
 * signal that is blocked (as all are while we inject) resets the task's SIGTRAP
 * disposition to SIG_DFL (kernel/signal.c force_sig_info_to_task).
 */
int infect_use_syscall_insn(struct infect *t, uint64_t addr);

/* Run syscall nr with up to six arguments in the task; *result gets its return value. 0 or -errno. */
int infect_syscall(struct infect *t, long nr, const long args[6], long *result);

/* Copy memory out of / into the task (protection is ignored, as for a debugger). 0 or -errno. */
int infect_read(struct infect *t, uint64_t addr, void *buf, size_t len);
int infect_write(struct infect *t, uint64_t addr, const void *buf, size_t len);

/* Put back code, registers (t->regs) and the blocked mask (t->sigmask), then detach. */
int infect_resume(struct infect *t);

/* Error path: put back everything exactly as seized and detach. Never fails silently: returns -errno. */
int infect_release(struct infect *t);

/* The task must end now: detach after injecting exit_group(status). It never runs user code again. */
int infect_exit(struct infect *t, int status);

#endif
