/*
 * The wording native messages share with the TypeScript ones (src/base/format.ts):
 * sizes, durations and process names. test/native-contract.test.ts checks that both
 * give the same text for the same numbers.
 */
#ifndef CKPTY_WORDS_H
#define CKPTY_WORDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "1.4 MiB", "120 KiB", "512 B" */
void words_bytes(char *out, size_t size, uint64_t bytes);

/* "9.4 ms", "120 ms": a tenth of a millisecond only where it matters. */
void words_ms(char *out, size_t size, double ms);

/* "bc[4242]" */
void words_process(char *out, size_t size, pid_t pid, const char *comm);

/*
 * A job: "bc[4242]" when it is one process (pid and names[0]); else its processes'
 * names, each once, at most four, and how many live: "man|less (3 processes)".
 */
void words_job(char *out, size_t size, pid_t pid, const char *const *names, size_t n, size_t processes);

#endif
