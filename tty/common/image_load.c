#include "image_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* Larger notes than this are not ckpty's (the biggest real one is the xstate, a few KiB). */
#define MAX_NOTES_SIZE (64u << 20)
#define MAX_AUXV_SIZE 4096

static int invalid(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int invalid(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static bool page_aligned(uint64_t v)
{
	return v % CKPT_PAGE_SIZE == 0;
}

/* A copy of a note's descriptor, naturally aligned and owned by img. */
static void *own_copy(struct ckpt_image *img, const void *desc, size_t len)
{
	if (img->nowned == sizeof img->owned / sizeof img->owned[0])
		return NULL;
	void *copy = malloc(len ? len : 1);
	if (copy) {
		memcpy(copy, desc, len);
		img->owned[img->nowned++] = copy;
	}
	return copy;
}

struct note {
	const char *owner;
	uint32_t type;
	const uint8_t *desc;
	size_t len;
};

/* Keep the descriptor of a note we use; each may appear at most once. */
static int take_note(struct ckpt_image *img, const struct note *n, char *why, size_t ws)
{
	bool core = !strcmp(n->owner, "CORE") || !strcmp(n->owner, "LINUX");
	bool ours = !strcmp(n->owner, CKPT_NOTE_OWNER);
	void **slot = NULL;
	size_t *len_slot = NULL;
	size_t exact = 0, unit = 1;
	if (core && n->type == NT_PRSTATUS) {
		if (n->len != sizeof(struct elf_prstatus))
			return invalid(why, ws, "NT_PRSTATUS has %zu bytes, not %zu", n->len, sizeof(struct elf_prstatus));
		struct elf_prstatus ps;
		memcpy(&ps, n->desc, sizeof ps);
		_Static_assert(sizeof ps.pr_reg == sizeof img->regs, "elf_gregset_t is user_regs_struct");
		if (img->has_regs)
			return invalid(why, ws, "NT_PRSTATUS appears twice (more than one thread)");
		memcpy(&img->regs, &ps.pr_reg, sizeof img->regs);
		img->has_regs = true;
		return 0;
	}
	if (core && n->type == NT_FPREGSET) {
		slot = (void **)&img->fpregs;
		exact = 512;
	} else if (core && n->type == NT_X86_XSTATE) {
		/* An XSAVE area: the legacy region and the header at least; the kernel checks the rest. */
		if (n->len < 576)
			return invalid(why, ws, "NT_X86_XSTATE is too short (%zu bytes)", n->len);
		slot = (void **)&img->xstate;
		len_slot = &img->xstate_len;
	} else if (core && n->type == NT_AUXV) {
		if (n->len > MAX_AUXV_SIZE)
			return invalid(why, ws, "NT_AUXV is too large (%zu bytes)", n->len);
		slot = (void **)&img->auxv;
		len_slot = &img->auxv_len;
		unit = 16;
	} else if (ours) {
		switch (n->type) {
		case NT_CKPT_PROCESS:
			slot = (void **)&img->process;
			exact = sizeof(struct ckpt_process);
			break;
		case NT_CKPT_STRINGS:
			slot = (void **)&img->strings;
			len_slot = &img->strings_len;
			break;
		case NT_CKPT_VMAS:
			slot = (void **)&img->vmas;
			len_slot = &img->nvmas;
			unit = sizeof(struct ckpt_vma);
			break;
		case NT_CKPT_FILES:
			slot = (void **)&img->files;
			len_slot = &img->nfiles;
			unit = sizeof(struct ckpt_file);
			break;
		case NT_CKPT_FDS:
			slot = (void **)&img->fds;
			len_slot = &img->nfds;
			unit = sizeof(struct ckpt_fd);
			break;
		case NT_CKPT_SIGACTIONS:
			slot = (void **)&img->sigactions;
			exact = 64 * sizeof(struct ckpt_sigaction);
			break;
		case NT_CKPT_SIGNALS:
			slot = (void **)&img->signals;
			if (n->len < sizeof(struct ckpt_signals))
				return invalid(why, ws, "NT_CKPT_SIGNALS is too short");
			break;
		case NT_CKPT_TTY:
			slot = (void **)&img->tty;
			exact = sizeof(struct ckpt_tty);
			break;
		case NT_CKPT_ARGV:
			slot = (void **)&img->argv;
			len_slot = &img->argv_len;
			break;
		default:
			return 0; /* a note of a later minor revision: not needed to thaw */
		}
	}
	if (!slot)
		return 0; /* NT_PRPSINFO, NT_SIGINFO, NT_FILE: for gdb, not for us */
	if (*slot)
		return invalid(why, ws, "note %s/0x%x appears twice", n->owner, n->type);
	if (exact && n->len != exact)
		return invalid(why, ws, "note %s/0x%x has %zu bytes, not %zu", n->owner, n->type, n->len, exact);
	if (n->len % unit)
		return invalid(why, ws, "note %s/0x%x has %zu bytes, not a multiple of %zu", n->owner, n->type, n->len, unit);
	if (!(*slot = own_copy(img, n->desc, n->len)))
		return -ENOMEM;
	if (len_slot)
		*len_slot = n->len / unit;
	if (n->type == NT_CKPT_SIGNALS && ours) {
		const struct ckpt_signals *s = *slot;
		if (n->len != sizeof *s + (size_t)s->nqueued * CKPT_SIGINFO_SIZE)
			return invalid(why, ws, "NT_CKPT_SIGNALS holds %zu bytes for %u queued signals", n->len, s->nqueued);
		img->queued = (uint8_t *)*slot + sizeof *s;
	}
	return 0;
}

static int parse_notes(struct ckpt_image *img, const uint8_t *p, size_t size, char *why, size_t ws)
{
	size_t off = 0;
	while (off < size) {
		Elf64_Nhdr nh;
		if (size - off < sizeof nh)
			return invalid(why, ws, "a note header is cut off at byte %zu of the notes", off);
		memcpy(&nh, p + off, sizeof nh);
		size_t name_at = off + sizeof nh;
		size_t name_len = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		size_t desc_len = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (name_len > size - name_at || desc_len > size - name_at - name_len)
			return invalid(why, ws, "a note runs past the end of the notes (byte %zu)", off);
		const char *owner = (const char *)p + name_at;
		if (nh.n_namesz == 0 || owner[nh.n_namesz - 1] != 0)
			return invalid(why, ws, "a note's owner name is not terminated (byte %zu)", off);
		struct note n = { owner, nh.n_type, p + name_at + name_len, nh.n_descsz };
		int err = take_note(img, &n, why, ws);
		if (err)
			return err;
		off = name_at + name_len + desc_len;
	}
	return 0;
}

static bool string_ok(const struct ckpt_image *img, ckpt_str s)
{
	return s < img->strings_len;
}

/* Everything the thawer later relies on without checking again. */
static int check_tables(struct ckpt_image *img, char *why, size_t ws)
{
	static const char *const required[] = { "NT_PRSTATUS", "NT_AUXV", "NT_CKPT_PROCESS", "NT_CKPT_STRINGS",
						"NT_CKPT_VMAS", "NT_CKPT_FILES", "NT_CKPT_FDS", "NT_CKPT_SIGACTIONS",
						"NT_CKPT_SIGNALS" };
	const void *present[] = { img->has_regs ? img : NULL, img->auxv, img->process, img->strings, img->vmas,
				  img->files, img->fds, img->sigactions, img->signals };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!present[i])
			return invalid(why, ws, "the image has no %s note", required[i]);
	if (img->process->version != CKPT_FORMAT_VERSION)
		return invalid(why, ws, "image format version %u is not supported (this thawer reads version %d)",
			       img->process->version, CKPT_FORMAT_VERSION);
	if (img->strings_len == 0 || img->strings[img->strings_len - 1] != 0)
		return invalid(why, ws, "the string table is not terminated");
	if (img->nfiles == 0)
		return invalid(why, ws, "the file table has no executable");
	const struct ckpt_process *p = img->process;
	if (!string_ok(img, p->exe) || !string_ok(img, p->cwd) || !string_ok(img, p->kernel_release))
		return invalid(why, ws, "a process string is out of range");
	if (p->rseq_addr && p->rseq_len < 32)
		return invalid(why, ws, "the rseq area has %u bytes", p->rseq_len);
	for (size_t i = 0; i < img->nfiles; i++)
		if (!string_ok(img, img->files[i].path))
			return invalid(why, ws, "file %zu has a path out of range", i);
	for (size_t i = 0; i < img->nfds; i++) {
		const struct ckpt_fd *f = &img->fds[i];
		if (f->fd < 0 || (i && f->fd <= img->fds[i - 1].fd))
			return invalid(why, ws, "the descriptor table is not sorted (fd %d)", f->fd);
		if (f->kind > CKPT_FD_CHR || !string_ok(img, f->path))
			return invalid(why, ws, "descriptor %d is malformed", f->fd);
	}
	if (img->tty && !string_ok(img, img->tty->path))
		return invalid(why, ws, "the terminal path is out of range");
	for (size_t i = 0; i < img->nvmas; i++) {
		const struct ckpt_vma *v = &img->vmas[i];
		if (v->start >= v->end || !page_aligned(v->start) || !page_aligned(v->end) || !page_aligned(v->pgoff))
			return invalid(why, ws, "mapping %zu (0x%llx-0x%llx) is malformed", i, (unsigned long long)v->start,
				       (unsigned long long)v->end);
		if (i && v->start < img->vmas[i - 1].end)
			return invalid(why, ws, "mappings overlap at 0x%llx", (unsigned long long)v->start);
		if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC) || v->kind > CKPT_VMA_IMAGE)
			return invalid(why, ws, "mapping 0x%llx has unknown protection or kind", (unsigned long long)v->start);
		bool needs_file = v->kind == CKPT_VMA_FILE || v->kind == CKPT_VMA_IMAGE;
		if (needs_file ? (v->file < 0 || (size_t)v->file >= img->nfiles) : v->file != -1)
			return invalid(why, ws, "mapping 0x%llx refers to file %d of %zu", (unsigned long long)v->start,
				       v->file, img->nfiles);
	}
	for (size_t i = 0; i < img->nloads; i++) {
		const Elf64_Phdr *l = &img->loads[i];
		if (!image_vma_of(img, l->p_vaddr, l->p_filesz))
			return invalid(why, ws, "stored pages at 0x%llx lie outside every mapping",
				       (unsigned long long)l->p_vaddr);
	}
	return 0;
}

