/*
 * Capture of a member's state other than memory and descriptors: ids, limits, each
 * thread's registers and thread state, signals, sigactions, timers, the terminal.
 */
#include "fault.h"
#include "freezer.h"
#include "procfs.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_PEEKSIGINFO
#define PTRACE_PEEKSIGINFO 0x4209
#endif
#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif
#define PTRACE_GET_RSEQ_CONFIGURATION_ 0x420f
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

struct rseq_configuration {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

struct peeksiginfo_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

_Static_assert((int)INFECT_RESTART_NONE == (int)CKPT_RESTART_NONE &&
		       (int)INFECT_RESTART_REWOUND == (int)CKPT_RESTART_REWOUND &&
		       (int)INFECT_RESTART_BLOCK == (int)CKPT_RESTART_BLOCK,
	       "infect's restart kinds are the image's");

/*
 * The kernel hands out its largest XSAVE layout (with AMX tile data, 11008 bytes here)
 * even when the task never enabled those components. Keep the area up to the last
 * component that XCR0 enables and the task uses: the size gdb expects for the XCR0
 * it finds at byte 464 (the thawer pads it back with zeros, the init state).
 */
static size_t xstate_used_size(const uint8_t *xsave, size_t len)
{
	const size_t xcr0_at = 464, header_at = 512, legacy_and_header = 576;
	if (len < legacy_and_header)
		return len;
	uint64_t xcr0, xstate_bv;
	memcpy(&xcr0, xsave + xcr0_at, 8);
	memcpy(&xstate_bv, xsave + header_at, 8);
	/* Components the kernel enables only on request (AMX tiles: 17, 18) count only when in use. */
	const uint64_t dynamic = (1ull << 17) | (1ull << 18);
	uint64_t wanted = (xcr0 & ~dynamic) | (xcr0 & dynamic & xstate_bv);
	size_t end = legacy_and_header;
	for (unsigned i = 2; i < 64; i++) {
		if (!(wanted & (1ull << i)))
			continue;
		unsigned size, offset, ecx, edx;
		__cpuid_count(0xd, i, size, offset, ecx, edx);
		(void)ecx;
		(void)edx;
		if (offset + size > end)
			end = offset + size;
	}
	return end < len ? end : len;
}

/* Append the queued siginfos of one queue of task tid (its private one, or the process's shared one). */
static int peek_siginfo(pid_t tid, uint32_t flags, int32_t owner, struct buf *out, uint32_t *count)
{
	for (uint64_t off = 0;;) {
		siginfo_t batch[16];
		struct peeksiginfo_args args = { off, flags, 16 };
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &args, batch);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (long i = 0; i < n; i++) {
			struct ckpt_queued q = { .tid = owner };
			_Static_assert(sizeof q.info == sizeof batch[0], "siginfo_t is 128 bytes");
			memcpy(q.info, &batch[i], sizeof q.info);
			if (buf_append(out, &q, sizeof q))
				return -ENOMEM;
		}
		off += (uint64_t)n;
		*count += (uint32_t)n;
	}
}

