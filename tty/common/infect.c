#include "infect.h"
#include "procfs.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* The kernel's errno values for a syscall interrupted by a signal (include/linux/errno.h). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The options every task we trace gets; infect_arm_exitkill() adds PTRACE_O_EXITKILL. */
#define BASE_OPTIONS PTRACE_O_TRACESYSGOOD

static bool task_in_job_stop(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'. */
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'T';
}

/* Wait for the next ptrace stop of t; returns the wait status, or -ESRCH if it ended instead. */
static int wait_stop(struct infect *t)
{
	int status;
	for (;;) {
		pid_t r = waitpid(t->pid, &status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		return status;
	}
}

/* The facts every state change needs: its memory, registers and blocked mask as they are now. */
static int take_over(struct infect *t, pid_t pid)
{
	t->pid = pid;
	t->code_addr = 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	t->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	int err = 0;
	if (t->mem_fd < 0)
		err = -errno;
	else if (ptrace(PTRACE_GETREGS, pid, 0, &t->regs) < 0)
		err = -errno;
	else if (ptrace(PTRACE_GETSIGMASK, pid, sizeof t->sigmask, &t->sigmask) < 0)
		err = -errno;
	if (err) {
		if (t->mem_fd >= 0)
			close(t->mem_fd);
		t->mem_fd = -1;
		t->pid = 0;
		return err;
	}
	t->state = INFECT_HELD;
	return 0;
}

int infect_seize(struct infect *t, pid_t pid)
{
	memset(t, 0, sizeof *t);
	t->mem_fd = -1;
	t->job_stopped = task_in_job_stop(pid);

	/*
	 * SEIZE does not stop the task (unlike ATTACH it sends no SIGSTOP that could reach the program).
	 * TRACESYSGOOD tells syscall stops (SIGTRAP|0x80) from traps, for infect_syscall().
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0, BASE_OPTIONS) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) {
		int err = -errno;
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return err;
	}
	/*
	 * The first stop is PTRACE_EVENT_STOP (interrupt or group-stop). A signal that
	 * was being delivered at that moment may show up first as a signal-delivery-stop:
	 * pass it on to the program, as if we were not there, and wait again.
	 */
	t->pid = pid;
	for (;;) {
		int status = wait_stop(t);
		if (status < 0)
			return status;
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP)
			break;
		if (WIFSTOPPED(status)) {
			ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status));
			ptrace(PTRACE_INTERRUPT, pid, 0, 0);
		}
	}
	int err = take_over(t, pid);
	if (err)
		ptrace(PTRACE_DETACH, pid, 0, 0);
	return err;
}

int infect_adopt(struct infect *t, pid_t pid)
{
	memset(t, 0, sizeof *t);
	t->mem_fd = -1;
	return take_over(t, pid);
}