int image_load(int fd, struct ckpt_image *img, char *why, size_t ws)
{
	memset(img, 0, sizeof *img);
	why[0] = 0;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return invalid(why, ws, "not a regular file");
	img->file_size = (uint64_t)st.st_size;

	Elf64_Ehdr eh;
	if (img->file_size < sizeof eh)
		return invalid(why, ws, "too short for an ELF header (%llu bytes)", (unsigned long long)img->file_size);
	int err = read_at(fd, &eh, sizeof eh, 0);
	if (err)
		return err;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return invalid(why, ws, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_CORE)
		return invalid(why, ws, "not a 64-bit little-endian ELF core file");
	if (eh.e_machine != EM_X86_64)
		return invalid(why, ws, "made for another architecture (ELF machine %u)", eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phoff > img->file_size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > img->file_size - eh.e_phoff)
		return invalid(why, ws, "the program header table is truncated or malformed");

	Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof *ph);
	if (!ph)
		return -ENOMEM;
	img->owned[img->nowned++] = ph;
	if ((err = read_at(fd, ph, eh.e_phnum * sizeof *ph, eh.e_phoff)))
		return err;

	const Elf64_Phdr *note = NULL;
	img->loads = ph + 1;
	if (ph[0].p_type != PT_NOTE)
		return invalid(why, ws, "the first program header is not PT_NOTE");
	note = &ph[0];
	for (size_t i = 1; i < eh.e_phnum; i++) {
		const Elf64_Phdr *l = &ph[i];
		if (l->p_type != PT_LOAD)
			return invalid(why, ws, "program header %zu is not PT_LOAD", i);
		if (!page_aligned(l->p_offset) || !page_aligned(l->p_vaddr) || !page_aligned(l->p_filesz) ||
		    l->p_filesz == 0 || l->p_filesz > l->p_memsz)
			return invalid(why, ws, "stored pages at 0x%llx are not page-aligned", (unsigned long long)l->p_vaddr);
		if (l->p_offset > img->file_size || l->p_filesz > img->file_size - l->p_offset)
			return invalid(why, ws, "the image is truncated: stored pages at 0x%llx end past its %llu bytes",
				       (unsigned long long)l->p_vaddr, (unsigned long long)img->file_size);
		img->nloads++;
	}
	if (note->p_offset > img->file_size || note->p_filesz > img->file_size - note->p_offset)
		return invalid(why, ws, "the image is truncated inside its notes");
	if (note->p_filesz > MAX_NOTES_SIZE)
		return invalid(why, ws, "the notes are too large (%llu bytes)", (unsigned long long)note->p_filesz);
	uint8_t *notes = malloc(note->p_filesz ? note->p_filesz : 1);
	if (!notes)
		return -ENOMEM;
	err = read_at(fd, notes, note->p_filesz, note->p_offset);
	if (!err)
		err = parse_notes(img, notes, note->p_filesz, why, ws);
	free(notes);
	if (err)
		return err;
	return check_tables(img, why, ws);
}

void image_free(struct ckpt_image *img)
{
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	memset(img, 0, sizeof *img);
}

const char *image_string(const struct ckpt_image *img, ckpt_str s)
{
	return img->strings + s;
}

const struct ckpt_vma *image_vma_of(const struct ckpt_image *img, uint64_t start, uint64_t len)
{
	size_t lo = 0, hi = img->nvmas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img->vmas[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < img->nvmas && img->vmas[lo].start <= start && len <= img->vmas[lo].end - start)
		return &img->vmas[lo];
	return NULL;
}