/* One thread's registers and the thread state ptrace and /proc give without injecting. */
static int capture_thread(struct capture *c, struct thread_capture *th, struct ck_error *e)
{
	struct infect *t = &th->t;
	struct ckpt_thread *s = &th->state;
	/* The registers the thaw loads: a syscall the freeze interrupted is entered again. */
	s->syscall_restart = infect_restart_regs(&t->regs, &th->regs);
	s->orig_rax = (int64_t)t->regs.orig_rax;
	s->syscall_ret = (int64_t)t->regs.rax;
	s->blocked = t->sigmask;

	struct iovec iov = { th->fpregs, sizeof th->fpregs };
	if (ptrace(PTRACE_GETREGSET, t->pid, NT_PRFPREG, &iov) < 0)
		return ck_fail(e, ck_class_of_errno(errno), errno, "registers", "", "cannot read the FPU registers");
	/* The XSAVE area's size depends on the CPU; the kernel shortens iov_len to it. */
	size_t room = 64 * 1024;
	if (buf_append(&th->xstate, NULL, room))
		return ck_fail(e, CK_INTERNAL, ENOMEM, "registers", "", "out of memory");
	iov = (struct iovec){ th->xstate.data, room };
	if (ptrace(PTRACE_GETREGSET, t->pid, NT_X86_XSTATE, &iov) < 0)
		return ck_fail(e, ck_class_of_errno(errno), errno, "registers", "", "cannot read the XSAVE state");
	th->xstate.len = xstate_used_size(th->xstate.data, iov.iov_len);

	struct rseq_configuration rseq = { 0 };
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION_, t->pid, sizeof rseq, &rseq) > 0) {
		s->rseq_addr = rseq.rseq_abi_pointer;
		s->rseq_len = rseq.rseq_abi_size;
		s->rseq_sig = rseq.signature;
	}
	long len = 0;
	void *head = NULL;
	if (syscall(SYS_get_robust_list, t->pid, &head, &len) == 0) {
		s->robust_list = (uint64_t)(uintptr_t)head;
		s->robust_len = (uint64_t)len;
	}

	char name[64], *text;
	snprintf(name, sizeof name, "task/%d/comm", (int)t->pid);
	if (!procfs_read(c->pid, name, &text, NULL)) {
		text[strcspn(text, "\n")] = 0;
		snprintf(s->comm, sizeof s->comm, "%.15s", text);
		free(text);
	}
	snprintf(name, sizeof name, "task/%d/status", (int)t->pid);
	int err = procfs_read(c->pid, name, &text, NULL);
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "signals", "", "cannot read the thread's status");
	const char *v = procfs_field(text, "SigPnd");
	s->pending = v ? strtoull(v, NULL, 16) : 0;
	free(text);
	if ((err = peek_siginfo(t->pid, 0, s->tid, &c->queued, &c->signals.nqueued)))
		return ck_fail(e, ck_class_of_errno(-err), -err, "signals", "", "cannot read the pending signals");
	return 0;
}

