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

/* The kinds of problem, each a prefix of the message (src/image/errors.ts has the same). */
#define FOREIGN "not a ckpty image: "
#define TRUNCATED "truncated image: "
#define CORRUPT "corrupt image: "

struct loader {
	int fd;
	struct ckpt_image *img;
	struct ck_error *e;
};

static int bad(struct loader *l, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(struct loader *l, const char *kind, const char *fmt, ...)
{
	char reason[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return ck_fail(l->e, CK_BAD_IMAGE, 0, "load", "", "%s%s", kind, reason);
}

static int read_at(struct loader *l, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(l->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file shrank under us: what is missing reads as a truncated image. */
			if (n == 0)
				return bad(l, TRUNCATED, "the file ended at %llu while reading it", (unsigned long long)(off + done));
			return ck_fail(l->e, CK_IO, errno, "load", "", "cannot read the image");
		}
		done += (size_t)n;
	}
	return 0;
}

static bool page_aligned(uint64_t v)
{
	return v % CKPT_PAGE_SIZE == 0;
}

/* A copy of a note's descriptor, naturally aligned and owned by img. */
static void *own_copy(struct loader *l, const void *desc, size_t len)
{
	struct ckpt_image *img = l->img;
	void *copy = img->nowned < sizeof img->owned / sizeof img->owned[0] ? malloc(len ? len : 1) : NULL;
	if (!copy) {
		ck_fail(l->e, CK_INTERNAL, ENOMEM, "load", "", "out of memory");
		return NULL;
	}
	memcpy(copy, desc, len);
	img->owned[img->nowned++] = copy;
	return copy;
}

/* ---- the ELF header and the program headers ---- */

static int read_headers(struct loader *l, Elf64_Phdr **phdrs, size_t *count)
{
	uint64_t size = l->img->file_size;
	Elf64_Ehdr eh;
	if (size == 0)
		return bad(l, FOREIGN, "the file is empty");
	size_t head = size < sizeof eh ? (size_t)size : sizeof eh;
	memset(&eh, 0, sizeof eh);
	if (read_at(l, &eh, head, 0))
		return -1;
	for (size_t i = 0; i < SELFMAG && i < head; i++)
		if (eh.e_ident[i] != ELFMAG[i])
			return bad(l, FOREIGN, "not an ELF file");
	if (size < sizeof eh)
		return bad(l, TRUNCATED, "the ELF header needs %zu bytes but the file has %llu", sizeof eh,
			   (unsigned long long)size);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return bad(l, FOREIGN, "a 32-bit ELF file (ckpty images are ELF64)");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(l, FOREIGN, "a big-endian ELF file");
	if (eh.e_type != ET_CORE)
		return bad(l, FOREIGN, "an ELF file of type %u, not a core file", eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return bad(l, FOREIGN, "a core file for ELF machine %u, not x86_64", eh.e_machine);
	if (eh.e_phnum == PN_XNUM)
		return bad(l, CORRUPT, "e_phnum is PN_XNUM (a ckpty image has fewer than %u program headers)", PN_XNUM);
	if (eh.e_phnum == 0)
		return bad(l, FOREIGN, "a core file without program headers");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return bad(l, CORRUPT, "program headers of %u bytes (ELF64 has %zu)", eh.e_phentsize, sizeof(Elf64_Phdr));
	uint64_t table = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_phoff > size || table > size - eh.e_phoff)
		return bad(l, TRUNCATED, "program headers end at %llu but the file has %llu bytes",
			   (unsigned long long)(eh.e_phoff + table), (unsigned long long)size);
	Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof *ph);
	if (!ph || l->img->nowned == sizeof l->img->owned / sizeof l->img->owned[0]) {
		free(ph);
		return ck_fail(l->e, CK_INTERNAL, ENOMEM, "load", "", "out of memory");
	}
	l->img->owned[l->img->nowned++] = ph;
	if (read_at(l, ph, (size_t)table, eh.e_phoff))
		return -1;
	*phdrs = ph;
	*count = eh.e_phnum;
	return 0;
}

