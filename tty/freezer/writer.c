/*
 * The job image (see image.h): each live member's core — ELF header, program headers,
 * its stored pages, then its notes — one after another from offset 0, then the job's
 * data area. Every core's offsets are relative to its own start. The notes come last
 * so that member 0's pages are written while the session makes the screen (a note).
 */
#include "fault.h"
#include "freezer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/*
 * Bytes copied per read/write: large enough that syscalls and write-back requests cost
 * little next to the copy, small enough that the bounce buffer stays in the CPU cache
 * between the read and the write. An image below SYNC_AHEAD_MIN (a small program) is
 * copied in SMALL_CHUNK pieces: a fresh process touching fewer buffer pages, in a
 * cache they fit, copied 6 MiB in 3.8 ms instead of 5.6.
 */
#define COPY_CHUNK (1u << 20)
#define SMALL_CHUNK (256u << 10)

/*
 * Images at least this large are made durable while they are written (struct syncer),
 * every SYNC_STEP bytes.
 */
#define SYNC_AHEAD_MIN (16u << 20)
#define SYNC_STEP (8u << 20)

/*
 * Writeback is started for every WRITEBACK_STEP bytes written. Each start ends in a
 * doorbell to the disk (on a virtual machine, an exit to the host): started after every
 * 256 KiB chunk, the copy of python3 (7 MiB) took 4.8 ms and its sync 3.3; every 2 MiB,
 * 3.6 and 3.7 (medians of 25, alternated). 256 MiB took as long either way.
 */
#define WRITEBACK_STEP (2u << 20)

static uint64_t page_up(uint64_t n)
{
	return (n + CKPT_PAGE_SIZE - 1) / CKPT_PAGE_SIZE * CKPT_PAGE_SIZE;
}

static int note_add(struct buf *b, const char *owner, uint32_t type, const void *desc, size_t len)
{
	Elf64_Nhdr nh = { (Elf64_Word)strlen(owner) + 1, (Elf64_Word)len, type };
	if (buf_append(b, &nh, sizeof nh) || buf_append(b, owner, nh.n_namesz) || buf_pad(b, 4) ||
	    buf_append(b, desc, len) || buf_pad(b, 4))
		return -ENOMEM;
	return 0;
}

static const char *string_at(const struct capture *c, ckpt_str s)
{
	return (const char *)c->strings.data + s;
}

static int note_prstatus(struct buf *b, const struct capture *c, const struct thread_capture *th)
{
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof ps);
	ps.pr_info.si_signo = c->stop_info.si_signo;
	ps.pr_cursig = (short)c->stop_info.si_signo;
	ps.pr_sigpend = th->state.pending | c->signals.shared_pending;
	ps.pr_sighold = th->state.blocked;
	ps.pr_pid = th->state.tid;
	ps.pr_ppid = c->ns_ppid;
	ps.pr_pgrp = c->ns_pgid;
	ps.pr_sid = c->ns_sid;
	_Static_assert(sizeof ps.pr_reg == sizeof th->regs, "elf_gregset_t is user_regs_struct");
	memcpy(&ps.pr_reg, &th->regs, sizeof th->regs);
	ps.pr_fpvalid = 1;
	return note_add(b, "CORE", NT_PRSTATUS, &ps, sizeof ps);
}

static int note_prpsinfo(struct buf *b, const struct capture *c)
{
	struct elf_prpsinfo ps;
	memset(&ps, 0, sizeof ps);
	const char *states = "RSDTZW";
	const char *at = strchr(states, c->state);
	ps.pr_state = at ? (char)(at - states) : 0;
	ps.pr_sname = c->state;
	ps.pr_uid = c->uid;
	ps.pr_gid = c->gid;
	ps.pr_pid = c->ns_pid;
	ps.pr_ppid = c->ns_ppid;
	ps.pr_pgrp = c->ns_pgid;
	ps.pr_sid = c->ns_sid;
	memcpy(ps.pr_fname, c->comm, sizeof ps.pr_fname);
	/* Like the kernel: the command line with its NULs turned into spaces, cut to fit. */
	size_t n = c->cmdline.len < sizeof ps.pr_psargs - 1 ? c->cmdline.len : sizeof ps.pr_psargs - 1;
	for (size_t i = 0; i < n; i++)
		ps.pr_psargs[i] = c->cmdline.data[i] ? (char)c->cmdline.data[i] : ' ';
	while (n > 0 && ps.pr_psargs[n - 1] == ' ')
		ps.pr_psargs[--n] = 0;
	return note_add(b, "CORE", NT_PRPSINFO, &ps, sizeof ps);
}

