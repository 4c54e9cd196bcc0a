/*
 * image_load: the native reader of a ckpty job image (image.h, version 2).
 *
 * The checks run in the order of docs/image-format.md's "What a reader accepts", the
 * same order as src/image/reader.ts: member 0's core as an ELF core, the version, the
 * job table, the job's own tables, then every live member's core. For an image with
 * several problems, the first one in that order is the one named.
 */
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
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/* The kinds of problem, each a prefix of the message (src/image/errors.ts has the same). */
#define FOREIGN "not a ckpty image: "
#define TRUNCATED "truncated image: "
#define CORRUPT "corrupt image: "

#define FPREGSET_SIZE 512
#define AUXV_ENTRY_SIZE 16
#define NSIGACTIONS 64

struct loader {
	int fd;
	struct ckpt_image *img;
	struct ck_error *e;
	/* Said after the kind in every message about one member of a job of several. */
	char where[48];
};

static int bad(struct loader *l, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(struct loader *l, const char *kind, const char *fmt, ...)
{
	char reason[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return ck_fail(l->e, CK_BAD_IMAGE, 0, "load", "", "%s%s%s", kind, l->where, reason);
}

static int out_of_memory(struct loader *l)
{
	return ck_fail(l->e, CK_INTERNAL, ENOMEM, "load", "", "out of memory");
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

/* Is [offset, offset + len) inside [0, limit)? (No overflow for any 64-bit values.) */
static bool inside(uint64_t offset, uint64_t len, uint64_t limit)
{
	return offset <= limit && len <= limit - offset;
}

/* Hand p to img (image_free() releases it); NULL, with the error set, when p is NULL or cannot be kept. */
static void *own(struct loader *l, void *p)
{
	struct ckpt_image *img = l->img;
	if (p && img->nowned == img->owned_cap) {
		size_t cap = img->owned_cap ? img->owned_cap * 2 : 32;
		void **bigger = realloc(img->owned, cap * sizeof *bigger);
		if (!bigger) {
			free(p);
			p = NULL;
		} else {
			img->owned = bigger;
			img->owned_cap = cap;
		}
	}
	if (!p) {
		out_of_memory(l);
		return NULL;
	}
	img->owned[img->nowned++] = p;
	return p;
}

/* A copy of a note's descriptor, naturally aligned and owned by img. */
static void *own_copy(struct loader *l, const void *desc, size_t len)
{
	void *copy = own(l, malloc(len ? len : 1));
	if (copy)
		memcpy(copy, desc, len);
	return copy;
}

/* ---- one member's core as an ELF core file ---- */

/* The notes a reader uses: ckpty's, each at most once, and NT_AUXV. */
enum known_note {
	N_PROCESS,
	N_STRINGS,
	N_THREADS,
	N_VMAS,
	N_FILES,
	N_FDS,
	N_SIGACTIONS,
	N_SIGNALS,
	N_TIMERS,
	N_TTY,
	N_ARGV,
	N_JOB,
	N_OBJECTS,
	N_OFILES,
	N_WATCHES,
	N_SCREEN,
	N_AUXV,
	N_KNOWN,
};

/* The first of the job's notes, which only member 0's core holds. */
#define N_FIRST_JOB_NOTE N_JOB
#define N_LAST_JOB_NOTE N_SCREEN

static const struct {
	uint32_t type;
	const char *name;
} known_notes[N_KNOWN] = {
	[N_PROCESS] = { NT_CKPT_PROCESS, "NT_CKPT_PROCESS" },
	[N_STRINGS] = { NT_CKPT_STRINGS, "NT_CKPT_STRINGS" },
	[N_THREADS] = { NT_CKPT_THREADS, "NT_CKPT_THREADS" },
	[N_VMAS] = { NT_CKPT_VMAS, "NT_CKPT_VMAS" },
	[N_FILES] = { NT_CKPT_FILES, "NT_CKPT_FILES" },
	[N_FDS] = { NT_CKPT_FDS, "NT_CKPT_FDS" },
	[N_SIGACTIONS] = { NT_CKPT_SIGACTIONS, "NT_CKPT_SIGACTIONS" },
	[N_SIGNALS] = { NT_CKPT_SIGNALS, "NT_CKPT_SIGNALS" },
	[N_TIMERS] = { NT_CKPT_TIMERS, "NT_CKPT_TIMERS" },
	[N_TTY] = { NT_CKPT_TTY, "NT_CKPT_TTY" },
	[N_ARGV] = { NT_CKPT_ARGV, "NT_CKPT_ARGV" },
	[N_JOB] = { NT_CKPT_JOB, "NT_CKPT_JOB" },
	[N_OBJECTS] = { NT_CKPT_OBJECTS, "NT_CKPT_OBJECTS" },
	[N_OFILES] = { NT_CKPT_OFILES, "NT_CKPT_OFILES" },
	[N_WATCHES] = { NT_CKPT_WATCHES, "NT_CKPT_WATCHES" },
	[N_SCREEN] = { NT_CKPT_SCREEN, "NT_CKPT_SCREEN" },
	[N_AUXV] = { NT_AUXV, "NT_AUXV" },
};

struct raw_note {
	const uint8_t *desc; /* into the note segment; NULL when absent */
	size_t len;
};

/* A per-thread standard note (NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE), in file order. */
struct thread_note {
	uint32_t type;
	struct raw_note n;
};

/* How problems with a core's container are named: member 0's is what tells a ckpty image at all. */
struct container_kinds {
	const char *foreign; /* FOREIGN for member 0 when the file is first read, else CORRUPT */
	const char *outside; /* TRUNCATED past the file's end, CORRUPT past a core's end */
	const char *space; /* "the file" or "its core" */
};

static const struct container_kinds FILE_KINDS = { FOREIGN, TRUNCATED, "the file" };
static const struct container_kinds CORE_KINDS = { CORRUPT, CORRUPT, "its core" };

/* One member's core, read: its program headers and its notes. */
struct core {
	uint64_t base; /* where it starts in the file */
	Elf64_Phdr *ph; /* owned by img: a process's loads point into it */
	size_t nph;
	uint64_t headers_end; /* end of the program headers, from base */
	uint64_t notes_end; /* end of the note segment, from base */
	uint8_t *segment; /* the note segment; freed by core_free() */
	struct raw_note notes[N_KNOWN];
	struct thread_note *thread_notes;
	size_t nthread_notes, thread_notes_cap;
};

static void core_free(struct core *c)
{
	free(c->segment);
	free(c->thread_notes);
	memset(c, 0, sizeof *c);
}

static int read_elf_header(struct loader *l, struct core *c, uint64_t limit, const struct container_kinds *k)
{
	Elf64_Ehdr eh;
	if (limit == 0)
		return bad(l, k->foreign, "the file is empty");
	size_t head = limit < sizeof eh ? (size_t)limit : sizeof eh;
	memset(&eh, 0, sizeof eh);
	if (read_at(l, &eh, head, c->base))
		return -1;
	for (size_t i = 0; i < SELFMAG && i < head; i++)
		if (eh.e_ident[i] != ELFMAG[i])
			return bad(l, k->foreign, "not an ELF file");
	if (limit < sizeof eh)
		return bad(l, k->outside, "the ELF header needs %zu bytes but %s has %llu", sizeof eh, k->space,
			   (unsigned long long)limit);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return bad(l, k->foreign, "a 32-bit ELF file (ckpty images are ELF64)");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(l, k->foreign, "a big-endian ELF file");
	if (eh.e_type != ET_CORE)
		return bad(l, k->foreign, "an ELF file of type %u, not a core file", eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return bad(l, k->foreign, "a core file for ELF machine %u, not x86_64", eh.e_machine);
	if (eh.e_phnum == PN_XNUM)
		return bad(l, CORRUPT, "e_phnum is PN_XNUM (a ckpty image has fewer than %u program headers)", PN_XNUM);
	if (eh.e_phnum == 0)
		return bad(l, k->foreign, "a core file without program headers");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return bad(l, CORRUPT, "program headers of %u bytes (ELF64 has %zu)", eh.e_phentsize, sizeof(Elf64_Phdr));
	uint64_t table = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (!inside(eh.e_phoff, table, limit))
		return bad(l, k->outside, "program headers end at %llu but %s has %llu bytes",
			   (unsigned long long)(eh.e_phoff + table), k->space, (unsigned long long)limit);
	c->ph = own(l, calloc(eh.e_phnum, sizeof *c->ph));
	if (!c->ph || read_at(l, c->ph, (size_t)table, c->base + eh.e_phoff))
		return -1;
	c->nph = eh.e_phnum;
	c->headers_end = eh.e_phoff + table;
	return 0;
}

static int find_notes(struct loader *l, struct core *c, uint64_t limit, const struct container_kinds *k)
{
	size_t notes = 0;
	for (size_t i = 0; i < c->nph; i++)
		notes += c->ph[i].p_type == PT_NOTE;
	if (notes == 0)
		return bad(l, k->foreign, "a core file without a note segment");
	if (notes > 1)
		return bad(l, CORRUPT, "%zu PT_NOTE segments (expected one)", notes);
	const Elf64_Phdr *note = &c->ph[0];
	if (note->p_type != PT_NOTE)
		return bad(l, CORRUPT, "the first program header is not the PT_NOTE");
	if (note->p_filesz > CKPT_MAX_NOTES_SIZE)
		return bad(l, CORRUPT, "a note segment of %llu bytes (a ckpty image has at most %u)",
			   (unsigned long long)note->p_filesz, CKPT_MAX_NOTES_SIZE);
	if (!inside(note->p_offset, note->p_filesz, limit))
		return bad(l, k->outside, "the note segment ends at %llu but %s has %llu bytes",
			   (unsigned long long)(note->p_offset + note->p_filesz), k->space, (unsigned long long)limit);
	c->notes_end = note->p_offset + note->p_filesz;
	c->segment = malloc(note->p_filesz ? note->p_filesz : 1);
	if (!c->segment)
		return out_of_memory(l);
	return read_at(l, c->segment, note->p_filesz, c->base + note->p_offset);
}

static int keep_thread_note(struct loader *l, struct core *c, uint32_t type, struct raw_note n)
{
	if (c->nthread_notes == c->thread_notes_cap) {
		size_t cap = c->thread_notes_cap ? c->thread_notes_cap * 2 : 8;
		struct thread_note *bigger = realloc(c->thread_notes, cap * sizeof *bigger);
		if (!bigger)
			return out_of_memory(l);
		c->thread_notes = bigger;
		c->thread_notes_cap = cap;
	}
	c->thread_notes[c->nthread_notes++] = (struct thread_note){ type, n };
	return 0;
}

/*
 * Split the note segment. ckpty notes: unknown types and repeats are refused. Standard
 * notes (owner CORE or LINUX): NT_AUXV once; NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE
 * kept in file order for the threads. Other notes are gdb's and readelf's business.
 */
static int split_notes(struct loader *l, struct core *c, const struct container_kinds *k)
{
	const uint8_t *p = c->segment;
	size_t size = c->ph[0].p_filesz, off = 0, ours = 0;
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
		struct raw_note n = { p + name_at + name_len, nh.n_descsz };
		bool mine = !strcmp(owner, CKPT_NOTE_OWNER);
		bool standard = !strcmp(owner, "CORE") || !strcmp(owner, "LINUX");
		int which = -1;
		for (int i = 0; i < N_KNOWN && which < 0; i++)
			if (known_notes[i].type == nh.n_type && ((i == N_AUXV) ? standard : mine))
				which = i;
		ours += mine;
		if (mine && which < 0)
			return bad(l, CORRUPT, "unknown ckpty note type 0x%x", nh.n_type);
		if (which >= 0) {
			if (c->notes[which].desc)
				return bad(l, CORRUPT, "note %s appears more than once", known_notes[which].name);
			c->notes[which] = n;
		} else if (standard && (nh.n_type == NT_PRSTATUS || nh.n_type == NT_FPREGSET || nh.n_type == NT_X86_XSTATE)) {
			if (keep_thread_note(l, c, nh.n_type, n))
				return -1;
		}
		off = name_at + name_len + (desc_len < size - name_at - name_len ? desc_len : size - name_at - name_len);
	}
	if (!ours)
		return bad(l, k->foreign, "no CKPTY notes (a core file from another tool?)");
	return 0;
}

/* The container rules: a core at base, limit bytes long at most, as an ELF core with ckpty notes. */
static int read_core(struct loader *l, struct core *c, uint64_t base, uint64_t limit, const struct container_kinds *k)
{
	memset(c, 0, sizeof *c);
	c->base = base;
	return read_elf_header(l, c, limit, k) || find_notes(l, c, limit, k) || split_notes(l, c, k);
}

/* ---- taking notes ---- */

/* Keep a copy of a required note whose size is exact, or a multiple of unit (exact 0). */
static int take(struct loader *l, const struct core *c, enum known_note which, void *slot, size_t exact, size_t unit,
		size_t *count)
{
	const char *name = known_notes[which].name;
	const struct raw_note *n = &c->notes[which];
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

/* A table that may be absent (then empty). */
static int take_table(struct loader *l, const struct core *c, enum known_note which, void *slot, size_t unit,
		      size_t *count)
{
	*count = 0;
	return c->notes[which].desc ? take(l, c, which, slot, 0, unit, count) : 0;
}

/* A note that may be absent, of at most max bytes. */
static int take_bounded(struct loader *l, const struct core *c, enum known_note which, void *slot, size_t max,
			size_t *len)
{
	const struct raw_note *n = &c->notes[which];
	if (!n->desc)
		return 0;
	if (n->len > max)
		return bad(l, CORRUPT, "note %s has size %zu, more than %zu", known_notes[which].name, n->len, max);
	return take(l, c, which, slot, 0, 1, len);
}

/* ---- the version (member 0) ---- */

static int check_version(struct loader *l, const struct core *c)
{
	const struct raw_note *n = &c->notes[N_PROCESS];
	if (!n->desc)
		return bad(l, CORRUPT, "note NT_CKPT_PROCESS is missing");
	if (n->len < 4)
		return bad(l, CORRUPT, "note NT_CKPT_PROCESS has size %zu, not %zu", n->len, sizeof(struct ckpt_process));
	uint32_t version;
	memcpy(&version, n->desc, 4);
	if (version != CKPT_FORMAT_VERSION)
		return ck_fail(l->e, CK_BAD_IMAGE, 0, "load", "", "unsupported image version %u (this ckpty reads version %d)",
			       version, CKPT_FORMAT_VERSION);
	return 0;
}

/* ---- the job table (member 0's NT_CKPT_JOB) ---- */

static int check_member_core(struct loader *l, size_t i, const struct ckpt_member *m, uint64_t *cores_end)
{
	const struct ckpt_image *img = l->img;
	unsigned long long at = m->core_offset, size = m->core_size, end = m->core_offset + m->core_size;
	if (m->state == CKPT_MEMBER_ZOMBIE) {
		if (m->core_offset || m->core_size)
			return bad(l, CORRUPT, "member %zu (pid %d) is a zombie but has a core", i, m->pid);
		return 0;
	}
	if (i == 0 && m->core_offset)
		return bad(l, CORRUPT, "member 0's core is at %llu, not at the start of the file", at);
	if (!page_aligned(m->core_offset))
		return bad(l, CORRUPT, "member %zu (pid %d) has its core at %llu, not page-aligned", i, m->pid, at);
	if (m->core_size == 0)
		return bad(l, CORRUPT, "member %zu (pid %d) is live but has no core", i, m->pid);
	if (!inside(m->core_offset, m->core_size, img->file_size))
		return bad(l, TRUNCATED, "member %zu (pid %d) has its core at %llu-%llu but the file has %llu bytes", i, m->pid,
			   at, at + size, (unsigned long long)img->file_size);
	if (m->core_offset < *cores_end)
		return bad(l, CORRUPT, "member %zu (pid %d) has its core at %llu, before the end of the previous one (%llu)", i,
			   m->pid, at, (unsigned long long)*cores_end);
	if (end > img->job->data_offset)
		return bad(l, CORRUPT, "member %zu (pid %d) has its core end at %llu, inside the data area (at %llu)", i,
			   m->pid, end, (unsigned long long)img->job->data_offset);
	*cores_end = end;
	return 0;
}

static int check_members(struct loader *l)
{
	struct ckpt_image *img = l->img;
	size_t n = img->job->nmembers;
	uint64_t cores_end = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ckpt_member *m = &img->members[i];
		if (m->state > CKPT_MEMBER_ZOMBIE)
			return bad(l, CORRUPT, "member %zu (pid %d) has unknown state %u", i, m->pid, m->state);
		if (i == 0 && m->state != CKPT_MEMBER_LIVE)
			return bad(l, CORRUPT, "member 0 is a zombie (its core must start the file)");
		if (check_member_core(l, i, m, &cores_end))
			return -1;
		if (m->parent < -1 || m->parent >= (int64_t)n)
			return bad(l, CORRUPT, "member %zu (pid %d) has parent %d, but the job has %zu members", i, m->pid,
				   m->parent, n);
		if (m->state == CKPT_MEMBER_ZOMBIE && m->parent == -1)
			return bad(l, CORRUPT, "member %zu (pid %d) is a zombie whose parent is not a member", i, m->pid);
		img->nprocesses += m->state == CKPT_MEMBER_LIVE;
	}
	/* A walk up from any member ends at a root within n steps, or the links form a cycle. */
	for (size_t i = 0; i < n; i++) {
		int32_t at = (int32_t)i;
		for (size_t steps = 0; at != -1; steps++, at = img->members[at].parent)
			if (steps == n)
				return bad(l, CORRUPT, "member %zu (pid %d) is its own ancestor (the parent links form a cycle)", i,
					   img->members[i].pid);
	}
	if (img->job->status_member < 0 || (uint64_t)img->job->status_member >= n)
		return bad(l, CORRUPT, "the job's status member is %d, but the job has %zu members", img->job->status_member, n);
	return 0;
}

static int check_job(struct loader *l, const struct core *c0)
{
	struct ckpt_image *img = l->img;
	const struct raw_note *n = &c0->notes[N_JOB];
	if (!n->desc)
		return bad(l, CORRUPT, "note NT_CKPT_JOB is missing");
	if (n->len < sizeof(struct ckpt_job))
		return bad(l, CORRUPT, "note NT_CKPT_JOB has size %zu, less than %zu", n->len, sizeof(struct ckpt_job));
	struct ckpt_job job;
	memcpy(&job, n->desc, sizeof job);
	if (job.nmembers == 0 || job.nmembers > CKPT_MAX_MEMBERS)
		return bad(l, CORRUPT, "a job of %u members (1 to %d)", job.nmembers, CKPT_MAX_MEMBERS);
	size_t expected = sizeof job + (size_t)job.nmembers * sizeof(struct ckpt_member);
	if (n->len != expected)
		return bad(l, CORRUPT, "note NT_CKPT_JOB has size %zu, but %u members need %zu", n->len, job.nmembers, expected);
	if (!page_aligned(job.data_offset))
		return bad(l, CORRUPT, "the data area is at %llu, not page-aligned", (unsigned long long)job.data_offset);
	if (!inside(job.data_offset, job.data_size, img->file_size))
		return bad(l, TRUNCATED, "the data area ends at %llu but the file has %llu bytes",
			   (unsigned long long)(job.data_offset + job.data_size), (unsigned long long)img->file_size);
	if (take(l, c0, N_JOB, &img->job, 0, 1, NULL))
		return -1;
	img->members = (const struct ckpt_member *)(img->job + 1);
	if (check_members(l))
		return -1;
	img->processes = own(l, calloc(img->nprocesses, sizeof *img->processes));
	return img->processes ? 0 : -1;
}

/* ---- the job's tables (member 0's notes) ---- */

static int check_strings(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (p->strings)
		return 0; /* member 0's, taken for the job's tables already */
	if (take(l, c, N_STRINGS, &p->strings, 0, 1, &p->strings_len))
		return -1;
	if (p->strings_len == 0 || p->strings[p->strings_len - 1] != 0)
		return bad(l, CORRUPT, "NT_CKPT_STRINGS does not end with a NUL");
	return 0;
}

/* A string reference of note `what` (e.g. "NT_CKPT_OFILES[3].path"), checked against p's table. */
static int check_string(struct loader *l, const struct ckpt_process_image *p, ckpt_str s, const char *what, size_t i,
			const char *field)
{
	if (s < p->strings_len)
		return 0;
	if (i == SIZE_MAX)
		return bad(l, CORRUPT, "string offset %u of %s.%s is outside NT_CKPT_STRINGS", s, what, field);
	return bad(l, CORRUPT, "string offset %u of %s[%zu].%s is outside NT_CKPT_STRINGS", s, what, i, field);
}

static bool range_in_data(const struct ckpt_image *img, uint64_t offset, uint64_t len)
{
	return inside(offset, len, img->job->data_size);
}

static int check_objects(struct loader *l, const struct core *c0)
{
	struct ckpt_image *img = l->img;
	if (take_table(l, c0, N_OBJECTS, &img->objects, sizeof(struct ckpt_object), &img->nobjects))
		return -1;
	for (size_t i = 0; i < img->nobjects; i++) {
		const struct ckpt_object *o = &img->objects[i];
		if (o->kind > CKPT_OBJ_SHMEM)
			return bad(l, CORRUPT, "object %zu has unknown kind %u", i, o->kind);
		if (!range_in_data(img, o->data_offset, o->data_len) || !range_in_data(img, o->data2_offset, o->data2_len))
			return bad(l, CORRUPT, "object %zu has data outside the data area (%llu bytes)", i,
				   (unsigned long long)img->job->data_size);
		if (check_string(l, &img->processes[0], o->name, "NT_CKPT_OBJECTS", i, "name"))
			return -1;
	}
	return 0;
}

/* The objects an open file of this kind is an end of; NULL: it refers to none (object -1). */
static const char *object_needed(uint32_t ofile_kind)
{
	switch (ofile_kind) {
	case CKPT_OF_PIPE:
		return "a pipe";
	case CKPT_OF_SOCKET:
		return "a socket pair";
	case CKPT_OF_OBJECT_FILE:
		return "a memfd or deleted file";
	default:
		return NULL;
	}
}

static bool object_fits(uint32_t ofile_kind, uint32_t object_kind)
{
	switch (ofile_kind) {
	case CKPT_OF_PIPE:
		return object_kind == CKPT_OBJ_PIPE;
	case CKPT_OF_SOCKET:
		return object_kind == CKPT_OBJ_STREAM_PAIR || object_kind == CKPT_OBJ_DGRAM_PAIR ||
		       object_kind == CKPT_OBJ_SEQPACKET_PAIR;
	default:
		return object_kind == CKPT_OBJ_MEMFD || object_kind == CKPT_OBJ_DELETED;
	}
}

static int check_ofile_object(struct loader *l, size_t i, const struct ckpt_ofile *f)
{
	const struct ckpt_image *img = l->img;
	const char *needed = object_needed(f->kind);
	if (!needed)
		return f->object == -1 ? 0 : bad(l, CORRUPT, "open file %zu (kind %u) refers to object %d", i, f->kind, f->object);
	if (f->object < 0 || (size_t)f->object >= img->nobjects)
		return bad(l, CORRUPT, "open file %zu refers to object %d, but NT_CKPT_OBJECTS has %zu", i, f->object,
			   img->nobjects);
	uint32_t kind = img->objects[f->object].kind;
	if (!object_fits(f->kind, kind))
		return bad(l, CORRUPT, "open file %zu needs %s, but object %d has kind %u", i, needed, f->object, kind);
	return 0;
}

static int check_ofiles(struct loader *l, const struct core *c0)
{
	struct ckpt_image *img = l->img;
	if (take_table(l, c0, N_OFILES, &img->ofiles, sizeof(struct ckpt_ofile), &img->nofiles))
		return -1;
	for (size_t i = 0; i < img->nofiles; i++) {
		const struct ckpt_ofile *f = &img->ofiles[i];
		if (f->kind > CKPT_OF_CLOSED_SOCKET)
			return bad(l, CORRUPT, "open file %zu has unknown kind %u", i, f->kind);
		if (check_ofile_object(l, i, f))
			return -1;
		if (f->end > 1)
			return bad(l, CORRUPT, "open file %zu is end %u (0 or 1)", i, f->end);
		if (check_string(l, &img->processes[0], f->path, "NT_CKPT_OFILES", i, "path"))
			return -1;
	}
	return 0;
}

static int check_watches(struct loader *l, const struct core *c0)
{
	struct ckpt_image *img = l->img;
	if (take_table(l, c0, N_WATCHES, &img->watches, sizeof(struct ckpt_watch), &img->nwatches))
		return -1;
	for (size_t i = 0; i < img->nwatches; i++) {
		const struct ckpt_watch *w = &img->watches[i];
		if (w->owner < 0 || (size_t)w->owner >= img->nofiles)
			return bad(l, CORRUPT, "watch %zu belongs to open file %d, but NT_CKPT_OFILES has %zu", i, w->owner,
				   img->nofiles);
		uint32_t owner = img->ofiles[w->owner].kind;
		if (owner != CKPT_OF_EPOLL && owner != CKPT_OF_INOTIFY)
			return bad(l, CORRUPT, "watch %zu belongs to open file %d, neither an epoll nor an inotify instance", i,
				   w->owner);
		if (owner == CKPT_OF_EPOLL && (w->target < 0 || (size_t)w->target >= img->nofiles))
			return bad(l, CORRUPT, "epoll watch %zu watches open file %d, but NT_CKPT_OFILES has %zu", i, w->target,
				   img->nofiles);
		if (owner == CKPT_OF_INOTIFY && w->target != -1)
			return bad(l, CORRUPT, "inotify watch %zu names open file %d (inotify watches paths)", i, w->target);
		if (check_string(l, &img->processes[0], w->path, "NT_CKPT_WATCHES", i, "path"))
			return -1;
	}
	return 0;
}

static int check_job_tables(struct loader *l, const struct core *c0)
{
	struct ckpt_image *img = l->img;
	return check_strings(l, &img->processes[0], c0) || check_objects(l, c0) || check_ofiles(l, c0) ||
	       check_watches(l, c0) || take_bounded(l, c0, N_SCREEN, &img->screen, CKPT_MAX_SCREEN_SIZE, &img->screen_len);
}

/* ---- one live member's core ---- */

static int check_member_header(struct loader *l, const struct ckpt_process_image *p, const struct core *c, uint64_t size)
{
	if (c->headers_end > size || c->notes_end > size)
		return bad(l, CORRUPT, "its headers and notes end at %llu, past its core (%llu bytes)",
			   (unsigned long long)(c->headers_end > c->notes_end ? c->headers_end : c->notes_end),
			   (unsigned long long)size);
	if (p->member == 0)
		return 0;
	/* Member 0's version is the job's (checked first); another member's differing is damage. */
	const struct raw_note *process = &c->notes[N_PROCESS];
	uint32_t version = CKPT_FORMAT_VERSION;
	if (process->desc && process->len >= sizeof version)
		memcpy(&version, process->desc, sizeof version);
	if (version != CKPT_FORMAT_VERSION)
		return bad(l, CORRUPT, "NT_CKPT_PROCESS.version is %u (the job's is %d)", version, CKPT_FORMAT_VERSION);
	for (int n = N_FIRST_JOB_NOTE; n <= N_LAST_JOB_NOTE; n++)
		if (c->notes[n].desc)
			return bad(l, CORRUPT, "note %s belongs in member 0's core only", known_notes[n].name);
	return 0;
}

static int check_process_note(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (take(l, c, N_PROCESS, &p->process, sizeof(struct ckpt_process), 1, NULL))
		return -1;
	if (p->process->member != p->member)
		return bad(l, CORRUPT, "NT_CKPT_PROCESS.member is %d, but the core is member %d's", p->process->member,
			   p->member);
	return 0;
}

static int check_files(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (take(l, c, N_FILES, &p->files, 0, sizeof(struct ckpt_file), &p->nfiles))
		return -1;
	if (p->nfiles == 0)
		return bad(l, CORRUPT, "NT_CKPT_FILES is empty (the executable comes first)");
	for (size_t i = 0; i < p->nfiles; i++)
		if (check_string(l, p, p->files[i].path, "NT_CKPT_FILES", i, "path"))
			return -1;
	return 0;
}

/* A mapping's file: NT_CKPT_FILES for FILE and IMAGE, a memory-like object for OBJECT, none otherwise. */
static int check_vma_backing(struct loader *l, const struct ckpt_process_image *p, size_t i, const struct ckpt_vma *v)
{
	const struct ckpt_image *img = l->img;
	unsigned long long start = v->start, end = v->end;
	if (v->kind == CKPT_VMA_FILE || v->kind == CKPT_VMA_IMAGE) {
		if (v->file < 0 || (size_t)v->file >= p->nfiles)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) refers to file %d, but NT_CKPT_FILES has %zu", i, start,
				   end, v->file, p->nfiles);
		return 0;
	}
	if (v->kind == CKPT_VMA_OBJECT) {
		if (v->file < 0 || (size_t)v->file >= img->nobjects)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) refers to object %d, but NT_CKPT_OBJECTS has %zu", i,
				   start, end, v->file, img->nobjects);
		uint32_t kind = img->objects[v->file].kind;
		if (kind != CKPT_OBJ_MEMFD && kind != CKPT_OBJ_DELETED && kind != CKPT_OBJ_SHMEM)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) maps object %d of kind %u (not memory or a file)", i,
				   start, end, v->file, kind);
		return 0;
	}
	if (v->file != -1)
		return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) names file %d but is not file-backed", i, start, end, v->file);
	return 0;
}