int infect_read(struct infect *t, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(t->mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int infect_write(struct infect *t, uint64_t addr, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(t->mem_fd, (const char *)buf + done, len - done, (off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/*
 * A relative sleep the stop interrupted: the kernel wrote the time it had left into
 * the caller's rem (nanosleep_copyout), and would have slept just that much more. Enter
 * it again with rem as the request: it sleeps the rest, not its whole time again. Only
 * the request pointer changes (a register the wrapper passed in, not the caller's
 * memory). Without a rem pointer (usleep) the time left is nowhere to be read: the
 * whole time again. An absolute sleep is entered again as it was: its deadline stands.
 */
static void sleep_for_the_rest(struct user_regs_struct *r)
{
	if (r->orig_rax == SYS_nanosleep && r->rsi)
		r->rdi = r->rsi;
	else if (r->orig_rax == SYS_clock_nanosleep && !(r->rsi & TIMER_ABSTIME) && r->r10)
		r->rdx = r->r10;
}

enum infect_restart infect_restart_regs(const struct user_regs_struct *seized, struct user_regs_struct *out)
{
	*out = *seized;
	enum infect_restart restart = INFECT_RESTART_NONE;
	long nr = (long)out->orig_rax, ret = (long)out->rax;
	if (nr >= 0 && (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND)) {
		out->rax = (unsigned long long)nr;
		out->rip -= 2;
		restart = INFECT_RESTART_REWOUND;
	} else if (nr >= 0 && ret == -ERESTART_RESTARTBLOCK) {
		if (nr == SYS_restart_syscall) {
			out->rax = (unsigned long long)-EINTR;
		} else {
			out->rax = (unsigned long long)nr;
			out->rip -= 2;
			sleep_for_the_rest(out);
		}
		restart = INFECT_RESTART_BLOCK;
	}
	/* The restart is resolved: whoever loads these registers is not inside a syscall. */
	out->orig_rax = (unsigned long long)-1;
	return restart;
}

/* ---- the guard: a signal frame that puts the task back if we die (infect_guard) ---- */

static const uint8_t SYSCALL_RET[] = { 0x0f, 0x05, 0xc3 };
static const uint8_t RESTORE_RT[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

/* Look for both sequences in the task's memory [start, end); fill what is still 0 in sites. */
static void scan_for_sites(int mem_fd, uint64_t start, uint64_t end, struct infect_guard_sites *sites)
{
	enum { CHUNK = 256 << 10,
	       OVERLAP = sizeof RESTORE_RT - 1 };
	static uint8_t buf[CHUNK + OVERLAP];
	for (uint64_t at = start; at < end && !(sites->syscall_ret && sites->restore_rt); at += CHUNK) {
		size_t want = end - at < CHUNK + OVERLAP ? (size_t)(end - at) : CHUNK + OVERLAP;
		ssize_t n = pread(mem_fd, buf, want, (off_t)at);
		if (n <= 0)
			return;
		const uint8_t *hit;
		if (!sites->syscall_ret && (hit = memmem(buf, (size_t)n, SYSCALL_RET, sizeof SYSCALL_RET)))
			sites->syscall_ret = at + (uint64_t)(hit - buf);
		if (!sites->restore_rt && (hit = memmem(buf, (size_t)n, RESTORE_RT, sizeof RESTORE_RT)))
			sites->restore_rt = at + (uint64_t)(hit - buf);
	}
}

/* A no-op handler, only installed for a moment to learn where glibc's __restore_rt is. */
static void ignore_signal(int sig)
{
	(void)sig;
}

/*
 * The sites in our own glibc: __restore_rt is what its sigaction() gives the kernel as
 * the restorer (read back with the raw syscall); `syscall; ret` ends its wrappers of
 * syscalls that cannot fail, such as getuid().
 */
static void own_sites(struct infect_guard_sites *own)
{
	memset(own, 0, sizeof *own);
	struct kernel_sigaction {
		uint64_t handler, flags, restorer, mask;
	} k;
	struct sigaction probe = { .sa_handler = ignore_signal }, old;
	/* SIGURG: ignored by default, and blocked while we work; our handler is back at once. */
	if (sigaction(SIGURG, &probe, &old) == 0) {
		if (syscall(SYS_rt_sigaction, SIGURG, NULL, &k, 8) == 0 && (k.flags & 0x04000000 /* SA_RESTORER */))
			own->restore_rt = k.restorer;
		sigaction(SIGURG, &old, NULL);
	}
	uid_t (*const wrappers[])(void) = { getuid, geteuid, getgid, getegid };
	for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0] && !own->syscall_ret; i++) {
		const uint8_t *code = (const uint8_t *)(uintptr_t)wrappers[i];
		const uint8_t *hit = memmem(code, 16, SYSCALL_RET, sizeof SYSCALL_RET);
		if (hit)
			own->syscall_ret = (uint64_t)(uintptr_t)hit;
	}
}

/* Where addr of `from`'s mapping of a file is in `to`'s mapping of the same file, or 0. */
static uint64_t same_file_address(const struct procfs_maps *from, const struct procfs_maps *to, uint64_t addr)
{
	for (size_t i = 0; i < from->count; i++) {
		const struct procfs_vma *f = &from->vmas[i];
		if (addr < f->start || addr >= f->end || !f->ino)
			continue;
		uint64_t off = f->pgoff + (addr - f->start);
		for (size_t k = 0; k < to->count; k++) {
			const struct procfs_vma *t = &to->vmas[k];
			if (t->ino == f->ino && t->dev_major == f->dev_major && t->dev_minor == f->dev_minor &&
			    (t->prot & PROT_EXEC) && off >= t->pgoff && off < t->pgoff + (t->end - t->start))
				return t->start + (off - t->pgoff);
		}
	}
	return 0;
}

static bool has_bytes(int mem_fd, uint64_t addr, const uint8_t *bytes, size_t len)
{
	uint8_t buf[16];
	return addr && len <= sizeof buf && pread(mem_fd, buf, len, (off_t)addr) == (ssize_t)len && !memcmp(buf, bytes, len);
}

/*
 * A task that maps the same libc file as we do has both sites at the same offsets of
 * that file as ours: no scan of its code (which cost a small freeze 1.5-4 ms). The bytes
 * are checked in the task.
 */
static bool sites_like_ours(const struct procfs_maps *maps, int mem_fd, struct infect_guard_sites *sites)
{
	struct infect_guard_sites own;
	own_sites(&own);
	struct procfs_maps self;
	if (!own.syscall_ret || !own.restore_rt || procfs_maps_read(getpid(), &self))
		return false;
	struct infect_guard_sites found = {
		.syscall_ret = same_file_address(&self, maps, own.syscall_ret),
		.restore_rt = same_file_address(&self, maps, own.restore_rt),
	};
	procfs_maps_free(&self);
	if (!has_bytes(mem_fd, found.syscall_ret, SYSCALL_RET, sizeof SYSCALL_RET) ||
	    !has_bytes(mem_fd, found.restore_rt, RESTORE_RT, sizeof RESTORE_RT))
		return false;
	*sites = found;
	return true;
}

int infect_find_guard_sites(pid_t pid, struct infect_guard_sites *sites)
{
	memset(sites, 0, sizeof *sites);
	struct procfs_maps maps;
	if (procfs_maps_read(pid, &maps))
		return -ENOENT;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (mem_fd >= 0 && sites_like_ours(&maps, mem_fd, sites)) {
		close(mem_fd);
		procfs_maps_free(&maps);
		return 0;
	}
	/* glibc's code first: __restore_rt is there, and `syscall; ret` in its wrappers. */
	for (int pass = 0; pass < 2 && mem_fd >= 0; pass++)
		for (size_t i = 0; i < maps.count; i++) {
			const struct procfs_vma *v = &maps.vmas[i];
			bool libc = strstr(v->path, "/libc.so") != NULL;
			if ((v->prot & PROT_EXEC) && (v->prot & PROT_READ) && v->path[0] == '/' && libc == (pass == 0))
				scan_for_sites(mem_fd, v->start, v->end, sites);
		}
	if (mem_fd >= 0)
		close(mem_fd);
	procfs_maps_free(&maps);
	return sites->syscall_ret && sites->restore_rt ? 0 : -ENOENT;
}

/* The kernel's 64-bit signal frame (arch/x86/include/asm/sigframe.h, uapi sigcontext.h, ucontext.h). */
struct kernel_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct kernel_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags;
		int32_t pad;
		uint64_t ss_size;
	} uc_stack;
	struct kernel_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_frame {
	uint64_t pretcode; /* where the handler's `ret` goes: __restore_rt */
	struct kernel_ucontext uc;
	uint8_t info[128];
};

_Static_assert(sizeof(struct kernel_sigcontext) == 256, "sigcontext layout");
_Static_assert(offsetof(struct kernel_sigcontext, fpstate) == 184, "sigcontext.fpstate");
_Static_assert(offsetof(struct kernel_ucontext, uc_mcontext) == 40, "ucontext.uc_mcontext");
_Static_assert(offsetof(struct kernel_ucontext, uc_sigmask) == 296, "ucontext.uc_sigmask");

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
/* struct _fpx_sw_bytes lives in the FXSAVE area's software-reserved bytes. */
#define SW_BYTES_AT 464
#define XCR0_AT 464 /* where ptrace's XSAVE dump keeps XCR0 instead */
#define RED_ZONE 128
#define XSTATE_MAX (64u << 10)

int infect_guard(struct infect *t, const struct infect_guard_sites *sites)
{
	if (t->state != INFECT_HELD || !sites->syscall_ret || !sites->restore_rt)
		return -EINVAL;
	uint8_t *xstate = calloc(1, XSTATE_MAX);
	if (!xstate)
		return -ENOMEM;
	struct iovec iov = { xstate, XSTATE_MAX };
	if (ptrace(PTRACE_GETREGSET, t->pid, NT_X86_XSTATE, &iov) < 0 || iov.iov_len < 576) {
		free(xstate);
		return -EIO;
	}
	size_t xsize = iov.iov_len;
	/* As the kernel lays a frame out: the XSAVE area 64-byte aligned under the red zone, the frame under it. */
	uint64_t top = t->regs.rsp - RED_ZONE;
	uint64_t fpstate = (top - (xsize + 4)) & ~(uint64_t)63;
	uint64_t frame = ((fpstate - sizeof(struct rt_frame)) & ~(uint64_t)15) - 8;
	size_t len = (size_t)(top - frame);
	uint8_t *area = calloc(1, len);
	if (!area) {
		free(xstate);
		return -ENOMEM;
	}
	struct user_regs_struct r;
	infect_restart_regs(&t->regs, &r);
	struct rt_frame f = { .pretcode = sites->restore_rt };
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/* An invalid alternate stack: the kernel then keeps the one the task has. */
	f.uc.uc_stack.ss_flags = 3;
	f.uc.uc_mcontext = (struct kernel_sigcontext){
		.r8 = r.r8,
		.r9 = r.r9,
		.r10 = r.r10,
		.r11 = r.r11,
		.r12 = r.r12,
		.r13 = r.r13,
		.r14 = r.r14,
		.r15 = r.r15,
		.rdi = r.rdi,
		.rsi = r.rsi,
		.rbp = r.rbp,
		.rbx = r.rbx,
		.rdx = r.rdx,
		.rax = r.rax,
		.rcx = r.rcx,
		.rsp = r.rsp,
		.rip = r.rip,
		.eflags = r.eflags,
		.cs = (uint16_t)r.cs,
		.ss = (uint16_t)r.ss,
		.fpstate = fpstate,
	};
	f.uc.uc_sigmask = t->sigmask;
	memcpy(area, &f, sizeof f);
	/* Without both magics the kernel restores the FXSAVE part only, and the AVX state is lost. */
	uint64_t xcr0;
	memcpy(&xcr0, xstate + XCR0_AT, sizeof xcr0);
	struct _fpx_sw_bytes sw = { .magic1 = FP_XSTATE_MAGIC1, .extended_size = (uint32_t)xsize + 4, .xstate_bv = xcr0, .xstate_size = (uint32_t)xsize };
	memcpy(xstate + SW_BYTES_AT, &sw, sizeof sw);
	memcpy(area + (fpstate - frame), xstate, xsize);
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	memcpy(area + (fpstate - frame) + xsize, &magic2, sizeof magic2);
	/* What the frame covers is free stack, yet it is the task's: kept, and put back once we are done. */
	uint8_t *saved = malloc(len);
	int err = saved ? infect_read(t, frame, saved, len) : -ENOMEM;
	if (!err)
		err = infect_write(t, frame, area, len);
	free(area);
	free(xstate);
	if (err) {
		free(saved);
		return err; /* its stack is not mapped that far down */
	}
	t->guard_frame = frame;
	t->guard_syscall_ret = sites->syscall_ret;
	t->guard_saved = saved;
	t->guard_len = len;
	return 0;
}

/* The stack as it was under the guard's frame; injection is unguarded from here. */
static int unguard(struct infect *t)
{
	if (!t->guard_frame)
		return 0;
	int err = infect_write(t, t->guard_frame, t->guard_saved, t->guard_len);
	free(t->guard_saved);
	t->guard_saved = NULL;
	t->guard_frame = 0;
	return err;
}

void infect_use_syscall_insn(struct infect *t, uint64_t addr)
{
	t->code_addr = addr;
}

int infect_syscall(struct infect *t, long nr, const long args[6], long *result)
{
	if ((!t->code_addr && !t->guard_frame) || (t->state != INFECT_HELD && t->state != INFECT_INJECTING))
		return -EINVAL;
	if (t->state == INFECT_HELD) {
		/* Every signal blocked: one arriving now stays pending for the program. */
		uint64_t all = ~0ULL;
		if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof all, &all) < 0)
			return -errno;
		t->state = INFECT_INJECTING;
	}

	struct user_regs_struct r = t->regs;
	r.rip = t->code_addr;
	if (t->guard_frame) {
		/* From the `ret` after the syscall, only rt_sigreturn through the guard's frame. */
		r.rip = t->guard_syscall_ret;
		r.rsp = t->guard_frame;
	}
	r.rax = (unsigned long long)nr;
	r.rdi = (unsigned long long)args[0];
	r.rsi = (unsigned long long)args[1];
	r.rdx = (unsigned long long)args[2];
	r.r10 = (unsigned long long)args[3];
	r.r8 = (unsigned long long)args[4];
	r.r9 = (unsigned long long)args[5];
	/* orig_rax = -1: the kernel must not treat the stop we left as a syscall to restart. */
	r.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &r) < 0)
		return -errno;

	/* Done at the second syscall stop (entry, then exit). */
	for (int syscall_stops = 0; syscall_stops < 2;) {
		if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0) < 0)
			return -errno;
		int status = wait_stop(t);
		if (status < 0)
			return status;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			syscall_stops++;
		else if ((status >> 16) == PTRACE_EVENT_STOP)
			t->job_stopped = true; /* a SIGSTOP from someone: the program stops once we let go */
		else if (WSTOPSIG(status) != SIGTRAP)
			return -EINTR; /* an unblockable signal */
	}
	struct user_regs_struct after;
	if (ptrace(PTRACE_GETREGS, t->pid, 0, &after) < 0)
		return -errno;
	*result = (long)after.rax;
	return 0;
}

