/*
 * image_load: read a ckpty image (image.h) into memory the thawer can trust.
 *
 * Only the headers and the notes are read; the PT_LOAD data stays in the file
 * (the thawer maps it or copies it straight from there). Every offset, size,
 * count and string reference is checked against the file, so later code may
 * index the tables without further bounds checks. Policy checks (owner, file
 * identities, compatibility) are not done here.
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

/* Size of one queued siginfo record in NT_CKPT_SIGNALS (the kernel's siginfo_t). */
#define CKPT_SIGINFO_SIZE 128

struct ckpt_image {
	uint64_t file_size;
	Elf64_Phdr *loads; /* PT_LOADs in address order, page-aligned, inside the file and the mappings */
	size_t nloads;

	struct user_regs_struct regs; /* NT_PRSTATUS pr_reg */
	uint8_t *fpregs; /* NT_FPREGSET (512 bytes) */
	uint8_t *xstate; /* NT_X86_XSTATE or NULL */
	size_t xstate_len;
	uint8_t *auxv; /* NT_AUXV */
	size_t auxv_len; /* entries of 16 bytes */

	struct ckpt_process *process;
	char *strings; /* NT_CKPT_STRINGS; ends with a NUL */
	size_t strings_len;
	struct ckpt_vma *vmas; /* sorted, page-aligned, non-overlapping */
	size_t nvmas;
	struct ckpt_file *files; /* files[0] is the executable */
	size_t nfiles;
	struct ckpt_fd *fds; /* sorted by fd, no duplicates */
	size_t nfds;
	struct ckpt_sigaction *sigactions; /* 64 entries */
	struct ckpt_signals *signals;
	uint8_t *queued; /* signals->nqueued records of CKPT_SIGINFO_SIZE bytes */
	struct ckpt_tty *tty; /* NULL when the program had no terminal */
	char *argv; /* raw /proc/PID/cmdline */
	size_t argv_len;
	uint8_t *screen; /* NT_CKPT_SCREEN or NULL */
	size_t screen_len;

	void *owned[16]; /* note copies, freed by image_free() */
	size_t nowned;
};

/*
 * Read and check the image in fd. 0 on success; otherwise -1 with e filled: class
 * CK_BAD_IMAGE and a message that starts with the kind of problem ("not a ckpty
 * image: ", "truncated image: ", "corrupt image: ", or an unsupported version), or
 * CK_IO when the file could not be read. img is empty (image_free done) on failure.
 */
int image_load(int fd, struct ckpt_image *img, struct ck_error *e);
void image_free(struct ckpt_image *img);

/* The string at offset s of NT_CKPT_STRINGS (checked by image_load()). */
const char *image_string(const struct ckpt_image *img, ckpt_str s);

/* The mapping that contains [start, start + len), or NULL. */
const struct ckpt_vma *image_vma_of(const struct ckpt_image *img, uint64_t start, uint64_t len);

#endif