static int check_vmas(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (take(l, c, N_VMAS, &p->vmas, 0, sizeof(struct ckpt_vma), &p->nvmas))
		return -1;
	for (size_t i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];
		unsigned long long start = v->start, end = v->end;
		if (!page_aligned(v->start) || !page_aligned(v->end) || !page_aligned(v->pgoff))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) is not page-aligned", i, start, end);
		if (v->start >= v->end)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) is empty or reversed", i, start, end);
		if (i && v->start < p->vmas[i - 1].end)
			return bad(l, CORRUPT, "VMAs %zu and %zu overlap or are out of order", i - 1, i);
		if (v->kind > CKPT_VMA_IMAGE)
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has unknown kind %u", i, start, end, v->kind);
		if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has protection bits 0x%x", i, start, end, v->prot);
		if (v->flags & ~(uint32_t)(CKPT_VMA_SHARED | CKPT_VMA_GROWSDOWN))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) has unknown flags 0x%x", i, start, end, v->flags);
		if (check_vma_backing(l, p, i, v))
			return -1;
		if (v->stored > v->end - v->start || !page_aligned(v->stored))
			return bad(l, CORRUPT, "VMA %zu (0x%llx-0x%llx) claims %llu stored bytes", i, start, end,
				   (unsigned long long)v->stored);
	}
	return 0;
}

