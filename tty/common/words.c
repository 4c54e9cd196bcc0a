#include "words.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * value with `digits` (0 or 1) decimals, rounded half up as src/base/format.ts does it
 * (Math.round): the same text from the same double in both languages, unlike printf's
 * and toFixed's rounding of ties.
 */
static void decimal(char *out, size_t size, double value, int digits, const char *unit)
{
	if (digits == 0) {
		snprintf(out, size, "%.0f%s", floor(value + 0.5), unit);
		return;
	}
	long long tenths = (long long)floor(value * 10 + 0.5);
	snprintf(out, size, "%lld.%lld%s", tenths / 10, tenths % 10, unit);
}

void words_bytes(char *out, size_t size, uint64_t bytes)
{
	static const char *const units[] = { " B", " KiB", " MiB", " GiB", " TiB" };
	double value = (double)bytes;
	size_t unit = 0;
	while (value >= 1024 && unit < sizeof units / sizeof units[0] - 1) {
		value /= 1024;
		unit++;
	}
	decimal(out, size, value, unit == 0 || value >= 10 ? 0 : 1, units[unit]);
}

void words_ms(char *out, size_t size, double ms)
{
	decimal(out, size, ms, ms < 10 ? 1 : 0, " ms");
}

void words_process(char *out, size_t size, pid_t pid, const char *comm)
{
	snprintf(out, size, "%s[%d]", comm, (int)pid);
}

void words_job(char *out, size_t size, pid_t pid, const char *const *names, size_t n, size_t processes)
{
	if (n <= 1) {
		words_process(out, size, pid, n ? names[0] : "?");
		return;
	}
	const char *unique[5];
	size_t count = 0;
	for (size_t i = 0; i < n && count < 5; i++) {
		bool seen = false;
		for (size_t k = 0; k < count; k++)
			seen = seen || !strcmp(unique[k], names[i]);
		if (!seen)
			unique[count++] = names[i];
	}
	size_t shown = count > 4 ? 3 : count;
	size_t used = 0;
	out[0] = 0;
	for (size_t k = 0; k < shown && used < size; k++) {
		int w = snprintf(out + used, size - used, "%s%s", k ? "|" : "", unique[k]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < size)
		snprintf(out + used, size - used, "%s (%zu process%s)", count > 4 ? "|…" : "", processes, processes == 1 ? "" : "es");
}