static int find_notes(struct loader *l, const Elf64_Phdr *ph, size_t count)
{
	size_t notes = 0;
	for (size_t i = 0; i < count; i++)
		notes += ph[i].p_type == PT_NOTE;
	if (notes == 0)
		return bad(l, FOREIGN, "a core file without a note segment");
	if (notes > 1)
		return bad(l, CORRUPT, "%zu PT_NOTE segments (expected one)", notes);
	if (ph[0].p_type != PT_NOTE)
		return bad(l, CORRUPT, "the first program header is not the PT_NOTE");
	if (ph[0].p_filesz > CKPT_MAX_NOTES_SIZE)
		return bad(l, CORRUPT, "a note segment of %llu bytes (a ckpty image has at most %u)",
			   (unsigned long long)ph[0].p_filesz, CKPT_MAX_NOTES_SIZE);
	if (ph[0].p_offset > l->img->file_size || ph[0].p_filesz > l->img->file_size - ph[0].p_offset)
		return bad(l, TRUNCATED, "the note segment ends at %llu but the file has %llu bytes",
			   (unsigned long long)(ph[0].p_offset + ph[0].p_filesz), (unsigned long long)l->img->file_size);
	return 0;
}

/* ---- the notes ---- */

/* The notes a reader uses, each at most once. */
enum known_note {
	N_PRSTATUS,
	N_FPREGSET,
	N_XSTATE,
	N_AUXV,
	N_PROCESS,
	N_STRINGS,
	N_VMAS,
	N_FILES,
	N_FDS,
	N_SIGACTIONS,
	N_SIGNALS,
	N_TTY,
	N_ARGV,
	N_SCREEN,
	N_KNOWN,
};

static const struct {
	bool ours; /* owner CKPTY; otherwise CORE or LINUX */
	uint32_t type;
	const char *name;
} known_notes[N_KNOWN] = {
	[N_PRSTATUS] = { false, NT_PRSTATUS, "NT_PRSTATUS" },
	[N_FPREGSET] = { false, NT_FPREGSET, "NT_FPREGSET" },
	[N_XSTATE] = { false, NT_X86_XSTATE, "NT_X86_XSTATE" },
	[N_AUXV] = { false, NT_AUXV, "NT_AUXV" },
	[N_PROCESS] = { true, NT_CKPT_PROCESS, "NT_CKPT_PROCESS" },
	[N_STRINGS] = { true, NT_CKPT_STRINGS, "NT_CKPT_STRINGS" },
	[N_VMAS] = { true, NT_CKPT_VMAS, "NT_CKPT_VMAS" },
	[N_FILES] = { true, NT_CKPT_FILES, "NT_CKPT_FILES" },
	[N_FDS] = { true, NT_CKPT_FDS, "NT_CKPT_FDS" },
	[N_SIGACTIONS] = { true, NT_CKPT_SIGACTIONS, "NT_CKPT_SIGACTIONS" },
	[N_SIGNALS] = { true, NT_CKPT_SIGNALS, "NT_CKPT_SIGNALS" },
	[N_TTY] = { true, NT_CKPT_TTY, "NT_CKPT_TTY" },
	[N_ARGV] = { true, NT_CKPT_ARGV, "NT_CKPT_ARGV" },
	[N_SCREEN] = { true, NT_CKPT_SCREEN, "NT_CKPT_SCREEN" },
};

struct raw_note {
	const uint8_t *desc; /* into the note segment; NULL when absent */
	size_t len;
};

