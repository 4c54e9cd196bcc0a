/*
 * infect: drive another task through ptrace, after CRIU's compel.
 *
 * A task goes through explicit states, and every transition is one call:
 *
 *   DETACHED --infect_seize/adopt--> HELD --infect_syscall--> INJECTING
 *   INJECTING --infect_hold--> HELD            (its own registers and mask back)
 *   HELD/INJECTING --infect_resume/release--> DETACHED   (runs on as it was)
 *   HELD/INJECTING --infect_exit_begin--> ENDING --infect_exit_finish--> DETACHED (gone)
 *
 * HELD is the safe state: the task is stopped with its own registers and signal
 * mask, so if we die there the kernel lets it go and it runs on untouched. We stay
 * in INJECTING only for the few syscalls we run in it. Injected syscalls run with
 * every signal blocked, so signals that arrive meanwhile stay pending for the
 * program instead of being consumed by us.
 */
#ifndef CKPTY_INFECT_H
#define CKPTY_INFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

enum infect_state {
	INFECT_DETACHED = 0, /* not traced by us */
	INFECT_HELD, /* stopped by us, its own registers and blocked mask in place */
	INFECT_INJECTING, /* stopped by us, loaded with our registers and every signal blocked */
	INFECT_ENDING, /* stopped at its exit: it never runs user code again */
};

/* What infect_restart_regs() did to a task's registers (image.h's enum ckpt_restart has the same values). */
enum infect_restart {
	INFECT_RESTART_NONE = 0, /* not inside a syscall */
	INFECT_RESTART_REWOUND = 1, /* -ERESTART{SYS,NOINTR,NOHAND}: rip -= 2, rax = orig_rax */
	INFECT_RESTART_BLOCK = 2, /* -ERESTART_RESTARTBLOCK: rewound to re-enter the original syscall */
};

/*
 * Where the guard of a task's injected syscalls lives (see infect_guard()): code of
 * its own that returns through a signal frame we put on its stack.
 */
struct infect_guard_sites {
	uint64_t syscall_ret; /* `syscall; ret` (0f 05 c3) */
	uint64_t restore_rt; /* glibc's __restore_rt: `mov $15, %rax; syscall` */
};

struct infect {
	pid_t pid; /* the task (thread) id */
	int mem_fd; /* /proc/PID/mem, for reads and writes that ignore page protection */
	enum infect_state state;
	bool job_stopped; /* in a job-control stop (^Z) when seized; the kernel keeps it stopped after we let go */
	struct user_regs_struct regs; /* as seized: what infect_hold() and infect_resume() put back */
	uint64_t sigmask; /* blocked mask as seized */
	uint64_t code_addr; /* a `syscall` instruction in the task (0: none chosen yet) */
	uint64_t guard_frame; /* the guard's signal frame on the task's stack, 0: unguarded */
	uint64_t guard_syscall_ret; /* where guarded syscalls run */
	uint8_t *guard_saved; /* the stack bytes under the frame, put back by infect_hold() */
	size_t guard_len;
};

/* PTRACE_SEIZE + PTRACE_INTERRUPT and wait for the stop: DETACHED -> HELD. 0 or -errno; on error nothing changed. */
int infect_seize(struct infect *t, pid_t pid);

/*
 * Take over a task the caller already traces (seized with PTRACE_O_TRACESYSGOOD) and
 * that sits in a ptrace-stop, e.g. the thawer's child at its execve exit: -> HELD.
 * 0 or -errno; on error the task stays traced and stopped.
 */
int infect_adopt(struct infect *t, pid_t pid);

/*
 * Run injected syscalls at addr, which already holds a `syscall` instruction (bytes
 * 0f 05: rip - 2 of a task stopped in a syscall, or any such pair in the vdso): the
 * task's memory is never written for it. Each syscall runs to its syscall-exit stop
 * (PTRACE_SYSCALL), which raises no signal: an int3 or a single step would be a
 * forced SIGTRAP, and a forced signal that is blocked (as all are while we inject)
 * resets the task's SIGTRAP disposition to SIG_DFL (kernel/signal.c
 * force_sig_info_to_task).
 */
void infect_use_syscall_insn(struct infect *t, uint64_t addr);

/*
 * The registers the task would run on with, had no one stopped it: a syscall the stop
 * interrupted (rax = -ERESTART*) is rewound to enter it again, as the kernel would
 * have done without a signal handler (a relative nanosleep/clock_nanosleep with a rem
 * pointer then sleeps the time it had left, read from rem; poll and a sleep without
 * rem their full time again); one already in restart_syscall comes back with -EINTR.
 */
enum infect_restart infect_restart_regs(const struct user_regs_struct *seized, struct user_regs_struct *out);

/* Find the guard's code in the task (its r-xp file mappings, read from the files). 0 or -ENOENT. */
int infect_find_guard_sites(pid_t pid, struct infect_guard_sites *sites);

/*
 * Make the injected syscalls of a HELD task safe from our death: a signal frame
 * holding its own registers (infect_restart_regs), XSAVE state and blocked mask goes
 * on its stack below the red zone, and each syscall then runs at a `syscall; ret`
 * whose return lands in __restore_rt. Whenever we die, the task finishes at most the
 * syscall it is in, then rt_sigreturn puts it back exactly as it was. 0 or -errno
 * (no room on its stack): injection then stays unguarded, as before.
 */
int infect_guard(struct infect *t, const struct infect_guard_sites *sites);

/* Run syscall nr with up to six arguments in the task (-> INJECTING); *result gets its return value. 0 or -errno. */
int infect_syscall(struct infect *t, long nr, const long args[6], long *result);

/* INJECTING -> HELD: put back the registers, the blocked mask and the stack under a guard as seized. 0 or -errno. */
int infect_hold(struct infect *t);

/* Copy memory out of / into the task (protection is ignored, as for a debugger). 0 or -errno. */
int infect_read(struct infect *t, uint64_t addr, void *buf, size_t len);
int infect_write(struct infect *t, uint64_t addr, const void *buf, size_t len);

/* Put back t->regs and t->sigmask, then detach: the task runs on. 0 or -errno. */
int infect_resume(struct infect *t);

/* Error path: the same as infect_resume(), and a no-op for a DETACHED task. Never fails silently: returns -errno. */
int infect_release(struct infect *t);

/* From now on, if we die, the kernel kills the task (PTRACE_O_EXITKILL). HELD only. 0 or -errno. */
int infect_arm_exitkill(struct infect *t);

/*
 * HELD (or INJECTING) -> ENDING: run exit_group(status) in the task up to its exit
 * stop, from where its end is certain (the kernel frees its memory afterwards, a tenth
 * of a second for a GiB: we need not wait for that). The task still holds its files at
 * the stop. 0 or -errno; on error it is as it was.
 */
int infect_exit_begin(struct infect *t, int status);

/* ENDING -> DETACHED: let it finish dying. */
void infect_exit_finish(struct infect *t);

#endif