static int check_loads(struct loader *l, struct ckpt_process_image *p, const struct core *c, uint64_t size)
{
	p->loads = c->ph + 1;
	p->nloads = c->nph - 1;
	for (size_t i = 1; i < c->nph; i++) {
		const Elf64_Phdr *ph = &c->ph[i];
		unsigned long long at = ph->p_vaddr, end = ph->p_vaddr + ph->p_memsz;
		if (ph->p_type != PT_LOAD)
			return bad(l, CORRUPT, "program header %zu has type 0x%x (expected PT_LOAD)", i, ph->p_type);
		if (ph->p_filesz > ph->p_memsz)
			return bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) stores %llu bytes of a %llu-byte segment", i, at, end,
				   (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
		if (!inside(ph->p_offset, ph->p_filesz, size))
			return bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) ends at %llu, past its core (%llu bytes)", i, at, end,
				   (unsigned long long)(ph->p_offset + ph->p_filesz), (unsigned long long)size);
		if (!page_aligned(ph->p_vaddr) || !page_aligned(ph->p_offset) || !page_aligned(ph->p_filesz) ||
		    !page_aligned(ph->p_memsz) || ph->p_filesz == 0)
			return bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) is not a whole number of pages", i, at, end);
		if (i > 1 && ph->p_vaddr < c->ph[i - 1].p_vaddr + c->ph[i - 1].p_memsz)
			return bad(l, CORRUPT, "PT_LOADs %zu and %zu overlap or are out of address order", i - 1, i);
	}
	return 0;
}

