/* Capture of the process state other than memory: registers, signals, ids, limits, fds, terminal. */
#include "fault.h"
#include "freezer.h"
#include "procfs.h"

#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

static int capture_registers(struct infect *t, struct capture *c, struct ck_error *e)
{
	/* The registers the thaw loads: a syscall the freeze interrupted is entered again. */
	c->seized_regs = t->regs;
	c->restart = infect_restart_regs(&c->seized_regs, &c->regs);

	struct iovec iov = { c->fpregs, sizeof c->fpregs };
	if (ptrace(PTRACE_GETREGSET, t->pid, NT_PRFPREG, &iov) < 0)
		return ck_fail(e, ck_class_of_errno(errno), errno, "registers", "", "cannot read the FPU registers");
	/* The XSAVE area's size depends on the CPU; the kernel shortens iov_len to it. */
	size_t room = 64 * 1024;
	if (buf_append(&c->xstate, NULL, room))
		return ck_fail(e, CK_INTERNAL, ENOMEM, "registers", "", "out of memory");
	iov = (struct iovec){ c->xstate.data, room };
	if (ptrace(PTRACE_GETREGSET, t->pid, NT_X86_XSTATE, &iov) < 0)
		return ck_fail(e, ck_class_of_errno(errno), errno, "registers", "", "cannot read the XSAVE state");
	c->xstate.len = xstate_used_size(c->xstate.data, iov.iov_len);

	/* NT_SIGINFO: the stop's signal; our PTRACE_INTERRUPT shows as SIGTRAP, report it as a SIGSTOP. */
	memset(&c->stop_info, 0, sizeof c->stop_info);
	if (ptrace(PTRACE_GETSIGINFO, t->pid, 0, &c->stop_info) < 0 || c->stop_info.si_signo == SIGTRAP) {
		memset(&c->stop_info, 0, sizeof c->stop_info);
		c->stop_info.si_signo = SIGSTOP;
		c->stop_info.si_code = SI_USER;
		c->stop_info.si_pid = getpid();
		c->stop_info.si_uid = getuid();
	}

	struct rseq_configuration rseq = { 0 };
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION_, t->pid, sizeof rseq, &rseq) > 0) {
		c->rseq_addr = rseq.rseq_abi_pointer;
		c->rseq_len = rseq.rseq_abi_size;
		c->rseq_sig = rseq.signature;
	}
	return 0;
}

/* Append the queued siginfos of one queue (private or shared) to out. */
static int peek_siginfo(pid_t pid, uint32_t flags, struct buf *out, uint32_t *count)
{
	for (uint64_t off = 0;;) {
		siginfo_t batch[16];
		struct peeksiginfo_args args = { off, flags, 16 };
		long n = ptrace(PTRACE_PEEKSIGINFO, pid, &args, batch);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (buf_append(out, batch, (size_t)n * sizeof batch[0]))
			return -ENOMEM;
		off += (uint64_t)n;
		*count += (uint32_t)n;
	}
}

static int capture_signals(struct infect *t, struct capture *c, const char *status, struct ck_error *e)
{
	c->signals.blocked = t->sigmask;
	const char *v;
	if ((v = procfs_field(status, "SigPnd")))
		c->signals.pending = strtoull(v, NULL, 16);
	if ((v = procfs_field(status, "ShdPnd")))
		c->signals.shared_pending = strtoull(v, NULL, 16);
	uint32_t count = 0;
	int err = peek_siginfo(t->pid, 0, &c->queued, &count);
	if (!err)
		err = peek_siginfo(t->pid, PTRACE_PEEKSIGINFO_SHARED, &c->queued, &count);
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "signals", "", "cannot read the pending signals");
	c->signals.nqueued = count;
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

/*
 * Sigactions and brk, read by syscalls run inside the task; the scratch page is gone
 * before maps are read. Only the signals that have a handler (SigCgt) need asking, and
 * SIGCHLD, whose SA_NOCLDSTOP/SA_NOCLDWAIT matter even with SIG_DFL; the others are
 * SIG_IGN (SigIgn) or SIG_DFL, and their flags and masks change nothing.
 */
