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

/* Wait for the next ptrace stop of t; returns the wait status or -errno. */
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

int infect_seize(struct infect *t, pid_t pid)
{
	memset(t, 0, sizeof *t);
	t->pid = pid;
	t->mem_fd = -1;
	t->group_stopped = task_in_job_stop(pid);

	/*
	 * SEIZE does not stop the task (unlike ATTACH it sends no SIGSTOP that could reach the program).
	 * TRACESYSGOOD tells syscall stops (SIGTRAP|0x80) from traps, for infect_use_syscall_insn().
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) < 0)
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

	bool group_stopped = t->group_stopped;
	int err = infect_adopt(t, pid);
	if (err)
		ptrace(PTRACE_DETACH, pid, 0, 0);
	t->group_stopped = group_stopped;
	return err;
}

int infect_adopt(struct infect *t, pid_t pid)
{
	memset(t, 0, sizeof *t);
	t->pid = pid;
	int err = 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	t->mem_fd = open(path, O_RDWR | O_CLOEXEC);
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
	}
	return err;
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

int infect_set_code(struct infect *t, uint64_t addr, bool patch)
{
	int err = infect_restore_code(t);
	if (err)
		return err;
	t->code_addr = addr;
	t->syscall_stops = false;
	if (!patch)
		return 0;
	uint64_t word;
	if ((err = infect_read(t, addr, &word, sizeof word)))
		return err;
	uint64_t patched = word;
	memcpy(&patched, "\x0f\x05\xcc", INFECT_CODE_BYTES);
	if ((err = infect_write(t, addr, &patched, sizeof patched)))
		return err;
	t->saved_code = word;
	t->code_patched = true;
	return 0;
}

int infect_use_syscall_insn(struct infect *t, uint64_t addr)
{
	int err = infect_restore_code(t);
	if (err)
		return err;
	t->code_addr = addr;
	t->syscall_stops = true;
	return 0;
}

int infect_restore_code(struct infect *t)
{
	if (!t->code_patched)
		return 0;
	int err = infect_write(t, t->code_addr, &t->saved_code, sizeof t->saved_code);
	if (!err)
		t->code_patched = false;
	return err;
}

int infect_syscall(struct infect *t, long nr, const long args[6], long *result)
{
	if (!t->code_addr)
		return -EINVAL;
	/* Run with every signal blocked: a signal arriving now stays pending for the program. */
	uint64_t all = ~0ULL;
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof all, &all) < 0)
		return -errno;

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

	/* Done at the int3 after the syscall, or at the second syscall stop (entry, then exit). */
	int syscall_stops = 0;
	for (;;) {
		if (ptrace(t->syscall_stops ? PTRACE_SYSCALL : PTRACE_CONT, t->pid, 0, 0) < 0)
			return -errno;
		int status = wait_stop(t);
		if (status < 0)
			return status;
		int sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			if (++syscall_stops == 2)
				break;
			continue;
		}
		if (sig == SIGTRAP && (status >> 16) == 0)
			break;
		/* A group-stop (SIGSTOP from someone) or an unblockable signal: note it and go on. */
		if ((status >> 16) == PTRACE_EVENT_STOP)
			t->group_stopped = true;
		else if (sig != SIGTRAP)
			return -EINTR;
	}
	struct user_regs_struct after;
	if (ptrace(PTRACE_GETREGS, t->pid, 0, &after) < 0)
		return -errno;
	*result = (long)after.rax;
	return 0;
}

static int put_back(struct infect *t)
{
	int err = infect_restore_code(t);
	if (!err && ptrace(PTRACE_SETREGS, t->pid, 0, &t->regs) < 0)
		err = -errno;
	if (!err && ptrace(PTRACE_SETSIGMASK, t->pid, sizeof t->sigmask, &t->sigmask) < 0)
		err = -errno;
	return err;
}

static int detach(struct infect *t, int err)
{
	/* A job-control-stopped task stays stopped after detach: the kernel re-enters the group stop. */
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0) < 0 && !err)
		err = -errno;
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
	t->pid = 0;
	return err;
}

int infect_resume(struct infect *t)
{
	return detach(t, put_back(t));
}

int infect_release(struct infect *t)
{
	if (!t->pid)
		return 0;
	return detach(t, put_back(t));
}

int infect_exit(struct infect *t, int status)
{
	long args[6] = { status, 0, 0, 0, 0, 0 };
	struct user_regs_struct r = t->regs;
	r.rip = t->code_addr;
	r.rax = SYS_exit_group;
	r.rdi = (unsigned long long)args[0];
	r.orig_rax = (unsigned long long)-1;
	if (!t->code_addr || ptrace(PTRACE_SETREGS, t->pid, 0, &r) < 0)
		return -EINVAL;
	/*
	 * The exit stop comes as do_exit begins, before the kernel frees the memory (a tenth
	 * of a second for a GiB): from there the end is certain, and we need not wait it out.
	 */
	if (ptrace(PTRACE_SETOPTIONS, t->pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT) < 0 ||
	    ptrace(PTRACE_CONT, t->pid, 0, 0) < 0)
		return -errno;
	int wstatus;
	while (waitpid(t->pid, &wstatus, __WALL) >= 0 && !WIFEXITED(wstatus) && !WIFSIGNALED(wstatus)) {
		if (WIFSTOPPED(wstatus) && (wstatus >> 8) == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			ptrace(PTRACE_DETACH, t->pid, 0, 0);
			break;
		}
		if (WIFSTOPPED(wstatus))
			ptrace(PTRACE_CONT, t->pid, 0, 0);
	}
	close(t->mem_fd);
	t->mem_fd = -1;
	t->pid = 0;
	return 0;
}
