/*
 * load-images: run the native image loader (common/image_load.c) over many files in
 * one process, for tests that hold it to the same verdicts as the TypeScript reader
 * and run it under AddressSanitizer and UndefinedBehaviorSanitizer.
 *
 *   load-images < paths        one path per line
 *
 * Prints one line per path: "bad CLASS MESSAGE" (class as error.h), or "ok" and what
 * was loaded, in the words of test/image-readers-agree.test.ts's digest():
 *   ok members=N processes=N objects=N ofiles=N watches=N screen=N|- [MEMBER:threads/vmas/loads/fds/queued/timers/tty]…
 */
#include "image_load.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_digest(const struct ckpt_image *img)
{
	printf("ok members=%u processes=%zu objects=%zu ofiles=%zu watches=%zu screen=", img->job->nmembers,
	       img->nprocesses, img->nobjects, img->nofiles, img->nwatches);
	if (img->screen)
		printf("%zu", img->screen_len);
	else
		printf("-");
	for (size_t k = 0; k < img->nprocesses; k++) {
		const struct ckpt_process_image *p = &img->processes[k];
		printf(" %d:%u/%zu/%zu/%zu/%u/%zu/%d", p->member, p->process->nthreads, p->nvmas, p->nloads, p->nfds,
		       p->signals->nqueued, p->ntimers, p->tty != NULL);
	}
	printf("\n");
}

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
			print_digest(&img);
			image_free(&img);
		}
		if (fd >= 0)
			close(fd);
		fflush(stdout);
	}
	return 0;
}