static int capture_by_injection(struct infect *t, struct capture *c, const char *status, struct ck_error *e)
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

	uint64_t insn;
	if (find_syscall_insn(t, &c->auxv, &insn))
		return ck_fail(e, CK_UNSUPPORTED, ENOENT, "inject", "", "found no syscall instruction in the process (no vdso?)");
	infect_use_syscall_insn(t, insn);
	/* Guarded where the process has glibc's code for it: our death then leaves it as it was (infect.h). */
	struct infect_guard_sites sites;
	if (!infect_find_guard_sites(t->pid, &sites))
		infect_guard(t, &sites);
	int err = 0;
	long scratch = 0, ret;
	long mmap_args[6] = { 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
	if (!err)
		err = infect_syscall(t, SYS_mmap, mmap_args, &scratch);
	if (!err && (unsigned long)scratch > -4096UL)
		err = (int)scratch;
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "inject", "", "cannot run a syscall in the process");

	fault_point("injecting");
	for (int sig = 1; sig <= 64 && !err; sig++) {
		if (!(caught & (1ull << (sig - 1))))
			continue;
		long args[6] = { sig, 0, scratch + (sig - 1) * (long)sizeof(struct ckpt_sigaction), 8, 0, 0 };
		err = infect_syscall(t, SYS_rt_sigaction, args, &ret);
		if (!err && ret < 0)
			err = (int)ret;
	}
	for (int sig = 1; sig <= 64 && !err; sig++)
		if (caught & (1ull << (sig - 1)))
			err = infect_read(t, (uint64_t)scratch + (uint64_t)(sig - 1) * sizeof(struct ckpt_sigaction),
					  &c->sigactions[sig - 1], sizeof(struct ckpt_sigaction));
	long brk_args[6] = { 0 };
	long brk = 0;
	if (!err)
		err = infect_syscall(t, SYS_brk, brk_args, &brk);
	long munmap_args[6] = { scratch, 4096, 0, 0, 0, 0 };
	int unmap_err = infect_syscall(t, SYS_munmap, munmap_args, &ret);
	if (!err && !unmap_err && ret < 0)
		unmap_err = (int)ret;
	/* Its own registers and mask back at once: from here our death leaves it as it was. */
	int hold_err = infect_hold(t);
	if (err || unmap_err || hold_err) {
		err = err ? err : unmap_err ? unmap_err : hold_err;
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

static int capture_identity(struct infect *t, struct capture *c, char **status, struct ck_error *e)
{
	pid_t pid = t->pid;
	struct procfs_stat st;
	int err = procfs_stat_read(pid, &st);
	if (!err)
		err = procfs_read(pid, "status", status, NULL);
	if (err)
		return ck_fail(e, ck_class_of_errno(-err), -err, "proc", "", "cannot read /proc/%d", (int)pid);
	/* The caller checked the thread count before seizing; a thread created since then is refused here. */
	if (st.num_threads != 1)
		return ck_fail(e, CK_UNSUPPORTED, 0, "threads", "", "the process has %d threads", st.num_threads);

	memcpy(c->comm, st.comm, sizeof c->comm);
	c->state = st.state;
	c->ppid = st.ppid;
	c->pgid = st.pgrp;
	c->sid = st.session;
	c->tpgid = st.tpgid;
	c->mm = (struct ckpt_mm){
		.start_code = st.start_code, .end_code = st.end_code,
		.start_data = st.start_data, .end_data = st.end_data,
		.start_brk = st.start_brk, .start_stack = st.start_stack,
		.arg_start = st.arg_start, .arg_end = st.arg_end,
		.env_start = st.env_start, .env_end = st.env_end,
	};
	const char *v;
	if ((v = procfs_field(*status, "Uid")))
		c->uid = (uint32_t)strtoul(v, NULL, 10);
	if ((v = procfs_field(*status, "Gid")))
		c->gid = (uint32_t)strtoul(v, NULL, 10);
	if ((v = procfs_field(*status, "Umask")))
		c->umask = (uint32_t)strtoul(v, NULL, 8);
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

/* A dup of the task's fd (pidfd_getfd): reopening /proc/PID/fd/N would give /dev/tty as *our* terminal. */
static int grab_fd(pid_t pid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	int err = dup < 0 ? -errno : 0;
	close(pidfd);
	return dup < 0 ? err : dup;
}

static bool is_terminal_device(dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);
	/* pts slaves 136-143, virtual consoles and serial lines 4, /dev/tty and /dev/console (5:0, 5:1). */
	return (maj >= 136 && maj <= 143) || maj == 4 || (maj == 5 && min <= 1);
}

static const char *describe_unsupported(mode_t mode, const char *link)
{
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISFIFO(mode))
		return "pipe";
	if (S_ISBLK(mode))
		return "block device";
	if (S_ISCHR(mode))
		return "character device";
	if (!strncmp(link, "anon_inode:", 11))
		return link + 11;
	if (!strncmp(link, "/memfd:", 7))
		return "memfd";
	return "deleted file";
}

