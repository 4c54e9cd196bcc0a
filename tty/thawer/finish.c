/* Terminal modes, letting the program go, and supervising it afterwards. */
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The terminal as the program left it (raw mode comes back raw), set before the
 * caller prints and the program runs, so that every key typed from then on meets
 * the program's modes. Not for a job that was stopped (^Z) when frozen: the modes
 * then were the shell's, and the SIGCONT thaw_release() sends lets the program set
 * up its own again, as after `fg`.
 */
int thaw_set_terminal(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	bool was_stopped = img->process->flags & CKPT_PROC_WAS_STOPPED;
	if (!img->tty || t->term_fd < 0 || was_stopped || ioctl(t->term_fd, TCGETS, &t->saved_modes) < 0)
		return 0;
	if (ioctl(t->term_fd, TCSETSW, &img->tty->termios) < 0)
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

/*
 * A program repaints for a terminal of another size when told (SIGWINCH); with its
 * screen repainted for it (NT_CKPT_SCREEN) and the size unchanged it needs no telling.
 */
static bool needs_winch(const struct thaw *t)
{
	const struct ckpt_image *img = &t->img;
	struct winsize ws;
	if (!img->tty)
		return false;
	if (!img->screen || t->term_fd < 0 || ioctl(t->term_fd, TIOCGWINSZ, &ws) < 0)
		return true;
	return ws.ws_row != img->tty->rows || ws.ws_col != img->tty->cols;
}

/*
 * A program frozen in a syscall (a read of the terminal) re-enters it once resumed.
 * A signal sent before it is back in would run its handler first and the syscall after,
 * as if it had come just before the read: a program that checks a "resized" flag only
 * when its read returns (nano) then takes the next key for the resize and drops it.
 * Wait (briefly) until it sleeps in the syscall again, so that the signal interrupts it.
 */
static void await_syscall(pid_t pid, const struct ckpt_image *img)
{
	if (img->process->syscall_restart == CKPT_RESTART_NONE)
		return;
	struct timespec pause = { 0, 100 * 1000 };
	struct procfs_stat st;
	for (int tries = 0; tries < 1000; tries++) {
		if (procfs_stat_read(pid, &st) < 0 || st.state == 'S' || st.state == 'D')
			return;
		nanosleep(&pause, NULL);
	}
}

int thaw_release(struct thaw *t, struct infect *tr, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	pid_t pid = tr->pid;
	int err = infect_resume(tr);
	if (err)
		return ck_fail(e, CK_INTERNAL, -err, "resume", "", "cannot start the program");
	if (needs_winch(t)) {
		await_syscall(pid, img);
		kill(pid, SIGWINCH);
	}
	if (img->process->flags & CKPT_PROC_WAS_STOPPED)
		kill(pid, SIGCONT);
	return 0;
}

/* End the way the program ended: same exit status, or the same signal (without a core of ours). */
static void end_like(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	int sig = WTERMSIG(status);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Signals whose default is to be ignored cannot end us: say it the shell's way. */
	exit(128 + sig);
}

/* Still in a job-control stop (not continued meanwhile)? */
static bool still_stopped(pid_t pid)
{
	struct procfs_stat st;
	return procfs_stat_read(pid, &st) == 0 && st.state == 'T';
}

int thaw_supervise(pid_t pid)
{
	for (;;) {
		int status;
		if (waitpid(pid, &status, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			end_like(status);
		/*
		 * The program stopped by itself (e.g. kill(getpid(), SIGTSTP)) rather than with
		 * its whole job from the terminal: stop the job, so the shell sees it stop and
		 * its `fg` (SIGCONT to the group) continues the program too.
		 */
		if (WIFSTOPPED(status) && still_stopped(pid))
			kill(0, WSTOPSIG(status));
	}
}