/* Split the note segment; keep the notes we know, refuse unknown ckpty notes and repeats. */
static int collect_notes(struct loader *l, const uint8_t *p, size_t size, struct raw_note *raw)
{
	size_t off = 0, ours = 0;
	while (off < size) {
		Elf64_Nhdr nh;
		if (size - off < sizeof nh) {
			/* Writers may pad the segment; anything else is a note cut short. */
			for (size_t i = off; i < size; i++)
				if (p[i])
					return bad(l, CORRUPT, "a note header is cut off at byte %zu of the notes", off);
			break;
		}
		memcpy(&nh, p + off, sizeof nh);
		size_t name_at = off + sizeof nh;
		size_t name_len = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		size_t desc_len = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (name_len > size - name_at || nh.n_descsz > size - name_at - name_len)
			return bad(l, CORRUPT, "a note runs past the end of the note segment (byte %zu)", off);
		const char *owner = (const char *)p + name_at;
		if (nh.n_namesz == 0 || owner[nh.n_namesz - 1] != 0)
			return bad(l, CORRUPT, "a note's owner name is not terminated (byte %zu)", off);
		bool mine = !strcmp(owner, CKPT_NOTE_OWNER);
		bool standard = !strcmp(owner, "CORE") || !strcmp(owner, "LINUX");
		ours += mine;
		int which = -1;
		for (int k = 0; k < N_KNOWN && which < 0; k++)
			if (known_notes[k].type == nh.n_type && (known_notes[k].ours ? mine : standard))
				which = k;
		if (mine && which < 0)
			return bad(l, CORRUPT, "unknown ckpty note type 0x%x", nh.n_type);
		if (which >= 0) {
			if (raw[which].desc)
				return bad(l, CORRUPT, "note %s appears more than once", known_notes[which].name);
			raw[which] = (struct raw_note){ p + name_at + name_len, nh.n_descsz };
		}
		off = name_at + name_len + (desc_len < size - name_at - name_len ? desc_len : size - name_at - name_len);
	}
	if (!ours)
		return bad(l, FOREIGN, "no CKPTY notes (a core file from another tool?)");
	return 0;
}

/* Keep a copy of a required note whose size is exact, or a multiple of unit (exact 0). */
static int take(struct loader *l, const struct raw_note *raw, enum known_note which, void *slot, size_t exact,
		size_t unit, size_t *count)
{
	const char *name = known_notes[which].name;
	const struct raw_note *n = &raw[which];
	if (!n->desc)
		return bad(l, CORRUPT, "note %s is missing", name);
	if (exact && n->len != exact)
		return bad(l, CORRUPT, "note %s has size %zu, not %zu", name, n->len, exact);
	if (n->len % unit)
		return bad(l, CORRUPT, "note %s has size %zu, not a multiple of %zu", name, n->len, unit);
	void *copy = own_copy(l, n->desc, n->len);
	if (!copy)
		return -1;
	*(void **)slot = copy;
	if (count)
		*count = n->len / unit;
	return 0;
}

/* ---- decoding, in the order src/image/reader.ts decodes (the first problem found is the one named) ---- */

static bool string_ok(const struct ckpt_image *img, ckpt_str s)
{
	return s < img->strings_len;
}

static int check_process_version(struct loader *l, const struct raw_note *raw)
{
	const struct raw_note *n = &raw[N_PROCESS];
	if (!n->desc)
		return bad(l, CORRUPT, "note NT_CKPT_PROCESS is missing");
	if (n->len < 4)
		return bad(l, CORRUPT, "note NT_CKPT_PROCESS has size %zu, not %zu", n->len, sizeof(struct ckpt_process));
	uint32_t version;
	memcpy(&version, n->desc, 4);
	if (version != CKPT_FORMAT_VERSION)
		return ck_fail(l->e, CK_BAD_IMAGE, 0, "load", "", "unsupported image version %u (this ckpty reads version %d)",
			       version, CKPT_FORMAT_VERSION);
	return take(l, raw, N_PROCESS, &l->img->process, sizeof(struct ckpt_process), 1, NULL);
}

static int check_strings(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (take(l, raw, N_STRINGS, &img->strings, 0, 1, &img->strings_len))
		return -1;
	if (img->strings_len == 0 || img->strings[img->strings_len - 1] != 0)
		return bad(l, CORRUPT, "NT_CKPT_STRINGS does not end with a NUL");
	return 0;
}

static int check_files(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (take(l, raw, N_FILES, &img->files, 0, sizeof(struct ckpt_file), &img->nfiles))
		return -1;
	if (img->nfiles == 0)
		return bad(l, CORRUPT, "NT_CKPT_FILES is empty (the executable comes first)");
	for (size_t i = 0; i < img->nfiles; i++)
		if (!string_ok(img, img->files[i].path))
			return bad(l, CORRUPT, "string offset %u of NT_CKPT_FILES[%zu].path is outside NT_CKPT_STRINGS",
				   img->files[i].path, i);
	return 0;
}