/*
 * Every PT_LOAD lies inside one mapping (runs never span two), each mapping's
 * `stored` is what its PT_LOADs hold, and ckpt_process.stored_bytes is their sum.
 */
static int check_stored_bytes(struct loader *l, const struct ckpt_process_image *p)
{
	uint64_t *held = calloc(p->nvmas ? p->nvmas : 1, sizeof *held);
	if (!held)
		return out_of_memory(l);
	uint64_t total = 0;
	int ret = 0;
	for (size_t i = 0; i < p->nloads && !ret; i++) {
		const Elf64_Phdr *ph = &p->loads[i];
		const struct ckpt_vma *v = image_vma_of(p, ph->p_vaddr, ph->p_memsz);
		if (!v)
			ret = bad(l, CORRUPT, "PT_LOAD %zu (0x%llx-0x%llx) is not inside one mapping", i + 1,
				  (unsigned long long)ph->p_vaddr, (unsigned long long)(ph->p_vaddr + ph->p_memsz));
		else
			held[v - p->vmas] += ph->p_filesz;
		total += ph->p_filesz;
	}
	for (size_t i = 0; i < p->nvmas && !ret; i++)
		if (held[i] != p->vmas[i].stored)
			ret = bad(l, CORRUPT, "VMA %zu says %llu bytes are stored, its PT_LOADs hold %llu", i,
				  (unsigned long long)p->vmas[i].stored, (unsigned long long)held[i]);
	free(held);
	if (!ret && total != p->process->stored_bytes)
		ret = bad(l, CORRUPT, "NT_CKPT_PROCESS says %llu bytes are stored, the PT_LOADs hold %llu",
			  (unsigned long long)p->process->stored_bytes, (unsigned long long)total);
	return ret;
}