int infect_hold(struct infect *t)
{
	if (t->state != INFECT_INJECTING)
		return unguard(t);
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &t->regs) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->pid, sizeof t->sigmask, &t->sigmask) < 0)
		return -errno;
	t->state = INFECT_HELD;
	/* Its own registers first: with the frame gone, our death must find nothing to return through. */
	return unguard(t);
}

static void forget(struct infect *t)
{
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
	t->pid = 0;
	t->state = INFECT_DETACHED;
}

int infect_resume(struct infect *t)
{
	int err = infect_hold(t);
	/*
	 * A job-control-stopped task stays stopped after detach: the kernel re-enters the
	 * group stop. Detaching also sets TIF_SIGPENDING, so a syscall we interrupted
	 * (rax = -ERESTART*, as put back) is restarted on the way out.
	 */
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0) < 0 && !err)
		err = -errno;
	forget(t);
	return err;
}

int infect_release(struct infect *t)
{
	if (t->state == INFECT_DETACHED)
		return 0;
	if (t->state == INFECT_ENDING) {
		infect_exit_finish(t);
		return 0;
	}
	return infect_resume(t);
}

int infect_arm_exitkill(struct infect *t)
{
	return ptrace(PTRACE_SETOPTIONS, t->pid, 0, BASE_OPTIONS | PTRACE_O_EXITKILL) < 0 ? -errno : 0;
}

