/*
 * A member's threads, and what is per thread or needs them all: each thread made by
 * a clone injected into the leader, with its TID (ns_last_pid: the next task of the
 * namespace gets it), its robust futex list, clear-child-tid address, rseq area,
 * alternate signal stack and name set inside it; then the pending signals (each to
 * its thread, or the process), the timers, the descriptors' close-on-exec flags, and
 * every thread's registers, FPU/AVX state and signal mask (loaded at release).
 */
#include "inject.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
/* Larger than any XSAVE area (11008 bytes with AMX tiles); the kernel says how much it uses. */
#define XSTATE_MAX (64u << 10)
/* prctl: timer_create() takes the id it is given (Linux 6.15). */
#define PR_TIMER_CREATE_RESTORE_IDS_ 77

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

struct rebuild_threads {
	struct thaw *t;
	struct member_thaw *m;
	const struct ckpt_process_image *p;
	struct ck_error *e;
};

/* The thread made by a clone we injected: stopped at its birth (PTRACE_EVENT_STOP), adopted. */
static int adopt_new_thread(struct infect *th, pid_t tid, uint64_t code_addr, struct ck_error *e)
{
	int status;
	while (waitpid(tid, &status, __WALL) < 0)
		if (errno != EINTR)
			return ck_fail(e, CK_INTERNAL, errno, "threads", "", "lost a new thread");
	int err = infect_adopt(th, tid);
	if (err)
		return ck_fail(e, CK_INTERNAL, -err, "threads", "", "cannot take over a new thread");
	infect_use_syscall_insn(th, code_addr);
	return 0;
}

static int make_threads(struct rebuild_threads *r)
{
	struct member_thaw *m = r->m;
	struct infect *leader = &m->threads[0];
	for (size_t k = 1; k < r->p->process->nthreads; k++) {
		const struct ckpt_thread_image *ti = &r->p->threads[k];
		pid_t want = ti->state->tid;
		if (ids_next(r->t, want))
			return ck_fail(r->e, CK_INTERNAL, errno, "ids", "", "cannot ask for thread id %d", (int)want);
		long tid;
		if (inject_call(leader, r->e, &tid, SYS_clone, THREAD_FLAGS, (long)ti->regs.rsp, 0, 0, 0, 0))
			return -1;
		if (inject_failed(tid))
			return inject_refused(r->e, tid, "threads", "cannot make thread %d", (int)want);
		if (adopt_new_thread(&m->threads[k], (pid_t)tid, leader->code_addr, r->e))
			return -1;
		m->nthreads = k + 1;
		/* Here, another process may have taken the id between our asking and the clone. */
		if (r->t->ids != IDS_NEW && tid != want)
			return ck_fail(r->e, CK_UNSUPPORTED, EEXIST, "ids", "", "cannot give a thread its id %d: another task has it",
				       (int)want);
	}
	return 0;
}