/* NT_FILE: count, page size, {start, end, offset in pages} per file mapping, then their names. */
static int note_file(struct buf *b, const struct capture *c)
{
	const struct ckpt_vma *vmas = (const struct ckpt_vma *)c->vmas.data;
	const struct ckpt_file *files = (const struct ckpt_file *)c->files.data;
	size_t nvmas = c->vmas.len / sizeof *vmas;
	struct buf desc = { 0 }, names = { 0 };
	uint64_t count = 0, page = CKPT_PAGE_SIZE;
	int err = buf_append(&desc, &count, 8) || buf_append(&desc, &page, 8);
	for (size_t i = 0; i < nvmas && !err; i++) {
		if (vmas[i].kind != CKPT_VMA_FILE && vmas[i].kind != CKPT_VMA_IMAGE)
			continue;
		uint64_t triple[3] = { vmas[i].start, vmas[i].end, vmas[i].pgoff / CKPT_PAGE_SIZE };
		const char *name = string_at(c, files[vmas[i].file].path);
		err = buf_append(&desc, triple, sizeof triple) || buf_append(&names, name, strlen(name) + 1);
		count++;
	}
	if (!err) {
		memcpy(desc.data, &count, 8);
		err = buf_append(&desc, names.data, names.len);
	}
	if (!err)
		err = note_add(b, "CORE", NT_FILE, desc.data, desc.len);
	buf_free(&desc);
	buf_free(&names);
	return err ? -ENOMEM : 0;
}

static int note_process(struct buf *b, const struct job *job, const struct capture *c)
{
	struct ckpt_process p;
	memset(&p, 0, sizeof p);
	p.version = CKPT_FORMAT_VERSION;
	p.flags = c->flags | job->flags;
	p.pid = c->ns_pid;
	p.ppid = c->ns_ppid;
	p.pgid = c->ns_pgid;
	p.sid = c->ns_sid;
	p.uid = c->uid;
	p.gid = c->gid;
	p.umask = c->umask;
	p.personality = c->personality;
	p.freeze_time_ns = job->freeze_time_ns;
	memcpy(p.comm, c->comm, sizeof p.comm);
	p.exe = c->exe;
	p.cwd = c->cwd;
	p.kernel_release = c->kernel_release;
	p.nthreads = (uint32_t)c->nthreads;
	p.mm = c->mm;
	memcpy(p.rlimits, c->rlimits, sizeof p.rlimits);
	p.vdso_size = c->vdso_size;
	p.vdso_hash = c->vdso_hash;
	p.stored_bytes = c->stored_bytes;
	p.member = (int32_t)(c - job->members);
	return note_add(b, CKPT_NOTE_OWNER, NT_CKPT_PROCESS, &p, sizeof p);
}

/* The job's members, as NT_CKPT_JOB records. */
static int note_job(struct buf *b, const struct job *job, uint64_t data_offset, uint64_t data_size)
{
	struct ckpt_job j = {
		.nmembers = (uint32_t)job->nmembers,
		.pgid = job->ns_pgid,
		.status_member = job->status_member,
		.monotonic_ns = job->monotonic_ns,
		.boottime_ns = job->boottime_ns,
		.data_offset = data_offset,
		.data_size = data_size,
	};
	struct buf desc = { 0 };
	int err = buf_append(&desc, &j, sizeof j);
	for (size_t i = 0; i < job->nmembers && !err; i++) {
		const struct capture *c = &job->members[i];
		struct ckpt_member m = {
			.pid = c->ns_pid,
			.parent = c->parent,
			.pgid = c->ns_pgid,
			.sid = c->ns_sid,
			.state = c->zombie ? CKPT_MEMBER_ZOMBIE : CKPT_MEMBER_LIVE,
			.wait_status = c->wait_status,
			.core_offset = c->core_offset,
			.core_size = c->core_size,
		};
		memcpy(m.comm, c->comm, sizeof m.comm);
		err = buf_append(&desc, &m, sizeof m);
	}
	err = err || note_add(b, CKPT_NOTE_OWNER, NT_CKPT_JOB, desc.data, desc.len);
	buf_free(&desc);
	return err ? -ENOMEM : 0;
}