/* An address in the task holding `syscall` (0f 05), so injection never writes to its memory. */
static int find_syscall_insn(struct infect *t, const struct buf *auxv, uint64_t *addr)
{
	/* Stopped in a syscall: the instruction that entered it is right behind rip. */
	if ((long)t->regs.orig_rax >= 0) {
		uint8_t insn[2];
		if (!infect_read(t, t->regs.rip - 2, insn, 2) && insn[0] == 0x0f && insn[1] == 0x05) {
			*addr = t->regs.rip - 2;
			return 0;
		}
	}
	/* Otherwise the vdso's syscall fallbacks: the CPU decodes 0f 05 as `syscall` wherever it starts. */
	uint64_t vdso = 0;
	for (size_t i = 0; i + 16 <= auxv->len; i += 16) {
		uint64_t type, val;
		memcpy(&type, auxv->data + i, 8);
		memcpy(&val, auxv->data + i + 8, 8);
		if (type == AT_SYSINFO_EHDR)
			vdso = val;
	}
	if (!vdso)
		return -ENOENT;
	uint8_t page[4096];
	for (uint64_t at = vdso; infect_read(t, at, page, sizeof page) == 0; at += sizeof page) {
		for (size_t i = 0; i + 1 < sizeof page; i++) {
			if (page[i] == 0x0f && page[i + 1] == 0x05) {
				*addr = at + i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* A syscall in the task; its result, or -errno (the injection's, or the syscall's). */
static long inject(struct infect *t, long nr, long a0, long a1, long a2, long a3)
{
	long args[6] = { a0, a1, a2, a3, 0, 0 }, ret;
	int err = infect_syscall(t, nr, args, &ret);
	return err ? err : ret;
}

static bool failed(long ret)
{
	return (unsigned long)ret > -4096ul;
}

/* Layout of the scratch page the leader maps for what the injected syscalls write. */
enum {
	SCRATCH_SIGACTIONS = 0, /* 64 × struct ckpt_sigaction */
	SCRATCH_VALUES = 64 * sizeof(struct ckpt_sigaction), /* what one syscall returns at a time */
	SCRATCH_SIZE = 4096,
};

/* The thread's clear-child-tid address and alternate signal stack: only the thread can tell. */
static int capture_thread_by_injection(struct infect *t, struct ckpt_thread *s, uint64_t scratch)
{
	long ret = inject(t, SYS_prctl, PR_GET_TID_ADDRESS, (long)(scratch + SCRATCH_VALUES), 0, 0);
	uint64_t value = 0;
	if (failed(ret) || (ret = infect_read(t, scratch + SCRATCH_VALUES, &value, sizeof value)))
		return (int)ret;
	s->clear_child_tid = value;
	stack_t ss;
	ret = inject(t, SYS_sigaltstack, 0, (long)(scratch + SCRATCH_VALUES), 0, 0);
	if (failed(ret) || (ret = infect_read(t, scratch + SCRATCH_VALUES, &ss, sizeof ss)))
		return (int)ret;
	s->altstack_sp = (uint64_t)(uintptr_t)ss.ss_sp;
	s->altstack_size = ss.ss_size;
	s->altstack_flags = ss.ss_flags;
	return 0;
}

/* POSIX timers (/proc/PID/timers lists them; only timer_gettime in the process tells the time left). */
static int capture_posix_timers(struct capture *c, struct infect *t, uint64_t scratch)
{
	char *text;
	if (procfs_read(c->pid, "timers", &text, NULL))
		return 0; /* no timers file: no timers */
	int ret = 0;
	/* Four lines per timer: ID, signal: SIG/VALUE, notify: KIND/pid|tid.N, ClockID. */
	for (char *at = strstr(text, "ID: "); at && !ret; at = strstr(at + 1, "\nID: ")) {
		struct ckpt_timer tm = { .kind = CKPT_TIMER_POSIX };
		char notify[16] = "", who[8] = "";
		unsigned long long value = 0;
		if (*at == '\n')
			at++;
		if (sscanf(at, "ID: %d\nsignal: %d/%llx\nnotify: %15[^/]/%7[^.].%d\nClockID: %d", &tm.id, &tm.signo, &value,
			   notify, who, &tm.notify_tid, &tm.clock) != 7) {
			ret = -EPROTO;
			break;
		}
		tm.sigev_value = value;
		tm.notify = !strcmp(notify, "none") ? SIGEV_NONE : !strcmp(who, "tid") ? SIGEV_THREAD_ID
										       : SIGEV_SIGNAL;
		if (tm.notify != SIGEV_THREAD_ID)
			tm.notify_tid = 0;
		struct itimerspec spec;
		long r = inject(t, SYS_timer_gettime, tm.id, (long)(scratch + SCRATCH_VALUES), 0, 0);
		if (failed(r) || (r = infect_read(t, scratch + SCRATCH_VALUES, &spec, sizeof spec))) {
			ret = (int)r;
			break;
		}
		tm.value_ns = (uint64_t)spec.it_value.tv_sec * 1000000000ull + (uint64_t)spec.it_value.tv_nsec;
		tm.interval_ns = (uint64_t)spec.it_interval.tv_sec * 1000000000ull + (uint64_t)spec.it_interval.tv_nsec;
		if (buf_append(&c->timers, &tm, sizeof tm))
			ret = -ENOMEM;
	}
	free(text);
	return ret;
}

/* setitimer()'s three timers (alarm() is ITIMER_REAL). */
static int capture_interval_timers(struct capture *c, struct infect *t, uint64_t scratch)
{
	static const struct {
		int which;
		uint32_t kind;
	} timers[] = { { ITIMER_REAL, CKPT_TIMER_REAL }, { ITIMER_VIRTUAL, CKPT_TIMER_VIRTUAL }, { ITIMER_PROF, CKPT_TIMER_PROF } };
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
		struct itimerval tv;
		long r = inject(t, SYS_getitimer, timers[i].which, (long)(scratch + SCRATCH_VALUES), 0, 0);
		if (failed(r) || (r = infect_read(t, scratch + SCRATCH_VALUES, &tv, sizeof tv)))
			return (int)r;
		if (!tv.it_value.tv_sec && !tv.it_value.tv_usec)
			continue;
		struct ckpt_timer tm = {
			.kind = timers[i].kind,
			.value_ns = (uint64_t)tv.it_value.tv_sec * 1000000000ull + (uint64_t)tv.it_value.tv_usec * 1000ull,
			.interval_ns = (uint64_t)tv.it_interval.tv_sec * 1000000000ull + (uint64_t)tv.it_interval.tv_usec * 1000ull,
		};
		if (buf_append(&c->timers, &tm, sizeof tm))
			return -ENOMEM;
	}
	return 0;
}

/* Each thread: guarded (infect.h), its code address set; 0 or -errno. */
static int prepare_injection(struct capture *c, struct thread_capture *th, const struct infect_guard_sites *sites)
{
	uint64_t insn;
	if (find_syscall_insn(&th->t, &c->auxv, &insn))
		return -ENOENT;
	infect_use_syscall_insn(&th->t, insn);
	if (sites)
		infect_guard(&th->t, sites);
	return 0;
}

/*
 * What only syscalls run inside the process can tell: sigactions, brk, timers, and
 * each thread's clear-child-tid address and alternate stack. The leader maps a scratch
 * page for their answers (gone before the maps are read). Only the signals that have a
 * handler (SigCgt) need asking, and SIGCHLD, whose SA_NOCLDSTOP/SA_NOCLDWAIT matter
 * even with SIG_DFL; the others are SIG_IGN (SigIgn) or SIG_DFL, and their flags and
 * masks change nothing. Every thread has its own registers and mask back at the end.
 */
static int capture_by_injection(struct capture *c, const char *status, struct ck_error *e)
{
	uint64_t caught = 0, ignored = 0;
	const char *v;
	if ((v = procfs_field(status, "SigCgt")))
		caught = strtoull(v, NULL, 16);
	if ((v = procfs_field(status, "SigIgn")))
		ignored = strtoull(v, NULL, 16);
	caught |= 1ull << (SIGCHLD - 1);
	for (int sig = 1; sig <= 64; sig++)
		if (ignored & (1ull << (sig - 1)))
			c->sigactions[sig - 1].handler = (uint64_t)(uintptr_t)SIG_IGN;

	struct infect *leader = &c->threads[0].t;
	/* Guarded where the process has glibc's code for it: our death then leaves it as it was (infect.h). */
	struct infect_guard_sites sites;
	bool guarded = infect_find_guard_sites(c->pid, &sites) == 0;
	for (size_t i = 0; i < c->nthreads; i++)
		if (prepare_injection(c, &c->threads[i], guarded ? &sites : NULL))
			return ck_fail(e, CK_UNSUPPORTED, ENOENT, "inject", "", "found no syscall instruction in the process (no vdso?)");

	long scratch = inject(leader, SYS_mmap, 0, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	int err = failed(scratch) ? (int)scratch : 0;
	fault_point("injecting");
	for (int sig = 1; sig <= 64 && !err; sig++) {
		if (!(caught & (1ull << (sig - 1))))
			continue;
		long r = inject(leader, SYS_rt_sigaction, sig, 0, scratch + SCRATCH_SIGACTIONS + (sig - 1) * (long)sizeof(struct ckpt_sigaction), 8);
		if (failed(r))
			err = (int)r;
	}
	for (int sig = 1; sig <= 64 && !err; sig++)
		if (caught & (1ull << (sig - 1)))
			err = infect_read(leader, (uint64_t)scratch + SCRATCH_SIGACTIONS + (uint64_t)(sig - 1) * sizeof(struct ckpt_sigaction),
					  &c->sigactions[sig - 1], sizeof(struct ckpt_sigaction));
	long brk = 0;
	if (!err && failed(brk = inject(leader, SYS_brk, 0, 0, 0, 0)))
		err = (int)brk;
	if (!err)
		err = capture_posix_timers(c, leader, (uint64_t)scratch);
	if (!err)
		err = capture_interval_timers(c, leader, (uint64_t)scratch);
	for (size_t i = 0; i < c->nthreads && !err; i++)
		err = capture_thread_by_injection(&c->threads[i].t, &c->threads[i].state, (uint64_t)scratch);
	int unmap_err = 0;
	if (!failed(scratch)) {
		long r = inject(leader, SYS_munmap, scratch, SCRATCH_SIZE, 0, 0);
		unmap_err = failed(r) ? (int)r : 0;
	}
	/* Their own registers and masks back at once: from here our death leaves them as they were. */
	int hold_err = 0;
	for (size_t i = 0; i < c->nthreads; i++) {
		int h = infect_hold(&c->threads[i].t);
		if (h && !hold_err)
			hold_err = h;
	}
	if (err || unmap_err || hold_err) {
		err = err ? err : unmap_err ? unmap_err
					    : hold_err;
		return ck_fail(e, ck_class_of_errno(-err), -err, "inject", "", "injected syscall failed");
	}
	c->mm.brk = (uint64_t)brk;
	return 0;
}

/*
 * /proc/PID/limits, not prlimit(): prlimit on another user's process needs
 * CAP_SYS_RESOURCE, which root may lack (containers). One row per RLIMIT_* in order,
 * printed as "%-25s %-20s %-20s …": soft from column 26, hard from column 47.
 */
static int read_rlimits(pid_t pid, struct ckpt_rlimit *limits)
{
	char *text;
	int err = procfs_read(pid, "limits", &text, NULL);
	if (err)
		return err;
	char *line = strchr(text, '\n'); /* skip the header */
	int r = 0;
	for (; line && r < CKPT_NRLIMITS; r++) {
		line++;
		if (strlen(line) < 48)
			break;
		uint64_t *values[2] = { &limits[r].cur, &limits[r].max };
		for (int i = 0; i < 2; i++) {
			const char *v = line + 26 + 21 * i;
			*values[i] = !strncmp(v, "unlimited", 9) ? RLIM_INFINITY : strtoull(v, NULL, 10);
		}
		line = strchr(line, '\n');
	}
	free(text);
	return r == CKPT_NRLIMITS ? 0 : -EPROTO;
}

static int capture_identity(struct capture *c, char **status, struct ck_error *e)
{
	pid_t pid = c->pid;
	struct procfs_stat st;
	int err = procfs_stat_read(pid, &st);
	if (!err)
		err = procfs_read(pid, "status", status, NULL);
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read /proc/%d", (int)pid);
	memcpy(c->comm, st.comm, sizeof c->comm);
	c->state = st.state;
	c->pgid = st.pgrp;
	c->tpgid = st.tpgid;
	c->mm = (struct ckpt_mm){
		.start_code = st.start_code,
		.end_code = st.end_code,
		.start_data = st.start_data,
		.end_data = st.end_data,
		.start_brk = st.start_brk,
		.start_stack = st.start_stack,
		.arg_start = st.arg_start,
		.arg_end = st.arg_end,
		.env_start = st.env_start,
		.env_end = st.env_end,
	};
	const char *v;
	if ((v = procfs_field(*status, "Uid")))
		c->uid = (uint32_t)strtoul(v, NULL, 10);
	if ((v = procfs_field(*status, "Gid")))
		c->gid = (uint32_t)strtoul(v, NULL, 10);
	if ((v = procfs_field(*status, "Umask")))
		c->umask = (uint32_t)strtoul(v, NULL, 8);
	if ((v = procfs_field(*status, "ShdPnd")))
		c->signals.shared_pending = strtoull(v, NULL, 16);
	char *text;
	if (!procfs_read(pid, "personality", &text, NULL)) {
		c->personality = (uint32_t)strtoul(text, NULL, 16);
		free(text);
	}

	if ((err = read_rlimits(pid, c->rlimits)))
		return ck_fail(e, ck_class_of_errno(-err), -err, "rlimits", "", "cannot read the resource limits");

	char path[PATH_MAX];
	if ((err = procfs_readlink(pid, "exe", path, sizeof path)))
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read the executable's path");
	c->exe = capture_string(c, path);
	if ((err = procfs_readlink(pid, "cwd", path, sizeof path)))
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read the current directory");
	c->cwd = capture_string(c, path);
	struct utsname uts;
	uname(&uts);
	c->kernel_release = capture_string(c, uts.release);

	char *data;
	size_t len;
	if ((err = procfs_read(pid, "auxv", &data, &len)))
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read the auxiliary vector");
	err = buf_append(&c->auxv, data, len);
	free(data);
	if (!err && !(err = procfs_read(pid, "cmdline", &data, &len))) {
		err = buf_append(&c->cmdline, data, len);
		free(data);
	}
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read the command line");
	if (c->exe == 0 || c->cwd == 0)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "proc", "", "out of memory");
	return 0;
}

/* NT_SIGINFO: the stop's signal; our PTRACE_INTERRUPT shows as SIGTRAP, report it as a SIGSTOP. */
static void capture_stop_info(struct capture *c)
{
	memset(&c->stop_info, 0, sizeof c->stop_info);
	if (ptrace(PTRACE_GETSIGINFO, c->pid, 0, &c->stop_info) < 0 || c->stop_info.si_signo == SIGTRAP) {
		memset(&c->stop_info, 0, sizeof c->stop_info);
		c->stop_info.si_signo = SIGSTOP;
		c->stop_info.si_code = SI_USER;
		c->stop_info.si_pid = getpid();
		c->stop_info.si_uid = getuid();
	}
}

int capture_state(struct job *job, struct capture *c, struct ck_error *e)
{
	(void)job;
	if (c->threads[0].t.job_stopped)
		c->flags |= CKPT_PROC_WAS_STOPPED;
	char *status = NULL;
	int ret = capture_identity(c, &status, e);
	for (size_t i = 0; i < c->nthreads && !ret; i++)
		ret = capture_thread(c, &c->threads[i], e);
	if (!ret) {
		capture_stop_info(c);
		int err = peek_siginfo(c->pid, PTRACE_PEEKSIGINFO_SHARED, 0, &c->queued, &c->signals.nqueued);
		if (err)
			ret = ck_fail(e, ck_class_of_errno(-err), -err, "signals", "", "cannot read the pending signals");
	}
	if (!ret)
		ret = capture_by_injection(c, status, e);
	free(status);
	return ret;
}

/*
 * A shell adopts the modes its foreground job leaves on the terminal when the job
 * exits normally (bash restores its own only after a death by signal), so a job
 * frozen in raw or no-echo mode would leave the next prompt without echo. The
 * program would have restored them on a clean exit; do it for it. The image keeps
 * the modes as they were, for the thaw.
 */
int capture_grab_terminal(const struct capture *c)
{
	if (!c->has_tty || c->tpgid != c->pgid)
		return -1;
	int fd = grab_fd(c->pid, c->tty.fd);
	return fd < 0 ? -1 : fd;
}

void capture_cook_terminal(const struct capture *c, int tty, const struct ckpt_kernel_termios *shell)
{
	if (tty < 0)
		return;
	struct ckpt_kernel_termios t = c->tty.termios;
	if (shell) {
		t = *shell;
		t.c_line = c->tty.termios.c_line;
		ioctl(tty, TCSETS, &t);
		return;
	}
	t.c_iflag = (t.c_iflag | ICRNL) & ~(tcflag_t)(INLCR | IGNCR);
	t.c_oflag |= OPOST | ONLCR;
	t.c_lflag |= ISIG | ICANON | IEXTEN | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE;
	ioctl(tty, TCSETS, &t);
}

ckpt_str capture_string(struct capture *c, const char *s)
{
	if (!c->strings.len && buf_append(&c->strings, "", 1))
		return 0;
	if (!*s)
		return 0;
	size_t at = c->strings.len;
	if (buf_append(&c->strings, s, strlen(s) + 1))
		return 0;
	return (ckpt_str)at;
}

ckpt_str job_string(struct job *job, const char *s)
{
	return capture_string(&job->members[0], s);
}

void capture_free(struct capture *c)
{
	for (size_t i = 0; i < c->nthreads; i++)
		buf_free(&c->threads[i].xstate);
	free(c->threads);
	c->threads = NULL;
	c->nthreads = 0;
	struct buf *bufs[] = { &c->queued, &c->timers, &c->auxv, &c->cmdline, &c->strings, &c->vmas, &c->files, &c->fds, &c->runs };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		buf_free(bufs[i]);
}

void job_free(struct job *job)
{
	for (size_t i = 0; i < job->nmembers; i++)
		capture_free(&job->members[i]);
	free(job->members);
	job->members = NULL;
	job->nmembers = job->cap = 0;
	objects_free(job);
	struct buf *bufs[] = { &job->objects, &job->ofiles, &job->watches, &job->data, &job->screen };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		buf_free(bufs[i]);
}
