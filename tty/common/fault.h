/*
 * Fault points for the tests that kill the native programs at chosen moments
 * (test/faults.test.ts): with CKPTY_FAULT_STOP=NAME in the environment, the program
 * stops itself (SIGSTOP, which nothing blocks) when it reaches the point NAME, so the
 * test can SIGKILL it exactly there. Without the variable this costs one getenv.
 */
#ifndef CKPTY_FAULT_H
#define CKPTY_FAULT_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void fault_point(const char *name)
{
	const char *wanted = getenv("CKPTY_FAULT_STOP");
	if (wanted && !strcmp(wanted, name))
		raise(SIGSTOP);
}

#endif