static int check_vmas(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (take(l, raw, N_VMAS, &img->vmas, 0, sizeof(struct ckpt_vma), &img->nvmas))
		return -1;
	for (size_t i = 0; i < img->nvmas; i++) {
		const struct ckpt_vma *v = &img->vmas[i];
		unsigned long long start = v->start, end = v->end;
		if (!page_aligned(v->start) || !page_aligned(v->end) || !page_aligned(v->pgoff))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) is not page-aligned", i, start, end);
		if (v->start >= v->end)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) is empty or reversed", i, start, end);
		if (i && v->start < img->vmas[i - 1].end)
			return bad(l, CORRUPT, "VMAs %zu and %zu overlap or are out of order", i - 1, i);
		if (v->kind > CKPT_VMA_IMAGE)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has unknown kind %u", i, start, end, v->kind);
		if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has protection bits 0x%x", i, start, end, v->prot);
		if (v->flags & ~(uint32_t)(CKPT_VMA_SHARED | CKPT_VMA_GROWSDOWN))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has unknown flags 0x%x", i, start, end, v->flags);
		bool needs_file = v->kind == CKPT_VMA_FILE || v->kind == CKPT_VMA_IMAGE;
		if (v->file != -1 && (v->file < 0 || (size_t)v->file >= img->nfiles))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) refers to file %d, but NT_CKPT_FILES has %zu", i, start,
				   end, v->file, img->nfiles);
		if (needs_file != (v->file != -1))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) %s", i, start, end,
				   needs_file ? "is file-backed but names no file" : "names a file but is not file-backed");
		if (v->stored > v->end - v->start || !page_aligned(v->stored))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) claims %llu stored bytes", i, start, end,
				   (unsigned long long)v->stored);
	}
	return 0;
}

static int check_loads(struct loader *l, Elf64_Phdr *ph, size_t count)
{
	struct ckpt_image *img = l->img;
	img->loads = ph + 1;
	img->nloads = count - 1;
	for (size_t i = 1; i < count; i++) {
		const Elf64_Phdr *p = &ph[i];
		unsigned long long at = p->p_vaddr, end = p->p_vaddr + p->p_memsz;
		if (p->p_type != PT_LOAD)
			return bad(l, CORRUPT, "program header %zu has type 0x%x (expected PT_LOAD)", i, p->p_type);
		if (p->p_filesz > p->p_memsz)
			return bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) stores %llu bytes of a %llu-byte segment", i, at, end,
				   (unsigned long long)p->p_filesz, (unsigned long long)p->p_memsz);
		if (p->p_offset > img->file_size || p->p_filesz > img->file_size - p->p_offset)
			return bad(l, TRUNCATED, "PT_LOAD %zu (0x%llx-0x%llx) ends at %llu but the file has %llu bytes", i, at,
				   end, (unsigned long long)(p->p_offset + p->p_filesz), (unsigned long long)img->file_size);
		if (!page_aligned(p->p_vaddr) || !page_aligned(p->p_offset) || !page_aligned(p->p_filesz) ||
		    !page_aligned(p->p_memsz) || p->p_filesz == 0)
			return bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) is not a whole number of pages", i, at, end);
		if (i > 1 && p->p_vaddr < ph[i - 1].p_vaddr + ph[i - 1].p_memsz)
			return bad(l, CORRUPT, "PT_LOADs %zu and %zu overlap or are out of address order", i - 1, i);
	}
	return 0;
}

/*
 * Every PT_LOAD lies inside one mapping (runs never span two), each mapping's
 * `stored` is what its PT_LOADs hold, and ckpt_process.stored_bytes is their sum.
 */