static int check_process_fields(struct loader *l, const struct ckpt_process_image *p)
{
	const struct ckpt_process *pr = p->process;
	if (check_string(l, p, pr->exe, "NT_CKPT_PROCESS", SIZE_MAX, "exe") ||
	    check_string(l, p, pr->cwd, "NT_CKPT_PROCESS", SIZE_MAX, "cwd") ||
	    check_string(l, p, pr->kernel_release, "NT_CKPT_PROCESS", SIZE_MAX, "kernel_release"))
		return -1;
	if (pr->nthreads == 0 || pr->nthreads > CKPT_MAX_THREADS)
		return bad(l, CORRUPT, "a process of %u threads (1 to %d)", pr->nthreads, CKPT_MAX_THREADS);
	return 0;
}

/* The per-thread standard notes, in file order: NT_PRSTATUS starts a thread, its FP state follows. */
static int check_thread_notes(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	uint32_t nthreads = p->process->nthreads;
	size_t started = 0;
	for (size_t i = 0; i < c->nthread_notes; i++) {
		const struct thread_note *tn = &c->thread_notes[i];
		struct ckpt_thread_image *t = started ? &p->threads[started - 1] : NULL;
		const char *name = tn->type == NT_FPREGSET ? "NT_FPREGSET" : "NT_X86_XSTATE";
		if (tn->type == NT_PRSTATUS) {
			if (started == nthreads)
				return bad(l, CORRUPT, "more NT_PRSTATUS notes than its %u threads", nthreads);
			if (tn->n.len != sizeof(struct elf_prstatus))
				return bad(l, CORRUPT, "NT_PRSTATUS of thread %zu has size %zu, not %zu", started, tn->n.len,
					   sizeof(struct elf_prstatus));
			t = &p->threads[started++];
			_Static_assert(sizeof((struct elf_prstatus *)0)->pr_reg == sizeof t->regs, "elf_gregset_t is user_regs_struct");
			memcpy(&t->regs, tn->n.desc + offsetof(struct elf_prstatus, pr_reg), sizeof t->regs);
			continue;
		}
		if (!t)
			return bad(l, CORRUPT, "note %s comes before the first NT_PRSTATUS", name);
		const uint8_t **slot = tn->type == NT_FPREGSET ? &t->fpregs : &t->xstate;
		if (*slot)
			return bad(l, CORRUPT, "thread %zu has more than one %s", started - 1, name);
		if (tn->type == NT_FPREGSET && tn->n.len != FPREGSET_SIZE)
			return bad(l, CORRUPT, "NT_FPREGSET of thread %zu has size %zu, not %d", started - 1, tn->n.len,
				   FPREGSET_SIZE);
		if (tn->type == NT_X86_XSTATE && tn->n.len < CKPT_MIN_XSTATE_SIZE)
			return bad(l, CORRUPT, "NT_X86_XSTATE of thread %zu has size %zu, less than %d", started - 1, tn->n.len,
				   CKPT_MIN_XSTATE_SIZE);
		if (!(*slot = own_copy(l, tn->n.desc, tn->n.len)))
			return -1;
		if (tn->type == NT_X86_XSTATE)
			t->xstate_len = tn->n.len;
	}
	if (started != nthreads)
		return bad(l, CORRUPT, "%zu NT_PRSTATUS notes for %u threads", started, nthreads);
	for (size_t k = 0; k < nthreads; k++)
		if (!p->threads[k].fpregs)
			return bad(l, CORRUPT, "thread %zu has no NT_FPREGSET", k);
	return 0;
}