static int capture_terminal(struct capture *c, int fd, const char *path)
{
	int dup = grab_fd(c->pid, fd);
	if (dup < 0)
		return dup;
	struct winsize ws = { 0 };
	int err = 0;
	if (ioctl(dup, TCGETS, &c->tty.termios) < 0 || ioctl(dup, TIOCGWINSZ, &ws) < 0)
		err = -errno;
	close(dup);
	if (err)
		return err;
	c->has_tty = true;
	c->tty.fd = fd;
	c->tty.rows = ws.ws_row;
	c->tty.cols = ws.ws_col;
	c->tty.xpixel = ws.ws_xpixel;
	c->tty.ypixel = ws.ws_ypixel;
	c->tty.path = capture_string(c, path);
	return 0;
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

static int compare_ints(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int capture_fds(struct capture *c, struct ck_error *e)
{
	char dirpath[64];
	snprintf(dirpath, sizeof dirpath, "/proc/%d/fd", (int)c->pid);
	DIR *dir = opendir(dirpath);
	if (!dir)
		return ck_fail(e, ck_class_of_errno(errno), errno, "fds", "", "cannot list the open files");
	struct buf numbers = { 0 };
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		int n = atoi(de->d_name);
		if (buf_append(&numbers, &n, sizeof n))
			break;
	}
	closedir(dir);
	size_t count = numbers.len / sizeof(int);
	int *fdnums = (int *)numbers.data;
	if (count)
		qsort(fdnums, count, sizeof(int), compare_ints);

	char refused[512] = "";
	size_t refused_len = 0;
	int ret = 0;
	for (size_t i = 0; i < count && !ret; i++) {
		int fd = fdnums[i];
		char name[64], link[PATH_MAX];
		snprintf(name, sizeof name, "fd/%d", fd);
		if (procfs_readlink(c->pid, name, link, sizeof link))
			continue; /* closed meanwhile (cannot happen while seized, unless shared with another process) */
		struct stat st;
		char fdpath[96];
		snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", (int)c->pid, fd);
		if (stat(fdpath, &st) < 0) {
			ret = ck_fail(e, ck_class_of_errno(errno), errno, "fds", "", "cannot inspect fd %d", fd);
			break;
		}
		struct ckpt_fd rec = { .fd = fd, .dev = st.st_dev, .ino = st.st_ino, .rdev = (uint32_t)st.st_rdev };
		bool ok = true;
		size_t link_len = strlen(link);
		bool deleted = link_len > 10 && !strcmp(link + link_len - 10, " (deleted)");
		if (S_ISREG(st.st_mode) && link[0] == '/' && !deleted)
			rec.kind = CKPT_FD_REG;
		else if (S_ISDIR(st.st_mode) && link[0] == '/' && !deleted)
			rec.kind = CKPT_FD_DIR;
		else if (S_ISCHR(st.st_mode) && is_terminal_device(st.st_rdev))
			rec.kind = CKPT_FD_TTY;
		else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1)
			rec.kind = CKPT_FD_CHR; /* the memory devices: null, zero, full, random, urandom */
		else
			ok = false;
		if (!ok) {
			refused_len += (size_t)snprintf(refused + refused_len, refused_len < sizeof refused ? sizeof refused - refused_len : 0,
							"%s%d (%s)", refused_len ? ", " : "", fd,
							describe_unsupported(st.st_mode, link));
			continue;
		}
		char *info;
		snprintf(name, sizeof name, "fdinfo/%d", fd);
		if (!procfs_read(c->pid, name, &info, NULL)) {
			const char *v;
			if ((v = procfs_field(info, "pos")))
				rec.pos = strtoull(v, NULL, 10);
			if ((v = procfs_field(info, "flags"))) {
				uint32_t flags = (uint32_t)strtoul(v, NULL, 8);
				rec.cloexec = (flags & O_CLOEXEC) != 0;
				rec.flags = flags & ~(uint32_t)O_CLOEXEC;
			}
			free(info);
		}
		rec.path = capture_string(c, link);
		if (rec.kind == CKPT_FD_TTY && !c->has_tty) {
			int err = capture_terminal(c, fd, link);
			if (err)
				ret = ck_fail(e, ck_class_of_errno(-err), -err, "fds", "", "cannot read the terminal modes of fd %d", fd);
		}
		if (!ret && buf_append(&c->fds, &rec, sizeof rec))
			ret = ck_fail(e, CK_INTERNAL, ENOMEM, "fds", "", "out of memory");
	}
	buf_free(&numbers);
	if (!ret && refused_len)
		ret = ck_fail(e, CK_UNSUPPORTED, 0, "fds", "", "open files the thaw cannot rebuild: %s", refused);
	return ret;
}

int capture_state(struct infect *t, struct capture *c, struct ck_error *e)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	c->freeze_time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	c->pid = t->pid;
	if (t->job_stopped)
		c->flags |= CKPT_PROC_WAS_STOPPED;
	char *status = NULL;
	int ret = capture_identity(t, c, &status, e);
	if (!ret)
		ret = capture_registers(t, c, e);
	if (!ret)
		ret = capture_signals(t, c, status, e);
	if (!ret)
		ret = capture_fds(c, e);
	if (!ret)
		ret = capture_by_injection(t, c, status, e);
	free(status);
	return ret;
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

void capture_free(struct capture *c)
{
	struct buf *bufs[] = { &c->xstate, &c->queued, &c->auxv, &c->cmdline, &c->strings,
			       &c->vmas, &c->files, &c->fds, &c->runs, &c->screen };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		buf_free(bufs[i]);
}
