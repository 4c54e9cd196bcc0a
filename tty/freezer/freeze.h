/*
 * One freeze, from a request to its outcome: the pipeline of main.c's header, with
 * no output of its own, so that the command line and the resident freezer of a
 * session (--serve) share it.
 */
#ifndef CKPTY_FREEZE_H
#define CKPTY_FREEZE_H

#include "freezer.h"
#include "target.h"

struct freeze_request {
	struct job_spec job;
	struct job_rules rules;
	struct target_spec target;
	bool snapshot;
	int exit_status; /* what the frozen processes end with */
	bool screen_on_stdin; /* NT_CKPT_SCREEN comes on stdin, read once member 0's pages are written */
	bool has_shell_modes; /* the terminal is left in shell_modes as the job ends */
	struct ckpt_kernel_termios shell_modes;
};

struct frozen_member {
	pid_t pid;
	char comm[16];
	size_t threads;
	bool zombie;
};

struct freeze_outcome {
	char path[PATH_MAX + NAME_MAX + 2]; /* the image, absolute ("" before it had one) */
	uint64_t bytes, stored;
	size_t mappings, loads, processes, threads;
	bool was_stopped;
	struct frozen_member *members; /* the job, member 0 first */
	size_t nmembers;
	bool restored; /* after a failure: every task is as it was seized */
	uint64_t seized_ns; /* how long the job was held */
	uint64_t stage_ns[4]; /* capture, copy (write, waiting for the screen), sync (commit), end (or resume) */
	struct target target; /* its directory stays open for target_sweep, until freeze_outcome_free */
};

/* An outcome before freeze_run fills it in: nothing found yet, no directory open. */
void freeze_outcome_init(struct freeze_outcome *out);

/* Run the request; on failure e says why and out->restored whether the job is untouched. */
int freeze_run(struct freeze_request *r, struct freeze_outcome *out, struct ck_error *e);

/* Free the outcome and close the image's directory. */
void freeze_outcome_free(struct freeze_outcome *out);

uint64_t clock_ns(clockid_t clock);

#endif
