/*
 * image_load: read a ckpty job image (image.h, version 2) into memory the thawer can
 * trust.
 *
 * Only the headers and the notes are read; the PT_LOAD data and the job's data area
 * stay in the file (the thawer maps them or copies them straight from there). Every
 * offset, size, count, index and string reference is checked against the file and
 * the tables, so later code may index the tables without further bounds checks.
 * Policy checks (owner, file identities, compatibility) are not done here. A table
 * the image leaves out (timers, objects, open files, watches: docs/image-format.md says
 * which may be) is NULL with a count of 0.
 *
 * The rules are docs/image-format.md's "What a reader accepts", the same ones
 * src/image/reader.ts applies: test/image-readers-agree.test.ts feeds both the same
 * mutated images and holds them to the same verdict and kind of problem.
 */
#ifndef CKPTY_IMAGE_LOAD_H
#define CKPTY_IMAGE_LOAD_H

#include <elf.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "error.h"
#include "image.h"

/* One thread of a member: its registers and the rest of its state. */
struct ckpt_thread_image {
	struct user_regs_struct regs; /* its NT_PRSTATUS pr_reg */
	const uint8_t *fpregs; /* its NT_FPREGSET (512 bytes) */
	const uint8_t *xstate; /* its NT_X86_XSTATE, or NULL */
	size_t xstate_len;
	const struct ckpt_thread *state; /* its NT_CKPT_THREADS entry */
};

/* One live member: a process, from its own core. */
struct ckpt_process_image {
	int member; /* its index in the job's members */
	uint64_t base; /* where its core starts in the file: add to its PT_LOADs' p_offset */
	const Elf64_Phdr *loads; /* in address order, page-aligned, each inside one mapping and inside the file */
	size_t nloads;

	const struct ckpt_process *process;
	struct ckpt_thread_image *threads; /* process->nthreads, the first is the thread-group leader */
	const uint8_t *auxv; /* NT_AUXV */
	size_t auxv_len; /* entries of 16 bytes */
	const char *strings; /* its NT_CKPT_STRINGS; ends with a NUL */
	size_t strings_len;
	const struct ckpt_vma *vmas; /* sorted, page-aligned, non-overlapping */
	size_t nvmas;
	const struct ckpt_file *files; /* files[0] is the executable */
	size_t nfiles;
	const struct ckpt_fd *fds; /* sorted by fd, no repeats; each ofile index valid */
	size_t nfds;
	const struct ckpt_sigaction *sigactions; /* 64 entries */
	const struct ckpt_signals *signals;
	const struct ckpt_queued *queued; /* signals->nqueued, each tid 0 or one of its threads' */
	const struct ckpt_timer *timers;
	size_t ntimers;
	const struct ckpt_tty *tty; /* NULL when it had no terminal */
	const char *argv; /* raw /proc/PID/cmdline */
	size_t argv_len;
};

struct ckpt_image {
	uint64_t file_size;
	const struct ckpt_job *job;
	const struct ckpt_member *members; /* job->nmembers; parents form a forest (no cycles) */
	struct ckpt_process_image *processes; /* one per live member, in member order */
	size_t nprocesses;
	/* The job-wide tables (member 0's notes); their strings are in processes[0]'s table. */
	const struct ckpt_object *objects; /* data ranges inside the data area */
	size_t nobjects;
	const struct ckpt_ofile *ofiles; /* object indexes valid, of the kind the ofile needs */
	size_t nofiles;
	const struct ckpt_watch *watches; /* owners are EPOLL or INOTIFY ofiles; epoll targets valid */
	size_t nwatches;
	const uint8_t *screen; /* NT_CKPT_SCREEN, or NULL */
	size_t screen_len;

	void **owned; /* allocations image_free() releases */
	size_t nowned, owned_cap;
};

/*
 * Read and check the job image in fd. 0 on success; otherwise -1 with e filled:
 * class CK_BAD_IMAGE and a message that starts with the kind of problem ("not a
 * ckpty image: ", "truncated image: ", "corrupt image: ", or an unsupported version),
 * or CK_IO when the file could not be read. img is empty (image_free done) on failure.
 */
int image_load(int fd, struct ckpt_image *img, struct ck_error *e);
void image_free(struct ckpt_image *img);

/* The string at offset s of a process's NT_CKPT_STRINGS (checked by image_load()). */
const char *image_string(const struct ckpt_process_image *p, ckpt_str s);

/* A job-wide table's string (member 0's table). */
const char *image_job_string(const struct ckpt_image *img, ckpt_str s);

/* The mapping of p that contains [start, start + len), or NULL. */
const struct ckpt_vma *image_vma_of(const struct ckpt_process_image *p, uint64_t start, uint64_t len);

/* The live member with this member index, or NULL (a zombie, or out of range). */
const struct ckpt_process_image *image_process_of(const struct ckpt_image *img, int member);

#endif