static int check_threads(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	uint32_t nthreads = p->process->nthreads;
	p->threads = own(l, calloc(nthreads, sizeof *p->threads));
	if (!p->threads || check_thread_notes(l, p, c))
		return -1;
	const struct ckpt_thread *states;
	size_t count;
	if (take(l, c, N_THREADS, &states, 0, sizeof *states, &count))
		return -1;
	if (count != nthreads)
		return bad(l, CORRUPT, "NT_CKPT_THREADS has %zu entries, but NT_CKPT_PROCESS.nthreads is %u", count, nthreads);
	for (size_t k = 0; k < nthreads; k++) {
		const struct ckpt_thread *t = &states[k];
		p->threads[k].state = t;
		if (t->tid <= 0)
			return bad(l, CORRUPT, "thread %zu has tid %d", k, t->tid);
		for (size_t j = 0; j < k; j++)
			if (states[j].tid == t->tid)
				return bad(l, CORRUPT, "threads %zu and %zu both have tid %d", j, k, t->tid);
		if (k == 0 && t->tid != p->process->pid)
			return bad(l, CORRUPT, "thread 0 has tid %d, not the process's pid %d (the leader comes first)", t->tid,
				   p->process->pid);
		if (t->syscall_restart > CKPT_RESTART_BLOCK)
			return bad(l, CORRUPT, "thread %zu has unknown syscall restart kind %u", k, t->syscall_restart);
		if (t->rseq_addr && t->rseq_len < 32)
			return bad(l, CORRUPT, "thread %zu has an rseq area of %u bytes (at least 32)", k, t->rseq_len);
	}
	return 0;
}