static int check_stored_bytes(struct loader *l)
{
	struct ckpt_image *img = l->img;
	uint64_t *held = calloc(img->nvmas ? img->nvmas : 1, sizeof *held);
	if (!held)
		return ck_fail(l->e, CK_INTERNAL, ENOMEM, "load", "", "out of memory");
	uint64_t total = 0;
	int ret = 0;
	for (size_t i = 0; i < img->nloads && !ret; i++) {
		const Elf64_Phdr *p = &img->loads[i];
		const struct ckpt_vma *v = image_vma_of(img, p->p_vaddr, p->p_memsz);
		if (!v)
			ret = bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) is not inside one mapping", i + 1,
				  (unsigned long long)p->p_vaddr, (unsigned long long)(p->p_vaddr + p->p_memsz));
		else
			held[v - img->vmas] += p->p_filesz;
		total += p->p_filesz;
	}
	for (size_t i = 0; i < img->nvmas && !ret; i++)
		if (held[i] != img->vmas[i].stored)
			ret = bad(l, CORRUPT, "VMA %zu says %llu bytes are stored, its PT_LOADs hold %llu", i,
				  (unsigned long long)img->vmas[i].stored, (unsigned long long)held[i]);
	free(held);
	if (!ret && total != img->process->stored_bytes)
		ret = bad(l, CORRUPT, "NT_CKPT_PROCESS says %llu bytes are stored, the PT_LOADs hold %llu",
			  (unsigned long long)img->process->stored_bytes, (unsigned long long)total);
	return ret;
}

static int check_process(struct loader *l)
{
	const struct ckpt_image *img = l->img;
	const struct ckpt_process *p = img->process;
	const struct {
		ckpt_str s;
		const char *name;
	} strings[] = { { p->exe, "exe" }, { p->cwd, "cwd" }, { p->kernel_release, "kernel_release" } };
	if (p->syscall_restart > CKPT_RESTART_BLOCK)
		return bad(l, CORRUPT, "unknown syscall restart kind %u in NT_CKPT_PROCESS", p->syscall_restart);
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		if (!string_ok(img, strings[i].s))
			return bad(l, CORRUPT, "string offset %u of NT_CKPT_PROCESS.%s is outside NT_CKPT_STRINGS", strings[i].s,
				   strings[i].name);
	if (p->rseq_addr && p->rseq_len < 32)
		return bad(l, CORRUPT, "the rseq area has %u bytes (at least 32)", p->rseq_len);
	return 0;
}

static int check_registers(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	struct elf_prstatus *ps;
	if (take(l, raw, N_PRSTATUS, &ps, sizeof *ps, 1, NULL))
		return -1;
	_Static_assert(sizeof ps->pr_reg == sizeof img->regs, "elf_gregset_t is user_regs_struct");
	memcpy(&img->regs, &ps->pr_reg, sizeof img->regs);
	if (take(l, raw, N_FPREGSET, &img->fpregs, 512, 1, NULL))
		return -1;
	if (raw[N_XSTATE].desc) {
		if (raw[N_XSTATE].len < CKPT_MIN_XSTATE_SIZE)
			return bad(l, CORRUPT, "note NT_X86_XSTATE has size %zu, less than %d", raw[N_XSTATE].len,
				   CKPT_MIN_XSTATE_SIZE);
		if (take(l, raw, N_XSTATE, &img->xstate, 0, 1, &img->xstate_len))
			return -1;
	}
	if (raw[N_AUXV].desc && raw[N_AUXV].len > CKPT_MAX_AUXV_SIZE)
		return bad(l, CORRUPT, "note NT_AUXV has size %zu, more than %d", raw[N_AUXV].len, CKPT_MAX_AUXV_SIZE);
	return take(l, raw, N_AUXV, &img->auxv, 0, 16, &img->auxv_len);
}

static int check_fds(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (take(l, raw, N_FDS, &img->fds, 0, sizeof(struct ckpt_fd), &img->nfds))
		return -1;
	for (size_t i = 0; i < img->nfds; i++) {
		const struct ckpt_fd *f = &img->fds[i];
		if (f->fd < 0 || (i && f->fd <= img->fds[i - 1].fd))
			return bad(l, CORRUPT, "NT_CKPT_FDS[%zu] has fd %d (the table is sorted, without repeats)", i, f->fd);
		if (f->kind > CKPT_FD_CHR)
			return bad(l, CORRUPT, "fd %d has unknown kind %u", f->fd, f->kind);
		if (!string_ok(img, f->path))
			return bad(l, CORRUPT, "string offset %u of NT_CKPT_FDS[%zu].path is outside NT_CKPT_STRINGS", f->path, i);
	}
	return 0;
}

