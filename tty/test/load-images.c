/*
 * load-images: run the native image loader (common/image_load.c) over many files in
 * one process, for tests that hold it to the same verdicts as the TypeScript reader
 * and run it under AddressSanitizer and UndefinedBehaviorSanitizer.
 *
 *   load-images < paths        one path per line
 *
 * Prints one line per path: "ok" or "bad CLASS MESSAGE" (class as error.h).
 */
#include "image_load.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char path[4096];
	while (fgets(path, sizeof path, stdin)) {
		path[strcspn(path, "\n")] = 0;
		struct ckpt_image img;
		struct ck_error e = { 0 };
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("bad %d cannot open\n", CK_IO);
		} else if (image_load(fd, &img, &e)) {
			printf("bad %d %s\n", e.cls, e.message);
		} else {
			printf("ok\n");
			image_free(&img);
		}
		if (fd >= 0)
			close(fd);
		fflush(stdout);
	}
	return 0;
}