static bool is_thread(const struct ckpt_process_image *p, int32_t tid)
{
	for (size_t k = 0; k < p->process->nthreads; k++)
		if (p->threads[k].state->tid == tid)
			return true;
	return false;
}

static int check_auxv(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (c->notes[N_AUXV].desc && c->notes[N_AUXV].len > CKPT_MAX_AUXV_SIZE)
		return bad(l, CORRUPT, "note NT_AUXV has size %zu, more than %d", c->notes[N_AUXV].len, CKPT_MAX_AUXV_SIZE);
	return take(l, c, N_AUXV, &p->auxv, 0, AUXV_ENTRY_SIZE, &p->auxv_len);
}

static int check_fds(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (take(l, c, N_FDS, &p->fds, 0, sizeof(struct ckpt_fd), &p->nfds))
		return -1;
	for (size_t i = 0; i < p->nfds; i++) {
		const struct ckpt_fd *f = &p->fds[i];
		if (f->fd < 0 || (i && f->fd <= p->fds[i - 1].fd))
			return bad(l, CORRUPT, "NT_CKPT_FDS[%zu] has fd %d (the table is sorted, without repeats)", i, f->fd);
		if (f->ofile < 0 || (size_t)f->ofile >= l->img->nofiles)
			return bad(l, CORRUPT, "fd %d refers to open file %d, but NT_CKPT_OFILES has %zu", f->fd, f->ofile,
				   l->img->nofiles);
	}
	return 0;
}

