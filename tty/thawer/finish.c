/* The terminal as the job left it, the screen painted again, and letting the job go. */
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The terminal the job had: the first member's that had one (a pipeline's share it). */
static const struct ckpt_tty *job_terminal(const struct thaw *t)
{
	for (size_t i = 0; i < t->img.nprocesses; i++)
		if (t->img.processes[i].tty)
			return t->img.processes[i].tty;
	return NULL;
}

/*
 * The terminal as the job left it (raw mode comes back raw), set before we print and
 * the job runs, so that every key typed from then on meets the job's modes. Not for a
 * job that was stopped (^Z) when frozen: the modes then were the shell's, and the
 * SIGCONT thaw_release() sends lets the program set up its own again, as after `fg`.
 */
int thaw_set_terminal(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_tty *tty = job_terminal(t);
	bool was_stopped = t->img.processes[0].process->flags & CKPT_PROC_WAS_STOPPED;
	if (!tty || t->term_fd < 0 || was_stopped || ioctl(t->term_fd, TCGETS, &t->saved_modes) < 0)
		return 0;
	if (ioctl(t->term_fd, TCSETSW, &tty->termios) < 0)
		return ck_fail(e, CK_IO, errno, "terminal", "", "cannot set the terminal modes");
	t->modes_set = true;
	return 0;
}

void thaw_repaint(const struct thaw *t)
{
	const struct ckpt_image *img = &t->img;
	if (!img->screen || t->term_fd < 0)
		return;
	for (size_t done = 0; done < img->screen_len;) {
		ssize_t n = write(t->term_fd, img->screen + done, img->screen_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a screen that cannot be painted is no reason to keep the program from running */
		done += (size_t)n;
	}
}

void thaw_restore_terminal(struct thaw *t)
{
	if (t->modes_set)
		ioctl(t->term_fd, TCSETSW, &t->saved_modes);
	t->modes_set = false;
}

bool thaw_in_foreground(const struct thaw *t)
{
	return t->term_fd >= 0 && tcgetpgrp(t->term_fd) == getpgrp();
}

/*
 * A program repaints for a terminal of another size when told (SIGWINCH); with its
 * screen repainted for it (NT_CKPT_SCREEN) and the size unchanged it needs no telling.
 */
static bool needs_winch(const struct thaw *t)
{
	const struct ckpt_tty *tty = job_terminal(t);
	struct winsize ws;
	if (!tty)
		return false;
	if (!t->img.screen || t->term_fd < 0 || ioctl(t->term_fd, TIOCGWINSZ, &ws) < 0)
		return true;
	return ws.ws_row != tty->rows || ws.ws_col != tty->cols;
}

/*
 * A program frozen in a syscall (a read of the terminal) re-enters it once resumed.
 * A signal sent before it is back in would run its handler first and the syscall after,
 * as if it had come just before the read: a program that checks a "resized" flag only
 * when its read returns (nano) then takes the next key for the resize and drops it.
 * Wait (briefly) until each such member sleeps in its syscall again, so that the
 * signal interrupts it.
 */
static void await_syscalls(const struct thaw *t)
{
	struct timespec pause = { 0, 100 * 1000 };
	for (size_t i = 0; i < t->img.job->nmembers; i++) {
		const struct member_thaw *m = &t->members[i];
		if (!m->image || m->image->threads[0].state->syscall_restart == CKPT_RESTART_NONE)
			continue;
		struct procfs_stat st;
		for (int tries = 0; tries < 1000; tries++) {
			if (procfs_stat_read(m->pid, &st) < 0 || st.state == 'S' || st.state == 'D')
				break;
			nanosleep(&pause, NULL);
		}
	}
}

int thaw_release(struct thaw *t, bool foreground, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	bool own_group = t->ids != IDS_NEW;
	/* The job's own process group takes the terminal from us, if we have it to give. */
	if (own_group && foreground) {
		signal(SIGTTOU, SIG_IGN);
		if (tcsetpgrp(t->term_fd, img->job->pgid) < 0)
			return ck_fail(e, CK_INTERNAL, errno, "terminal", "", "cannot give the terminal to the job");
	}
	for (size_t i = 0; i < img->job->nmembers; i++) {
		struct member_thaw *m = &t->members[i];
		for (size_t k = 0; k < m->nthreads; k++) {
			int err = infect_resume(&m->threads[k]);
			if (err)
				return ck_fail(e, CK_INTERNAL, -err, "resume", "", "cannot start the job");
		}
	}
	pid_t job = own_group ? -img->job->pgid : t->members[0].pid;
	if (needs_winch(t)) {
		await_syscalls(t);
		kill(job, SIGWINCH);
	}
	if (img->processes[0].process->flags & CKPT_PROC_WAS_STOPPED)
		kill(job, SIGCONT);
	return 0;
}