static int build_notes(struct buf *b, const struct job *job, const struct capture *c, uint64_t data_offset, uint64_t data_size)
{
	struct buf signals = { 0 }, threads = { 0 };
	int err = buf_append(&signals, &c->signals, sizeof c->signals) || buf_append(&signals, c->queued.data, c->queued.len);
	for (size_t i = 0; i < c->nthreads && !err; i++)
		err = buf_append(&threads, &c->threads[i].state, sizeof c->threads[i].state);
	/* The kernel's order: the first thread's notes around the process's, then each other thread's. */
	const struct thread_capture *first = &c->threads[0];
	err = err || note_prstatus(b, c, first) || note_prpsinfo(b, c) ||
	      note_add(b, "CORE", NT_SIGINFO, &c->stop_info, sizeof c->stop_info) ||
	      note_add(b, "CORE", NT_AUXV, c->auxv.data, c->auxv.len) || note_file(b, c) ||
	      note_add(b, "CORE", NT_FPREGSET, first->fpregs, sizeof first->fpregs) ||
	      note_add(b, "LINUX", NT_X86_XSTATE, first->xstate.data, first->xstate.len);
	for (size_t i = 1; i < c->nthreads && !err; i++) {
		const struct thread_capture *th = &c->threads[i];
		err = note_prstatus(b, c, th) || note_add(b, "CORE", NT_FPREGSET, th->fpregs, sizeof th->fpregs) ||
		      note_add(b, "LINUX", NT_X86_XSTATE, th->xstate.data, th->xstate.len);
	}
	err = err || note_process(b, job, c) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_THREADS, threads.data, threads.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_VMAS, c->vmas.data, c->vmas.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_FILES, c->files.data, c->files.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_FDS, c->fds.data, c->fds.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SIGACTIONS, c->sigactions, sizeof c->sigactions) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SIGNALS, signals.data, signals.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_TIMERS, c->timers.data, c->timers.len) ||
	      (c->has_tty && note_add(b, CKPT_NOTE_OWNER, NT_CKPT_TTY, &c->tty, sizeof c->tty)) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_ARGV, c->cmdline.data, c->cmdline.len);
	if (c == job->members)
		err = err || note_job(b, job, data_offset, data_size) ||
		      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_OBJECTS, job->objects.data, job->objects.len) ||
		      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_OFILES, job->ofiles.data, job->ofiles.len) ||
		      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_WATCHES, job->watches.data, job->watches.len) ||
		      (job->screen.len && note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SCREEN, job->screen.data, job->screen.len));
	/* Last: every string of this member (and member 0's job tables) has been added by now. */
	err = err || note_add(b, CKPT_NOTE_OWNER, NT_CKPT_STRINGS, c->strings.data, c->strings.len);
	buf_free(&signals);
	buf_free(&threads);
	return err ? -ENOMEM : 0;
}

static uint32_t pflags(uint32_t prot)
{
	return (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) | (prot & PROT_EXEC ? PF_X : 0);
}

/* Bytes before a core's pages: its ELF header and program headers, padded to a page. */
static uint64_t headers_size(const struct capture *c)
{
	size_t phnum = 1 + c->runs.len / sizeof(struct frz_run);
	return page_up(sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr));
}

/* Where a core's notes start: after its pages. */
static uint64_t notes_offset(const struct capture *c)
{
	return headers_size(c) + c->stored_bytes;
}