static int check_signals(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	const struct raw_note *n = &c->notes[N_SIGNALS];
	if (n->desc && n->len < sizeof(struct ckpt_signals))
		return bad(l, CORRUPT, "note NT_CKPT_SIGNALS has size %zu, less than %zu", n->len, sizeof(struct ckpt_signals));
	if (take(l, c, N_SIGNALS, &p->signals, 0, 1, NULL))
		return -1;
	size_t expected = sizeof *p->signals + (size_t)p->signals->nqueued * sizeof(struct ckpt_queued);
	if (n->len != expected)
		return bad(l, CORRUPT, "note NT_CKPT_SIGNALS has size %zu, but %u queued signals need %zu", n->len,
			   p->signals->nqueued, expected);
	p->queued = (const struct ckpt_queued *)(p->signals + 1);
	for (size_t i = 0; i < p->signals->nqueued; i++)
		if (p->queued[i].tid != 0 && !is_thread(p, p->queued[i].tid))
			return bad(l, CORRUPT, "queued signal %zu is for tid %d, not one of its threads", i, p->queued[i].tid);
	return 0;
}

static int check_timers(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (take_table(l, c, N_TIMERS, &p->timers, sizeof(struct ckpt_timer), &p->ntimers))
		return -1;
	for (size_t i = 0; i < p->ntimers; i++) {
		const struct ckpt_timer *t = &p->timers[i];
		if (t->kind > CKPT_TIMER_PROF)
			return bad(l, CORRUPT, "timer %zu has unknown kind %u", i, t->kind);
		if (t->kind == CKPT_TIMER_POSIX && t->notify == SIGEV_THREAD_ID && !is_thread(p, t->notify_tid))
			return bad(l, CORRUPT, "timer %zu notifies tid %d, not one of its threads", i, t->notify_tid);
	}
	return 0;
}

static int check_tty(struct loader *l, struct ckpt_process_image *p, const struct core *c)
{
	if (!c->notes[N_TTY].desc)
		return 0;
	if (take(l, c, N_TTY, &p->tty, sizeof(struct ckpt_tty), 1, NULL))
		return -1;
	return check_string(l, p, p->tty->path, "NT_CKPT_TTY", SIZE_MAX, "path");
}

static int check_process(struct loader *l, struct ckpt_process_image *p, const struct core *c, uint64_t size)
{
	return check_member_header(l, p, c, size) || check_process_note(l, p, c) || check_strings(l, p, c) ||
	       check_files(l, p, c) || check_vmas(l, p, c) || check_loads(l, p, c, size) || check_stored_bytes(l, p) ||
	       check_process_fields(l, p) || check_threads(l, p, c) || check_auxv(l, p, c) ||
	       take(l, c, N_ARGV, &p->argv, 0, 1, &p->argv_len) || check_fds(l, p, c) ||
	       take(l, c, N_SIGACTIONS, &p->sigactions, NSIGACTIONS * sizeof(struct ckpt_sigaction), 1, NULL) ||
	       check_signals(l, p, c) || check_timers(l, p, c) || check_tty(l, p, c);
}

/* Every live member's core, in member order; member 0's was read first (core0). */
static int check_processes(struct loader *l, struct core *core0)
{
	struct ckpt_image *img = l->img;
	size_t k = 0;
	for (size_t i = 0; i < img->job->nmembers; i++) {
		const struct ckpt_member *m = &img->members[i];
		if (m->state != CKPT_MEMBER_LIVE)
			continue;
		struct ckpt_process_image *p = &img->processes[k++];
		p->member = (int)i;
		p->base = m->core_offset;
		if (img->job->nmembers > 1)
			snprintf(l->where, sizeof l->where, "member %zu (pid %d): ", i, m->pid);
		struct core own_core, *c = core0;
		if (i > 0) {
			c = &own_core;
			if (read_core(l, c, m->core_offset, m->core_size, &CORE_KINDS)) {
				core_free(c);
				return -1;
			}
		}
		int ret = check_process(l, p, c, m->core_size);
		core_free(c);
		if (ret)
			return -1;
	}
	l->where[0] = 0;
	return 0;
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

	struct core core0;
	int ret = read_core(l, &core0, 0, img->file_size, &FILE_KINDS) || check_version(l, &core0) ||
		  check_job(l, &core0) || check_job_tables(l, &core0);
	if (ret) {
		core_free(&core0);
		return -1;
	}
	ret = check_processes(l, &core0);
	core_free(&core0);
	return ret;
}

int image_load(int fd, struct ckpt_image *img, struct ck_error *e)
{
	memset(img, 0, sizeof *img);
	struct loader l = { .fd = fd, .img = img, .e = e };
	if (load(&l) == 0)
		return 0;
	image_free(img);
	return -1;
}

void image_free(struct ckpt_image *img)
{
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	free(img->owned);
	memset(img, 0, sizeof *img);
}

const char *image_string(const struct ckpt_process_image *p, ckpt_str s)
{
	return p->strings + s;
}

const char *image_job_string(const struct ckpt_image *img, ckpt_str s)
{
	return image_string(&img->processes[0], s);
}

const struct ckpt_vma *image_vma_of(const struct ckpt_process_image *p, uint64_t start, uint64_t len)
{
	size_t lo = 0, hi = p->nvmas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->vmas[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nvmas && p->vmas[lo].start <= start && len <= p->vmas[lo].end - start)
		return &p->vmas[lo];
	return NULL;
}

const struct ckpt_process_image *image_process_of(const struct ckpt_image *img, int member)
{
	for (size_t k = 0; k < img->nprocesses; k++)
		if (img->processes[k].member == member)
			return &img->processes[k];
	return NULL;
}