int infect_exit_begin(struct infect *t, int status)
{
	if (!t->code_addr || (t->state != INFECT_HELD && t->state != INFECT_INJECTING))
		return -EINVAL;
	struct user_regs_struct r = t->regs;
	r.rip = t->code_addr;
	r.rax = SYS_exit_group;
	r.rdi = (unsigned long long)status;
	r.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &r) < 0)
		return -errno;
	/* TRACEEXIT: stop as do_exit begins. EXITKILL: it is ending anyway, whatever happens to us. */
	if (ptrace(PTRACE_SETOPTIONS, t->pid, 0, BASE_OPTIONS | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXIT) < 0 ||
	    ptrace(PTRACE_CONT, t->pid, 0, 0) < 0) {
		int err = -errno;
		ptrace(PTRACE_SETREGS, t->pid, 0, &t->regs);
		return err;
	}
	t->state = INFECT_ENDING;
	for (;;) {
		int wstatus;
		if (waitpid(t->pid, &wstatus, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(wstatus) || WIFSIGNALED(wstatus))
			break;
		if ((wstatus >> 8) == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			return 0;
		ptrace(PTRACE_CONT, t->pid, 0, 0);
	}
	/* Already gone (killed meanwhile): nothing is left to finish. */
	forget(t);
	return 0;
}

void infect_exit_finish(struct infect *t)
{
	if (t->state != INFECT_ENDING)
		return;
	ptrace(PTRACE_DETACH, t->pid, 0, 0);
	forget(t);
}