/* A core's ELF header and program headers; its notes (notes_len bytes) follow its pages. */
static int build_headers(struct buf *head, const struct capture *c, uint64_t notes_len)
{
	const struct frz_run *runs = (const struct frz_run *)c->runs.data;
	size_t nruns = c->runs.len / sizeof *runs;
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)(1 + nruns);
	Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = notes_offset(c), .p_filesz = notes_len, .p_align = 4 };
	int err = buf_append(head, &eh, sizeof eh) || buf_append(head, &note, sizeof note);
	uint64_t off = headers_size(c);
	for (size_t i = 0; i < nruns && !err; i++) {
		Elf64_Phdr load = {
			.p_type = PT_LOAD,
			.p_flags = pflags(runs[i].prot),
			.p_offset = off,
			.p_vaddr = runs[i].start,
			.p_filesz = runs[i].len,
			.p_memsz = runs[i].len,
			.p_align = CKPT_PAGE_SIZE,
		};
		err = buf_append(head, &load, sizeof load);
		off += runs[i].len;
	}
	return err ? -ENOMEM : 0;
}

/*
 * Durability while copying. Making a large image durable is bound by the disk's cache
 * flush: with sync_file_range alone, the final fsync of 256 MiB still took ~120 ms
 * after the copy. A second thread calls fdatasync after every SYNC_STEP bytes written,
 * so the flushes overlap the copy and target_commit's fsync finds little left (256 MiB,
 * medians of 9 in one run on a busy machine: 528 ms without it, 272 ms with it; dd
 * conv=fsync 230 ms). The thread touches nothing but the file: ptrace and the job stay
 * with the main thread, and every signal is blocked in it (main.c blocks them before
 * anything is seized; threads inherit the mask).
 */
struct syncer {
	int fd;
	bool running;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uint64_t written; /* bytes written so far */
	bool stop;
	/*
	 * The first error fdatasync returned: the kernel reports a write-back error once per
	 * open file, so target_commit's fsync would not see it again.
	 */
	int err;
};

static void *syncer_main(void *arg)
{
	struct syncer *s = arg;
	uint64_t synced = 0;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && s->written - synced < SYNC_STEP)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->stop)
			break;
		uint64_t written = s->written;
		pthread_mutex_unlock(&s->lock);
		int err = fdatasync(s->fd) < 0 ? errno : 0;
		pthread_mutex_lock(&s->lock);
		if (err && !s->err)
			s->err = err;
		synced = written;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Start the thread for an image of size bytes; a small image (or no thread) is synced by target_commit alone. */
static void syncer_start(struct syncer *s, int fd, uint64_t size)
{
	*s = (struct syncer){ .fd = fd };
	if (size < SYNC_AHEAD_MIN || pthread_mutex_init(&s->lock, NULL))
		return;
	if (pthread_cond_init(&s->wake, NULL)) {
		pthread_mutex_destroy(&s->lock);
		return;
	}
	s->running = !pthread_create(&s->thread, NULL, syncer_main, s);
	if (!s->running) {
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
	}
}

