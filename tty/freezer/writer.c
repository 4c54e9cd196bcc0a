/* The image file: ELF header, program headers, notes, then the stored pages (see image.h). */
#include "fault.h"
#include "freezer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
 * Bytes copied per read/write: large enough that syscalls cost little next to the copy,
 * small enough that the bounce buffer stays in the CPU cache between the read and the write.
 */
#define COPY_CHUNK (1u << 20)

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

static int note_prstatus(struct buf *b, const struct capture *c)
{
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof ps);
	ps.pr_info.si_signo = c->stop_info.si_signo;
	ps.pr_cursig = (short)c->stop_info.si_signo;
	ps.pr_sigpend = c->signals.pending | c->signals.shared_pending;
	ps.pr_sighold = c->signals.blocked;
	ps.pr_pid = c->pid;
	ps.pr_ppid = c->ppid;
	ps.pr_pgrp = c->pgid;
	ps.pr_sid = c->sid;
	_Static_assert(sizeof ps.pr_reg == sizeof c->regs, "elf_gregset_t is user_regs_struct");
	memcpy(&ps.pr_reg, &c->regs, sizeof c->regs);
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
	ps.pr_pid = c->pid;
	ps.pr_ppid = c->ppid;
	ps.pr_pgrp = c->pgid;
	ps.pr_sid = c->sid;
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
		if (vmas[i].file < 0)
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

static int note_process(struct buf *b, const struct capture *c)
{
	struct ckpt_process p;
	memset(&p, 0, sizeof p);
	p.version = CKPT_FORMAT_VERSION;
	p.flags = c->flags;
	p.pid = c->pid;
	p.ppid = c->ppid;
	p.pgid = c->pgid;
	p.sid = c->sid;
	p.uid = c->uid;
	p.gid = c->gid;
	p.umask = c->umask;
	p.personality = c->personality;
	p.freeze_time_ns = c->freeze_time_ns;
	memcpy(p.comm, c->comm, sizeof p.comm);
	p.exe = c->exe;
	p.cwd = c->cwd;
	p.kernel_release = c->kernel_release;
	p.syscall_restart = c->restart;
	p.orig_rax = (int64_t)c->seized_regs.orig_rax;
	p.syscall_ret = (int64_t)c->seized_regs.rax;
	p.mm = c->mm;
	memcpy(p.rlimits, c->rlimits, sizeof p.rlimits);
	p.rseq_addr = c->rseq_addr;
	p.rseq_len = c->rseq_len;
	p.rseq_sig = c->rseq_sig;
	p.vdso_size = c->vdso_size;
	p.vdso_hash = c->vdso_hash;
	p.stored_bytes = c->stored_bytes;
	return note_add(b, CKPT_NOTE_OWNER, NT_CKPT_PROCESS, &p, sizeof p);
}

static int build_notes(struct buf *b, const struct capture *c)
{
	struct buf signals = { 0 };
	int err = buf_append(&signals, &c->signals, sizeof c->signals) || buf_append(&signals, c->queued.data, c->queued.len);
	err = err || note_prstatus(b, c) || note_prpsinfo(b, c) ||
	      note_add(b, "CORE", NT_SIGINFO, &c->stop_info, sizeof c->stop_info) ||
	      note_add(b, "CORE", NT_AUXV, c->auxv.data, c->auxv.len) || note_file(b, c) ||
	      note_add(b, "CORE", NT_FPREGSET, c->fpregs, sizeof c->fpregs) ||
	      note_add(b, "LINUX", NT_X86_XSTATE, c->xstate.data, c->xstate.len) || note_process(b, c) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_STRINGS, c->strings.data, c->strings.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_VMAS, c->vmas.data, c->vmas.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_FILES, c->files.data, c->files.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_FDS, c->fds.data, c->fds.len) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SIGACTIONS, c->sigactions, sizeof c->sigactions) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SIGNALS, signals.data, signals.len) ||
	      (c->has_tty && note_add(b, CKPT_NOTE_OWNER, NT_CKPT_TTY, &c->tty, sizeof c->tty)) ||
	      note_add(b, CKPT_NOTE_OWNER, NT_CKPT_ARGV, c->cmdline.data, c->cmdline.len) ||
	      (c->screen.len && note_add(b, CKPT_NOTE_OWNER, NT_CKPT_SCREEN, c->screen.data, c->screen.len));
	buf_free(&signals);
	return err ? -ENOMEM : 0;
}

static uint32_t pflags(uint32_t prot)
{
	return (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) | (prot & PROT_EXEC ? PF_X : 0);
}