/* What only the thread itself can set. */
static int set_thread_state(struct rebuild_threads *r, size_t k)
{
	struct infect *th = &r->m->threads[k];
	const struct ckpt_thread *s = r->p->threads[k].state;
	uint64_t scratch = r->m->scratch;
	long ret;
	if (inject_call(th, r->e, &ret, SYS_set_robust_list, (long)s->robust_list, (long)s->robust_len, 0, 0, 0, 0))
		return -1;
	if (s->robust_list && inject_failed(ret))
		return inject_refused(r->e, ret, "threads", "cannot register thread %d's robust futex list", s->tid);
	if (inject_call(th, r->e, &ret, SYS_set_tid_address, (long)s->clear_child_tid, 0, 0, 0, 0, 0))
		return -1;
	if (s->rseq_addr) {
		if (inject_call(th, r->e, &ret, SYS_rseq, (long)s->rseq_addr, s->rseq_len, 0, s->rseq_sig, 0, 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "rseq", "cannot register thread %d's rseq area at 0x%llx", s->tid,
					      (unsigned long long)s->rseq_addr);
	}
	/* On its alternate stack when frozen, or not: the stack is the same (SS_ONSTACK is a state, not a setting). */
	stack_t ss = { .ss_sp = (void *)(uintptr_t)s->altstack_sp, .ss_size = s->altstack_size, .ss_flags = s->altstack_flags & ~SS_ONSTACK };
	if (!(ss.ss_flags & SS_DISABLE)) {
		if (inject_put(th, r->e, scratch, &ss, sizeof ss) ||
		    inject_call(th, r->e, &ret, SYS_sigaltstack, (long)scratch, 0, 0, 0, 0, 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "signals", "cannot give thread %d its alternate signal stack", s->tid);
	}
	struct comm_text comm = comm_text(s->comm);
	if (inject_put(th, r->e, scratch, comm.text, sizeof comm.text) ||
	    inject_call(th, r->e, &ret, SYS_prctl, PR_SET_NAME, (long)scratch, 0, 0, 0, 0))
		return -1;
	return 0;
}

static bool has_bit(uint64_t set, int sig)
{
	return set & (1ull << (sig - 1));
}

/* The task (leader or thread) of the member with this TID, as the process sees it. */
static pid_t task_of(const struct rebuild_threads *r, int32_t tid)
{
	for (size_t k = 0; k < r->m->nthreads; k++)
		if (r->p->threads[k].state->tid == tid)
			return r->m->threads[k].pid;
	return 0;
}

/* Queued signals with their siginfo, each to its thread or the process; then any pending one that had no record. */
static int set_pending_signals(struct rebuild_threads *r)
{
	struct infect *leader = &r->m->threads[0];
	pid_t pid = leader->pid;
	long ret;
	uint64_t requeued_shared = 0;
	for (uint32_t i = 0; i < r->p->signals->nqueued; i++) {
		const struct ckpt_queued *q = &r->p->queued[i];
		int32_t sig;
		memcpy(&sig, q->info, sizeof sig);
		if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
			continue;
		pid_t tid = q->tid ? task_of(r, q->tid) : 0;
		if (q->tid && !tid)
			continue; /* a thread of the image the loader vouched for: cannot happen */
		if (inject_put(leader, r->e, r->m->scratch, q->info, sizeof q->info) ||
		    (tid ? inject_call(leader, r->e, &ret, SYS_rt_tgsigqueueinfo, pid, tid, sig, (long)r->m->scratch, 0, 0)
			 : inject_call(leader, r->e, &ret, SYS_rt_sigqueueinfo, pid, sig, (long)r->m->scratch, 0, 0, 0)))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "signals", "cannot queue signal %d again", sig);
		if (!tid)
			requeued_shared |= 1ull << (sig - 1);
	}
	for (size_t k = 0; k < r->m->nthreads; k++) {
		const struct ckpt_thread *s = r->p->threads[k].state;
		for (int sig = 1; sig <= 64; sig++) {
			bool requeued = false;
			for (uint32_t i = 0; i < r->p->signals->nqueued && !requeued; i++) {
				int32_t qsig;
				memcpy(&qsig, r->p->queued[i].info, sizeof qsig);
				requeued = qsig == sig && r->p->queued[i].tid == s->tid;
			}
			if (sig == SIGKILL || sig == SIGSTOP || requeued || !has_bit(s->pending, sig))
				continue;
			if (inject_call(leader, r->e, &ret, SYS_tgkill, pid, r->m->threads[k].pid, sig, 0, 0, 0))
				return -1;
			if (inject_failed(ret))
				return inject_refused(r->e, ret, "signals", "cannot make signal %d pending again", sig);
		}
	}
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || has_bit(requeued_shared, sig) || !has_bit(r->p->signals->shared_pending, sig))
			continue;
		if (inject_call(leader, r->e, &ret, SYS_kill, pid, sig, 0, 0, 0, 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "signals", "cannot make signal %d pending again", sig);
	}
	return 0;
}

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
}

/* POSIX timers with their ids, armed with the time they had left; interval timers likewise. */
static int set_timers(struct rebuild_threads *r)
{
	struct infect *leader = &r->m->threads[0];
	uint64_t scratch = r->m->scratch;
	long ret;
	bool restoring = false;
	for (size_t i = 0; i < r->p->ntimers; i++) {
		const struct ckpt_timer *tm = &r->p->timers[i];
		if (tm->kind == CKPT_TIMER_POSIX) {
			if (!restoring) {
				if (inject_call(leader, r->e, &ret, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS_, 1, 0, 0, 0, 0))
					return -1;
				if (inject_failed(ret))
					return inject_refused(r->e, ret, "timers", "this kernel cannot give timers their ids back");
				restoring = true;
			}
			struct sigevent ev = { .sigev_notify = tm->notify, .sigev_signo = tm->signo };
			ev.sigev_value.sival_ptr = (void *)(uintptr_t)tm->sigev_value;
			if (tm->notify == SIGEV_THREAD_ID)
				ev._sigev_un._tid = task_of(r, tm->notify_tid);
			int id = tm->id;
			struct itimerspec spec = { to_timespec(tm->interval_ns), to_timespec(tm->value_ns) };
			if (inject_put(leader, r->e, scratch, &ev, sizeof ev) || inject_put(leader, r->e, scratch + 256, &id, sizeof id) ||
			    inject_call(leader, r->e, &ret, SYS_timer_create, tm->clock, (long)scratch, (long)scratch + 256, 0, 0, 0))
				return -1;
			if (inject_failed(ret))
				return inject_refused(r->e, ret, "timers", "cannot make timer %d again", tm->id);
			if (inject_put(leader, r->e, scratch + 512, &spec, sizeof spec) ||
			    inject_call(leader, r->e, &ret, SYS_timer_settime, tm->id, 0, (long)scratch + 512, 0, 0, 0))
				return -1;
		} else {
			static const int which[] = { [CKPT_TIMER_REAL] = ITIMER_REAL, [CKPT_TIMER_VIRTUAL] = ITIMER_VIRTUAL, [CKPT_TIMER_PROF] = ITIMER_PROF };
			struct itimerval tv = {
				{ (time_t)(tm->interval_ns / 1000000000u), (suseconds_t)(tm->interval_ns % 1000000000u / 1000) },
				{ (time_t)(tm->value_ns / 1000000000u), (suseconds_t)(tm->value_ns % 1000000000u / 1000) },
			};
			if (inject_put(leader, r->e, scratch, &tv, sizeof tv) ||
			    inject_call(leader, r->e, &ret, SYS_setitimer, which[tm->kind], (long)scratch, 0, 0, 0, 0))
				return -1;
		}
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "timers", "cannot arm a timer again");
	}
	if (restoring && inject_call(leader, r->e, &ret, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS_, 0, 0, 0, 0, 0))
		return -1;
	return 0;
}