static void syncer_wrote(struct syncer *s, size_t len)
{
	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	bool step = (s->written + len) / SYNC_STEP != s->written / SYNC_STEP;
	s->written += len;
	if (step)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Stop the thread (an fdatasync under way finishes first); returns the error it met, as -errno. */
static int syncer_stop(struct syncer *s)
{
	if (!s->running)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	s->running = false;
	return -s->err;
}

/* Bytes gathered into chunks on their way to the file. */
struct copier {
	int fd;
	uint8_t *chunk;
	size_t size; /* of the chunk */
	size_t filled;
	uint64_t off; /* where the chunk goes in the file */
	size_t unstarted; /* bytes written since writeback was last started */
	struct syncer syncer;
};

/*
 * Write len bytes at cp->off (and move it on); every WRITEBACK_STEP bytes, start the
 * writeback of what the file holds dirty, so the disk works while the copy goes on.
 * sync_file_range only starts the I/O: its errors (and durability) are the syncer's and
 * target_commit's.
 */
static int write_at(struct copier *cp, const void *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(cp->fd, (const char *)data + done, len - done, (off_t)(cp->off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	cp->off += len;
	cp->unstarted += len;
	if (cp->unstarted >= WRITEBACK_STEP) {
		sync_file_range(cp->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		cp->unstarted = 0;
	}
	syncer_wrote(&cp->syncer, len);
	return 0;
}

/* Read len bytes of the task at addr: process_vm_readv (no bounce page), /proc/PID/mem for what it refuses. */
static int read_task(struct infect *t, const struct frz_run *run, uint64_t addr, void *dst, size_t len)
{
	size_t done = 0;
	if (!run->via_mem) {
		struct iovec local = { dst, len }, remote = { (void *)addr, len };
		ssize_t n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
		if (n > 0)
			done = (size_t)n;
	}
	return done == len ? 0 : infect_read(t, addr + done, (char *)dst + done, len - done);
}

static int flush(struct copier *cp)
{
	int err = cp->filled ? write_at(cp, cp->chunk, cp->filled) : 0;
	cp->filled = 0;
	return err;
}

/* A member's stored pages; consecutive runs share chunks, so small processes need few writes. */
static int copy_pages(struct copier *cp, struct capture *c, struct ck_error *e)
{
	const struct frz_run *runs = (const struct frz_run *)c->runs.data;
	size_t nruns = c->runs.len / sizeof *runs;
	for (size_t i = 0; i < nruns; i++) {
		for (uint64_t done = 0; done < runs[i].len;) {
			size_t n = runs[i].len - done < cp->size - cp->filled ? runs[i].len - done : cp->size - cp->filled;
			int err = read_task(&c->threads[0].t, &runs[i], runs[i].start + done, cp->chunk + cp->filled, n);
			if (err)
				return ck_fail(e, ck_class_of_errno(-err), -err, "memory", "", "cannot read the memory at 0x%llx",
					       (unsigned long long)(runs[i].start + done));
			done += n;
			cp->filled += n;
			if (cp->filled == cp->size) {
				if ((err = flush(cp)))
					return ck_fail(e, CK_IO, -err, "write", "", "cannot write the image");
				fault_point("copying");
			}
		}
	}
	return 0;
}

/* The data area: job->data, then each object whose contents are read now, page-aligned. */
static int copy_data_area(struct copier *cp, struct job *job, uint64_t area, struct ck_error *e)
{
	cp->off = area;
	int err = write_at(cp, job->data.data, job->data.len);
	const struct ckpt_object *objects = (const struct ckpt_object *)job->objects.data;
	for (size_t i = 0; i < job_nobjects(job) && !err; i++) {
		const struct ckpt_object *o = &objects[i];
		if (o->data_offset < page_up(job->data.len) || !o->data_len)
			continue; /* in job->data */
		cp->off = area + o->data_offset;
		for (uint64_t done = 0; done < o->data_len && !err; done += cp->size) {
			size_t n = o->data_len - done < cp->size ? (size_t)(o->data_len - done) : cp->size;
			if ((err = objects_read(job, i, done, cp->chunk, n)))
				return ck_fail(e, ck_class_of_errno(-err), -err, "memory", "", "cannot read the contents of %s",
					       (const char *)job->members[0].strings.data + o->name);
			err = write_at(cp, cp->chunk, n);
		}
	}
	return err ? ck_fail(e, CK_IO, -err, "write", "", "cannot write the image") : 0;
}

/*
 * Where each live member's core goes, with its notes as they are now, and the data area
 * after the cores; *size gets the image's size.
 */
static int plan_image(struct job *job, uint64_t *area, uint64_t *size)
{
	uint64_t at = 0;
	for (size_t i = 0; i < job->nmembers; i++) {
		struct capture *c = &job->members[i];
		if (c->zombie)
			continue;
		struct buf notes = { 0 };
		int err = build_notes(&notes, job, c, 0, 0);
		c->core_offset = at;
		c->core_size = notes_offset(c) + page_up(notes.len);
		buf_free(&notes);
		if (err)
			return -ENOMEM;
		at += c->core_size;
	}
	*area = at;
	job->data_size = objects_plan(job, page_up(job->data.len));
	*size = at + job->data_size;
	return 0;
}

/* Reserve the image's space: a full disk is found before the pages are copied. */
static int reserve(int fd, uint64_t size, struct ck_error *e)
{
	if (fallocate(fd, 0, 0, (off_t)size) < 0 && errno != EOPNOTSUPP)
		return ck_fail(e, CK_IO, errno, "write", "", "cannot reserve %llu bytes for the image", (unsigned long long)size);
	return 0;
}

static int copy_member_pages(struct copier *cp, struct job *job, struct capture *c, struct ck_error *e)
{
	cp->off = c->core_offset + headers_size(c);
	int ret = copy_pages(cp, c, e);
	if (ret)
		job_blame(job, c->pid, c->comm, e);
	int err = ret ? 0 : flush(cp);
	return err ? ck_fail(e, CK_IO, -err, "write", "", "cannot write the image") : ret;
}

/* A member's notes after its pages (padded to a page), then its headers at its start: known now. */
static int write_notes_and_headers(struct copier *cp, struct job *job, struct capture *c, uint64_t area, struct ck_error *e)
{
	struct buf notes = { 0 }, headers = { 0 };
	int err = build_notes(&notes, job, c, area, job->data_size);
	uint64_t notes_len = notes.len;
	if (!err && (buf_pad(&notes, CKPT_PAGE_SIZE) || build_headers(&headers, c, notes_len)))
		err = -ENOMEM;
	if (err) {
		buf_free(&notes);
		buf_free(&headers);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "write", "", "out of memory");
	}
	cp->off = c->core_offset + notes_offset(c);
	err = write_at(cp, notes.data, notes.len);
	cp->off = c->core_offset;
	err = err ? err : write_at(cp, headers.data, headers.len);
	buf_free(&notes);
	buf_free(&headers);
	return err ? ck_fail(e, CK_IO, -err, "write", "", "cannot write the image") : 0;
}

int image_write(struct job *job, int fd, image_screen_fn *read_screen, uint64_t *size, struct ck_error *e)
{
	uint64_t area;
	if (plan_image(job, &area, size))
		return ck_fail(e, CK_INTERNAL, ENOMEM, "write", "", "out of memory");
	if (reserve(fd, *size, e))
		return -1;
	struct copier cp = { .fd = fd, .size = *size < SYNC_AHEAD_MIN ? SMALL_CHUNK : COPY_CHUNK };
	/* Populated at once, not a fault per page: the copy of python3 (5 MiB) took 10 ms, now 7. */
	cp.chunk = mmap(NULL, cp.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (cp.chunk == MAP_FAILED)
		return ck_fail(e, CK_INTERNAL, errno, "write", "", "out of memory");
	syncer_start(&cp.syncer, fd, *size);
	/*
	 * Member 0's pages first: the screen, one of its notes, is being made meanwhile.
	 * Then the cores behind it move by what the screen adds.
	 */
	struct capture *first = &job->members[0];
	int ret = copy_member_pages(&cp, job, first, e);
	if (!ret && read_screen && !(ret = read_screen(&job->screen, e))) {
		uint64_t planned = *size;
		if (plan_image(job, &area, size))
			ret = ck_fail(e, CK_INTERNAL, ENOMEM, "write", "", "out of memory");
		else if (*size != planned)
			ret = reserve(fd, *size, e);
	}
	for (size_t i = 0; i < job->nmembers && !ret; i++) {
		struct capture *c = &job->members[i];
		if (c->zombie)
			continue;
		if (c != first)
			ret = copy_member_pages(&cp, job, c, e);
		if (!ret)
			ret = write_notes_and_headers(&cp, job, c, area, e);
	}
	if (!ret)
		ret = copy_data_area(&cp, job, area, e);
	int err = syncer_stop(&cp.syncer);
	if (err && !ret)
		ret = ck_fail(e, CK_IO, -err, "sync", "", "cannot sync the image to disk");
	munmap(cp.chunk, cp.size);
	return ret;
}
