/*
 * The native wording on request, for test/native-contract.test.ts: each line of stdin
 * is a request, each line of stdout its text.
 *   bytes N                      words_bytes
 *   ms X                         words_ms
 *   job PID PROCESSES NAME...    words_job
 */
#include "words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char line[4096], out[512];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *kind = strtok(line, " ");
		if (!kind)
			continue;
		if (!strcmp(kind, "bytes")) {
			words_bytes(out, sizeof out, strtoull(strtok(NULL, " "), NULL, 10));
		} else if (!strcmp(kind, "ms")) {
			words_ms(out, sizeof out, strtod(strtok(NULL, " "), NULL));
		} else if (!strcmp(kind, "job")) {
			pid_t pid = (pid_t)atoi(strtok(NULL, " "));
			size_t processes = strtoul(strtok(NULL, " "), NULL, 10);
			const char *names[64];
			size_t n = 0;
			for (char *name; n < 64 && (name = strtok(NULL, " "));)
				names[n++] = name;
			words_job(out, sizeof out, pid, names, n, processes);
		} else {
			snprintf(out, sizeof out, "unknown request %s", kind);
		}
		puts(out);
	}
	return 0;
}
