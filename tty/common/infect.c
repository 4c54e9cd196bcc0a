#include "infect.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif

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

void infect_use_syscall_insn(struct infect *t, uint64_t addr)
{
	t->code_addr = addr;
}

int infect_syscall(struct infect *t, long nr, const long args[6], long *result)
{
	if (!t->code_addr || (t->state != INFECT_HELD && t->state != INFECT_INJECTING))
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
		return 0;
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &t->regs) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->pid, sizeof t->sigmask, &t->sigmask) < 0)
		return -errno;
	t->state = INFECT_HELD;
	return 0;
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
	if (!t->code_addr || t->state != INFECT_HELD)
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