/* Close-on-exec flags, our helper descriptors closed, the scratch page gone. */
static int tidy_up(struct rebuild_threads *r)
{
	struct infect *leader = &r->m->threads[0];
	long ret;
	for (size_t i = 0; i < r->p->nfds; i++) {
		if (!r->p->fds[i].cloexec)
			continue;
		if (inject_call(leader, r->e, &ret, SYS_fcntl, r->p->fds[i].fd, F_SETFD, FD_CLOEXEC, 0, 0, 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "fds", "cannot set close-on-exec on fd %d", r->p->fds[i].fd);
	}
	if (inject_call(leader, r->e, &ret, SYS_close_range, r->t->helper_base, ~0u, 0, 0, 0, 0))
		return -1;
	if (inject_failed(ret))
		return inject_refused(r->e, ret, "fds", "cannot close the thaw's own descriptors");
	if (inject_call(leader, r->e, &ret, SYS_munmap, (long)r->m->scratch, THAW_SCRATCH_SIZE, 0, 0, 0, 0))
		return -1;
	if (inject_failed(ret))
		return inject_refused(r->e, ret, "memory", "cannot unmap the scratch page");
	r->m->scratch = 0;
	return 0;
}

/*
 * The registers infect_resume() loads, and the FPU/SSE/AVX state. The image keeps the
 * XSAVE area only up to the last component in use; the kernel takes exactly its own
 * full size (regset.c: xstateregs_set), so pad it with zeros, the init state of the
 * components left out.
 */
static int load_registers(struct rebuild_threads *r, size_t k)
{
	struct infect *th = &r->m->threads[k];
	const struct ckpt_thread_image *ti = &r->p->threads[k];
	bool loaded = false;
	uint8_t *area = calloc(1, XSTATE_MAX);
	struct iovec iov = { area, XSTATE_MAX };
	if (!area)
		return ck_fail(r->e, CK_INTERNAL, ENOMEM, "registers", "", "out of memory");
	if (ti->xstate && ptrace(PTRACE_GETREGSET, th->pid, NT_X86_XSTATE, &iov) == 0 && ti->xstate_len <= iov.iov_len) {
		memset(area, 0, iov.iov_len);
		memcpy(area, ti->xstate, ti->xstate_len);
		loaded = ptrace(PTRACE_SETREGSET, th->pid, NT_X86_XSTATE, &iov) == 0;
	}
	free(area);
	/* Another CPU's XSAVE layout: the x87/SSE state at least. */
	if (!loaded && ptrace(PTRACE_SETFPREGS, th->pid, 0, ti->fpregs) == 0) {
		r->t->stats.fpu_only = true;
		loaded = true;
	}
	if (!loaded)
		return ck_fail(r->e, CK_UNSUPPORTED, errno, "registers", "", "cannot load the floating-point registers");
	th->regs = ti->regs;
	/* Not inside a syscall as far as the kernel is concerned: no restart logic on the way out. */
	th->regs.orig_rax = (unsigned long long)-1;
	th->sigmask = ti->state->blocked;
	return 0;
}

int thaw_threads(struct thaw *t, struct member_thaw *m, struct ck_error *e)
{
	struct rebuild_threads r = { .t = t, .m = m, .p = m->image, .e = e };
	if (make_threads(&r))
		return -1;
	for (size_t k = 0; k < m->nthreads; k++)
		if (set_thread_state(&r, k))
			return -1;
	if (set_pending_signals(&r) || set_timers(&r) || tidy_up(&r))
		return -1;
	for (size_t k = 0; k < m->nthreads; k++)
		if (load_registers(&r, k))
			return -1;
	return 0;
}