/* Header, program headers and notes, padded to the first page of data. */
static int build_head(struct buf *head, const struct capture *c, uint64_t *data_off)
{
	const struct frz_run *runs = (const struct frz_run *)c->runs.data;
	size_t nruns = c->runs.len / sizeof *runs;
	size_t phnum = 1 + nruns;
	struct buf notes = { 0 };
	if (build_notes(&notes, c)) {
		buf_free(&notes);
		return -ENOMEM;
	}
	uint64_t notes_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	*data_off = (notes_off + notes.len + CKPT_PAGE_SIZE - 1) / CKPT_PAGE_SIZE * CKPT_PAGE_SIZE;

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
	eh.e_phnum = (Elf64_Half)phnum;
	Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes.len, .p_align = 4 };
	int err = buf_append(head, &eh, sizeof eh) || buf_append(head, &note, sizeof note);
	uint64_t off = *data_off;
	for (size_t i = 0; i < nruns && !err; i++) {
		Elf64_Phdr load = {
			.p_type = PT_LOAD, .p_flags = pflags(runs[i].prot), .p_offset = off,
			.p_vaddr = runs[i].start, .p_filesz = runs[i].len, .p_memsz = runs[i].len,
			.p_align = CKPT_PAGE_SIZE,
		};
		err = buf_append(head, &load, sizeof load);
		off += runs[i].len;
	}
	err = err || buf_append(head, notes.data, notes.len) || buf_pad(head, CKPT_PAGE_SIZE);
	buf_free(&notes);
	return err ? -ENOMEM : 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Write a chunk of pages at the end of the image and start its writeback at once, so the
 * disk works while the next chunk is copied and the final fsync has little left to do.
 * sync_file_range only starts the I/O: its errors (and durability) are target_commit's fsync's.
 */
static int write_chunk(int fd, const void *data, size_t len, uint64_t *off)
{
	int err = write_all(fd, data, len);
	if (!err) {
		sync_file_range(fd, (off_t)*off, (off_t)len, SYNC_FILE_RANGE_WRITE);
		*off += len;
	}
	return err;
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

int image_write(struct infect *t, struct capture *c, int fd, uint64_t *size, struct ck_error *e)
{
	struct buf head = { 0 };
	uint64_t data_off;
	if (build_head(&head, c, &data_off)) {
		buf_free(&head);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "write", "", "out of memory");
	}
	*size = data_off + c->stored_bytes;
	/* Reserve the space first: a full disk is found before any page is copied. */
	if (fallocate(fd, 0, 0, (off_t)*size) < 0 && errno != EOPNOTSUPP) {
		int err = errno;
		buf_free(&head);
		return ck_fail(e, CK_IO, err, "write", "", "cannot reserve %llu bytes for the image",
				(unsigned long long)*size);
	}
	int err = write_all(fd, head.data, head.len);
	buf_free(&head);
	if (err)
		return ck_fail(e, CK_IO, -err, "write", "", "cannot write the image");

	uint8_t *chunk = mmap(NULL, COPY_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (chunk == MAP_FAILED)
		return ck_fail(e, CK_INTERNAL, errno, "write", "", "out of memory");
	const struct frz_run *runs = (const struct frz_run *)c->runs.data;
	size_t nruns = c->runs.len / sizeof *runs;
	int ret = 0;
	/* Consecutive runs are gathered into one chunk so small processes need few writes. */
	size_t filled = 0;
	uint64_t off = data_off;
	for (size_t i = 0; i < nruns && !ret; i++) {
		for (uint64_t done = 0; done < runs[i].len && !ret;) {
			size_t n = runs[i].len - done < COPY_CHUNK - filled ? runs[i].len - done : COPY_CHUNK - filled;
			if ((err = read_task(t, &runs[i], runs[i].start + done, chunk + filled, n)))
				ret = ck_fail(e, ck_class_of_errno(-err), -err, "memory", "", "cannot read the memory at 0x%llx",
					       (unsigned long long)(runs[i].start + done));
			done += n;
			filled += n;
			if (!ret && filled == COPY_CHUNK) {
				if ((err = write_chunk(fd, chunk, filled, &off)))
					ret = ck_fail(e, CK_IO, -err, "write", "", "cannot write the image");
				filled = 0;
				fault_point("copying");
			}
		}
	}
	if (!ret && filled && (err = write_chunk(fd, chunk, filled, &off)))
		ret = ck_fail(e, CK_IO, -err, "write", "", "cannot write the image");
	munmap(chunk, COPY_CHUNK);
	return ret;
}