static int check_signals(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	const struct raw_note *n = &raw[N_SIGNALS];
	if (n->desc && n->len < sizeof(struct ckpt_signals))
		return bad(l, CORRUPT, "note NT_CKPT_SIGNALS has size %zu, less than %zu", n->len, sizeof(struct ckpt_signals));
	if (take(l, raw, N_SIGNALS, &img->signals, 0, 1, NULL))
		return -1;
	size_t expected = sizeof *img->signals + (size_t)img->signals->nqueued * CKPT_SIGINFO_SIZE;
	if (n->len != expected)
		return bad(l, CORRUPT, "note NT_CKPT_SIGNALS has size %zu, but %u queued signals need %zu", n->len,
			   img->signals->nqueued, expected);
	img->queued = (uint8_t *)img->signals + sizeof *img->signals;
	return 0;
}

static int check_tty(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (!raw[N_TTY].desc)
		return 0;
	if (take(l, raw, N_TTY, &img->tty, sizeof(struct ckpt_tty), 1, NULL))
		return -1;
	if (!string_ok(img, img->tty->path))
		return bad(l, CORRUPT, "string offset %u of NT_CKPT_TTY.path is outside NT_CKPT_STRINGS", img->tty->path);
	return 0;
}

static int check_screen(struct loader *l, const struct raw_note *raw)
{
	struct ckpt_image *img = l->img;
	if (!raw[N_SCREEN].desc)
		return 0;
	if (raw[N_SCREEN].len > CKPT_MAX_SCREEN_SIZE)
		return bad(l, CORRUPT, "note NT_CKPT_SCREEN has size %zu, more than %u", raw[N_SCREEN].len, CKPT_MAX_SCREEN_SIZE);
	return take(l, raw, N_SCREEN, &img->screen, 0, 1, &img->screen_len);
}

static int load(struct loader *l)
{
	struct ckpt_image *img = l->img;
	struct stat st;
	if (fstat(l->fd, &st) < 0)
		return ck_fail(l->e, CK_IO, errno, "load", "", "cannot inspect the image");
	if (!S_ISREG(st.st_mode))
		return bad(l, FOREIGN, "%s", S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
	img->file_size = (uint64_t)st.st_size;

	Elf64_Phdr *ph = NULL;
	size_t count = 0;
	if (read_headers(l, &ph, &count) || find_notes(l, ph, count))
		return -1;
	uint8_t *segment = malloc(ph[0].p_filesz ? ph[0].p_filesz : 1);
	if (!segment)
		return ck_fail(l->e, CK_INTERNAL, ENOMEM, "load", "", "out of memory");
	struct raw_note raw[N_KNOWN] = { 0 };
	int ret = read_at(l, segment, ph[0].p_filesz, ph[0].p_offset) || collect_notes(l, segment, ph[0].p_filesz, raw) ||
		  check_process_version(l, raw) || check_strings(l, raw) || check_files(l, raw) || check_vmas(l, raw) ||
		  check_loads(l, ph, count) || check_stored_bytes(l) || check_process(l) ||
		  take(l, raw, N_ARGV, &img->argv, 0, 1, &img->argv_len) || check_registers(l, raw) || check_fds(l, raw) ||
		  take(l, raw, N_SIGACTIONS, &img->sigactions, 64 * sizeof(struct ckpt_sigaction), 1, NULL) ||
		  check_signals(l, raw) || check_tty(l, raw) || check_screen(l, raw);
	free(segment);
	return ret ? -1 : 0;
}

int image_load(int fd, struct ckpt_image *img, struct ck_error *e)
{
	memset(img, 0, sizeof *img);
	struct loader l = { fd, img, e };
	if (load(&l) == 0)
		return 0;
	image_free(img);
	return -1;
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
